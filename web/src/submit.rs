//! Creating jobs, from the form and from `POST /api/v1/jobs`: a kickstart, or a platform of
//! the configured kickstarter template with an overlay. Everything is checked before
//! anything is created — the kickstart by line, the overlay by item, then the operator's own
//! admission ([`img_crd::admission::accept`]) — so the preview shows the kickstart the
//! operator will build, and every problem comes back at its field.

use std::collections::BTreeMap;

use img_crd::admission::{SourceText, accept, builtin_template, template_from_config_map};
use img_crd::conditions::reasons;
use img_crd::{ImageJob, ImageJobSpec, ImageType, Notify, Source, TemplateSource};
use k8s_openapi::api::core::v1::ConfigMap;
use kickstarter::ks::{Limits, NoIncludes, parse};
use kube::Api;
use kube::api::PostParams;
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::User;
use crate::error::ApiError;
use crate::view::SUBMITTER;

/// The largest kickstart accepted (as the kickstart reader's own limit).
pub const MAX_KICKSTART: usize = 1024 * 1024;
/// The longest overlay accepted.
pub const MAX_OVERLAY: usize = 64 * 1024;

/// A job to create.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewJob {
    /// The namespace (default: the frontend's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The kickstart text (or give `platform`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kickstart: Option<String>,
    /// A platform of the template (or give `kickstart`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// The kickstarter template ConfigMap (in the job's namespace) to take `platform` from;
    /// default: the frontend's configured template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// The overlay for `platform`: `gcc,@MeeGo Netbook Desktop,-google-chrome`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlay: Option<String>,
    /// The image type; absent: the kickstart's magic line decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_type: Option<String>,
    /// Addresses to tell when it ends.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub email: Vec<String>,
}

/// A problem with a submission, at a field (and a kickstart line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldError {
    /// `kickstart`, `platform`, `overlay`, `imageType`, `email`, `namespace`; empty when the
    /// problem is with the request as a whole.
    pub field: String,
    /// 1-based kickstart line, when the problem is on one.
    pub line: Option<u32>,
    /// What is wrong.
    pub message: String,
}

impl FieldError {
    fn new(field: &str, line: Option<u32>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.to_owned(),
            line,
            message: message.into(),
        }
    }
}

/// A submission that passed every check: what to create and what it builds.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Prepared {
    /// The namespace it goes to.
    pub namespace: String,
    /// The spec to create.
    #[serde(skip)]
    pub spec: ImageJobSpec,
    /// The kickstart it builds (rendered, for template jobs).
    pub kickstart: String,
    /// The image type it builds.
    pub image_type: String,
    /// For template jobs: the configuration rendered.
    pub configuration: Option<String>,
    /// Kickstarter's and the kickstart reader's warnings.
    pub warnings: Vec<String>,
}

/// The checks that need nothing but the submission; the spec, or every problem.
pub fn check(new: &NewJob) -> Result<ImageJobSpec, Vec<FieldError>> {
    let mut errors = Vec::new();
    let source = match (&new.kickstart, &new.platform) {
        (Some(ks), None) => {
            check_kickstart(ks, new.image_type.is_some(), &mut errors);
            Source {
                kickstart: Some(ks.clone()),
                ..Default::default()
            }
        }
        (None, Some(platform)) => {
            if platform.trim().is_empty() {
                errors.push(FieldError::new("platform", None, "choose a platform"));
            }
            let overlay = new.overlay.clone().filter(|o| !o.trim().is_empty());
            if overlay.as_ref().is_some_and(|o| o.len() > MAX_OVERLAY) {
                errors.push(FieldError::new(
                    "overlay",
                    None,
                    format!("longer than {MAX_OVERLAY} bytes"),
                ));
            }
            Source {
                template: Some(TemplateSource {
                    platform: platform.trim().to_owned(),
                    overlay,
                    ..Default::default()
                }),
                ..Default::default()
            }
        }
        _ => {
            errors.push(FieldError::new(
                "kickstart",
                None,
                "give either a kickstart or a platform (with an overlay)",
            ));
            Source::default()
        }
    };
    if let Some(t) = &new.template
        && (new.platform.is_none() || !crate::files::is_label(t))
    {
        errors.push(FieldError::new(
            "template",
            None,
            format!("{t:?}: a template ConfigMap name, given with a platform"),
        ));
    }
    let image_type = match new.image_type.as_deref().map(str::parse::<ImageType>) {
        None => None,
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            errors.push(FieldError::new("imageType", None, e.to_string()));
            None
        }
    };
    for address in &new.email {
        if !Notify::is_address(address) {
            errors.push(FieldError::new(
                "email",
                None,
                format!("{address:?} is not an e-mail address"),
            ));
        }
    }
    if let Some(ns) = &new.namespace
        && !crate::files::is_label(ns)
    {
        errors.push(FieldError::new(
            "namespace",
            None,
            format!("{ns:?} is not a namespace"),
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ImageJobSpec {
        image_type,
        source,
        notify: Notify {
            email: new.email.clone(),
            ..Default::default()
        },
        ..Default::default()
    })
}

fn check_kickstart(ks: &str, typed: bool, errors: &mut Vec<FieldError>) {
    if ks.len() > MAX_KICKSTART {
        errors.push(FieldError::new(
            "kickstart",
            None,
            format!("larger than {MAX_KICKSTART} bytes"),
        ));
        return;
    }
    let parsed = parse(ks.as_bytes(), "kickstart", &NoIncludes, &Limits::default());
    for d in parsed.errors() {
        errors.push(FieldError::new(
            "kickstart",
            (d.line > 0).then_some(d.line),
            d.message.clone(),
        ));
    }
    if !typed && parsed.kickstart.image_type().is_none() {
        errors.push(FieldError::new(
            "imageType",
            None,
            "choose an image type (the kickstart has no magic line naming one)",
        ));
    }
}

/// The field an admission rejection is about.
fn rejection_field(reason: &str) -> &'static str {
    match reason {
        reasons::INVALID_OVERLAY => "overlay",
        reasons::UNKNOWN_PLATFORM | reasons::INVALID_TEMPLATE => "platform",
        reasons::NO_IMAGE_TYPE => "imageType",
        _ => "kickstart",
    }
}

/// The template ConfigMap a job names, else the configured one; `None`: the example
/// template built into IMG.
pub fn template_name<'a>(state: &'a AppState, wanted: Option<&'a str>) -> Option<&'a str> {
    wanted.or(state.settings.template_config_map.as_deref())
}

/// The template `name` ([`template_name`]) in `namespace`.
pub async fn template(
    state: &AppState,
    namespace: &str,
    name: Option<&str>,
) -> Result<SourceText, ApiError> {
    let Some(name) = name else {
        return Ok(builtin_template());
    };
    let api: Api<ConfigMap> = Api::namespaced(state.client.clone(), namespace);
    match api.get_opt(name).await? {
        Some(cm) => Ok(template_from_config_map(name, &cm)),
        None => Err(ApiError::NotFound(format!(
            "the template ConfigMap {name:?} is not in namespace {namespace:?}"
        ))),
    }
}

/// Runs every check on `new`, renders template jobs, and runs the operator's admission.
pub async fn prepare(state: &AppState, new: &NewJob) -> Result<Prepared, ApiError> {
    let mut spec = check(new).map_err(ApiError::Invalid)?;
    let namespace = new
        .namespace
        .clone()
        .unwrap_or_else(|| state.settings.namespace.clone());
    let source = match &new.kickstart {
        Some(ks) => SourceText::Kickstart {
            bytes: ks.as_bytes().to_vec(),
            file: "kickstart".to_owned(),
            in_spec: true,
        },
        None => {
            template(
                state,
                &namespace,
                template_name(state, new.template.as_deref()),
            )
            .await?
        }
    };
    if let (Some(t), Some(name)) = (
        spec.source.template.as_mut(),
        template_name(state, new.template.as_deref()),
    ) {
        t.config_map = Some(name.to_owned());
    }
    let accepted = accept(&spec, source, &state.settings.overlay_repos).map_err(|r| {
        let message = r
            .message
            .trim_start_matches("spec.source.template.overlay: ")
            .trim_start_matches("spec.source.template.platform: ");
        ApiError::Invalid(vec![FieldError::new(
            rejection_field(r.reason),
            None,
            message,
        )])
    })?;
    Ok(Prepared {
        namespace,
        spec,
        image_type: accepted.image_type.as_str().to_owned(),
        configuration: accepted.template.map(|t| t.configuration),
        kickstart: accepted.kickstart,
        warnings: accepted.warnings,
    })
}

/// Creates the prepared job, recording `user` as its submitter.
pub async fn create(
    state: &AppState,
    user: &User,
    prepared: Prepared,
) -> Result<ImageJob, ApiError> {
    let mut job = ImageJob::new("", prepared.spec);
    job.metadata.name = None;
    job.metadata.generate_name = Some("job-".into());
    job.metadata.annotations = Some(BTreeMap::from([(SUBMITTER.to_owned(), user.name.clone())]));
    let api: Api<ImageJob> = Api::namespaced(state.client.clone(), &prepared.namespace);
    let created = api.create(&PostParams::default(), &job).await?;
    tracing::info!(
        job = %format!("{}/{}", prepared.namespace, created.metadata.name.as_deref().unwrap_or_default()),
        user = %user.name,
        "submitted"
    );
    state.metrics.submitted.inc();
    crate::jobs::until_stored(state, &created).await;
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(ks: &str, t: Option<&str>, email: &[&str]) -> NewJob {
        NewJob {
            kickstart: Some(ks.into()),
            image_type: t.map(Into::into),
            email: email.iter().map(|e| (*e).to_owned()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn good_submissions_become_specs() {
        let spec = check(&new("lang C\n", Some("raw"), &["a@example.org"])).expect("ok");
        assert_eq!(spec.image_type, Some(ImageType::Raw));
        assert_eq!(spec.notify.email, ["a@example.org"]);
        let magic = "# -*-mic2-options-*- -f livecd -*-mic2-options-*-\nlang C\n";
        assert!(
            check(&new(magic, None, &[]))
                .expect("magic")
                .image_type
                .is_none()
        );
        let template = NewJob {
            platform: Some("MINIMAL".into()),
            overlay: Some("less,-nano".into()),
            image_type: Some("raw".into()),
            ..Default::default()
        };
        let spec = check(&template).expect("template");
        let t = spec.source.template.expect("template source");
        assert_eq!(
            (t.platform.as_str(), t.overlay.as_deref()),
            ("MINIMAL", Some("less,-nano"))
        );
    }

    #[test]
    fn problems_name_field_and_line() {
        let errs = check(&new(
            "lang C\n%packages\n@x\n%end\n%post\nno end\n",
            Some("floppy"),
            &["a@b.org\r\nBcc: x@y.org", "nobody"],
        ))
        .expect_err("bad");
        assert!(
            errs.iter()
                .any(|e| e.field == "kickstart" && e.line.is_some()),
            "{errs:?}"
        );
        assert!(errs.iter().any(|e| e.field == "imageType"));
        assert_eq!(errs.iter().filter(|e| e.field == "email").count(), 2);
        let errs = check(&new("lang C\n", None, &[])).expect_err("no type");
        assert_eq!(errs[0].field, "imageType");
        let both = NewJob {
            kickstart: Some("lang C\n".into()),
            platform: Some("MINIMAL".into()),
            ..Default::default()
        };
        assert_eq!(check(&both).expect_err("both")[0].field, "kickstart");
    }
}
