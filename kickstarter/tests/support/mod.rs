//! Helpers shared by the integration tests: finding the reference corpus in `../shared`, and
//! copying corpus inputs into scratch directories (the corpus itself is read-only).
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

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
