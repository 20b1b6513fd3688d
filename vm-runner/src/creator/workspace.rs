//! The creator's scratch directory, and the mounts a chroot needs, each undone when dropped.
//!
//! The scratch directory is removed on every path, but never while anything is mounted
//! below it: deleting through a bind mount of `/dev` would destroy the host's files. If a
//! mount cannot be detached the directory is left in place and the problem is printed.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use nix::mount::{MntFlags, MsFlags, mount, umount2};

/// A scratch directory for one build.
pub struct Workspace {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
}

impl Workspace {
    /// Creates `img-creator-XXXXXX` under `parent`.
    pub fn new(parent: &Path) -> Result<Workspace> {
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
        let dir = tempfile::Builder::new()
            .prefix("img-creator-")
            .tempdir_in(parent)
            .with_context(|| format!("cannot create a work directory in {}", parent.display()))?;
        let path = dir.path().to_owned();
        Ok(Workspace {
            dir: Some(dir),
            path,
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let mut left = mounts_below(&self.path);
        left.sort_by_key(|m| std::cmp::Reverse(m.as_os_str().len()));
        for m in &left {
            let _ = umount2(m, MntFlags::MNT_DETACH);
        }
        let still = mounts_below(&self.path);
        if still.is_empty() {
            if let Some(dir) = self.dir.take() {
                let _ = dir.close();
            }
        } else {
            eprintln!(
                "Error: {} is left in place: still mounted there: {:?}",
                self.path.display(),
                still
            );
            if let Some(dir) = self.dir.take() {
                let _ = dir.keep();
            }
        }
    }
}

/// Mount points at or below `dir`, from `/proc/self/mountinfo`.
pub fn mounts_below(dir: &Path) -> Vec<PathBuf> {
    let Ok(info) = fs::read_to_string("/proc/self/mountinfo") else {
        return Vec::new();
    };
    info.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(unescape_mountinfo)
        .map(PathBuf::from)
        .filter(|p| p.starts_with(dir))
        .collect()
}

fn unescape_mountinfo(field: &str) -> String {
    // mountinfo writes space, tab, newline and backslash as \ooo octal escapes.
    let mut out = String::new();
    let mut chars = field.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            let code: String = chars.by_ref().take(3).collect();
            match u8::from_str_radix(&code, 8) {
                Ok(b) => out.push(b as char),
                Err(_) => {
                    out.push('\\');
                    out.push_str(&code);
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The mounts of a chroot (`/proc`, `/sys`, `/dev`), undone in reverse order when dropped.
pub struct ChrootMounts {
    mounted: Vec<PathBuf>,
}

impl ChrootMounts {
    /// Mounts proc, sysfs and a recursive bind of the host's `/dev` into `root`.
    pub fn mount(root: &Path) -> Result<ChrootMounts> {
        let mut m = ChrootMounts {
            mounted: Vec::new(),
        };
        let none: Option<&str> = None;
        for (what, dir, fstype, flags) in [
            ("proc", "proc", Some("proc"), MsFlags::empty()),
            ("sysfs", "sys", Some("sysfs"), MsFlags::MS_RDONLY),
            ("/dev", "dev", None, MsFlags::MS_BIND | MsFlags::MS_REC),
        ] {
            let target = root.join(dir);
            fs::create_dir_all(&target)?;
            mount(Some(what), &target, fstype, flags, none)
                .with_context(|| format!("cannot mount {what} on {}", target.display()))?;
            m.mounted.push(target);
        }
        Ok(m)
    }
}

impl Drop for ChrootMounts {
    fn drop(&mut self) {
        while let Some(target) = self.mounted.pop() {
            // /dev is a recursive bind: detaching takes its submounts (pts, shm) along.
            let _ = umount2(&target, MntFlags::MNT_DETACH);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_escapes() {
        assert_eq!(unescape_mountinfo("/a\\040b"), "/a b");
        assert_eq!(unescape_mountinfo("/plain"), "/plain");
    }

    #[test]
    fn workspace_is_removed() {
        let parent = tempfile::tempdir().expect("tmp");
        let path = {
            let ws = Workspace::new(parent.path()).expect("ws");
            fs::write(ws.path().join("f"), "x").expect("write");
            ws.path().to_owned()
        };
        assert!(!path.exists());
    }
}
