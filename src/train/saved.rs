//! Trained networks kept and applied again: a [`SavedModel`] is a network's weights with
//! everything needed to run it on a recording it has never seen — the neurons it reads (in
//! order), the window, the preprocessing, the task and, for GCN/GAT, the graph it was trained
//! over. [`apply`] runs one on a new recording: the unseen-animal case in practice.
//!
//! Weights are read tensor by tensor with async reads and stored as plain `f32` arrays in the
//! order burn visits the parameters; loading checks every shape. (burn's recorders read tensors
//! synchronously, which WebGPU forbids, so the page could not save with them.) Files are CBOR.

use std::collections::BTreeMap;
use std::sync::Arc;

use burn::module::{ModuleMapper, ModuleVisitor, Param};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::experiment::{PreprocessSpec, PredictionSample, Protocol, Scored, TaskSpec, score};
use super::fit::{Objective, evaluate};
use super::metrics::argmax_rows;
use super::{TrainError, read_f32};
use crate::data::preprocess::{NeuronSet, align, align_to, resample};
use crate::data::task::{Series, Target, Windows};
use crate::data::{DataError, Recording, transposed};
use crate::model::{Head, InputShape, ModelSpec, Network};

/// What a saved model's file says it is.
pub const FORMAT: &str = "neurognn-model";
/// The file layout's version; files of another version are refused with a message.
pub const VERSION: u32 = 1;
/// Most neurons a saved model may read (C. elegans has 302; the synthetic worm at most 1,000).
pub const MAX_NODES: usize = 1000;
/// The file name ending the page and the CLI give saved models.
pub const EXTENSION: &str = "ngmodel";

/// A trained network and what it needs to run on new recordings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedModel {
    pub format: String,
    pub version: u32,
    #[serde(flatten)]
    pub about: ModelAbout,
    pub parameters: Vec<SavedTensor>,
}

/// One parameter tensor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedTensor {
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// A model file that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ModelFileError {
    #[error("this is not a NeuroGNN model file ({0})")]
    NotAModel(String),
    #[error("the model file ends early: it was cut short (or is still downloading)")]
    Truncated,
    #[error("this model file has format version {found}; this NeuroGNN reads version {VERSION}")]
    Version { found: u32 },
    #[error("the model file does not fit its network: {0}")]
    Mismatch(String),
}

/// Everything about a model except its weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelAbout {
    pub model: ModelSpec,
    pub task: TaskSpec,
    /// History, features and neuron set the network was trained with.
    pub preprocess: PreprocessSpec,
    /// The neurons it reads, in node order.
    pub neurons: Vec<String>,
    pub shape: InputShape,
    pub head: Head,
    /// GCN/GAT: the normalised graph `incoming[i][j]` it was trained over (row-major).
    pub incoming: Option<Vec<f32>>,
    /// How it was trained, for people ("leave-one-animal-out, tested on worm5", …).
    pub trained_on: String,
    pub seed: u64,
}

/// Collects parameter tensors in visiting order, flattened.
struct Collect(Vec<(Vec<usize>, Tensor<1>)>);

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val();
        let shape = t.dims().to_vec();
        let len: usize = shape.iter().product();
        self.0.push((shape, t.reshape([len])));
    }
}

/// Replaces parameters, in visiting order, with saved values; notes the first mismatch.
struct Restore<'a> {
    saved: std::slice::Iter<'a, SavedTensor>,
    device: Device,
    error: Option<String>,
    index: usize,
}

impl ModuleMapper for Restore<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let index = self.index;
        self.index += 1;
        let want = param.val().dims();
        match self.saved.next() {
            Some(s) if s.shape == want && s.values.len() == want.iter().product::<usize>() => {
                let data = TensorData::new(s.values.clone(), want);
                let device = self.device.clone();
                param.map(|_| Tensor::from_data(data, &device))
            }
            found => {
                self.error.get_or_insert_with(|| match found {
                    Some(s) => format!("parameter {index} has shape {:?} in the file, the network needs {want:?}", s.shape),
                    None => format!("the file has {index} parameters, the network needs more"),
                });
                param
            }
        }
    }
}

impl SavedModel {
    /// Reads `network`'s weights (async: works on WebGPU) and keeps them with `about`.
    pub async fn capture(network: &Network, about: ModelAbout) -> Result<Self, TrainError> {
        let mut collect = Collect(Vec::new());
        network.visit(&mut collect);
        let mut parameters = Vec::with_capacity(collect.0.len());
        for (shape, tensor) in collect.0 {
            parameters.push(SavedTensor { shape, values: read_f32(tensor).await? });
        }
        Ok(Self { format: FORMAT.into(), version: VERSION, about, parameters })
    }

    /// Builds the network on `device` with the saved weights.
    pub fn network(&self, device: &Device) -> Result<Network, ModelFileError> {
        let net = Network::init(&self.about.model, self.about.shape, self.about.head, device);
        let mut restore = Restore { saved: self.parameters.iter(), device: device.clone(), error: None, index: 0 };
        let net = net.map(&mut restore);
        if let Some(e) = restore.error {
            return Err(ModelFileError::Mismatch(e));
        }
        if restore.saved.next().is_some() {
            return Err(ModelFileError::Mismatch(format!("the file has {} parameters, the network {}", self.parameters.len(), restore.index)));
        }
        Ok(net)
    }

    /// The file's bytes (CBOR).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        ciborium::into_writer(self, &mut out).expect("writing CBOR to memory should not fail");
        out
    }

    /// Reads a model file, refusing other files and other format versions.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ModelFileError> {
        #[derive(Deserialize)]
        struct Header {
            format: String,
            version: u32,
        }
        let header: Header = ciborium::from_reader(bytes).map_err(unreadable)?;
        if header.format != FORMAT {
            return Err(ModelFileError::NotAModel(format!("it says it is '{}'", header.format)));
        }
        if header.version != VERSION {
            return Err(ModelFileError::Version { found: header.version });
        }
        let saved: SavedModel = ciborium::from_reader(bytes).map_err(unreadable)?;
        saved.check()?;
        Ok(saved)
    }

    /// Checks every size the file declares against the spec bounds and against the weights it
    /// actually holds, before any network is built (a file from a stranger can claim anything).
    fn check(&self) -> Result<(), ModelFileError> {
        let about = &self.about;
        let bad = |m: String| Err(ModelFileError::Mismatch(m));
        let spec_error = |e: super::spec::SpecError| ModelFileError::Mismatch(e.to_string());
        super::spec::validate_model("model", &about.model).map_err(spec_error)?;
        about.preprocess.validate("preprocess").map_err(spec_error)?;
        about.task.validate("task").map_err(spec_error)?;
        let shape = about.shape;
        let nodes = about.neurons.len();
        if shape.nodes != nodes || nodes == 0 || nodes > MAX_NODES {
            return bad(format!("it names {nodes} neurons for a network of {} nodes (at most {MAX_NODES})", shape.nodes));
        }
        if shape.history != about.preprocess.history || !(1..=2).contains(&shape.features) {
            return bad(format!("its input shape ({} frames × {} features) does not match its preprocessing ({} frames, 1 or 2 features)", shape.history, shape.features, about.preprocess.history));
        }
        if let Head::Classes(c) = about.head
            && !(2..=64).contains(&c)
        {
            return bad(format!("its head has {c} classes (2 to 64)"));
        }
        if about.incoming.as_ref().is_some_and(|g| Some(g.len()) != nodes.checked_mul(nodes)) {
            return bad(format!("its graph does not have {nodes} × {nodes} entries"));
        }
        let mut total = 0u64;
        for (i, p) in self.parameters.iter().enumerate() {
            if crate::data::formats::budget::product(p.shape.iter().map(|&d| d as u64)) != Some(p.values.len() as u64) {
                return bad(format!("parameter {i} declares shape {:?} but holds {} values", p.shape, p.values.len()));
            }
            total += p.values.len() as u64;
        }
        let needed = Network::minimum_parameters(&about.model, shape, about.head);
        if needed > total {
            return bad(format!("its {} needs at least {needed} weights, the file holds {total}", about.model.kind.label()));
        }
        Ok(())
    }

    /// A file name: `mlp-next-step-leave-one-animal-out-worm5-seed0.ngmodel`.
    pub fn file_name(&self, protocol: &str, fold: &str) -> String {
        let raw = format!("{}-{}-{protocol}-{fold}-seed{}", self.about.model.kind.label(), self.about.task.label(), self.about.seed);
        let safe: String = raw.to_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).collect();
        format!("{safe}.{EXTENSION}")
    }
}

/// Why CBOR bytes could not be read as a model file: cut short, or not one at all.
fn unreadable(e: ciborium::de::Error<std::io::Error>) -> ModelFileError {
    match e {
        ciborium::de::Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => ModelFileError::Truncated,
        other => ModelFileError::NotAModel(other.to_string()),
    }
}

/// Describes how a fold's model was trained, for [`SavedModel::trained_on`].
pub fn trained_on(protocol: Protocol, fold: &str, animals: &[String]) -> String {
    match protocol {
        Protocol::LeaveOneAnimalOut => {
            let others: Vec<&str> = animals.iter().map(String::as_str).filter(|a| *a != fold).collect();
            format!("leave-one-animal-out: trained on {}, tested on {fold}", others.join(", "))
        }
        Protocol::WithinAnimal => format!("within-animal: trained on the start of {fold}, tested on its end"),
    }
}

/// What a saved model did on one recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Application {
    pub recording: String,
    pub model: String,
    pub task: String,
    pub trained_on: String,
    /// The model's neurons this recording has, and those it lacks (they enter as zeros, masked).
    pub neurons_found: usize,
    pub missing: Vec<String>,
    pub windows: usize,
    /// Next step: MSE, R² and persistence; behaviour (when the recording is labelled):
    /// accuracy, balanced accuracy, macro-F1.
    pub metrics: BTreeMap<String, f64>,
    pub confusion: Option<Vec<Vec<usize>>>,
    pub classes: Vec<String>,
    /// Behaviour: the predicted class of every frame (`None` before the first full window).
    pub predicted_states: Option<Vec<Option<u16>>>,
    pub predictions: Option<PredictionSample>,
    /// NRI: the graph inferred on this recording, row-major `[from][to]` over the model's neurons.
    pub graph: Option<Vec<f32>>,
}

/// Runs `saved` on `recording`: the recording is resampled and z-scored like the training data
/// (with its own statistics), put on the model's neurons by name, and cut into windows.
pub async fn apply(saved: &SavedModel, recording: &Recording, device: &Device) -> Result<Application, TrainError> {
    let pre = &saved.about.preprocess;
    let rec = match pre.resample_hz {
        Some(hz) => resample(recording, hz)?,
        None => recording.clone(),
    };
    let nodes = saved.about.neurons.len();
    let aligned = if pre.neuron_set == NeuronSet::AllColumns {
        if rec.neurons != nodes {
            return Err(DataError::Alignment(format!(
                "this model reads every column of a recording with {nodes} neurons; '{}' has {}",
                rec.name, rec.neurons
            ))
            .into());
        }
        align(std::slice::from_ref(&rec), NeuronSet::AllColumns)?
    } else {
        align_to(std::slice::from_ref(&rec), &saved.about.neurons)
    };
    let animal = &aligned.animals[0];
    let missing: Vec<String> = saved.about.neurons.iter().zip(&animal.present).filter(|(_, p)| !**p).map(|(n, _)| n.clone()).collect();
    if missing.len() == nodes {
        return Err(DataError::Alignment(format!(
            "'{}' has none of the model's {nodes} neurons ({}…); name its neurons",
            rec.name,
            saved.about.neurons.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
        ))
        .into());
    }
    let merges = match &saved.about.task {
        TaskSpec::Behaviour { classes, .. } => Some(classes.as_slice()),
        TaskSpec::NextStep => None,
    };
    let series = Arc::new(Series::prepare(animal, 0..animal.frames, pre.change, merges)?);
    if series.features != saved.about.shape.features {
        return Err(ModelFileError::Mismatch(format!("it reads {} features per neuron, the preprocessing gives {}", saved.about.shape.features, series.features)).into());
    }
    let network = saved.network(device)?;
    let labelled = series.classes.iter().any(Option::is_some);
    let objective = match (&saved.about.task, saved.about.head) {
        (TaskSpec::Behaviour { .. }, Head::Classes(count)) => Objective::Classes { count, weights: vec![1.0; count] },
        _ => Objective::NextStep,
    };
    let (history, features) = (saved.about.shape.history, saved.about.shape.features);
    // every window of a series for a target
    let cut = |s: &Arc<Series>, target: Target| {
        let mut w = Windows::new(history, nodes, features);
        w.add(s, 0..s.frames, target, 0);
        w
    };
    // a window ending at every frame from the first full one, for predicted states
    let every_frame = || cut(&Arc::new(Series { classes: vec![Some(0); series.frames], ..(*series).clone() }), Target::Class);
    let windows = match (&objective, labelled) {
        (Objective::NextStep, _) => cut(&series, Target::NextFrame),
        (Objective::Classes { .. }, true) => cut(&series, Target::Class),
        (Objective::Classes { .. }, false) => every_frame(),
    };
    if windows.is_empty() {
        return Err(TrainError::EmptySet("test"));
    }
    let incoming = saved.about.incoming.as_deref();
    let eval = evaluate(&network, &saved.about.model, &windows, incoming, &objective, device).await?;
    // an unlabelled recording gets predicted states but no behaviour scores
    let scored = objective == Objective::NextStep || labelled;
    let Scored { metrics, confusion, predictions } = if scored { score(&objective, &eval, &windows, &rec.name) } else { Scored::default() };
    let (classes, predicted_states) = match (&saved.about.task, &objective) {
        (TaskSpec::Behaviour { classes, .. }, Objective::Classes { count, .. }) => {
            let out = if labelled { evaluate(&network, &saved.about.model, &every_frame(), incoming, &objective, device).await?.outputs } else { eval.outputs.clone() };
            let mut states = vec![None; series.frames];
            for (k, class) in argmax_rows(&out, *count).into_iter().enumerate() {
                states[k + history - 1] = Some(class as u16);
            }
            (classes.iter().map(|(c, _)| c.clone()).collect(), Some(states))
        }
        _ => (Vec::new(), None),
    };
    let graph = eval.edges.first().map(|(_, receiver_first)| transposed(receiver_first, nodes, nodes).collect());
    Ok(Application {
        recording: rec.name.clone(),
        model: saved.about.model.kind.label().into(),
        task: saved.about.task.label(),
        trained_on: saved.about.trained_on.clone(),
        neurons_found: nodes - missing.len(),
        missing,
        windows: windows.len(),
        metrics,
        confusion,
        classes,
        predicted_states,
        predictions,
        graph,
    })
}
