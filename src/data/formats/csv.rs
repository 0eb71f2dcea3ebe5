//! CSV and TSV: a header of neuron names, one row per frame, optional time and label columns.
//!
//! Columns named like `time`, `time_s`, `t` or `seconds` give the frame rate; columns named
//! `state`, `label`, `behaviour` or `behavior` give per-frame labels (text; empty = unlabelled).
//! Every other column is a neuron; names that are only numbers are unidentified neurons.

use super::budget::Budget;
use super::{FormatError, fps_from_times, labels_from_names, rate_or_default, stem};
use crate::data::{Recording, names};

const TIME_COLUMNS: &[&str] = &["time", "time_s", "times", "t", "seconds", "time (s)"];
const LABEL_COLUMNS: &[&str] = &["state", "states", "label", "labels", "behaviour", "behavior"];
/// Frame rate assumed when a file has no time column (the user can correct it).
pub const DEFAULT_FPS: f32 = 1.0;

/// Reads one recording from CSV (or TSV: the delimiter is whichever the header uses more),
/// charging each row's values and labels to `budget` as it is read.
pub fn read(file: &str, bytes: &[u8], budget: &Budget) -> Result<Recording, FormatError> {
    let first_line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let tabs = first_line.iter().filter(|&&b| b == b'\t').count();
    let commas = first_line.iter().filter(|&&b| b == b',').count();
    let delimiter = if tabs > commas { b'\t' } else { b',' };
    let mut reader = ::csv::ReaderBuilder::new().delimiter(delimiter).flexible(false).from_reader(bytes);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| FormatError::invalid(file, format!("cannot read the header: {e}")))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let is = |list: &[&str], h: &str| list.contains(&h.to_ascii_lowercase().as_str());
    let time_col = header.iter().position(|h| is(TIME_COLUMNS, h));
    let label_col = header.iter().position(|h| is(LABEL_COLUMNS, h));
    let neuron_cols: Vec<usize> = (0..header.len()).filter(|&c| Some(c) != time_col && Some(c) != label_col).collect();
    if neuron_cols.is_empty() {
        return Err(FormatError::invalid(file, "the header names no neuron columns"));
    }

    let mut traces = Vec::new();
    let mut times = Vec::new();
    let mut states = Vec::new();
    for (row, record) in reader.records().enumerate() {
        let line = row + 2; // 1-based, after the header
        let record = record.map_err(|e| FormatError::invalid(file, format!("line {line}: {e}")))?;
        let over = |e| FormatError::over(file, e);
        budget.values(header.len() as u64, || format!("line {line}")).map_err(over)?;
        if let Some(c) = label_col {
            budget.text(record.get(c).map_or(0, str::len) as u64, || format!("the label on line {line}")).map_err(over)?;
        }
        for &c in &neuron_cols {
            let cell = record.get(c).unwrap_or("").trim();
            let v: f32 = cell.parse().map_err(|_| {
                FormatError::invalid(file, format!("line {line}, column '{}': '{cell}' is not a number", header[c]))
            })?;
            if !v.is_finite() {
                return Err(FormatError::invalid(file, format!("line {line}, column '{}': value is {cell}", header[c])));
            }
            traces.push(v);
        }
        if let Some(c) = time_col {
            let cell = record.get(c).unwrap_or("").trim();
            times.push(cell.parse::<f64>().map_err(|_| {
                FormatError::invalid(file, format!("line {line}, column '{}': '{cell}' is not a time", header[c]))
            })?);
        }
        if let Some(c) = label_col {
            states.push(record.get(c).unwrap_or("").trim().to_string());
        }
    }
    let frames = traces.len() / neuron_cols.len();
    if frames == 0 {
        return Err(FormatError::invalid(file, "the file has a header but no rows"));
    }
    let (fps, fps_note) = rate_or_default(fps_from_times(&times));
    Ok(Recording {
        name: stem(file),
        source: format!("{file} (CSV{fps_note})"),
        frames,
        neurons: neuron_cols.len(),
        traces,
        neuron_names: neuron_cols.iter().map(|&c| names::normalize(&header[c])).collect(),
        fps,
        labels: label_col.map(|_| labels_from_names(&states)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(file: &str, bytes: &[u8]) -> Result<Recording, FormatError> {
        super::read(file, bytes, &Budget::new(crate::data::formats::budget::FILE))
    }

    #[test]
    fn reads_names_time_and_labels() {
        let text = "time_s,AVAL,12,vb1,state\n0.0,1,2,3,fwd\n0.5,4,5,6,\n1.0,7,8,9,rev1\n";
        let r = read("dir/w.csv", text.as_bytes()).unwrap();

        assert_eq!((r.name.as_str(), r.frames, r.neurons), ("w", 3, 3));
        assert_eq!(r.neuron_names, vec![Some("AVAL".into()), None, Some("VB01".into())]);
        assert_eq!(r.traces[3..6], [4.0, 5.0, 6.0]);
        assert!((r.fps - 2.0).abs() < 1e-6);
        let labels = r.labels.unwrap();
        assert_eq!(labels.names, ["fwd", "rev1"]);
        assert_eq!(labels.per_frame, vec![Some(0), None, Some(1)]);
    }

    #[test]
    fn tsv_without_time_assumes_a_rate_and_says_so() {
        let r = read("a.tsv", b"AVAL\tAVAR\n1\t2\n3\t4\n").unwrap();
        assert_eq!((r.frames, r.neurons, r.fps), (2, 2, DEFAULT_FPS));
        assert!(r.source.contains("assumed"));
    }

    #[test]
    fn bad_cells_are_located() {
        let err = read("b.csv", b"AVAL,AVAR\n1,2\n3,x\n").unwrap_err().to_string();
        assert!(err.contains("line 3") && err.contains("AVAR") && err.contains("'x'"), "{err}");
        let err = read("c.csv", b"AVAL,AVAR\n1,2\n3\n").unwrap_err().to_string();
        assert!(err.contains("line 3"), "{err}");
        let err = read("d.csv", b"AVAL,AVAR\n1,NaN\n").unwrap_err().to_string();
        assert!(err.contains("NaN"), "{err}");
        assert!(read("e.csv", b"AVAL,AVAR\n").unwrap_err().to_string().contains("no rows"));
    }
}
