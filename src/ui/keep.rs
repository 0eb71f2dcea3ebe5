//! What this browser keeps between visits: the lab's experiment with its finished runs, trained
//! models and data views (in the origin-private file system), the app's files and the
//! recordings it fetched whole (the service worker's cache, `static/sw.js`), and the backend
//! choice. One button forgets it all.
//!
//! Written by hand over `js_sys` (the calls are few): web-sys's bindings for the file system
//! and the service worker would rebuild web-sys and everything over it.

use js_sys::{Array, Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::train::experiment::ExperimentSpec;
use crate::worker::{FromWorker, from_cbor, to_cbor};

/// The file the lab's experiment is kept in.
const EXPERIMENT_FILE: &str = "experiment.cbor";

/// The service worker's cache (`static/sw.js`, CACHE).
const APP_CACHE: &str = "neurognn-app";

/// The lab's experiment as kept: its spec, and the worker's messages that built what is on
/// screen (the plan, finished runs, models, data views, the result), replayed on restoring.
/// (Messages rather than a struct of their contents: the page already decodes them, so keeping
/// them adds no second decoder to the download.)
#[derive(Debug, Clone)]
pub struct KeptExperiment {
    pub spec: ExperimentSpec,
    pub base_url: String,
    pub messages: Vec<FromWorker>,
}

impl KeptExperiment {
    /// Frames of a `u32` length and the bytes: the spec as JSON, the data URL, each message as
    /// CBOR.
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut frame = |bytes: &[u8]| {
            out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
            out.extend_from_slice(bytes);
        };
        frame(serde_json::to_string(&self.spec).unwrap_or_default().as_bytes());
        frame(self.base_url.as_bytes());
        for m in &self.messages {
            frame(&to_cbor(m));
        }
        out
    }

    fn decode(mut bytes: &[u8]) -> Result<Self, String> {
        let mut frames = Vec::new();
        while !bytes.is_empty() {
            let (len, rest) = bytes.split_at_checked(4).ok_or("a frame's length is cut off")?;
            let len = u32::from_le_bytes(len.try_into().map_err(|_| "a frame's length is cut off")?) as usize;
            let (frame, rest) = rest.split_at_checked(len).ok_or("a frame is cut off")?;
            frames.push(frame);
            bytes = rest;
        }
        let [spec, base_url, messages @ ..] = frames.as_slice() else { return Err("the spec or the data URL is missing".into()) };
        Ok(Self {
            spec: ExperimentSpec::from_json(&String::from_utf8_lossy(spec)).map_err(|e| e.to_string())?,
            base_url: String::from_utf8_lossy(base_url).into_owned(),
            messages: messages.iter().map(|m| from_cbor(m)).collect::<Result<_, _>>()?,
        })
    }
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
    let bytes = experiment.encode();
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
    KeptExperiment::decode(&bytes).map(Some).map_err(|e| format!("the kept experiment cannot be read back ({e})"))
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
