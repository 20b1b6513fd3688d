//! The repository list (`repos.yaml`, or the `Repositories` key of a mer-kickstarter file).

use super::template::{expect_list, expect_map};
use crate::error::{Error, Result};
use crate::yaml::{self, Limits, Map, Mark, Node, Value};

/// One entry of `Repositories`.
#[derive(Debug, Clone)]
pub struct Repository {
    /// `Name`, as written (compared with the configurations' `Repos` by Python equality).
    pub name: Node,
    /// All its keys (`Url`, `Options`, mer's `Url-<ImageType>` variants, ...).
    pub map: Map,
    /// The file it was read from.
    pub file: String,
    /// Where it starts.
    pub mark: Mark,
}

impl Repository {
    /// The printable name.
    pub fn name_str(&self) -> String {
        self.name.value.template_str().unwrap_or_default()
    }

    /// A string-valued key of this repository; absent: `None`; any other type: an error.
    pub fn string(&self, key: &str) -> Result<Option<String>> {
        match self.map.get(key) {
            None => Ok(None),
            Some(node) if node.value.is_scalar() => Ok(node.value.template_str()),
            Some(node) => Err(Error::new(
                &self.file,
                node.mark,
                format!(
                    "{key} of repository '{}' must be a single value, not a {}",
                    self.name_str(),
                    node.value.type_name()
                ),
            )),
        }
    }

    /// `Url`, which must be a string.
    pub fn url(&self) -> Result<String> {
        match self.map.get("Url") {
            Some(Node {
                value: Value::Str(s),
                ..
            }) => Ok(s.clone()),
            Some(node) => Err(Error::new(
                &self.file,
                node.mark,
                format!(
                    "Url of repository '{}' must be a string, not a {}",
                    self.name_str(),
                    node.value.type_name()
                ),
            )),
            None => Err(Error::new(
                &self.file,
                self.mark,
                format!("repository '{}' has no Url", self.name_str()),
            )),
        }
    }

    /// `Options`, if present (a null value reads as absent text).
    pub fn options(&self) -> Result<Option<String>> {
        self.string("Options")
    }
}

/// Reads the `Repositories` list of a mapping (absent or null: no repositories).
pub fn repositories_in(root: &Map, file: &str) -> Result<Vec<Repository>> {
    let Some(node) = root.get("Repositories") else {
        return Ok(Vec::new());
    };
    expect_list(node, file, "Repositories")?
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let map = expect_map(item, file, &format!("Repositories entry {}", i + 1))?;
            let name = map.get("Name").cloned().ok_or_else(|| {
                Error::new(
                    file,
                    item.mark,
                    format!("Repositories entry {} has no Name", i + 1),
                )
            })?;
            if !name.value.is_scalar() {
                return Err(Error::new(
                    file,
                    name.mark,
                    "a repository Name must be a single value",
                ));
            }
            Ok(Repository {
                name,
                map: map.clone(),
                file: file.to_owned(),
                mark: item.mark,
            })
        })
        .collect()
}

/// Loads a repos file (`Repositories:` at the top level).
pub fn load_repositories(bytes: &[u8], file: &str, limits: &Limits) -> Result<Vec<Repository>> {
    let node = yaml::load(bytes, file, limits)?;
    let root = expect_map(&node, file, "the top level of a repositories file")?;
    if !root.has("Repositories") {
        return Err(Error::file(file, "there is no Repositories list"));
    }
    repositories_in(root, file)
}
