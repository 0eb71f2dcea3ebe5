//! # NeuroGNN
//!
//! Graph neural networks on whole-brain calcium imaging, trained in the browser on the user's
//! own GPU through WebGPU (burn's wgpu backend), or natively on the CPU from the same code.
//!
//! Data flows one way: [`data`] (recordings → windows) → [`model`] / [`train`] (modules, loops,
//! metrics, reports) → [`plot`] and, in the browser, `ui` (the page) and `worker` (where it trains). The one place that chooses a backend
//! is [`device`]. [`stats`] holds the statistics every layer may use (quantiles, bootstrap
//! intervals, paired permutation tests): plain numbers, no data types.

pub mod data;
pub mod device;
pub mod model;
pub mod plot;
pub mod stats;
pub mod train;
#[cfg(target_arch = "wasm32")]
pub mod ui;
#[cfg(target_arch = "wasm32")]
pub mod worker;
