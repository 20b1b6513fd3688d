//! The structure read out of a kickstart.
//!
//! Every type derives `Serialize` so a CLI or the web service can print it as
//! JSON. Source positions (`file`, `line`) are plain fields; use
//! [`Kickstart::without_locations`] to compare two kickstarts by content.

use std::collections::BTreeMap;

use serde::Serialize;

use super::magic::MagicLine;

/// A command outside any section, e.g. `part / --size 500`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Command {
    /// The command word (`repo`, `part`, `lang`, ...), as written.
    pub name: String,
    /// The remaining words, split like pykickstart splits them.
    pub args: Vec<String>,
    /// File the command was read from (differs from the main file for includes).
    pub file: String,
    /// 1-based line in `file`.
    pub line: u32,
}

/// A `repo` command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Repo {
    /// `--name` (required, unique within a kickstart).
    pub name: String,
    /// `--baseurl`; tokens such as `@ARCH@` are kept as written.
    pub baseurl: Option<String>,
    /// `--mirrorlist`.
    pub mirrorlist: Option<String>,
    /// Every other option, keyed by its canonical name without dashes
    /// (`save`, `gpgkey`, `ssl_verify`, ...); `None` for flags.
    pub options: BTreeMap<String, Option<String>>,
    /// File of the `repo` line.
    pub file: String,
    /// Line of the `repo` line.
    pub line: u32,
}

/// A `part`/`partition` command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Partition {
    /// The mount point (or `swap`, `biosboot`, ...), the one positional argument.
    pub mountpoint: String,
    /// `--size` in MiB.
    pub size: Option<u64>,
    /// `--ondisk`/`--ondrive`.
    pub ondisk: Option<String>,
    /// `--fstype`.
    pub fstype: Option<String>,
    /// `--label`.
    pub label: Option<String>,
    /// Every other option by canonical name without dashes; `None` for flags.
    pub options: BTreeMap<String, Option<String>>,
    /// File of the `part` line.
    pub file: String,
    /// Line of the `part` line.
    pub line: u32,
}

/// How much of a group to install (`@group --nodefaults` / `--optional`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupMode {
    /// Mandatory and default packages (no option).
    #[default]
    Default,
    /// Mandatory packages only (`--nodefaults`).
    NoDefaults,
    /// Mandatory, default and optional packages (`--optional`).
    Optional,
}

/// A `@group` line of `%packages`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Group {
    /// Group name or id, inner whitespace collapsed (`@MeeGo Core`).
    pub name: String,
    /// Which packages of the group to install.
    pub mode: GroupMode,
}

/// One option of a `%packages` header, e.g. `--instLangs=en`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct SectionOption {
    /// Canonical option name without dashes (`excludedocs`, `instLangs`).
    pub name: String,
    /// The value, `None` for flags.
    pub value: Option<String>,
}

/// The package selection, merged over all `%packages` sections in order.
///
/// Lists follow pykickstart's set semantics (a later `-pkg` removes an
/// earlier `pkg` and the other way round) but keep the order of first
/// appearance, so output is stable and readable.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Packages {
    /// True when the kickstart has at least one `%packages` section.
    pub present: bool,
    /// Header options of all `%packages` sections, in order, each name once
    /// (a later value replaces an earlier one).
    pub options: Vec<SectionOption>,
    /// Package names and globs to install.
    pub packages: Vec<String>,
    /// Groups to install.
    pub groups: Vec<Group>,
    /// `-pkg` lines.
    pub excluded_packages: Vec<String>,
    /// `-@group` lines.
    pub excluded_groups: Vec<String>,
    /// `@^environment`, if any.
    pub environment: Option<String>,
}

impl Packages {
    /// True when a `%packages` header had the flag or option `name`
    /// (without dashes, e.g. `"excludedocs"`).
    pub fn has_option(&self, name: &str) -> bool {
        self.options.iter().any(|o| o.name == name)
    }

    /// The value of a header option such as `instLangs`.
    pub fn option_value(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|o| o.name == name)
            .and_then(|o| o.value.as_deref())
    }

    /// True when nothing is selected or excluded.
    pub fn is_empty(&self) -> bool {
        self.packages.is_empty()
            && self.groups.is_empty()
            && self.excluded_packages.is_empty()
            && self.excluded_groups.is_empty()
            && self.environment.is_none()
    }
}

/// The kind of a script-like section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScriptKind {
    /// `%pre`: runs before installation.
    Pre,
    /// `%pre-install`: runs after partitioning, before packages.
    PreInstall,
    /// `%post`: runs after installation (in the image root unless `--nochroot`).
    Post,
    /// `%onerror`: runs when installation fails.
    #[serde(rename = "onerror")]
    OnError,
    /// `%traceback`: runs when the installer crashes.
    Traceback,
    /// `%pack` (Sailfish mic): runs after the image is built, to package it.
    Pack,
    /// `%addon NAME ...`: installer add-on data, kept verbatim.
    Addon,
    /// `%anaconda`: installer configuration, kept verbatim.
    Anaconda,
    /// `%certificate`: a certificate to install, kept verbatim.
    Certificate,
}

impl ScriptKind {
    /// Every kind, in a stable order.
    pub const ALL: [ScriptKind; 9] = [
        ScriptKind::Pre,
        ScriptKind::PreInstall,
        ScriptKind::Post,
        ScriptKind::OnError,
        ScriptKind::Traceback,
        ScriptKind::Pack,
        ScriptKind::Addon,
        ScriptKind::Anaconda,
        ScriptKind::Certificate,
    ];

    /// The section header word, e.g. `"%post"`.
    pub fn header(self) -> &'static str {
        match self {
            ScriptKind::Pre => "%pre",
            ScriptKind::PreInstall => "%pre-install",
            ScriptKind::Post => "%post",
            ScriptKind::OnError => "%onerror",
            ScriptKind::Traceback => "%traceback",
            ScriptKind::Pack => "%pack",
            ScriptKind::Addon => "%addon",
            ScriptKind::Anaconda => "%anaconda",
            ScriptKind::Certificate => "%certificate",
        }
    }

    /// True for sections whose body is a program run by an interpreter
    /// (their `--interpreter`/`--erroronfail`/`--log` options are checked).
    pub fn is_program(self) -> bool {
        !matches!(
            self,
            ScriptKind::Addon | ScriptKind::Anaconda | ScriptKind::Certificate
        )
    }
}

/// A script-like section: `%pre`, `%post`, `%pack`, `%traceback`, ...
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Script {
    /// Which section.
    pub kind: ScriptKind,
    /// `--nochroot` (only `%post`): runs outside the image root, with
    /// `$INSTALL_ROOT` pointing at it.
    pub nochroot: bool,
    /// `--interpreter`; `None` means `/bin/sh`.
    pub interpreter: Option<String>,
    /// `--erroronfail`: a failing script fails the build.
    pub erroronfail: bool,
    /// `--log`/`--logfile`.
    pub log: Option<String>,
    /// Header words not covered by the fields above (the add-on name and
    /// options of `%addon`, `%certificate` options).
    pub args: Vec<String>,
    /// The body verbatim: every line up to `%end`, each followed by `\n`
    /// (CRLF input loses its `\r`, as mic strips it too).
    pub body: String,
    /// File of the header line.
    pub file: String,
    /// Line of the header.
    pub line: u32,
}

/// Everything read from a kickstart, best effort even when it had errors.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Kickstart {
    /// The mic2/mic magic first line, if any.
    pub magic: Option<MagicLine>,
    /// `# Key: value` comments at the top (Sailfish ssu-kickstarter writes
    /// `DisplayName`, `KickstartType`, `SuggestedImageType`, `SuggestedArchitecture`).
    pub metadata: BTreeMap<String, String>,
    /// Every known command outside sections, in order, includes flattened.
    pub commands: Vec<Command>,
    /// The `repo` commands that have a name, in order.
    pub repos: Vec<Repo>,
    /// The `part`/`partition` commands that have a mount point, in order.
    pub partitions: Vec<Partition>,
    /// The merged `%packages` selection.
    pub packages: Packages,
    /// `%prepackages` (Tizen mic): packages installed before the others.
    pub prepackages: Vec<String>,
    /// `%attachment` (mic): files or packages copied out next to the image.
    pub attachments: Vec<String>,
    /// Script-like sections in file order.
    pub scripts: Vec<Script>,
}

impl Kickstart {
    /// The image type: from the magic line, else from Sailfish's
    /// `# SuggestedImageType:` comment.
    pub fn image_type(&self) -> Option<&str> {
        self.magic
            .as_ref()
            .and_then(|m| m.image_type.as_deref())
            .or_else(|| self.metadata.get("SuggestedImageType").map(String::as_str))
    }

    /// The architecture: from the magic line, else from Sailfish's
    /// `# SuggestedArchitecture:` comment.
    pub fn arch(&self) -> Option<&str> {
        self.magic
            .as_ref()
            .and_then(|m| m.arch.as_deref())
            .or_else(|| {
                self.metadata
                    .get("SuggestedArchitecture")
                    .map(String::as_str)
            })
    }

    /// The last command called `name` (later lines override earlier ones
    /// for single-valued commands such as `lang`, as in pykickstart).
    pub fn command(&self, name: &str) -> Option<&Command> {
        self.commands.iter().rev().find(|c| c.name == name)
    }

    /// The scripts of one kind, in order.
    pub fn scripts_of(&self, kind: ScriptKind) -> impl Iterator<Item = &Script> {
        self.scripts.iter().filter(move |s| s.kind == kind)
    }

    /// The repo called `name`.
    pub fn repo(&self, name: &str) -> Option<&Repo> {
        self.repos.iter().find(|r| r.name == name)
    }

    /// A copy with every `file` emptied and every `line` set to 0, for
    /// comparing kickstarts by content (e.g. after a write/read round trip).
    pub fn without_locations(&self) -> Kickstart {
        let mut k = self.clone();
        for c in &mut k.commands {
            (c.file, c.line) = (String::new(), 0);
        }
        for r in &mut k.repos {
            (r.file, r.line) = (String::new(), 0);
        }
        for p in &mut k.partitions {
            (p.file, p.line) = (String::new(), 0);
        }
        for s in &mut k.scripts {
            (s.file, s.line) = (String::new(), 0);
        }
        k
    }
}
