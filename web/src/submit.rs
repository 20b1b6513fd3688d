//! Creating jobs: `POST /api/v1/jobs` (JSON). The kickstart is read before anything is
//! created, and every problem comes back with its line, so a form or `imgctl` can show it
//! next to the field.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use img_crd::{ImageJob, ImageJobSpec, ImageType, Notify, Source};
use kickstarter::ks::{Limits, NoIncludes, parse};
use kube::Api;
use kube::api::PostParams;
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::view::{JobSummary, SUBMITTER};

/// The largest kickstart accepted (as the kickstart reader's own limit).
pub const MAX_KICKSTART: usize = 1024 * 1024;

/// A job to create.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewJob {
    /// The namespace (default: the frontend's).
    pub namespace: Option<String>,
    /// The kickstart text.
    pub kickstart: String,
    /// The image type; absent: the kickstart's magic line decides.
    pub image_type: Option<String>,
    /// Addresses to tell when it ends.
    #[serde(default)]
    pub email: Vec<String>,
}

/// A problem with a submission, at a field (and a kickstart line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldError {
    /// `kickstart`, `imageType`, `email`, `namespace`.
    pub field: String,
    /// 1-based kickstart line, when the problem is on one.
    pub line: Option<u32>,
    /// What is wrong.
    pub message: String,
}

/// Checks a submission; the spec to create, or every problem.
pub fn check(new: &NewJob) -> Result<ImageJobSpec, Vec<FieldError>> {
    let mut errors = Vec::new();
    let field = |f: &str, line: Option<u32>, m: String| FieldError {
        field: f.to_owned(),
        line,
        message: m,
    };
    if new.kickstart.len() > MAX_KICKSTART {
        errors.push(field(
            "kickstart",
            None,
            format!("larger than {MAX_KICKSTART} bytes"),
        ));
    } else {
        let parsed = parse(
            new.kickstart.as_bytes(),
            "kickstart",
            &NoIncludes,
            &Limits::default(),
        );
        for d in parsed.errors() {
            errors.push(field(
                "kickstart",
                (d.line > 0).then_some(d.line),
                d.message.clone(),
            ));
        }
        if new.image_type.is_none() && parsed.kickstart.image_type().is_none() {
            errors.push(field(
                "imageType",
                None,
                "choose an image type (the kickstart has no magic line naming one)".into(),
            ));
        }
    }
    let image_type = match new.image_type.as_deref().map(str::parse::<ImageType>) {
        None => None,
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            errors.push(field("imageType", None, e.to_string()));
            None
        }
    };
    for address in &new.email {
        if !looks_like_address(address) {
            errors.push(field(
                "email",
                None,
                format!("{address:?} is not an e-mail address"),
            ));
        }
    }
    if let Some(ns) = &new.namespace
        && !crate::files::is_label(ns)
    {
        errors.push(field(
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
        source: Source {
            kickstart: Some(new.kickstart.clone()),
            ..Default::default()
        },
        notify: Notify {
            email: new.email.clone(),
            ..Default::default()
        },
        ..Default::default()
    })
}

/// One address, no display name, nothing a mail header could be split at.
fn looks_like_address(a: &str) -> bool {
    let Some((local, domain)) = a.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && a.len() <= 254
        && a.chars()
            .all(|c| c.is_ascii_graphic() && !"<>,;:\"\\()[]".contains(c))
}

/// `POST /api/v1/jobs`.
pub async fn create(State(state): State<AppState>, Json(new): Json<NewJob>) -> Response {
    let spec = match check(&new) {
        Ok(spec) => spec,
        Err(errors) => {
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(serde_json::json!({ "errors": errors })),
            )
                .into_response();
        }
    };
    let ns = new
        .namespace
        .clone()
        .unwrap_or_else(|| state.namespace.to_string());
    let mut job = ImageJob::new("", spec);
    job.metadata.name = None;
    job.metadata.generate_name = Some("job-".into());
    job.metadata.annotations = Some(BTreeMap::from([(
        SUBMITTER.to_owned(),
        "anonymous".to_owned(),
    )]));
    let api: Api<ImageJob> = Api::namespaced(state.client.clone(), &ns);
    match api.create(&PostParams::default(), &job).await {
        Ok(created) => (StatusCode::CREATED, Json(JobSummary::of(&created))).into_response(),
        Err(kube::Error::Api(e)) => (
            StatusCode::from_u16(e.code).unwrap_or(StatusCode::BAD_GATEWAY),
            Json(serde_json::json!({ "errors": [{ "field": "namespace", "message": e.message }] })),
        )
            .into_response(),
        Err(e) => (StatusCode::BAD_GATEWAY, format!("the Kubernetes API: {e}")).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(ks: &str, t: Option<&str>, email: &[&str]) -> NewJob {
        NewJob {
            namespace: None,
            kickstart: ks.into(),
            image_type: t.map(Into::into),
            email: email.iter().map(|e| (*e).to_owned()).collect(),
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
    }
}
