//! Files as labs publish them: small faithful copies of each published layout, written by
//! `scripts/fixtures/layouts.py` with the writers' own library (pynwb and the
//! `ndx-multichannel-volume` extension, h5py for the Flavell lab's HDF5), must import with their
//! activity, neuron names and behaviour, as the generator's `expected.json` says. And a 3 GB NWB
//! (a raw imaging volume beside the traces) must load by reading a few megabytes of it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use neurognn::data::Recording;
use neurognn::data::formats::{self, FileBytes};
use neurognn::data::names;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `scripts/fixtures/make` (which sets up its own Python environment) and fails with its
/// output if it fails.
fn make(args: &[&str]) {
    let out = Command::new(root().join("scripts/fixtures/make")).args(args).output().expect("scripts/fixtures/make should start");
    assert!(out.status.success(), "scripts/fixtures/make {args:?} failed:\n{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

/// The fixture folder, written once per test run.
fn fixtures() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = root().join("target/fixtures");
        make(&[dir.to_str().unwrap()]);
        dir
    })
}

fn load(path: &Path) -> Vec<Recording> {
    let file = path.file_name().unwrap().to_string_lossy().into_owned();
    let dropped = formats::load_files(&[(file, FileBytes::open(path).unwrap())]);
    assert!(dropped.errors.is_empty(), "{}: {:?}", path.display(), dropped.errors.iter().map(ToString::to_string).collect::<Vec<_>>());
    dropped.recordings.into_iter().map(|(_, r)| r).collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-5 * (1.0 + b.abs())
}

#[test]
fn every_published_layout_imports_with_its_names_and_behaviour() {
    let dir = fixtures();
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let fixtures = expected["fixtures"].as_array().unwrap();
    assert!(fixtures.len() >= 5, "the generator wrote {} fixtures", fixtures.len());
    for want in fixtures {
        let file = want["file"].as_str().unwrap();
        let recs = load(&dir.join(file));
        assert_eq!(recs.len(), 1, "{file}");
        let r = &recs[0];
        println!("{file}: {} frames × {} neurons at {:.3} Hz, {} named, labels {:?}\n  {}", r.frames, r.neurons, r.fps,
            r.neuron_names.iter().flatten().count(), r.labels.as_ref().map(|l| &l.names), r.source);
        assert_eq!((r.frames as u64, r.neurons as u64), (want["frames"].as_u64().unwrap(), want["neurons"].as_u64().unwrap()), "{file}: shape");
        let names: Vec<Option<String>> = want["names"].as_array().unwrap().iter().map(|n| n.as_str().and_then(names::normalize)).collect();
        assert_eq!(r.neuron_names, names, "{file}: neuron names");
        for (key, frame) in [("first_frame", 0), ("last_frame", r.frames - 1)] {
            let values: Vec<f64> = want[key].as_array().unwrap().iter().map(|v| v.as_f64().unwrap_or(f64::NAN)).collect();
            let got = &r.traces[frame * r.neurons..(frame + 1) * r.neurons];
            assert!(values.iter().zip(got).all(|(&w, &g)| close(f64::from(g), w) || (w.is_nan() && g.is_nan())), "{file}: {key} {got:?} vs {values:?}");
        }
        // the rate keeps the recording's duration (irregular timestamps included)
        let duration = want["duration_s"].as_f64().unwrap();
        let ours = (r.frames - 1) as f64 / f64::from(r.fps);
        assert!((ours / duration - 1.0).abs() < 0.01, "{file}: {ours:.1} s for {duration:.1} s");
        let behaviour = &want["behaviour"];
        match behaviour["kind"].as_str() {
            Some("event-mask") => {
                let l = r.labels.as_ref().unwrap_or_else(|| panic!("{file}: no labels from {}", behaviour["path"]));
                let reversal = l.names.iter().position(|n| n == "reversal").expect("a reversal state") as u16;
                let count = l.per_frame.iter().filter(|s| **s == Some(reversal)).count() as u64;
                assert_eq!(count, behaviour["frames_per_state"]["1"].as_u64().unwrap(), "{file}: reversal frames");
            }
            Some("codes") => {
                let l = r.labels.as_ref().unwrap_or_else(|| panic!("{file}: no labels from {}", behaviour["path"]));
                for (state, frames) in behaviour["frames_per_state"].as_object().unwrap() {
                    let i = l.names.iter().position(|n| n == state).unwrap_or_else(|| panic!("{file}: no state {state} in {:?}", l.names)) as u16;
                    assert_eq!(l.per_frame.iter().filter(|s| **s == Some(i)).count() as u64, frames.as_u64().unwrap(), "{file}: {state}");
                }
            }
            // a position track or no behaviour: never made into states
            _ => assert!(r.labels.is_none(), "{file}: labels {:?} from a layout without states", r.labels.as_ref().map(|l| &l.names)),
        }
        let activity = want["activity_path"].as_str().unwrap();
        let family = activity.split("{").next().unwrap().trim_start_matches('/');
        assert!(r.source.contains(family.trim_end_matches("/data")), "{file}: the source should name '{activity}': {}", r.source);
    }
}

#[test]
fn a_3_gb_nwb_loads_its_traces_by_reading_a_few_megabytes() {
    fixtures(); // the Python environment, once
    let path = root().join("target/fixtures/big.nwb");
    if !path.exists() {
        make(&["--big", path.to_str().unwrap(), "3", "--neurons", "100", "--frames", "3000"]);
    }
    let bytes = FileBytes::open(&path).unwrap();
    assert!(bytes.len() > 3_000_000_000, "the file is {} bytes", bytes.len());
    let started = std::time::Instant::now();
    let dropped = formats::load_files(&[("big.nwb".into(), bytes.clone())]);
    let seconds = started.elapsed().as_secs_f64();
    assert!(dropped.errors.is_empty(), "{:?}", dropped.errors.iter().map(ToString::to_string).collect::<Vec<_>>());
    let r = &dropped.recordings[0].1;
    println!("big.nwb: {:.2} GB, {:.2} MB read in {seconds:.2} s (debug build): {}", bytes.len() as f64 / 1e9, bytes.bytes_read() as f64 / 1e6, r.source);
    assert_eq!((r.frames, r.neurons), (3000, 100));
    assert!(r.neuron_names.iter().flatten().count() > 50, "names: {:?}", r.neuron_names);
    assert!(bytes.bytes_read() < bytes.len() / 100, "read {} of {} bytes", bytes.bytes_read(), bytes.len());

    // the same raw volume beside 40 MB of traces (1,000 neurons × 10,000 frames), for the page's
    // memory measure (e2e): what a file costs there must follow its traces
    let wide = root().join("target/fixtures/big-traces.nwb");
    if !wide.exists() {
        make(&["--big", wide.to_str().unwrap(), "3", "--neurons", "1000", "--frames", "10000"]);
    }
    let bytes = FileBytes::open(&wide).unwrap();
    let dropped = formats::load_files(&[("big-traces.nwb".into(), bytes.clone())]);
    assert!(dropped.errors.is_empty(), "{:?}", dropped.errors.iter().map(ToString::to_string).collect::<Vec<_>>());
    let r = &dropped.recordings[0].1;
    assert_eq!((r.frames, r.neurons), (10_000, 1000));
    // the traces (float32, 40 MB) once and the metadata: not the volume, and the listing keeps
    // the traces by their shape instead of reading them a second time
    assert!(bytes.bytes_read() < 45_000_000, "read {} of {} bytes", bytes.bytes_read(), bytes.len());
    let listing = &dropped.listings[0];
    let shape = |path: &str| listing.entries.iter().find(|e| e.path == path).map(|e| (e.array.describe(), e.array.is_unread()));
    assert_eq!(shape("/processing/ophys/Fluorescence/RoiResponseSeries/data"), Some(("float 10000×1000".to_string(), true)));
    assert_eq!(shape("/acquisition/TwoPhotonSeries/data"), Some(("integer 10000×401×401".to_string(), true)));
    // behind the segmentation's soft link, found by probing NWB's names
    assert_eq!(shape("/processing/ophys/ImageSegmentation/PlaneSegmentation/neuron_name"), Some(("text 1000".to_string(), false)));
}

/// A generic HDF5 file with its arrays picked in the spec (`data.files[].arrays`): the library,
/// `inspect --spec` and `run` give the recording the page's "Use these arrays" form gives (the
/// form has the reader worker call `load_files_picked`, as the spec does; assembling the listing
/// with the choice, which holds this small file's arrays whole, gives the same).
#[test]
fn arrays_picked_in_a_spec_give_what_the_page_form_gives() {
    use neurognn::data::formats::inventory::{self, Choice};
    let path = fixtures().join("flavell_dag2023.h5");
    let name = path.display().to_string();
    // not the guess: the unnormalised traces, at a rate typed by the user
    let choice = Choice {
        traces: "/gcamp/trace_array_original".into(),
        neurons_on_rows: false,
        names: None,
        labels: Some("/behavior/reversal_vec".into()),
        state_names: None,
        fps: Some(1.6),
    };
    let listing = formats::inventory(&name, FileBytes::open(&path).unwrap()).unwrap();
    let form = inventory::assemble(&listing, &choice).unwrap();
    let picked = formats::load_files_picked(&[(name.clone(), FileBytes::open(&path).unwrap())], &[("flavell_dag2023.h5".into(), choice.clone())]);
    assert!(picked.errors.is_empty(), "{:?}", picked.errors.iter().map(ToString::to_string).collect::<Vec<_>>());
    assert_eq!(picked.recordings.len(), 1);
    assert_eq!(picked.recordings[0].1, form, "the spec's pick and the page's form differ");
    assert!(form.source.contains("trace_array_original") && form.fps == 1.6, "{}", form.source);

    let dir = std::env::temp_dir().join(format!("neurognn-arrays-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let spec = dir.join("spec.json");
    let text = serde_json::json!({
        "name": "picked", "data": {"source": "files", "names": [], "files": [{"name": "flavell_dag2023.h5", "arrays": choice}]},
        "preprocess": {"neuron_set": "all_columns"}, "models": [{"kind": "linear"}], "protocols": ["within_animal"],
        "train": {"steps": 5, "batch_size": 16, "eval_every": 5}
    });
    std::fs::write(&spec, text.to_string()).unwrap();
    let cli = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_neurognn")).args(args).output().unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (ok, stdout, stderr) = cli(&["inspect", "--spec", spec.to_str().unwrap(), &name]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains(&format!("{} frames, {} neurons", form.frames, form.neurons)) && stdout.contains("trace_array_original"), "{stdout}");
    assert!(stdout.contains("reversal"), "the picked labels: {stdout}");
    let (ok, stdout, stderr) = cli(&["run", spec.to_str().unwrap(), "--file", &name]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("on 1 recording(s)") && stdout.contains(&format!("neurons: {}", form.neurons)), "{stdout}");
    // the listing and the fragment to copy
    let (ok, stdout, stderr) = cli(&["inspect", "--arrays", &name]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("/behavior/velocity") && stdout.contains("\"files\"") && stdout.contains("\"traces\": \"/gcamp/trace_array\""), "{stdout}");
    // a pick for a file that was not given is refused by name
    let (ok, _, stderr) = cli(&["inspect", "--spec", spec.to_str().unwrap(), &fixtures().join("osb_kato.nwb").display().to_string()]);
    assert!(!ok && stderr.contains("flavell_dag2023.h5") && stderr.contains("not given"), "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}
