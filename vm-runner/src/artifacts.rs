//! The files a build produced: their sizes and SHA-256 sums.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

use img_crd::Artifact;
use sha2::{Digest, Sha256};

/// The regular files directly in `dir`, by name.
pub fn files_in(dir: &Path) -> std::io::Result<BTreeSet<String>> {
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_file()
            && let Some(name) = entry.file_name().to_str()
        {
            names.insert(name.to_owned());
        }
    }
    Ok(names)
}

/// SHA-256 (hex) and size of `path`, read in 1 MiB blocks.
pub fn digest(path: &Path) -> std::io::Result<(String, u64)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), size))
}

/// The artifacts among `names` in `dir`, checksummed.
pub fn describe(dir: &Path, names: &BTreeSet<String>) -> std::io::Result<Vec<Artifact>> {
    names
        .iter()
        .map(|name| {
            let (sha256, size) = digest(&dir.join(name))?;
            Ok(Artifact {
                name: name.clone(),
                size,
                sha256,
                url: None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_listed_and_summed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.raw"), b"abc").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let names = files_in(dir.path()).unwrap();
        assert_eq!(names.iter().collect::<Vec<_>>(), ["a.raw"]);
        let a = describe(dir.path(), &names).unwrap();
        assert_eq!(a[0].size, 3);
        assert_eq!(
            a[0].sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
