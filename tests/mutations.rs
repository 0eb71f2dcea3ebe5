//! Seeded mutations of the real Kato files through every reader: each must refuse or read the
//! bytes, never panic. The same entry points are cargo-fuzz targets (`fuzz/`, nightly); this test
//! keeps a fixed slice of that search in stable CI.
#![cfg(not(target_arch = "wasm32"))]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use neurognn::data::formats;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

fn kato(rel: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/kato2015").join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{} should be readable: {e}", path.display()))
}

/// One random damage: flipped bytes, a cut, an inserted run, a copied block, or a rewritten
/// integer (sizes and offsets live in integers).
fn mutate(rng: &mut StdRng, original: &[u8]) -> Vec<u8> {
    let mut b = original.to_vec();
    let len = b.len();
    match rng.random_range(0..5) {
        0 => {
            for _ in 0..rng.random_range(1..16) {
                let i = rng.random_range(0..len);
                b[i] ^= 1 << rng.random_range(0..8);
            }
        }
        1 => b.truncate(rng.random_range(0..len)),
        2 => {
            let at = rng.random_range(0..len);
            let run: Vec<u8> = (0..rng.random_range(1..64)).map(|_| rng.random()).collect();
            b.splice(at..at, run);
        }
        3 => {
            let (from, to, n) = (rng.random_range(0..len), rng.random_range(0..len), rng.random_range(1..256));
            let block: Vec<u8> = b[from..(from + n).min(len)].to_vec();
            let end = (to + block.len()).min(len);
            b[to..end].copy_from_slice(&block[..end - to]);
        }
        _ => {
            // within the first 4 KiB, where headers, sizes and offsets are
            let i = rng.random_range(0..len.min(4096).saturating_sub(8).max(1));
            let v: u64 = [0, 1, u64::MAX, u32::MAX as u64, rng.random()][rng.random_range(0..5)];
            let width = [2usize, 4, 8][rng.random_range(0..3)];
            let end = (i + width).min(len);
            b[i..end].copy_from_slice(&v.to_le_bytes()[..end - i]);
        }
    }
    b
}

#[test]
fn mutated_files_never_panic_a_reader() {
    let files = ["npz/worm1.npz", "mat/worm1_v5.mat", "nwb/worm1.nwb", "csv/worm1.csv", "original/worm_0_y.csv"];
    let rounds: usize = std::env::var("NEUROGNN_MUTATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(60);
    let mut rng = StdRng::seed_from_u64(2015);
    let (mut refused, mut read) = (0, 0);
    let mut panics = Vec::new();
    for rel in files {
        let original = kato(rel);
        for round in 0..rounds {
            let bytes = mutate(&mut rng, &original);
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                let _ = formats::inventory(rel, &bytes);
                formats::load_files(&[(rel.to_string(), bytes.clone().into())])
            }));
            match outcome {
                Ok(d) if d.errors.is_empty() => read += 1,
                Ok(d) => {
                    refused += 1;
                    let message = d.errors[0].to_string();
                    assert!(message.contains(rel), "{rel} round {round}: the message should name the file: {message}");
                }
                Err(_) => panics.push(format!("{rel} round {round}")),
            }
        }
    }
    println!("mutations: {read} still readable, {refused} refused, {} panics", panics.len());
    assert!(panics.is_empty(), "readers panicked on: {panics:?}");
    assert!(refused > 0, "some mutations should be refused");
}
