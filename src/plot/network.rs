//! Node-link drawing of a graph: neurons on a circle, the strongest edges as arrows' lines,
//! with a reference graph (the connectome, or the true wiring) drawn faintly underneath.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{Chart, Corner, PlotError, Swatch, draw_legend};

/// Plain data for a node-link drawing over `neurons`; matrices are row-major `[from][to]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    pub title: String,
    pub neurons: Vec<String>,
    pub edges: Vec<f32>,
    /// Drawn faintly beneath (nonzero = an edge), e.g. the connectome.
    pub reference: Option<(String, Vec<f32>)>,
    /// How many of the strongest edges to draw.
    pub top: usize,
}

impl Network {
    /// Positions on a circle in drawing units (-1.2..1.2).
    fn position(&self, i: usize) -> (f64, f64) {
        let a = std::f64::consts::TAU * i as f64 / self.neurons.len().max(1) as f64;
        (a.cos(), a.sin())
    }

    /// The `top` strongest edges (self-loops left out), strongest first.
    pub fn strongest(&self) -> Vec<(usize, usize, f32)> {
        let n = self.neurons.len();
        let mut edges: Vec<(usize, usize, f32)> =
            self.edges.iter().enumerate().filter(|(k, v)| k / n != k % n && v.is_finite()).map(|(k, &v)| (k / n, k % n, v)).collect();
        edges.sort_by(|a, b| b.2.total_cmp(&a.2));
        edges.truncate(self.top);
        edges
    }
}

impl Chart for Network {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        area.fill(&WHITE).map_err(PlotError::from)?;
        let n = self.neurons.len();
        let mut chart = ChartBuilder::on(area)
            .margin(10)
            .caption(&self.title, ("sans-serif", 15))
            .build_cartesian_2d(-1.35f64..1.35, -1.3f64..1.3)
            .map_err(PlotError::from)?;
        let mut legend = Vec::new();
        if let Some((name, reference)) = &self.reference {
            let faint = RGBColor(180, 180, 180);
            let lines = reference.iter().enumerate().filter(|(k, v)| **v > 0.0 && k / n != k % n).map(|(k, _)| {
                PathElement::new(vec![self.position(k / n), self.position(k % n)], faint.stroke_width(1))
            });
            chart.draw_series(lines).map_err(PlotError::from)?;
            legend.push((name.clone(), Swatch::Line(faint.to_rgba())));
        }
        let strongest = self.strongest();
        let hi = strongest.first().map_or(1.0, |e| e.2).max(1e-6);
        let blue = RGBColor(43, 108, 176);
        let lines = strongest.iter().map(|&(a, b, v)| {
            let (from, to) = (self.position(a), self.position(b));
            // the line stops short of the receiver, where a dot marks the direction
            let tip = (from.0 + 0.92 * (to.0 - from.0), from.1 + 0.92 * (to.1 - from.1));
            PathElement::new(vec![from, tip], blue.mix(0.25 + 0.75 * f64::from(v / hi)).stroke_width(2))
        });
        chart.draw_series(lines).map_err(PlotError::from)?;
        legend.push((format!("strongest {} inferred edges", strongest.len()), Swatch::Line(blue.to_rgba())));
        let tips = strongest.iter().map(|&(a, b, _)| {
            let (from, to) = (self.position(a), self.position(b));
            Circle::new((from.0 + 0.92 * (to.0 - from.0), from.1 + 0.92 * (to.1 - from.1)), 3, blue.filled())
        });
        chart.draw_series(tips).map_err(PlotError::from)?;
        let nodes = (0..n).map(|i| Circle::new(self.position(i), 5, BLACK.filled()));
        chart.draw_series(nodes).map_err(PlotError::from)?;
        let labels = (0..n).map(|i| {
            let (x, y) = self.position(i);
            Text::new(self.neurons[i].clone(), (x * 1.12 - 0.08, y * 1.12 + 0.03), ("sans-serif", 11))
        });
        chart.draw_series(labels).map_err(PlotError::from)?;
        draw_legend(&chart.plotting_area().strip_coord_spec(), &legend, Corner::LowerRight)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::to_svg;

    #[test]
    fn keeps_the_strongest_edges_without_self_loops() {
        let net = Network {
            title: "NRI".into(),
            neurons: ["AVAL", "AVAR", "RIML"].map(String::from).to_vec(),
            edges: vec![0.9, 0.1, 0.5, 0.2, 0.9, 0.7, 0.3, 0.05, 0.9],
            reference: Some(("connectome".into(), vec![0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0])),
            top: 2,
        };
        assert_eq!(net.strongest(), vec![(1, 2, 0.7), (0, 2, 0.5)]);
        let svg = to_svg((400, 400), |a| net.draw(a)).unwrap();
        assert!(svg.contains("AVAL") && svg.contains("RIML") && svg.contains("connectome"));
    }
}
