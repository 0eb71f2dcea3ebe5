//! Which identified neurons each animal has: animals × neurons, shared neurons marked.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::PlotError;

/// Plain data for the coverage matrix.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Coverage {
    pub animals: Vec<String>,
    /// Identified neurons present in any animal, sorted.
    pub neurons: Vec<String>,
    /// `present[a][j]`: animal `a` has neuron `neurons[j]`.
    pub present: Vec<Vec<bool>>,
}

impl Coverage {
    /// Builds the matrix for recordings (by their identified neuron names).
    pub fn of(recordings: &[&crate::data::Recording]) -> Self {
        let sets: Vec<_> = recordings.iter().map(|r| crate::data::names::identified_set(r)).collect();
        let neurons: Vec<String> = sets.iter().flatten().cloned().collect::<std::collections::BTreeSet<_>>().into_iter().collect();
        let present = sets.iter().map(|s| neurons.iter().map(|n| s.contains(n)).collect()).collect();
        Self { animals: recordings.iter().map(|r| r.name.clone()).collect(), neurons, present }
    }

    /// Columns present in every animal.
    pub fn shared(&self) -> Vec<bool> {
        (0..self.neurons.len()).map(|j| !self.present.is_empty() && self.present.iter().all(|row| row[j])).collect()
    }
}

/// Draws the matrix: a filled cell where an animal has the neuron; shared columns dark.
pub fn draw_coverage<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, cov: &Coverage) -> Result<(), PlotError> {
    area.fill(&WHITE).map_err(PlotError::from)?;
    let shared = cov.shared();
    let n = cov.neurons.len().max(1);
    let a = cov.animals.len().max(1);
    let mut chart = ChartBuilder::on(area)
        .margin(8)
        .caption(
            format!("identified neurons: {} in any animal, {} shared by all", cov.neurons.len(), shared.iter().filter(|s| **s).count()),
            ("sans-serif", 15),
        )
        .x_label_area_size(60)
        .y_label_area_size(150)
        .build_cartesian_2d(0f32..n as f32, -0.5f32..a as f32 - 0.5)
        .map_err(PlotError::from)?;
    let names = cov.neurons.clone();
    let animals = cov.animals.clone();
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(n.min(40))
        .y_labels(2 * a + 1)
        .x_label_formatter(&|x| names.get(*x as usize).cloned().unwrap_or_default())
        // one label per row, at its centre (ticks between rows get none)
        .y_label_formatter(&|y| {
            let row = y.round();
            if (y - row).abs() > 0.01 || row < 0.0 { return String::new() }
            animals.get(a - 1 - (row as usize).min(a - 1)).cloned().unwrap_or_default()
        })
        .x_label_style(("sans-serif", 10).into_font().transform(FontTransform::Rotate90))
        .draw()
        .map_err(PlotError::from)?;
    let cells = cov.present.iter().enumerate().flat_map(|(r, row)| {
        let shared = &shared;
        row.iter().enumerate().filter(|(_, p)| **p).map(move |(j, _)| {
            let y = (a - 1 - r) as f32 - 0.5;
            let color = if shared[j] { RGBColor(43, 108, 176) } else { RGBColor(144, 205, 244) };
            Rectangle::new([(j as f32 + 0.08, y + 0.08), (j as f32 + 0.92, y + 0.92)], color.filled())
        })
    });
    chart.draw_series(cells).map_err(PlotError::from)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::tests::tiny;
    use crate::plot::to_svg;

    #[test]
    fn shared_neurons_are_those_every_animal_has() {
        let a = tiny();
        let mut b = tiny();
        b.name = "other".into();
        b.neuron_names = vec![Some("AVAL".into()), Some("RIML".into())];
        let cov = Coverage::of(&[&a, &b]);
        assert_eq!(cov.neurons, ["AVAL", "RIML"]);
        assert_eq!(cov.shared(), [true, false]);
        let svg = to_svg((500, 300), |area| draw_coverage(area, &cov)).unwrap();
        assert!(svg.contains("1 shared by all") && svg.contains("other"), "{svg}");
    }
}
