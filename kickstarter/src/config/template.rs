//! A kickstarter configurations file (`configurations.yaml`): `Default`, platform sections,
//! `Configurations`, `ExternalConfigs`, and for mer-kickstarter also `Repositories`.

use crate::error::{Error, Result};
use crate::yaml::{self, Limits, Map, Mark, Node, Value};

/// Top-level keys that are not sections a configuration can select or inherit.
const RESERVED: &[&str] = &[
    "Default",
    "Configurations",
    "ExternalConfigs",
    "Repositories",
    "RepositoryURLVariables",
];

/// A loaded configurations file.
#[derive(Debug, Clone)]
pub struct Template {
    file: String,
    root: Map,
}

/// One configuration to generate: an entry of `Configurations` or an external YAML file.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The file it was read from.
    pub file: String,
    /// Where it starts.
    pub mark: Mark,
    /// Its keys.
    pub map: Map,
    /// Whether it came from an `ExternalConfigs` directory.
    pub external: bool,
}

impl Entry {
    /// `Name`, as the original printed it in its messages.
    pub fn display_name(&self) -> String {
        self.map
            .get("Name")
            .and_then(|n| n.value.template_str())
            .unwrap_or_else(|| "(unnamed)".to_owned())
    }
}

/// Requires `node` to be a mapping; `what` names it in the error.
pub(crate) fn expect_map<'a>(node: &'a Node, file: &str, what: &str) -> Result<&'a Map> {
    node.as_map().ok_or_else(|| {
        Error::new(
            file,
            node.mark,
            format!("{what} must be a mapping, not a {}", node.value.type_name()),
        )
    })
}

/// Requires `node` to be a list (or null, read as empty); `what` names it in the error.
pub(crate) fn expect_list<'a>(node: &'a Node, file: &str, what: &str) -> Result<&'a [Node]> {
    match &node.value {
        Value::Seq(items) => Ok(items),
        Value::Null => Ok(&[]),
        other => Err(Error::new(
            file,
            node.mark,
            format!("{what} must be a list, not a {}", other.type_name()),
        )),
    }
}

impl Template {
    /// Loads a configurations file with the default [`Limits`].
    pub fn parse(bytes: &[u8], file: &str) -> Result<Self> {
        Self::parse_with_limits(bytes, file, &Limits::default())
    }

    /// Loads a configurations file; its top level must be a mapping.
    pub fn parse_with_limits(bytes: &[u8], file: &str, limits: &Limits) -> Result<Self> {
        let node = yaml::load(bytes, file, limits)?;
        let root = match node.value {
            Value::Map(m) => m,
            Value::Null => return Err(Error::file(file, "the file is empty")),
            other => {
                return Err(Error::new(
                    file,
                    node.mark,
                    format!(
                        "the top level must be a mapping of sections, not a {}",
                        other.type_name()
                    ),
                ));
            }
        };
        Ok(Template {
            file: file.to_owned(),
            root,
        })
    }

    /// The file name given when loading.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The whole document.
    pub fn root(&self) -> &Map {
        &self.root
    }

    /// The names of the sections a configuration can select with `Platform:` (or inherit with
    /// `Inherit:`), in file order: every top-level mapping except `Default`, `Configurations`,
    /// `ExternalConfigs`, `Repositories` and `RepositoryURLVariables`. This is what the web
    /// form offers in its platform select.
    pub fn platforms(&self) -> Vec<String> {
        self.root
            .iter()
            .filter(|(_, v)| v.as_map().is_some())
            .filter_map(|(k, _)| k.as_str())
            .filter(|k| !RESERVED.contains(k))
            .map(str::to_owned)
            .collect()
    }

    /// A top-level section by name, if it exists and is a mapping.
    pub fn section(&self, name: &str) -> Option<&Map> {
        self.root.get(name).and_then(Node::as_map)
    }

    /// A top-level section by name, requiring it to be a mapping when present.
    pub(crate) fn section_checked(&self, name: &str) -> Result<Option<&Map>> {
        match self.root.get(name) {
            None => Ok(None),
            Some(node) => expect_map(node, &self.file, &format!("section '{name}'")).map(Some),
        }
    }

    /// A mutable top-level section, for overlays.
    pub(crate) fn section_mut(&mut self, name: &str) -> Option<&mut Map> {
        match self.root.get_mut(name) {
            Some(Node {
                value: Value::Map(m),
                ..
            }) => Some(m),
            _ => None,
        }
    }

    /// The entries of `Configurations` (absent or null: none), each of which must be a mapping.
    pub fn configurations(&self) -> Result<Vec<Entry>> {
        let Some(node) = self.root.get("Configurations") else {
            return Ok(Vec::new());
        };
        expect_list(node, &self.file, "Configurations")?
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let map = expect_map(item, &self.file, &format!("Configurations entry {}", i + 1))?;
                Ok(Entry {
                    file: self.file.clone(),
                    mark: item.mark,
                    map: map.clone(),
                    external: false,
                })
            })
            .collect()
    }

    /// The directories named by `ExternalConfigs` (absent or null: none).
    pub fn external_dirs(&self) -> Result<Vec<String>> {
        let Some(node) = self.root.get("ExternalConfigs") else {
            return Ok(Vec::new());
        };
        expect_list(node, &self.file, "ExternalConfigs")?
            .iter()
            .map(|item| match &item.value {
                Value::Str(s) => Ok(s.clone()),
                other => Err(Error::new(
                    &self.file,
                    item.mark,
                    format!(
                        "ExternalConfigs entries must be directory names, not a {}",
                        other.type_name()
                    ),
                )),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "Default:\n  Language: C\nNETBOOK:\n  PartSize: 1\nIVI: {}\nConfigurations:\n  - Name: a\n    Platform: IVI\nExternalConfigs: [ex]\nRepositories: []\n";

    #[test]
    fn platforms_are_the_non_reserved_sections_in_order() {
        let t = Template::parse(DOC.as_bytes(), "c.yaml").unwrap();
        assert_eq!(t.platforms(), ["NETBOOK", "IVI"]);
        assert_eq!(t.configurations().unwrap().len(), 1);
        assert_eq!(t.external_dirs().unwrap(), ["ex"]);
    }

    #[test]
    fn wrong_shapes_are_named_with_their_line() {
        let t = Template::parse(b"Configurations:\n  - just a string\n", "c.yaml").unwrap();
        let e = t.configurations().unwrap_err();
        assert_eq!(
            e.to_string(),
            "c.yaml:2:5: Configurations entry 1 must be a mapping, not a string"
        );
        let e = Template::parse(b"- a\n", "c.yaml").unwrap_err();
        assert!(e.message.contains("top level must be a mapping"), "{e}");
        let e = Template::parse(b"", "c.yaml").unwrap_err();
        assert_eq!(e.to_string(), "c.yaml: the file is empty");
    }
}
