//! From a recording to training examples for next-step prediction.
//!
//! Owns chronological splits (no window crosses a split boundary), per-neuron z-scoring fitted
//! on training frames only, and history windows. Plain `Vec<f32>` in, plain `Vec<f32>` out.

use std::ops::Range;

use serde::{Deserialize, Serialize};

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
    let count = rows.len().max(1) as f64;
    let mut sum = vec![0f64; columns];
    let mut sq = vec![0f64; columns];
    for t in rows {
        for (i, &v) in values[t * columns..(t + 1) * columns].iter().enumerate() {
            sum[i] += f64::from(v);
            sq[i] += f64::from(v) * f64::from(v);
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

/// Windows for next-step prediction: `inputs` is `[len, history, neurons]`, `targets` is
/// `[len, neurons]` (the frame after each window).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct NextStepSet {
    pub history: usize,
    pub neurons: usize,
    pub inputs: Vec<f32>,
    pub targets: Vec<f32>,
}

impl NextStepSet {
    /// Every window whose frames and target lie inside `frames` of the z-scored `traces`.
    pub fn from_frames(traces: &[f32], neurons: usize, frames: Range<usize>, history: usize) -> Self {
        let history = history.max(1);
        let mut set = Self { history, neurons, ..Default::default() };
        if frames.len() <= history {
            return set;
        }
        for t in frames.start + history - 1..frames.end - 1 {
            set.inputs.extend_from_slice(&traces[(t + 1 - history) * neurons..(t + 1) * neurons]);
            set.targets.extend_from_slice(&traces[(t + 1) * neurons..(t + 2) * neurons]);
        }
        set
    }

    pub fn len(&self) -> usize {
        self.targets.len() / self.neurons.max(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The last frame of every window, `[len, neurons]`: the persistence prediction.
    pub fn last_frames(&self) -> Vec<f32> {
        let frame = self.history * self.neurons;
        self.inputs.chunks_exact(frame).flat_map(|w| &w[frame - self.neurons..]).copied().collect()
    }
}

/// A recording prepared for next-step prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NextStepData {
    pub neuron_names: Vec<String>,
    pub split: ChronologicalSplit,
    pub standardizer: Standardizer,
    pub train: NextStepSet,
    pub validation: NextStepSet,
    pub test: NextStepSet,
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
        let standardizer = Standardizer::fit(rec, split.train.clone());
        let z = standardizer.apply(rec);
        let set = |r: &Range<usize>| NextStepSet::from_frames(&z, rec.neurons, r.clone(), history);
        Ok(Self {
            neuron_names: (0..rec.neurons).map(|i| rec.neuron_label(i)).collect(),
            train: set(&split.train),
            validation: set(&split.validation),
            test: set(&split.test),
            split,
            standardizer,
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
        let traces: Vec<f32> = (0..20).map(|t| t as f32).collect();
        let set = NextStepSet::from_frames(&traces, 1, 5..12, 3);
        assert_eq!(set.len(), 4);
        assert_eq!(&set.inputs[..3], &[5.0, 6.0, 7.0]);
        assert_eq!(set.targets, vec![8.0, 9.0, 10.0, 11.0]);
        assert_eq!(set.last_frames(), vec![7.0, 8.0, 9.0, 10.0]);
    }

    #[test]
    fn zscore_uses_training_frames_only() {
        let rec = SyntheticConfig { frames: 400, ..Default::default() }.generate().recordings.remove(0);
        let data = NextStepData::prepare(&rec, 4, SplitFractions::default()).unwrap();
        let n = rec.neurons;
        let train_frames = data.split.train.len();
        let z = data.standardizer.apply(&rec);
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
