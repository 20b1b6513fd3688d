//! Sharing the creator's package cache between a persistent directory and a test site's
//! package-cache claim. The end-to-end site starts with an empty claim, so its first builds
//! would download every package inside TCG guests (on a fresh machine: 1351 s of apt in a
//! build against 605–636 s with the cache filled). With `IMG_PACKAGE_CACHE` (scripts/lib.sh
//! sets it to the cache `scripts/build-example` uses) the claim starts with that cache's
//! packages and gives back what its builds downloaded, as a cluster's claim persists between
//! builds. Nothing is trusted for it: the creator checks every cached file against the
//! repository's signed index before a build uses it.

use std::fs;
use std::path::Path;

use anyhow::Context as _;

/// Links (or copies) into `to` the packages of `from` that `to` does not have: the `.deb`
/// files of each repository set's directory (`<arch>-<key>/`). Staging directories (names
/// starting with a dot) are left out. The number of files placed.
pub fn share(from: &Path, to: &Path) -> anyhow::Result<usize> {
    let mut placed = 0;
    let Ok(sets) = fs::read_dir(from) else {
        return Ok(0); // Nothing cached yet.
    };
    for set in sets {
        let set = set?;
        if !set.file_type()?.is_dir() || set.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let target_set = to.join(set.file_name());
        for file in fs::read_dir(set.path())? {
            let file = file?;
            let name = file.file_name();
            if !file.file_type()?.is_file() || !name.to_string_lossy().ends_with(".deb") {
                continue;
            }
            let target = target_set.join(&name);
            if target.exists() {
                continue;
            }
            fs::create_dir_all(&target_set)?;
            // A link is safe to share: the creator replaces cache files by rename and only
            // ever unlinks them, never writes into one.
            if fs::hard_link(file.path(), &target).is_err() {
                fs::copy(file.path(), &target)
                    .with_context(|| format!("copying {}", file.path().display()))?;
            }
            placed += 1;
        }
    }
    Ok(placed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_only_the_packages_the_other_side_lacks() {
        let (from, to) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let set = from.path().join("amd64-0123");
        fs::create_dir_all(set.join(".incoming")).unwrap();
        fs::create_dir_all(from.path().join(".incoming/build-x")).unwrap();
        fs::write(set.join("a_1_amd64.deb"), "a").unwrap();
        fs::write(set.join("b_1_amd64.deb"), "b").unwrap();
        fs::write(set.join("notes.txt"), "not a package").unwrap();
        fs::write(from.path().join(".incoming/build-x/c_1_amd64.deb"), "c").unwrap();
        fs::create_dir_all(to.path().join("amd64-0123")).unwrap();
        fs::write(to.path().join("amd64-0123/a_1_amd64.deb"), "mine").unwrap();

        assert_eq!(share(from.path(), to.path()).unwrap(), 1);
        let got = to.path().join("amd64-0123");
        assert_eq!(fs::read_to_string(got.join("b_1_amd64.deb")).unwrap(), "b");
        assert_eq!(
            fs::read_to_string(got.join("a_1_amd64.deb")).unwrap(),
            "mine",
            "a file already there is kept"
        );
        assert!(!got.join("notes.txt").exists());
        assert!(!to.path().join(".incoming").exists());
        assert_eq!(share(from.path(), to.path()).unwrap(), 0, "nothing new");
        assert_eq!(share(&from.path().join("missing"), to.path()).unwrap(), 0);
    }
}
