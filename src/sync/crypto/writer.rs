//! Writing a batch file: hashed and counted as it goes, age-encrypted to the recipients or
//! plaintext, written on a thread of its own under a `.partial` name, then made durable and
//! renamed (or left for the caller to complete).

use super::*;

/// A writer that hashes and counts what passes through it.
pub struct HashWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> HashWriter<W> {
    pub fn new(inner: W) -> HashWriter<W> {
        HashWriter {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    pub fn finish(self) -> (W, String, u64) {
        (self.inner, hex::encode(self.hasher.finalize()), self.bytes)
    }
}

impl<W: Write> Write for HashWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

enum Sink {
    Plain(BufWriter<File>),
    Age(age::stream::StreamWriter<HashWriter<BufWriter<File>>>),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Plain(w) => w.write(buf),
            Sink::Age(w) => w.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Sink::Plain(w) => w.write_all(buf),
            Sink::Age(w) => w.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Plain(w) => w.flush(),
            Sink::Age(w) => w.flush(),
        }
    }
}

/// A batch file being written: plaintext, or age-encrypted to recipients. Written under a
/// `.partial` name and renamed when complete, so a reader never sees half a file.
///
/// Hashing, encryption and writing run on a thread of their own, fed in large chunks, so they
/// overlap the caller's reading and encoding of records.
pub struct BatchWriter {
    buf: Vec<u8>,
    tx: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    thread: Option<std::thread::JoinHandle<Result<(Written, Unsynced)>>>,
}

/// Bytes handed to the writing thread at a time.
const CHUNK: usize = 1 << 18;

impl BatchWriter {
    pub fn create(path: PathBuf, recipients: Option<&Recipients>) -> Result<BatchWriter> {
        let mut sink = FileSink::create(path, recipients)?;
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
        let thread = std::thread::spawn(move || {
            for chunk in rx {
                sink.write_all(&chunk)?;
            }
            sink.finish_unsynced()
        });
        Ok(BatchWriter {
            buf: Vec::with_capacity(CHUNK + (1 << 16)),
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    pub fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= CHUNK {
            let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK + (1 << 16)));
            let sent = self.tx.as_ref().map(|tx| tx.send(chunk));
            if !matches!(sent, Some(Ok(()))) {
                // The thread stopped: it failed; its error says why.
                return Err(self
                    .join()
                    .err()
                    .unwrap_or_else(|| SyncError::Usage("the batch writer stopped early".into())));
            }
        }
        Ok(())
    }

    fn join(&mut self) -> Result<(Written, Unsynced)> {
        self.tx = None;
        match self.thread.take().map(std::thread::JoinHandle::join) {
            Some(Ok(r)) => r,
            _ => Err(SyncError::Usage("the batch writer thread failed".into())),
        }
    }

    /// Finish the file, make it durable, and give it its final name.
    pub fn finish(self) -> Result<Written> {
        let (written, unsynced) = self.finish_unsynced()?;
        unsynced.complete()?;
        Ok(written)
    }

    /// Finish writing without waiting for the disk: [`Unsynced::complete`] (which may run on
    /// another thread, overlapping the next file's work) makes it durable and names it.
    pub fn finish_unsynced(mut self) -> Result<(Written, Unsynced)> {
        let rest = std::mem::take(&mut self.buf);
        if !rest.is_empty()
            && let Some(tx) = &self.tx
        {
            // A failed send means the thread already stopped with an error, which join returns.
            let _ = tx.send(rest);
        }
        self.join()
    }
}

/// The writing end of a batch file (see [`BatchWriter`]).
struct FileSink {
    sink: HashWriter<Sink>,
    partial: PathBuf,
    path: PathBuf,
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub bytes: u64,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
    /// SHA-256 of the plaintext.
    pub content_sha256: String,
}

impl FileSink {
    fn create(path: PathBuf, recipients: Option<&Recipients>) -> Result<FileSink> {
        let partial = path.with_file_name(format!(
            "{}.partial",
            path.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        ));
        let mut opts = OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let file = opts.open(&partial).map_err(SyncError::io(&partial))?;
        let out = BufWriter::with_capacity(1 << 16, file);
        let sink = match recipients {
            None => Sink::Plain(out),
            Some(r) => {
                let encryptor = age::Encryptor::with_recipients(
                    r.keys.iter().map(|k| k as &dyn age::Recipient),
                )
                .map_err(|e| SyncError::Key(format!("cannot encrypt to the recipients: {e}")))?;
                Sink::Age(
                    encryptor
                        .wrap_output(HashWriter::new(out))
                        .map_err(SyncError::io(&partial))?,
                )
            }
        };
        Ok(FileSink {
            sink: HashWriter::new(sink),
            partial,
            path,
        })
    }

    fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        self.sink
            .write_all(bytes)
            .map_err(SyncError::io(&self.partial))
    }

    fn finish_unsynced(self) -> Result<(Written, Unsynced)> {
        let io = SyncError::io(self.partial.clone());
        let (sink, content_sha256, content_bytes) = self.sink.finish();
        let (out, sha256, bytes) = match sink {
            Sink::Plain(w) => (w, content_sha256.clone(), content_bytes),
            Sink::Age(w) => match w.finish() {
                Ok(hashed) => hashed.finish(),
                Err(e) => return Err(io(e)),
            },
        };
        let file = match out.into_inner() {
            Ok(f) => f,
            Err(e) => return Err(SyncError::io(&self.partial)(e.into_error())),
        };
        Ok((
            Written {
                bytes,
                sha256,
                content_sha256,
            },
            Unsynced {
                file,
                partial: self.partial,
                path: self.path,
            },
        ))
    }
}

/// A written file not yet durable nor under its final name.
pub struct Unsynced {
    file: File,
    partial: PathBuf,
    path: PathBuf,
}

impl Unsynced {
    /// Sync the file and rename it to `to` (default: the name it was created for).
    pub fn complete_as(self, to: Option<&Path>) -> Result<PathBuf> {
        self.file.sync_all().map_err(SyncError::io(&self.partial))?;
        drop(self.file);
        let to = to.map_or(self.path, Path::to_owned);
        std::fs::rename(&self.partial, &to).map_err(SyncError::io(&to))?;
        Ok(to)
    }

    pub fn complete(self) -> Result<PathBuf> {
        self.complete_as(None)
    }

    /// The temporary name (to clean up after a failure).
    pub fn partial(&self) -> &Path {
        &self.partial
    }
}
