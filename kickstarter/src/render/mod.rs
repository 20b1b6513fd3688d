//! Turning a merged configuration into kickstart text, one module per template family.

pub mod meego;
pub mod mer;

use std::collections::HashMap;

use crate::config::{Merged, Repository};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::yaml::{HashKey, Node, Value};

/// The repository options `SaveRepos: True` stands for.
pub(crate) const SAVE_OPTIONS: &str =
    "--save --debuginfo --source --gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-meego";

static NULL: Node = Node {
    value: Value::Null,
    mark: crate::yaml::Mark { line: 0, col: 0 },
};

/// Typed access to a merged configuration's keys, with the original template's semantics and
/// errors that name the key and where its value came from.
pub(crate) struct Meta<'a>(pub &'a Merged);

impl Meta<'_> {
    /// `has_key`: whether the key exists, whatever its value.
    pub(crate) fn has(&self, key: &str) -> bool {
        self.0.meta.has(key)
    }

    /// The node under `key`, or a null node.
    pub(crate) fn node(&self, key: &str) -> &Node {
        self.0.meta.get(key).unwrap_or(&NULL)
    }

    /// The node under `key`, which the template dereferences unconditionally.
    pub(crate) fn required_node(&self, key: &str) -> Result<&Node> {
        self.0.meta.get(key).ok_or_else(|| {
            Error::new(
                &self.0.file,
                self.0.mark,
                format!(
                    "configuration '{}' has no {key} (set it in Default, the platform section or the configuration)",
                    self.0.name()
                ),
            )
        })
    }

    fn text_of(&self, key: &str, node: &Node) -> Result<String> {
        node.value.template_str().ok_or_else(|| {
            self.0.error_at(
                key,
                format!(
                    "{key} must be a single value, not a {}",
                    node.value.type_name()
                ),
            )
        })
    }

    /// The printed value of a key the template needs.
    pub(crate) fn required(&self, key: &str) -> Result<String> {
        let node = self.required_node(key)?;
        self.text_of(key, node)
    }

    /// The printed value of a key, if it exists.
    pub(crate) fn optional(&self, key: &str) -> Result<Option<String>> {
        match self.0.meta.get(key) {
            None => Ok(None),
            Some(node) => self.text_of(key, node).map(Some),
        }
    }

    /// The string value of a key that must be a string when it is set and truthy (it is
    /// passed to Python's `str.replace`, which accepts nothing else).
    pub(crate) fn string_if_truthy(&self, key: &str) -> Result<Option<String>> {
        match self.0.meta.get(key) {
            None => Ok(None),
            Some(node) if !node.value.truthy() => Ok(None),
            Some(Node {
                value: Value::Str(s),
                ..
            }) => Ok(Some(s.clone())),
            Some(node) => Err(self.0.error_at(
                key,
                format!(
                    "{key} must be a string (quote it, e.g. \"{}\"), not a {}",
                    node.value.template_str().unwrap_or_default(),
                    node.value.type_name()
                ),
            )),
        }
    }

    /// A merged list key (always present after merging; empty when nothing set it).
    pub(crate) fn list(&self, key: &str) -> &[Node] {
        self.node(key).as_seq().unwrap_or(&[])
    }

    /// A list key that is not merged (`PrePackages`, `Attachment`): null reads as empty.
    pub(crate) fn plain_list(&self, key: &str) -> Result<&[Node]> {
        match &self.node(key).value {
            Value::Seq(items) => Ok(items),
            Value::Null => Ok(&[]),
            other => Err(self.0.error_at(
                key,
                format!("{key} must be a list, not a {}", other.type_name()),
            )),
        }
    }

    /// The printed form of a list item.
    pub(crate) fn item(&self, node: &Node) -> Result<String> {
        node.value.template_str().ok_or_else(|| {
            Error::new(
                &self.0.file,
                node.mark,
                format!(
                    "list entries must be names, not a {}",
                    node.value.type_name()
                ),
            )
        })
    }
}

/// The repositories by name (Python equality), each name's entries in file order, so that a
/// configuration's `Repos` are looked up in constant time.
pub(crate) fn repos_by_name(repos: &[Repository]) -> HashMap<HashKey<'_>, Vec<&Repository>> {
    let mut index: HashMap<HashKey<'_>, Vec<&Repository>> = HashMap::new();
    for repo in repos {
        if let Some(key) = repo.name.value.hash_key() {
            index.entry(key).or_default().push(repo);
        }
    }
    index
}

/// The token substitution the MeeGo/Tizen/sages tools applied to repository URLs before
/// rendering: `@ARCH@` and `@RELEASE@`, only when `Architecture` is set.
pub(crate) struct RepoUrls {
    dialect: Dialect,
    arch: Option<String>,
    release: Option<String>,
    dist: Option<String>,
}

impl RepoUrls {
    pub(crate) fn new(dialect: Dialect, m: &Meta<'_>) -> Result<Self> {
        let mut arch = m.string_if_truthy("Architecture")?;
        let mut release = None;
        let mut dist = None;
        if arch.is_some() {
            if dialect.has_inherit() {
                if let Some(repo_arch) = m.string_if_truthy("RepositoryArchitecture")? {
                    arch = Some(repo_arch);
                }
                if m.has("Baseline") {
                    release = Some(Self::baseline(m)?);
                }
            } else {
                if !m.has("Baseline") {
                    return Err(m.0.error_at(
                        "Architecture",
                        format!(
                            "configuration '{}' sets Architecture but has no Baseline, which the {dialect} kickstarter needs for @RELEASE@",
                            m.0.name()
                        ),
                    ));
                }
                release = Some(Self::baseline(m)?);
            }
            if dialect == Dialect::Tizen015 && m.has("Distribution") {
                dist = Some(m.required("Distribution")?);
            }
        }
        Ok(RepoUrls {
            dialect,
            arch,
            release,
            dist,
        })
    }

    fn baseline(m: &Meta<'_>) -> Result<String> {
        match &m.node("Baseline").value {
            Value::Str(s) => Ok(s.clone()),
            other => Err(m.0.error_at(
                "Baseline",
                format!(
                    "Baseline must be a string (quote it: \"{}\"); the original tool crashed on a {} here",
                    other.template_str().unwrap_or_default(),
                    other.type_name()
                ),
            )),
        }
    }

    /// The URL of `repo` as the template printed it.
    pub(crate) fn url(&self, repo: &Repository) -> Result<String> {
        let original = repo.url()?;
        let Some(arch) = &self.arch else {
            return Ok(original);
        };
        let mut url = original.replace("@ARCH@", arch);
        if let (Dialect::Tizen015, Some(dist)) = (self.dialect, &self.dist) {
            // Tizen 0.15 substitutes @DIST@ in the *original* URL, dropping the @ARCH@
            // substitution: reproduced as the tool behaved.
            url = original.replace("@DIST@", dist);
        }
        if let Some(release) = &self.release {
            url = url.replace("@RELEASE@", release);
        }
        Ok(url)
    }
}
