//! Graph attention over a fixed graph (Veličković et al. 2018): each node attends to itself and
//! its recorded in-neighbours, with attention weights computed from both nodes' states.

use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::{leaky_relu, relu, softmax};

use super::nodes::{Encoder, Readout, dense};
use super::{Head, Input, InputShape, ModelSpec};

/// One attention round (single head).
#[derive(Module, Debug)]
pub struct GatLayer {
    value: Linear,
    score_receiver: Linear,
    score_sender: Linear,
}

/// See the module docs.
#[derive(Module, Debug)]
pub struct Gat {
    encoder: Encoder,
    layers: Vec<GatLayer>,
    dropout: Dropout,
    readout: Readout,
}

impl Gat {
    pub fn new(spec: &ModelSpec, shape: InputShape, head: Head, device: &Device) -> Self {
        let d = spec.hidden;
        Self {
            encoder: Encoder::new(shape, d, true, device),
            layers: (0..spec.layers.max(1))
                .map(|_| GatLayer {
                    value: LinearConfig::new(d, d).init(device),
                    score_receiver: LinearConfig::new(d, 1).init(device),
                    score_sender: LinearConfig::new(d, 1).with_bias(false).init(device),
                })
                .collect(),
            dropout: DropoutConfig::new(spec.dropout).init(),
            readout: Readout::new(d, head, device),
        }
    }

    /// Needs `input.incoming`: node `i` attends to `j` where `incoming[i][j] > 0`, and to itself.
    pub fn forward(&self, input: Input) -> Tensor<2> {
        let Input { x, mask, incoming, .. } = input;
        let [_, _, n, _] = x.dims();
        let device = x.device();
        let graph = incoming.expect("a GAT is given its graph").greater_elem(0.0).float() + Tensor::<2>::eye(n, &device);
        let allowed = graph.clamp_max(1.0).unsqueeze_dim::<3>(0) * mask.clone().unsqueeze_dim::<3>(1); // [b, i, j]
        let m = mask.clone().unsqueeze_dim::<3>(2);
        let mut h = self.encoder.forward(x) * m.clone();
        for layer in &self.layers {
            let v = dense(&layer.value, h.clone()); // [b, n, d]
            let scores = dense(&layer.score_receiver, v.clone()) + dense(&layer.score_sender, v.clone()).swap_dims(1, 2); // [b, n, n]
            let scores = leaky_relu(scores, 0.2) + (allowed.clone() - 1.0) * 1e4;
            let attention = softmax(scores, 2);
            let update = relu(attention.matmul(v));
            h = (h + self.dropout.forward(update)) * m.clone();
        }
        self.readout.forward(h, mask)
    }
}
