//! Canvases that redraw a plotters chart whenever their data changes.

use leptos::html::Canvas;
use leptos::prelude::*;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;

use crate::plot::{LossSeries, PlotError, draw_loss};

/// A canvas drawn by `draw` from `data`, redrawn on every change.
///
/// * `data`: what to draw; `draw`: a pure chart function from [`crate::plot`].
/// * `id`, `class`, `label`: the element's id, CSS class and accessible name.
#[component]
pub fn PlotCanvas<T, F>(
    #[prop(into)] data: Signal<T>,
    draw: F,
    #[prop(into)] id: String,
    #[prop(into, default = String::new())] class: String,
    #[prop(into)] label: String,
    width: u32,
    height: u32,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    F: Fn(&DrawingArea<CanvasBackend, Shift>, &T) -> Result<(), PlotError> + 'static,
{
    let canvas = NodeRef::<Canvas>::new();
    Effect::new(move |_| {
        let value = data.get();
        let Some(element) = canvas.get() else { return };
        let Some(backend) = CanvasBackend::with_canvas_object(element) else {
            log::error!("a chart canvas has no 2D context");
            return;
        };
        let root = backend.into_drawing_area();
        if let Err(e) = draw(&root, &value).and_then(|()| root.present().map_err(PlotError::from)) {
            log::error!("{e}");
        }
    });
    view! { <canvas id=id class=class node_ref=canvas width=width height=height aria-label=label></canvas> }
}

/// The live loss curve.
///
/// * `series`: the curves to draw.
#[component]
pub fn LossChart(#[prop(into)] series: Signal<Vec<LossSeries>>) -> impl IntoView {
    view! {
        <PlotCanvas data=series draw={|area, s: &Vec<LossSeries>| draw_loss(area, s)} id="loss-chart"
            label="training loss chart" width=640 height=360 />
    }
}
