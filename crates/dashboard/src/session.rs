//! Signing in and out, and the session of every other page.
//!
//! Rules:
//! - a person signs in with an API key of their team, pasted once; the key is checked exactly as
//!   `/v1` checks it (`hash_api_key`, live, subscription active) and never stored anywhere else;
//! - the session id (40 random characters) lives only in the cookie; the database keeps its
//!   SHA-256 (`outbound_store::sessions`). The cookie is `HttpOnly`, `SameSite=Lax`, `Path=/`,
//!   and under TLS `Secure` with the `__Host-` prefix; it expires with the session;
//! - every sign-in makes a new session; signing out deletes it; revoking the key ends it;
//! - a page without a live session sends the browser to the sign-in page (303), remembering
//!   where it was going; a state-changing request must also carry the session's CSRF token
//!   ([`crate::csrf`]), else 403;
//! - the sign-in form is protected by a double-submit token: a random value in a short-lived
//!   cookie that the form must repeat.

use askama::Template;
use axum::extract::{FromRequestParts, OriginalUri, Query, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use outbound_core::keys::{generate_api_key, hash_api_key, is_well_formed_api_key};
use outbound_core::time::now_millis;
use outbound_store::sessions::Session;
use serde::Deserialize;

use crate::csrf::{SubmittedToken, tokens_match};
use crate::view::{PageError, render, render_status, url_escape};
use crate::{AppState, BASE};

/// The session cookie over plain HTTP (local use).
const SESSION_COOKIE: &str = "outbound_session";
/// The session cookie under TLS: the `__Host-` prefix pins it to this host, `Path=/`, `Secure`.
const SECURE_SESSION_COOKIE: &str = "__Host-outbound_session";
/// The sign-in form's double-submit cookie.
const LOGIN_COOKIE: &str = "outbound_login";
/// How long the sign-in form stays valid, in seconds.
const LOGIN_FORM_SECS: i64 = 60 * 60;

/// The signed-in team of a request.
#[derive(Debug, Clone)]
pub(crate) struct Signed {
    pub session: Session,
    /// The SHA-256 of the cookie's id.
    id_hash: String,
}

impl Signed {
    pub fn team(&self) -> &str {
        &self.session.team_id
    }
}

/// The name of the session cookie for these settings.
fn session_cookie_name(state: &AppState) -> &'static str {
    if state.settings.is_tls() {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

/// A cookie with the attributes every dashboard cookie has.
fn dashboard_cookie(
    state: &AppState,
    name: &'static str,
    value: String,
    max_age_secs: i64,
) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.settings.is_tls())
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .build()
}

/// The same cookie, expired.
fn removal(state: &AppState, name: &'static str) -> Cookie<'static> {
    dashboard_cookie(state, name, String::new(), 0)
}

/// Where to go after signing in: a path of the dashboard, else its home.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with(BASE) && !path.starts_with("//") && !path.contains('\\') => {
            path.to_owned()
        }
        _ => BASE.to_owned(),
    }
}

/// Whether the request changes state (and so must carry the CSRF token).
pub(crate) fn is_state_changing(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Why a request has no usable session.
pub(crate) enum NoSession {
    /// Not signed in (or the session ended): go sign in, then come back.
    SignIn {
        next: String,
    },
    /// Signed in, but the state-changing request lacks the session's CSRF token.
    Forbidden,
    Failed(PageError),
}

impl IntoResponse for NoSession {
    fn into_response(self) -> Response {
        match self {
            NoSession::SignIn { next } => {
                let target = format!("{BASE}/login?next={}", url_escape(&next));
                Redirect::to(&target).into_response()
            }
            NoSession::Forbidden => PageError::Forbidden.into_response(),
            NoSession::Failed(error) => error.into_response(),
        }
    }
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = NoSession;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, NoSession> {
        let next = if parts.method == Method::GET {
            // The path as the browser asked for it (the dashboard is nested under `BASE`).
            let uri = parts
                .extensions
                .get::<OriginalUri>()
                .map_or(&parts.uri, |original| &original.0);
            uri.path_and_query()
                .map_or_else(|| BASE.to_owned(), |p| p.as_str().to_owned())
        } else {
            BASE.to_owned()
        };
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(id) = jar.get(session_cookie_name(state)).map(Cookie::value) else {
            return Err(NoSession::SignIn { next });
        };
        let id_hash = hash_api_key(id);
        let session = state
            .store
            .session(&id_hash, now_millis(), state.settings.sessions)
            .await
            .map_err(|error| NoSession::Failed(error.into()))?
            .ok_or(NoSession::SignIn { next })?;
        if is_state_changing(&parts.method) {
            let submitted = parts.extensions.get::<SubmittedToken>();
            if !submitted.is_some_and(|token| tokens_match(&token.0, &session.csrf_token)) {
                return Err(NoSession::Forbidden);
            }
        }
        Ok(Signed { session, id_hash })
    }
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    token: String,
    next: String,
    error: Option<&'static str>,
}

#[derive(Debug, Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// The sign-in form, with a fresh double-submit token.
async fn login_form(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(query): Query<NextQuery>,
) -> Response {
    let token = generate_api_key();
    let page = LoginPage {
        token: token.clone(),
        next: safe_next(query.next.as_deref()),
        error: None,
    };
    let jar = jar.add(dashboard_cookie(
        &state,
        LOGIN_COOKIE,
        token,
        LOGIN_FORM_SECS,
    ));
    (jar, render(&page)).into_response()
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    #[serde(default)]
    api_key: String,
    #[serde(default)]
    next: String,
    #[serde(default, rename = "_csrf")]
    csrf: String,
}

/// Checks the key and opens a session.
async fn login(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let expected = jar.get(LOGIN_COOKIE).map(|c| c.value().to_owned());
    if !expected.is_some_and(|expected| tokens_match(&form.csrf, &expected)) {
        return Err(PageError::Forbidden);
    }
    let next = safe_next(Some(&form.next));
    let key = form.api_key.trim();
    let refused = |error: &'static str| {
        let token = generate_api_key();
        let page = LoginPage {
            token: token.clone(),
            next: next.clone(),
            error: Some(error),
        };
        let jar = jar.clone().add(dashboard_cookie(
            &state,
            LOGIN_COOKIE,
            token,
            LOGIN_FORM_SECS,
        ));
        (jar, render_status(StatusCode::UNAUTHORIZED, &page)).into_response()
    };
    if !is_well_formed_api_key(key) {
        return Ok(refused(
            "That is not an API key: keys are 40 letters and digits.",
        ));
    }
    let id = generate_api_key();
    let opened = state
        .store
        .open_session(
            &hash_api_key(key),
            &hash_api_key(&id),
            &generate_api_key(),
            now_millis(),
            state.settings.sessions,
        )
        .await?;
    let Some(session) = opened else {
        return Ok(refused(
            "This key is not valid (revoked, or the subscription is inactive).",
        ));
    };
    tracing::info!(team = %session.team_id, key = %session.api_key_id, "dashboard sign-in");
    // Sign-ins are rare: each clears the sessions that have ended meanwhile.
    if let Err(error) = state
        .store
        .purge_sessions(now_millis(), state.settings.sessions)
        .await
    {
        tracing::warn!(%error, "ended dashboard sessions were not purged");
    }
    let max_age = state.settings.sessions.absolute / 1000;
    let jar = jar
        .remove(removal(&state, LOGIN_COOKIE))
        .add(dashboard_cookie(
            &state,
            session_cookie_name(&state),
            id,
            max_age,
        ));
    Ok((jar, Redirect::to(&next)).into_response())
}

/// Ends the session.
async fn logout(
    State(state): State<AppState>,
    signed: Signed,
    jar: CookieJar,
) -> Result<Response, PageError> {
    state.store.close_session(&signed.id_hash).await?;
    let jar = jar.remove(removal(&state, session_cookie_name(&state)));
    Ok((jar, Redirect::to(&format!("{BASE}/login"))).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dashboard_paths_are_followed_after_sign_in() {
        assert_eq!(
            safe_next(Some("/app/inbox?paused=1")),
            "/app/inbox?paused=1"
        );
        assert_eq!(safe_next(Some("https://evil.example/app")), "/app");
        assert_eq!(safe_next(Some("//evil.example")), "/app");
        assert_eq!(safe_next(Some("/v1/campaigns")), "/app");
        assert_eq!(safe_next(None), "/app");
    }
}
