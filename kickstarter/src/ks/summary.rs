//! A compact, JSON-friendly view of a kickstart for `--json` output and
//! the web service's job page: what will be built, without script bodies.

use serde::Serialize;

use super::model::{Kickstart, Partition, Repo, ScriptKind};

/// What a kickstart builds, in one serialisable value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// [`Kickstart::image_type`].
    pub image_type: Option<String>,
    /// [`Kickstart::arch`].
    pub arch: Option<String>,
    /// The words of the magic line (empty without one).
    pub magic_options: Vec<String>,
    /// The repos.
    pub repos: Vec<Repo>,
    /// Packages to install.
    pub packages: Vec<String>,
    /// Group names to install.
    pub groups: Vec<String>,
    /// Packages excluded.
    pub excluded_packages: Vec<String>,
    /// Groups excluded.
    pub excluded_groups: Vec<String>,
    /// The partitions.
    pub partitions: Vec<Partition>,
    /// The script sections, without their bodies.
    pub scripts: Vec<ScriptSummary>,
}

/// A script section without its body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScriptSummary {
    /// Which section.
    pub kind: ScriptKind,
    /// `--nochroot`.
    pub nochroot: bool,
    /// `--interpreter`.
    pub interpreter: Option<String>,
    /// `--erroronfail`.
    pub erroronfail: bool,
    /// Number of body lines.
    pub body_lines: usize,
    /// File of the header.
    pub file: String,
    /// Line of the header.
    pub line: u32,
}

impl Kickstart {
    /// The summary of this kickstart.
    pub fn summary(&self) -> Summary {
        let p = &self.packages;
        Summary {
            image_type: self.image_type().map(String::from),
            arch: self.arch().map(String::from),
            magic_options: self
                .magic
                .as_ref()
                .map(|m| m.options.clone())
                .unwrap_or_default(),
            repos: self.repos.clone(),
            packages: p.packages.clone(),
            groups: p.groups.iter().map(|g| g.name.clone()).collect(),
            excluded_packages: p.excluded_packages.clone(),
            excluded_groups: p.excluded_groups.clone(),
            partitions: self.partitions.clone(),
            scripts: self
                .scripts
                .iter()
                .map(|s| ScriptSummary {
                    kind: s.kind,
                    nochroot: s.nochroot,
                    interpreter: s.interpreter.clone(),
                    erroronfail: s.erroronfail,
                    body_lines: s.body.lines().count(),
                    file: s.file.clone(),
                    line: s.line,
                })
                .collect(),
        }
    }
}
