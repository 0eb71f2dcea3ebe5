//! A recurrent baseline: a GRU reads the window frame by frame (all neurons' features as one
//! vector per frame); its last state feeds a linear output.

use burn::nn::gru::{Gru, GruConfig};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;

use super::{Head, InputShape, ModelSpec};

/// See the module docs.
#[derive(Module, Debug)]
pub struct GruNet {
    gru: Gru,
    dropout: Dropout,
    out: Linear,
}

impl GruNet {
    pub fn new(spec: &ModelSpec, shape: InputShape, head: Head, device: &Device) -> Self {
        Self {
            gru: GruConfig::new(shape.nodes * shape.features, spec.hidden, true).init(device),
            dropout: DropoutConfig::new(spec.dropout).init(),
            out: LinearConfig::new(spec.hidden, head.width(shape.nodes)).init(device),
        }
    }

    /// `x [b, h, n, f] -> [b, out]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let [b, h, n, f] = x.dims();
        let states = self.gru.forward(x.reshape([b, h, n * f]), None); // [b, h, hidden]
        let [_, _, d] = states.dims();
        let last = states.slice([0..b, h - 1..h, 0..d]).reshape([b, d]);
        self.out.forward(self.dropout.forward(last))
    }
}
