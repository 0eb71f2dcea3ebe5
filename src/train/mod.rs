//! Training loops, losses, metrics and the reports they produce.
//!
//! The loops are written for the browser: every tensor read is async (WebGPU cannot read
//! synchronously), they yield to the host's event loop between steps, they can be stopped, and
//! they report progress as plain values through a [`Host`]. The CLI drives the same loops with
//! [`NativeHost`]. No DOM, no signals, no file I/O.

pub mod bench;
pub mod demo;
pub mod experiment;
pub mod fit;
pub mod metrics;
pub mod next_step;
pub mod presets;
pub mod report;
pub mod rollout;
pub mod saved;
pub mod shard;
pub mod spec;

use std::future::Future;
use std::ops::ControlFlow;

use burn::prelude::*;
use serde::{Deserialize, Serialize};

pub use next_step::{NextStepReport, fit_next_step};

/// Optimisation settings shared by every task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainConfig {
    /// Optimiser steps (minibatches).
    pub steps: usize,
    pub batch_size: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Seeds weight initialisation and minibatch order.
    pub seed: u64,
    /// Read the loss back every this many steps (each read is a GPU round trip).
    pub report_every: usize,
    /// Evaluate on the validation set every this many steps (early stopping).
    pub eval_every: usize,
    /// Stop after this many evaluations without improvement (0: never stop early).
    pub patience: usize,
    /// AdamW decoupled weight decay.
    pub weight_decay: f64,
    /// How the learning rate changes over the steps (a spec that does not say: constant).
    pub schedule: Schedule,
    /// Next step: frames each training window predicts one after another (1: the next frame
    /// only, every input true: teacher forcing). Above 1 the loss is the mean over the rollout,
    /// and each frame fed back is the true one with probability [`TrainConfig::teacher_forcing`]
    /// and otherwise the network's own prediction (scheduled sampling, Bengio et al. 2015).
    /// The reported training loss is then the rollout's; early stopping still compares
    /// one-step validation losses.
    pub rollout_steps: usize,
    /// The probability of feeding back the true frame falls linearly from 1 at the first step
    /// to this at the last.
    pub teacher_forcing_end: f64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self { steps: 300, batch_size: 64, learning_rate: 2e-3, seed: 0, report_every: 10, eval_every: 100, patience: 0, weight_decay: 1e-4, schedule: Schedule::Constant, rollout_steps: 1, teacher_forcing_end: 0.0 }
    }
}

impl TrainConfig {
    /// The probability of feeding back the true frame at `step` (scheduled sampling).
    pub fn teacher_forcing(&self, step: usize) -> f64 {
        let end = if self.teacher_forcing_end.is_finite() { self.teacher_forcing_end.clamp(0.0, 1.0) } else { 0.0 };
        1.0 - (1.0 - end) * progress(step, self.steps)
    }
}

/// How far `step` (0-based) is through `steps`: 0 at the first, 1 at the last (and after).
fn progress(step: usize, steps: usize) -> f64 {
    (step as f64 / steps.saturating_sub(1).max(1) as f64).min(1.0)
}

/// Learning-rate schedule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Schedule {
    /// The same rate at every step.
    #[default]
    Constant,
    /// Half a cosine from the rate at the first step to 5 % of it at the last (Loshchilov &
    /// Hutter 2017, without restarts): big steps early, small ones to settle. Measured on the
    /// Kato worms it helps long runs of the linear model (unseen worms, 1000 steps: 0.0404 →
    /// 0.0359) and hurts short ones (4-class behaviour, 150 steps, GCN: 0.846 → 0.818), so
    /// presets that train long choose it and the default stays constant.
    Cosine,
}

impl Schedule {
    /// The rate at `step` (0-based) of `steps`.
    pub fn rate(self, base: f64, step: usize, steps: usize) -> f64 {
        match self {
            Schedule::Constant => base,
            Schedule::Cosine => {
                base * (0.05 + 0.95 * 0.5 * (1.0 + (std::f64::consts::PI * progress(step, steps)).cos()))
            }
        }
    }
}

/// A snapshot of a run in progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Steps completed.
    pub step: usize,
    pub steps: usize,
    /// Training loss of the latest step.
    pub loss: f32,
    /// Validation loss at the latest evaluation (early stopping), once there has been one.
    pub validation_loss: Option<f32>,
    pub elapsed_s: f64,
}

impl Progress {
    /// Estimated seconds left, from the pace so far.
    pub fn eta_s(&self) -> f64 {
        if self.step == 0 {
            return f64::NAN;
        }
        self.elapsed_s / self.step as f64 * (self.steps - self.step) as f64
    }
}

/// Where a training loop runs: the browser's event loop or a native thread.
pub trait Host {
    /// Lets the host do other work (render, handle input) before the next step.
    fn yield_now(&mut self) -> impl Future<Output = ()>;
    /// Receives progress; `Break` stops the run after this step, keeping what was learnt.
    fn progress(&mut self, progress: &Progress) -> ControlFlow<()>;
    /// An experiment starts run `index` of `total` (`label` names model, task, protocol, fold).
    fn run_started(&mut self, label: &str, index: usize, total: usize) {
        let _ = (label, index, total);
    }
    /// An experiment has read its data and will make these runs, in this order.
    fn planned(&mut self, plan: &experiment::Plan) {
        let _ = plan;
    }
    /// Run `index` of an experiment finished (or was stopped) with this result.
    fn run_finished(&mut self, index: usize, run: &experiment::RunResult) {
        let _ = (index, run);
    }
    /// Whether the host keeps trained models: [`Host::model_trained`] is called only then
    /// (reading weights back costs a device round trip per tensor).
    fn wants_models(&self) -> bool {
        false
    }
    /// Run `index`'s trained network, with what it needs to be applied to new recordings.
    fn model_trained(&mut self, index: usize, model: saved::SavedModel) {
        let _ = (index, model);
    }
    /// May this host train run `index` of an experiment shared by a pool ([`experiment::Share::Pool`])?
    /// Yes unless another member of the pool took it first.
    fn claim(&mut self, index: usize) -> impl Future<Output = bool> {
        let _ = index;
        std::future::ready(true)
    }
    /// Fault injection, for tests only (the page takes it from `?fault=` in its URL): the fault
    /// to act out at the next loss read, if any.
    fn fault(&self) -> Option<Fault> {
        None
    }
}

/// Failures a test can inject into a training run, to check that the work around it survives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    /// The training loss reads back as NaN (a diverging run).
    Nan,
    /// The compute device is lost (reading back fails, as when a GPU is reset).
    GpuLost,
    /// The Web Worker running the job dies (a panic, as an out-of-memory abort would).
    WorkerDies,
}

impl Fault {
    /// From a URL's `fault=` value.
    pub fn parse(text: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(text.to_string())).ok()
    }
}

/// A host for native runs: never yields, never stops, optionally prints each report.
#[derive(Debug, Default)]
pub struct NativeHost {
    pub verbose: bool,
}

impl Host for NativeHost {
    async fn yield_now(&mut self) {}

    fn run_started(&mut self, label: &str, index: usize, total: usize) {
        if self.verbose {
            println!("[{}/{total}] {label}", index + 1);
        }
    }

    fn progress(&mut self, p: &Progress) -> ControlFlow<()> {
        if self.verbose {
            println!("step {:>5}/{}  loss {:.5}  {:.1}s", p.step, p.steps, p.loss, p.elapsed_s);
        }
        ControlFlow::Continue(())
    }
}

/// Errors while training: data that cannot be trained on, or a device that failed.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("{0}")]
    Data(#[from] crate::data::DataError),
    #[error("the {0} set is empty: the recording is too short for this history length")]
    EmptySet(&'static str),
    #[error("training diverged: the loss was {loss} at step {step}; try a lower learning rate")]
    Diverged { step: usize, loss: f32 },
    #[error("{0}")]
    Model(#[from] saved::ModelFileError),
    #[error("reading a result back from the compute device failed: {0}")]
    Read(String),
    #[error("{0}")]
    Spec(#[from] spec::SpecError),
    /// A model would not fit the backend's memory for the data at hand (said before starting).
    #[error("{0}")]
    TooBig(String),
}

/// Reads a tensor back to the host without blocking (required on WebGPU).
pub async fn read_f32<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>, TrainError> {
    let data = t.into_data_async().await.map_err(|e| TrainError::Read(format!("{e:?}")))?;
    data.try_to_vec::<f32>().map_err(|e| TrainError::Read(format!("{e:?}")))
}

/// Reads a one-element tensor back to the host without blocking.
pub async fn read_scalar(t: Tensor<1>) -> Result<f32, TrainError> {
    read_f32(t).await?.first().copied().ok_or_else(|| TrainError::Read("empty tensor".into()))
}
