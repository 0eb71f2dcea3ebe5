//! Files for the hostile-input tests, generated from the real Kato recordings and from
//! scratch: helpers to write NPY/NPZ/CSV/MATLAB/HDF5 bytes, and the corpus of malformed files
//! (`corpus`) that `malformed.rs` runs in-process and `hostile.rs` runs through the CLI.
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;

pub fn kato(rel: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/kato2015").join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{} should be readable: {e}", path.display()))
}

/// A small CSV cut from worm 1 (header + 40 frames).
pub fn csv_head() -> String {
    String::from_utf8(kato("csv/worm1.csv")).unwrap().lines().take(41).collect::<Vec<_>>().join("\n") + "\n"
}

pub fn replace_cell(csv: &str, line: usize, column: usize, value: &str) -> Vec<u8> {
    let mut lines: Vec<String> = csv.lines().map(String::from).collect();
    let mut cells: Vec<&str> = lines[line].split(',').collect();
    cells[column] = value;
    lines[line] = cells.join(",");
    (lines.join("\n") + "\n").into_bytes()
}

pub fn npy(descr: &str, shape: &str, payload: &[u8]) -> Vec<u8> {
    let mut h = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}").into_bytes();
    while (11 + h.len()) % 64 != 0 {
        h.push(b' ');
    }
    h.push(b'\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((h.len() as u16).to_le_bytes());
    out.extend(h);
    out.extend_from_slice(payload);
    out
}

pub fn f4(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

pub fn npz(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in members {
        zip.start_file(format!("{name}.npy"), zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored))
            .unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

pub fn text_npy(values: &[&str]) -> Vec<u8> {
    let width = values.iter().map(|v| v.chars().count()).max().unwrap_or(1);
    let payload: Vec<u8> =
        values.iter().flat_map(|v| (0..width).map(move |i| v.chars().nth(i).map_or(0, |c| c as u32))).flat_map(u32::to_le_bytes).collect();
    npy(&format!("<U{width}"), &format!("({},)", values.len()), &payload)
}

pub fn flip(bytes: &[u8], from: usize, to: usize) -> Vec<u8> {
    let mut b = bytes.to_vec();
    for x in &mut b[from..to.min(bytes.len())] {
        *x ^= 0x5a;
    }
    b
}

/// (file name, bytes, a phrase the error must contain)
pub fn corpus() -> Vec<(String, Vec<u8>, &'static str)> {
    let csv = csv_head();
    let header_cols = csv.lines().next().unwrap().split(',').count();
    let npz_real = kato("npz/worm1.npz");
    let v5 = kato("mat/worm1_v5.mat");
    let v73 = kato("mat/WT_NoStim.mat");
    let nwb = kato("nwb/worm1.nwb");
    let grid = f4(&[0.5; 12]); // 4 frames × 3 neurons
    let mut c: Vec<(String, Vec<u8>, &'static str)> = vec![
        // CSV / TSV
        ("empty.csv".into(), vec![], "empty"),
        ("header-only.csv".into(), csv.lines().next().unwrap().as_bytes().to_vec(), "names, not a recording"),
        ("word.csv".into(), replace_cell(&csv, 5, 3, "abc"), "'abc' is not a number"),
        ("nan.csv".into(), replace_cell(&csv, 7, 2, "NaN"), "NaN"),
        ("inf.csv".into(), replace_cell(&csv, 9, 4, "inf"), "inf"),
        ("empty-cell.csv".into(), replace_cell(&csv, 3, 6, ""), "a missing value"),
        ("bad-time.csv".into(), replace_cell(&csv, 4, 0, "soon"), "is not a time"),
        ("ragged.csv".into(), format!("{csv}1,2,3\n").into_bytes(), "line 42"),
        ("only-time-and-state.csv".into(), b"time_s,state\n0,fwd\n1,rev1\n".to_vec(), "no neuron columns"),
        // a portal's JSON download is named as JSON, not read as a list of neuron names
        ("portal.json".into(), br#"{"timing": {"mean_timestep": 0.6}, "gcamp": {"trace_array": [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]}}"#.to_vec(), "holds JSON"),
        ("tsv-word.tsv".into(), b"AVAL\tAVAR\n1\t2\nx\t4\n".to_vec(), "'x' is not a number"),
        ("cut-mid-row.csv".into(), csv.as_bytes()[..csv.len() - 40].to_vec(), "line 41"),
        // NPY / NPZ
        ("truncated-10.npz".into(), npz_real[..npz_real.len() / 10].to_vec(), "zip"),
        ("truncated-99.npz".into(), npz_real[..npz_real.len() - 200].to_vec(), "zip"),
        ("corrupt-middle.npz".into(), flip(&npz_real, npz_real.len() / 2, npz_real.len() / 2 + 64), "array '"),
        ("lying-shape.npy".into(), npy("<f4", "(100000, 100000)", &grid), "declares 10000000000 values"),
        ("truncated.npy".into(), npy("<f4", "(4, 3)", &grid)[..80].to_vec(), "truncated.npy"),
        ("bad-magic.npy".into(), b"\x93NUMPY\x09\x09garbage".to_vec(), "not a valid NPY"),
        ("complex.npy".into(), npy("<c8", "(4, 3)", &[0u8; 96]), "not supported"),
        ("nan.npy".into(), npy("<f4", "(4, 3)", &f4(&[0.0, 1.0, f32::NAN, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])), "non-finite"),
        ("zero-neurons.npy".into(), npy("<f4", "(4, 0)", &[]), "no neurons"),
        ("one-d.npz".into(), npz(&[("traces", npy("<f4", "(12,)", &grid))]), "no 2-D numeric array"),
        // found by fuzzing: the NPY header parser took minutes on deeply nested brackets
        ("nested-header.npy".into(), npy("<f4", &format!("{}(3, 4){}", "(".repeat(60), ")".repeat(60)), &grid), "nests brackets"),
        ("names-mismatch.npz".into(), npz(&[("traces", npy("<f4", "(4, 3)", &grid)), ("neuron_names", text_npy(&["AVAL", "AVAR"]))]), "expected text for 3 neurons"),
        // MATLAB v5
        ("header-only.mat".into(), v5[..128].to_vec(), "no recording found: the file holds no variables"),
        ("short-header.mat".into(), v5[..100].to_vec(), "MATLAB v5"),
        ("cut-early.mat".into(), v5[..200].to_vec(), "truncated"),
        ("cut-half.mat".into(), v5[..v5.len() / 2].to_vec(), "MATLAB v5"),
        ("cut-end.mat".into(), v5[..v5.len() - 5].to_vec(), "MATLAB v5"),
        ("bad-endian.mat".into(), { let mut b = v5.clone(); b[126] = b'X'; b }, "byte-order mark"),
        ("corrupt-zlib.mat".into(), flip(&v5, 4000, 4100), "MATLAB v5"),
        // HDF5: MATLAB v7.3 and NWB
        ("cut-v73.mat".into(), v73[..v73.len() / 3].to_vec(), "HDF5"),
        ("cut-head.nwb".into(), nwb[..4096].to_vec(), "HDF5"),
        ("cut-half.nwb".into(), nwb[..nwb.len() / 2].to_vec(), "HDF5"),
        ("corrupt.nwb".into(), flip(&nwb, 1024, 1536), "HDF5"),
        ("superblock-only.h5".into(), b"\x89HDF\r\n\x1a\n\x00\x00\x00\x00garbage".to_vec(), "HDF5"),
        // neither
        ("picture.png".into(), b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR".to_vec(), "not a format NeuroGNN reads"),
        ("noise.bin".into(), (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 24) as u8).collect(), "not a format NeuroGNN reads"),
    ];
    assert!(header_cols > 100);
    c.retain(|(_, b, _)| b.len() < 50_000_000);
    c
}

