//! Fuzz target: MATLAB v5 (the hand-written reader) must refuse any bytes with an error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use neurognn::data::formats;

fuzz_target!(|data: &[u8]| {
    let _ = formats::mat5::variables("fuzz.mat", data, &formats::budget::Budget::new(formats::budget::FILE));
    let _ = formats::load_files(&[("fuzz".to_string(), data.to_vec())]);
});
