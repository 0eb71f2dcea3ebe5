//! What a file holds, what the reader guesses each part is, and a recording built from a choice.
//!
//! Every binary format can be listed as named arrays ([`Inventory`]): NPZ members, MATLAB
//! variables and struct fields (v5 and v7.3), HDF5 datasets and their numeric attributes. The
//! page shows this list with its shapes and types, [`guess`] proposes which array is the traces,
//! the neuron names, the labels and the frame rate, and the user may correct that [`Choice`]
//! before [`assemble`] turns it into a [`Recording`]. NPZ/NPY files and HDF5 files that are
//! neither MATLAB nor NWB are read this way; MATLAB and NWB keep their layout readers (they know
//! multi-animal and interval layouts) and use the inventory only when the user corrects them.

use serde::{Deserialize, Serialize};

use super::matlab::MatValue;
use super::{FormatError, fps_from_times, frames_by_neurons, labels_from_names, rate_or_default, stem};
use crate::data::{Labels, Recording, names, transposed};

/// One array, in C (row-major) order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Array {
    Float { shape: Vec<usize>, data: Vec<f64> },
    Int { shape: Vec<usize>, data: Vec<i64> },
    Text { shape: Vec<usize>, data: Vec<String> },
    /// Listed by its shape and type only: a large numeric array whose values stay in the file
    /// until a recording is built from it (see [`LISTED_VALUES`]).
    Unread { shape: Vec<usize>, integer: bool },
}

/// Numeric arrays of two or more dimensions holding more values than this are listed by their
/// shape only ([`Array::Unread`]): a listing is for choosing, and the traces a recording is
/// built from are read when it is built. Vectors (labels, times, names) are always listed
/// whole, since the guess looks at their values.
pub const LISTED_VALUES: usize = 1 << 16;

impl Array {
    pub fn shape(&self) -> &[usize] {
        match self {
            Array::Float { shape, .. } | Array::Int { shape, .. } | Array::Text { shape, .. } | Array::Unread { shape, .. } => shape,
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.shape().iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// "float 3137×109", for listings and messages.
    pub fn describe(&self) -> String {
        let kind = match self {
            Array::Float { .. } | Array::Unread { integer: false, .. } => "float",
            Array::Int { .. } | Array::Unread { integer: true, .. } => "integer",
            Array::Text { .. } => "text",
        };
        let dims: Vec<String> = self.shape().iter().map(ToString::to_string).collect();
        format!("{kind} {}", if dims.is_empty() { "scalar".into() } else { dims.join("×") })
    }

    pub fn numeric(&self) -> Option<Vec<f64>> {
        match self {
            Array::Float { data, .. } => Some(data.clone()),
            Array::Int { data, .. } => Some(data.iter().map(|&v| v as f64).collect()),
            Array::Text { .. } | Array::Unread { .. } => None,
        }
    }

    /// Whether the values are left in the file (listed by shape only).
    pub fn is_unread(&self) -> bool {
        matches!(self, Array::Unread { .. })
    }

    /// Whether a listing keeps a numeric array of this shape by its shape only: not a vector,
    /// more than [`LISTED_VALUES`] values.
    pub fn listed_by_shape(shape: &[usize], count: usize) -> bool {
        shape.iter().filter(|&&d| d > 1).count() >= 2 && count > LISTED_VALUES
    }

    /// This array as a listing keeps it: large numeric arrays by their shape only.
    fn listed(self) -> Self {
        match self {
            Array::Float { shape, .. } if Self::listed_by_shape(&shape, shape.iter().product()) => Array::Unread { shape, integer: false },
            Array::Int { shape, .. } if Self::listed_by_shape(&shape, shape.iter().product()) => Array::Unread { shape, integer: true },
            other => other,
        }
    }

    fn is_numeric(&self) -> bool {
        !matches!(self, Array::Text { .. })
    }

    /// A 1-D (or 1×n / n×1) array's length.
    fn vector_len(&self) -> Option<usize> {
        match self.shape() {
            [n] => Some(*n),
            [1, n] | [n, 1] => Some(*n),
            _ => None,
        }
    }
}

/// A named array of a file; `path` is how the file names it (`WT_NoStim.NeuronNames{3}`,
/// `/processing/ophys/…/data`, `/…/starting_time@rate` for an attribute).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub path: String,
    pub array: Array,
}

/// Everything a file holds that could be part of a recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inventory {
    pub file: String,
    /// "NPZ", "MATLAB v5", "HDF5", … for messages.
    pub format: String,
    pub entries: Vec<Entry>,
    /// Arrays not read, with why (over the file's budget): listed so a refusal can name them.
    pub left_out: Vec<String>,
}

impl Inventory {
    pub fn new(file: &str, format: &str, entries: Vec<Entry>) -> Self {
        Self { file: file.into(), format: format.into(), entries, left_out: Vec::new() }
    }

    /// The listing without the values of its large numeric arrays (kept by shape only): what
    /// the page holds and shows, a few kB however large the file.
    pub fn listing(self) -> Self {
        Self { entries: self.entries.into_iter().map(|e| Entry { array: e.array.listed(), ..e }).collect(), ..self }
    }

    /// The paths among `choice`'s arrays whose values the listing left in the file.
    pub fn unread_in(&self, choice: &Choice) -> Vec<String> {
        let chosen = [Some(&choice.traces), choice.names.as_ref(), choice.labels.as_ref(), choice.state_names.as_ref()];
        chosen.into_iter().flatten().filter(|p| self.get(p).is_ok_and(Array::is_unread)).cloned().collect()
    }

    /// Puts values read from the file in place of the entry at `path`.
    pub fn fill(&mut self, path: &str, array: Array) {
        if let Some(e) = self.entries.iter_mut().find(|e| e.path == path) {
            e.array = array;
        }
    }

    fn get(&self, path: &str) -> Result<&Array, FormatError> {
        self.entries
            .iter()
            .find(|e| e.path == path)
            .map(|e| &e.array)
            .ok_or_else(|| FormatError::invalid(&self.file, format!("the file has no array '{path}'")))
    }
}

/// Which arrays make the recording. What the page shows, lets the user edit, and keeps.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Choice {
    /// The 2-D numeric array of activity.
    pub traces: String,
    /// Whether the traces' rows are neurons (and columns frames).
    pub neurons_on_rows: bool,
    /// A text array with one name per neuron.
    pub names: Option<String>,
    /// Per-frame labels: text, or integers indexing `state_names`.
    pub labels: Option<String>,
    /// State names that integer labels index.
    pub state_names: Option<String>,
    /// Frames per second; `None` assumes 1 Hz and says so.
    pub fps: Option<f32>,
}

const TRACE_WORDS: &[&str] = &["deltafoverf_bc", "trace", "activity", "dff", "deltaf", "fluor", "calcium", "data"];
const NAME_WORDS: &[&str] = &["neuron", "name", "id", "roi"];
const LABEL_WORDS: &[&str] = &["state", "label", "behav", "class", "ethogram"];
/// Words that mark an unprocessed or otherwise normalised copy of the traces kept beside the
/// processed ones (the Flavell lab's `trace_array_original` and `traces_array_F_F20`, a `raw`
/// array): the processed array is picked before them, whatever order the file lists them in.
const RAW_WORDS: &[&str] = &["original", "raw", "f_f20", "unprocessed", "uncorrected"];
const FPS_WORDS: &[&str] = &["fps", "rate", "hz"];
const TIME_WORDS: &[&str] = &["time", "timestamps"];

fn has(path: &str, words: &[&str]) -> bool {
    let lower = path.to_ascii_lowercase();
    words.iter().any(|w| lower.contains(w))
}

/// Rank of the first of `words` in `path` (lower is better; `words.len()` when none).
fn rank(path: &str, words: &[&str]) -> usize {
    let lower = path.to_ascii_lowercase();
    words.iter().position(|w| lower.contains(w)).unwrap_or(words.len())
}

/// The numbers in a path's `{k}` and `(k)` indices: arrays of the same animal share them.
fn indices(path: &str) -> Vec<&str> {
    path.split(['{', '(']).skip(1).filter_map(|s| s.split(['}', ')']).next()).filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).collect()
}

/// How close two paths are: same indices first, then the longer shared folder/struct prefix.
fn affinity(a: &str, b: &str) -> (bool, usize) {
    let prefix = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    (indices(a) == indices(b), prefix)
}

/// Guesses traces, names, labels and frame rate among the file's arrays.
pub fn guess(inv: &Inventory) -> Result<Choice, FormatError> {
    let traces = inv
        .entries
        .iter()
        .filter(|e| e.array.is_numeric() && e.array.shape().len() == 2 && e.array.vector_len().is_none())
        .min_by_key(|e| (rank(&e.path, TRACE_WORDS), has(&e.path, RAW_WORDS), has(&e.path, &["deriv"]), std::cmp::Reverse(e.array.len())))
        .ok_or_else(|| {
            let found: Vec<String> = inv.entries.iter().map(|e| format!("{} ({})", e.path, e.array.describe())).collect();
            let left_out = if inv.left_out.is_empty() { String::new() } else { format!("; not read: {}", inv.left_out.join("; ")) };
            FormatError::invalid(&inv.file, format!("no 2-D numeric array of traces; found: {}{left_out}", found.join(", ")))
        })?;
    let [rows, cols] = [traces.array.shape()[0], traces.array.shape()[1]];
    // Arrays of another animal (other `{k}` indices) are never paired with these traces.
    let nearest = |candidates: Vec<&Entry>| {
        let own = indices(&traces.path);
        candidates
            .into_iter()
            .filter(|e| indices(&e.path).is_empty() || indices(&e.path) == own)
            .max_by_key(|e| affinity(&e.path, &traces.path))
            .map(|e| e.path.clone())
    };
    let text_vectors = || inv.entries.iter().filter(|e| matches!(e.array, Array::Text { .. }) && e.array.vector_len().is_some());

    // A names array that fits neither axis is still chosen, so that `assemble` says so.
    let named = || text_vectors().filter(|e| has(&e.path, NAME_WORDS) && !has(&e.path, LABEL_WORDS));
    let names = nearest(named().filter(|e| e.array.vector_len().is_some_and(|n| n == rows || n == cols)).collect())
        .or_else(|| nearest(named().collect()));
    let name_count = names.as_deref().and_then(|p| inv.get(p).ok()).and_then(Array::vector_len);
    // Same rule as every reader: names decide the neuron axis, else time is the longer axis.
    let neurons_on_rows = match name_count {
        Some(n) if n == rows && n != cols => true,
        Some(n) if n == cols => false,
        _ => rows < cols,
    };
    let frames = if neurons_on_rows { cols } else { rows };

    let labelled = || inv.entries.iter().filter(|e| may_label(e, frames));
    // one per frame, whole numbers or text (a 0/1 `reversal_vec`, never a `velocity`), with at
    // least two values: an all-missing or constant array (the Flavell lab's all-NaN `pumping`)
    // labels nothing
    let labels = nearest(labelled().filter(|e| e.array.vector_len() == Some(frames) && categorical(&e.array) && varies(&e.array)).collect())
        .or_else(|| nearest(labelled().filter(|e| e.array.vector_len() != Some(frames) && varies(&e.array)).collect()));
    let state_names = match labels.as_deref().map(|p| inv.get(p)) {
        Some(Ok(Array::Int { .. } | Array::Float { .. })) => {
            nearest(text_vectors().filter(|e| has(&e.path, LABEL_WORDS) && e.array.vector_len() != Some(frames)).collect())
        }
        _ => None,
    };
    let scalar_rate = nearest(inv.entries.iter().filter(|e| has(&e.path, FPS_WORDS) && e.array.is_numeric() && e.array.len() == 1).collect());
    let fps = match scalar_rate {
        Some(p) => inv.get(&p)?.numeric().and_then(|v| v.first().copied()).map(|f| f as f32),
        None => nearest(
            inv.entries
                .iter()
                .filter(|e| has(&e.path, TIME_WORDS) && e.array.is_numeric() && e.array.vector_len() == Some(frames))
                .collect(),
        )
        .and_then(|p| inv.get(&p).ok().and_then(Array::numeric))
        .and_then(|t| fps_from_times(&t)),
    }
    .filter(|f| f.is_finite() && *f > 0.0);
    Ok(Choice { traces: traces.path.clone(), neurons_on_rows, names, labels, state_names, fps })
}

/// Whether `e` may be the labels of traces of `frames` frames: a vector named like labels (or
/// `y`). Labels of the wrong length are chosen too (and refused by `assemble`), except text
/// arrays of another length, which are state names.
fn may_label(e: &Entry, frames: usize) -> bool {
    (has(&e.path, LABEL_WORDS) || e.path.rsplit(['/', '.']).next() == Some("y"))
        && e.array.vector_len().is_some()
        && (e.array.is_numeric() || e.array.vector_len() == Some(frames))
}

/// Whether an array could be per-frame states: whole numbers (missing ones allowed) or text.
fn categorical(array: &Array) -> bool {
    match array {
        Array::Float { data, .. } => data.iter().all(|v| v.is_nan() || v.fract() == 0.0),
        _ => true,
    }
}

/// Whether an array holds at least two different values (missing ones not counted); an array
/// listed by its shape only is taken to.
fn varies(array: &Array) -> bool {
    match array {
        Array::Float { data, .. } => {
            let mut seen = data.iter().filter(|v| !v.is_nan());
            seen.next().is_some_and(|first| seen.any(|v| v != first))
        }
        Array::Int { data, .. } => data.first().is_some_and(|first| data.iter().any(|v| v != first)),
        Array::Text { data, .. } => {
            let mut seen = data.iter().filter(|s| !s.trim().is_empty());
            seen.next().is_some_and(|first| seen.any(|s| s != first))
        }
        Array::Unread { .. } => true,
    }
}

/// What else in the file could have been the traces or the labels `choice` picked: other 2-D
/// numeric arrays of the traces' shape, other per-frame label arrays of whole numbers or text
/// that vary, and the per-frame arrays under a label's name that were not taken, with why (all
/// missing, one value only, fractional). A recording's source names them, so a guess is never
/// silently one of several.
pub fn alternatives(inv: &Inventory, choice: &Choice) -> Vec<String> {
    let Ok(traces) = inv.get(&choice.traces) else { return Vec::new() };
    let shape = traces.shape().to_vec();
    let Some(&frames) = (if choice.neurons_on_rows { shape.get(1) } else { shape.first() }) else { return Vec::new() };
    let mut said = Vec::new();
    let other_traces: Vec<&str> = inv.entries.iter().filter(|e| e.path != choice.traces && e.array.is_numeric() && e.array.shape() == shape.as_slice()).map(|e| e.path.as_str()).collect();
    if !other_traces.is_empty() {
        said.push(format!("other traces of that shape: {}", other_traces.join(", ")));
    }
    let per_frame = || inv.entries.iter().filter(|e| Some(&e.path) != choice.labels.as_ref() && may_label(e, frames) && e.array.vector_len() == Some(frames));
    let other_labels: Vec<&str> = per_frame().filter(|e| categorical(&e.array) && varies(&e.array)).map(|e| e.path.as_str()).collect();
    if !other_labels.is_empty() {
        said.push(format!("other labels: {}", other_labels.join(", ")));
    }
    let refused: Vec<String> = per_frame()
        .filter(|e| e.array.is_numeric())
        .filter_map(|e| {
            let why = match &e.array {
                Array::Float { data, .. } if data.iter().all(|v| v.is_nan()) => "all missing",
                array if !varies(array) => "one value only",
                array if !categorical(array) => "fractional",
                _ => return None,
            };
            Some(format!("{} ({why})", e.path))
        })
        .collect();
    if !refused.is_empty() {
        said.push(format!("labels not used: {}", refused.join(", ")));
    }
    said
}

/// Builds the recording `choice` describes, checking that the chosen arrays fit together.
pub fn assemble(inv: &Inventory, choice: &Choice) -> Result<Recording, FormatError> {
    let file = inv.file.as_str();
    let err = |m: String| FormatError::invalid(file, m);
    let traces = inv.get(&choice.traces)?;
    if let Some(path) = inv.unread_in(choice).first() {
        return Err(err(format!("'{path}' is listed by its shape only: its values must be read from the file first")));
    }
    let (Some(values), [rows, cols]) = (traces.numeric(), traces.shape()) else {
        return Err(err(format!("traces '{}' are {}, expected a 2-D numeric array", choice.traces, traces.describe())));
    };
    let axis = if choice.neurons_on_rows { *rows } else { *cols };
    let (frames, neurons, traces_rm) = frames_by_neurons(&values, *rows, *cols, Some(axis));
    debug_assert_eq!(neurons, axis);

    let neuron_names = match &choice.names {
        None => vec![None; neurons],
        Some(path) => match inv.get(path)? {
            Array::Text { data, .. } if data.len() == neurons => data.iter().map(|s| names::normalize(s)).collect(),
            other => return Err(err(format!("names '{path}' are {}, expected text for {neurons} neurons", other.describe()))),
        },
    };
    let labels = match &choice.labels {
        None => None,
        Some(path) => {
            let array = inv.get(path)?;
            if array.len() != frames {
                return Err(err(format!("labels '{path}' have {} entries but the traces have {frames} frames", array.len())));
            }
            Some(match array {
                Array::Text { data, .. } => labels_from_names(data),
                Array::Int { data, .. } => integer_labels(inv, path, data, choice.state_names.as_deref())?,
                // MATLAB stores indices as doubles; whole numbers (or NaN = unlabelled) are fine
                Array::Float { data, .. } => match data.iter().map(|&v| whole(v)).collect::<Option<Vec<i64>>>() {
                    Some(ints) => integer_labels(inv, path, &ints, choice.state_names.as_deref())?,
                    None => return Err(err(format!("labels '{path}' are fractional numbers, expected integers or text"))),
                },
                Array::Unread { .. } => return Err(err(format!("labels '{path}' were not read"))),
            })
        }
    };
    let (fps, fps_note) = rate_or_default(choice.fps);
    let several = inv.entries.iter().filter(|e| e.array.is_numeric() && e.array.shape().len() == 2).count() > 1;
    Ok(Recording {
        name: if several { format!("{} {}", stem(file), choice.traces) } else { stem(file) },
        source: format!("{file} ({} '{}'{}{fps_note})", inv.format, choice.traces, used_paths(choice)),
        frames,
        neurons,
        traces: traces_rm,
        neuron_names,
        fps,
        labels,
    })
}

/// The names and labels arrays a recording was built from, for its source.
fn used_paths(choice: &Choice) -> String {
    let mut out = String::new();
    for (what, path) in [("names", &choice.names), ("labels", &choice.labels), ("state names", &choice.state_names)] {
        if let Some(path) = path {
            out.push_str(&format!(", {what} '{path}'"));
        }
    }
    out
}

/// A label index stored as a float: whole numbers, and NaN as -1 (unlabelled).
fn whole(v: f64) -> Option<i64> {
    if v.is_nan() {
        Some(-1)
    } else {
        (v.fract() == 0.0 && v.abs() < 1e9).then_some(v as i64)
    }
}

/// Integer labels: indices into `state_names` when given (negative or out of range =
/// unlabelled), else each distinct non-negative value is a state named by its number, except a
/// 0/1 event vector, whose states are named after it (`behavior/reversal_vec`: "no reversal",
/// "reversal").
fn integer_labels(inv: &Inventory, path: &str, data: &[i64], state_names: Option<&str>) -> Result<Labels, FormatError> {
    if state_names.is_none() && data.iter().all(|&v| v == 0 || v == 1 || v < 0) {
        let event = path.rsplit(['/', '.']).next().unwrap_or(path);
        let event = ["_vec", "_vector", "_mask", "_events", "_event", "_labels", "_label"].iter().fold(event, |e, s| e.strip_suffix(s).unwrap_or(e));
        if !event.is_empty() && !has(event, LABEL_WORDS) && event != "y" {
            let per_frame = data.iter().map(|&v| (v >= 0).then_some(v as u16)).collect();
            return Ok(Labels { names: vec![format!("no {event}"), event.to_string()], per_frame });
        }
    }
    let names: Vec<String> = match state_names {
        Some(path) => match inv.get(path)? {
            Array::Text { data, .. } => data.clone(),
            other => return Err(FormatError::invalid(&inv.file, format!("state names '{path}' are {}, expected text", other.describe()))),
        },
        None => {
            let max = data.iter().copied().filter(|&v| v >= 0).max().unwrap_or(-1);
            if max > u16::MAX as i64 {
                return Err(FormatError::invalid(&inv.file, format!("label value {max} is too large for a state index")));
            }
            (0..=max).map(|v| format!("state {v}")).collect()
        }
    };
    let per_frame = data.iter().map(|&i| (i >= 0 && (i as usize) < names.len()).then_some(i as u16)).collect();
    Ok(Labels { names, per_frame })
}

/// MATLAB variables as named arrays: struct fields as `a.b`, struct array elements as `a(k)`,
/// cells as `a{k}` (1-based, as MATLAB writes them). A cell of strings is one text array, and a
/// struct of 0/1 vectors (Kato's `States`) is one per-frame text array of state names.
pub fn from_matlab(variables: &[(String, MatValue)]) -> Vec<Entry> {
    let mut out = Vec::new();
    for (name, value) in variables {
        flatten(name.clone(), value, &mut out);
    }
    out
}

fn flatten(path: String, value: &MatValue, out: &mut Vec<Entry>) {
    match value {
        MatValue::Numeric { dims, data } => out.push(Entry { path, array: matlab_numeric(dims, data) }),
        MatValue::Char { rows } => out.push(Entry { path, array: Array::Text { shape: vec![rows.len()], data: rows.clone() } }),
        MatValue::Cell { items, .. } => match items.iter().map(cell_text).collect::<Option<Vec<_>>>() {
            Some(texts) if !texts.is_empty() => out.push(Entry { path, array: Array::Text { shape: vec![texts.len()], data: texts } }),
            _ => {
                for (k, item) in items.iter().enumerate() {
                    flatten(format!("{path}{{{}}}", k + 1), item, out);
                }
            }
        },
        MatValue::Struct { fields, items, .. } => {
            if let [only] = &items[..]
                && let Some(states) = one_hot_states(fields, only)
            {
                out.push(Entry { path, array: states });
                return;
            }
            for (k, item) in items.iter().enumerate() {
                let at = if items.len() == 1 { path.clone() } else { format!("{path}({})", k + 1) };
                for (field, v) in fields.iter().zip(item) {
                    flatten(format!("{at}.{field}"), v, out);
                }
            }
        }
        MatValue::Unsupported(_) => {}
    }
}

/// MATLAB's column-major `dims` as a row-major array of the same shape (vectors as 1-D).
fn matlab_numeric(dims: &[usize], data: &[f64]) -> Array {
    match dims {
        [1, n] | [n, 1] => Array::Float { shape: vec![*n], data: data.to_vec() },
        [r, c] => Array::Float { shape: vec![*r, *c], data: transposed(data, *c, *r).collect() },
        _ => Array::Float { shape: dims.iter().rev().copied().collect(), data: data.to_vec() },
    }
}

/// A cell entry as text: a string, an empty array (""), or a number written out (Kato's
/// unidentified neurons are numbered).
fn cell_text(item: &MatValue) -> Option<String> {
    match item {
        MatValue::Numeric { data, .. } if data.is_empty() => Some(String::new()),
        MatValue::Numeric { data, .. } if data.len() == 1 => Some(data[0].to_string()),
        MatValue::Cell { items, .. } if items.len() == 1 => cell_text(&items[0]),
        other => other.text(),
    }
}

/// A struct whose fields are equally long 0/1 vectors, as per-frame state names ("" = none).
fn one_hot_states(fields: &[String], values: &[MatValue]) -> Option<Array> {
    let vectors: Vec<&[f64]> = values
        .iter()
        .map(|v| match v {
            MatValue::Numeric { data, .. } if data.iter().all(|&x| x == 0.0 || x == 1.0) => Some(data.as_slice()),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let frames = vectors.first()?.len();
    if frames < 2 || vectors.iter().any(|v| v.len() != frames) {
        return None;
    }
    let data = (0..frames)
        .map(|t| vectors.iter().rposition(|v| v[t] != 0.0).map_or_else(String::new, |s| fields[s].clone()))
        .collect();
    Some(Array::Text { shape: vec![frames], data })
}

/// A recording already read, as an inventory (CSV files, whose columns are read by name).
pub fn from_recording(file: &str, format: &str, rec: &Recording) -> Inventory {
    let mut entries = vec![
        Entry { path: "neuron columns".into(), array: Array::Float { shape: vec![rec.frames, rec.neurons], data: rec.traces.iter().map(|&v| f64::from(v)).collect() } },
        Entry {
            path: "neuron names in the header".into(),
            array: Array::Text { shape: vec![rec.neurons], data: rec.neuron_names.iter().map(|n| n.clone().unwrap_or_default()).collect() },
        },
        Entry { path: "frame rate".into(), array: Array::Float { shape: vec![], data: vec![f64::from(rec.fps)] } },
    ];
    if let Some(l) = &rec.labels {
        let data = l.per_frame.iter().map(|s| s.map(|s| l.names[s as usize].clone()).unwrap_or_default()).collect();
        entries.push(Entry { path: "state labels".into(), array: Array::Text { shape: vec![rec.frames], data } });
    }
    Inventory::new(file, format, entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn float(path: &str, shape: &[usize]) -> Entry {
        let n = shape.iter().product::<usize>();
        Entry { path: path.into(), array: Array::Float { shape: shape.to_vec(), data: (0..n).map(|v| v as f64).collect() } }
    }
    fn text(path: &str, items: &[&str]) -> Entry {
        Entry { path: path.into(), array: Array::Text { shape: vec![items.len()], data: items.iter().map(|s| s.to_string()).collect() } }
    }

    /// The Flavell lab's `<uid>-data.h5` groups, listed in the order HDF5.jl may keep them
    /// (creation order, not alphabetical): the raw and F/F20 copies before the processed
    /// traces, an all-NaN `pumping` and a fractional `velocity` before `reversal_vec`.
    #[test]
    fn processed_traces_and_varying_whole_labels_are_picked_in_any_order() {
        let (t, n) = (40, 6);
        let frames = |path: &str, f: &dyn Fn(usize) -> f64| Entry { path: path.into(), array: Array::Float { shape: vec![t], data: (0..t).map(f).collect() } };
        let mut entries = vec![
            float("gcamp/trace_array_original", &[t, n]),
            float("gcamp/traces_array_F_F20", &[t, n]),
            float("gcamp/trace_array", &[t, n]),
            float("behavior/body_angle", &[t, 30]),
            frames("behavior/pumping", &|_| f64::NAN),
            frames("behavior/velocity", &|i| (i as f64 * 0.3).sin() * 0.05),
            frames("behavior/reversal_vec", &|i| f64::from(u8::from(i % 10 < 3))),
            Entry { path: "behavior/reversal_events".into(), array: Array::Int { shape: vec![2, 4], data: vec![3, 13, 23, 33, 4, 14, 24, 34] } },
            frames("timing/timestamp_confocal", &|i| i as f64 * 0.6),
        ];
        for order in 0..2 {
            if order == 1 {
                entries.reverse();
            }
            let inv = Inventory::new("dag.h5", "HDF5", entries.clone());
            let choice = guess(&inv).unwrap();
            assert_eq!((choice.traces.as_str(), choice.labels.as_deref()), ("gcamp/trace_array", Some("behavior/reversal_vec")), "order {order}");
            assert!((choice.fps.unwrap() - 1.0 / 0.6).abs() < 1e-4);
            let said = alternatives(&inv, &choice).join("; ");
            assert!(said.contains("gcamp/trace_array_original") && said.contains("gcamp/traces_array_F_F20"), "{said}");
            assert!(said.contains("labels not used: ") && said.contains("behavior/pumping (all missing)") && said.contains("behavior/velocity (fractional)"), "{said}");
        }
        // a constant state array labels nothing either
        let flat = vec![float("traces", &[t, n]), frames("states", &|_| 2.0)];
        assert_eq!(guess(&Inventory::new("flat.npz", "NPZ", flat)).unwrap().labels, None);
    }

    #[test]
    fn the_guess_pairs_arrays_of_the_same_animal() {
        let inv = Inventory::new(
            "w.mat",
            "MATLAB",
            vec![
                float("d.deltaFOverF_bc{1}", &[4, 2]),
                float("d.deltaFOverF_bc{2}", &[5, 3]),
                float("d.deltaFOverF_deriv{2}", &[5, 3]),
                text("d.NeuronNames{1}", &["AVAL", "AVAR"]),
                text("d.NeuronNames{2}", &["AVAL", "RIML", "7"]),
                text("d.States{2}", &["FWD", "FWD", "", "REV1", "REV1"]),
                float("d.fps{2}", &[]),
            ],
        );
        let mut inv = inv;
        inv.entries.last_mut().unwrap().array = Array::Float { shape: vec![], data: vec![2.9] };
        let c = guess(&inv).unwrap();
        assert_eq!(c.traces, "d.deltaFOverF_bc{2}");
        assert_eq!(c.names.as_deref(), Some("d.NeuronNames{2}"));
        assert_eq!(c.labels.as_deref(), Some("d.States{2}"));
        assert!(!c.neurons_on_rows);
        assert_eq!(c.fps, Some(2.9));
        let r = assemble(&inv, &c).unwrap();
        assert_eq!((r.frames, r.neurons, r.fps), (5, 3, 2.9));
        assert_eq!(r.neuron_names[2], None);
        assert_eq!(r.labels.unwrap().names, ["FWD", "REV1"]);
    }

    #[test]
    fn a_corrected_choice_is_checked() {
        let mut frac = float("/score", &[10]);
        frac.array = Array::Float { shape: vec![10], data: vec![0.5; 10] };
        let inv = Inventory::new("x.h5", "HDF5", vec![float("/a", &[3, 10]), text("/ids", &["A", "B"]), float("/t", &[10]), frac]);
        let mut c = guess(&inv).unwrap();
        // the names fit neither axis: still proposed, so that the mismatch is reported
        assert!(c.neurons_on_rows && c.names.as_deref() == Some("/ids"));
        let err = assemble(&inv, &c).unwrap_err().to_string();
        assert!(err.contains("names '/ids'") && err.contains("3 neurons"), "{err}");
        c.names = None;
        c.labels = Some("/score".into());
        assert!(assemble(&inv, &c).unwrap_err().to_string().contains("fractional"));
        c.labels = Some("/t".into()); // whole numbers stored as floats are state indices
        assert_eq!(assemble(&inv, &c).unwrap().labels.unwrap().names.len(), 10);
        c.labels = Some("/missing".into());
        assert!(assemble(&inv, &c).unwrap_err().to_string().contains("no array '/missing'"));
    }

    #[test]
    fn matlab_values_flatten_to_named_arrays() {
        let states = MatValue::Struct {
            dims: vec![1, 1],
            fields: vec!["FWD".into(), "REV".into()],
            items: vec![vec![
                MatValue::Numeric { dims: vec![1, 3], data: vec![1.0, 0.0, 0.0] },
                MatValue::Numeric { dims: vec![1, 3], data: vec![0.0, 0.0, 1.0] },
            ]],
        };
        let names = MatValue::Cell {
            dims: vec![1, 2],
            items: vec![MatValue::Char { rows: vec!["AVAL".into()] }, MatValue::Numeric { dims: vec![1, 1], data: vec![7.0] }],
        };
        let traces = MatValue::Numeric { dims: vec![3, 2], data: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0] };
        let worm = MatValue::Struct {
            dims: vec![1, 1],
            fields: vec!["traces".into(), "names".into(), "States".into()],
            items: vec![vec![traces, names, states]],
        };
        let entries = from_matlab(&[("worm".into(), worm)]);
        let paths: Vec<&str> = entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["worm.traces", "worm.names", "worm.States"]);
        assert_eq!(entries[0].array, Array::Float { shape: vec![3, 2], data: vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0] });
        assert_eq!(entries[1].array, Array::Text { shape: vec![2], data: vec!["AVAL".into(), "7".into()] });
        assert_eq!(entries[2].array, Array::Text { shape: vec![3], data: vec!["FWD".into(), "".into(), "REV".into()] });
    }
}
