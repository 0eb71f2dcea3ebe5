//! Charts as pure functions of plain data, generic over plotters' `DrawingBackend`: the app
//! draws them on a canvas, tests and the CLI render the same functions to SVG.

pub mod bars;
pub mod coverage;
pub mod loss;
pub mod matrix;
pub mod network;
pub mod raster;

pub use bars::Bars;
pub use coverage::{Coverage, draw_coverage};
pub use loss::{Curves, LossSeries, draw_loss};
pub use matrix::Matrix;
pub use network::Network;
pub use raster::{Raster, draw_raster};

use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, DrawingBackend};

/// A chart that draws itself on any plotters backend: a canvas in the page, SVG for export.
pub trait Chart {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), PlotError>;
}

impl Chart for Raster {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        draw_raster(area, self)
    }
}

impl Chart for Coverage {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        draw_coverage(area, self)
    }
}

/// A chart that could not be drawn (the backend's message).
#[derive(Debug, thiserror::Error)]
#[error("could not draw the chart: {0}")]
pub struct PlotError(pub String);

impl PlotError {
    pub(crate) fn from<E: std::fmt::Debug>(e: E) -> Self {
        Self(format!("{e:?}"))
    }
}

/// Renders `draw` into an SVG document of the given size.
pub fn to_svg<F>(size: (u32, u32), draw: F) -> Result<String, PlotError>
where
    F: FnOnce(&plotters::drawing::DrawingArea<plotters::prelude::SVGBackend<'_>, plotters::coord::Shift>) -> Result<(), PlotError>,
{
    use plotters::prelude::*;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        draw(&root)?;
        root.present().map_err(PlotError::from)?;
    }
    Ok(svg)
}
