//! The page's side: a handle on one worker, restarted when it dies.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, Worker, WorkerOptions, WorkerType};

use super::{FromWorker, ToWorker, attached_recordings, from_js, recordings_to_js, to_js};
use crate::data::Recording;

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
    /// The build of the app the worker runs ([`super::build_for`]).
    build: Cell<&'static str>,
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
    /// Starts `public/worker.js` on `build` of the app ([`super::build_for`]); `on_message`
    /// receives every message from it.
    pub fn start(build: &'static str, on_message: impl FnMut(FromWorker) + 'static) -> Result<Self, String> {
        let inner = Rc::new(Inner {
            build: Cell::new(build),
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
        let url = format!("public/worker.js?module={}", inner.build.get());
        let worker = Worker::new_with_options(&url, &options).map_err(|e| format!("could not start the worker: {e:?}"))?;
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
        let restarted = match Self::restart(inner) {
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

