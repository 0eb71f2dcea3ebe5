//! Fuzz target: CSV/TSV and side files must refuse any bytes with an error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use neurognn::data::formats;

fuzz_target!(|data: &[u8]| {
    let budget = formats::budget::Budget::new(formats::budget::FILE);
    let _ = formats::csv::read("fuzz.csv", data, &budget);
    let _ = formats::companion::read(data, &budget);
    let _ = formats::load_files(&[("fuzz".to_string(), data.to_vec())]);
});
