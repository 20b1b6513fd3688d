//! Where templates read their companion files from (`custom/scripts/*.post`, `custom/part/*`,
//! external configuration directories): a directory on disk for the command line, a confined
//! directory or an in-memory map for the service, where the template comes from a user.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

/// Largest companion file read (a script, a partition table, an external configuration).
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Read access to the files a template refers to, by the relative paths the template uses.
pub trait Files {
    /// The contents of `path`, or `None` if there is no such file.
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>>;
    /// The names of the entries of directory `dir`, sorted, or `None` if there is no such
    /// directory.
    fn list(&self, dir: &str) -> Result<Option<Vec<String>>>;
}

/// Checks that `path` stays inside the template's directory: relative, and no `..`.
fn confined(path: &str) -> Result<()> {
    let p = Path::new(path);
    let escapes = p.is_absolute()
        || p.components().any(|c| {
            matches!(
                c,
                Component::ParentDir | Component::Prefix(_) | Component::RootDir
            )
        });
    if escapes || path.contains('\0') {
        return Err(Error::file(
            path,
            "path leaves the template directory (absolute paths and '..' are not allowed here)",
        ));
    }
    Ok(())
}

/// Files under a directory on disk. Relative paths are resolved against the directory;
/// when confined, absolute paths and `..` are refused (the service mode).
#[derive(Debug, Clone)]
pub struct DirFiles {
    root: PathBuf,
    confined: bool,
}

impl DirFiles {
    /// Files relative to `root`; absolute paths are read as they are (the command line, where
    /// the user reads their own files, as the original tool did).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DirFiles {
            root: root.into(),
            confined: false,
        }
    }

    /// Files strictly inside `root`.
    pub fn confined(root: impl Into<PathBuf>) -> Self {
        DirFiles {
            root: root.into(),
            confined: true,
        }
    }

    fn resolve(&self, path: &str) -> Result<PathBuf> {
        if self.confined {
            confined(path)?;
        }
        Ok(self.root.join(path))
    }
}

impl Files for DirFiles {
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>> {
        let full = self.resolve(path)?;
        if !full.is_file() {
            return Ok(None);
        }
        let file = std::fs::File::open(&full).map_err(|e| Error::file(path, e.to_string()))?;
        let mut buf = Vec::new();
        file.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut buf)
            .map_err(|e| Error::file(path, e.to_string()))?;
        if buf.len() as u64 > MAX_FILE_BYTES {
            return Err(Error::file(
                path,
                format!("file is larger than {MAX_FILE_BYTES} bytes"),
            ));
        }
        Ok(Some(buf))
    }

    fn list(&self, dir: &str) -> Result<Option<Vec<String>>> {
        let full = self.resolve(dir)?;
        if !full.is_dir() {
            return Ok(None);
        }
        let entries = std::fs::read_dir(&full).map_err(|e| Error::file(dir, e.to_string()))?;
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::file(dir, e.to_string()))?;
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
        // The original walked os.listdir() order, which is whatever the file system returns;
        // sorting makes runs reproducible.
        names.sort();
        Ok(Some(names))
    }
}

/// Files held in memory, keyed by relative path (`custom/scripts/rpm.post`): templates that
/// arrive in a ConfigMap, an upload or an AMQP message. Always confined.
#[derive(Debug, Clone, Default)]
pub struct MemFiles {
    files: BTreeMap<String, Vec<u8>>,
}

fn normalize(path: &str) -> String {
    path.split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect::<Vec<_>>()
        .join("/")
}

impl MemFiles {
    /// No files.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a file.
    pub fn insert(&mut self, path: &str, contents: impl Into<Vec<u8>>) -> Result<()> {
        confined(path)?;
        self.files.insert(normalize(path), contents.into());
        Ok(())
    }
}

impl Files for MemFiles {
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>> {
        confined(path)?;
        Ok(self.files.get(&normalize(path)).cloned())
    }

    fn list(&self, dir: &str) -> Result<Option<Vec<String>>> {
        confined(dir)?;
        let dir = normalize(dir);
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let mut names: Vec<String> = self
            .files
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix))
            .map(|rest| rest.split('/').next().unwrap_or(rest).to_owned())
            .collect();
        names.dedup();
        Ok((!names.is_empty()).then_some(names))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_files_are_confined_and_listable() {
        let mut m = MemFiles::new();
        m.insert("./custom/scripts/a.post", "a").unwrap();
        m.insert("custom/scripts/b.post", "b").unwrap();
        m.insert("ex/x.yaml", "x").unwrap();
        assert_eq!(m.read("custom/scripts/a.post").unwrap().unwrap(), b"a");
        assert_eq!(m.read("custom//scripts/./b.post").unwrap().unwrap(), b"b");
        assert_eq!(m.read("custom/scripts/none.post").unwrap(), None);
        assert_eq!(
            m.list("custom/scripts").unwrap().unwrap(),
            ["a.post", "b.post"]
        );
        assert_eq!(m.list("custom").unwrap().unwrap(), ["scripts"]);
        assert_eq!(m.list("nothing").unwrap(), None);
        assert!(m.read("../etc/passwd").is_err());
        assert!(m.read("/etc/passwd").is_err());
        assert!(m.insert("custom/../../x", "").is_err());
    }

    #[test]
    fn confined_directories_refuse_escapes() {
        let d = DirFiles::confined("/tmp");
        let e = d.read("../etc/passwd").unwrap_err();
        assert!(e.message.contains("leaves the template directory"), "{e}");
        assert!(d.read("/etc/passwd").is_err());
        assert!(DirFiles::new("/").read("etc/hostname").is_ok());
    }
}
