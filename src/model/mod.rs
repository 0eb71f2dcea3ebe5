//! Layers and models. Each is a `Config` + `Module` pair whose `forward` documents tensor shapes.
//! No optimiser, no I/O, no UI.

pub mod mlp;

pub use mlp::{Mlp, MlpConfig};
