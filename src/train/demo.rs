//! The built-in demo: next-step prediction on one synthetic animal, an MLP beside a GCN that
//! is given the animal's wiring (the connectome among its neurons), since the graph is the
//! point. The page and `neurognn demo` run exactly this, so their numbers can be compared.

use serde::{Deserialize, Serialize};

use super::next_step::{NextStepReport, fit_next_step, next_step_mlp};
use crate::data::graph::{FixedGraph, incoming_normalised};
use crate::model::ModelKind;
use super::bench::StepShape;
use super::{Host, TrainConfig, TrainError};
use crate::data::Recording;
use crate::model::ModelSpec;
use crate::data::synthetic::SyntheticConfig;
use crate::data::windows::{NextStepData, SplitFractions};
use burn::prelude::Device;

/// Everything that defines a demo run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemoSpec {
    pub data: SyntheticConfig,
    /// Frames of history the model sees.
    pub history: usize,
    /// The networks trained one after the other, each from the same seed.
    pub models: Vec<ModelSpec>,
    /// The graph given to the graph networks.
    pub graph: FixedGraph,
    pub split: SplitFractions,
    pub train: TrainConfig,
}

impl Default for DemoSpec {
    fn default() -> Self {
        Self {
            data: SyntheticConfig::default(),
            history: 4,
            models: vec![next_step_mlp(64, 1), ModelSpec::new(ModelKind::Gcn)],
            graph: FixedGraph::default(),
            split: SplitFractions::default(),
            train: TrainConfig::default(),
        }
    }
}

/// The demo's data summary and training report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemoReport {
    pub neurons: usize,
    pub frames: usize,
    pub train_windows: usize,
    pub validation_windows: usize,
    /// The graph the graph networks were given, and its edges among the animal's neurons.
    pub graph: String,
    pub graph_edges: usize,
    /// One run per model of the spec, in its order.
    pub runs: Vec<DemoRun>,
}

/// One network's run in the demo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemoRun {
    /// The model's label ("MLP", "GCN").
    pub model: String,
    pub run: NextStepReport,
}

/// The demo's animal, cut into windows, and its network.
pub struct DemoData {
    recording: Recording,
    data: NextStepData,
    /// `incoming[i][j]` of the spec's graph over the animal's neurons, row-major.
    incoming: Vec<f32>,
    graph_edges: usize,
}

impl DemoData {
    /// Generates the synthetic animal and prepares its windows.
    pub fn prepare(spec: &DemoSpec) -> Result<Self, TrainError> {
        let recording = spec.data.generate().recordings.swap_remove(0);
        let data = NextStepData::prepare(&recording, spec.history, spec.split)?;
        let n = recording.neurons;
        let training_frames: Vec<Vec<f32>> = data.split.train.clone().map(|t| recording.traces[t * n..(t + 1) * n].to_vec()).collect();
        let graph = spec.graph.build(&data.neuron_names, &training_frames);
        let graph_edges = graph.iter().flatten().filter(|&&w| w > 0.0).count();
        Ok(Self { incoming: incoming_normalised(&graph), graph_edges, recording, data })
    }

    /// The size of one training step (to time backends with).
    pub fn step(&self, spec: &DemoSpec) -> StepShape {
        let w = &self.data.train;
        StepShape { nodes: w.nodes, history: w.history, features: w.features, batch: spec.train.batch_size.clamp(1, w.len().max(1)) }
    }
}

/// Generates the synthetic animal, prepares windows and trains every model.
pub async fn run_demo<H: Host>(spec: &DemoSpec, device: &Device, host: &mut H) -> Result<DemoReport, TrainError> {
    let prepared = DemoData::prepare(spec)?;
    let runs = train_demo(spec, &prepared, device, host, |_| {}).await?;
    Ok(prepared.report(spec, runs))
}

/// Trains the demo's networks one after the other on its prepared data, calling `starting`
/// with each model's label first; a run the host stopped ends the demo.
pub async fn train_demo<H: Host>(
    spec: &DemoSpec,
    prepared: &DemoData,
    device: &Device,
    host: &mut H,
    mut starting: impl FnMut(&str),
) -> Result<Vec<DemoRun>, TrainError> {
    let mut runs = Vec::with_capacity(spec.models.len());
    for model in &spec.models {
        let label = model.kind.label();
        starting(label);
        let incoming = model.kind.needs_graph().then_some(prepared.incoming.as_slice());
        let (_, run) = fit_next_step(&prepared.data, model, incoming, &spec.train, device, host).await?;
        let stopped = run.stopped;
        runs.push(DemoRun { model: label.to_string(), run });
        if stopped {
            break;
        }
    }
    Ok(runs)
}

impl DemoData {
    /// The report of `runs`, trained on this data.
    pub fn report(&self, spec: &DemoSpec, runs: Vec<DemoRun>) -> DemoReport {
        DemoReport {
            neurons: self.recording.neurons,
            frames: self.recording.frames,
            train_windows: self.data.train.len(),
            validation_windows: self.data.validation.len(),
            graph: spec.graph.label(),
            graph_edges: self.graph_edges,
            runs,
        }
    }
}
