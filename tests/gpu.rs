//! The native GPU build (`--features gpu`: burn's wgpu backend on Vulkan, Metal or DX12): every
//! network gives the CPU's outputs on the GPU, and every model trains there through the
//! experiment loop. `cargo test --features gpu --test gpu`; the test suite runs it on Mesa's
//! software Vulkan (lavapipe), `scripts/gpu-check` on a real GPU. Without the feature this file
//! is empty.
#![cfg(all(feature = "gpu", not(target_arch = "wasm32")))]

use burn::prelude::*;
use neurognn::data::synthetic::SyntheticConfig;
use neurognn::device::{self, BackendChoice, BackendKind, Compute};
use neurognn::model::{Head, Input, InputShape, ModelKind, ModelSpec, Network, animal_one_hot};
use neurognn::train::experiment::{DataSpec, ExperimentSpec, Protocol, run_experiment};
use neurognn::train::{NativeHost, TrainConfig, read_f32};

/// burn's wgpu runtime starts once per thread (device.rs) and the CPU's random numbers are one
/// stream per process: the tests take turns.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn gpu() -> Compute {
    let compute = pollster::block_on(device::pick(BackendChoice::WebGpu));
    assert_eq!(compute.kind, BackendKind::WebGpu, "no GPU adapter through wgpu: {}", compute.label);
    println!("GPU: {}", compute.label);
    compute
}

#[test]
fn every_network_gives_the_cpus_outputs_on_the_gpu() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let gpu = gpu();
    let cpu = Device::flex();
    cpu.seed(5);
    let shape = InputShape { history: 4, nodes: 12, features: 2 };
    let xs: Vec<f32> = (0..16 * 4 * 12 * 2).map(|i| ((i * 29 % 23) as f32 - 11.0) / 9.0).collect();
    let mask: Vec<f32> = (0..16 * 12).map(|i| if i % 12 == 5 { 0.0 } else { 1.0 }).collect();
    let incoming: Vec<f32> = (0..144).map(|k| if k % 12 != k / 12 && (k * 7) % 5 == 0 { 0.25 } else { 0.0 }).collect();
    let animals = [0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2];
    for kind in ModelKind::ALL {
        for head in [Head::Nodes, Head::Classes(4)] {
            let net = Network::init(&ModelSpec { hidden: 16, ..ModelSpec::new(kind) }, shape, head, &cpu);
            let run = |device: &Device, net: Network| {
                let input = Input {
                    x: Tensor::from_data(TensorData::new(xs.clone(), [16, 4, 12, 2]), device),
                    mask: Tensor::from_data(TensorData::new(mask.clone(), [16, 12]), device),
                    incoming: Some(Tensor::from_data(TensorData::new(incoming.clone(), [12, 12]), device)),
                    animal: animal_one_hot(&animals, device),
                    noise: 0.0,
                };
                pollster::block_on(read_f32(net.to_device(device).forward(input).y)).expect("read the output")
            };
            let a = run(&cpu, net.clone());
            let b = run(&gpu.device, net);
            assert_eq!(a.len(), b.len());
            let scale = a.iter().fold(1f32, |m, v| m.max(v.abs()));
            let worst = a.iter().zip(&b).map(|(p, q)| (p - q).abs()).fold(0f32, f32::max);
            println!("{kind:?} {head:?}: GPU vs CPU max abs diff {worst:e} over {} values", a.len());
            assert!(worst <= 1e-4 * scale, "{kind:?} {head:?}: the GPU and the CPU differ by {worst}");
        }
    }
}

#[test]
fn every_model_trains_on_the_gpu() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let gpu = gpu();
    let config = SyntheticConfig { animals: 2, neurons: 8, frames: 200, ..SyntheticConfig::default() };
    let spec = ExperimentSpec {
        data: DataSpec::Synthetic { config: config.clone() },
        models: ModelKind::ALL.iter().map(|&k| ModelSpec { hidden: 16, steps: None, ..ModelSpec::new(k) }).collect(),
        protocols: vec![Protocol::LeaveOneAnimalOut],
        train: TrainConfig { steps: 20, batch_size: 32, eval_every: 10, report_every: 5, ..TrainConfig::default() },
        rollout_horizon: 3,
        ..ExperimentSpec::default()
    };
    let worm = config.generate();
    let started = std::time::Instant::now();
    let result = pollster::block_on(run_experiment(&spec, &worm.recordings, Some(&worm.graph), &gpu.label, &gpu.device, &mut NativeHost { verbose: false }))
        .expect("the experiment should run on the GPU");
    assert_eq!(result.runs.len(), 2 * ModelKind::ALL.len(), "two folds of every model");
    assert_eq!(result.backend, gpu.label);
    for r in &result.runs {
        assert!(r.failed.is_none(), "{} failed on the GPU: {:?}", r.model, r.failed);
        assert_eq!(r.steps, 20, "{}", r.model);
        assert!(r.metrics["mse"].is_finite() && r.metrics["mse"] > 0.0, "{}: {:?}", r.model, r.metrics);
    }
    let nri = result.runs.iter().find(|r| r.model == "NRI").expect("an NRI run");
    assert!(nri.metrics["graph_auroc_truth"].is_finite(), "{:?}", nri.metrics);
    println!("every model, 2 folds × 20 steps on the GPU in {:.1} s", started.elapsed().as_secs_f64());
}
