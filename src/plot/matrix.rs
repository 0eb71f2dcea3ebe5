//! Labelled heatmaps: confusion matrices and graph adjacency matrices.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{Chart, PlotError};

/// Plain data for a heatmap: `values[r * cols.len() + c]`, coloured from 0 to `max`.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    pub title: String,
    pub row_label: String,
    pub col_label: String,
    pub rows: Vec<String>,
    pub cols: Vec<String>,
    pub values: Vec<f32>,
    /// The value drawn darkest (values above are clamped).
    pub max: f32,
    /// Print each cell's value (small matrices such as confusions).
    pub annotate: bool,
}

impl Matrix {
    /// A confusion matrix with each row (true class) normalised to fractions.
    pub fn confusion(title: String, classes: &[String], counts: &[Vec<usize>]) -> Self {
        let values = counts
            .iter()
            .flat_map(|row| {
                let total = row.iter().sum::<usize>().max(1) as f32;
                row.iter().map(move |&c| c as f32 / total)
            })
            .collect();
        Self { title, row_label: "true class".into(), col_label: "predicted".into(), rows: classes.to_vec(), cols: classes.to_vec(), values, max: 1.0, annotate: true }
    }

    /// A `[from][to]` adjacency over `neurons`, darkest at its largest value.
    pub fn adjacency(title: String, neurons: &[String], values: Vec<f32>) -> Self {
        let max = values.iter().copied().filter(|v| v.is_finite()).fold(0.0f32, f32::max).max(1e-6);
        Self { title, row_label: "from".into(), col_label: "to".into(), rows: neurons.to_vec(), cols: neurons.to_vec(), values, max, annotate: false }
    }
}

impl Chart for Matrix {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        area.fill(&WHITE).map_err(PlotError::from)?;
        let (r, c) = (self.rows.len().max(1), self.cols.len().max(1));
        let mut chart = ChartBuilder::on(area)
            .margin(8)
            .caption(&self.title, ("sans-serif", 15))
            .x_label_area_size(52)
            .y_label_area_size(60)
            .build_cartesian_2d(0f32..c as f32, r as f32..0f32)
            .map_err(PlotError::from)?;
        let (rows, cols) = (self.rows.clone(), self.cols.clone());
        let name = |names: &[String], v: f32| {
            let k = v.floor() as usize;
            if (v - k as f32 - 0.5).abs() < 1e-3 { names.get(k).cloned().unwrap_or_default() } else { String::new() }
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(2 * c + 1)
            .y_labels(2 * r + 1)
            .x_label_formatter(&|v| name(&cols, *v))
            .y_label_formatter(&|v| name(&rows, *v))
            .x_label_style(("sans-serif", if c > 12 { 9 } else { 13 }).into_font().transform(FontTransform::Rotate90))
            .y_label_style(("sans-serif", if r > 12 { 9 } else { 13 }))
            .x_desc(self.col_label.as_str())
            .y_desc(self.row_label.as_str())
            .draw()
            .map_err(PlotError::from)?;
        let max = self.max.max(1e-6);
        let cells = self.values.iter().enumerate().map(|(k, &v)| {
            let (i, j) = ((k / c) as f32, (k % c) as f32);
            let shade = if v.is_finite() { (v / max).clamp(0.0, 1.0) } else { 0.0 };
            let color = ViridisRGB::get_color_normalized(1.0 - shade, 0.0, 1.0);
            Rectangle::new([(j, i), (j + 1.0, i + 1.0)], color.filled())
        });
        chart.draw_series(cells).map_err(PlotError::from)?;
        if self.annotate {
            let labels = self.values.iter().enumerate().map(|(k, &v)| {
                let (i, j) = ((k / c) as f32, (k % c) as f32);
                let color = if v / max > 0.5 { WHITE } else { BLACK };
                Text::new(format!("{v:.2}"), (j + 0.3, i + 0.45), ("sans-serif", 12).into_font().color(&color))
            });
            chart.draw_series(labels).map_err(PlotError::from)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::to_svg;

    #[test]
    fn confusion_rows_are_fractions_and_cells_are_drawn() {
        let classes: Vec<String> = ["FWD", "REV"].map(String::from).to_vec();
        let m = Matrix::confusion("MLP".into(), &classes, &[vec![3, 1], vec![0, 0]]);
        assert_eq!(m.values, vec![0.75, 0.25, 0.0, 0.0]);
        let svg = to_svg((300, 300), |a| m.draw(a)).unwrap();
        assert!(svg.contains("0.75") && svg.contains("FWD") && svg.contains("predicted"));
        assert!(svg.matches("<rect").count() >= 4);
    }
}
