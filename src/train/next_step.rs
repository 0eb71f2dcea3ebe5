//! Next-step prediction: from a window of the last H frames of all neurons, predict every
//! neuron's next frame. The model predicts the change and the loop adds it back to the last
//! frame, so an untrained model starts near the persistence baseline.

use std::ops::ControlFlow;

use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use web_time::Instant;

use super::metrics::NextStepScores;
use super::{Host, Progress, TrainConfig, TrainError, read_f32, read_scalar};
use crate::data::windows::{NextStepData, NextStepSet};
use crate::model::{Mlp, MlpConfig};

/// Windows scored per forward pass when evaluating (bounds device memory).
const EVAL_CHUNK: usize = 2048;

/// What a next-step run learnt and how well it predicts held-out frames.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NextStepReport {
    /// `(step, training loss)` at every report; step 0 is the untrained model.
    pub losses: Vec<(usize, f32)>,
    pub steps_run: usize,
    /// True when the host stopped the run early.
    pub stopped: bool,
    /// Scores on the validation windows (z-scored activity).
    pub validation: NextStepScores,
    pub parameters: usize,
    pub elapsed_s: f64,
}

impl NextStepReport {
    pub fn first_loss(&self) -> f32 {
        self.losses.first().map_or(f32::NAN, |p| p.1)
    }

    pub fn last_loss(&self) -> f32 {
        self.losses.last().map_or(f32::NAN, |p| p.1)
    }
}

/// Builds the MLP that maps a flattened window to every neuron's change.
pub fn next_step_mlp(data: &NextStepData, hidden: usize, layers: usize) -> MlpConfig {
    let neurons = data.train.neurons;
    MlpConfig::new(data.train.history * neurons, neurons).with_hidden(hidden).with_layers(layers)
}

/// `[len, history*neurons]` inputs, `[len, neurons]` last frames and `[len, neurons]` targets.
fn upload(set: &NextStepSet, device: &Device) -> (Tensor<2>, Tensor<2>, Tensor<2>) {
    let (len, n) = (set.len(), set.neurons);
    let x = Tensor::from_data(TensorData::new(set.inputs.clone(), [len, set.history * n]), device);
    let last = Tensor::from_data(TensorData::new(set.last_frames(), [len, n]), device);
    let y = Tensor::from_data(TensorData::new(set.targets.clone(), [len, n]), device);
    (x, last, y)
}

/// Trains an MLP on `data.train` with Adam and scores it on `data.validation`.
///
/// `device` is a plain (non-autodiff) device; training runs on its autodiff twin.
pub async fn fit_next_step<H: Host>(
    data: &NextStepData,
    model: &MlpConfig,
    cfg: &TrainConfig,
    device: &Device,
    host: &mut H,
) -> Result<(Mlp, NextStepReport), TrainError> {
    if data.train.is_empty() {
        return Err(TrainError::EmptySet("training"));
    }
    if data.validation.is_empty() {
        return Err(TrainError::EmptySet("validation"));
    }
    let started = Instant::now();
    let train_device = device.clone().autodiff();
    train_device.seed(cfg.seed);
    let mut net = model.init(&train_device);
    let parameters = net.num_params();
    let mut optim = AdamConfig::new().init();
    let (x_all, last_all, y_all) = upload(&data.train, &train_device);

    let batch = cfg.batch_size.clamp(1, data.train.len());
    let report_every = cfg.report_every.max(1);
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let mut order: Vec<i64> = (0..data.train.len() as i64).collect();
    let mut cursor = order.len(); // forces a shuffle on the first step
    let mut losses = Vec::new();
    let mut stopped = false;
    let mut steps_run = 0;

    for step in 0..cfg.steps {
        if cursor + batch > order.len() {
            order.shuffle(&mut rng);
            cursor = 0;
        }
        let idx = Tensor::<1, Int>::from_ints(&order[cursor..cursor + batch], &train_device);
        cursor += batch;
        let x = x_all.clone().select(0, idx.clone());
        let last = last_all.clone().select(0, idx.clone());
        let y = y_all.clone().select(0, idx);
        let pred = last + net.forward(x);
        let loss = (pred - y).powf_scalar(2.0).mean();

        let read_now = step % report_every == 0 || step + 1 == cfg.steps;
        let value = if read_now { Some(read_scalar(loss.clone()).await?) } else { None };
        if let Some(v) = value {
            if !v.is_finite() {
                return Err(TrainError::Diverged { step, loss: v });
            }
            losses.push((step, v));
        }
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        net = optim.step(cfg.learning_rate, net, grads);
        steps_run = step + 1;

        if let Some(loss) = value {
            let progress = Progress { step: steps_run, steps: cfg.steps, loss, elapsed_s: started.elapsed().as_secs_f64() };
            if let ControlFlow::Break(()) = host.progress(&progress) {
                stopped = true;
                break;
            }
        }
        host.yield_now().await;
    }

    let validation = score(&net.valid(), &data.validation, device).await?;
    let report = NextStepReport { losses, steps_run, stopped, validation, parameters, elapsed_s: started.elapsed().as_secs_f64() };
    Ok((net, report))
}

/// Predicts every window of `set` with a trained model (on a plain device).
pub async fn predict(net: &Mlp, set: &NextStepSet, device: &Device) -> Result<Vec<f32>, TrainError> {
    let (n, frame) = (set.neurons, set.history * set.neurons);
    let mut out = Vec::with_capacity(set.targets.len());
    for start in (0..set.len()).step_by(EVAL_CHUNK) {
        let end = (start + EVAL_CHUNK).min(set.len());
        let chunk = NextStepSet {
            history: set.history,
            neurons: n,
            inputs: set.inputs[start * frame..end * frame].to_vec(),
            targets: set.targets[start * n..end * n].to_vec(),
        };
        let (x, last, _) = upload(&chunk, device);
        out.extend(read_f32(last + net.forward(x)).await?);
    }
    Ok(out)
}

/// Scores a trained model on `set` beside the persistence baseline.
pub async fn score(net: &Mlp, set: &NextStepSet, device: &Device) -> Result<NextStepScores, TrainError> {
    let pred = predict(net, set, device).await?;
    Ok(NextStepScores::compute(&pred, &set.last_frames(), &set.targets, set.neurons))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::data::synthetic::SyntheticConfig;
    use crate::data::windows::SplitFractions;
    use crate::train::NativeHost;

    fn data() -> NextStepData {
        let rec = SyntheticConfig { frames: 800, ..Default::default() }.generate().recordings.remove(0);
        NextStepData::prepare(&rec, 3, SplitFractions::default()).unwrap()
    }

    #[test]
    fn training_lowers_the_loss_and_beats_persistence() {
        let data = data();
        let cfg = TrainConfig { steps: 150, ..Default::default() };
        let (_, report) =
            pollster::block_on(fit_next_step(&data, &next_step_mlp(&data, 32, 1), &cfg, &Device::flex(), &mut NativeHost::default()))
                .unwrap();
        assert!(report.last_loss() < 0.7 * report.first_loss(), "{:?}", report.losses);
        let v = report.validation;
        assert!(v.mse < v.persistence_mse, "model {} vs persistence {}", v.mse, v.persistence_mse);
        assert_eq!(report.steps_run, 150);
        assert_eq!(report.losses.len(), 16);
    }

    #[test]
    fn same_seed_same_run_on_cpu() {
        let data = data();
        let cfg = TrainConfig { steps: 20, report_every: 5, ..Default::default() };
        let run = || {
            pollster::block_on(fit_next_step(&data, &next_step_mlp(&data, 16, 1), &cfg, &Device::flex(), &mut NativeHost::default()))
                .unwrap()
                .1
        };
        let (a, b) = (run(), run());
        assert_eq!(a.losses, b.losses);
        assert_eq!(a.validation, b.validation);
    }

    struct StopAfter(usize);
    impl Host for StopAfter {
        async fn yield_now(&mut self) {}
        fn progress(&mut self, p: &Progress) -> ControlFlow<()> {
            if p.step >= self.0 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
        }
    }

    #[test]
    fn a_host_can_stop_a_run_and_keep_its_result() {
        let data = data();
        let cfg = TrainConfig { steps: 1000, report_every: 10, ..Default::default() };
        let (_, report) =
            pollster::block_on(fit_next_step(&data, &next_step_mlp(&data, 16, 1), &cfg, &Device::flex(), &mut StopAfter(30)))
                .unwrap();
        assert!(report.stopped);
        assert_eq!(report.steps_run, 31);
        assert!(report.validation.mse.is_finite());
    }
}
