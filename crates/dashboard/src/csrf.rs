//! Cross-site request forgery checks of every state-changing request to `/app`.
//!
//! Rule: a `POST` (any method but `GET`, `HEAD`, `OPTIONS`) is refused with 403 unless
//! 1. the browser does not say it came from another site: `Sec-Fetch-Site`, when sent, is
//!    `same-origin` (or `none`, a person's own navigation), and else `Origin`, when sent, is this
//!    server's origin (the configured public URL's, or the request's `Host`); and
//! 2. it carries the session's synchronizer token, as the form field `_csrf` or the header
//!    `X-CSRF-Token` (checked with the session, in [`crate::session::Signed`]; the sign-in form
//!    carries a double-submit token instead).
//!
//! This middleware does (1) and reads the submitted token out of the body for (2): it buffers
//! the body (at most [`MAX_BODY_BYTES`]), finds `_csrf` in a urlencoded or multipart form, and
//! passes the request on unchanged with the token in its extensions.

use axum::body::{Body, to_bytes};
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::session::is_state_changing;
use crate::view::PageError;

/// The largest body a dashboard form may send: a CSV upload of [`crate::pages::imports`].
pub(crate) const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// The form field of the token.
pub(crate) const TOKEN_FIELD: &str = "_csrf";
/// The header of the token (for the script's requests).
const TOKEN_HEADER: &str = "x-csrf-token";

/// The token a request carried, for [`crate::session::Signed`] to compare.
#[derive(Debug, Clone)]
pub(crate) struct SubmittedToken(pub String);

/// Compares two tokens in constant time (for equal lengths).
pub(crate) fn tokens_match(submitted: &str, expected: &str) -> bool {
    let (a, b) = (submitted.as_bytes(), expected.as_bytes());
    !b.is_empty()
        && a.len() == b.len()
        && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The host (`name[:port]`) of an origin or URL, lowercased.
fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let host = rest.split('/').next()?;
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// Whether the request's headers say it came from this server's own pages.
fn same_origin(headers: &HeaderMap, public_url: Option<&str>) -> bool {
    let value = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = value(header::HeaderName::from_static("sec-fetch-site")) {
        return matches!(site, "same-origin" | "none");
    }
    let Some(origin) = value(header::ORIGIN) else {
        // No browser signal at all (an old browser, or not a browser): the token decides.
        return true;
    };
    let expected = public_url
        .and_then(host_of)
        .or_else(|| value(header::HOST).map(str::to_ascii_lowercase));
    expected.is_some() && host_of(origin) == expected
}

/// The `_csrf` field of a form body.
async fn token_in_body(headers: &HeaderMap, body: &[u8]) -> Option<String> {
    let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    if content_type.starts_with("application/x-www-form-urlencoded") {
        return form_urlencoded_token(body);
    }
    if content_type.starts_with("multipart/form-data") {
        let request = Request::builder()
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body.to_vec()))
            .ok()?;
        let mut multipart = Multipart::from_request(request, &()).await.ok()?;
        while let Ok(Some(field)) = multipart.next_field().await {
            if field.name() == Some(TOKEN_FIELD) {
                return field.text().await.ok();
            }
        }
    }
    None
}

/// The `_csrf` pair of a urlencoded body.
fn form_urlencoded_token(body: &[u8]) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(name, _)| name == TOKEN_FIELD)
        .map(|(_, value)| value)
}

/// The middleware: origin checks, then the token read out of the body.
pub(crate) async fn check(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !is_state_changing(request.method()) {
        return next.run(request).await;
    }
    if !same_origin(request.headers(), state.settings.public_url.as_deref()) {
        tracing::warn!(path = %request.uri().path(), "cross-site request refused");
        return PageError::Forbidden.into_response();
    }
    let (mut parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY_BYTES).await else {
        return PageError::TooLarge.into_response();
    };
    let header_token = parts
        .headers
        .get(TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let token = match header_token {
        Some(token) => Some(token),
        None => token_in_body(&parts.headers, &bytes).await,
    };
    if let Some(token) = token {
        parts.extensions.insert(SubmittedToken(token));
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn cross_site_posts_are_refused() {
        assert!(same_origin(
            &headers(&[("sec-fetch-site", "same-origin")]),
            None
        ));
        assert!(!same_origin(
            &headers(&[("sec-fetch-site", "cross-site")]),
            None
        ));
        assert!(!same_origin(
            &headers(&[("sec-fetch-site", "same-site")]),
            None
        ));
        let host = ("host", "127.0.0.1:8080");
        assert!(same_origin(
            &headers(&[host, ("origin", "http://127.0.0.1:8080")]),
            None
        ));
        assert!(!same_origin(
            &headers(&[host, ("origin", "http://evil.example")]),
            None
        ));
        assert!(same_origin(
            &headers(&[host, ("origin", "https://outbound.example.com")]),
            Some("https://outbound.example.com/")
        ));
        assert!(
            same_origin(&headers(&[host]), None),
            "no signal: the token decides"
        );
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(tokens_match("abc", "abc"));
        assert!(!tokens_match("abd", "abc"));
        assert!(!tokens_match("ab", "abc"));
        assert!(!tokens_match("", ""));
    }

    #[test]
    fn the_token_is_found_in_a_form() {
        assert_eq!(
            form_urlencoded_token(b"a=1&_csrf=tok%3D&b=2").as_deref(),
            Some("tok=")
        );
        assert_eq!(form_urlencoded_token(b"a=1"), None);
    }
}
