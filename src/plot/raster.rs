//! A recording at a glance: activity as a neurons × time raster (each neuron z-scored for
//! display), with the behaviour ethogram as a coloured bar under it.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;

use super::PlotError;
use crate::data::Recording;
use crate::data::windows::column_stats;

/// Display range of the z-scored activity (values beyond it saturate).
const Z_RANGE: f32 = 2.5;

/// Shades of the colour scale the raster's cells are drawn in (NaN cells take the lowest).
const COLOUR_LEVELS: usize = 64;

/// A raster binned to screen resolution: plain data, cheap to draw.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Raster {
    pub title: String,
    pub neurons: usize,
    pub bins: usize,
    /// `values[i * bins + b]`: neuron `i`'s mean z-score in time bin `b`.
    pub values: Vec<f32>,
    /// The most frequent state in each bin (`None`: unlabelled or no labels).
    pub states: Vec<Option<u16>>,
    pub state_names: Vec<String>,
    pub duration_s: f32,
    /// Each row's neuron (`None`: unidentified), to place it on the worm.
    #[serde(default)]
    pub names: Vec<Option<String>>,
    /// A time bin marked with a line (the moment shown in the other time views).
    #[serde(default)]
    pub cursor: Option<usize>,
}

impl Raster {
    /// Bins `rec` into at most `max_bins` time bins.
    pub fn from_recording(rec: &Recording, max_bins: usize) -> Self {
        let bins = rec.frames.clamp(1, max_bins.max(1));
        let n = rec.neurons;
        let bin_of = |t: usize| t * bins / rec.frames.max(1);
        let mut values = vec![0f32; n * bins];
        let (means, sds) = column_stats(&rec.traces, n, 0..rec.frames);
        for i in 0..n {
            let (mean, sd) = (means[i], sds[i]);
            let mut count = vec![0u32; bins];
            for (t, v) in rec.trace(i).enumerate() {
                values[i * bins + bin_of(t)] += (v - mean) / sd;
                count[bin_of(t)] += 1;
            }
            for (b, c) in count.iter().enumerate() {
                values[i * bins + b] /= (*c).max(1) as f32;
            }
        }
        let (states, state_names) = match &rec.labels {
            Some(l) => {
                let mut tally = vec![vec![0u32; l.names.len()]; bins];
                for (t, s) in l.per_frame.iter().enumerate() {
                    if let Some(s) = s {
                        tally[bin_of(t)][usize::from(*s)] += 1;
                    }
                }
                let majority = tally.iter().map(|c| c.iter().enumerate().filter(|(_, n)| **n > 0).max_by_key(|(_, n)| **n).map(|(s, _)| s as u16));
                (majority.collect(), l.names.clone())
            }
            None => (vec![None; bins], Vec::new()),
        };
        Self {
            title: rec.name.clone(),
            neurons: n,
            bins,
            values,
            states,
            state_names,
            duration_s: rec.duration_s(),
            names: rec.neuron_names.clone(),
            cursor: None,
        }
    }
}

impl Raster {
    /// The middle of time bin `bin`, in seconds from the start.
    pub fn seconds_at(&self, bin: usize) -> f32 {
        (bin as f32 + 0.5) * self.duration_s / self.bins.max(1) as f32
    }
}

/// The colour of state `s` in every ethogram and legend (Okabe & Ito's palette, readable with
/// the common colour-vision deficiencies).
pub fn state_color(s: usize) -> RGBColor {
    super::OKABE_ITO[s % super::OKABE_ITO.len()]
}

/// Draws the raster, the ethogram bar under it and a legend of states.
pub fn draw_raster<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, raster: &Raster) -> Result<(), PlotError> {
    area.fill(&WHITE).map_err(PlotError::from)?;
    let (_, height) = area.dim_in_pixel();
    let legend_h = if raster.state_names.is_empty() { 0 } else { 22 };
    let (plot, legend) = area.split_vertically(height.saturating_sub(legend_h));
    let mut chart = ChartBuilder::on(&plot)
        .margin(6)
        .caption(format!("{} · {} neurons · {:.0} s", raster.title, raster.neurons, raster.duration_s), ("sans-serif", 15))
        .x_label_area_size(38)
        .y_label_area_size(40)
        .build_cartesian_2d(0f32..raster.bins as f32, -(raster.neurons as f32) * 0.12..raster.neurons as f32)
        .map_err(PlotError::from)?;
    let seconds_per_bin = raster.duration_s / raster.bins.max(1) as f32;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("time (s)")
        .y_desc("neuron")
        .x_label_formatter(&|b| format!("{:.0}", b * seconds_per_bin))
        .y_label_formatter(&|y| if *y >= 0.0 { format!("{y:.0}") } else { String::new() })
        .draw()
        .map_err(PlotError::from)?;
    // cells in COLOUR_LEVELS shades, drawn shade by shade: a canvas then changes its fill colour
    // COLOUR_LEVELS times, not once per cell (a recording's raster has 10-20 thousand cells)
    let level = |v: f32| ((v.clamp(-Z_RANGE, Z_RANGE) + Z_RANGE) / (2.0 * Z_RANGE) * (COLOUR_LEVELS - 1) as f32).round() as usize;
    let mut cells: Vec<(usize, usize, usize)> = (0..raster.neurons).flat_map(|i| (0..raster.bins).map(move |b| (i, b))).map(|(i, b)| (level(raster.values[i * raster.bins + b]), i, b)).collect();
    cells.sort_unstable();
    let shades: Vec<RGBColor> = (0..COLOUR_LEVELS).map(|l| ViridisRGB::get_color_normalized(l as f32, 0.0, (COLOUR_LEVELS - 1) as f32)).collect();
    let rectangles = cells.into_iter().map(|(l, i, b)| Rectangle::new([(b as f32, i as f32), (b as f32 + 1.0, i as f32 + 1.0)], shades[l].filled()));
    chart.draw_series(rectangles).map_err(PlotError::from)?;
    let bar_top = -(raster.neurons as f32) * 0.02;
    let bar_bottom = -(raster.neurons as f32) * 0.12;
    let ethogram = raster.states.iter().enumerate().filter_map(|(b, s)| {
        s.map(|s| Rectangle::new([(b as f32, bar_bottom), (b as f32 + 1.0, bar_top)], state_color(usize::from(s)).filled()))
    });
    chart.draw_series(ethogram).map_err(PlotError::from)?;
    if let Some(b) = raster.cursor.filter(|&b| b < raster.bins) {
        let x = b as f32 + 0.5;
        chart.draw_series(std::iter::once(PathElement::new(vec![(x, bar_bottom), (x, raster.neurons as f32)], RED.stroke_width(2)))).map_err(PlotError::from)?;
    }
    let mut x = 46i32;
    for (s, name) in raster.state_names.iter().enumerate() {
        legend.draw(&Rectangle::new([(x, 5), (x + 12, 17)], state_color(s).filled())).map_err(PlotError::from)?;
        legend.draw(&Text::new(name.clone(), (x + 15, 5), ("sans-serif", 12))).map_err(PlotError::from)?;
        x += 28 + 8 * name.len() as i32;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::tests::tiny;
    use crate::plot::to_svg;

    #[test]
    fn bins_average_z_scores_and_keep_the_majority_state() {
        let r = Raster::from_recording(&tiny(), 2);
        assert_eq!((r.neurons, r.bins), (2, 2));
        // neuron 0 is 0, 2, 4 → z -1.22, 0, 1.22; bin 0 holds frames 0 and 1
        assert!((r.values[0] + 0.612).abs() < 1e-2 && (r.values[1] - 1.225).abs() < 1e-2, "{:?}", r.values);
        assert_eq!(r.states, vec![Some(0), Some(1)]);
        let svg = to_svg((400, 240), |a| draw_raster(a, &r)).unwrap();
        assert!(svg.contains("FWD") && svg.contains("REV") && svg.contains("tiny"));
        assert!(svg.matches("<rect").count() >= 2 * 2 + 2, "cells and ethogram should be drawn");
    }
}
