//! The lab: presets, an experiment builder, a queue of runs trained in the worker with Pause,
//! Resume and Stop, the live loss, and the results. The experiment lives in the page's URL
//! (`#spec=…`, or `#preset=NAME`; `&run` starts it on opening), so a link reproduces it.

use std::collections::BTreeMap;
use std::sync::Arc;

use leptos::prelude::*;
use wasm_bindgen::JsValue;

use super::UrlSettings;
use super::chart::{LossChart, PlotCanvas, download_bytes, download_text};
use super::import::Library;
use super::keep::{self, KeptExperiment};
use super::lesson::Lesson;
use super::results::Results;
use super::worm::{OnTheWorm, WormView};
use crate::worker::pool::pool_size;
use crate::worker::{FromWorker, Pool, ToWorker, TrainingWorker};
use crate::data::Recording;
use crate::data::reference::{KnownGraph, MAX_REFERENCE_BYTES};
use crate::device::BackendChoice;
use crate::model::{ModelKind, ModelSpec};
use crate::data::Labels;
use crate::plot::{DataPreview, LossSeries, Raster};
use crate::train::experiment::{DataSpec, ExperimentResult, ExperimentSpec, Plan, Protocol, RunResult, TaskSpec};
use crate::train::report::{runs_csv, summary_csv};
use crate::train::saved::{Application, EXTENSION};
use crate::train::{Progress, presets};

/// Where Kato presets read the published files, beside the page.
pub const DEFAULT_DATA_URL: &str = "data/kato2015/";

/// What the lab is doing, as shown in `#lab-status`.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    Idle,
    Loading(String),
    Running,
    Paused,
    Done,
    Stopped,
    Failed(String),
    /// An experiment kept by this browser was shown again on opening the page.
    Restored { finished: usize, planned: usize },
}

impl Phase {
    pub(super) fn text(&self) -> String {
        match self {
            Phase::Idle => "ready".into(),
            Phase::Loading(what) => format!("loading: {what}"),
            Phase::Running => "running".into(),
            Phase::Paused => "paused".into(),
            Phase::Done => "done".into(),
            Phase::Stopped => "stopped".into(),
            Phase::Failed(why) => format!("failed: {why}"),
            Phase::Restored { finished, planned } if finished == planned => format!("done: the {finished} runs kept by this browser"),
            Phase::Restored { finished, planned } => format!("kept by this browser: {finished} of {planned} runs finished"),
        }
    }

    pub(super) fn busy(&self) -> bool {
        matches!(self, Phase::Loading(_) | Phase::Running | Phase::Paused)
    }
}

/// One run in the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueRow {
    pub label: String,
    pub progress: Option<Progress>,
    /// Set when the run finished: its result's headline ("MSE 0.0312").
    pub outcome: Option<String>,
    pub seconds: Option<f64>,
    /// The worker training it (0-based), once it started.
    pub worker: Option<usize>,
}

/// A model file held by the page: its name and bytes (shared, not copied, by views).
pub type ModelFile = (String, Arc<Vec<u8>>);

/// The lab's state, shared by its parts.
#[derive(Debug, Clone, Copy)]
pub struct Lab {
    pub spec: RwSignal<ExperimentSpec>,
    pub base_url: RwSignal<String>,
    pub phase: RwSignal<Phase>,
    pub backend: RwSignal<String>,
    pub plan: RwSignal<Option<Plan>>,
    pub queue: RwSignal<Vec<QueueRow>>,
    pub running: RwSignal<Option<usize>>,
    /// Training and validation loss of the run in progress.
    pub losses: RwSignal<Vec<LossSeries>>,
    /// The spec of the experiment whose results are shown.
    pub ran: RwSignal<Option<ExperimentSpec>>,
    pub runs: RwSignal<Vec<RunResult>>,
    pub result: RwSignal<Option<ExperimentResult>>,
    /// What is wrong with the spec the user typed, or with the link.
    pub notice: RwSignal<Option<String>>,
    /// Trained models by run index.
    pub models: RwSignal<BTreeMap<usize, ModelFile>>,
    /// The model file chosen to apply.
    pub model_file: RwSignal<Option<ModelFile>>,
    /// What applying it gave, or why it could not be applied; `None` while nothing was asked.
    pub applied: RwSignal<Option<Result<Vec<Application>, String>>>,
    pub applying: RwSignal<bool>,
    /// The running experiment's data at a glance.
    pub data: RwSignal<Option<DataPreview>>,
    /// Progress of runs not yet shown in the queue, by run.
    progress_due: StoredValue<BTreeMap<usize, Progress>, LocalStorage>,
}

/// How often the queue shows the runs' progress.
const PROGRESS_SHOWN_MS: u32 = 250;

/// The headline of a finished run, for the queue.
fn outcome(run: &RunResult) -> String {
    if let Some(why) = &run.failed {
        return format!("failed: {why}");
    }
    let m = &run.metrics;
    match (m.get("mse"), m.get("balanced_accuracy")) {
        (Some(mse), _) => format!("MSE {mse:.4} (persistence {:.4})", m.get("persistence_mse").copied().unwrap_or(f64::NAN)),
        (_, Some(b)) => format!("balanced accuracy {b:.3}"),
        _ => "finished".into(),
    }
}

impl Lab {
    /// Nothing trains any more (a failure): no run is shown as running.
    fn halt(&self) {
        self.running.set(None);
        self.queue.update(|q| q.iter_mut().filter(|r| r.outcome.is_none()).for_each(|r| r.worker = None));
    }

    fn new(spec: ExperimentSpec, base_url: String) -> Self {
        Self {
            spec: RwSignal::new(spec),
            base_url: RwSignal::new(base_url),
            phase: RwSignal::new(Phase::Idle),
            backend: RwSignal::new("chosen when a run starts".into()),
            plan: RwSignal::new(None),
            queue: RwSignal::new(Vec::new()),
            running: RwSignal::new(None),
            losses: RwSignal::new(Vec::new()),
            ran: RwSignal::new(None),
            runs: RwSignal::new(Vec::new()),
            result: RwSignal::new(None),
            notice: RwSignal::new(None),
            models: RwSignal::new(BTreeMap::new()),
            model_file: RwSignal::new(None),
            applied: RwSignal::new(None),
            applying: RwSignal::new(false),
            data: RwSignal::new(None),
            progress_due: StoredValue::new_local(BTreeMap::new()),
        }
    }

    /// Applies a message from worker `from` of the pool.
    fn receive(&self, from: usize, message: FromWorker) {
        match message {
            FromWorker::Ready | FromWorker::Claim { .. } | FromWorker::DemoModel { .. } | FromWorker::DemoDone { .. } | FromWorker::Pong | FromWorker::Reading { .. } | FromWorker::Parsed { .. } => {}
            FromWorker::Lost { message } => {
                // said where the work was lost: beside Apply, and/or in the experiment's status
                if self.applying.get_untracked() {
                    self.applying.set(false);
                    self.applied.set(Some(Err(message.clone())));
                }
                if self.phase.get_untracked().busy() {
                    self.halt();
                    let kept = self.runs.with_untracked(Vec::len);
                    self.phase.set(Phase::Failed(format!("{message}. The {kept} finished run(s) are kept.")));
                }
            }
            FromWorker::Backend { label, .. } => self.backend.set(label),
            FromWorker::Status { text } => self.phase.set(Phase::Loading(text)),
            FromWorker::Planned { plan } => {
                // runs kept from an earlier attempt (run again after a failure) keep their rows
                let old = self.queue.get_untracked();
                let kept = |i: usize| self.runs.with_untracked(|runs| runs.iter().any(|r| r.index == i));
                let rows = plan.runs.iter().enumerate().map(|(i, label)| match old.get(i).filter(|r| kept(i) && &r.label == label && r.outcome.is_some()) {
                    Some(row) => row.clone(),
                    None => QueueRow { label: label.clone(), progress: None, outcome: None, seconds: None, worker: None },
                });
                self.progress_due.update_value(BTreeMap::clear);
                self.queue.set(rows.collect());
                self.plan.set(Some(plan));
                if !matches!(self.phase.get_untracked(), Phase::Paused) {
                    self.phase.set(Phase::Running);
                }
            }
            FromWorker::RunStarted { index } => {
                self.running.set(Some(index));
                self.queue.update(|q| {
                    if let Some(row) = q.get_mut(index) {
                        row.worker = Some(from);
                    }
                });
                let label = self.queue.with_untracked(|q| q.get(index).map(|r| r.label.clone())).unwrap_or_default();
                self.losses.set(vec![
                    LossSeries { name: format!("training · {label}"), points: Vec::new() },
                    LossSeries { name: "validation".into(), points: Vec::new() },
                ]);
            }
            FromWorker::Progress { index, progress, points } => {
                // the chart follows the run started last (a pool trains several at once)
                if self.running.get_untracked() == Some(index) {
                    self.losses.update(|l| {
                        if let [train, validation] = l.as_mut_slice() {
                            train.points.extend(points);
                            if let Some(v) = progress.validation_loss
                                && validation.points.last().is_none_or(|p| p.1 != v)
                            {
                                validation.points.push((progress.step, v));
                            }
                        }
                    });
                }
                // the queue's rows show progress at most every PROGRESS_SHOWN_MS: each change
                // renders every row, and a pool reports for several runs at once
                let first = self.progress_due.try_update_value(|due| {
                    due.insert(index, progress);
                    due.len() == 1
                });
                if first == Some(true) {
                    let lab = *self;
                    gloo::timers::callback::Timeout::new(PROGRESS_SHOWN_MS, move || {
                        let Some(due) = lab.progress_due.try_update_value(std::mem::take) else { return };
                        lab.queue.try_update(|q| {
                            for (index, progress) in due {
                                if let Some(row) = q.get_mut(index).filter(|r| r.outcome.is_none()) {
                                    row.progress = Some(progress);
                                }
                            }
                        });
                    })
                    .forget();
                }
            }
            FromWorker::RunFinished { index, run } => {
                self.queue.update(|q| {
                    if let Some(row) = q.get_mut(index) {
                        row.outcome = Some(outcome(&run));
                        row.seconds = Some(run.seconds);
                    }
                });
                self.runs.update(|r| r.push(*run));
            }
            FromWorker::Done { result } => {
                let complete = self.queue.with_untracked(|q| q.iter().all(|r| r.outcome.is_some()));
                self.running.set(None);
                self.runs.set(result.runs.clone());
                self.result.set(Some(*result));
                self.phase.set(if complete { Phase::Done } else { Phase::Stopped });
            }
            FromWorker::Failed { message } => {
                self.halt();
                self.phase.set(Phase::Failed(message));
            }
            FromWorker::Data { preview } => self.data.set(Some(*preview)),
            FromWorker::Model { index, file, bytes } => self.models.update(|m| {
                m.insert(index, (file, Arc::new(bytes)));
            }),
            FromWorker::Applied { results } => {
                self.applying.set(false);
                self.applied.set(Some(Ok(results)));
            }
            FromWorker::ApplyFailed { message } => {
                self.applying.set(false);
                self.applied.set(Some(Err(message)));
            }
        }
    }
}

/// Shows the experiment this browser kept (when `restore`), if it is the one on screen
/// (`any_spec`: the link named none, so whichever was kept), then keeps the lab's experiment
/// whenever runs finish.
fn keep_experiment(lab: Lab, restore: bool, any_spec: bool) {
    let ready = RwSignal::new(!restore);
    wasm_bindgen_futures::spawn_local(async move {
        if !restore {
            return;
        }
        match keep::load().await {
            Ok(Some(kept)) if !lab.phase.get_untracked().busy() && (any_spec || kept.spec == lab.spec.get_untracked()) => {
                lab.spec.set(kept.spec.clone());
                lab.base_url.set(kept.base_url);
                lab.ran.set(Some(kept.spec));
                // what was on screen is rebuilt from the messages that built it
                for message in kept.messages {
                    lab.receive(0, message);
                }
                let finished = lab.runs.with_untracked(Vec::len);
                let planned = lab.plan.with_untracked(|p| p.as_ref().map_or(finished, |p| p.runs.len()));
                lab.phase.set(Phase::Restored { finished, planned });
            }
            Ok(_) => {}
            Err(e) => log::warn!("the experiment kept by this browser was not restored: {e}"),
        }
        ready.set(true);
    });
    // keep the experiment on screen as runs finish: a change schedules one save a moment later,
    // which takes whatever has changed by then (a reload loses at most that moment)
    let pending = StoredValue::new_local(false);
    Effect::new(move |_| {
        lab.runs.track();
        lab.result.track();
        lab.models.track();
        if !ready.get() || lab.runs.with_untracked(Vec::is_empty) || pending.get_value() {
            return;
        }
        pending.set_value(true);
        gloo::timers::callback::Timeout::new(SAVE_AFTER_MS, move || {
            pending.set_value(false);
            let Some(spec) = lab.ran.get_untracked() else { return };
            let mut messages: Vec<FromWorker> = lab.plan.get_untracked().map(|plan| FromWorker::Planned { plan }).into_iter().collect();
            messages.extend(lab.data.get_untracked().map(|preview| FromWorker::Data { preview: Box::new(preview) }));
            messages.extend(lab.runs.get_untracked().into_iter().map(|run| FromWorker::RunFinished { index: run.index, run: Box::new(run) }));
            messages.extend(lab.models.with_untracked(|m| {
                m.iter().map(|(&index, (file, bytes))| FromWorker::Model { index, file: file.clone(), bytes: bytes.to_vec() }).collect::<Vec<_>>()
            }));
            messages.extend(lab.result.get_untracked().map(|result| FromWorker::Done { result: Box::new(result) }));
            let kept = KeptExperiment { spec, base_url: lab.base_url.get_untracked(), messages };
            wasm_bindgen_futures::spawn_local(async move {
                if let Err(e) = keep::save(&kept).await {
                    log::warn!("the experiment could not be kept in this browser: {e}");
                }
            });
        })
        .forget();
    });
}

/// How long after a finished run the lab keeps its experiment in the browser.
const SAVE_AFTER_MS: u32 = 200;

/// The experiment a link describes, read from the URL's fragment.
struct Link {
    spec: Option<ExperimentSpec>,
    base_url: Option<String>,
    run: bool,
    problem: Option<String>,
}

fn decode(v: &str) -> String {
    js_sys::decode_uri_component(v).ok().and_then(|s| s.as_string()).unwrap_or_else(|| v.to_string())
}

fn encode(v: &str) -> String {
    String::from(js_sys::encode_uri_component(v))
}

impl Link {
    fn read() -> Self {
        let hash = web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default();
        let mut link = Link { spec: None, base_url: None, run: false, problem: None };
        for part in hash.trim_start_matches('#').split('&').filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').unwrap_or((part, ""));
            match key {
                "preset" => match presets::preset(&decode(value)) {
                    Some(spec) => link.spec = Some(spec),
                    None => link.problem = Some(format!("the link names a preset that does not exist: '{}'", decode(value))),
                },
                "spec" => match ExperimentSpec::from_json(&decode(value)) {
                    Ok(spec) => link.spec = Some(spec),
                    Err(e) => link.problem = Some(format!("the link's experiment cannot be run ({e}); the demo experiment is shown instead")),
                },
                "data" => link.base_url = Some(decode(value)),
                "run" => link.run = true,
                _ => {}
            }
        }
        // A link may not make the page fetch from another site by itself: it shows where the
        // data would come from and waits for a click on Run (`&run` does not skip that).
        if let Some(url) = link.base_url.as_deref().filter(|u| !same_origin(u)) {
            link.problem = Some(format!(
                "this link reads its data from {url}, which is not this site: nothing has been fetched; check the address, then press “Run experiment” to fetch it"
            ));
        }
        link
    }

    /// The fragment that restores `spec` (and a data URL other than the default).
    fn fragment(spec: &ExperimentSpec, base_url: &str, run: bool) -> String {
        let mut out = format!("#spec={}", encode(&serde_json::to_string(spec).unwrap_or_default()));
        if base_url != DEFAULT_DATA_URL {
            out.push_str(&format!("&data={}", encode(base_url)));
        }
        if run {
            out.push_str("&run");
        }
        out
    }
}

/// The page's URL without its fragment.
fn page_url() -> String {
    let href = web_sys::window().and_then(|w| w.location().href().ok()).unwrap_or_default();
    href.split('#').next().unwrap_or_default().to_string()
}

/// Whether `url` (relative, or absolute) is on the page's own origin; `data:` and `blob:` URLs
/// are not.
fn same_origin(url: &str) -> bool {
    let page = page_url();
    let (Ok(target), Ok(here)) = (web_sys::Url::new_with_base(url, &page), web_sys::Url::new(&page)) else { return false };
    matches!(target.protocol().as_str(), "http:" | "https:") && target.origin() == here.origin()
}

/// `base` resolved against the page (the worker resolves relative URLs against its script).
fn absolute(base: &str) -> String {
    let page = page_url();
    web_sys::Url::new_with_base(base, &page).map(|u| u.href()).unwrap_or_else(|_| base.to_string())
}

/// The lab panel.
///
/// * `settings`: backend preference from the URL.
#[component]
pub fn LabPanel(settings: UrlSettings) -> impl IntoView {
    let link = Link::read();
    let lab = Lab::new(
        link.spec.clone().unwrap_or_else(|| presets::preset("synthetic-demo").unwrap_or_default()),
        link.base_url.clone().unwrap_or_else(|| DEFAULT_DATA_URL.to_string()),
    );
    lab.notice.set(link.problem.clone());
    provide_context(lab);
    let library = expect_context::<Library>();
    let backend = RwSignal::new(settings.backend);

    let pool = match Pool::start(settings.workers.unwrap_or_else(pool_size), move |k, m| lab.receive(k, m)) {
        Ok(p) => Some(p),
        Err(e) => {
            lab.phase.set(Phase::Failed(e));
            None
        }
    };
    let worker = StoredValue::new_local(pool.as_ref().and_then(Pool::first));
    let pool = StoredValue::new_local(pool);
    let run = move |spec: ExperimentSpec, done: Vec<RunResult>, fault, recordings: Vec<Arc<Recording>>| {
        let base_url = absolute(&lab.base_url.get_untracked());
        pool.with_value(|p| if let Some(p) = p { p.run(spec, backend.get_untracked(), base_url, done, fault, recordings) });
    };
    let tell_all = move |m: ToWorker| pool.with_value(|p| if let Some(p) = p { p.tell_all(&m) });

    // the URL always holds the section and the experiment on screen
    let nav = expect_context::<super::Nav>();
    Effect::new(move |_| {
        let experiment = Link::fragment(&lab.spec.get(), &lab.base_url.get(), false);
        let fragment = format!("#{}&{}", nav.fragment(), experiment.trim_start_matches('#'));
        if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
            let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&fragment));
        }
    });

    let start = move || {
        if lab.phase.get_untracked().busy() {
            return;
        }
        let spec = lab.spec.get_untracked();
        if let Err(e) = spec.validate() {
            lab.phase.set(Phase::Failed(format!("the experiment cannot be run: {e}")));
            return;
        }
        let recordings = match &spec.data {
            DataSpec::Files { .. } => library.recordings(),
            _ => Vec::new(),
        };
        if matches!(spec.data, DataSpec::Files { .. }) && recordings.is_empty() {
            lab.phase.set(Phase::Failed("this experiment runs on your own recordings: drop them under “Your recordings” first (they stay on this computer)".into()));
            return;
        }
        lab.plan.set(None);
        lab.queue.set(Vec::new());
        lab.runs.set(Vec::new());
        lab.models.set(BTreeMap::new());
        lab.data.set(None);
        lab.result.set(None);
        lab.losses.set(Vec::new());
        lab.ran.set(Some(spec.clone()));
        lab.phase.set(Phase::Loading("starting the worker".into()));
        run(spec, Vec::new(), settings.fault, recordings);
    };
    // after a failure (a worker that died), the runs that did not finish, without the others
    let unfinished = move || {
        let planned = lab.plan.with(|p| p.as_ref().map_or(0, |p| p.runs.len()));
        let done = lab.runs.with(Vec::len);
        (matches!(lab.phase.get(), Phase::Failed(_) | Phase::Restored { .. }) && lab.ran.with(Option::is_some) && done > 0 && done < planned).then_some(planned - done)
    };
    let run_unfinished = move |_| {
        let Some(spec) = lab.ran.get_untracked() else { return };
        let recordings = match &spec.data {
            DataSpec::Files { .. } => library.recordings(),
            _ => Vec::new(),
        };
        let done = lab.runs.get_untracked();
        lab.phase.set(Phase::Loading(format!("running the {} unfinished run(s)", lab.plan.with_untracked(|p| p.as_ref().map_or(0, |p| p.runs.len())) - done.len())));
        run(spec, done, None, recordings);
    };
    if link.run && link.problem.is_none() {
        start();
    }
    // a link that could not be read shows its problem, not what an earlier visit left
    keep_experiment(lab, !link.run && link.problem.is_none(), link.spec.is_none());
    let pause = move |_| {
        tell_all(ToWorker::Pause);
        lab.phase.set(Phase::Paused);
    };
    let resume = move |_| {
        tell_all(ToWorker::Resume);
        lab.phase.set(Phase::Running);
    };
    let stop = move |_| tell_all(ToWorker::Stop);
    let busy = move || lab.phase.get().busy();
    let paused = move || lab.phase.get() == Phase::Paused;

    let lesson_start = Callback::new(move |spec: ExperimentSpec| {
        lab.spec.set(spec);
        lab.notice.set(None);
        start();
    });
    view! {
        <Show when=move || nav.step.get().is_some()>
            <div class="page lesson" data-page="learn">
                <Lesson start=lesson_start />
            </div>
        </Show>
        <div class="page" data-page="experiment">
            <section class="panel" id="lab" aria-labelledby="lab-title">
                <h2 id="lab-title">"Experiments: graph networks versus structure-agnostic networks"</h2>
                <Presets />
                <Builder backend=backend />
                <div class="controls">
                    <button id="run" on:click=move |_| start() prop:disabled=busy>"Run experiment"</button>
                    <button id="pause" class="secondary" on:click=pause prop:disabled=move || !busy() || paused()>"Pause"</button>
                    <button id="resume" class="secondary" on:click=resume prop:disabled=move || !paused()>"Resume"</button>
                    <button id="stop-run" class="secondary" on:click=stop prop:disabled=move || !busy()>"Stop"</button>
                    <span>"Status: " <strong id="lab-status" aria-live="polite">{move || lab.phase.get().text()}</strong></span>
                </div>
                <Show when=move || unfinished().is_some()>
                    <p class="recover">
                        <button id="run-unfinished" on:click=run_unfinished>
                            {move || format!("Run the {} unfinished run(s)", unfinished().unwrap_or(0))}
                        </button>
                        " — the finished ones are kept and not trained again."
                    </p>
                </Show>
                <p>"Backend: " <strong id="lab-backend">{move || lab.backend.get()}</strong></p>
                <Queue />
                <LossChart series=lab.losses id="lab-loss" />
            </section>
        </div>
        <div class="page" data-page="results">
            <section class="panel" id="results-panel" aria-labelledby="results-title">
                <h2 id="results-title">"Results"</h2>
                <Show when=move || lab.runs.with(Vec::is_empty)>
                    <p class="empty">"No run has finished yet: choose an experiment and press “Run experiment”. Results appear here as runs finish."</p>
                </Show>
                <Results />
                <Keep />
                <ApplyModel worker=worker backend=backend />
            </section>
        </div>
        <div class="page" data-page="data">
            <DataView />
        </div>
    }
}

/// One button per preset.
#[component]
fn Presets() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let buttons = presets::PRESETS
        .iter()
        .map(|&(name, what)| {
            let choose = move |_| {
                if let Some(spec) = presets::preset(name) {
                    lab.spec.set(spec);
                    lab.notice.set(None);
                }
            };
            let chosen = move || lab.spec.with(|s| s.name == name);
            view! {
                <li>
                    <button class="preset secondary" data-preset=name on:click=choose aria-pressed=move || chosen().to_string()>{name}</button>
                    " " <span class="what">{what}</span>
                </li>
            }
        })
        .collect_view();
    view! {
        <h3>"Presets"</h3>
        <ul id="presets" class="presets">{buttons}</ul>
    }
}

/// The experiment builder: data, tasks, models, protocols, training settings, and the whole
/// spec as JSON for everything else.
///
/// * `backend`: the backend the next run asks for.
#[component]
fn Builder(backend: RwSignal<BackendChoice>) -> impl IntoView {
    let lab = expect_context::<Lab>();
    let library = expect_context::<Library>();
    let spec = lab.spec;
    let source = move || match spec.with(|s| s.data.clone()) {
        DataSpec::Synthetic { .. } => "synthetic",
        DataSpec::Kato => "kato",
        DataSpec::Files { .. } => "files",
    };
    let set_source = move |ev| {
        let data = match event_target_value(&ev).as_str() {
            "kato" => DataSpec::Kato,
            "files" => {
                let names: Vec<String> = library.animals.with_untracked(|a| a.iter().map(|(f, _)| f.clone()).collect());
                let files = library.picks.get_untracked().into_iter().filter(|p| names.contains(&p.name)).collect();
                DataSpec::Files { names, files }
            }
            _ => presets::preset("synthetic-demo").map(|s| s.data).unwrap_or(DataSpec::Synthetic { config: Default::default() }),
        };
        spec.update(|s| s.data = data);
    };
    let models = ModelKind::ALL
        .iter()
        .map(|&kind| {
            let on = move || spec.with(|s| s.models.iter().any(|m| m.kind == kind));
            let toggle = move |ev| {
                let checked = event_target_checked(&ev);
                spec.update(|s| {
                    s.models.retain(|m| m.kind != kind);
                    if checked {
                        s.models.push(ModelSpec::new(kind));
                        s.models.sort_by_key(|m| ModelKind::ALL.iter().position(|k| *k == m.kind));
                    }
                });
            };
            view! { <label><input type="checkbox" name="model" value=kind.label() prop:checked=on on:change=toggle />" " {kind.label()}</label> }
        })
        .collect_view();
    let task_choices = [TaskSpec::NextStep, presets::behaviour_4(), presets::behaviour_8()];
    let tasks = task_choices
        .into_iter()
        .map(|task| {
            let name = task.label();
            let key = name.clone();
            let on = move || spec.with(|s| s.tasks.iter().any(|t| t.label() == key));
            let key = name.clone();
            let toggle = move |ev| {
                let checked = event_target_checked(&ev);
                spec.update(|s| {
                    s.tasks.retain(|t| t.label() != key);
                    if checked {
                        s.tasks.push(task.clone());
                    }
                });
            };
            view! { <label><input type="checkbox" name="task" value=name.clone() prop:checked=on on:change=toggle />" " {name.clone()}</label> }
        })
        .collect_view();
    let protocols = [Protocol::WithinAnimal, Protocol::LeaveOneAnimalOut]
        .into_iter()
        .map(|p| {
            let on = move || spec.with(|s| s.protocols.contains(&p));
            let toggle = move |ev| {
                let checked = event_target_checked(&ev);
                spec.update(|s| {
                    s.protocols.retain(|q| *q != p);
                    if checked {
                        s.protocols.push(p);
                    }
                });
            };
            view! { <label><input type="checkbox" name="protocol" value=p.label() prop:checked=on on:change=toggle />" " {p.label()}</label> }
        })
        .collect_view();
    let number = |ev| event_target_value(&ev).trim().parse::<usize>().ok().filter(|v| *v > 0);
    let seeds_text = move || spec.with(|s| s.seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", "));
    let set_seeds = move |ev| {
        let seeds: Vec<u64> = event_target_value(&ev).split(',').filter_map(|s| s.trim().parse().ok()).collect();
        if seeds.is_empty() {
            lab.notice.set(Some("seeds: give one or more whole numbers, separated by commas".into()));
        } else {
            lab.notice.set(None);
            spec.update(|s| s.seeds = seeds);
        }
    };
    let json = move || serde_json::to_string_pretty(&spec.get()).unwrap_or_default();
    let typed = RwSignal::new(None::<String>);
    let apply = move |_| {
        let Some(text) = typed.get_untracked() else { return };
        match ExperimentSpec::from_json(&text) {
            Ok(s) => {
                spec.set(s);
                typed.set(None);
                lab.notice.set(None);
            }
            Err(e) => lab.notice.set(Some(format!("the spec is not valid: {e}"))),
        }
    };
    view! {
        <h3>"Experiment"</h3>
        <form class="builder" id="builder" on:submit=|ev| ev.prevent_default()>
            <label>"Name " <input id="spec-name" prop:value=move || spec.with(|s| s.name.clone())
                on:change=move |ev| spec.update(|s| s.name = event_target_value(&ev)) /></label>
            <label>"Data "
                <select id="data-source" on:change=set_source prop:value=source>
                    <option value="synthetic">"built-in synthetic worm (true wiring known)"</option>
                    <option value="kato">"Kato et al. 2015, five worms (from the data URL)"</option>
                    <option value="files">"your recordings (dropped below)"</option>
                </select>
            </label>
            <label>"Data URL " <input id="base-url" prop:value=move || lab.base_url.get()
                on:change=move |ev| lab.base_url.set(event_target_value(&ev)) /></label>
            <fieldset><legend>"Tasks"</legend>{tasks}</fieldset>
            <fieldset><legend>"Models"</legend>{models}</fieldset>
            <fieldset><legend>"Protocols"</legend>{protocols}</fieldset>
            <label>"Steps " <input id="steps" type="number" min="1" prop:value=move || spec.with(|s| s.train.steps.to_string())
                on:change=move |ev| if let Some(v) = number(ev) { spec.update(|s| set_steps(s, v)) } /></label>
            <label>"History (frames) " <input id="history" type="number" min="1" prop:value=move || spec.with(|s| s.preprocess.history.to_string())
                on:change=move |ev| if let Some(v) = number(ev) { spec.update(|s| s.preprocess.history = v) } /></label>
            <label>"Seeds " <input id="seeds" prop:value=seeds_text on:change=set_seeds /></label>
            <ReferenceGraphInput />
            <label>"Backend "
                <select id="backend-choice" prop:value=move || backend.get().as_str()
                    on:change=move |ev| {
                        let choice = BackendChoice::parse(&event_target_value(&ev)).unwrap_or_default();
                        backend.set(choice);
                        super::remember_backend(choice);
                    }>
                    <option value="auto">"The faster here (a few steps timed on each)"</option>
                    <option value="webgpu">"WebGPU when available"</option>
                    <option value="cpu">"CPU"</option>
                </select>
            </label>
            <details class="spec-json">
                <summary>"Every setting (the experiment as JSON)"</summary>
                <textarea id="spec-json" rows="16" aria-label="experiment as JSON" prop:value=json
                    on:input=move |ev| typed.set(Some(event_target_value(&ev)))></textarea>
                <button id="apply-spec" type="button" on:click=apply>"Apply"</button>
            </details>
        </form>
        <p id="lab-notice" class="notice" aria-live="polite">{move || lab.notice.get()}</p>
    }
}

/// The file chosen in the `<input type="file">` an event came from.
fn chosen_file(ev: &leptos::ev::Event) -> Option<web_sys::File> {
    use wasm_bindgen::JsCast;
    ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()).and_then(|i| i.files()).and_then(|f| f.get(0))
}

/// A chosen file's bytes, or why they could not be read.
async fn file_bytes(file: &web_sys::File) -> Result<Vec<u8>, String> {
    match wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await {
        Ok(buffer) => Ok(js_sys::Uint8Array::new(&buffer).to_vec()),
        Err(e) => Err(format!("could not read {}: {e:?}", file.name())),
    }
}

/// A reference graph file for the spec (see [`KnownGraph`]): inferred and model-free graphs
/// are scored against it. A bad file is named in the notice; the spec keeps what it had.
#[component]
fn ReferenceGraphInput() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let choose = move |ev: leptos::ev::Event| {
        let Some(file) = chosen_file(&ev) else { return };
        if file.size() > MAX_REFERENCE_BYTES as f64 {
            lab.notice.set(Some(format!("reference graph '{}' is {:.0} bytes; at most {MAX_REFERENCE_BYTES} are read", file.name(), file.size())));
            return;
        }
        wasm_bindgen_futures::spawn_local(async move {
            match file_bytes(&file).await.and_then(|bytes| KnownGraph::parse(&file.name(), &bytes).map_err(|e| e.to_string())) {
                Ok(graph) => {
                    lab.notice.set(None);
                    lab.spec.update(|s| s.reference = Some(graph));
                }
                Err(e) => lab.notice.set(Some(e)),
            }
        });
    };
    let chosen = move || {
        lab.spec.with(|s| {
            s.reference.as_ref().map(|g| format!("{}: {} edges{}", g.name, g.edges.len(), if g.is_symmetric() { ", undirected" } else { ", directed" }))
        })
    };
    let none = move || lab.spec.with(|s| s.reference.is_none());
    view! {
        <div class="reference-graph">
            <label>"Reference graph (edge list from,to or a matrix, by neuron name) "
                <input id="reference-file" type="file" accept=".csv,.tsv,.txt" on:change=choose /></label>
            <span id="reference-chosen">{chosen}</span>
            <button id="reference-clear" type="button" class="secondary" prop:hidden=none
                on:click=move |_| lab.spec.update(|s| s.reference = None)>"Remove"</button>
        </div>
    }
}

/// Sets every model's steps (a preset's per-model steps, e.g. NRI's, give way to the field).
fn set_steps(spec: &mut ExperimentSpec, steps: usize) {
    spec.train.steps = steps;
    spec.models.iter_mut().for_each(|m| m.steps = None);
}

/// The runs of the experiment with a progress bar and the time left for each.
#[component]
fn Queue() -> impl IntoView {
    let lab = expect_context::<Lab>();
    // several workers have trained (or train) this experiment's runs
    let pooled = move || lab.queue.with(|q| q.iter().any(|r| r.worker.is_some_and(|k| k > 0)));
    let overall = move || {
        let q = lab.queue.get();
        let done: Vec<f64> = q.iter().filter_map(|r| r.seconds).collect();
        if q.is_empty() {
            return String::new();
        }
        let per_run = done.iter().sum::<f64>() / done.len().max(1) as f64;
        let left = q.len() - done.len();
        // runs go as many at a time as workers train them
        let workers = q.iter().filter_map(|r| r.worker).max().map_or(1, |k| k + 1);
        let eta = if done.is_empty() { "–".into() } else { format!("about {:.0} s left", per_run * left as f64 / workers as f64) };
        format!("{} of {} runs finished · {eta}", done.len(), q.len())
    };
    let rows = move || {
        lab.queue
            .get()
            .into_iter()
            .enumerate()
            .map(|(i, row)| {
                let state = match (&row.outcome, row.worker) {
                    (Some(_), _) => "finished",
                    (None, Some(_)) => "running",
                    (None, None) => "waiting",
                };
                // which worker runs (or ran) it, when several share the runs
                let worker = row.worker.filter(|_| pooled()).map(|k| view! { <span class="worker">{format!("worker {}", k + 1)}</span> });
                let (step, steps) = row.progress.as_ref().map_or((0, 1), |p| (p.step, p.steps));
                let detail = match (&row.outcome, &row.progress) {
                    (Some(o), _) => format!("{o} · {:.1} s", row.seconds.unwrap_or(0.0)),
                    (None, Some(p)) => format!("step {} / {} · loss {:.4} · about {:.0} s left", p.step, p.steps, p.loss, p.eta_s()),
                    (None, None) => String::new(),
                };
                let value = if row.outcome.is_some() { steps } else { step };
                let model = lab.models.with(|m| m.get(&i).cloned()).map(|(file, bytes)| {
                    let save = move |_| download_bytes(&bytes, "application/octet-stream", &file);
                    view! { <button class="secondary small model-download" data-run=i on:click=save aria-label="download this run's trained model">"model"</button> }
                });
                view! {
                    <li data-state=state>
                        <span class="label">{row.label}{worker}</span>
                        <progress max=steps value=value aria-label="run progress"></progress>
                        <span class="detail">{detail}</span>
                        {model}
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <p id="overall">{overall}</p>
        <ol id="queue" class="queue" tabindex="0" aria-label="the runs of the experiment">{rows}</ol>
    }
}

/// Downloads and the link that reproduces the experiment.
#[component]
fn Keep() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let link = move || format!("{}{}", page_url(), Link::fragment(&lab.spec.get(), &lab.base_url.get(), true));
    let name = move || lab.result.with(|r| r.as_ref().map(|r| r.spec.name.clone())).unwrap_or_else(|| "experiment".into());
    let json = move |_| {
        if let Some(r) = lab.result.get_untracked() {
            download_text(&serde_json::to_string_pretty(&r).unwrap_or_default(), "application/json", &format!("{}.json", name()));
        }
    };
    let csv = move |_| {
        if let Some(r) = lab.result.get_untracked() {
            download_text(&runs_csv(&r), "text/csv", &format!("{}-runs.csv", name()));
        }
    };
    let summary = move |_| {
        if let Some(r) = lab.result.get_untracked() {
            download_text(&summary_csv(&r), "text/csv", &format!("{}-summary.csv", name()));
        }
    };
    let none = move || lab.result.with(Option::is_none);
    view! {
        <h3>"Keep and share"</h3>
        <div class="controls">
            <button id="download-json" class="secondary" on:click=json prop:disabled=none>"Results (JSON)"</button>
            <button id="download-csv" class="secondary" on:click=csv prop:disabled=none>"Runs (CSV)"</button>
            <button id="download-summary" class="secondary" on:click=summary prop:disabled=none>"Summary with comparisons (CSV)"</button>
        </div>
        <label class="share">"Link to this experiment (opens it and runs it): "
            <input id="share-link" readonly prop:value=link on:focus=move |ev| {
                use wasm_bindgen::JsCast;
                if let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) { input.select(); }
            } />
        </label>
        <p class="summary">"A link holds the experiment, not your recordings: for “your recordings” it asks for the files again."</p>
    }
}

/// Load a saved model and apply it to dropped recordings: the unseen-animal case in practice.
///
/// * `worker`: the training worker, which also applies models; `backend`: the backend choice.
#[component]
fn ApplyModel(worker: StoredValue<Option<TrainingWorker>, LocalStorage>, backend: RwSignal<BackendChoice>) -> impl IntoView {
    let lab = expect_context::<Lab>();
    let library = expect_context::<Library>();
    let choose = move |ev: leptos::ev::Event| {
        let Some(file) = chosen_file(&ev) else { return };
        wasm_bindgen_futures::spawn_local(async move {
            match file_bytes(&file).await {
                Ok(bytes) => {
                    lab.model_file.set(Some((file.name(), Arc::new(bytes))));
                    lab.applied.set(None);
                }
                Err(e) => lab.applied.set(Some(Err(e))),
            }
        });
    };
    let recordings = move || library.animals.with(Vec::len);
    let apply = move |_| {
        let Some((_, bytes)) = lab.model_file.get_untracked() else { return };
        let recordings = library.recordings();
        lab.applying.set(true);
        lab.applied.set(None);
        let message = ToWorker::Apply { model: bytes.to_vec(), backend: backend.get_untracked() };
        worker.with_value(|w| {
            let Some(w) = w else { return };
            match w.switch_build(crate::worker::build_for(backend.get_untracked())) {
                Ok(()) => w.send(&message, &recordings),
                Err(e) => {
                    lab.applying.set(false);
                    lab.applied.set(Some(Err(format!("the model cannot be applied: {e}"))));
                }
            }
        });
    };
    let disabled = move || lab.applying.get() || lab.model_file.with(Option::is_none) || recordings() == 0;
    let results = move || match lab.applied.get() {
        None => ().into_any(),
        Some(Err(message)) => view! { <p id="applied-error" class="error" role="alert">{message}</p> }.into_any(),
        Some(Ok(results)) => library.animals.with_untracked(|a| applied_view(&results, a)).into_any(),
    };
    view! {
        <h3>"Apply a saved model to new recordings"</h3>
        <p class="summary">"Each finished run offers its trained model (“model” in the queue). Load one and apply it to the recordings dropped under “Your recordings”: they are put on the model's neurons by name and z-scored with their own statistics, as for an animal left out."</p>
        <div class="controls">
            <label>"Model file " <input id="model-file" type="file" accept=format!(".{EXTENSION}") on:change=choose /></label>
            <button id="apply-model" on:click=apply prop:disabled=disabled>
                {move || format!("Apply to your {} recording(s)", recordings())}
            </button>
            <span id="model-chosen">{move || lab.model_file.with(|m| m.as_ref().map(|m| m.0.clone()))}</span>
        </div>
        {results}
    }
}

/// A table of what a model did on each recording, and the first behaviour recording's
/// predicted states under its activity.
fn applied_view(results: &[Application], animals: &[(String, Arc<Recording>)]) -> impl IntoView + use<> {
    let fmt = |m: &BTreeMap<String, f64>, k: &str| m.get(k).map_or_else(|| "–".to_string(), |v| format!("{v:.4}"));
    let rows = results
        .iter()
        .map(|a| {
            let scores = if a.metrics.is_empty() {
                "no labels: predicted states only".to_string()
            } else if a.metrics.contains_key("mse") {
                format!("MSE {} (persistence {}), R² {}", fmt(&a.metrics, "mse"), fmt(&a.metrics, "persistence_mse"), fmt(&a.metrics, "r2"))
            } else {
                format!("balanced accuracy {}, accuracy {}, macro-F1 {}", fmt(&a.metrics, "balanced_accuracy"), fmt(&a.metrics, "accuracy"), fmt(&a.metrics, "macro_f1"))
            };
            let neurons = format!("{} of {}", a.neurons_found, a.neurons_found + a.missing.len());
            view! {
                <tr data-recording=a.recording.clone()>
                    <td>{a.recording.clone()}</td>
                    <td>{format!("{} · {}", a.model, a.task)}</td>
                    <td>{a.trained_on.clone()}</td>
                    <td>{neurons}</td>
                    <td>{a.windows}</td>
                    <td class="scores" data-balanced-accuracy=fmt(&a.metrics, "balanced_accuracy") data-mse=fmt(&a.metrics, "mse")>{scores}</td>
                </tr>
            }
        })
        .collect_view();
    // predicted states drawn as the ethogram under the recording's activity
    let raster = results.iter().find_map(|a| {
        let states = a.predicted_states.clone()?;
        let (_, rec) = animals.iter().find(|(_, r)| r.name == a.recording)?;
        let mut rec = Recording::clone(rec);
        if rec.frames != states.len() {
            return None; // resampled for the model: the states are on another time base
        }
        rec.labels = Some(Labels { names: a.classes.clone(), per_frame: states });
        let mut raster = Raster::from_recording(&rec, 600);
        raster.title = format!("{} · states predicted by {}", rec.name, a.model);
        Some(raster)
    });
    let chart = raster.map(|r| view! { <PlotCanvas data=Signal::derive(move || r.clone()) id="applied-states" label="predicted behavioural states" width=900 height=360 export=true /> });
    view! {
        <table id="applied" class="results-table">
            <thead><tr><th>"recording"</th><th>"model"</th><th>"trained"</th><th>"neurons"</th><th>"windows"</th><th>"scores"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
        {chart}
    }
}

/// The experiment's data: an animal's activity raster with its ethogram and a few neurons'
/// traces (the animal chosen in a list), and which identified neurons each animal has.
#[component]
fn DataView() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let chosen = RwSignal::new(0usize);
    let animals = move || lab.data.with(|d| d.as_ref().map(|d| d.rasters.iter().map(|r| r.title.clone()).collect::<Vec<_>>()).unwrap_or_default());
    let pick = move |ev| chosen.set(event_target_value(&ev).parse().unwrap_or(0));
    let options = move || animals().into_iter().enumerate().map(|(i, name)| view! { <option value=i.to_string()>{name}</option> }).collect_view();
    let raster = Signal::derive(move || lab.data.with(|d| d.as_ref().and_then(|d| d.rasters.get(chosen.get()).or(d.rasters.first()).cloned())));
    let traces = Signal::derive(move || lab.data.with(|d| d.as_ref().and_then(|d| d.traces.get(chosen.get()).or(d.traces.first()).cloned())));
    let coverage = Signal::derive(move || lab.data.with(|d| d.as_ref().map(|d| d.coverage.clone())));
    let cursor = RwSignal::new(0usize);
    // placed on the body once per animal (a derived signal would lay it out again at every
    // frame of the playback)
    let worm = Memo::new(move |_| raster.get().map(OnTheWorm::of));
    let raster_at_cursor = Signal::derive(move || worm.with(|w| w.as_ref().map(|w| w.raster_at(cursor.get()))));
    let traces_at_cursor = Signal::derive(move || worm.with(|w| w.as_ref().zip(traces.get()).map(|(w, t)| w.traces_at(t, cursor.get()))));
    view! {
        <section class="panel" id="experiment-data" aria-labelledby="experiment-data-title">
            <h2 id="experiment-data-title">"The experiment's data"</h2>
            <Show when=move || lab.data.with(Option::is_some)
                fallback=|| view! { <p class="empty">"The data of the experiment appears here once it runs (its animals' activity, behaviour and neurons, on the worm)."</p> }>
                <label>"Animal " <select id="data-animal" on:change=pick prop:value=move || chosen.get().to_string()>{options}</select></label>
                <WormView id="data-worm" recording=worm cursor=cursor />
                <div class="data-views">
                    <PlotCanvas data=raster_at_cursor id="data-raster" label="activity raster with the ethogram and the moment shown on the worm" width=640 height=300 export=true />
                    <PlotCanvas data=traces_at_cursor id="data-traces" label="a few neurons' traces, with the moment shown on the worm" width=640 height=300 export=true />
                </div>
                {move || coverage.get().filter(|c| c.animals.len() > 1).map(|c| view! { <PlotCanvas data=Signal::derive(move || c.clone()) id="data-coverage" label="coverage matrix: animals by identified neurons" width=900 height=240 export=true /> })}
            </Show>
        </section>
    }
}
