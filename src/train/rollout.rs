//! Multi-step rollouts: a next-step model fed its own predictions for `horizon` frames, scored
//! at every horizon beside persistence (the frame before the rollout started, held).

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::{TrainError, read_f32};
use crate::data::task::Series;
use crate::model::{Input, Network, animal_one_hot};

/// Mean squared error at each horizon (index 0 = one step ahead), over recorded neurons.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rollout {
    pub mse: Vec<f64>,
    pub persistence_mse: Vec<f64>,
    /// Rollouts started (every `stride` frames).
    pub starts: usize,
}

/// Rolls `net` out from every `stride`-th frame of `frames` in `series`.
///
/// Also gives the rolled-out activity of the first `keep` target frames (`[keep][nodes]`, the
/// layout of a prediction sample): target frame `k` (the frame after the `k`-th window) as
/// predicted by the rollout that started last before it, `k mod stride + 1` frames ahead (`None`
/// where a neuron is not recorded or no rollout reaches the frame).
#[allow(clippy::too_many_arguments)]
pub async fn rollout(
    net: &Network,
    series: &Series,
    frames: std::ops::Range<usize>,
    history: usize,
    horizon: usize,
    stride: usize,
    keep: usize,
    incoming: Option<&[f32]>,
    device: &Device,
) -> Result<(Rollout, Vec<Option<f32>>), TrainError> {
    let (n, f) = (series.nodes, series.features);
    let stride = stride.max(1);
    let starts: Vec<usize> = (frames.start + history - 1..frames.end.saturating_sub(horizon)).step_by(stride).collect();
    let mut out = Rollout { mse: vec![0.0; horizon], persistence_mse: vec![0.0; horizon], starts: starts.len() };
    let mut path = vec![None; keep * n];
    if starts.is_empty() || horizon == 0 {
        return Ok((out, path));
    }
    let b = starts.len();
    let frame = n * f;
    // windows [b, history, n, f] on the host, shifted by one predicted frame per step
    let mut x: Vec<f32> = starts.iter().flat_map(|&t| series.values[(t + 1 - history) * frame..(t + 1) * frame].iter().copied()).collect();
    let mut last: Vec<f32> = starts.iter().flat_map(|&t| (0..n).map(move |i| series.activity(t, i))).collect();
    let held = last.clone();
    let mask: Vec<f32> = series.present.iter().map(|&p| if p { 1.0 } else { 0.0 }).collect();
    let recorded = mask.iter().sum::<f32>().max(1.0) as f64 * b as f64;
    let mask_t = Tensor::<2>::from_data(TensorData::new(mask.repeat(b), [b, n]), device);
    let incoming = incoming.map(|a| Tensor::<2>::from_data(TensorData::new(a.to_vec(), [n, n]), device));
    let animal = animal_one_hot(&vec![0; b], device);
    for step in 0..horizon {
        let input = Input {
            x: Tensor::from_data(TensorData::new(x.clone(), [b, history, n, f]), device),
            mask: mask_t.clone(),
            incoming: incoming.clone(),
            animal: animal.clone(),
            noise: 0.0,
        };
        let change = read_f32(net.forward(input).y).await?;
        let pred: Vec<f32> = last.iter().zip(&change).enumerate().map(|(k, (l, c))| if mask[k % n] > 0.0 { l + c } else { 0.0 }).collect();
        for (s, &t) in starts.iter().enumerate() {
            let k = s * stride + step;
            if step < stride && k < keep {
                for i in (0..n).filter(|&i| mask[i] > 0.0) {
                    path[k * n + i] = Some(pred[s * n + i]);
                }
            }
            for i in (0..n).filter(|&i| mask[i] > 0.0) {
                let truth = f64::from(series.activity(t + step + 1, i));
                out.mse[step] += (f64::from(pred[s * n + i]) - truth).powi(2) / recorded;
                out.persistence_mse[step] += (f64::from(held[s * n + i]) - truth).powi(2) / recorded;
            }
        }
        // shift every window by the predicted frame
        for s in 0..b {
            let w = &mut x[s * history * frame..(s + 1) * history * frame];
            w.copy_within(frame.., 0);
            let newest = &mut w[(history - 1) * frame..];
            for i in 0..n {
                newest[i * f] = pred[s * n + i];
                if f > 1 {
                    newest[i * f + 1] = (pred[s * n + i] - last[s * n + i]) / series.change_sd[i];
                }
            }
        }
        last = pred;
    }
    Ok((out, path))
}
