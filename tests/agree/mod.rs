//! Every network, built once on the CPU, run on the CPU and on a GPU device from one fixed
//! input: tests/web.rs (WebGPU in the browser) and tests/gpu.rs (the native GPU build) both ask
//! for the same outputs.

use burn::prelude::*;
use neurognn::model::{Head, Input, InputShape, ModelKind, ModelSpec, Network, animal_one_hot};
use neurognn::train::read_f32;

/// 16 windows of 4 frames of 12 neurons (the sixth masked out) with 2 features, from 3 animals,
/// over a sparse graph.
fn fixed_input(device: &Device) -> Input {
    let xs: Vec<f32> = (0..16 * 4 * 12 * 2).map(|i| ((i * 29 % 23) as f32 - 11.0) / 9.0).collect();
    let mask: Vec<f32> = (0..16 * 12).map(|i| if i % 12 == 5 { 0.0 } else { 1.0 }).collect();
    let incoming: Vec<f32> = (0..144).map(|k| if k % 12 != k / 12 && (k * 7) % 5 == 0 { 0.25 } else { 0.0 }).collect();
    Input {
        x: Tensor::from_data(TensorData::new(xs, [16, 4, 12, 2]), device),
        mask: Tensor::from_data(TensorData::new(mask, [16, 12]), device),
        incoming: Some(Tensor::from_data(TensorData::new(incoming, [12, 12]), device)),
        animal: animal_one_hot(&[0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2], device),
        noise: 0.0,
    }
}

/// Asserts that every network (both heads) gives the CPU's outputs on `gpu`, to 1e-4 of their
/// largest magnitude, and tells `log` each difference.
pub async fn every_network_agrees(gpu: &Device, log: impl Fn(String)) {
    let cpu = Device::flex();
    cpu.seed(5);
    let shape = InputShape { history: 4, nodes: 12, features: 2 };
    for kind in ModelKind::ALL {
        for head in [Head::Nodes, Head::Classes(4)] {
            let net = Network::init(&ModelSpec { hidden: 16, ..ModelSpec::new(kind) }, shape, head, &cpu);
            let a = read_f32(net.clone().forward(fixed_input(&cpu)).y).await.expect("read the CPU's output");
            let b = read_f32(net.to_device(gpu).forward(fixed_input(gpu)).y).await.expect("read the GPU's output");
            assert_eq!(a.len(), b.len());
            let scale = a.iter().fold(1f32, |m, v| m.max(v.abs()));
            let worst = a.iter().zip(&b).map(|(p, q)| (p - q).abs()).fold(0f32, f32::max);
            log(format!("{kind:?} {head:?}: GPU vs CPU max abs diff {worst:e} over {} values", a.len()));
            assert!(worst <= 1e-4 * scale, "{kind:?} {head:?}: the GPU and the CPU differ by {worst}");
        }
    }
}
