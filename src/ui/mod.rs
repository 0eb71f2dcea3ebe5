//! The page: Leptos components over the library. No tensor maths here; the UI calls the same
//! functions as the CLI and shows their plain-value reports.

mod chart;
mod demo;
mod import;
mod lab;
mod results;

use leptos::prelude::*;

use crate::device::BackendChoice;

use demo::DemoPanel;
use import::{ImportPanel, Library};
use lab::LabPanel;

/// Settings read once from the page URL.
#[derive(Debug, Clone, Copy)]
pub struct UrlSettings {
    /// `?backend=auto|webgpu|cpu`; without it, the choice remembered from an earlier visit
    /// ([`remembered_backend`]), else the faster one, timed on the first run.
    pub backend: BackendChoice,
    /// The link opens an experiment (`#…`): the demo then waits to be started.
    pub experiment_link: bool,
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
        Self { backend, experiment_link: hash.len() > 1, fault, workers }
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
    view! {
        <header>
            <h1>"NeuroGNN"</h1>
            <p class="tagline">
                "Graph neural networks on whole-brain calcium imaging, trained on your own GPU."
            </p>
            <button id="large-type" class="secondary" aria-pressed=move || large.get().to_string()
                on:click=move |_| large.update(|l| *l = !*l)>"Large type"</button>
        </header>
        <main>
            <DemoPanel settings=settings />
            <LabPanel settings=settings />
            <ImportPanel />
        </main>
        <footer>
            <p id="privacy">
                "Everything runs in this page: recordings never leave your computer and the page "
                "sends no data anywhere. It requests nothing outside its own site, except the Kato "
                "files from the data URL you choose."
            </p>
        </footer>
    }
}
