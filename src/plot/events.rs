//! The event-triggered average ([`crate::data::events`]): each neuron's mean activity around
//! a state's onsets as a line, its standard error as a band, onset at 0.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{Chart, Corner, OKABE_ITO, PlotError, Swatch, draw_legend};
use crate::data::events::EventAverage;

impl Chart for EventAverage {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        draw_event_average(area, self)
    }
}

/// Draws the lines, bands, the onset line and a legend.
pub fn draw_event_average<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, avg: &EventAverage) -> Result<(), PlotError> {
    area.fill(&WHITE).map_err(PlotError::from)?;
    let (t0, t1) = (avg.times.first().copied().unwrap_or(-1.0), avg.times.last().copied().unwrap_or(1.0));
    let values = avg.neurons.iter().flat_map(|n| n.mean.iter().zip(&n.sem).flat_map(|(m, s)| [m - s, m + s])).filter(|v| v.is_finite());
    let (lo, hi) = values.fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (lo, hi) = if lo.is_finite() { (lo - 0.1, hi + 0.1) } else { (-1.0, 1.0) };
    let mut chart = ChartBuilder::on(area)
        .margin(8)
        .caption(format!("{} · onsets of {} (n = {}) · mean ± s.e.m.", avg.recording, avg.state, avg.events), ("sans-serif", 15))
        .x_label_area_size(36)
        .y_label_area_size(44)
        .build_cartesian_2d(t0..t1.max(t0 + 1e-3), lo..hi)
        .map_err(PlotError::from)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(format!("seconds from the onset of {}", avg.state))
        .y_desc("activity (z)")
        .draw()
        .map_err(PlotError::from)?;
    chart.draw_series(std::iter::once(PathElement::new(vec![(0.0, lo), (0.0, hi)], BLACK.mix(0.5).stroke_width(1)))).map_err(PlotError::from)?;
    let mut legend = Vec::new();
    for (k, n) in avg.neurons.iter().enumerate() {
        let colour = OKABE_ITO[k % OKABE_ITO.len()];
        let upper = avg.times.iter().zip(n.mean.iter().zip(&n.sem)).map(|(t, (m, s))| (*t, m + s));
        let lower = avg.times.iter().zip(n.mean.iter().zip(&n.sem)).map(|(t, (m, s))| (*t, m - s)).rev();
        chart.draw_series(std::iter::once(Polygon::new(upper.chain(lower).collect::<Vec<_>>(), colour.mix(0.2).filled()))).map_err(PlotError::from)?;
        chart.draw_series(LineSeries::new(avg.times.iter().copied().zip(n.mean.iter().copied()), colour.stroke_width(2))).map_err(PlotError::from)?;
        legend.push((n.name.clone(), Swatch::Line(colour.to_rgba())));
    }
    draw_legend(area, &legend, Corner::UpperRight)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::events::NeuronAverage;
    use crate::plot::to_svg;

    #[test]
    fn draws_each_neuron_with_its_band() {
        let avg = EventAverage {
            recording: "worm 1".into(),
            state: "REV".into(),
            events: 12,
            cut_off: 1,
            times: vec![-1.0, 0.0, 1.0],
            neurons: vec![
                NeuronAverage { name: "AVAL".into(), mean: vec![-0.5, 0.2, 1.1], sem: vec![0.1, 0.1, 0.2] },
                NeuronAverage { name: "AVBL".into(), mean: vec![0.4, 0.1, -0.6], sem: vec![0.1, 0.1, 0.1] },
            ],
        };
        let svg = to_svg((640, 300), |a| draw_event_average(a, &avg)).unwrap();
        assert!(svg.contains("AVAL") && svg.contains("AVBL") && svg.contains("n = 12"), "{svg}");
        assert_eq!(svg.matches("<polygon").count(), 2, "one band per neuron");
    }
}
