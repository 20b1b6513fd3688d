//! The job's disk: a qcow2 overlay on the base disk (`qemu-img create -b`), constant time
//! whatever the base's size, and removed when dropped.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

/// How long `qemu-img create` may take (it writes a few KiB).
const CREATE_TIMEOUT: Duration = Duration::from_secs(30);

/// An overlay file, deleted on drop.
#[derive(Debug)]
pub struct Overlay {
    path: PathBuf,
}

/// Why the overlay could not be made.
#[derive(Debug, thiserror::Error)]
pub enum OverlayError {
    /// qemu-img could not be run.
    #[error("running {program}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        source: std::io::Error,
    },
    /// qemu-img failed.
    #[error("qemu-img create failed: {0}")]
    Failed(String),
    /// qemu-img did not finish in time.
    #[error("qemu-img create did not finish within {0:?}")]
    Timeout(Duration),
}

impl Overlay {
    /// Creates `path` as a qcow2 overlay backed by the qcow2 `base`.
    pub async fn create(
        qemu_img: &Path,
        base: &Path,
        path: &Path,
    ) -> Result<Overlay, OverlayError> {
        let mut cmd = Command::new(qemu_img);
        cmd.arg("create")
            .arg("-q")
            .args(["-f", "qcow2", "-F", "qcow2", "-b"])
            .arg(base)
            .arg(path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let child = cmd.spawn().map_err(|source| OverlayError::Spawn {
            program: qemu_img.display().to_string(),
            source,
        })?;
        // Owned from here: a failure below still removes whatever was written.
        let overlay = Overlay {
            path: path.to_owned(),
        };
        let out = tokio::time::timeout(CREATE_TIMEOUT, child.wait_with_output())
            .await
            .map_err(|_| OverlayError::Timeout(CREATE_TIMEOUT))?
            .map_err(|source| OverlayError::Spawn {
                program: qemu_img.display().to_string(),
                source,
            })?;
        if !out.status.success() {
            return Err(OverlayError::Failed(
                String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            ));
        }
        Ok(overlay)
    }

    /// The overlay's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Overlay {
    fn drop(&mut self) {
        // Gone already is fine; anything else would leave a clone behind, so say so.
        if let Err(e) = std::fs::remove_file(&self.path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.path.display(), error = %e, "overlay not removed");
        }
    }
}
