//! The built-in demo: next-step prediction with an MLP on one synthetic animal.
//! The page and `neurognn demo` run exactly this, so their numbers can be compared.

use serde::{Deserialize, Serialize};

use super::next_step::{NextStepReport, fit_next_step, next_step_mlp};
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
    pub hidden: usize,
    pub layers: usize,
    pub split: SplitFractions,
    pub train: TrainConfig,
}

impl Default for DemoSpec {
    fn default() -> Self {
        Self {
            data: SyntheticConfig::default(),
            history: 4,
            hidden: 64,
            layers: 1,
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
    pub run: NextStepReport,
}

/// The demo's animal, cut into windows, and its network.
pub struct DemoData {
    recording: Recording,
    data: NextStepData,
    pub model: ModelSpec,
}

impl DemoData {
    /// Generates the synthetic animal and prepares its windows.
    pub fn prepare(spec: &DemoSpec) -> Result<Self, TrainError> {
        let recording = spec.data.generate().recordings.swap_remove(0);
        let data = NextStepData::prepare(&recording, spec.history, spec.split)?;
        Ok(Self { recording, data, model: next_step_mlp(spec.hidden, spec.layers) })
    }

    /// The size of one training step (to time backends with).
    pub fn step(&self, spec: &DemoSpec) -> StepShape {
        let w = &self.data.train;
        StepShape { nodes: w.nodes, history: w.history, features: w.features, batch: spec.train.batch_size.clamp(1, w.len().max(1)) }
    }
}

/// Generates the synthetic animal, prepares windows and trains.
pub async fn run_demo<H: Host>(spec: &DemoSpec, device: &Device, host: &mut H) -> Result<DemoReport, TrainError> {
    train_demo(spec, &DemoData::prepare(spec)?, device, host).await
}

/// Trains the demo's network on its prepared data.
pub async fn train_demo<H: Host>(spec: &DemoSpec, prepared: &DemoData, device: &Device, host: &mut H) -> Result<DemoReport, TrainError> {
    let (rec, data) = (&prepared.recording, &prepared.data);
    let (_, run) = fit_next_step(data, &prepared.model, &spec.train, device, host).await?;
    Ok(DemoReport {
        neurons: rec.neurons,
        frames: rec.frames,
        train_windows: data.train.len(),
        validation_windows: data.validation.len(),
        run,
    })
}
