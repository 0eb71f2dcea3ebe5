//! Training off the main thread: the page's own module, started a second time in a Web Worker.
//!
//! `public/worker.js` imports the app's JS bundle inside a module worker; `main` finds no
//! `window` there and calls [`serve`] instead of mounting the page. The page talks to it through
//! [`TrainingWorker`]. Messages are serde values encoded as CBOR bytes (decoding them is fast, and
//! CBOR keeps NaN, which JSON cannot; serde values built as JS objects took seconds to decode);
//! a recording's traces travel as a `Float32Array`.

use std::cell::{Cell, RefCell};
use std::ops::ControlFlow;
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent, Worker, WorkerOptions, WorkerType};

use crate::data::Recording;
use crate::device::{self, BackendKind};
use crate::train::experiment::{DataSpec, ExperimentResult, ExperimentSpec, Plan, RunResult, resume_experiment};
use crate::plot::DataPreview;
use crate::train::demo::{DemoReport, DemoSpec, run_demo};
use crate::train::saved::{Application, EXTENSION, SavedModel, apply};
use crate::train::{Host, Progress, TrainError};

/// From the page to the worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ToWorker {
    /// Run an experiment. Kato files are fetched from `base_url` (absolute); "your files"
    /// recordings come with the message.
    Run { spec: Box<ExperimentSpec>, prefer_gpu: bool, base_url: String },
    /// Train the built-in demo (Stop ends it, keeping what was learnt).
    Demo { spec: Box<DemoSpec>, prefer_gpu: bool },
    /// Apply a saved model (a model file's bytes) to the recordings that come with the message.
    Apply { model: Vec<u8>, prefer_gpu: bool },
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
    RunStarted { index: usize },
    Progress { index: usize, progress: Progress },
    RunFinished { index: usize, run: Box<RunResult> },
    /// Run `index`'s trained model as a model file's bytes, with a file name.
    Model { index: usize, file: String, bytes: Vec<u8> },
    Applied { results: Vec<Application> },
    ApplyFailed { message: String },
    Done { result: Box<ExperimentResult> },
    DemoDone { report: Box<DemoReport> },
    Failed { message: String },
}

/// `value` as CBOR in a `Uint8Array`.
fn to_js<T: Serialize>(value: &T) -> JsValue {
    let mut bytes = Vec::new();
    if let Err(e) = ciborium::into_writer(value, &mut bytes) {
        log::error!("a message could not be encoded: {e}");
    }
    js_sys::Uint8Array::from(bytes.as_slice()).into()
}

/// The value a [`to_js`] `Uint8Array` holds.
fn from_js<T: serde::de::DeserializeOwned>(value: &JsValue) -> Result<T, String> {
    let bytes = value.dyn_ref::<js_sys::Uint8Array>().ok_or("not a byte array")?.to_vec();
    ciborium::from_reader(bytes.as_slice()).map_err(|e| e.to_string())
}

/// A recording as a JS object: its fields without traces, and the traces as a `Float32Array`.
fn recording_to_js(r: &Recording) -> JsValue {
    let meta = to_js(&Recording { traces: Vec::new(), ..r.clone() });
    let out = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&out, &"meta".into(), &meta);
    let _ = js_sys::Reflect::set(&out, &"traces".into(), &js_sys::Float32Array::from(r.traces.as_slice()));
    out.into()
}

fn recording_from_js(v: &JsValue) -> Result<Recording, String> {
    let meta = js_sys::Reflect::get(v, &"meta".into()).map_err(|_| "a recording without its fields".to_string())?;
    let mut r: Recording = from_js(&meta)?;
    let traces = js_sys::Reflect::get(v, &"traces".into()).map_err(|_| "a recording without traces".to_string())?;
    r.traces = traces.dyn_into::<js_sys::Float32Array>().map_err(|_| "traces are not a Float32Array".to_string())?.to_vec();
    r.validate().map_err(|e| e.to_string())?;
    Ok(r)
}

// ---------------------------------------------------------------- the worker side

/// True inside a worker (no `window`).
pub fn in_worker() -> bool {
    web_sys::window().is_none()
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn post(message: &FromWorker) {
    if let Err(e) = scope().post_message(&to_js(message)) {
        log::error!("the worker could not post a message: {e:?}");
    }
}

/// What the page asked of the running experiment.
#[derive(Default)]
struct Control {
    stop: Cell<bool>,
    paused: Cell<bool>,
    running: Cell<bool>,
}

/// Starts the worker's message loop and tells the page it is ready.
pub fn serve() {
    let control = Rc::new(Control::default());
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let data = event.data();
        let message = js_sys::Reflect::get(&data, &"message".into()).unwrap_or(JsValue::UNDEFINED);
        match from_js::<ToWorker>(&message) {
            Ok(ToWorker::Run { spec, prefer_gpu, base_url }) => {
                let recordings = attached_recordings(&data);
                start_job(&control, "an experiment is already running; stop it first", move |control| async move {
                    match recordings {
                        Ok(r) => run(*spec, prefer_gpu, base_url, r, control).await,
                        Err(e) => FromWorker::Failed { message: format!("the recordings did not reach the worker intact: {e}") },
                    }
                });
            }
            Ok(ToWorker::Demo { spec, prefer_gpu }) => {
                start_job(&control, "the demo is already running", move |control| async move {
                    let compute = device::pick(prefer_gpu).await;
                    post(&FromWorker::Backend { label: compute.label.clone(), gpu: compute.kind == BackendKind::WebGpu });
                    match run_demo(&spec, &compute.device, &mut WorkerHost::new(control)).await {
                        Ok(report) => FromWorker::DemoDone { report: Box::new(report) },
                        Err(e) => FromWorker::Failed { message: e.to_string() },
                    }
                });
            }
            Ok(ToWorker::Apply { model, prefer_gpu }) => {
                let recordings = attached_recordings(&data);
                spawn_local(async move {
                    let message = match recordings {
                        Ok(r) => apply_model(&model, &r, prefer_gpu).await,
                        Err(e) => Err(format!("the recordings did not reach the worker intact: {e}")),
                    };
                    post(&message.unwrap_or_else(|message| FromWorker::ApplyFailed { message }));
                });
            }
            Ok(ToWorker::Pause) => control.paused.set(true),
            Ok(ToWorker::Resume) => control.paused.set(false),
            Ok(ToWorker::Stop) => {
                control.stop.set(true);
                control.paused.set(false);
            }
            Err(e) => post(&FromWorker::Failed { message: format!("the worker got a message it does not understand: {e}") }),
        }
    });
    scope().set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget();
    post(&FromWorker::Ready);
}

/// Starts a training job (an experiment or the demo) unless one is running, in which case the
/// page hears `busy`; Pause and Stop apply to the job, and its last message is posted when it ends.
fn start_job<F, Fut>(control: &Rc<Control>, busy: &str, job: F)
where
    F: FnOnce(Rc<Control>) -> Fut + 'static,
    Fut: std::future::Future<Output = FromWorker> + 'static,
{
    if control.running.get() {
        post(&FromWorker::Failed { message: busy.into() });
        return;
    }
    control.stop.set(false);
    control.paused.set(false);
    control.running.set(true);
    let control = control.clone();
    spawn_local(async move {
        let message = job(control.clone()).await;
        control.running.set(false);
        post(&message);
    });
}

/// The recordings that came with a message (none when it has none).
fn attached_recordings(data: &JsValue) -> Result<Vec<Recording>, String> {
    let list = js_sys::Reflect::get(data, &"recordings".into()).ok().filter(|v| v.is_array()).map(|v| js_sys::Array::from(&v));
    list.map(|a| a.iter().map(|v| recording_from_js(&v)).collect()).unwrap_or_else(|| Ok(Vec::new()))
}

/// Applies a model file to each recording.
async fn apply_model(bytes: &[u8], recordings: &[Recording], prefer_gpu: bool) -> Result<FromWorker, String> {
    if recordings.is_empty() {
        return Err("drop the recordings to apply the model to under “Your recordings” first".into());
    }
    let saved = SavedModel::from_bytes(bytes).map_err(|e| e.to_string())?;
    let compute = device::pick(prefer_gpu).await;
    let mut results = Vec::new();
    for r in recordings {
        results.push(apply(&saved, r, &compute.device).await.map_err(|e| format!("{}: {e}", r.name))?);
    }
    Ok(FromWorker::Applied { results })
}

/// Reports progress to the page and applies Pause / Stop between steps.
struct WorkerHost {
    control: Rc<Control>,
    index: usize,
    finished: Vec<RunResult>,
    last_yield: web_time::Instant,
}

impl WorkerHost {
    fn new(control: Rc<Control>) -> Self {
        Self { control, index: 0, finished: Vec::new(), last_yield: web_time::Instant::now() }
    }
}

impl Host for WorkerHost {
    async fn yield_now(&mut self) {
        // Messages (Pause, Stop) are handled only when the loop yields; a timer yield costs
        // ~4 ms, so yield every 40 ms of work rather than every step.
        if self.last_yield.elapsed().as_millis() >= 40 || self.control.paused.get() {
            gloo::timers::future::TimeoutFuture::new(0).await;
            while self.control.paused.get() && !self.control.stop.get() {
                gloo::timers::future::TimeoutFuture::new(100).await;
            }
            self.last_yield = web_time::Instant::now();
        }
    }

    fn progress(&mut self, progress: &Progress) -> ControlFlow<()> {
        post(&FromWorker::Progress { index: self.index, progress: progress.clone() });
        if self.control.stop.get() { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    }

    fn run_started(&mut self, _label: &str, index: usize, _total: usize) {
        self.index = index;
        post(&FromWorker::RunStarted { index });
    }

    fn planned(&mut self, plan: &Plan) {
        post(&FromWorker::Planned { plan: plan.clone() });
    }

    fn run_finished(&mut self, index: usize, run: &RunResult) {
        self.finished.push(run.clone());
        post(&FromWorker::RunFinished { index, run: Box::new(run.clone()) });
    }

    fn wants_models(&self) -> bool {
        true
    }

    fn model_trained(&mut self, index: usize, model: SavedModel) {
        let file = self.finished.last().map_or_else(|| format!("run-{index}.{EXTENSION}"), |r| model.file_name(&r.protocol, &r.fold));
        post(&FromWorker::Model { index, file, bytes: model.to_bytes() });
    }
}

/// Animals and time bins in the data preview sent to the page.
const PREVIEW_ANIMALS: usize = 8;
const PREVIEW_BINS: usize = 300;

/// Reads the data, runs the experiment (moving to the CPU if the GPU fails) and says how it
/// ended.
async fn run(spec: ExperimentSpec, prefer_gpu: bool, base_url: String, files: Vec<Recording>, control: Rc<Control>) -> FromWorker {
    let compute = device::pick(prefer_gpu).await;
    post(&FromWorker::Backend { label: compute.label.clone(), gpu: compute.kind == BackendKind::WebGpu });
    if matches!(spec.data, DataSpec::Synthetic { .. }) {
        post(&FromWorker::Status { text: "generating the synthetic worm".into() });
    }
    let read = |file: &'static str| {
        let url = format!("{base_url}{file}");
        post(&FromWorker::Status { text: format!("reading {url}") });
        async move { fetch(&url).await }
    };
    let (recordings, truth) = match spec.data.load(files, read).await {
        Ok(d) => d,
        Err(message) => return FromWorker::Failed { message },
    };
    post(&FromWorker::Data { preview: Box::new(DataPreview::of(&recordings, PREVIEW_ANIMALS, PREVIEW_BINS)) });
    let mut host = WorkerHost::new(control);
    let first = resume_experiment(&spec, &recordings, truth.as_ref(), &compute.label, &compute.device, &mut host, &[]).await;
    let result = match first {
        Err(TrainError::Read(why)) if compute.kind == BackendKind::WebGpu => {
            // the GPU device was lost: keep the finished runs and do the rest on the CPU
            let cpu = device::cpu(&format!("the GPU failed during the experiment ({why}); the finished runs are kept"));
            post(&FromWorker::Backend { label: cpu.label.clone(), gpu: false });
            let done = std::mem::take(&mut host.finished);
            resume_experiment(&spec, &recordings, truth.as_ref(), &cpu.label, &cpu.device, &mut host, &done).await
        }
        other => other,
    };
    match result {
        Ok(result) => FromWorker::Done { result: Box::new(result) },
        Err(e) => FromWorker::Failed { message: e.to_string() },
    }
}

async fn fetch(url: &str) -> Result<Vec<u8>, String> {
    let fail = |why: String| format!("could not read {url}: {why}");
    let response: web_sys::Response = JsFuture::from(scope().fetch_with_str(url))
        .await
        .map_err(|e| fail(format!("{e:?}")))?
        .dyn_into()
        .map_err(|_| fail("not a response".into()))?;
    if !response.ok() {
        return Err(fail(format!("HTTP {} — put the published files there (see the README) or change the data URL", response.status())));
    }
    let buffer = JsFuture::from(response.array_buffer().map_err(|e| fail(format!("{e:?}")))?).await.map_err(|e| fail(format!("{e:?}")))?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

// ---------------------------------------------------------------- the page side

/// The page's handle on the training worker. Messages sent before the worker is ready wait.
#[derive(Clone)]
pub struct TrainingWorker {
    worker: Worker,
    ready: Rc<Cell<bool>>,
    waiting: Rc<RefCell<Vec<JsValue>>>,
}

impl TrainingWorker {
    /// Starts `public/worker.js`; `on_message` receives every message from it.
    pub fn start(mut on_message: impl FnMut(FromWorker) + 'static) -> Result<Self, String> {
        let options = WorkerOptions::new();
        options.set_type(WorkerType::Module);
        let worker = Worker::new_with_options("public/worker.js", &options).map_err(|e| format!("could not start the training worker: {e:?}"))?;
        let this = Self { worker, ready: Rc::new(Cell::new(false)), waiting: Rc::new(RefCell::new(Vec::new())) };
        let me = this.clone();
        let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let started = web_time::Instant::now();
            match from_js::<FromWorker>(&event.data()) {
                Ok(FromWorker::Ready) => {
                    me.ready.set(true);
                    for m in me.waiting.borrow_mut().drain(..) {
                        let _ = me.worker.post_message(&m);
                    }
                }
                Ok(m) => on_message(m),
                Err(e) => on_message(FromWorker::Failed { message: format!("unreadable message from the training worker: {e}") }),
            }
            // the page must stay responsive while training: say when handling a message was not
            let ms = started.elapsed().as_secs_f64() * 1e3;
            if ms > 50.0 {
                log::warn!("handling a message from the training worker took {ms:.0} ms");
            }
        });
        this.worker.set_onmessage(Some(handler.as_ref().unchecked_ref()));
        handler.forget();
        let on_error = Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |e: web_sys::ErrorEvent| {
            log::error!("training worker error: {}", e.message());
        });
        this.worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        on_error.forget();
        Ok(this)
    }

    /// Sends a message (with recordings for "your files").
    pub fn send(&self, message: &ToWorker, recordings: &[Recording]) {
        let out = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&out, &"message".into(), &to_js(message));
        if !recordings.is_empty() {
            let list: js_sys::Array = recordings.iter().map(recording_to_js).collect();
            let _ = js_sys::Reflect::set(&out, &"recordings".into(), &list);
        }
        if self.ready.get() {
            let _ = self.worker.post_message(&out);
        } else {
            self.waiting.borrow_mut().push(out.into());
        }
    }
}
