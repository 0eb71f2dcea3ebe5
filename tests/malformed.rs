//! A corpus of malformed files, generated from the real Kato recordings and from scratch: every
//! one must be refused with a message naming the file and the problem, and none may panic.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{corpus, f4, npy, npz, text_npy};
use neurognn::data::formats;

#[test]
fn every_malformed_file_is_refused_with_a_located_message() {
    let corpus = corpus();
    assert!(corpus.len() >= 30, "the corpus should hold at least 30 files, has {}", corpus.len());
    let mut failures = Vec::new();
    for (name, bytes, phrase) in &corpus {
        let outcome = std::panic::catch_unwind(|| formats::load(name, bytes));
        match outcome {
            Err(_) => failures.push(format!("{name}: PANICKED")),
            Ok(Ok(recs)) => failures.push(format!("{name}: accepted ({} recordings)", recs.len())),
            Ok(Err(e)) => {
                let msg = e.to_string();
                println!("{msg}");
                if !msg.contains(name.as_str()) || !msg.contains(phrase) {
                    failures.push(format!("{name}: message lacks the file name or '{phrase}': {msg}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} malformed files mishandled:\n{}", failures.len(), corpus.len(), failures.join("\n"));
}

#[test]
fn a_bad_label_guess_loads_the_traces_and_says_why_the_labels_are_not_used() {
    let grid = f4(&[0.5; 12]); // 4 frames × 3 neurons
    let fractional: Vec<u8> = [0.5f32, 1.0, 0.0, 1.0].iter().flat_map(|v| v.to_le_bytes()).collect();
    let cases = [
        ("labels-short.npz", npz(&[("traces", npy("<f4", "(4, 3)", &grid)), ("states", npy("|i1", "(3,)", &[0, 1, 0])), ("state_names", text_npy(&["fwd", "rev"]))]), "have 3 entries but the traces have 4 frames"),
        ("labels-fractional.npz", npz(&[("traces", npy("<f4", "(4, 3)", &grid)), ("states", npy("<f4", "(4,)", &fractional))]), "fractional"),
    ];
    for (name, bytes, why) in cases {
        let r = formats::load(name, &bytes).unwrap_or_else(|e| panic!("{name}: the traces should load: {e}")).remove(0);
        assert_eq!((r.frames, r.neurons, r.labels.is_none()), (4, 3, true), "{name}");
        assert!(r.source.contains("labels not used") && r.source.contains(why), "{name}: {}", r.source);
    }
}
