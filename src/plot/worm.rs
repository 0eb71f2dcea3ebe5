//! The worm seen from its side: each recorded neuron at its soma's place in the body
//! ([`crate::data::positions`]), the connectome's connections between them, the worm's other
//! neurons faintly for context, and the neurons coloured by their activity at one moment — so a
//! recording can be played back on the body. A second graph (one a network inferred) can be
//! drawn over the wiring.

use std::sync::Arc;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{Chart, PlotError, Raster};
use crate::data::connectome::{Connectome, Reconstruction, Synapse};
use crate::data::positions::{self, Soma};

/// Display range of the z-scored activity, as in the raster (values beyond it saturate).
const Z_RANGE: f32 = 2.5;

/// Micrometres of body shown around the outermost recorded neurons.
const MARGIN_UM: f32 = 8.0;

/// How much of a neuron's left-right place shows as height: the view looks at the worm's left
/// side from a little above (0: a pure side view).
const OBLIQUE: f32 = 0.5;

/// The most the view is stretched along the body to spread out crowded neurons.
const MAX_STRETCH: f32 = 3.0;

/// Edges among placed neurons: `(from, to, weight)`, indices into [`WormLayout::placed`].
pub type Edges = Vec<(usize, usize, f32)>;

/// Where a recording's neurons sit in the worm and how they are wired: computed once per
/// recording, shared by every frame of its playback.
#[derive(Debug, Clone, PartialEq)]
pub struct WormLayout {
    pub title: String,
    /// Recorded neurons with a known place: name, soma and row in the recording.
    pub placed: Vec<(String, Soma, usize)>,
    /// Recorded neurons without a place (unidentified, or not in the table).
    pub unplaced: usize,
    /// The worm's other neurons within the view.
    pub others: Vec<Soma>,
    /// Connections among `placed` (indices into it) from Cook et al. 2019, chemical synapses
    /// and gap junctions, with their weight in EM sections.
    pub wiring: Edges,
}

impl WormLayout {
    /// The layout of neurons named `names` (a recording's columns, `None` = unidentified).
    pub fn of(title: &str, names: &[Option<String>]) -> Self {
        let placed: Vec<(String, Soma, usize)> = names
            .iter()
            .enumerate()
            .filter_map(|(row, name)| {
                let name = name.as_deref()?;
                Some((name.to_string(), positions::soma(name)?, row))
            })
            .collect();
        let unplaced = names.len() - placed.len();
        let recorded: Vec<String> = placed.iter().map(|p| p.0.clone()).collect();
        let adjacency = Connectome::builtin().adjacency(&recorded, Reconstruction::Cook2019, Synapse::Both);
        let wiring = adjacency
            .iter()
            .enumerate()
            .flat_map(|(i, row)| row.iter().enumerate().filter(|(_, w)| **w > 0.0).map(move |(j, &w)| (i, j, w)))
            .collect();
        let (lo, hi) = Self::extent(&placed);
        let others = positions::all()
            .iter()
            .filter(|(name, s)| s.y >= lo && s.y <= hi && !recorded.contains(name))
            .map(|(_, s)| *s)
            .collect();
        Self { title: title.to_string(), placed, unplaced, others, wiring }
    }

    /// The stretch of body shown (micrometres along it): the recorded neurons', or the whole
    /// worm when none has a place.
    fn extent(placed: &[(String, Soma, usize)]) -> (f32, f32) {
        let ys = || placed.iter().map(|p| p.1.y);
        if placed.is_empty() {
            let all = || positions::all().values().map(|s| s.y);
            return (all().fold(f32::INFINITY, f32::min), all().fold(f32::NEG_INFINITY, f32::max));
        }
        (ys().fold(f32::INFINITY, f32::min) - MARGIN_UM, ys().fold(f32::NEG_INFINITY, f32::max) + MARGIN_UM)
    }

    /// The `top` strongest edges of a graph over `neurons` (`weights` row-major `[from][to]`,
    /// e.g. an inferred graph) among the placed neurons, to draw over the wiring.
    pub fn edges_of(&self, neurons: &[String], weights: &[f32], top: usize) -> Edges {
        let n = neurons.len();
        let place = |name: &String| self.placed.iter().position(|p| &p.0 == name);
        let mut edges: Edges = (0..n * n.min(weights.len() / n.max(1)))
            .filter(|k| k / n != k % n && weights[*k].is_finite())
            .filter_map(|k| Some((place(&neurons[k / n])?, place(&neurons[k % n])?, weights[k])))
            .collect();
        edges.sort_by(|a, b| b.2.total_cmp(&a.2));
        edges.truncate(top);
        edges
    }

    /// The frame at time bin `bin` of `raster` (the same recording, binned).
    pub fn frame(self: &Arc<Self>, raster: &Raster, bin: usize) -> WormFrame {
        let bin = bin.min(raster.bins.saturating_sub(1));
        let activity = self.placed.iter().map(|p| raster.values.get(p.2 * raster.bins + bin).copied().unwrap_or(f32::NAN)).collect();
        let seconds = raster.seconds_at(bin);
        let state = raster.states.get(bin).copied().flatten().and_then(|s| raster.state_names.get(usize::from(s)).cloned());
        WormFrame { layout: Arc::clone(self), activity, seconds, state, overlay: None }
    }
}

/// One moment of a recording on the worm: plain data, cheap to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct WormFrame {
    pub layout: Arc<WormLayout>,
    /// Each placed neuron's z-scored activity (NaN: none).
    pub activity: Vec<f32>,
    pub seconds: f32,
    /// The behaviour at that moment, where the recording is labelled.
    pub state: Option<String>,
    /// A graph drawn over the wiring (name, edges among the placed neurons).
    pub overlay: Option<(String, Edges)>,
}

impl WormFrame {
    /// The most active placed neurons at this moment, most active first (for the caption).
    pub fn most_active(&self, k: usize) -> Vec<(String, f32)> {
        let mut a: Vec<(String, f32)> =
            self.layout.placed.iter().zip(&self.activity).filter(|(_, v)| v.is_finite()).map(|(p, &v)| (p.0.clone(), v)).collect();
        a.sort_by(|x, y| y.1.total_cmp(&x.1));
        a.truncate(k);
        a
    }
}

impl Chart for WormFrame {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        draw_worm(area, self)
    }
}

/// Draws the side view: body outline, faint other neurons, wiring, overlay, recorded neurons in
/// the colour of their activity with their names, a colour bar and the time.
pub fn draw_worm<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, frame: &WormFrame) -> Result<(), PlotError> {
    let layout = &frame.layout;
    area.fill(&WHITE).map_err(PlotError::from)?;
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as f32, h as f32);
    let (top, bottom, side) = (26.0, 34.0, 10.0);
    let (y_lo, y_hi) = WormLayout::extent(&layout.placed);
    // seen from the left side and a little from above, so that left and right partners (which
    // mirror each other across the midline) are not drawn on top of each other
    let height_of = |s: Soma| s.z + OBLIQUE * s.x;
    let somas = || layout.placed.iter().map(|p| p.1).chain(layout.others.iter().copied());
    let v_lo = somas().map(height_of).fold(f32::INFINITY, f32::min) - MARGIN_UM;
    let v_hi = somas().map(height_of).fold(f32::NEG_INFINITY, f32::max) + MARGIN_UM;
    // the nerve ring is as tall as it is long: up to MAX_STRETCH times stretched along the body
    // to spread its neurons over a wide view (the caption says by how much)
    let scale_v = (h - top - bottom) / (v_hi - v_lo).max(1.0);
    let scale_y = ((w - 2.0 * side) / (y_hi - y_lo).max(1.0)).min(MAX_STRETCH * scale_v);
    let x0 = side + ((w - 2.0 * side) - scale_y * (y_hi - y_lo)) / 2.0;
    let at = |s: Soma| ((x0 + (s.y - y_lo) * scale_y) as i32, (top + (v_hi - height_of(s)) * scale_v) as i32);
    let font = |size: i32| ("sans-serif", size).into_font().color(&BLACK);

    // the body: a band as tall as the view, rounded at the nose when the view reaches it
    let body = RGBColor(250, 240, 225);
    let (bx0, by0, bx1, by1) = (x0 as i32, top as i32, (x0 + (y_hi - y_lo) * scale_y) as i32, (h - bottom) as i32);
    let r = ((by1 - by0) / 2).max(1);
    let nose = positions::all().values().map(|s| s.y).fold(f32::INFINITY, f32::min);
    let round_head = y_lo <= nose + MARGIN_UM;
    area.draw(&Rectangle::new([(if round_head { bx0 + r } else { bx0 }, by0), (bx1, by1)], body.filled())).map_err(PlotError::from)?;
    if round_head {
        area.draw(&Circle::new((bx0 + r, (by0 + by1) / 2), r, body.filled())).map_err(PlotError::from)?;
    }
    let stretch = scale_y / scale_v;
    let view = if (stretch - 1.0).abs() < 0.05 { String::new() } else { format!(" · drawn {stretch:.1}× along the body") };
    area.draw(&Text::new(format!("← head · tail →{view}"), (bx0 + 4, by1 + 3), font(12))).map_err(PlotError::from)?;
    area.draw(&Text::new("dorsal ↑", (bx1 - 60, top as i32 - 14), font(12))).map_err(PlotError::from)?;

    let grey = RGBColor(160, 160, 160);
    for s in &layout.others {
        area.draw(&Circle::new(at(*s), 2, grey.mix(0.6).filled())).map_err(PlotError::from)?;
    }
    let strongest = layout.wiring.iter().map(|e| e.2).fold(1.0f32, f32::max).ln_1p();
    for &(i, j, weight) in &layout.wiring {
        let alpha = 0.15 + 0.45 * f64::from(weight.ln_1p() / strongest);
        let line = vec![at(layout.placed[i].1), at(layout.placed[j].1)];
        area.draw(&PathElement::new(line, RGBColor(90, 90, 90).mix(alpha).stroke_width(1))).map_err(PlotError::from)?;
    }
    if let Some((_, edges)) = &frame.overlay {
        for &(i, j, weight) in edges {
            let line = vec![at(layout.placed[i].1), at(layout.placed[j].1)];
            area.draw(&PathElement::new(line, RGBColor(213, 94, 0).mix(f64::from(weight.clamp(0.2, 1.0))).stroke_width(2))).map_err(PlotError::from)?;
        }
    }
    let colour = |v: f32| {
        if v.is_finite() { ViridisRGB::get_color_normalized(v.clamp(-Z_RANGE, Z_RANGE), -Z_RANGE, Z_RANGE) } else { RGBColor(255, 255, 255) }
    };
    let label = font(10).pos(Pos::new(HPos::Left, VPos::Bottom));
    for (p, &v) in layout.placed.iter().zip(&frame.activity) {
        let c = at(p.1);
        area.draw(&Circle::new(c, 5, colour(v).filled())).map_err(PlotError::from)?;
        area.draw(&Circle::new(c, 5, BLACK.stroke_width(1))).map_err(PlotError::from)?;
        area.draw(&Text::new(p.0.clone(), (c.0 + 5, c.1 - 3), label.clone())).map_err(PlotError::from)?;
    }

    // the colour bar and the moment
    let (cb_x, cb_y) = (side as i32, h as i32 - 18);
    for k in 0..100 {
        let v = -Z_RANGE + 2.0 * Z_RANGE * k as f32 / 99.0;
        area.draw(&Rectangle::new([(cb_x + 2 * k, cb_y), (cb_x + 2 * k + 2, cb_y + 10)], colour(v).filled())).map_err(PlotError::from)?;
    }
    area.draw(&Text::new(format!("activity (z) −{Z_RANGE} … +{Z_RANGE}"), (cb_x + 206, cb_y - 1), font(12))).map_err(PlotError::from)?;
    let mut when = format!("{} · t = {:.1} s", layout.title, frame.seconds);
    if let Some(state) = &frame.state {
        when.push_str(&format!(" · {state}"));
    }
    area.draw(&Text::new(when, (side as i32, 6), font(14))).map_err(PlotError::from)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Recording;
    use crate::plot::to_svg;

    fn named(names: &[&str]) -> Vec<Option<String>> {
        names.iter().map(|n| (!n.is_empty()).then(|| (*n).to_string())).collect()
    }

    #[test]
    fn neurons_sit_at_their_somas_wired_by_the_connectome() {
        let layout = WormLayout::of("w", &named(&["AVAL", "", "AVBL", "VB11", "NOTANEURON"]));
        let names: Vec<&str> = layout.placed.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(names, ["AVAL", "AVBL", "VB11"]);
        assert_eq!(layout.placed.iter().map(|p| p.2).collect::<Vec<_>>(), [0, 2, 3], "rows of the recording");
        assert_eq!(layout.unplaced, 2);
        // AVA and AVB are joined by gap junctions in Cook 2019; AVB drives VB motor neurons
        let has = |a: usize, b: usize| layout.wiring.iter().any(|e| e.0 == a && e.1 == b);
        assert!(has(0, 1) && has(1, 0), "{:?}", layout.wiring);
        assert!(has(1, 2), "AVBL → VB11: {:?}", layout.wiring);
        // the view spans head to tail here, so it shows most of the worm's other neurons
        assert!(layout.others.len() > 200, "{}", layout.others.len());
    }

    #[test]
    fn a_frame_plays_the_recordings_bin_and_draws() {
        let rec = Recording {
            name: "w".into(),
            source: "test".into(),
            frames: 4,
            neurons: 2,
            traces: vec![0.0, 1.0, 1.0, 0.0, 2.0, 1.0, 3.0, 0.0],
            neuron_names: named(&["AVAL", "RIML"]),
            fps: 1.0,
            labels: None,
        };
        let raster = Raster::from_recording(&rec, 4);
        let layout = Arc::new(WormLayout::of("w", &rec.neuron_names));
        let frame = layout.frame(&raster, 3);
        assert_eq!(frame.activity, vec![raster.values[3], raster.values[4 + 3]]);
        assert!((frame.seconds - 3.5).abs() < 1e-6, "{}", frame.seconds);
        assert_eq!(frame.most_active(1)[0].0, if raster.values[3] > raster.values[7] { "AVAL" } else { "RIML" });
        let svg = to_svg((640, 240), |a| draw_worm(a, &frame)).unwrap();
        assert!(svg.contains("AVAL") && svg.contains("RIML") && svg.contains("t = 3.5 s"), "{svg}");
        // a frame past the end shows the last bin
        assert_eq!(layout.frame(&raster, 99).activity, frame.activity);
        // a graph over other neurons (an inferred one) lands on the placed neurons by name
        let inferred = layout.edges_of(&["RIML".into(), "AVAL".into(), "XYZ".into()], &[0.0, 0.9, 0.5, 0.2, 0.0, 0.7, 0.3, 0.1, 0.0], 2);
        assert_eq!(inferred, vec![(1, 0, 0.9), (0, 1, 0.2)], "RIML → AVAL, then AVAL → RIML; XYZ has no place: {inferred:?}");
    }
}
