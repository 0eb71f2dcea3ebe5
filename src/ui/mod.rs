//! The page: Leptos components over the library. No tensor maths here; the UI calls the same
//! functions as the CLI and shows their plain-value reports.

mod chart;
mod demo;
mod import;

use leptos::prelude::*;

use demo::DemoPanel;
use import::{ImportPanel, Library};

/// Settings read once from the page URL (`?backend=cpu` forces the CPU backend).
#[derive(Debug, Clone, Copy)]
pub struct UrlSettings {
    pub prefer_gpu: bool,
}

impl UrlSettings {
    fn from_location() -> Self {
        let search = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
        let prefer_gpu = !search.trim_start_matches('?').split('&').any(|kv| kv == "backend=cpu");
        Self { prefer_gpu }
    }
}

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    let settings = UrlSettings::from_location();
    provide_context(Library::new());
    view! {
        <header>
            <h1>"NeuroGNN"</h1>
            <p class="tagline">
                "Graph neural networks on whole-brain calcium imaging, trained on your own GPU."
            </p>
        </header>
        <main>
            <DemoPanel settings=settings />
            <ImportPanel />
        </main>
        <footer>
            <p>
                "Everything runs in this page: recordings never leave your computer and the page "
                "sends no data anywhere."
            </p>
        </footer>
    }
}
