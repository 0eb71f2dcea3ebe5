//! HDF5 files: MATLAB v7.3 (`save -v7.3`) and NWB 2, read with the pure-Rust `hdf5-pure`.
//!
//! Owns the mapping from those two layouts onto [`Recording`]s; `hdf5-pure` only parses HDF5.
//! What it leaves to us, and why this reader does it by hand:
//! - MATLAB has no typed tree in HDF5: variables are groups (structs) or datasets tagged with a
//!   `MATLAB_class` attribute, and cells are arrays of object references into `#refs#`, so the
//!   reader walks classes and dereferences cells itself.
//! - MATLAB chars are `uint16` UTF-16 code units (`read_u16` + `String::from_utf16`).
//! - MATLAB is column-major, so a frames × neurons matrix reads back as HDF5 `[neurons, frames]`:
//!   the neuron names (or, without names, the longer axis being time) decide the transposition.
//! - The file is read by offset ([`FileBytes`]): walking it reads metadata, and a dataset's
//!   bytes are read only when it is read (within the budget).
//!
//! MATLAB: the file becomes the same [`MatValue`] tree a v5 file gives, and
//! [`matlab::recordings_from_variables`] finds the recordings in it (one set of layout rules).
//! NWB: [`super::nwb`] finds the activity, names and behaviour with these helpers.

use std::collections::HashMap;

use hdf5_pure::{AttrValue, DType, Dataset, File, Group, Object, VlenStringReadOptions};

use super::budget::{Budget, product};
use super::inventory::{self, Array, Choice, Entry as InvEntry, Inventory};
use super::matlab::MatValue;
use super::{FileBytes, FormatError, Parsed};
use crate::data::Recording;

/// The file being read: its name (for messages) and what it may still decode.
pub(super) struct Src<'a> {
    name: &'a str,
    pub(super) budget: &'a Budget,
}

impl std::ops::Deref for Src<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        self.name
    }
}

impl std::fmt::Display for Src<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl Src<'_> {
    /// Charges one visited object; the walk stops when the file links too many.
    pub(super) fn visit(&self, at: &str) -> Result<(), FormatError> {
        self.budget.object(|| format!("visiting {at}")).map_err(|e| FormatError::over(self.name, e))
    }
}
/// How messages name the root group.
pub(super) const TOP: &str = "the top level";


/// Which layout an HDF5 file follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    Matlab,
    Nwb,
    /// Any other HDF5 file: its datasets are listed and guessed like an NPZ's arrays.
    Plain,
}

/// Opens the file for reads by offset: its metadata is read as it is walked, and a dataset's
/// bytes only when that dataset is read.
fn open(file: &Src<'_>, input: &FileBytes) -> Result<(File, Layout), FormatError> {
    let h5 = File::from_source(input.hdf5_source())
        .map_err(|e| FormatError::invalid(file, format!("not a readable HDF5 file: {e}")))?;
    let matlab_header = input.head(10).is_ok_and(|h| h.starts_with(b"MATLAB 7.3"));
    let root = h5.root();
    let (datasets, groups) = members(file, &root, TOP)?;
    let tagged = |name: &String, group: bool| {
        let attrs = if group { root.group(name).and_then(|g| g.attrs()) } else { root.dataset(name).and_then(|d| d.attrs()) };
        attrs.is_ok_and(|a| a.contains_key("MATLAB_class"))
    };
    let layout = if matlab_header || groups.iter().any(|n| tagged(n, true)) || datasets.iter().any(|n| tagged(n, false)) {
        Layout::Matlab
    } else if groups.iter().any(|g| g == "processing" || g == "acquisition") || root.attrs().is_ok_and(|a| a.contains_key("nwb_version")) {
        Layout::Nwb
    } else {
        Layout::Plain
    };
    Ok((h5, layout))
}

/// Reads a MATLAB v7.3, NWB 2 or plain HDF5 file once, within `budget`: its recordings and the
/// listing of its arrays (MATLAB variables flattened, or every dataset and numeric attribute;
/// large datasets by their shape only). With `pick`, the recording is built from the picked
/// arrays instead of the layout's rules or the guess, reading only those.
/// hdf5-pure gives no object addresses to remember visits by, so walks are bounded by the
/// budget's count of objects (and by depth) instead.
pub(crate) fn read(file: &str, input: &FileBytes, budget: &Budget, pick: Option<&Choice>) -> Result<Parsed, FormatError> {
    let file = &Src { name: file, budget };
    let (h5, layout) = open(file, input)?;
    let build = |inv: &Inventory, choice: &Choice| assemble_reading(file, &h5, inv, choice);
    let mut parsed = match (layout, pick) {
        (Layout::Matlab, _) => Parsed::matlab(file, "MATLAB v7.3", &mat73_variables(file, &h5)?),
        (Layout::Nwb, None) => Parsed { recordings: super::nwb::read(file, &h5), inventory: Inventory { format: "NWB".into(), ..plain_inventory(file, &h5)? } },
        (Layout::Nwb, Some(_)) => Parsed { recordings: Ok(Vec::new()), inventory: Inventory { format: "NWB".into(), ..plain_inventory(file, &h5)? } },
        (Layout::Plain, None) => Parsed::guessed(plain_inventory(file, &h5)?, build),
        (Layout::Plain, Some(_)) => Parsed { recordings: Ok(Vec::new()), inventory: plain_inventory(file, &h5)? },
    };
    if let Some(choice) = pick {
        parsed.recordings = build(&parsed.inventory, choice).map(|r| vec![r]);
    }
    if parsed.recordings.as_ref().is_ok_and(Vec::is_empty) {
        parsed.recordings = Err(FormatError::invalid(file, "the file holds no recordings (an empty cell of animals)"));
    }
    Ok(parsed)
}

/// Deepest group level listed in a plain HDF5 file.
const MAX_LISTING_DEPTH: usize = 8;

fn plain_inventory(file: &Src<'_>, h5: &File) -> Result<Inventory, FormatError> {
    let mut entries = Vec::new();
    let mut left_out = Vec::new();
    list_group(file, &h5.root(), "", 0, &mut entries, &mut left_out)?;
    Ok(Inventory { left_out, ..Inventory::new(file, "HDF5", entries) })
}

/// Numeric and text datasets under `group`, plus numeric scalar attributes as `path@name`
/// (NWB keeps the frame rate in one). Groups hdf5-pure cannot list are probed for the names
/// NWB files use. Datasets of other types (references, compounds) are left out of the listing;
/// large numeric ones (a raw imaging volume, the traces) are listed by their shape only, and
/// datasets over the budget are left out and named in `left_out`.
fn list_group(file: &Src<'_>, group: &Group, at: &str, depth: usize, out: &mut Vec<InvEntry>, left_out: &mut Vec<String>) -> Result<(), FormatError> {
    let (datasets, groups) = super::nwb::members_or_probed(file, group, at);
    let scalar_attrs = |attrs: HashMap<String, AttrValue>, path: &str, out: &mut Vec<InvEntry>| {
        let mut named: Vec<_> = attrs.into_iter().filter_map(|(k, v)| v.as_f64().or_else(|| v.as_i64().map(|i| i as f64)).map(|x| (k, x))).collect();
        named.sort_by(|a, b| a.0.cmp(&b.0));
        for (k, x) in named {
            out.push(InvEntry { path: format!("{path}@{k}"), array: Array::Float { shape: vec![], data: vec![x] } });
        }
    };
    for name in datasets {
        let path = format!("{at}/{name}");
        file.visit(&path)?;
        let Ok(ds) = group.dataset(&name) else { continue };
        let array = match ds.dtype() {
            Ok(DType::String | DType::VariableLengthString) => read_strings(file, &ds, &path).map(|data| Array::Text { shape: vec![data.len()], data }),
            Ok(DType::ObjectReference) | Err(_) => continue,
            Ok(dtype) => match shape_of(file, &ds, &path) {
                // large arrays are read when a recording is built from them
                Ok((shape, count)) if Array::listed_by_shape(&shape, count) => Ok(Array::Unread { shape, integer: is_integer(&dtype) }),
                Ok(_) => numeric_array(file, &ds, &path),
                Err(e) => Err(e),
            },
        };
        match array {
            Ok(array) => out.push(InvEntry { path: path.clone(), array }),
            Err(FormatError::OverBudget { source, .. }) => left_out.push(source.to_string()),
            Err(_) => {}
        }
        scalar_attrs(ds.attrs().unwrap_or_default(), &path, out);
    }
    if depth < MAX_LISTING_DEPTH {
        for name in groups {
            let path = format!("{at}/{name}");
            file.visit(&path)?;
            if let Ok(g) = group.group(&name) {
                scalar_attrs(g.attrs().unwrap_or_default(), &path, out);
                list_group(file, &g, &path, depth + 1, out, left_out)?;
            }
        }
    }
    Ok(())
}

fn is_integer(dtype: &DType) -> bool {
    matches!(dtype, DType::I8 | DType::I16 | DType::I32 | DType::I64 | DType::U8 | DType::U16 | DType::U32 | DType::U64)
}

/// A numeric dataset's values, as integers or floats as stored.
fn numeric_array(file: &Src<'_>, ds: &Dataset, at: &str) -> Result<Array, FormatError> {
    let (shape, data) = read_numeric(file, ds, at)?;
    Ok(match ds.dtype() {
        Ok(dtype) if is_integer(&dtype) => Array::Int { shape, data: data.into_iter().map(|v| v as i64).collect() },
        _ => Array::Float { shape, data },
    })
}

/// The recording `choice` describes, reading from the file the chosen arrays that the listing
/// keeps by their shape only.
fn assemble_reading(file: &Src<'_>, h5: &File, inv: &Inventory, choice: &Choice) -> Result<Recording, FormatError> {
    let unread = inv.unread_in(choice);
    if unread.is_empty() {
        return inventory::assemble(inv, choice);
    }
    let mut filled = inv.clone();
    for path in unread {
        file.visit(&path)?;
        let ds = h5.dataset(&path).within(file, &path)?;
        filled.fill(&path, numeric_array(file, &ds, &path)?);
    }
    inventory::assemble(&filled, choice)
}

/// Adds the file and the place being read to an `hdf5-pure` error.
pub(super) trait Within<T> {
    fn within<D: std::fmt::Display>(self, file: &str, at: D) -> Result<T, FormatError>;
}

impl<T> Within<T> for Result<T, hdf5_pure::Error> {
    fn within<D: std::fmt::Display>(self, file: &str, at: D) -> Result<T, FormatError> {
        self.map_err(|e| FormatError::invalid(file, format!("{at}: {e}")))
    }
}

/// A group or a dataset, reached by name or through a reference.
#[derive(Clone)]
enum Node {
    Group(Group),
    Dataset(Dataset),
}

impl Node {
    fn from_object(object: Object) -> Option<Node> {
        match object {
            Object::Group(g) => Some(Node::Group(g)),
            Object::Dataset(d) => Some(Node::Dataset(*d)),
            _ => None,
        }
    }
}

pub(super) fn members(file: &Src<'_>, group: &Group, at: &str) -> Result<(Vec<String>, Vec<String>), FormatError> {
    Ok((group.datasets().within(file, at)?, group.groups().within(file, at)?))
}

fn class(attrs: &HashMap<String, AttrValue>) -> Option<&str> {
    attrs.get("MATLAB_class").and_then(AttrValue::as_str).map(|c| c.trim_end_matches('\0'))
}

/// MATLAB writes an empty array as its dimensions, flagged `MATLAB_empty`.
fn matlab_empty(attrs: &HashMap<String, AttrValue>) -> bool {
    attrs.get("MATLAB_empty").and_then(AttrValue::as_i64).is_some_and(|e| e != 0)
}

pub(super) fn attr_f64(attrs: &HashMap<String, AttrValue>, name: &str) -> Option<f64> {
    let value = attrs.get(name)?;
    value.as_f64().or_else(|| value.as_i64().map(|i| i as f64))
}

fn is_refs(ds: &Dataset) -> bool {
    matches!(ds.dtype(), Ok(DType::ObjectReference))
}

/// The dimensions of `ds` and their product, refusing shapes that overflow before anything is
/// read (callers charge the budget for what they read).
fn shape_of(file: &Src<'_>, ds: &Dataset, at: &str) -> Result<(Vec<usize>, usize), FormatError> {
    let shape = ds.shape().within(file, at)?;
    let too_big = || FormatError::invalid(file, format!("{at}: shape {shape:?} overflows"));
    let dims = shape.iter().map(|&d| usize::try_from(d).map_err(|_| too_big())).collect::<Result<Vec<_>, _>>()?;
    let count = product(shape.iter().copied()).and_then(|c| usize::try_from(c).ok()).ok_or_else(too_big)?;
    Ok((dims, count))
}

/// The dimensions and value count of a numeric dataset about to be read, refused when it is not
/// numeric or over the budget (which is charged for it).
fn numeric_to_read(file: &Src<'_>, ds: &Dataset, at: &str) -> Result<(Vec<usize>, usize), FormatError> {
    let (dims, count) = shape_of(file, ds, at)?;
    match ds.dtype().within(file, at)? {
        DType::F32 | DType::F64 => {}
        other if is_integer(&other) => {}
        other => return Err(FormatError::invalid(file, format!("{at} holds {other} values, expected numbers"))),
    }
    file.budget.values(count as u64, || format!("{at} (shape {dims:?})")).map_err(|e| FormatError::over(file, e))?;
    Ok((dims, count))
}

/// A numeric dataset's dimensions and values (an empty MATLAB array reads as no values).
pub(super) fn read_numeric(file: &Src<'_>, ds: &Dataset, at: &str) -> Result<(Vec<usize>, Vec<f64>), FormatError> {
    shape_of(file, ds, at)?; // a shape that overflows is refused, also for an empty array
    if matlab_empty(&ds.attrs().within(file, at)?) {
        return Ok((vec![0], Vec::new()));
    }
    let (dims, count) = numeric_to_read(file, ds, at)?;
    let values = ds.read_f64().within(file, at)?;
    if values.len() != count {
        return Err(FormatError::invalid(file, format!("{at}: shape {dims:?} declares {count} values, but {} were read", values.len())));
    }
    Ok((dims, values))
}

/// Values decoded per read of [`read_numeric_f32`] (1 MB as f64).
const ROWS_READ_VALUES: usize = 1 << 17;

/// A numeric dataset's dimensions and values as `f32`, each mapped by `map` first (in `f64`),
/// read a block of rows at a time: the memory beside the result is one block, not a `f64` copy
/// of the dataset (traces stored as f64 would otherwise cost three times their f32 size).
pub(super) fn read_numeric_f32(file: &Src<'_>, ds: &Dataset, at: &str, map: impl Fn(f64) -> f64) -> Result<(Vec<usize>, Vec<f32>), FormatError> {
    let (dims, count) = numeric_to_read(file, ds, at)?;
    let rows = dims.first().copied().unwrap_or(1);
    let row_len = dims.iter().skip(1).product::<usize>().max(1);
    let block = (ROWS_READ_VALUES / row_len).max(1);
    let mut values = Vec::new();
    values.try_reserve_exact(count).map_err(|_| FormatError::invalid(file, format!("{at}: no memory for {count} values")))?;
    let mut start = 0;
    while start < rows {
        let n = block.min(rows - start);
        let part = ds.read_f64_rows(start as u64, n as u64).within(file, at)?;
        values.extend(part.into_iter().map(|v| map(v) as f32));
        start += n;
    }
    if values.len() != count {
        return Err(FormatError::invalid(file, format!("{at}: shape {dims:?} declares {count} values, but {} were read", values.len())));
    }
    Ok((dims, values))
}

/// A string dataset (fixed-length or variable-length), within the size limits.
pub(super) fn read_strings(file: &Src<'_>, ds: &Dataset, at: &str) -> Result<Vec<String>, FormatError> {
    let (_, count) = shape_of(file, ds, at)?;
    let over = |e| FormatError::over(file, e);
    file.budget.values(count as u64, || format!("{at} ({count} strings)")).map_err(over)?;
    let text_left = usize::try_from(file.budget.text_left()).unwrap_or(usize::MAX);
    let strings = match ds.dtype().within(file, at)? {
        DType::VariableLengthString => ds.read_vlen_strings(VlenStringReadOptions::new().with_max_elements(count).with_max_payload_bytes(text_left)),
        DType::String => {
            let width = ds.element_size().within(file, at)?;
            file.budget.text(width.saturating_mul(count as u64), || format!("{at} ({count} strings of {width} bytes)")).map_err(over)?;
            ds.read_string()
        }
        other => return Err(FormatError::invalid(file, format!("{at} holds {other} values, expected text"))),
    };
    let strings = strings.within(file, at)?;
    if matches!(ds.dtype(), Ok(DType::VariableLengthString)) {
        file.budget.text(strings.iter().map(|s| s.len() as u64).sum(), || format!("{at} ({count} strings)")).map_err(over)?;
    }
    Ok(strings)
}

/// The objects a MATLAB cell (object references into `#refs#`) points at, in MATLAB's
/// column-major order.
fn deref(file: &Src<'_>, ds: &Dataset, at: &str) -> Result<Vec<Node>, FormatError> {
    let (_, count) = shape_of(file, ds, at)?;
    for i in 0..count {
        file.visit(&format!("{at}{{{}}}", i + 1))?;
    }
    ds.dereference()
        .within(file, at)?
        .into_iter()
        .enumerate()
        .map(|(i, o)| {
            Node::from_object(o)
                .ok_or_else(|| FormatError::invalid(file, format!("{at}{{{}}} refers to neither a group nor a dataset", i + 1)))
        })
        .collect()
}


// ---------------------------------------------------------------------------------------------
// MATLAB v7.3

/// Deepest nesting of cells/structs followed (real files use a handful of levels).
const MAX_NESTING: usize = 16;

/// Every top-level variable, as MATLAB values; [`matlab::recordings_from_variables`] then applies
/// the same layout rules as for v5 files.
fn mat73_variables(file: &Src<'_>, h5: &File) -> Result<Vec<(String, MatValue)>, FormatError> {
    let mut variables = Vec::new();
    for (name, node) in children(file, &h5.root(), TOP)? {
        if !name.starts_with('#') {
            let value = to_mat_value(file, &node, &name, 0)?;
            variables.push((name, value));
        }
    }
    Ok(variables)
}

/// The groups and datasets directly in `group` (at `at`, for messages), groups first.
fn children(file: &Src<'_>, group: &Group, at: &str) -> Result<Vec<(String, Node)>, FormatError> {
    let (datasets, groups) = members(file, group, at)?;
    let place = |name: &str| if at == TOP { name.to_string() } else { format!("{at}.{name}") };
    let mut out = Vec::with_capacity(datasets.len() + groups.len());
    for name in groups.iter().chain(&datasets) {
        file.visit(&place(name))?;
    }
    for name in groups {
        let node = Node::Group(group.group(&name).within(file, place(&name))?);
        out.push((name, node));
    }
    for name in datasets {
        let node = Node::Dataset(group.dataset(&name).within(file, place(&name))?);
        out.push((name, node));
    }
    Ok(out)
}

/// A MATLAB v7.3 object as a [`MatValue`]: groups are structs, reference arrays are cells,
/// `char` datasets are text, everything else numbers. HDF5 stores MATLAB's column-major
/// `[rows, cols]` as `[cols, rows]`, so the dimensions are reversed and the data kept as read.
fn to_mat_value(file: &Src<'_>, node: &Node, at: &str, depth: usize) -> Result<MatValue, FormatError> {
    if depth > MAX_NESTING {
        return Err(FormatError::invalid(file, format!("{at}: nested deeper than {MAX_NESTING} levels")));
    }
    match node {
        Node::Group(group) => {
            let mut fields = Vec::new();
            let mut values = Vec::new();
            for (name, child) in children(file, group, at)? {
                values.push(to_mat_value(file, &child, &format!("{at}.{name}"), depth + 1)?);
                fields.push(name);
            }
            Ok(MatValue::Struct { dims: vec![1, 1], fields, items: vec![values] })
        }
        Node::Dataset(ds) => {
            let reversed = |mut d: Vec<usize>| {
                d.reverse();
                d
            };
            if is_refs(ds) {
                let (dims, _) = shape_of(file, ds, at)?;
                let items = deref(file, ds, at)?
                    .iter()
                    .enumerate()
                    .map(|(i, entry)| to_mat_value(file, entry, &format!("{at}{{{}}}", i + 1), depth + 1))
                    .collect::<Result<_, _>>()?;
                return Ok(MatValue::Cell { dims: reversed(dims), items });
            }
            if class(&ds.attrs().within(file, at)?) == Some("char") {
                return Ok(MatValue::Char { rows: vec![mat_text(file, node, at, depth)?] });
            }
            let (dims, data) = read_numeric(file, ds, at)?;
            Ok(MatValue::Numeric { dims: if data.is_empty() { vec![0, 0] } else { reversed(dims) }, data })
        }
    }
}

/// The text of a MATLAB char array, of the first entry of a cell, or of a number.
fn mat_text(file: &Src<'_>, node: &Node, at: &str, depth: usize) -> Result<String, FormatError> {
    let Node::Dataset(ds) = node else {
        return Err(FormatError::invalid(file, format!("{at} is a struct, expected text")));
    };
    let attrs = ds.attrs().within(file, at)?;
    if matlab_empty(&attrs) {
        return Ok(String::new());
    }
    let is_char = class(&attrs).is_some_and(|c| c == "char");
    let (dims, _) = shape_of(file, ds, at)?;
    match ds.dtype().within(file, at)? {
        DType::ObjectReference if depth < 4 => match deref(file, ds, at)?.first() {
            Some(first) => mat_text(file, first, at, depth + 1),
            None => Ok(String::new()),
        },
        DType::String | DType::VariableLengthString => Ok(read_strings(file, ds, at)?.concat()),
        DType::U16 | DType::U8 if is_char => {
            // UTF-16 code units; an R-row char matrix is stored as HDF5 [L, R], column-major.
            file.budget.text(product(dims.iter().map(|&d| d as u64)).unwrap_or(u64::MAX).saturating_mul(2), || format!("{at} (text)")).map_err(|e| FormatError::over(file, e))?;
            let units = ds.read_u16().within(file, at)?;
            let rows = dims.get(1).copied().unwrap_or(1).max(1);
            let lines: Vec<String> = (0..rows)
                .map(|r| String::from_utf16_lossy(&units.iter().skip(r).step_by(rows).copied().collect::<Vec<u16>>()))
                .collect();
            Ok(lines.join(" ").trim_matches(|c: char| c == '\0' || c.is_whitespace()).to_string())
        }
        _ => Ok(read_numeric(file, ds, at)?.1.first().map(f64::to_string).unwrap_or_default()),
    }
}

#[cfg(test)]
mod tests {
    use hdf5_pure::{AttrValue, FileBuilder};

    use super::*;
    use crate::data::Recording;

    /// The recordings of an HDF5 file (this reader only, no sniffing).
    fn read(file: &str, bytes: &[u8]) -> Result<Vec<Recording>, FormatError> {
        super::read(file, &bytes.into(), &Budget::new(crate::data::formats::budget::FILE), None)?.recordings
    }

    fn text(s: &str) -> AttrValue {
        AttrValue::String(s.into())
    }

    #[test]
    fn corrupt_or_foreign_files_name_themselves() {
        let cases: [&[u8]; 3] = [b"MATLAB 7.3 MAT-file, cut short", b"\x89HDF\r\n\x1a\n\x00\x00\x00garbage", b""];
        for bytes in cases {
            let err = read("broken.mat", bytes).unwrap_err().to_string();
            assert!(err.contains("broken.mat"), "{err}");
        }
        let mut b = FileBuilder::new();
        b.create_dataset("x").with_f64_data(&[1.0, 2.0]);
        let err = read("plain.h5", &b.finish().unwrap()).unwrap_err().to_string();
        assert!(err.contains("plain.h5") && err.contains("no 2-D numeric array") && err.ends_with("found: /x (float 2)"), "{err}");
    }

    #[test]
    fn a_plain_hdf5_file_is_listed_and_guessed() {
        let mut b = FileBuilder::new();
        let mut rec = b.create_group("rec");
        // 2 neurons × 4 frames, neurons on rows; the time vector gives 4 Hz
        rec.create_dataset("calcium").with_f64_data(&[0.0, 1.0, 2.0, 3.0, 10.0, 11.0, 12.0, 13.0]).with_shape(&[2, 4]);
        rec.create_dataset("time").with_f64_data(&[0.0, 0.25, 0.5, 0.75]);
        rec.create_dataset("behaviour").with_i32_data(&[0, 0, 1, -1]);
        b.add_group(rec.finish());
        let bytes = b.finish().unwrap();
        let inv = super::read("p.h5", &bytes.clone().into(), &Budget::new(crate::data::formats::budget::FILE), None).unwrap().inventory;
        let listed: Vec<String> = inv.entries.iter().map(|e| format!("{} {}", e.path, e.array.describe())).collect();
        assert!(listed.contains(&"/rec/calcium float 2×4".to_string()), "{listed:?}");
        let r = &read("p.h5", &bytes).unwrap()[0];
        assert_eq!((r.frames, r.neurons, r.fps), (4, 2, 4.0));
        assert_eq!(r.traces[..4], [0.0, 10.0, 1.0, 11.0]);
        let l = r.labels.as_ref().unwrap();
        assert_eq!((l.names.len(), l.per_frame[3]), (2, None));
    }

    #[test]
    fn a_single_animal_struct_is_transposed_and_labelled() {
        let mut b = FileBuilder::new();
        b.with_userblock(512);
        b.with_userblock_content(b"MATLAB 7.3 MAT-file");
        let mut worm = b.create_group("worm");
        worm.set_attr("MATLAB_class", text("struct"));
        // 3 frames × 2 neurons in MATLAB, stored column-major as HDF5 [2, 3].
        worm.create_dataset("deltaFOverF_bc")
            .with_f64_data(&[0.0, 1.0, 2.0, 10.0, 11.0, 12.0])
            .with_shape(&[2, 3])
            .set_attr("MATLAB_class", text("double"));
        worm.create_dataset("fps").with_f64_data(&[2.5]).with_shape(&[1, 1]).set_attr("MATLAB_class", text("double"));
        let mut states = worm.create_group("States");
        states.set_attr("MATLAB_class", text("struct"));
        states.create_dataset("FWD").with_f64_data(&[1.0, 0.0, 0.0]).with_shape(&[3, 1]);
        states.create_dataset("REV1").with_f64_data(&[0.0, 1.0, 0.0]).with_shape(&[3, 1]);
        worm.add_group(states.finish());
        b.add_group(worm.finish());
        let recordings = read("dir/worm7.mat", &b.finish().unwrap()).unwrap();
        let r = &recordings[0];
        assert_eq!((recordings.len(), r.frames, r.neurons, r.fps), (1, 3, 2, 2.5));
        assert_eq!(r.traces, vec![0.0, 10.0, 1.0, 11.0, 2.0, 12.0]);
        assert_eq!(r.name, "worm", "a single animal is named after its variable, as in v5 files");
        let l = r.labels.as_ref().unwrap();
        assert_eq!(l.names, ["FWD", "REV1"]);
        assert_eq!(l.per_frame, vec![Some(0), Some(1), None]);
        assert_eq!(r.validate(), Ok(()));
    }

    #[test]
    fn a_cell_per_worm_gives_one_recording_each() {
        let mut b = FileBuilder::new();
        let mut refs = b.create_group("#refs#");
        for (name, v) in [("a", 1.0), ("b", 2.0)] {
            refs.create_dataset(name).with_f64_data(&[v; 6]).with_shape(&[2, 3]).set_attr("MATLAB_class", text("double"));
        }
        for (name, chars) in [("n1", "AVAL"), ("n2", "12")] {
            let units: Vec<u16> = chars.encode_utf16().collect();
            refs.create_dataset(name).with_u16_data(&units).with_shape(&[units.len() as u64, 1]).set_attr("MATLAB_class", text("char"));
        }
        refs.create_dataset("names").with_path_references(&["#refs#/n1", "#refs#/n2"]).with_shape(&[2, 1]).set_attr("MATLAB_class", text("cell"));
        b.add_group(refs.finish());
        let mut wt = b.create_group("WT");
        wt.set_attr("MATLAB_class", text("struct"));
        wt.create_dataset("deltaFOverF_bc").with_path_references(&["#refs#/a", "#refs#/b"]).with_shape(&[2, 1]).set_attr("MATLAB_class", text("cell"));
        wt.create_dataset("NeuronNames").with_path_references(&["#refs#/names", "#refs#/names"]).with_shape(&[2, 1]).set_attr("MATLAB_class", text("cell"));
        b.add_group(wt.finish());
        let recordings = read("wt.mat", &b.finish().unwrap()).unwrap();
        assert_eq!(recordings.len(), 2);
        assert_eq!(recordings[1].name, "WT worm 2");
        assert_eq!((recordings[1].frames, recordings[1].neurons), (3, 2));
        assert_eq!(recordings[1].traces, vec![2.0f32; 6]);
        assert_eq!(recordings[0].neuron_names, vec![Some("AVAL".to_string()), None]);
        assert!(recordings[0].source.contains("frame rate unknown"), "{}", recordings[0].source);
    }

    #[test]
    fn nwb_intervals_label_the_frames_they_hold() {
        let mut b = FileBuilder::new();
        b.set_attr("nwb_version", text("2.7.0"));
        let mut processing = b.create_group("processing");
        let mut ophys = processing.create_group("ophys");
        let mut fluorescence = ophys.create_group("Fluorescence");
        let mut series = fluorescence.create_group("DfOverF");
        series.set_attr("neurodata_type", text("RoiResponseSeries"));
        series.create_dataset("data").with_f64_data(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]).with_shape(&[3, 2]);
        series.create_dataset("starting_time").with_f64_data(&[0.0]).set_attr("rate", AttrValue::F64(2.0));
        fluorescence.add_group(series.finish());
        ophys.add_group(fluorescence.finish());
        let mut segmentation = ophys.create_group("ImageSegmentation");
        let mut table = segmentation.create_group("PlaneSegmentation");
        table.set_attr("neurodata_type", text("PlaneSegmentation"));
        table.create_dataset("neuron_name").with_vlen_strings(&["AVAL", "7"]);
        segmentation.add_group(table.finish());
        ophys.add_group(segmentation.finish());
        processing.add_group(ophys.finish());
        let mut behavior = processing.create_group("behavior");
        let mut states = behavior.create_group("States");
        states.create_dataset("start_time").with_f64_data(&[0.0, 1.0]);
        states.create_dataset("stop_time").with_f64_data(&[1.0, 1.5]);
        states.create_dataset("state").with_vlen_strings(&["REV1", "FWD"]);
        behavior.add_group(states.finish());
        processing.add_group(behavior.finish());
        b.add_group(processing.finish());
        let r = read("w.nwb", &b.finish().unwrap()).unwrap().remove(0);
        assert_eq!((r.frames, r.neurons, r.fps), (3, 2, 2.0));
        assert_eq!(r.traces, vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(r.neuron_names, vec![Some("AVAL".to_string()), None]);
        let l = r.labels.unwrap();
        assert_eq!(l.names, ["FWD", "REV1"]);
        assert_eq!(l.per_frame, vec![Some(1), Some(1), Some(0)]);
    }
}
