//! Kato worm 1 saved again the way spreadsheets and data tools save tables, and read back: every
//! one must give the same recording as the published CSV (frames, neurons, names, rate, values,
//! states), and say what it sniffed.
//!
//! How each writer saves, from its documentation:
//! - Excel, "CSV UTF-8" with a German (or any comma-decimal) locale: a UTF-8 byte-order mark, the
//!   locale's list separator `;`, decimal commas, CRLF line ends, fields quoted only when they
//!   hold the separator or a quote.
//! - R's `write.csv` (row.names = TRUE, the default): every header and string quoted, a first
//!   column of row names whose header is `""`, LF line ends.
//! - A tab-separated export with the time in milliseconds (`time_ms`), as acquisition software
//!   writes its frame clock.
//! - numpy's narrower and older types (float16, byte strings, uint64), in an NPZ.

mod common;

use neurognn::data::Recording;
use neurognn::data::formats::load;

fn worm1() -> (Vec<String>, Vec<Vec<String>>) {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/kato2015/csv/worm1.csv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{} should be readable: {e}", path.display()));
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines.map(|l| l.split(',').map(String::from).collect()).collect();
    (header, rows)
}

fn published() -> Recording {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/kato2015/csv/worm1.csv");
    load("worm1.csv", std::fs::read(path).unwrap()).unwrap().remove(0)
}

fn one(file: &str, bytes: Vec<u8>) -> Recording {
    let mut recs = load(file, bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
    assert_eq!(recs.len(), 1, "{file}");
    recs.remove(0)
}

fn assert_same(got: &Recording, want: &Recording, file: &str) {
    assert_eq!((got.frames, got.neurons), (want.frames, want.neurons), "{file}: frames × neurons");
    assert_eq!(got.neuron_names, want.neuron_names, "{file}: names");
    assert!((got.fps - want.fps).abs() < 1e-3 * want.fps, "{file}: {} Hz, published {} Hz", got.fps, want.fps);
    let worst = got.traces.iter().zip(&want.traces).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(worst < 1e-6, "{file}: values differ by up to {worst}");
    assert_eq!(got.labels, want.labels, "{file}: states");
}

#[test]
fn excel_with_a_comma_decimal_locale() {
    let (header, rows) = worm1();
    let mut out = b"\xEF\xBB\xBF".to_vec();
    for line in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = line.iter().map(|c| c.replace('.', ",")).collect();
        out.extend(cells.join(";").as_bytes());
        out.extend(b"\r\n");
    }
    let got = one("worm1 (Excel).csv", out);
    assert_same(&got, &published(), "Excel");
    assert!(got.source.contains("';'-separated, decimal commas"), "{}", got.source);
}

#[test]
fn r_write_csv_with_row_names() {
    let (header, rows) = worm1();
    let quote = |s: &str| format!("\"{s}\"");
    let mut out = String::new();
    out += &std::iter::once(quote("")).chain(header.iter().map(|h| quote(h))).collect::<Vec<_>>().join(",");
    out += "\n";
    for (i, row) in rows.iter().enumerate() {
        let last = row.len() - 1; // the state: a string, quoted
        let cells = row.iter().enumerate().map(|(c, v)| if c == last { quote(v) } else { v.clone() });
        out += &std::iter::once(quote(&(i + 1).to_string())).chain(cells).collect::<Vec<_>>().join(",");
        out += "\n";
    }
    let got = one("worm1 (R).csv", out.into_bytes());
    assert_same(&got, &published(), "R");
    assert!(got.source.contains("column '' taken as the frame number"), "{}", got.source);
}

#[test]
fn tab_separated_with_the_time_in_milliseconds_and_states_under_another_name() {
    let (mut header, rows) = worm1();
    header[0] = "time_ms".into();
    let last = header.len() - 1;
    header[last] = "Behaviour state".into();
    let mut out = header.join("\t") + "\n";
    for row in &rows {
        let ms = row[0].parse::<f64>().unwrap() * 1000.0;
        out += &std::iter::once(format!("{ms:.1}")).chain(row[1..].iter().cloned()).collect::<Vec<_>>().join("\t");
        out += "\n";
    }
    let got = one("worm1.tsv", out.into_bytes());
    let want = published();
    assert_same(&got, &want, "TSV in ms");
    assert!(got.fps > 2.0 && got.fps < 4.0, "a 4 Hz-class recording read as {} Hz", got.fps);
    assert!(got.source.contains("frame rate from column 'time_ms' (ms)") && got.source.contains("states from the text in column 'Behaviour state'"), "{}", got.source);
}

#[test]
fn a_name_in_two_columns_leaves_both_unidentified_and_says_so() {
    let (mut header, rows) = worm1();
    let aval = header.iter().position(|h| h == "AVAL").unwrap();
    let avar = header.iter().position(|h| h == "AVAR").unwrap();
    header[avar] = "AVAL".into();
    let text = std::iter::once(&header).chain(&rows).map(|l| l.join(",")).collect::<Vec<_>>().join("\n");
    let got = one("worm1-twice.csv", text.into_bytes());
    let want = published();
    assert_eq!(got.neurons, want.neurons);
    // columns count from 1 after the time column
    assert_eq!((got.neuron_names[aval - 1].clone(), got.neuron_names[avar - 1].clone()), (None, None));
    assert!(got.source.contains(&format!("AVAL appears in columns {aval} and {}: both kept as unidentified", avar)), "{}", got.source);
    let named = |r: &Recording| r.neuron_names.iter().flatten().count();
    assert_eq!(named(&got), named(&want) - 2);
}

/// Worm 1's NPZ written again with the narrower and older numpy types labs' files hold:
/// float16 traces (`<f2`), byte-string names and state names (`|S`, numpy's `bytes`, as h5py
/// reads HDF5 strings), unsigned 64-bit states (`<u8`), a float32 rate. The layout follows
/// numpy's NPY format (format.py): a C-order array after a header padded to 64 bytes.
#[test]
fn narrow_and_byte_string_arrays_load_as_the_published_npz() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/kato2015/npz/worm1.npz");
    let want = load("worm1.npz", std::fs::read(path).unwrap()).unwrap().remove(0);
    let (frames, neurons) = (want.frames, want.neurons);
    let half: Vec<u8> = want.traces.iter().flat_map(|&v| half::f16::from_f32(v).to_le_bytes()).collect();
    let names: Vec<String> = want.neuron_names.iter().enumerate().map(|(i, n)| n.clone().unwrap_or_else(|| (i + 1).to_string())).collect();
    let bytes_npy = |values: &[String]| {
        let width = values.iter().map(String::len).max().unwrap_or(1);
        let payload: Vec<u8> = values.iter().flat_map(|v| v.bytes().chain(std::iter::repeat(0)).take(width)).collect();
        common::npy(&format!("|S{width}"), &format!("({},)", values.len()), &payload)
    };
    let labels = want.labels.clone().unwrap();
    let states: Vec<u8> = labels.per_frame.iter().map(|s| u64::from(s.expect("Kato labels every frame"))).flat_map(u64::to_le_bytes).collect();
    let file = common::npz(&[
        ("traces", common::npy("<f2", &format!("({frames}, {neurons})"), &half)),
        ("neuron_names", bytes_npy(&names)),
        ("states", common::npy("<u8", &format!("({frames},)"), &states)),
        ("state_names", bytes_npy(&labels.names)),
        ("fps", common::npy("<f4", "()", &want.fps.to_le_bytes())),
    ]);
    let got = one("worm1-narrow.npz", file);
    assert_eq!((got.frames, got.neurons), (frames, neurons));
    assert_eq!(got.neuron_names, want.neuron_names);
    assert_eq!(got.labels, want.labels);
    assert!((got.fps - want.fps).abs() < 1e-5);
    // float16 keeps 11 significant bits: relative error at most 2^-11
    let worst = got.traces.iter().zip(&want.traces).map(|(a, b)| (a - b).abs() / b.abs().max(1e-3)).fold(0.0f32, f32::max);
    assert!(worst <= 1.0 / 2048.0 + 1e-6, "float16 traces differ from the published by up to {worst} (relative)");
}
