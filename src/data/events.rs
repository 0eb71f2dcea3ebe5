//! Activity aligned on behaviour: the average of chosen neurons around every onset of a state
//! (a reversal, a turn), with its spread across onsets — the event-triggered average
//! neuroscientists read first (e.g. AVA rising at reversal onset, AVB falling).

use serde::{Deserialize, Serialize};

use super::Recording;
use super::windows::column_stats;

/// Neurons shown by default, where a recording has them: the command interneurons of forward
/// and backward locomotion (Chalfie et al. 1985; Kato et al. 2015) and RIM.
pub const DEFAULT_NEURONS: &[&str] = &["AVAL", "AVAR", "AVBL", "AVBR", "RIML", "RIMR"];

/// Each chosen neuron's average z-scored activity around the onsets of one state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventAverage {
    pub recording: String,
    pub state: String,
    /// Onsets used (those with the whole window inside the recording).
    pub events: usize,
    /// Onsets left out because the window ran past an end of the recording.
    pub cut_off: usize,
    /// Seconds relative to onset, one per frame of the window.
    pub times: Vec<f32>,
    /// Per neuron: name, mean and standard error of the mean across onsets, per time.
    pub neurons: Vec<NeuronAverage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NeuronAverage {
    pub name: String,
    pub mean: Vec<f32>,
    pub sem: Vec<f32>,
}

impl EventAverage {
    /// Neuron `name`'s mean over `[from_s, to_s)` relative to onset (NaN when the window has
    /// no frame there), for captions and tests.
    pub fn mean_between(&self, name: &str, from_s: f32, to_s: f32) -> f32 {
        let Some(n) = self.neurons.iter().find(|n| n.name == name) else { return f32::NAN };
        let picked: Vec<f32> = self.times.iter().zip(&n.mean).filter(|(t, _)| **t >= from_s && **t < to_s).map(|(_, m)| *m).collect();
        if picked.is_empty() { f32::NAN } else { picked.iter().sum::<f32>() / picked.len() as f32 }
    }
}

/// Why the average cannot be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EventError {
    #[error("'{0}' has no behaviour labels to align on")]
    NoLabels(String),
    #[error("'{recording}' has no state '{state}' (it has {known})")]
    NoState { recording: String, state: String, known: String },
    #[error("'{recording}' has none of the neurons asked for ({asked})")]
    NoNeurons { recording: String, asked: String },
    #[error("'{recording}' never enters '{state}' with {before_s} s before and {after_s} s after it inside the recording")]
    NoEvents { recording: String, state: String, before_s: f32, after_s: f32 },
}

/// The frames at which `rec` enters `state` (the frame before is labelled otherwise, unlabelled
/// frames included).
pub fn onsets(rec: &Recording, state: u16) -> Vec<usize> {
    let Some(labels) = &rec.labels else { return Vec::new() };
    let f = &labels.per_frame;
    (1..f.len()).filter(|&t| f[t] == Some(state) && f[t - 1] != Some(state)).collect()
}

/// The average of `neurons` (names; those the recording lacks are left out) around every onset
/// of `state`, from `before_s` seconds before to `after_s` seconds after; each neuron z-scored
/// over the whole recording first.
pub fn event_average(rec: &Recording, state: &str, neurons: &[String], before_s: f32, after_s: f32) -> Result<EventAverage, EventError> {
    let labels = rec.labels.as_ref().ok_or_else(|| EventError::NoLabels(rec.name.clone()))?;
    let code = labels.names.iter().position(|s| s == state).ok_or_else(|| EventError::NoState {
        recording: rec.name.clone(),
        state: state.to_string(),
        known: labels.names.join(", "),
    })? as u16;
    let columns: Vec<(String, usize)> = neurons
        .iter()
        .filter_map(|name| rec.neuron_names.iter().position(|n| n.as_deref() == Some(name.as_str())).map(|c| (name.clone(), c)))
        .collect();
    if columns.is_empty() {
        return Err(EventError::NoNeurons { recording: rec.name.clone(), asked: neurons.join(", ") });
    }
    let before = (before_s.max(0.0) * rec.fps).round() as usize;
    let after = (after_s.max(0.0) * rec.fps).round() as usize;
    let all = onsets(rec, code);
    let inside: Vec<usize> = all.iter().copied().filter(|&t| t >= before && t + after < rec.frames).collect();
    if inside.is_empty() {
        return Err(EventError::NoEvents { recording: rec.name.clone(), state: state.to_string(), before_s, after_s });
    }
    let (means, sds) = column_stats(&rec.traces, rec.neurons, 0..rec.frames);
    let width = before + after + 1;
    let times = (0..width).map(|k| (k as f32 - before as f32) / rec.fps).collect();
    let neurons = columns
        .into_iter()
        .map(|(name, c)| {
            let z = |t: usize| (rec.traces[t * rec.neurons + c] - means[c]) / sds[c];
            let mut mean = vec![0f32; width];
            let mut sem = vec![0f32; width];
            for (j, (m, s)) in mean.iter_mut().zip(sem.iter_mut()).enumerate() {
                let values: Vec<f32> = inside.iter().map(|&t| z(t + j - before)).filter(|v| v.is_finite()).collect();
                let n = values.len() as f32;
                *m = values.iter().sum::<f32>() / n.max(1.0);
                let var = values.iter().map(|v| (v - *m).powi(2)).sum::<f32>() / (n - 1.0).max(1.0);
                *s = if n > 1.0 { (var / n).sqrt() } else { 0.0 };
            }
            NeuronAverage { name, mean, sem }
        })
        .collect();
    Ok(EventAverage { recording: rec.name.clone(), state: state.to_string(), events: inside.len(), cut_off: all.len() - inside.len(), times, neurons })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Labels;

    /// 40 frames at 1 Hz; REV from frames 10-14 and 25-29; neuron A jumps to 1 during REV.
    fn reversing() -> Recording {
        let per_frame: Vec<Option<u16>> = (0..40).map(|t| Some(u16::from((10..15).contains(&t) || (25..30).contains(&t)))).collect();
        let traces = (0..40).flat_map(|t: usize| [if per_frame[t] == Some(1) { 1.0 } else { 0.0 }, (t % 3) as f32]).collect();
        Recording {
            name: "w".into(),
            source: "test".into(),
            frames: 40,
            neurons: 2,
            traces,
            neuron_names: vec![Some("AVAL".into()), Some("AVBL".into())],
            fps: 1.0,
            labels: Some(Labels { names: vec!["FWD".into(), "REV".into()], per_frame }),
        }
    }

    #[test]
    fn onsets_are_entries_into_the_state() {
        assert_eq!(onsets(&reversing(), 1), vec![10, 25]);
        assert_eq!(onsets(&reversing(), 0), vec![15, 30]);
    }

    #[test]
    fn the_average_rises_at_onset_and_says_how_many_events() {
        let names = vec!["AVAL".to_string(), "RIML".to_string()];
        let avg = event_average(&reversing(), "REV", &names, 3.0, 4.0).unwrap();
        assert_eq!((avg.events, avg.cut_off), (2, 0));
        assert_eq!(avg.times.first(), Some(&-3.0));
        assert_eq!(avg.times.len(), 8);
        assert_eq!(avg.neurons.len(), 1, "RIML is not recorded: left out");
        let a = &avg.neurons[0];
        // both onsets look the same: low before, high from the onset, no spread
        assert!(a.mean[0] < 0.0 && a.mean[3] > 0.0, "{:?}", a.mean);
        assert!(a.sem.iter().all(|s| s.abs() < 1e-6), "{:?}", a.sem);
        assert!(avg.mean_between("AVAL", 0.0, 4.0) > avg.mean_between("AVAL", -3.0, 0.0));
        // a window that runs past the end leaves the late onset out, and says so
        let late = event_average(&reversing(), "REV", &names, 3.0, 15.0).unwrap();
        assert_eq!((late.events, late.cut_off), (1, 1));
    }

    #[test]
    fn what_cannot_be_averaged_is_said() {
        let rec = reversing();
        let e = event_average(&rec, "TURN", &["AVAL".into()], 3.0, 3.0).unwrap_err();
        assert_eq!(e.to_string(), "'w' has no state 'TURN' (it has FWD, REV)");
        assert!(matches!(event_average(&rec, "REV", &["RIML".into()], 3.0, 3.0), Err(EventError::NoNeurons { .. })));
        assert!(matches!(event_average(&rec, "REV", &["AVAL".into()], 30.0, 30.0), Err(EventError::NoEvents { .. })));
        assert!(matches!(event_average(&Recording { labels: None, ..rec }, "REV", &["AVAL".into()], 3.0, 3.0), Err(EventError::NoLabels(_))));
    }
}
