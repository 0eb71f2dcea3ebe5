//! A data set at a glance, as plain data: per animal an activity raster with its ethogram and a
//! few neurons' traces, and which identified neurons each animal has. Built where the
//! recordings are (the page for dropped files, the worker for preset data) and drawn by the
//! charts of this module.

use serde::{Deserialize, Serialize};

use super::{Coverage, Curves, LossSeries, Raster};
use crate::data::Recording;
use crate::data::windows::column_stats;

/// Neurons whose traces are shown first when an animal has them: the command interneurons and
/// motor neurons whose activity tracks forward crawling, reversals and turns (Kato et al. 2015).
const WELL_KNOWN: [&str; 6] = ["AVAL", "AVBL", "RIML", "SMDVR", "VB02", "RIBL"];
/// Traces shown per animal.
const TRACES: usize = 5;
/// Vertical gap between stacked traces, in z-score units.
const TRACE_OFFSET: f32 = 4.0;

/// Rasters and traces per animal, and the coverage matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataPreview {
    pub rasters: Vec<Raster>,
    pub traces: Vec<Curves>,
    pub coverage: Coverage,
}

impl DataPreview {
    /// Previews the first `max_animals` of `recordings` with rasters of at most `bins` time bins.
    pub fn of(recordings: &[Recording], max_animals: usize, bins: usize) -> Self {
        let shown = &recordings[..recordings.len().min(max_animals)];
        Self {
            rasters: shown.iter().map(|r| Raster::from_recording(r, bins)).collect(),
            traces: shown.iter().map(|r| traces(r, bins * 2)).collect(),
            coverage: Coverage::of(&recordings.iter().collect::<Vec<_>>()),
        }
    }
}

/// A few neurons' z-scored traces, stacked `TRACE_OFFSET` apart, at most `points` per trace
/// (every k-th frame). Well-known neurons come first, then other identified ones, then columns.
pub fn traces(rec: &Recording, points: usize) -> Curves {
    let mut chosen: Vec<usize> = WELL_KNOWN.iter().filter_map(|n| rec.neuron_names.iter().position(|m| m.as_deref() == Some(n))).take(TRACES).collect();
    let identified = (0..rec.neurons).filter(|i| rec.neuron_names.get(*i).is_some_and(Option::is_some));
    for i in identified.chain(0..rec.neurons) {
        if chosen.len() >= TRACES.min(rec.neurons) {
            break;
        }
        if !chosen.contains(&i) {
            chosen.push(i);
        }
    }
    let (mean, sd) = column_stats(&rec.traces, rec.neurons, 0..rec.frames);
    let stride = rec.frames.div_ceil(points.max(1)).max(1);
    let fps = rec.fps.max(f32::MIN_POSITIVE);
    let series = chosen
        .iter()
        .enumerate()
        .map(|(k, &i)| LossSeries {
            name: rec.neuron_label(i),
            points: rec
                .trace(i)
                .enumerate()
                .step_by(stride)
                .map(|(t, v)| ((t as f32 / fps).round() as usize, (v - mean[i]) / sd[i] - k as f32 * TRACE_OFFSET))
                .collect(),
        })
        .collect();
    Curves {
        title: format!("{} · {} neurons' activity", rec.name, chosen.len()),
        x_desc: "time (s)".into(),
        y_desc: format!("z-score (traces {TRACE_OFFSET:.0} apart)"),
        series,
        from_zero: false,
        marker: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::tests::tiny;
    use crate::plot::{Chart, to_svg};

    #[test]
    fn traces_prefer_known_neurons_and_stack_apart() {
        let mut rec = tiny(); // neuron 0 "AVAL", neuron 1 unidentified
        rec.neuron_names = vec![Some("RIML".into()), Some("AVAL".into())];
        let c = traces(&rec, 100);
        assert_eq!(c.series.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["AVAL", "RIML"]);
        assert_eq!(c.series[0].points.len(), rec.frames);
        let mean = |s: &LossSeries| s.points.iter().map(|p| p.1).sum::<f32>() / s.points.len() as f32;
        assert!((mean(&c.series[0]) - 0.0).abs() < 1e-4 && (mean(&c.series[1]) + TRACE_OFFSET).abs() < 1e-4, "{c:?}");
        let preview = DataPreview::of(&[rec.clone(), rec], 1, 10);
        assert_eq!((preview.rasters.len(), preview.traces.len(), preview.coverage.animals.len()), (1, 1, 2));
        let svg = to_svg((500, 300), |a| preview.traces[0].draw(a)).unwrap();
        assert!(svg.contains("AVAL") && svg.contains("RIML"));
    }
}
