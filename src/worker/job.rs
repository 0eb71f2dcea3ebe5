//! The worker's side: its message loop, and the jobs it runs (an experiment, the demo,
//! applying a model); reading files is in [`super::files`].

use std::cell::Cell;
use std::ops::ControlFlow;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use super::files::{assemble, open_urls, parse_files};
use super::{FromWorker, ToWorker, attached_recordings, from_js, recordings_to_js, to_js};
use crate::data::Recording;
use crate::device::{self, BackendChoice, BackendKind};
use crate::plot::DataPreview;
use crate::train::bench::pick_backend;
use crate::train::demo::{DemoData, train_demo};
use crate::train::experiment::{DataSpec, ExperimentSpec, Plan, RunResult, Share, resume_experiment, step_shape};
use crate::train::saved::{EXTENSION, SavedModel, apply};
use crate::train::{Fault, Host, Progress, TrainError};

/// True inside a worker (no `window`).
pub fn in_worker() -> bool {
    web_sys::window().is_none()
}

pub(super) fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

pub(super) fn post(message: &FromWorker) {
    if let Err(e) = scope().post_message(&to_js(message)) {
        log::error!("the worker could not post a message: {e:?}");
    }
}

/// Posts `message` with recordings beside it (`(file, recording)`), each as a traces array.
pub(super) fn post_with_recordings(message: &FromWorker, recordings: &[(String, Recording)]) {
    let out = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&out, &"message".into(), &to_js(message));
    let transfer = js_sys::Array::new();
    let list = recordings_to_js(recordings.iter().map(|(_, r)| r), &transfer);
    let files: js_sys::Array = recordings.iter().map(|(f, _)| JsValue::from_str(f)).collect();
    let _ = js_sys::Reflect::set(&out, &"recordings".into(), &list);
    let _ = js_sys::Reflect::set(&out, &"files".into(), &files);
    if let Err(e) = scope().post_message_with_transfer(&out, &transfer) {
        log::error!("the worker could not post a message: {e:?}");
    }
}

/// What the page asked of the running experiment.
#[derive(Default)]
struct Control {
    /// The pool's answer to the last claim: `(run, granted)`.
    claimed: Cell<Option<(usize, bool)>>,
    stop: Cell<bool>,
    paused: Cell<bool>,
    running: Cell<bool>,
    /// Resolves the promise a job waits on (for the answer to a claim, or for Resume / Stop).
    wake: std::cell::RefCell<Option<js_sys::Function>>,
}

impl Control {
    /// Wakes a job waiting in [`Control::wait`].
    fn wake(&self) {
        if let Some(resolve) = self.wake.borrow_mut().take() {
            let _ = resolve.call0(&JsValue::NULL);
        }
    }

    /// Waits for the next message that changes the control (claim answered, Resume, Stop),
    /// without spinning: the worker sleeps until the page speaks.
    async fn wait(&self) {
        let promise = js_sys::Promise::new(&mut |resolve, _| *self.wake.borrow_mut() = Some(resolve));
        let _ = JsFuture::from(promise).await;
    }
}

// `MessageChannel` declared here rather than through web-sys features, which would rebuild
// web-sys and every crate above it for two small bindings.
#[wasm_bindgen]
extern "C" {
    type MessageChannel;
    #[wasm_bindgen(constructor, catch)]
    fn new() -> Result<MessageChannel, JsValue>;
    #[wasm_bindgen(method, getter)]
    fn port1(this: &MessageChannel) -> MessagePort;
    #[wasm_bindgen(method, getter)]
    fn port2(this: &MessageChannel) -> MessagePort;
    type MessagePort;
    #[wasm_bindgen(method, setter)]
    fn set_onmessage(this: &MessagePort, handler: Option<&js_sys::Function>);
    #[wasm_bindgen(method, catch, js_name = postMessage)]
    fn post_message(this: &MessagePort, message: &JsValue) -> Result<(), JsValue>;
}

/// Lets the worker's event loop run (the page's Pause and Stop arrive as messages), through a
/// message channel: a chain of 0 ms timers is clamped to 4 ms each by the browser, 10 % of a
/// job that yields every 40 ms.
async fn yield_to_events() {
    let Ok(channel) = MessageChannel::new() else {
        gloo::timers::future::TimeoutFuture::new(0).await;
        return;
    };
    let promise = js_sys::Promise::new(&mut |resolve, _| channel.port1().set_onmessage(Some(&resolve)));
    if channel.port2().post_message(&JsValue::NULL).is_ok() {
        let _ = JsFuture::from(promise).await;
    }
    channel.port1().set_onmessage(None);
}

/// Starts the worker's message loop and tells the page it is ready.
pub fn serve() {
    let control = Rc::new(Control::default());
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let data = event.data();
        let message = js_sys::Reflect::get(&data, &"message".into()).unwrap_or(JsValue::UNDEFINED);
        match from_js::<ToWorker>(&message) {
            Ok(ToWorker::Run { spec, backend, base_url, done, fault, share }) => {
                let recordings = attached_recordings(&data);
                start_job(&control, "an experiment is already running; stop it first", move |control| async move {
                    match recordings {
                        Ok(r) => run(*spec, backend, base_url, r, done, fault, share, control).await,
                        Err(e) => FromWorker::Failed { message: format!("the recordings did not reach the worker intact: {e}") },
                    }
                });
            }
            Ok(ToWorker::Demo { spec, backend, fault }) => {
                start_job(&control, "the demo is already running", move |control| async move {
                    let prepared = match DemoData::prepare(&spec) {
                        Ok(p) => p,
                        Err(e) => return FromWorker::Failed { message: e.to_string() },
                    };
                    if backend == BackendChoice::Auto {
                        post(&FromWorker::Status { text: "timing a few steps on each backend".into() });
                    }
                    let compute = pick_backend(backend, &spec.models, prepared.step(&spec)).await;
                    post(&FromWorker::Backend { label: compute.label.clone(), gpu: compute.kind == BackendKind::WebGpu });
                    let starting = |model: &str| post(&FromWorker::DemoModel { model: model.to_string() });
                    let mut host = WorkerHost::new(control.clone(), Vec::new(), fault);
                    host.index = 1; // a fault acts in the demo's first run
                    let mut outcome = train_demo(&spec, &prepared, &compute.device, &mut host, starting).await;
                    if let Err(TrainError::Read(why)) = &outcome
                        && compute.kind == BackendKind::WebGpu
                    {
                        // the GPU was lost: train again on the CPU, saying so
                        device::gpu_lost(why);
                        let cpu = device::cpu(&format!("the GPU failed during the demo ({why})"));
                        post(&FromWorker::Backend { label: cpu.label.clone(), gpu: false });
                        outcome = train_demo(&spec, &prepared, &cpu.device, &mut WorkerHost::new(control, Vec::new(), None), starting).await;
                    }
                    match outcome {
                        Ok(runs) => FromWorker::DemoDone { report: Box::new(prepared.report(&spec, runs)) },
                        Err(e) => FromWorker::Failed { message: e.to_string() },
                    }
                });
            }
            Ok(ToWorker::Parse) => parse_files(&data),
            Ok(ToWorker::OpenUrls { urls }) => open_urls(&urls),
            Ok(ToWorker::Assemble { file, choice }) => assemble(file, choice),
            Ok(ToWorker::Ping) => post(&FromWorker::Pong),
            Ok(ToWorker::Apply { model, backend }) => {
                let recordings = attached_recordings(&data);
                spawn_local(async move {
                    let message = match recordings {
                        Ok(r) => apply_model(&model, &r, backend).await,
                        Err(e) => Err(format!("the recordings did not reach the worker intact: {e}")),
                    };
                    post(&message.unwrap_or_else(|message| FromWorker::ApplyFailed { message }));
                });
            }
            Ok(ToWorker::Claimed { index, granted }) => {
                control.claimed.set(Some((index, granted)));
                control.wake();
            }
            Ok(ToWorker::Pause) => control.paused.set(true),
            Ok(ToWorker::Resume) => {
                control.paused.set(false);
                control.wake();
            }
            Ok(ToWorker::Stop) => {
                control.stop.set(true);
                control.paused.set(false);
                control.wake();
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


/// Applies a model file to each recording.
async fn apply_model(bytes: &[u8], recordings: &[Recording], backend: BackendChoice) -> Result<FromWorker, String> {
    if recordings.is_empty() {
        return Err("drop the recordings to apply the model to under “Your recordings” first".into());
    }
    let saved = SavedModel::from_bytes(bytes).map_err(|e| e.to_string())?;
    let mut compute = device::pick(backend).await;
    let mut results = Vec::new();
    for r in recordings {
        let mut outcome = apply(&saved, r, &compute.device).await;
        if let Err(TrainError::Read(why)) = &outcome
            && compute.kind == BackendKind::WebGpu
        {
            // the GPU was lost: this recording and the rest on the CPU, saying so
            device::gpu_lost(why);
            compute = device::cpu(&format!("the GPU failed while applying the model ({why})"));
            post(&FromWorker::Backend { label: compute.label.clone(), gpu: false });
            outcome = apply(&saved, r, &compute.device).await;
        }
        results.push(outcome.map_err(|e| format!("{}: {e}", r.name))?);
    }
    Ok(FromWorker::Applied { results })
}

/// Reports progress to the page and applies Pause / Stop between steps.
struct WorkerHost {
    control: Rc<Control>,
    index: usize,
    /// Every finished run, those kept from an earlier attempt first.
    finished: Vec<RunResult>,
    last_yield: web_time::Instant,
    /// Loss points not yet posted, and when progress was last posted: at most
    /// [`PROGRESS_EVERY_MS`] apart, each message carrying the points since the last.
    points: Vec<(usize, f32)>,
    last_post: web_time::Instant,
    last_validation: Option<f32>,
    /// A failure to act out in the second run (index 1), for tests.
    fault: Option<Fault>,
}

/// Progress goes to the page at most this often per worker (a small network reports every few
/// milliseconds; each message costs the page a render).
const PROGRESS_EVERY_MS: u128 = 100;

impl WorkerHost {
    fn new(control: Rc<Control>, done: Vec<RunResult>, fault: Option<Fault>) -> Self {
        let now = web_time::Instant::now();
        Self { control, index: 0, finished: done, last_yield: now, points: Vec::new(), last_post: now, last_validation: None, fault }
    }
}

impl Host for WorkerHost {
    async fn yield_now(&mut self) {
        // Messages (Pause, Stop) are handled only when the loop yields; each yield is a trip
        // through the event loop, so yield every 40 ms of work rather than every step.
        if self.last_yield.elapsed().as_millis() >= 40 || self.control.paused.get() {
            yield_to_events().await;
            while self.control.paused.get() && !self.control.stop.get() {
                self.control.wait().await;
            }
            self.last_yield = web_time::Instant::now();
        }
    }

    fn progress(&mut self, progress: &Progress) -> ControlFlow<()> {
        self.points.push((progress.step, progress.loss));
        // the last step, a new validation loss and Pause / Stop are shown at once
        let news = progress.step >= progress.steps || progress.validation_loss != self.last_validation || self.control.paused.get() || self.control.stop.get();
        if news || self.last_post.elapsed().as_millis() >= PROGRESS_EVERY_MS {
            post(&FromWorker::Progress { index: self.index, progress: progress.clone(), points: std::mem::take(&mut self.points) });
            self.last_post = web_time::Instant::now();
            self.last_validation = progress.validation_loss;
        }
        if self.control.stop.get() { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    }

    fn run_started(&mut self, _label: &str, index: usize, _total: usize) {
        self.index = index;
        self.points.clear();
        self.last_validation = None;
        post(&FromWorker::RunStarted { index });
        if index == 1 && self.fault == Some(Fault::WorkerDies) {
            // as an out-of-memory abort would: the module traps and the worker is gone
            panic!("the worker dies (a fault injected by a test)");
        }
    }

    async fn claim(&mut self, index: usize) -> bool {
        self.control.claimed.set(None);
        post(&FromWorker::Claim { index });
        loop {
            match self.control.claimed.take() {
                Some((i, granted)) if i == index => return granted,
                _ if self.control.stop.get() => return false,
                _ => self.control.wait().await,
            }
        }
    }

    fn fault(&self) -> Option<Fault> {
        self.fault.filter(|f| self.index == 1 && *f != Fault::WorkerDies)
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
#[allow(clippy::too_many_arguments)]
async fn run(spec: ExperimentSpec, backend: BackendChoice, base_url: String, files: Vec<Recording>, done: Vec<RunResult>, fault: Option<Fault>, mut share: Share, control: Rc<Control>) -> FromWorker {
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
    let compute = match step_shape(&spec, &recordings) {
        // gathering trains nothing: no backend to time
        _ if share == Share::Gather => device::cpu("gathering the finished runs"),
        Some(shape) => {
            if backend == BackendChoice::Auto {
                post(&FromWorker::Status { text: "timing a few training steps on each backend".into() });
            }
            pick_backend(backend, &spec.models, shape).await
        }
        None => device::pick(backend).await,
    };
    post(&FromWorker::Backend { label: compute.label.clone(), gpu: compute.kind == BackendKind::WebGpu });
    if compute.kind == BackendKind::WebGpu {
        // one GPU: a pool's workers would share it, not add to it
        share = Share::All;
    }
    let mut host = WorkerHost::new(control, done.clone(), fault);
    let first = resume_experiment(&spec, &recordings, truth.as_ref(), &compute.label, &compute.device, &mut host, &done, share).await;
    let result = match first {
        Err(TrainError::Read(why)) if compute.kind == BackendKind::WebGpu => {
            // the GPU device was lost: never use it again, keep the finished runs and do the
            // rest on the CPU
            device::gpu_lost(&why);
            let cpu = device::cpu(&format!("the GPU failed during the experiment ({why}); the finished runs are kept"));
            post(&FromWorker::Backend { label: cpu.label.clone(), gpu: false });
            host.fault = None;
            let done = std::mem::take(&mut host.finished);
            resume_experiment(&spec, &recordings, truth.as_ref(), &cpu.label, &cpu.device, &mut host, &done, share).await
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