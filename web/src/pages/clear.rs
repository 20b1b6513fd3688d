//! `clear/`: removes finished jobs and their files (the 2010 clear), never pinned ones, and
//! only the user's own unless they are an admin. GET shows what would go; POST does it.

use askama::Template;
use axum::extract::{Form, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use kube::ResourceExt as _;
use serde::Deserialize;

use super::{PageError, render};
use crate::app::AppState;
use crate::auth::User;
use crate::csrf::{self, CsrfToken};
use crate::jobs;

#[derive(Template)]
#[template(path = "clear.html")]
struct ClearPage {
    user: String,
    admin: bool,
    csrf: String,
    jobs: Vec<String>,
    removed: Option<Vec<String>>,
}

/// `GET /clear/`.
pub async fn show(State(state): State<AppState>, user: User, token: CsrfToken) -> Response {
    let page = ClearPage {
        jobs: jobs::clearable(&state, &user)
            .iter()
            .map(|j| format!("{}/{}", j.namespace().unwrap_or_default(), j.name_any()))
            .collect(),
        user: user.name,
        admin: user.admin,
        csrf: token.value.clone(),
        removed: None,
    };
    (token, render(&page)).into_response()
}

/// The token of a plain form.
#[derive(Debug, Deserialize)]
pub struct TokenForm {
    /// The CSRF token.
    pub csrf: Option<String>,
}

/// `POST /clear/`.
pub async fn run(
    State(state): State<AppState>,
    user: User,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Result<Response, PageError> {
    csrf::verify(&headers, form.csrf.as_deref())?;
    let removed = jobs::clear(&state, &user).await?;
    let page = ClearPage {
        user: user.name,
        admin: user.admin,
        csrf: form.csrf.unwrap_or_default(),
        jobs: Vec::new(),
        removed: Some(removed),
    };
    Ok(render(&page))
}
