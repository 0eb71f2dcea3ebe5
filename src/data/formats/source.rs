//! Where a file's bytes come from: held in memory, or read on demand by offset.
//!
//! A recording file is a [`FileBytes`]: bytes already held (tests, fetched presets), a file on
//! disk (the command line), a dropped `File` in the page's reader worker, or a URL read by HTTP
//! ranges. HDF5 files (NWB, MATLAB v7.3) are read through it by offset, so listing one reads its
//! metadata and loading reads only the datasets used: a 26 GB NWB whose traces are a few MB costs
//! a few MB. The other formats are read whole (up to [`WHOLE_FILE_BYTES`]) and then within the
//! decode budget. Owns no format knowledge.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::FormatError;

/// Bytes a file read whole (CSV, NPY, NPZ, MATLAB v5) may have: 1 GiB. Those formats must be
/// held in memory to be parsed; NWB and HDF5 files of any size are read in parts instead.
pub const WHOLE_FILE_BYTES: u64 = 1 << 30;

/// Random access to a file's bytes (a disk file, a browser `Blob`, a URL).
#[allow(clippy::len_without_is_empty)] // a file's size, like `std::fs::Metadata::len`
pub trait ReadAt: Send + Sync {
    /// The file's size in bytes.
    fn len(&self) -> u64;
    /// Fills `buf` with the bytes at `offset`; the caller keeps within [`ReadAt::len`].
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), String>;
}

#[derive(Clone)]
enum Repr {
    Held(Arc<Vec<u8>>),
    Lazy(Arc<dyn ReadAt>, Arc<Window>),
}

/// Bytes fetched around recent small reads. Walking an HDF5 file makes thousands of reads of a
/// few bytes to a few KB, clustered where the writer put its metadata (often at both ends of a
/// file, around a big dataset); each read of a `Blob` or a URL has a fixed cost, so a small read
/// fetches [`WINDOW`] bytes, and the last [`WINDOWS`] such windows serve the reads near them.
#[derive(Default)]
struct Window(std::sync::Mutex<Vec<(u64, Vec<u8>)>>);

/// Bytes fetched for a read of at most [`SMALL_READ`] bytes (metadata: object headers, heaps,
/// B-tree nodes); larger reads (a chunk of data) go to the source as they are.
const WINDOW: usize = 64 << 10;
const WINDOWS: usize = 16;
const SMALL_READ: usize = 4 << 10;

/// A file's bytes and how many have been read so far (for progress, and for tests that check
/// a big file was not read whole). Cloning shares both.
#[derive(Clone)]
pub struct FileBytes {
    repr: Repr,
    read: Arc<AtomicU64>,
}

impl std::fmt::Debug for FileBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.repr {
            Repr::Held(_) => "held",
            Repr::Lazy(..) => "read on demand",
        };
        write!(f, "FileBytes({} bytes, {kind}, {} read)", self.len(), self.bytes_read())
    }
}

impl From<Vec<u8>> for FileBytes {
    fn from(bytes: Vec<u8>) -> Self {
        Self { repr: Repr::Held(Arc::new(bytes)), read: Arc::default() }
    }
}

impl From<&[u8]> for FileBytes {
    fn from(bytes: &[u8]) -> Self {
        bytes.to_vec().into()
    }
}

impl<const N: usize> From<&[u8; N]> for FileBytes {
    fn from(bytes: &[u8; N]) -> Self {
        bytes.to_vec().into()
    }
}

impl From<&Vec<u8>> for FileBytes {
    fn from(bytes: &Vec<u8>) -> Self {
        bytes.clone().into()
    }
}

impl FileBytes {
    /// Bytes read on demand from `source`.
    pub fn lazy(source: impl ReadAt + 'static) -> Self {
        Self { repr: Repr::Lazy(Arc::new(source), Arc::default()), read: Arc::default() }
    }

    /// A file on disk, read on demand.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn open(path: &std::path::Path) -> std::io::Result<Self> {
        let file = std::fs::File::open(path)?;
        let len = file.metadata()?.len();
        Ok(Self::lazy(DiskFile { file: std::sync::Mutex::new(file), len }))
    }

    /// The file's size in bytes.
    pub fn len(&self) -> u64 {
        match &self.repr {
            Repr::Held(bytes) => bytes.len() as u64,
            Repr::Lazy(source, _) => source.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes read from the source so far (held bytes count as they are used).
    pub fn bytes_read(&self) -> u64 {
        self.read.load(Ordering::Relaxed)
    }

    /// `len` bytes at `offset`, clipped to the end of the file.
    pub fn read(&self, offset: u64, len: usize) -> Result<Cow<'_, [u8]>, String> {
        let end = offset.saturating_add(len as u64).min(self.len());
        let start = offset.min(end);
        let (source, window) = match &self.repr {
            Repr::Held(bytes) => {
                self.read.fetch_add(end - start, Ordering::Relaxed);
                return Ok(Cow::Borrowed(&bytes[start as usize..end as usize]));
            }
            Repr::Lazy(source, window) => (source, window),
        };
        let want = (end - start) as usize;
        if want > SMALL_READ {
            let mut buf = vec![0; want];
            source.read_at(start, &mut buf)?;
            self.read.fetch_add(want as u64, Ordering::Relaxed);
            return Ok(Cow::Owned(buf));
        }
        let mut held = window.0.lock().map_err(|_| "a read of this file failed earlier".to_string())?;
        match held.iter().position(|(at, bytes)| *at <= start && end <= at + bytes.len() as u64) {
            // most recent first
            Some(i) => {
                let hit = held.remove(i);
                held.insert(0, hit);
            }
            None => {
                let fetch_end = start.saturating_add(WINDOW as u64).min(self.len()).max(end);
                let mut bytes = vec![0; (fetch_end - start) as usize];
                source.read_at(start, &mut bytes)?;
                self.read.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                held.insert(0, (start, bytes));
                held.truncate(WINDOWS);
            }
        }
        let (at, bytes) = &held[0];
        let from = (start - at) as usize;
        Ok(Cow::Owned(bytes[from..from + want].to_vec()))
    }

    /// The first `n` bytes (fewer in a shorter file), to tell the format by.
    pub fn head(&self, n: usize) -> Result<Cow<'_, [u8]>, String> {
        self.read(0, n)
    }

    /// The whole file, for formats parsed in memory; refused over [`WHOLE_FILE_BYTES`].
    pub fn whole(&self, file: &str, format: &str) -> Result<Cow<'_, [u8]>, FormatError> {
        let len = self.len();
        if len > WHOLE_FILE_BYTES {
            return Err(FormatError::invalid(
                file,
                format!(
                    "{format} files are read whole, and this one is {:.1} GB, over the {} GB limit for them; \
                     save the traces as NWB or HDF5 (read in parts, any size) or in smaller files",
                    len as f64 / 1e9,
                    WHOLE_FILE_BYTES >> 30
                ),
            ));
        }
        self.read(0, len as usize).map_err(|e| FormatError::invalid(file, format!("could not be read: {e}")))
    }

    /// The same bytes as an `hdf5-pure` source, read by offset.
    pub(crate) fn hdf5_source(&self) -> Hdf5Source {
        Hdf5Source(self.clone())
    }
}

/// [`FileBytes`] as `hdf5-pure` reads a file lazily.
pub(crate) struct Hdf5Source(FileBytes);

impl hdf5_pure::Source for Hdf5Source {
    fn len(&self) -> u64 {
        self.0.len()
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), hdf5_pure::FormatError> {
        let bytes = self.0.read(offset, buf.len()).map_err(hdf5_pure::FormatError::Source)?;
        if bytes.len() < buf.len() {
            return Err(hdf5_pure::FormatError::UnexpectedEof { expected: buf.len(), available: bytes.len() });
        }
        buf.copy_from_slice(&bytes);
        Ok(())
    }
}

/// A file on disk; reads seek and read under a lock (portable; the reader is sequential).
#[cfg(not(target_arch = "wasm32"))]
struct DiskFile {
    file: std::sync::Mutex<std::fs::File>,
    len: u64,
}

#[cfg(not(target_arch = "wasm32"))]
impl ReadAt for DiskFile {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), String> {
        use std::io::{Read, Seek, SeekFrom};
        let mut file = self.file.lock().map_err(|_| "a read of this file failed earlier".to_string())?;
        file.seek(SeekFrom::Start(offset)).and_then(|_| file.read_exact(buf)).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_clipped_and_counted() {
        let bytes = FileBytes::from((0u8..100).collect::<Vec<_>>());
        assert_eq!(bytes.head(4).unwrap().as_ref(), &[0, 1, 2, 3]);
        assert_eq!(bytes.read(98, 10).unwrap().as_ref(), &[98, 99]);
        assert_eq!(bytes.read(200, 10).unwrap().len(), 0);
        assert_eq!(bytes.bytes_read(), 6);
        assert_eq!(bytes.whole("f", "CSV").unwrap().len(), 100);
    }

    #[test]
    fn a_disk_file_is_read_by_offset() {
        let path = std::env::temp_dir().join(format!("neurognn-source-{}.bin", std::process::id()));
        std::fs::write(&path, (0u8..=255).collect::<Vec<_>>()).unwrap();
        let bytes = FileBytes::open(&path).unwrap();
        assert_eq!(bytes.len(), 256);
        assert_eq!(bytes.read(250, 3).unwrap().as_ref(), &[250, 251, 252]);
        // a small read fetches the rest of the window, and the next one nearby is served from it
        assert_eq!(bytes.bytes_read(), 6);
        assert_eq!(bytes.read(253, 2).unwrap().as_ref(), &[253, 254]);
        assert_eq!(bytes.bytes_read(), 6);
        assert_eq!(bytes.read(10, 2).unwrap().as_ref(), &[10, 11]);
        assert_eq!(bytes.bytes_read(), 6 + 246);
        std::fs::remove_file(&path).unwrap();
    }
}
