//! The job log: what the image creator printed, line by line as it came, with the runner's
//! own lines between. It is the file the web page shows and the e-mail links to; on failure
//! it ends with the 2010 service's last words.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

/// The line the 2010 service appended to the log of a failed build.
pub const FAILED_LINE: &str = "IMG FAILED MISERABLY IN CREATING THE IMAGE!";

/// A log file, shared by the tasks of one run. Writes are line-buffered: a line is written
/// when it is complete, so a reader (the web page tailing it) never sees half of one.
#[derive(Clone)]
pub struct JobLog {
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    file: std::fs::File,
    path: PathBuf,
    partial: Vec<u8>,
}

impl JobLog {
    /// Creates (or truncates) the log at `path`.
    pub fn create(path: &Path) -> std::io::Result<JobLog> {
        let file = std::fs::File::create(path)?;
        Ok(JobLog {
            inner: Arc::new(Mutex::new(Inner {
                file,
                path: path.to_owned(),
                partial: Vec::new(),
            })),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The file's path.
    pub fn path(&self) -> PathBuf {
        self.lock().path.clone()
    }

    /// Appends a line of the runner's own.
    pub fn line(&self, text: &str) {
        let mut inner = self.lock();
        let pending = std::mem::take(&mut inner.partial);
        let mut out = pending;
        if !out.is_empty() {
            out.push(b'\n');
        }
        out.extend_from_slice(text.as_bytes());
        out.push(b'\n');
        if let Err(e) = inner.file.write_all(&out) {
            tracing::warn!(error = %e, "job log not written");
        }
    }

    /// Appends output as it arrives: complete lines are written at once, the rest waits for
    /// its newline.
    pub fn output(&self, data: &[u8]) {
        let mut inner = self.lock();
        inner.partial.extend_from_slice(data);
        if let Some(end) = inner.partial.iter().rposition(|b| *b == b'\n') {
            let complete: Vec<u8> = inner.partial.drain(..=end).collect();
            if let Err(e) = inner.file.write_all(&complete) {
                tracing::warn!(error = %e, "job log not written");
            }
        }
    }

    /// Writes what is pending and syncs the file.
    pub fn finish(&self) {
        let mut inner = self.lock();
        let pending = std::mem::take(&mut inner.partial);
        if !pending.is_empty() {
            let _ = inner.file.write_all(&pending);
            let _ = inner.file.write_all(b"\n");
        }
        let _ = inner.file.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_written_by_whole_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.log");
        let log = JobLog::create(&path).unwrap();
        log.line("==> build");
        log.output(b"Retrieving pack");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "==> build\n");
        log.output(b"ages\nInstalling");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "==> build\nRetrieving packages\n"
        );
        log.line(FAILED_LINE);
        log.finish();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("==> build\nRetrieving packages\nInstalling\n{FAILED_LINE}\n")
        );
    }
}
