//! The native GPU build (`--features gpu`: burn's wgpu backend on Vulkan, Metal or DX12): every
//! network gives the CPU's outputs on the GPU, and every model trains there through the
//! experiment loop. `cargo test --features gpu --test gpu`; the test suite runs it on Mesa's
//! software Vulkan (lavapipe), `scripts/gpu-check` on a real GPU. Without the feature this file
//! is empty.
#![cfg(all(feature = "gpu", not(target_arch = "wasm32")))]

mod agree;

use neurognn::data::synthetic::SyntheticConfig;
use neurognn::device::{self, BackendChoice, BackendKind, Compute};
use neurognn::model::{ModelKind, ModelSpec};
use neurognn::train::experiment::{DataSpec, ExperimentSpec, Protocol, run_experiment};
use neurognn::train::{NativeHost, TrainConfig};

/// The tests share the process's one wgpu runtime (device.rs keeps it) and its one stream of
/// the CPU's random numbers: they take turns.
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
    pollster::block_on(agree::every_network_agrees(&gpu.device, |line| println!("{line}")));
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
