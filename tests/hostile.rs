//! The hostile-input corpus, run as a stranger's files would be: each case (a file, a drop of
//! files, a spec, a model file) goes through the CLI in a child process limited to 1 GiB of
//! address space and 5 seconds. Each must end with a message naming what was wrong and where;
//! none may panic, abort (an allocation failure under the limit aborts), or hang.
//!
//! Cases: the in-process corpus of `malformed.rs`; decompression bombs (NPZ, MAT v5, chunked
//! HDF5); link and reference cycles (an HDF5 group hard-linked to itself, a MATLAB v7.3 cell
//! referring to itself); shape products that overflow u64, or u32 as on wasm32; huge label and
//! state counts; recordings of zero, one and two frames in every format; specs with each field
//! out of bounds; model files that lie; and truncated and bit-flipped versions of every real
//! Kato file (those may still load, when a flip lands in plain numbers: they must not crash).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{corpus, f4, flip, kato, npy, npz};
use hdf5_pure::{AttrValue, FileBuilder};

/// Cases written to `target/hostile/` for the end-to-end tests to drop on the page.
const E2E_FIXTURES: [&str; 4] = ["bomb-declared.npz", "bomb.mat", "self-linked.h5", "reference-cycle.mat"];

/// Address space each case may use.
const MEMORY_BYTES: u64 = 1 << 30;
/// Wall time each case may take.
const SECONDS: f64 = 5.0;

/// What a case must do.
#[derive(Clone, Copy)]
enum Expect {
    /// Exit 1 with a message holding the file's name and this phrase.
    Refused(&'static str),
    /// Anything but a crash or a hang; a refusal must still name the file (mutated real files).
    Survives,
    /// Exit 0, printing this phrase (what was loaded, and what was not used and why).
    Loads(&'static str),
}

/// How the CLI is given the case.
#[derive(Clone, Copy, PartialEq)]
enum Verb {
    /// `inspect FILES`
    Inspect,
    /// `run SPEC` (the first file)
    Run,
    /// `run SPEC --file F…` (a spec whose data are files)
    RunFiles,
    /// `apply MODEL RECORDING`
    Apply,
}

struct Case {
    name: String,
    verb: Verb,
    files: Vec<(String, Vec<u8>)>,
    expect: Expect,
}

fn case(name: &str, verb: Verb, files: Vec<(String, Vec<u8>)>, expect: Expect) -> Case {
    Case { name: name.to_string(), verb, files, expect }
}

fn one(name: &str, bytes: Vec<u8>, phrase: &'static str) -> Case {
    case(name, Verb::Inspect, vec![(name.to_string(), bytes)], Expect::Refused(phrase))
}

// ---------------------------------------------------------------------------------------------
// Builders

/// A little-endian MAT v5 data element, padded to 8 bytes.
fn mat_element(ty: u32, data: &[u8]) -> Vec<u8> {
    let mut v = ty.to_le_bytes().to_vec();
    v.extend((data.len() as u32).to_le_bytes());
    v.extend_from_slice(data);
    v.resize(v.len() + (8 - data.len() % 8) % 8, 0);
    v
}

fn i32s(v: &[i32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn mat_header() -> Vec<u8> {
    let mut h = b"MATLAB 5.0 MAT-file, hostile corpus".to_vec();
    h.resize(124, b' ');
    h.extend([0x00, 0x01]);
    h.extend(b"IM");
    h
}

/// A miMATRIX of class `class` (6 double, 9 uint8) with `dims`, data element `data` of `ty`.
fn mat_matrix(name: &str, class: i32, dims: &[i32], ty: u32, data: &[u8]) -> Vec<u8> {
    let mut m = mat_element(6, &i32s(&[class, 0]));
    m.extend(mat_element(5, &i32s(dims)));
    m.extend(mat_element(1, name.as_bytes()));
    m.extend(mat_element(ty, data));
    mat_element(14, &m)
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(data).unwrap();
    z.finish().unwrap()
}

/// A compressed MAT v5 variable whose inflated element is `element`.
fn mat_compressed(element: &[u8]) -> Vec<u8> {
    let z = zlib(element);
    let mut out = 15u32.to_le_bytes().to_vec();
    out.extend((z.len() as u32).to_le_bytes());
    out.extend(z);
    out
}

/// A compressed MAT v5 variable whose tag declares a uint8 array of `rows × cols` followed by
/// `zeros` bytes of zeros, inflated from a stream written in pieces (never held whole here).
fn mat_uint8_bomb(rows: i32, cols: i32, zeros: usize) -> Vec<u8> {
    let mut head = mat_element(6, &i32s(&[9, 0]));
    head.extend(mat_element(5, &i32s(&[rows, cols])));
    head.extend(mat_element(1, b"bomb"));
    let data_len = (rows as u64 * cols as u64) as u32;
    head.extend(2u32.to_le_bytes()); // miUINT8
    head.extend(data_len.to_le_bytes());
    let total = head.len() as u64 + data_len as u64;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(&14u32.to_le_bytes()).unwrap();
    z.write_all(&(total.min(u32::MAX as u64) as u32).to_le_bytes()).unwrap();
    z.write_all(&head).unwrap();
    let block = vec![0u8; 1 << 20];
    let mut left = zeros;
    while left > 0 {
        let n = left.min(block.len());
        z.write_all(&block[..n]).unwrap();
        left -= n;
    }
    let z = z.finish().unwrap();
    let mut out = mat_header();
    out.extend(15u32.to_le_bytes());
    out.extend((z.len() as u32).to_le_bytes());
    out.extend(z);
    out
}

/// An NPZ whose one member is deflated: an NPY header declaring `shape` of `descr`, then
/// `zeros` bytes of zeros (written in pieces).
fn npz_deflated(descr: &str, shape: &str, zeros: usize) -> Vec<u8> {
    let header = npy(descr, shape, &[]);
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated).large_file(zeros > u32::MAX as usize / 2);
    zip.start_file("traces.npy", options).unwrap();
    zip.write_all(&header).unwrap();
    let block = vec![0u8; 1 << 20];
    let mut left = zeros;
    while left > 0 {
        let n = left.min(block.len());
        zip.write_all(&block[..n]).unwrap();
        left -= n;
    }
    zip.finish().unwrap().into_inner()
}

/// The issue's NPZ: about 2 MB on disk, 8 members each inflating to 256 MiB of zeros behind an
/// NPY header that declares them (2 GiB in all). Written by hand — the deflate stream is one
/// compressed MiB of zeros repeated (each piece ends on a sync flush, so pieces chain), which
/// no zip writer can be asked for without compressing 2 GiB here.
fn npz_two_gib() -> Vec<u8> {
    use flate2::write::DeflateEncoder;
    const MIB: usize = 1 << 20;
    const PIECES: usize = 256;
    let mut piece = DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    piece.write_all(&vec![0u8; MIB]).unwrap();
    piece.flush().unwrap(); // a sync flush: the piece ends on a byte boundary, not final
    let piece = piece.get_ref().clone();
    let header = npy("|u1", &format!("({},)", PIECES * MIB - 128), &[]);
    let body_len = header.len() + PIECES * MIB - 128;
    let mut out = Vec::new();
    let mut central = Vec::new();
    for m in 0..8 {
        let name = format!("m{m}.npy");
        let mut head = DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        head.write_all(&header).unwrap();
        head.flush().unwrap();
        let mut data = head.get_ref().clone();
        for _ in 0..PIECES - 1 {
            data.extend_from_slice(&piece);
        }
        let mut last = DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        last.write_all(&vec![0u8; MIB - 128]).unwrap();
        data.extend(last.finish().unwrap());
        let mut crc = flate2::Crc::new();
        crc.update(&header);
        let zeros = vec![0u8; MIB];
        for _ in 0..PIECES - 1 {
            crc.update(&zeros);
        }
        crc.update(&zeros[..MIB - 128]);
        let offset = out.len() as u32;
        let fields = |sig: u32| {
            let mut h = sig.to_le_bytes().to_vec();
            if sig == 0x0201_4b50 {
                h.extend(20u16.to_le_bytes()); // made by
            }
            h.extend(20u16.to_le_bytes()); // version needed
            h.extend(0u16.to_le_bytes()); // flags
            h.extend(8u16.to_le_bytes()); // deflate
            h.extend([0u8; 4]); // time, date
            h.extend(crc.sum().to_le_bytes());
            h.extend((data.len() as u32).to_le_bytes());
            h.extend((body_len as u32).to_le_bytes());
            h.extend((name.len() as u16).to_le_bytes());
            h.extend(0u16.to_le_bytes()); // extra
            h
        };
        out.extend(fields(0x0403_4b50));
        out.extend(name.as_bytes());
        out.extend(&data);
        let mut c = fields(0x0201_4b50);
        c.extend([0u8; 6]); // comment length, disk, internal attributes
        c.extend(0u32.to_le_bytes()); // external attributes
        c.extend(offset.to_le_bytes());
        c.extend(name.as_bytes());
        central.push(c);
    }
    let start = out.len() as u32;
    let size: usize = central.iter().map(Vec::len).sum();
    out.extend(central.concat());
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0u8; 4]);
    out.extend(8u16.to_le_bytes());
    out.extend(8u16.to_le_bytes());
    out.extend((size as u32).to_le_bytes());
    out.extend(start.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

fn text(s: &str) -> AttrValue {
    AttrValue::String(s.into())
}

/// Bob Jenkins' lookup3 `hashlittle`, the checksum of HDF5's version-2 object headers.
fn lookup3(key: &[u8], initval: u32) -> u32 {
    let rot = |x: u32, k: u32| x.rotate_left(k);
    let mut a = 0xdead_beefu32.wrapping_add(key.len() as u32).wrapping_add(initval);
    let (mut b, mut c) = (a, a);
    let word = |k: &[u8]| u32::from_le_bytes([k[0], k[1], k[2], k[3]]);
    let mut k = key;
    while k.len() > 12 {
        a = a.wrapping_add(word(&k[0..4]));
        b = b.wrapping_add(word(&k[4..8]));
        c = c.wrapping_add(word(&k[8..12]));
        a = a.wrapping_sub(c); a ^= rot(c, 4); c = c.wrapping_add(b);
        b = b.wrapping_sub(a); b ^= rot(a, 6); a = a.wrapping_add(c);
        c = c.wrapping_sub(b); c ^= rot(b, 8); b = b.wrapping_add(a);
        a = a.wrapping_sub(c); a ^= rot(c, 16); c = c.wrapping_add(b);
        b = b.wrapping_sub(a); b ^= rot(a, 19); a = a.wrapping_add(c);
        c = c.wrapping_sub(b); c ^= rot(b, 4); b = b.wrapping_add(a);
        k = &k[12..];
    }
    if k.is_empty() {
        return c;
    }
    let mut tail = [0u8; 12];
    tail[..k.len()].copy_from_slice(k);
    a = a.wrapping_add(word(&tail[0..4]));
    b = b.wrapping_add(word(&tail[4..8]));
    c = c.wrapping_add(word(&tail[8..12]));
    c ^= b; c = c.wrapping_sub(rot(b, 14));
    a ^= c; a = a.wrapping_sub(rot(c, 11));
    b ^= a; b = b.wrapping_sub(rot(a, 25));
    c ^= b; c = c.wrapping_sub(rot(b, 16));
    a ^= c; a = a.wrapping_sub(rot(c, 4));
    b ^= a; b = b.wrapping_sub(rot(a, 14));
    c ^= b; c = c.wrapping_sub(rot(b, 24));
    c
}

/// The version-2 object headers of an HDF5 file: (address, chunk start, chunk end) where the
/// checksum follows the chunk.
fn object_headers(bytes: &[u8]) -> Vec<(usize, usize, usize)> {
    let mut out = Vec::new();
    for at in (0..bytes.len().saturating_sub(8)).filter(|&i| &bytes[i..i + 4] == b"OHDR" && bytes[i + 4] == 2) {
        let flags = bytes[at + 5];
        let mut pos = at + 6 + if flags & 0x20 != 0 { 16 } else { 0 } + if flags & 0x10 != 0 { 4 } else { 0 };
        let width = 1usize << (flags & 3);
        let size = bytes[pos..pos + width].iter().rev().fold(0usize, |acc, &b| acc << 8 | b as usize);
        pos += width;
        if pos + size + 4 <= bytes.len() {
            out.push((at, pos, pos + size));
        }
    }
    out
}

/// A plain HDF5 file (or NWB / MATLAB v7.3, by `flavour`) holding a group whose `links`
/// member groups are all hard links back to the group itself: a cycle `g/a/a/a/…` with
/// `links` branches at every level. hdf5-pure writes no hard link to an existing group, so
/// the file is written with separate children and their addresses are then pointed at the
/// group, its header checksum recomputed.
fn hdf5_self_linked(flavour: &str, links: usize) -> Vec<u8> {
    let mut b = FileBuilder::new();
    match flavour {
        "nwb" => b.set_attr("nwb_version", text("2.7.0")),
        "mat" => {
            b.with_userblock(512);
            b.with_userblock_content(b"MATLAB 7.3 MAT-file");
        }
        _ => {}
    }
    let top = if flavour == "nwb" { "processing" } else { "g" };
    let mut g = b.create_group(top);
    if flavour == "mat" {
        g.set_attr("MATLAB_class", text("struct"));
    }
    for i in 0..links {
        let child = g.create_group(&format!("c{i}"));
        g.add_group(child.finish());
    }
    b.add_group(g.finish());
    let mut bytes = b.finish().unwrap();
    let base = if flavour == "mat" { 512 } else { 0 };
    let headers = object_headers(&bytes);
    let address = |at: usize| ((at - base) as u64).to_le_bytes();
    // the group is the header that links to `links` other headers
    let (g_at, start, end) = headers
        .iter()
        .copied()
        .find(|&(_, s, e)| headers.iter().filter(|(o, _, _)| bytes[s..e].windows(8).any(|w| w == address(*o))).count() == links)
        .expect("the group's header links to its children");
    let stored = u32::from_le_bytes(bytes[end..end + 4].try_into().unwrap());
    assert_eq!(lookup3(&bytes[g_at..end], 0), stored, "lookup3 reproduces the writer's checksum");
    for &(child, _, _) in headers.iter().filter(|(o, _, _)| *o != g_at) {
        let from = address(child);
        let hits: Vec<usize> = (start..end - 8).filter(|&i| bytes[i..i + 8] == from).collect();
        for i in hits {
            bytes[i..i + 8].copy_from_slice(&address(g_at));
        }
    }
    let sum = lookup3(&bytes[g_at..end], 0);
    bytes[end..end + 4].copy_from_slice(&sum.to_le_bytes());
    bytes
}

/// A MATLAB v7.3 file whose cell `#refs#/loop` holds `refs` references to itself.
fn mat73_reference_cycle(refs: usize) -> Vec<u8> {
    let mut b = FileBuilder::new();
    b.with_userblock(512);
    b.with_userblock_content(b"MATLAB 7.3 MAT-file");
    let mut group = b.create_group("#refs#");
    let paths = vec!["#refs#/loop"; refs];
    group.create_dataset("loop").with_path_references(&paths).with_shape(&[refs as u64, 1]).set_attr("MATLAB_class", text("cell"));
    b.add_group(group.finish());
    let mut top = b.create_group("worm");
    top.set_attr("MATLAB_class", text("struct"));
    top.create_dataset("deltaFOverF_bc").with_path_references(&paths).with_shape(&[refs as u64, 1]).set_attr("MATLAB_class", text("cell"));
    b.add_group(top.finish());
    b.finish().unwrap()
}

/// A plain HDF5 file with one chunked, deflated dataset of `rows × cols` zeros (u8).
fn hdf5_chunked_zeros(rows: u64, cols: u64) -> Vec<u8> {
    let mut b = FileBuilder::new();
    let zeros = vec![0u8; (rows * cols) as usize];
    b.create_dataset("traces").with_u8_data(&zeros).with_shape(&[rows, cols]).with_chunks(&[rows.min(1024), cols.min(1024)]).with_deflate(1);
    b.finish().unwrap()
}

/// An NWB file with a RoiResponseSeries of `frames × neurons`.
fn nwb(frames: usize, neurons: usize) -> Vec<u8> {
    let mut b = FileBuilder::new();
    b.set_attr("nwb_version", text("2.7.0"));
    let mut processing = b.create_group("processing");
    let mut ophys = processing.create_group("ophys");
    let mut series = ophys.create_group("DfOverF");
    series.set_attr("neurodata_type", text("RoiResponseSeries"));
    series.create_dataset("data").with_f64_data(&vec![0.5; frames * neurons]).with_shape(&[frames as u64, neurons as u64]);
    series.create_dataset("starting_time").with_f64_data(&[0.0]).set_attr("rate", AttrValue::F64(2.0));
    ophys.add_group(series.finish());
    processing.add_group(ophys.finish());
    b.add_group(processing.finish());
    b.finish().unwrap()
}

/// A CSV of `frames` rows of 3 neurons, with a state column.
fn csv_frames(frames: usize) -> Vec<u8> {
    let mut s = String::from("AVAL,AVAR,RIML,state\n");
    for t in 0..frames {
        s.push_str(&format!("{t},{},{},fwd\n", t * 2, t % 3));
    }
    s.into_bytes()
}

/// A saved model file with `about` edited by `edit` (CBOR, as the page and the CLI write).
fn model_file(edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut v = serde_json::json!({
        "format": "neurognn-model", "version": 1,
        "model": {"kind": "mlp", "hidden": 4, "layers": 1},
        "task": {"task": "next_step"},
        "preprocess": {"history": 2, "change": false},
        "neurons": ["AVAL", "AVAR", "RIML"],
        "shape": {"history": 2, "nodes": 3, "features": 1},
        "head": "Nodes",
        "incoming": null,
        "trained_on": "hostile corpus",
        "seed": 0,
        "parameters": [
            {"shape": [6, 4], "values": vec![0.1f32; 24]}, {"shape": [4], "values": vec![0.0f32; 4]},
            {"shape": [4, 3], "values": vec![0.1f32; 12]}, {"shape": [3], "values": vec![0.0f32; 3]}
        ]
    });
    edit(&mut v);
    let mut out = Vec::new();
    ciborium::into_writer(&v, &mut out).unwrap();
    out
}

fn spec_case(name: &str, json: &str, phrase: &'static str) -> Case {
    case(name, Verb::Run, vec![(format!("{name}.json"), json.as_bytes().to_vec())], Expect::Refused(phrase))
}

// ---------------------------------------------------------------------------------------------
// The corpus

fn hostile_cases() -> Vec<Case> {
    let mut cases: Vec<Case> = corpus().into_iter().map(|(name, bytes, phrase)| one(&name, bytes, phrase)).collect();
    let grid = f4(&[0.5; 12]);

    // decompression bombs
    cases.push(one("bomb-declared.npz", npz_deflated("|u1", "(16384, 16384)", 1 << 28), "needs 268435456 values"));
    let two_gib = npz_two_gib();
    assert!(two_gib.len() < 4 << 20, "the 2 GiB NPZ is {} bytes", two_gib.len());
    cases.push(one("bomb-2gib.npz", two_gib, "needs 268435328 values"));
    cases.push(one("bomb-lying-header.npz", npz_deflated("<f4", "(4, 3)", 1 << 28), "more data than the 48 bytes"));
    cases.push(one("bomb-f8.npz", npz_deflated("<f8", "(8192, 8192)", 1 << 26), "needs 67108864 values"));
    cases.push(one("bomb.mat", mat_uint8_bomb(16384, 16384, 1 << 28), "needs 268435456 values"));
    cases.push(one("bomb-small-tag.mat", mat_uint8_bomb(4, 3, 1 << 27), "inflates past the 76 bytes its tag declares"));
    cases.push(one("bomb-chunked.h5", hdf5_chunked_zeros(6000, 6000), "needs 36000000 values"));
    // cycles
    cases.push(one("self-linked.h5", hdf5_self_linked("plain", 8), "cycle"));
    cases.push(one("self-linked.nwb", hdf5_self_linked("nwb", 8), "cycle"));
    cases.push(one("self-linked.mat", hdf5_self_linked("mat", 8), "nested deeper"));
    cases.push(one("reference-cycle.mat", mat73_reference_cycle(8), "cycle"));
    cases.push(one("reference-cycle-1.mat", mat73_reference_cycle(1), "nested deeper"));
    // shapes whose products overflow
    cases.push(one("overflow-u64.npy", npy("<f4", "(4294967296, 4294967296, 16)", &grid), "overflows"));
    cases.push(one("overflow-u32.npy", npy("<f4", "(65536, 65537)", &grid), "declares 4295032832 values"));
    cases.push(one("overflow-u32-u1.npz", npz(&[("traces", npy("|u1", "(65536, 65537)", &grid))]), "needs 4295032832 values"));
    cases.push(one("overflow.mat", [mat_header(), mat_matrix("x", 6, &[i32::MAX, i32::MAX, 4], 9, &grid)].concat(), "needs 18446744056529682436 values"));
    cases.push(one("overflow-compressed.mat", [mat_header(), mat_compressed(&mat_matrix("x", 6, &[i32::MAX, i32::MAX], 9, &grid))].concat(), "needs 4611686014132420609 values"));
    // found in review: element counts, field names and storage widths charged before use
    let struct_of = |dims: &[i32], names: &[u8], padding: usize| {
        let mut m = mat_element(6, &i32s(&[2, 0]));
        m.extend(mat_element(5, &i32s(dims)));
        m.extend(mat_element(1, b"s"));
        m.extend(mat_element(5, &i32s(&[1])));
        m.extend(mat_element(1, names));
        m.extend(vec![0u8; padding]);
        mat_element(14, &m)
    };
    cases.push(one("field-names.mat", [mat_header(), mat_compressed(&struct_of(&[0, 0], &vec![b'a'; 80 << 20], 0))].concat(), "the field names of struct 's'"));
    cases.push(one("fieldless.mat", [mat_header(), mat_compressed(&struct_of(&[1, 30_000_000], b"", 30_000_000))].concat(), "struct array 's' (30000000 elements)"));
    cases.push(one("huge-cell.mat", [mat_header(), {
        let mut m = mat_element(6, &i32s(&[1, 0]));
        m.extend(mat_element(5, &i32s(&[1, 2_000_000_000])));
        m.extend(mat_element(1, b"c"));
        mat_element(14, &m)
    }].concat(), "cell 'c' (2000000000 elements)"));
    cases.push(one("narrow-storage.mat", [mat_header(), mat_compressed(&mat_matrix("x", 6, &[1, 1], 1, &vec![7u8; 10 << 20]))].concat(), "declares 1 values but holds 10485760"));
    cases.push(one("raw-void.npy", npy("|V2000000000", "(1,)", &[]), "not supported"));
    cases.push(one("list-shape.npy", npy("<f4", "[4294967296, 4294967296, 16]", &grid), "overflows"));
    cases.push(one("huge-header.npz", npz(&[("traces", {
        let mut b = b"\x93NUMPY\x02\x00".to_vec();
        b.extend((1u32 << 30).to_le_bytes());
        b.extend(b"{'descr'");
        b
    })]), "header claims 1073741824 bytes"));
    // huge label and state counts
    let many_states: String = std::iter::once("AVAL,AVAR,state\n".to_string()).chain((0..200_000).map(|t| format!("{t},{t},s{t}\n"))).collect();
    cases.push(one("many-states.csv", many_states.into_bytes(), "200000 behavioural states"));
    let big_index = npz(&[("traces", npy("<f4", "(4, 3)", &grid)), ("states", npy("<i8", "(4,)", &i64s(&[0, 1, 4_000_000_000, 1])))]);
    cases.push(case("big-label-index.npz", Verb::Inspect, vec![("big-label-index.npz".into(), big_index)], Expect::Loads("labels not used: label value 4000000000 is too large")));
    cases.push(case(
        "huge-state-index",
        Verb::Inspect,
        vec![("rec.csv".into(), csv_frames(4)), ("rec_y.csv".into(), b"0,1,4000000000,1\n".to_vec())],
        Expect::Refused("state index 4000000000"),
    ));
    cases.push(one("many-members.npz", npz(&(0..10_001).map(|i| (format!("m{i}"), npy("<f4", "(1,)", &[0; 4]))).collect::<Vec<_>>().iter().map(|(n, b)| (n.as_str(), b.clone())).collect::<Vec<_>>()), "10001 members"));
    let long_names: String = std::iter::once((0..70_000).map(|i| format!("n{i}")).collect::<Vec<_>>().join(",") + "\n").chain((0..3).map(|_| vec!["1"; 70_000].join(",") + "\n")).collect();
    cases.push(case("wide.csv", Verb::Inspect, vec![("wide.csv".into(), long_names.into_bytes())], Expect::Survives));
    // recordings with too few frames, in every format
    // (an array alone has no names, so its longer axis is time: a 2 × 3 array is 3 frames of
    // 2 neurons; names fix the orientation)
    for frames in [0usize, 1, 2] {
        let fr: &'static str = Box::leak(format!("has {frames} frames").into_boxed_str());
        cases.push(one(&format!("frames-{frames}.csv"), csv_frames(frames), if frames == 0 { "not a recording" } else { fr }));
        let named = npz(&[("traces", npy("<f4", &format!("({frames}, 3)"), &vec![0u8; frames * 12])), ("neuron_names", common::text_npy(&["AVAL", "AVAR", "RIML"]))]);
        cases.push(one(&format!("frames-{frames}.npz"), named, if frames == 1 { "no 2-D numeric array" } else { fr }));
        cases.push(one(&format!("frames-{frames}.nwb"), nwb(frames, 3), if frames == 0 { "is empty" } else { fr }));
    }
    cases.push(one("frames-0.npy", npy("<f4", "(0, 3)", &[]), "no neurons"));
    cases.push(one("frames-0.mat", [mat_header(), mat_matrix("deltaFOverF_bc", 6, &[0, 3], 9, &[])].concat(), "no neurons"));
    cases.push(one("zero-neurons.nwb", nwb(5, 0), "is empty"));
    // specs, each with one field out of bounds
    for (name, json, phrase) in [
        ("spec-horizon", r#"{"rollout_horizon": 4000000000}"#, "rollout_horizon is 4000000000"),
        ("spec-steps-0", r#"{"train": {"steps": 0}}"#, "train.steps is 0"),
        ("spec-steps-huge", r#"{"train": {"steps": 1000000000}}"#, "train.steps is 1000000000"),
        ("spec-batch-0", r#"{"train": {"batch_size": 0}}"#, "train.batch_size is 0"),
        ("spec-batch-huge", r#"{"train": {"batch_size": 100000000}}"#, "train.batch_size is 100000000"),
        ("spec-lr-negative", r#"{"train": {"learning_rate": -1}}"#, "learning_rate is -1"),
        ("spec-lr-huge", r#"{"train": {"learning_rate": 1e300}}"#, "learning_rate is"),
        ("spec-report-0", r#"{"train": {"report_every": 0}}"#, "train.report_every is 0"),
        ("spec-eval-0", r#"{"train": {"eval_every": 0}}"#, "train.eval_every is 0"),
        ("spec-patience", r#"{"train": {"patience": 99999999}}"#, "train.patience is 99999999"),
        ("spec-weight-decay", r#"{"train": {"weight_decay": 5}}"#, "train.weight_decay is 5"),
        ("spec-rollout-steps", r#"{"train": {"rollout_steps": 1000}}"#, "train.rollout_steps is 1000"),
        ("spec-teacher", r#"{"train": {"teacher_forcing_end": 2}}"#, "train.teacher_forcing_end is 2"),
        ("spec-hidden", r#"{"models": [{"kind": "mlp", "hidden": 1000000}]}"#, ".hidden is 1000000"),
        ("spec-hidden-0", r#"{"models": [{"kind": "gcn", "hidden": 0}]}"#, ".hidden is 0"),
        ("spec-layers", r#"{"models": [{"kind": "gat", "layers": 1000}]}"#, ".layers is 1000"),
        ("spec-dropout", r#"{"models": [{"kind": "mlp", "dropout": 1.0}]}"#, ".dropout is 1"),
        ("spec-edge-types", r#"{"models": [{"kind": "nri", "edge_types": 100}]}"#, ".edge_types is 100"),
        ("spec-tau", r#"{"models": [{"kind": "nri", "tau": 0}]}"#, ".tau is 0"),
        ("spec-prior", r#"{"models": [{"kind": "nri", "prior_no_edge": 1}]}"#, ".prior_no_edge is 1"),
        ("spec-model-steps", r#"{"models": [{"kind": "nri", "steps": 0}]}"#, ".steps is 0"),
        ("spec-model-batch", r#"{"models": [{"kind": "nri", "batch_size": 99999}]}"#, ".batch_size is 99999"),
        ("spec-sampling", r#"{"models": [{"kind": "nri", "sampling_from": 3}]}"#, ".sampling_from is 3"),
        ("spec-no-models", r#"{"models": []}"#, "the number of models is 0"),
        ("spec-many-models", &format!(r#"{{"models": [{}]}}"#, vec![r#"{"kind": "linear"}"#; 40].join(",")), "the number of models is 40"),
        ("spec-no-seeds", r#"{"seeds": []}"#, "the number of seeds is 0"),
        ("spec-many-seeds", &format!(r#"{{"seeds": [{}]}}"#, (0..500).map(|s| s.to_string()).collect::<Vec<_>>().join(",")), "the number of seeds is 500"),
        ("spec-no-tasks", r#"{"tasks": []}"#, "the number of tasks is 0"),
        ("spec-one-class", r#"{"tasks": [{"task": "behaviour", "name": "b", "classes": [["FWD", ["FWD"]]]}]}"#, "classes is 1"),
        ("spec-no-protocols", r#"{"protocols": []}"#, "the number of protocols is 0"),
        ("spec-history-0", r#"{"preprocess": {"history": 0}}"#, "preprocess.history is 0"),
        ("spec-history-huge", r#"{"preprocess": {"history": 1000000}}"#, "preprocess.history is 1000000"),
        ("spec-resample-0", r#"{"preprocess": {"resample_hz": 0}}"#, "preprocess.resample_hz is 0"),
        ("spec-resample-huge", r#"{"preprocess": {"resample_hz": 1e30}}"#, "preprocess.resample_hz is"),
        ("spec-split", r#"{"split": {"validation": 0.2, "test": 0.9}}"#, "split.test is 0.9"),
        ("spec-top-k", r#"{"graph": {"correlation": {"top_k": 0}}}"#, "graph.top_k is 0"),
        ("spec-animals", r#"{"data": {"source": "synthetic", "config": {"animals": 1000000}}}"#, "data.config.animals is 1000000"),
        ("spec-neurons", r#"{"data": {"source": "synthetic", "config": {"neurons": 1000000000}}}"#, "data.config.neurons is 1000000000"),
        ("spec-frames-0", r#"{"data": {"source": "synthetic", "config": {"frames": 0}}}"#, "data.config.frames is 0"),
        ("spec-fps", r#"{"data": {"source": "synthetic", "config": {"fps": 0}}}"#, "data.config.fps is 0"),
        ("spec-observed", r#"{"data": {"source": "synthetic", "config": {"observed_fraction": 0}}}"#, "observed_fraction is 0"),
        ("spec-synthetic-size", r#"{"data": {"source": "synthetic", "config": {"animals": 20, "neurons": 1000, "frames": 200000}}}"#, "the synthetic worm's values"),
        ("spec-name", &format!(r#"{{"name": "{}"}}"#, "x".repeat(5000)), "the length of name is 5000"),
        ("spec-not-json", "{\"models\": [", "not a valid experiment spec"),
        ("spec-wrong-type", r#"{"models": 3}"#, "not a valid experiment spec"),
        ("spec-deep", &format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)), "not a valid experiment spec"),
        ("spec-runs", &format!(r#"{{"seeds": [{}], "models": [{}], "tasks": [{}]}}"#, (0..100).map(|s| s.to_string()).collect::<Vec<_>>().join(","), vec![r#"{"kind": "linear"}"#; 32].join(","), vec![r#"{"task": "next_step"}"#; 16].join(",")), "the number of runs"),
    ] {
        cases.push(spec_case(name, json, phrase));
    }
    cases.push(case(
        "spec-files-without-files",
        Verb::Run,
        vec![("files.json".into(), br#"{"data": {"source": "files", "names": []}}"#.to_vec())],
        Expect::Refused("give them first"),
    ));
    cases.push(case(
        "spec-mismatched-classes",
        Verb::RunFiles,
        vec![
            ("classes.json".into(), br#"{"data": {"source": "files", "names": []}, "tasks": [{"task": "behaviour", "name": "b", "classes": [["A", ["WALK"]], ["B", ["RUN"]]]}], "preprocess": {"history": 2}}"#.to_vec()),
            ("rec.csv".into(), csv_frames(40)),
        ],
        Expect::Refused("asks for states WALK, RUN but the recordings have FWD"),
    ));
    cases.push(case(
        "spec-recording-too-short",
        Verb::RunFiles,
        vec![("short.json".into(), br#"{"data": {"source": "files", "names": []}, "preprocess": {"history": 8}}"#.to_vec()), ("rec.csv".into(), csv_frames(6))],
        Expect::Refused("windows of 8 frames of history need at least 10"),
    ));
    // model files that lie
    let recording = ("rec.csv".to_string(), csv_frames(20));
    let model = |name: &str, bytes: Vec<u8>, phrase: &'static str| case(name, Verb::Apply, vec![(format!("{name}.ngmodel"), bytes), recording.clone()], Expect::Refused(phrase));
    cases.push(model("model-hidden", model_file(|v| v["model"]["hidden"] = 1_000_000.into()), "hidden is 1000000"));
    cases.push(model("model-hidden-in-bounds", model_file(|v| v["model"]["hidden"] = 1024.into()), "needs at least"));
    cases.push(model("model-layers", model_file(|v| v["model"]["layers"] = 16.into()), "needs at least"));
    cases.push(model("model-nodes", model_file(|v| v["shape"]["nodes"] = 4_000_000_000u64.into()), "neurons for a network of 4000000000 nodes"));
    cases.push(model("model-history", model_file(|v| v["shape"]["history"] = 100_000.into()), "does not match its preprocessing"));
    cases.push(model("model-history-both", model_file(|v| {
        v["shape"]["history"] = 200.into();
        v["preprocess"]["history"] = 200.into();
    }), "needs at least"));
    cases.push(model("model-parameter-shape", model_file(|v| v["parameters"][0]["shape"] = serde_json::json!([6, 5])), "declares shape [6, 5] but holds 24 values"));
    cases.push(model("model-parameter-overflow", model_file(|v| v["parameters"][0]["shape"] = serde_json::json!([u64::MAX, u64::MAX])), "but holds 24 values"));
    cases.push(model("model-graph", model_file(|v| v["incoming"] = serde_json::json!([0.5, 0.5])), "graph does not have 3 × 3"));
    cases.push(model("model-classes", model_file(|v| v["head"] = serde_json::json!({"Classes": 4000000000u64})), "classes"));
    cases.push(model("model-version", model_file(|v| v["version"] = 99.into()), "format version 99"));
    cases.push(model("model-format", model_file(|v| v["format"] = "zip".into()), "not a NeuroGNN model file"));
    cases.push(model("model-truncated", model_file(|_| {})[..100].to_vec(), "cut short"));
    cases.push(model("model-empty", Vec::new(), "model"));
    cases.push(model("model-noise", (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 24) as u8).collect(), "model"));
    cases.push(model("model-huge-array", vec![0xa2, 0x66, b'f', b'o', b'r', b'm', b'a', b't', 0x9b, 0x0f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], "model"));
    cases.push(model("model-features", model_file(|v| v["shape"]["features"] = 9.into()), "1 or 2 features"));
    cases.push(model("model-nri-pairs", model_file(|v| {
        v["model"] = serde_json::json!({"kind": "nri", "hidden": 1, "edge_types": 8});
        v["neurons"] = serde_json::json!((0..1000).map(|i| format!("N{i}")).collect::<Vec<_>>());
        v["shape"]["nodes"] = 1000.into();
    }), "needs at least 8000003 weights"));
    // truncated and bit-flipped versions of every real file
    for rel in ["csv/worm1.csv", "npz/worm1.npz", "mat/worm1_v5.mat", "mat/WT_NoStim.mat", "nwb/worm1.nwb", "original/worm_0_y.csv"] {
        let Ok(bytes) = std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/kato2015").join(rel)) else { continue };
        let stem = rel.replace('/', "-");
        for k in 1..=9 {
            let cut = bytes.len() * k / 10 + 7;
            cases.push(case(&format!("cut{k}-{stem}"), Verb::Inspect, vec![(format!("cut{k}-{stem}"), bytes[..cut.min(bytes.len() - 1)].to_vec())], Expect::Survives));
        }
        for k in 0..12 {
            let at = (bytes.len() / 12) * k + 3;
            let name = format!("flip{k}-{stem}");
            cases.push(case(&name, Verb::Inspect, vec![(name.clone(), flip(&bytes, at, at + 16))], Expect::Survives));
        }
    }
    let _ = kato; // (the real files are read above by path, to skip those a checkout lacks)
    cases
}

fn i64s(v: &[i64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

// ---------------------------------------------------------------------------------------------
// Running a case

enum Ending {
    Exited { code: i32, stdout: String, stderr: String },
    Killed { signal: String, stderr: String },
    Hung,
}

fn run_case(bin: &Path, dir: &Path, case: &Case) -> (Ending, f64) {
    let folder = dir.join(&case.name);
    std::fs::create_dir_all(&folder).unwrap();
    let paths: Vec<PathBuf> = case
        .files
        .iter()
        .map(|(name, bytes)| {
            let path = folder.join(name);
            std::fs::write(&path, bytes).unwrap();
            path
        })
        .collect();
    let mut args: Vec<String> = Vec::new();
    let p = |k: usize| paths[k].display().to_string();
    match case.verb {
        Verb::Inspect => {
            args.push("inspect".into());
            args.extend((0..paths.len()).map(p));
        }
        Verb::Run => args.extend(["run".into(), p(0)]),
        Verb::RunFiles => {
            args.extend(["run".into(), p(0)]);
            for k in 1..paths.len() {
                args.extend(["--file".into(), p(k)]);
            }
        }
        Verb::Apply => args.extend(["apply".into(), p(0), p(1)]),
    }
    let started = Instant::now();
    let mut child = Command::new("prlimit")
        .arg(format!("--as={MEMORY_BYTES}"))
        .arg("--")
        .arg(bin)
        .args(&args)
        .env("RUST_BACKTRACE", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("prlimit (util-linux) runs the CLI");
    let drain = |pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = std::io::Read::read_to_string(&mut std::io::BufReader::new(pipe).take_bytes(1 << 20), &mut s);
            s
        })
    };
    let reader = drain(Box::new(child.stderr.take().unwrap()));
    let out_reader = drain(Box::new(child.stdout.take().unwrap()));
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let seconds = started.elapsed().as_secs_f64();
            let stderr = reader.join().unwrap_or_default();
            let stdout = out_reader.join().unwrap_or_default();
            return match status.code() {
                Some(code) => (Ending::Exited { code, stdout, stderr }, seconds),
                None => (Ending::Killed { signal: format!("{status}"), stderr }, seconds),
            };
        }
        if started.elapsed().as_secs_f64() > SECONDS {
            let _ = child.kill();
            let _ = child.wait();
            return (Ending::Hung, SECONDS);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

trait TakeBytes: std::io::Read + Sized {
    fn take_bytes(self, n: u64) -> std::io::Take<Self> {
        self.take(n)
    }
}
impl<R: std::io::Read> TakeBytes for R {}

#[test]
fn every_hostile_input_ends_in_a_message_within_5_s_and_1_gib() {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_neurognn"));
    let dir = std::env::temp_dir().join(format!("neurognn-hostile-{}", std::process::id()));
    let cases = hostile_cases();
    // the end-to-end tests drop some of these on the page
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/hostile");
    std::fs::create_dir_all(&fixtures).unwrap();
    for c in cases.iter().filter(|c| E2E_FIXTURES.contains(&c.name.as_str())) {
        std::fs::write(fixtures.join(&c.name), &c.files[0].1).unwrap();
    }
    let mut failures = Vec::new();
    let (mut refused, mut loaded, mut slowest) = (0usize, 0usize, (0.0f64, String::new()));
    for case in &cases {
        let (ending, seconds) = run_case(&bin, &dir, case);
        if seconds > slowest.0 {
            slowest = (seconds, case.name.clone());
        }
        let named = |stderr: &str| case.files.iter().any(|(f, _)| stderr.contains(f.as_str()));
        match (ending, case.expect) {
            (Ending::Hung, _) => failures.push(format!("{}: still running after {SECONDS} s", case.name)),
            (Ending::Killed { signal, stderr }, _) => failures.push(format!("{}: killed ({signal}): {}", case.name, stderr.trim())),
            (Ending::Exited { code, stderr, .. }, _) if code != 0 && code != 1 => failures.push(format!("{}: exit {code} (a panic?): {}", case.name, stderr.trim())),
            (Ending::Exited { code: 0, .. }, Expect::Survives) => loaded += 1,
            (Ending::Exited { code: 0, stdout, .. }, Expect::Loads(phrase)) => {
                loaded += 1;
                if !stdout.contains(phrase) {
                    failures.push(format!("{}: loaded without saying '{phrase}': {stdout}", case.name));
                }
            }
            (Ending::Exited { stderr, .. }, Expect::Loads(phrase)) => failures.push(format!("{}: refused, expected to load saying '{phrase}': {}", case.name, stderr.trim())),
            (Ending::Exited { code: 0, .. }, Expect::Refused(_)) => failures.push(format!("{}: accepted", case.name)),
            (Ending::Exited { stderr, .. }, expect) => {
                refused += 1;
                let phrase_ok = match expect {
                    Expect::Refused(phrase) => stderr.contains(phrase),
                    Expect::Survives | Expect::Loads(_) => true,
                };
                // specs are named by their field, model files and recordings by their file
                let place_ok = matches!(case.verb, Verb::Run | Verb::RunFiles) || named(&stderr);
                if !(phrase_ok && place_ok) {
                    let want = if let Expect::Refused(p) = expect { p } else { "" };
                    failures.push(format!("{}: the message lacks the file name or '{want}': {}", case.name, stderr.trim()));
                }
            }
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    println!(
        "{} hostile cases: {refused} refused with a message, {loaded} mutated real files still loaded, {} mishandled; slowest {:.2} s ({})",
        cases.len(),
        failures.len(),
        slowest.0,
        slowest.1
    );
    assert!(cases.len() >= 200, "the corpus should hold at least 200 cases, has {}", cases.len());
    assert!(failures.is_empty(), "{} of {} hostile cases mishandled:\n{}", failures.len(), cases.len(), failures.join("\n"));
}
