//! Running the kickstarter over a whole configurations file: which configurations are written,
//! in which order, under which names, with which messages. Pure: files come in through
//! [`Files`], kickstarts go out as [`Output`]s for the caller to write.

use std::path::{Component, Path};

use crate::config::{Entry, Merged, Note, Repository, Template, expect_map, merge};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::files::Files;
use crate::index::{IndexEntry, render_index};
use crate::render;
use crate::yaml::{self, Limits, Map, Value};

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Which version of the original tool to reproduce.
    pub dialect: Dialect,
    /// Write only the configuration with this `FileName`, whether or not it is active
    /// (Tizen's `-C`).
    pub only: Option<String>,
    /// Also build the `image-configs.xml` index (`-i`, MeeGo family only).
    pub index: bool,
    /// Extra external configuration directories (mer-kickstarter's `-e`).
    pub external_dirs: Vec<String>,
    /// `@KEY@`-style URL variables (mer-kickstarter's `-r K:V,...`), applied after the file's
    /// own `RepositoryURLVariables`.
    pub repo_url_variables: Vec<(String, String)>,
    /// Limits for every YAML file read.
    pub limits: Limits,
}

/// One kickstart to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Path relative to the output directory (`<Baseline>/<FileName>.ks`).
    pub path: String,
    /// The configuration's `Name`.
    pub name: String,
    /// The kickstart text.
    pub contents: String,
}

/// Everything a run produced.
#[derive(Debug, Clone, Default)]
pub struct Generated {
    /// Kickstarts in the order the original wrote them (a later one with the same path
    /// replaces an earlier one on disk, as it did for the original).
    pub outputs: Vec<Output>,
    /// Messages, in order.
    pub notes: Vec<Note>,
    /// The index document, when asked for.
    pub index: Option<String>,
}

impl Generated {
    /// The final contents of each path (last writer wins), in first-written order.
    pub fn final_outputs(&self) -> Vec<&Output> {
        let mut result: Vec<&Output> = Vec::new();
        for out in &self.outputs {
            match result.iter_mut().find(|o| o.path == out.path) {
                Some(slot) => *slot = out,
                None => result.push(out),
            }
        }
        result
    }
}

/// Refuses output names that would leave the output directory.
pub(crate) fn check_output_path(path: &str, merged: &Merged, key: &str) -> Result<()> {
    let p = Path::new(path);
    let bad = path.is_empty()
        || path.contains('\0')
        || p.is_absolute()
        || p.components().any(|c| {
            matches!(
                c,
                Component::ParentDir | Component::RootDir | Component::Prefix(_)
            )
        });
    if bad {
        return Err(merged.error_at(
            key,
            format!("{key} would write '{path}' outside the output directory"),
        ));
    }
    Ok(())
}

/// Python's `"%s" % value`: like the template's printing, but `None` prints as `None`.
pub(crate) fn percent_s(value: &Value) -> String {
    match value {
        Value::Null => "None".to_owned(),
        other => other.template_str().unwrap_or_default(),
    }
}

/// Runs the kickstarter over `template` (MeeGo, Tizen and sages dialects: `repos` comes from
/// the separate repositories file; mer-0.20: `repos` is ignored, the template holds them).
pub fn generate(
    template: &Template,
    repos: &[Repository],
    files: &dyn Files,
    options: &Options,
) -> Result<Generated> {
    if options.dialect.is_mer() {
        return crate::config::mer::generate(template, files, options);
    }
    let ctx = Ctx {
        dialect: options.dialect,
        template,
        repos,
        files,
        options,
    };
    let mut run = Generated::default();
    let mut index = Vec::new();
    // Tizen's `-C` ends the run with the one configuration it names.
    let done = |written: bool| written && options.only.is_some();

    for entry in template.configurations()? {
        if options.index {
            // Inline configurations are all indexed, active or not, by their own keys.
            index.push(IndexEntry::from_map(&entry.map));
        }
        if done(ctx.process(&entry, &mut run)?.is_some()) {
            return Ok(finish(run, options, index));
        }
    }
    if !ctx.dialect.has_external_configs() {
        return Ok(finish(run, options, index));
    }
    for dir in template.external_dirs()? {
        let names = files.list(&dir)?.ok_or_else(|| {
            Error::file(
                template.file(),
                format!("ExternalConfigs directory '{dir}' does not exist"),
            )
        })?;
        for name in names {
            if !name.ends_with(".yaml") {
                run.notes
                    .push(Note::Warning(format!("File '{name}' ignored.")));
                continue;
            }
            let entry = ctx.external_entry(&dir, &name)?;
            let written = ctx.process(&entry, &mut run)?;
            if let Some(meta) = &written
                && options.index
            {
                // External configurations are indexed only when written, merged.
                index.push(IndexEntry::from_map(meta));
            }
            if done(written.is_some()) {
                return Ok(finish(run, options, index));
            }
        }
    }
    Ok(finish(run, options, index))
}

fn finish(mut run: Generated, options: &Options, index: Vec<IndexEntry>) -> Generated {
    if options.index {
        run.index = Some(render_index(&index));
    }
    run
}

/// What one run of the MeeGo/Tizen/sages tools works with.
struct Ctx<'a> {
    dialect: Dialect,
    template: &'a Template,
    repos: &'a [Repository],
    files: &'a dyn Files,
    options: &'a Options,
}

impl Ctx<'_> {
    /// Reads the external configuration `dir/name`.
    fn external_entry(&self, dir: &str, name: &str) -> Result<Entry> {
        let path = format!("{}/{name}", dir.trim_end_matches('/'));
        let bytes = self
            .files
            .read(&path)?
            .ok_or_else(|| Error::file(&path, "cannot be read"))?;
        let node = yaml::load(&bytes, &path, &self.options.limits)?;
        let map = expect_map(&node, &path, "an external configuration")?;
        Ok(Entry {
            file: path.clone(),
            mark: node.mark,
            map: map.clone(),
            external: true,
        })
    }

    /// Merges and renders one configuration; returns its merged keys if it was written.
    fn process(&self, entry: &Entry, run: &mut Generated) -> Result<Option<Map>> {
        let (dialect, template, repos, files, options) = (
            self.dialect,
            self.template,
            self.repos,
            self.files,
            self.options,
        );
        let own_file_name = entry.map.get("FileName").map(|n| percent_s(&n.value));
        if let Some(only) = &options.only
            && own_file_name.as_deref() != Some(only.as_str())
        {
            return Ok(None);
        }
        let merged = merge(dialect, template, entry, files, &mut run.notes)?;
        let name = merged.name();
        let active = merged.meta.get("Active").is_some_and(|n| n.value.truthy());
        if options.only.is_none() && dialect.honours_active() && !active {
            run.notes.push(Note::Inactive {
                name,
                file_name: own_file_name.unwrap_or_else(|| "None".to_owned()),
            });
            return Ok(None);
        }
        let file_name = match merged.meta.get("FileName") {
            Some(n) if n.value.truthy() => percent_s(&n.value),
            _ => {
                return Err(Error::new(
                    &entry.file,
                    entry.mark,
                    format!(
                        "configuration '{name}' has no FileName, so there is nowhere to write it"
                    ),
                ));
            }
        };
        let path = match merged.meta.get("Baseline") {
            Some(b) => format!("{}/{file_name}.ks", percent_s(&b.value)),
            None => format!("{file_name}.ks"),
        };
        check_output_path(&path, &merged, "FileName")?;
        run.notes.push(Note::Creating {
            name: name.clone(),
            path: path.clone(),
        });
        let contents = render::meego::render(dialect, &merged, repos, &mut run.notes)?;
        run.outputs.push(Output {
            path,
            name,
            contents,
        });
        Ok(Some(merged.meta))
    }
}
