//! From aligned animals to training windows for the two tasks.
//!
//! A [`Series`] is one animal ready for a model: activity z-scored per neuron with statistics
//! from the frames the caller names as training frames, optionally a second feature (the
//! frame-to-frame change, causal), the neurons it has, and a class per frame. [`Windows`] are cut
//! from a frame range of a series: the last `history` frames of every neuron, with the next
//! frame (next-step prediction) or the class of the last frame (behaviour). Plain `Vec<f32>`.

use std::ops::Range;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::preprocess::AlignedAnimal;
use super::windows::{column_stats, column_stats_of};
use super::{DataError, Labels, labels};

/// Which task the windows are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    /// The next frame of every neuron.
    NextFrame,
    /// The class of the window's last frame (frames without a class are skipped).
    Class,
}

/// One animal prepared for a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub name: String,
    pub frames: usize,
    pub nodes: usize,
    /// 1 (activity) or 2 (activity and its change since the previous frame).
    pub features: usize,
    /// `values[(t * nodes + i) * features + f]`.
    pub values: Vec<f32>,
    pub present: Vec<bool>,
    /// Class per frame after merging states (`None`: unlabelled or left out).
    pub classes: Vec<Option<u16>>,
    /// Per neuron, what the change feature was divided by (to build it for predicted frames).
    pub change_sd: Vec<f32>,
}

impl Series {
    /// z-scores `animal` per neuron with statistics over `fit_frames` (missing neurons stay 0),
    /// adds the change feature if asked, and merges its states into `merges` classes.
    pub fn prepare<T: AsRef<str>, V: AsRef<[S]>, S: AsRef<str>>(
        animal: &AlignedAnimal,
        fit_frames: Range<usize>,
        change: bool,
        merges: Option<&[(T, V)]>,
    ) -> Result<Self, DataError> {
        let n = animal.present.len();
        let frames = animal.frames;
        if fit_frames.len() < 2 || fit_frames.end > frames {
            return Err(DataError::TooShort { what: format!("z-scoring '{}'", animal.name), needed: 2, have: fit_frames.len() });
        }
        let (mean, sd) = column_stats(&animal.traces, n, fit_frames.clone());
        // built in one pass, without intermediate copies (a big recording is held once more here)
        let z = |k: usize| if animal.present[k % n] { (animal.traces[k] - mean[k % n]) / sd[k % n] } else { 0.0 };
        let features = if change { 2 } else { 1 };
        let mut change_sd = vec![1.0; n];
        let values: Vec<f32> = if change {
            // the change is scaled by its own training spread, like the activity
            let diff = |k: usize| if k < n { 0.0 } else { z(k) - z(k - n) };
            let (_, dsd) = column_stats_of(n, fit_frames.start.max(1)..fit_frames.end, diff);
            let dsd: Vec<f32> = dsd.into_iter().map(|s| if s < CHANGE_SD_FLOOR { 1.0 } else { s }).collect();
            change_sd.clone_from(&dsd);
            (0..animal.traces.len()).flat_map(|k| [z(k), diff(k) / dsd[k % n]]).collect()
        } else {
            (0..animal.traces.len()).map(z).collect()
        };
        let classes = match (&animal.labels, merges) {
            (Some(l), Some(m)) => labels::merge_states(l, m).per_frame,
            (Some(l), None) => l.per_frame.clone(),
            (None, _) => vec![None; frames],
        };
        Ok(Self { name: animal.name.clone(), frames, nodes: n, features, values, present: animal.present.clone(), classes, change_sd })
    }

    /// Class names after merging (for reports).
    pub fn class_names<T: AsRef<str>, V: AsRef<[S]>, S: AsRef<str>>(labels: &Labels, merges: Option<&[(T, V)]>) -> Vec<String> {
        match merges {
            Some(m) => labels::merge_states(labels, m).names,
            None => labels.names.clone(),
        }
    }

    /// The activity (feature 0) of neuron `i` at frame `t`.
    pub fn activity(&self, t: usize, i: usize) -> f32 {
        self.values[(t * self.nodes + i) * self.features]
    }
}

/// Windows for one task, from one or several animals.
///
/// A window is not stored: windows hold the series they were cut from (shared, not copied: the
/// training, validation and test windows of a fold, and every fold, hold the same series) and
/// each window is the series and frame it ends on. Inputs, masks and targets are read when a
/// batch is made ([`Windows::batch`]), so memory grows with frames × neurons, not × history
/// (1,000 neurons × 100,000 frames at history 8: 0.4 GB of activity instead of 3.2 GB of windows).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Windows {
    pub history: usize,
    pub nodes: usize,
    pub features: usize,
    /// The series windows are cut from, in the order they were first added.
    series: Vec<Arc<Series>>,
    /// `[len]`: the series (index into `series`) and frame each window ends on.
    ends: Vec<(usize, usize)>,
    /// Whether windows carry the frame after them (next-step windows do).
    has_next: bool,
    /// `[len]`: class of the window's last frame (behaviour target).
    pub classes: Vec<u16>,
    /// `[len]`: which series (in the order they were added) each window came from.
    pub source: Vec<u16>,
    /// `[len]`: the window one frame later in the same series (whose last frame is this
    /// window's target), or -1; multi-step training follows these chains.
    pub successor: Vec<i32>,
}

/// Some windows read out for a model: plain row-major arrays.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Batch {
    /// `[len, history, nodes, features]`.
    pub inputs: Vec<f32>,
    /// `[len, nodes]`: 1 where the animal has the neuron.
    pub mask: Vec<f32>,
    /// `[len, nodes]`: activity at the window's last frame (the persistence prediction).
    pub last: Vec<f32>,
    /// `[len, nodes]`: activity at the frame after the window (empty for behaviour windows).
    pub next: Vec<f32>,
    /// `[len]`.
    pub classes: Vec<u16>,
    /// `[len]`.
    pub source: Vec<u16>,
}

impl Batch {
    pub fn len(&self) -> usize {
        self.source.len()
    }

    pub fn is_empty(&self) -> bool {
        self.source.is_empty()
    }
}

impl Windows {
    pub fn new(history: usize, nodes: usize, features: usize) -> Self {
        Self { history: history.max(1), nodes, features, ..Self::default() }
    }

    pub fn len(&self) -> usize {
        self.source.len()
    }

    pub fn is_empty(&self) -> bool {
        self.source.is_empty()
    }

    /// Adds every window of `series` whose frames (and target) lie in `frames`. The series is
    /// shared, not copied.
    pub fn add(&mut self, series: &Arc<Series>, frames: Range<usize>, target: Target, source: u16) {
        assert_eq!((series.nodes, series.features), (self.nodes, self.features), "series must match the windows' shape");
        let h = self.history;
        let end = frames.end.min(series.frames);
        let last_target = if target == Target::NextFrame { end.saturating_sub(1) } else { end };
        self.has_next |= target == Target::NextFrame;
        let first = frames.start + h - 1;
        if first >= last_target {
            return;
        }
        let part = match self.series.iter().position(|s| Arc::ptr_eq(s, series)) {
            Some(p) => p,
            None => {
                self.series.push(Arc::clone(series));
                self.series.len() - 1
            }
        };
        let mut previous: Option<(usize, usize)> = None; // (last frame, index) of the window added before
        for t in first..last_target {
            let class = series.classes[t];
            if target == Target::Class && class.is_none() {
                continue;
            }
            let index = self.source.len();
            if let Some((_, pi)) = previous.filter(|&(pt, _)| pt + 1 == t) {
                self.successor[pi] = i32::try_from(index).unwrap_or(-1);
            }
            previous = Some((t, index));
            self.successor.push(-1);
            self.ends.push((part, t));
            self.classes.push(class.unwrap_or(0));
            self.source.push(source);
        }
    }

    /// The frames `rows` of window `k`'s series, every feature: `[rows, nodes, features]`.
    fn frames(&self, k: usize, rows: Range<usize>) -> &[f32] {
        let (part, _) = self.ends[k];
        let frame = self.nodes * self.features;
        &self.series[part].values[rows.start * frame..rows.end * frame]
    }

    /// The inputs of window `k`, `[history, nodes, features]`.
    pub fn input(&self, k: usize) -> &[f32] {
        let t = self.ends[k].1;
        self.frames(k, t + 1 - self.history..t + 1)
    }

    /// Every feature of window `k`'s last frame, `[nodes, features]`.
    pub fn last_frame(&self, k: usize) -> &[f32] {
        let t = self.ends[k].1;
        self.frames(k, t..t + 1)
    }

    /// The activity at window `k`'s last frame, `[nodes]`.
    pub fn last(&self, k: usize) -> impl Iterator<Item = f32> + '_ {
        self.last_frame(k).iter().step_by(self.features.max(1)).copied()
    }

    /// The activity at the frame after window `k`, `[nodes]` (next-step windows only).
    pub fn next(&self, k: usize) -> impl Iterator<Item = f32> + '_ {
        assert!(self.has_next, "behaviour windows carry no next frame");
        let t = self.ends[k].1;
        self.frames(k, t + 1..t + 2).iter().step_by(self.features.max(1)).copied()
    }

    /// 1 where window `k`'s animal has the neuron, `[nodes]`.
    pub fn mask(&self, k: usize) -> impl Iterator<Item = f32> + '_ {
        self.series[self.ends[k].0].present.iter().map(|&p| if p { 1.0 } else { 0.0 })
    }

    /// What window `k`'s change feature was divided by, `[nodes]`.
    pub fn change_sd(&self, k: usize) -> &[f32] {
        &self.series[self.ends[k].0].change_sd
    }

    /// Windows `idx` read out.
    pub fn batch(&self, idx: &[usize]) -> Batch {
        self.read_out(idx.iter().copied(), idx.len(), true)
    }

    /// Every window's mask, last and next frame, class and source, without the inputs (what
    /// scoring needs: `[len, nodes]` arrays, no history).
    pub fn targets(&self) -> Batch {
        self.read_out(0..self.len(), self.len(), false)
    }

    fn read_out(&self, idx: impl Iterator<Item = usize>, len: usize, inputs: bool) -> Batch {
        let n = self.nodes;
        let mut b = Batch {
            inputs: Vec::with_capacity(if inputs { len * self.history * n * self.features } else { 0 }),
            mask: Vec::with_capacity(len * n),
            last: Vec::with_capacity(len * n),
            next: Vec::with_capacity(if self.has_next { len * n } else { 0 }),
            classes: Vec::with_capacity(len),
            source: Vec::with_capacity(len),
        };
        for k in idx {
            if inputs {
                b.inputs.extend_from_slice(self.input(k));
            }
            b.mask.extend(self.mask(k));
            b.last.extend(self.last(k));
            if self.has_next {
                b.next.extend(self.next(k));
            }
            b.classes.push(self.classes[k]);
            b.source.push(self.source[k]);
        }
        b
    }

    /// Windows per class (for balancing and reports).
    pub fn class_counts(&self, classes: usize) -> Vec<usize> {
        let mut c = vec![0; classes];
        for &k in &self.classes {
            if let Some(slot) = c.get_mut(usize::from(k)) {
                *slot += 1;
            }
        }
        c
    }
}

/// The smallest spread of a neuron's frame-to-frame change (in units of its activity's sd)
/// that the change feature is divided by. A neuron that barely changes between frames (a ramp,
/// a plateau) has its change left unscaled instead: dividing by a near-zero spread blew float
/// noise up to thousands (seen: one fold's next-step MSE 38.6). Real traces change by 0.1–0.5
/// sd per frame.
pub const CHANGE_SD_FLOOR: f32 = 0.01;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::preprocess::{NeuronSet, align};
    use crate::data::tests::tiny;

    fn ramp() -> AlignedAnimal {
        // 2 neurons, 10 frames: neuron 0 = t, neuron 1 = 2t; labels alternate
        let mut rec = tiny();
        rec.frames = 10;
        rec.traces = (0..10).flat_map(|t| [t as f32, 2.0 * t as f32]).collect();
        rec.neuron_names = vec![Some("AVAL".into()), Some("AVAR".into())];
        rec.labels = Some(Labels { names: vec!["FWD".into(), "REV".into()], per_frame: (0..10).map(|t| (t % 3 != 2).then_some((t % 2) as u16)).collect() });
        align(&[rec], NeuronSet::Shared).unwrap().animals.remove(0)
    }

    #[test]
    fn a_near_constant_change_is_left_unscaled() {
        // a ramp with float-noise jitter: its change has a spread just above zero
        let mut animal = ramp();
        for t in 0..10 {
            animal.traces[t * 2] = t as f32 * 0.1 + (t % 2) as f32 * 3e-5;
        }
        let s = Series::prepare::<&str, &[&str], &str>(&animal, 0..10, true, None).unwrap();
        let largest = s.values.iter().skip(1).step_by(2).fold(0f32, |m, v| m.max(v.abs()));
        assert!(largest < 10.0, "the change feature exploded to {largest}");
        assert_eq!(s.change_sd[0], 1.0);
    }

    #[test]
    fn windows_hold_the_past_and_the_target() {
        let s = Arc::new(Series::prepare::<&str, &[&str], &str>(&ramp(), 0..10, true, None).unwrap());
        assert_eq!(s.features, 2);
        let mut w = Windows::new(3, 2, 2);
        w.add(&s, 0..10, Target::NextFrame, 0);
        assert_eq!(w.len(), 7); // last frames 2..=8, targets 3..=9
        // the series is held, not copied
        assert_eq!(Arc::strong_count(&s), 2);
        let b = w.batch(&(0..7).collect::<Vec<_>>());
        assert_eq!(b.inputs.len(), 7 * 3 * 2 * 2);
        // window 0 holds frames 0, 1, 2
        assert_eq!(&b.inputs[..4], &s.values[..4]);
        assert_eq!(&b.inputs[8..12], &s.values[8..12]);
        // the target of a window is the frame after its last frame
        assert_eq!(b.next[0], s.activity(3, 0));
        assert_eq!(b.last[0], s.activity(2, 0));
        assert_eq!(b.last[13], s.activity(8, 1));
        assert_eq!(b.next[13], s.activity(9, 1));
        // each window's successor ends on its target frame; the last has none
        assert_eq!(w.successor, vec![1, 2, 3, 4, 5, 6, -1]);
        assert_eq!(b.last[w.successor[0] as usize * 2], b.next[0]);
        assert_eq!(w.change_sd(6), s.change_sd.as_slice());
        // two ranges of one series share it, and windows never cross from one range to the other
        let mut parts = Windows::new(3, 2, 2);
        parts.add(&s, 0..5, Target::NextFrame, 0);
        parts.add(&s, 5..10, Target::NextFrame, 1);
        // held once more (by `parts`), not once per range
        assert_eq!(Arc::strong_count(&s), 3);
        assert_eq!(parts.len(), 4); // last frames 2, 3 and 7, 8
        let p = parts.batch(&[0, 1, 2, 3]);
        assert_eq!(p.last, [2usize, 3, 7, 8].iter().flat_map(|&t| [s.activity(t, 0), s.activity(t, 1)]).collect::<Vec<_>>());
        assert_eq!(p.source, vec![0, 0, 1, 1]);
        assert_eq!(parts.successor, vec![1, -1, 3, -1]);
        // the change feature of a ramp is constant after the first frame
        assert!((s.values[(2 * 2) * 2 + 1] - s.values[(5 * 2) * 2 + 1]).abs() < 1e-6);

        let mut c = Windows::new(3, 2, 2);
        c.add(&s, 0..10, Target::Class, 0);
        // last frames 2..=9 minus the unlabelled ones (t % 3 == 2: 2, 5, 8)
        assert_eq!(c.len(), 5);
        assert_eq!(c.class_counts(2), vec![2, 3]);
        // labelled last frames 3, 4, 6, 7, 9: only 3→4 and 6→7 are one frame apart
        assert_eq!(c.successor, vec![1, -1, 3, -1, -1]);
    }

    #[test]
    fn merges_apply_before_windows() {
        let merge: &[(&str, &[&str])] = &[("MOVING", &["FWD", "REV"])];
        let s = Series::prepare(&ramp(), 0..10, false, Some(merge)).unwrap();
        assert!(s.classes.iter().flatten().all(|&c| c == 0));
    }
}
