//! Fuzz target: experiment specs (JSON from links, files and the builder) must be parsed and
//! validated with an error, never a panic; an accepted spec is within every bound.
#![no_main]

use libfuzzer_sys::fuzz_target;
use neurognn::train::spec::ExperimentSpec;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(spec) = ExperimentSpec::from_json(text)
    {
        assert!(spec.validate().is_ok());
        assert!(spec.preprocess.history <= 256 && spec.rollout_horizon <= 1000);
    }
});
