//! Canvases that redraw a plotters chart whenever their data changes, with PNG and SVG export.

use leptos::html::Canvas;
use leptos::prelude::*;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use wasm_bindgen::JsCast;

use crate::plot::{Chart, Curves, LossSeries, PlotError, to_svg};

/// A canvas drawn from `data`, redrawn on every change.
///
/// * `data`: what to draw (a chart from [`crate::plot`]).
/// * `id`, `class`, `label`: the element's id, CSS class and accessible name.
/// * `export`: offer "PNG" and "SVG" buttons that download the chart as `<id>.png` / `.svg`.
#[component]
pub fn PlotCanvas<T>(
    data: Signal<T>,
    #[prop(into)] id: String,
    #[prop(into, default = String::new())] class: String,
    #[prop(into)] label: String,
    width: u32,
    height: u32,
    #[prop(default = false)] export: bool,
) -> impl IntoView
where
    T: Chart + Clone + Send + Sync + 'static,
{
    let canvas = NodeRef::<Canvas>::new();
    let canvas_id = id.clone();
    Effect::new(move |_| {
        let value = data.get();
        let Some(element) = canvas.get() else { return };
        let Some(backend) = CanvasBackend::with_canvas_object(element) else {
            log::error!("a chart canvas has no 2D context");
            return;
        };
        let root = backend.into_drawing_area();
        let started = web_time::Instant::now();
        if let Err(e) = value.draw(&root).and_then(|()| root.present().map_err(PlotError::from)) {
            log::error!("{e}");
        }
        // the page should never hold the main thread for 100 ms: say when a chart did
        let ms = started.elapsed().as_secs_f64() * 1e3;
        if ms > 100.0 {
            log::warn!("drawing {canvas_id} took {ms:.0} ms");
        }
    });
    let name = id.clone();
    let png = move |_| {
        if let Some(url) = canvas.get_untracked().and_then(|c| c.to_data_url().ok()) {
            download_url(&url, &format!("{name}.png"));
        }
    };
    let name = id.clone();
    let svg = move |_| match to_svg((width, height), |area| data.get_untracked().draw(area)) {
        Ok(text) => download_text(&text, "image/svg+xml", &format!("{name}.svg")),
        Err(e) => log::error!("{e}"),
    };
    let buttons = export.then(|| {
        view! {
            <span class="export">
                <button class="secondary small" on:click=png aria-label=format!("download {label} as PNG")>"PNG"</button>
                <button class="secondary small" on:click=svg aria-label=format!("download {label} as SVG")>"SVG"</button>
            </span>
        }
    });
    view! {
        <figure class="chart">
            <canvas id=id class=class node_ref=canvas width=width height=height aria-label=label.clone()></canvas>
            {buttons}
        </figure>
    }
}

/// Asks the browser to save `url` (a data: or blob: URL) as `file`.
pub fn download_url(url: &str, file: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    let Ok(a) = document.create_element("a") else { return };
    let a: web_sys::HtmlAnchorElement = a.unchecked_into();
    a.set_href(url);
    a.set_download(file);
    a.click();
}

/// Asks the browser to save `text` as `file` with the given MIME type.
pub fn download_text(text: &str, mime: &str, file: &str) {
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else { return };
    if let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) {
        download_url(&url, file);
        gloo::timers::callback::Timeout::new(30_000, move || {
            let _ = web_sys::Url::revoke_object_url(&url);
        })
        .forget();
    }
}

/// The live loss curve.
///
/// * `series`: the curves to draw; `id`: the canvas id.
#[component]
pub fn LossChart(#[prop(into)] series: Signal<Vec<LossSeries>>, #[prop(into, default = "loss-chart".to_string())] id: String) -> impl IntoView {
    let curves = Signal::derive(move || Curves::loss(series.get()));
    view! { <PlotCanvas data=curves id=id label="training loss chart" width=640 height=360 export=true /> }
}
