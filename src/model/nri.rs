//! Relational inference in the spirit of NRI (Kipf et al. 2018): an encoder infers, from the
//! window, a distribution over `K` edge types for every ordered pair of neurons (type 0 = no
//! edge), by node → edge → node → edge message passing; edges are sampled with the
//! Gumbel-softmax while training; a decoder passes messages along the sampled edges (one small
//! network per edge type) and predicts each neuron's change, or pools node states into class
//! logits. A KL term pulls the edge distribution toward a sparse prior. The edge probabilities,
//! averaged over windows, are the inferred graph.

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
            decoder_in: Encoder::new(shape, d, false, device),
            identity: Identity::new(shape.nodes, d, device),
            messages: (1..k).map(|_| PairLinear::new(d, d, device)).collect(),
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
    /// The decoder's node states: from activity only, so that messages carry activity, not
    /// which neuron sent them (otherwise edges could act as per-neuron biases).
    decoder_in: Encoder,
    /// Added when a node is updated (node-specific dynamics and readout).
    identity: Identity,
    /// One message network per edge type except "no edge".
    messages: Vec<PairLinear>,
    update: Linear,
    readout: Readout,
    log_prior: Vec<f32>,
    tau: f64,
}

impl Nri {
    pub fn forward(&self, input: Input) -> Output {
        let Input { x, mask, sample, .. } = input;
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
        let logits = self.edge_logits.forward(e2); // [b, n, n, k]
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

        // Decoder: typed messages along the sampled edges.
        let u = self.decoder_in.forward(x);
        let mut message = Tensor::<4>::zeros([b, n, n, d], &device);
        for (t, net) in self.messages.iter().enumerate() {
            let weight = z.clone().slice([0..b, 0..n, 0..n, t + 1..t + 2]);
            message = message + relu(net.forward(u.clone())) * weight;
        }
        let incoming = (message * valid4).sum_dim(2).reshape([b, n, d]) / senders;
        let node = relu(self.update.forward(Tensor::cat(vec![u, incoming], 2)) + self.identity.forward(b, n, &device)) * mask.clone().unsqueeze_dim::<3>(2);
        let y = self.readout.forward(node, mask);
        let edges = (Tensor::<3>::ones([b, n, n], &device) - q.slice([0..b, 0..n, 0..n, 0..1]).reshape([b, n, n])) * valid;
        Output { y, kl: Some(kl), edges: Some(edges) }
    }
}
