//! The page's side: a handle on one worker, restarted when it dies.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, Worker, WorkerOptions, WorkerType};

use super::{FromWorker, ToWorker, attached_recordings, from_js, recordings_to_js, to_js};
use crate::data::Recording;

/// How long a job may go without a word from it before its worker is taken for dead. A job
/// says something every 100 ms while it trains, but scoring a run (evaluation, rollouts,
/// reference graphs) says nothing and does not yield on the CPU, so the limit is generous: a
/// hung worker is caught in minutes, a crashed one at once (its error event). A paused job is
/// silent by design and is not timed.
const SILENCE_LIMIT_MS: f64 = 300_000.0;

/// How long a new worker may take to say it is ready: fetching and compiling its build took
/// 1–3 s on a 2-core laptop (more under load). One that has not started by then is stuck
/// (a fetch of its build that never answers fires no event at all) and is started again.
const START_LIMIT_MS: f64 = 30_000.0;

/// Starts that may fail in a row (an error, or no Ready in time) before the page is told: the
/// first failure starts another worker, which gets what waited for the first; a build that
/// cannot load here is not started again until the next job.
const FAILED_STARTS_LIMIT: u32 = 2;

/// The page's handle on a worker (training, or reading files). Messages sent before the worker
/// is ready wait for it. The page never waits on a worker for ever:
/// - a worker that dies (an error event: a panic, an out-of-memory abort), or whose job says
///   nothing for [`SILENCE_LIMIT_MS`] (silent, or answering pings while its job is stuck), is
///   terminated, a new one is started in its place, and `on_message` hears
///   [`FromWorker::Lost`];
/// - a worker that fails to start (its build did not load, or no Ready within
///   [`START_LIMIT_MS`]) is started again with what waited for it, and after
///   [`FAILED_STARTS_LIMIT`] failed starts `on_message` hears [`FromWorker::Lost`] and the next
///   job starts a new one.
#[derive(Clone)]
pub struct TrainingWorker {
    inner: Rc<Inner>,
}

struct Inner {
    /// The build of the app the worker runs ([`super::build_for`]).
    build: Cell<&'static str>,
    worker: RefCell<Option<Worker>>,
    ready: Cell<bool>,
    /// Starts that failed since the last worker that said Ready.
    failed_starts: Cell<u32>,
    /// Messages (with the buffers they transfer) sent before the worker was ready.
    waiting: RefCell<Vec<(JsValue, js_sys::Array)>>,
    on_message: RefCell<Box<dyn FnMut(FromWorker)>>,
    /// When the worker last said anything (ms since the epoch), its pings' answers included.
    heard: Cell<f64>,
    /// When the job under way was sent or last said anything (its pings' answers excluded).
    job_heard: Cell<f64>,
    /// The page paused the job (which then says nothing until Resume or Stop).
    paused: Cell<bool>,
    /// Jobs under way (an experiment or the demo, applying a model, reading a drop of files).
    busy: Cell<usize>,
}

/// Whether `message` ends the job under way.
fn ends_job(message: &FromWorker) -> bool {
    matches!(message, FromWorker::Done { .. } | FromWorker::DemoDone { .. } | FromWorker::Failed { .. } | FromWorker::Applied { .. } | FromWorker::ApplyFailed { .. } | FromWorker::Parsed { .. })
}

/// Why the worker's build failed to load, when `data` is public/worker.js's word that it did.
fn failed_to_start(data: &JsValue) -> Option<String> {
    if !data.is_object() || data.is_instance_of::<js_sys::Uint8Array>() {
        return None;
    }
    js_sys::Reflect::get(data, &"failedToStart".into()).ok().and_then(|v| v.as_string())
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
    /// Starts `public/worker.js` on `build` of the app ([`super::build_for`]); `on_message`
    /// receives every message from it.
    pub fn start(build: &'static str, on_message: impl FnMut(FromWorker) + 'static) -> Result<Self, String> {
        let inner = Rc::new(Inner {
            build: Cell::new(build),
            worker: RefCell::new(None),
            ready: Cell::new(false),
            failed_starts: Cell::new(0),
            waiting: RefCell::new(Vec::new()),
            on_message: RefCell::new(Box::new(on_message)),
            heard: Cell::new(js_sys::Date::now()),
            job_heard: Cell::new(js_sys::Date::now()),
            paused: Cell::new(false),
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
        let url = format!("public/worker.js?module={}", inner.build.get());
        let worker = Worker::new_with_options(&url, &options).map_err(|e| format!("could not start the worker: {e:?}"))?;
        let me = inner.clone();
        let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let started = web_time::Instant::now();
            me.heard.set(js_sys::Date::now());
            if let Some(why) = failed_to_start(&event.data()) {
                Self::failed_start(&me, format!("its build could not be loaded: {why}"));
                return;
            }
            match receive(&event.data()) {
                Ok(FromWorker::Ready) => {
                    me.ready.set(true);
                    me.failed_starts.set(0);
                    if let Some(w) = me.worker.borrow().as_ref() {
                        for (m, transfer) in me.waiting.borrow_mut().drain(..) {
                            let _ = w.post_message_with_transfer(&m, &transfer);
                        }
                    }
                }
                Ok(FromWorker::Pong) => {}
                Ok(m) => {
                    me.job_heard.set(js_sys::Date::now());
                    if ends_job(&m) {
                        me.busy.set(me.busy.get().saturating_sub(1));
                        me.paused.set(me.paused.get() && me.busy.get() > 0);
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
            let why = if why.is_empty() { "it stopped with an error".into() } else { why };
            if me.ready.get() { Self::replace(&me, why) } else { Self::failed_start(&me, why) }
        });
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        on_error.forget();
        inner.ready.set(false);
        inner.heard.set(js_sys::Date::now());
        *inner.worker.borrow_mut() = Some(worker);
        Ok(())
    }

    /// Starts the worker again on `build` when it runs another and has no job (the page's
    /// handles on it stay valid); a busy worker keeps its build.
    pub fn switch_build(&self, build: &'static str) -> Result<(), String> {
        if self.inner.build.get() == build || self.inner.busy.get() > 0 {
            return Ok(());
        }
        self.inner.build.set(build);
        Self::restart(&self.inner)
    }

    /// Terminates the worker (what waited for it is dropped) and starts a new one on its build.
    fn restart(inner: &Rc<Inner>) -> Result<(), String> {
        if let Some(old) = inner.worker.borrow_mut().take() {
            old.terminate();
        }
        inner.waiting.borrow_mut().clear();
        Self::spawn(inner)
    }

    /// Ends a dead worker, starts a new one in its place and tells the page.
    fn replace(inner: &Rc<Inner>, why: String) {
        let was_busy = inner.busy.replace(0) > 0;
        inner.paused.set(false);
        let restarted = match Self::restart(inner) {
            Ok(()) => "a new worker was started".to_string(),
            Err(e) => format!("no new worker could be started ({e}); reload the page"),
        };
        let job = if was_busy { "the job it was doing did not finish" } else { "it was idle" };
        (inner.on_message.borrow_mut())(FromWorker::Lost { message: format!("the worker stopped ({why}); {job}; {restarted}") });
    }

    /// A worker that never said Ready: nothing had reached it, so another is started and what
    /// waited goes to that one; after [`FAILED_STARTS_LIMIT`] such starts the page is told and
    /// the next job starts a new worker.
    fn failed_start(inner: &Rc<Inner>, mut why: String) {
        let failed = inner.failed_starts.get() + 1;
        inner.failed_starts.set(failed);
        if let Some(old) = inner.worker.borrow_mut().take() {
            old.terminate();
        }
        if failed < FAILED_STARTS_LIMIT {
            log::warn!("a worker did not start ({why}); starting another");
            match Self::spawn(inner) {
                Ok(()) => return,
                Err(e) => why = format!("{why}; no other could be started: {e}"),
            }
        }
        log::error!("a worker did not start ({why}); {failed} tries");
        inner.waiting.borrow_mut().clear();
        inner.ready.set(false);
        inner.paused.set(false);
        let job = if inner.busy.replace(0) > 0 { "the job it was sent did not run" } else { "it had no job" };
        let message = format!("the worker stopped ({why}); it did not start in {failed} tries; {job}; the next try starts a new one (or reload the page)");
        (inner.on_message.borrow_mut())(FromWorker::Lost { message });
    }

    /// Every 5 s: a worker that has not said Ready [`START_LIMIT_MS`] after it started has
    /// failed to start; a ready one is pinged, and one whose job (not paused) has said nothing
    /// for [`SILENCE_LIMIT_MS`] is dead, whether it answers pings (the job is stuck) or not.
    fn watch(&self) {
        let inner = Rc::downgrade(&self.inner);
        let ping = to_js(&ToWorker::Ping);
        let wrapped = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&wrapped, &"message".into(), &ping);
        gloo::timers::callback::Interval::new(5_000, move || {
            let Some(inner) = inner.upgrade() else { return };
            if inner.worker.borrow().is_none() {
                return;
            }
            let now = js_sys::Date::now();
            if !inner.ready.get() {
                let starting = now - inner.heard.get();
                if starting > START_LIMIT_MS {
                    Self::failed_start(&inner, format!("it did not say it was ready within {:.0} s", starting / 1e3));
                }
                return;
            }
            if let Some(w) = inner.worker.borrow().as_ref() {
                let _ = w.post_message(&wrapped);
            }
            let quiet = now - inner.job_heard.get();
            if inner.busy.get() > 0 && !inner.paused.get() && quiet > SILENCE_LIMIT_MS {
                let why = if now - inner.heard.get() > SILENCE_LIMIT_MS {
                    format!("no answer for {:.0} s", quiet / 1e3)
                } else {
                    format!("its job said nothing for {:.0} s, though the worker answered", quiet / 1e3)
                };
                Self::replace(&inner, why);
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
        if self.inner.worker.borrow().is_none() {
            // the last starts failed and none was started again: this job starts one
            if let Err(e) = Self::spawn(&self.inner) {
                (self.inner.on_message.borrow_mut())(FromWorker::Lost { message: format!("no worker could be started ({e}); reload the page") });
                return;
            }
        }
        match message {
            ToWorker::Run { .. } | ToWorker::Demo { .. } | ToWorker::Apply { .. } | ToWorker::Parse | ToWorker::OpenUrls { .. } | ToWorker::Assemble { .. } => {
                self.inner.busy.set(self.inner.busy.get() + 1);
                self.inner.job_heard.set(js_sys::Date::now());
            }
            ToWorker::Pause => self.inner.paused.set(true),
            ToWorker::Resume | ToWorker::Stop => {
                self.inner.paused.set(false);
                self.inner.job_heard.set(js_sys::Date::now());
            }
            ToWorker::Ping | ToWorker::Claimed { .. } => {}
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

