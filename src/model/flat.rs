//! Structure-agnostic baselines: the whole window flattened into one vector, then a linear map
//! (`layers = 0`: ridge / logistic regression trained by gradient descent) or an MLP.

use burn::prelude::*;

use super::{Head, InputShape, ModelSpec, mlp::{Mlp, MlpConfig}};

/// See the module docs.
#[derive(Module, Debug)]
pub struct Flat {
    mlp: Mlp,
}

impl Flat {
    pub fn new(spec: &ModelSpec, shape: InputShape, head: Head, device: &Device) -> Self {
        let inputs = shape.history * shape.nodes * shape.features;
        let layers = if spec.kind == super::ModelKind::Linear { 0 } else { spec.layers };
        Self { mlp: MlpConfig::new(inputs, head.width(shape.nodes)).with_hidden(spec.hidden).with_layers(layers).with_dropout(spec.dropout).init(device) }
    }

    /// `x [b, h, n, f] -> [b, out]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let [b, h, n, f] = x.dims();
        self.mlp.forward(x.reshape([b, h * n * f]))
    }
}
