//! NumPy NPY and NPZ files (npyz parses each array; zip unpacks NPZ).
//!
//! In an NPZ the reader looks for: a 2-D numeric array of traces (preferring names such as
//! `traces`, `activity`, `dff`), a string array of neuron names, per-frame labels (integers
//! indexing a string array of state names, or strings), and a scalar frame rate (`fps`).
//! Arrays may be C- or Fortran-ordered and frames × neurons or neurons × frames (the names,
//! when present, decide; otherwise the longer axis is time).

use std::io::{Cursor, Read};

use npyz::{DType, NpyFile, Order, TypeChar};

use super::{FormatError, frames_by_neurons, rate_or_default, stem};
use crate::data::{Labels, Recording, names};

/// Largest array member read from an NPZ (guards against zip bombs).
const MAX_MEMBER_BYTES: u64 = 1 << 31;

/// One array from an NPY file, in C (row-major) order.
#[derive(Debug, Clone, PartialEq)]
pub enum Array {
    Float { shape: Vec<usize>, data: Vec<f64> },
    Int { shape: Vec<usize>, data: Vec<i64> },
    Text { shape: Vec<usize>, data: Vec<String> },
}

impl Array {
    pub fn shape(&self) -> &[usize] {
        match self {
            Array::Float { shape, .. } | Array::Int { shape, .. } | Array::Text { shape, .. } => shape,
        }
    }

    /// "float 3137×109", for listings and messages.
    pub fn describe(&self) -> String {
        let kind = match self {
            Array::Float { .. } => "float",
            Array::Int { .. } => "integer",
            Array::Text { .. } => "text",
        };
        let dims: Vec<String> = self.shape().iter().map(ToString::to_string).collect();
        format!("{kind} {}", if dims.is_empty() { "scalar".into() } else { dims.join("×") })
    }

    fn numeric(&self) -> Option<Vec<f64>> {
        match self {
            Array::Float { data, .. } => Some(data.clone()),
            Array::Int { data, .. } => Some(data.iter().map(|&v| v as f64).collect()),
            Array::Text { .. } => None,
        }
    }
}

/// Parses one NPY array, checking its header against the bytes actually present.
pub fn parse_npy(bytes: &[u8]) -> Result<Array, String> {
    let npy = NpyFile::new(bytes).map_err(|e| format!("not a valid NPY array: {e}"))?;
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let count = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)).ok_or("the array's shape overflows")?;
    let DType::Plain(ty) = npy.dtype() else { return Err("structured arrays are not supported".into()) };
    let width = ty.num_bytes().unwrap_or(1).max(1);
    if count.checked_mul(width).is_none_or(|need| need > bytes.len()) {
        return Err(format!("the header declares {count} values of {width} bytes but the file holds only {} bytes", bytes.len()));
    }
    let fortran = npy.order() == Order::Fortran;
    let io = |e: std::io::Error| format!("the array data is truncated or corrupt: {e}");
    let mut array = match (ty.type_char(), width) {
        (TypeChar::Float, 4) => Array::Float { data: npy.into_vec::<f32>().map_err(io)?.into_iter().map(f64::from).collect(), shape },
        (TypeChar::Float, 8) => Array::Float { data: npy.into_vec::<f64>().map_err(io)?, shape },
        (TypeChar::Int, 1) => Array::Int { data: npy.into_vec::<i8>().map_err(io)?.into_iter().map(i64::from).collect(), shape },
        (TypeChar::Int, 2) => Array::Int { data: npy.into_vec::<i16>().map_err(io)?.into_iter().map(i64::from).collect(), shape },
        (TypeChar::Int, 4) => Array::Int { data: npy.into_vec::<i32>().map_err(io)?.into_iter().map(i64::from).collect(), shape },
        (TypeChar::Int, 8) => Array::Int { data: npy.into_vec::<i64>().map_err(io)?, shape },
        (TypeChar::Uint, 1) => Array::Int { data: npy.into_vec::<u8>().map_err(io)?.into_iter().map(i64::from).collect(), shape },
        (TypeChar::Uint, 2) => Array::Int { data: npy.into_vec::<u16>().map_err(io)?.into_iter().map(i64::from).collect(), shape },
        (TypeChar::Uint, 4) => Array::Int { data: npy.into_vec::<u32>().map_err(io)?.into_iter().map(i64::from).collect(), shape },
        (TypeChar::Bool, _) => Array::Int { data: npy.into_vec::<bool>().map_err(io)?.into_iter().map(i64::from).collect(), shape },
        (TypeChar::UnicodeStr | TypeChar::ByteStr, _) => Array::Text { data: npy.into_vec::<String>().map_err(io)?, shape },
        (other, w) => return Err(format!("arrays of type {other:?} ({w} bytes) are not supported")),
    };
    if fortran {
        array = to_c_order(array);
    }
    Ok(array)
}

/// Fortran (column-major) data to C order, for 2-D arrays (others are the same either way).
fn to_c_order(array: Array) -> Array {
    fn transpose<T: Clone>(shape: &[usize], data: Vec<T>) -> Vec<T> {
        let [rows, cols] = shape else { return data };
        (0..rows * cols).map(|k| data[(k % cols) * rows + k / cols].clone()).collect()
    }
    match array {
        Array::Float { shape, data } => Array::Float { data: transpose(&shape, data), shape },
        Array::Int { shape, data } => Array::Int { data: transpose(&shape, data), shape },
        Array::Text { shape, data } => Array::Text { data: transpose(&shape, data), shape },
    }
}

/// Every array of an NPZ, in archive order, with `.npy` dropped from the names.
pub fn npz_arrays(file: &str, bytes: &[u8]) -> Result<Vec<(String, Array)>, FormatError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| FormatError::invalid(file, format!("not a readable NPZ (zip) archive: {e}")))?;
    let mut arrays = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let mut member = zip.by_index(i).map_err(|e| FormatError::invalid(file, format!("archive member {i}: {e}")))?;
        let name = member
            .name()
            .map_err(|e| FormatError::invalid(file, format!("archive member {i} has an unreadable name: {e}")))?
            .trim_end_matches(".npy")
            .to_string();
        let mut data = Vec::new();
        member
            .by_ref()
            .take(MAX_MEMBER_BYTES)
            .read_to_end(&mut data)
            .map_err(|e| FormatError::invalid(file, format!("array '{name}': cannot unpack: {e}")))?;
        let array = parse_npy(&data).map_err(|e| FormatError::invalid(file, format!("array '{name}': {e}")))?;
        arrays.push((name, array));
    }
    Ok(arrays)
}

/// A recording from an NPZ archive (see the module docs for what is looked for).
pub fn read_npz(file: &str, bytes: &[u8]) -> Result<Recording, FormatError> {
    let arrays = npz_arrays(file, bytes)?;
    assemble(file, &arrays)
}

/// A recording from a single NPY array of traces (no names, labels or frame rate).
pub fn read_npy(file: &str, bytes: &[u8]) -> Result<Recording, FormatError> {
    let array = parse_npy(bytes).map_err(|e| FormatError::invalid(file, e))?;
    assemble(file, &[("traces".to_string(), array)])
}

fn key_has(name: &str, words: &[&str]) -> bool {
    let lower = name.to_ascii_lowercase();
    words.iter().any(|w| lower.contains(w))
}

/// Picks traces, names, labels and frame rate among named arrays.
pub fn assemble(file: &str, arrays: &[(String, Array)]) -> Result<Recording, FormatError> {
    let numeric_2d = |a: &Array| !matches!(a, Array::Text { .. }) && a.shape().len() == 2;
    let (traces_name, traces) = arrays
        .iter()
        .filter(|(_, a)| numeric_2d(a))
        .max_by_key(|(n, a)| (key_has(n, &["trace", "activity", "dff", "deltaf", "fluor", "data"]), a.shape().iter().product::<usize>()))
        .ok_or_else(|| {
            let found: Vec<String> = arrays.iter().map(|(n, a)| format!("{n} ({})", a.describe())).collect();
            FormatError::invalid(file, format!("no 2-D numeric array of traces; found: {}", found.join(", ")))
        })?;
    let [rows, cols] = [traces.shape()[0], traces.shape()[1]];
    let names = arrays.iter().find_map(|(n, a)| match a {
        Array::Text { shape, data }
            if shape.len() == 1 && key_has(n, &["neuron", "name", "id"]) && !key_has(n, &["state", "label", "behav", "class"]) =>
        {
            Some(data.clone())
        }
        _ => None,
    });
    let values = traces.numeric().expect("traces were chosen among numeric arrays");
    let (frames, neurons, traces_rm) = frames_by_neurons(&values, rows, cols, names.as_ref().map(Vec::len));
    if let Some(n) = &names
        && n.len() != neurons
    {
        return Err(FormatError::invalid(file, format!("{} neuron names for {neurons} neurons in '{traces_name}'", n.len())));
    }

    let fps = arrays.iter().find_map(|(n, a)| {
        (key_has(n, &["fps", "rate", "hz"]) && a.shape().iter().product::<usize>() == 1).then(|| a.numeric()).flatten().map(|v| v[0] as f32)
    });
    let labels = find_labels(arrays, frames).map_err(|m| FormatError::invalid(file, m))?;
    let (fps, fps_note) = rate_or_default(fps);
    Ok(Recording {
        name: stem(file),
        source: format!("{file} (NPZ '{traces_name}'{fps_note})"),
        frames,
        neurons,
        traces: traces_rm,
        neuron_names: match names {
            Some(n) => n.iter().map(|s| names::normalize(s)).collect(),
            None => vec![None; neurons],
        },
        fps,
        labels,
    })
}

/// Per-frame labels: an integer array of length `frames` indexing a string array of state
/// names (negative = unlabelled), or a string array of length `frames`. A per-frame label
/// array of the wrong length is an error, not silently dropped.
fn find_labels(arrays: &[(String, Array)], frames: usize) -> Result<Option<Labels>, String> {
    let state_names = arrays.iter().find_map(|(n, a)| match a {
        Array::Text { shape, data } if shape.len() == 1 && shape[0] != frames && key_has(n, &["state", "label", "behav", "class"]) => Some(data.clone()),
        _ => None,
    });
    for (n, a) in arrays {
        if !key_has(n, &["state", "label", "behav", "class", "y"]) || a.shape().len() != 1 {
            continue;
        }
        let per_frame_kind = matches!(a, Array::Int { .. }) || (matches!(a, Array::Text { .. }) && state_names.as_ref().is_none_or(|s| s.len() != a.shape()[0]));
        if per_frame_kind && a.shape()[0] != frames {
            return Err(format!("labels '{n}' have {} entries but the traces have {frames} frames", a.shape()[0]));
        }
        match (a, &state_names) {
            (Array::Int { data, .. }, Some(names)) => {
                let per_frame = data.iter().map(|&i| (i >= 0 && (i as usize) < names.len()).then_some(i as u16)).collect();
                return Ok(Some(Labels { names: names.clone(), per_frame }));
            }
            (Array::Int { .. }, None) => return Err(format!("labels '{n}' are numbers but no array names the states")),
            (Array::Text { data, .. }, _) if per_frame_kind => return Ok(Some(super::labels_from_names(data))),
            _ => {}
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str, fortran: bool, shape: &str, payload: &[u8]) -> Vec<u8> {
        let header = format!("{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}", if fortran { "True" } else { "False" });
        let mut h = header.into_bytes();
        while (10 + h.len() + 1) % 64 != 0 {
            h.push(b' ');
        }
        h.push(b'\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(h.len() as u16).to_le_bytes());
        out.extend_from_slice(&h);
        out.extend_from_slice(payload);
        out
    }

    fn f4(values: &[f32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    #[test]
    fn fortran_order_is_transposed() {
        // logical [[1,2,3],[4,5,6]] stored column-major
        let bytes = npy("<f4", true, "(2, 3)", &f4(&[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]));
        let Array::Float { shape, data } = parse_npy(&bytes).unwrap() else { panic!("float expected") };
        assert_eq!(shape, vec![2, 3]);
        assert_eq!(data, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    }

    #[test]
    fn lying_headers_are_caught_before_allocating() {
        let bytes = npy("<f4", false, "(100000, 100000)", &f4(&[1.0, 2.0]));
        let err = parse_npy(&bytes).unwrap_err();
        assert!(err.contains("declares 10000000000 values"), "{err}");
        let truncated = &npy("<f8", false, "(4,)", &[0u8; 32])[..60];
        assert!(parse_npy(truncated).is_err());
        assert!(parse_npy(b"\x93NUMPY garbage").is_err());
    }

    #[test]
    fn a_single_npy_is_time_by_neurons() {
        let bytes = npy("<f4", false, "(2, 5)", &f4(&[0.0; 10])); // neurons × frames (longer axis is time)
        let r = read_npy("x.npy", &bytes).unwrap();
        assert_eq!((r.frames, r.neurons), (5, 2));
    }
}
