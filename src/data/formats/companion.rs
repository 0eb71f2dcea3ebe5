//! Side files that complete a recording dropped with them: a list of neuron names, a row of
//! per-frame state indices, a list of state names (as in the third-party Kato release under
//! `original/`: `worm_0_neurons.csv`, `worm_0_y.csv`, `worm_0_states.csv`).
//!
//! Such a file is one line of comma- or tab-separated values (or one value per line). It is
//! attached to the recording of the same drop whose size it fits, preferring the one whose
//! file name shares the longest prefix with it (`worm_0_…` goes with `worm_0_…`).

use super::budget::{Budget, MAX_STATES, OverBudget};
use super::{FormatError, stem};
use crate::data::{Labels, Recording, names};

/// What a side file holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Companion {
    /// Text values: neuron names (one per column) or state names (what label indices point at).
    Names(Vec<String>),
    /// Integer values, one per frame: state indices (negative = unlabelled).
    Indices(Vec<i64>),
}

impl Companion {
    pub fn describe(&self) -> String {
        match self {
            Companion::Names(n) => format!("a list of {} names", n.len()),
            Companion::Indices(i) => format!("a row of {} state indices", i.len()),
        }
    }
}

/// Reads a side file, or `None` when `bytes` is not a single list of values; its values and
/// text are charged to `budget`.
pub fn read(bytes: &[u8], budget: &Budget) -> Result<Option<Companion>, OverBudget> {
    let Ok(text) = std::str::from_utf8(bytes) else { return Ok(None) };
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let values: Vec<&str> = match lines[..] {
        [one] => one.split([',', '\t']).map(str::trim).collect(),
        _ if lines.len() > 1 && lines.iter().all(|l| !l.contains([',', '\t'])) => lines,
        _ => return Ok(None),
    };
    if values.is_empty() || values.iter().any(|v| v.is_empty()) {
        return Ok(None);
    }
    budget.values(values.len() as u64, "the list of values")?;
    Ok(match values.iter().map(|v| v.parse::<i64>()).collect::<Result<Vec<_>, _>>() {
        // A row of small integers that is as long as a recording is labels; a short list of
        // numbers is more likely ROI numbers used as names (Kato's unidentified neurons).
        Ok(indices) if indices.len() > 1 && !looks_like_roi_numbers(&indices) => Some(Companion::Indices(indices)),
        _ => {
            budget.text(values.iter().map(|v| v.len() as u64).sum(), "the list of names")?;
            Some(Companion::Names(values.iter().map(|s| s.to_string()).collect()))
        }
    })
}

/// 1, 2, 3, … : a numbering, not per-frame labels.
fn looks_like_roi_numbers(v: &[i64]) -> bool {
    v.iter().enumerate().all(|(i, &x)| x == i as i64 + 1)
}

/// Length of the shared prefix of two file stems.
fn kinship(a: &str, b: &str) -> usize {
    stem(a).chars().zip(stem(b).chars()).take_while(|(x, y)| x == y).count()
}

/// Attaches side files (`(file, companion)`) to `recordings` (with the file each came from).
/// Returns, per side file, what it was used for, or an error saying why it fits nothing.
pub fn attach(recordings: &mut [(String, Recording)], companions: &[(String, Companion)]) -> Vec<Result<String, FormatError>> {
    // State names first, so that index rows can be named when they are attached.
    let mut state_names: Vec<(String, Vec<String>)> = Vec::new();
    let mut out: Vec<Option<Result<String, FormatError>>> = companions.iter().map(|_| None).collect();
    for (k, (file, c)) in companions.iter().enumerate() {
        if let Companion::Names(list) = c
            && !recordings.iter().any(|(_, r)| r.neurons == list.len())
        {
            state_names.push((file.clone(), list.clone()));
            out[k] = Some(Ok(format!("{file}: {} state names", list.len())));
        }
    }
    for (k, (file, c)) in companions.iter().enumerate() {
        if out[k].is_some() {
            continue;
        }
        let best = |fits: &dyn Fn(&Recording) -> bool| {
            recordings.iter().enumerate().filter(|(_, (_, r))| fits(r)).max_by_key(|(_, (f, _))| kinship(f, file)).map(|(i, _)| i)
        };
        out[k] = Some(match c {
            Companion::Names(list) => match best(&|r| r.neurons == list.len()) {
                Some(i) => {
                    let rec = &mut recordings[i].1;
                    rec.neuron_names = list.iter().map(|s| names::normalize(s)).collect();
                    Ok(format!("{file}: neuron names of '{}'", rec.name))
                }
                None => Err(FormatError::invalid(file, format!("{} fits no recording", c.describe()))),
            },
            Companion::Indices(idx) if idx.iter().any(|&v| v >= MAX_STATES as i64) => Err(FormatError::invalid(
                file,
                format!("state index {} is over {MAX_STATES}, the most states a recording may have", idx.iter().max().copied().unwrap_or(0)),
            )),
            Companion::Indices(idx) => match best(&|r| r.frames == idx.len()) {
                Some(i) => {
                    let names = state_names
                        .iter()
                        .filter(|(_, n)| idx.iter().all(|&v| v < n.len() as i64))
                        .max_by_key(|(f, _)| kinship(f, file))
                        .map(|(_, n)| n.clone())
                        .unwrap_or_else(|| (0..=idx.iter().copied().max().unwrap_or(0)).map(|v| format!("state {v}")).collect());
                    let rec = &mut recordings[i].1;
                    let per_frame = idx.iter().map(|&v| (v >= 0 && (v as usize) < names.len()).then_some(v as u16)).collect();
                    rec.labels = Some(Labels { names, per_frame });
                    Ok(format!("{file}: behaviour labels of '{}'", rec.name))
                }
                None => Err(FormatError::invalid(
                    file,
                    format!("{} matches no recording's frame count ({})", c.describe(), frame_counts(recordings)),
                )),
            },
        });
    }
    out.into_iter().map(|o| o.expect("every side file was handled")).collect()
}

fn frame_counts(recordings: &[(String, Recording)]) -> String {
    if recordings.is_empty() {
        return "no recording is loaded".into();
    }
    recordings.iter().map(|(_, r)| format!("'{}' has {}", r.name, r.frames)).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::tests::tiny;

    #[test]
    fn side_files_are_recognised() {
        let read = |bytes: &[u8]| super::read(bytes, &Budget::new(crate::data::formats::budget::FILE)).unwrap();
        assert_eq!(read(b"1,2,AVAL,4\n"), Some(Companion::Names(vec!["1".into(), "2".into(), "AVAL".into(), "4".into()])));
        assert_eq!(read(b"6,6,4,-1\n"), Some(Companion::Indices(vec![6, 6, 4, -1])));
        assert_eq!(read(b"fwd\nrev\n"), Some(Companion::Names(vec!["fwd".into(), "rev".into()])));
        assert_eq!(read(b"a,b\n1,2\n"), None);
        assert_eq!(read(b"a,,b"), None);
    }

    #[test]
    fn side_files_attach_to_the_recording_they_fit() {
        let mut recs = vec![("dir/worm_0.npy".to_string(), Recording { neuron_names: vec![None, None], labels: None, ..tiny() })];
        let side = vec![
            ("worm_0_y.csv".to_string(), Companion::Indices(vec![1, 0, 2])),
            ("worm_0_neurons.csv".to_string(), Companion::Names(vec!["AVAL".into(), "7".into()])),
            ("worm_0_states.csv".to_string(), Companion::Names(vec!["fwd".into(), "rev".into(), "turn".into()])),
            ("other.csv".to_string(), Companion::Indices(vec![1; 9])),
        ];
        let used = attach(&mut recs, &side);
        assert!(used[..3].iter().all(Result::is_ok), "{used:?}");
        assert!(used[3].as_ref().unwrap_err().to_string().contains("'tiny' has 3"));
        // an index past what a label can hold is refused before any state is named
        let huge = attach(&mut recs, &[("y.csv".to_string(), Companion::Indices(vec![0, 4_000_000_000, 1]))]);
        assert!(huge[0].as_ref().unwrap_err().to_string().contains("state index 4000000000"), "{huge:?}");
        let r = &recs[0].1;
        assert_eq!(r.neuron_names, vec![Some("AVAL".into()), None]);
        let l = r.labels.as_ref().unwrap();
        assert_eq!((l.names.len(), l.per_frame.clone()), (3, vec![Some(1), Some(0), Some(2)]));
        assert_eq!(r.validate(), Ok(()));
    }
}
