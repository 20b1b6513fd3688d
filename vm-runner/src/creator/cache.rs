//! The package cache (`--cachedir`, mic's `-k`): the `.deb` files a build used, kept for the
//! next build from the same repositories, so a second build downloads no package again.
//!
//! mmdebstrap does the moving with its own hooks: the cache is synced into the new root's
//! `/var/cache/apt/archives` before apt runs, and what is there after the packages are
//! installed is synced out to a staging directory, whose files then replace the cache's one
//! by one (a rename, so a build reading the cache at the same time never sees half a file).
//!
//! apt takes a file it finds in `archives/` on its size alone, so a cache is only as
//! trustworthy as whatever can write to it. Each cache is therefore kept per repository set
//! (a hostile repository only ever fills its own), and before anything is installed an
//! extract hook runs `img-creator verify-package-cache`, which checks every cached file
//! against the SHA256 of the repository's signed index that apt has just fetched: a file the
//! index does not list is dropped, and one that differs from it is removed from the cache and
//! fails the build, which then says so; the next build downloads that package again.

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use super::output::sha256;
use super::recipe::Recipe;

/// Where apt keeps downloaded packages, inside a root.
const ARCHIVES: &str = "var/cache/apt/archives";
/// Where apt keeps the repository indexes, inside a root.
const LISTS: &str = "var/lib/apt/lists";
/// The directory of staging directories, inside the cache directory.
const INCOMING: &str = ".incoming";
/// The subcommand the extract hook runs.
pub const VERIFY_COMMAND: &str = "verify-package-cache";

/// The cache of one build: its repository set's directory, and a staging directory that is
/// removed when this is dropped.
#[derive(Debug)]
pub struct PackageCache {
    dir: PathBuf,
    staging: PathBuf,
}

/// What a build took from the cache and gave back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kept {
    /// Packages the build took from the cache unchanged.
    pub reused: usize,
    /// Packages apt downloaded, now in the cache.
    pub downloaded: usize,
}

impl PackageCache {
    /// Opens (creating) the cache for `recipe`'s repositories under `root_dir`.
    pub fn open(root_dir: &Path, recipe: &Recipe) -> Result<PackageCache> {
        PackageCache::open_for(root_dir, &key(&recipe.arch, &recipe.suite, &recipe.sources))
    }

    fn open_for(root_dir: &Path, key: &str) -> Result<PackageCache> {
        let text = root_dir.to_str().unwrap_or_default();
        // mmdebstrap splits its special hooks (`sync-in DIR …`) on white space.
        if text.is_empty() || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            bail!(
                "--cachedir {}: the path must be UTF-8 without spaces or control characters",
                root_dir.display()
            );
        }
        let dir = root_dir.join(key);
        fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create the package cache {}", dir.display()))?;
        let incoming = root_dir.join(INCOMING);
        fs::create_dir_all(&incoming)
            .with_context(|| format!("cannot create {}", incoming.display()))?;
        let staging = tempfile::Builder::new()
            .prefix("build-")
            .tempdir_in(&incoming)
            .with_context(|| format!("cannot create a directory in {}", incoming.display()))?
            .keep();
        Ok(PackageCache { dir, staging })
    }

    /// This repository set's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// mmdebstrap's options: keep the essential packages' files, fill `archives/` from the
    /// cache, verify it once apt has the indexes, and copy `archives/` out at the end.
    /// `creator` is this program (the extract hook runs it).
    pub fn mmdebstrap_args(&self, creator: &Path) -> Vec<String> {
        let quote = |p: &Path| -> String {
            let text = p.display().to_string();
            shlex::try_quote(&text).map_or_else(|_| "''".to_owned(), |q| q.into_owned())
        };
        vec![
            "--skip=essential/unlink".into(),
            // Fixed text: the shell sees no value of the build's.
            "--setup-hook=mkdir -p \"$1/var/cache/apt/archives\"".into(),
            format!("--setup-hook=sync-in {} /{ARCHIVES}/", self.dir.display()),
            format!(
                "--extract-hook={} {VERIFY_COMMAND} \"$1\" {}",
                quote(creator),
                quote(&self.dir)
            ),
            format!(
                "--customize-hook=sync-out /{ARCHIVES} {}",
                self.staging.display()
            ),
        ]
    }

    /// Moves what the build had in `archives/` into the cache; counts what was downloaded
    /// (a file the cache did not have with this size and time: apt stamps a download with
    /// the repository's time, and the hooks keep times).
    pub fn keep(&self) -> Result<Kept> {
        let mut kept = Kept {
            reused: 0,
            downloaded: 0,
        };
        for (name, meta) in debs(&self.staging)? {
            let target = self.dir.join(&name);
            match fs::metadata(&target) {
                Ok(old) if old.len() == meta.len() && old.mtime() == meta.mtime() => {
                    kept.reused += 1;
                    continue;
                }
                _ => kept.downloaded += 1,
            }
            fs::rename(self.staging.join(&name), &target)
                .with_context(|| format!("cannot move {name} into {}", self.dir.display()))?;
        }
        Ok(kept)
    }
}

impl Drop for PackageCache {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.staging);
    }
}

/// The cache directory's name for a repository set: a digest of what decides which files
/// apt would fetch (architecture, suite, sources), after the architecture.
fn key(arch: &str, suite: &str, sources: &[String]) -> String {
    let mut hash = Sha256::new();
    hash.update(arch.as_bytes());
    hash.update(b"\n");
    hash.update(suite.as_bytes());
    for source in sources {
        hash.update(b"\n");
        hash.update(source.as_bytes());
    }
    let digest = hex::encode(hash.finalize());
    let arch: String = arch
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    format!("{arch}-{}", &digest[..16])
}

/// The regular `.deb` files directly in `dir`, with their metadata.
fn debs(dir: &Path) -> Result<Vec<(String, fs::Metadata)>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let entry = entry?;
        let meta = entry.metadata()?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if meta.is_file() && name.ends_with(".deb") {
            out.push((name, meta));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// What the index says a package file must be.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Expected {
    size: u64,
    sha256: String,
}

/// The package files the indexes in `lists` list, by the name apt gives them in
/// `archives/` (`package_version_arch.deb`, a version's `:` written `%3a`).
fn index(lists: &Path) -> Result<HashMap<String, Expected>> {
    let mut out = HashMap::new();
    for entry in fs::read_dir(lists).with_context(|| format!("cannot read {}", lists.display()))? {
        let path = entry?.path();
        let is_packages = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with("_Packages"));
        if is_packages {
            let file =
                fs::File::open(&path).with_context(|| format!("cannot read {}", path.display()))?;
            read_packages(BufReader::new(file), &mut out)
                .with_context(|| format!("reading {}", path.display()))?;
        }
    }
    Ok(out)
}

/// Adds the stanzas of one `Packages` file to `out`.
fn read_packages(input: impl BufRead, out: &mut HashMap<String, Expected>) -> Result<()> {
    let mut fields: HashMap<&'static str, String> = HashMap::new();
    let mut finish = |fields: &mut HashMap<&'static str, String>| {
        if let (Some(p), Some(v), Some(a), Some(s), Some(h)) = (
            fields.get("Package"),
            fields.get("Version"),
            fields.get("Architecture"),
            fields.get("Size").and_then(|s| s.parse::<u64>().ok()),
            fields.get("SHA256"),
        ) {
            let name = format!("{p}_{}_{a}.deb", v.replace(':', "%3a"));
            out.insert(
                name,
                Expected {
                    size: s,
                    sha256: h.to_ascii_lowercase(),
                },
            );
        }
        fields.clear();
    };
    for line in input.lines() {
        let line = line?;
        if line.is_empty() {
            finish(&mut fields);
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = match name {
            "Package" => "Package",
            "Version" => "Version",
            "Architecture" => "Architecture",
            "Size" => "Size",
            "SHA256" => "SHA256",
            _ => continue,
        };
        fields.insert(name, value.trim().to_owned());
    }
    finish(&mut fields);
    Ok(())
}

/// What [`verify`] found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Verified {
    /// Files that match the index.
    pub good: usize,
    /// Files the index does not list (older versions): dropped from the root and the cache.
    pub stale: Vec<String>,
    /// Files that differ from the index: dropped from the root and the cache.
    pub corrupt: Vec<String>,
}

/// Checks every package file in `root`'s `archives/` against `root`'s indexes; drops stale
/// and corrupt ones from both `archives/` and `cache`.
pub fn verify(root: &Path, cache: &Path) -> Result<Verified> {
    let expected = index(&root.join(LISTS))?;
    if expected.is_empty() {
        bail!(
            "no package index in {}: nothing to check the cache against",
            root.join(LISTS).display()
        );
    }
    let archives = root.join(ARCHIVES);
    let mut found = Verified::default();
    for (name, meta) in debs(&archives)? {
        let verdict = match expected.get(&name) {
            None => Some(&mut found.stale),
            Some(e) if e.size != meta.len() || sha256(&archives.join(&name))? != e.sha256 => {
                Some(&mut found.corrupt)
            }
            Some(_) => None,
        };
        match verdict {
            None => found.good += 1,
            Some(list) => {
                fs::remove_file(archives.join(&name))?;
                let _ = fs::remove_file(cache.join(&name));
                list.push(name);
            }
        }
    }
    Ok(found)
}

/// `img-creator verify-package-cache ROOT CACHE`, run by mmdebstrap's extract hook: exit 0
/// when every cached file is good (stale ones dropped), 1 when one was corrupt.
pub fn verify_main(args: &[String]) -> std::process::ExitCode {
    use std::process::ExitCode;
    let [root, cache] = args else {
        eprintln!("usage: img-creator {VERIFY_COMMAND} ROOT CACHE");
        return ExitCode::from(2);
    };
    match verify(Path::new(root), Path::new(cache)) {
        Ok(found) if found.corrupt.is_empty() => {
            println!(
                "Info: package cache: {} files match the repository index{}",
                found.good,
                if found.stale.is_empty() {
                    String::new()
                } else {
                    format!(", {} older versions dropped", found.stale.len())
                }
            );
            ExitCode::SUCCESS
        }
        Ok(found) => {
            eprintln!(
                "Error: the package cache held {} files that differ from the repository's \
                 signed index (removed from the cache; the next build downloads them): {}",
                found.corrupt.len(),
                found.corrupt.join(", ")
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("Error: checking the package cache: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
#[path = "cache_tests.rs"]
mod tests;
