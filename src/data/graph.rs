//! Fixed graphs for graph networks, and how inferred graphs are scored.
//!
//! A graph is a dense `[from][to]` weight matrix over the aligned neuron list. Sources: the
//! connectome (mapped by name) or a correlation graph computed from training frames only.
//! Scoring: AUROC of edge scores against a reference graph (the synthetic worm's true wiring or
//! the connectome), with a null from the same scores against node-shuffled references.

use rand::{RngExt, SeedableRng};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::stats::quantile;

use super::connectome::{Connectome, Reconstruction, Synapse};

/// Where a fixed graph comes from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FixedGraph {
    Connectome { reconstruction: Reconstruction, synapse: Synapse },
    /// Each neuron's `top_k` most correlated partners (|Pearson r| over training frames).
    Correlation { top_k: usize },
}

impl Default for FixedGraph {
    fn default() -> Self {
        FixedGraph::Connectome { reconstruction: Reconstruction::Cook2019, synapse: Synapse::Both }
    }
}

impl FixedGraph {
    pub fn label(&self) -> String {
        match self {
            FixedGraph::Connectome { reconstruction, synapse } => format!("connectome ({reconstruction:?}, {synapse:?})"),
            FixedGraph::Correlation { top_k } => format!("correlation (top {top_k})"),
        }
    }

    /// The graph over `neurons`; `traces` are the training frames (`frames × neurons`) used by
    /// the correlation graph.
    pub fn build(&self, neurons: &[String], traces: &[Vec<f32>]) -> Vec<Vec<f32>> {
        match *self {
            FixedGraph::Connectome { reconstruction, synapse } => Connectome::builtin().adjacency(neurons, reconstruction, synapse),
            FixedGraph::Correlation { top_k } => correlation_graph(neurons.len(), traces, top_k),
        }
    }
}

/// Symmetric top-k |correlation| graph pooled over several training segments (each
/// `frames × n`, row-major).
pub fn correlation_graph(n: usize, segments: &[Vec<f32>], top_k: usize) -> Vec<Vec<f32>> {
    let mut sum = vec![0f64; n];
    let mut count = 0f64;
    for seg in segments {
        for row in seg.chunks_exact(n) {
            for (s, &v) in sum.iter_mut().zip(row) {
                *s += f64::from(v);
            }
            count += 1.0;
        }
    }
    let mean: Vec<f64> = sum.iter().map(|s| s / count.max(1.0)).collect();
    let mut cov = vec![vec![0f64; n]; n];
    for seg in segments {
        for row in seg.chunks_exact(n) {
            for i in 0..n {
                let a = f64::from(row[i]) - mean[i];
                for j in i..n {
                    cov[i][j] += a * (f64::from(row[j]) - mean[j]);
                }
            }
        }
    }
    let mut r = vec![vec![0f32; n]; n];
    for i in 0..n {
        for j in i + 1..n {
            let d = (cov[i][i] * cov[j][j]).sqrt();
            let v = if d > 0.0 { (cov[i][j] / d).abs() as f32 } else { 0.0 };
            r[i][j] = v;
            r[j][i] = v;
        }
    }
    let mut g = vec![vec![0f32; n]; n];
    for i in 0..n {
        let mut order: Vec<usize> = (0..n).filter(|&j| j != i).collect();
        order.sort_by(|&a, &b| r[i][b].total_cmp(&r[i][a]));
        for &j in order.iter().take(top_k) {
            g[i][j] = r[i][j];
            g[j][i] = r[i][j];
        }
    }
    g
}

/// Directed graph from lagged ridge regression, pooled over training segments (each
/// `frames × n`, row-major, z-scored): each neuron's change from one frame to the next is
/// regressed on every neuron's activity in the earlier frame; `g[j][i]` is `|coefficient|` of
/// `j` in `i`'s regression (the diagonal, a neuron's own decay, is left out). Ridge strength:
/// 0.1 % of the frame count (a z-scored neuron's sum of squares), enough to keep unrecorded
/// (all-zero) neurons solvable. The model-free bar for a graph inferred from dynamics.
pub fn regression_graph(n: usize, segments: &[Vec<f32>]) -> Vec<Vec<f32>> {
    let mut gram = vec![vec![0f64; n]; n];
    let mut cross = vec![vec![0f64; n]; n];
    let mut pairs = 0usize;
    for seg in segments {
        let rows: Vec<&[f32]> = seg.chunks_exact(n).collect();
        for w in rows.windows(2) {
            let (now, next) = (w[0], w[1]);
            for j in 0..n {
                let a = f64::from(now[j]);
                for k in 0..n {
                    gram[j][k] += a * f64::from(now[k]);
                    cross[j][k] += a * f64::from(next[k] - now[k]);
                }
            }
            pairs += 1;
        }
    }
    let lambda = (1e-3 * pairs as f64).max(1e-6);
    for (j, row) in gram.iter_mut().enumerate() {
        row[j] += lambda;
    }
    let mut g = vec![vec![0f32; n]; n];
    if let Some(beta) = cholesky_solve(gram, cross) {
        for j in 0..n {
            for i in (0..n).filter(|&i| i != j) {
                g[j][i] = beta[j][i].abs() as f32;
            }
        }
    }
    g
}

/// Solves `a · x = b` for a symmetric positive-definite `a` (`n × n`) and the columns of `b`
/// (`n × m`) by Cholesky factorisation; `None` when `a` is not positive definite. Written
/// here because no linear solve is in the dependency tree (burn-linalg 0.22 has LU, QR and
/// SVD on tensors but no solve), and regression graphs are small plain-data systems.
#[allow(clippy::needless_range_loop)] // the triangular solves read as in the textbook
fn cholesky_solve(mut a: Vec<Vec<f64>>, mut b: Vec<Vec<f64>>) -> Option<Vec<Vec<f64>>> {
    let n = a.len();
    // a = L Lᵀ, L stored in the lower triangle of a
    for j in 0..n {
        let d = a[j][j] - (0..j).map(|k| a[j][k] * a[j][k]).sum::<f64>();
        if d <= 0.0 || !d.is_finite() {
            return None;
        }
        a[j][j] = d.sqrt();
        for i in j + 1..n {
            a[i][j] = (a[i][j] - (0..j).map(|k| a[i][k] * a[j][k]).sum::<f64>()) / a[j][j];
        }
    }
    let m = b.first().map_or(0, Vec::len);
    for c in 0..m {
        // L y = b, then Lᵀ x = y
        for i in 0..n {
            b[i][c] = (b[i][c] - (0..i).map(|k| a[i][k] * b[k][c]).sum::<f64>()) / a[i][i];
        }
        for i in (0..n).rev() {
            b[i][c] = (b[i][c] - (i + 1..n).map(|k| a[k][i] * b[k][c]).sum::<f64>()) / a[i][i];
        }
    }
    Some(b)
}

/// `incoming[i][j]`: the weight of `j → i`, log-compressed and normalised over `i`'s inputs
/// (what GCN and GAT multiply node states by). Row-major `n × n`.
pub fn incoming_normalised(graph: &[Vec<f32>]) -> Vec<f32> {
    let n = graph.len();
    let mut out = vec![0f32; n * n];
    for i in 0..n {
        let total: f32 = (0..n).map(|j| graph[j][i].max(0.0).ln_1p()).sum();
        if total > 0.0 {
            for j in 0..n {
                out[i * n + j] = graph[j][i].max(0.0).ln_1p() / total;
            }
        }
    }
    out
}

/// Area under the ROC curve of `scores` for the `positives` (ties count half); `None` when
/// either class is empty.
pub fn auroc(scores: &[f32], positives: &[bool]) -> Option<f64> {
    Ranking::new(scores).auroc(positives)
}

/// Scores ranked once, so that many sets of positives (a null's draws) are each scored in one
/// pass without sorting again.
struct Ranking {
    /// Each score's rank (1-based, ascending; tied scores share their average rank).
    ranks: Vec<f64>,
    /// Indices in descending score order, cut into groups of tied scores.
    tied_groups: Vec<Vec<usize>>,
}

impl Ranking {
    fn new(scores: &[f32]) -> Self {
        let mut order: Vec<usize> = (0..scores.len()).collect();
        order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
        let mut ranks = vec![0f64; scores.len()];
        let mut tied_groups = Vec::new();
        let mut k = 0;
        while k < order.len() {
            let mut end = k;
            while end + 1 < order.len() && scores[order[end + 1]] == scores[order[k]] {
                end += 1;
            }
            let rank = (k + end) as f64 / 2.0 + 1.0;
            for &o in &order[k..=end] {
                ranks[o] = rank;
            }
            tied_groups.push(order[k..=end].to_vec());
            k = end + 1;
        }
        tied_groups.reverse();
        Self { ranks, tied_groups }
    }

    /// AUROC as the Mann–Whitney U of the positives' ranks.
    fn auroc(&self, positives: &[bool]) -> Option<f64> {
        let pos = positives.iter().filter(|p| **p).count() as f64;
        let neg = positives.len() as f64 - pos;
        if pos == 0.0 || neg == 0.0 {
            return None;
        }
        let rank_sum: f64 = self.ranks.iter().zip(positives).filter(|(_, p)| **p).map(|(r, _)| r).sum();
        Some((rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg))
    }

    /// Average precision: the precision at each positive's place in the descending ranking,
    /// averaged over positives; tied scores form one step (scikit-learn's
    /// `average_precision_score`). `None` without positives.
    fn average_precision(&self, positives: &[bool]) -> Option<f64> {
        let total = positives.iter().filter(|p| **p).count();
        if total == 0 {
            return None;
        }
        let (mut seen, mut hits, mut sum) = (0usize, 0usize, 0.0);
        for group in &self.tied_groups {
            let new_hits = group.iter().filter(|&&o| positives[o]).count();
            seen += group.len();
            hits += new_hits;
            sum += new_hits as f64 * hits as f64 / seen as f64;
        }
        Some(sum / total as f64)
    }
}

/// Agreement of an inferred graph with a reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphScore {
    /// AUROC over ordered pairs (no self-pairs), `undirected` compares `max(a→b, b→a)`.
    pub auroc: f64,
    /// The same scores against `null_draws` node-shuffled references: mean and sd.
    pub null_mean: f64,
    pub null_sd: f64,
    pub null_draws: usize,
    /// 95 % of the null's AUROCs lie in this interval (its 2.5 and 97.5 percentiles).
    #[serde(default = "unknown_interval")]
    pub null_interval: [f64; 2],
    /// Average precision (area under the precision–recall curve), which weighs the top of the
    /// ranking, where a sparse reference's few edges are.
    #[serde(default = "unknown")]
    pub auprc: f64,
    /// The null's mean average precision (about the share of pairs that are edges).
    #[serde(default = "unknown")]
    pub auprc_null_mean: f64,
    /// AUROCs against the reference rewired with every neuron's number of edges (in and out)
    /// kept (double-edge swaps): their mean and 95 % interval. A graph that only ranks neurons
    /// (hubs), not pairs, scores at this null however it compares with the node-shuffled one,
    /// which moves the edges of well-connected neurons onto others.
    #[serde(default = "unknown")]
    pub degree_null_mean: f64,
    #[serde(default = "unknown_interval")]
    pub degree_null_interval: [f64; 2],
    pub edges: usize,
    pub pairs: usize,
}

fn unknown() -> f64 {
    f64::NAN
}

fn unknown_interval() -> [f64; 2] {
    [f64::NAN; 2]
}

/// Scores `inferred[from][to]` against `reference[from][to] > 0`.
pub fn score_graph(inferred: &[Vec<f32>], reference: &[Vec<f32>], undirected: bool, null_draws: usize, seed: u64) -> Option<GraphScore> {
    let n = inferred.len();
    let sym = |g: &[Vec<f32>], i: usize, j: usize| if undirected { g[i][j].max(g[j][i]) } else { g[i][j] };
    let pairs: Vec<(usize, usize)> = (0..n).flat_map(|i| (0..n).map(move |j| (i, j))).filter(|(i, j)| if undirected { i < j } else { i != j }).collect();
    let scores: Vec<f32> = pairs.iter().map(|&(i, j)| sym(inferred, i, j)).collect();
    let truth = |perm: &[usize]| pairs.iter().map(|&(i, j)| sym(reference, perm[i], perm[j]) > 0.0).collect::<Vec<bool>>();
    let identity: Vec<usize> = (0..n).collect();
    let positives = truth(&identity);
    let ranking = Ranking::new(&scores);
    let auroc = ranking.auroc(&positives)?;
    let auprc = ranking.average_precision(&positives).unwrap_or(f64::NAN);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut perm = identity;
    let (mut null, mut null_precision) = (Vec::with_capacity(null_draws), 0.0);
    for _ in 0..null_draws {
        perm.shuffle(&mut rng);
        let shuffled = truth(&perm);
        if let (Some(a), Some(p)) = (ranking.auroc(&shuffled), ranking.average_precision(&shuffled)) {
            null.push(a);
            null_precision += p;
        }
    }
    let draws = null.len().max(1) as f64;
    let mean = null.iter().sum::<f64>() / draws;
    let sd = (null.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / draws).sqrt();
    let (null_interval, _) = interval(&mut null);
    let mut rewired = Rewiring::new(n, &pairs, &positives, undirected);
    let mut degree_null: Vec<f64> = (0..null_draws).filter_map(|_| ranking.auroc(&rewired.next(&mut rng))).collect();
    let (degree_null_interval, degree_null_mean) = interval(&mut degree_null);
    Some(GraphScore {
        auroc,
        null_mean: mean,
        null_sd: sd,
        null_draws: null.len(),
        null_interval,
        auprc,
        auprc_null_mean: null_precision / draws,
        degree_null_mean,
        degree_null_interval,
        edges: positives.iter().filter(|p| **p).count(),
        pairs: pairs.len(),
    })
}

/// The 95 % interval (2.5 and 97.5 percentiles) and the mean of `values` (sorted in place);
/// NaN when there are none.
fn interval(values: &mut [f64]) -> ([f64; 2], f64) {
    if values.is_empty() {
        return ([f64::NAN; 2], f64::NAN);
    }
    values.sort_by(f64::total_cmp);
    ([quantile(values, 0.025), quantile(values, 0.975)], values.iter().sum::<f64>() / values.len() as f64)
}

/// A chain of degree-preserving rewirings of a reference: double-edge swaps `a→b, c→d` to
/// `a→d, c→b` (undirected: either orientation of the second edge) that make no self-edge and
/// no duplicate. Each draw is [`Self::SWAPS_PER_DRAW`] × edges swap attempts after the last,
/// the first after ten times that.
struct Rewiring<'a> {
    n: usize,
    pairs: &'a [(usize, usize)],
    undirected: bool,
    /// `present[i * n + j]`: the edge is in the current graph (both ways when undirected).
    present: Vec<bool>,
    edges: Vec<(usize, usize)>,
    burnt_in: bool,
}

impl<'a> Rewiring<'a> {
    const SWAPS_PER_DRAW: usize = 2;

    fn new(n: usize, pairs: &'a [(usize, usize)], positives: &[bool], undirected: bool) -> Self {
        let edges: Vec<(usize, usize)> = pairs.iter().zip(positives).filter(|(_, p)| **p).map(|(e, _)| *e).collect();
        let mut present = vec![false; n * n];
        for &(i, j) in &edges {
            present[i * n + j] = true;
            if undirected {
                present[j * n + i] = true;
            }
        }
        Self { n, pairs, undirected, present, edges, burnt_in: false }
    }

    /// The next rewired reference, as positives over `pairs`.
    fn next(&mut self, rng: &mut StdRng) -> Vec<bool> {
        let m = self.edges.len();
        let attempts = if self.burnt_in { Self::SWAPS_PER_DRAW * m } else { 10 * Self::SWAPS_PER_DRAW * m };
        self.burnt_in = true;
        let n = self.n;
        for _ in 0..if m < 2 { 0 } else { attempts } {
            let (x, y) = (rng.random_range(0..m), rng.random_range(0..m));
            let (a, b) = self.edges[x];
            let (mut c, mut d) = self.edges[y];
            if self.undirected && rng.random_bool(0.5) {
                (c, d) = (d, c);
            }
            if x == y || a == d || c == b || self.present[a * n + d] || self.present[c * n + b] {
                continue;
            }
            for (i, j, on) in [(a, b, false), (c, d, false), (a, d, true), (c, b, true)] {
                self.present[i * n + j] = on;
                if self.undirected {
                    self.present[j * n + i] = on;
                }
            }
            self.edges[x] = (a, d);
            self.edges[y] = (c, b);
        }
        self.pairs.iter().map(|&(i, j)| self.present[i * n + j]).collect()
    }
}

/// Average precision of `scores` for the `positives` (see [`Ranking::average_precision`]).
pub fn average_precision(scores: &[f32], positives: &[bool]) -> Option<f64> {
    Ranking::new(scores).average_precision(positives)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auroc_counts_ties_as_half() {
        assert_eq!(auroc(&[0.1, 0.9, 0.8, 0.2], &[false, true, true, false]), Some(1.0));
        assert_eq!(auroc(&[0.5, 0.5], &[true, false]), Some(0.5));
        assert_eq!(auroc(&[0.9, 0.1], &[false, true]), Some(0.0));
        assert_eq!(auroc(&[0.3], &[true]), None);
    }

    #[test]
    fn average_precision_matches_hand_counts() {
        // ranking: 0.9 (edge), 0.8 (no), 0.7 (edge): precisions 1 and 2/3 at the edges
        assert_eq!(average_precision(&[0.9, 0.8, 0.7], &[true, false, true]), Some((1.0 + 2.0 / 3.0) / 2.0));
        // a tie of an edge and a non-edge at the top is one step: precision ½
        assert_eq!(average_precision(&[0.5, 0.5, 0.1], &[true, false, false]), Some(0.5));
        assert_eq!(average_precision(&[0.5], &[false]), None);
    }

    #[test]
    fn a_perfect_graph_beats_its_null() {
        let mut truth = vec![vec![0f32; 8]; 8];
        for i in 0..8 {
            truth[i][(i + 1) % 8] = 1.0;
        }
        let s = score_graph(&truth, &truth, false, 50, 1).unwrap();
        assert_eq!(s.auroc, 1.0);
        assert!(s.null_mean < 0.7, "{s:?}");
        assert_eq!((s.edges, s.pairs), (8, 56));
        // the null's interval holds its mean and lies below a perfect score; a ring's 8 edges
        // of 56 pairs give a null average precision near 8/56
        assert!(s.null_interval[0] < s.null_mean && s.null_mean < s.null_interval[1] && s.null_interval[1] < 1.0, "{s:?}");
        assert_eq!(s.auprc, 1.0);
        assert!((s.auprc_null_mean - 8.0 / 56.0).abs() < 0.1, "{s:?}");
        assert!(s.degree_null_interval[0] <= s.degree_null_mean && s.degree_null_mean <= s.degree_null_interval[1] && s.degree_null_interval[1] < 1.0, "{s:?}");
    }

    /// A score that only ranks neurons (here: by how many edges each has) beats the
    /// node-shuffled null but sits at the degree-preserving one; the rewiring keeps degrees.
    #[test]
    #[allow(clippy::needless_range_loop)] // i and j are neurons, indexing a symmetric matrix
    fn a_hub_ranking_sits_at_the_degree_preserving_null() {
        let n = 16;
        let mut rng = StdRng::seed_from_u64(3);
        // hubs: neuron i links to j with a chance falling with both indices
        let mut reference = vec![vec![0f32; n]; n];
        for i in 0..n {
            for j in 0..i {
                if rng.random::<f64>() < 0.9 / (1.0 + 0.4 * (i + j) as f64) * 3.0 {
                    (reference[i][j], reference[j][i]) = (1.0, 1.0);
                }
            }
        }
        let degree: Vec<f32> = reference.iter().map(|r| r.iter().sum()).collect();
        let hubs: Vec<Vec<f32>> = (0..n).map(|i| (0..n).map(|j| degree[i] + degree[j]).collect()).collect();
        let s = score_graph(&hubs, &reference, true, 400, 1).unwrap();
        assert!(s.auroc > s.null_interval[1], "{s:?}");
        assert!(s.degree_null_interval[0] < s.auroc && s.auroc < s.degree_null_interval[1] + 0.02, "{s:?}");
        assert!(s.degree_null_mean > s.null_interval[1], "{s:?}");
        // every draw keeps each neuron's degree and the edge count
        let pairs: Vec<(usize, usize)> = (0..n).flat_map(|i| (i + 1..n).map(move |j| (i, j))).collect();
        let positives: Vec<bool> = pairs.iter().map(|&(i, j)| reference[i][j] > 0.0).collect();
        let mut chain = Rewiring::new(n, &pairs, &positives, true);
        let degrees = |p: &[bool]| (0..n).map(|k| pairs.iter().zip(p).filter(|((i, j), e)| **e && (*i == k || *j == k)).count()).collect::<Vec<_>>();
        let drawn = chain.next(&mut rng);
        assert_eq!(degrees(&drawn), degrees(&positives));
        assert_ne!(drawn, positives);
    }

    #[test]
    fn cholesky_solves_a_positive_definite_system() {
        let a = vec![vec![4.0, 2.0, 0.4], vec![2.0, 3.0, 0.5], vec![0.4, 0.5, 2.0]];
        let x = cholesky_solve(a.clone(), vec![vec![1.0, 0.0], vec![2.0, 1.0], vec![3.0, -1.0]]).unwrap();
        for (i, row) in a.iter().enumerate() {
            let b: Vec<f64> = (0..2).map(|c| (0..3).map(|k| row[k] * x[k][c]).sum()).collect();
            let want = [[1.0, 0.0], [2.0, 1.0], [3.0, -1.0]][i];
            assert!((b[0] - want[0]).abs() < 1e-12 && (b[1] - want[1]).abs() < 1e-12, "row {i}: {b:?}");
        }
        assert!(cholesky_solve(vec![vec![1.0, 2.0], vec![2.0, 1.0]], vec![vec![1.0], vec![1.0]]).is_none());
    }

    #[test]
    fn regression_graph_finds_the_synthetic_wiring_where_correlation_does_not() {
        let worm = crate::data::synthetic::SyntheticConfig::default().generate();
        let rec = &worm.recordings[0];
        let n = rec.neurons;
        let rows = crate::data::windows::Standardizer::fit(rec, 0..rec.frames).apply(rec);
        let truth = worm.graph.adjacency();
        let regression = score_graph(&regression_graph(n, std::slice::from_ref(&rows)), &truth, false, 20, 1).unwrap();
        let correlation = score_graph(&correlation_graph(n, &[rows], n), &truth, false, 20, 1).unwrap();
        assert!(regression.auroc > 0.9, "regression {regression:?}");
        assert!(regression.auroc > correlation.auroc + 0.15, "regression {} vs correlation {}", regression.auroc, correlation.auroc);
        assert!(regression.null_mean < 0.6, "{regression:?}");
    }

    #[test]
    fn correlation_graph_links_correlated_neurons() {
        // neurons 0 and 1 move together, 2 is independent-ish
        let seg: Vec<f32> = (0..50).flat_map(|t| { let x = (t as f32 * 0.3).sin(); [x, 2.0 * x + 0.01, ((t * 7919) % 13) as f32] }).collect();
        let g = correlation_graph(3, &[seg], 1);
        assert!(g[0][1] > 0.99 && g[1][0] > 0.99);
        let inc = incoming_normalised(&g);
        assert!((inc[1] - 1.0).abs() < 0.5 && inc[0] == 0.0);
    }
}
