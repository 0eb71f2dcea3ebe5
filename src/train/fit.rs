//! One training run of any [`Network`] on [`Windows`], for either task: minibatch Adam(W),
//! early stopping on the validation loss (the best weights are kept), and evaluation.
//!
//! Next-step prediction: the network predicts each neuron's change and the loss is the mean
//! squared error of `last + change` over recorded neurons. Behaviour: class-weighted
//! cross-entropy (the Kato classes are very unbalanced). NRI adds its KL term.

use std::ops::ControlFlow;

use burn::optim::{AdamWConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::Distribution;
use burn::tensor::activation::{log_softmax, softmax};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use web_time::Instant;

use super::{Fault, Host, Progress, TrainConfig, TrainError, read_f32, read_scalar};
use crate::data::task::Windows;
use crate::model::{Head, Input, InputShape, ModelSpec, Network, animal_one_hot};

/// Most windows per forward pass when evaluating.
const EVAL_CHUNK: usize = 256;
/// Most floats in one evaluation pass's largest tensor (64 MB): NRI's pair states at 200
/// neurons would otherwise take 1.3 GB a tensor for 256 windows.
const EVAL_TENSOR_FLOATS: u64 = 16 << 20;

/// Windows per forward pass when evaluating `spec` on windows of `shape`: [`EVAL_CHUNK`], or
/// fewer where its largest tensor would pass [`EVAL_TENSOR_FLOATS`] (at least 1). At Kato size
/// every model evaluates 256 windows a pass.
pub fn eval_chunk(spec: &ModelSpec, shape: InputShape) -> usize {
    (1..=EVAL_CHUNK).rev().find(|&b| spec.largest_tensor(shape, b) <= EVAL_TENSOR_FLOATS).unwrap_or(1)
}

/// What is being learnt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Objective {
    NextStep,
    /// `weights[c]` multiplies the loss of class `c`.
    Classes { count: usize, weights: Vec<f32> },
}

impl Objective {
    /// Classes weighted by inverse frequency in `train` (absent classes get weight 0).
    pub fn balanced(train: &Windows, count: usize) -> Self {
        let counts = train.class_counts(count);
        let present = counts.iter().filter(|c| **c > 0).count().max(1) as f32;
        let total = counts.iter().sum::<usize>().max(1) as f32;
        let weights = counts.iter().map(|&c| if c > 0 { total / (present * c as f32) } else { 0.0 }).collect();
        Objective::Classes { count, weights }
    }

    /// The network head this objective needs.
    pub fn head(&self) -> Head {
        match self {
            Objective::NextStep => Head::Nodes,
            Objective::Classes { count, .. } => Head::Classes(*count),
        }
    }
}

/// A batch of windows on a device.
struct Batchable {
    x: Tensor<4>,
    mask: Tensor<2>,
    last: Tensor<2>,
    next: Option<Tensor<2>>,
    classes: Tensor<1, Int>,
    animal: Tensor<2>,
    len: usize,
}

impl Batchable {
    /// Windows `idx` of `w`, read out on the host and uploaded (only the batch is ever on the
    /// device, so device memory does not grow with the recording).
    fn of(w: &Windows, idx: &[usize], device: &Device) -> Self {
        let (len, h, n, f) = (idx.len(), w.history, w.nodes, w.features);
        let b = w.batch(idx);
        let floats = |v: Vec<f32>| Tensor::<2>::from_data(TensorData::new(v, [len, n]), device);
        Batchable {
            x: Tensor::from_data(TensorData::new(b.inputs, [len, h, n, f]), device),
            mask: floats(b.mask),
            last: floats(b.last),
            next: (!b.next.is_empty()).then(|| floats(b.next)),
            classes: Tensor::from_data(TensorData::new(b.classes.iter().map(|&c| i64::from(c)).collect::<Vec<_>>(), [len]), device),
            animal: animal_one_hot(&b.source, device),
            len,
        }
    }
}

/// The loss of one batch (a scalar tensor) and the network's output.
fn loss_of(net: &Network, b: &Batchable, incoming: Option<Tensor<2>>, objective: &Objective, kl_weight: f64, noise: f32) -> (Tensor<1>, Tensor<2>) {
    let out = net.forward(Input { x: b.x.clone(), mask: b.mask.clone(), incoming, animal: b.animal.clone(), noise });
    let device = b.x.device();
    let data_loss = match objective {
        Objective::NextStep => {
            let next = b.next.clone().expect("next-step windows carry their next frame");
            let err = (b.last.clone() + out.y.clone() - next).powf_scalar(2.0) * b.mask.clone();
            err.sum() / b.mask.clone().sum().clamp_min(1.0)
        }
        Objective::Classes { weights, .. } => {
            let w_all = Tensor::<1>::from_floats(weights.as_slice(), &device);
            let w = w_all.select(0, b.classes.clone());
            let nll = log_softmax(out.y.clone(), 1).gather(1, b.classes.clone().unsqueeze_dim::<2>(1)).reshape([b.len]).neg();
            (nll * w.clone()).sum() / w.sum().clamp_min(1e-6)
        }
    };
    (with_kl(data_loss, out.kl, kl_weight), out.y)
}

/// The data loss plus NRI's KL term, weighted (other networks have none).
fn with_kl(data_loss: Tensor<1>, kl: Option<Tensor<1>>, kl_weight: f64) -> Tensor<1> {
    match kl {
        Some(kl) if kl_weight > 0.0 => data_loss + kl.mul_scalar(kl_weight),
        _ => data_loss,
    }
}

/// The windows a multi-step rollout from each window of a batch visits, worked out on the host
/// from [`Windows::successor`]: at step `s`, the window whose last frame the rollout has
/// reached, and whether its chain is still inside its series.
fn chain_steps(w: &Windows, idx: &[usize], steps: usize) -> Vec<(Vec<usize>, Vec<f32>)> {
    let mut at = idx.to_vec();
    let mut alive = vec![1f32; idx.len()];
    let mut out = vec![(at.clone(), alive.clone())];
    for _ in 1..steps {
        for (a, live) in at.iter_mut().zip(&mut alive) {
            // a finished chain stays on its own last window (it no longer counts, but its rows
            // still pool into its animal's NRI graph, so they must stay that animal's frames)
            match usize::try_from(w.successor[*a]) {
                Ok(next) => *a = next,
                Err(_) => *live = 0.0,
            }
        }
        out.push((at.clone(), alive.clone()));
    }
    out
}

/// The next-step loss of `steps` frames predicted one after another from the windows `idx`
/// of `w`: each frame fed back is the true one with probability `p_true` (per window and
/// step), otherwise the prediction, through which gradients flow. A chain that reaches the end
/// of its series stops counting. NRI's KL term is taken from the first step. Early stopping
/// still compares one-step validation losses.
#[allow(clippy::too_many_arguments)]
fn rollout_loss(net: &Network, w: &Windows, idx: &[usize], steps: usize, p_true: f64, incoming: Option<Tensor<2>>, kl_weight: f64, noise: f32, device: &Device) -> Tensor<1> {
    let first = Batchable::of(w, idx, device);
    let [len, h, n, f] = first.x.dims();
    let rows = |v: Vec<f32>, shape: [usize; 2]| Tensor::<2>::from_data(TensorData::new(v, shape), device);
    let change_sd = (f > 1).then(|| rows(idx.iter().flat_map(|&k| w.change_sd(k).iter().copied()).collect(), [len, n]));
    let chain = chain_steps(w, idx, steps);
    let (mut x, mut last) = (first.x, first.last);
    let mut err = Tensor::<1>::zeros([1], device);
    let mut count = Tensor::<1>::zeros([1], device);
    let mut kl = None;
    for (step, (at, alive)) in chain.iter().enumerate() {
        let out = net.forward(Input { x: x.clone(), mask: first.mask.clone(), incoming: incoming.clone(), animal: first.animal.clone(), noise });
        if step == 0 {
            kl = out.kl;
        }
        // neurons an animal does not have stay 0, as in the data and the evaluated rollout
        let pred = (last.clone() + out.y) * first.mask.clone();
        let weight = first.mask.clone() * rows(alive.clone(), [len, 1]);
        let next = rows(at.iter().flat_map(|&k| w.next(k)).collect(), [len, n]);
        err = err + ((pred.clone() - next).powf_scalar(2.0) * weight.clone()).sum();
        count = count + weight.sum();
        let Some((at, _)) = chain.get(step + 1) else { break };
        // the frame fed back: the true next frame (all its features) or the prediction
        let truth = Tensor::<4>::from_data(TensorData::new(at.iter().flat_map(|&k| w.last_frame(k).iter().copied()).collect::<Vec<_>>(), [len, 1, n, f]), device);
        let true_last = rows(at.iter().flat_map(|&k| w.last(k)).collect(), [len, n]);
        let predicted = match &change_sd {
            Some(sd) => Tensor::stack::<3>(vec![pred.clone(), (pred.clone() - last) / sd.clone()], 2).reshape([len, 1, n, f]),
            None => pred.clone().reshape([len, 1, n, 1]),
        };
        let teach = Tensor::<2>::random([len, 1], Distribution::Bernoulli(p_true), device);
        let fed = truth * teach.clone().reshape([len, 1, 1, 1]) + predicted * (teach.clone().neg() + 1.0).reshape([len, 1, 1, 1]);
        last = true_last * teach.clone() + pred * (teach.neg() + 1.0);
        x = if h > 1 { Tensor::cat(vec![x.slice([0..len, 1..h, 0..n, 0..f]), fed], 1) } else { fed };
    }
    with_kl(err / count.clamp_min(1.0), kl, kl_weight)
}

/// A finished run: the best network (on the plain device) and how training went.
#[derive(Debug)]
pub struct Fitted {
    pub network: Network,
    pub report: FitReport,
}

/// How a run went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitReport {
    /// `(step, training loss)` at each report.
    pub losses: Vec<(usize, f32)>,
    /// `(step, validation loss)` at each evaluation.
    pub validation_losses: Vec<(usize, f32)>,
    /// The step whose weights were kept.
    pub best_step: usize,
    pub steps_run: usize,
    /// Stopped by the host (not by early stopping).
    pub stopped: bool,
    pub parameters: usize,
    pub elapsed_s: f64,
}

/// What [`fit`] needs besides the data.
pub struct FitSetup<'a> {
    pub spec: &'a ModelSpec,
    pub objective: &'a Objective,
    /// Row-major `nodes × nodes`, `incoming[i][j]` weights `j → i` (GCN, GAT).
    pub incoming: Option<&'a [f32]>,
    pub train: &'a TrainConfig,
}

fn incoming_tensor(incoming: Option<&[f32]>, nodes: usize, device: &Device) -> Option<Tensor<2>> {
    incoming.map(|a| Tensor::from_data(TensorData::new(a.to_vec(), [nodes, nodes]), device))
}

/// burn's CPU backend draws every random number (initial weights, dropout, NRI's edge samples) from one
/// generator for the whole process, so two runs training at once would take each other's draws and neither
/// would repeat from its seed. Natively, runs in one process therefore train one at a time; the page's
/// worker runs one at a time anyway.
#[cfg(not(target_arch = "wasm32"))]
static ONE_RUN_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Trains on `train`, stops early on `validation`, and returns the best network.
#[allow(clippy::await_holding_lock)] // ONE_RUN_AT_A_TIME, held for the whole run
pub async fn fit<H: Host>(setup: FitSetup<'_>, train: &Windows, validation: &Windows, device: &Device, host: &mut H) -> Result<Fitted, TrainError> {
    if train.is_empty() {
        return Err(TrainError::EmptySet("training"));
    }
    if validation.is_empty() {
        return Err(TrainError::EmptySet("validation"));
    }
    // held across the awaits on purpose: natively a run is driven to its end on one thread
    // (`pollster::block_on`), and the next one must wait for it
    #[cfg(not(target_arch = "wasm32"))]
    let _one_at_a_time = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let cfg = setup.train;
    let started = Instant::now();
    let shape = InputShape { history: train.history, nodes: train.nodes, features: train.features };
    let train_device = device.clone().autodiff();
    train_device.seed(cfg.seed);
    let mut net = Network::init(setup.spec, shape, setup.objective.head(), &train_device);
    let parameters = net.num_params();
    let mut optim = AdamWConfig::new().with_weight_decay(cfg.weight_decay as f32).init();
    let incoming_train = incoming_tensor(setup.incoming, shape.nodes, &train_device);
    let multi_step = cfg.rollout_steps > 1 && *setup.objective == Objective::NextStep;
    let incoming_eval = incoming_tensor(setup.incoming, shape.nodes, device);
    let eval_size = eval_chunk(setup.spec, shape);

    let batch = cfg.batch_size.clamp(1, train.len());
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let mut order: Vec<usize> = (0..train.len()).collect();
    let mut cursor = order.len();
    let mut report = FitReport { losses: vec![], validation_losses: vec![], best_step: 0, steps_run: 0, stopped: false, parameters, elapsed_s: 0.0 };
    let mut best: Option<(f32, Network)> = None;
    let mut since_best = 0;
    let eval_every = cfg.eval_every.max(1);

    for step in 0..cfg.steps {
        if cursor + batch > order.len() {
            order.shuffle(&mut rng);
            cursor = 0;
        }
        let idx = &order[cursor..cursor + batch];
        cursor += batch;
        let noise = setup.spec.noise(step, cfg.steps);
        let loss = if multi_step {
            rollout_loss(&net, train, idx, cfg.rollout_steps, cfg.teacher_forcing(step), incoming_train.clone(), setup.spec.kl_weight, noise, &train_device)
        } else {
            loss_of(&net, &Batchable::of(train, idx, &train_device), incoming_train.clone(), setup.objective, setup.spec.kl_weight, noise).0
        };
        let read_now = step % cfg.report_every.max(1) == 0 || step + 1 == cfg.steps;
        let value = if read_now { Some(read_scalar(loss.clone()).await?) } else { None };
        let value = match (value, host.fault()) {
            (Some(_), Some(Fault::Nan)) => Some(f32::NAN),
            (Some(_), Some(Fault::GpuLost)) => return Err(TrainError::Read("the compute device was lost (a fault injected by a test)".into())),
            (value, _) => value,
        };
        if let Some(v) = value {
            if !v.is_finite() {
                return Err(TrainError::Diverged { step, loss: v });
            }
            report.losses.push((step, v));
        }
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        net = optim.step(cfg.schedule.rate(cfg.learning_rate, step, cfg.steps), net, grads);
        report.steps_run = step + 1;

        if report.steps_run.is_multiple_of(eval_every) || report.steps_run == cfg.steps {
            let plain = net.valid();
            let v = validation_loss(&plain, validation, incoming_eval.clone(), setup.objective, eval_size, device).await?;
            // a NaN is never "the best"; it means the network already outputs NaN
            if !v.is_finite() {
                return Err(TrainError::Diverged { step: report.steps_run, loss: v });
            }
            report.validation_losses.push((report.steps_run, v));
            if best.as_ref().is_none_or(|(b, _)| v < *b) {
                best = Some((v, plain));
                report.best_step = report.steps_run;
                since_best = 0;
            } else {
                since_best += 1;
                if cfg.patience > 0 && since_best >= cfg.patience {
                    break;
                }
            }
        }
        if let Some(loss) = value {
            let validation_loss = report.validation_losses.last().map(|v| v.1);
            let progress = Progress { step: report.steps_run, steps: cfg.steps, loss, validation_loss, elapsed_s: started.elapsed().as_secs_f64() };
            if let ControlFlow::Break(()) = host.progress(&progress) {
                report.stopped = true;
                break;
            }
        }
        host.yield_now().await;
    }
    let network = match best {
        Some((_, n)) => n,
        None => net.valid(),
    };
    report.elapsed_s = started.elapsed().as_secs_f64();
    Ok(Fitted { network, report })
}

/// Mean loss over `set` without sampling (the early-stopping criterion).
async fn validation_loss(net: &Network, set: &Windows, incoming: Option<Tensor<2>>, objective: &Objective, size: usize, device: &Device) -> Result<f32, TrainError> {
    let mut total = 0f64;
    for chunk in chunks(set.len(), size) {
        let len = chunk.len();
        let (loss, _) = loss_of(net, &Batchable::of(set, &chunk, device), incoming.clone(), objective, 0.0, 0.0);
        total += f64::from(read_scalar(loss).await?) * len as f64;
    }
    Ok((total / set.len().max(1) as f64) as f32)
}

/// `0..len` in consecutive chunks of `size` windows.
fn chunks(len: usize, size: usize) -> impl Iterator<Item = Vec<usize>> {
    let size = size.max(1);
    (0..len).step_by(size).map(move |start| (start..(start + size).min(len)).collect())
}

/// A trained network's outputs on a set of windows.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Next step: predicted next frames `[len, nodes]`; behaviour: class probabilities
    /// `[len, classes]`.
    pub outputs: Vec<f32>,
    /// NRI: mean edge probability `[nodes, nodes]` (receiver first) per window source.
    pub edges: Vec<(u16, Vec<f32>)>,
}

/// Runs `net` (built from `spec`) over every window of `set` (on a plain device).
pub async fn evaluate(net: &Network, spec: &ModelSpec, set: &Windows, incoming: Option<&[f32]>, objective: &Objective, device: &Device) -> Result<Evaluation, TrainError> {
    let size = eval_chunk(spec, InputShape { history: set.history, nodes: set.nodes, features: set.features });
    let incoming = incoming_tensor(incoming, set.nodes, device);
    let n = set.nodes;
    let mut outputs = Vec::new();
    let mut sums: Vec<(u16, Vec<f32>, usize)> = Vec::new();
    for chunk in chunks(set.len(), size) {
        let start = chunk[0];
        let b = Batchable::of(set, &chunk, device);
        let out = net.forward(Input { x: b.x.clone(), mask: b.mask.clone(), incoming: incoming.clone(), animal: b.animal.clone(), noise: 0.0 });
        let y = match objective {
            Objective::NextStep => b.last + out.y,
            Objective::Classes { .. } => softmax(out.y, 1),
        };
        outputs.extend(read_f32(y).await?);
        if let Some(edges) = out.edges {
            let e = read_f32(edges).await?;
            for (k, window) in e.chunks_exact(n * n).enumerate() {
                let source = set.source[start + k];
                let slot = match sums.iter().position(|s| s.0 == source) {
                    Some(p) => p,
                    None => {
                        sums.push((source, vec![0.0; n * n], 0));
                        sums.len() - 1
                    }
                };
                sums[slot].1.iter_mut().zip(window).for_each(|(s, v)| *s += v);
                sums[slot].2 += 1;
            }
        }
    }
    let edges = sums.into_iter().map(|(s, sum, count)| (s, sum.into_iter().map(|v| v / count.max(1) as f32).collect())).collect();
    Ok(Evaluation { outputs, edges })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::preprocess::{NeuronSet, align};
    use crate::data::synthetic::SyntheticConfig;
    use crate::data::task::{Series, Target};
    use crate::model::{ModelKind, ModelSpec};
    use crate::train::rollout::rollout;

    const HISTORY: usize = 3;

    /// A synthetic animal's series with the change feature, its windows and an untrained MLP.
    fn setup() -> (Series, Windows, Network, Device) {
        let rec = SyntheticConfig { frames: 120, neurons: 6, ..Default::default() }.generate().recordings.remove(0);
        let animal = align(&[rec], NeuronSet::AllColumns).unwrap().animals.remove(0);
        let series = Series::prepare::<&str, &[&str], &str>(&animal, 0..120, true, None).unwrap();
        let mut windows = Windows::new(HISTORY, series.nodes, series.features);
        windows.add(&std::sync::Arc::new(series.clone()), 0..120, Target::NextFrame, 0);
        let device = Device::flex();
        let shape = InputShape { history: HISTORY, nodes: series.nodes, features: series.features };
        let net = Network::init(&ModelSpec { hidden: 16, dropout: 0.0, ..ModelSpec::new(ModelKind::Mlp) }, shape, Head::Nodes, &device);
        (series, windows, net, device)
    }

    fn value(t: Tensor<1>) -> f32 {
        t.into_data().try_to_vec::<f32>().unwrap()[0]
    }

    #[test]
    fn teacher_forced_rollout_loss_is_the_mean_of_one_step_losses() {
        let (_, windows, net, device) = setup();
        let starts = [0usize, 7, 40];
        let rolled = rollout_loss(&net, &windows, &starts, 4, 1.0, None, 0.0, 0.0, &device);
        // fed the true frames, step s of a chain is the one-step prediction of window start + s
        let followed: Vec<usize> = starts.iter().flat_map(|&s| s..s + 4).collect();
        let (one_step, _) = loss_of(&net, &Batchable::of(&windows, &followed, &device), None, &Objective::NextStep, 0.0, 0.0);
        let (a, b) = (value(rolled), value(one_step));
        assert!((a - b).abs() <= 1e-6 * b.abs().max(1.0), "rollout {a} vs one step {b}");
    }

    /// The series with neuron 1 not recorded (its values 0, as alignment leaves them).
    fn without_neuron_1(mut series: Series) -> Series {
        series.present[1] = false;
        let (n, f) = (series.nodes, series.features);
        for t in 0..series.frames {
            for k in 0..f {
                series.values[(t * n + 1) * f + k] = 0.0;
            }
        }
        series
    }

    #[test]
    fn free_running_rollout_loss_is_the_evaluated_rollout_error() {
        let (series, _, net, device) = setup();
        free_running_matches(series.clone(), net.clone(), &device);
        // a neuron the animal lacks stays 0 in both, whatever the network outputs for it
        free_running_matches(without_neuron_1(series), net, &device);
    }

    fn free_running_matches(series: Series, net: Network, device: &Device) {
        let mut windows = Windows::new(HISTORY, series.nodes, series.features);
        windows.add(&std::sync::Arc::new(series.clone()), 0..series.frames, Target::NextFrame, 0);
        let (horizon, stride) = (5, 9);
        let (evaluated, _) = pollster::block_on(rollout(&net, &series, 0..120, HISTORY, horizon, stride, 0, None, device)).unwrap();
        // the evaluated rollouts start at last frames HISTORY-1, +stride, ...: window t-(HISTORY-1)
        let starts: Vec<usize> = (0..evaluated.starts).map(|k| k * stride).collect();
        let rolled = value(rollout_loss(&net, &windows, &starts, horizon, 0.0, None, 0.0, 0.0, device));
        let mean = evaluated.mse.iter().sum::<f64>() / horizon as f64;
        assert!((f64::from(rolled) - mean).abs() <= 1e-5 * mean, "training rollout {rolled} vs evaluated {mean}");
        // and it is not the teacher-forced loss: the fed-back predictions matter
        let forced = value(rollout_loss(&net, &windows, &starts, horizon, 1.0, None, 0.0, 0.0, device));
        assert!((forced - rolled).abs() > 1e-3 * rolled, "forced {forced} vs free {rolled}");
    }

    #[test]
    fn chains_stop_at_the_end_of_a_series() {
        let (_, windows, net, device) = setup();
        let last = windows.len() - 1;
        // the last window has no successor: a 3-step rollout from it counts its first step only
        let rolled = rollout_loss(&net, &windows, &[last], 3, 0.0, None, 0.0, 0.0, &device);
        let (one, _) = loss_of(&net, &Batchable::of(&windows, &[last], &device), None, &Objective::NextStep, 0.0, 0.0);
        let (a, b) = (value(rolled), value(one));
        assert!((a - b).abs() <= 1e-6, "{a} vs {b}");
    }
}
