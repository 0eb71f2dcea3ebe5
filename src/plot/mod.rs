//! Charts as pure functions of plain data, generic over plotters' `DrawingBackend`: the app
//! draws them on a canvas, tests and the CLI render the same functions to SVG.

pub mod bars;
pub mod coverage;
pub mod events;
pub mod loss;
pub mod matrix;
pub mod network;
pub mod preview;
pub mod raster;
pub mod worm;

pub use bars::Bars;
pub use coverage::{Coverage, draw_coverage};
pub use loss::{Curves, LossSeries, draw_loss};
pub use matrix::Matrix;
pub use network::Network;
pub use preview::DataPreview;
pub use raster::{Raster, draw_raster};
pub use worm::{WormFrame, WormLayout, draw_worm};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Okabe & Ito's palette (2008): colours told apart with the common colour-vision deficiencies,
/// for categories (behavioural states, neurons' lines).
pub const OKABE_ITO: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(240, 228, 66),
    RGBColor(0, 0, 0),
];

/// A chart that draws itself on any plotters backend: a canvas in the page, SVG for export.
pub trait Chart {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), PlotError>;
}

/// Nothing to draw yet: a blank area.
impl<T: Chart> Chart for Option<T> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        match self {
            Some(chart) => chart.draw(area),
            None => area.fill(&WHITE).map_err(PlotError::from),
        }
    }
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

/// What stands beside a legend entry's name: a line (curves, edges) or a filled block (bars).
#[derive(Debug, Clone, Copy)]
pub enum Swatch {
    Line(RGBAColor),
    Block(RGBAColor),
}

/// Where a legend box sits inside the plotting area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Corner {
    UpperRight,
    LowerRight,
}

/// Font size of legend entries, in pixels.
const LEGEND_FONT: i32 = 13;

/// Draws a boxed legend (swatch and name per entry) in a corner of `area`.
///
/// Text widths are estimated from the font size instead of measured: plotters' own series
/// labels measure every name by adding it to the page and reading its size back, which makes
/// the browser lay out the whole page once per name.
pub fn draw_legend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, entries: &[(String, Swatch)], corner: Corner) -> Result<(), PlotError> {
    if entries.is_empty() {
        return Ok(());
    }
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let row = LEGEND_FONT + 6;
    let longest = entries.iter().map(|(name, _)| name.chars().count()).max().unwrap_or(0) as i32;
    // capitals and digits (neuron names) run about 0.7 em wide in sans-serif
    let box_w = 36 + longest * LEGEND_FONT * 7 / 10;
    let box_h = row * entries.len() as i32 + 8;
    let x0 = (w - box_w - 8).max(0);
    let y0 = match corner {
        Corner::UpperRight => 8,
        Corner::LowerRight => (h - box_h - 8).max(0),
    };
    area.draw(&Rectangle::new([(x0, y0), (x0 + box_w, y0 + box_h)], WHITE.mix(0.85).filled())).map_err(PlotError::from)?;
    area.draw(&Rectangle::new([(x0, y0), (x0 + box_w, y0 + box_h)], BLACK.stroke_width(1))).map_err(PlotError::from)?;
    for (k, (name, swatch)) in entries.iter().enumerate() {
        let y = y0 + 4 + row * k as i32 + row / 2;
        match *swatch {
            Swatch::Line(c) => area.draw(&PathElement::new(vec![(x0 + 6, y), (x0 + 24, y)], c.stroke_width(2))),
            Swatch::Block(c) => area.draw(&Rectangle::new([(x0 + 8, y - 5), (x0 + 20, y + 5)], c.filled())),
        }
        .map_err(PlotError::from)?;
        let style = ("sans-serif", LEGEND_FONT).into_font().color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center));
        area.draw(&Text::new(name.clone(), (x0 + 30, y), style)).map_err(PlotError::from)?;
    }
    Ok(())
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
