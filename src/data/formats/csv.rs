//! CSV and TSV as people save them: a header row, then one row per frame.
//!
//! - The delimiter is sniffed: of `,` `;` tab and `|`, the one that splits the first lines into
//!   the same number of fields (more than one). A UTF-8 byte-order mark, CRLF line ends and
//!   quoted headers are read as they come.
//! - Decimal commas (`0,25`) are read where the delimiter is not a comma, as every spreadsheet
//!   set to a European language saves them (`;`-separated).
//! - A time column is known by its name (`time`, `t`, `time_s`, `time_ms`, `timestamp`,
//!   `frame_time`, `seconds`, `Time (ms)`, …; its unit s, ms or min from the name). It must
//!   increase strictly; it sets the frame rate and is never a neuron. A frame-number column
//!   (`frame`, `index`, an empty header as pandas writes its index) is never a neuron either.
//! - Columns named `state`, `label`, `behaviour` or `behavior` give per-frame labels (text;
//!   empty = unlabelled); where there is none, so does the first column of text (more words than
//!   numbers in its first rows) under any other name. Further text columns are left out. Text is
//!   never a neuron; a word in a column of numbers is a bad cell, reported by line and column.
//! - Every other column is a neuron; names that are only numbers are unidentified neurons.
//!
//! What was sniffed and guessed is said in the recording's source.

use super::budget::Budget;
use super::{FormatError, fps_from_times, labels_from_names, rate_or_default, stem};
use crate::data::{Recording, names};

const LABEL_COLUMNS: &[&str] = &["state", "states", "label", "labels", "behaviour", "behavior"];
const FRAME_COLUMNS: &[&str] = &["", "frame", "frames", "frame_number", "frame_no", "frame_index", "index", "idx", "unnamed_0"];
/// The delimiters a file may use, in the order they win a tie.
const DELIMITERS: [u8; 4] = [b',', b'\t', b';', b'|'];
/// Data rows read before the columns' roles are decided (a text column may start empty).
const PEEK_ROWS: usize = 50;
/// Frame rate assumed when a file has no time column (the user can correct it).
pub const DEFAULT_FPS: f32 = 1.0;

/// What a column is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Role {
    Neuron,
    /// A time column: the seconds in one of its units, and the unit's name.
    Time(f64, &'static str),
    Frame,
    Labels,
    /// Text beside the labels: left out.
    Text,
}

/// The seconds in one unit of a column named like a time, and the unit (`time_ms` → 0.001,
/// "ms"), else None.
fn time_unit(header: &str) -> Option<(f64, &'static str)> {
    let lower = header.to_ascii_lowercase();
    let words: Vec<&str> = lower.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let unit = |rest: &[&str]| match rest {
        [] | ["s" | "sec" | "secs" | "second" | "seconds"] => Some((1.0, "s")),
        ["ms" | "msec" | "millisecond" | "milliseconds"] => Some((1e-3, "ms")),
        ["min" | "mins" | "minute" | "minutes"] => Some((60.0, "min")),
        _ => None,
    };
    match words.as_slice() {
        ["seconds" | "secs"] => unit(&[]),
        [only @ ("ms" | "milliseconds" | "minutes")] => unit(&[*only]),
        ["time" | "times" | "t" | "timestamp" | "timestamps", rest @ ..] | ["frame", "time" | "times", rest @ ..] => unit(rest),
        _ => None,
    }
}

/// The delimiter of the file's first lines (outside quotes): the one that gives every line the
/// same number of fields, more than one; among those the one with the most; a comma otherwise.
fn sniff_delimiter(bytes: &[u8]) -> u8 {
    let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').filter(|l| !l.iter().all(u8::is_ascii_whitespace)).take(20).collect();
    let count = |line: &[u8], d: u8| {
        let mut quoted = false;
        line.iter().filter(|&&b| {
            if b == b'"' {
                quoted = !quoted;
            }
            b == d && !quoted
        })
        .count()
    };
    let consistent = |d: u8| {
        let first = count(lines.first().copied().unwrap_or_default(), d);
        (first > 0 && lines.iter().all(|l| count(l, d) == first)).then_some(first)
    };
    let by_most = |a: &(u8, usize), b: &(u8, usize)| a.1.cmp(&b.1);
    DELIMITERS
        .iter()
        .filter_map(|&d| consistent(d).map(|n| (d, n)))
        .rev()
        .max_by(by_most)
        .or_else(|| DELIMITERS.iter().map(|&d| (d, count(lines.first().copied().unwrap_or_default(), d))).rev().max_by(by_most).filter(|x| x.1 > 0))
        .map_or(b',', |(d, _)| d)
}

/// How a cell is spelt missing: empty, `NaN`, `NA`, `N/A`, `null`, `none`, `-`.
fn is_missing(cell: &str) -> bool {
    let c = cell.trim();
    c.is_empty() || ["nan", "na", "n/a", "null", "none", "-", "#n/a"].iter().any(|m| c.eq_ignore_ascii_case(m))
}

/// A cell's number: `0.5`, `-1e-3`, and `0,5` where commas are decimal.
fn number(cell: &str, decimal_comma: bool) -> Option<f64> {
    let c = cell.trim();
    if decimal_comma && c.contains(',') { c.replacen(',', ".", 1).parse().ok() } else { c.parse().ok() }
}

fn delimiter_name(d: u8) -> &'static str {
    match d {
        b'\t' => "tab",
        b';' => "';'",
        b'|' => "'|'",
        _ => "','",
    }
}

/// Reads one recording from CSV or TSV, charging each row's values and labels to `budget` as
/// it is read.
pub fn read(file: &str, bytes: &[u8], budget: &Budget) -> Result<Recording, FormatError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let delimiter = sniff_delimiter(bytes);
    let decimal_comma = delimiter != b',';
    let mut reader = ::csv::ReaderBuilder::new().delimiter(delimiter).flexible(false).from_reader(bytes);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| FormatError::invalid(file, format!("cannot read the header: {e}")))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let mut records = reader.records();
    let mut peeked = Vec::new();
    for (row, record) in records.by_ref().take(PEEK_ROWS).enumerate() {
        peeked.push(record.map_err(|e| FormatError::invalid(file, format!("line {}: {e}", row + 2)))?);
    }
    let roles = roles(&header, &peeked, decimal_comma);
    let neuron_cols: Vec<usize> = (0..header.len()).filter(|&c| roles[c] == Role::Neuron).collect();
    if neuron_cols.is_empty() {
        return Err(FormatError::invalid(file, "the header names no neuron columns"));
    }
    // the time column and the seconds in its unit
    let time = roles.iter().enumerate().find_map(|(c, r)| if let Role::Time(seconds, _) = r { Some((c, *seconds)) } else { None });
    let label_col = roles.iter().position(|r| *r == Role::Labels);

    let mut traces = Vec::new();
    let mut times = Vec::new();
    let mut states = Vec::new();
    let rest = records.enumerate().map(|(row, record)| (row + PEEK_ROWS + 2, record));
    for (line, record) in peeked.into_iter().enumerate().map(|(row, r)| (row + 2, Ok(r))).chain(rest) {
        let record = record.map_err(|e| FormatError::invalid(file, format!("line {line}: {e}")))?;
        let over = |e| FormatError::over(file, e);
        budget.values(header.len() as u64, || format!("line {line}")).map_err(over)?;
        if let Some(c) = label_col {
            budget.text(record.get(c).map_or(0, str::len) as u64, || format!("the label on line {line}")).map_err(over)?;
        }
        for &c in &neuron_cols {
            let cell = record.get(c).unwrap_or("").trim();
            let at = || format!("line {line}, column '{}'", header[c]);
            if is_missing(cell) {
                return Err(FormatError::invalid(file, format!("{}: a missing value ('{cell}'); recordings with gaps are not read yet", at())));
            }
            let v = number(cell, decimal_comma).ok_or_else(|| FormatError::invalid(file, format!("{}: '{cell}' is not a number", at())))?;
            if !v.is_finite() {
                return Err(FormatError::invalid(file, format!("{}: value is {cell}", at())));
            }
            traces.push(v as f32);
        }
        if let Some((c, _)) = time {
            let cell = record.get(c).unwrap_or("").trim();
            let t = number(cell, decimal_comma).filter(|t| t.is_finite());
            let t = t.ok_or_else(|| FormatError::invalid(file, format!("line {line}, column '{}': '{cell}' is not a time", header[c])))?;
            if times.last().is_some_and(|&last| t <= last) {
                return Err(FormatError::invalid(file, format!("line {line}, column '{}': the time {cell} does not come after the line before's", header[c])));
            }
            times.push(t);
        }
        if let Some(c) = label_col {
            states.push(record.get(c).unwrap_or("").trim().to_string());
        }
    }
    let frames = traces.len() / neuron_cols.len();
    if frames == 0 {
        return Err(FormatError::invalid(file, "the file has a header but no rows"));
    }
    let unit = time.map_or(1.0, |(_, seconds)| seconds);
    let seconds: Vec<f64> = times.iter().map(|t| t * unit).collect();
    let (fps, fps_note) = rate_or_default(fps_from_times(&seconds));
    let mut said = Vec::new();
    if delimiter != b',' {
        said.push(format!("{}-separated{}", delimiter_name(delimiter), if decimal_comma && bytes.contains(&b',') { ", decimal commas" } else { "" }));
    }
    for (c, role) in roles.iter().enumerate() {
        let name = &header[c];
        match role {
            Role::Time(_, unit) => said.push(format!("frame rate from column '{name}' ({unit})")),
            Role::Frame => said.push(format!("column '{name}' taken as the frame number")),
            Role::Labels if !LABEL_COLUMNS.contains(&name.to_ascii_lowercase().as_str()) => said.push(format!("states from the text in column '{name}'")),
            Role::Text => said.push(format!("text column '{name}' left out")),
            _ => {}
        }
    }
    let said = if said.is_empty() { String::new() } else { format!("; {}", said.join("; ")) };
    Ok(Recording {
        name: stem(file),
        source: format!("{file} (CSV{said}{fps_note})"),
        frames,
        neurons: neuron_cols.len(),
        traces,
        neuron_names: neuron_cols.iter().map(|&c| names::normalize(&header[c])).collect(),
        fps,
        labels: label_col.map(|_| labels_from_names(&states)),
    })
}

/// Each column's role, from its name and the first rows: a time, a frame number, the labels,
/// other text, or a neuron.
fn roles(header: &[String], rows: &[::csv::StringRecord], decimal_comma: bool) -> Vec<Role> {
    // text: more words than numbers in the first rows (a word among numbers is a bad cell, and
    // is reported as one, not a reason to drop the neuron)
    let text = |c: usize| {
        let cells = rows.iter().filter_map(|r| r.get(c)).filter(|cell| !is_missing(cell));
        let (words, numbers) = cells.fold((0, 0), |(w, n), cell| if number(cell, decimal_comma).is_some() { (w, n + 1) } else { (w + 1, n) });
        words > numbers
    };
    let mut roles: Vec<Role> = header
        .iter()
        .enumerate()
        .map(|(c, h)| {
            let lower = h.to_ascii_lowercase().replace([' ', ':'], "_").replace("__", "_");
            if LABEL_COLUMNS.contains(&lower.as_str()) {
                Role::Labels
            } else if let Some((seconds, unit)) = time_unit(h) {
                Role::Time(seconds, unit)
            } else if FRAME_COLUMNS.contains(&lower.as_str()) {
                Role::Frame
            } else if text(c) {
                Role::Text
            } else {
                Role::Neuron
            }
        })
        .collect();
    // one column of each: the first time column sets the rate, the first named label column
    // (or else the first text column) gives the labels; the others are left out
    let first = |wanted: fn(&Role) -> bool| roles.iter().position(wanted);
    let time = first(|r| matches!(r, Role::Time(..)));
    let labels = first(|r| *r == Role::Labels).or_else(|| first(|r| *r == Role::Text));
    for (c, role) in roles.iter_mut().enumerate() {
        *role = match *role {
            Role::Time(..) if Some(c) != time => Role::Text,
            Role::Labels | Role::Text if Some(c) == labels => Role::Labels,
            Role::Labels => Role::Text,
            other => other,
        };
    }
    roles
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
        assert!(r.source.contains("assumed") && r.source.contains("tab-separated"), "{}", r.source);
    }

    #[test]
    fn bad_cells_are_located() {
        let err = read("b.csv", b"AVAL,AVAR\n1,2\n3,x\n").unwrap_err().to_string();
        assert!(err.contains("line 3") && err.contains("AVAR") && err.contains("'x'"), "{err}");
        let err = read("c.csv", b"AVAL,AVAR\n1,2\n3\n").unwrap_err().to_string();
        assert!(err.contains("line 3"), "{err}");
        let err = read("d.csv", b"AVAL,AVAR\n1,NaN\n").unwrap_err().to_string();
        assert!(err.contains("line 2") && err.contains("missing value ('NaN')"), "{err}");
        let err = read("e.csv", b"AVAL,AVAR\n1,2\n1,inf\n").unwrap_err().to_string();
        assert!(err.contains("line 3") && err.contains("inf"), "{err}");
        assert!(read("f.csv", b"AVAL,AVAR\n").unwrap_err().to_string().contains("no rows"));
        let err = read("g.csv", b"time,AVAL\n0,1\n1,2\n1,3\n").unwrap_err().to_string();
        assert!(err.contains("line 4") && err.contains("does not come after"), "{err}");
    }

    #[test]
    fn the_delimiter_is_whichever_splits_every_line_alike() {
        assert_eq!(sniff_delimiter(b"a,b,c\n1,2,3\n"), b',');
        assert_eq!(sniff_delimiter(b"a;b;c\n1,5;2,5;3\n"), b';');
        assert_eq!(sniff_delimiter(b"a\tb\n1,5\t2\n"), b'\t');
        assert_eq!(sniff_delimiter(b"a|b|c\n1|2|3\n"), b'|');
        assert_eq!(sniff_delimiter(b"\"x;y\",b\n1,2\n"), b',');
        assert_eq!(sniff_delimiter(b"AVAL\n1\n"), b',');
    }

    #[test]
    fn time_columns_are_known_by_name_with_their_unit() {
        for (name, unit) in [("time", 1.0), ("t", 1.0), ("Time (s)", 1.0), ("time_ms", 1e-3), ("Time [ms]", 1e-3), ("timestamp", 1.0), ("frame_time", 1.0), ("time_min", 60.0), ("seconds", 1.0)] {
            assert_eq!(time_unit(name).map(|(seconds, _)| seconds), Some(unit), "{name}");
        }
        for name in ["AVAL", "SMDVL", "time_of_day", "tm", "frame"] {
            assert_eq!(time_unit(name), None, "{name}");
        }
    }
}
