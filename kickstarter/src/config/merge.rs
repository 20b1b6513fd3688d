//! Merging a configuration with `Default`, its platform and (sages fork) its `Inherit`
//! sections, then reading the scripts and partition file it names, the way the MeeGo, Tizen
//! and sages kickstarters did.

use std::collections::{HashMap, HashSet};

use super::template::{Entry, Template, expect_list};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::files::Files;
use crate::yaml::{HashKey, Map, Mark, Node, Value};

/// The six keys whose lists are concatenated over all merged sections (and de-duplicated,
/// keeping the first occurrence) instead of being overridden.
pub const LIST_KEYS: [&str; 6] = [
    "Repos",
    "Groups",
    "PostScripts",
    "NoChrootScripts",
    "RemovePackages",
    "ExtraPackages",
];

/// A message the original tool printed while generating (not an error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// `Creating <Name> (<FileName>.ks)`.
    Creating {
        /// The configuration's `Name`.
        name: String,
        /// The output file, relative to the output directory.
        path: String,
    },
    /// A configuration that is not `Active`.
    Inactive {
        /// The configuration's `Name`.
        name: String,
        /// Its `FileName`.
        file_name: String,
    },
    /// Something skipped or suspicious (a missing script, an unknown repository, a file in an
    /// external directory that is not YAML, ...).
    Warning(String),
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Note::Creating { name, path } => write!(f, "Creating {name} ({path})"),
            Note::Inactive { name, file_name } => {
                write!(
                    f,
                    "{name} is inactive, not generating {file_name} this time"
                )
            }
            Note::Warning(w) => write!(f, "WARNING: {w}"),
        }
    }
}

/// A configuration with everything it inherits merged in, ready to render.
#[derive(Debug, Clone)]
pub struct Merged {
    /// The merged keys.
    pub meta: Map,
    /// For each key, the file whose section supplied the winning value (for error messages).
    pub sources: HashMap<String, String>,
    /// For each merged list key, the file each entry came from, in list order.
    pub item_files: HashMap<String, Vec<String>>,
    /// The file the configuration itself came from.
    pub file: String,
    /// Where the configuration starts.
    pub mark: Mark,
    /// The partition file's contents ("" when none).
    pub part: String,
    /// The `%post` body: every PostScripts file, each followed by the dialect's separator.
    pub post: String,
    /// The `%post --nochroot` body, built the same way from NoChrootScripts.
    pub nochroot: String,
}

impl Merged {
    /// The error for key `key` whose value is wrong.
    pub fn error_at(&self, key: &str, message: impl Into<String>) -> Error {
        let file = self.sources.get(key).unwrap_or(&self.file);
        let mark = self.meta.get(key).map_or(self.mark, |n| n.mark);
        Error::new(file.clone(), mark, message)
    }

    /// The configuration's `Name` for messages.
    pub fn name(&self) -> String {
        self.meta
            .get("Name")
            .and_then(|n| n.value.template_str())
            .unwrap_or_else(|| "(unnamed)".to_owned())
    }
}

/// A section taking part in a merge, with the file it lives in.
struct Layer<'a> {
    file: &'a str,
    map: &'a Map,
}

fn update(meta: &mut Map, sources: &mut HashMap<String, String>, layer: &Layer<'_>) {
    meta.update(layer.map);
    for (k, _) in layer.map.iter() {
        if let Some(k) = k.as_str() {
            sources.insert(k.to_owned(), layer.file.to_owned());
        }
    }
}

/// Looks up the sections named by the configuration's `Platform` (required for MeeGo and
/// Tizen, optional in the sages fork) and `Inherit` (sages fork) keys.
fn selected_sections<'a>(
    dialect: Dialect,
    template: &'a Template,
    entry: &'a Entry,
) -> Result<(Option<Layer<'a>>, Vec<Layer<'a>>)> {
    let section = |key: &str, node: &Node| -> Result<Layer<'a>> {
        let Some(name) = node.as_str() else {
            return Err(Error::new(
                &entry.file,
                node.mark,
                format!(
                    "{key} must name a section of {}, not be a {}",
                    template.file(),
                    node.value.type_name()
                ),
            ));
        };
        match template.section_checked(name)? {
            Some(map) => Ok(Layer {
                file: template.file(),
                map,
            }),
            None => Err(Error::new(
                &entry.file,
                node.mark,
                format!("{key} '{name}' is not a section of {}", template.file()),
            )),
        }
    };
    let platform = match entry.map.get("Platform") {
        Some(node) => Some(section("Platform", node)?),
        None if dialect.has_inherit() => None,
        None => {
            return Err(Error::new(
                &entry.file,
                entry.mark,
                format!(
                    "configuration '{}' has no Platform key naming its platform section",
                    entry.display_name()
                ),
            ));
        }
    };
    let mut inherits = Vec::new();
    if dialect.has_inherit()
        && let Some(node) = entry.map.get("Inherit")
    {
        for item in expect_list(node, &entry.file, "Inherit")? {
            inherits.push(section("Inherit", item)?);
        }
    }
    Ok((platform, inherits))
}

/// Merges `entry` as the MeeGo/Tizen/sages kickstarters did and reads its companion files.
pub fn merge(
    dialect: Dialect,
    template: &Template,
    entry: &Entry,
    files: &dyn Files,
    notes: &mut Vec<Note>,
) -> Result<Merged> {
    let default = template.section_checked("Default")?.ok_or_else(|| {
        Error::file(
            template.file(),
            "there is no Default section (the original tool requires one)",
        )
    })?;
    let default = Layer {
        file: template.file(),
        map: default,
    };
    let own = Layer {
        file: &entry.file,
        map: &entry.map,
    };
    let (platform, inherits) = selected_sections(dialect, template, entry)?;

    // Scalars: later layers override earlier ones. MeeGo: Default < platform < configuration.
    // Sages: Default < configuration < each inherited section < platform (MER#549).
    let mut scalar_order: Vec<&Layer<'_>> = vec![&default];
    // Lists: concatenated in this order. Sages: Default, inherited..., platform, configuration.
    let mut list_order: Vec<&Layer<'_>> = vec![&default];
    if dialect.has_inherit() {
        scalar_order.push(&own);
        scalar_order.extend(inherits.iter());
        scalar_order.extend(platform.iter());
        list_order.extend(inherits.iter());
        list_order.extend(platform.iter());
        list_order.push(&own);
    } else {
        scalar_order.extend(platform.iter());
        scalar_order.push(&own);
        list_order.extend(platform.iter());
        list_order.push(&own);
    }

    let mut meta = Map::new();
    let mut sources = HashMap::new();
    for layer in &scalar_order {
        update(&mut meta, &mut sources, layer);
    }
    let mut item_files = HashMap::new();
    for key in LIST_KEYS {
        let mut full: Vec<Node> = Vec::new();
        let mut origins: Vec<String> = Vec::new();
        let mut seen: HashSet<HashKey<'_>> = HashSet::new();
        let mut first_mark = None;
        for layer in &list_order {
            let Some(node) = layer.map.get(key) else {
                continue;
            };
            if !node.value.truthy() {
                continue;
            }
            let items = match &node.value {
                Value::Seq(items) => items,
                other => {
                    return Err(Error::new(
                        layer.file,
                        node.mark,
                        format!("{key} must be a list, not a {}", other.type_name()),
                    ));
                }
            };
            first_mark.get_or_insert(node.mark);
            for item in items {
                if !item.value.is_scalar() {
                    return Err(Error::new(
                        layer.file,
                        item.mark,
                        format!(
                            "{key} entries must be names, not a {}",
                            item.value.type_name()
                        ),
                    ));
                }
                // Scalars always have a hash key; de-duplication keeps the first occurrence.
                if item.value.hash_key().is_none_or(|h| seen.insert(h)) {
                    full.push(item.clone());
                    origins.push(layer.file.to_owned());
                }
            }
        }
        meta.insert(
            Node::string(key),
            Node {
                value: Value::Seq(full),
                mark: first_mark.unwrap_or_default(),
            },
        );
        item_files.insert(key.to_owned(), origins);
    }

    let mut merged = Merged {
        meta,
        sources,
        item_files,
        file: entry.file.clone(),
        mark: entry.mark,
        part: String::new(),
        post: String::new(),
        nochroot: String::new(),
    };
    merged.post = read_scripts(dialect, &merged, "PostScripts", "post", files, notes)?;
    merged.nochroot = read_scripts(
        dialect,
        &merged,
        "NoChrootScripts",
        "nochroot",
        files,
        notes,
    )?;

    // The partition file: the last of the selected sections that names one wins. Default's
    // `Part` is never used (the original only looked at the platform and the configuration).
    let part_order: Vec<&Layer<'_>> = scalar_order.iter().skip(1).copied().collect();
    let mut part = None;
    for layer in part_order {
        if let Some(node) = layer.map.get("Part") {
            part = Some((layer.file, node));
        }
    }
    if let Some((file, node)) = part {
        let Some(name) = node.value.template_str().filter(|_| node.value.is_scalar()) else {
            return Err(Error::new(
                file,
                node.mark,
                "Part must name a file in custom/part",
            ));
        };
        let path = format!("custom/part/{name}");
        merged.part = read_text(files, &path)?.ok_or_else(|| {
            Error::new(
                file,
                node.mark,
                format!("Part '{name}': the partition file {path} does not exist"),
            )
        })?;
    }
    Ok(merged)
}

/// Reads a companion file as UTF-8 text.
pub(crate) fn read_text(files: &dyn Files, path: &str) -> Result<Option<String>> {
    match files.read(path)? {
        None => Ok(None),
        Some(bytes) => String::from_utf8(bytes).map(Some).map_err(|e| {
            Error::file(
                path,
                format!("not valid UTF-8 (at byte {})", e.utf8_error().valid_up_to()),
            )
        }),
    }
}

/// Concatenates `custom/scripts/<name>.<ext>` for every name in the merged list `key`.
fn read_scripts(
    dialect: Dialect,
    merged: &Merged,
    key: &str,
    ext: &str,
    files: &dyn Files,
    notes: &mut Vec<Note>,
) -> Result<String> {
    let mut body = String::new();
    let Some(list) = merged.meta.get(key).and_then(Node::as_seq) else {
        return Ok(body);
    };
    let origins = merged.item_files.get(key);
    for (i, item) in list.iter().enumerate() {
        let name = item.value.template_str().unwrap_or_default();
        let path = format!("custom/scripts/{name}.{ext}");
        match read_text(files, &path)? {
            Some(text) => {
                body.push_str(&text);
                body.push_str(dialect.script_separator());
            }
            None if dialect.skips_missing_scripts() => {
                notes.push(Note::Warning(format!("{path} not found, skipping.")));
            }
            None => {
                let file = origins.and_then(|o| o.get(i)).unwrap_or(&merged.file);
                return Err(Error::new(
                    file.clone(),
                    item.mark,
                    format!("{key} entry '{name}': the script {path} does not exist"),
                ));
            }
        }
    }
    Ok(body)
}
