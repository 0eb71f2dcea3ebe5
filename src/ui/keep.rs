//! What this browser keeps between visits: the lab's experiment with its finished runs, trained
//! models and data views (in the origin-private file system), the app's files and the
//! recordings it fetched whole (the service worker's cache, `static/sw.js`), and the backend
//! choice. One button forgets it all.
//!
//! Written by hand over `js_sys` (the calls are few): web-sys's bindings for the file system
//! and the service worker would rebuild web-sys and everything over it.

use std::collections::BTreeMap;

use js_sys::{Array, Function, Promise, Reflect, Uint8Array};
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::plot::DataPreview;
use crate::train::experiment::{ExperimentResult, ExperimentSpec, Plan, RunResult};

/// The file the lab's experiment is kept in.
const EXPERIMENT_FILE: &str = "experiment.cbor";

/// The service worker's cache (`static/sw.js`, CACHE).
const APP_CACHE: &str = "neurognn-app";

/// The lab's experiment as kept: enough to show its results again and to run what did not
/// finish.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeptExperiment {
    pub spec: ExperimentSpec,
    pub base_url: String,
    pub plan: Option<Plan>,
    pub runs: Vec<RunResult>,
    pub result: Option<ExperimentResult>,
    /// Trained models by run index: file name and bytes.
    pub models: BTreeMap<usize, (String, Vec<u8>)>,
    pub data: Option<DataPreview>,
}

fn get(target: &JsValue, name: &str) -> Result<JsValue, JsValue> {
    Reflect::get(target, &name.into())
}

/// Calls `target.name(args…)` and awaits it when it returns a promise.
async fn call(target: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let f: Function = get(target, name)?.dyn_into()?;
    let out = f.apply(target, &args.iter().collect::<Array>())?;
    match out.dyn_into::<Promise>() {
        Ok(promise) => JsFuture::from(promise).await,
        Err(value) => Ok(value),
    }
}

fn message(e: &JsValue) -> String {
    get(e, "message").ok().and_then(|m| m.as_string()).or_else(|| e.as_string()).unwrap_or_else(|| format!("{e:?}"))
}

/// The origin-private file system's root folder, where the browser has one.
async fn folder() -> Result<JsValue, String> {
    let storage = get(&get(&js_sys::global(), "navigator").map_err(|e| message(&e))?, "storage").map_err(|e| message(&e))?;
    if storage.is_undefined() {
        return Err("this browser keeps no files for pages".into());
    }
    call(&storage, "getDirectory", &[]).await.map_err(|e| message(&e))
}

/// Keeps `experiment`, replacing what was kept.
pub async fn save(experiment: &KeptExperiment) -> Result<(), String> {
    let mut bytes = Vec::new();
    ciborium::into_writer(experiment, &mut bytes).map_err(|e| e.to_string())?;
    let root = folder().await?;
    let options = js_sys::Object::new();
    Reflect::set(&options, &"create".into(), &true.into()).map_err(|e| message(&e))?;
    let handle = call(&root, "getFileHandle", &[EXPERIMENT_FILE.into(), options.into()]).await.map_err(|e| message(&e))?;
    let writable = call(&handle, "createWritable", &[]).await.map_err(|e| message(&e))?;
    call(&writable, "write", &[Uint8Array::from(bytes.as_slice()).into()]).await.map_err(|e| message(&e))?;
    call(&writable, "close", &[]).await.map_err(|e| message(&e))?;
    Ok(())
}

/// The experiment kept by an earlier visit, if any (`Err` when it cannot be read back, e.g.
/// kept by an older version of the app).
pub async fn load() -> Result<Option<KeptExperiment>, String> {
    let root = folder().await?;
    let Ok(handle) = call(&root, "getFileHandle", &[EXPERIMENT_FILE.into()]).await else { return Ok(None) };
    let file = call(&handle, "getFile", &[]).await.map_err(|e| message(&e))?;
    let buffer = call(&file, "arrayBuffer", &[]).await.map_err(|e| message(&e))?;
    let bytes = Uint8Array::new(&buffer).to_vec();
    ciborium::from_reader(bytes.as_slice()).map(Some).map_err(|e| format!("the kept experiment cannot be read back ({e})"))
}

/// Forgets everything this browser keeps for the app: the kept experiment, the service
/// worker's copies of the app and the recordings, and the backend choice. Says what it did.
pub async fn forget_all() -> Result<String, String> {
    let mut done = Vec::new();
    if let Ok(root) = folder().await
        && call(&root, "removeEntry", &[EXPERIMENT_FILE.into()]).await.is_ok()
    {
        done.push("the kept experiment");
    }
    let caches = get(&js_sys::global(), "caches").unwrap_or(JsValue::UNDEFINED);
    if !caches.is_undefined() && call(&caches, "delete", &[APP_CACHE.into()]).await.is_ok_and(|v| v.is_truthy()) {
        done.push("the copies of the app and of fetched recordings");
    }
    super::forget_backend();
    done.push("the backend choice");
    Ok(format!("forgotten: {}", done.join(", ")))
}

/// Registers the service worker that keeps the app for offline use (`sw.js`, beside the page).
pub fn register_service_worker() {
    let Ok(container) = get(&js_sys::global(), "navigator").and_then(|n| get(&n, "serviceWorker")) else { return };
    if container.is_undefined() {
        return;
    }
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(e) = call(&container, "register", &["./sw.js".into()]).await {
            log::warn!("the app cannot be kept for offline use: {}", message(&e));
        }
    });
}
