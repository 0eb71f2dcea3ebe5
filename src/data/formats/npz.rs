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
use super::budget::{Budget, product};
use super::inventory::Entry;
use crate::data::transposed;

/// Longest NPY header accepted (NumPy writes under 200 bytes; its own limit is 10,000).
const MAX_HEADER_BYTES: usize = 1 << 16;
/// Most members an NPZ may hold (a recording needs a handful).
const MAX_MEMBERS: usize = 10_000;

/// The shape, element width and value count an NPY header declares, checked for overflow.
fn declared(npy: &NpyFile<impl Read>) -> Result<(Vec<usize>, usize, usize), String> {
    let overflow = || format!("the header's shape {:?} overflows", npy.shape());
    let count = product(npy.shape().iter().copied()).and_then(|c| usize::try_from(c).ok()).ok_or_else(overflow)?;
    let shape: Vec<usize> = npy.shape().iter().map(|&d| usize::try_from(d).map_err(|_| overflow())).collect::<Result<_, _>>()?;
    let DType::Plain(ty) = npy.dtype() else { return Err("structured arrays are not supported".into()) };
    let width = ty.num_bytes().unwrap_or(1).max(1);
    // only what `decode` reads is charged and allocated (a raw `|V2000000000` is refused here)
    let supported = match ty.type_char() {
        TypeChar::Float => matches!(width, 2 | 4 | 8),
        TypeChar::Int => matches!(width, 1 | 2 | 4 | 8),
        TypeChar::Uint => matches!(width, 1 | 2 | 4 | 8),
        TypeChar::Bool => width == 1,
        TypeChar::UnicodeStr | TypeChar::ByteStr => true,
        _ => false,
    };
    if !supported {
        return Err(format!("arrays of type {:?} ({width} bytes) are not supported", ty.type_char()));
    }
    count.checked_mul(width).ok_or_else(overflow)?;
    Ok((shape, width, count))
}

/// Parses one NPY array, checking its header against the bytes actually present and charging
/// its values to `budget` before they are decoded.
pub fn parse_npy(bytes: &[u8], budget: &Budget) -> Result<Array, String> {
    check_header_nesting(bytes)?;
    let (npy, shape, width, count) = open_whole(bytes)?;
    charge(&npy, budget, &shape, count, width, "an array").map_err(|e| e.to_string())?;
    decode(npy, shape, width)
}

/// An opened NPY array with its declared shape, element width and value count.
type Opened<'a> = (NpyFile<&'a [u8]>, Vec<usize>, usize, usize);

/// An NPY array's header, checked against the bytes actually present (no value read yet).
fn open_whole(bytes: &[u8]) -> Result<Opened<'_>, String> {
    let npy = NpyFile::new(bytes).map_err(|e| format!("not a valid NPY array: {e}"))?;
    let (shape, width, count) = declared(&npy)?;
    if count * width > bytes.len() {
        return Err(format!("the header declares {count} values of {width} bytes but the file holds only {} bytes", bytes.len()));
    }
    Ok((npy, shape, width, count))
}

/// Charges an array's values (and its text, for string arrays) to `budget`.
fn charge(npy: &NpyFile<impl Read>, budget: &Budget, shape: &[usize], count: usize, width: usize, what: &str) -> Result<(), super::budget::OverBudget> {
    budget.values(count as u64, || format!("{what} (shape {shape:?})"))?;
    if matches!(npy.dtype(), DType::Plain(ty) if matches!(ty.type_char(), TypeChar::UnicodeStr | TypeChar::ByteStr)) {
        budget.text((count * width) as u64, || format!("{what} (text, shape {shape:?})"))?;
    }
    Ok(())
}

/// Decodes an array whose header has been checked and charged.
fn decode(npy: NpyFile<&[u8]>, shape: Vec<usize>, width: usize) -> Result<Array, String> {
    let DType::Plain(ty) = npy.dtype() else { return Err("structured arrays are not supported".into()) };
    let fortran = npy.order() == Order::Fortran;
    let io = |e: std::io::Error| format!("the array data is truncated or corrupt: {e}");
    let mut array = match (ty.type_char(), width) {
        (TypeChar::Float, 2) => Array::Float { data: npy.into_vec::<half::f16>().map_err(io)?.into_iter().map(f64::from).collect(), shape },
        (TypeChar::Float, 4) => Array::Float { data: npy.into_vec::<f32>().map_err(io)?.into_iter().map(f64::from).collect(), shape },
        (TypeChar::Float, 8) => Array::Float { data: npy.into_vec::<f64>().map_err(io)?, shape },
        (TypeChar::Int, 1) => Array::Int { data: npy.into_vec::<i8>().map_err(io)?.into_iter().map(i64::from).collect(), shape },
        (TypeChar::Int, 2) => Array::Int { data: npy.into_vec::<i16>().map_err(io)?.into_iter().map(i64::from).collect(), shape },
        (TypeChar::Int, 4) => Array::Int { data: npy.into_vec::<i32>().map_err(io)?.into_iter().map(i64::from).collect(), shape },
        (TypeChar::Int, 8) => Array::Int { data: npy.into_vec::<i64>().map_err(io)?, shape },
        (TypeChar::Uint, 1) => Array::Int { data: npy.into_vec::<u8>().map_err(io)?.into_iter().map(i64::from).collect(), shape },
        (TypeChar::Uint, 2) => Array::Int { data: npy.into_vec::<u16>().map_err(io)?.into_iter().map(i64::from).collect(), shape },
        (TypeChar::Uint, 4) => Array::Int { data: npy.into_vec::<u32>().map_err(io)?.into_iter().map(i64::from).collect(), shape },
        (TypeChar::Uint, 8) => {
            let data = npy.into_vec::<u64>().map_err(io)?.into_iter().map(i64::try_from).collect::<Result<_, _>>();
            Array::Int { data: data.map_err(|_| "an unsigned 64-bit value above 2^63 (not a label or a count)".to_string())?, shape }
        }
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

/// The shape an NPY header's text declares, checked for overflow before npyz computes its
/// product (which overflows, and panics in debug builds, on shapes such as (2^32, 2^32, 16)).
fn check_header_shape(header: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(header);
    // the key in either quotes, the tuple in parentheses or brackets
    let key = text.find("'shape'").or_else(|| text.find("\"shape\""));
    let Some(start) = key.and_then(|i| text[i..].find(['(', '[']).map(|j| i + j + 1)) else { return Ok(()) };
    let Some(len) = text[start..].find([')', ']']) else { return Ok(()) };
    let dims = text[start..start + len].split(',').map(str::trim).filter(|d| !d.is_empty());
    let mut count = 1u64;
    for d in dims {
        let d: u64 = d.parse().map_err(|_| format!("the header's shape has a dimension '{d}' that is not a whole number"))?;
        count = count.checked_mul(d).ok_or_else(|| format!("the header's shape ({}) overflows", &text[start..start + len]))?;
    }
    usize::try_from(count).map(|_| ()).map_err(|_| format!("the header's shape ({}) overflows this machine's address space", &text[start..start + len]))
}

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
    check_header_shape(header)
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
        unread @ Array::Unread { .. } => unread,
    }
}

/// Every array of an NPZ, in archive order, with `.npy` dropped from the names. Each member
/// is inflated only as far as its header says it holds, and only once `budget` allows that
/// many values: a member that inflates to more than it declares stops there.
pub fn npz_arrays(file: &str, bytes: &[u8], budget: &Budget) -> Result<Vec<Entry>, FormatError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| FormatError::invalid(file, format!("not a readable NPZ (zip) archive: {e}")))?;
    if zip.len() > MAX_MEMBERS {
        return Err(FormatError::invalid(file, format!("the archive has {} members, more than the {MAX_MEMBERS} an NPZ recording may hold", zip.len())));
    }
    let mut arrays = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        budget.object(|| format!("archive member {i}")).map_err(|e| FormatError::over(file, e))?;
        let member = zip.by_index(i).map_err(|e| FormatError::invalid(file, format!("archive member {i}: {e}")))?;
        let name = member
            .name()
            .map_err(|e| FormatError::invalid(file, format!("archive member {i} has an unreadable name: {e}")))?
            .trim_end_matches(".npy")
            .to_string();
        let data = read_member(member, &name, budget).map_err(|e| match e {
            Unpacked::Over(e) => FormatError::over(file, e),
            Unpacked::Invalid(m) => FormatError::invalid(file, format!("array '{name}': {m}")),
        })?;
        // charged by `read_member`; the bytes hold no more than the header declared
        let array = open_whole(&data)
            .and_then(|(npy, shape, width, _)| decode(npy, shape, width))
            .map_err(|e| FormatError::invalid(file, format!("array '{name}': {e}")))?;
        arrays.push(Entry { path: name, array });
    }
    Ok(arrays)
}

enum Unpacked {
    Over(super::budget::OverBudget),
    Invalid(String),
}

/// One NPZ member's NPY bytes: the header first, then exactly the data it declares, charged
/// to `budget` before it is inflated.
fn read_member(member: impl Read, name: &str, budget: &Budget) -> Result<Vec<u8>, Unpacked> {
    let invalid = |m: String| Unpacked::Invalid(m);
    let io = |e: std::io::Error| invalid(format!("cannot unpack: {e}"));
    let mut member = member;
    let mut head = vec![0u8; 10];
    member.read_exact(&mut head).map_err(io)?;
    if !head.starts_with(b"\x93NUMPY") {
        return Err(invalid("not an NPY array (no \\x93NUMPY magic)".into()));
    }
    let header_len = if head[6] == 1 {
        usize::from(u16::from_le_bytes([head[8], head[9]]))
    } else {
        let mut rest = [0u8; 2];
        member.read_exact(&mut rest).map_err(io)?;
        head.extend_from_slice(&rest);
        u32::from_le_bytes([head[8], head[9], head[10], head[11]]) as usize
    };
    if header_len > MAX_HEADER_BYTES {
        return Err(invalid(format!("the NPY header claims {header_len} bytes (at most {MAX_HEADER_BYTES})")));
    }
    let start = head.len();
    head.resize(start + header_len, 0);
    member.read_exact(&mut head[start..]).map_err(io)?;
    check_header_nesting(&head).map_err(invalid)?;
    let npy = NpyFile::new(&head[..]).map_err(|e| invalid(format!("not a valid NPY array: {e}")))?;
    let (shape, width, count) = declared(&npy).map_err(invalid)?;
    charge(&npy, budget, &shape, count, width, &format!("array '{name}'")).map_err(Unpacked::Over)?;
    let data_len = count * width; // `declared` checked the product
    budget.inflated(data_len as u64, || format!("array '{name}'")).map_err(Unpacked::Over)?;
    let total = head.len().checked_add(data_len).ok_or_else(|| invalid(format!("array '{name}' is larger than this machine can address")))?;
    let mut bytes = Vec::with_capacity(total);
    bytes.extend_from_slice(&head);
    (&mut member).take(data_len as u64).read_to_end(&mut bytes).map_err(io)?;
    // one more read reaches the member's end, where zip checks its CRC; a member holding more
    // than its header declares is not an NPY array (and is not inflated any further)
    match member.read(&mut [0u8; 1]) {
        Ok(0) => Ok(bytes),
        Ok(_) => Err(invalid(format!("the member holds more data than the {data_len} bytes its header declares"))),
        Err(e) => Err(io(e)),
    }
}

/// A single NPY file as one array named `traces` (no names, labels or frame rate).
pub fn npy_arrays(file: &str, bytes: &[u8], budget: &Budget) -> Result<Vec<Entry>, FormatError> {
    let array = parse_npy(bytes, budget).map_err(|e| FormatError::invalid(file, e))?;
    Ok(vec![Entry { path: "traces".into(), array }])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_npy(bytes: &[u8]) -> Result<Array, String> {
        super::parse_npy(bytes, &Budget::new(crate::data::formats::budget::FILE))
    }

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
