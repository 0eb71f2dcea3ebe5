//! Recordings and everything that turns them into training examples.
//!
//! Owns: the [`Recording`] type (activity traces, neuron identities, frame rate, behaviour
//! labels), the file [`formats`] users bring, neuron [`names`], behaviour [`labels`] schemes,
//! the built-in [`synthetic`] worm, and [`windows`] (z-scoring, chronological splits, history
//! windows). Holds no tensors and knows nothing of models or the UI.

pub mod connectome;
pub mod events;
pub mod formats;
pub mod graph;
pub mod labels;
pub mod names;
pub mod positions;
pub mod preprocess;
pub mod reference;
pub mod synthetic;
pub mod task;
pub mod windows;

use serde::{Deserialize, Serialize};

/// Errors in recorded data: each message says what is wrong and where.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DataError {
    #[error("recording '{recording}' has {values} trace values, expected {frames} frames × {neurons} neurons = {}", frames * neurons)]
    ShapeMismatch { recording: String, values: usize, frames: usize, neurons: usize },
    #[error("recording '{recording}' has no neurons")]
    NoNeurons { recording: String },
    #[error("recording '{recording}' has {frames} frames; at least {MIN_FRAMES} are needed to predict anything (a window of history, its next frame, and one more to test)")]
    TooFewFrames { recording: String, frames: usize },
    #[error("recording '{recording}' names {states} behavioural states; at most {} are supported", formats::budget::MAX_STATES)]
    TooManyStates { recording: String, states: usize },
    #[error("recording '{recording}' has {names} neuron names for {neurons} trace columns")]
    NameCount { recording: String, names: usize, neurons: usize },
    #[error("recording '{recording}': neuron {neuron} has a non-finite value ({value}) at frame {frame}")]
    NonFinite { recording: String, neuron: String, frame: usize, value: f32 },
    #[error("recording '{recording}' has {labels} behaviour labels for {frames} frames")]
    LabelCount { recording: String, labels: usize, frames: usize },
    #[error("recording '{recording}': frame {frame} has label index {index}, but only {states} states are named")]
    LabelIndex { recording: String, frame: usize, index: u16, states: usize },
    #[error("recording '{recording}': frame rate {fps} Hz is not a positive number")]
    FrameRate { recording: String, fps: f32 },
    #[error("recording '{recording}': neuron name '{name}' is used by columns {first} and {second}")]
    DuplicateName { recording: String, name: String, first: usize, second: usize },
    #[error("{0}")]
    Alignment(String),
    #[error("{what}: need at least {needed} frames, have {have}")]
    TooShort { what: String, needed: usize, have: usize },
}

/// Fewest frames a recording may have: one frame of history, the frame it predicts, and one
/// more (experiments then ask for `history + 2`, naming the recording).
pub const MIN_FRAMES: usize = 3;

/// Most activity values (animals × neurons × frames) one experiment holds. In the page, what a
/// drop of files may hold ([`formats::budget::DROP`], 2^26: 256 MiB as f32, and the tab holds a
/// few copies); natively four times that (2^28, 1 GiB as f32: 1,000 neurons × 268,000 frames),
/// where the memory is the machine's and a run keeps about three copies of the traces.
pub const MAX_VALUES: u64 = if cfg!(target_arch = "wasm32") { formats::budget::DROP.values } else { formats::budget::DROP.values * 4 };

/// Row-major `rows × cols` data read as row-major `cols × rows`: the transpose. Shared by
/// every reader that meets column-major data (MATLAB, Fortran-ordered NPY), the orientation
/// rule for traces, and graphs stored receiver-first.
pub fn transposed<T: Clone>(data: &[T], rows: usize, cols: usize) -> impl Iterator<Item = T> + '_ {
    (0..rows * cols).map(move |k| data[(k % rows) * cols + k / rows].clone())
}

/// Per-frame behavioural states: `per_frame[t]` indexes `names`, `None` marks an unlabelled frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Labels {
    pub names: Vec<String>,
    pub per_frame: Vec<Option<u16>>,
}

/// One animal's recording: `traces` is frames × neurons, row-major (frame-major).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recording {
    /// Short name shown to the user, e.g. "worm 1" or "synthetic animal 2".
    pub name: String,
    /// Where it came from: a file name, "synthetic (seed 7)", a URL.
    pub source: String,
    pub frames: usize,
    pub neurons: usize,
    /// Activity, `traces[t * neurons + i]` is neuron `i` at frame `t`.
    pub traces: Vec<f32>,
    /// Identity of each column: a neuron name such as "AVAL", or `None` when unidentified.
    pub neuron_names: Vec<Option<String>>,
    /// Frames per second.
    pub fps: f32,
    pub labels: Option<Labels>,
}

impl Recording {
    /// Takes a name that more than one column carries off every one of them: those columns
    /// load as unidentified neurons instead of the recording being refused. Says so in the
    /// recording's source ("AVAL appears in columns 1 and 2: both kept as unidentified") and
    /// returns what it said, one line per name.
    pub fn unname_duplicates(&mut self) -> Vec<String> {
        let mut columns: std::collections::BTreeMap<String, Vec<usize>> = std::collections::BTreeMap::new();
        for (c, name) in self.neuron_names.iter().enumerate() {
            if let Some(name) = name {
                columns.entry(name.clone()).or_default().push(c);
            }
        }
        let mut said = Vec::new();
        for (name, cols) in columns.into_iter().filter(|(_, cols)| cols.len() > 1) {
            for &c in &cols {
                self.neuron_names[c] = None;
            }
            let mut numbers: Vec<String> = cols.iter().map(|c| (c + 1).to_string()).collect();
            let last = numbers.pop().unwrap_or_default();
            let both = if cols.len() == 2 { "both" } else { "all" };
            said.push(format!("{name} appears in columns {} and {last}: {both} kept as unidentified", numbers.join(", ")));
        }
        if !said.is_empty() {
            self.add_to_source(&said.join("; "));
        }
        said
    }

    /// Adds `note` to what the source says of the recording: inside its closing parenthesis
    /// (`file (CSV; note)`), or in one of its own.
    pub fn add_to_source(&mut self, note: &str) {
        self.source = match self.source.strip_suffix(')') {
            Some(open) => format!("{open}; {note})"),
            None => format!("{} ({note})", self.source),
        };
    }

    /// Checks shapes, names, labels and values, so later stages can rely on them.
    pub fn validate(&self) -> Result<(), DataError> {
        let recording = self.name.clone();
        if self.neurons == 0 {
            return Err(DataError::NoNeurons { recording });
        }
        if self.frames < MIN_FRAMES {
            return Err(DataError::TooFewFrames { recording, frames: self.frames });
        }
        if self.traces.len() != self.frames * self.neurons {
            return Err(DataError::ShapeMismatch {
                recording,
                values: self.traces.len(),
                frames: self.frames,
                neurons: self.neurons,
            });
        }
        if self.neuron_names.len() != self.neurons {
            return Err(DataError::NameCount { recording, names: self.neuron_names.len(), neurons: self.neurons });
        }
        let mut seen = std::collections::HashMap::new();
        for (column, name) in self.neuron_names.iter().enumerate() {
            if let Some(name) = name
                && let Some(first) = seen.insert(name, column)
            {
                return Err(DataError::DuplicateName { recording, name: name.clone(), first: first + 1, second: column + 1 });
            }
        }
        if !(self.fps.is_finite() && self.fps > 0.0) {
            return Err(DataError::FrameRate { recording, fps: self.fps });
        }
        if let Some(at) = self.traces.iter().position(|v| !v.is_finite()) {
            let (frame, column) = (at / self.neurons, at % self.neurons);
            return Err(DataError::NonFinite {
                recording,
                neuron: self.neuron_label(column),
                frame,
                value: self.traces[at],
            });
        }
        if let Some(labels) = &self.labels {
            if labels.per_frame.len() != self.frames {
                return Err(DataError::LabelCount { recording, labels: labels.per_frame.len(), frames: self.frames });
            }
            let states = labels.names.len();
            if states > formats::budget::MAX_STATES {
                return Err(DataError::TooManyStates { recording, states });
            }
            if let Some((frame, index)) = labels
                .per_frame
                .iter()
                .enumerate()
                .find_map(|(t, l)| l.filter(|&i| usize::from(i) >= states).map(|i| (t, i)))
            {
                return Err(DataError::LabelIndex { recording, frame, index, states });
            }
        }
        Ok(())
    }

    /// The name of column `i`, or its 1-based number when the neuron is unidentified.
    pub fn neuron_label(&self, i: usize) -> String {
        match self.neuron_names.get(i) {
            Some(Some(name)) => name.clone(),
            _ => format!("#{}", i + 1),
        }
    }

    /// Activity of neuron `i` over time.
    pub fn trace(&self, i: usize) -> impl Iterator<Item = f32> + '_ {
        self.traces.iter().skip(i).step_by(self.neurons).copied()
    }

    /// Duration in seconds.
    pub fn duration_s(&self) -> f32 {
        self.frames as f32 / self.fps
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn tiny() -> Recording {
        Recording {
            name: "tiny".into(),
            source: "test".into(),
            frames: 3,
            neurons: 2,
            traces: vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
            neuron_names: vec![Some("AVAL".into()), None],
            fps: 2.0,
            labels: Some(Labels { names: vec!["FWD".into(), "REV".into()], per_frame: vec![Some(0), None, Some(1)] }),
        }
    }

    #[test]
    fn a_well_formed_recording_validates() {
        let r = tiny();
        assert_eq!(r.validate(), Ok(()));
        assert_eq!(r.trace(1).collect::<Vec<_>>(), vec![1.0, 3.0, 5.0]);
        assert_eq!(r.neuron_label(1), "#2");
        assert_eq!(r.duration_s(), 1.5);
    }

    #[test]
    fn bad_recordings_say_what_and_where() {
        let mut r = tiny();
        r.traces[3] = f32::NAN;
        let msg = r.validate().unwrap_err().to_string();
        assert!(msg.contains("neuron #2") && msg.contains("frame 1"), "{msg}");

        let mut r = tiny();
        r.traces.pop();
        assert!(matches!(r.validate(), Err(DataError::ShapeMismatch { values: 5, .. })));

        let mut r = tiny();
        r.labels.as_mut().unwrap().per_frame[2] = Some(7);
        assert!(matches!(r.validate(), Err(DataError::LabelIndex { frame: 2, index: 7, .. })));

        let mut r = tiny();
        r.labels.as_mut().unwrap().per_frame.push(None);
        assert!(matches!(r.validate(), Err(DataError::LabelCount { labels: 4, frames: 3, .. })));

        let mut r = tiny();
        r.fps = 0.0;
        assert!(matches!(r.validate(), Err(DataError::FrameRate { .. })));

        let mut r = tiny();
        r.neuron_names[1] = Some("AVAL".into());
        assert!(matches!(r.validate(), Err(DataError::DuplicateName { first: 1, second: 2, .. })));
        // a reader takes the name off both columns instead, and says so
        let said = r.unname_duplicates();
        assert_eq!(said, ["AVAL appears in columns 1 and 2: both kept as unidentified"]);
        assert_eq!(&r.neuron_names[..2], &[None, None]);
        assert!(r.source.contains("AVAL appears in columns 1 and 2"), "{}", r.source);
        assert!(r.validate().is_ok());

        let mut r = tiny();
        r.frames = 2;
        r.traces.truncate(4);
        r.labels = None;
        assert!(matches!(r.validate(), Err(DataError::TooFewFrames { frames: 2, .. })));

        let mut r = tiny();
        r.labels.as_mut().unwrap().names = (0..70_000).map(|i| i.to_string()).collect();
        assert!(r.validate().unwrap_err().to_string().contains("70000 behavioural states"));

        let mut r = tiny();
        r.neuron_names.pop();
        assert!(matches!(r.validate(), Err(DataError::NameCount { names: 1, neurons: 2, .. })));
    }
}
