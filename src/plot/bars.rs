//! Grouped bar charts with ± sd whiskers: one group per protocol, one bar per model.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{Chart, Corner, PlotError, Swatch, draw_legend};

/// Plain data for a grouped bar chart.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bars {
    pub title: String,
    /// The value axis, e.g. "balanced accuracy".
    pub metric: String,
    /// Group names (protocols), along the x axis.
    pub groups: Vec<String>,
    /// Bar names (models), the same in every group, in legend order.
    pub bars: Vec<String>,
    /// `values[g][b]`: mean and sd of bar `b` in group `g` (`None`: not run).
    pub values: Vec<Vec<Option<(f64, f64)>>>,
}

impl Chart for Bars {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        area.fill(&WHITE).map_err(PlotError::from)?;
        let cells = || self.values.iter().flatten().flatten().filter(|(m, s)| m.is_finite() && s.is_finite());
        let top = cells().map(|(m, s)| m + s).fold(0.0f64, f64::max).max(1e-6) * 1.1;
        let groups = self.groups.len().max(1);
        let per = self.bars.len().max(1) as f64;
        let mut chart = ChartBuilder::on(area)
            .margin(12)
            .caption(&self.title, ("sans-serif", 17))
            .x_label_area_size(34)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..groups as f64, 0f64..top)
            .map_err(PlotError::from)?;
        let names = self.groups.clone();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(groups * 2 + 1)
            .x_label_formatter(&|x| {
                let g = x.floor() as usize;
                if (x - g as f64 - 0.5).abs() < 1e-6 { names.get(g).cloned().unwrap_or_default() } else { String::new() }
            })
            .y_desc(self.metric.as_str())
            .draw()
            .map_err(PlotError::from)?;
        let width = 0.8 / per;
        for b in 0..self.bars.len() {
            let color = Palette99::pick(b).to_rgba();
            let bar = |(g, v): (usize, &Vec<Option<(f64, f64)>>)| {
                let (mean, _) = v.get(b).copied().flatten()?;
                let x0 = g as f64 + 0.1 + b as f64 * width;
                Some(Rectangle::new([(x0, 0.0), (x0 + width * 0.9, mean.max(0.0))], color.filled()))
            };
            chart.draw_series(self.values.iter().enumerate().filter_map(bar)).map_err(PlotError::from)?;
            let whisker = |(g, v): (usize, &Vec<Option<(f64, f64)>>)| {
                let (mean, sd) = v.get(b).copied().flatten()?;
                let x = g as f64 + 0.1 + (b as f64 + 0.45) * width;
                Some(PathElement::new(vec![(x, (mean - sd).max(0.0)), (x, mean + sd)], BLACK.stroke_width(1)))
            };
            chart.draw_series(self.values.iter().enumerate().filter_map(whisker)).map_err(PlotError::from)?;
        }
        let legend: Vec<_> = self.bars.iter().enumerate().map(|(b, name)| (name.clone(), Swatch::Block(Palette99::pick(b).to_rgba()))).collect();
        draw_legend(&chart.plotting_area().strip_coord_spec(), &legend, Corner::UpperRight)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::to_svg;

    #[test]
    fn one_bar_per_value_with_legend() {
        let bars = Bars {
            title: "behaviour-4".into(),
            metric: "balanced accuracy".into(),
            groups: vec!["within-animal".into(), "leave-one-animal-out".into()],
            bars: vec!["MLP".into(), "GCN".into()],
            values: vec![vec![Some((0.8, 0.05)), Some((0.85, 0.02))], vec![Some((0.7, 0.1)), None]],
        };
        let svg = to_svg((500, 300), |a| bars.draw(a)).unwrap();
        assert!(svg.contains("MLP") && svg.contains("GCN") && svg.contains("leave-one-animal-out"));
        // 3 bars + 2 legend swatches + the background
        assert!(svg.matches("<rect").count() >= 6, "{svg}");
        assert!(to_svg((200, 100), |a| Bars { values: vec![], ..bars.clone() }.draw(a)).is_ok());
    }
}
