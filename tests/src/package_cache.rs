//! Sharing the creator's package cache between a persistent directory and a test site's
//! package-cache claim. The end-to-end site starts with an empty claim, so its first builds
//! would download every package inside TCG guests (on a fresh machine: 1351 s of apt in a
//! build against 605–636 s with the cache filled). With `IMG_E2E_PACKAGE_CACHE` (scripts/lib.sh
//! sets it to the cache `scripts/build-example` uses) the claim starts with that cache's
//! packages and gives back what its builds downloaded, as a cluster's claim persists between
//! builds; what its builds dropped (older versions, files not matching the index) is removed
//! there too, so the directory does not grow without end. Nothing is trusted for it: the
//! creator checks every cached file against the repository's signed index before a build
//! uses it.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// Links (or copies) into `to` the packages of `from` that `to` does not have: the `.deb`
/// files of each repository set's directory (`<arch>-<key>/`). Staging directories (names
/// starting with a dot) are left out. The files placed, as `<set>/<file>` paths.
pub fn share(from: &Path, to: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut placed = Vec::new();
    let Ok(sets) = fs::read_dir(from) else {
        return Ok(placed); // Nothing cached yet.
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
            placed.push(Path::new(&set.file_name()).join(&name));
        }
    }
    Ok(placed)
}

/// Removes from `cache` the files of `given` (what [`share`] placed from it into `claim`)
/// that are no longer in `claim`: the creator dropped them there as older versions or as
/// files that do not match the signed index, so they must not be handed out again. The
/// number removed.
pub fn forget_dropped(cache: &Path, claim: &Path, given: &[PathBuf]) -> anyhow::Result<usize> {
    let mut removed = 0;
    for file in given {
        if claim.join(file).exists() {
            continue;
        }
        match fs::remove_file(cache.join(file)) {
            Ok(()) => removed += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("removing {}", file.display())),
        }
    }
    Ok(removed)
}

/// A site's package-cache claim filled from a persistent cache: what [`share`] placed, so that
/// [`SharedPackages::give_back`] can return the new packages and forget the dropped ones.
#[derive(Debug)]
pub struct SharedPackages {
    cache: PathBuf,
    claim: PathBuf,
    given: Vec<PathBuf>,
}

impl SharedPackages {
    /// Fills `claim` from `cache`.
    pub fn fill(cache: PathBuf, claim: PathBuf) -> anyhow::Result<SharedPackages> {
        let given = share(&cache, &claim)
            .with_context(|| format!("filling the package cache from {}", cache.display()))?;
        Ok(SharedPackages {
            cache,
            claim,
            given,
        })
    }

    /// The persistent cache.
    pub fn cache(&self) -> &Path {
        &self.cache
    }

    /// How many packages the claim was given.
    pub fn given(&self) -> usize {
        self.given.len()
    }

    /// Forgets in the cache what the builds dropped from the claim, then gives the cache what
    /// they downloaded: (forgotten, kept).
    pub fn give_back(&self) -> anyhow::Result<(usize, usize)> {
        let dropped = forget_dropped(&self.cache, &self.claim, &self.given)?;
        Ok((dropped, share(&self.claim, &self.cache)?.len()))
    }
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

        let placed = share(from.path(), to.path()).unwrap();
        assert_eq!(placed, [Path::new("amd64-0123/b_1_amd64.deb")]);
        let got = to.path().join("amd64-0123");
        assert_eq!(fs::read_to_string(got.join("b_1_amd64.deb")).unwrap(), "b");
        assert_eq!(
            fs::read_to_string(got.join("a_1_amd64.deb")).unwrap(),
            "mine",
            "a file already there is kept"
        );
        assert!(!got.join("notes.txt").exists());
        assert!(!to.path().join(".incoming").exists());
        assert!(
            share(from.path(), to.path()).unwrap().is_empty(),
            "nothing new"
        );
        assert!(
            share(&from.path().join("missing"), to.path())
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn what_the_creator_dropped_is_forgotten_and_the_rest_kept() {
        let (cache, claim) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let set = cache.path().join("amd64-0123");
        fs::create_dir_all(&set).unwrap();
        for name in ["old_1_amd64.deb", "kept_1_amd64.deb", "other_1_amd64.deb"] {
            fs::write(set.join(name), name).unwrap();
        }
        let given = share(cache.path(), claim.path()).unwrap();
        assert_eq!(given.len(), 3);
        // A build drops the older version and downloads its successor.
        let claim_set = claim.path().join("amd64-0123");
        fs::remove_file(claim_set.join("old_1_amd64.deb")).unwrap();
        fs::write(claim_set.join("old_2_amd64.deb"), "new").unwrap();
        // Something else removed a file from the cache in the meantime.
        fs::remove_file(set.join("other_1_amd64.deb")).unwrap();
        fs::remove_file(claim_set.join("other_1_amd64.deb")).unwrap();

        assert_eq!(
            forget_dropped(cache.path(), claim.path(), &given).unwrap(),
            1
        );
        let back = share(claim.path(), cache.path()).unwrap();
        assert_eq!(back, [Path::new("amd64-0123/old_2_amd64.deb")]);
        let mut left: Vec<String> = fs::read_dir(&set)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["kept_1_amd64.deb", "old_2_amd64.deb"]);
    }
}
