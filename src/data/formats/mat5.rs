//! MATLAB v5 MAT-files (what `save -v7` and scipy's `savemat` write), parsed into [`MatValue`].
//!
//! Written by hand: no maintained crate reads structs, cells and char arrays together (`matfile`
//! reads numeric arrays only; `matrw` rejects scipy's headers and panics on UTF-16 chars).
//! Handles both byte orders, compressed elements (zlib via flate2), the small-element form,
//! numeric arrays stored in narrower types, logical, char (UTF-8/16/32), cell and struct arrays.
//! Sparse and object arrays are reported as unsupported. Every length is checked against the
//! bytes present; nesting is bounded.

use std::io::Read;

use flate2::read::ZlibDecoder;

use super::FormatError;
use super::budget::{Budget, OverBudget};
use super::matlab::MatValue;

const MI_INT8: u32 = 1;
const MI_UINT8: u32 = 2;
const MI_INT16: u32 = 3;
const MI_UINT16: u32 = 4;
const MI_INT32: u32 = 5;
const MI_UINT32: u32 = 6;
const MI_SINGLE: u32 = 7;
const MI_DOUBLE: u32 = 9;
const MI_INT64: u32 = 12;
const MI_UINT64: u32 = 13;
const MI_MATRIX: u32 = 14;
const MI_COMPRESSED: u32 = 15;
const MI_UTF8: u32 = 16;
const MI_UTF16: u32 = 17;
const MI_UTF32: u32 = 18;

const MX_CELL: u8 = 1;
const MX_STRUCT: u8 = 2;
const MX_OBJECT: u8 = 3;
const MX_CHAR: u8 = 4;
const MX_SPARSE: u8 = 5;

/// Deepest nesting of cells/structs accepted (real files use a handful of levels).
const MAX_DEPTH: usize = 32;
/// Bytes of tags and headers allowed per array element when inflating (a 1-character string
/// in a cell takes 48).
const TAG_BYTES_PER_OBJECT: u64 = 64;
/// Bytes inflated first, to read a compressed variable's header (tag, flags, dimensions).
const PEEK_BYTES: u64 = 4096;

/// Why a variable could not be parsed: a malformed file, or one over the budget.
enum Failure {
    Invalid(String),
    Over(OverBudget),
}

impl From<String> for Failure {
    fn from(m: String) -> Self {
        Failure::Invalid(m)
    }
}

impl From<&str> for Failure {
    fn from(m: &str) -> Self {
        Failure::Invalid(m.into())
    }
}

impl From<OverBudget> for Failure {
    fn from(e: OverBudget) -> Self {
        Failure::Over(e)
    }
}

/// A cursor over one buffer with the file's byte order.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    big_endian: bool,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len()).ok_or_else(|| {
            format!("truncated: needs {n} bytes at offset {}, only {} remain", self.pos, self.buf.len() - self.pos.min(self.buf.len()))
        })?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u32(&mut self) -> Result<u32, String> {
        let b: [u8; 4] = self.take(4)?.try_into().expect("take(4) returns 4 bytes");
        Ok(if self.big_endian { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) })
    }

    fn at_end(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// One data element: (type, payload). Skips the padding to 8 bytes.
    fn element(&mut self) -> Result<(u32, &'a [u8]), String> {
        let first = self.u32()?;
        if first >> 16 != 0 {
            // small data element: type and size share the first word, data in the next 4 bytes
            let (ty, size) = (first & 0xffff, (first >> 16) as usize);
            if size > 4 {
                return Err(format!("small element claims {size} bytes (at most 4)"));
            }
            let data = self.take(4)?;
            return Ok((ty, &data[..size]));
        }
        let size = self.u32()? as usize;
        let data = self.take(size)?;
        if first != MI_COMPRESSED {
            let pad = (8 - size % 8) % 8;
            self.pos = (self.pos + pad).min(self.buf.len());
        }
        Ok((first, data))
    }
}

/// Bytes per value of a numeric storage type.
fn storage_width(ty: u32) -> Option<usize> {
    match ty {
        MI_INT8 | MI_UINT8 | MI_UTF8 => Some(1),
        MI_INT16 | MI_UINT16 | MI_UTF16 => Some(2),
        MI_INT32 | MI_UINT32 | MI_UTF32 | MI_SINGLE => Some(4),
        MI_DOUBLE | MI_INT64 | MI_UINT64 => Some(8),
        _ => None,
    }
}

/// Numbers of any MAT storage type, widened to f64.
fn numbers(ty: u32, data: &[u8], big_endian: bool) -> Result<Vec<f64>, String> {
    macro_rules! conv {
        ($t:ty, $n:expr) => {
            data.chunks_exact($n)
                .map(|c| {
                    let b = c.try_into().expect("chunks_exact gives exact chunks");
                    (if big_endian { <$t>::from_be_bytes(b) } else { <$t>::from_le_bytes(b) }) as f64
                })
                .collect()
        };
    }
    Ok(match ty {
        MI_INT8 => data.iter().map(|&b| f64::from(b as i8)).collect(),
        MI_UINT8 | MI_UTF8 => data.iter().map(|&b| f64::from(b)).collect(),
        MI_INT16 => conv!(i16, 2),
        MI_UINT16 | MI_UTF16 => conv!(u16, 2),
        MI_INT32 => conv!(i32, 4),
        MI_UINT32 | MI_UTF32 => conv!(u32, 4),
        MI_SINGLE => conv!(f32, 4),
        MI_DOUBLE => conv!(f64, 8),
        MI_INT64 => conv!(i64, 8),
        MI_UINT64 => conv!(u64, 8),
        other => return Err(format!("unknown numeric storage type {other}")),
    })
}

/// Text of a char array element (column-major [rows, cols] → one string per row).
fn char_rows(ty: u32, data: &[u8], dims: &[usize], big_endian: bool) -> Result<Vec<String>, String> {
    let units: Vec<u32> = match ty {
        MI_UTF8 | MI_UINT8 | MI_INT8 => return Ok(split_rows(&String::from_utf8_lossy(data).chars().collect::<Vec<_>>(), dims)),
        _ => numbers(ty, data, big_endian)?.into_iter().map(|v| v as u32).collect(),
    };
    let chars: Vec<char> = if ty == MI_UTF32 {
        units.iter().map(|&u| char::from_u32(u).unwrap_or('\u{fffd}')).collect()
    } else {
        let u16s: Vec<u16> = units.iter().map(|&u| u as u16).collect();
        char::decode_utf16(u16s).map(|c| c.unwrap_or('\u{fffd}')).collect()
    };
    Ok(split_rows(&chars, dims))
}

fn split_rows(chars: &[char], dims: &[usize]) -> Vec<String> {
    // Never more rows than characters, whatever the header claims (found by fuzzing).
    let rows = dims.first().copied().unwrap_or(1).clamp(1, chars.len().max(1));
    let cols = chars.len() / rows;
    (0..rows).map(|r| (0..cols).filter_map(|c| chars.get(c * rows + r)).collect::<String>().trim_end().to_string()).collect()
}

/// Parses one miMATRIX payload into (name, value), charging `budget` for each array, value
/// and character before it is converted.
fn matrix(payload: &[u8], big_endian: bool, depth: usize, budget: &Budget) -> Result<(String, MatValue), Failure> {
    if depth > MAX_DEPTH {
        return Err(format!("nesting deeper than {MAX_DEPTH} levels").into());
    }
    budget.object("an array")?;
    if payload.is_empty() {
        return Ok((String::new(), MatValue::Numeric { dims: vec![0, 0], data: vec![] }));
    }
    let mut r = Reader { buf: payload, pos: 0, big_endian };
    let (_, flags) = r.element()?;
    let flags = numbers(MI_UINT32, flags, big_endian)?;
    let class = flags.first().copied().unwrap_or(0.0) as u32 as u8;
    let (_, dims) = r.element()?;
    let dims: Vec<usize> = numbers(MI_INT32, dims, big_endian)?.into_iter().map(|d| d.max(0.0) as usize).collect();
    let count = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).ok_or("dimensions overflow")?;
    let (_, name) = r.element()?;
    let name = String::from_utf8_lossy(name).into_owned();
    let value = match class {
        MX_CELL => {
            budget.objects(count as u64, || format!("cell '{name}' ({count} elements)"))?;
            let mut items = Vec::with_capacity(count.min(payload.len() / 8));
            for _ in 0..count {
                let (ty, sub) = r.element()?;
                if ty != MI_MATRIX {
                    return Err(format!("cell '{name}' holds a type-{ty} element, expected a matrix").into());
                }
                items.push(matrix(sub, big_endian, depth + 1, budget)?.1);
            }
            MatValue::Cell { dims, items }
        }
        MX_STRUCT | MX_OBJECT => {
            if class == MX_OBJECT {
                r.element()?; // class name
            }
            let (_, len) = r.element()?;
            let len = numbers(MI_INT32, len, big_endian)?.first().copied().unwrap_or(0.0) as usize;
            let (_, raw) = r.element()?;
            budget.text(raw.len() as u64, || format!("the field names of struct '{name}'"))?;
            if len == 0 && !raw.is_empty() {
                return Err(format!("struct '{name}' has a zero field-name length").into());
            }
            let fields: Vec<String> = raw
                .chunks(len.max(1))
                .map(|c| String::from_utf8_lossy(c.split(|&b| b == 0).next().unwrap_or_default()).into_owned())
                .filter(|f| !f.is_empty())
                .collect();
            // Each element holds at least one byte per field; a fieldless struct holds none, so
            // its declared size is checked against the payload instead (found by fuzzing).
            if count > payload.len() {
                return Err(format!("struct '{name}' declares {count} elements in {} bytes", payload.len()).into());
            }
            budget.objects(count as u64, || format!("struct array '{name}' ({count} elements)"))?;
            let mut items = Vec::with_capacity(count.min(payload.len() / 8));
            for _ in 0..count {
                let mut element = Vec::with_capacity(fields.len());
                for _ in &fields {
                    let (ty, sub) = r.element()?;
                    if ty != MI_MATRIX {
                        return Err(format!("struct '{name}' holds a type-{ty} field, expected a matrix").into());
                    }
                    element.push(matrix(sub, big_endian, depth + 1, budget)?.1);
                }
                items.push(element);
            }
            MatValue::Struct { dims, fields, items }
        }
        MX_CHAR => {
            let (ty, data) = if r.at_end() { (MI_UTF8, &[][..]) } else { r.element()? };
            if count > data.len() {
                return Err(format!("char array '{name}' declares {count} characters in {} bytes", data.len()).into());
            }
            budget.text(data.len() as u64, || format!("char array '{name}'"))?;
            MatValue::Char { rows: char_rows(ty, data, &dims, big_endian)? }
        }
        MX_SPARSE => MatValue::Unsupported("sparse array".into()),
        6..=15 => {
            let (ty, data) = r.element()?;
            budget.values(count as u64, || format!("array '{name}' ({})", dims.iter().map(ToString::to_string).collect::<Vec<_>>().join("×")))?;
            // the stored element must hold exactly the declared values before any is converted
            if let Some(width) = storage_width(ty)
                && data.len() / width != count
            {
                return Err(format!("array '{name}' declares {count} values but holds {}", data.len() / width).into());
            }
            let values = numbers(ty, data, big_endian)?;
            if values.len() != count {
                return Err(format!("array '{name}' declares {count} values but holds {}", values.len()).into());
            }
            MatValue::Numeric { dims, data: values }
        }
        other => MatValue::Unsupported(format!("MATLAB class {other}")),
    };
    Ok((name, value))
}

/// Inflates one compressed variable no further than its tag declares and `budget` could hold.
/// A numeric array is charged its declared values from its header, before the rest is inflated.
fn inflate(payload: &[u8], big_endian: bool, budget: &Budget) -> Result<Vec<u8>, Failure> {
    let mut decoder = ZlibDecoder::new(payload);
    let mut out = Vec::new();
    let corrupt = |e: std::io::Error| Failure::Invalid(format!("corrupt compressed data: {e}"));
    (&mut decoder).take(PEEK_BYTES).read_to_end(&mut out).map_err(corrupt)?;
    let room = budget
        .values_left()
        .saturating_mul(8)
        .saturating_add(budget.text_left())
        .saturating_add(TAG_BYTES_PER_OBJECT * 1000)
        .min(budget.inflated_left());
    let mut declared_end = u64::MAX;
    if let Some((declared, count)) = peek_matrix(&out, big_endian) {
        declared_end = declared + 8;
        // the early refusal: the array is charged exactly when it is parsed
        if let Some(count) = count.filter(|&c| c > budget.values_left()) {
            budget.values(count, "a compressed array")?;
        }
    }
    let cap = room.min(declared_end);
    let rest = (cap + 1).saturating_sub(out.len() as u64);
    decoder.take(rest).read_to_end(&mut out).map_err(corrupt)?;
    if out.len() as u64 > declared_end {
        return Err(Failure::Invalid(format!("the compressed data inflates past the {declared_end} bytes its tag declares")));
    }
    if out.len() as u64 > cap {
        return Err(Failure::Over(budget.inflating(cap, "a compressed variable")));
    }
    budget.inflated(out.len() as u64, "a compressed variable")?;
    Ok(out)
}

/// From the first inflated bytes of a variable: its declared size and, for a numeric array,
/// its declared number of values.
fn peek_matrix(head: &[u8], big_endian: bool) -> Option<(u64, Option<u64>)> {
    let mut r = Reader { buf: head, pos: 0, big_endian };
    if r.u32().ok()? != MI_MATRIX {
        return None;
    }
    let declared = u64::from(r.u32().ok()?);
    let flags = numbers(MI_UINT32, r.element().ok()?.1, big_endian).ok()?;
    let class = flags.first().copied().unwrap_or(0.0) as u32 as u8;
    let dims = numbers(MI_INT32, r.element().ok()?.1, big_endian).ok()?;
    let count = (6..=15).contains(&class).then(|| super::budget::product(dims.iter().map(|&d| d.max(0.0) as u64)).unwrap_or(u64::MAX));
    Some((declared, count))
}

/// Every top-level variable of a v5 MAT-file, within `budget`: a compressed variable is
/// inflated no further than its tag declares and the budget could hold.
pub fn variables(file: &str, bytes: &[u8], budget: &Budget) -> Result<Vec<(String, MatValue)>, FormatError> {
    let err = |m: String| FormatError::invalid(file, format!("MATLAB v5: {m}"));
    if bytes.len() < 128 {
        return Err(err(format!("the 128-byte header is truncated ({} bytes)", bytes.len())));
    }
    let big_endian = match &bytes[126..128] {
        b"IM" => false,
        b"MI" => true,
        other => return Err(err(format!("bad byte-order mark {other:?} in the header"))),
    };
    let mut r = Reader { buf: &bytes[128..], pos: 0, big_endian };
    let mut vars = Vec::new();
    while !r.at_end() {
        let (ty, payload) = r.element().map_err(|m| err(format!("variable {}: {m}", vars.len() + 1)))?;
        let inflated;
        let (ty, payload) = if ty == MI_COMPRESSED {
            let at = vars.len() + 1;
            inflated = inflate(payload, big_endian, budget).map_err(|f| match f {
                Failure::Invalid(m) => err(format!("variable {at}: {m}")),
                Failure::Over(e) => FormatError::over(file, e),
            })?;
            let mut inner = Reader { buf: &inflated, pos: 0, big_endian };
            inner.element().map_err(|m| err(format!("variable {at}: {m}")))?
        } else {
            (ty, payload)
        };
        if ty != MI_MATRIX {
            continue; // other top-level elements carry no variables
        }
        let parsed = matrix(payload, big_endian, 0, budget).map_err(|f| match f {
            Failure::Invalid(m) => err(format!("variable {}: {m}", vars.len() + 1)),
            Failure::Over(e) => FormatError::over(file, e),
        })?;
        vars.push(parsed);
    }
    Ok(vars)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variables(file: &str, bytes: &[u8]) -> Result<Vec<(String, MatValue)>, FormatError> {
        super::variables(file, bytes, &Budget::new(crate::data::formats::budget::FILE))
    }

    /// A little-endian element with padding.
    fn el(ty: u32, data: &[u8]) -> Vec<u8> {
        let mut v = ty.to_le_bytes().to_vec();
        v.extend((data.len() as u32).to_le_bytes());
        v.extend_from_slice(data);
        v.resize(v.len() + (8 - data.len() % 8) % 8, 0);
        v
    }

    fn i32s(v: &[i32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    fn header() -> Vec<u8> {
        let mut h = b"MATLAB 5.0 MAT-file, test".to_vec();
        h.resize(124, b' ');
        h.extend([0x00, 0x01]);
        h.extend(b"IM");
        h
    }

    fn double_matrix(name: &str, dims: &[i32], values: &[f64]) -> Vec<u8> {
        let mut m = el(MI_UINT32, &i32s(&[6, 0]));
        m.extend(el(MI_INT32, &i32s(dims)));
        m.extend(el(MI_INT8, name.as_bytes()));
        m.extend(el(MI_DOUBLE, &values.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<_>>()));
        el(MI_MATRIX, &m)
    }

    #[test]
    fn reads_a_plain_and_a_compressed_double_matrix() {
        use flate2::{Compression, write::ZlibEncoder};
        use std::io::Write;
        let mut file = header();
        file.extend(double_matrix("a", &[2, 1], &[1.5, -2.0]));
        let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
        z.write_all(&double_matrix("b", &[1, 1], &[7.0])).unwrap();
        let z = z.finish().unwrap();
        file.extend(15u32.to_le_bytes());
        file.extend((z.len() as u32).to_le_bytes());
        file.extend(z);
        let vars = variables("t.mat", &file).unwrap();
        assert_eq!(vars[0], ("a".into(), MatValue::Numeric { dims: vec![2, 1], data: vec![1.5, -2.0] }));
        assert_eq!(vars[1], ("b".into(), MatValue::Numeric { dims: vec![1, 1], data: vec![7.0] }));
    }

    #[test]
    fn truncation_and_lies_are_errors_not_panics() {
        let mut file = header();
        file.extend(double_matrix("a", &[2, 1], &[1.5, -2.0]));
        for cut in [10, 130, 150, file.len() - 3] {
            assert!(variables("t.mat", &file[..cut]).is_err(), "cut at {cut} should fail");
        }
        let mut lying = header();
        lying.extend(double_matrix("a", &[1000, 1000], &[1.0]));
        let err = variables("t.mat", &lying).unwrap_err().to_string();
        assert!(err.contains("declares 1000000 values"), "{err}");
    }

    #[test]
    fn utf16_chars_split_into_rows() {
        // 2×2 char array "ab" / "cd", column-major: a c b d
        let units: Vec<u8> = "acbd".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        assert_eq!(char_rows(MI_UINT16, &units, &[2, 2], false).unwrap(), vec!["ab", "cd"]);
    }
}
