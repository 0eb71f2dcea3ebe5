//! The built-in demo: train an MLP on the synthetic worm on WebGPU (or the CPU), live, in its
//! own Web Worker so the page stays responsive.

use leptos::prelude::*;

use super::UrlSettings;
use super::chart::LossChart;
use crate::worker::{FromWorker, ToWorker, TrainingWorker};
use crate::plot::LossSeries;
use crate::train::Progress;
use crate::train::demo::{DemoReport, DemoSpec};

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
    let receive = move |message: FromWorker| match message {
        FromWorker::Backend { label, gpu } => {
            set_backend.set(label);
            let kind = if gpu { "WebGPU" } else { "CPU" };
            set_series.update(|s| s.push(LossSeries { name: format!("run {} · {kind}", s.len() + 1), points: vec![] }));
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
            set_phase.set(if r.run.stopped { Phase::Stopped } else { Phase::Done });
            set_report.set(Some(*r));
        }
        FromWorker::Failed { message } | FromWorker::Lost { message } => set_phase.set(Phase::Failed(message)),
        _ => {}
    };
    let worker = match TrainingWorker::start(receive) {
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
    let progress_text = move || match progress.get() {
        Some(p) => format!("step {} / {} · loss {:.4} · {:.1} s · about {:.0} s left", p.step, p.steps, p.loss, p.elapsed_s, p.eta_s()),
        None => format!("0 / {steps} steps"),
    };
    let first_loss = move || report.get().map_or("–".into(), |r| fmt(f64::from(r.run.first_loss())));
    let final_loss = move || report.get().map_or("–".into(), |r| fmt(f64::from(r.run.last_loss())));
    let metric = move || {
        report.get().map_or("–".into(), |r| {
            let v = r.run.validation;
            format!(
                "validation MSE {} (persistence baseline {}), R² {} (persistence {})",
                fmt(v.mse),
                fmt(v.persistence_mse),
                fmt(v.r2),
                fmt(v.persistence_r2)
            )
        })
    };
    let summary = move || {
        report.get().map(|r| {
            format!(
                "{} neurons × {} frames; {} training windows; MLP with {} parameters; {} steps in {:.1} s",
                r.neurons, r.frames, r.train_windows, r.run.parameters, r.run.steps_run, r.run.elapsed_s
            )
        })
    };

    view! {
        <section class="panel" aria-labelledby="demo-title">
            <h2 id="demo-title">"Demo: predict a synthetic worm's next frame"</h2>
            <p class="backend">"Compute backend: " <strong id="backend">{backend}</strong></p>
            <div class="controls">
                <button id="start" on:click=move |_| start() prop:disabled=running>{move || if phase.get() == Phase::Idle { "Train" } else { "Train again" }}</button>
                <button id="stop" on:click=move |_| send(ToWorker::Stop) prop:disabled=move || !running()>"Stop"</button>
                <span>"Status: " <strong id="status">{move || phase.get().text()}</strong></span>
            </div>
            <progress max=steps value=move || progress.get().map_or(0, |p| p.step)></progress>
            <p id="progress">{progress_text}</p>
            <LossChart series=series />
            <dl class="results">
                <dt>"First loss"</dt><dd id="first-loss">{first_loss}</dd>
                <dt>"Final loss"</dt><dd id="final-loss">{final_loss}</dd>
                <dt>"Final metric"</dt><dd id="metric">{metric}</dd>
            </dl>
            <p class="summary">{summary}</p>
        </section>
    }
}
