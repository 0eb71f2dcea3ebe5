//! A recurrent baseline: a GRU reads the window frame by frame (all neurons' features as one
//! vector per frame); its last state feeds a linear output.
//!
//! The parameters are burn's `Gru` (so saved models keep their layout), but the forward pass is
//! written here, closer to how PyTorch runs a GRU: each frame takes one product of its input and
//! one of the state with the three gates' weights side by side, and the update and reset gates
//! go through one sigmoid. burn's own forward takes six products per frame and writes every
//! frame's state into a sequence tensor, of which only the last frame is used here.

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

/// The weights of the three gates (update, reset, new) side by side, `[from, 3 · hidden]`, and
/// their biases `[1, 3 · hidden]`.
fn gates(transforms: [&Linear; 3]) -> (Tensor<2>, Option<Tensor<2>>) {
    let weight = Tensor::cat(transforms.iter().map(|l| l.weight.val()).collect(), 1);
    let bias = transforms.iter().map(|l| l.bias.as_ref().map(|b| b.val())).collect::<Option<Vec<_>>>().map(|b| Tensor::cat(b, 0).unsqueeze());
    (weight, bias)
}

impl GruNet {
    pub fn new(spec: &ModelSpec, shape: InputShape, head: Head, device: &Device) -> Self {
        Self {
            gru: GruConfig::new(shape.nodes * shape.features, spec.hidden, true).init(device),
            dropout: DropoutConfig::new(spec.dropout).init(),
            out: LinearConfig::new(spec.hidden, head.width(shape.nodes)).init(device),
        }
    }

    /// The GRU's state after the last frame of `x [b, h, d_in]`: burn's `Gru::forward` (reset
    /// after the hidden product, sigmoid gates, tanh candidate, no clipping) with the products
    /// fused. `[b, hidden]`.
    fn last_state(&self, x: Tensor<3>) -> Tensor<2> {
        let g = &self.gru;
        let [b, h, d_in] = x.dims();
        let d = g.d_hidden;
        let (w_in, b_in) = gates([&g.update_gate.input_transform, &g.reset_gate.input_transform, &g.new_gate.input_transform]);
        let (w_hid, b_hid) = gates([&g.update_gate.hidden_transform, &g.reset_gate.hidden_transform, &g.new_gate.hidden_transform]);
        // the update and reset gates add their two biases; the new gate's hidden bias stays
        // inside the reset gate's product
        let (bias_zr, bias_n_hidden, bias_n_input) = match (b_in, b_hid) {
            (Some(i), Some(hb)) => (
                Some(i.clone().slice([0..1, 0..2 * d]) + hb.clone().slice([0..1, 0..2 * d])),
                Some(hb.slice([0..1, 2 * d..3 * d])),
                Some(i.slice([0..1, 2 * d..3 * d])),
            ),
            _ => (None, None, None),
        };
        let mut state = Tensor::zeros([b, d], &x.device());
        for t in 0..h {
            // the window is data, not a parameter: slicing it costs nothing in the backward pass
            let xi = x.clone().slice([0..b, t..t + 1, 0..d_in]).reshape([b, d_in]).matmul(w_in.clone());
            let hh = state.clone().matmul(w_hid.clone());
            let mut zr = xi.clone().slice([0..b, 0..2 * d]) + hh.clone().slice([0..b, 0..2 * d]);
            if let Some(bias) = &bias_zr {
                zr = zr + bias.clone();
            }
            let zr = burn::tensor::activation::sigmoid(zr);
            let (update, reset) = (zr.clone().slice([0..b, 0..d]), zr.slice([0..b, d..2 * d]));
            let mut from_state = hh.slice([0..b, 2 * d..3 * d]);
            if let Some(bias) = &bias_n_hidden {
                from_state = from_state + bias.clone();
            }
            let mut candidate = xi.slice([0..b, 2 * d..3 * d]) + reset * from_state;
            if let Some(bias) = &bias_n_input {
                candidate = candidate + bias.clone();
            }
            let candidate = candidate.tanh();
            // (1 − z)·n + z·h = n + z·(h − n)
            state = candidate.clone() + update * (state - candidate);
        }
        state
    }

    /// `x [b, h, n, f] -> [b, out]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let [b, h, n, f] = x.dims();
        let last = self.last_state(x.reshape([b, h, n * f]));
        self.out.forward(self.dropout.forward(last))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fused pass gives the last state of burn's `Gru::forward`.
    #[test]
    fn fused_pass_equals_burns_gru() {
        let device = Device::flex();
        device.seed(3);
        let spec = ModelSpec { hidden: 16, ..ModelSpec::new(super::super::ModelKind::Gru) };
        let shape = InputShape { history: 5, nodes: 6, features: 2 };
        let net = GruNet::new(&spec, shape, Head::Nodes, &device);
        let x = Tensor::<3>::random([7, 5, 12], burn::tensor::Distribution::Normal(0.0, 1.0), &device);
        let ours = net.last_state(x.clone());
        let theirs = net.gru.forward(x, None).slice([0..7, 4..5, 0..16]).reshape([7, 16]);
        let (a, b) = (ours.into_data().try_to_vec::<f32>().unwrap(), theirs.into_data().try_to_vec::<f32>().unwrap());
        let worst = a.iter().zip(&b).map(|(p, q)| (p - q).abs()).fold(0f32, f32::max);
        assert!(worst < 1e-5, "fused GRU differs from burn's by {worst}");
        assert!(a.iter().any(|v| v.abs() > 0.05), "the state should not be all zeros");
    }
}
