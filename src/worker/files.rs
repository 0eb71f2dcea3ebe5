//! The worker's readers of what the page gives it: dropped `File`s (whole, or by offset when
//! large) and URLs (by HTTP range requests), kept so that a file can be read again with other
//! arrays picked.

use std::cell::RefCell;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::job::{post, post_with_recordings};
use super::{FromWorker, ParsedDrop};
use crate::data::formats::inventory::Choice;
use crate::data::formats::{self, FileBytes, source::ReadAt};

/// Files up to this size are read in one go: a reader walking an HDF5 file makes hundreds of
/// reads, each a `Blob.slice` read (WT_NoStim.mat, 14 MB: 430 ms read whole, 760 ms by parts).
const READ_WHOLE_BYTES: u64 = 64 << 20;

/// A file the reader was given, kept so that it can be read again with other arrays picked:
/// a dropped `File` (a handle, not its bytes) or a URL.
#[derive(Clone)]
enum Kept {
    File(web_sys::File),
    Url(String),
}

thread_local! {
    /// Every file read, by name (a later file of the same name replaces it).
    static KEPT: RefCell<Vec<(String, Kept)>> = const { RefCell::new(Vec::new()) };
}

fn keep(name: &str, kept: Kept) {
    KEPT.with_borrow_mut(|k| {
        k.retain(|(n, _)| n != name);
        k.push((name.to_string(), kept));
    });
}

/// Opens a kept file for reading: by offset when large (a `File`) or always (a URL).
fn open_kept(name: &str, kept: Kept) -> Result<FileBytes, String> {
    match kept {
        Kept::File(file) => {
            let len = file.size() as u64;
            if len > READ_WHOLE_BYTES {
                return Ok(FileBytes::lazy(BlobReader { file, len }));
            }
            web_sys::FileReaderSync::new()
                .and_then(|reader| reader.read_as_array_buffer(&file))
                .map(|buffer| FileBytes::from(js_sys::Uint8Array::new(&buffer).to_vec()))
                .map_err(|e| format!("{name}: the browser could not read the file: {e:?}"))
        }
        Kept::Url(url) => UrlReader::open(&url).map(FileBytes::lazy).map_err(|e| format!("{url}: {e}")),
    }
}

/// Reads the `File`s that came with a message (synchronously: workers may) and parses them as
/// one drop, telling the page which file it is reading.
pub(super) fn parse_files(data: &JsValue) {
    let list = js_sys::Reflect::get(data, &"files".into()).ok().filter(|v| v.is_array()).map(|v| js_sys::Array::from(&v)).unwrap_or_default();
    let kept = list.iter().filter_map(|v| v.dyn_into::<web_sys::File>().ok()).map(|file| (file.name(), Kept::File(file))).collect();
    parse_drop(kept, None);
}

/// Opens files by URL (only the byte ranges used are fetched) and parses them as one drop.
pub(super) fn open_urls(urls: &[String]) {
    parse_drop(urls.iter().map(|url| (url.clone(), Kept::Url(url.clone()))).collect(), None);
}

/// Reads a kept file again with the arrays `choice` picks.
pub(super) fn assemble(file: String, choice: Choice) {
    match KEPT.with_borrow(|k| k.iter().find(|(n, _)| *n == file).map(|(_, kept)| kept.clone())) {
        Some(kept) => parse_drop(vec![(file.clone(), kept)], Some((file, choice))),
        None => {
            let message = format!("{file}: the reader no longer holds this file (it was restarted): drop it again");
            let drop = ParsedDrop { errors: vec![(file.clone(), message)], picked: Some((file, choice)), ..Default::default() };
            post(&FromWorker::Parsed { drop: Box::new(drop) });
        }
    }
}

/// Parses files as one drop (with the arrays `picked` for one of them) and posts what they
/// held, with the bytes read of each. The files are kept for later picks.
fn parse_drop(kept: Vec<(String, Kept)>, picked: Option<(String, Choice)>) {
    let started = web_time::Instant::now();
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for (name, k) in kept {
        keep(&name, k.clone());
        match open_kept(&name, k) {
            Ok(bytes) => {
                post(&FromWorker::Reading { file: name.clone(), bytes: bytes.len() as f64 });
                files.push((name, bytes));
            }
            Err(e) => errors.push((name, e)),
        }
    }
    let dropped = formats::load_files_picked(&files, picked.as_slice());
    errors.extend(dropped.errors.iter().map(|e| (e.file().to_string(), e.to_string())));
    let message = FromWorker::Parsed {
        drop: Box::new(ParsedDrop {
            listings: dropped.listings,
            side_files: dropped.side_files,
            notes: dropped.notes,
            errors,
            sizes: files.iter().map(|(n, b)| (n.clone(), b.len() as f64)).collect(),
            transferred: files.iter().map(|(n, b)| (n.clone(), b.bytes_read() as f64)).collect(),
            seconds: started.elapsed().as_secs_f64(),
            picked,
            recordings: Vec::new(),
        }),
    };
    post_with_recordings(&message, &dropped.recordings);
}

/// A file on a web server, read by HTTP range requests (synchronous requests: workers may).
/// Opening it asks for its first byte: a server that answers with the whole file (no range
/// support) or that the browser may not read from (no CORS) is refused with what to do.
struct UrlReader {
    url: String,
    len: u64,
}

// SAFETY: as for `BlobReader`: one thread, the handle never crosses to another.
unsafe impl Send for UrlReader {}
unsafe impl Sync for UrlReader {}

impl UrlReader {
    /// Synchronous GET of `bytes=start-end` (inclusive): the status and the response.
    fn get(url: &str, start: u64, end: u64) -> Result<(u16, web_sys::XmlHttpRequest), String> {
        let unreachable = |e: JsValue| {
            format!(
                "the browser could not read it ({}): the server may not allow other sites to read its files (CORS), or it cannot be reached",
                e.as_string().unwrap_or_else(|| format!("{e:?}"))
            )
        };
        let xhr = web_sys::XmlHttpRequest::new().map_err(unreachable)?;
        xhr.open_with_async("GET", url, false).map_err(unreachable)?;
        xhr.set_response_type(web_sys::XmlHttpRequestResponseType::Arraybuffer);
        xhr.set_request_header("Range", &format!("bytes={start}-{end}")).map_err(unreachable)?;
        xhr.send().map_err(unreachable)?;
        Ok((xhr.status().map_err(unreachable)?, xhr))
    }

    fn open(url: &str) -> Result<Self, String> {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err("not a web address (http:// or https://)".into());
        }
        let (status, xhr) = Self::get(url, 0, 0)?;
        match status {
            206 => {}
            200 => return Err("the server sends whole files only (no HTTP range requests), so it would be downloaded whole; download it and drop it instead".into()),
            0 => return Err("the browser could not read it: the server does not allow other sites to read its files (CORS), or it cannot be reached".into()),
            other => return Err(format!("the server answered HTTP {other}")),
        }
        // Content-Range: bytes 0-0/SIZE (cross-origin, the server must expose the header)
        let range = xhr.get_response_header("Content-Range").ok().flatten().unwrap_or_default();
        let len = range.rsplit('/').next().and_then(|s| s.trim().parse::<u64>().ok()).ok_or_else(|| {
            format!("the server did not say the file's size (Content-Range '{range}'; a server on another site must expose that header)")
        })?;
        Ok(Self { url: url.to_string(), len })
    }
}

impl ReadAt for UrlReader {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), String> {
        if buf.is_empty() {
            return Ok(());
        }
        let (status, xhr) = Self::get(&self.url, offset, offset + buf.len() as u64 - 1)?;
        if status != 206 {
            return Err(format!("the server answered HTTP {status} to a range request"));
        }
        let array = js_sys::Uint8Array::new(&xhr.response().map_err(|e| format!("{e:?}"))?);
        if array.length() as usize != buf.len() {
            return Err(format!("the server sent {} bytes at {offset} where {} were asked (the file changed?)", array.length(), buf.len()));
        }
        array.copy_to(buf);
        Ok(())
    }
}

/// A dropped `File` read by offset (`Blob.slice` read with `FileReaderSync`, which workers may
/// use), so that only the parts a reader uses are read: an NWB's raw imaging never is.
struct BlobReader {
    file: web_sys::File,
    len: u64,
}

// SAFETY: the wasm module is built without atomics, so it has one thread and the `File` handle
// never crosses to another; `hdf5-pure` asks for `Send + Sync` sources for native threads.
unsafe impl Send for BlobReader {}
unsafe impl Sync for BlobReader {}

impl ReadAt for BlobReader {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), String> {
        let end = offset + buf.len() as u64;
        let slice = self.file.slice_with_f64_and_f64(offset as f64, end as f64).map_err(|e| format!("the browser could not slice the file: {e:?}"))?;
        let buffer = web_sys::FileReaderSync::new()
            .and_then(|reader| reader.read_as_array_buffer(&slice))
            .map_err(|e| format!("the browser could not read the file: {e:?}"))?;
        let array = js_sys::Uint8Array::new(&buffer);
        if array.length() as usize != buf.len() {
            return Err(format!("the browser gave {} bytes at {offset} where {} were asked (the file changed?)", array.length(), buf.len()));
        }
        array.copy_to(buf);
        Ok(())
    }
}

