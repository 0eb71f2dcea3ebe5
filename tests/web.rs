//! Browser tests (wasm-bindgen-test in headless Chromium with WebGPU enabled): training runs on
//! WebGPU with async reads, and WebGPU agrees with the CPU backend on a fixed pass.
#![cfg(target_arch = "wasm32")]

use std::ops::ControlFlow;

use burn::prelude::*;
use neurognn::data::synthetic::SyntheticConfig;
use neurognn::device::{self, BackendKind};
use neurognn::model::MlpConfig;
use neurognn::train::demo::{DemoRun, DemoSpec, run_demo};
use neurognn::train::{Host, Progress, read_f32};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod agree;

/// Yields to the browser like the page does, and counts reports.
#[derive(Default)]
struct BrowserHost {
    reports: usize,
}

impl Host for BrowserHost {
    async fn yield_now(&mut self) {
        gloo::timers::future::TimeoutFuture::new(0).await;
    }
    fn progress(&mut self, _: &Progress) -> ControlFlow<()> {
        self.reports += 1;
        ControlFlow::Continue(())
    }
}

fn small_demo() -> DemoSpec {
    let mut spec = DemoSpec::default();
    spec.data = SyntheticConfig { frames: 600, ..spec.data };
    spec.train.steps = 60;
    spec
}

async fn webgpu() -> device::Compute {
    let compute = device::pick(device::BackendChoice::WebGpu).await;
    assert_eq!(compute.kind, BackendKind::WebGpu, "no WebGPU in this browser: {}", compute.label);
    compute
}

#[wasm_bindgen_test]
async fn demo_trains_on_webgpu_and_the_loss_falls() {
    let compute = webgpu().await;
    let mut host = BrowserHost::default();
    let report = run_demo(&small_demo(), &compute.device, &mut host).await.expect("demo should train on WebGPU");
    // the MLP, then the GCN over the connectome among the synthetic neurons
    assert_eq!(report.runs.iter().map(|r| r.model.as_str()).collect::<Vec<_>>(), ["MLP", "GCN"]);
    for DemoRun { model, run } in &report.runs {
        web_sys::console::log_1(&format!("WebGPU demo, {model}: loss {} -> {} in {:.1}s ({})", run.first_loss(), run.last_loss(), run.elapsed_s, compute.label).into());
        assert_eq!(run.steps_run, 60);
        assert!(run.last_loss() < 0.9 * run.first_loss(), "{model}: loss did not fall: {:?}", run.losses);
        assert!(run.validation.mse.is_finite() && run.validation.mse > 0.0);
    }
    assert!(host.reports >= 12, "only {} progress reports", host.reports);
}

#[wasm_bindgen_test]
async fn demo_trains_on_the_cpu_fallback_in_the_browser() {
    let compute = device::pick(device::BackendChoice::Cpu).await;
    assert_eq!(compute.kind, BackendKind::Cpu);
    let report = run_demo(&small_demo(), &compute.device, &mut BrowserHost::default()).await.expect("CPU demo should train");
    assert_eq!(report.runs.len(), 2);
    for DemoRun { model, run } in &report.runs {
        assert!(run.last_loss() < 0.9 * run.first_loss(), "{model}: loss did not fall: {:?}", run.losses);
    }
}

/// Output and input gradient of one MLP pass, with the same weights moved onto `device`.
async fn forward_backward(template: &neurognn::model::Mlp, device: &Device) -> Vec<f32> {
    let device = device.clone().autodiff();
    let model = template.clone().to_device(&device);
    let xs: Vec<f32> = (0..64 * 96).map(|i| ((i * 37 % 17) as f32 - 8.0) / 7.0).collect();
    let ys: Vec<f32> = (0..64 * 24).map(|i| ((i * 11 % 13) as f32 - 6.0) / 5.0).collect();
    let x = Tensor::<2>::from_data(TensorData::new(xs, [64, 96]), &device).require_grad();
    let y = Tensor::<2>::from_data(TensorData::new(ys, [64, 24]), &device);
    let out = model.forward(x.clone());
    assert!(out.device() == device, "the pass ran on {:?}, not on {device:?}", out.device());
    let loss = (out.clone() - y).powf_scalar(2.0).sum();
    let grads = loss.backward();
    let gx = x.grad(&grads).expect("input should have a gradient");
    let mut values = read_f32(out).await.expect("read output");
    values.extend(read_f32(gx).await.expect("read gradient"));
    values
}

#[wasm_bindgen_test]
async fn webgpu_and_cpu_agree_on_a_forward_backward_pass() {
    let gpu = webgpu().await;
    let cpu = Device::flex();
    cpu.seed(3);
    let template = MlpConfig::new(96, 24).with_hidden(128).with_layers(2).init(&cpu);
    let a = forward_backward(&template, &cpu).await;
    let b = forward_backward(&template, &gpu.device).await;
    assert_eq!(a.len(), b.len());
    let scale = a.iter().fold(1f32, |m, v| m.max(v.abs()));
    let worst = a.iter().zip(&b).map(|(p, q)| (p - q).abs()).fold(0f32, f32::max);
    web_sys::console::log_1(
        &format!("WebGPU vs CPU: max abs diff {worst:e} over {} values (scale {scale}); first values {:?} vs {:?}", a.len(), &a[..3], &b[..3]).into(),
    );
    assert!(worst <= 1e-5 * scale, "WebGPU and CPU differ by {worst} (values up to {scale})");
}

/// Every network, built once on the CPU, gives the same outputs on WebGPU (both heads).
#[wasm_bindgen_test]
async fn every_network_agrees_on_webgpu_and_cpu() {
    let gpu = webgpu().await;
    agree::every_network_agrees(&gpu.device, |line| web_sys::console::log_1(&line.into())).await;
}

/// A graph network and relational inference train on WebGPU through the experiment loop.
#[wasm_bindgen_test]
async fn graph_networks_train_on_webgpu() {
    use neurognn::model::{ModelKind, ModelSpec};
    use neurognn::train::TrainConfig;
    use neurognn::train::experiment::{DataSpec, ExperimentSpec, Protocol, run_experiment};
    let gpu = webgpu().await;
    // small: software WebGPU dispatches slowly (this took 600 s at 12 neurons × 400 frames × 30 steps)
    let config = SyntheticConfig { animals: 2, neurons: 8, frames: 160, ..SyntheticConfig::default() };
    let spec = ExperimentSpec {
        data: DataSpec::Synthetic { config: config.clone() },
        models: vec![ModelSpec { hidden: 16, ..ModelSpec::new(ModelKind::Gcn) }, ModelSpec { hidden: 16, steps: Some(10), batch_size: Some(16), ..ModelSpec::new(ModelKind::Nri) }],
        protocols: vec![Protocol::LeaveOneAnimalOut],
        train: TrainConfig { steps: 10, batch_size: 32, eval_every: 5, report_every: 5, ..TrainConfig::default() },
        rollout_horizon: 3,
        ..ExperimentSpec::default()
    };
    let worm = config.generate();
    let started = js_sys::Date::now();
    let result = run_experiment(&spec, &worm.recordings, Some(&worm.graph), &gpu.label, &gpu.device, &mut BrowserHost::default())
        .await
        .expect("the experiment should run on WebGPU");
    assert_eq!(result.runs.len(), 4);
    for r in &result.runs {
        assert!(r.metrics["mse"].is_finite() && r.metrics["rollout_mse"].is_finite(), "{:?}", r.metrics);
    }
    let nri = result.runs.iter().find(|r| r.model == "NRI").unwrap();
    assert!(nri.metrics["graph_auroc_truth"].is_finite(), "{:?}", nri.metrics);
    web_sys::console::log_1(&format!("GCN + NRI, 2 folds on WebGPU in {:.1} s", (js_sys::Date::now() - started) / 1e3).into());
}

/// The Kato files, compiled into the test module (read from ../shared/data at build time; never
/// committed). Every format must give the NPZ's numbers in the browser too.
const KATO: &[(&str, &[u8])] = &[
    ("npz/worm1.npz", include_bytes!("../../shared/data/kato2015/npz/worm1.npz")),
    ("csv/worm1.csv", include_bytes!("../../shared/data/kato2015/csv/worm1.csv")),
    ("mat/worm1_v5.mat", include_bytes!("../../shared/data/kato2015/mat/worm1_v5.mat")),
    ("nwb/worm1.nwb", include_bytes!("../../shared/data/kato2015/nwb/worm1.nwb")),
    ("mat/WT_NoStim.mat", include_bytes!("../../shared/data/kato2015/mat/WT_NoStim.mat")),
];

#[wasm_bindgen_test]
fn every_format_loads_to_the_same_numbers_in_the_browser() {
    use neurognn::data::{formats, names};
    let now = || js_sys::Date::now();
    let mut loaded = Vec::new();
    for (file, bytes) in KATO {
        let t0 = now();
        let recs = formats::load(file, *bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
        web_sys::console::log_1(&format!("{file}: {} recording(s) parsed in {:.0} ms in the browser", recs.len(), now() - t0).into());
        loaded.push((file, recs));
    }
    let reference = &loaded[0].1[0];
    for (file, recs) in &loaded[1..] {
        let r = &recs[0];
        assert_eq!((r.frames, r.neurons), (reference.frames, reference.neurons), "{file}");
        assert_eq!(r.neuron_names, reference.neuron_names, "{file}");
        let worst = r.traces.iter().zip(&reference.traces).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(worst <= 1e-4, "{file}: traces differ from the NPZ by {worst}");
    }
    let all = &loaded[4].1;
    assert_eq!(all.len(), 5, "WT_NoStim.mat holds five worms");
    assert_eq!(names::shared_identified(all).len(), 22);
    assert_eq!(all[0].labels.as_ref().unwrap().names.len(), 8);
}
