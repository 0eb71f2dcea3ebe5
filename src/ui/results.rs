//! An experiment's results as they arrive: the comparison table and bars per task, the
//! confusion matrix, predicted versus actual traces, rollout errors, and the inferred graphs
//! beside the connectome (and, on the synthetic worm, the true wiring).

use leptos::prelude::*;

use super::chart::PlotCanvas;
use super::lab::Lab;
use crate::plot::{Bars, Curves, LossSeries, Matrix, Network};
use crate::train::experiment::{RunResult, TaskSpec, mean_sd, summarise};
use crate::train::report::{COMPARISON_LEGEND, TaskTable, comparison_text, reference_lines, tables};

/// The distinct "model · task · protocol" of the runs that `keep`, in run order.
fn run_groups(runs: &[RunResult], keep: impl Fn(&RunResult) -> bool) -> Vec<String> {
    let mut groups: Vec<String> = Vec::new();
    for r in runs.iter().filter(|r| keep(r)) {
        let key = group_of(r);
        if !groups.contains(&key) {
            groups.push(key);
        }
    }
    groups
}

/// The runs at places `ix` of `runs` (places past the end, of runs since cleared, are skipped).
fn runs_at<'a>(runs: &'a [RunResult], ix: &[usize]) -> Vec<&'a RunResult> {
    ix.iter().filter_map(|&i| runs.get(i)).collect()
}

fn group_of(r: &RunResult) -> String {
    format!("{} · {} · {}", r.model, r.task, r.protocol)
}

/// Every results view, fed by the lab's runs.
#[component]
pub fn Results() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let grouped = Memo::new(move |_| lab.runs.with(|runs| tables(&summarise(runs))));
    // one section per task, kept while runs arrive: the table is rebuilt from the new summary,
    // the bar chart's canvas stays and is redrawn (not a new canvas and 2D context per finished
    // run)
    let task_count = Memo::new(move |_| grouped.with(Vec::len));
    let sections = move || {
        (0..task_count.get())
            .map(|i| {
                let table = move || grouped.with(|g| g.get(i).cloned()).map(|table| view! { <TaskResults table=table /> });
                let bars: Signal<Bars> = Memo::new(move |_| grouped.with(|g| g.get(i).map(bars_of).unwrap_or_default())).into();
                view! {
                    {table}
                    <PlotCanvas data=bars id=format!("bars-{i}") class="bars"
                        label="results as bars" width=720 height=340 export=true />
                }
            })
            .collect_view()
    };
    let empty = move || lab.runs.with(Vec::is_empty);
    // runs that failed (diverged) are named; the tables are over the others
    let failed = move || {
        lab.runs.with(|runs| {
            let lines: Vec<String> = runs.iter().filter_map(|r| r.failed.as_ref().map(|why| format!("{} · seed {}: {why}", group_of(r) + " · " + &r.fold, r.seed))).collect();
            (!lines.is_empty()).then(|| {
                let title = if lines.len() == 1 { "1 run failed and is left out of the tables:".to_string() } else { format!("{} runs failed and are left out of the tables:", lines.len()) };
                view! {
                    <div id="failed-runs" class="failed-runs" role="status">
                        <p>{title}</p>
                        <ul>{lines.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ul>
                    </div>
                }
            })
        })
    };
    view! {
        <div id="results">
            <h3>"Results"</h3>
            <Show when=move || !empty() fallback=|| view! { <p class="summary">"Results appear here as runs finish."</p> }>
                {failed}
                {sections}
                <Confusion />
                <Predictions />
                <Graphs />
            </Show>
        </div>
    }
}

/// One task's table: models × protocols by metric, mean ± sd over folds and seeds; the best
/// headline value under each protocol is bold.
///
/// * `table`: the task's summary.
#[component]
fn TaskResults(table: TaskTable) -> impl IntoView {
    let headline = table.headline().to_string();
    let lower_is_better = headline == "mse";
    let best = |protocol: &str| {
        table
            .rows
            .iter()
            .filter(|r| r.protocol == protocol)
            .filter_map(|r| table.cell(r, &headline).map(|c| c.0))
            .fold(None::<f64>, |b, v| Some(b.map_or(v, |b| if lower_is_better { b.min(v) } else { b.max(v) })))
    };
    let head = table.metrics.iter().map(|m| view! { <th scope="col">{m.replace('_', " ")}</th> }).collect_view();
    let rows = table
        .rows
        .iter()
        .map(|row| {
            let top = best(&row.protocol);
            let cells = table
                .metrics
                .iter()
                .zip(&row.cells)
                .map(|(m, cell)| {
                    let text = cell.map_or_else(|| "–".to_string(), |(mean, sd)| format!("{mean:.4} ± {sd:.4}"));
                    let strong = *m == headline && cell.is_some_and(|c| Some(c.0) == top);
                    view! { <td class:best=strong data-metric=m.clone()>{text}</td> }
                })
                .collect_view();
            let comparisons = table
                .comparison_columns()
                .into_iter()
                .map(|c| {
                    let paired = table.comparison(row, c);
                    let text = paired.map_or_else(|| "–".to_string(), comparison_text);
                    let significant = paired.is_some_and(|p| p.p < 0.05);
                    view! { <td class="vs" class:significant=significant data-vs=c>{text}</td> }
                })
                .collect_view();
            view! {
                <tr data-model=row.model.clone() data-protocol=row.protocol.clone()>
                    <th scope="row">{row.model.clone()}</th><td>{row.protocol.clone()}</td>{cells}<td class="n">{row.n}</td>{comparisons}
                </tr>
            }
        })
        .collect_view();
    let vs_head = table
        .comparison_columns()
        .into_iter()
        .map(|c| view! { <th scope="col">{format!("{c} ({})", headline.replace('_', " "))}</th> })
        .collect_view();
    view! {
        <table class="results-table" data-task=table.task.clone()>
            <caption>{format!("{} — mean ± sd over folds and seeds (n = folds × seeds)", table.task)}</caption>
            <thead><tr><th scope="col">"model"</th><th scope="col">"protocol"</th>{head}<th scope="col">"n"</th>{vs_head}</tr></thead>
            <tbody>{rows}</tbody>
        </table>
        <p class="legend">{COMPARISON_LEGEND}</p>
    }
}

/// The headline metric as bars (next step: with persistence beside the models).
fn bars_of(table: &TaskTable) -> Bars {
    let headline = table.headline();
    let mut groups: Vec<String> = Vec::new();
    let mut models: Vec<String> = Vec::new();
    for r in &table.rows {
        if !groups.contains(&r.protocol) {
            groups.push(r.protocol.clone());
        }
        if !models.contains(&r.model) {
            models.push(r.model.clone());
        }
    }
    let persistence = headline == "mse";
    let mut bars = models.clone();
    if persistence {
        bars.push("persistence".into());
    }
    let values = groups
        .iter()
        .map(|g| {
            let row = |m: &str| table.rows.iter().find(|r| &r.protocol == g && r.model == m);
            let mut v: Vec<Option<(f64, f64)>> = models.iter().map(|m| row(m).and_then(|r| table.cell(r, headline))).collect();
            if persistence {
                v.push(table.rows.iter().filter(|r| &r.protocol == g).find_map(|r| table.cell(r, "persistence_mse")));
            }
            v
        })
        .collect();
    Bars { title: format!("{} — {}", table.task, headline.replace('_', " ")), metric: headline.replace('_', " "), groups, bars, values }
}

/// A `<select>` over `options` bound to `value`.
#[component]
fn Pick(#[prop(into)] id: String, #[prop(into)] label: String, #[prop(into)] options: Signal<Vec<String>>, value: RwSignal<String>) -> impl IntoView {
    view! {
        <label>{label} " "
            <select id=id prop:value=move || value.get() on:change=move |ev| value.set(event_target_value(&ev))>
                {move || options.get().into_iter().map(|o| view! { <option value=o.clone()>{o.clone()}</option> }).collect_view()}
            </select>
        </label>
    }
}

/// Keeps `value` on one of `options` (the first, when it is not one of them).
fn keep_valid(options: Memo<Vec<String>>, value: RwSignal<String>) {
    Effect::new(move |_| {
        let o = options.get();
        if !o.contains(&value.get_untracked())
            && let Some(first) = o.first()
        {
            value.set(first.clone());
        }
    });
}

/// The confusion matrix of the lab's runs that `keep` picks (all of one task), summed, titled
/// `title` and the number of runs.
pub(super) fn summed_confusion(lab: Lab, title: String, keep: impl Fn(&RunResult) -> bool) -> Matrix {
    lab.runs.with(|runs| {
        let picked: Vec<&RunResult> = runs.iter().filter(|r| keep(r)).collect();
        let task = picked.first().map(|r| r.task.clone()).unwrap_or_default();
        let classes: Vec<String> = lab.ran.with(|s| {
            s.as_ref()
                .and_then(|s| s.tasks.iter().find(|t| t.label() == task).cloned())
                .map(|t| match t {
                    TaskSpec::Behaviour { classes, .. } => classes.into_iter().map(|(c, _)| c).collect(),
                    TaskSpec::NextStep => Vec::new(),
                })
                .unwrap_or_default()
        });
        let k = classes.len();
        let mut sum = vec![vec![0usize; k]; k];
        for c in picked.iter().filter_map(|r| r.confusion.as_ref()) {
            for (i, row) in c.iter().enumerate().take(k) {
                for (j, v) in row.iter().enumerate().take(k) {
                    sum[i][j] += v;
                }
            }
        }
        Matrix::confusion(format!("{title} (summed over {} runs)", picked.len()), &classes, &sum)
    })
}

/// The mean of the inferred graphs (`n × n` each) of `runs`.
pub(super) fn mean_graph(runs: &[&RunResult], n: usize) -> Vec<f32> {
    let mut mean = vec![0f32; n * n];
    let graphs: Vec<&Vec<f32>> = runs.iter().flat_map(|r| r.graphs.iter().map(|g| &g.edges)).filter(|e| e.len() == n * n).collect();
    for e in &graphs {
        mean.iter_mut().zip(e.iter()).for_each(|(m, v)| *m += v / graphs.len() as f32);
    }
    mean
}

/// The confusion matrix of one model × task × protocol, summed over folds and seeds.
#[component]
fn Confusion() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let options = Memo::new(move |_| lab.runs.with(|runs| run_groups(runs, |r| r.confusion.is_some())));
    let chosen = RwSignal::new(String::new());
    keep_valid(options, chosen);
    let matrix = Signal::derive(move || {
        let key = chosen.get();
        summed_confusion(lab, key.clone(), |r| group_of(r) == key)
    });
    view! {
        <Show when=move || !options.get().is_empty()>
            <h4>"Confusion matrix"</h4>
            <Pick id="confusion-choice" label="Model, task, protocol" options=options value=chosen />
            <PlotCanvas data=matrix id="confusion" label="confusion matrix" width=460 height=420 export=true />
        </Show>
    }
}

/// Predicted versus actual activity of a chosen neuron (one step ahead, and rolled out with the
/// model fed its own predictions), and the rollout error by horizon.
#[component]
fn Predictions() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let options = Memo::new(move |_| {
        lab.runs.with(|runs| runs.iter().filter(|r| r.predictions.is_some()).map(|r| format!("{} · {} · {} · seed {}", r.model, r.protocol, r.fold, r.seed)).collect::<Vec<_>>())
    });
    let neurons = Memo::new(move |_| lab.plan.with(|p| p.as_ref().map(|p| p.neurons.clone()).unwrap_or_default()));
    let chosen = RwSignal::new(String::new());
    let neuron = RwSignal::new(String::new());
    keep_valid(options, chosen);
    keep_valid(neurons, neuron);
    let traces = Signal::derive(move || {
        let key = chosen.get();
        let sample = lab.runs.with(|runs| runs.iter().find(|r| format!("{} · {} · {} · seed {}", r.model, r.protocol, r.fold, r.seed) == key).and_then(|r| r.predictions.clone()));
        let i = neurons.with(|n| n.iter().position(|x| *x == neuron.get()));
        let series = match (sample, i) {
            (Some(s), Some(i)) if i < s.neurons => {
                let line = |values: &[Option<f32>]| (0..s.frames).filter_map(|t| values[t * s.neurons + i].map(|v| (t, v))).collect();
                let mut lines = vec![LossSeries { name: "actual".into(), points: line(&s.actual) }, LossSeries { name: "predicted (one step)".into(), points: line(&s.predicted) }];
                if s.rolled_out.len() == s.actual.len() {
                    let horizon = lab.ran.with(|r| r.as_ref().map_or(0, |r| r.rollout_horizon));
                    lines.push(LossSeries { name: format!("rolled out (up to {horizon} frames ahead)"), points: line(&s.rolled_out) });
                }
                lines
            }
            _ => Vec::new(),
        };
        Curves { title: format!("{} · {key}", neuron.get()), x_desc: "test frame".into(), y_desc: "activity (z)".into(), series, from_zero: false, marker: None }
    });
    let rollout = Signal::derive(move || lab.runs.with(|runs| {
        let mut series: Vec<LossSeries> = Vec::new();
        let mut models: Vec<String> = Vec::new();
        for r in runs.iter().filter(|r| r.rollout.is_some()) {
            if !models.contains(&r.model) {
                models.push(r.model.clone());
            }
        }
        let curve = |pick: &dyn Fn(&RunResult) -> Option<Vec<f64>>| -> Vec<(usize, f32)> {
            let all: Vec<Vec<f64>> = runs.iter().filter_map(pick).collect();
            let h = all.iter().map(Vec::len).min().unwrap_or(0);
            (0..h).map(|k| (k + 1, mean_sd(&all.iter().map(|c| c[k]).collect::<Vec<_>>()).map_or(f32::NAN, |m| m.0 as f32))).collect()
        };
        for m in &models {
            series.push(LossSeries { name: m.clone(), points: curve(&|r: &RunResult| r.rollout.as_ref().filter(|_| &r.model == m).map(|o| o.mse.clone())) });
        }
        if !models.is_empty() {
            series.push(LossSeries { name: "persistence".into(), points: curve(&|r: &RunResult| r.rollout.as_ref().map(|o| o.persistence_mse.clone())) });
        }
        Curves { title: "rollout: MSE by frames predicted ahead (mean over runs)".into(), x_desc: "frames ahead".into(), y_desc: "MSE (z-scored)".into(), series, from_zero: true, marker: None }
    }));
    view! {
        <Show when=move || !options.get().is_empty()>
            <h4>"Predicted versus actual"</h4>
            <div class="controls">
                <Pick id="prediction-run" label="Run" options=options value=chosen />
                <Pick id="prediction-neuron" label="Neuron" options=neurons value=neuron />
            </div>
            <PlotCanvas data=traces id="predictions" label="predicted versus actual activity" width=720 height=300 export=true />
            <PlotCanvas data=rollout id="rollout" label="rollout error by horizon" width=560 height=300 export=true />
        </Show>
    }
}

/// Inferred graphs (NRI, averaged over an protocol's folds) beside the connectome and, on the
/// synthetic worm, the true wiring; with their AUROC against each and the shuffled null.
#[component]
fn Graphs() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let options = Memo::new(move |_| lab.runs.with(|runs| run_groups(runs, |r| !r.graphs.is_empty())));
    let chosen = RwSignal::new(String::new());
    keep_valid(options, chosen);
    let neurons = Memo::new(move |_| lab.plan.with(|p| p.as_ref().map(|p| p.neurons.clone()).unwrap_or_default()));
    // the references come with the plan: the worker has the data they are built from
    let truth = Memo::new(move |_| lab.plan.with(|p| p.as_ref().and_then(|p| p.truth.clone())));
    // the synthetic worm's wiring, or the reference graph the spec brought (by its file's name)
    let reference_name = Memo::new(move |_| lab.plan.with(|p| p.as_ref().and_then(|p| p.truth_name.clone())));
    let truth_name = move || reference_name.get().map_or_else(|| "the true wiring".to_string(), |name| format!("the reference graph {name}"));
    let connectome = Memo::new(move |_| lab.plan.with(|p| p.as_ref().map(|p| p.connectome.clone()).unwrap_or_default()));
    // the chosen runs, by their place in `lab.runs` (runs are read in place, never copied: a
    // finished run updates every chart, and copying all runs' predictions for each was slow)
    let picked = Memo::new(move |_| {
        let key = chosen.get();
        lab.runs.with(|runs| runs.iter().enumerate().filter(|(_, r)| !r.graphs.is_empty() && group_of(r) == key).map(|(i, _)| i).collect::<Vec<_>>())
    });
    let inferred = Memo::new(move |_| {
        let n = neurons.with(Vec::len);
        lab.runs.with(|runs| picked.with(|ix| mean_graph(&runs_at(runs, ix), n)))
    });
    let heat = move |title: String, values: Vec<f32>| Matrix::adjacency(title, &neurons.get(), values);
    let inferred_map = Signal::derive(move || heat(format!("inferred edge probability ({} folds)", picked.with(Vec::len)), inferred.get()));
    let reference_map = Signal::derive(move || match truth.get() {
        Some(t) => heat(reference_name.get().map_or_else(|| "true wiring (synthetic worm)".to_string(), |name| format!("reference graph {name}")), t),
        None => heat("connectome (Cook 2019, chemical + gap junctions)".into(), connectome.get()),
    });
    let drawing = Signal::derive(move || {
        let reference = match truth.get() {
            Some(t) => (truth_name(), t),
            None => ("connectome".to_string(), connectome.get()),
        };
        Network { title: chosen.get(), neurons: neurons.get(), edges: inferred.get(), reference: Some(reference), top: 2 * neurons.with(Vec::len) }
    });
    let scores = move || {
        let metric = |m: &str| mean_sd(&lab.runs.with(|runs| picked.with(|ix| runs_at(runs, ix).iter().filter_map(|r| r.metrics.get(m).copied()).collect::<Vec<_>>())));
        // per fold, the node-shuffled null's mean and 95 % interval; shown as their means
        let fmt = |name: &str, reference: &str| {
            let of = |suffix: &str| metric(&format!("graph_auroc_{reference}{suffix}")).map_or(f64::NAN, |v| v.0);
            metric(&format!("graph_auroc_{reference}")).map(|(m, s)| {
                format!(
                    "AUROC vs {name} {m:.3} ± {s:.3} (node-shuffled null {:.3}, 95 % in [{:.3}, {:.3}]; degree-preserving null {:.3}, 95 % in [{:.3}, {:.3}]); AUPRC {:.3} (null {:.3})",
                    of("_null"),
                    of("_null_low"),
                    of("_null_high"),
                    of("_degree_null"),
                    of("_degree_null_low"),
                    of("_degree_null_high"),
                    metric(&format!("graph_auprc_{reference}")).map_or(f64::NAN, |v| v.0),
                    metric(&format!("graph_auprc_{reference}_null")).map_or(f64::NAN, |v| v.0)
                )
            })
        };
        let mut lines: Vec<String> = [fmt(&truth_name(), "truth"), fmt("the connectome", "connectome")].into_iter().flatten().collect();
        lines.extend(lab.result.with(|r| r.as_ref().map(|r| reference_lines(&r.reference_graphs)).unwrap_or_default()).into_iter().map(|l| format!("reference: {l}")));
        lines.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()
    };
    view! {
        <Show when=move || !options.get().is_empty()>
            <h4>"Inferred graphs"</h4>
            <Pick id="graph-choice" label="Model, task, protocol" options=options value=chosen />
            <ul id="graph-scores">{scores}</ul>
            <div class="pair">
                <PlotCanvas data=inferred_map id="graph-inferred" label="inferred graph as an adjacency heatmap" width=460 height=460 export=true />
                <PlotCanvas data=reference_map id="graph-reference" label="reference graph as an adjacency heatmap" width=460 height=460 export=true />
            </div>
            <PlotCanvas data=drawing id="graph-network" label="inferred graph as a node-link drawing" width=560 height=560 export=true />
        </Show>
    }
}
