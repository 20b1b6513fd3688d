//! The base disk: `<stem>.qcow2` and, beside it, the kernel and initrd the runner boots
//! directly (no bootloader: faster, and the kernel matches the disk's modules) and a manifest
//! `<stem>.json` saying how. `vm-runner/base-disk/build` makes all four.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The marker the guest prints on its serial console when SSH is up.
pub const READY_MARKER: &str = "IMG-READY";
/// The prefix of the serial line with the guest's SSH host key.
pub const HOST_KEY_MARKER: &str = "IMG-HOSTKEY ";
/// The kernel parameter that carries the runner's public key (base64 of the OpenSSH line).
pub const SSH_KEY_PARAMETER: &str = "img.ssh_key";

/// What the manifest says.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Manifest {
    /// The kernel file, beside the disk.
    kernel: String,
    /// The initrd file, beside the disk.
    initrd: String,
    /// The kernel command line (root device, console, init).
    append: String,
    /// The Debian release and kernel, for people.
    #[serde(default)]
    description: String,
}

/// A base disk, found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseDisk {
    /// The qcow2 disk.
    pub disk: PathBuf,
    /// The kernel.
    pub kernel: PathBuf,
    /// The initrd.
    pub initrd: PathBuf,
    /// The kernel command line, without the SSH key.
    pub append: String,
    /// For the log.
    pub description: String,
}

/// Why a base disk cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BaseDiskError {
    /// A file is missing.
    #[error("base disk: {0} not found (build one with vm-runner/base-disk/build)")]
    Missing(PathBuf),
    /// The manifest cannot be read.
    #[error("base disk manifest {path}: {message}")]
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The disk name is not a plain file name.
    #[error("base disk name {0:?} must be a file name in the base-disk directory")]
    BadName(String),
}

impl BaseDisk {
    /// Finds base disk `name` (a file name like `base.qcow2`) in `dir`.
    pub fn find(dir: &Path, name: &str) -> Result<BaseDisk, BaseDiskError> {
        let plain = Path::new(name)
            .file_name()
            .is_some_and(|f| f == std::ffi::OsStr::new(name));
        if !plain || name == ".." || name == "." {
            return Err(BaseDiskError::BadName(name.to_owned()));
        }
        let disk = dir.join(name);
        if !disk.is_file() {
            return Err(BaseDiskError::Missing(disk));
        }
        let manifest_path = disk.with_extension("json");
        let text = std::fs::read_to_string(&manifest_path)
            .map_err(|_| BaseDiskError::Missing(manifest_path.clone()))?;
        let manifest: Manifest =
            serde_json::from_str(&text).map_err(|e| BaseDiskError::Manifest {
                path: manifest_path.clone(),
                message: e.to_string(),
            })?;
        let beside = |file: &str| -> Result<PathBuf, BaseDiskError> {
            if Path::new(file).file_name() != Some(std::ffi::OsStr::new(file)) {
                return Err(BaseDiskError::Manifest {
                    path: manifest_path.clone(),
                    message: format!("{file:?} must be a file name beside the disk"),
                });
            }
            let path = dir.join(file);
            if path.is_file() {
                Ok(path)
            } else {
                Err(BaseDiskError::Missing(path))
            }
        };
        Ok(BaseDisk {
            kernel: beside(&manifest.kernel)?,
            initrd: beside(&manifest.initrd)?,
            disk,
            append: manifest.append,
            description: manifest.description,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_disk_is_found_through_its_manifest() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["base.qcow2", "base.vmlinuz", "base.initrd"] {
            std::fs::write(dir.path().join(f), b"x").unwrap();
        }
        std::fs::write(
            dir.path().join("base.json"),
            r#"{"kernel":"base.vmlinuz","initrd":"base.initrd","append":"root=/dev/vda rw"}"#,
        )
        .unwrap();
        let b = BaseDisk::find(dir.path(), "base.qcow2").unwrap();
        assert_eq!(b.kernel, dir.path().join("base.vmlinuz"));
        assert_eq!(b.append, "root=/dev/vda rw");
        assert!(matches!(
            BaseDisk::find(dir.path(), "../etc/passwd"),
            Err(BaseDiskError::BadName(_))
        ));
        assert!(matches!(
            BaseDisk::find(dir.path(), "other.qcow2"),
            Err(BaseDiskError::Missing(_))
        ));
        std::fs::write(
            dir.path().join("base.json"),
            r#"{"kernel":"/boot/vmlinuz","initrd":"base.initrd","append":""}"#,
        )
        .unwrap();
        assert!(matches!(
            BaseDisk::find(dir.path(), "base.qcow2"),
            Err(BaseDiskError::Manifest { .. })
        ));
    }
}
