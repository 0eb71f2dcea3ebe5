//! Graph convolution over a fixed graph (the connectome or a correlation graph): each round,
//! a node combines its own state with the weighted mean of its recorded neighbours' states
//! (Kipf & Welling 2017, with separate self and neighbour weights and a residual connection).

use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::relu;

use super::nodes::{Encoder, Readout, dense};
use super::{Head, Input, InputShape, ModelSpec};

/// One message-passing round.
#[derive(Module, Debug)]
pub struct GcnLayer {
    own: Linear,
    neighbours: Linear,
}

/// See the module docs.
#[derive(Module, Debug)]
pub struct Gcn {
    encoder: Encoder,
    layers: Vec<GcnLayer>,
    dropout: Dropout,
    readout: Readout,
}

impl Gcn {
    pub fn new(spec: &ModelSpec, shape: InputShape, head: Head, device: &Device) -> Self {
        let d = spec.hidden;
        Self {
            encoder: Encoder::new(shape, d, true, device),
            layers: (0..spec.layers.max(1))
                .map(|_| GcnLayer { own: LinearConfig::new(d, d).init(device), neighbours: LinearConfig::new(d, d).init(device) })
                .collect(),
            dropout: DropoutConfig::new(spec.dropout).init(),
            readout: Readout::new(d, head, device),
        }
    }

    /// Needs `input.incoming` (row-normalised: `incoming[i][j]` weights `j → i`).
    pub fn forward(&self, input: Input) -> Tensor<2> {
        let Input { x, mask, incoming, .. } = input;
        let a = incoming.expect("a GCN is given its graph"); // [n, n]
        let m = mask.clone().unsqueeze_dim::<3>(2); // [b, n, 1]
        let mut h = self.encoder.forward(x) * m.clone();
        for layer in &self.layers {
            let from_neighbours = neighbours(a.clone(), h.clone()); // missing neighbours are zeros
            let update = relu(dense(&layer.own, h.clone()) + dense(&layer.neighbours, from_neighbours));
            h = (h + self.dropout.forward(update)) * m.clone();
        }
        self.readout.forward(h, mask)
    }
}

/// `a [n, n] @ h [b, n, d]` for every window, as one product `[n, n] @ [n, b·d]`.
fn neighbours(a: Tensor<2>, h: Tensor<3>) -> Tensor<3> {
    let [b, n, d] = h.dims();
    a.matmul(h.swap_dims(0, 1).reshape([n, b * d])).reshape([n, b, d]).swap_dims(0, 1)
}
