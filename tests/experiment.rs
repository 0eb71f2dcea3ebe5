//! Experiments end to end on small data: every model, task and protocol runs through one spec,
//! CPU runs repeat bit for bit, the results table has what the JSON promises, and training
//! beats the untrained baselines where it should.
#![cfg(not(target_arch = "wasm32"))]

use burn::prelude::Device;
use neurognn::data::preprocess::NeuronSet;
use neurognn::data::reference::KnownGraph;
use neurognn::data::synthetic::{Dynamics, SyntheticConfig};
use neurognn::model::{ModelKind, ModelSpec};
use neurognn::train::{Host, NativeHost};
use neurognn::train::experiment::{DataSpec, ExperimentResult, ExperimentSpec, PreprocessSpec, Protocol, RunResult, TaskSpec, format_table, run_experiment};
use neurognn::train::report::{runs_csv, summary_csv, tables};
use neurognn::train::{TrainConfig, presets};

/// burn seeds a device's random numbers per device, not per run: tests that train at the same
/// time in one process would draw from each other's stream, so they take turns.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn small_spec() -> ExperimentSpec {
    let three: Vec<(String, Vec<String>)> = ["FWD", "REV", "TURN"].iter().map(|s| (s.to_string(), vec![s.to_string()])).collect();
    ExperimentSpec {
        name: "small".into(),
        data: DataSpec::Synthetic { config: SyntheticConfig { animals: 2, neurons: 10, frames: 400, observed_fraction: 0.8, ..SyntheticConfig::default() } },
        preprocess: PreprocessSpec { neuron_set: NeuronSet::UnionMasked, change: true, history: 3, resample_hz: None },
        tasks: vec![TaskSpec::NextStep, TaskSpec::Behaviour { name: "states".into(), classes: three }],
        models: ModelKind::ALL.iter().map(|&k| ModelSpec { hidden: 8, ..ModelSpec::new(k) }).collect(),
        protocols: vec![Protocol::WithinAnimal, Protocol::LeaveOneAnimalOut],
        train: TrainConfig { steps: 12, batch_size: 16, eval_every: 6, report_every: 4, ..TrainConfig::default() },
        seeds: vec![3],
        ..ExperimentSpec::default()
    }
}

fn run(spec: &ExperimentSpec) -> ExperimentResult {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let DataSpec::Synthetic { config } = &spec.data else { unreachable!("synthetic spec") };
    let worm = config.generate();
    pollster::block_on(run_experiment(spec, &worm.recordings, Some(&worm.graph), "CPU", &Device::flex(), &mut NativeHost::default())).unwrap()
}

#[test]
fn every_model_task_and_protocol_runs_and_repeats_exactly() {
    let spec = small_spec();
    let a = run(&spec);
    // 2 tasks × 2 protocols × 2 folds × 6 models
    assert_eq!(a.runs.len(), 48);
    for r in &a.runs {
        let keys: Vec<&str> = r.metrics.keys().map(String::as_str).collect();
        if r.task == "next-step" {
            assert!(r.metrics["mse"].is_finite() && r.metrics["persistence_mse"] > 0.0, "{r:?}");
        } else {
            let b = r.metrics["balanced_accuracy"];
            assert!((0.0..=1.0).contains(&b), "{keys:?}");
            let confusion = r.confusion.as_ref().unwrap();
            assert_eq!(confusion.len(), 3);
        }
        if r.model == "NRI" {
            assert!(r.metrics.contains_key("graph_auroc_truth"), "NRI runs score their graph: {keys:?}");
            assert_eq!(r.graphs[0].edges.len(), a.neurons.len() * a.neurons.len());
        }
    }
    let row = a.summary.iter().find(|s| s.model == "GCN" && s.protocol == "leave-one-animal-out" && s.task == "states" && s.metric == "balanced_accuracy").unwrap();
    assert_eq!(row.n, 2);
    let table = format_table(&a);
    assert!(table.contains("balanced_accuracy") && table.contains("NRI") && table.contains("leave-one-animal-out"), "{table}");
    // the page's tables: one per task, a row per model × protocol, cells matching the summary
    let grouped = tables(&a.summary);
    assert_eq!(grouped.iter().map(|t| t.task.as_str()).collect::<Vec<_>>(), ["next-step", "states"]);
    let states = &grouped[1];
    assert_eq!(states.rows.len(), 12);
    let gcn = states.rows.iter().find(|r| r.model == "GCN" && r.protocol == "leave-one-animal-out").unwrap();
    assert_eq!(states.cell(gcn, "balanced_accuracy"), Some((row.mean, row.sd)));
    // and the CSV download: a header and one line per run, with every metric named
    let csv = runs_csv(&a);
    assert_eq!(csv.lines().count(), 49, "{csv}");
    assert!(csv.lines().next().unwrap().contains("balanced_accuracy") && csv.contains("graph_auroc_truth"));
    // paired comparisons on the headline metric: GCN against the best structure-agnostic model
    // (lowest mean MSE of linear, MLP and GRU), fold by fold, and against persistence
    let mse = |model: &str| a.summary.iter().find(|s| s.model == model && s.protocol == "leave-one-animal-out" && s.task == "next-step" && s.metric == "mse").unwrap();
    let best = ["linear", "MLP", "GRU"].into_iter().min_by(|x, y| mse(x).mean.total_cmp(&mse(y).mean)).unwrap();
    let per_fold = |model: &str, metric: &str| -> Vec<f64> {
        let mut runs: Vec<&RunResult> = a.runs.iter().filter(|r| r.model == model && r.protocol == "leave-one-animal-out" && r.task == "next-step").collect();
        runs.sort_by(|x, y| x.fold.cmp(&y.fold));
        runs.iter().map(|r| r.metrics[metric]).collect()
    };
    let diffs: Vec<f64> = per_fold("GCN", "mse").iter().zip(per_fold(best, "mse")).map(|(g, b)| g - b).collect();
    let gcn_mse = mse("GCN");
    assert_eq!(gcn_mse.vs.len(), 2, "{gcn_mse:?}");
    let (vs_best, vs_persistence) = (&gcn_mse.vs[0], &gcn_mse.vs[1]);
    assert_eq!((vs_best.baseline.as_str(), vs_best.n, vs_persistence.baseline.as_str()), (best, 2, "persistence"));
    assert!((vs_best.diff - (diffs[0] + diffs[1]) / 2.0).abs() < 1e-12, "{vs_best:?} from {diffs:?}");
    // two pairs: p is 1/2 when they agree in sign (and the larger decides otherwise: 1)
    assert_eq!(vs_best.p, if diffs[0] * diffs[1] > 0.0 { 0.5 } else { 1.0 });
    assert!(vs_best.ci[0] <= vs_best.diff && vs_best.diff <= vs_best.ci[1]);
    let to_persistence: Vec<f64> = per_fold("GCN", "mse").iter().zip(per_fold("GCN", "persistence_mse")).map(|(m, p)| m - p).collect();
    assert!((vs_persistence.diff - (to_persistence[0] + to_persistence[1]) / 2.0).abs() < 1e-12);
    // the best model itself is compared with persistence only; other metrics carry nothing
    assert_eq!(mse(best).vs.iter().map(|p| p.baseline.as_str()).collect::<Vec<_>>(), ["persistence"]);
    assert!(a.summary.iter().filter(|s| s.metric != "mse" && s.metric != "balanced_accuracy").all(|s| s.vs.is_empty()));
    assert_eq!(row.vs.len(), 1, "behaviour rows compare with the best non-graph model: {row:?}");
    // ... and in the CLI's table, the summary CSV and the JSON
    assert!(table.contains("vs best non-graph (mse)") && table.contains("vs persistence (mse)") && table.contains(&format!("{best}: ")), "{table}");
    let summary = summary_csv(&a);
    let head = summary.lines().next().unwrap();
    assert!(head.contains("p_vs_best_non_graph") && head.contains("ci_low_vs_persistence"), "{head}");
    assert_eq!(summary.lines().count(), a.summary.len() + 1);
    assert!(summary.contains(&format!("next-step,leave-one-animal-out,GCN,mse,{},{},2,{best},{}", gcn_mse.mean, gcn_mse.sd, vs_best.diff)), "{summary}");
    let json: serde_json::Value = serde_json::to_value(&a).unwrap();
    let gcn_json = json["summary"].as_array().unwrap().iter().find(|s| s["model"] == "GCN" && s["metric"] == "mse" && s["protocol"] == "leave-one-animal-out").unwrap();
    assert_eq!(gcn_json["vs"][0]["p"], serde_json::json!(vs_best.p));
    // next-step runs keep actual and predicted activity for the page's trace view
    let p = a.runs.iter().find(|r| r.task == "next-step").and_then(|r| r.predictions.as_ref()).unwrap();
    assert_eq!((p.actual.len(), p.predicted.len()), (p.frames * p.neurons, p.frames * p.neurons));
    assert!(p.frames > 10 && p.predicted.iter().flatten().any(|v| v.abs() > 0.0));
    // CPU runs reproduce bit for bit with the same seed
    let b = run(&spec);
    assert_eq!(a.runs.iter().map(|r| &r.metrics).collect::<Vec<_>>(), b.runs.iter().map(|r| &r.metrics).collect::<Vec<_>>());
    // and the JSON a page would download carries the summary and runs
    let json: serde_json::Value = serde_json::to_value(&a).unwrap();
    assert!(json["summary"][0]["mean"].is_number() && json["runs"][0]["metrics"].is_object());
}

#[test]
fn training_beats_persistence_on_the_synthetic_worm() {
    let mut spec = small_spec();
    spec.tasks = vec![TaskSpec::NextStep];
    spec.protocols = vec![Protocol::WithinAnimal];
    spec.models = vec![ModelSpec::new(ModelKind::Mlp)];
    spec.preprocess.change = false;
    spec.train.steps = 300;
    spec.train.eval_every = 50;
    // the host hears the plan first, then each run's start and end
    let mut host = Recorder::default();
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let DataSpec::Synthetic { config } = &spec.data else { unreachable!() };
    let worm = config.generate();
    let result = pollster::block_on(run_experiment(&spec, &worm.recordings, Some(&worm.graph), "CPU", &Device::flex(), &mut host)).unwrap();
    assert_eq!(host.events.len(), 1 + 2 * result.runs.len());
    assert!(host.events[0].starts_with("plan 2 runs") && host.events[1].starts_with("start 0 MLP · next-step · within-animal"), "{:?}", host.events);
    assert_eq!(host.events[2], "end 0 MLP");
    for r in &result.runs {
        assert!(r.metrics["mse"] < r.metrics["persistence_mse"], "{:?}", r.metrics);
        // fed its own predictions for 5 frames, it still beats holding the last frame
        let roll = r.rollout.as_ref().unwrap();
        assert_eq!(roll.mse.len(), 5);
        assert!(roll.starts > 5 && roll.mse[4] > roll.mse[0], "{roll:?}");
        assert!(r.metrics["rollout_mse"] < r.metrics["rollout_persistence_mse"], "{:?}", r.metrics);
        // the rolled-out traces tile the sample: every 5th frame is a one-step prediction, the
        // frames between come from the model's own predictions and drift from the one-step ones
        let p = r.predictions.as_ref().unwrap();
        assert_eq!(p.rolled_out.len(), p.predicted.len());
        let n = p.neurons;
        let i = (0..n).find(|&i| p.predicted[i].is_some()).unwrap();
        // rollouts cover every frame but the last few (each needs 5 frames ahead)
        let covered = (0..p.frames).take_while(|k| p.rolled_out[k * n + i].is_some()).count();
        assert!(covered + 10 >= p.frames && covered > 40, "{covered} of {} frames rolled out", p.frames);
        let at = |v: &[Option<f32>], k: usize| v[k * n + i].unwrap();
        for k in (0..covered).step_by(5) {
            assert!((at(&p.rolled_out, k) - at(&p.predicted, k)).abs() < 1e-4, "frame {k}");
        }
        assert!((1..covered).filter(|k| k % 5 != 0).any(|k| (at(&p.rolled_out, k) - at(&p.predicted, k)).abs() > 1e-3));
    }
}

/// The `synthetic-graph` preset as the page and the CLI run it (about 3 minutes on 2 cores):
/// relational inference recovers the true wiring (AUROC ≥ 0.90, the goal), far better
/// than correlation does and close to lagged ridge regression, the model-free bar next to it.
#[test]
fn relational_inference_recovers_the_synthetic_wiring() {
    let result = run(&presets::preset("synthetic-graph").unwrap());
    let reference = |method: &str| {
        let r = result.reference_graphs.iter().find(|r| r.method.contains(method)).unwrap();
        r.vs_truth.as_ref().unwrap().auroc
    };
    let (correlation, regression) = (reference("correlation"), reference("regression"));
    let nri = &result.runs[0].metrics;
    let auroc = nri["graph_auroc_truth"];
    eprintln!("AUROC vs the true wiring: NRI {auroc:.3}, |correlation| {correlation:.3}, lagged ridge {regression:.3}, shuffled null {:.3}", nri["graph_auroc_truth_null"]);
    assert!(regression > 0.9, "ridge {regression}");
    // the goal; measured 0.936 (correlation 0.665, ridge 0.966)
    assert!(auroc >= 0.9, "NRI {auroc}");
    assert!(auroc > correlation + 0.2, "NRI {auroc} vs correlation {correlation}");
    assert!(auroc > nri["graph_auroc_truth_null"] + 0.2, "{nri:?}");
    assert!(nri["mse"] < 0.85 * nri["persistence_mse"], "{nri:?}");
}

/// Relational inference on two systems that are not the worm (coupled oscillators, a sparse
/// linear system), each scored against its wiring given as a reference graph file, as a user
/// with a known graph would: NRI beside |correlation| and lagged ridge regression.
#[test]
fn two_simulated_systems_are_scored_against_their_wiring_from_a_file() {
    for dynamics in [Dynamics::LinearVar, Dynamics::Kuramoto] {
        let mut spec = presets::preset(if dynamics == Dynamics::Kuramoto { "oscillators-graph" } else { "linear-graph" }).unwrap();
        let DataSpec::Synthetic { config } = &spec.data else { unreachable!("a synthetic system") };
        let system = config.generate();
        let n = system.graph.names.len();
        assert!(system.recordings[0].labels.is_none());
        spec.models[0].steps = Some(200);
        spec.models[0].hidden = 16;
        // the wiring as the edge list a user would bring
        let names = &system.graph.names;
        let file: String = std::iter::once("from,to,weight".to_string()).chain(system.graph.edges.iter().map(|&(a, b, w)| format!("{},{},{w}", names[a], names[b]))).collect::<Vec<_>>().join("\n");
        let known = KnownGraph::parse("wiring.csv", file.as_bytes()).unwrap();
        assert_eq!(known.adjacency(names), system.graph.adjacency());
        spec.reference = Some(known);
        spec.validate().unwrap();
        let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut host = Recorder::default();
        let result = pollster::block_on(run_experiment(&spec, &system.recordings, None, "CPU", &Device::flex(), &mut host)).unwrap();
        assert!(host.events[0].ends_with("with the true wiring"), "{:?}", host.events);
        let reference = |method: &str| {
            let r = result.reference_graphs.iter().find(|r| r.method.contains(method)).unwrap();
            // every graph's matrix is in the results
            assert_eq!(r.edges.len(), n * n);
            r.vs_truth.clone().unwrap()
        };
        let (correlation, ridge) = (reference("correlation"), reference("regression"));
        let nri = &result.runs[0].metrics;
        eprintln!(
            "{dynamics:?}: AUROC vs the wiring file: NRI {:.3} (AUPRC {:.3}), |correlation| {:.3}, lagged ridge {:.3}; null 95 % [{:.3}, {:.3}]",
            nri["graph_auroc_truth"], nri["graph_auprc_truth"], correlation.auroc, ridge.auroc, ridge.null_interval[0], ridge.null_interval[1]
        );
        for s in [&correlation, &ridge] {
            assert!(s.null_interval[0] < s.null_mean && s.null_mean < s.null_interval[1] && s.null_draws == 1000, "{s:?}");
        }
        // lagged regression recovers what drives each unit, in both systems
        assert!(ridge.auroc > ridge.null_interval[1], "{dynamics:?}: ridge {ridge:?}");
        if dynamics == Dynamics::LinearVar {
            // it is the linear system's own model; NRI finds the wiring too
            assert!(ridge.auroc > 0.95 && ridge.auprc > 0.8, "{ridge:?}");
            assert!(nri["graph_auroc_truth"] > nri["graph_auroc_truth_null_high"], "{nri:?}");
        }
        assert!(nri["mse"] < nri["persistence_mse"], "{dynamics:?}: {nri:?}");
    }
}

#[test]
fn presets_are_valid_specs_for_their_data() {
    for (name, _) in presets::PRESETS {
        let spec = presets::preset(name).unwrap();
        assert!(!spec.models.is_empty() && !spec.tasks.is_empty(), "{name}");
    }
    // a spec that cannot run says why instead of panicking
    let mut spec = small_spec();
    spec.protocols = vec![Protocol::LeaveOneAnimalOut];
    let DataSpec::Synthetic { config } = &spec.data else { unreachable!() };
    let one = config.generate().recordings.remove(0);
    let err = pollster::block_on(run_experiment(&spec, &[one], None, "CPU", &Device::flex(), &mut NativeHost::default())).unwrap_err();
    assert!(err.to_string().contains("at least two animals"), "{err}");
    // so does a training setting out of range
    let mut spec = small_spec();
    spec.train.teacher_forcing_end = 2.0;
    let DataSpec::Synthetic { config } = &spec.data else { unreachable!() };
    let recordings = config.generate().recordings;
    let err = pollster::block_on(run_experiment(&spec, &recordings, None, "CPU", &Device::flex(), &mut NativeHost::default())).unwrap_err();
    assert!(err.to_string().contains("teacher_forcing_end"), "{err}");
}

/// A host that writes down what an experiment tells it.
#[derive(Default)]
struct Recorder {
    events: Vec<String>,
}

impl Host for Recorder {
    async fn yield_now(&mut self) {}
    fn progress(&mut self, _: &neurognn::train::Progress) -> std::ops::ControlFlow<()> {
        std::ops::ControlFlow::Continue(())
    }
    fn planned(&mut self, plan: &neurognn::train::experiment::Plan) {
        let n = plan.neurons.len();
        // the page draws the references from the plan
        assert_eq!(plan.connectome.len(), n * n);
        assert!(plan.truth.as_ref().is_none_or(|t| t.len() == n * n && t.iter().any(|v| *v > 0.0)));
        self.events.push(format!("plan {} runs over {n} neurons{}", plan.runs.len(), if plan.truth.is_some() { " with the true wiring" } else { "" }));
    }
    fn run_started(&mut self, label: &str, index: usize, _: usize) {
        self.events.push(format!("start {index} {label}"));
    }
    fn run_finished(&mut self, index: usize, run: &neurognn::train::experiment::RunResult) {
        self.events.push(format!("end {index} {}", run.model));
    }
}

/// Poisons the loss of one run (fault injection): that run diverges.
struct PoisonOneRun {
    poisoned: usize,
    current: usize,
}

impl Host for PoisonOneRun {
    async fn yield_now(&mut self) {}
    fn progress(&mut self, _: &neurognn::train::Progress) -> std::ops::ControlFlow<()> {
        std::ops::ControlFlow::Continue(())
    }
    fn run_started(&mut self, _: &str, index: usize, _: usize) {
        self.current = index;
    }
    fn fault(&self) -> Option<neurognn::train::Fault> {
        (self.current == self.poisoned).then_some(neurognn::train::Fault::Nan)
    }
}

#[test]
fn a_diverged_run_is_marked_failed_and_the_others_go_on() {
    let spec = ExperimentSpec {
        models: vec![ModelSpec { hidden: 8, ..ModelSpec::new(ModelKind::Mlp) }, ModelSpec::new(ModelKind::Linear)],
        tasks: vec![TaskSpec::NextStep],
        protocols: vec![Protocol::WithinAnimal],
        ..small_spec()
    };
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let DataSpec::Synthetic { config } = &spec.data else { unreachable!("synthetic spec") };
    let worm = config.generate();
    let mut host = PoisonOneRun { poisoned: 1, current: 0 };
    let result = pollster::block_on(run_experiment(&spec, &worm.recordings, Some(&worm.graph), "CPU", &Device::flex(), &mut host)).expect("the experiment finishes");
    assert_eq!(result.runs.len(), 4);
    let failed: Vec<&str> = result.runs.iter().filter_map(|r| r.failed.as_deref()).collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].contains("diverged") && result.runs[1].metrics.is_empty(), "{failed:?}");
    assert!(result.runs.iter().enumerate().filter(|(i, _)| *i != 1).all(|(_, r)| r.metrics["mse"].is_finite()));
    assert_eq!(result.failed.len(), 1);
    assert!(result.failed[0].starts_with("linear · next-step · within-animal"), "{:?}", result.failed);
    // the summary is over the runs that finished: the linear model has one of two
    let linear = result.summary.iter().find(|r| r.model == "linear" && r.metric == "mse").expect("a linear row");
    assert_eq!(linear.n, 1);
    assert!(format_table(&result).contains("1 run(s) failed"));
}

#[test]
fn classes_that_match_no_state_say_which_were_asked_for_and_which_exist() {
    let spec = ExperimentSpec {
        tasks: vec![TaskSpec::Behaviour { name: "mine".into(), classes: vec![("A".into(), vec!["WALK".into()]), ("B".into(), vec!["RUN".into()])] }],
        ..small_spec()
    };
    let DataSpec::Synthetic { config } = &spec.data else { unreachable!("synthetic spec") };
    let worm = config.generate();
    let err = pollster::block_on(run_experiment(&spec, &worm.recordings, None, "CPU", &Device::flex(), &mut NativeHost::default())).unwrap_err().to_string();
    assert_eq!(err, "task 'mine' asks for states WALK, RUN but the recordings have FWD, REV, TURN");
}

/// A model whose cost is quadratic in neurons is refused before anything is built, with the
/// figure and what would fit; the same data still runs with a model that fits.
#[test]
fn a_model_too_big_for_the_backend_is_refused_with_its_memory() {
    let config = SyntheticConfig { animals: 1, neurons: 1000, frames: 60, ..SyntheticConfig::default() };
    let worm = config.generate();
    let spec = ExperimentSpec {
        data: DataSpec::Synthetic { config },
        models: vec![ModelSpec { hidden: 64, batch_size: Some(64), ..ModelSpec::new(ModelKind::Nri) }],
        tasks: vec![TaskSpec::NextStep],
        protocols: vec![Protocol::WithinAnimal],
        train: TrainConfig { steps: 2, batch_size: 64, eval_every: 2, ..TrainConfig::default() },
        ..small_spec()
    };
    let started = std::time::Instant::now();
    let err = pollster::block_on(run_experiment(&spec, &worm.recordings, None, "CPU", &Device::flex(), &mut NativeHost::default())).unwrap_err().to_string();
    // [64, 1000, 1000, 64] floats = 16.4 GB, over the CPU's 4 GiB per tensor
    assert!(err.starts_with("NRI on 1000 neurons needs 16.38 GB in one tensor for a batch of 64"), "{err}");
    // 4 GiB / (64 × 64 × 4 bytes) = 512²: at most 512 neurons, fewer where this machine's free
    // memory (8 × the tensor while training) binds first; a batch of at most 16 likewise
    let after = |key: &str| err.split(key).nth(1).and_then(|t| t.split(|c: char| !c.is_ascii_digit()).next()).and_then(|d| d.parse::<usize>().ok());
    let most = after("use at most ").expect("how many neurons fit");
    assert!(most > 0 && most <= 512, "{err}");
    assert!(after("a batch of at most ").is_some_and(|b| (1..=16).contains(&b)), "{err}");
    assert!(started.elapsed().as_secs_f64() < 5.0, "the refusal took {:?}", started.elapsed());
    // NRI's defaults (hidden 32, batch 32): 4.1 GB in one tensor fits the CPU's 4 GiB, but
    // training holds about 8 of them (32.8 GB), more than this machine has free
    // (a machine with more than 41 GB free would train it: not tried there)
    let free = neurognn::device::working_memory_bytes(&Device::flex());
    if free < 32_000_000_000 {
        let defaults = ExperimentSpec { models: vec![ModelSpec::new(ModelKind::Nri)], ..spec.clone() };
        let err = pollster::block_on(run_experiment(&defaults, &worm.recordings, None, "CPU", &Device::flex(), &mut NativeHost::default())).unwrap_err().to_string();
        assert!(err.starts_with("NRI on 1000 neurons needs about 32.77 GB while training (8 × its largest tensor, 4.10 GB for a batch of 32"), "{err}");
    } else {
        println!("{:.1} GB free: NRI's defaults on 1000 neurons would fit this machine; not tried", free as f64 / 1e9);
    }
    let mlp = ExperimentSpec { models: vec![ModelSpec { hidden: 16, ..ModelSpec::new(ModelKind::Mlp) }], ..spec };
    pollster::block_on(run_experiment(&mlp, &worm.recordings, None, "CPU", &Device::flex(), &mut NativeHost::default())).expect("an MLP fits");
}

/// A pool member: takes the runs `take` allows, in the order the plan asks for them.
struct Member {
    take: fn(usize) -> bool,
    trained: Vec<usize>,
}

impl Host for Member {
    async fn yield_now(&mut self) {}
    fn progress(&mut self, _: &neurognn::train::Progress) -> std::ops::ControlFlow<()> {
        std::ops::ControlFlow::Continue(())
    }
    async fn claim(&mut self, index: usize) -> bool {
        let mine = (self.take)(index);
        if mine {
            self.trained.push(index);
        }
        mine
    }
}

#[test]
fn runs_shared_out_by_a_pool_and_gathered_give_one_run_s_numbers() {
    use neurognn::train::experiment::{Share, resume_experiment};
    let mut spec = small_spec();
    spec.tasks = vec![TaskSpec::NextStep];
    spec.models = [ModelKind::Mlp, ModelKind::Gcn, ModelKind::Nri].iter().map(|&k| ModelSpec { hidden: 8, ..ModelSpec::new(k) }).collect();
    let whole = run(&spec);
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let DataSpec::Synthetic { config } = &spec.data else { unreachable!() };
    let worm = config.generate();
    let part = |take: fn(usize) -> bool| {
        let mut member = Member { take, trained: Vec::new() };
        let result = pollster::block_on(resume_experiment(&spec, &worm.recordings, Some(&worm.graph), "CPU", &Device::flex(), &mut member, &[], Share::Pool)).unwrap();
        (result, member.trained)
    };
    // two members; the second trains its runs first (out of the plan's order, as a pool may)
    let (odd, odd_runs) = part(|i| i % 2 == 1);
    let (even, even_runs) = part(|i| i % 2 == 0);
    assert_eq!(odd.runs.iter().map(|r| r.index).collect::<Vec<_>>(), odd_runs);
    assert_eq!(even.runs.iter().map(|r| r.index).collect::<Vec<_>>(), even_runs);
    assert_eq!(even.runs.len() + odd.runs.len(), whole.runs.len());
    let mut done: Vec<_> = odd.runs.into_iter().chain(even.runs).collect();
    done.sort_by_key(|r| r.index);
    // gathering trains nothing and gives the one run's result
    let mut gatherer = Member { take: |_| panic!("gathering asks for no run"), trained: Vec::new() };
    let gathered = pollster::block_on(resume_experiment(&spec, &worm.recordings, Some(&worm.graph), "CPU", &Device::flex(), &mut gatherer, &done, Share::Gather)).unwrap();
    assert_eq!(gathered.runs.len(), whole.runs.len());
    for (a, b) in gathered.runs.iter().zip(&whole.runs) {
        assert_eq!((a.index, &a.model, &a.fold), (b.index, &b.model, &b.fold));
        assert_eq!(a.metrics, b.metrics, "run {} differs", a.index);
    }
    assert_eq!(serde_json::to_string(&gathered.summary).unwrap(), serde_json::to_string(&whole.summary).unwrap());
    // a kept run is matched by its place too: two runs of one kind are not confused
    let mut twice = spec.clone();
    twice.models = vec![ModelSpec { hidden: 8, ..ModelSpec::new(ModelKind::Mlp) }, ModelSpec { hidden: 4, ..ModelSpec::new(ModelKind::Mlp) }];
    let both = pollster::block_on(resume_experiment(&twice, &worm.recordings, None, "CPU", &Device::flex(), &mut NativeHost::default(), &[], Share::All)).unwrap();
    let first_only = vec![both.runs[0].clone()];
    let resumed = pollster::block_on(resume_experiment(&twice, &worm.recordings, None, "CPU", &Device::flex(), &mut NativeHost::default(), &first_only, Share::All)).unwrap();
    assert_eq!(resumed.runs[1].parameters, both.runs[1].parameters);
    assert_ne!(resumed.runs[1].parameters, resumed.runs[0].parameters);
}

/// Every step of the page's guided lesson runs (cut to a few steps here; the e2e suite times
/// them whole in the page) and gives what its view shows.
#[test]
fn every_lesson_step_runs_and_gives_what_its_view_shows() {
    assert!(neurognn::train::presets::lesson(1).is_none() && neurognn::train::presets::lesson(6).is_none());
    for step in 2..=5 {
        let mut spec = neurognn::train::presets::lesson(step).unwrap();
        spec.validate().unwrap();
        spec.train.steps = 10;
        for m in &mut spec.models {
            m.steps = None;
        }
        let result = run(&spec);
        assert!(result.runs.iter().all(|r| r.failed.is_none()), "lesson {step}: {:?}", result.runs.iter().map(|r| &r.failed).collect::<Vec<_>>());
        let metric = |name: &str| result.runs.iter().all(|r| r.metrics.contains_key(name));
        match step {
            2 => assert!(result.runs.len() == 1 && metric("mse") && metric("persistence_mse")),
            3 => assert!(result.runs.len() == 6 && metric("mse")),
            4 => assert!(result.runs.len() == 6 && metric("balanced_accuracy") && result.runs.iter().all(|r| r.confusion.is_some())),
            _ => assert!(result.runs.len() == 3 && result.runs.iter().all(|r| !r.graphs.is_empty())),
        }
    }
}
