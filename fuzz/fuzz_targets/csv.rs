//! Fuzz target: CSV/TSV and side files must refuse any bytes with an error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use neurognn::data::formats;

fuzz_target!(|data: &[u8]| {
    let _ = formats::csv::read("fuzz.csv", data);
    let _ = formats::companion::read(data);
    let _ = formats::load_files(&[("fuzz".to_string(), data.to_vec())]);
});
