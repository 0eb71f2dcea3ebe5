//! Picks the compute device: the one place that names a backend.
//!
//! WebGPU when the build has it (the `gpu` feature: the page's WebGPU build, or a native build)
//! and the browser or machine has an adapter; burn's pure-Rust CPU backend (flex) otherwise,
//! with the reason kept for the user.

use burn::prelude::Device;
use serde::{Deserialize, Serialize};

/// Which kind of backend a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackendKind {
    WebGpu,
    Cpu,
}

impl std::fmt::Display for BackendKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BackendKind::WebGpu => "WebGPU",
            BackendKind::Cpu => "CPU",
        })
    }
}

/// Which backend a person asked for: the faster one here (timed on the first run), or one by name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendChoice {
    #[default]
    Auto,
    #[serde(rename = "webgpu")]
    WebGpu,
    Cpu,
}

impl BackendChoice {
    /// From a URL's `backend=` value or a remembered setting ("auto", "webgpu", "cpu").
    pub fn parse(text: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(text.to_ascii_lowercase())).ok()
    }

    /// The name [`BackendChoice::parse`] reads.
    pub fn as_str(self) -> &'static str {
        match self {
            BackendChoice::Auto => "auto",
            BackendChoice::WebGpu => "webgpu",
            BackendChoice::Cpu => "cpu",
        }
    }
}

/// Ends the label of a WebGPU adapter that is software standing in for a GPU.
pub const SOFTWARE_ADAPTER: &str = ", a software fallback adapter (no GPU)";

/// A device plus what to tell the user about it.
#[derive(Debug, Clone)]
pub struct Compute {
    pub device: Device,
    pub kind: BackendKind,
    /// "WebGPU — <adapter description>", or "CPU — <why not WebGPU>".
    pub label: String,
}

/// The most bytes one tensor may take on `device`. WebGPU: 128 MiB, the storage-buffer binding
/// size every WebGPU adapter must allow (`maxStorageBufferBindingSize`; many allow more, but a
/// link must run on the laptops it is sent to). The CPU: 4 GiB, twice the memory a browser
/// tab is usually given and a sixth of a 24 GB machine, past which a run would swap or die.
pub fn largest_tensor_bytes(device: &Device) -> u64 {
    const WEBGPU: u64 = 128 << 20;
    const CPU: u64 = 4 << 30;
    // devices compare by hardware identity (autodiff aside): the CPU backend has one
    if *device == Device::flex() { CPU } else { WEBGPU }
}

/// Training holds several tensors the size of a model's largest at once (activations kept for
/// the backward pass, their gradients, the optimiser's moments): measured natively for NRI at
/// 150 and 200 neurons, peak memory was 6× the largest tensor; 8× is what is reserved.
pub const WORKING_SET: u64 = 8;

/// The most bytes a training run may hold on `device`. The CPU natively: 80 % of the memory the
/// system says is available (`MemAvailable`; 8 GiB where it cannot be read). The CPU in the
/// page: 2 GiB (a WebAssembly module addresses 4 GiB at most, and a tab is usually given less).
/// WebGPU: 2 GiB, what an integrated GPU's share of memory usually allows.
pub fn working_memory_bytes(device: &Device) -> u64 {
    const PAGE: u64 = 2 << 30;
    if *device != Device::flex() || cfg!(target_arch = "wasm32") {
        return PAGE;
    }
    available_memory().map_or(8 << 30, |bytes| bytes / 5 * 4)
}

/// `MemAvailable` from `/proc/meminfo` (Linux), in bytes.
fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kb| kb * 1024)
}

/// The CPU backend, with the reason it was chosen.
pub fn cpu(reason: &str) -> Compute {
    Compute { device: Device::flex(), kind: BackendKind::Cpu, label: format!("CPU (burn flex) — {reason}") }
}

#[cfg(all(target_arch = "wasm32", feature = "gpu"))]
thread_local! {
    /// burn's wgpu runtime can be initialised once per thread (a page's worker); later calls
    /// reuse it.
    static WEBGPU: std::cell::RefCell<Option<Compute>> = const { std::cell::RefCell::new(None) };
}

/// Natively, burn's wgpu runtime can be initialised once per process; later calls, from any
/// thread, reuse it.
#[cfg(all(not(target_arch = "wasm32"), feature = "gpu"))]
static WEBGPU: std::sync::Mutex<Option<Compute>> = std::sync::Mutex::new(None);

/// The WebGPU device started earlier, if any.
#[cfg(feature = "gpu")]
fn started_webgpu() -> Option<Compute> {
    #[cfg(target_arch = "wasm32")]
    return WEBGPU.with(|w| w.borrow().clone());
    #[cfg(not(target_arch = "wasm32"))]
    return WEBGPU.lock().unwrap_or_else(|e| e.into_inner()).clone();
}

/// Keeps (or, with `None`, forgets) the WebGPU device for later calls.
#[cfg(feature = "gpu")]
fn keep_webgpu(compute: Option<Compute>) {
    #[cfg(target_arch = "wasm32")]
    WEBGPU.with(|w| *w.borrow_mut() = compute);
    #[cfg(not(target_arch = "wasm32"))]
    {
        *WEBGPU.lock().unwrap_or_else(|e| e.into_inner()) = compute;
    }
}

/// Initialises WebGPU (once; later calls return the same device), or says why it could not.
#[cfg(feature = "gpu")]
pub async fn webgpu() -> Result<Compute, String> {
    if let Some(c) = started_webgpu() {
        return Ok(c);
    }
    #[cfg(target_arch = "wasm32")]
    let adapter = browser::adapter_description().await?;
    #[cfg(not(target_arch = "wasm32"))]
    let adapter = String::from("native wgpu adapter");
    let device = Device::wgpu_options()
        .init_async()
        .await
        .map_err(|e| format!("WebGPU adapter found ({adapter}) but the device failed to start: {e:?}"))?;
    let compute = Compute { device, kind: BackendKind::WebGpu, label: format!("WebGPU — {adapter}") };
    keep_webgpu(Some(compute.clone()));
    Ok(compute)
}

thread_local! {
    /// Why the GPU was given up for this session (it was lost mid-job), once it was.
    static GPU_LOST: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Gives up the GPU for the rest of this session (a lost device is not used again; burn's
/// runtime cannot be started twice in one thread): every later job runs on the CPU, saying why.
pub fn gpu_lost(why: &str) {
    GPU_LOST.with(|l| *l.borrow_mut() = Some(why.to_string()));
    #[cfg(feature = "gpu")]
    keep_webgpu(None);
}

/// The CPU when chosen; otherwise WebGPU when available, else the CPU with the reason. (`Auto`
/// is resolved by timing in [`crate::train::bench::pick_backend`]; here it means WebGPU first.)
pub async fn pick(choice: BackendChoice) -> Compute {
    if choice == BackendChoice::Cpu {
        return cpu("chosen by the user");
    }
    if let Some(why) = GPU_LOST.with(|l| l.borrow().clone()) {
        return cpu(&format!("the GPU was lost earlier ({why})"));
    }
    #[cfg(feature = "gpu")]
    {
        match webgpu().await {
            Ok(c) => c,
            Err(why) => cpu(&why),
        }
    }
    #[cfg(all(target_arch = "wasm32", not(feature = "gpu")))]
    {
        cpu(&browser::why_no_webgpu_module().await)
    }
    #[cfg(all(not(target_arch = "wasm32"), not(feature = "gpu")))]
    cpu("this build has no GPU backend (build with --features gpu)")
}

#[cfg(target_arch = "wasm32")]
mod browser {
    //! Reads the adapter's description through `navigator.gpu`, which burn does not expose.
    use js_sys::{Promise, Reflect};
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    fn get(obj: &JsValue, key: &str) -> JsValue {
        Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    }

    /// "vendor architecture description", or why there is no adapter.
    pub async fn adapter_description() -> Result<String, String> {
        let global = js_sys::global();
        let gpu = get(&get(&global, "navigator"), "gpu");
        if gpu.is_undefined() || gpu.is_null() {
            return Err("this browser does not offer WebGPU (navigator.gpu is missing)".into());
        }
        let request = get(&gpu, "requestAdapter")
            .dyn_into::<js_sys::Function>()
            .map_err(|_| "navigator.gpu.requestAdapter is not a function".to_string())?;
        let promise = request
            .call0(&gpu)
            .map_err(|e| format!("requestAdapter threw: {e:?}"))?
            .dyn_into::<Promise>()
            .map_err(|_| "requestAdapter did not return a promise".to_string())?;
        let adapter = JsFuture::from(promise).await.map_err(|e| format!("requestAdapter failed: {e:?}"))?;
        if adapter.is_null() || adapter.is_undefined() {
            return Err("WebGPU is present but no GPU adapter is available".into());
        }
        let info = get(&adapter, "info");
        let parts: Vec<String> = ["vendor", "architecture", "device", "description"]
            .iter()
            .filter_map(|k| get(&info, k).as_string())
            .filter(|s| !s.is_empty())
            .collect();
        let mut name = if parts.is_empty() { "unnamed adapter".to_string() } else { parts.join(" ") };
        // a software rasteriser standing in for a GPU (Chromium's SwiftShader, WARP, llvmpipe)
        // says so since Chrome 136 in `info`, before that on the adapter itself
        let fallback = [get(&info, "isFallbackAdapter"), get(&adapter, "isFallbackAdapter")].iter().any(|v| v.as_bool() == Some(true));
        if fallback {
            name.push_str(super::SOFTWARE_ADAPTER);
        }
        Ok(name)
    }

    /// Why a worker of the page's CPU build trains on the CPU: static/boot.js loads the WebGPU
    /// build where there is a hardware adapter (or WebGPU was chosen), so here there is none.
    #[cfg(not(feature = "gpu"))]
    pub async fn why_no_webgpu_module() -> String {
        match adapter_description().await {
            Err(why) => why,
            Ok(name) if name.ends_with(super::SOFTWARE_ADAPTER) => format!(
                "WebGPU here is {name}: slower than the CPU for networks this size, so the page loaded its CPU build, the smaller download (choose WebGPU to try it)"
            ),
            Ok(name) => format!("the page loaded its CPU build before the WebGPU adapter ({name}) answered; reload the page to use it"),
        }
    }
}
