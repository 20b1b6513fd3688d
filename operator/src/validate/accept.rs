//! Turning a source into the kickstart a job builds: rendering templates (overlay applied),
//! reading the kickstart with kickstarter's reader, and settling the image type. Pure.

use std::fmt::Write as _;

use img_crd::conditions::reasons;
use img_crd::runner::TemplateInput;
use img_crd::{ImageJobSpec, ImageType, KickstartRecord, TemplateSource};
use kickstarter::ks::{self, Limits, NoIncludes};
use kickstarter::overlay::{Overlay, OverlayError};
use kickstarter::{Dialect, MemFiles, Note, Options, Template, generate, load_repositories};
use sha2::{Digest, Sha256};

use super::fetch::SourceText;
use super::{Rejection, fetch::CONFIGURATIONS_KEY, fetch::REPOSITORIES_KEY};

/// How many kickstart errors a rejection message lists.
const ERRORS_SHOWN: usize = 5;

/// A job that may queue: what it builds, from which kickstart.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    /// The image type to build.
    pub image_type: ImageType,
    /// The kickstart text.
    pub kickstart: String,
    /// What status records of the kickstart.
    pub record: KickstartRecord,
    /// For template jobs: the template, for the runner.
    pub template: Option<TemplateInput>,
    /// Warnings from the kickstart reader and kickstarter (reported as an Event).
    pub warnings: Vec<String>,
}

/// Accepts `source` for `spec`, or says what is wrong and where. `overlay_repos` are the
/// deployment's repositories appended to overlaid platforms.
pub fn accept(
    spec: &ImageJobSpec,
    source: SourceText,
    overlay_repos: &[String],
) -> Result<Accepted, Rejection> {
    let mut warnings = Vec::new();
    let (text, file, in_spec, template) = match source {
        SourceText::Kickstart {
            bytes,
            file,
            in_spec,
        } => {
            let text = String::from_utf8(bytes).map_err(|e| {
                Rejection::new(
                    reasons::INVALID_KICKSTART,
                    format!(
                        "{file}: not UTF-8 text (invalid byte at offset {})",
                        e.utf8_error().valid_up_to()
                    ),
                )
            })?;
            (text, file, in_spec, None)
        }
        SourceText::Template {
            configurations,
            repositories,
            files,
            origin,
            builtin,
        } => {
            let Some(wanted) = &spec.source.template else {
                return Err(Rejection::new(
                    reasons::INVALID_SPEC,
                    "spec.source.template: missing",
                ));
            };
            let input = TemplateInput {
                configurations,
                repositories,
                files,
                platform: wanted.platform.clone(),
                overlay: wanted.overlay.clone(),
                configuration: String::new(),
                dialect: String::new(),
                overlay_repos: overlay_repos.to_vec(),
            };
            let (rendered, input) = render(wanted, input, &origin, builtin, &mut warnings)?;
            let file = format!("{}.ks", input.configuration);
            (rendered, file, false, Some(input))
        }
    };

    let parsed = ks::parse(text.as_bytes(), &file, &NoIncludes, &Limits::default());
    if parsed.has_errors() {
        // A template that renders a broken kickstart is the template's fault.
        let reason = if template.is_some() {
            reasons::INVALID_TEMPLATE
        } else {
            reasons::INVALID_KICKSTART
        };
        return Err(Rejection::new(reason, summarize(parsed.errors())));
    }
    warnings.extend(
        parsed
            .diagnostics
            .iter()
            .filter(|d| !d.is_error())
            .map(ToString::to_string),
    );

    let image_type = match (spec.image_type, parsed.kickstart.image_type()) {
        (Some(t), _) => t,
        (None, Some(name)) => name.parse::<ImageType>().map_err(|e| {
            Rejection::new(
                reasons::INVALID_KICKSTART,
                format!("{file}:1: the magic line names an {e}"),
            )
        })?,
        (None, None) => {
            return Err(Rejection::new(
                reasons::NO_IMAGE_TYPE,
                format!(
                    "spec.imageType is not set and {file} has no -*-mic2-options-*- line naming a format (-f TYPE)"
                ),
            ));
        }
    };

    let record = KickstartRecord {
        sha256: hex::encode(Sha256::digest(text.as_bytes())),
        bytes: text.len() as u64,
        configuration: template.as_ref().map(|t| t.configuration.clone()),
        text: (!in_spec).then(|| text.clone()),
    };
    Ok(Accepted {
        image_type,
        kickstart: text,
        record,
        template,
        warnings,
    })
}

/// `FILE:LINE: error: message; ...` for the first few errors.
fn summarize<'a>(errors: impl Iterator<Item = &'a ks::Diagnostic>) -> String {
    let errors: Vec<_> = errors.collect();
    let mut message = errors
        .iter()
        .take(ERRORS_SHOWN)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    if errors.len() > ERRORS_SHOWN {
        let _ = write!(message, " (and {} more)", errors.len() - ERRORS_SHOWN);
    }
    message
}

/// Renders the template's configuration for the wanted platform (overlay applied); fills in
/// the chosen configuration and dialect of `input`.
fn render(
    wanted: &TemplateSource,
    mut input: TemplateInput,
    origin: &str,
    builtin: bool,
    warnings: &mut Vec<String>,
) -> Result<(String, TemplateInput), Rejection> {
    let invalid = |message: String| Rejection::new(reasons::INVALID_TEMPLATE, message);
    let dialect = match &wanted.dialect {
        Some(name) => name.parse::<Dialect>().map_err(|e| {
            Rejection::new(
                reasons::INVALID_SPEC,
                format!("spec.source.template.dialect: {e}"),
            )
        })?,
        None if builtin => kickstarter::example::DIALECT,
        None => Dialect::default(),
    };
    if input.configurations.is_empty() {
        return Err(invalid(format!("{origin} has no {CONFIGURATIONS_KEY}")));
    }
    let mut template = Template::parse(input.configurations.as_bytes(), CONFIGURATIONS_KEY)
        .map_err(|e| invalid(format!("{origin}: {e}")))?;
    let repos = if dialect.is_mer() {
        Vec::new()
    } else if input.repositories.is_empty() {
        return Err(invalid(format!("{origin} has no {REPOSITORIES_KEY}")));
    } else {
        load_repositories(
            input.repositories.as_bytes(),
            REPOSITORIES_KEY,
            &Default::default(),
        )
        .map_err(|e| invalid(format!("{origin}: {e}")))?
    };

    let platform = wanted.platform.as_str();
    let overlay = Overlay::parse(wanted.overlay.as_deref().unwrap_or_default()).map_err(|e| {
        Rejection::new(
            reasons::INVALID_OVERLAY,
            format!("spec.source.template.overlay: {e}"),
        )
    })?;
    let repos_to_add: &[String] = if overlay.is_empty() {
        &[]
    } else {
        &input.overlay_repos
    };
    overlay
        .apply(&mut template, platform, repos_to_add)
        .map_err(|e| match e {
            OverlayError::UnknownPlatform { .. } => Rejection::new(
                reasons::UNKNOWN_PLATFORM,
                format!("spec.source.template.platform: {e} in {origin}"),
            ),
            other => invalid(format!("{origin}: {other}")),
        })?;

    let configuration = choose_configuration(&template, wanted, origin)?;
    let mut files = MemFiles::new();
    for (path, text) in &input.files {
        files
            .insert(path, text.as_bytes())
            .map_err(|e| invalid(format!("{origin}: {e}")))?;
    }
    let options = Options {
        dialect,
        only: Some(configuration.clone()),
        ..Default::default()
    };
    let run = generate(&template, &repos, &files, &options)
        .map_err(|e| invalid(format!("{origin}: {e}")))?;
    warnings.extend(run.notes.iter().filter_map(|n| match n {
        Note::Warning(w) => Some(format!("kickstarter: {w}")),
        _ => None,
    }));
    let Some(output) = run.final_outputs().into_iter().next() else {
        return Err(invalid(format!(
            "{origin}: configuration {configuration:?} rendered no kickstart"
        )));
    };
    let text = output.contents.clone();
    input.configuration = configuration;
    input.dialect = dialect.name().to_owned();
    Ok((text, input))
}

/// The `FileName` of the configuration to render: the one the spec names (by FileName or
/// Name), or the only one whose `Platform` is the wanted platform.
fn choose_configuration(
    template: &Template,
    wanted: &TemplateSource,
    origin: &str,
) -> Result<String, Rejection> {
    let invalid = |message: String| Rejection::new(reasons::INVALID_TEMPLATE, message);
    let entries = template
        .configurations()
        .map_err(|e| invalid(format!("{origin}: {e}")))?;
    let key = |entry: &kickstarter::config::Entry, k: &str| {
        entry.map.get(k).and_then(|n| n.value.template_str())
    };
    let file_names = |list: &[&kickstarter::config::Entry]| {
        list.iter()
            .filter_map(|e| key(e, "FileName"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(name) = &wanted.configuration {
        let found = entries.iter().find(|e| {
            key(e, "FileName").as_deref() == Some(name) || key(e, "Name").as_deref() == Some(name)
        });
        return match found.and_then(|e| key(e, "FileName")) {
            Some(file_name) => Ok(file_name),
            None => Err(invalid(format!(
                "spec.source.template.configuration: {origin} has no configuration named {name:?} (available: {})",
                file_names(&entries.iter().collect::<Vec<_>>())
            ))),
        };
    }
    let candidates: Vec<_> = entries
        .iter()
        .filter(|e| key(e, "Platform").as_deref() == Some(wanted.platform.as_str()))
        .collect();
    match candidates.as_slice() {
        [one] => key(one, "FileName").ok_or_else(|| {
            invalid(format!(
                "{origin}: the configuration of platform {:?} has no FileName",
                wanted.platform
            ))
        }),
        [] => Err(invalid(format!(
            "{origin}: no configuration builds platform {:?}; name one in spec.source.template.configuration",
            wanted.platform
        ))),
        many => Err(invalid(format!(
            "spec.source.template.configuration: platform {:?} has {} configurations in {origin} ({}); name one",
            wanted.platform,
            many.len(),
            file_names(many)
        ))),
    }
}

#[cfg(test)]
#[path = "accept_tests.rs"]
mod tests;
