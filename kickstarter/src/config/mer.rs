//! mer-kickstarter 0.20: one document assembled from the `-c` file and every YAML file of its
//! `ExternalConfigs` directories, configurations built by recursive `Inherit`, scripts and
//! partition files looked up in the working directory and then in each external directory.

use std::collections::HashMap;

use super::merge::{Merged, Note};
use super::repos::repositories_in;
use super::template::{Template, expect_list, expect_map};
use crate::error::{Error, Result};
use crate::files::Files;
use crate::generate::{Generated, Options, Output, check_output_path, percent_s};
use crate::render;
use crate::yaml::{self, Map, Node, Value};

/// `new + old` as one list node: mer-kickstarter put the newer entries first everywhere.
fn concat(new: &[Node], old: &[Node], mark: crate::yaml::Mark) -> Node {
    Node {
        value: Value::Seq(new.iter().chain(old).cloned().collect()),
        mark,
    }
}

/// Merges the external YAML files into the top-level document: lists are concatenated
/// (the external file's entries first), a key set in both to single values is a collision
/// (reported; the value already there is kept), and a list meeting a non-list is reported
/// and skipped.
fn merge_external(top: &mut Map, ext: Map, path: &str, notes: &mut Vec<Note>) {
    for (k, v) in ext.iter() {
        let key = k
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| percent_s(&k.value));
        match (top.get(&key).map(|n| &n.value), &v.value) {
            (None, _) => top.insert(k.clone(), v.clone()),
            (Some(Value::Seq(old)), Value::Seq(new)) => {
                let joined = concat(new, old, v.mark);
                top.insert(k.clone(), joined);
            }
            (Some(Value::Seq(_)), _) | (Some(_), Value::Seq(_)) => notes.push(Note::Warning(
                format!("Different type (list vs not list) of values: {key} in {path}"),
            )),
            (Some(_), _) => notes.push(Note::Warning(format!(
                "Collision of values: {key} in {path}"
            ))),
        }
    }
}

/// Loads the external configuration files into `doc`, depth first, each file once.
fn load_externals(
    doc: &mut Map,
    file: &str,
    files: &dyn Files,
    options: &Options,
    read: &mut Vec<String>,
    extra_dirs: &[String],
    notes: &mut Vec<Note>,
) -> Result<()> {
    let mut dirs = match doc.get("ExternalConfigs") {
        Some(node) => expect_list(node, file, "ExternalConfigs")?
            .iter()
            .filter_map(|n| n.value.template_str())
            .collect(),
        None => Vec::new(),
    };
    dirs.extend(extra_dirs.iter().cloned());
    if !extra_dirs.is_empty() {
        let mut list: Vec<Node> = doc
            .get("ExternalConfigs")
            .and_then(Node::as_seq)
            .map(<[Node]>::to_vec)
            .unwrap_or_default();
        list.extend(extra_dirs.iter().map(Node::string));
        doc.insert(
            Node::string("ExternalConfigs"),
            Node::synthetic(Value::Seq(list)),
        );
    }
    for dir in dirs {
        let Some(names) = files.list(&dir)? else {
            notes.push(Note::Warning(format!(
                "path '{dir}' doesn't exist ignoring."
            )));
            continue;
        };
        for name in names.into_iter().filter(|n| n.ends_with(".yaml")) {
            let path = format!("{}/{name}", dir.trim_end_matches('/'));
            if read.contains(&path) {
                notes.push(Note::Warning(format!(
                    "File '{path}' already read, ignoring the file."
                )));
                continue;
            }
            read.push(path.clone());
            let bytes = files
                .read(&path)?
                .ok_or_else(|| Error::file(&path, "cannot be read"))?;
            let node = yaml::load(&bytes, &path, &options.limits)?;
            let mut ext = expect_map(&node, &path, "an external configuration file")?.clone();
            load_externals(&mut ext, &path, files, options, read, &[], notes)?;
            merge_external(doc, ext, &path, notes);
        }
    }
    Ok(())
}

/// `__merge_dictionaries`: the second mapping wins for single values; lists are joined with
/// the second's entries first; a list meeting a non-list is fatal, as it was.
fn merge_dicts(first: &mut Map, second: &Map, file: &str) -> Result<()> {
    for (k, v) in second.iter() {
        let key = k.as_str().unwrap_or_default();
        match (first.get(key).map(|n| &n.value), &v.value) {
            (Some(Value::Seq(old)), Value::Seq(new)) => {
                let joined = concat(new, old, v.mark);
                first.insert(k.clone(), joined);
            }
            (Some(Value::Seq(_)), _) | (Some(_), Value::Seq(_)) => {
                return Err(Error::new(
                    file,
                    v.mark,
                    format!(
                        "Type mismatch: cannot combine a list with a non-list for field '{key}'"
                    ),
                ));
            }
            _ => first.insert(k.clone(), v.clone()),
        }
    }
    Ok(())
}

/// Merges every section `element` inherits (depth first, each section once) into `conf`.
fn inherit(
    conf: &mut Map,
    doc: &Map,
    element: &Map,
    seen: &mut Vec<String>,
    file: &str,
    notes: &mut Vec<Note>,
) -> Result<()> {
    let Some(list) = element.get("Inherit").filter(|n| n.value.truthy()) else {
        return Ok(());
    };
    for item in expect_list(list, file, "Inherit")? {
        let name = item.value.template_str().unwrap_or_default();
        if seen.contains(&name) {
            continue;
        }
        seen.push(name.clone());
        let Some(section) = doc.get(&name) else {
            notes.push(Note::Warning(format!(
                "Unable to find inherit section '{name}' ignoring."
            )));
            continue;
        };
        let section = expect_map(section, file, &format!("section '{name}'"))?;
        inherit(conf, doc, section, seen, file, notes)?;
        merge_dicts(conf, section, file)?;
    }
    Ok(())
}

/// Reads a script or partition file from the working directory or, failing that, the first
/// external configuration directory that has it. Adds the newline the tool added.
fn read_config_file(
    doc: &Map,
    name: &str,
    files: &dyn Files,
    notes: &mut Vec<Note>,
) -> Result<Option<String>> {
    let mut candidates = vec![name.to_owned()];
    if let Some(dirs) = doc.get("ExternalConfigs").and_then(Node::as_seq) {
        for dir in dirs.iter().filter_map(|d| d.value.template_str()) {
            candidates.push(format!("{}/{name}", dir.trim_end_matches('/')));
        }
    }
    for path in candidates {
        if let Some(text) = super::merge::read_text(files, &path)? {
            return Ok(Some(text + "\n"));
        }
    }
    notes.push(Note::Warning(format!("{name} not found, skipping.")));
    Ok(None)
}

fn scripts(
    conf: &Map,
    doc: &Map,
    key: &str,
    files: &dyn Files,
    notes: &mut Vec<Note>,
) -> Result<Option<String>> {
    let Some(list) = conf.get(key) else {
        return Ok(None);
    };
    let mut body = String::new();
    for item in expect_list(list, "configuration", key)? {
        let name = item.value.template_str().unwrap_or_default();
        if let Some(text) = read_config_file(doc, &name, files, notes)? {
            body.push_str(&text);
        }
    }
    Ok((!body.is_empty()).then_some(body))
}

/// Runs mer-kickstarter over `template` (the `-c` file).
pub(crate) fn generate(
    template: &Template,
    files: &dyn Files,
    options: &Options,
) -> Result<Generated> {
    let mut run = Generated::default();
    let mut doc = template.root().clone();
    let mut read = vec![template.file().to_owned()];
    load_externals(
        &mut doc,
        template.file(),
        files,
        options,
        &mut read,
        &options.external_dirs,
        &mut run.notes,
    )?;
    let repos = repositories_in(&doc, template.file())?;
    let mut url_vars: Vec<(String, String)> = match doc.get("RepositoryURLVariables") {
        Some(node) => url_variables(node, template.file(), &mut run.notes),
        None => Vec::new(),
    };
    url_vars.extend(options.repo_url_variables.iter().cloned());

    let Some(configs) = doc.get("Configurations").filter(|n| n.value.truthy()) else {
        run.notes.push(Note::Warning(
            "No 'Configurations' found from yaml.".to_owned(),
        ));
        return Ok(run);
    };
    let file = template.file();
    for item in expect_list(configs, file, "Configurations")? {
        let configuration = expect_map(item, file, "a Configurations entry")?;
        let name = configuration
            .get("Name")
            .map_or_else(|| "None".to_owned(), |n| percent_s(&n.value));
        if let Some(only) = &options.only {
            let own = configuration.get("FileName").map(|n| percent_s(&n.value));
            if own.as_deref() != Some(only.as_str()) {
                continue;
            }
        }
        let mut conf = Map::new();
        inherit(
            &mut conf,
            &doc,
            configuration,
            &mut Vec::new(),
            file,
            &mut run.notes,
        )?;
        merge_dicts(&mut conf, configuration, file)?;

        let active = conf.get("Active").is_some_and(|n| n.value.truthy());
        if options.only.is_none() && !active {
            run.notes.push(Note::Inactive {
                name: name.clone(),
                file_name: "None".to_owned(),
            });
            continue;
        }
        let mut merged = Merged {
            meta: conf,
            sources: HashMap::new(),
            item_files: HashMap::new(),
            file: file.to_owned(),
            mark: item.mark,
            part: String::new(),
            post: String::new(),
            nochroot: String::new(),
        };
        let (pre, post, nochroot) = (
            scripts(&merged.meta, &doc, "PreScripts", files, &mut run.notes)?,
            scripts(&merged.meta, &doc, "PostScripts", files, &mut run.notes)?,
            scripts(&merged.meta, &doc, "NoChrootScripts", files, &mut run.notes)?,
        );
        if let Some(part) = merged.meta.get("Part").and_then(|n| n.value.template_str()) {
            match read_config_file(&doc, &part, files, &mut run.notes)? {
                Some(text) => merged.part = text,
                None => {
                    run.notes.push(Note::Warning(format!(
                        "The Part: key takes a filename as an argument and {part} was not found"
                    )));
                    merged.meta.remove("Part");
                }
            }
        }
        let file_name = match merged.meta.get("FileName").filter(|n| n.value.truthy()) {
            Some(n) => percent_s(&n.value),
            None => {
                let derived = name.replace(' ', "_");
                run.notes.push(Note::Warning(format!(
                    "FileName field missing. Writing as '{derived}'."
                )));
                derived
            }
        };
        let path = format!("{file_name}.ks");
        check_output_path(&path, &merged, "FileName")?;
        let scripts = render::mer::Scripts {
            pre,
            post,
            nochroot,
        };
        let contents = render::mer::render(&merged, &scripts, &repos, &url_vars, &mut run.notes)?;
        run.notes.push(Note::Creating {
            name: name.clone(),
            path: path.clone(),
        });
        run.outputs.push(Output {
            path,
            name,
            contents,
        });
    }
    Ok(run)
}

/// `RepositoryURLVariables`: a mapping of literal strings to replace in URLs.
pub(crate) fn url_variables(
    node: &Node,
    file: &str,
    notes: &mut Vec<Note>,
) -> Vec<(String, String)> {
    match node.as_map() {
        Some(map) => map
            .iter()
            .map(|(k, v)| {
                (
                    k.value.template_str().unwrap_or_default(),
                    v.value.template_str().unwrap_or_default(),
                )
            })
            .collect(),
        None => {
            notes.push(Note::Warning(format!(
                "{file}: Ignoring badly specified RepositoryUrlVariables. It should be a set (not list) of Key: Value"
            )));
            Vec::new()
        }
    }
}
