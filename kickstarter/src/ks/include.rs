//! Where `%include`d files come from.
//!
//! The parser never touches the file system itself: it asks an
//! [`IncludeResolver`]. The web service uses [`NoIncludes`] (uploaded text
//! must not read server files), a CLI uses [`DirIncludes`], tests and
//! services with known snippets use [`MemoryIncludes`].

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use thiserror::Error;

use super::limits::Limits;

/// A file returned by a resolver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncludedFile {
    /// The name diagnostics and include-cycle detection use for it; the
    /// same file must always get the same name.
    pub name: String,
    /// Its raw content.
    pub bytes: Vec<u8>,
}

/// Why an include could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IncludeError {
    /// This resolver refuses every include.
    #[error("includes are not allowed here")]
    NotAllowed,
    /// No file of that name.
    #[error("no such file: {0}")]
    NotFound(String),
    /// The file exists but is not a regular file.
    #[error("{0} is not a regular file")]
    NotAFile(String),
    /// The file is larger than the limit.
    #[error("{path} is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The resolved path.
        path: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// Reading failed.
    #[error("cannot read {path}: {reason}")]
    Io {
        /// The resolved path.
        path: String,
        /// The operating system's message.
        reason: String,
    },
    /// Anything else, for custom resolvers.
    #[error("{0}")]
    Other(String),
}

/// Supplies the files named by `%include`.
pub trait IncludeResolver {
    /// Reads `target` as named in a `%include` line of `including_file`
    /// (a display name previously given to or returned by the parser).
    fn read(&self, including_file: &str, target: &str) -> Result<IncludedFile, IncludeError>;
}

/// Refuses every include: "includes are not allowed here".
#[derive(Debug, Clone, Copy, Default)]
pub struct NoIncludes;

impl IncludeResolver for NoIncludes {
    fn read(&self, _including_file: &str, _target: &str) -> Result<IncludedFile, IncludeError> {
        Err(IncludeError::NotAllowed)
    }
}

/// Reads includes from disk, relative to the directory of the including file
/// (absolute targets are used as they are).
///
/// pykickstart tries the current directory first; we do not, so the result
/// never depends on where the program was started. At most `max_bytes` are
/// read, so `/dev/zero` or a huge file cannot exhaust memory.
#[derive(Debug, Clone, Copy)]
pub struct DirIncludes {
    max_bytes: usize,
}

impl DirIncludes {
    /// A resolver that reads at most `limits.max_bytes` per file.
    pub fn new(limits: &Limits) -> Self {
        DirIncludes {
            max_bytes: limits.max_bytes,
        }
    }
}

impl Default for DirIncludes {
    fn default() -> Self {
        DirIncludes::new(&Limits::default())
    }
}

impl IncludeResolver for DirIncludes {
    fn read(&self, including_file: &str, target: &str) -> Result<IncludedFile, IncludeError> {
        let base = Path::new(including_file).parent().unwrap_or(Path::new(""));
        let path = normalize(&base.join(target));
        let name = path.to_string_lossy().into_owned();
        let io = |e: std::io::Error| IncludeError::Io {
            path: name.clone(),
            reason: e.to_string(),
        };
        let file = File::open(&path).map_err(io)?;
        let meta = file.metadata().map_err(io)?;
        if !meta.is_file() {
            return Err(IncludeError::NotAFile(name));
        }
        let too_large = || IncludeError::TooLarge {
            path: name.clone(),
            limit: self.max_bytes,
        };
        if meta.len() > self.max_bytes as u64 {
            return Err(too_large());
        }
        // The size can change between the check and the read; cap the read.
        let mut bytes = Vec::new();
        file.take(self.max_bytes as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        if bytes.len() > self.max_bytes {
            return Err(too_large());
        }
        Ok(IncludedFile { name, bytes })
    }
}

/// Removes `.` components and resolves `..` lexically, so that one file
/// reached by two spellings gets one name (for cycle detection).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// Includes from a fixed set of named files; the target is looked up as
/// written, independent of the including file.
#[derive(Debug, Clone, Default)]
pub struct MemoryIncludes {
    files: BTreeMap<String, Vec<u8>>,
}

impl MemoryIncludes {
    /// An empty set.
    pub fn new() -> Self {
        MemoryIncludes::default()
    }

    /// Adds (or replaces) a file and returns the set, for chaining.
    pub fn with(mut self, name: &str, text: impl Into<Vec<u8>>) -> Self {
        self.files.insert(name.to_string(), text.into());
        self
    }
}

impl IncludeResolver for MemoryIncludes {
    fn read(&self, _including_file: &str, target: &str) -> Result<IncludedFile, IncludeError> {
        match self.files.get(target) {
            Some(bytes) => Ok(IncludedFile {
                name: target.to_string(),
                bytes: bytes.clone(),
            }),
            None => Err(IncludeError::NotFound(target.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_is_lexical() {
        assert_eq!(
            normalize(Path::new("a/./b/../c.ks")),
            PathBuf::from("a/c.ks")
        );
        assert_eq!(normalize(Path::new("../x.ks")), PathBuf::from("../x.ks"));
        assert_eq!(normalize(Path::new("/d/./e.ks")), PathBuf::from("/d/e.ks"));
    }

    #[test]
    fn dir_includes_reads_next_to_the_includer_and_caps_size() {
        let dir = std::env::temp_dir().join(format!("ks-include-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("small.ks"), "lang C\n").unwrap();
        std::fs::write(dir.join("big.ks"), vec![b'#'; 100]).unwrap();
        let main = dir.join("main.ks").to_string_lossy().into_owned();
        let r = DirIncludes { max_bytes: 50 };
        let got = r.read(&main, "small.ks").unwrap();
        assert_eq!(got.bytes, b"lang C\n");
        assert_eq!(got.name, dir.join("small.ks").to_string_lossy());
        assert!(matches!(
            r.read(&main, "big.ks"),
            Err(IncludeError::TooLarge { limit: 50, .. })
        ));
        assert!(matches!(
            r.read(&main, "missing.ks"),
            Err(IncludeError::Io { .. })
        ));
        assert!(matches!(r.read(&main, "."), Err(IncludeError::NotAFile(_))));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn no_and_memory_includes() {
        assert_eq!(
            NoIncludes.read("a", "b").unwrap_err().to_string(),
            "includes are not allowed here"
        );
        let m = MemoryIncludes::new().with("x.ks", "lang C\n");
        assert_eq!(m.read("a", "x.ks").unwrap().bytes, b"lang C\n");
        assert_eq!(
            m.read("a", "y.ks").unwrap_err().to_string(),
            "no such file: y.ks"
        );
    }
}
