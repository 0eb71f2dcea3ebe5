//! Fuzz target: NPY/NPZ (npyz + zip) must refuse any bytes with an error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use neurognn::data::formats;

fuzz_target!(|data: &[u8]| {
    let budget = formats::budget::Budget::new(formats::budget::FILE);
    let _ = formats::npz::npz_arrays("fuzz.npz", data, &budget);
    let _ = formats::npz::npy_arrays("fuzz.npy", data, &budget);
    let _ = formats::load_files(&[("fuzz".to_string(), data.to_vec())]);
});
