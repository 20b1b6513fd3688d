//! One kickstart from a template: the configuration that builds a platform (or the one named),
//! with an IMG overlay applied — what the web form and the service ask for, where the command
//! line renders every configuration. Pure: the template and its companion files come in as
//! text.

use std::collections::BTreeMap;
use std::fmt;

use crate::config::{Entry, Note, Template, load_repositories};
use crate::dialect::Dialect;
use crate::files::MemFiles;
use crate::generate::{Options, generate};
use crate::overlay::{Overlay, OverlayError};

/// The name diagnostics give the configurations file.
pub const CONFIGURATIONS_FILE: &str = "configurations.yaml";
/// The name diagnostics give the repositories file.
pub const REPOSITORIES_FILE: &str = "repos.yaml";

/// A template as text.
#[derive(Debug, Clone, Copy)]
pub struct TemplateText<'a> {
    /// `configurations.yaml`.
    pub configurations: &'a str,
    /// `repos.yaml` (ignored by the mer dialect, which keeps repositories in the template).
    pub repositories: &'a str,
    /// Companion files by relative path (`custom/scripts/cleanup.post`).
    pub files: &'a BTreeMap<String, String>,
}

/// What to render.
#[derive(Debug, Clone, Copy)]
pub struct PlatformRequest<'a> {
    /// The platform section.
    pub platform: &'a str,
    /// The overlay text (empty: none).
    pub overlay: &'a str,
    /// The configuration to render, by `FileName` or `Name`; `None`: the only one whose
    /// `Platform` is [`PlatformRequest::platform`].
    pub configuration: Option<&'a str>,
    /// The kickstarter version to reproduce.
    pub dialect: Dialect,
    /// Repositories appended to the platform's `Repos` when there is an overlay.
    pub overlay_repos: &'a [String],
}

/// A rendered kickstart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedPlatform {
    /// The kickstart text.
    pub kickstart: String,
    /// The `FileName` of the configuration rendered.
    pub configuration: String,
    /// Kickstarter's warnings.
    pub warnings: Vec<String>,
}

/// Why a platform could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlatformError {
    /// The template cannot be read or rendered (the message names file and line).
    Template(String),
    /// The overlay is malformed (the error names the item).
    Overlay(OverlayError),
    /// The template has no such platform section.
    UnknownPlatform(OverlayError),
    /// The configuration to render cannot be chosen.
    Configuration(String),
}

impl fmt::Display for PlatformError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlatformError::Template(m) | PlatformError::Configuration(m) => f.write_str(m),
            PlatformError::Overlay(e) | PlatformError::UnknownPlatform(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for PlatformError {}

/// A template read: its configurations, repositories and companion files.
struct Prepared {
    parsed: Template,
    repos: Vec<crate::config::Repository>,
    files: MemFiles,
}

fn prepare(template: TemplateText<'_>, dialect: Dialect) -> Result<Prepared, PlatformError> {
    let invalid = |e: crate::Error| PlatformError::Template(e.to_string());
    if template.configurations.is_empty() {
        return Err(PlatformError::Template(format!(
            "there is no {CONFIGURATIONS_FILE}"
        )));
    }
    let parsed = Template::parse(template.configurations.as_bytes(), CONFIGURATIONS_FILE)
        .map_err(invalid)?;
    let repos = if dialect.is_mer() {
        Vec::new()
    } else if template.repositories.is_empty() {
        return Err(PlatformError::Template(format!(
            "there is no {REPOSITORIES_FILE}"
        )));
    } else {
        load_repositories(
            template.repositories.as_bytes(),
            REPOSITORIES_FILE,
            &Default::default(),
        )
        .map_err(invalid)?
    };
    let mut files = MemFiles::new();
    for (path, text) in template.files {
        files.insert(path, text.as_bytes()).map_err(invalid)?;
    }
    Ok(Prepared {
        parsed,
        repos,
        files,
    })
}

/// Renders the configuration of `request.platform` from `template`, overlay applied.
pub fn render_platform(
    template: TemplateText<'_>,
    request: PlatformRequest<'_>,
) -> Result<RenderedPlatform, PlatformError> {
    let invalid = |e: crate::Error| PlatformError::Template(e.to_string());
    let Prepared {
        mut parsed,
        repos,
        files,
    } = prepare(template, request.dialect)?;

    let overlay = Overlay::parse(request.overlay).map_err(PlatformError::Overlay)?;
    let extra_repos: &[String] = if overlay.is_empty() {
        &[]
    } else {
        request.overlay_repos
    };
    overlay
        .apply(&mut parsed, request.platform, extra_repos)
        .map_err(|e| match e {
            OverlayError::UnknownPlatform { .. } => PlatformError::UnknownPlatform(e),
            other => PlatformError::Template(other.to_string()),
        })?;

    let configuration = choose_configuration(&parsed, request)?;
    let options = Options {
        dialect: request.dialect,
        only: Some(configuration.clone()),
        ..Default::default()
    };
    let run = generate(&parsed, &repos, &files, &options).map_err(invalid)?;
    let warnings = run
        .notes
        .iter()
        .filter_map(|n| match n {
            Note::Warning(w) => Some(format!("kickstarter: {w}")),
            _ => None,
        })
        .collect();
    let Some(output) = run.final_outputs().into_iter().next() else {
        return Err(PlatformError::Template(format!(
            "configuration {configuration:?} rendered no kickstart"
        )));
    };
    Ok(RenderedPlatform {
        kickstart: output.contents.clone(),
        configuration,
        warnings,
    })
}

/// A configuration kickstarter writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigurationRef {
    /// Its `FileName`.
    pub file_name: String,
    /// The platform section it builds (its `Platform`).
    pub platform: String,
}

/// The configurations kickstarter would write from `template` — the active ones where
/// `dialect` honours `Active` — each with its platform. Every one is rendered on the way, so a
/// template that cannot be rendered is refused here with the file and line at fault.
pub fn active_configurations(
    template: TemplateText<'_>,
    dialect: Dialect,
) -> Result<Vec<ConfigurationRef>, PlatformError> {
    let invalid = |e: crate::Error| PlatformError::Template(e.to_string());
    let Prepared {
        parsed,
        repos,
        files,
    } = prepare(template, dialect)?;
    let options = Options {
        dialect,
        ..Default::default()
    };
    let run = generate(&parsed, &repos, &files, &options).map_err(invalid)?;
    let inactive: Vec<&str> = run
        .notes
        .iter()
        .filter_map(|n| match n {
            Note::Inactive { file_name, .. } => Some(file_name.as_str()),
            _ => None,
        })
        .collect();
    let entries = parsed.configurations().map_err(invalid)?;
    Ok(entries
        .iter()
        .filter_map(|e| {
            let file_name = key(e, "FileName")?;
            let platform = key(e, "Platform").unwrap_or_default();
            (!inactive.contains(&file_name.as_str())).then_some(ConfigurationRef {
                file_name,
                platform,
            })
        })
        .collect())
}

fn key(entry: &Entry, k: &str) -> Option<String> {
    entry.map.get(k).and_then(|n| n.value.template_str())
}

fn file_names(list: &[&Entry]) -> String {
    list.iter()
        .filter_map(|e| key(e, "FileName"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `FileName` of the configuration to render.
fn choose_configuration(
    template: &Template,
    request: PlatformRequest<'_>,
) -> Result<String, PlatformError> {
    let entries = template
        .configurations()
        .map_err(|e| PlatformError::Template(e.to_string()))?;
    if let Some(name) = request.configuration {
        let found = entries.iter().find(|e| {
            key(e, "FileName").as_deref() == Some(name) || key(e, "Name").as_deref() == Some(name)
        });
        return found.and_then(|e| key(e, "FileName")).ok_or_else(|| {
            PlatformError::Configuration(format!(
                "there is no configuration named {name:?} (available: {})",
                file_names(&entries.iter().collect::<Vec<_>>())
            ))
        });
    }
    let candidates: Vec<_> = entries
        .iter()
        .filter(|e| key(e, "Platform").as_deref() == Some(request.platform))
        .collect();
    match candidates.as_slice() {
        [one] => key(one, "FileName").ok_or_else(|| {
            PlatformError::Configuration(format!(
                "the configuration of platform {:?} has no FileName",
                request.platform
            ))
        }),
        [] => Err(PlatformError::Configuration(format!(
            "no configuration builds platform {:?}; name one",
            request.platform
        ))),
        many => Err(PlatformError::Configuration(format!(
            "platform {:?} has {} configurations ({}); name one",
            request.platform,
            many.len(),
            file_names(many)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::example;

    fn files() -> BTreeMap<String, String> {
        example::FILES
            .iter()
            .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
            .collect()
    }

    fn request<'a>(platform: &'a str, overlay: &'a str) -> PlatformRequest<'a> {
        PlatformRequest {
            platform,
            overlay,
            configuration: None,
            dialect: example::DIALECT,
            overlay_repos: &[],
        }
    }

    #[test]
    fn the_example_platform_renders_with_its_overlay() {
        let files = files();
        let text = TemplateText {
            configurations: example::CONFIGURATIONS,
            repositories: example::REPOS,
            files: &files,
        };
        let r = render_platform(text, request("MINIMAL", "gcc,-nano")).unwrap();
        assert_eq!(r.configuration, "img-example-minimal");
        assert!(r.kickstart.contains("\ngcc\n") && r.kickstart.contains("\n-nano\n"));
        let e = render_platform(text, request("NOPE", "")).unwrap_err();
        assert!(matches!(e, PlatformError::UnknownPlatform(_)), "{e}");
        let e = render_platform(text, request("MINIMAL", "a;b")).unwrap_err();
        assert!(matches!(e, PlatformError::Overlay(_)), "{e}");
        let named = PlatformRequest {
            configuration: Some("nope"),
            ..request("MINIMAL", "")
        };
        let e = render_platform(text, named).unwrap_err();
        assert_eq!(
            e.to_string(),
            "there is no configuration named \"nope\" (available: img-example-minimal, img-example-developer)"
        );
    }

    #[test]
    fn active_configurations_name_their_platforms_and_skip_inactive_ones() {
        let files = files();
        let text = |configurations| TemplateText {
            configurations,
            repositories: example::REPOS,
            files: &files,
        };
        let all = active_configurations(text(example::CONFIGURATIONS), example::DIALECT).unwrap();
        let names: Vec<_> = all
            .iter()
            .map(|c| (c.file_name.as_str(), c.platform.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("img-example-minimal", "MINIMAL"),
                ("img-example-developer", "DEVELOPER")
            ]
        );
        let one_inactive = example::CONFIGURATIONS.replace(
            "        Platform: DEVELOPER",
            "        Platform: DEVELOPER\n        Active: False",
        );
        let active = active_configurations(text(&one_inactive), example::DIALECT).unwrap();
        assert_eq!(active.len(), 1);
        assert_eq!(active[0].file_name, "img-example-minimal");
        let e = active_configurations(text("Default: [unclosed"), example::DIALECT).unwrap_err();
        assert!(
            e.to_string().starts_with("configurations.yaml:2:1: "),
            "{e}"
        );
    }
}
