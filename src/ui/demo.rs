//! The built-in demo: an MLP, then a GCN given the wiring, predict the synthetic worm's next
//! frame on WebGPU (or the CPU), live, in their own Web Worker so the page stays responsive.

use leptos::prelude::*;

use super::UrlSettings;
use super::chart::LossChart;
use crate::worker::{FromWorker, ToWorker, TrainingWorker};
use crate::plot::LossSeries;
use crate::train::Progress;
use crate::train::demo::{DemoReport, DemoRun, DemoSpec};

/// What the demo is doing, as shown in `#status`.
#[derive(Debug, Clone, PartialEq)]
enum Phase {
    Idle,
    Running,
    Done,
    Stopped,
    Failed(String),
}

impl Phase {
    fn text(&self) -> String {
        match self {
            Phase::Idle => "not started".into(),
            Phase::Running => "running".into(),
            Phase::Done => "done".into(),
            Phase::Stopped => "stopped".into(),
            Phase::Failed(why) => format!("failed: {why}"),
        }
    }
}

fn fmt(v: f64) -> String {
    if v.is_finite() { format!("{v:.4}") } else { "–".into() }
}

/// Starts the demo on page load and offers Train / Stop.
///
/// * `settings`: backend preference from the URL.
#[component]
pub fn DemoPanel(settings: UrlSettings) -> impl IntoView {
    // a link to an experiment opens the lab and leaves the demo for its button: nothing is
    // being detected then
    let waiting = if settings.experiment_link { "not chosen yet: the demo starts with its Train button" } else { "detecting…" };
    let (backend, set_backend) = signal(String::from(waiting));
    let (phase, set_phase) = signal(Phase::Idle);
    let (progress, set_progress) = signal(None::<Progress>);
    let (series, set_series) = signal(Vec::<LossSeries>::new());
    let (report, set_report) = signal(None::<DemoReport>);
    let spec = DemoSpec::default();
    let steps = spec.train.steps;
    let (gpu, set_gpu) = signal(false);
    let (model, set_model) = signal(String::new());
    let receive = move |message: FromWorker| match message {
        FromWorker::Backend { label, gpu } => {
            set_backend.set(label);
            set_gpu.set(gpu);
        }
        FromWorker::DemoModel { model } => {
            let kind = if gpu.get_untracked() { "WebGPU" } else { "CPU" };
            set_series.update(|s| s.push(LossSeries { name: format!("{model} · {kind}"), points: vec![] }));
            set_progress.set(None);
            set_model.set(model);
        }
        FromWorker::Progress { progress: p, points, .. } => {
            set_series.update(|s| {
                if let Some(line) = s.last_mut() {
                    line.points.extend(points.iter().map(|&(step, loss)| (step.saturating_sub(1), loss)));
                }
            });
            set_progress.set(Some(p));
        }
        FromWorker::DemoDone { report: r } => {
            set_phase.set(if r.runs.iter().any(|x| x.run.stopped) { Phase::Stopped } else { Phase::Done });
            set_report.set(Some(*r));
        }
        FromWorker::Failed { message } | FromWorker::Lost { message } => set_phase.set(Phase::Failed(message)),
        _ => {}
    };
    let worker = match TrainingWorker::start(crate::worker::build_for(settings.backend), receive) {
        Ok(w) => Some(w),
        Err(e) => {
            set_phase.set(Phase::Failed(e));
            None
        }
    };
    let worker = StoredValue::new_local(worker);
    let send = move |m: ToWorker| worker.with_value(|w| if let Some(w) = w { w.send(&m, &[]) });

    let start = move || {
        if phase.get_untracked() == Phase::Running || worker.with_value(Option::is_none) {
            return;
        }
        set_phase.set(Phase::Running);
        set_report.set(None);
        set_progress.set(None);
        send(ToWorker::Demo { spec: Box::new(spec.clone()), backend: settings.backend, fault: None });
    };
    // a link to an experiment opens the lab; the demo then waits for its button
    if !settings.experiment_link {
        start();
    }

    let running = move || phase.get() == Phase::Running;
    let progress_text = move || {
        let model = model.get();
        match progress.get() {
            Some(p) => format!("{model} step {} / {} · loss {:.4} · {:.1} s · about {:.0} s left", p.step, p.steps, p.loss, p.elapsed_s, p.eta_s()),
            None if model.is_empty() => format!("0 / {steps} steps"),
            None => format!("{model} 0 / {steps} steps"),
        }
    };
    let rows = move || report.get().map(|r| r.runs).unwrap_or_default();
    let baseline = move || report.get().and_then(|r| r.runs.first().map(|run| run.run.validation));
    let persistence_mse = move || baseline().map_or("–".into(), |v| fmt(v.persistence_mse));
    let persistence_r2 = move || baseline().map_or("–".into(), |v| fmt(v.persistence_r2));
    let summary = move || {
        report.get().map(|r| {
            format!(
                "{} neurons × {} frames; {} training windows; {} steps each in {:.1} s; the GCN is given the {}: {} edges among these neurons",
                r.neurons,
                r.frames,
                r.train_windows,
                r.runs.first().map_or(0, |x| x.run.steps_run),
                r.runs.iter().map(|x| x.run.elapsed_s).sum::<f64>(),
                r.graph,
                r.graph_edges
            )
        })
    };

    view! {
        <section class="panel" id="demo" aria-labelledby="demo-title">
            <h2 id="demo-title">"Demo: predict a synthetic worm's next frame, with and without its wiring"</h2>
            <p class="backend">"Compute backend: " <strong id="backend">{backend}</strong></p>
            <div class="controls">
                <button id="start" on:click=move |_| start() prop:disabled=running>{move || if phase.get() == Phase::Idle { "Train" } else { "Train again" }}</button>
                <button id="stop" on:click=move |_| send(ToWorker::Stop) prop:disabled=move || !running()>"Stop"</button>
                <span>"Status: " <strong id="status">{move || phase.get().text()}</strong></span>
            </div>
            <progress max=steps value=move || progress.get().map_or(0, |p| p.step) aria-label="training progress"></progress>
            <p id="progress">{progress_text}</p>
            <LossChart series=series />
            <table class="results-table" id="demo-runs">
                <caption>"Validation frames the networks never trained on (z-scored activity; lower MSE is better)"</caption>
                <thead><tr><th scope="col">"network"</th><th scope="col">"first loss"</th><th scope="col">"final loss"</th><th scope="col">"validation MSE"</th><th scope="col">"R²"</th></tr></thead>
                <tbody>
                    <For each=rows key=|r| r.model.clone() let:r>
                        <DemoRow run=r />
                    </For>
                    <tr data-model="persistence"><th scope="row">"persistence (the last frame again)"</th><td></td><td></td><td class="mse">{persistence_mse}</td><td class="r2">{persistence_r2}</td></tr>
                </tbody>
            </table>
            <p class="summary">{summary}</p>
            <p class="explain">
                "Both networks see the last 4 frames of every neuron. The MLP may use any neuron to predict any other; "
                "the GCN passes messages only along the worm's wiring, so it must explain each neuron by its synaptic partners. "
                "Which does better on this one animal is computed here, live. The paper's question is which does better on "
                "animals never seen in training: the lab's presets ask it, on synthetic and on real worms."
            </p>
        </section>
    }
}

/// One network's line in the demo's table.
#[component]
fn DemoRow(run: DemoRun) -> impl IntoView {
    let DemoRun { model, run } = run;
    let v = run.validation;
    view! {
        <tr data-model=model.clone()>
            <th scope="row">{model.clone()}</th>
            <td class="first">{fmt(f64::from(run.first_loss()))}</td>
            <td class="final">{fmt(f64::from(run.last_loss()))}</td>
            <td class="mse">{fmt(v.mse)}</td>
            <td class="r2">{fmt(v.r2)}</td>
        </tr>
    }
}
