//! The page: Leptos components over the library. No tensor maths here; the UI calls the same
//! functions as the CLI and shows their plain-value reports.

mod chart;
mod demo;
mod import;
mod lab;
mod results;
pub mod worker;

use leptos::prelude::*;

use demo::DemoPanel;
use import::{ImportPanel, Library};
use lab::LabPanel;

/// Settings read once from the page URL (`?backend=cpu` forces the CPU backend).
#[derive(Debug, Clone, Copy)]
pub struct UrlSettings {
    pub prefer_gpu: bool,
    /// The link opens an experiment (`#…`): the demo then waits to be started.
    pub experiment_link: bool,
    /// `?fault=nan|gpu-lost|worker-dies`: a failure acted out in the second run, so tests can
    /// check the page survives it (see [`crate::train::Fault`]).
    pub fault: Option<crate::train::Fault>,
}

impl UrlSettings {
    fn from_location() -> Self {
        let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
        let query = || search.trim_start_matches('?').split('&');
        let prefer_gpu = !query().any(|kv| kv == "backend=cpu");
        let fault = query().find_map(|kv| kv.strip_prefix("fault=")).and_then(crate::train::Fault::parse);
        let hash = web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default();
        Self { prefer_gpu, experiment_link: hash.len() > 1, fault }
    }
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
