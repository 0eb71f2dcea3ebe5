//! Relational inference in the spirit of NRI (Kipf et al. 2018): an encoder infers, from each
//! window, a distribution over `K` edge types for every ordered pair of neurons (type 0 = no
//! edge), by node → edge → node → edge message passing, plus a learnt logit per pair of named
//! neurons; for next-step prediction the windows of one animal pool their logits (the mean)
//! into the animal's graph; edges are sampled from it with the Gumbel-softmax while training; a decoder passes messages
//! along the sampled edges (one small network per edge type) and predicts each neuron's
//! change, or pools node states into class logits. A KL term pulls the edge distribution toward
//! a sparse prior. The edge probabilities are the inferred graph.
//!
//! A message depends on its sender's activity only, and a neuron's own activity enters its
//! update directly: an edge is worth switching on only when the sender says something about
//! the receiver that the receiver's own activity does not. Measured on the synthetic worm
//! (`synthetic-graph`, AUROC against the true wiring): with receiver terms in the messages and
//! a graph per window, the inferred graph scored 0.53–0.65, no better than |correlation|
//! (0.665), because extra edges could stand in for a neuron's own dynamics and a per-window
//! graph could gate messages by the activity being predicted; this design scores 0.745 on the
//! preset (0.75–0.77 in the trials that chose it).

use burn::module::Param;
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::Distribution;
use burn::tensor::activation::{log_softmax, relu, softmax};

use super::nodes::{Encoder, Identity, Readout};
use super::{Head, Input, InputShape, ModelSpec, Output};

/// NRI settings (see [`ModelSpec`] for their meaning).
#[derive(Debug, Clone)]
pub struct NriConfig {
    pub hidden: usize,
    pub edge_types: usize,
    pub prior_no_edge: f64,
    pub tau: f64,
}

impl NriConfig {
    pub fn from_spec(spec: &ModelSpec) -> Self {
        Self { hidden: spec.hidden, edge_types: spec.edge_types.max(2), prior_no_edge: spec.prior_no_edge.clamp(0.01, 0.99), tau: spec.tau.max(0.05) }
    }

    pub fn init(&self, shape: InputShape, head: Head, device: &Device) -> Nri {
        let d = self.hidden;
        let k = self.edge_types;
        let lin = |i: usize, o: usize| LinearConfig::new(i, o).init(device);
        Nri {
            node_in: Encoder::new(shape, d, true, device),
            edge1: PairLinear::new(d, d, device),
            node2: lin(d, d),
            edge2_nodes: PairLinear::new(d, d, device),
            edge2_edge: LinearConfig::new(d, d).with_bias(false).init(device),
            edge_logits: lin(d, k),
            pair_logits: Param::from_tensor(Tensor::zeros([shape.nodes, shape.nodes, k], device)),
            decoder_in: Encoder::new(shape, d, false, device),
            identity: Identity::new(shape.nodes, d, device),
            messages: (1..k).map(|_| lin(d, d)).collect(),
            update: lin(2 * d, d),
            readout: Readout::new(d, head, device),
            log_prior: log_prior(k, self.prior_no_edge),
            tau: self.tau,
        }
    }
}

/// `log p(type)`: `prior_no_edge` for type 0, the rest shared equally.
fn log_prior(k: usize, no_edge: f64) -> Vec<f32> {
    (0..k).map(|t| if t == 0 { no_edge.ln() as f32 } else { ((1.0 - no_edge) / (k - 1) as f64).ln() as f32 }).collect()
}

/// A linear layer on `[state_i, state_j]` for every ordered pair, computed as
/// `W_r state_i + W_s state_j + b` so that the pair tensor is only ever added, not multiplied
/// (n² fewer multiplications than concatenating first).
#[derive(Module, Debug)]
pub struct PairLinear {
    receiver: Linear,
    sender: Linear,
}

impl PairLinear {
    fn new(d_in: usize, d_out: usize, device: &Device) -> Self {
        Self { receiver: LinearConfig::new(d_in, d_out).init(device), sender: LinearConfig::new(d_in, d_out).with_bias(false).init(device) }
    }

    /// `h [b, n, d] -> [b, n(receiver), n(sender), d_out]`.
    fn forward(&self, h: Tensor<3>) -> Tensor<4> {
        let [_, n, _] = h.dims();
        let r = self.receiver.forward(h.clone()).unsqueeze_dim::<4>(2).repeat_dim(2, n);
        let s = self.sender.forward(h).unsqueeze_dim::<4>(1).repeat_dim(1, n);
        r + s
    }
}

/// See the module docs.
#[derive(Module, Debug)]
pub struct Nri {
    node_in: Encoder,
    edge1: PairLinear,
    node2: Linear,
    edge2_nodes: PairLinear,
    edge2_edge: Linear,
    edge_logits: Linear,
    /// A learnt logit per ordered pair of node positions and edge type, added to what the
    /// encoder infers (neurons are aligned by name, so this is a graph over named neurons
    /// learnt across the training animals).
    pair_logits: Param<Tensor<3>>,
    /// The decoder's node states: from activity only, so that messages carry activity, not
    /// which neuron sent them (otherwise edges could act as per-neuron biases).
    decoder_in: Encoder,
    /// Added when a node is updated (node-specific dynamics and readout).
    identity: Identity,
    /// One message network per edge type except "no edge", on the sender's state.
    messages: Vec<Linear>,
    update: Linear,
    readout: Readout,
    log_prior: Vec<f32>,
    tau: f64,
}

impl Nri {
    pub fn forward(&self, input: Input) -> Output {
        let Input { x, mask, animal, sample, .. } = input;
        let [b, _, n, _] = x.dims();
        let device = x.device();
        let k = self.log_prior.len();
        // Pairs that can carry a message: both neurons recorded, no self-edges.
        let off_diagonal = Tensor::<2>::ones([n, n], &device) - Tensor::<2>::eye(n, &device);
        let valid = off_diagonal.unsqueeze_dim::<3>(0).repeat_dim(0, b)
            * mask.clone().unsqueeze_dim::<3>(2).repeat_dim(2, n)
            * mask.clone().unsqueeze_dim::<3>(1).repeat_dim(1, n); // [b, n, n]
        let valid4 = valid.clone().unsqueeze_dim::<4>(3);
        let senders = valid.clone().sum_dim(2).clamp_min(1.0); // [b, n, 1]

        // Encoder: node -> edge -> node -> edge.
        let h = self.node_in.forward(x.clone());
        let e = relu(self.edge1.forward(h)) * valid4.clone(); // [b, n, n, d]
        let [_, _, _, d] = e.dims();
        let v = relu(self.node2.forward(e.clone().sum_dim(2).reshape([b, n, d]) / senders.clone()));
        let e2 = relu(self.edge2_nodes.forward(v) + self.edge2_edge.forward(e));
        let per_window = self.edge_logits.forward(e2); // [b, n, n, k]
        // next step: one graph per animal; behaviour keeps a graph per window, whose changes
        // with the animal's state are themselves evidence of the state
        let pooled = if matches!(self.readout, Readout::Nodes(_)) { Self::pool_by_animal(per_window, animal) } else { per_window };
        let logits = pooled + self.pair_logits.val().unsqueeze_dim::<4>(0);
        let q = softmax(logits.clone(), 3);

        // KL(q || prior), averaged over valid pairs.
        let log_prior = Tensor::<1>::from_floats(self.log_prior.as_slice(), &device).reshape([1, 1, 1, k]);
        let kl_pairs = (q.clone() * (log_softmax(logits.clone(), 3) - log_prior)).sum_dim(3) * valid4.clone();
        let kl = kl_pairs.sum() / valid.clone().sum().clamp_min(1.0);

        let z = if sample {
            let u = Tensor::<4>::random([b, n, n, k], Distribution::Uniform(1e-6, 1.0 - 1e-6), &device);
            let gumbel = -((-u.log()).log());
            softmax((logits + gumbel).div_scalar(self.tau), 3)
        } else {
            q.clone()
        };

        // Decoder: typed messages along the sampled edges, summed per receiver as a product of
        // the edge weights `[b, receiver, sender]` with the senders' messages `[b, sender, d]`.
        let u = self.decoder_in.forward(x);
        let mut incoming = Tensor::<3>::zeros([b, n, d], &device);
        for (t, net) in self.messages.iter().enumerate() {
            let weight = z.clone().slice([0..b, 0..n, 0..n, t + 1..t + 2]).reshape([b, n, n]) * valid.clone();
            incoming = incoming + weight.matmul(relu(net.forward(u.clone())));
        }
        // summed, not averaged: a neuron has few inputs, and a mean over every possible sender
        // shrinks each real input by the number of neurons (AUROC 0.75 → 0.77, MSE 0.0327 → 0.0319)
        let node = relu(self.update.forward(Tensor::cat(vec![u, incoming], 2)) + self.identity.forward(b, n, &device)) * mask.clone().unsqueeze_dim::<3>(2);
        let y = self.readout.forward(node, mask);
        let edges = (Tensor::<3>::ones([b, n, n], &device) - q.slice([0..b, 0..n, 0..n, 0..1]).reshape([b, n, n])) * valid;
        Output { y, kl: Some(kl), edges: Some(edges) }
    }

    /// Each window's edge logits `[b, n, n, k]` replaced by the mean over the windows of its
    /// animal (`animal [b, animals]`, one-hot). One graph per animal keeps the graph a property
    /// of the animal: inferred per window, it learnt to gate messages by the activity of the
    /// frame being predicted and scored against the true wiring no better than correlation.
    fn pool_by_animal(logits: Tensor<4>, animal: Tensor<2>) -> Tensor<4> {
        let [b, n, _, k] = logits.dims();
        let count = animal.clone().sum_dim(0).clamp_min(1.0); // [1, animals]
        let mean = animal.clone().transpose().matmul(logits.reshape([b, n * n * k])) / count.transpose();
        animal.matmul(mean).reshape([b, n, n, k])
    }
}
