//! What this browser keeps between visits: the lab's experiment with its finished runs, trained
//! models and data views, and the recordings the user chose to keep (in the origin-private file
//! system); the app's files and the recordings it fetched whole (the service worker's cache,
//! `static/sw.js`); and the backend choice. One button forgets it all.
//!
//! Written by hand over `js_sys` (the calls are few): web-sys's bindings for the file system
//! and the service worker would rebuild web-sys and everything over it.

use js_sys::{Array, Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::data::Recording;
use crate::train::experiment::ExperimentSpec;
use crate::train::shard::data_fingerprint;
use crate::worker::{FromWorker, from_cbor, recording_meta, to_cbor};

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
    /// Frames: the spec as JSON, the data URL, each message as CBOR.
    fn encode(&self) -> Vec<u8> {
        let spec = serde_json::to_string(&self.spec).unwrap_or_default();
        let messages: Vec<Vec<u8>> = self.messages.iter().map(to_cbor).collect();
        let mut parts: Vec<&[u8]> = vec![spec.as_bytes(), self.base_url.as_bytes()];
        parts.extend(messages.iter().map(Vec::as_slice));
        framed(&parts)
    }

    fn decode(bytes: &[u8]) -> Result<Self, String> {
        let frames = unframed(bytes)?;
        let [spec, base_url, messages @ ..] = frames.as_slice() else { return Err("the spec or the data URL is missing".into()) };
        Ok(Self {
            spec: ExperimentSpec::from_json(&String::from_utf8_lossy(spec)).map_err(|e| e.to_string())?,
            base_url: String::from_utf8_lossy(base_url).into_owned(),
            messages: messages.iter().map(|m| from_cbor(m)).collect::<Result<_, _>>()?,
        })
    }
}

/// `parts`, each after its length as a little-endian `u32`.
fn framed(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(parts.iter().map(|p| p.len() + 4).sum());
    for part in parts {
        out.extend_from_slice(&(part.len() as u32).to_le_bytes());
        out.extend_from_slice(part);
    }
    out
}

/// The parts [`framed`] wrote.
fn unframed(mut bytes: &[u8]) -> Result<Vec<&[u8]>, String> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        let (len, rest) = bytes.split_at_checked(4).ok_or("a frame's length is cut off")?;
        let len = u32::from_le_bytes(len.try_into().map_err(|_| "a frame's length is cut off")?) as usize;
        let (frame, rest) = rest.split_at_checked(len).ok_or("a frame is cut off")?;
        frames.push(frame);
        bytes = rest;
    }
    Ok(frames)
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

/// The folder `name` inside `parent`, made when `create`.
async fn subfolder(parent: &JsValue, name: &str, create: bool) -> Result<JsValue, String> {
    let options = js_sys::Object::new();
    Reflect::set(&options, &"create".into(), &create.into()).map_err(|e| message(&e))?;
    call(parent, "getDirectoryHandle", &[name.into(), options.into()]).await.map_err(|e| message(&e))
}

/// Writes `bytes` to file `name` in `dir`, replacing it.
async fn write(dir: &JsValue, name: &str, bytes: &[u8]) -> Result<(), String> {
    let options = js_sys::Object::new();
    Reflect::set(&options, &"create".into(), &true.into()).map_err(|e| message(&e))?;
    let handle = call(dir, "getFileHandle", &[name.into(), options.into()]).await.map_err(|e| message(&e))?;
    let writable = call(&handle, "createWritable", &[]).await.map_err(|e| message(&e))?;
    call(&writable, "write", &[Uint8Array::from(bytes).into()]).await.map_err(|e| message(&e))?;
    call(&writable, "close", &[]).await.map_err(|e| message(&e))?;
    Ok(())
}

/// The bytes of file `name` in `dir` (`None` when there is none).
async fn read(dir: &JsValue, name: &str) -> Result<Option<Vec<u8>>, String> {
    let Ok(handle) = call(dir, "getFileHandle", &[name.into()]).await else { return Ok(None) };
    let file = call(&handle, "getFile", &[]).await.map_err(|e| message(&e))?;
    let buffer = call(&file, "arrayBuffer", &[]).await.map_err(|e| message(&e))?;
    Ok(Some(Uint8Array::new(&buffer).to_vec()))
}

/// Keeps `experiment`, replacing what was kept.
pub async fn save(experiment: &KeptExperiment) -> Result<(), String> {
    write(&folder().await?, EXPERIMENT_FILE, &experiment.encode()).await
}

/// The experiment kept by an earlier visit, if any (`Err` when it cannot be read back, e.g.
/// kept by an older version of the app).
pub async fn load() -> Result<Option<KeptExperiment>, String> {
    let Some(bytes) = read(&folder().await?, EXPERIMENT_FILE).await? else { return Ok(None) };
    KeptExperiment::decode(&bytes).map(Some).map_err(|e| format!("the kept experiment cannot be read back ({e})"))
}

/// The folder kept recordings live in.
const RECORDINGS: &str = "recordings";

/// The name a recording is kept under: its content's fingerprint, so the same recording is
/// kept once.
fn recording_key(rec: &Recording) -> String {
    format!("{}.rec", data_fingerprint(std::slice::from_ref(rec)))
}

/// Keeps `rec` (read from `file`) in this browser: the file's name, its fields as CBOR and its
/// traces as little-endian `f32`s.
pub async fn keep_recording(file: &str, rec: &Recording) -> Result<(), String> {
    let dir = subfolder(&folder().await?, RECORDINGS, true).await?;
    let meta = to_cbor(&recording_meta(rec));
    let traces: Vec<u8> = rec.traces.iter().flat_map(|v| v.to_le_bytes()).collect();
    write(&dir, &recording_key(rec), &framed(&[file.as_bytes(), &meta, &traces])).await
}

/// Stops keeping `rec`.
pub async fn drop_recording(rec: &Recording) -> Result<(), String> {
    let dir = subfolder(&folder().await?, RECORDINGS, true).await?;
    call(&dir, "removeEntry", &[recording_key(rec).into()]).await.map(|_| ()).map_err(|e| message(&e))
}

/// The recordings kept by earlier visits, each with the file it came from; a kept file that
/// cannot be read back is named in the errors and left out.
pub async fn kept_recordings() -> (Vec<(String, Recording)>, Vec<String>) {
    let (mut kept, mut errors) = (Vec::new(), Vec::new());
    let Ok(root) = folder().await else { return (kept, errors) };
    let Ok(dir) = subfolder(&root, RECORDINGS, false).await else { return (kept, errors) };
    let Ok(keys) = call(&dir, "keys", &[]).await else { return (kept, errors) };
    // an async iterator of the folder's names
    while let Ok(next) = call(&keys, "next", &[]).await {
        if get(&next, "done").is_ok_and(|d| d.is_truthy()) {
            break;
        }
        let Some(name) = get(&next, "value").ok().and_then(|v| v.as_string()) else { break };
        let read_back = async {
            let bytes = read(&dir, &name).await?.ok_or("it is gone")?;
            let frames = unframed(&bytes)?;
            let [file, meta, traces] = frames.as_slice() else { return Err("it is not a kept recording".to_string()) };
            let mut rec: Recording = from_cbor(meta)?;
            rec.traces = traces.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
            rec.validate().map_err(|e| e.to_string())?;
            Ok::<_, String>((String::from_utf8_lossy(file).into_owned(), rec))
        };
        match read_back.await {
            Ok(r) => kept.push(r),
            Err(e) => errors.push(format!("a recording kept in this browser ({name}) cannot be read back: {e}")),
        }
    }
    (kept, errors)
}

/// Forgets everything this browser keeps for the app: the kept experiment, the service
/// worker's copies of the app and the recordings, and the backend choice. Says what it did.
pub async fn forget_all() -> Result<String, String> {
    let mut done = Vec::new();
    if let Ok(root) = folder().await {
        if call(&root, "removeEntry", &[EXPERIMENT_FILE.into()]).await.is_ok() {
            done.push("the kept experiment");
        }
        let recursive = js_sys::Object::new();
        let _ = Reflect::set(&recursive, &"recursive".into(), &true.into());
        if call(&root, "removeEntry", &[RECORDINGS.into(), recursive.into()]).await.is_ok() {
            done.push("the kept recordings");
        }
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
        // the service worker keeps the build this page loaded (static/sw.js)
        let script = format!("./sw.js?module={}", crate::worker::THIS_BUILD);
        if let Err(e) = call(&container, "register", &[script.into()]).await {
            log::warn!("the app cannot be kept for offline use: {}", message(&e));
        }
    });
}
