//! Fuzz target: saved model files (`.ngmodel`, CBOR) must be refused with an error, never panic,
//! and never build a network larger than the weights the file holds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use neurognn::train::saved::SavedModel;

fuzz_target!(|data: &[u8]| {
    if let Ok(model) = SavedModel::from_bytes(data) {
        let _ = model.network(&neurognn::device::cpu("fuzzing").device);
    }
});
