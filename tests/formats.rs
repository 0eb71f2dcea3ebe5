//! Reads the Kato et al. (2015) recordings in ../shared/data/kato2015 in every supported format
//! and checks they agree with the NPZ release and with its published summary.
#![cfg(not(target_arch = "wasm32"))]

use std::path::PathBuf;

use neurognn::data::formats::companion::{self, Companion};
use neurognn::data::formats::inventory::{self, Inventory};
use neurognn::data::{Recording, formats, labels, names};

fn kato(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/kato2015").join(rel)
}

fn load(rel: &str) -> Vec<Recording> {
    let path = kato(rel);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{} should be readable: {e}", path.display()));
    formats::load(rel, &bytes).unwrap_or_else(|e| panic!("{rel} should load: {e}"))
}

/// The published per-worm summary: frames, neurons, identified, fps, frames per state.
fn summary() -> Vec<serde_json::Value> {
    serde_json::from_str(&std::fs::read_to_string(kato("summary.json")).unwrap()).unwrap()
}

fn assert_same_numbers(a: &Recording, b: &Recording, what: &str) {
    assert_eq!((a.frames, a.neurons), (b.frames, b.neurons), "{what}: shape");
    assert_eq!(a.neuron_names, b.neuron_names, "{what}: names");
    let worst = a.traces.iter().zip(&b.traces).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
    assert!(worst <= 1e-4, "{what}: traces differ by {worst}");
    assert!((a.fps - b.fps).abs() < 1e-3, "{what}: fps {} vs {}", a.fps, b.fps);
    let (la, lb) = (a.labels.as_ref().unwrap(), b.labels.as_ref().unwrap());
    let upper = |l: &neurognn::data::Labels| l.per_frame.iter().map(|i| i.map(|i| l.names[i as usize].to_ascii_uppercase())).collect::<Vec<_>>();
    assert_eq!(upper(la), upper(lb), "{what}: labels");
}

#[test]
fn npz_matches_the_published_summary() {
    for (w, s) in summary().iter().enumerate() {
        let rec = load(&format!("npz/worm{}.npz", w + 1)).remove(0);
        assert_eq!(rec.frames as u64, s["frames"].as_u64().unwrap(), "worm {}", w + 1);
        assert_eq!(rec.neurons as u64, s["neurons"].as_u64().unwrap());
        assert_eq!(rec.neuron_names.iter().flatten().count() as u64, s["identified"].as_u64().unwrap());
        assert!((f64::from(rec.fps) - s["fps"].as_f64().unwrap()).abs() < 1e-3);
        let l = rec.labels.as_ref().unwrap();
        assert!(labels::is_kato_scheme(l));
        for (name, count) in l.names.iter().zip(labels::counts(l)) {
            assert_eq!(count as u64, s["state_frames"][name.to_ascii_lowercase().as_str()].as_u64().unwrap(), "worm {} state {name}", w + 1);
        }
    }
}

#[test]
fn csv_agrees_with_npz() {
    for w in 1..=5 {
        let npz = load(&format!("npz/worm{w}.npz")).remove(0);
        let csv = load(&format!("csv/worm{w}.csv")).remove(0);
        assert_same_numbers(&csv, &npz, &format!("worm {w} CSV"));
    }
}

#[test]
fn matlab_v5_agrees_with_npz() {
    for w in 1..=5 {
        let npz = load(&format!("npz/worm{w}.npz")).remove(0);
        let mat = load(&format!("mat/worm{w}_v5.mat"));
        assert_eq!(mat.len(), 1, "worm {w}: one recording per v5 file");
        assert_same_numbers(&mat[0], &npz, &format!("worm {w} MAT v5"));
    }
}

#[test]
fn matlab_v73_and_nwb_agree_with_npz() {
    let mat = load("mat/WT_NoStim.mat");
    assert_eq!(mat.len(), 5);
    for w in 1..=5 {
        let npz = load(&format!("npz/worm{w}.npz")).remove(0);
        assert_eq!(mat[w - 1].name, format!("WT_NoStim worm {w}"));
        assert_same_numbers(&mat[w - 1], &npz, &format!("worm {w} MAT v7.3"));
        let nwb = load(&format!("nwb/worm{w}.nwb"));
        assert_eq!(nwb.len(), 1);
        assert_same_numbers(&nwb[0], &npz, &format!("worm {w} NWB"));
    }
}

#[test]
fn the_five_worms_share_22_identified_neurons() {
    let worms: Vec<Recording> = (1..=5).map(|w| load(&format!("npz/worm{w}.npz")).remove(0)).collect();
    let shared = names::shared_identified(&worms);
    assert_eq!(
        shared,
        [
            "AIBL", "AIBR", "ALA", "ASKR", "AVAL", "AVAR", "AVBL", "AVBR", "AVEL", "AVER", "RIBL", "RID", "RIML", "RIMR",
            "RIVL", "RIVR", "RMED", "RMEL", "RMER", "SMDDR", "SMDVR", "VB02"
        ]
    );
    let four = labels::merge_states(worms[0].labels.as_ref().unwrap(), labels::KATO_4_CLASS);
    // worm 1: FWD 681+625, REV 107+143, REVSUS 1053, TURN 172+334 (22 NOSTATE frames dropped)
    assert_eq!(labels::counts(&four), vec![1306, 250, 1053, 506]);
}

fn bytes(rel: &str) -> Vec<u8> {
    std::fs::read(kato(rel)).unwrap_or_else(|e| panic!("{rel} should be readable: {e}"))
}

/// The recording the page's form makes when the user accepts the guess over `inv`, the
/// listing of `rel`: the worker reads the file again with those arrays picked.
fn guessed(rel: &str, inv: &Inventory) -> Recording {
    let choice = inventory::guess(inv).unwrap_or_else(|e| panic!("{}: a guess: {e}", inv.file));
    let mut picked = formats::load_files_picked(&[(inv.file.clone(), bytes(rel).into())], &[(inv.file.clone(), choice.clone())]);
    assert!(picked.errors.is_empty(), "{}: {choice:?}: {:?}", inv.file, picked.errors.iter().map(ToString::to_string).collect::<Vec<_>>());
    picked.recordings.remove(0).1
}

/// The listing the page shows, guessed without any format's layout rules, rebuilds the same
/// recordings the readers give (so a user who accepts the guess gets the right data).
#[test]
fn the_generic_guess_rebuilds_every_recording() {
    for w in 1..=5 {
        let npz = load(&format!("npz/worm{w}.npz")).remove(0);
        for rel in [format!("npz/worm{w}.npz"), format!("mat/worm{w}_v5.mat"), format!("csv/worm{w}.csv")] {
            let inv = formats::inventory(&rel, bytes(&rel)).unwrap();
            assert_same_numbers(&guessed(&rel, &inv), &npz, &format!("{rel} by the guess"));
        }
        let nwb = formats::inventory("w.nwb", bytes(&format!("nwb/worm{w}.nwb"))).unwrap();
        let data = nwb.entries.iter().find(|e| e.path.ends_with("DfOverF/data")).expect("the NWB series is listed");
        assert_eq!(data.array.shape(), [npz.frames, npz.neurons]);
        // listed by its shape only: its values are read when a recording is built from it
        assert!(data.array.is_unread(), "{}", data.array.describe());
        let choice = inventory::Choice { traces: data.path.clone(), ..Default::default() };
        let picked = formats::load_files_picked(&[("w.nwb".into(), bytes(&format!("nwb/worm{w}.nwb")).into())], &[("w.nwb".into(), choice)]);
        assert!(picked.errors.is_empty() && picked.recordings.len() == 1, "{:?}", picked.errors.iter().map(ToString::to_string).collect::<Vec<_>>());
        assert!(picked.recordings[0].1.traces == npz.traces, "worm{w}.nwb's picked traces differ from the NPZ's");
    }
    // WT_NoStim.mat: each worm's arrays carry the index {k}; the guess pairs them.
    let inv = formats::inventory("WT_NoStim.mat", bytes("mat/WT_NoStim.mat")).unwrap();
    assert!(inv.entries.iter().any(|e| e.path == "WT_NoStim.deltaFOverF_bc{3}" && e.array.describe() == "float 3059×131"), "{:?}",
        inv.entries.iter().map(|e| format!("{} {}", e.path, e.array.describe())).collect::<Vec<_>>());
    let readers = load("mat/WT_NoStim.mat");
    // the whole file: the largest worm's traces, with that worm's names, states and rate
    assert_same_numbers(&guessed("mat/WT_NoStim.mat", &inv), &readers[1], "WT_NoStim by the guess");
    for k in 1..=5 {
        let tag = format!("{{{k}}}");
        let one = Inventory { entries: inv.entries.iter().filter(|e| !e.path.contains('{') || e.path.ends_with(&tag)).cloned().collect(), ..inv.clone() };
        assert_same_numbers(&guessed("mat/WT_NoStim.mat", &one), &readers[k - 1], &format!("WT_NoStim worm {k} by the guess"));
    }
}

/// The third-party release's side files (names, state indices, state names) complete a
/// recording dropped with them, and agree with the NPZ.
#[test]
fn original_side_files_name_and_label_a_bare_recording() {
    for (w, published) in summary().iter().enumerate() {
        let npz = load(&format!("npz/worm{}.npz", w + 1)).remove(0);
        let bare = Recording { neuron_names: vec![None; npz.neurons], labels: None, ..npz.clone() };
        let mut recs = vec![(format!("worm_{w}.npy"), bare)];
        let mut side = Vec::new();
        for part in ["neurons", "y", "states"] {
            let rel = format!("original/worm_{w}_{part}.csv");
            let Ok(b) = std::fs::read(kato(&rel)) else { continue };
            let budget = formats::budget::Budget::new(formats::budget::FILE);
            let c = companion::read(&b, &budget).ok().flatten().unwrap_or_else(|| panic!("{rel} is a side file"));
            let err = formats::load(&rel, &b).unwrap_err().to_string();
            assert!(err.contains("not a recording"), "{err}");
            side.push((format!("worm_{w}_{part}.csv"), c));
        }
        if w > 0 {
            // only worm_0 and worm_1 ship a states file; the index order is the release's
            let names = ["dt", "fwd", "nostate", "rev1", "rev2", "revsus", "slow", "vt"];
            side.push(("states.csv".into(), Companion::Names(names.map(String::from).to_vec())));
        }
        let used = companion::attach(&mut recs, &side);
        assert!(used.iter().all(Result::is_ok), "worm {w}: {used:?}");
        assert_same_numbers(&recs[0].1, &npz, &format!("original/worm_{w}"));
        assert_eq!(recs[0].1.neuron_names.iter().flatten().count() as u64, published["identified"].as_u64().unwrap());
    }
    // dropped together with a recording, through the page's entry point
    let files: Vec<(String, formats::FileBytes)> =
        ["npz/worm1.npz", "original/worm_0_neurons.csv", "original/worm_0_y.csv", "original/worm_0_states.csv"].iter().map(|r| (r.to_string(), bytes(r).into())).collect();
    let dropped = formats::load_files(&files);
    assert!(dropped.errors.is_empty(), "{:?}", dropped.errors);
    assert_eq!((dropped.recordings.len(), dropped.notes.len()), (1, 3), "{:?}", dropped.notes);
    assert_eq!(dropped.recordings[0].1.labels.as_ref().unwrap().names[1], "FWD");
}
