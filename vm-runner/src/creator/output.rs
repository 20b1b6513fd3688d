//! Where the image files go and what they are called, as mic does it: the name is the
//! kickstart's base name plus `-YYYYMMDDHHMM`; with `--release ID` the files go to
//! `<outdir>/ID/images/<ksname>/`, are called `ID_<ksname>`, and get the kickstart and a
//! `SHA256SUMS` beside them. A failed build leaves none of its files behind.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

/// The image name and output directory for one build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Naming {
    /// The image name, the stem of every output file.
    pub name: String,
    /// The directory the files go to.
    pub destdir: PathBuf,
}

/// The kickstart's base name without extension, with anything outside `A-Za-z0-9._+-`
/// replaced by `_` (it becomes a file name and an ISO label).
pub fn ks_name(ks: &Path) -> String {
    let stem = ks
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let clean: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._+-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if clean.is_empty() || clean.starts_with('.') {
        format!("image{clean}")
    } else {
        clean
    }
}

/// Names the build of `ks` at `stamp` (`YYYYMMDDHHMM`).
pub fn naming(ks: &Path, outdir: &Path, release: Option<&str>, stamp: &str) -> Naming {
    let base = ks_name(ks);
    match release {
        Some(id) => Naming {
            name: format!("{id}_{base}"),
            destdir: outdir.join(id).join("images").join(&base),
        },
        None => Naming {
            name: format!("{base}-{stamp}"),
            destdir: outdir.to_owned(),
        },
    }
}

/// A release id must be usable as a directory name.
pub fn check_release(id: &str) -> Result<(), String> {
    if !id.is_empty()
        && id.len() <= 64
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._+-".contains(c))
    {
        Ok(())
    } else {
        Err(format!(
            "--release {id:?}: use letters, digits and . _ + - only"
        ))
    }
}

/// The files a build has written so far; removed on drop unless [`Outputs::keep`] was called.
pub struct Outputs {
    files: Vec<PathBuf>,
    kept: bool,
}

impl Outputs {
    /// Nothing written yet.
    pub fn new() -> Outputs {
        Outputs {
            files: Vec::new(),
            kept: false,
        }
    }

    /// Records `path` as an output (before it is written, so a half-written one goes too).
    pub fn add(&mut self, path: PathBuf) -> PathBuf {
        self.files.push(path.clone());
        path
    }

    /// The outputs.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// The build succeeded: leave the files.
    pub fn keep(mut self) -> Vec<PathBuf> {
        self.kept = true;
        std::mem::take(&mut self.files)
    }
}

impl Default for Outputs {
    fn default() -> Self {
        Outputs::new()
    }
}

impl Drop for Outputs {
    fn drop(&mut self) {
        if !self.kept {
            for f in &self.files {
                let _ = fs::remove_file(f);
            }
        }
    }
}

/// The sha256 of a file, hex.
pub fn sha256(path: &Path) -> Result<String> {
    let mut f = fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// A virt-image description of a raw image (mic's `<name>.xml`).
pub fn virt_image_xml(name: &str, arch: &str, disks: &[String]) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('\'', "&apos;")
            .replace('"', "&quot;")
    };
    let targets = ["hda", "hdb", "hdc", "hdd"];
    let drives: String = disks
        .iter()
        .zip(targets)
        .map(|(d, t)| format!("        <drive disk='{}' target='{t}'/>\n", esc(d)))
        .collect();
    let storage: String = disks
        .iter()
        .map(|d| format!("    <disk file='{}' use='system' format='raw'/>\n", esc(d)))
        .collect();
    format!(
        "<image>\n  <name>{}</name>\n  <domain>\n    <boot type='hvm'>\n      <guest>\n        \
         <arch>{}</arch>\n      </guest>\n      <os>\n        <loader dev='hd'/>\n      </os>\n\
         {drives}    </boot>\n    <devices>\n      <vcpu>1</vcpu>\n      <memory>1048576</memory>\n      \
         <interface/>\n      <graphics/>\n    </devices>\n  </domain>\n  <storage>\n{storage}  </storage>\n</image>\n",
        esc(name),
        esc(arch)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_mic() {
        let n = naming(
            Path::new("/in/meego-netbook.ks"),
            Path::new("/out"),
            None,
            "202611251200",
        );
        assert_eq!(n.name, "meego-netbook-202611251200");
        assert_eq!(n.destdir, PathBuf::from("/out"));
        let n = naming(Path::new("x/a b.ks"), Path::new("/out"), Some("1.2"), "s");
        assert_eq!(n.name, "1.2_a_b");
        assert_eq!(n.destdir, PathBuf::from("/out/1.2/images/a_b"));
        assert_eq!(ks_name(Path::new(".ks")), "image.ks");
        assert!(check_release("../x").is_err());
        assert!(check_release("1.0-rc1").is_ok());
    }

    #[test]
    fn outputs_go_unless_kept() {
        let dir = tempfile::tempdir().expect("tmp");
        let a = dir.path().join("a");
        {
            let mut o = Outputs::new();
            fs::write(o.add(a.clone()), "x").expect("write");
        }
        assert!(!a.exists());
        let mut o = Outputs::new();
        fs::write(o.add(a.clone()), "x").expect("write");
        assert_eq!(o.keep(), std::slice::from_ref(&a));
        assert!(a.exists());
    }

    #[test]
    fn xml_is_escaped() {
        let x = virt_image_xml("n<&", "x86_64", &["n-sda.raw".into()]);
        assert!(x.contains("<name>n&lt;&amp;</name>"));
        assert!(x.contains("<drive disk='n-sda.raw' target='hda'/>"));
    }
}
