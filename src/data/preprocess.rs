//! Preprocessing before windows are cut: resampling to a common frame rate, the time
//! derivative, and aligning several animals onto one list of neurons (shared identified
//! neurons only, or their union with a mask for the neurons an animal lacks).
//! z-scoring is fitted on training frames only and lives with the splits in [`super::windows`].

use serde::{Deserialize, Serialize};

use super::{DataError, Labels, Recording, names};

/// `rec` linearly interpolated to `fps`; each new frame takes the label of the nearest old one.
pub fn resample(rec: &Recording, fps: f32) -> Result<Recording, DataError> {
    if !(fps.is_finite() && fps > 0.0) {
        return Err(DataError::FrameRate { recording: rec.name.clone(), fps });
    }
    if rec.frames < super::MIN_FRAMES {
        return Err(DataError::TooFewFrames { recording: rec.name.clone(), frames: rec.frames });
    }
    if (fps - rec.fps).abs() < 1e-6 {
        return Ok(rec.clone());
    }
    let n = rec.neurons;
    let frames = ((rec.frames as f64 - 1.0) * f64::from(fps) / f64::from(rec.fps)).floor() + 1.0;
    // no more values than a drop of files may hold (an absurd rate would ask for billions)
    if frames * n as f64 > super::MAX_VALUES as f64 {
        return Err(DataError::Alignment(format!(
            "resampling '{}' from {} Hz to {fps} Hz would make {frames} frames × {n} neurons, more than the {} values a recording may hold",
            rec.name,
            rec.fps,
            super::MAX_VALUES
        )));
    }
    let frames = frames as usize;
    let mut traces = Vec::with_capacity(frames * n);
    for k in 0..frames {
        let x = k as f64 * f64::from(rec.fps) / f64::from(fps);
        let t0 = (x.floor() as usize).min(rec.frames - 1);
        let t1 = (t0 + 1).min(rec.frames - 1);
        let w = (x - t0 as f64) as f32;
        traces.extend((0..n).map(|i| rec.traces[t0 * n + i] * (1.0 - w) + rec.traces[t1 * n + i] * w));
    }
    let labels = rec.labels.as_ref().map(|l| Labels {
        names: l.names.clone(),
        per_frame: (0..frames)
            .map(|k| l.per_frame[((k as f64 * f64::from(rec.fps) / f64::from(fps)).round() as usize).min(rec.frames - 1)])
            .collect(),
    });
    Ok(Recording {
        source: format!("{} (resampled {:.3} → {fps:.3} Hz)", rec.source, rec.fps),
        frames,
        traces,
        fps,
        labels,
        ..rec.clone()
    })
}

/// Causal time derivative per neuron (units per second): `(x[t] - x[t-1]) * fps`, and 0 at
/// the first frame. Backward differences only, so a window never sees the frame it predicts.
/// `traces` is frames × neurons.
pub fn derivative(traces: &[f32], neurons: usize, fps: f32) -> Vec<f32> {
    let mut out = vec![0f32; traces.len()];
    for k in neurons..traces.len() {
        out[k] = (traces[k] - traces[k - neurons]) * fps;
    }
    out
}

/// Which neurons several animals are put on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NeuronSet {
    /// Identified neurons every animal has (22 for the five Kato worms).
    #[default]
    Shared,
    /// Identified neurons any animal has; missing ones are zeros with `present = false`.
    UnionMasked,
    /// Every column of a single animal, identified or not (within-animal experiments).
    AllColumns,
}

/// One animal on the common neuron list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlignedAnimal {
    pub name: String,
    pub frames: usize,
    pub fps: f32,
    /// frames × neurons of the common list; zeros where `present` is false.
    pub traces: Vec<f32>,
    pub present: Vec<bool>,
    pub labels: Option<Labels>,
}

/// Several animals on one list of neurons.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Aligned {
    pub neurons: Vec<String>,
    pub animals: Vec<AlignedAnimal>,
}

/// Puts `recordings` on one neuron list.
pub fn align(recordings: &[Recording], set: NeuronSet) -> Result<Aligned, DataError> {
    let neurons = match set {
        NeuronSet::Shared => names::shared_identified(recordings),
        NeuronSet::UnionMasked => names::union_identified(recordings),
        NeuronSet::AllColumns => match recordings {
            [one] => (0..one.neurons).map(|i| one.neuron_label(i)).collect(),
            _ => return Err(DataError::Alignment("every column can be used with one animal only; pick shared or union neurons".into())),
        },
    };
    if neurons.is_empty() {
        return Err(DataError::Alignment(format!(
            "the {} animals share no identified neuron; name the neurons (or use one animal with all its columns)",
            recordings.len()
        )));
    }
    Ok(align_columns(recordings, neurons, set == NeuronSet::AllColumns))
}

/// Puts `recordings` on a given list of neurons (a saved model's), by name; neurons a recording
/// lacks are zeros with `present = false`.
pub fn align_to(recordings: &[Recording], neurons: &[String]) -> Aligned {
    align_columns(recordings, neurons.to_vec(), false)
}

/// `every_column`: take each recording's columns in order instead of matching names.
fn align_columns(recordings: &[Recording], neurons: Vec<String>, every_column: bool) -> Aligned {
    let animals = recordings
        .iter()
        .map(|rec| {
            let columns: Vec<Option<usize>> = if every_column { (0..rec.neurons).map(Some).collect() } else { names::columns_for(rec, &neurons) };
            let n = rec.neurons;
            let traces = (0..rec.frames).flat_map(|t| columns.iter().map(move |c| c.map_or(0.0, |c| rec.traces[t * n + c]))).collect();
            AlignedAnimal {
                name: rec.name.clone(),
                frames: rec.frames,
                fps: rec.fps,
                traces,
                present: columns.iter().map(Option::is_some).collect(),
                labels: rec.labels.clone(),
            }
        })
        .collect();
    Aligned { neurons, animals }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::tests::tiny;

    #[test]
    fn resampling_interpolates_and_keeps_labels() {
        let rec = tiny(); // 3 frames at 2 Hz: neuron 0 is 0, 2, 4
        let up = resample(&rec, 4.0).unwrap();
        assert_eq!(up.frames, 5);
        assert_eq!(up.trace(0).collect::<Vec<_>>(), vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!(up.validate(), Ok(()));
        let l = up.labels.unwrap().per_frame;
        assert_eq!((l[0], l[4]), (Some(0), Some(1)));
        assert!(resample(&rec, 0.0).is_err());
    }

    #[test]
    fn derivative_is_causal_and_per_second() {
        let d = derivative(&[0.0, 10.0, 2.0, 20.0, 4.0, 35.0], 2, 2.0);
        assert_eq!(d, vec![0.0, 0.0, 4.0, 20.0, 4.0, 30.0]);
    }

    #[test]
    fn union_alignment_masks_missing_neurons() {
        let a = tiny(); // AVAL + unidentified
        let mut b = tiny();
        b.neuron_names = vec![Some("RIML".into()), Some("AVAL".into())];
        let shared = align(&[a.clone(), b.clone()], NeuronSet::Shared).unwrap();
        assert_eq!(shared.neurons, ["AVAL"]);
        assert_eq!(shared.animals[1].traces, vec![1.0, 3.0, 5.0]);
        let union = align(&[a.clone(), b], NeuronSet::UnionMasked).unwrap();
        assert_eq!(union.neurons, ["AVAL", "RIML"]);
        assert_eq!(union.animals[0].present, [true, false]);
        assert_eq!(union.animals[0].traces, vec![0.0, 0.0, 2.0, 0.0, 4.0, 0.0]);
        assert!(align(&[a.clone(), a], NeuronSet::AllColumns).is_err());
    }
}
