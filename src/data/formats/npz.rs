//! NumPy NPY and NPZ files (npyz parses each array; zip unpacks NPZ).
//!
//! In an NPZ the reader looks for: a 2-D numeric array of traces (preferring names such as
//! `traces`, `activity`, `dff`), a string array of neuron names, per-frame labels (integers
//! indexing a string array of state names, or strings), and a scalar frame rate (`fps`).
//! Arrays may be C- or Fortran-ordered and frames × neurons or neurons × frames (the names,
//! when present, decide; otherwise the longer axis is time).

use std::io::{Cursor, Read};

use npyz::{DType, NpyFile, Order, TypeChar};

pub use super::inventory::Array;
use super::FormatError;
use super::inventory::Entry;
use crate::data::transposed;

/// Largest array member read from an NPZ (guards against zip bombs).
const MAX_MEMBER_BYTES: u64 = 1 << 31;

/// Parses one NPY array, checking its header against the bytes actually present.
pub fn parse_npy(bytes: &[u8]) -> Result<Array, String> {
    check_header_nesting(bytes)?;
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

/// Deepest bracket nesting accepted in an NPY header. A real header is a dict holding a shape
/// tuple (depth 2; a structured dtype adds a level or two). npyz's header parser takes
/// exponential time on deeply nested brackets (found by fuzzing: a 205-byte file with ~90 `{`
/// ran for minutes), so such headers are refused before it sees them.
const MAX_HEADER_NESTING: usize = 4;

fn check_header_nesting(bytes: &[u8]) -> Result<(), String> {
    let (start, len) = match bytes.get(6) {
        Some(1) => (10, bytes.get(8..10).map(|b| usize::from(u16::from_le_bytes([b[0], b[1]])))),
        Some(_) => (12, bytes.get(8..12).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)),
        None => (0, None),
    };
    let Some(len) = len else { return Ok(()) }; // too short: npyz says what is wrong
    let header = &bytes[start.min(bytes.len())..(start + len).min(bytes.len())];
    let mut depth = 0usize;
    for &b in header {
        match b {
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > MAX_HEADER_NESTING {
                    return Err(format!("the NPY header nests brackets deeper than {MAX_HEADER_NESTING} levels; it is not a NumPy array header"));
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Fortran (column-major) data to C order, for 2-D arrays (others are the same either way).
fn to_c_order(array: Array) -> Array {
    // Fortran [rows, cols] is C-ordered [cols, rows]
    fn c_order<T: Clone>(shape: &[usize], data: Vec<T>) -> Vec<T> {
        let [rows, cols] = shape else { return data };
        transposed(&data, *cols, *rows).collect()
    }
    match array {
        Array::Float { shape, data } => Array::Float { data: c_order(&shape, data), shape },
        Array::Int { shape, data } => Array::Int { data: c_order(&shape, data), shape },
        Array::Text { shape, data } => Array::Text { data: c_order(&shape, data), shape },
    }
}

/// Every array of an NPZ, in archive order, with `.npy` dropped from the names.
pub fn npz_arrays(file: &str, bytes: &[u8]) -> Result<Vec<Entry>, FormatError> {
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
        arrays.push(Entry { path: name, array });
    }
    Ok(arrays)
}

/// A single NPY file as one array named `traces` (no names, labels or frame rate).
pub fn npy_arrays(file: &str, bytes: &[u8]) -> Result<Vec<Entry>, FormatError> {
    let array = parse_npy(bytes).map_err(|e| FormatError::invalid(file, e))?;
    Ok(vec![Entry { path: "traces".into(), array }])
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
    fn deeply_nested_headers_are_refused_quickly() {
        // the fuzzer's case: npyz spends minutes on a header like this one
        let header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {}(6,){}, }}", "{".repeat(90), "}".repeat(90));
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
        bytes.extend_from_slice(header.as_bytes());
        let started = std::time::Instant::now();
        let err = parse_npy(&bytes).unwrap_err();
        assert!(err.contains("nests brackets"), "{err}");
        assert!(started.elapsed().as_secs_f64() < 1.0);
        // a real header still parses
        assert!(parse_npy(&npy("<f4", false, "(2, 3)", &f4(&[0.0; 6]))).is_ok());
    }

    #[test]
    fn a_single_npy_is_time_by_neurons() {
        let bytes = npy("<f4", false, "(2, 5)", &f4(&[0.0; 10])); // neurons × frames (longer axis is time)
        let r = crate::data::formats::load("x.npy", &bytes).unwrap().remove(0);
        assert_eq!((r.frames, r.neurons), (5, 2));
    }
}
