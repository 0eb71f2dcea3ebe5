//! The page: Leptos components over the library. No tensor maths here; the UI calls the same
//! functions as the CLI and shows their plain-value reports.

mod chart;
mod demo;
mod events;
mod import;
mod keep;
mod lab;
mod learn;
mod lesson;
mod results;
mod worm;

use leptos::prelude::*;

use crate::device::BackendChoice;

use demo::DemoPanel;
use import::{ImportPanel, Library};
use lab::LabPanel;
use learn::MeetTheWorm;

/// The browser entry of both builds: in a worker (public/worker.js loaded the module), serve
/// training; on the page, mount the app.
pub fn start() {
    console_error_panic_hook::set_once();
    let _ = console_log::init_with_level(log::Level::Info);
    if crate::worker::in_worker() {
        crate::worker::serve();
    } else {
        leptos::mount::mount_to_body(App);
    }
}

/// Settings read once from the page URL.
#[derive(Debug, Clone, Copy)]
pub struct UrlSettings {
    /// `?backend=auto|webgpu|cpu`; without it, the choice remembered from an earlier visit
    /// ([`remembered_backend`]), else the faster one, timed on the first run.
    pub backend: BackendChoice,
    /// The link opens an experiment (`#spec=…` or `#preset=…`) or the lesson: the demo then
    /// waits to be started.
    pub experiment_link: bool,
    /// The section the link opens (`#view=NAME`); else Experiment for a link to an experiment,
    /// Learn otherwise.
    pub section: Section,
    /// `#lesson&step=N`: the guided lesson's step (1 without `step=`); it opens in Learn.
    pub lesson_step: Option<usize>,
    /// `?fault=nan|gpu-lost|worker-dies`: a failure acted out in the second run, so tests can
    /// check the page survives it (see [`crate::train::Fault`]).
    pub fault: Option<crate::train::Fault>,
    /// `?workers=N`: the most workers the lab trains in (default: one per core, at most 4).
    pub workers: Option<usize>,
}

impl UrlSettings {
    fn from_location() -> Self {
        let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
        let query = || search.trim_start_matches('?').split('&');
        let backend = query()
            .find_map(|kv| kv.strip_prefix("backend="))
            .and_then(BackendChoice::parse)
            .or_else(remembered_backend)
            .unwrap_or_default();
        let fault = query().find_map(|kv| kv.strip_prefix("fault=")).and_then(crate::train::Fault::parse);
        let hash = web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default();
        let workers = query().find_map(|kv| kv.strip_prefix("workers=")).and_then(|n| n.parse::<usize>().ok()).map(|n| n.clamp(1, 16));
        let fragment = || hash.trim_start_matches('#').split('&');
        let experiment_link = fragment().any(|kv| kv.starts_with("spec=") || kv.starts_with("preset="));
        let default_section = if experiment_link { Section::Experiment } else { Section::Learn };
        let lesson_step = fragment().any(|kv| kv == "lesson").then(|| {
            fragment().find_map(|kv| kv.strip_prefix("step=")).and_then(|n| n.parse::<usize>().ok()).unwrap_or(1).clamp(1, lesson::STEPS)
        });
        let default_section = if lesson_step.is_some() { Section::Learn } else { default_section };
        let section = fragment().find_map(|kv| kv.strip_prefix("view=")).and_then(Section::parse).unwrap_or(default_section);
        Self { backend, experiment_link: experiment_link || lesson_step.is_some(), section, lesson_step, fault, workers }
    }
}

/// The app's sections: one on screen at a time, except that Experiment and Results stand side
/// by side on wide screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Learn,
    Data,
    Experiment,
    Results,
}

impl Section {
    pub const ALL: [Section; 4] = [Section::Learn, Section::Data, Section::Experiment, Section::Results];

    /// Its name in the URL (`#view=NAME`) and in element ids.
    pub fn name(self) -> &'static str {
        match self {
            Section::Learn => "learn",
            Section::Data => "data",
            Section::Experiment => "experiment",
            Section::Results => "results",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Section::Learn => "Learn",
            Section::Data => "Data",
            Section::Experiment => "Experiment",
            Section::Results => "Results",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// The section on screen and the lesson's step, shared by the page (the lab writes them into
/// the URL beside its experiment, so a link opens the same section and step).
#[derive(Debug, Clone, Copy)]
pub struct Nav {
    pub section: RwSignal<Section>,
    /// The guided lesson's step (1-based) while the lesson is open (`#lesson&step=N`).
    pub step: RwSignal<Option<usize>>,
}

impl Nav {
    /// The URL fragment's part for the section and the lesson's step.
    pub fn fragment(&self) -> String {
        match self.step.get() {
            Some(step) => format!("view={}&lesson&step={step}", self.section.get().name()),
            None => format!("view={}", self.section.get().name()),
        }
    }
}

/// Where the page keeps the backend a person chose (this browser only).
const BACKEND_KEY: &str = "neurognn.backend";

/// The page's `localStorage`, where the browser keeps one (through `js_sys`: web-sys's
/// `Storage` binding would rebuild web-sys and everything over it for two calls).
fn local_storage() -> Option<wasm_bindgen::JsValue> {
    let storage = js_sys::Reflect::get(&js_sys::global(), &"localStorage".into()).ok()?;
    (!storage.is_undefined() && !storage.is_null()).then_some(storage)
}

/// Calls `storage.name(args…)`.
fn storage_call(name: &str, args: &[&str]) -> Option<wasm_bindgen::JsValue> {
    use wasm_bindgen::JsCast;
    let storage = local_storage()?;
    let f = js_sys::Reflect::get(&storage, &name.into()).ok()?.dyn_into::<js_sys::Function>().ok()?;
    let args: js_sys::Array = args.iter().map(|a| wasm_bindgen::JsValue::from_str(a)).collect();
    f.apply(&storage, &args).ok()
}

/// The backend chosen on an earlier visit, if any.
fn remembered_backend() -> Option<BackendChoice> {
    storage_call("getItem", &[BACKEND_KEY])?.as_string().as_deref().and_then(BackendChoice::parse)
}

/// Forgets the backend chosen on earlier visits.
fn forget_backend() {
    let _ = storage_call("removeItem", &[BACKEND_KEY]);
}

/// Remembers the backend a person chose for later visits (nothing happens where the browser
/// keeps no storage, e.g. some private windows).
pub fn remember_backend(choice: BackendChoice) {
    let _ = storage_call("setItem", &[BACKEND_KEY, choice.as_str()]);
}

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    let settings = UrlSettings::from_location();
    provide_context(Library::new());
    let large = RwSignal::new(false);
    Effect::new(move |_| {
        let on = large.get();
        if let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
            let _ = root.class_list().toggle_with_force("large-type", on);
        }
    });
    keep::register_service_worker();
    let nav = Nav { section: RwSignal::new(settings.section), step: RwSignal::new(settings.lesson_step) };
    provide_context(nav);
    let tab = move |section: Section| {
        view! {
            <button id=format!("nav-{}", section.name()) class="tab" aria-current=move || (nav.section.get() == section).then_some("page")
                on:click=move |_| nav.section.set(section)>{section.title()}</button>
        }
    };
    view! {
        <header>
            <h1>"NeuroGNN"</h1>
            <p class="tagline">
                "NeuroGNN trains graph neural networks on recordings of every neuron in a worm's brain, "
                "here in your browser, to learn how the neurons drive one another and the worm's behaviour."
            </p>
            <button id="large-type" class="secondary" aria-pressed=move || large.get().to_string()
                on:click=move |_| large.update(|l| *l = !*l)>"Large type"</button>
        </header>
        <nav class="sections" aria-label="Sections">{Section::ALL.map(tab)}</nav>
        <main data-section=move || nav.section.get().name() data-lesson=move || nav.step.get().is_some().to_string()>
            <div class="page intro" data-page="learn">
                <p class="lesson-invite">
                    <button id="open-lesson" on:click=move |_| nav.step.set(Some(1))>"Start the guided lesson"</button>
                    " Six short steps, about a minute each: the worm, predicting its neurons, giving a network the wiring, reading behaviour, and letting a network find the wiring."
                </p>
                <DemoPanel settings=settings />
                <MeetTheWorm />
            </div>
            <LabPanel settings=settings />
            <div class="page import" data-page="data">
                <ImportPanel />
            </div>
        </main>
        <footer>
            <p id="privacy">
                "Everything runs in this page: recordings never leave your computer and the page "
                "sends no data anywhere. It requests nothing outside its own site, except the Kato "
                "files from the data URL you choose."
            </p>
            <Forget />
        </footer>
    }
}

/// What this browser keeps for the app, and the one button that forgets it.
#[component]
fn Forget() -> impl IntoView {
    let said = RwSignal::new(String::new());
    let library = expect_context::<Library>();
    let forget = move |_| {
        wasm_bindgen_futures::spawn_local(async move {
            said.set(keep::forget_all().await.unwrap_or_else(|e| e));
            library.kept.set(Vec::new());
        });
    };
    view! {
        <p id="kept">
            "This browser keeps the app (so it opens without a network), the Kato files it fetched, your last "
            "experiment with its finished runs and models, the recordings you chose to keep, and your backend choice, "
            "on this computer only. "
            <button id="forget" class="secondary small" on:click=forget>"Forget what this browser keeps"</button>
            " " <span id="forget-said" aria-live="polite">{move || said.get()}</span>
        </p>
    }
}
