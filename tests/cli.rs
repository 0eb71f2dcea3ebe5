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
    // an MLP, then a GCN given the connectome among the synthetic worm's neurons
    let runs = report["runs"].as_array().unwrap();
    let models: Vec<&str> = runs.iter().map(|r| r["model"].as_str().unwrap()).collect();
    assert_eq!(models, ["MLP", "GCN"], "{stdout}");
    assert!(report["graph_edges"].as_u64().unwrap() > 10, "{}", report["graph_edges"]);
    for run in runs {
        let run = &run["run"];
        let losses = run["losses"].as_array().unwrap();
        let loss = |i: usize| losses[i][1].as_f64().unwrap();
        assert!(loss(losses.len() - 1) < loss(0), "loss did not fall: {losses:?}");
        assert_eq!(run["steps_run"], 120);
        let v = &run["validation"];
        assert!(v["mse"].as_f64().unwrap() < v["persistence_mse"].as_f64().unwrap(), "{v}");
    }
    assert!(stdout.contains("GCN: ") && stdout.contains("edges among these neurons"), "{stdout}");
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<polyline"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_arguments_are_refused_with_a_message() {
    let (ok, _, stderr) = neurognn(&["demo", "--steps", "many"]);
    assert!(!ok);
    assert!(stderr.contains("invalid value 'many'"), "{stderr}");
}

#[test]
fn run_lists_presets_and_runs_a_spec_file_to_json() {
    let (ok, stdout, _) = neurognn(&["run", "--list"]);
    assert!(ok && stdout.contains("kato-behaviour-4") && stdout.contains("paper"), "{stdout}");
    let (ok, _, stderr) = neurognn(&["run", "--preset", "nope"]);
    assert!(!ok && stderr.contains("no preset 'nope'"), "{stderr}");

    let dir = std::env::temp_dir().join(format!("neurognn-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (spec, out) = (dir.join("spec.json"), dir.join("out.json"));
    let text = r#"{"name": "tiny", "data": {"source": "synthetic", "config": {"animals": 2, "neurons": 8, "frames": 300}},
        "models": [{"kind": "linear"}, {"kind": "gcn", "hidden": 8}], "protocols": ["leave_one_animal_out"],
        "train": {"steps": 10, "batch_size": 16, "eval_every": 5}, "seeds": [0, 1]}"#;
    std::fs::write(&spec, text).unwrap();
    let csv = dir.join("summary.csv");
    let (ok, stdout, stderr) = neurognn(&["run", spec.to_str().unwrap(), "--json", out.to_str().unwrap(), "--csv", csv.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("next-step") && stdout.contains("GCN") && stdout.contains("vs best non-graph (mse)"), "{stdout}");
    let result: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let summary = result["summary"].as_array().unwrap();
    let row = summary.iter().find(|r| r["model"] == "GCN" && r["metric"] == "mse").expect("a GCN mse row");
    // 2 folds × 2 seeds, paired with the linear model (the only structure-agnostic one)
    assert_eq!(row["n"], 4);
    assert_eq!(result["runs"].as_array().unwrap().len(), 8);
    let vs = &row["vs"][0];
    assert_eq!((vs["baseline"].as_str(), vs["n"].as_u64()), (Some("linear"), Some(4)));
    let p = vs["p"].as_f64().unwrap();
    // 4 pairs: p is a multiple of 1/16, at least 2/16
    assert!((p * 16.0).fract() == 0.0 && p >= 0.125, "p = {p}");
    let csv = std::fs::read_to_string(&csv).unwrap();
    assert!(csv.starts_with("task,protocol,model,metric,mean,sd,n,best_non_graph,diff_vs_best_non_graph") && csv.contains(",GCN,mse,"), "{csv}");

    // the Markdown report of the JSON: the same comparison, with its CI and p-value
    let (ok, markdown, stderr) = neurognn(&["report", out.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    let gcn = markdown.lines().find(|l| l.starts_with("| GCN | leave-one-animal-out |")).unwrap_or_else(|| panic!("{markdown}"));
    assert!(gcn.contains("| linear: "), "{gcn}");
    assert!(gcn.contains(&neurognn::stats::p_text(p)) && gcn.contains("(n 4)"), "{gcn}");
    assert!(markdown.contains("| model | protocol | mse |") && markdown.contains("vs persistence (mse)"), "{markdown}");
    let (ok, _, stderr) = neurognn(&["report", spec.to_str().unwrap()]);
    assert!(!ok && stderr.contains("not a NeuroGNN results JSON"), "{stderr}");

    std::fs::write(&spec, "{\"models\": 3}").unwrap();
    let (ok, _, stderr) = neurognn(&["run", spec.to_str().unwrap()]);
    assert!(!ok && stderr.contains("not a valid experiment spec"), "{stderr}");

    // a field out of its bounds is named with its range, before anything is read or trained
    std::fs::write(&spec, r#"{"rollout_horizon": 4000000000}"#).unwrap();
    let (ok, _, stderr) = neurognn(&["run", spec.to_str().unwrap()]);
    assert!(!ok && stderr.contains("rollout_horizon is 4000000000; it must be from 0 to 1000"), "{stderr}");
    let (ok, _, stderr) = neurognn(&["run", "--preset", "synthetic-demo", "--steps", "0"]);
    assert!(!ok && stderr.contains("steps is 0; it must be from 1"), "{stderr}");

    // files given to a spec that reads other data are refused, not ignored
    let recording = dir.join("rec.csv");
    std::fs::write(&recording, "AVAL,AVAR\n1,2\n3,4\n5,6\n").unwrap();
    std::fs::write(&spec, r#"{"name": "mine"}"#).unwrap();
    let (ok, _, stderr) = neurognn(&["run", spec.to_str().unwrap(), "--file", recording.to_str().unwrap()]);
    assert!(!ok && stderr.contains("--file was given, but this spec's data source is \"synthetic\""), "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bench_parse_prints_times() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/kato2015/npz/worm1.npz");
    let (ok, stdout, stderr) = neurognn(&["bench", "parse", file, "--repeat", "2"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("worm1.npz") && stdout.contains("median ms"), "{stdout}");
}

#[test]
fn run_saves_models_that_apply_reproduces_on_a_kato_worm() {
    use neurognn::model::{ModelKind, ModelSpec};
    let dir = std::env::temp_dir().join(format!("neurognn-models-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut spec = neurognn::train::presets::preset("kato-behaviour-4").unwrap();
    spec.models = vec![ModelSpec::new(ModelKind::Mlp)];
    spec.train.steps = 40;
    spec.seeds = vec![0];
    let (spec_file, out, models, applied) = (dir.join("spec.json"), dir.join("out.json"), dir.join("models"), dir.join("applied.json"));
    std::fs::write(&spec_file, serde_json::to_string(&spec).unwrap()).unwrap();
    let kato = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/kato2015");
    let args = ["run", spec_file.to_str().unwrap(), "--data", kato, "--json", out.to_str().unwrap(), "--models", models.to_str().unwrap()];
    let (ok, _, stderr) = neurognn(&args);
    assert!(ok, "{stderr}");
    let mut files: Vec<String> = std::fs::read_dir(&models).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    files.sort();
    assert_eq!(files.len(), 5, "a model per fold: {files:?}");
    let result: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let run = result["runs"].as_array().unwrap().iter().find(|r| r["fold"] == "worm3").expect("a run tested on worm3");
    let file = files.iter().find(|f| f.contains("worm3")).expect("worm3's model");
    let worm3 = format!("{kato}/npz/worm3.npz");
    let (ok, stdout, stderr) = neurognn(&["apply", models.join(file).to_str().unwrap(), &worm3, "--json", applied.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("trained on worm1, worm2, worm4, worm5, tested on worm3") && stdout.contains("22 of 22 neurons"), "{stdout}");
    let applied: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&applied).unwrap()).unwrap();
    let (got, want) = (applied[0]["metrics"]["balanced_accuracy"].as_f64().unwrap(), run["metrics"]["balanced_accuracy"].as_f64().unwrap());
    assert!((got - want).abs() < 1e-9, "applied {got}, the run {want}");
    // a file that is not a model
    let (ok, _, stderr) = neurognn(&["apply", worm3.as_str(), &worm3]);
    assert!(!ok && stderr.contains("not a NeuroGNN model file"), "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}

/// The runs' metrics of a results JSON, in order, with what identifies each run.
fn run_numbers(result: &serde_json::Value) -> Vec<(String, String, u64, serde_json::Value)> {
    result["runs"].as_array().unwrap().iter().map(|r| (r["model"].as_str().unwrap().to_string(), r["fold"].as_str().unwrap().to_string(), r["seed"].as_u64().unwrap(), r["metrics"].clone())).collect()
}

#[test]
fn jobs_and_shards_give_the_numbers_of_one_process_and_merge_refuses_wrong_parts() {
    let dir = std::env::temp_dir().join(format!("neurognn-shards-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = |name: &str| dir.join(name).to_str().unwrap().to_string();
    // linear, GCN and NRI (which infers graphs: reference graphs and graph scores too)
    let text = r#"{"name": "shards", "data": {"source": "synthetic", "config": {"animals": 3, "neurons": 8, "frames": 300}},
        "models": [{"kind": "linear"}, {"kind": "gcn", "hidden": 8}, {"kind": "nri", "hidden": 8}], "protocols": ["leave_one_animal_out"],
        "train": {"steps": 12, "batch_size": 16, "eval_every": 4}, "seeds": [0, 1], "rollout_horizon": 3}"#;
    std::fs::write(path("spec.json"), text).unwrap();
    let read = |name: &str| -> serde_json::Value { serde_json::from_str(&std::fs::read_to_string(path(name)).unwrap()).unwrap() };

    let (ok, _, stderr) = neurognn(&["run", &path("spec.json"), "--jobs", "1", "--json", &path("serial.json")]);
    assert!(ok, "{stderr}");
    let (ok, stdout, stderr) = neurognn(&["run", &path("spec.json"), "--jobs", "3", "--json", &path("jobs.json")]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("training in 3 processes"), "{stdout}");
    let (serial, jobs) = (read("serial.json"), read("jobs.json"));
    assert_eq!(run_numbers(&serial).len(), 18);
    assert_eq!(run_numbers(&serial), run_numbers(&jobs), "3 processes trained other numbers than one");
    assert_eq!(serial["summary"], jobs["summary"]);
    assert_eq!(serial["reference_graphs"], jobs["reference_graphs"]);
    assert!(jobs.get("part").is_none());

    // shards by hand, merged in any order
    for k in 1..=3 {
        let (ok, stdout, stderr) = neurognn(&["run", &path("spec.json"), "--shard", &format!("{k}/3"), "--json", &path(&format!("part{k}.json"))]);
        assert!(ok, "{stderr}");
        assert!(stdout.contains(&format!("shard {k}/3: ")), "{stdout}");
    }
    // the dear NRI runs (6) are spread over the shards: 2 each
    for k in 1..=3 {
        let part = read(&format!("part{k}.json"));
        assert_eq!(part["part"]["shard"], k);
        assert_eq!(part["runs"].as_array().unwrap().iter().filter(|r| r["model"] == "NRI").count(), 2, "shard {k}");
    }
    let (ok, stdout, stderr) = neurognn(&["merge", &path("merged.json"), &path("part3.json"), &path("part1.json"), &path("part2.json"), "--csv", &path("merged.csv")]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("merged 18 runs of shards") && stdout.contains("NRI"), "{stdout}");
    let merged = read("merged.json");
    assert_eq!(run_numbers(&serial), run_numbers(&merged));
    assert_eq!(serial["summary"], merged["summary"]);
    assert!(std::fs::read_to_string(path("merged.csv")).unwrap().contains(",NRI,mse,"));

    // wrong parts are refused, naming them
    let refused = |args: &[&str], says: &str| {
        let (ok, _, stderr) = neurognn(args);
        assert!(!ok && stderr.contains(says), "merge {args:?}: {stderr}");
    };
    refused(&["merge", &path("x.json"), &path("part1.json"), &path("part3.json")], "missing 1 of 3: shard 2/3");
    refused(&["merge", &path("x.json"), &path("part1.json"), &path("part2.json"), &path("part2.json"), &path("part3.json")], "shard 2/3 is given more than once");
    refused(&["merge", &path("x.json"), &path("part1.json"), &path("serial.json")], &format!("{} is not a part of a sharded run", path("serial.json")));
    refused(&["merge", &path("x.json"), &path("spec.json")], "not a NeuroGNN results JSON");
    let tamper = |name: &str, edit: &dyn Fn(&mut serde_json::Value)| {
        let mut part = read("part2.json");
        edit(&mut part);
        std::fs::write(path(name), serde_json::to_string(&part).unwrap()).unwrap();
    };
    tamper("other-data.json", &|p| p["part"]["data"] = "0123456789abcdef".into());
    refused(&["merge", &path("x.json"), &path("part1.json"), &path("other-data.json"), &path("part3.json")], &format!("{} was run on other data than", path("other-data.json")));
    tamper("short.json", &|p| {
        p["runs"].as_array_mut().unwrap().pop();
    });
    refused(&["merge", &path("x.json"), &path("part1.json"), &path("short.json"), &path("part3.json")], &format!("{} should hold 6 runs and holds 5; runs not there:", path("short.json")));
    // a part of the same spec with other seeds is another experiment
    std::fs::write(path("spec2.json"), text.replace("[0, 1]", "[0, 2]")).unwrap();
    let (ok, _, stderr) = neurognn(&["run", &path("spec2.json"), "--shard", "2/3", "--json", &path("other.json")]);
    assert!(ok, "{stderr}");
    refused(&["merge", &path("x.json"), &path("part1.json"), &path("other.json"), &path("part3.json")], &format!("{} is a part of another experiment than", path("other.json")));
    // a shard needs somewhere to write its part
    refused(&["run", &path("spec.json"), "--shard", "1/3"], "--shard writes its part with --json");
    refused(&["run", &path("spec.json"), "--shard", "4/3", "--json", &path("p.json")], "'4/3' is not a shard");
    assert!(!std::path::Path::new(&path("x.json")).exists(), "a refused merge wrote its output");
    std::fs::remove_dir_all(&dir).ok();
}
