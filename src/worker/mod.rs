//! Training off the main thread: a build of the app, started a second time in a Web Worker.
//!
//! `public/worker.js?module=NAME` imports one of the app's two builds inside a module worker
//! (the page's own, or the WebGPU build when a run needs it and the page loaded the CPU build:
//! [`build_for`]); `main` finds no `window` there and calls [`serve`] instead of mounting the
//! page. The page talks to it through
//! [`TrainingWorker`]. Messages are serde values encoded as CBOR bytes (decoding them is fast, and
//! CBOR keeps NaN, which JSON cannot; serde values built as JS objects took seconds to decode);
//! a recording's traces travel as a `Float32Array`.
//!
//! Dropped files are parsed in a worker too (a second [`TrainingWorker`], see `import.rs`): the
//! page passes the `File` objects, the worker reads them with `FileReaderSync` and sends back
//! what they hold. A worker that dies (an error event, or no answer to a heartbeat while a job
//! runs) is replaced at once and the page is told ([`FromWorker::Lost`]); nothing it had is lost.
//!
//! Parts: this module is the protocol (the messages and how they travel); [`job`] is the
//! worker's side (its message loop and jobs), [`files`] its readers of dropped files and URLs;
//! [`client`] is the page's handle on one worker and [`pool`] the lab's workers together.

pub mod client;
mod files;
pub mod job;
pub mod pool;

pub use client::TrainingWorker;
pub use job::{in_worker, serve};
pub use pool::Pool;

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::data::Recording;
use crate::data::formats::inventory::{Choice, Inventory};
use crate::device::BackendChoice;
use crate::train::experiment::{ExperimentResult, ExperimentSpec, Plan, RunResult, Share};
use crate::plot::DataPreview;
use crate::train::demo::{DemoReport, DemoSpec};
use crate::train::saved::Application;
use crate::train::{Fault, Progress};

/// The build of the app this module is: the CPU build or the WebGPU build (static/boot.js
/// loads one on the page; Cargo.toml builds both).
pub const THIS_BUILD: &str = if cfg!(feature = "gpu") { WEBGPU_BUILD } else { "neurognn-web" };

/// The build with burn's WebGPU backend.
const WEBGPU_BUILD: &str = "neurognn-webgpu";

/// The build a worker needs for runs on `choice`. The CPU: the page's own (both builds have the
/// CPU backend). WebGPU: the WebGPU build where the browser has an adapter (without one the
/// page's own build trains on the CPU and says why). Auto: the WebGPU build where static/boot.js
/// found a GPU to time against the CPU, else the page's own.
pub fn build_for(choice: BackendChoice) -> &'static str {
    let boot = js_sys::Reflect::get(&js_sys::global(), &"neurognnBoot".into()).unwrap_or_default();
    let said = |key: &str| js_sys::Reflect::get(&boot, &key.into()).unwrap_or_default();
    match choice {
        BackendChoice::Cpu => THIS_BUILD,
        BackendChoice::WebGpu if said("adapter").as_string().is_some_and(|a| a != "none") => WEBGPU_BUILD,
        BackendChoice::Auto if said("gpu").as_bool() == Some(true) => WEBGPU_BUILD,
        BackendChoice::WebGpu | BackendChoice::Auto => THIS_BUILD,
    }
}

/// From the page to the worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ToWorker {
    /// Run an experiment. Kato files are fetched from `base_url` (absolute); "your files"
    /// recordings come with the message.
    /// `done`: results of the first runs, kept from an earlier attempt (they are not trained
    /// again). `fault`: a failure to act out in the second run (tests only).
    Run {
        spec: Box<ExperimentSpec>,
        backend: BackendChoice,
        base_url: String,
        #[serde(default)]
        done: Vec<RunResult>,
        #[serde(default)]
        fault: Option<Fault>,
        /// The runs this worker trains: those the pool gives it (on the CPU; a worker that finds
        /// WebGPU faster trains them all, and says so with `Backend { gpu: true }`), or none
        /// (gathering a pool's finished runs into one result).
        #[serde(default)]
        share: Share,
    },
    /// Train the built-in demo (Stop ends it, keeping what was learnt).
    Demo {
        spec: Box<DemoSpec>,
        backend: BackendChoice,
        #[serde(default)]
        fault: Option<Fault>,
    },
    /// Read the files that come with the message (`File` objects) as one drop.
    Parse,
    /// Read files at these URLs as one drop, by HTTP range requests (only the parts used).
    OpenUrls { urls: Vec<String> },
    /// Build `file`'s recording from the arrays `choice` picks (the page's "Use these arrays"
    /// form): the worker reads the file again (it keeps the dropped `File`s and opened URLs),
    /// since the page's listing holds large arrays by their shape only.
    Assemble { file: String, choice: Choice },
    /// Are you there? (answered with `Pong` whenever the worker's loop is free)
    Ping,
    /// Apply a saved model (a model file's bytes) to the recordings that come with the message.
    Apply { model: Vec<u8>, backend: BackendChoice },
    /// The answer to [`FromWorker::Claim`]: whether the worker trains run `index`.
    Claimed { index: usize, granted: bool },
    Pause,
    Resume,
    Stop,
}

/// From the worker to the page.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FromWorker {
    Ready,
    Backend { label: String, gpu: bool },
    Status { text: String },
    Planned { plan: Plan },
    /// The experiment's data at a glance (rasters, traces, coverage).
    Data { preview: Box<DataPreview> },
    /// May I train run `index`? (a worker of a pool, before each run; see [`Share::Pool`])
    Claim { index: usize },
    RunStarted { index: usize },
    /// Run `index`'s latest progress, with the loss points `(step, loss)` since the last message
    /// (the worker posts at most every 100 ms).
    Progress { index: usize, progress: Progress, points: Vec<(usize, f32)> },
    RunFinished { index: usize, run: Box<RunResult> },
    /// Run `index`'s trained model as a model file's bytes, with a file name.
    Model { index: usize, file: String, bytes: Vec<u8> },
    Applied { results: Vec<Application> },
    ApplyFailed { message: String },
    Done { result: Box<ExperimentResult> },
    /// The demo starts training this model (its runs follow one another).
    DemoModel { model: String },
    DemoDone { report: Box<DemoReport> },
    Failed { message: String },
    Pong,
    /// Reading a drop of files: which file, how large.
    Reading { file: String, bytes: f64 },
    /// What a drop of files held.
    Parsed { drop: Box<ParsedDrop> },
    /// Made by the page, not the worker: the worker died (`message` says how) and a new one
    /// was started in its place.
    Lost { message: String },
}

/// What a drop of files held, read in the worker. Its recordings travel beside the message
/// (as traces arrays) and are put in `recordings` on arrival.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ParsedDrop {
    pub listings: Vec<Inventory>,
    pub side_files: Vec<(String, String)>,
    pub notes: Vec<String>,
    /// `(file, message)` for each file that could not be read.
    pub errors: Vec<(String, String)>,
    pub sizes: Vec<(String, f64)>,
    /// Bytes actually read of each file (less than its size for NWB/HDF5: only what is used).
    #[serde(default)]
    pub transferred: Vec<(String, f64)>,
    pub seconds: f64,
    /// For an [`ToWorker::Assemble`]: the file and the arrays picked.
    #[serde(default)]
    pub picked: Option<(String, Choice)>,
    #[serde(skip)]
    pub recordings: Vec<(String, Recording)>,
}

/// `value` as CBOR (messages, and what the page keeps of them).
pub(crate) fn to_cbor<T: Serialize>(value: &T) -> Vec<u8> {
    let mut bytes = Vec::new();
    if let Err(e) = ciborium::into_writer(value, &mut bytes) {
        log::error!("a message could not be encoded: {e}");
    }
    bytes
}

/// The value [`to_cbor`] wrote.
pub(crate) fn from_cbor<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    ciborium::from_reader(bytes).map_err(|e| e.to_string())
}

/// `value` as CBOR in a `Uint8Array`.
pub(crate) fn to_js<T: Serialize>(value: &T) -> JsValue {
    js_sys::Uint8Array::from(to_cbor(value).as_slice()).into()
}

/// The value a [`to_js`] `Uint8Array` holds.
pub(crate) fn from_js<T: serde::de::DeserializeOwned>(value: &JsValue) -> Result<T, String> {
    let bytes = value.dyn_ref::<js_sys::Uint8Array>().ok_or("not a byte array")?.to_vec();
    from_cbor(&bytes)
}

/// A recording's fields without its traces (which travel and are kept as plain `f32` arrays).
pub(crate) fn recording_meta(r: &Recording) -> Recording {
    Recording {
        name: r.name.clone(),
        source: r.source.clone(),
        frames: r.frames,
        neurons: r.neurons,
        traces: Vec::new(),
        neuron_names: r.neuron_names.clone(),
        fps: r.fps,
        labels: r.labels.clone(),
    }
}

/// A recording as a JS object: its fields without traces, and the traces as a `Float32Array`
/// whose buffer is added to `transfer` (moved to the other side, not copied again).
pub(crate) fn recording_to_js(r: &Recording, transfer: &js_sys::Array) -> JsValue {
    let meta = to_js(&recording_meta(r));
    let out = js_sys::Object::new();
    let traces = js_sys::Float32Array::from(r.traces.as_slice());
    transfer.push(&traces.buffer());
    let _ = js_sys::Reflect::set(&out, &"meta".into(), &meta);
    let _ = js_sys::Reflect::set(&out, &"traces".into(), &traces);
    out.into()
}

/// The recordings as a JS array for a message, their buffers added to `transfer`.
pub(crate) fn recordings_to_js<'a>(recordings: impl IntoIterator<Item = &'a Recording>, transfer: &js_sys::Array) -> js_sys::Array {
    recordings.into_iter().map(|r| recording_to_js(r, transfer)).collect()
}

pub(crate) fn recording_from_js(v: &JsValue) -> Result<Recording, String> {
    let meta = js_sys::Reflect::get(v, &"meta".into()).map_err(|_| "a recording without its fields".to_string())?;
    let mut r: Recording = from_js(&meta)?;
    let traces = js_sys::Reflect::get(v, &"traces".into()).map_err(|_| "a recording without traces".to_string())?;
    r.traces = traces.dyn_into::<js_sys::Float32Array>().map_err(|_| "traces are not a Float32Array".to_string())?.to_vec();
    r.validate().map_err(|e| e.to_string())?;
    Ok(r)
}

/// The recordings that came with a message (none when it has none).
pub(crate) fn attached_recordings(data: &JsValue) -> Result<Vec<Recording>, String> {
    let list = js_sys::Reflect::get(data, &"recordings".into()).ok().filter(|v| v.is_array()).map(|v| js_sys::Array::from(&v));
    list.map(|a| a.iter().map(|v| recording_from_js(&v)).collect()).unwrap_or_else(|| Ok(Vec::new()))
}

