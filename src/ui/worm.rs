//! The worm view: a recording played back on the body ([`crate::plot::worm`]), with Play/Pause,
//! a time slider and a caption that gives the numbers the picture shows. Its time cursor is a
//! signal the page's other time views (the raster) share.

use std::sync::Arc;
use std::time::Duration;

use leptos::prelude::*;

use super::chart::PlotCanvas;
use crate::plot::worm::Edges;
use crate::plot::{Curves, Raster, WormFrame, WormLayout};

/// Playback speed: time bins per second.
const BINS_PER_S: u64 = 10;

/// A recording's raster and where its neurons sit.
#[derive(Debug, Clone, PartialEq)]
pub struct OnTheWorm {
    pub raster: Arc<Raster>,
    pub layout: Arc<WormLayout>,
}

impl OnTheWorm {
    pub fn of(raster: Raster) -> Self {
        let layout = Arc::new(WormLayout::of(&raster.title, &raster.names));
        Self { raster: Arc::new(raster), layout }
    }

    /// The raster with time bin `bin` marked (the moment the worm shows).
    pub fn raster_at(&self, bin: usize) -> Raster {
        Raster { cursor: Some(bin), ..(*self.raster).clone() }
    }

    /// `traces` (in seconds) with the moment of time bin `bin` marked.
    pub fn traces_at(&self, traces: Curves, bin: usize) -> Curves {
        Curves { marker: Some(self.raster.seconds_at(bin).round() as usize), ..traces }
    }
}

/// The recording on the worm at the shared cursor.
///
/// * `id`: prefix of the element ids (`{id}-canvas`, `{id}-play`, `{id}-time`, `{id}-caption`).
/// * `recording`: what to play (nothing shown while `None`).
/// * `cursor`: the time bin shown, shared with the page's other time views.
/// * `autoplay`: start playing when shown.
/// * `playing`: whether it plays, where something else (the lesson) also starts and stops it.
/// * `overlay`: a graph drawn over the wiring (e.g. an inferred one), named.
#[component]
pub fn WormView(
    #[prop(into)] id: String,
    #[prop(into)] recording: Signal<Option<OnTheWorm>>,
    cursor: RwSignal<usize>,
    #[prop(default = false)] autoplay: bool,
    #[prop(optional)] playing: Option<RwSignal<bool>>,
    #[prop(optional, into)] overlay: Option<Signal<Option<(String, Edges)>>>,
) -> impl IntoView {
    let playing = playing.unwrap_or_else(|| RwSignal::new(autoplay));
    let bins = move || recording.with(|r| r.as_ref().map_or(1, |r| r.raster.bins.max(1)));
    // one step per tick while playing, round to the start at the end
    if let Ok(handle) = set_interval_with_handle(
        move || {
            if playing.get_untracked() {
                let n = bins();
                cursor.update(|c| *c = (*c + 1) % n);
            }
        },
        Duration::from_millis(1000 / BINS_PER_S),
    ) {
        on_cleanup(move || handle.clear());
    }
    // read by the canvas, the caption and the time: computed once per tick
    let frame = Memo::new(move |_| {
        recording.with(|r| {
            r.as_ref().map(|r| WormFrame { overlay: overlay.and_then(|o| o.get()), ..r.layout.frame(&r.raster, cursor.get()) })
        })
    });
    let frame_signal: Signal<Option<WormFrame>> = frame.into();
    let caption = move || frame.with(|f| f.as_ref().map(caption_of));
    let time = move || frame.with(|f| f.as_ref().map_or(String::new(), |f| format!("{:.1} s", f.seconds)));
    let (canvas_id, play_id, slider_id, time_id, caption_id) =
        (format!("{id}-canvas"), format!("{id}-play"), format!("{id}-slider"), format!("{id}-time"), format!("{id}-caption"));
    view! {
        <Show when=move || frame.with(Option::is_some)>
            <figure class="worm">
                <PlotCanvas data=frame_signal id=canvas_id.clone()
                    label="the recorded neurons in their places in the worm, coloured by activity" width=900 height=300 redraw_ms=80 />
                <div class="controls">
                    <button id=play_id.clone() class="secondary" aria-pressed=move || playing.get().to_string() on:click=move |_| playing.update(|p| *p = !*p)>
                        {move || if playing.get() { "Pause" } else { "Play" }}
                    </button>
                    <label for=slider_id.clone()>"Time"</label>
                    <input id=slider_id.clone() type="range" min="0" max=move || (bins() - 1).to_string() prop:value=move || cursor.get().to_string()
                        on:input=move |ev| {
                            playing.set(false);
                            cursor.set(event_target_value(&ev).parse().unwrap_or(0));
                        } />
                    <output id=time_id.clone() for=slider_id.clone()>{time}</output>
                </div>
                <figcaption id=caption_id.clone()>{caption}</figcaption>
            </figure>
        </Show>
    }
}

/// What the picture shows, in words and numbers (its text alternative).
fn caption_of(f: &WormFrame) -> String {
    let layout = &f.layout;
    let unplaced = match layout.unplaced {
        0 => String::new(),
        n => format!(" ({n} more are unidentified or have no known place)"),
    };
    let active = f.most_active(3).iter().map(|(name, z)| format!("{name} {z:+.1}")).collect::<Vec<_>>().join(", ");
    let state = f.state.as_deref().map_or(String::new(), |s| format!(" while the worm is in {s}"));
    let overlay = f.overlay.as_ref().map_or(String::new(), |(name, edges)| format!(" In orange, the {} strongest edges of {name}.", edges.len()));
    format!(
        "{}: {} neurons drawn where their cell bodies sit{unplaced}, joined by their {} connections in the connectome (Cook et al. 2019, chemical and electrical); grey dots are the worm's other neurons. At {:.1} s{state} the most active (z-scored) are {active}.{overlay}",
        layout.title,
        layout.placed.len(),
        layout.wiring.len(),
        f.seconds
    )
}
