//! The built-in demo: next-step prediction with an MLP on one synthetic animal.
//! The page and `neurognn demo` run exactly this, so their numbers can be compared.

use serde::{Deserialize, Serialize};

use super::next_step::{NextStepReport, fit_next_step, next_step_mlp};
use super::{Host, TrainConfig, TrainError};
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

/// Generates the synthetic animal, prepares windows and trains.
pub async fn run_demo<H: Host>(spec: &DemoSpec, device: &Device, host: &mut H) -> Result<DemoReport, TrainError> {
    let worm = spec.data.generate();
    let rec = &worm.recordings[0];
    let data = NextStepData::prepare(rec, spec.history, spec.split)?;
    let model = next_step_mlp(spec.hidden, spec.layers);
    let (_, run) = fit_next_step(&data, &model, &spec.train, device, host).await?;
    Ok(DemoReport {
        neurons: rec.neurons,
        frames: rec.frames,
        train_windows: data.train.len(),
        validation_windows: data.validation.len(),
        run,
    })
}
