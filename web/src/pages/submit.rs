//! `submit/`: the form. It offers the platforms of the configured kickstarter template and
//! the image types, takes an overlay or a kickstart (upload or paste), previews the kickstart
//! the operator will build, and shows each problem next to its field with the kickstart line.

use askama::Template;
use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use kube::ResourceExt as _;

use super::{PageError, render};
use crate::api::{Choices, choices};
use crate::app::AppState;
use crate::auth::User;
use crate::csrf::{self, CsrfToken};
use crate::error::ApiError;
use crate::submit::{FieldError, MAX_KICKSTART, NewJob, Prepared, create, prepare};

/// What the user typed, to show again.
#[derive(Debug, Clone, Default)]
pub struct FormValues {
    /// Addresses, as typed.
    pub email: String,
    /// Image type (empty: the kickstart's).
    pub image_type: String,
    /// `template` or `kickstart`.
    pub source: String,
    /// Chosen platform.
    pub platform: String,
    /// Overlay text.
    pub overlay: String,
    /// Pasted (or uploaded, shown back) kickstart.
    pub kickstart: String,
}

#[derive(Template)]
#[template(path = "submit.html")]
struct SubmitPage {
    user: String,
    csrf: String,
    template: String,
    platforms: Vec<String>,
    image_types: Vec<&'static str>,
    form: FormValues,
    errors: Vec<FieldError>,
    kickstart_errors: Vec<FieldError>,
    general_errors: Vec<String>,
    preview: Option<Prepared>,
}

impl SubmitPage {
    fn errors_for(&self, field: &str) -> Vec<&str> {
        self.errors
            .iter()
            .filter(|e| e.field == field)
            .map(|e| e.message.as_str())
            .collect()
    }
}

fn page(
    user: &User,
    csrf: &str,
    choices: Choices,
    form: FormValues,
    errors: Vec<FieldError>,
    preview: Option<Prepared>,
) -> SubmitPage {
    let known = ["email", "imageType", "platform", "overlay", "kickstart"];
    SubmitPage {
        user: user.name.clone(),
        csrf: csrf.to_owned(),
        template: choices.template,
        platforms: choices.platforms,
        image_types: choices.image_types,
        kickstart_errors: errors
            .iter()
            .filter(|e| e.field == "kickstart")
            .cloned()
            .collect(),
        general_errors: errors
            .iter()
            .filter(|e| !known.contains(&e.field.as_str()))
            .map(|e| {
                if e.field.is_empty() {
                    e.message.clone()
                } else {
                    format!("{}: {}", e.field, e.message)
                }
            })
            .collect(),
        errors,
        form,
        preview,
    }
}

/// `GET /submit/`.
pub async fn show(
    State(state): State<AppState>,
    user: User,
    token: CsrfToken,
) -> Result<Response, PageError> {
    let choices = choices(&state, None).await?;
    let form = FormValues {
        source: "template".into(),
        ..Default::default()
    };
    let page = page(&user, &token.value, choices, form, Vec::new(), None);
    Ok((token, render(&page)).into_response())
}

/// The form as posted.
#[derive(Debug, Default)]
struct Posted {
    csrf: Option<String>,
    action: String,
    values: FormValues,
    /// An uploaded file: its name and bytes.
    upload: Option<(String, Vec<u8>)>,
}

fn too_large(e: &MultipartError, limit: usize) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge(format!(
            "the form is larger than {limit} bytes (kickstarts may be up to {MAX_KICKSTART} bytes)"
        ))
    } else {
        ApiError::BadRequest(format!("the form could not be read: {}", e.body_text()))
    }
}

async fn text(field: Field<'_>, limit: usize) -> Result<String, ApiError> {
    let bytes = field.bytes().await.map_err(|e| too_large(&e, limit))?;
    String::from_utf8(bytes.to_vec())
        .map_err(|_| ApiError::BadRequest("a form field is not UTF-8 text".into()))
}

async fn read_form(mut multipart: Multipart, limit: usize) -> Result<Posted, ApiError> {
    let mut posted = Posted::default();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| too_large(&e, limit))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "ksfile" => {
                let file_name = field.file_name().unwrap_or("upload").to_owned();
                let bytes = field.bytes().await.map_err(|e| too_large(&e, limit))?;
                if !bytes.is_empty() {
                    posted.upload = Some((file_name, bytes.to_vec()));
                }
            }
            "csrf" => posted.csrf = Some(text(field, limit).await?),
            "action" => posted.action = text(field, limit).await?,
            "email" => posted.values.email = text(field, limit).await?,
            "imagetype" => posted.values.image_type = text(field, limit).await?,
            "source" => posted.values.source = text(field, limit).await?,
            "platform" => posted.values.platform = text(field, limit).await?,
            "overlay" => posted.values.overlay = text(field, limit).await?,
            "kickstart" => posted.values.kickstart = text(field, limit).await?,
            // Unknown fields are read and dropped (the body limit still applies).
            _ => {
                field.bytes().await.map_err(|e| too_large(&e, limit))?;
            }
        }
    }
    Ok(posted)
}

/// The submission the form describes, or the problems with the upload.
fn new_job(
    values: &mut FormValues,
    upload: Option<(String, Vec<u8>)>,
) -> Result<NewJob, Vec<FieldError>> {
    let from_kickstart = values.source == "kickstart";
    if from_kickstart && let Some((file, bytes)) = upload {
        match String::from_utf8(bytes) {
            Ok(text) => values.kickstart = text,
            Err(e) => {
                return Err(vec![FieldError {
                    field: "kickstart".into(),
                    line: None,
                    message: format!(
                        "{file}: not UTF-8 text (invalid byte at offset {})",
                        e.utf8_error().valid_up_to()
                    ),
                }]);
            }
        }
    }
    let email = values
        .email
        .split([',', ' '])
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect();
    let image_type = Some(values.image_type.trim().to_owned()).filter(|t| !t.is_empty());
    Ok(if from_kickstart {
        NewJob {
            kickstart: Some(values.kickstart.clone()),
            image_type,
            email,
            ..Default::default()
        }
    } else {
        NewJob {
            platform: Some(values.platform.clone()),
            overlay: Some(values.overlay.clone()),
            image_type,
            email,
            ..Default::default()
        }
    })
}

/// `POST /submit/`: preview, or create and go to the job's page.
pub async fn post(
    State(state): State<AppState>,
    user: User,
    headers: HeaderMap,
    multipart: Multipart,
) -> Result<Response, PageError> {
    let limit = state.settings.max_upload;
    let mut posted = read_form(multipart, limit).await?;
    csrf::verify(&headers, posted.csrf.as_deref())?;
    let token = posted.csrf.clone().unwrap_or_default();
    let outcome = match new_job(&mut posted.values, posted.upload.take()) {
        Ok(new) => prepare(&state, &new).await.map_err(|e| e.field_errors()),
        Err(errors) => Err(errors),
    };
    let choices = choices(&state, None).await?;
    match outcome {
        Err(errors) => {
            let page = page(&user, &token, choices, posted.values, errors, None);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
        Ok(prepared) if posted.action == "preview" => {
            let page = page(
                &user,
                &token,
                choices,
                posted.values,
                Vec::new(),
                Some(prepared),
            );
            Ok(render(&page))
        }
        Ok(prepared) => {
            let ns = prepared.namespace.clone();
            let created = create(&state, &user, prepared).await?;
            Ok(Redirect::to(&format!("/job/{ns}/{}", created.name_any())).into_response())
        }
    }
}
