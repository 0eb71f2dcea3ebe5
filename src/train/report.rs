//! Results as tables: the summary grouped per task into models × protocols with mean ± sd of
//! each metric — printed by the CLI, drawn by the page.

use super::experiment::{ExperimentResult, ReferenceGraph, SummaryRow, headline_metric};
use crate::data::graph::GraphScore;
use crate::stats::Paired;

/// Metrics shown, in this order, for each task kind (those no run has are left out).
pub const NEXT_STEP_METRICS: [&str; 6] = ["mse", "persistence_mse", "r2", "persistence_r2", "rollout_mse", "rollout_persistence_mse"];
pub const BEHAVIOUR_METRICS: [&str; 3] = ["balanced_accuracy", "accuracy", "macro_f1"];
const GRAPH_METRICS: [&str; 2] = ["graph_auroc_truth", "graph_auroc_connectome"];
/// Column heads of the paired comparisons.
pub const VS_BEST_AGNOSTIC: &str = "vs best non-graph";
pub const VS_PERSISTENCE: &str = "vs persistence";

/// One row of a [`TaskTable`]: a model under a protocol.
#[derive(Debug, Clone, PartialEq)]
pub struct TableRow {
    pub model: String,
    pub protocol: String,
    /// `(mean, sd)` per metric of the table, `None` where the model has none.
    pub cells: Vec<Option<(f64, f64)>>,
    /// Folds × seeds behind the means.
    pub n: usize,
    /// Paired comparisons on the headline metric ([`SummaryRow::vs`]).
    pub vs: Vec<Paired>,
}

/// One task's results: models × protocols by metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskTable {
    pub task: String,
    pub metrics: Vec<String>,
    pub rows: Vec<TableRow>,
}

impl TaskTable {
    /// The headline metric: MSE for next-step prediction, balanced accuracy for behaviour.
    pub fn headline(&self) -> &str {
        headline_metric(&self.task)
    }

    /// The comparison columns: "vs best non-graph" and, for next step, "vs persistence".
    pub fn comparison_columns(&self) -> Vec<&'static str> {
        let mut out = vec![VS_BEST_AGNOSTIC];
        if self.task == "next-step" {
            out.push(VS_PERSISTENCE);
        }
        out
    }

    /// A row's comparison under `column` (one of [`Self::comparison_columns`]).
    pub fn comparison<'a>(&self, row: &'a TableRow, column: &str) -> Option<&'a Paired> {
        row.vs.iter().find(|p| (p.baseline == "persistence") == (column == VS_PERSISTENCE))
    }

    /// `(mean, sd)` of `metric` for a row.
    pub fn cell(&self, row: &TableRow, metric: &str) -> Option<(f64, f64)> {
        self.metrics.iter().position(|m| m == metric).and_then(|k| row.cells[k])
    }
}

/// The summary grouped per task, in the order tasks, models and protocols first appear.
pub fn tables(summary: &[SummaryRow]) -> Vec<TaskTable> {
    first_seen(summary.iter().map(|r| r.task.as_str()))
        .into_iter()
        .map(|task| {
            let base: &[&str] = if task == "next-step" { &NEXT_STEP_METRICS } else { &BEHAVIOUR_METRICS };
            let metrics: Vec<String> = base
                .iter()
                .chain(GRAPH_METRICS.iter())
                .filter(|m| summary.iter().any(|r| r.task == task && r.metric == **m))
                .map(|m| (*m).to_string())
                .collect();
            let rows = first_seen(summary.iter().filter(|r| r.task == task).map(|r| (r.model.as_str(), r.protocol.as_str())))
                .into_iter()
                .map(|(model, protocol)| {
                    let found = |m: &String| summary.iter().find(|r| r.task == task && r.model == model && r.protocol == protocol && &r.metric == m);
                    let cells = metrics.iter().map(|m| found(m).filter(|r| r.n > 0).map(|r| (r.mean, r.sd))).collect();
                    let n = metrics.iter().filter_map(found).map(|r| r.n).max().unwrap_or(0);
                    let vs = metrics.iter().filter_map(found).flat_map(|r| r.vs.iter().cloned()).collect();
                    TableRow { model: model.into(), protocol: protocol.into(), cells, n, vs }
                })
                .collect();
            TaskTable { task: task.into(), metrics, rows }
        })
        .collect()
}

/// The summary as aligned text tables (models × protocols per task, mean ± sd; then each
/// model's paired difference on the headline metric with its 95 % CI and p-value).
pub fn format_table(result: &ExperimentResult) -> String {
    let mut out = String::new();
    for table in tables(&result.summary) {
        let columns = table.comparison_columns();
        out.push_str(&format!("\n{}\n{:<8} {:<22}", table.task, "model", "protocol"));
        for m in &table.metrics {
            out.push_str(&format!(" {m:>22}"));
        }
        out.push_str(&format!(" {:>4}", "n"));
        for c in &columns {
            out.push_str(&format!("  {:<43}", format!("{} ({})", c, table.headline())));
        }
        out.push('\n');
        for row in &table.rows {
            out.push_str(&format!("{:<8} {:<22}", row.model, row.protocol));
            for cell in &row.cells {
                let text = cell.map_or_else(|| "–".to_string(), |(m, s)| format!("{m:.4} ± {s:.4}"));
                out.push_str(&format!(" {text:>22}"));
            }
            out.push_str(&format!(" {:>4}", row.n));
            for c in &columns {
                out.push_str(&format!("  {:<43}", table.comparison(row, c).map_or_else(|| "–".to_string(), comparison_text)));
            }
            let kept = out.trim_end().len();
            out.truncate(kept);
            out.push('\n');
        }
    }
    out.push_str(&foot(result, "reference: ", "\n{} run(s) failed and are left out of the table:\n", "failed: "));
    out
}

/// The results as Markdown, for a README or a paper's supplement: per task a table of models ×
/// protocols with mean ± sd of each metric (the best headline value per protocol in bold), n,
/// and the paired comparisons; then how to read them, the model-free reference graphs and the
/// runs that failed. Made from a results JSON by `neurognn report`.
pub fn markdown(result: &ExperimentResult) -> String {
    let mut out = format!(
        "Experiment `{}`: {} runs, backend {}, {:.0} s.\n",
        result.spec.name,
        result.runs.len(),
        result.backend,
        result.seconds
    );
    for table in tables(&result.summary) {
        let columns = table.comparison_columns();
        let headline = table.headline();
        let lower = super::experiment::lower_is_better(headline);
        let best = |protocol: &str| {
            table.rows.iter().filter(|r| r.protocol == protocol).filter_map(|r| table.cell(r, headline).map(|c| c.0)).fold(None::<f64>, |b, v| {
                Some(b.map_or(v, |b| if lower { b.min(v) } else { b.max(v) }))
            })
        };
        out.push_str(&format!("\n#### {} (mean ± sd over folds × seeds)\n\n| model | protocol |", table.task));
        for m in &table.metrics {
            out.push_str(&format!(" {} |", m.replace('_', " ")));
        }
        out.push_str(" n |");
        for c in &columns {
            out.push_str(&format!(" {c} ({}) |", headline.replace('_', " ")));
        }
        out.push_str(&format!("\n|---|---|{}---|{}\n", "---:|".repeat(table.metrics.len()), "---|".repeat(columns.len())));
        for row in &table.rows {
            out.push_str(&format!("| {} | {} |", row.model, row.protocol));
            for (m, cell) in table.metrics.iter().zip(&row.cells) {
                let text = cell.map_or_else(|| "–".to_string(), |(mean, sd)| format!("{mean:.4} ± {sd:.4}"));
                let bold = m == headline && cell.is_some_and(|c| Some(c.0) == best(&row.protocol));
                out.push_str(&if bold { format!(" **{text}** |") } else { format!(" {text} |") });
            }
            out.push_str(&format!(" {} |", row.n));
            for c in &columns {
                out.push_str(&format!(" {} |", table.comparison(row, c).map_or_else(|| "–".to_string(), comparison_text)));
            }
            out.push('\n');
        }
    }
    out.push_str(&foot(result, "- reference graph: ", "\n{} run(s) failed and are left out of the tables:\n\n", "- "));
    out
}

/// What follows the tables in text and Markdown: how to read the comparisons, one line per
/// model-free reference graph (`reference` before each), and the failed runs (`failed_head`
/// with `{}` for their count, then `failed` before each).
fn foot(result: &ExperimentResult, reference: &str, failed_head: &str, failed: &str) -> String {
    let mut out = String::new();
    if !result.summary.is_empty() {
        out.push_str(&format!("\n{COMPARISON_LEGEND}\n"));
    }
    let references = reference_lines(&result.reference_graphs);
    if !references.is_empty() {
        out.push('\n');
    }
    for line in references {
        out.push_str(&format!("{reference}{line}\n"));
    }
    if !result.failed.is_empty() {
        out.push_str(&failed_head.replace("{}", &result.failed.len().to_string()));
        for line in &result.failed {
            out.push_str(&format!("{failed}{line}\n"));
        }
    }
    out
}

/// How to read the comparison columns (under the CLI's tables, the page's and the Markdown's).
pub const COMPARISON_LEGEND: &str = "vs …: the model minus the baseline on the headline metric, paired by fold and seed: mean [95 % bootstrap CI], two-sided sign-flip p-value (n pairs).";

/// A comparison as a cell: `MLP −0.0040 [−0.0070, −0.0010], p = 0.031 (n 15)`.
pub fn comparison_text(p: &Paired) -> String {
    if p.baseline == "persistence" { format!("{} (n {})", p.text(), p.n) } else { format!("{}: {} (n {})", p.baseline, p.text(), p.n) }
}

/// One line per model-free reference graph (mean AUROCs over folds), e.g. for the table's foot.
pub fn reference_lines(references: &[ReferenceGraph]) -> Vec<String> {
    first_seen(references.iter().map(|r| r.method.as_str()))
        .into_iter()
        .map(|method| {
            let of_method: Vec<&ReferenceGraph> = references.iter().filter(|r| r.method == method).collect();
            let mean = |f: &dyn Fn(&ReferenceGraph) -> Option<f64>| {
                let v: Vec<f64> = of_method.iter().copied().filter_map(f).filter(|v| v.is_finite()).collect();
                if v.is_empty() { "–".to_string() } else { format!("{:.4}", v.iter().sum::<f64>() / v.len() as f64) }
            };
            // only the references the experiment has (the truth: synthetic data or a reference file)
            let against = |name: &str, score: &dyn Fn(&ReferenceGraph) -> Option<&GraphScore>| {
                of_method.iter().any(|r| score(r).is_some()).then(|| {
                    format!(
                        "vs {name} {} (node-shuffled null 95 % [{}, {}], degree-preserving null {})",
                        mean(&|r| score(r).map(|s| s.auroc)),
                        mean(&|r| score(r).map(|s| s.null_interval[0])),
                        mean(&|r| score(r).map(|s| s.null_interval[1])),
                        mean(&|r| score(r).map(|s| s.degree_null_mean))
                    )
                })
            };
            let parts: Vec<String> = [against("truth", &|r| r.vs_truth.as_ref()), against("connectome", &|r| r.vs_connectome.as_ref())].into_iter().flatten().collect();
            format!("{method} — AUROC {} (means over {} folds)", parts.join(", "), of_method.len())
        })
        .collect()
}

/// Every run as one CSV row: model, protocol, task, fold, seed, steps, best step, seconds,
/// then every metric any run has (empty where a run has none).
pub fn runs_csv(result: &ExperimentResult) -> String {
    let metrics = first_seen(result.runs.iter().flat_map(|r| r.metrics.keys().map(String::as_str)));
    let mut out = csv::Writer::from_writer(Vec::new());
    let head = ["model", "protocol", "task", "fold", "seed", "steps", "best_step", "seconds"];
    // writing to a Vec cannot fail
    let _ = out.write_record(head.iter().chain(metrics.iter()));
    for r in &result.runs {
        let mut row = vec![r.model.clone(), r.protocol.clone(), r.task.clone(), r.fold.clone(), r.seed.to_string(), r.steps.to_string(), r.best_step.to_string(), format!("{:.2}", r.seconds)];
        row.extend(metrics.iter().map(|m| r.metrics.get(*m).map_or(String::new(), |v| format!("{v}"))));
        let _ = out.write_record(&row);
    }
    String::from_utf8(out.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// The summary as CSV: one row per task × protocol × model × metric with mean, sd and n, and on
/// the headline metric's rows the paired comparisons (difference, 95 % CI, p, pairs) with the
/// best structure-agnostic model and with persistence.
pub fn summary_csv(result: &ExperimentResult) -> String {
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut head: Vec<String> = ["task", "protocol", "model", "metric", "mean", "sd", "n", "best_non_graph"].map(String::from).to_vec();
    for vs in ["best_non_graph", "persistence"] {
        head.extend(["diff", "ci_low", "ci_high", "p", "pairs"].map(|c| format!("{c}_vs_{vs}")));
    }
    // writing to a Vec cannot fail
    let _ = out.write_record(&head);
    for r in &result.summary {
        let mut row = vec![r.task.clone(), r.protocol.clone(), r.model.clone(), r.metric.clone(), format!("{}", r.mean), format!("{}", r.sd), r.n.to_string()];
        let agnostic = r.vs.iter().find(|p| p.baseline != "persistence");
        let persistence = r.vs.iter().find(|p| p.baseline == "persistence");
        row.push(agnostic.map_or(String::new(), |p| p.baseline.clone()));
        for p in [agnostic, persistence] {
            match p {
                Some(p) => row.extend([p.diff, p.ci[0], p.ci[1], p.p].map(|v| format!("{v}")).into_iter().chain([p.n.to_string()])),
                None => row.extend(std::iter::repeat_n(String::new(), 5)),
            }
        }
        let _ = out.write_record(&row);
    }
    String::from_utf8(out.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// The distinct values, in the order they first appear.
fn first_seen<T: PartialEq>(values: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut out = Vec::new();
    for v in values {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}
