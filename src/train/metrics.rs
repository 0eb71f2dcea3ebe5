//! Metrics over plain slices, computed on the host so every backend scores identically.

use serde::{Deserialize, Serialize};

/// Mean squared error. Slices must have equal length.
pub fn mse(pred: &[f32], target: &[f32]) -> f64 {
    debug_assert_eq!(pred.len(), target.len());
    let n = pred.len().max(1) as f64;
    pred.iter().zip(target).map(|(p, t)| f64::from(p - t).powi(2)).sum::<f64>() / n
}

/// Coefficient of determination over `[rows, columns]` data: 1 − SSE / SST, where SST is taken
/// around each column's own mean (so a constant-per-neuron prediction scores 0).
pub fn r2(pred: &[f32], target: &[f32], columns: usize) -> f64 {
    let columns = columns.max(1);
    let rows = (target.len() / columns).max(1) as f64;
    let mut mean = vec![0f64; columns];
    for (k, &t) in target.iter().enumerate() {
        mean[k % columns] += f64::from(t) / rows;
    }
    let sst: f64 = target.iter().enumerate().map(|(k, &t)| (f64::from(t) - mean[k % columns]).powi(2)).sum();
    let sse: f64 = pred.iter().zip(target).map(|(p, t)| f64::from(p - t).powi(2)).sum();
    if sst > 0.0 { 1.0 - sse / sst } else { f64::NAN }
}

/// Scores of a next-step predictor on one set, beside the persistence baseline (next = last).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NextStepScores {
    pub mse: f64,
    pub r2: f64,
    pub persistence_mse: f64,
    pub persistence_r2: f64,
}

impl NextStepScores {
    pub fn compute(pred: &[f32], last: &[f32], target: &[f32], neurons: usize) -> Self {
        Self {
            mse: mse(pred, target),
            r2: r2(pred, target, neurons),
            persistence_mse: mse(last, target),
            persistence_r2: r2(last, target, neurons),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mse_and_r2_on_known_values() {
        let target = [1.0, 10.0, 3.0, 20.0]; // two rows, two columns
        assert_eq!(mse(&target, &target), 0.0);
        assert_eq!(r2(&target, &target, 2), 1.0);
        assert_eq!(mse(&[0.0, 10.0, 3.0, 22.0], &target), 1.25);
        // predicting each column's mean scores exactly zero
        assert!(r2(&[2.0, 15.0, 2.0, 15.0], &target, 2).abs() < 1e-12);
        let s = NextStepScores::compute(&target, &[0.0; 4], &target, 2);
        assert_eq!((s.mse, s.persistence_mse), (0.0, (1.0 + 100.0 + 9.0 + 400.0) / 4.0));
    }
}
