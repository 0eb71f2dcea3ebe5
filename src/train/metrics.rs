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

/// Next-step scores over recorded neurons only: `mask[k]` is 1 where value `k` counts
/// (`[rows, neurons]`); R² takes each neuron's mean over its recorded rows.
pub fn masked_next_step(pred: &[f32], last: &[f32], target: &[f32], mask: &[f32], neurons: usize) -> NextStepScores {
    let columns = neurons.max(1);
    let mut sum = vec![0f64; columns];
    let mut count = vec![0f64; columns];
    for (k, (&t, &m)) in target.iter().zip(mask).enumerate() {
        if m > 0.0 {
            sum[k % columns] += f64::from(t);
            count[k % columns] += 1.0;
        }
    }
    let mean: Vec<f64> = sum.iter().zip(&count).map(|(s, c)| s / c.max(1.0)).collect();
    let kept = count.iter().sum::<f64>().max(1.0);
    let scores = |p: &[f32]| {
        let (mut sse, mut sst) = (0f64, 0f64);
        for (k, ((&p, &t), &m)) in p.iter().zip(target).zip(mask).enumerate() {
            if m > 0.0 {
                sse += f64::from(p - t).powi(2);
                sst += (f64::from(t) - mean[k % columns]).powi(2);
            }
        }
        (sse / kept, if sst > 0.0 { 1.0 - sse / sst } else { f64::NAN })
    };
    let ((mse, r2), (persistence_mse, persistence_r2)) = (scores(pred), scores(last));
    NextStepScores { mse, r2, persistence_mse, persistence_r2 }
}

/// Classification scores: accuracy, balanced accuracy (mean recall over classes present in
/// the targets), macro-F1 (over the same classes) and the confusion matrix
/// (`confusion[true][predicted]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassScores {
    pub accuracy: f64,
    pub balanced_accuracy: f64,
    pub macro_f1: f64,
    pub confusion: Vec<Vec<usize>>,
}

impl ClassScores {
    pub fn compute(predicted: &[usize], truth: &[usize], classes: usize) -> Self {
        let mut confusion = vec![vec![0usize; classes]; classes];
        for (&p, &t) in predicted.iter().zip(truth) {
            if t < classes && p < classes {
                confusion[t][p] += 1;
            }
        }
        let total: usize = confusion.iter().flatten().sum();
        let correct: usize = (0..classes).map(|c| confusion[c][c]).sum();
        let present: Vec<usize> = (0..classes).filter(|&c| confusion[c].iter().sum::<usize>() > 0).collect();
        let recall = |c: usize| confusion[c][c] as f64 / confusion[c].iter().sum::<usize>().max(1) as f64;
        let precision = |c: usize| {
            let col: usize = (0..classes).map(|t| confusion[t][c]).sum();
            if col == 0 { 0.0 } else { confusion[c][c] as f64 / col as f64 }
        };
        let f1 = |c: usize| {
            let (p, r) = (precision(c), recall(c));
            if p + r > 0.0 { 2.0 * p * r / (p + r) } else { 0.0 }
        };
        let mean = |f: &dyn Fn(usize) -> f64| if present.is_empty() { f64::NAN } else { present.iter().map(|&c| f(c)).sum::<f64>() / present.len() as f64 };
        Self { accuracy: correct as f64 / total.max(1) as f64, balanced_accuracy: mean(&recall), macro_f1: mean(&f1), confusion }
    }
}

/// The most probable class of each row of `[rows, classes]` probabilities.
pub fn argmax_rows(probabilities: &[f32], classes: usize) -> Vec<usize> {
    probabilities
        .chunks_exact(classes.max(1))
        .map(|row| row.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(i, _)| i))
        .collect()
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

    #[test]
    fn masked_scores_ignore_missing_neurons() {
        let target = [1.0, 10.0, 3.0, 20.0];
        let pred = [1.0, 99.0, 3.0, -5.0]; // column 1 is missing in both rows
        let all = NextStepScores::compute(&target, &[0.0; 4], &target, 2);
        let masked = masked_next_step(&pred, &[0.0; 4], &target, &[1.0, 0.0, 1.0, 0.0], 2);
        assert_eq!((masked.mse, masked.r2), (0.0, 1.0));
        let full = masked_next_step(&target, &[0.0; 4], &target, &[1.0; 4], 2);
        assert_eq!((full.mse, full.r2, full.persistence_mse), (all.mse, all.r2, all.persistence_mse));
    }

    #[test]
    fn class_scores_on_an_unbalanced_set() {
        // 8 of class 0, 2 of class 1; always predicting 0 is 80 % accurate but balanced 50 %
        let truth = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1];
        let s = ClassScores::compute(&[0; 10], &truth, 3);
        assert_eq!((s.accuracy, s.balanced_accuracy), (0.8, 0.5));
        assert!((s.macro_f1 - (2.0 * 0.8 / 1.8) / 2.0).abs() < 1e-12);
        assert_eq!(s.confusion[1][0], 2);
        let perfect = ClassScores::compute(&truth, &truth, 3);
        assert_eq!((perfect.balanced_accuracy, perfect.macro_f1), (1.0, 1.0));
        assert_eq!(argmax_rows(&[0.1, 0.9, 0.7, 0.3], 2), vec![1, 0]);
    }
}
