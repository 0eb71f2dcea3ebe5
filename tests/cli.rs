//! The `neurognn` command line, run as a user would.
#![cfg(not(target_arch = "wasm32"))]

use std::process::Command;

fn neurognn(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_neurognn")).args(args).output().expect("neurognn should start");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn help_lists_the_demo() {
    let (ok, stdout, _) = neurognn(&["--help"]);
    assert!(ok);
    assert!(stdout.contains("demo"), "{stdout}");
}

#[test]
fn demo_trains_and_writes_its_report() {
    let dir = std::env::temp_dir().join(format!("neurognn-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (json, svg) = (dir.join("report.json"), dir.join("loss.svg"));
    let (ok, stdout, stderr) =
        neurognn(&["demo", "--steps", "120", "--json", json.to_str().unwrap(), "--svg", svg.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("backend: CPU"), "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let losses = report["run"]["losses"].as_array().unwrap();
    let loss = |i: usize| losses[i][1].as_f64().unwrap();
    assert!(loss(losses.len() - 1) < loss(0), "loss did not fall: {losses:?}");
    assert_eq!(report["run"]["steps_run"], 120);
    let v = &report["run"]["validation"];
    assert!(v["mse"].as_f64().unwrap() < v["persistence_mse"].as_f64().unwrap(), "{v}");
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<polyline"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_arguments_are_refused_with_a_message() {
    let (ok, _, stderr) = neurognn(&["demo", "--steps", "many"]);
    assert!(!ok);
    assert!(stderr.contains("invalid value 'many'"), "{stderr}");
}
