//! The guided lesson (`#lesson&step=N`): six steps, each a short paragraph, one action and one
//! live view, from meeting the worm to training networks on it and letting one find its
//! wiring. Every number is computed here by the lab's workers ([`presets::lesson`] sizes each
//! step's experiment to a minute on the CPU); the arrow keys move between steps (teacher mode),
//! and words of the trade link to a plain-language glossary.


use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::chart::{LossChart, PlotCanvas};
use super::events::EventAligned;
use super::lab::{Lab, Phase};
use super::results::{mean_graph, summed_confusion};
use super::worm::{OnTheWorm, WormView};
use super::{Nav, Section};
use crate::plot::Matrix;
use crate::train::experiment::{ExperimentSpec, RunResult, mean_sd};
use crate::train::presets;
use super::learn::demo_animal;

/// How many steps the lesson has.
pub const STEPS: usize = 6;

/// The most a step's training may take on the CPU in the page (the e2e suite checks it).
const BUDGET_S: f64 = 60.0;

/// A step: its title, its paragraph (`[[term|shown words]]` links a glossary entry) and what
/// its action button says.
struct StepText {
    title: &'static str,
    text: &'static str,
    action: &'static str,
}

const TEXTS: [StepText; STEPS] = [
    StepText {
        title: "Meet the worm",
        text: "C. elegans has 302 neurons and its wiring, the [[connectome|connectome]], is known synapse by synapse. Below, 32 of its head neurons sit where their cell bodies are, joined by their synapses. A recording of their activity plays on them: brighter is more active. The raster shows the same recording, one row per neuron, with the worm's behaviour (forward, reversal, turn) underneath.",
        action: "Play the recording",
    },
    StepText {
        title: "Predict the next frame",
        text: "Can a network predict what every neuron does next from the last few frames (a [[window|window]])? The simplest guess, [[persistence|persistence]], says the next frame equals the last one. Train an [[mlp|MLP]] on the first part of this recording and see whether it beats persistence on frames it never saw; lower [[mse|MSE]] is better.",
        action: "Train the MLP",
    },
    StepText {
        title: "Give the network the wiring",
        text: "A [[gcn|graph network]] passes messages only along the connectome, so it must explain each neuron by its synaptic partners. Here the MLP and the GCN each train on two worms and predict a third they never saw ([[loao|leave one animal out]]), three times over (three [[fold|folds]]). Which generalises better to a new animal?",
        action: "Train MLP and GCN",
    },
    StepText {
        title: "Read behaviour from neurons",
        text: "Is the worm going forward, reversing or turning? Networks read it from neuron activity alone, again on worms they never saw. The [[confusion|confusion matrix]] shows what each behaviour was taken for; [[balanced|balanced accuracy]] averages the hits per behaviour. Below it, the activity of AVA and AVB lined up on every reversal: one rises as the worm starts backwards, the other falls.",
        action: "Train the decoders",
    },
    StepText {
        title: "Let a network find the wiring",
        text: "What if the wiring were unknown? A relational-inference network ([[nri|NRI]]) guesses which neuron drives which, from activity alone. This synthetic worm was made on a known wiring, so its guess can be checked: [[auroc|AUROC]] says how well the inferred edges rank the true ones (0.5 is chance, 1 is perfect).",
        action: "Infer the wiring",
    },
    StepText {
        title: "Your turn",
        text: "Drop your own recordings in Data (they stay on this computer), change a setting of an experiment in Experiment (more steps, another model, the real Kato worms), and share what you did: the page's address holds the experiment, so the link reproduces it.",
        action: "Open Data to drop recordings",
    },
];

/// The glossary: a key, the word and what it means in plain language.
const GLOSSARY: [(&str, &str, &str); 13] = [
    ("connectome", "connectome", "the wiring diagram of a nervous system: which neuron makes synapses onto which. The worm's was traced by electron microscopy (White et al. 1986; Cook et al. 2019)."),
    ("window", "window", "the last few frames of every neuron, given to a network at once to predict what comes next (here 4 frames)."),
    ("persistence", "persistence", "the guess that the next frame equals the last one. A network must beat it to have learnt anything about change."),
    ("mse", "MSE", "mean squared error: the average of (predicted − actual)², over neurons and frames; lower is better."),
    ("mlp", "MLP", "a multilayer perceptron: a network that may combine any neurons with any others, knowing nothing of the wiring."),
    ("gcn", "GCN", "a graph convolutional network: each neuron's state is updated from its partners' along a fixed graph, here the connectome."),
    ("loao", "leave one animal out", "train on all animals but one, test on the one left out, once for each animal: how well does it do on an animal it never saw?"),
    ("fold", "fold", "one round of leave-one-animal-out (or one split of the data): a training set and the test set it is scored on."),
    ("confusion", "confusion matrix", "a table of true behaviour (rows) against predicted behaviour (columns): the diagonal is what was right."),
    ("balanced", "balanced accuracy", "the fraction right for each behaviour, averaged over behaviours, so a rare behaviour counts as much as a common one; chance is 1 / the number of behaviours."),
    ("nri", "NRI", "neural relational inference (Kipf et al. 2018): a network that infers a graph of which neuron influences which, and predicts activity through it."),
    ("auroc", "AUROC", "area under the ROC curve: the chance that a true edge is ranked above a non-edge; 0.5 is guessing, 1 is perfect."),
    ("zscore", "z-score", "activity shifted and scaled so that each neuron has mean 0 and standard deviation 1, so neurons can be compared."),
];

/// Moves the keyboard focus to `element` (through `js_sys`: web-sys's `HtmlElement` binding
/// would rebuild web-sys for one call).
fn focus(element: &web_sys::Element) {
    if let Some(f) = js_sys::Reflect::get(element, &"focus".into()).ok().and_then(|f| f.dyn_into::<js_sys::Function>().ok()) {
        let _ = f.call0(element);
    }
}

/// The paragraph with its glossary links.
fn paragraph(text: &'static str) -> impl IntoView {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("[[") {
        parts.push(rest[..start].to_string().into_any());
        let after = &rest[start + 2..];
        let end = after.find("]]").unwrap_or(after.len());
        let (key, shown) = after[..end].split_once('|').unwrap_or((&after[..end], &after[..end]));
        let (key, shown) = (key.to_string(), shown.to_string());
        let target = format!("glossary-{key}");
        let go = move |ev: leptos::ev::MouseEvent| {
            ev.prevent_default();
            // to the entry without changing the URL (it holds the lesson and the experiment)
            if let Some(entry) = document().get_element_by_id(&target) {
                if let Ok(Some(details)) = entry.closest("details") {
                    let _ = details.set_attribute("open", "");
                }
                entry.scroll_into_view();
                focus(&entry);
            }
        };
        parts.push(view! { <a class="term" href=format!("#glossary-{key}") on:click=go>{shown}</a> }.into_any());
        rest = &after[(end + 2).min(after.len())..];
    }
    parts.push(rest.to_string().into_any());
    view! { <p class="lesson-text">{parts}</p> }
}

/// The lesson. `start` runs an experiment in the lab (as its Run button does).
#[component]
pub fn Lesson(start: Callback<ExperimentSpec>) -> impl IntoView {
    let nav = expect_context::<Nav>();
    let lab = expect_context::<Lab>();
    let step = move || nav.step.get().unwrap_or(1);
    let go = move |to: usize| nav.step.set(Some(to.clamp(1, STEPS)));
    // the synthetic animal of steps 1, 4 and 5: the demo's
    let (animal, worm) = demo_animal();
    let cursor = RwSignal::new(0usize);
    let playing = RwSignal::new(false);
    // when the step's training was asked for, and how long it took
    let clicked = RwSignal::new(None::<(usize, f64)>);
    let took = RwSignal::new(None::<(usize, f64)>);
    Effect::new(move |_| {
        let phase = lab.phase.get();
        if let Some((s, t0)) = clicked.get_untracked()
            && matches!(phase, Phase::Done | Phase::Stopped | Phase::Failed(_))
            && took.get_untracked().is_none_or(|(k, _)| k != s)
        {
            took.set(Some((s, (js_sys::Date::now() - t0) / 1000.0)));
        }
    });
    let action = move |_| {
        let s = step();
        match s {
            1 => playing.update(|p| *p = !*p),
            STEPS => nav.section.set(Section::Data),
            _ => {
                if let Some(spec) = presets::lesson(s) {
                    took.set(None);
                    clicked.set(Some((s, js_sys::Date::now())));
                    start.run(spec);
                }
            }
        }
    };
    // teacher mode: the arrow keys (and Page Up / Down) move between steps, except in a field
    let keys = window_event_listener(leptos::ev::keydown, move |ev| {
        if nav.step.get_untracked().is_none() || nav.section.get_untracked() != Section::Learn || ev.alt_key() || ev.ctrl_key() || ev.meta_key() {
            return;
        }
        let in_field = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()).is_some_and(|e| matches!(e.tag_name().as_str(), "INPUT" | "SELECT" | "TEXTAREA"));
        if in_field {
            return;
        }
        let now = nav.step.get_untracked().unwrap_or(1);
        match ev.key().as_str() {
            "ArrowRight" | "PageDown" => go(now + 1),
            "ArrowLeft" | "PageUp" => go(now.saturating_sub(1)),
            _ => return,
        }
        ev.prevent_default();
    });
    on_cleanup(move || keys.remove());
    // the step's action takes the focus, so Enter does it
    Effect::new(move |_| {
        nav.step.track();
        request_animation_frame(move || {
            if let Some(button) = document().get_element_by_id("lesson-action") {
                focus(&button);
            }
        });
    });
    let ours = move |s: usize| lab.ran.with(|r| r.as_ref().is_some_and(|r| r.name == format!("lesson-{s}")));
    let status = move || {
        let s = step();
        match s {
            1 => if playing.get() { "playing".to_string() } else { "paused".to_string() },
            STEPS => String::new(),
            _ if !ours(s) => "not trained yet".to_string(),
            _ => match took.get().filter(|(k, _)| *k == s) {
                Some((_, secs)) => format!("{} in {secs:.1} s (a step's budget: {BUDGET_S:.0} s)", lab.phase.get().text()),
                None => lab.phase.get().text(),
            },
        }
    };
    let text = move || TEXTS[step() - 1].text;
    // a training step's button waits while the lab is busy
    let action_waits = move || (2..STEPS).contains(&step()) && lab.phase.get().busy();
    let steps = (1..=STEPS)
        .map(|s| {
            view! {
                <li><button class="step" id=format!("lesson-step-{s}") aria-current=move || (step() == s).then_some("step") on:click=move |_| go(s)>
                    {format!("{s}. {}", TEXTS[s - 1].title)}
                </button></li>
            }
        })
        .collect_view();
    let view_of = move || -> AnyView {
        match step() {
            1 => {
                let (worm, marked) = (worm.clone(), worm.clone());
                view! {
                    <WormView id="lesson-worm" recording=Signal::derive(move || Some(worm.clone())) cursor=cursor playing=playing />
                    <PlotCanvas data=Signal::derive(move || marked.raster_at(cursor.get())) id="lesson-raster"
                        label="activity raster with the behaviour and the moment shown" width=900 height=280 />
                }
                .into_any()
            }
            2 => view! { <NextFrame lab=lab /> }.into_any(),
            3 => view! { <Unseen lab=lab /> }.into_any(),
            4 => {
                let animal = animal.clone();
                view! { <Behaviour lab=lab /> <EventAligned id="lesson-events" recording=Signal::derive(move || Some(animal.clone())) /> }.into_any()
            }
            5 => {
                let worm = worm.clone();
                view! { <Wiring lab=lab worm=worm cursor=cursor /> }.into_any()
            }
            _ => view! { <YourTurn /> }.into_any(),
        }
    };
    view! {
        <section class="panel" id="lesson" aria-labelledby="lesson-title">
            <nav aria-label="Lesson steps"><ol class="lesson-steps">{steps}</ol></nav>
            <h2 id="lesson-title">{move || format!("Step {} of {STEPS}: {}", step(), TEXTS[step() - 1].title)}</h2>
            {move || paragraph(text())}
            <div class="controls">
                <button id="lesson-action" on:click=action prop:disabled=action_waits>
                    {move || if step() == 1 && playing.get() { "Pause the recording" } else { TEXTS[step() - 1].action }}
                </button>
                <span>"Status: " <strong id="lesson-status" aria-live="polite">{status}</strong></span>
                <button id="lesson-prev" class="secondary" on:click=move |_| go(step() - 1) prop:disabled=move || step() == 1>"← Previous"</button>
                <button id="lesson-next" class="secondary" on:click=move |_| go(step() + 1) prop:disabled=move || step() == STEPS>"Next →"</button>
                <button id="lesson-close" class="secondary" on:click=move |_| nav.step.set(None)>"Close the lesson"</button>
            </div>
            <p class="hint">"Keys: → and ← (or Page Down and Page Up) move between steps; Enter does the step's action."</p>
            <div class="lesson-view">{view_of}</div>
            <details class="glossary" id="glossary">
                <summary>"Glossary"</summary>
                <dl>
                    {GLOSSARY.iter().map(|(key, word, meaning)| view! {
                        <dt id=format!("glossary-{key}") tabindex="-1">{*word}</dt><dd>{*meaning}</dd>
                    }).collect_view()}
                </dl>
            </details>
        </section>
    }
}

/// The lab's finished runs of lesson step `step`.
fn runs_of(lab: Lab, step: usize) -> Vec<RunResult> {
    let ours = lab.ran.with(|r| r.as_ref().is_some_and(|r| r.name == format!("lesson-{step}")));
    if ours { lab.runs.get() } else { Vec::new() }
}

/// `metric` of `model`'s runs as "mean ± sd (n)", or a dash.
fn mean_of(runs: &[RunResult], model: &str, metric: &str) -> String {
    let values: Vec<f64> = runs.iter().filter(|r| r.model == model).filter_map(|r| r.metrics.get(metric).copied()).collect();
    match mean_sd(&values) {
        Some((m, _)) if values.len() == 1 => format!("{m:.4}"),
        Some((m, s)) => format!("{m:.4} ± {s:.4} (n {})", values.len()),
        None => "–".into(),
    }
}

/// A table of `metric` means per predictor: rows of (row key, label, model, metric).
#[component]
fn Scores(caption: &'static str, header: &'static str, runs: Signal<Vec<RunResult>>, rows: Vec<(&'static str, &'static str, &'static str, &'static str)>) -> impl IntoView {
    view! {
        <table class="results-table" id="lesson-scores">
            <caption>{caption}</caption>
            <thead><tr><th scope="col">"predictor"</th><th scope="col">{header}</th></tr></thead>
            <tbody>
                {rows.into_iter().map(|(key, label, model, metric)| view! {
                    <tr data-model=key><th scope="row">{label}</th><td>{move || runs.with(|r| mean_of(r, model, metric))}</td></tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// Step 2: the MLP's validation MSE beside persistence, and its loss curve.
#[component]
fn NextFrame(lab: Lab) -> impl IntoView {
    let runs = Signal::derive(move || runs_of(lab, 2));
    let rows = vec![("persistence", "persistence (the last frame again)", "MLP", "persistence_mse"), ("MLP", "MLP", "MLP", "mse")];
    view! {
        <Scores caption="Next-frame error on frames the network never trained on (lower is better)" header="MSE" runs=runs rows=rows />
        <LossChart series=lab.losses id="lesson-loss" />
    }
}

/// Step 3: MLP and GCN on animals never seen, with persistence.
#[component]
fn Unseen(lab: Lab) -> impl IntoView {
    let runs = Signal::derive(move || runs_of(lab, 3));
    let rows = vec![
        ("persistence", "persistence", "MLP", "persistence_mse"),
        ("MLP", "MLP (no wiring)", "MLP", "mse"),
        ("GCN", "GCN (over the connectome)", "GCN", "mse"),
    ];
    view! { <Scores caption="Next-frame MSE on the animal left out, mean ± sd over 3 folds (lower is better)" header="MSE on an unseen worm" runs=runs rows=rows /> }
}

/// Step 4: balanced accuracy of both decoders and the GCN's confusion matrix.
#[component]
fn Behaviour(lab: Lab) -> impl IntoView {
    let runs = Signal::derive(move || runs_of(lab, 4));
    let matrix = Signal::derive(move || runs.with(|r| !r.is_empty()).then(|| summed_confusion(lab, "GCN · behaviour · unseen worms".into(), |r| r.model == "GCN")));
    let rows = vec![("MLP", "MLP", "MLP", "balanced_accuracy"), ("GCN", "GCN", "GCN", "balanced_accuracy")];
    view! {
        <Scores caption="Behaviour decoded on the animal left out, mean ± sd over 3 folds (chance 0.333)" header="balanced accuracy" runs=runs rows=rows />
        <PlotCanvas data=matrix id="lesson-confusion" label="confusion matrix of the GCN: true behaviour by predicted behaviour" width=420 height=380 />
    }
}

/// Step 5: the inferred graph beside the true wiring, its AUROC, and its strongest edges drawn
/// on the worm over the connectome.
#[component]
fn Wiring(lab: Lab, worm: OnTheWorm, cursor: RwSignal<usize>) -> impl IntoView {
    let runs = move || runs_of(lab, 5);
    let neurons = move || lab.plan.with(|p| p.as_ref().map(|p| p.neurons.clone()).unwrap_or_default());
    let inferred = Signal::derive(move || {
        let runs = runs();
        (!runs.is_empty()).then(|| {
            let n = neurons();
            Matrix::adjacency(format!("inferred by NRI ({} folds)", runs.len()), &n, mean_graph(&runs.iter().collect::<Vec<_>>(), n.len()))
        })
    });
    let truth = Signal::derive(move || {
        (!runs().is_empty()).then(|| lab.plan.with(|p| p.as_ref().and_then(|p| p.truth.clone().map(|t| Matrix::adjacency("the true wiring".into(), &p.neurons, t))))).flatten()
    });
    let auroc = move || {
        let runs = runs();
        let values: Vec<f64> = runs.iter().filter_map(|r| r.metrics.get("graph_auroc_truth").copied()).collect();
        mean_sd(&values).map_or("–".to_string(), |(m, s)| format!("AUROC against the true wiring {m:.3} ± {s:.3} over {} folds (chance 0.5)", values.len()))
    };
    let layout = worm.layout.clone();
    let overlay = Signal::derive(move || {
        let runs = runs();
        (!runs.is_empty()).then(|| {
            let n = neurons();
            let mean = mean_graph(&runs.iter().collect::<Vec<_>>(), n.len());
            ("the graph NRI inferred".to_string(), layout.edges_of(&n, &mean, n.len()))
        })
    });
    view! {
        <p id="lesson-auroc">{auroc}</p>
        <WormView id="lesson-wiring-worm" recording=Signal::derive(move || Some(worm.clone())) cursor=cursor overlay=overlay />
        <div class="pair">
            <PlotCanvas data=inferred id="lesson-inferred" label="the inferred graph as a heatmap: from (rows) to (columns)" width=420 height=420 />
            <PlotCanvas data=truth id="lesson-truth" label="the true wiring as a heatmap: from (rows) to (columns)" width=420 height=420 />
        </div>
    }
}

/// Step 6: where to go next.
#[component]
fn YourTurn() -> impl IntoView {
    let nav = expect_context::<Nav>();
    let link = move || web_sys::window().and_then(|w| w.location().href().ok()).unwrap_or_default();
    view! {
        <ul class="your-turn">
            <li><button class="secondary" id="lesson-to-experiment" on:click=move |_| nav.section.set(Section::Experiment)>"Change a setting in Experiment"</button></li>
            <li><button class="secondary" id="lesson-to-results" on:click=move |_| nav.section.set(Section::Results)>"See every number in Results"</button></li>
        </ul>
        <label class="share">"This page's link (it holds the lesson step and the last experiment): "
            <input id="lesson-link" readonly prop:value=link />
        </label>
    }
}
