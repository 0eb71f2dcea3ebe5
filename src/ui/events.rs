//! The event-aligned view: chosen neurons' average activity around the onsets of a chosen
//! state of a labelled recording, with its spread, and a caption with the numbers.

use std::sync::Arc;

use leptos::prelude::*;

use super::chart::PlotCanvas;
use crate::data::Recording;
use crate::data::events::{DEFAULT_NEURONS, EventAverage, event_average};

/// The state aligned on by default: a reversal where the recording has one.
fn default_state(rec: &Recording) -> String {
    let names = rec.labels.as_ref().map(|l| l.names.clone()).unwrap_or_default();
    names.iter().find(|n| n.starts_with("REV")).or(names.first()).cloned().unwrap_or_default()
}

/// The neurons shown by default: AVA, AVB and RIM where recorded, else the first three named.
fn default_neurons(rec: &Recording) -> Vec<String> {
    let named: Vec<String> = rec.neuron_names.iter().flatten().cloned().collect();
    let picked: Vec<String> = DEFAULT_NEURONS.iter().filter(|d| named.iter().any(|n| n == *d)).map(|d| (*d).to_string()).collect();
    if picked.is_empty() { named.into_iter().take(3).collect() } else { picked }
}

/// Event-aligned averages of one recording.
///
/// * `id`: prefix of the element ids (`{id}-state`, `{id}-neurons`, `{id}-before`, `{id}-after`,
///   `{id}-canvas`, `{id}-caption`).
/// * `recording`: a labelled recording (nothing is shown for one without labels).
#[component]
pub fn EventAligned(#[prop(into)] id: String, #[prop(into)] recording: Signal<Option<Arc<Recording>>>) -> impl IntoView {
    let state = RwSignal::new(String::new());
    let neurons = RwSignal::new(Vec::<String>::new());
    let before = RwSignal::new(10.0f32);
    let after = RwSignal::new(20.0f32);
    // a new recording brings its own defaults
    Effect::new(move |_| {
        if let Some(rec) = recording.get() {
            state.set(default_state(&rec));
            neurons.set(default_neurons(&rec));
        }
    });
    let average = Memo::new(move |_| {
        let rec = recording.get()?;
        rec.labels.as_ref()?;
        Some(event_average(&rec, &state.get(), &neurons.get(), before.get(), after.get()).map_err(|e| e.to_string()))
    });
    let states = move || recording.with(|r| r.as_ref().and_then(|r| r.labels.as_ref().map(|l| l.names.clone())).unwrap_or_default());
    let named = move || recording.with(|r| r.as_ref().map(|r| r.neuron_names.iter().flatten().cloned().collect::<Vec<_>>()).unwrap_or_default());
    let chart = Signal::derive(move || average.get().and_then(Result::ok));
    let caption = move || match average.get() {
        Some(Ok(avg)) => caption_of(&avg),
        Some(Err(why)) => why,
        None => String::new(),
    };
    let ids = |part: &str| format!("{id}-{part}");
    let (state_id, neurons_id, before_id, after_id, canvas_id, caption_id) = (ids("state"), ids("neurons"), ids("before"), ids("after"), ids("canvas"), ids("caption"));
    view! {
        <Show when=move || recording.with(|r| r.as_ref().is_some_and(|r| r.labels.is_some()))>
            <figure class="events">
                <div class="controls">
                    <label for=state_id.clone()>"Onsets of"</label>
                    <select id=state_id.clone() on:change=move |ev| state.set(event_target_value(&ev)) prop:value=move || state.get()>
                        {move || states().into_iter().map(|s| view! { <option value=s.clone()>{s.clone()}</option> }).collect_view()}
                    </select>
                    <label for=neurons_id.clone()>"Neurons"</label>
                    <select id=neurons_id.clone() multiple size="4"
                        on:change=move |ev| neurons.set(selected_values(&ev))>
                        {move || named().into_iter().map(|n| {
                            let selected = neurons.with(|s| s.contains(&n));
                            view! { <option value=n.clone() selected=selected>{n.clone()}</option> }
                        }).collect_view()}
                    </select>
                    <label for=before_id.clone()>"seconds before"</label>
                    <input id=before_id.clone() type="number" min="0" max="120" step="1" prop:value=move || before.get().to_string()
                        on:change=move |ev| before.set(event_target_value(&ev).parse::<f32>().unwrap_or(10.0).clamp(0.0, 120.0)) />
                    <label for=after_id.clone()>"after"</label>
                    <input id=after_id.clone() type="number" min="0" max="120" step="1" prop:value=move || after.get().to_string()
                        on:change=move |ev| after.set(event_target_value(&ev).parse::<f32>().unwrap_or(20.0).clamp(0.0, 120.0)) />
                </div>
                <PlotCanvas data=chart id=canvas_id.clone() label="average activity of the chosen neurons around the onsets of the chosen state" width=640 height=300 export=true />
                <figcaption id=caption_id.clone()>{caption}</figcaption>
            </figure>
        </Show>
    }
}

/// The values of a multiple select's chosen options.
fn selected_values(ev: &leptos::ev::Event) -> Vec<String> {
    let Some(select) = ev.target() else { return Vec::new() };
    let chosen = js_sys::Reflect::get(&select, &"selectedOptions".into()).unwrap_or_default();
    js_sys::Array::from(&chosen).iter().filter_map(|o| js_sys::Reflect::get(&o, &"value".into()).ok()?.as_string()).collect()
}

/// The numbers the chart shows: how many onsets, and each neuron's change across the onset.
fn caption_of(avg: &EventAverage) -> String {
    let changes: Vec<String> = avg
        .neurons
        .iter()
        .map(|n| {
            let (pre, post) = (avg.mean_between(&n.name, -5.0, 0.0), avg.mean_between(&n.name, 0.0, 5.0));
            format!("{} {pre:+.2} → {post:+.2}", n.name)
        })
        .collect();
    let cut = if avg.cut_off > 0 { format!(" ({} more too close to an end of the recording)", avg.cut_off) } else { String::new() };
    format!(
        "{}: {} onsets of {}{cut}. Mean z-scored activity in the 5 s before → the 5 s after onset: {}.",
        avg.recording,
        avg.events,
        avg.state,
        changes.join("; ")
    )
}
