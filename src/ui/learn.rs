//! The Learn section's first view: the demo's synthetic worm on the body, its wiring and its
//! activity played back, beside its raster and ethogram under one time cursor.

use leptos::prelude::*;

use super::chart::PlotCanvas;
use super::events::EventAligned;
use super::worm::{OnTheWorm, WormView};
use std::sync::Arc;

use crate::data::Recording;
use crate::plot::Raster;
use crate::train::demo::DemoSpec;

/// Time bins of the raster and of the playback.
const BINS: usize = 300;

/// The very animal the demo trains on (generated in the page too: a few milliseconds), and it
/// placed on the worm; Learn's first view and the lesson show it.
pub fn demo_animal() -> (Arc<Recording>, OnTheWorm) {
    let animal = Arc::new(DemoSpec::default().data.generate().recordings.swap_remove(0));
    let worm = OnTheWorm::of(Raster::from_recording(&animal, BINS));
    (animal, worm)
}

/// The demo's animal, played back on the worm, with its raster.
#[component]
pub fn MeetTheWorm() -> impl IntoView {
    let (animal, worm) = demo_animal();
    let (neurons, seconds) = (animal.neurons, animal.duration_s());
    let cursor = RwSignal::new(0usize);
    let with_cursor = Signal::derive({
        let worm = worm.clone();
        move || worm.raster_at(cursor.get())
    });
    let recording = Signal::derive(move || Some(worm.clone()));
    view! {
        <section class="panel" id="meet" aria-labelledby="meet-title">
            <h2 id="meet-title">"Meet the worm"</h2>
            <p>
                "The nematode " <i>"C. elegans"</i> " has 302 neurons, and how they are wired (its connectome) is known synapse "
                "by synapse. Here are " {neurons} " of them, each where its cell body sits in the head, joined by the synapses "
                "between them. Their colour is their activity in a synthetic recording of " {format!("{seconds:.0}")} " seconds "
                "made on that wiring, the one the demo above learns to predict; the raster below shows the same recording, "
                "one row per neuron, with the worm's behaviour underneath and a red line at the moment shown."
            </p>
            <WormView id="meet-worm" recording=recording cursor=cursor autoplay=true />
            <PlotCanvas data=with_cursor id="meet-raster" label="activity raster of the synthetic worm, with its behaviour and the moment shown" width=900 height=300 />
            <h3>"Around a reversal"</h3>
            <p>
                "When the worm starts to crawl backwards (REV), some neurons rise and others fall. The chart lines up every "
                "reversal of this recording at time 0 and averages each neuron around it; the band is the standard error "
                "across reversals. Choose other neurons or another behaviour to see theirs."
            </p>
            <EventAligned id="meet-events" recording=Signal::derive(move || Some(animal.clone())) />
        </section>
    }
}
