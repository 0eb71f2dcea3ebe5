//! The lab's workers: an experiment's runs shared out over one worker per core.
//!
//! The first worker reads the data and picks the backend. On WebGPU it trains every run (one
//! GPU: more workers would share it, not add to it). On the CPU the page starts the others too,
//! and each worker, when free, asks for the next run in the plan that no worker has taken (so
//! a worker stuck with a costly model does not hold the others up); each is its own module
//! instance, seeded per run as one worker would be, so the numbers are the same as one worker's.
//! When every part has finished, the first worker gathers their runs into one result (training
//! nothing). Pause, Resume and Stop go to every worker; when one fails or dies the others are
//! stopped, and what finished is kept.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use super::{FromWorker, ToWorker, TrainingWorker};
use crate::data::Recording;
use crate::device::BackendChoice;
use crate::train::Fault;
use crate::train::experiment::{ExperimentSpec, RunResult, Share};

/// The most workers a pool starts: a core each, at most 4, and at most one per GB the browser
/// says the computer has (`navigator.deviceMemory`, where it says).
pub fn pool_size() -> usize {
    let navigator = js_sys::Reflect::get(&js_sys::global(), &"navigator".into()).unwrap_or_default();
    let number = |key: &str| js_sys::Reflect::get(&navigator, &key.into()).ok().and_then(|v| v.as_f64()).filter(|v| v.is_finite() && *v >= 1.0);
    let cores = number("hardwareConcurrency").unwrap_or(1.0) as usize;
    let memory_gb = number("deviceMemory").map_or(usize::MAX, |gb| gb as usize);
    cores.min(4).min(memory_gb).max(1)
}

/// An experiment the pool is running.
struct Job {
    spec: ExperimentSpec,
    base_url: String,
    recordings: Vec<Arc<Recording>>,
    fault: Option<Fault>,
    /// Runs kept from an earlier attempt (not trained again).
    done: Vec<RunResult>,
    /// Workers training it (1 until the first says it is on the CPU).
    parts: usize,
    /// Every run finished so far, by any part.
    runs: Vec<RunResult>,
    /// The first worker's backend, as it said it.
    backend: String,
    /// Whether the first worker has said which backend it uses (and helpers were started).
    settled: bool,
    gathering: bool,
    /// Runs a worker has taken (asked for first).
    claimed: std::collections::BTreeSet<usize>,
    /// The first part that failed or died: told once the other parts have finished theirs.
    failure: Option<FromWorker>,
}

struct Inner {
    workers: RefCell<Vec<TrainingWorker>>,
    /// Which workers have an experiment job in flight (sent, not yet ended).
    live: RefCell<Vec<bool>>,
    size: usize,
    job: RefCell<Option<Job>>,
    on_message: RefCell<Box<dyn FnMut(usize, FromWorker)>>,
}

/// See the module docs. `on_message` hears every message the lab needs, with the worker
/// (0-based) it came from.
#[derive(Clone)]
pub struct Pool {
    inner: Rc<Inner>,
}

impl Pool {
    /// A pool of at most `size` workers; the first is started now, the others when a run needs them.
    pub fn start(size: usize, on_message: impl FnMut(usize, FromWorker) + 'static) -> Result<Self, String> {
        let inner = Rc::new(Inner {
            workers: RefCell::new(Vec::new()),
            live: RefCell::new(Vec::new()),
            size: size.max(1),
            job: RefCell::new(None),
            on_message: RefCell::new(Box::new(on_message)),
        });
        let pool = Self { inner };
        pool.worker(0)?;
        Ok(pool)
    }

    /// The first worker (which also applies saved models).
    pub fn first(&self) -> Option<TrainingWorker> {
        self.inner.workers.borrow().first().cloned()
    }

    /// Worker `k`, started when it is not yet.
    fn worker(&self, k: usize) -> Result<TrainingWorker, String> {
        if let Some(w) = self.inner.workers.borrow().get(k) {
            return Ok(w.clone());
        }
        let me = Rc::downgrade(&self.inner);
        // the first worker starts on the page's build ([`Pool::run`] switches it when a run
        // needs the other); the others train on the CPU, which the page's build has
        let worker = TrainingWorker::start(super::THIS_BUILD, move |m| {
            if let Some(inner) = me.upgrade() {
                Pool { inner }.receive(k, m);
            }
        })?;
        self.inner.workers.borrow_mut().push(worker.clone());
        self.inner.live.borrow_mut().push(false);
        Ok(worker)
    }

    /// Sends an experiment job to worker `k`.
    fn send_job(&self, k: usize, message: &ToWorker, recordings: &[Arc<Recording>]) -> Result<(), String> {
        let worker = self.worker(k)?;
        self.inner.live.borrow_mut()[k] = true;
        worker.send(message, recordings);
        Ok(())
    }

    /// Runs `spec` (with `recordings` for "your files"), keeping the runs in `done`.
    pub fn run(&self, spec: ExperimentSpec, backend: BackendChoice, base_url: String, done: Vec<RunResult>, fault: Option<Fault>, recordings: Vec<Arc<Recording>>) {
        if self.inner.live.borrow().iter().any(|l| *l) {
            self.tell(0, FromWorker::Failed { message: "the workers are still stopping the last experiment; try again in a moment".into() });
            return;
        }
        if let Err(e) = self.worker(0).and_then(|w| w.switch_build(super::build_for(backend))) {
            self.tell(0, FromWorker::Failed { message: e });
            return;
        }
        let size = self.inner.size;
        let share = if size > 1 { Share::Pool } else { Share::All };
        let message = ToWorker::Run { spec: Box::new(spec.clone()), backend, base_url: base_url.clone(), done: done.clone(), fault, share };
        *self.inner.job.borrow_mut() = Some(Job { spec, base_url, recordings: recordings.clone(), fault, runs: done.clone(), done, parts: 1, backend: String::new(), settled: false, gathering: false, claimed: Default::default(), failure: None });
        if let Err(e) = self.send_job(0, &message, &recordings) {
            *self.inner.job.borrow_mut() = None;
            self.tell(0, FromWorker::Failed { message: e });
        }
    }

    /// Sends Pause, Resume or Stop to every worker.
    pub fn tell_all(&self, message: &ToWorker) {
        for w in self.inner.workers.borrow().iter() {
            w.send(message, &[]);
        }
    }

    fn tell(&self, from: usize, message: FromWorker) {
        (self.inner.on_message.borrow_mut())(from, message);
    }

    /// The first worker said it trains on the CPU: workers 1.. start on their parts of the job.
    fn start_helpers(&self) -> Result<usize, String> {
        let parts = self.inner.size;
        let (messages, recordings) = {
            let job = self.inner.job.borrow();
            let Some(job) = job.as_ref() else { return Ok(1) };
            let message = |_| ToWorker::Run {
                spec: Box::new(job.spec.clone()),
                backend: BackendChoice::Cpu,
                base_url: job.base_url.clone(),
                done: job.done.clone(),
                fault: job.fault,
                share: Share::Pool,
            };
            ((1..parts).map(message).collect::<Vec<_>>(), job.recordings.clone())
        };
        for (k, m) in (1..parts).zip(messages) {
            self.send_job(k, &m, &recordings)?;
            if let Some(job) = self.inner.job.borrow_mut().as_mut() {
                job.parts = k + 1;
            }
        }
        Ok(parts)
    }

    /// Ends the job with a failure, told to the lab (which keeps the finished runs).
    fn fail(&self, failure: FromWorker) {
        *self.inner.job.borrow_mut() = None;
        self.tell(0, failure);
    }

    /// A message from worker `k`.
    fn receive(&self, k: usize, message: FromWorker) {
        let ends = matches!(message, FromWorker::Done { .. } | FromWorker::Failed { .. } | FromWorker::Lost { .. });
        let was_live = self.inner.live.borrow().get(k).copied().unwrap_or(false);
        if ends && let Some(l) = self.inner.live.borrow_mut().get_mut(k) {
            *l = false;
        }
        let member = was_live && self.inner.job.borrow().is_some();
        if !member {
            // not the experiment's: applying a model, a worker that died while idle, and what
            // the workers stopped after another failed still finished
            match message {
                FromWorker::Done { .. } | FromWorker::Failed { .. } | FromWorker::Backend { .. } | FromWorker::Status { .. } | FromWorker::Planned { .. } | FromWorker::Data { .. } | FromWorker::RunStarted { .. } | FromWorker::Progress { .. } if was_live => {}
                m => self.tell(k, m),
            }
            return;
        }
        let (gathering, settled) = self.inner.job.borrow().as_ref().map_or((false, true), |j| (j.gathering, j.settled));
        match message {
            FromWorker::Backend { label, gpu } if k == 0 && !gathering => {
                let mut parts = 1;
                if !settled {
                    if let Some(job) = self.inner.job.borrow_mut().as_mut() {
                        job.settled = true;
                    }
                    if !gpu && self.inner.size > 1 {
                        parts = self.start_helpers().unwrap_or_else(|e| {
                            log::warn!("no more workers could be started ({e})");
                            self.inner.job.borrow().as_ref().map_or(1, |j| j.parts)
                        });
                    }
                } else {
                    parts = self.inner.job.borrow().as_ref().map_or(1, |j| j.parts);
                }
                let label = if parts > 1 { format!("{label} · {parts} workers, one per core") } else { label };
                if let Some(job) = self.inner.job.borrow_mut().as_mut() {
                    job.backend = label.clone();
                }
                self.tell(0, FromWorker::Backend { label, gpu });
            }
            // the data, the plan and the status come from the first worker only, and not again
            // while it gathers
            FromWorker::Backend { .. } | FromWorker::Status { .. } | FromWorker::Planned { .. } | FromWorker::Data { .. } if k > 0 || gathering => {}
            FromWorker::Claim { index } => {
                let granted = self.inner.job.borrow_mut().as_mut().is_some_and(|j| j.claimed.insert(index));
                if let Some(w) = self.inner.workers.borrow().get(k) {
                    w.send(&ToWorker::Claimed { index, granted }, &[]);
                }
            }
            FromWorker::RunFinished { index, run } => {
                if let Some(job) = self.inner.job.borrow_mut().as_mut() {
                    job.runs.retain(|r| r.index != run.index);
                    job.runs.push((*run).clone());
                }
                self.tell(k, FromWorker::RunFinished { index, run });
            }
            FromWorker::Done { mut result } => {
                let parts = self.inner.job.borrow().as_ref().map_or(1, |j| j.parts);
                if gathering || parts == 1 {
                    if gathering && let Some(job) = self.inner.job.borrow().as_ref() {
                        result.backend = job.backend.clone();
                    }
                    *self.inner.job.borrow_mut() = None;
                    return self.tell(0, FromWorker::Done { result });
                }
                if self.inner.live.borrow().iter().take(parts).any(|l| *l) {
                    return; // other parts still train
                }
                // every part has ended: the first worker gathers their runs into one result (or
                // the lab hears why a part did not finish)
                let failure = self.inner.job.borrow_mut().as_mut().and_then(|j| j.failure.take());
                if let Some(failure) = failure {
                    return self.fail(failure);
                }
                let (message, recordings) = {
                    let mut job = self.inner.job.borrow_mut();
                    let Some(job) = job.as_mut() else { return };
                    job.gathering = true;
                    let mut runs = job.runs.clone();
                    runs.sort_by_key(|r| r.index);
                    let message = ToWorker::Run { spec: Box::new(job.spec.clone()), backend: BackendChoice::Cpu, base_url: job.base_url.clone(), done: runs, fault: None, share: Share::Gather };
                    (message, job.recordings.clone())
                };
                if let Err(e) = self.send_job(0, &message, &recordings) {
                    *self.inner.job.borrow_mut() = None;
                    self.tell(0, FromWorker::Failed { message: e });
                }
            }
            // one part failed or its worker died: the others finish their runs (nothing is cut
            // short), then the lab hears of it and keeps every finished run
            m @ (FromWorker::Failed { .. } | FromWorker::Lost { .. }) => {
                let parts = self.inner.job.borrow().as_ref().map_or(1, |j| j.parts);
                if self.inner.live.borrow().iter().take(parts).any(|l| *l) {
                    if let Some(job) = self.inner.job.borrow_mut().as_mut() {
                        job.failure.get_or_insert(m);
                    }
                    return;
                }
                let first = self.inner.job.borrow_mut().as_mut().and_then(|j| j.failure.take());
                self.fail(first.unwrap_or(m));
            }
            m => self.tell(k, m),
        }
    }
}
