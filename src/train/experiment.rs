//! Experiments: a serialisable [`ExperimentSpec`] (data, preprocessing, tasks, models,
//! protocols, seeds) and the runner that turns recordings into a table of results.
//!
//! Protocols:
//! - within-animal: each animal split in time (train / validation / test, no window crosses a
//!   boundary), z-scored with its training frames' statistics;
//! - leave-one-animal-out: train on every animal but one (the last part of each in time is the
//!   validation set), test on the animal left out. Each animal is z-scored with its own
//!   statistics (the held-out animal's are computed from its activity alone, never its labels).
//!
//! The page and the CLI run the same spec through [`run_experiment`] and get the same numbers
//! on the same backend.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use super::spec::{DataSpec, ExperimentSpec, FileArrays, PreprocessSpec, Protocol, SpecError, TaskSpec};
use super::fit::{Evaluation, FitSetup, Objective, evaluate, fit};
use super::metrics::{ClassScores, argmax_rows, masked_next_step};
use super::rollout::{Rollout, rollout};
use crate::stats::Paired;
use super::saved::{ModelAbout, SavedModel, trained_on};
use super::bench::StepShape;
use super::{Host, TrainConfig, TrainError};
pub use super::report::{TaskTable, format_table, tables};
use crate::data::graph::{FixedGraph, GraphScore, correlation_graph, incoming_normalised, regression_graph, score_graph};
use crate::data::preprocess::{Aligned, align, resample};
use crate::data::synthetic::TrueGraph;
use crate::data::task::{Series, Target, Windows};
use crate::data::windows::chronological_split;
use crate::data::{DataError, Recording, transposed};
use crate::model::{InputShape, ModelKind, ModelSpec};
use burn::prelude::Device;

impl DataSpec {
    /// The recordings of this source, and the synthetic worm's true graph when there is one.
    /// `read` gets a Kato file's bytes by its path relative to the data folder or URL (the CLI
    /// reads a folder, the page's worker fetches); `files` are the user's own recordings.
    pub async fn load<F, Fut>(&self, files: Vec<Recording>, mut read: F) -> Result<(Vec<Recording>, Option<TrueGraph>), String>
    where
        F: FnMut(&'static str) -> Fut,
        Fut: std::future::Future<Output = Result<Vec<u8>, String>>,
    {
        match self {
            DataSpec::Synthetic { config } => {
                let worm = config.generate();
                Ok((worm.recordings, Some(worm.graph)))
            }
            DataSpec::Files { .. } if files.is_empty() => Err("this experiment runs on your own recordings: give them first (the page: drop them; the CLI: --file PATH)".into()),
            DataSpec::Files { .. } => Ok((files, None)),
            DataSpec::Kato => {
                let mut out = Vec::new();
                for file in DataSpec::KATO_FILES {
                    let bytes = read(file).await?;
                    out.extend(crate::data::formats::load(file, &bytes).map_err(|e| e.to_string())?);
                }
                Ok((out, None))
            }
        }
    }
}


/// Refuses, before anything is built, a model whose largest tensor for these neurons would not
/// fit `device` ([`device::largest_tensor_bytes`]), or whose training would hold more than the
/// device may use ([`device::working_memory_bytes`]), with the figure and what would fit.
fn fits_memory(spec: &ExperimentSpec, neurons: usize, device: &Device) -> Result<(), TrainError> {
    use crate::device::{WORKING_SET, largest_tensor_bytes, working_memory_bytes};
    let (tensor_limit, memory) = (largest_tensor_bytes(device), working_memory_bytes(device));
    let features = if spec.preprocess.change { 2 } else { 1 };
    let shape = |nodes| InputShape { history: spec.preprocess.history, nodes, features };
    let gb = |bytes: u64| format!("{:.2} GB", bytes as f64 / 1e9);
    for model in &spec.models {
        let batch = model.batch_size.unwrap_or(spec.train.batch_size).max(1);
        let bytes = |n: usize, b: usize| model.largest_tensor(shape(n), b).saturating_mul(4);
        let fits = |n: usize, b: usize| bytes(n, b) <= tensor_limit && bytes(n, b).saturating_mul(WORKING_SET) <= memory;
        if fits(neurons, batch) {
            continue;
        }
        let most_neurons = (1..neurons).rev().find(|&n| fits(n, batch)).unwrap_or(0);
        let most_batch = (1..batch).rev().find(|&b| fits(neurons, b));
        let batch_hint = match most_batch {
            Some(b) => format!(", or a batch of at most {b}"),
            None => " (a batch of 1 does not fit either)".to_string(),
        };
        let need = bytes(neurons, batch);
        let over = if need > tensor_limit {
            format!("needs {} in one tensor for a batch of {batch} ({}), over the {} this backend allows", gb(need), model.largest_tensor_name(), gb(tensor_limit))
        } else {
            format!(
                "needs about {} while training ({WORKING_SET} × its largest tensor, {} for a batch of {batch}: {}), over the {} this backend may use",
                gb(need.saturating_mul(WORKING_SET)),
                gb(need),
                model.largest_tensor_name(),
                gb(memory)
            )
        };
        return Err(TrainError::TooBig(format!(
            "{} on {neurons} neurons {over}; use at most {most_neurons} neurons (preprocess.neuron_set, or fewer recorded neurons){batch_hint}",
            model.kind.label(),
        )));
    }
    Ok(())
}

/// The size of a training step of `spec` on `recordings` (the batch of the experiment; a model
/// may set its own), to time backends with; `None` when the recordings cannot be aligned (the
/// experiment then says why).
pub fn step_shape(spec: &ExperimentSpec, recordings: &[Recording]) -> Option<StepShape> {
    let nodes = align(recordings, spec.preprocess.neuron_set).ok()?.neurons.len();
    Some(StepShape {
        nodes: nodes.max(1),
        history: spec.preprocess.history.max(1),
        features: if spec.preprocess.change { 2 } else { 1 },
        batch: spec.train.batch_size.max(1),
    })
}

/// An inferred graph (NRI), averaged over an animal's test windows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InferredGraph {
    pub animal: String,
    /// Row-major `[from][to]` edge probabilities over `ExperimentResult::neurons`.
    pub edges: Vec<f32>,
    /// Against the synthetic worm's true wiring (directed).
    pub vs_truth: Option<GraphScore>,
    /// Against the connectome (Cook 2019, chemical and gap junctions, undirected).
    pub vs_connectome: Option<GraphScore>,
}

/// One trained and tested model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// The run's place in the experiment's plan (0-based; the order of [`Plan::runs`]).
    #[serde(default)]
    pub index: usize,
    pub model: String,
    pub protocol: String,
    pub task: String,
    /// The animal tested (left out, or split in time).
    pub fold: String,
    pub seed: u64,
    pub metrics: BTreeMap<String, f64>,
    pub confusion: Option<Vec<Vec<usize>>>,
    pub steps: usize,
    pub best_step: usize,
    pub parameters: usize,
    pub seconds: f64,
    pub graphs: Vec<InferredGraph>,
    /// Next step: the model rolled out `rollout_horizon` frames from every 5th test frame.
    pub rollout: Option<Rollout>,
    /// Next step: actual and predicted activity over the first test windows, for plotting.
    pub predictions: Option<PredictionSample>,
    /// Why the run failed (it diverged), when it did; it then has no metrics and the other
    /// runs go on.
    #[serde(default)]
    pub failed: Option<String>,
}

/// Actual and one-step-predicted activity (z-scored) of every neuron over consecutive test
/// windows of one animal: `actual[t * neurons + i]`; `None` where the neuron is not recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictionSample {
    pub animal: String,
    pub frames: usize,
    pub neurons: usize,
    pub actual: Vec<Option<f32>>,
    pub predicted: Vec<Option<f32>>,
    /// The same frames rolled out: each predicted from the rollout that started last before it,
    /// the model fed its own predictions (up to the rollout horizon ahead).
    #[serde(default)]
    pub rolled_out: Vec<Option<f32>>,
}

/// Test windows kept per run for the predicted-versus-actual view.
const PREDICTION_FRAMES: usize = 300;

/// A graph computed without any model from the fold's training frames (|correlation|, and
/// lagged ridge regression), scored like inferred graphs: the bars an inferred graph has to clear.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceGraph {
    pub protocol: String,
    pub fold: String,
    pub method: String,
    pub vs_truth: Option<GraphScore>,
    pub vs_connectome: Option<GraphScore>,
    /// The graph itself, `[from][to]` row-major over the experiment's neurons.
    #[serde(default)]
    pub edges: Vec<f32>,
}

/// Mean ± sd of one metric over folds and seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    pub model: String,
    pub protocol: String,
    pub task: String,
    pub metric: String,
    pub mean: f64,
    pub sd: f64,
    pub n: usize,
    /// On the headline metric's row ([`headline_metric`]): the model against the best
    /// structure-agnostic model of its task and protocol (unless it is that model) and, for next
    /// step, against persistence, paired by fold and seed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vs: Vec<Paired>,
}

/// What a task's models are ranked and compared by: MSE for next-step prediction, balanced
/// accuracy for behaviour.
pub fn headline_metric(task: &str) -> &'static str {
    if task == "next-step" { "mse" } else { "balanced_accuracy" }
}

/// Whether lower values of `metric` are better (errors) rather than higher (accuracies, AUROC).
pub fn lower_is_better(metric: &str) -> bool {
    metric.contains("mse")
}

/// Whether `model` names a graph network (GCN, GAT, NRI); the others are structure-agnostic.
pub fn is_graph_model(model: &str) -> bool {
    ModelKind::ALL.iter().any(|k| k.label() == model && k.is_graph())
}

/// What an experiment produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperimentResult {
    pub spec: ExperimentSpec,
    pub backend: String,
    pub neurons: Vec<String>,
    pub animals: Vec<String>,
    /// Class names of each behaviour task.
    pub classes: BTreeMap<String, Vec<String>>,
    pub runs: Vec<RunResult>,
    pub summary: Vec<SummaryRow>,
    /// Correlation graphs per fold (when a model infers graphs), for comparison.
    pub reference_graphs: Vec<ReferenceGraph>,
    pub seconds: f64,
    /// The runs that failed ("model · task · protocol · fold · seed: why"); the summary is over
    /// the others.
    #[serde(default)]
    pub failed: Vec<String>,
    /// Set on a part of a sharded run (`neurognn run --shard K/N`): which part, and what it
    /// belongs to; [`super::shard::merge`] joins the parts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<super::shard::Part>,
}

/// Node-shuffled references behind each graph score's null (mean and 95 % interval).
const NULL_DRAWS: usize = 1000;

/// Rollouts start every this many test frames.
const ROLLOUT_STRIDE: usize = 5;


/// Checks a spec (its bounds, then against the recordings it will run on), with messages a
/// user can act on.
fn check(spec: &ExperimentSpec, recordings: &[Recording]) -> Result<(), TrainError> {
    spec.validate()?;
    let bad = |m: String| Err(DataError::Alignment(m).into());
    if recordings.is_empty() {
        return bad("the experiment has no recordings".into());
    }
    if spec.protocols.contains(&Protocol::LeaveOneAnimalOut) && recordings.len() < 2 {
        return bad("leave-one-animal-out needs at least two animals".into());
    }
    let runs = run_count(spec, recordings.len());
    if runs > super::spec::MAX_RUNS {
        return bad(format!("the experiment would make {runs} runs on these {} recordings, more than {}", recordings.len(), super::spec::MAX_RUNS));
    }
    let needed = spec.preprocess.history + 2;
    if let Some(r) = recordings.iter().find(|r| r.frames < needed) {
        return bad(format!("recording '{}' has {} frames; windows of {} frames of history need at least {needed}", r.name, r.frames, spec.preprocess.history));
    }
    for task in &spec.tasks {
        if let TaskSpec::Behaviour { name, classes } = task {
            if let Some(r) = recordings.iter().find(|r| r.labels.is_none()) {
                return bad(format!("task '{name}' needs behaviour labels, and '{}' has none", r.name));
            }
            // the classes must name states the recordings have, or nothing can be learnt
            let states: std::collections::BTreeSet<String> =
                recordings.iter().filter_map(|r| r.labels.as_ref()).flat_map(|l| l.names.iter().map(|n| n.to_ascii_uppercase())).collect();
            let asked: Vec<&String> = classes.iter().flat_map(|(_, sources)| sources).collect();
            let found = asked.iter().filter(|s| states.contains(&s.to_ascii_uppercase())).count();
            if found == 0 {
                let asked: Vec<&str> = asked.iter().map(|s| s.as_str()).collect();
                let have: Vec<&str> = states.iter().map(String::as_str).collect();
                return bad(format!("task '{name}' asks for states {} but the recordings have {}", asked.join(", "), have.join(", ")));
            }
        }
    }
    Ok(())
}

/// One fold's windows, with the graph its training data defines.
struct FoldData {
    fold: String,
    train: Windows,
    validation: Windows,
    test: Windows,
    /// Names of the test windows' sources.
    test_animals: Vec<String>,
    /// Training frames (z-scored activity), for the correlation graph (empty when no model
    /// uses a graph).
    train_activity: Vec<Vec<f32>>,
    /// The tested animal and its test frames (for rollouts).
    test_series: (Arc<Series>, std::ops::Range<usize>),
}

fn activity_rows(s: &Series, frames: std::ops::Range<usize>) -> Vec<f32> {
    frames.flat_map(|t| (0..s.nodes).map(move |i| s.activity(t, i))).collect()
}

/// Every fold's windows; `activity`: also keep the training frames' activity (for graphs).
fn folds(aligned: &Aligned, protocol: Protocol, task: &TaskSpec, spec: &ExperimentSpec, activity: bool) -> Result<Vec<FoldData>, DataError> {
    let pre = &spec.preprocess;
    let (target, merges) = match task {
        TaskSpec::NextStep => (Target::NextFrame, None),
        TaskSpec::Behaviour { classes, .. } => (Target::Class, Some(classes.as_slice())),
    };
    let n = aligned.neurons.len();
    let features = if pre.change { 2 } else { 1 };
    let empty = || Windows::new(pre.history, n, features);
    let mut out = Vec::new();
    match protocol {
        Protocol::WithinAnimal => {
            for animal in &aligned.animals {
                let split = chronological_split(animal.frames, spec.split);
                let series = Arc::new(Series::prepare(animal, split.train.clone(), pre.change, merges)?);
                let (mut train, mut validation, mut test) = (empty(), empty(), empty());
                train.add(&series, split.train.clone(), target, 0);
                validation.add(&series, split.validation.clone(), target, 0);
                test.add(&series, split.test.clone(), target, 0);
                out.push(FoldData {
                    fold: animal.name.clone(),
                    train,
                    validation,
                    test,
                    test_animals: vec![animal.name.clone()],
                    train_activity: if activity { vec![activity_rows(&series, split.train)] } else { Vec::new() },
                    test_series: (series, split.test),
                });
            }
        }
        Protocol::LeaveOneAnimalOut => {
            let all: Vec<Arc<Series>> = aligned.animals.iter().map(|a| Series::prepare(a, 0..a.frames, pre.change, merges).map(Arc::new)).collect::<Result<_, _>>()?;
            for (held, test_series) in all.iter().enumerate() {
                let (mut train, mut validation, mut test) = (empty(), empty(), empty());
                let mut train_activity = Vec::new();
                for (k, s) in all.iter().enumerate().filter(|(k, _)| *k != held) {
                    let cut = s.frames - ((s.frames as f32 * spec.split.validation.clamp(0.0, 0.5)).round() as usize);
                    train.add(s, 0..cut, target, k as u16);
                    validation.add(s, cut..s.frames, target, k as u16);
                    if activity {
                        train_activity.push(activity_rows(s, 0..cut));
                    }
                }
                test.add(test_series, 0..test_series.frames, target, held as u16);
                out.push(FoldData {
                    fold: test_series.name.clone(),
                    train,
                    validation,
                    test,
                    test_animals: vec![test_series.name.clone()],
                    train_activity,
                    test_series: (test_series.clone(), 0..test_series.frames),
                });
            }
        }
    }
    Ok(out)
}

/// The runs an experiment will make, known once its data is read (for the page's queue).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub animals: Vec<String>,
    /// The neurons every model sees, in order (the rows and columns of graphs).
    pub neurons: Vec<String>,
    /// One label per run ("model · task · protocol · fold · seed"), in the order they run.
    pub runs: Vec<String>,
    /// The graphs inferred graphs are scored against, row-major over `neurons`: the connectome
    /// and, on the synthetic worm, its true wiring (for the page's graph views).
    pub connectome: Vec<f32>,
    pub truth: Option<Vec<f32>>,
    /// What `truth` is when the spec brought it (a reference graph file's name); none for the
    /// synthetic worm's wiring.
    #[serde(default)]
    pub truth_name: Option<String>,
}

/// The runs an experiment will make (for progress bars).
pub fn run_count(spec: &ExperimentSpec, animals: usize) -> usize {
    spec.protocols.len() * animals * spec.tasks.len() * spec.seeds.len() * spec.models.len()
}

/// Labels of every run in order: task × protocol × fold × seed × model (folds are the animals
/// under both protocols).
fn plan(spec: &ExperimentSpec, aligned: &Aligned, references: &GraphReferences) -> Plan {
    let mut runs = Vec::new();
    for task in &spec.tasks {
        for protocol in &spec.protocols {
            for animal in &aligned.animals {
                for seed in &spec.seeds {
                    for model in &spec.models {
                        runs.push(format!("{} · {} · {} · {} · seed {seed}", model.kind.label(), task.label(), protocol.label(), animal.name));
                    }
                }
            }
        }
    }
    Plan {
        animals: aligned.animals.iter().map(|a| a.name.clone()).collect(),
        neurons: aligned.neurons.clone(),
        runs,
        connectome: references.connectome.concat(),
        truth: references.truth.as_ref().map(|t| t.concat()),
        truth_name: references.truth_name.clone(),
    }
}

/// Runs every task × protocol × fold × seed × model of `spec` on `recordings`.
/// `truth` is the synthetic worm's graph, when there is one, to score inferred graphs against.
pub async fn run_experiment<H: Host>(
    spec: &ExperimentSpec,
    recordings: &[Recording],
    truth: Option<&TrueGraph>,
    backend: &str,
    device: &Device,
    host: &mut H,
) -> Result<ExperimentResult, TrainError> {
    resume_experiment(spec, recordings, truth, backend, device, host, &[], Share::All).await
}

/// Which of an experiment's runs a call trains.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Share {
    /// Every run (but those already done).
    #[default]
    All,
    /// The runs the host is given when it asks for them ([`Host::claim`]): a pool of workers
    /// shares the runs out this way, each taking the next one nobody has when it is free.
    Pool,
    /// None: the result gathers the runs already done (a pool's parts, once all have finished).
    Gather,
}

/// The result in `done` of run `index`, when it is the run of `model` with `seed` on this
/// task, protocol and fold (the data may have changed since).
fn kept<'a>(done: &'a [RunResult], index: usize, fold: &FoldContext<'_>, model: &ModelSpec, seed: u64) -> Option<&'a RunResult> {
    let (task, protocol) = (fold.task.label(), fold.protocol.label());
    done.iter().find(|r| r.index == index && r.model == model.kind.label() && r.fold == fold.data.fold && r.seed == seed && r.task == task && r.protocol == protocol)
}

/// [`run_experiment`], taking the results of runs in `done` instead of training them again
/// (the page resumes on the CPU this way when the GPU is lost, and after a worker died), and
/// training only the runs `share` gives this call (a pool of workers splits the runs this way
/// and gathers their results with [`Share::Gather`]).
#[allow(clippy::too_many_arguments)]
pub async fn resume_experiment<H: Host>(
    spec: &ExperimentSpec,
    recordings: &[Recording],
    truth: Option<&TrueGraph>,
    backend: &str,
    device: &Device,
    host: &mut H,
    done: &[RunResult],
    share: Share,
) -> Result<ExperimentResult, TrainError> {
    let started = web_time::Instant::now();
    check(spec, recordings)?;
    // the recordings are copied only when resampled (a big recording is held once)
    let resampled: Vec<Recording>;
    let recordings: &[Recording] = match spec.preprocess.resample_hz {
        Some(hz) => {
            resampled = recordings.iter().map(|r| resample(r, hz)).collect::<Result<_, _>>()?;
            &resampled
        }
        None => recordings,
    };
    // resampling may make more frames: all animals together may hold no more than an experiment may
    let values: u64 = recordings.iter().map(|r| (r.frames * r.neurons) as u64).sum();
    if values > crate::data::MAX_VALUES {
        return Err(DataError::Alignment(format!(
            "the recordings hold {values} values after resampling to {} Hz, more than the {} all animals may hold together",
            spec.preprocess.resample_hz.unwrap_or_default(),
            crate::data::MAX_VALUES
        ))
        .into());
    }
    let aligned = align(recordings, spec.preprocess.neuron_set)?;
    let neurons = aligned.neurons.clone();
    fits_memory(spec, neurons.len(), device)?;
    // the user's reference graph, when the spec has one, takes the synthetic wiring's place
    let (truth, truth_name, truth_directed) = match &spec.reference {
        Some(known) => (Some(known.adjacency(&neurons)), Some(known.name.clone()), !known.is_symmetric()),
        None => (truth.map(|t| true_adjacency(t, &neurons)), None, true),
    };
    let references = GraphReferences { truth, truth_name, truth_directed, connectome: FixedGraph::default().build(&neurons, &[]) };
    let plan = plan(spec, &aligned, &references);
    host.planned(&plan);
    let infers_graphs = spec.models.iter().any(|m| m.kind == ModelKind::Nri);
    let needs_graph = spec.models.iter().any(|m| m.kind.needs_graph());
    let mut runs: Vec<RunResult> = Vec::new();
    // the index of the next run in the plan (runs kept or left to other workers count too)
    let mut next = 0;
    let mut reference_graphs = Vec::new();
    let mut classes = BTreeMap::new();
    for task in &spec.tasks {
        if let TaskSpec::Behaviour { name, classes: merges } = task {
            classes.insert(name.clone(), merges.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>());
        }
        for &protocol in &spec.protocols {
            for data in folds(&aligned, protocol, task, spec, infers_graphs || needs_graph)? {
                // one reference per protocol and fold: every task trains on the same frames
                let known = reference_graphs.iter().any(|r: &ReferenceGraph| r.protocol == protocol.label() && r.fold == data.fold);
                if infers_graphs && !known {
                    let n = neurons.len();
                    let graphs = [
                        ("|correlation| of training frames", correlation_graph(n, &data.train_activity, n)),
                        ("|lagged ridge regression| of training frames", regression_graph(n, &data.train_activity)),
                    ];
                    for (method, graph) in graphs {
                        let (vs_truth, vs_connectome) = references.score(&graph, 0);
                        reference_graphs.push(ReferenceGraph {
                            protocol: protocol.label().into(),
                            fold: data.fold.clone(),
                            method: method.into(),
                            vs_truth,
                            vs_connectome,
                            edges: graph.concat(),
                        });
                    }
                }
                let fold = FoldContext {
                    spec,
                    task,
                    protocol,
                    objective: match task {
                        TaskSpec::NextStep => Objective::NextStep,
                        TaskSpec::Behaviour { classes: merges, .. } => Objective::balanced(&data.train, merges.len()),
                    },
                    // the fixed graph is built from this fold's training frames, when a model uses it
                    incoming: needs_graph.then(|| incoming_normalised(&spec.graph.build(&neurons, &data.train_activity))),
                    references: &references,
                    neurons: &neurons,
                    animals: &plan.animals,
                    data,
                };
                for &seed in &spec.seeds {
                    for model in &spec.models {
                        let index = next;
                        next += 1;
                        // a kept result is used only for the same run (the data may have changed)
                        if let Some(run) = kept(done, index, &fold, model, seed) {
                            runs.push(run.clone());
                            continue;
                        }
                        let mine = match share {
                            Share::All => true,
                            Share::Pool => host.claim(index).await,
                            Share::Gather => false,
                        };
                        if !mine {
                            continue;
                        }
                        host.run_started(&plan.runs[index], index, plan.runs.len());
                        let (mut run, trained, stopped) = match run_model(&fold, model, seed, device, host).await {
                            // a diverged run is one result, not the end of the experiment
                            Err(e @ TrainError::Diverged { .. }) => (failed_run(&fold, model, seed, e.to_string()), None, false),
                            other => other?,
                        };
                        run.index = index;
                        host.run_finished(index, &run);
                        if let Some(trained) = trained {
                            host.model_trained(index, trained);
                        }
                        runs.push(run);
                        if stopped {
                            return Ok(finish(spec, backend, neurons, &aligned, classes, runs, reference_graphs, started));
                        }
                    }
                }
            }
        }
    }
    Ok(finish(spec, backend, neurons, &aligned, classes, runs, reference_graphs, started))
}

/// The result of a run that failed with `why`: no metrics.
fn failed_run(fold: &FoldContext<'_>, model: &ModelSpec, seed: u64, why: String) -> RunResult {
    RunResult {
        index: 0,
        model: model.kind.label().into(),
        protocol: fold.protocol.label().into(),
        task: fold.task.label(),
        fold: fold.data.fold.clone(),
        seed,
        metrics: BTreeMap::new(),
        confusion: None,
        steps: 0,
        best_step: 0,
        parameters: 0,
        seconds: 0.0,
        graphs: Vec::new(),
        rollout: None,
        predictions: None,
        failed: Some(why),
    }
}

/// The graphs inferred graphs are scored against.
struct GraphReferences {
    /// The synthetic worm's wiring or the spec's reference graph over the experiment's neurons.
    truth: Option<Vec<Vec<f32>>>,
    /// The reference graph's name (none for the synthetic wiring).
    truth_name: Option<String>,
    /// Score against the truth as directed pairs (a symmetric reference is scored undirected).
    truth_directed: bool,
    connectome: Vec<Vec<f32>>,
}

impl GraphReferences {
    /// AUROC of `graph[from][to]` against the truth and the connectome (undirected).
    fn score(&self, graph: &[Vec<f32>], seed: u64) -> (Option<GraphScore>, Option<GraphScore>) {
        (
            self.truth.as_ref().and_then(|t| score_graph(graph, t, !self.truth_directed, NULL_DRAWS, seed)),
            score_graph(graph, &self.connectome, true, NULL_DRAWS, seed),
        )
    }
}

/// What every run of one fold shares.
struct FoldContext<'a> {
    spec: &'a ExperimentSpec,
    task: &'a TaskSpec,
    protocol: Protocol,
    data: FoldData,
    objective: Objective,
    /// `incoming[i][j]` of the fixed graph, row-major (GCN, GAT).
    incoming: Option<Vec<f32>>,
    references: &'a GraphReferences,
    /// The experiment's neurons and animals (what a saved model records).
    neurons: &'a [String],
    animals: &'a [String],
}

/// Trains and tests one model on one fold; also gives the trained model when the host keeps
/// models, and says whether the host stopped the run.
async fn run_model<H: Host>(fold: &FoldContext<'_>, model: &ModelSpec, seed: u64, device: &Device, host: &mut H) -> Result<(RunResult, Option<SavedModel>, bool), TrainError> {
    let (spec, data) = (fold.spec, &fold.data);
    let train = TrainConfig {
        seed,
        steps: model.steps.unwrap_or(spec.train.steps),
        batch_size: model.batch_size.unwrap_or(spec.train.batch_size),
        weight_decay: model.weight_decay.unwrap_or(spec.train.weight_decay),
        learning_rate: model.learning_rate.unwrap_or(spec.train.learning_rate),
        ..spec.train.clone()
    };
    let incoming = fold.incoming.as_deref().filter(|_| model.kind.needs_graph());
    let setup = FitSetup { spec: model, objective: &fold.objective, incoming, train: &train };
    let fitted = fit(setup, &data.train, &data.validation, device, host).await?;
    let eval = evaluate(&fitted.network, model, &data.test, incoming, &fold.objective, device).await?;
    let Scored { mut metrics, confusion, mut predictions } = score(&fold.objective, &eval, &data.test, &data.test_animals[0]);
    let mut rollout_curve = None;
    if fold.objective == Objective::NextStep && spec.rollout_horizon > 0 {
        let (series, frames) = &data.test_series;
        let keep = predictions.as_ref().map_or(0, |p| p.frames);
        let history = spec.preprocess.history;
        let (r, path) = rollout(&fitted.network, series, frames.clone(), history, spec.rollout_horizon, ROLLOUT_STRIDE, keep, incoming, device).await?;
        if let Some(p) = predictions.as_mut() {
            p.rolled_out = path;
        }
        if let (Some(m), Some(p)) = (r.mse.last(), r.persistence_mse.last()) {
            metrics.insert("rollout_mse".into(), *m);
            metrics.insert("rollout_persistence_mse".into(), *p);
        }
        rollout_curve = Some(r);
    }
    let n = data.test.nodes;
    let graphs: Vec<InferredGraph> = eval
        .edges
        .iter()
        .map(|(_, receiver_first)| {
            let edges: Vec<f32> = transposed(receiver_first, n, n).collect();
            let rows: Vec<Vec<f32>> = edges.chunks_exact(n).map(<[f32]>::to_vec).collect();
            let (vs_truth, vs_connectome) = fold.references.score(&rows, seed);
            InferredGraph { animal: data.test_animals[0].clone(), vs_truth, vs_connectome, edges }
        })
        .collect();
    if let Some(g) = graphs.first() {
        for (reference, score) in [("truth", &g.vs_truth), ("connectome", &g.vs_connectome)] {
            if let Some(s) = score {
                metrics.insert(format!("graph_auroc_{reference}"), s.auroc);
                metrics.insert(format!("graph_auroc_{reference}_null"), s.null_mean);
                metrics.insert(format!("graph_auroc_{reference}_null_low"), s.null_interval[0]);
                metrics.insert(format!("graph_auroc_{reference}_null_high"), s.null_interval[1]);
                metrics.insert(format!("graph_auroc_{reference}_degree_null"), s.degree_null_mean);
                metrics.insert(format!("graph_auroc_{reference}_degree_null_low"), s.degree_null_interval[0]);
                metrics.insert(format!("graph_auroc_{reference}_degree_null_high"), s.degree_null_interval[1]);
                metrics.insert(format!("graph_auprc_{reference}"), s.auprc);
                metrics.insert(format!("graph_auprc_{reference}_null"), s.auprc_null_mean);
            }
        }
    }
    let run = RunResult {
        index: 0,
        model: model.kind.label().into(),
        protocol: fold.protocol.label().into(),
        task: fold.task.label(),
        fold: data.fold.clone(),
        seed,
        metrics,
        confusion,
        steps: fitted.report.steps_run,
        best_step: fitted.report.best_step,
        parameters: fitted.report.parameters,
        seconds: fitted.report.elapsed_s,
        graphs,
        rollout: rollout_curve,
        predictions,
        failed: None,
    };
    let trained = if host.wants_models() {
        let about = ModelAbout {
            model: model.clone(),
            task: fold.task.clone(),
            preprocess: spec.preprocess.clone(),
            neurons: fold.neurons.to_vec(),
            shape: InputShape { history: data.train.history, nodes: data.train.nodes, features: data.train.features },
            head: fold.objective.head(),
            incoming: incoming.map(<[f32]>::to_vec),
            trained_on: trained_on(fold.protocol, &data.fold, fold.animals),
            seed,
        };
        Some(SavedModel::capture(&fitted.network, about).await?)
    } else {
        None
    };
    Ok((run, trained, fitted.report.stopped))
}

/// A network's test metrics, for either task.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scored {
    pub metrics: BTreeMap<String, f64>,
    /// Behaviour: `confusion[truth][predicted]`.
    pub confusion: Option<Vec<Vec<usize>>>,
    /// Next step: actual and predicted activity over the first windows.
    pub predictions: Option<PredictionSample>,
}

/// Scores `eval` (a network's outputs on `test`, windows of `animal`): MSE and R² beside
/// persistence for next-step prediction, accuracy, balanced accuracy and macro-F1 for behaviour.
pub fn score(objective: &Objective, eval: &Evaluation, test: &Windows, animal: &str) -> Scored {
    let mut metrics = BTreeMap::new();
    match objective {
        Objective::NextStep => {
            let t = test.targets();
            let s = masked_next_step(&eval.outputs, &t.last, &t.next, &t.mask, test.nodes);
            metrics.insert("mse".into(), s.mse);
            metrics.insert("r2".into(), s.r2);
            metrics.insert("persistence_mse".into(), s.persistence_mse);
            metrics.insert("persistence_r2".into(), s.persistence_r2);
            let n = test.nodes;
            let frames = test.len().min(PREDICTION_FRAMES);
            let masked = |values: &[f32]| values[..frames * n].iter().zip(&t.mask).map(|(&v, &m)| (m > 0.0).then_some(v)).collect();
            let predictions = Some(PredictionSample { animal: animal.into(), frames, neurons: n, actual: masked(&t.next), predicted: masked(&eval.outputs), rolled_out: Vec::new() });
            Scored { metrics, confusion: None, predictions }
        }
        Objective::Classes { count, .. } => {
            let predicted = argmax_rows(&eval.outputs, *count);
            let truth: Vec<usize> = test.classes.iter().map(|&c| usize::from(c)).collect();
            let s = ClassScores::compute(&predicted, &truth, *count);
            metrics.insert("accuracy".into(), s.accuracy);
            metrics.insert("balanced_accuracy".into(), s.balanced_accuracy);
            metrics.insert("macro_f1".into(), s.macro_f1);
            Scored { metrics, confusion: Some(s.confusion), predictions: None }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn finish(
    spec: &ExperimentSpec,
    backend: &str,
    neurons: Vec<String>,
    aligned: &Aligned,
    classes: BTreeMap<String, Vec<String>>,
    runs: Vec<RunResult>,
    reference_graphs: Vec<ReferenceGraph>,
    started: web_time::Instant,
) -> ExperimentResult {
    ExperimentResult {
        spec: spec.clone(),
        backend: backend.into(),
        neurons,
        animals: aligned.animals.iter().map(|a| a.name.clone()).collect(),
        classes,
        summary: summarise(&runs),
        failed: failed_lines(&runs),
        runs,
        reference_graphs,
        seconds: started.elapsed().as_secs_f64(),
        part: None,
    }
}

/// One line per failed run: "model · task · protocol · fold · seed: why" (the result's `failed`).
pub fn failed_lines(runs: &[RunResult]) -> Vec<String> {
    runs.iter()
        .filter_map(|r| r.failed.as_ref().map(|why| format!("{} · {} · {} · {} · seed {}: {why}", r.model, r.task, r.protocol, r.fold, r.seed)))
        .collect()
}

/// Mean and sample sd of every metric per model × protocol × task, in run order.
pub fn summarise(runs: &[RunResult]) -> Vec<SummaryRow> {
    let mut keys: Vec<(String, String, String, String)> = Vec::new();
    for r in runs {
        for m in r.metrics.keys() {
            let key = (r.model.clone(), r.protocol.clone(), r.task.clone(), m.clone());
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    let mut rows: Vec<SummaryRow> = keys
        .into_iter()
        .map(|(model, protocol, task, metric)| {
            let values: Vec<f64> =
                runs.iter().filter(|r| r.model == model && r.protocol == protocol && r.task == task).filter_map(|r| r.metrics.get(&metric).copied()).collect();
            let n = values.iter().filter(|v| v.is_finite()).count();
            let (mean, sd) = mean_sd(&values).unwrap_or((f64::NAN, 0.0));
            SummaryRow { model, protocol, task, metric, mean, sd, n, vs: Vec::new() }
        })
        .collect();
    let comparisons: Vec<Vec<Paired>> = rows.iter().map(|row| paired_comparisons(runs, &rows, row)).collect();
    for (row, vs) in rows.iter_mut().zip(comparisons) {
        row.vs = vs;
    }
    rows
}

/// A headline row's comparisons (see [`SummaryRow::vs`]); none for the other metrics.
fn paired_comparisons(runs: &[RunResult], rows: &[SummaryRow], row: &SummaryRow) -> Vec<Paired> {
    let metric = headline_metric(&row.task);
    if row.metric != metric {
        return Vec::new();
    }
    fn of<'a>(runs: &'a [RunResult], row: &'a SummaryRow, model: &'a str) -> impl Iterator<Item = &'a RunResult> {
        runs.iter().filter(move |r| r.model == model && r.task == row.task && r.protocol == row.protocol)
    }
    let mut out = Vec::new();
    let better = |a: f64, b: f64| if lower_is_better(metric) { a < b } else { a > b };
    let best_agnostic = rows
        .iter()
        .filter(|o| o.task == row.task && o.protocol == row.protocol && o.metric == metric && o.n > 0 && !is_graph_model(&o.model))
        .fold(None::<&SummaryRow>, |best, o| if best.is_none_or(|b| better(o.mean, b.mean)) { Some(o) } else { best });
    if let Some(best) = best_agnostic.filter(|b| b.model != row.model) {
        let diffs: Vec<f64> = of(runs, row, &row.model)
            .filter_map(|r| {
                let twin = of(runs, row, &best.model).find(|b| b.fold == r.fold && b.seed == r.seed)?;
                Some(r.metrics.get(metric)? - twin.metrics.get(metric)?)
            })
            .collect();
        out.extend(Paired::of(&best.model, &diffs));
    }
    if row.task == "next-step" {
        let diffs: Vec<f64> = of(runs, row, &row.model).filter_map(|r| Some(r.metrics.get("mse")? - r.metrics.get("persistence_mse")?)).collect();
        out.extend(Paired::of("persistence", &diffs));
    }
    out
}

/// Mean and sample sd (0 for one value) of the finite `values`; `None` when there are none.
pub fn mean_sd(values: &[f64]) -> Option<(f64, f64)> {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let n = finite.len();
    if n == 0 {
        return None;
    }
    let mean = finite.iter().sum::<f64>() / n as f64;
    let sd = if n > 1 { (finite.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt() } else { 0.0 };
    Some((mean, sd))
}

/// The true graph's `[from][to]` adjacency over `neurons` (absent neurons get no edges).
pub fn true_adjacency(truth: &TrueGraph, neurons: &[String]) -> Vec<Vec<f32>> {
    let full = truth.adjacency();
    let index: Vec<Option<usize>> = neurons.iter().map(|n| truth.names.iter().position(|m| m == n)).collect();
    index.iter().map(|a| index.iter().map(|b| match (a, b) { (Some(a), Some(b)) => full[*a][*b], _ => 0.0 }).collect()).collect()
}

