//! From a recording to training examples for next-step prediction.
//!
//! Owns chronological splits (no window crosses a split boundary), per-neuron z-scoring fitted
//! on training frames only, and history windows. Plain `Vec<f32>` in, plain `Vec<f32>` out.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::preprocess::{NeuronSet, align};
use super::task::{Series, Target, Windows};
use super::{DataError, Recording};

/// Fractions of a recording's frames, in time order: train, then validation, then test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SplitFractions {
    pub validation: f32,
    pub test: f32,
}

impl Default for SplitFractions {
    fn default() -> Self {
        Self { validation: 0.15, test: 0.15 }
    }
}

/// Frame ranges of a chronological split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChronologicalSplit {
    pub train: Range<usize>,
    pub validation: Range<usize>,
    pub test: Range<usize>,
}

/// Splits `frames` in time order; validation and test take the given fractions from the end.
pub fn chronological_split(frames: usize, fractions: SplitFractions) -> ChronologicalSplit {
    let part = |f: f32| ((frames as f32 * f.clamp(0.0, 0.5)).round() as usize).min(frames);
    let test = part(fractions.test);
    let validation = part(fractions.validation).min(frames - test);
    let train_end = frames - test - validation;
    ChronologicalSplit { train: 0..train_end, validation: train_end..train_end + validation, test: train_end + validation..frames }
}

/// Mean and standard deviation of each column of row-major `rows × columns` data over `rows`
/// (sd 1 for a constant column, so it maps to zeros rather than NaN). The one place per-neuron
/// statistics are computed (z-scoring, the change feature, display).
pub fn column_stats(values: &[f32], columns: usize, rows: Range<usize>) -> (Vec<f32>, Vec<f32>) {
    column_stats_of(columns, rows, |k| values[k])
}

/// [`column_stats`] of values computed on the fly: `value(t * columns + i)` (nothing is
/// materialised, so a derived feature of a big recording costs no copy).
pub fn column_stats_of(columns: usize, rows: Range<usize>, value: impl Fn(usize) -> f32) -> (Vec<f32>, Vec<f32>) {
    let count = rows.len().max(1) as f64;
    let mut sum = vec![0f64; columns];
    let mut sq = vec![0f64; columns];
    for t in rows {
        for i in 0..columns {
            let v = f64::from(value(t * columns + i));
            sum[i] += v;
            sq[i] += v * v;
        }
    }
    let mean: Vec<f64> = sum.iter().map(|s| s / count).collect();
    // a spread under f32's resolution of the mean is rounding noise: the column is constant
    let sd = sq.iter().zip(&mean).map(|(s, m)| ((s / count - m * m).max(0.0).sqrt(), m)).map(|(s, m)| if s > 1e-6f64.max(1e-5 * m.abs()) { s as f32 } else { 1.0 }).collect();
    (mean.into_iter().map(|m| m as f32).collect(), sd)
}

/// Per-neuron mean and standard deviation, fitted on training frames only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    pub mean: Vec<f32>,
    pub sd: Vec<f32>,
}

impl Standardizer {
    /// Fits on `frames` of `rec`. A constant neuron gets sd 1 so it maps to zeros, not NaN.
    pub fn fit(rec: &Recording, frames: Range<usize>) -> Self {
        let (mean, sd) = column_stats(&rec.traces, rec.neurons, frames);
        Self { mean, sd }
    }

    /// The whole recording z-scored with these statistics.
    pub fn apply(&self, rec: &Recording) -> Vec<f32> {
        let n = rec.neurons;
        rec.traces.iter().enumerate().map(|(k, &v)| (v - self.mean[k % n]) / self.sd[k % n]).collect()
    }
}

/// A recording prepared for next-step prediction (the demo): its windows, cut by the same
/// [`Series`] and [`Windows`] as the experiments' (every neuron recorded, one feature).
#[derive(Debug, Clone, PartialEq)]
pub struct NextStepData {
    pub neuron_names: Vec<String>,
    pub split: ChronologicalSplit,
    pub train: Windows,
    pub validation: Windows,
    pub test: Windows,
}

impl NextStepData {
    /// Validates `rec`, splits it in time, z-scores with training statistics and cuts windows.
    pub fn prepare(rec: &Recording, history: usize, fractions: SplitFractions) -> Result<Self, DataError> {
        rec.validate()?;
        let split = chronological_split(rec.frames, fractions);
        let needed = history + 2;
        for (what, range) in [("training", &split.train), ("validation", &split.validation)] {
            if range.len() < needed {
                return Err(DataError::TooShort {
                    what: format!("the {what} part of '{}' (history {history})", rec.name),
                    needed,
                    have: range.len(),
                });
            }
        }
        // every column of the one animal, in order
        let mut aligned = align(std::slice::from_ref(rec), NeuronSet::AllColumns)?;
        let animal = aligned.animals.remove(0);
        let series = std::sync::Arc::new(Series::prepare::<&str, &[&str], &str>(&animal, split.train.clone(), false, None)?);
        let set = |r: &Range<usize>| {
            let mut w = Windows::new(history, rec.neurons, 1);
            w.add(&series, r.clone(), Target::NextFrame, 0);
            w
        };
        Ok(Self {
            neuron_names: aligned.neurons,
            train: set(&split.train),
            validation: set(&split.validation),
            test: set(&split.test),
            split,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::synthetic::SyntheticConfig;

    #[test]
    fn split_is_chronological_and_complete() {
        let s = chronological_split(100, SplitFractions { validation: 0.2, test: 0.1 });
        assert_eq!(s, ChronologicalSplit { train: 0..70, validation: 70..90, test: 90..100 });
    }

    #[test]
    fn windows_never_cross_a_split_boundary() {
        // one neuron whose value is its frame number makes every window readable
        let rec = Recording { neurons: 1, frames: 40, traces: (0..40).map(|t| t as f32).collect(), neuron_names: vec![None], labels: None, ..crate::data::tests::tiny() };
        let data = NextStepData::prepare(&rec, 3, SplitFractions { validation: 0.25, test: 0.25 }).unwrap();
        assert_eq!(data.split, ChronologicalSplit { train: 0..20, validation: 20..30, test: 30..40 });
        // z-scored with the training frames 0..20: frame t is (t - 9.5) / sd
        let sd = ((0..20).map(|t| (t as f32 - 9.5).powi(2)).sum::<f32>() / 20.0).sqrt();
        let frame = |z: f32| (z * sd + 9.5).round();
        let v = data.validation.batch(&(0..data.validation.len()).collect::<Vec<_>>());
        assert_eq!(v.len(), 7); // last frames 22..=28, targets 23..=29
        assert_eq!(v.inputs[..3].iter().map(|&z| frame(z)).collect::<Vec<_>>(), vec![20.0, 21.0, 22.0]);
        assert_eq!(v.next.iter().map(|&z| frame(z)).collect::<Vec<_>>(), (23..30).map(|t| t as f32).collect::<Vec<_>>());
        assert_eq!(v.last.iter().map(|&z| frame(z)).collect::<Vec<_>>(), (22..29).map(|t| t as f32).collect::<Vec<_>>());
    }

    #[test]
    fn zscore_uses_training_frames_only() {
        let rec = SyntheticConfig { frames: 400, ..Default::default() }.generate().recordings.remove(0);
        let data = NextStepData::prepare(&rec, 4, SplitFractions::default()).unwrap();
        let n = rec.neurons;
        let train_frames = data.split.train.len();
        let z = Standardizer::fit(&rec, data.split.train.clone()).apply(&rec);
        for i in 0..n {
            let col: Vec<f32> = (0..train_frames).map(|t| z[t * n + i]).collect();
            let mean = col.iter().sum::<f32>() / train_frames as f32;
            let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / train_frames as f32;
            assert!(mean.abs() < 1e-4 && (var - 1.0).abs() < 1e-3, "neuron {i}: mean {mean}, var {var}");
        }
        assert_eq!(data.train.len(), train_frames - 4);
    }

    #[test]
    fn too_short_recordings_are_refused_with_a_reason() {
        let rec = SyntheticConfig { frames: 20, ..Default::default() }.generate().recordings.remove(0);
        let err = NextStepData::prepare(&rec, 8, SplitFractions::default()).unwrap_err();
        assert!(err.to_string().contains("validation part"), "{err}");
    }
}
