//! Turning a source into the kickstart a job builds: rendering templates (overlay applied),
//! reading the kickstart with kickstarter's reader, and settling the image type. Pure.

use std::fmt::Write as _;

use crate::conditions::reasons;
use crate::runner::TemplateInput;
use crate::{ImageJobSpec, ImageType, KickstartRecord, TemplateSource};
use kickstarter::Dialect;
use kickstarter::ks::{self, Limits, NoIncludes};
use kickstarter::platform::{PlatformError, PlatformRequest, TemplateText, render_platform};
use sha2::{Digest, Sha256};

use super::{Rejection, SourceText};

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
    let text = TemplateText {
        configurations: &input.configurations,
        repositories: &input.repositories,
        files: &input.files,
    };
    let request = PlatformRequest {
        platform: &wanted.platform,
        overlay: wanted.overlay.as_deref().unwrap_or_default(),
        configuration: wanted.configuration.as_deref(),
        dialect,
        overlay_repos: &input.overlay_repos,
    };
    let rendered = render_platform(text, request).map_err(|e| match e {
        PlatformError::Overlay(e) => Rejection::new(
            reasons::INVALID_OVERLAY,
            format!("spec.source.template.overlay: {e}"),
        ),
        PlatformError::UnknownPlatform(e) => Rejection::new(
            reasons::UNKNOWN_PLATFORM,
            format!("spec.source.template.platform: {e} in {origin}"),
        ),
        PlatformError::Configuration(m) => Rejection::new(
            reasons::INVALID_TEMPLATE,
            format!("spec.source.template.configuration: {origin}: {m}"),
        ),
        PlatformError::Template(m) => {
            Rejection::new(reasons::INVALID_TEMPLATE, format!("{origin}: {m}"))
        }
    })?;
    warnings.extend(rendered.warnings);
    input.configuration = rendered.configuration;
    input.dialect = dialect.name().to_owned();
    Ok((rendered.kickstart, input))
}

#[cfg(test)]
#[path = "accept_tests.rs"]
mod tests;
