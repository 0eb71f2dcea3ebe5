//! File formats users bring, read in pure Rust so the same code runs in the page and natively.
//!
//! [`load`] sniffs the bytes (not the extension) and returns every recording the file holds.
//! Readers check shapes and values and say what is wrong and where; none panics on bad input.

pub mod budget;
pub mod companion;
pub mod csv;
pub mod hdf5;
pub mod inventory;
pub mod mat5;
pub mod matlab;
pub mod npz;
pub mod nwb;
pub mod source;

use super::{DataError, Recording};
use budget::Budget;
pub use source::FileBytes;

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error("{file}: not a format NeuroGNN reads ({found}); use CSV/TSV, NPY/NPZ, MATLAB or NWB/HDF5")]
    Unsupported { file: String, found: String },
    #[error("{file}: {source}")]
    Data { file: String, source: DataError },
    #[error("{file}: {source}")]
    OverBudget { file: String, source: budget::OverBudget },
}

impl FormatError {
    pub(crate) fn invalid(file: &str, message: impl Into<String>) -> Self {
        Self::Invalid { file: file.to_string(), message: message.into() }
    }

    pub(crate) fn over(file: &str, source: budget::OverBudget) -> Self {
        Self::OverBudget { file: file.to_string(), source }
    }

    /// The file the error is about.
    pub fn file(&self) -> &str {
        match self {
            Self::Invalid { file, .. } | Self::Unsupported { file, .. } | Self::Data { file, .. } | Self::OverBudget { file, .. } => file,
        }
    }
}

/// What the first bytes say a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Npy,
    Npz,
    MatV5,
    Hdf5,
}

impl Format {
    /// How messages name the format.
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "CSV",
            Format::Npy => "NPY",
            Format::Npz => "NPZ",
            Format::MatV5 => "MATLAB v5",
            Format::Hdf5 => "HDF5",
        }
    }
}

/// Identifies a file by its content (the first 4 KiB are enough).
pub fn sniff(bytes: &[u8]) -> Option<Format> {
    const HDF5: &[u8] = b"\x89HDF\r\n\x1a\n";
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        Some(Format::Npz)
    } else if bytes.starts_with(b"\x93NUMPY") {
        Some(Format::Npy)
    } else if bytes.starts_with(HDF5) || bytes.get(512..520) == Some(HDF5) {
        Some(Format::Hdf5)
    } else if bytes.starts_with(b"MATLAB 5.0 MAT-file") {
        Some(Format::MatV5)
    } else if !bytes.is_empty() && text_head(bytes).is_some_and(|s| s.contains([',', '\t', ';', '|'])) {
        Some(Format::Csv)
    } else {
        None
    }
}

/// Whether `head` is the start of a JSON document (an object or an array), not a table.
fn looks_like_json(head: &[u8]) -> bool {
    let text = text_head(head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head)).unwrap_or_default().trim_start();
    text.starts_with('{') || (text.starts_with('[') && text[1..].trim_start().starts_with(['[', '{', '"', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ']']))
}

/// The first 4 KiB of `bytes` as UTF-8 text (a character cut at the end is left out), if it is text.
fn text_head(bytes: &[u8]) -> Option<&str> {
    let head = &bytes[..bytes.len().min(4096)];
    match std::str::from_utf8(head) {
        Ok(s) => Some(s),
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&head[..e.valid_up_to()]).ok(),
        Err(_) => None,
    }
}

/// One file parsed once: its recordings (or why none could be made from it) and the listing
/// of its arrays that the page shows and the user may correct.
pub(crate) struct Parsed {
    pub recordings: Result<Vec<Recording>, FormatError>,
    pub inventory: inventory::Inventory,
}

impl Parsed {
    /// A recording built from the guess over the arrays (NPZ, NPY, plain HDF5). Labels the
    /// guess picked that do not fit (fractional numbers, another length) are not used: the
    /// traces load without them, and the recording's source says why.
    /// `build` assembles a choice (reading arrays the listing keeps by shape only).
    fn guessed(inventory: inventory::Inventory, build: impl Fn(&inventory::Inventory, &inventory::Choice) -> Result<Recording, FormatError>) -> Self {
        let recordings = inventory::guess(&inventory)
            .and_then(|choice| match build(&inventory, &choice) {
                Err(FormatError::Invalid { message, .. }) if choice.labels.is_some() => {
                    let without = inventory::Choice { labels: None, state_names: None, ..choice };
                    build(&inventory, &without).map(|mut r| {
                        r.add_to_source(&format!("labels not used: {message}"));
                        r
                    })
                }
                other => other.map(|mut r| {
                    // what else could have been picked is said beside the pick
                    let others = inventory::alternatives(&inventory, &choice);
                    if !others.is_empty() {
                        r.add_to_source(&others.join("; "));
                    }
                    r
                }),
            })
            .map(|r| vec![r]);
        Self { recordings, inventory }
    }

    /// MATLAB variables (v5 or v7.3) through the one set of layout rules.
    fn matlab(file: &str, format: &str, variables: &[(String, matlab::MatValue)]) -> Self {
        Self {
            recordings: matlab::recordings_from_variables(file, variables),
            inventory: inventory::Inventory::new(file, format, inventory::from_matlab(variables)),
        }
    }
}

/// What a file is: a recording file, or a side file (names or labels for another file).
enum Contents {
    File(Parsed),
    Side(companion::Companion),
}

/// Parses a file once, within `budget`. HDF5 files are read by offset (only what is used);
/// the others whole. With `pick`, the recording is the one those arrays make (the layout's
/// rules and the guess are not used). The listing returned keeps large arrays by their shape
/// only ([`inventory::Inventory::listing`]). The error is for files whose container cannot be
/// read at all.
fn parse(file: &str, input: &FileBytes, budget: &Budget, pick: Option<&inventory::Choice>) -> Result<Contents, FormatError> {
    let head = input.head(4096).map_err(|e| FormatError::invalid(file, format!("could not be read: {e}")))?;
    let format = sniff(&head);
    if looks_like_json(&head) {
        return Err(FormatError::invalid(file, "holds JSON (a WormWideWeb download, perhaps), which NeuroGNN does not read yet: save the traces as CSV, NPZ or NWB"));
    }
    let mut parsed = match format {
        None => return Err(unsupported(file, &head)),
        Some(Format::Hdf5) => hdf5::read(file, input, budget, pick)?,
        Some(Format::Csv) => {
            let bytes = input.whole(file, "CSV")?;
            match csv::read(file, &bytes, budget) {
                Ok(rec) => Parsed { inventory: inventory::from_recording(file, "CSV", &rec), recordings: Ok(vec![rec]) },
                Err(e @ FormatError::OverBudget { .. }) => return Err(e),
                Err(e) => return companion::read(&bytes, budget).map_err(|over| FormatError::over(file, over))?.map(Contents::Side).ok_or(e),
            }
        }
        Some(format) => {
            let bytes = input.whole(file, format.name())?;
            match format {
                Format::Npz => Parsed::guessed(inventory::Inventory::new(file, "NPZ", npz::npz_arrays(file, &bytes, budget)?), inventory::assemble),
                Format::Npy => Parsed::guessed(inventory::Inventory::new(file, "NPY", npz::npy_arrays(file, &bytes, budget)?), inventory::assemble),
                _ => Parsed::matlab(file, "MATLAB v5", &mat5::variables(file, &bytes, budget)?),
            }
        }
    };
    // HDF5 files read the picked arrays themselves; the others hold every array already
    if let Some(choice) = pick
        && format != Some(Format::Hdf5)
    {
        parsed.recordings = inventory::assemble(&parsed.inventory, choice).map(|r| vec![r]);
    }
    parsed.inventory = parsed.inventory.listing();
    if let Ok(recordings) = &mut parsed.recordings {
        for rec in recordings.iter_mut() {
            rec.unname_duplicates();
            rec.validate().map_err(|source| FormatError::Data { file: file.into(), source })?;
            upper_case_kato_states(rec);
        }
    }
    Ok(Contents::File(parsed))
}

fn side_file_alone(file: &str, side: &companion::Companion) -> FormatError {
    FormatError::invalid(file, format!("{}, not a recording: drop it together with the recording it belongs to", side.describe()))
}

/// Reads every recording in a file; `file` names it in messages and in `Recording::source`.
/// Decodes at most [`budget::FILE`].
pub fn load(file: &str, bytes: impl Into<FileBytes>) -> Result<Vec<Recording>, FormatError> {
    match parse(file, &bytes.into(), &Budget::new(budget::FILE), None)? {
        Contents::File(parsed) => parsed.recordings,
        Contents::Side(side) => Err(side_file_alone(file, &side)),
    }
}

/// Everything `bytes` holds that could be part of a recording, for the page to list and the
/// user to assign (see [`inventory`]), also when no recording could be guessed from it.
pub fn inventory(file: &str, bytes: impl Into<FileBytes>) -> Result<inventory::Inventory, FormatError> {
    match parse(file, &bytes.into(), &Budget::new(budget::FILE), None)? {
        Contents::File(parsed) => Ok(parsed.inventory),
        Contents::Side(side) => Err(side_file_alone(file, &side)),
    }
}

/// Kato's states are spelled in capitals by the MATLAB release and in lower case by others;
/// one spelling keeps the page and the results consistent.
fn upper_case_kato_states(rec: &mut Recording) {
    if let Some(l) = &mut rec.labels
        && super::labels::is_kato_scheme(l)
    {
        l.names.iter_mut().for_each(|n| n.make_ascii_uppercase());
    }
}

/// What came of a set of files dropped together.
#[derive(Debug, Default)]
pub struct Dropped {
    /// Each recording with the file it came from.
    pub recordings: Vec<(String, Recording)>,
    /// The listing of every file whose arrays could be read (from the same single parse), also
    /// of those no recording could be guessed from: the user may pick their arrays.
    pub listings: Vec<inventory::Inventory>,
    /// Side files: `(file, what it holds)`.
    pub side_files: Vec<(String, String)>,
    /// What each side file was used for.
    pub notes: Vec<String>,
    /// Files that could not be read; the others are kept.
    pub errors: Vec<FormatError>,
}

/// Reads files dropped together, each parsed once: recordings, then side files (names,
/// labels) attached to the recording they fit. A file that fails is reported and the rest
/// still load. Each file decodes at most [`budget::FILE`], all of them together [`budget::DROP`].
pub fn load_files(files: &[(String, FileBytes)]) -> Dropped {
    load_files_picked(files, &[])
}

/// Whether `name` (from a spec) names `file` (a path or a dropped file's name).
fn names_file(name: &str, file: &str) -> bool {
    name == file || base_name(name) == base_name(file)
}

/// The last part of a path (a dropped file's name is its own).
pub fn base_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// [`load_files`], with the arrays picked for some files (by file name): their recording is
/// built from those arrays, as the page's "Use these arrays" form builds it, also when the
/// reader could not guess one. A pick naming no file given is an error.
pub fn load_files_picked(files: &[(String, FileBytes)], picks: &[(String, inventory::Choice)]) -> Dropped {
    let mut dropped = Dropped::default();
    let mut side = Vec::new();
    let drop = Budget::new(budget::DROP);
    for (name, _) in picks.iter().filter(|(name, _)| !files.iter().any(|(file, _)| names_file(name, file))) {
        dropped.errors.push(FormatError::invalid(name, "the spec picks arrays in this file, but it was not given"));
    }
    for (file, bytes) in files {
        let budget = Budget::for_file(&drop);
        let pick = picks.iter().find(|(name, _)| names_file(name, file)).map(|(_, choice)| choice);
        let parsed = parse(file, bytes, &budget, pick);
        drop.spend(&budget);
        match parsed {
            Ok(Contents::File(Parsed { recordings: Ok(recs), inventory })) => {
                dropped.recordings.extend(recs.into_iter().map(|r| (file.clone(), r)));
                dropped.listings.push(inventory);
            }
            Ok(Contents::File(Parsed { recordings: Err(e), inventory })) => {
                // listed anyway: the user may pick the arrays the guess could not
                dropped.listings.push(inventory);
                dropped.errors.push(e);
            }
            Err(e) => dropped.errors.push(e),
            Ok(Contents::Side(c)) => {
                dropped.side_files.push((file.clone(), c.describe()));
                side.push((file.clone(), c));
            }
        }
    }
    if dropped.recordings.is_empty() {
        // side files alone complete nothing: say so rather than keep them as state names
        dropped.errors.extend(side.iter().map(|(file, c)| side_file_alone(file, c)));
        dropped.side_files.clear();
        return dropped;
    }
    for used in companion::attach(&mut dropped.recordings, &side) {
        match used {
            Ok(note) => dropped.notes.push(note),
            Err(e) => dropped.errors.push(e),
        }
    }
    // Side files may have changed names or labels: check again, and keep only what is sound.
    for (file, mut rec) in std::mem::take(&mut dropped.recordings) {
        rec.unname_duplicates();
        match rec.validate() {
            Ok(()) => {
                upper_case_kato_states(&mut rec);
                dropped.recordings.push((file, rec));
            }
            Err(source) => dropped.errors.push(FormatError::Data { file, source }),
        }
    }
    dropped
}

fn unsupported(file: &str, bytes: &[u8]) -> FormatError {
    let found = if bytes.is_empty() { "an empty file".to_string() } else { format!("starts with {:02x?}", &bytes[..bytes.len().min(8)]) };
    FormatError::Unsupported { file: file.into(), found }
}

/// The file name without folders or extension, for naming recordings.
pub(crate) fn stem(file: &str) -> String {
    let base = base_name(file);
    base.rsplit_once('.').map_or(base, |(s, _)| s).to_string()
}

/// Frame rate from a time column: the median frame interval, if it is positive.
pub(crate) fn fps_from_times(times: &[f64]) -> Option<f32> {
    let mut dt: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).filter(|d| d.is_finite()).collect();
    if dt.is_empty() {
        return None;
    }
    dt.sort_by(f64::total_cmp);
    let median = dt[dt.len() / 2];
    (median > 0.0).then(|| (1.0 / median) as f32)
}

/// The frame rate, or [`csv::DEFAULT_FPS`] with a note for `Recording::source` saying so.
pub(crate) fn rate_or_default(fps: Option<f32>) -> (f32, &'static str) {
    match fps {
        Some(fps) => (fps, ""),
        None => (csv::DEFAULT_FPS, "; frame rate unknown, 1 Hz assumed"),
    }
}

/// Traces as frames × neurons (row-major f32) from a 2-D array stored row-major as
/// `[rows, cols]`, and `(frames, neurons)`. The neuron names decide which axis holds neurons
/// when their count matches one axis; otherwise time is the longer axis.
pub(crate) fn frames_by_neurons(values: &[f64], rows: usize, cols: usize, names: Option<usize>) -> (usize, usize, Vec<f32>) {
    let neurons_first = match names {
        Some(n) if n == rows && n != cols => true,
        Some(n) if n == cols => false,
        _ => rows < cols,
    };
    if neurons_first {
        (cols, rows, super::transposed(values, rows, cols).map(|v| v as f32).collect())
    } else {
        (rows, cols, values.iter().map(|&v| v as f32).collect())
    }
}

/// Builds labels from per-frame state names; empty names are unlabelled frames. States are
/// sorted alphabetically (the order of the Kato release).
pub(crate) fn labels_from_names(per_frame: &[String]) -> super::Labels {
    let names: Vec<String> =
        per_frame.iter().filter(|s| !s.is_empty()).cloned().collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    // a map, not a search per frame: linear in frames however many states there are
    let index: std::collections::HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (n.as_str(), i)).collect();
    // more than MAX_STATES names is refused by `Recording::validate`, so no index wraps unseen
    let per_frame = per_frame.iter().map(|s| index.get(s.as_str()).and_then(|&i| u16::try_from(i).ok())).collect();
    super::Labels { names, per_frame }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_recognised_by_content() {
        assert_eq!(sniff(b"PK\x03\x04...."), Some(Format::Npz));
        assert_eq!(sniff(b"\x93NUMPY\x01\x00"), Some(Format::Npy));
        assert_eq!(sniff(b"MATLAB 5.0 MAT-file, Platform"), Some(Format::MatV5));
        let mut v73 = vec![0u8; 512];
        v73.extend_from_slice(b"\x89HDF\r\n\x1a\n");
        assert_eq!(sniff(&v73), Some(Format::Hdf5));
        assert_eq!(sniff(b"AVAL,AVAR\n1,2\n"), Some(Format::Csv));
        assert_eq!(sniff(b"\x00\x01\x02"), None);
        let err = load("x.bin", b"").unwrap_err().to_string();
        assert!(err.contains("x.bin") && err.contains("empty"), "{err}");
        // JSON is said to be JSON, not read as a list of names
        for json in [&br#"{"gcamp": {"trace_array": [[1, 2], [3, 4]]}}"#[..], b"\xEF\xBB\xBF  [[0.1, 0.2], [0.3, 0.4]]"] {
            let err = load("w.json", json).unwrap_err().to_string();
            assert!(err.contains("w.json") && err.contains("holds JSON"), "{err}");
        }
    }

    #[test]
    fn orientation_follows_names_then_the_longer_axis() {
        // [[1,2,3],[4,5,6]]: 2 neurons × 3 frames
        let v = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        assert_eq!(frames_by_neurons(&v, 2, 3, None), (3, 2, vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]));
        assert_eq!(frames_by_neurons(&v, 2, 3, Some(3)), (2, 3, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
        assert_eq!(frames_by_neurons(&v, 2, 3, Some(2)).0, 3);
    }

    #[test]
    fn helpers() {
        assert_eq!(stem("../data/worm1.npz"), "worm1");
        assert!((fps_from_times(&[0.0, 0.5, 1.0, 1.5]).unwrap() - 2.0).abs() < 1e-6);
        assert_eq!(fps_from_times(&[1.0, 1.0]), None);
        let l = labels_from_names(&["rev1".into(), "".into(), "fwd".into()]);
        assert_eq!(l.names, ["fwd", "rev1"]);
        assert_eq!(l.per_frame, vec![Some(1), None, Some(0)]);
    }
}
