//! Timing training steps: `neurognn bench models`, and the page's choice of the faster backend.

use std::cell::RefCell;
use std::ops::ControlFlow;
use std::sync::Arc;

use burn::prelude::Device;

use super::fit::{FitSetup, Objective, fit};
use super::{Host, Progress, TrainConfig, TrainError};
use crate::data::task::{Series, Target, Windows};
use crate::device::{self, BackendChoice, BackendKind, Compute};
use crate::model::{ModelKind, ModelSpec};

/// The size of one training step: a batch of windows of `history` frames of `nodes` neurons,
/// `features` values each (activity, and its change when the spec asks for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepShape {
    pub nodes: usize,
    pub history: usize,
    pub features: usize,
    pub batch: usize,
}

/// Four batches of next-step windows over noise (a fixed sequence: timings compare like with like).
pub fn noise_windows(shape: StepShape) -> Windows {
    let StepShape { nodes, history, features, batch } = shape;
    let frames = 4 * batch + history;
    let mut x = 0u32;
    let mut noise = || {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (x >> 8) as f32 / (1u32 << 24) as f32 - 0.5
    };
    let series = Arc::new(Series {
        name: "noise".into(),
        frames,
        nodes,
        features,
        values: (0..frames * nodes * features).map(|_| noise()).collect(),
        present: vec![true; nodes],
        classes: (0..frames).map(|t| Some((t % 4) as u16)).collect(),
        change_sd: vec![1.0; nodes],
    });
    let mut windows = Windows::new(history, nodes, features);
    windows.add(&series, 0..frames, Target::NextFrame, 0);
    windows
}

/// Milliseconds per training step of one model, and its parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepTime {
    pub ms: f64,
    pub parameters: usize,
    /// Steps the figure is the mean of.
    pub steps: usize,
}

/// Reads the clock at each step's report and stops once `budget_s` have passed.
struct Stopwatch {
    budget_s: f64,
    first: Option<(usize, f64)>,
    last: Option<(usize, f64)>,
}

impl Host for Stopwatch {
    async fn yield_now(&mut self) {}

    fn progress(&mut self, p: &Progress) -> ControlFlow<()> {
        self.first.get_or_insert((p.step, p.elapsed_s));
        self.last = Some((p.step, p.elapsed_s));
        let (_, from) = self.first.unwrap_or_default();
        if p.elapsed_s - from > self.budget_s { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    }
}

/// Times up to `steps` training steps of `spec` on `device` (after `warm` untimed ones, which
/// compile the GPU's kernels), stopping early once `budget_s` seconds have been timed. The
/// figure runs from the first step's read to the last's, so it leaves out building the
/// network and the final evaluation; each timed step reads its loss back (a GPU round trip,
/// as every tenth step of a real run does).
pub async fn time_steps(spec: &ModelSpec, shape: StepShape, warm: usize, steps: usize, budget_s: f64, device: &Device) -> Result<StepTime, TrainError> {
    let windows = noise_windows(shape);
    let objective = Objective::NextStep;
    let incoming = vec![1.0 / shape.nodes as f32; shape.nodes * shape.nodes];
    let incoming = spec.kind.needs_graph().then_some(incoming.as_slice());
    let quiet = TrainConfig { steps: warm.max(1), batch_size: shape.batch, eval_every: usize::MAX, report_every: usize::MAX, ..TrainConfig::default() };
    let mut watch = Stopwatch { budget_s: f64::INFINITY, first: None, last: None };
    fit(FitSetup { spec, objective: &objective, incoming, train: &quiet }, &windows, &windows, device, &mut watch).await?;
    // one more step than timed: the clock starts at the first step's read
    let timed = TrainConfig { steps: steps.max(1) + 1, report_every: 1, ..quiet };
    let mut watch = Stopwatch { budget_s, first: None, last: None };
    let fitted = fit(FitSetup { spec, objective: &objective, incoming, train: &timed }, &windows, &windows, device, &mut watch).await?;
    let ((s0, t0), (s1, t1)) = (watch.first.unwrap_or_default(), watch.last.unwrap_or_default());
    let steps = s1.saturating_sub(s0).max(1);
    Ok(StepTime { ms: (t1 - t0).max(0.0) * 1e3 / steps as f64, parameters: fitted.report.parameters, steps })
}

/// What was measured to choose a backend: the model and shape timed, and each backend's figure.
#[derive(Debug, Clone, PartialEq)]
struct Race {
    model: ModelKind,
    shape: StepShape,
    cpu_ms: f64,
    /// `None`: a software adapter that had not finished within [`SOFTWARE_GPU_LIMIT_MS`].
    gpu_ms: Option<f64>,
}

thread_local! {
    /// Races already run in this module instance (a page session's worker): one per set of
    /// models and shape.
    static RACES: RefCell<Vec<(Vec<ModelKind>, StepShape, Race)>> = const { RefCell::new(Vec::new()) };
}

/// How much slower than the CPU WebGPU may be on the cheapest model before the costly one is
/// not timed on it at all: a GPU gains on bigger networks, but not that much.
const CLEARLY_SLOWER: f64 = 4.0;

/// How long a software adapter (the CPU emulating a GPU: SwiftShader, WARP, llvmpipe) gets for
/// its timing, kernels compiled included. Measured here on SwiftShader, that compiling takes
/// 12-15 s for an MLP, and its steps then run 30-100x slower than the CPU backend's; a
/// hardware adapter gets as long as it needs (its kernels serve the training that follows).
pub const SOFTWARE_GPU_LIMIT_MS: u32 = 3000;

/// Times `spec` at `shape` on the CPU, then on `gpu` (after the CPU: a GPU's queued work must
/// not run under the CPU's clock). A few steps each, at most about a second and a half after
/// the GPU's kernels are compiled; a software adapter at most `SOFTWARE_GPU_LIMIT_MS` in all.
async fn race(spec: &ModelSpec, shape: StepShape, gpu: &Device, software: bool) -> Result<Race, String> {
    let cpu_ms = time_steps(spec, shape, 1, 8, 1.0, &Device::flex()).await.map_err(|e| format!("timing the CPU failed ({e})"))?.ms;
    let timing = time_steps(spec, shape, 1, 8, 1.0, gpu);
    let timed = if software { within(timing, SOFTWARE_GPU_LIMIT_MS).await } else { Some(timing.await) };
    let gpu_ms = timed.transpose().map_err(|e| format!("WebGPU failed while being timed ({e})"))?.map(|t| t.ms);
    Ok(Race { model: spec.kind, shape, cpu_ms, gpu_ms })
}

/// `future`'s output, or `None` when it has not finished after `ms` milliseconds (then it is
/// dropped: work it queued on a GPU may still finish there). Natively there is no timer in
/// this executor: the future runs to its end.
async fn within<F: std::future::Future>(future: F, ms: u32) -> Option<F::Output> {
    #[cfg(target_arch = "wasm32")]
    {
        use std::task::Poll;
        let mut future = std::pin::pin!(future);
        let mut timer = std::pin::pin!(gloo::timers::future::TimeoutFuture::new(ms));
        std::future::poll_fn(|cx| match future.as_mut().poll(cx) {
            Poll::Ready(out) => Poll::Ready(Some(out)),
            Poll::Pending if timer.as_mut().poll(cx).is_ready() => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        })
        .await
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = ms;
        Some(future.await)
    }
}

/// The compute device for training `models` (at `shape`; each with its own batch), as `choice`
/// asks. `Auto` times a few steps on the CPU and on WebGPU and takes the faster, saying so with
/// both figures: first the cheapest of the models (a software GPU, or a weak one, is shown up
/// in a second or two), then, unless WebGPU was clearly slower, the costliest (which decides).
/// Once per set of models and shape in this module instance. Without a usable WebGPU it is the
/// CPU, with the reason.
pub async fn pick_backend(choice: BackendChoice, models: &[ModelSpec], shape: StepShape) -> Compute {
    let (Some(cheapest), Some(costliest)) = (models.iter().min_by_key(|m| cost_rank(m.kind)), models.iter().max_by_key(|m| cost_rank(m.kind))) else {
        return device::pick(choice).await;
    };
    if choice != BackendChoice::Auto {
        return device::pick(choice).await;
    }
    let gpu = device::pick(BackendChoice::WebGpu).await;
    if gpu.kind != BackendKind::WebGpu {
        return gpu;
    }
    let kinds: Vec<ModelKind> = models.iter().map(|m| m.kind).collect();
    let known = RACES.with_borrow(|r| r.iter().find(|(k, s, _)| *k == kinds && *s == shape).map(|(_, _, race)| race.clone()));
    let race = match known {
        Some(race) => race,
        None => {
            let batch = |m: &ModelSpec| StepShape { batch: m.batch_size.unwrap_or(shape.batch).max(1), ..shape };
            let software = gpu.label.ends_with(device::SOFTWARE_ADAPTER);
            let mut outcome = race(cheapest, batch(cheapest), &gpu.device, software).await;
            if let Ok(probe) = &outcome
                && probe.gpu_ms.is_some_and(|g| g <= CLEARLY_SLOWER * probe.cpu_ms)
                && costliest.kind != cheapest.kind
            {
                outcome = race(costliest, batch(costliest), &gpu.device, software).await;
            }
            match outcome {
                Ok(race) => {
                    RACES.with_borrow_mut(|r| r.push((kinds, shape, race.clone())));
                    race
                }
                Err(why) => {
                    log::warn!("{why}");
                    return device::cpu(&why);
                }
            }
        }
    };
    let gpu_figure = match race.gpu_ms {
        Some(ms) => format!("{} ms/step", fmt_ms(ms)),
        None => format!("over {} s for its first steps (compiling its kernels)", SOFTWARE_GPU_LIMIT_MS / 1000),
    };
    let figures = format!("CPU {} ms/step, WebGPU {gpu_figure} ({}, {} neurons, batch {})", fmt_ms(race.cpu_ms), race.model.label(), race.shape.nodes, race.shape.batch);
    if race.gpu_ms.is_none_or(|gpu_ms| race.cpu_ms < gpu_ms) {
        let adapter = gpu.label.trim_start_matches("WebGPU — ");
        device::cpu(&format!("faster here: {figures}: using the CPU (WebGPU: {adapter})"))
    } else {
        Compute { label: format!("{} — faster here: {figures}: using WebGPU", gpu.label), ..gpu }
    }
}

/// Models in the order of what a training step costs (linear, MLP, GRU, GCN, GAT, NRI).
pub fn cost_rank(kind: ModelKind) -> usize {
    ModelKind::ALL.iter().position(|k| *k == kind).unwrap_or(0)
}

/// A step time for people: "0.42", "4.1", "61".
fn fmt_ms(ms: f64) -> String {
    match ms {
        m if m < 1.0 => format!("{m:.2}"),
        m if m < 10.0 => format!("{m:.1}"),
        m => format!("{m:.0}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_steps_on_the_cpu_gives_a_positive_figure_and_stops_at_its_budget() {
        let shape = StepShape { nodes: 6, history: 4, features: 2, batch: 8 };
        let spec = ModelSpec::new(ModelKind::Gcn);
        let t = pollster::block_on(time_steps(&spec, shape, 1, 5, 60.0, &Device::flex())).unwrap();
        assert!(t.ms > 0.0 && t.ms.is_finite(), "{t:?}");
        assert_eq!(t.steps, 5);
        assert!(t.parameters > 0);
        // a budget of nothing stops after the first timed step
        let t = pollster::block_on(time_steps(&spec, shape, 1, 50, 0.0, &Device::flex())).unwrap();
        assert_eq!(t.steps, 1, "{t:?}");
    }

    #[test]
    #[cfg(not(feature = "gpu"))]
    fn auto_without_webgpu_is_the_cpu_with_the_reason() {
        let shape = StepShape { nodes: 6, history: 4, features: 2, batch: 8 };
        let c = pollster::block_on(pick_backend(BackendChoice::Auto, &[ModelSpec::new(ModelKind::Mlp)], shape));
        assert_eq!(c.kind, BackendKind::Cpu);
        assert!(c.label.contains("no GPU backend"), "{}", c.label);
        assert_eq!(fmt_ms(0.421), "0.42");
        assert_eq!(fmt_ms(4.12), "4.1");
        assert_eq!(fmt_ms(61.4), "61");
    }

    /// With a GPU (the test suite gives the GPU build Mesa's software Vulkan), the choice is
    /// timed on both and says both figures.
    #[test]
    #[cfg(feature = "gpu")]
    fn auto_with_a_gpu_times_both_and_says_so() {
        let shape = StepShape { nodes: 6, history: 4, features: 2, batch: 8 };
        let c = pollster::block_on(pick_backend(BackendChoice::Auto, &[ModelSpec::new(ModelKind::Mlp)], shape));
        assert!(c.label.contains("faster here: CPU ") && c.label.contains(" ms/step, WebGPU "), "{}", c.label);
        assert!(c.label.ends_with("using the CPU (WebGPU: native wgpu adapter)") || c.label.ends_with("using WebGPU"), "{}", c.label);
        assert_eq!(fmt_ms(0.421), "0.42");
    }
}
