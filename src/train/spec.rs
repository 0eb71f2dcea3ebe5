//! What defines an experiment — data, preprocessing, tasks, models, protocols, training, seeds —
//! and the one validation every spec passes, from any source (the builder, a link, a JSON file,
//! the CLI, a preset), before any work starts.
//!
//! Every number has bounds, documented beside its check in [`ExperimentSpec::validate`]; a
//! refusal names the field, its value and its range. The spec holds no data: checks against the
//! recordings (enough animals, frames, labels) are the runner's (`experiment::check`).

use serde::{Deserialize, Serialize};

use super::TrainConfig;
use crate::data::formats::inventory::Choice;
use crate::data::graph::FixedGraph;
use crate::data::labels::Merges;
use crate::data::preprocess::NeuronSet;
use crate::data::reference::{KnownGraph, MAX_REFERENCE_EDGES};
use crate::data::synthetic::SyntheticConfig;
use crate::data::windows::SplitFractions;
use crate::model::{ModelKind, ModelSpec};

/// Where an experiment's recordings come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum DataSpec {
    /// The built-in synthetic worm (its true graph is known).
    Synthetic { config: SyntheticConfig },
    /// Kato et al. 2015 WT_NoStim, five worms: `npz/worm1.npz` … `npz/worm5.npz` under a data
    /// folder (CLI `--data`) or base URL (the page, default `data/kato2015/`).
    Kato,
    /// The user's own files (the page asks for them; nothing is uploaded), and the arrays picked
    /// in any of them (the page's "Use these arrays"; `neurognn inspect` prints a file's guess).
    Files {
        names: Vec<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        files: Vec<FileArrays>,
    },
}

/// Which arrays of one file make its recording, instead of what the reader guesses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileArrays {
    /// The file's name (the last part of a path is enough).
    pub name: String,
    pub arrays: Choice,
}

impl DataSpec {
    /// The arrays picked per file, by file name (none for the built-in data).
    pub fn picks(&self) -> Vec<(String, Choice)> {
        match self {
            DataSpec::Files { files, .. } => files.iter().map(|f| (f.name.clone(), f.arrays.clone())).collect(),
            _ => Vec::new(),
        }
    }
}

impl DataSpec {
    /// The files a Kato experiment reads, relative to its data folder or URL.
    pub const KATO_FILES: [&'static str; 5] = ["npz/worm1.npz", "npz/worm2.npz", "npz/worm3.npz", "npz/worm4.npz", "npz/worm5.npz"];
}

/// What is done to the recordings before windows are cut.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PreprocessSpec {
    pub neuron_set: NeuronSet,
    /// Add each neuron's frame-to-frame change as a second feature.
    pub change: bool,
    /// Frames of history per window.
    pub history: usize,
    /// Resample every animal to this rate first (None: keep each animal's rate).
    pub resample_hz: Option<f32>,
}

impl Default for PreprocessSpec {
    fn default() -> Self {
        Self { neuron_set: NeuronSet::Shared, change: true, history: 8, resample_hz: None }
    }
}

/// A task: next-step prediction, or behaviour classification into named classes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "task", rename_all = "snake_case")]
pub enum TaskSpec {
    NextStep,
    /// `classes`: each class and the recorded states it merges (states not listed are left out).
    Behaviour { name: String, classes: Merges },
}

impl TaskSpec {
    pub fn label(&self) -> String {
        match self {
            TaskSpec::NextStep => "next-step".into(),
            TaskSpec::Behaviour { name, .. } => name.clone(),
        }
    }
}

/// How animals are used for training and testing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    WithinAnimal,
    LeaveOneAnimalOut,
}

impl Protocol {
    pub fn label(self) -> &'static str {
        match self {
            Protocol::WithinAnimal => "within-animal",
            Protocol::LeaveOneAnimalOut => "leave-one-animal-out",
        }
    }
}

/// Everything that defines an experiment; what the page keeps in its URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExperimentSpec {
    pub name: String,
    pub data: DataSpec,
    pub preprocess: PreprocessSpec,
    pub tasks: Vec<TaskSpec>,
    pub models: Vec<ModelSpec>,
    /// The fixed graph of GCN and GAT.
    pub graph: FixedGraph,
    pub protocols: Vec<Protocol>,
    /// Within-animal split; leave-one-animal-out uses its `validation` fraction of each
    /// training animal.
    pub split: SplitFractions,
    pub train: TrainConfig,
    pub seeds: Vec<u64>,
    /// Next-step tasks also roll each model out this many frames (0: no rollouts).
    pub rollout_horizon: usize,
    /// A graph the user knows (a file by neuron name: `neurognn run --reference`, the page's
    /// "Reference graph"): inferred and model-free graphs are scored against it, in place of
    /// the synthetic worm's wiring.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<KnownGraph>,
}

impl Default for ExperimentSpec {
    fn default() -> Self {
        Self {
            name: "experiment".into(),
            data: DataSpec::Synthetic { config: SyntheticConfig::default() },
            preprocess: PreprocessSpec::default(),
            tasks: vec![TaskSpec::NextStep],
            models: vec![ModelSpec::new(ModelKind::Mlp)],
            graph: FixedGraph::default(),
            protocols: vec![Protocol::WithinAnimal],
            split: SplitFractions::default(),
            train: TrainConfig { steps: 800, batch_size: 64, learning_rate: 2e-3, eval_every: 100, patience: 4, report_every: 50, ..TrainConfig::default() },
            seeds: vec![0],
            rollout_horizon: 5,
            reference: None,
        }
    }
}


/// A spec that cannot be run: which field, its value, and what it may be.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpecError {
    #[error("{field} is {value}; {rule}")]
    Field { field: String, value: String, rule: String },
    #[error("not a valid experiment spec: {0}")]
    Json(String),
}

/// `field` must lie in `lo..=hi` (NaN never does).
fn within<T: PartialOrd + Copy + std::fmt::Display>(field: impl Into<String>, value: T, lo: T, hi: T, what: &str) -> Result<(), SpecError> {
    if (lo..=hi).contains(&value) {
        return Ok(());
    }
    Err(SpecError::Field { field: field.into(), value: value.to_string(), rule: format!("it must be from {lo} to {hi} ({what})") })
}

/// `list` must hold from `lo` to `hi` entries.
fn count<T>(field: &str, list: &[T], lo: usize, hi: usize, what: &str) -> Result<(), SpecError> {
    within(format!("the number of {field}"), list.len(), lo, hi, what)
}

/// Bounds (why each is where it is):
/// - steps ≤ 1,000,000 and batches ≤ 4,096 windows: the longest preset trains 4,000 steps of 64;
/// - hidden ≤ 1,024, layers ≤ 16, history ≤ 256 frames, NRI edge types ≤ 8: an order of magnitude
///   past the presets, still within a browser's GPU memory for a few hundred neurons;
/// - at most 32 models, 16 tasks, 100 seeds and 10,000 runs in all;
/// - the synthetic worm: ≤ 20 animals, ≤ 1,000 neurons, ≤ 200,000 frames, and no more values in
///   all than an experiment may hold ([`crate::data::MAX_VALUES`]: less in the page);
/// - rates and probabilities in their natural ranges; the rollout horizon ≤ 1,000 frames.
pub const MAX_STEPS: usize = 1_000_000;
pub const MAX_BATCH: usize = 4096;
pub const MAX_RUNS: usize = 10_000;

impl ExperimentSpec {
    /// Reads a spec from JSON (a file, a link, the builder's editor) and validates it.
    pub fn from_json(text: &str) -> Result<Self, SpecError> {
        let spec: Self = serde_json::from_str(text).map_err(|e| SpecError::Json(e.to_string()))?;
        spec.validate()?;
        Ok(spec)
    }

    /// Checks every field against its bounds.
    pub fn validate(&self) -> Result<(), SpecError> {
        self.validate_preprocess()?;
        within("the length of name", self.name.chars().count(), 0, 200, "characters")?;
        match &self.data {
            DataSpec::Synthetic { config } => validate_synthetic(config)?,
            DataSpec::Kato => {}
            DataSpec::Files { names, files } => {
                count("data.names", names, 0, 1000, "files")?;
                count("data.files", files, 0, 1000, "files")?;
                for (i, f) in files.iter().enumerate() {
                    validate_arrays(&format!("data.files[{i}]"), f)?;
                }
            }
        }
        count("tasks", &self.tasks, 1, 16, "tasks")?;
        for (i, task) in self.tasks.iter().enumerate() {
            task.validate(&format!("tasks[{i}]"))?;
        }
        count("models", &self.models, 1, 32, "models")?;
        for (i, model) in self.models.iter().enumerate() {
            validate_model(&format!("models[{i}] ({})", model.kind.label()), model)?;
        }
        if let FixedGraph::Correlation { top_k } = self.graph {
            within("graph.top_k", top_k, 1, 1000, "partners per neuron")?;
        }
        count("protocols", &self.protocols, 1, 2, "protocols")?;
        within("split.validation", self.split.validation, 0.0, 0.5, "a fraction of each animal's frames")?;
        within("split.test", self.split.test, 0.0, 0.5, "a fraction of each animal's frames")?;
        validate_train("train", &self.train)?;
        count("seeds", &self.seeds, 1, 100, "seeds")?;
        within("rollout_horizon", self.rollout_horizon, 0, 1000, "frames")?;
        if let Some(g) = &self.reference {
            within("the length of reference.name", g.name.chars().count(), 1, 200, "characters")?;
            count("reference.edges", &g.edges, 1, MAX_REFERENCE_EDGES, "edges")?;
            for name in g.edges.iter().flatten() {
                within("the length of a neuron name in reference.edges", name.chars().count(), 1, 64, "characters")?;
            }
        }
        let animals = match &self.data {
            DataSpec::Synthetic { config } => config.animals,
            DataSpec::Kato => DataSpec::KATO_FILES.len(),
            DataSpec::Files { names, .. } => names.len().max(1),
        };
        let runs = self.tasks.len() * self.protocols.len() * self.seeds.len() * self.models.len() * animals;
        within("the number of runs (tasks × protocols × seeds × models × animals)", runs, 1, MAX_RUNS, "runs")
    }
}

/// A file's picked arrays: paths of sane length, a positive finite rate.
fn validate_arrays(field: &str, f: &FileArrays) -> Result<(), SpecError> {
    within(format!("the length of {field}.name"), f.name.chars().count(), 1, 1000, "characters")?;
    let a = &f.arrays;
    for (part, path) in [("traces", Some(&a.traces)), ("names", a.names.as_ref()), ("labels", a.labels.as_ref()), ("state_names", a.state_names.as_ref())] {
        if let Some(path) = path {
            within(format!("the length of {field}.arrays.{part}"), path.chars().count(), usize::from(part == "traces"), 1000, "characters")?;
        }
    }
    if let Some(fps) = a.fps {
        within(format!("{field}.arrays.fps"), fps, 1e-3, 10_000.0, "frames per second")?;
    }
    Ok(())
}

impl ExperimentSpec {
    fn validate_preprocess(&self) -> Result<(), SpecError> {
        self.preprocess.validate("preprocess")
    }
}

impl PreprocessSpec {
    /// History and resampling within bounds (also checked in model files).
    pub fn validate(&self, at: &str) -> Result<(), SpecError> {
        within(format!("{at}.history"), self.history, 1, 256, "frames of history per window")?;
        if let Some(hz) = self.resample_hz {
            within(format!("{at}.resample_hz"), hz, 0.05, 1000.0, "frames per second")?;
        }
        Ok(())
    }
}

impl TaskSpec {
    /// A behaviour task's name and classes within bounds.
    pub fn validate(&self, at: &str) -> Result<(), SpecError> {
        if let TaskSpec::Behaviour { name, classes } = self {
            within(format!("the length of {at}.name"), name.chars().count(), 1, 100, "characters")?;
            count(&format!("{at}.classes"), classes, 2, 64, "classes")?;
            for (class, states) in classes {
                count(&format!("states merged into class '{class}'"), states, 1, 256, "states")?;
            }
        }
        Ok(())
    }
}

fn validate_train(at: &str, t: &TrainConfig) -> Result<(), SpecError> {
    within(format!("{at}.steps"), t.steps, 1, MAX_STEPS, "optimiser steps")?;
    within(format!("{at}.batch_size"), t.batch_size, 1, MAX_BATCH, "windows per step")?;
    within(format!("{at}.learning_rate"), t.learning_rate, 1e-9, 10.0, "the Adam learning rate")?;
    within(format!("{at}.report_every"), t.report_every, 1, MAX_STEPS, "steps")?;
    within(format!("{at}.eval_every"), t.eval_every, 1, MAX_STEPS, "steps")?;
    within(format!("{at}.patience"), t.patience, 0, 10_000, "evaluations without improvement; 0 never stops early")?;
    within(format!("{at}.weight_decay"), t.weight_decay, 0.0, 1.0, "AdamW weight decay")?;
    within(format!("{at}.rollout_steps"), t.rollout_steps, 1, 32, "frames a training window predicts one after another")?;
    within(format!("{at}.teacher_forcing_end"), t.teacher_forcing_end, 0.0, 1.0, "a probability")
}

pub(crate) fn validate_model(at: &str, m: &ModelSpec) -> Result<(), SpecError> {
    within(format!("{at}.hidden"), m.hidden, 1, 1024, "units per layer")?;
    within(format!("{at}.layers"), m.layers, 0, 16, "layers or message-passing rounds")?;
    within(format!("{at}.dropout"), m.dropout, 0.0, 0.95, "a probability below 1")?;
    if m.kind == ModelKind::Nri {
        within(format!("{at}.edge_types"), m.edge_types, 2, 8, "edge types, the first meaning no edge")?;
        within(format!("{at}.prior_no_edge"), m.prior_no_edge, 0.01, 0.99, "a probability")?;
        within(format!("{at}.tau"), m.tau, 0.01, 100.0, "the Gumbel-softmax temperature")?;
        within(format!("{at}.kl_weight"), m.kl_weight, 0.0, 100.0, "the KL term's weight")?;
    }
    within(format!("{at}.sampling_from"), m.sampling_from, 0.0, 1.0, "a fraction of training")?;
    if let Some(steps) = m.steps {
        within(format!("{at}.steps"), steps, 1, MAX_STEPS, "optimiser steps")?;
    }
    if let Some(batch) = m.batch_size {
        within(format!("{at}.batch_size"), batch, 1, MAX_BATCH, "windows per step")?;
    }
    if let Some(wd) = m.weight_decay {
        within(format!("{at}.weight_decay"), wd, 0.0, 1.0, "AdamW weight decay")?;
    }
    if let Some(lr) = m.learning_rate {
        within(format!("{at}.learning_rate"), lr, 1e-9, 10.0, "the Adam learning rate")?;
    }
    Ok(())
}

fn validate_synthetic(c: &SyntheticConfig) -> Result<(), SpecError> {
    let at = "data.config";
    within(format!("{at}.animals"), c.animals, 1, 20, "animals")?;
    within(format!("{at}.neurons"), c.neurons, 2, 1000, "neurons")?;
    within(format!("{at}.frames"), c.frames, crate::data::MIN_FRAMES, 200_000, "frames per animal")?;
    within(format!("{at}.fps"), c.fps, 0.05, 1000.0, "frames per second")?;
    within(format!("{at}.inputs_per_neuron"), c.inputs_per_neuron, 1, c.neurons.saturating_sub(1).max(1), "inputs per neuron, fewer than the neurons")?;
    within(format!("{at}.observed_fraction"), c.observed_fraction, 0.01, 1.0, "the fraction of neurons recorded")?;
    within(format!("{at}.tau_s"), c.tau_s, 0.01, 1000.0, "seconds")?;
    within(format!("{at}.process_noise"), c.process_noise, 0.0, 10.0, "a standard deviation")?;
    within(format!("{at}.observation_noise"), c.observation_noise, 0.0, 10.0, "a standard deviation")?;
    within(format!("{at}.mean_dwell_s"), c.mean_dwell_s, 0.01, 100_000.0, "seconds")?;
    let values = (c.animals as u64) * (c.neurons as u64) * (c.frames as u64);
    let place = if cfg!(target_arch = "wasm32") { "values, as many as the page holds (the CLI holds 4×)" } else { "values, as many as an experiment holds" };
    within("the synthetic worm's values (animals × neurons × frames)", values, 1, crate::data::MAX_VALUES, place)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_and_preset_passes() {
        assert_eq!(ExperimentSpec::default().validate(), Ok(()));
        for (name, _) in crate::train::presets::PRESETS {
            let spec = crate::train::presets::preset(name).expect("a preset");
            assert_eq!(spec.validate(), Ok(()), "preset {name}");
        }
    }

    #[test]
    fn refusals_name_the_field_and_its_range() {
        let err = ExperimentSpec::from_json(r#"{"rollout_horizon": 4000000000}"#).unwrap_err().to_string();
        assert_eq!(err, "rollout_horizon is 4000000000; it must be from 0 to 1000 (frames)");
        let err = ExperimentSpec::from_json(r#"{"train": {"steps": 0}}"#).unwrap_err().to_string();
        assert!(err.starts_with("train.steps is 0; it must be from 1 to 1000000"), "{err}");
        let err = ExperimentSpec::from_json(r#"{"models": [{"kind": "gcn", "hidden": 1000000}]}"#).unwrap_err().to_string();
        assert!(err.starts_with("models[0] (GCN).hidden is 1000000"), "{err}");
        let err = ExperimentSpec::from_json(r#"{"preprocess": {"resample_hz": 0.0}}"#).unwrap_err().to_string();
        assert!(err.starts_with("preprocess.resample_hz is 0"), "{err}");
        let err = ExperimentSpec::from_json(r#"{"data": {"source": "synthetic", "config": {"animals": 20, "neurons": 1000, "frames": 200000}}}"#).unwrap_err().to_string();
        assert!(err.starts_with("the synthetic worm's values"), "{err}");
        let err = ExperimentSpec::from_json(r#"{"seeds": []}"#).unwrap_err().to_string();
        assert!(err.starts_with("the number of seeds is 0"), "{err}");
        let err = ExperimentSpec::from_json(r#"{"train": {"learning_rate": -1}}"#).unwrap_err().to_string();
        assert!(err.contains("learning_rate is -1"), "{err}");
        assert!(matches!(ExperimentSpec::from_json("{"), Err(SpecError::Json(_))));
    }
}
