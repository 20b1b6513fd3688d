//! Helpers shared by the integration tests: finding the reference corpus in `../shared`,
//! listing and copying corpus files into scratch directories (the corpus itself is
//! read-only), and a staged copy of the kickstart files for `%include`.
//!
//! The corpus renamed the Fedora files with an era prefix
//! (`fedora-15-era-live-base.ks`, `spin-kickstarts-2015-fedora-live-base.ks`)
//! while their `%include` lines use the upstream names (`fedora-live-base.ks`).
//! [`Staged`] recreates the upstream layout in a temporary directory with
//! symlinks, one directory per era, so that both our `DirIncludes` and
//! pykickstart resolve the includes the same way. Nothing is copied into
//! the crate; the symlinks point at the read-only originals.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)] // each test binary uses a subset

use std::path::{Path, PathBuf};

/// The reference directory (`../shared/reference` beside the checkout, or
/// `$IMG_SHARED_DIR/reference`). `None` when it is absent, which is only allowed outside CI.
pub fn reference_dir() -> Option<PathBuf> {
    let shared = std::env::var_os("IMG_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    let reference = shared.join("reference");
    if reference.is_dir() {
        return Some(reference);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "the reference corpus is missing at {} (CI must have ../shared beside the checkout)",
        reference.display()
    );
    eprintln!("skipped: no reference corpus at {}", reference.display());
    None
}

/// Copies the directory tree `from` into `to` (created if needed).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Every file under `root`, as paths relative to it, sorted.
pub fn files_under(root: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                walk(root, &entry.path(), out);
            } else {
                out.push(entry.path().strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    if root.is_dir() {
        walk(root, root, &mut out);
    }
    out.sort();
    out
}

/// The `kickstarter` binary built for this test run.
pub fn kickstarter_bin() -> &'static str {
    env!("CARGO_BIN_EXE_kickstarter")
}

/// Every regular file under `dir`, recursively, sorted.
pub fn paths_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let entries =
            std::fs::read_dir(&d).unwrap_or_else(|e| panic!("cannot list {}: {e}", d.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                todo.push(path);
            } else if path.is_file() {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The kickstarts written by the kickstarter tool:
/// `pairs/*/expected/**/*.ks` and `generated/*/output/**/*.ks`.
pub fn kickstarter_outputs(reference: &Path) -> Vec<PathBuf> {
    let corpus = reference.join("kickstarter-corpus");
    let mut out = Vec::new();
    for (group, sub) in [("pairs", "expected"), ("generated", "output")] {
        let Ok(entries) = std::fs::read_dir(corpus.join(group)) else {
            continue;
        };
        for entry in entries {
            let dir = entry.expect("directory entry").path().join(sub);
            if dir.is_dir() {
                out.extend(
                    paths_under(&dir)
                        .into_iter()
                        .filter(|p| p.extension().is_some_and(|e| e == "ks")),
                );
            }
        }
    }
    out.sort();
    out
}

/// A staged copy (symlinks) of `kickstart-files/` with the upstream include
/// names; removed on drop.
pub struct Staged {
    /// The temporary root.
    pub root: PathBuf,
    /// (path relative to `kickstart-files/`, staged path) for every corpus file.
    pub files: Vec<(String, PathBuf)>,
}

impl Staged {
    pub fn new(reference: &Path) -> Staged {
        let source = reference.join("kickstart-files");
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let root = std::env::temp_dir().join(format!("ks-stage-{}-{nanos}", std::process::id()));
        let mut files = Vec::new();
        for original in paths_under(&source) {
            let rel = original
                .strip_prefix(&source)
                .expect("under source")
                .to_string_lossy()
                .into_owned();
            let name = original
                .file_name()
                .expect("file name")
                .to_string_lossy()
                .into_owned();
            let (dir, aliases): (&str, Vec<String>) =
                if let Some(rest) = name.strip_prefix("fedora-15-era-") {
                    ("fedora-15-era", vec![format!("fedora-{rest}")])
                } else if let Some(rest) = name.strip_prefix("spin-kickstarts-2015-") {
                    ("fedora-2015", vec![rest.to_string()])
                } else {
                    (rel.split('/').next().unwrap_or("."), vec![])
                };
            let staged = root.join(dir).join(&name);
            link(&original, &staged);
            for alias in aliases {
                link(&original, &root.join(dir).join(alias));
            }
            files.push((rel, staged));
        }
        // The hand-written MeeGo/Fedora 15 file includes the Fedora 15 base.
        for name in ["live-base.ks", "live-minimization.ks"] {
            link(
                &source.join("fedora").join(format!("fedora-15-era-{name}")),
                &root.join("meego").join(format!("fedora-{name}")),
            );
        }
        Staged { root, files }
    }

    /// The staged path of a corpus file given relative to `kickstart-files/`.
    pub fn path(&self, rel: &str) -> &Path {
        &self
            .files
            .iter()
            .find(|(r, _)| r == rel)
            .unwrap_or_else(|| panic!("{rel} is not in the corpus"))
            .1
    }

    /// `text` with the staging root replaced by `<stage>`.
    pub fn redact(&self, text: &str) -> String {
        text.replace(&self.root.to_string_lossy().into_owned(), "<stage>")
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn link(original: &Path, staged: &Path) {
    std::fs::create_dir_all(staged.parent().expect("parent")).expect("create stage dir");
    std::os::unix::fs::symlink(original, staged).unwrap_or_else(|e| {
        panic!(
            "symlink {} -> {}: {e}",
            staged.display(),
            original.display()
        )
    });
}
