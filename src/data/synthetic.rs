//! The built-in synthetic worm: animals whose neurons share a known directed coupling graph.
//!
//! It makes the app work offline and gives inferred graphs something true to be scored against.
//! Dynamics are a leaky rate network, `x ← (1-α)x + α·tanh(Wx + d_state) + noise`, observed with
//! measurement noise; a Markov chain over behavioural states (forward, reversal, turn) switches
//! the drive `d_state` onto a subset of neurons, so activity carries the behaviour.
//! Deterministic for a given [`SyntheticConfig`] (seeded ChaCha), on every platform.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use super::connectome::{Connectome, Reconstruction, Synapse};
use super::{Labels, Recording};

/// Real *C. elegans* neuron names used for synthetic neurons: first the 22 identified neurons
/// shared by all five Kato et al. (2015) worms, then other commonly identified head neurons.
pub const NEURON_NAMES: &[&str] = &[
    "AIBL", "AIBR", "ALA", "ASKR", "AVAL", "AVAR", "AVBL", "AVBR", "AVEL", "AVER", "RIBL", "RID",
    "RIML", "RIMR", "RIVL", "RIVR", "RMED", "RMEL", "RMER", "SMDDR", "SMDVR", "VB02", "AIYL", "AIYR",
    "AIZL", "AIZR", "AVDL", "AVDR", "RIAL", "RIAR", "RMDL", "RMDR", "SMBDL", "SMBDR", "URYDL", "URYVL",
    "OLQDL", "OLQVL", "RIS", "DB01", "VA01", "DA01", "AWBL", "AWCL", "ASHL", "ASHR", "AFDL", "AFDR",
];

/// Behavioural states of the synthetic worm (a reduced Kato-style scheme).
pub const STATES: [&str; 3] = ["FWD", "REV", "TURN"];

/// Where the true coupling graph comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GraphSource {
    /// The real wiring among the chosen neurons (Cook et al. 2019, chemical + gap junctions),
    /// with random signs (70 % excitatory); neurons with no partner there get random inputs.
    Connectome,
    /// `inputs_per_neuron` random presynaptic partners per neuron.
    Random,
}

/// What moves the activity along the true graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dynamics {
    /// The synthetic worm: a leaky rate network `x ← (1-α)x + α·tanh(Wx + d_state) + noise`,
    /// with behavioural states driving some neurons.
    #[default]
    Worm,
    /// Coupled phase oscillators (Kuramoto): `θᵢ ← θᵢ + dt·(ωᵢ + K Σⱼ Wⱼᵢ sin(θⱼ − θᵢ)) + noise`,
    /// observed as `sin θᵢ`. Nonlinear, with no behaviour.
    Kuramoto,
    /// A sparse linear system `x ← A x + noise` (VAR(1)), `A` the signed true graph scaled to a
    /// spectral radius below one. Linear, with no behaviour: lagged regression is its exact
    /// model, the bar relational inference should reach.
    LinearVar,
}

/// What to generate. Defaults give the one-minute demo: one animal, 32 neurons, 2400 frames.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyntheticConfig {
    pub animals: usize,
    pub graph: GraphSource,
    /// Neurons in the whole (true) network.
    pub neurons: usize,
    pub frames: usize,
    pub fps: f32,
    pub seed: u64,
    /// Presynaptic partners per neuron in the true graph.
    pub inputs_per_neuron: usize,
    /// Fraction of the network each animal's recording shows (1.0 = every neuron).
    pub observed_fraction: f32,
    /// Neuron time constant in seconds.
    pub tau_s: f32,
    /// Standard deviation of the intrinsic noise per frame.
    pub process_noise: f32,
    /// Standard deviation of the measurement noise.
    pub observation_noise: f32,
    /// Mean time spent in one behavioural state, seconds.
    pub mean_dwell_s: f32,
    /// The system simulated on the graph (the worm by default).
    #[serde(skip_serializing_if = "is_worm")]
    pub dynamics: Dynamics,
}

fn is_worm(d: &Dynamics) -> bool {
    *d == Dynamics::Worm
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        Self {
            animals: 1,
            graph: GraphSource::Connectome,
            neurons: 32,
            frames: 2400,
            fps: 2.9,
            seed: 7,
            inputs_per_neuron: 3,
            observed_fraction: 1.0,
            tau_s: 1.0,
            process_noise: 0.08,
            observation_noise: 0.03,
            mean_dwell_s: 12.0,
            dynamics: Dynamics::Worm,
        }
    }
}

/// The true coupling graph: `edges` are `(from, to, weight)` over `names`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrueGraph {
    pub names: Vec<String>,
    pub edges: Vec<(usize, usize, f32)>,
}

impl TrueGraph {
    /// Dense `[from][to]` adjacency (1.0 where an edge exists).
    pub fn adjacency(&self) -> Vec<Vec<f32>> {
        let n = self.names.len();
        let mut a = vec![vec![0.0; n]; n];
        for &(from, to, _) in &self.edges {
            a[from][to] = 1.0;
        }
        a
    }
}

/// Synthetic recordings together with the graph that generated them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyntheticWorm {
    pub config: SyntheticConfig,
    pub graph: TrueGraph,
    pub recordings: Vec<Recording>,
}

/// Name of synthetic neuron `i`: a real name while they last, then `N<i>`.
pub fn neuron_name(i: usize) -> String {
    NEURON_NAMES.get(i).map_or_else(|| format!("N{i}"), |s| (*s).to_string())
}

impl SyntheticConfig {
    /// Generates the animals. Values outside sensible ranges are clamped, never a panic.
    pub fn generate(&self) -> SyntheticWorm {
        let n = self.neurons.max(2);
        let mut rng = StdRng::seed_from_u64(self.seed);
        let k = self.inputs_per_neuron.clamp(1, n - 1);
        let graph = match self.graph {
            GraphSource::Connectome => connectome_graph(n, k, &mut rng),
            GraphSource::Random => random_graph(n, k, &mut rng),
        };
        let drives = state_drives(n, &mut rng);
        let recordings = (0..self.animals.max(1))
            .map(|animal| self.simulate_animal(animal, &graph, &drives, &mut rng))
            .collect();
        SyntheticWorm { config: self.clone(), graph, recordings }
    }

    fn simulate_animal(&self, animal: usize, graph: &TrueGraph, drives: &[Vec<f32>], rng: &mut StdRng) -> Recording {
        match self.dynamics {
            Dynamics::Worm => self.simulate_worm(animal, graph, drives, rng),
            Dynamics::Kuramoto | Dynamics::LinearVar => self.simulate_system(animal, graph, rng),
        }
    }

    /// Kuramoto oscillators or a linear system on `graph` (see [`Dynamics`]); no labels.
    fn simulate_system(&self, animal: usize, graph: &TrueGraph, rng: &mut StdRng) -> Recording {
        let n = graph.names.len();
        let frames = self.frames.max(2);
        let fps = if self.fps.is_finite() && self.fps > 0.0 { self.fps } else { 2.9 };
        let unit = Normal::new(0.0f32, 1.0).expect("unit normal has valid parameters");
        let observed = observed_neurons(n, self.observed_fraction, animal, rng);
        let noise = self.process_noise.max(0.0);
        let mut traces = Vec::with_capacity(frames * observed.len());
        let mut next = vec![0.0f32; n];
        let mut x: Vec<f32> = (0..n).map(|_| rng.random_range(-std::f32::consts::PI..std::f32::consts::PI)).collect();
        // Kuramoto: natural frequencies around 0.3 rad per frame (well below the Nyquist rate),
        // coupling strong enough to pull partners together without locking the whole network
        let omega: Vec<f32> = (0..n).map(|_| rng.random_range(0.15..0.45)).collect();
        // linear: the signed weights scaled so a neuron's inputs sum to at most 0.9 in size
        let in_weight: Vec<f32> = (0..n).map(|to| graph.edges.iter().filter(|e| e.1 == to).map(|e| e.2.abs()).sum::<f32>()).collect();
        let scale = 0.9 / in_weight.iter().copied().fold(1e-6, f32::max);
        let (substeps, coupling) = (4, 0.25);
        for _ in 0..frames {
            match self.dynamics {
                Dynamics::Kuramoto => {
                    for _ in 0..substeps {
                        next.copy_from_slice(&omega);
                        for &(from, to, w) in &graph.edges {
                            next[to] += coupling * w.abs() * (x[from] - x[to]).sin();
                        }
                        for i in 0..n {
                            x[i] += next[i] / substeps as f32 + noise * unit.sample(rng) / (substeps as f32).sqrt();
                        }
                    }
                    traces.extend(observed.iter().map(|&i| x[i].sin() + self.observation_noise * unit.sample(rng)));
                }
                _ => {
                    next.iter_mut().for_each(|v| *v = 0.0);
                    for &(from, to, w) in &graph.edges {
                        next[to] += scale * w * x[from];
                    }
                    for i in 0..n {
                        x[i] = next[i] + noise * 4.0 * unit.sample(rng);
                    }
                    traces.extend(observed.iter().map(|&i| x[i] + self.observation_noise * unit.sample(rng)));
                }
            }
        }
        let system = if self.dynamics == Dynamics::Kuramoto { "coupled oscillators" } else { "sparse linear system" };
        Recording {
            name: format!("{system} {}", animal + 1),
            source: format!("synthetic {system} (seed {})", self.seed),
            frames,
            neurons: observed.len(),
            traces,
            neuron_names: observed.iter().map(|&i| Some(graph.names[i].clone())).collect(),
            fps,
            labels: None,
        }
    }

    fn simulate_worm(&self, animal: usize, graph: &TrueGraph, drives: &[Vec<f32>], rng: &mut StdRng) -> Recording {
        let n = graph.names.len();
        let frames = self.frames.max(2);
        let fps = if self.fps.is_finite() && self.fps > 0.0 { self.fps } else { 2.9 };
        let alpha = (1.0 / (self.tau_s.max(1e-3) * fps)).min(1.0);
        let switch_p = (1.0 / (self.mean_dwell_s.max(1e-3) * fps)).min(1.0);
        let unit = Normal::new(0.0f32, 1.0).expect("unit normal has valid parameters");

        let observed = observed_neurons(n, self.observed_fraction, animal, rng);
        let mut x: Vec<f32> = (0..n).map(|_| 0.3 * unit.sample(rng)).collect();
        let mut state = 0usize;
        let mut traces = Vec::with_capacity(frames * observed.len());
        let mut per_frame = Vec::with_capacity(frames);
        let mut input = vec![0.0f32; n];
        for _ in 0..frames {
            if rng.random::<f32>() < switch_p {
                state = next_state(state, rng);
            }
            input.copy_from_slice(&drives[state]);
            for &(from, to, w) in &graph.edges {
                input[to] += w * x[from];
            }
            for i in 0..n {
                let noise = self.process_noise * alpha.sqrt() * unit.sample(rng);
                x[i] = (1.0 - alpha) * x[i] + alpha * input[i].tanh() + noise;
            }
            traces.extend(observed.iter().map(|&i| x[i] + self.observation_noise * unit.sample(rng)));
            per_frame.push(Some(state as u16));
        }
        Recording {
            name: format!("synthetic animal {}", animal + 1),
            source: format!("synthetic worm (seed {})", self.seed),
            frames,
            neurons: observed.len(),
            traces,
            neuron_names: observed.iter().map(|&i| Some(graph.names[i].clone())).collect(),
            fps,
            labels: Some(Labels { names: STATES.iter().map(|s| (*s).to_string()).collect(), per_frame }),
        }
    }
}

/// Each neuron receives `k` inputs from distinct others; 70 % excitatory, scaled by 1/√k.
fn random_graph(n: usize, k: usize, rng: &mut StdRng) -> TrueGraph {
    let scale = 1.8 / (k as f32).sqrt();
    let mut edges = Vec::with_capacity(n * k);
    for to in 0..n {
        let mut sources: Vec<usize> = (0..n).filter(|&i| i != to).collect();
        for _ in 0..k {
            let from = sources.swap_remove(rng.random_range(0..sources.len()));
            let sign = if rng.random::<f32>() < 0.7 { 1.0 } else { -1.0 };
            edges.push((from, to, sign * scale * rng.random_range(0.6..1.4)));
        }
    }
    edges.sort_by_key(|&(from, to, _)| (to, from));
    TrueGraph { names: (0..n).map(neuron_name).collect(), edges }
}

/// The strongest `k` connectome inputs of each neuron among the first `n` names (Cook 2019,
/// chemical + gap junction weights), signed at random and scaled like [`random_graph`]; a neuron
/// with no partner among them gets one random input so every neuron is driven by the network.
#[allow(clippy::needless_range_loop)] // `to` is a neuron index, not only a position in `weights`
fn connectome_graph(n: usize, k: usize, rng: &mut StdRng) -> TrueGraph {
    let names: Vec<String> = (0..n).map(neuron_name).collect();
    let weights = Connectome::builtin().adjacency(&names, Reconstruction::Cook2019, Synapse::Both);
    let scale = 1.8 / (k as f32).sqrt();
    let mut edges = Vec::new();
    for to in 0..n {
        let mut sources: Vec<(usize, f32)> = (0..n).filter(|&from| weights[from][to] > 0.0).map(|from| (from, weights[from][to])).collect();
        sources.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        sources.truncate(k);
        if sources.is_empty() {
            let from = (to + 1 + rng.random_range(0..n - 1)) % n;
            sources.push((from, 1.0));
        }
        for (from, _) in sources {
            let sign = if rng.random::<f32>() < 0.7 { 1.0 } else { -1.0 };
            edges.push((from, to, sign * scale * rng.random_range(0.6..1.4)));
        }
    }
    edges.sort_by_key(|&(from, to, _)| (to, from));
    TrueGraph { names, edges }
}

/// Each state drives about a quarter of the neurons up or down.
fn state_drives(n: usize, rng: &mut StdRng) -> Vec<Vec<f32>> {
    STATES
        .iter()
        .map(|_| {
            (0..n)
                .map(|_| if rng.random::<f32>() < 0.25 { rng.random_range(-1.5..1.5) } else { 0.0 })
                .collect()
        })
        .collect()
}

/// Forward runs are interrupted by reversals; reversals end in a turn or resume forward.
fn next_state(state: usize, rng: &mut StdRng) -> usize {
    match state {
        0 => 1,
        1 if rng.random::<f32>() < 0.6 => 2,
        _ => 0,
    }
}

/// Which neurons animal `animal` shows: all of them for the first animal, a random subset
/// (keeping network order) for the others when `fraction < 1`.
fn observed_neurons(n: usize, fraction: f32, animal: usize, rng: &mut StdRng) -> Vec<usize> {
    let keep = ((n as f32 * fraction.clamp(0.0, 1.0)).round() as usize).clamp(1, n);
    if keep == n || animal == 0 {
        return (0..n).collect();
    }
    let mut all: Vec<usize> = (0..n).collect();
    let mut chosen: Vec<usize> = (0..keep).map(|_| all.swap_remove(rng.random_range(0..all.len()))).collect();
    chosen.sort_unstable();
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_and_valid() {
        let cfg = SyntheticConfig { frames: 300, ..Default::default() };
        let a = cfg.generate();
        let b = cfg.generate();
        assert_eq!(a, b);
        let rec = &a.recordings[0];
        rec.validate().expect("synthetic recording should be valid");
        assert_eq!((rec.frames, rec.neurons), (300, 32));
        assert_eq!(rec.neuron_names[4].as_deref(), Some("AVAL"));
        assert!(a.graph.edges.len() >= 32 && a.graph.edges.len() <= 32 * 3);
        let random = SyntheticConfig { graph: GraphSource::Random, ..cfg.clone() }.generate();
        assert_eq!(random.graph.edges.len(), 32 * 3);
        let other = SyntheticConfig { seed: 8, ..cfg }.generate();
        assert_ne!(other.recordings[0].traces, rec.traces);
    }

    #[test]
    fn activity_is_rich_and_behaviour_switches() {
        let worm = SyntheticConfig::default().generate();
        let rec = &worm.recordings[0];
        // every neuron moves: its standard deviation is well above the measurement noise
        for i in 0..rec.neurons {
            let v: Vec<f32> = rec.trace(i).collect();
            let mean = v.iter().sum::<f32>() / v.len() as f32;
            let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / v.len() as f32).sqrt();
            assert!(sd > 0.06, "neuron {} barely moves (sd {sd})", rec.neuron_label(i));
        }
        let labels = &rec.labels.as_ref().unwrap().per_frame;
        for s in 0..STATES.len() as u16 {
            let count = labels.iter().filter(|&&l| l == Some(s)).count();
            assert!(count > 100, "state {} occurs in only {count} frames", STATES[s as usize]);
        }
    }

    #[test]
    fn the_default_graph_is_real_wiring() {
        let worm = SyntheticConfig { frames: 10, ..Default::default() }.generate();
        let c = Connectome::builtin();
        let real = worm
            .graph
            .edges
            .iter()
            .filter(|&&(f, t, _)| c.weight(&worm.graph.names[f], &worm.graph.names[t], Reconstruction::Cook2019, Synapse::Both) > 0.0)
            .count();
        // all but the few fallback edges of neurons without partners in the set are real synapses
        assert!(real * 10 >= worm.graph.edges.len() * 9, "{real} of {} edges are in the connectome", worm.graph.edges.len());
        let ava = worm.graph.names.iter().position(|n| n == "AVAL").unwrap();
        assert!(worm.graph.edges.iter().any(|&(_, t, _)| t == ava), "AVAL should receive real inputs");
    }

    #[test]
    fn animals_differ_in_observed_neurons() {
        let worm = SyntheticConfig { animals: 3, observed_fraction: 0.75, frames: 50, ..Default::default() }.generate();
        assert_eq!(worm.recordings[0].neurons, 32);
        assert_eq!(worm.recordings[1].neurons, 24);
        assert_ne!(worm.recordings[1].neuron_names, worm.recordings[2].neuron_names);
    }
}
