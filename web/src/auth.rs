//! Who is asking: nobody in particular on a single-user laptop, or the user an authenticating
//! proxy (oauth2-proxy, Apache/nginx with SSO) names in a header. Jobs record their submitter;
//! only the submitter or an admin may cancel, retry or delete a job.

use std::collections::BTreeSet;

use axum::extract::FromRequestParts;
use axum::http::HeaderName;
use axum::http::request::Parts;
use img_crd::ImageJob;
use kube::ResourceExt as _;

use crate::app::AppState;
use crate::error::ApiError;
use crate::view::SUBMITTER;

/// The submitter recorded when authentication is off.
pub const ANONYMOUS: &str = "anonymous";

/// How users are known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMode {
    /// No authentication: everyone is [`ANONYMOUS`] and may do everything (a laptop).
    Off,
    /// Trust `header` as set by an authenticating proxy in front of the frontend. The
    /// frontend must be reachable only through that proxy (a ClusterIP Service, loopback).
    Proxy {
        /// The header naming the user (`X-Forwarded-User`, `X-Remote-User`).
        header: HeaderName,
        /// Users who may change anybody's jobs and clear everyone's.
        admins: BTreeSet<String>,
    },
}

/// The user of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The name jobs record as their submitter.
    pub name: String,
    /// Whether they may change anybody's jobs.
    pub admin: bool,
}

impl User {
    /// Whether this user may cancel, retry or delete `job`.
    pub fn may_change(&self, job: &ImageJob) -> bool {
        self.admin || job.annotations().get(SUBMITTER) == Some(&self.name)
    }
}

/// A user name as a header may carry it: printable, no spaces, not too long (it goes into an
/// annotation and onto pages).
fn plausible_user(name: &str) -> bool {
    !name.is_empty() && name.len() <= 253 && name.chars().all(|c| c.is_ascii_graphic())
}

impl AuthMode {
    /// The user of a request with these headers.
    pub fn user(&self, headers: &axum::http::HeaderMap) -> Result<User, ApiError> {
        match self {
            AuthMode::Off => Ok(User {
                name: ANONYMOUS.to_owned(),
                admin: true,
            }),
            AuthMode::Proxy { header, admins } => {
                let value = headers.get(header).ok_or_else(|| {
                    ApiError::Unauthorized(format!("no {header} header from the proxy"))
                })?;
                let name = value
                    .to_str()
                    .ok()
                    .filter(|n| plausible_user(n))
                    .ok_or_else(|| {
                        ApiError::Unauthorized(format!("the {header} header is not a user name"))
                    })?;
                Ok(User {
                    name: name.to_owned(),
                    admin: admins.contains(name),
                })
            }
        }
    }
}

impl FromRequestParts<AppState> for User {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<User, ApiError> {
        state.settings.auth.user(&parts.headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    #[test]
    fn proxy_mode_needs_a_plausible_header() {
        let mode = AuthMode::Proxy {
            header: HeaderName::from_static("x-forwarded-user"),
            admins: BTreeSet::from(["root".to_owned()]),
        };
        assert!(mode.user(&HeaderMap::new()).is_err());
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-user", "ann".parse().expect("value"));
        assert_eq!(
            mode.user(&h).expect("ann"),
            User {
                name: "ann".into(),
                admin: false
            }
        );
        h.insert("x-forwarded-user", "root".parse().expect("value"));
        assert!(mode.user(&h).expect("root").admin);
        h.insert("x-forwarded-user", "a b".parse().expect("value"));
        assert!(mode.user(&h).is_err());
        assert!(AuthMode::Off.user(&HeaderMap::new()).expect("off").admin);
    }

    #[test]
    fn only_the_submitter_or_an_admin_may_change_a_job() {
        let mut job = ImageJob::new("j", Default::default());
        job.annotations_mut()
            .insert(SUBMITTER.to_owned(), "ann".to_owned());
        let user = |n: &str, admin| User {
            name: n.into(),
            admin,
        };
        assert!(user("ann", false).may_change(&job));
        assert!(!user("bob", false).may_change(&job));
        assert!(user("bob", true).may_change(&job));
    }
}
