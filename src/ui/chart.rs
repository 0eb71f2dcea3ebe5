//! A canvas that redraws a plotters chart whenever its data changes.

use leptos::html::Canvas;
use leptos::prelude::*;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;

use crate::plot::{LossSeries, draw_loss};

/// The live loss curve.
///
/// * `series`: the curves to draw; the chart redraws on every change.
#[component]
pub fn LossChart(#[prop(into)] series: Signal<Vec<LossSeries>>) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    Effect::new(move |_| {
        let data = series.get();
        let Some(element) = canvas.get() else { return };
        let Some(backend) = CanvasBackend::with_canvas_object(element) else {
            log::error!("the loss chart's canvas has no 2D context");
            return;
        };
        let root = backend.into_drawing_area();
        if let Err(e) = draw_loss(&root, &data).and_then(|()| root.present().map_err(crate::plot::PlotError::from)) {
            log::error!("{e}");
        }
    });
    view! {
        <canvas id="loss-chart" node_ref=canvas width="640" height="360" aria-label="training loss chart"></canvas>
    }
}
