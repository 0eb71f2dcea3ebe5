//! Training off the main thread: the page's own module, started a second time in a Web Worker.
//!
//! `public/worker.js` imports the app's JS bundle inside a module worker; `main` finds no
//! `window` there and calls [`serve`] instead of mounting the page. The page talks to it through
//! [`TrainingWorker`]. Messages are serde values encoded as CBOR bytes (decoding them is fast, and
//! CBOR keeps NaN, which JSON cannot; serde values built as JS objects took seconds to decode);
//! a recording's traces travel as a `Float32Array`.
//!
//! Dropped files are parsed in a worker too (a second [`TrainingWorker`], see `import.rs`): the
//! page passes the `File` objects, the worker reads them with `FileReaderSync` and sends back
//! what they hold. A worker that dies (an error event, or no answer to a heartbeat while a job
//! runs) is replaced at once and the page is told ([`FromWorker::Lost`]); nothing it had is lost.

use std::cell::{Cell, RefCell};
use std::ops::ControlFlow;
use std::rc::Rc;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent, Worker, WorkerOptions, WorkerType};

use crate::data::Recording;
use crate::data::formats::inventory::{Choice, Inventory};
use crate::data::formats::{self, FileBytes, source::ReadAt};
use crate::device::{self, BackendKind};
use crate::train::experiment::{DataSpec, ExperimentResult, ExperimentSpec, Plan, RunResult, resume_experiment};
use crate::plot::DataPreview;
use crate::train::demo::{DemoReport, DemoSpec, run_demo};
use crate::train::saved::{Application, EXTENSION, SavedModel, apply};
use crate::train::{Fault, Host, Progress, TrainError};

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
        prefer_gpu: bool,
        base_url: String,
        #[serde(default)]
        done: Vec<RunResult>,
        #[serde(default)]
        fault: Option<Fault>,
    },
    /// Train the built-in demo (Stop ends it, keeping what was learnt).
    Demo {
        spec: Box<DemoSpec>,
        prefer_gpu: bool,
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

/// A recording as a JS object: its fields without traces, and the traces as a `Float32Array`
/// whose buffer is added to `transfer` (moved to the other side, not copied again).
fn recording_to_js(r: &Recording, transfer: &js_sys::Array) -> JsValue {
    let meta = Recording {
        name: r.name.clone(),
        source: r.source.clone(),
        frames: r.frames,
        neurons: r.neurons,
        traces: Vec::new(),
        neuron_names: r.neuron_names.clone(),
        fps: r.fps,
        labels: r.labels.clone(),
    };
    let meta = to_js(&meta);
    let out = js_sys::Object::new();
    let traces = js_sys::Float32Array::from(r.traces.as_slice());
    transfer.push(&traces.buffer());
    let _ = js_sys::Reflect::set(&out, &"meta".into(), &meta);
    let _ = js_sys::Reflect::set(&out, &"traces".into(), &traces);
    out.into()
}

/// The recordings as a JS array for a message, their buffers added to `transfer`.
fn recordings_to_js<'a>(recordings: impl IntoIterator<Item = &'a Recording>, transfer: &js_sys::Array) -> js_sys::Array {
    recordings.into_iter().map(|r| recording_to_js(r, transfer)).collect()
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

/// Posts `message` with recordings beside it (`(file, recording)`), each as a traces array.
fn post_with_recordings(message: &FromWorker, recordings: &[(String, Recording)]) {
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

/// Files up to this size are read in one go: a reader walking an HDF5 file makes hundreds of
/// reads, each a `Blob.slice` read (WT_NoStim.mat, 14 MB: 430 ms read whole, 760 ms by parts).
const READ_WHOLE_BYTES: u64 = 64 << 20;

/// A file the reader was given, kept so that it can be read again with other arrays picked:
/// a dropped `File` (a handle, not its bytes) or a URL.
#[derive(Clone)]
enum Kept {
    File(web_sys::File),
    Url(String),
}

thread_local! {
    /// Every file read, by name (a later file of the same name replaces it).
    static KEPT: RefCell<Vec<(String, Kept)>> = const { RefCell::new(Vec::new()) };
}

fn keep(name: &str, kept: Kept) {
    KEPT.with_borrow_mut(|k| {
        k.retain(|(n, _)| n != name);
        k.push((name.to_string(), kept));
    });
}

/// Opens a kept file for reading: by offset when large (a `File`) or always (a URL).
fn open_kept(name: &str, kept: Kept) -> Result<FileBytes, String> {
    match kept {
        Kept::File(file) => {
            let len = file.size() as u64;
            if len > READ_WHOLE_BYTES {
                return Ok(FileBytes::lazy(BlobReader { file, len }));
            }
            web_sys::FileReaderSync::new()
                .and_then(|reader| reader.read_as_array_buffer(&file))
                .map(|buffer| FileBytes::from(js_sys::Uint8Array::new(&buffer).to_vec()))
                .map_err(|e| format!("{name}: the browser could not read the file: {e:?}"))
        }
        Kept::Url(url) => UrlReader::open(&url).map(FileBytes::lazy).map_err(|e| format!("{url}: {e}")),
    }
}

/// Reads the `File`s that came with a message (synchronously: workers may) and parses them as
/// one drop, telling the page which file it is reading.
fn parse_files(data: &JsValue) {
    let list = js_sys::Reflect::get(data, &"files".into()).ok().filter(|v| v.is_array()).map(|v| js_sys::Array::from(&v)).unwrap_or_default();
    let kept = list.iter().filter_map(|v| v.dyn_into::<web_sys::File>().ok()).map(|file| (file.name(), Kept::File(file))).collect();
    parse_drop(kept, None);
}

/// Opens files by URL (only the byte ranges used are fetched) and parses them as one drop.
fn open_urls(urls: &[String]) {
    parse_drop(urls.iter().map(|url| (url.clone(), Kept::Url(url.clone()))).collect(), None);
}

/// Reads a kept file again with the arrays `choice` picks.
fn assemble(file: String, choice: Choice) {
    match KEPT.with_borrow(|k| k.iter().find(|(n, _)| *n == file).map(|(_, kept)| kept.clone())) {
        Some(kept) => parse_drop(vec![(file.clone(), kept)], Some((file, choice))),
        None => {
            let message = format!("{file}: the reader no longer holds this file (it was restarted): drop it again");
            let drop = ParsedDrop { errors: vec![(file.clone(), message)], picked: Some((file, choice)), ..Default::default() };
            post(&FromWorker::Parsed { drop: Box::new(drop) });
        }
    }
}

/// Parses files as one drop (with the arrays `picked` for one of them) and posts what they
/// held, with the bytes read of each. The files are kept for later picks.
fn parse_drop(kept: Vec<(String, Kept)>, picked: Option<(String, Choice)>) {
    let started = web_time::Instant::now();
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for (name, k) in kept {
        keep(&name, k.clone());
        match open_kept(&name, k) {
            Ok(bytes) => {
                post(&FromWorker::Reading { file: name.clone(), bytes: bytes.len() as f64 });
                files.push((name, bytes));
            }
            Err(e) => errors.push((name, e)),
        }
    }
    let dropped = formats::load_files_picked(&files, picked.as_slice());
    errors.extend(dropped.errors.iter().map(|e| (e.file().to_string(), e.to_string())));
    let message = FromWorker::Parsed {
        drop: Box::new(ParsedDrop {
            listings: dropped.listings,
            side_files: dropped.side_files,
            notes: dropped.notes,
            errors,
            sizes: files.iter().map(|(n, b)| (n.clone(), b.len() as f64)).collect(),
            transferred: files.iter().map(|(n, b)| (n.clone(), b.bytes_read() as f64)).collect(),
            seconds: started.elapsed().as_secs_f64(),
            picked,
            recordings: Vec::new(),
        }),
    };
    post_with_recordings(&message, &dropped.recordings);
}

/// A file on a web server, read by HTTP range requests (synchronous requests: workers may).
/// Opening it asks for its first byte: a server that answers with the whole file (no range
/// support) or that the browser may not read from (no CORS) is refused with what to do.
struct UrlReader {
    url: String,
    len: u64,
}

// SAFETY: as for `BlobReader`: one thread, the handle never crosses to another.
unsafe impl Send for UrlReader {}
unsafe impl Sync for UrlReader {}

impl UrlReader {
    /// Synchronous GET of `bytes=start-end` (inclusive): the status and the response.
    fn get(url: &str, start: u64, end: u64) -> Result<(u16, web_sys::XmlHttpRequest), String> {
        let unreachable = |e: JsValue| {
            format!(
                "the browser could not read it ({}): the server may not allow other sites to read its files (CORS), or it cannot be reached",
                e.as_string().unwrap_or_else(|| format!("{e:?}"))
            )
        };
        let xhr = web_sys::XmlHttpRequest::new().map_err(unreachable)?;
        xhr.open_with_async("GET", url, false).map_err(unreachable)?;
        xhr.set_response_type(web_sys::XmlHttpRequestResponseType::Arraybuffer);
        xhr.set_request_header("Range", &format!("bytes={start}-{end}")).map_err(unreachable)?;
        xhr.send().map_err(unreachable)?;
        Ok((xhr.status().map_err(unreachable)?, xhr))
    }

    fn open(url: &str) -> Result<Self, String> {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err("not a web address (http:// or https://)".into());
        }
        let (status, xhr) = Self::get(url, 0, 0)?;
        match status {
            206 => {}
            200 => return Err("the server sends whole files only (no HTTP range requests), so it would be downloaded whole; download it and drop it instead".into()),
            0 => return Err("the browser could not read it: the server does not allow other sites to read its files (CORS), or it cannot be reached".into()),
            other => return Err(format!("the server answered HTTP {other}")),
        }
        // Content-Range: bytes 0-0/SIZE (cross-origin, the server must expose the header)
        let range = xhr.get_response_header("Content-Range").ok().flatten().unwrap_or_default();
        let len = range.rsplit('/').next().and_then(|s| s.trim().parse::<u64>().ok()).ok_or_else(|| {
            format!("the server did not say the file's size (Content-Range '{range}'; a server on another site must expose that header)")
        })?;
        Ok(Self { url: url.to_string(), len })
    }
}

impl ReadAt for UrlReader {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), String> {
        if buf.is_empty() {
            return Ok(());
        }
        let (status, xhr) = Self::get(&self.url, offset, offset + buf.len() as u64 - 1)?;
        if status != 206 {
            return Err(format!("the server answered HTTP {status} to a range request"));
        }
        let array = js_sys::Uint8Array::new(&xhr.response().map_err(|e| format!("{e:?}"))?);
        if array.length() as usize != buf.len() {
            return Err(format!("the server sent {} bytes at {offset} where {} were asked (the file changed?)", array.length(), buf.len()));
        }
        array.copy_to(buf);
        Ok(())
    }
}

/// A dropped `File` read by offset (`Blob.slice` read with `FileReaderSync`, which workers may
/// use), so that only the parts a reader uses are read: an NWB's raw imaging never is.
struct BlobReader {
    file: web_sys::File,
    len: u64,
}

// SAFETY: the wasm module is built without atomics, so it has one thread and the `File` handle
// never crosses to another; `hdf5-pure` asks for `Send + Sync` sources for native threads.
unsafe impl Send for BlobReader {}
unsafe impl Sync for BlobReader {}

impl ReadAt for BlobReader {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), String> {
        let end = offset + buf.len() as u64;
        let slice = self.file.slice_with_f64_and_f64(offset as f64, end as f64).map_err(|e| format!("the browser could not slice the file: {e:?}"))?;
        let buffer = web_sys::FileReaderSync::new()
            .and_then(|reader| reader.read_as_array_buffer(&slice))
            .map_err(|e| format!("the browser could not read the file: {e:?}"))?;
        let array = js_sys::Uint8Array::new(&buffer);
        if array.length() as usize != buf.len() {
            return Err(format!("the browser gave {} bytes at {offset} where {} were asked (the file changed?)", array.length(), buf.len()));
        }
        array.copy_to(buf);
        Ok(())
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
            Ok(ToWorker::Run { spec, prefer_gpu, base_url, done, fault }) => {
                let recordings = attached_recordings(&data);
                start_job(&control, "an experiment is already running; stop it first", move |control| async move {
                    match recordings {
                        Ok(r) => run(*spec, prefer_gpu, base_url, r, done, fault, control).await,
                        Err(e) => FromWorker::Failed { message: format!("the recordings did not reach the worker intact: {e}") },
                    }
                });
            }
            Ok(ToWorker::Demo { spec, prefer_gpu, fault }) => {
                start_job(&control, "the demo is already running", move |control| async move {
                    let compute = device::pick(prefer_gpu).await;
                    post(&FromWorker::Backend { label: compute.label.clone(), gpu: compute.kind == BackendKind::WebGpu });
                    let mut host = WorkerHost::new(control.clone(), Vec::new(), fault);
                    host.index = 1; // the demo is one run: a fault acts at once
                    let mut outcome = run_demo(&spec, &compute.device, &mut host).await;
                    if let Err(TrainError::Read(why)) = &outcome
                        && compute.kind == BackendKind::WebGpu
                    {
                        // the GPU was lost: train again on the CPU, saying so
                        device::gpu_lost(why);
                        let cpu = device::cpu(&format!("the GPU failed during the demo ({why})"));
                        post(&FromWorker::Backend { label: cpu.label.clone(), gpu: false });
                        outcome = run_demo(&spec, &cpu.device, &mut WorkerHost::new(control, Vec::new(), None)).await;
                    }
                    match outcome {
                        Ok(report) => FromWorker::DemoDone { report: Box::new(report) },
                        Err(e) => FromWorker::Failed { message: e.to_string() },
                    }
                });
            }
            Ok(ToWorker::Parse) => parse_files(&data),
            Ok(ToWorker::OpenUrls { urls }) => open_urls(&urls),
            Ok(ToWorker::Assemble { file, choice }) => assemble(file, choice),
            Ok(ToWorker::Ping) => post(&FromWorker::Pong),
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
    let mut compute = device::pick(prefer_gpu).await;
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
    /// A failure to act out in the second run (index 1), for tests.
    fault: Option<Fault>,
}

impl WorkerHost {
    fn new(control: Rc<Control>, done: Vec<RunResult>, fault: Option<Fault>) -> Self {
        Self { control, index: 0, finished: done, last_yield: web_time::Instant::now(), fault }
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
        if index == 1 && self.fault == Some(Fault::WorkerDies) {
            // as an out-of-memory abort would: the module traps and the worker is gone
            panic!("the worker dies (a fault injected by a test)");
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
async fn run(spec: ExperimentSpec, prefer_gpu: bool, base_url: String, files: Vec<Recording>, done: Vec<RunResult>, fault: Option<Fault>, control: Rc<Control>) -> FromWorker {
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
    let mut host = WorkerHost::new(control, done.clone(), fault);
    let first = resume_experiment(&spec, &recordings, truth.as_ref(), &compute.label, &compute.device, &mut host, &done).await;
    let result = match first {
        Err(TrainError::Read(why)) if compute.kind == BackendKind::WebGpu => {
            // the GPU device was lost: never use it again, keep the finished runs and do the
            // rest on the CPU
            device::gpu_lost(&why);
            let cpu = device::cpu(&format!("the GPU failed during the experiment ({why}); the finished runs are kept"));
            post(&FromWorker::Backend { label: cpu.label.clone(), gpu: false });
            host.fault = None;
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

/// How long a worker running a job may go without a word before it is taken for dead. Its
/// loop answers a ping every 5 s whenever it yields; training yields every 40 ms, but scoring a
/// run (evaluation, rollouts, reference graphs) does not yield on the CPU, so the limit is
/// generous: a hung worker is caught in minutes, a crashed one at once (its error event).
const SILENCE_LIMIT_MS: f64 = 300_000.0;

/// The page's handle on a worker (training, or reading files). Messages sent before the worker
/// is ready wait. When the worker dies — an error event (a panic, an out-of-memory abort), or
/// silence past [`SILENCE_LIMIT_MS`] while a job runs — it is terminated, a new one is started
/// in its place, and `on_message` hears [`FromWorker::Lost`].
#[derive(Clone)]
pub struct TrainingWorker {
    inner: Rc<Inner>,
}

struct Inner {
    worker: RefCell<Option<Worker>>,
    ready: Cell<bool>,
    /// Messages (with the buffers they transfer) sent before the worker was ready.
    waiting: RefCell<Vec<(JsValue, js_sys::Array)>>,
    on_message: RefCell<Box<dyn FnMut(FromWorker)>>,
    /// When the worker last said anything (ms since the epoch).
    heard: Cell<f64>,
    /// Jobs under way (an experiment or the demo, applying a model, reading a drop of files).
    busy: Cell<usize>,
}

/// Whether `message` ends the job under way.
fn ends_job(message: &FromWorker) -> bool {
    matches!(message, FromWorker::Done { .. } | FromWorker::DemoDone { .. } | FromWorker::Failed { .. } | FromWorker::Applied { .. } | FromWorker::ApplyFailed { .. } | FromWorker::Parsed { .. })
}

/// A message from the worker: CBOR bytes, or an object with them and recordings beside them.
fn receive(data: &JsValue) -> Result<FromWorker, String> {
    if data.is_instance_of::<js_sys::Uint8Array>() {
        return from_js(data);
    }
    let message = js_sys::Reflect::get(data, &"message".into()).map_err(|_| "a message without its body".to_string())?;
    let mut message: FromWorker = from_js(&message)?;
    if let FromWorker::Parsed { drop } = &mut message {
        let recordings = &mut drop.recordings;
        let files = js_sys::Reflect::get(data, &"files".into()).ok().filter(|v| v.is_array()).map(|v| js_sys::Array::from(&v)).unwrap_or_default();
        for (file, value) in files.iter().zip(attached_recordings(data)?) {
            recordings.push((file.as_string().unwrap_or_default(), value));
        }
    }
    Ok(message)
}

impl TrainingWorker {
    /// Starts `public/worker.js`; `on_message` receives every message from it.
    pub fn start(on_message: impl FnMut(FromWorker) + 'static) -> Result<Self, String> {
        let inner = Rc::new(Inner {
            worker: RefCell::new(None),
            ready: Cell::new(false),
            waiting: RefCell::new(Vec::new()),
            on_message: RefCell::new(Box::new(on_message)),
            heard: Cell::new(js_sys::Date::now()),
            busy: Cell::new(0),
        });
        Self::spawn(&inner)?;
        let this = Self { inner };
        this.watch();
        Ok(this)
    }

    fn spawn(inner: &Rc<Inner>) -> Result<(), String> {
        let options = WorkerOptions::new();
        options.set_type(WorkerType::Module);
        let worker = Worker::new_with_options("public/worker.js", &options).map_err(|e| format!("could not start the worker: {e:?}"))?;
        let me = inner.clone();
        let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let started = web_time::Instant::now();
            me.heard.set(js_sys::Date::now());
            match receive(&event.data()) {
                Ok(FromWorker::Ready) => {
                    me.ready.set(true);
                    if let Some(w) = me.worker.borrow().as_ref() {
                        for (m, transfer) in me.waiting.borrow_mut().drain(..) {
                            let _ = w.post_message_with_transfer(&m, &transfer);
                        }
                    }
                }
                Ok(FromWorker::Pong) => {}
                Ok(m) => {
                    if ends_job(&m) {
                        me.busy.set(me.busy.get().saturating_sub(1));
                    }
                    (me.on_message.borrow_mut())(m);
                }
                Err(e) => (me.on_message.borrow_mut())(FromWorker::Failed { message: format!("unreadable message from the worker: {e}") }),
            }
            // the page must stay responsive while training: say when handling a message was not
            let ms = started.elapsed().as_secs_f64() * 1e3;
            if ms > 50.0 {
                log::warn!("handling a message from the worker took {ms:.0} ms");
            }
        });
        worker.set_onmessage(Some(handler.as_ref().unchecked_ref()));
        handler.forget();
        let me = inner.clone();
        let on_error = Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |e: web_sys::ErrorEvent| {
            e.prevent_default();
            let why = e.message();
            log::error!("worker error: {why}");
            Self::replace(&me, if why.is_empty() { "it stopped with an error".into() } else { why });
        });
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        on_error.forget();
        inner.ready.set(false);
        inner.heard.set(js_sys::Date::now());
        *inner.worker.borrow_mut() = Some(worker);
        Ok(())
    }

    /// Ends a dead worker, starts a new one in its place and tells the page.
    fn replace(inner: &Rc<Inner>, why: String) {
        if let Some(old) = inner.worker.borrow_mut().take() {
            old.terminate();
        }
        inner.waiting.borrow_mut().clear();
        let was_busy = inner.busy.replace(0) > 0;
        let restarted = match Self::spawn(inner) {
            Ok(()) => "a new worker was started".to_string(),
            Err(e) => format!("no new worker could be started ({e}); reload the page"),
        };
        let job = if was_busy { "the job it was doing did not finish" } else { "it was idle" };
        (inner.on_message.borrow_mut())(FromWorker::Lost { message: format!("the worker stopped ({why}); {job}; {restarted}") });
    }

    /// Pings the worker every 5 s; one that says nothing for a minute while a job runs is dead.
    fn watch(&self) {
        let inner = Rc::downgrade(&self.inner);
        let ping = to_js(&ToWorker::Ping);
        let wrapped = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&wrapped, &"message".into(), &ping);
        gloo::timers::callback::Interval::new(5_000, move || {
            let Some(inner) = inner.upgrade() else { return };
            if !inner.ready.get() {
                return;
            }
            if let Some(w) = inner.worker.borrow().as_ref() {
                let _ = w.post_message(&wrapped);
            }
            let silent = js_sys::Date::now() - inner.heard.get();
            if inner.busy.get() > 0 && silent > SILENCE_LIMIT_MS {
                Self::replace(&inner, format!("no answer for {:.0} s", silent / 1e3));
            }
        })
        .forget();
    }

    /// Sends a message (with recordings for "your files").
    pub fn send(&self, message: &ToWorker, recordings: &[Arc<Recording>]) {
        let out = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&out, &"message".into(), &to_js(message));
        let transfer = js_sys::Array::new();
        if !recordings.is_empty() {
            let list = recordings_to_js(recordings.iter().map(|r| &**r), &transfer);
            let _ = js_sys::Reflect::set(&out, &"recordings".into(), &list);
        }
        self.post(message, out.into(), transfer);
    }

    /// Sends the browser's `File`s to be read and parsed in the worker (never on the page).
    pub fn parse(&self, files: &[web_sys::File]) {
        let out = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&out, &"message".into(), &to_js(&ToWorker::Parse));
        let list: js_sys::Array = files.iter().collect();
        let _ = js_sys::Reflect::set(&out, &"files".into(), &list);
        self.post(&ToWorker::Parse, out.into(), js_sys::Array::new());
    }

    fn post(&self, message: &ToWorker, envelope: JsValue, transfer: js_sys::Array) {
        if matches!(message, ToWorker::Run { .. } | ToWorker::Demo { .. } | ToWorker::Apply { .. } | ToWorker::Parse | ToWorker::OpenUrls { .. } | ToWorker::Assemble { .. }) {
            self.inner.busy.set(self.inner.busy.get() + 1);
            self.inner.heard.set(js_sys::Date::now());
        }
        if self.inner.ready.get() {
            if let Some(w) = self.inner.worker.borrow().as_ref() {
                let _ = w.post_message_with_transfer(&envelope, &transfer);
            }
        } else {
            self.inner.waiting.borrow_mut().push((envelope, transfer));
        }
    }
}
