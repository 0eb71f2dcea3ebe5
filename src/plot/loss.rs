//! Loss curves: one line per run.

use plotters::coord::Shift;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Chart, Corner, PlotError, Swatch, draw_legend};

/// One named curve of `(step, loss)` points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossSeries {
    pub name: String,
    pub points: Vec<(usize, f32)>,
}

/// Line charts of named `(x, y)` series: loss curves, traces, rollout errors.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Curves {
    pub title: String,
    pub x_desc: String,
    pub y_desc: String,
    pub series: Vec<LossSeries>,
    /// Start the y axis at zero (losses) rather than at the smallest value (traces).
    pub from_zero: bool,
    /// An x value marked with a line (the moment shown in the other time views).
    #[serde(default)]
    pub marker: Option<usize>,
}

impl Curves {
    /// Training-loss curves.
    pub fn loss(series: Vec<LossSeries>) -> Self {
        Self { title: "training loss (MSE, z-scored)".into(), x_desc: "step".into(), y_desc: "loss".into(), series, from_zero: true, marker: None }
    }
}

/// Draws the loss curves onto `area` (an empty chart when there are no points yet).
pub fn draw_loss<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, series: &[LossSeries]) -> Result<(), PlotError> {
    Curves::loss(series.to_vec()).draw(area)
}

impl Chart for Curves {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        area.fill(&WHITE).map_err(PlotError::from)?;
        let series = &self.series;
        let points = || series.iter().flat_map(|s| s.points.iter());
        let lo_step = points().map(|p| p.0).min().unwrap_or(0);
        let max_step = points().map(|p| p.0).max().unwrap_or(1).max(lo_step + 1);
        let finite = || points().map(|p| p.1).filter(|v| v.is_finite());
        let hi = finite().fold(f32::NEG_INFINITY, f32::max);
        let lo = finite().fold(f32::INFINITY, f32::min);
        // A linear axis from zero reads better than a log axis whose decade ticks rarely fall in range.
        let (lo, hi) = if hi.is_finite() { (if self.from_zero { lo.min(0.0) } else { lo }, hi.max(lo + 1e-6)) } else { (0.0, 1.0) };
        let pad = 0.05 * (hi - lo);
        let mut chart = ChartBuilder::on(area)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .caption(&self.title, ("sans-serif", 18))
            .build_cartesian_2d(lo_step..max_step, (if self.from_zero { lo } else { lo - pad })..hi + pad)
            .map_err(PlotError::from)?;
        chart.configure_mesh().x_desc(self.x_desc.as_str()).y_desc(self.y_desc.as_str()).draw().map_err(PlotError::from)?;
        if let Some(x) = self.marker.filter(|x| (lo_step..=max_step).contains(x)) {
            let (y0, y1) = (if self.from_zero { lo } else { lo - pad }, hi + pad);
            chart.draw_series(std::iter::once(PathElement::new(vec![(x, y0), (x, y1)], RED.stroke_width(2)))).map_err(PlotError::from)?;
        }
        draw_lines(&mut chart, series)?;
        Ok(())
    }
}

fn draw_lines<'a, DB, X, Y>(chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>, series: &[LossSeries]) -> Result<(), PlotError>
where
    DB: DrawingBackend + 'a,
    X: Ranged<ValueType = usize>,
    Y: Ranged<ValueType = f32>,
{
    let mut legend = Vec::new();
    for (i, s) in series.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let line = s.points.iter().copied().filter(|p| p.1.is_finite());
        chart.draw_series(LineSeries::new(line, color.stroke_width(2))).map_err(PlotError::from)?;
        if !s.name.is_empty() {
            legend.push((s.name.clone(), Swatch::Line(color)));
        }
    }
    draw_legend(&chart.plotting_area().strip_coord_spec(), &legend, Corner::UpperRight)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::to_svg;

    #[test]
    fn draws_each_series_as_a_labelled_line() {
        let series = vec![
            LossSeries { name: "WebGPU".into(), points: vec![(0, 1.0), (10, 0.5), (20, 0.2)] },
            LossSeries { name: "CPU".into(), points: vec![(0, 1.1), (10, 0.6)] },
        ];
        let svg = to_svg((480, 300), |area| draw_loss(area, &series)).unwrap();
        assert!(svg.contains("WebGPU") && svg.contains("CPU"), "legend missing");
        assert!(svg.contains("training loss"));
        assert!(svg.matches("<polyline").count() >= 2, "expected two loss lines:\n{svg}");
    }

    #[test]
    fn empty_and_non_positive_data_still_draw() {
        assert!(to_svg((200, 100), |a| draw_loss(a, &[])).is_ok());
        let s = [LossSeries { name: String::new(), points: vec![(0, -1.0), (1, f32::NAN), (2, 0.0)] }];
        assert!(to_svg((200, 100), |a| draw_loss(a, &s)).is_ok());
    }
}
