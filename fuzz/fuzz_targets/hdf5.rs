//! Fuzz target: HDF5: MATLAB v7.3, NWB and plain files (hdf5-pure) must refuse any bytes with an error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use neurognn::data::formats;

fuzz_target!(|data: &[u8]| {
    let _ = formats::inventory("fuzz.h5", data);
    let _ = formats::load_files(&[("fuzz".to_string(), data.to_vec())]);
});
