//! A multilayer perceptron: the structure-agnostic baseline (and the demo's model).

use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig, Relu};
use burn::prelude::*;

/// A fully connected network with ReLU hidden layers.
#[derive(Config, Debug)]
pub struct MlpConfig {
    /// Input features.
    pub inputs: usize,
    /// Output features.
    pub outputs: usize,
    /// Width of each hidden layer.
    #[config(default = 64)]
    pub hidden: usize,
    /// Number of hidden layers (0 gives a linear model).
    #[config(default = 1)]
    pub layers: usize,
    /// Dropout probability after each hidden layer.
    #[config(default = 0.0)]
    pub dropout: f64,
}

/// See [`MlpConfig`].
#[derive(Module, Debug)]
pub struct Mlp {
    hidden: Vec<Linear>,
    output: Linear,
    dropout: Dropout,
    activation: Relu,
}

impl MlpConfig {
    /// Builds the network on `device` (seed the device first for reproducible weights).
    pub fn init(&self, device: &Device) -> Mlp {
        let mut width = self.inputs;
        let hidden = (0..self.layers)
            .map(|_| {
                let layer = LinearConfig::new(width, self.hidden).init(device);
                width = self.hidden;
                layer
            })
            .collect();
        Mlp {
            hidden,
            output: LinearConfig::new(width, self.outputs).init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
            activation: Relu::new(),
        }
    }
}

impl Mlp {
    /// `x [batch, inputs] -> [batch, outputs]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let h = self
            .hidden
            .iter()
            .fold(x, |h, layer| self.dropout.forward(self.activation.forward(layer.forward(h))));
        self.output.forward(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_follow_the_config() {
        let device = Device::flex();
        let model = MlpConfig::new(12, 5).with_hidden(8).with_layers(2).init(&device);
        let y = model.forward(Tensor::<2>::zeros([3, 12], &device));
        assert_eq!(y.dims(), [3, 5]);
        let linear = MlpConfig::new(12, 5).with_layers(0).init(&device);
        assert_eq!(linear.num_params(), 12 * 5 + 5);
    }
}
