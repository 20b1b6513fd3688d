//! CSRF protection for the HTML forms (the JSON API takes no cookies and needs
//! `Content-Type: application/json`, which a cross-site form cannot send): a random token in a
//! `SameSite=Strict` cookie and the same token in every form (double submit), compared in
//! constant time, plus a check that a browser's `Origin`, when sent, is this host.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponseParts, ResponseParts};
use rand::RngCore as _;

use crate::error::ApiError;

/// The cookie holding the token.
pub const COOKIE: &str = "img_csrf";
/// The form field holding the token.
pub const FIELD: &str = "csrf";

/// The request's token: the cookie's, or a new one (then set on the response).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsrfToken {
    /// The token, 64 hex digits.
    pub value: String,
    fresh: bool,
}

fn well_formed(t: &str) -> bool {
    t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The token in the request's cookie, if there is a well-formed one.
pub fn from_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_owned())
        .filter(|v| well_formed(v))
}

impl<S: Send + Sync> FromRequestParts<S> for CsrfToken {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<CsrfToken, Self::Rejection> {
        Ok(match from_cookie(&parts.headers) {
            Some(value) => CsrfToken {
                value,
                fresh: false,
            },
            None => {
                let mut bytes = [0u8; 32];
                rand::rng().fill_bytes(&mut bytes);
                CsrfToken {
                    value: hex::encode(bytes),
                    fresh: true,
                }
            }
        })
    }
}

/// Sets the cookie when the token is new.
impl IntoResponseParts for CsrfToken {
    type Error = std::convert::Infallible;

    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        if self.fresh {
            let cookie = format!("{COOKIE}={}; Path=/; SameSite=Strict; HttpOnly", self.value);
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
        }
        Ok(res)
    }
}

fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Checks a form post: the field's token equals the cookie's, and the `Origin` (browsers send
/// it on POST) names this host.
pub fn verify(headers: &HeaderMap, submitted: Option<&str>) -> Result<(), ApiError> {
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        let origin_host = origin.split_once("://").map(|(_, h)| h);
        if origin_host.is_none() || origin_host != host {
            return Err(ApiError::Forbidden(format!(
                "a form posted from {origin:?} (not this site)"
            )));
        }
    }
    let cookie = from_cookie(headers);
    match (cookie, submitted) {
        (Some(c), Some(s)) if same(c.as_bytes(), s.as_bytes()) => Ok(()),
        _ => Err(ApiError::Forbidden(
            "the form's security token is missing or stale: reload the page and submit again"
                .into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(cookie: Option<&str>, origin: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("img.local:8080"));
        if let Some(c) = cookie {
            h.insert(
                header::COOKIE,
                HeaderValue::from_str(&format!("a=b; {COOKIE}={c}")).expect("cookie"),
            );
        }
        if let Some(o) = origin {
            h.insert(header::ORIGIN, HeaderValue::from_str(o).expect("origin"));
        }
        h
    }

    #[test]
    fn double_submit_and_origin() {
        let t = "ab".repeat(32);
        assert!(verify(&headers(Some(&t), None), Some(&t)).is_ok());
        assert!(verify(&headers(Some(&t), Some("http://img.local:8080")), Some(&t)).is_ok());
        assert!(verify(&headers(Some(&t), Some("http://evil.example")), Some(&t)).is_err());
        assert!(verify(&headers(Some(&t), None), Some(&"cd".repeat(32))).is_err());
        assert!(verify(&headers(None, None), Some(&t)).is_err());
        assert!(verify(&headers(Some(&t), None), None).is_err());
        assert!(verify(&headers(Some("short"), None), Some("short")).is_err());
    }
}
