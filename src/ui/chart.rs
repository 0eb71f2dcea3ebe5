//! Canvases that redraw a plotters chart whenever their data changes, with PNG and SVG export.

use leptos::html::Canvas;
use leptos::prelude::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use plotters::prelude::*;
use plotters_backend::{BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind};
use plotters_canvas::CanvasBackend;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

use crate::plot::{Chart, Curves, LossSeries, PlotError, to_svg};

/// The shortest time between two draws of one chart.
const MIN_REDRAW_MS: u32 = 300;

/// A canvas drawn from `data`, redrawn on every change.
///
/// * `data`: what to draw (a chart from [`crate::plot`]).
/// * `id`, `class`, `label`: the element's id, CSS class and accessible name.
/// * `export`: offer "PNG" and "SVG" buttons that download the chart as `<id>.png` / `.svg`.
/// * `redraw_ms`: the shortest time between two draws (playback asks for less than the default).
#[component]
pub fn PlotCanvas<T>(
    data: Signal<T>,
    #[prop(into)] id: String,
    #[prop(into, default = String::new())] class: String,
    #[prop(into)] label: String,
    width: u32,
    height: u32,
    #[prop(default = false)] export: bool,
    #[prop(default = MIN_REDRAW_MS)] redraw_ms: u32,
) -> impl IntoView
where
    T: Chart + Clone + Send + Sync + 'static,
{
    let canvas = NodeRef::<Canvas>::new();
    let canvas_id = id.clone();
    // Each chart draws in its own task, after the change that asked for it, so one finished run
    // that updates ten charts does not hold the main thread for all ten; a chart redraws at most
    // every MIN_REDRAW_MS (live loss curves change with every report), and changes that arrive
    // before the draw are folded into it.
    let pending = Arc::new(AtomicBool::new(false));
    let last_draw = Arc::new(std::sync::Mutex::new(None::<web_time::Instant>));
    Effect::new(move |_| {
        data.track();
        if pending.swap(true, Ordering::Relaxed) {
            return;
        }
        let since = last_draw.lock().ok().and_then(|l| *l).map_or(u32::MAX, |t| t.elapsed().as_millis().min(u128::from(u32::MAX)) as u32);
        let (pending, canvas_id, last_draw) = (pending.clone(), canvas_id.clone(), last_draw.clone());
        gloo::timers::callback::Timeout::new(redraw_ms.saturating_sub(since), move || {
            pending.store(false, Ordering::Relaxed);
            if let Ok(mut l) = last_draw.lock() {
                *l = Some(web_time::Instant::now());
            }
            // the chart may have left the page (and its signals been disposed) since it asked
            let (Some(element), Some(value)) = (canvas.try_get_untracked().flatten(), data.try_get_untracked()) else { return };
            draw_on_canvas(&element, &value, &canvas_id);
        })
        .forget();
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
            <canvas id=id class=class node_ref=canvas width=width height=height role="img" aria-label=label.clone()></canvas>
            {buttons}
        </figure>
    }
}

/// Draws `chart` on `element`, logging failures and draws that held the main thread over 100 ms.
fn draw_on_canvas<T: Chart>(element: &HtmlCanvasElement, chart: &T, id: &str) {
    let Some(backend) = MeasuredCanvas::new(element) else {
        log::error!("a chart canvas has no 2D context");
        return;
    };
    let root = backend.into_drawing_area();
    let started = web_time::Instant::now();
    if let Err(e) = chart.draw(&root).and_then(|()| root.present().map_err(PlotError::from)) {
        log::error!("{e}");
    }
    let ms = started.elapsed().as_secs_f64() * 1e3;
    // a long task is one over 50 ms: say which chart made one
    if ms > 50.0 {
        log::warn!("drawing {id} took {ms:.0} ms");
    }
}

/// plotters' canvas backend, measuring text with the canvas's own `measureText`.
///
/// plotters measures text in a browser by adding a `<span>` to the page and reading its size,
/// which lays out the whole page for every axis label: on the lab's results page that made one
/// chart take 50–350 ms. `measureText` needs no layout.
///
/// It also fills rectangles itself: plotters' backend hands the canvas every colour as a new JS
/// string object, and allocating and freeing those dominated drawing heatmaps (about 70 µs per
/// cell, 3.5 s for one recording's raster); here the colour is set only when it changes, from a
/// Rust string.
struct MeasuredCanvas {
    inner: CanvasBackend,
    context: CanvasRenderingContext2d,
    /// The fill colour last set on the context by `draw_rect` (`None`: unknown).
    fill: Option<BackendColor>,
}

impl MeasuredCanvas {
    fn new(element: &HtmlCanvasElement) -> Option<Self> {
        let context = element.get_context("2d").ok()??.dyn_into().ok()?;
        Some(Self { inner: CanvasBackend::with_canvas_object(element.clone())?, context, fill: None })
    }

    /// Sets the context's fill colour unless it already is `color`.
    fn set_fill(&mut self, color: BackendColor) {
        if self.fill.is_some_and(|c| c.rgb == color.rgb && c.alpha == color.alpha) {
            return;
        }
        let (r, g, b) = color.rgb;
        let css = if color.alpha >= 1.0 { format!("#{r:02x}{g:02x}{b:02x}") } else { format!("rgba({r},{g},{b},{})", color.alpha) };
        self.context.set_fill_style_str(&css);
        self.fill = Some(color);
    }
}

type CanvasError = DrawingErrorKind<<CanvasBackend as DrawingBackend>::ErrorType>;

impl DrawingBackend for MeasuredCanvas {
    type ErrorType = <CanvasBackend as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }
    fn ensure_prepared(&mut self) -> Result<(), CanvasError> {
        self.inner.ensure_prepared()
    }
    fn present(&mut self) -> Result<(), CanvasError> {
        self.inner.present()
    }
    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Result<(), CanvasError> {
        self.draw_rect(point, (point.0 + 1, point.1 + 1), &color, true)
    }
    fn draw_line<S: BackendStyle>(&mut self, from: BackendCoord, to: BackendCoord, style: &S) -> Result<(), CanvasError> {
        self.inner.draw_line(from, to, style)
    }
    fn draw_rect<S: BackendStyle>(&mut self, upper_left: BackendCoord, bottom_right: BackendCoord, style: &S, fill: bool) -> Result<(), CanvasError> {
        let color = style.color();
        if !fill || color.alpha == 0.0 {
            return self.inner.draw_rect(upper_left, bottom_right, style, fill);
        }
        self.set_fill(color);
        let (x, y) = (f64::from(upper_left.0), f64::from(upper_left.1));
        self.context.fill_rect(x, y, f64::from(bottom_right.0) - x, f64::from(bottom_right.1) - y);
        Ok(())
    }
    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(&mut self, path: I, style: &S) -> Result<(), CanvasError> {
        self.fill = None;
        self.inner.draw_path(path, style)
    }
    fn draw_circle<S: BackendStyle>(&mut self, center: BackendCoord, radius: u32, style: &S, fill: bool) -> Result<(), CanvasError> {
        self.fill = None;
        self.inner.draw_circle(center, radius, style, fill)
    }
    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(&mut self, vert: I, style: &S) -> Result<(), CanvasError> {
        self.fill = None;
        self.inner.fill_polygon(vert, style)
    }
    fn draw_text<S: BackendTextStyle>(&mut self, text: &str, style: &S, pos: BackendCoord) -> Result<(), CanvasError> {
        self.fill = None;
        self.inner.draw_text(text, style, pos)
    }
    fn estimate_text_size<S: BackendTextStyle>(&self, text: &str, style: &S) -> Result<(u32, u32), CanvasError> {
        // the same font string the canvas backend draws with
        self.context.set_font(&format!("{} {}px {}", style.style().as_str(), style.size(), style.family().as_str()));
        let width = self.context.measure_text(text).map(|m| m.width()).unwrap_or(0.0);
        Ok((width.ceil() as u32, (style.size() * 1.2).ceil() as u32))
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
    download_bytes(text.as_bytes(), mime, file);
}

/// Asks the browser to save `bytes` as `file` with the given MIME type.
pub fn download_bytes(bytes: &[u8], mime: &str, file: &str) {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options) else { return };
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
