//! The networks compared: structure-agnostic (linear, MLP, GRU) and graph networks over a fixed
//! graph (GCN, GAT) or over a graph they infer from activity (NRI-style relational inference).
//!
//! Every network reads the same input, a window of activity `x [batch, history, nodes,
//! features]` with `mask [batch, nodes]` (1 where the animal has the neuron), and has one of two
//! heads: a value per node (next-step prediction: the change of each neuron) or class logits per
//! window (behaviour). Graph networks share their weights across nodes and also learn an
//! embedding per node position (neurons are aligned by name, so position k is the same neuron
//! in every animal). No optimiser, no data loading, no UI here.

pub mod flat;
pub mod gat;
pub mod gcn;
pub mod gru;
pub mod mlp;
pub mod nri;

use burn::prelude::*;
use serde::{Deserialize, Serialize};

pub use flat::Flat;
pub use gat::Gat;
pub use gcn::Gcn;
pub use gru::GruNet;
pub use mlp::{Mlp, MlpConfig};
pub use nri::{Nri, NriConfig};

/// Which network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// One linear map of the whole window (ridge / logistic regression equivalent).
    Linear,
    Mlp,
    Gru,
    Gcn,
    Gat,
    /// Relational inference: infers a graph per window and predicts over it.
    Nri,
}

impl ModelKind {
    pub const ALL: [ModelKind; 6] = [ModelKind::Linear, ModelKind::Mlp, ModelKind::Gru, ModelKind::Gcn, ModelKind::Gat, ModelKind::Nri];

    pub fn label(self) -> &'static str {
        match self {
            ModelKind::Linear => "linear",
            ModelKind::Mlp => "MLP",
            ModelKind::Gru => "GRU",
            ModelKind::Gcn => "GCN",
            ModelKind::Gat => "GAT",
            ModelKind::Nri => "NRI",
        }
    }

    /// Graph networks (over a given or an inferred graph).
    pub fn is_graph(self) -> bool {
        matches!(self, ModelKind::Gcn | ModelKind::Gat | ModelKind::Nri)
    }

    /// Networks that need a fixed graph as input.
    pub fn needs_graph(self) -> bool {
        matches!(self, ModelKind::Gcn | ModelKind::Gat)
    }
}

/// Hyperparameters of one network (unused ones are ignored by the others).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelSpec {
    pub kind: ModelKind,
    /// Width of hidden layers and node states.
    pub hidden: usize,
    /// Hidden layers (MLP), message-passing rounds (GCN, GAT).
    pub layers: usize,
    pub dropout: f64,
    /// NRI: edge types, the first meaning "no edge".
    pub edge_types: usize,
    /// NRI: prior probability of "no edge" (sparsity).
    pub prior_no_edge: f64,
    /// NRI: Gumbel-softmax temperature.
    pub tau: f64,
    /// NRI: weight of the KL term.
    pub kl_weight: f64,
    /// NRI: the fraction of training after which edges are Gumbel-softmax samples; before it
    /// the decoder weights its messages by the edge probabilities themselves (a continuous
    /// relaxation). 0 samples throughout (Kipf et al.), 1 (the default) never: measured on the
    /// synthetic worm, whose neurons' inputs cancel one another (three inputs that explain
    /// almost half of a neuron's change explain 3–5 % each), sampling keeps only the edges
    /// that help alone — AUROC vs the true wiring 0.93 relaxed, 0.78 after sampling took over
    /// at half of training, 0.50 sampling throughout. (For behaviour the paper preset with
    /// relaxed edges scored within the sd of its sampled-edge table.)
    pub sampling_from: f64,
    /// Optimiser steps for this model instead of the experiment's (the costly NRI gets fewer).
    pub steps: Option<usize>,
    /// Minibatch size for this model instead of the experiment's.
    pub batch_size: Option<usize>,
    /// AdamW weight decay for this model instead of the experiment's.
    pub weight_decay: Option<f64>,
    /// Learning rate for this model instead of the experiment's.
    pub learning_rate: Option<f64>,
}

impl Default for ModelSpec {
    fn default() -> Self {
        Self {
            kind: ModelKind::Mlp,
            hidden: 64,
            layers: 1,
            dropout: 0.1,
            edge_types: 2,
            prior_no_edge: 0.9,
            tau: 0.5,
            kl_weight: 0.01,
            sampling_from: 1.0,
            steps: None,
            batch_size: None,
            weight_decay: None,
            learning_rate: None,
        }
    }
}

impl ModelSpec {
    /// Defaults per kind. Graph networks compute a state per neuron (and NRI one per pair), so
    /// they get narrower states than the flat models, which see all neurons at once.
    pub fn new(kind: ModelKind) -> Self {
        let (layers, hidden) = match kind {
            ModelKind::Linear => (0, 64),
            ModelKind::Mlp | ModelKind::Gru => (1, 64),
            ModelKind::Gcn | ModelKind::Gat => (2, 32),
            ModelKind::Nri => (1, 32),
        };
        // NRI's pair states cost n² per window: half the steps, half the batch (measured:
        // ~75 ms per step of 64 Kato windows on 2 CPU cores, 15× a GCN step).
        let (steps, batch_size) = if kind == ModelKind::Nri { (Some(400), Some(32)) } else { (None, None) };
        let spec = Self { kind, layers, hidden, steps, batch_size, ..Self::default() };
        // NRI: an excitatory and an inhibitory type besides "no edge", softer samples (measured
        // on the synthetic worm: AUROC vs the true wiring 0.70 with 2 types at τ 0.5, 0.75–0.77
        // with 3 types at τ 1)
        if kind == ModelKind::Nri { Self { edge_types: 3, tau: 1.0, ..spec } } else { spec }
    }

    /// The Gumbel noise scale at `step` of `steps` ([`ModelSpec::sampling_from`]).
    pub fn noise(&self, step: usize, steps: usize) -> f32 {
        if step as f64 >= self.sampling_from * steps as f64 { 1.0 } else { 0.0 }
    }
}

/// The shape of one input window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputShape {
    pub history: usize,
    pub nodes: usize,
    pub features: usize,
}

impl ModelSpec {
    /// Values in the largest tensor one training batch of `batch` windows makes: NRI's edge
    /// states `[batch, n, n, max(hidden, edge types)]`, GAT's attention `[batch, n, n]` (beside
    /// its node states), otherwise the node states `[batch, history, n, max(hidden, features)]`.
    /// What is quadratic in neurons is what outgrows a backend first; this is checked before
    /// anything is built.
    pub fn largest_tensor(&self, shape: InputShape, batch: usize) -> u64 {
        let (b, n) = (batch as u64, shape.nodes as u64);
        let width = self.hidden.max(shape.features) as u64;
        let nodes = b.saturating_mul(shape.history as u64).saturating_mul(n).saturating_mul(width);
        match self.kind {
            ModelKind::Nri => b.saturating_mul(n).saturating_mul(n).saturating_mul(self.hidden.max(self.edge_types) as u64).max(nodes),
            ModelKind::Gat => b.saturating_mul(n).saturating_mul(n).max(nodes),
            _ => nodes,
        }
    }

    /// What [`ModelSpec::largest_tensor`] holds, in words.
    pub fn largest_tensor_name(&self) -> &'static str {
        match self.kind {
            ModelKind::Nri => "edge states: batch × neurons × neurons × hidden",
            ModelKind::Gat => "attention: batch × neurons × neurons",
            _ => "node states: batch × history × neurons × hidden",
        }
    }
}

/// What the network outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Head {
    /// One value per node: `[batch, nodes]`.
    Nodes,
    /// Class logits per window: `[batch, classes]`.
    Classes(usize),
}

impl Head {
    fn width(self, nodes: usize) -> usize {
        match self {
            Head::Nodes => nodes,
            Head::Classes(c) => c,
        }
    }
}

/// One batch of windows.
#[derive(Debug, Clone)]
pub struct Input {
    /// `[batch, history, nodes, features]`.
    pub x: Tensor<4>,
    /// `[batch, nodes]`, 1 where the neuron was recorded.
    pub mask: Tensor<2>,
    /// `[nodes, nodes]`: `incoming[i][j]` weights the message from `j` to `i` (GCN, GAT).
    pub incoming: Option<Tensor<2>>,
    /// `[batch, animals]`, one-hot: which animal each window comes from (NRI pools the
    /// graphs it infers from the windows of one animal into that animal's graph).
    pub animal: Tensor<2>,
    /// NRI: scale of the Gumbel noise on the edge logits. 1 samples edges with the
    /// Gumbel-softmax (training); 0 takes their probabilities (evaluation, and the continuous
    /// relaxation, see [`ModelSpec::sampling_from`]).
    pub noise: f32,
}

/// The one-hot `[windows, animals]` matrix of [`Input::animal`] from each window's animal index.
pub fn animal_one_hot(sources: &[u16], device: &Device) -> Tensor<2> {
    let animals = sources.iter().map(|&s| usize::from(s) + 1).max().unwrap_or(1);
    let mut data = vec![0f32; sources.len() * animals];
    for (row, &s) in sources.iter().enumerate() {
        data[row * animals + usize::from(s)] = 1.0;
    }
    Tensor::from_data(TensorData::new(data, [sources.len(), animals]), device)
}

/// What a forward pass gives.
#[derive(Debug, Clone)]
pub struct Output {
    /// `[batch, nodes]` or `[batch, classes]`.
    pub y: Tensor<2>,
    /// NRI: KL divergence of the edge posterior from the prior (a scalar).
    pub kl: Option<Tensor<1>>,
    /// NRI: `[batch, nodes, nodes]`, probability that `j → i` is an edge (receiver first).
    pub edges: Option<Tensor<3>>,
}

impl Output {
    fn plain(y: Tensor<2>) -> Self {
        Self { y, kl: None, edges: None }
    }
}

/// Any of the networks, built from a [`ModelSpec`]. (Variants differ in size; there is one
/// network per run, so boxing would buy nothing.)
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Network {
    Flat(Flat),
    Gru(GruNet),
    Gcn(Gcn),
    Gat(Gat),
    Nri(Nri),
}

impl Network {
    /// Builds the network on `device` (seed the device first for reproducible weights).
    /// A lower bound on the weights `init` would make, computed without making them: the
    /// largest layers of each kind. A model file must hold at least this many values, so a
    /// small file cannot ask for a huge network.
    pub fn minimum_parameters(spec: &ModelSpec, shape: InputShape, head: Head) -> u64 {
        let [h, n, f, d] = [shape.history, shape.nodes, shape.features, spec.hidden].map(|x| x as u64);
        let out = head.width(shape.nodes) as u64;
        let layers = spec.layers as u64;
        let m = |a: u64, b: u64| a.saturating_mul(b);
        match spec.kind {
            ModelKind::Linear => m(m(h, m(n, f)), out),
            ModelKind::Mlp if layers == 0 => m(m(h, m(n, f)), out),
            ModelKind::Mlp => m(m(h, m(n, f)), d).saturating_add(m(layers - 1, m(d, d))).saturating_add(m(d, out)),
            ModelKind::Gru => m(3, m(n, f).saturating_mul(d).saturating_add(m(d, d))).saturating_add(m(d, out)),
            ModelKind::Gcn => m(m(2, layers), m(d, d)).saturating_add(m(m(h, f), d)),
            ModelKind::Gat => m(layers, m(d, d)).saturating_add(m(m(h, f), d)),
            // the edge encoder's pair layers, and a learnt logit per pair of nodes and edge type
            ModelKind::Nri => m(3, m(d, d)).saturating_add(m(m(n, n), spec.edge_types as u64)),
        }
    }

    pub fn init(spec: &ModelSpec, shape: InputShape, head: Head, device: &Device) -> Self {
        match spec.kind {
            ModelKind::Linear | ModelKind::Mlp => Network::Flat(Flat::new(spec, shape, head, device)),
            ModelKind::Gru => Network::Gru(GruNet::new(spec, shape, head, device)),
            ModelKind::Gcn => Network::Gcn(Gcn::new(spec, shape, head, device)),
            ModelKind::Gat => Network::Gat(Gat::new(spec, shape, head, device)),
            ModelKind::Nri => Network::Nri(NriConfig::from_spec(spec).init(shape, head, device)),
        }
    }

    pub fn forward(&self, input: Input) -> Output {
        match self {
            Network::Flat(m) => Output::plain(m.forward(input.x)),
            Network::Gru(m) => Output::plain(m.forward(input.x)),
            Network::Gcn(m) => Output::plain(m.forward(input)),
            Network::Gat(m) => Output::plain(m.forward(input)),
            Network::Nri(m) => m.forward(input),
        }
    }
}

/// Shared pieces of the graph networks.
pub(crate) mod nodes {
    use burn::nn::{Embedding, EmbeddingConfig, Linear, LinearConfig};
    use burn::prelude::*;
    use burn::tensor::activation::relu;

    use super::{Head, InputShape};

    /// `layer` on the last dim of `x`, as one matrix product over every row of the leading
    /// dims. burn keeps `[b, n, d] @ [d, d']` batched (b products of n rows each) when n and d
    /// are alike, b tiny products per layer. Natively the one product was not faster by more
    /// than this machine's noise (GCN, GAT, NRI steps, 2026-11-30); in the page it was measured
    /// only together with the other changes of that day (README, Speed).
    pub fn dense<const D: usize>(layer: &Linear, x: Tensor<D>) -> Tensor<D> {
        let mut dims = x.dims();
        let rows = dims[..D - 1].iter().product::<usize>();
        let y = layer.forward(x.reshape([rows, dims[D - 1]]));
        dims[D - 1] = y.dims()[1];
        y.reshape(dims)
    }

    /// Each node's own window, `[batch, nodes, history * features]`.
    pub fn windows(x: Tensor<4>) -> Tensor<3> {
        let [b, h, n, f] = x.dims();
        x.swap_dims(1, 2).reshape([b, n, h * f])
    }

    /// Node states from their windows plus a learnt embedding of each node position.
    #[derive(Module, Debug)]
    pub struct Encoder {
        input: Linear,
        identity: Option<Identity>,
    }

    /// A learnt vector per node position.
    #[derive(Module, Debug)]
    pub struct Identity {
        embedding: Embedding,
    }

    impl Identity {
        pub fn new(nodes: usize, hidden: usize, device: &Device) -> Self {
            Self { embedding: EmbeddingConfig::new(nodes, hidden).init(device) }
        }

        /// `[1, n, hidden]`: each node position's vector (broadcast over the batch when added).
        pub fn forward(&self, nodes: usize) -> Tensor<3> {
            let weight = self.embedding.weight.val();
            let [_, d] = weight.dims();
            weight.slice([0..nodes, 0..d]).unsqueeze_dim::<3>(0)
        }
    }

    impl Encoder {
        /// With `identity`, node states also carry a learnt vector per node position.
        pub fn new(shape: InputShape, hidden: usize, identity: bool, device: &Device) -> Self {
            Self {
                input: LinearConfig::new(shape.history * shape.features, hidden).init(device),
                identity: identity.then(|| Identity::new(shape.nodes, hidden, device)),
            }
        }

        /// `x [b, h, n, f] -> [b, n, hidden]`.
        pub fn forward(&self, x: Tensor<4>) -> Tensor<3> {
            let [_, _, n, _] = x.dims();
            let h = dense(&self.input, windows(x));
            match &self.identity {
                Some(id) => relu(h + id.forward(n)),
                None => relu(h),
            }
        }
    }

    /// Node states to a value per node.
    #[derive(Module, Debug)]
    pub struct NodeReadout {
        hidden: Linear,
        out: Linear,
    }

    /// Node states to class logits, from mean- and max-pooled states of the recorded nodes.
    #[derive(Module, Debug)]
    pub struct GraphReadout {
        hidden: Linear,
        out: Linear,
    }

    /// Either readout, by head.
    #[derive(Module, Debug)]
    pub enum Readout {
        Nodes(NodeReadout),
        Graph(GraphReadout),
    }

    impl Readout {
        pub fn new(hidden: usize, head: Head, device: &Device) -> Self {
            match head {
                Head::Nodes => Readout::Nodes(NodeReadout {
                    hidden: LinearConfig::new(hidden, hidden).init(device),
                    out: LinearConfig::new(hidden, 1).init(device),
                }),
                Head::Classes(c) => Readout::Graph(GraphReadout {
                    hidden: LinearConfig::new(2 * hidden, hidden).init(device),
                    out: LinearConfig::new(hidden, c).init(device),
                }),
            }
        }

        /// `h [b, n, hidden]`, `mask [b, n]` -> `[b, n]` or `[b, classes]`.
        pub fn forward(&self, h: Tensor<3>, mask: Tensor<2>) -> Tensor<2> {
            let [b, n, d] = h.dims();
            match self {
                Readout::Nodes(r) => dense(&r.out, relu(dense(&r.hidden, h))).reshape([b, n]),
                Readout::Graph(r) => {
                    let m = mask.unsqueeze_dim::<3>(2); // [b, n, 1]
                    let count = m.clone().sum_dim(1).clamp_min(1.0); // [b, 1, 1]
                    let mean = (h.clone() * m.clone()).sum_dim(1) / count; // [b, 1, d]
                    let max = (h + (m - 1.0) * 1e4).max_dim(1); // missing nodes never win
                    let pooled = Tensor::cat(vec![mean, max], 2).reshape([b, 2 * d]);
                    r.out.forward(relu(r.hidden.forward(pooled)))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_network_maps_a_window_to_its_head() {
        let device = Device::flex();
        let shape = InputShape { history: 4, nodes: 5, features: 2 };
        let x = Tensor::<4>::random([3, 4, 5, 2], burn::tensor::Distribution::Default, &device);
        let mask = Tensor::<2>::ones([3, 5], &device);
        let incoming = Some(Tensor::<2>::ones([5, 5], &device).div_scalar(5.0));
        for kind in ModelKind::ALL {
            for head in [Head::Nodes, Head::Classes(4)] {
                let net = Network::init(&ModelSpec { hidden: 8, ..ModelSpec::new(kind) }, shape, head, &device);
                let animal = animal_one_hot(&[0, 1, 0], &device);
                let out = net.forward(Input { x: x.clone(), mask: mask.clone(), incoming: incoming.clone(), animal, noise: 1.0 });
                let want = if head == Head::Nodes { [3, 5] } else { [3, 4] };
                assert_eq!(out.y.dims(), want, "{kind:?} {head:?}");
                assert_eq!(out.kl.is_some(), kind == ModelKind::Nri);
                if let Some(e) = out.edges {
                    assert_eq!(e.dims(), [3, 5, 5]);
                }
            }
        }
    }
}
