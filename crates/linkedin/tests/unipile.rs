//! The Unipile client against a local mock of Unipile's v1 API (axum on 127.0.0.1:0): request
//! paths, headers and bodies, answer parsing, checkpoints, error mapping and webhook payloads.

use axum::Router;
use axum::body::{Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use outbound_core::time::iso8601;
use outbound_linkedin::unipile::{
    INVITATION_LIMIT_BACKOFF, ProfileRef, WebhookKind, WebhookSource, parse_webhook,
};
use outbound_linkedin::{
    Account, CheckpointKind, ConnectorError, Incoming, InvitationState, LinkedInConnector,
    LoginOutcome, SearchHit, UnipileConfig, UnipileConnector,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const API_KEY: &str = "test-key";
const ACCOUNT: &str = "acc_1";
const MEMBER: &str = "ACoAABcdEf";
/// 2026-05-04T09:00:00Z.
const T0: i64 = 1_777_885_200_000;
const DAY: i64 = 24 * 60 * 60 * 1000;
const BODY_LIMIT: usize = 1 << 20;

/// A request the mock received.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    query: HashMap<String, String>,
    headers: HeaderMap,
    body: Bytes,
}

impl Seen {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The text fields of a `multipart/form-data` body.
    fn form(&self) -> Vec<(String, String)> {
        let content_type = self
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let Some(boundary) = content_type.split("boundary=").nth(1) else {
            return Vec::new();
        };
        let body = String::from_utf8_lossy(&self.body).into_owned();
        body.split(&format!("--{boundary}"))
            .filter_map(|part| {
                let part = part.strip_prefix("\r\n")?;
                let (head, value) = part.split_once("\r\n\r\n")?;
                let name = head.split("name=\"").nth(1)?.split('"').next()?;
                Some((name.to_owned(), value.strip_suffix("\r\n")?.to_owned()))
            })
            .collect()
    }
}

/// One scripted answer: the first route matching method and path answers; a route marked
/// `once` is then removed.
#[derive(Debug, Clone)]
struct Route {
    method: &'static str,
    path: String,
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Value,
    once: bool,
}

#[derive(Clone, Default)]
struct Mock {
    routes: Arc<Mutex<Vec<Route>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Mock {
    fn on(&self, method: &'static str, path: &str, status: u16, body: Value) -> &Self {
        self.push(method, path, status, Vec::new(), body, false)
    }

    fn once(&self, method: &'static str, path: &str, status: u16, body: Value) -> &Self {
        self.push(method, path, status, Vec::new(), body, true)
    }

    fn push(
        &self,
        method: &'static str,
        path: &str,
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: Value,
        once: bool,
    ) -> &Self {
        if let Ok(mut routes) = self.routes.lock() {
            routes.push(Route {
                method,
                path: path.to_owned(),
                status,
                headers,
                body,
                once,
            });
        }
        self
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn seen_at(&self, method: &str, path: &str) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.method == method && s.path == path)
            .collect()
    }

    fn answer(&self, method: &str, path: &str) -> Option<Route> {
        let mut routes = self.routes.lock().ok()?;
        let index = routes
            .iter()
            .position(|r| r.method == method && r.path == path)?;
        let route = routes[index].clone();
        if route.once {
            routes.remove(index);
        }
        Some(route)
    }
}

fn error_body(status: u16, kind: &str) -> Value {
    json!({ "status": status, "type": format!("errors/{kind}"), "title": kind, "detail": format!("{kind} detail") })
}

async fn handle(State(mock): State<Mock>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, BODY_LIMIT).await.unwrap_or_default();
    let query = parts
        .uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let method = parts.method.to_string();
    let path = parts.uri.path().to_owned();
    if let Ok(mut seen) = mock.seen.lock() {
        seen.push(Seen {
            method: method.clone(),
            path: path.clone(),
            query,
            headers: parts.headers.clone(),
            body,
        });
    }
    let Some(route) = mock.answer(&method, &path) else {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(error_body(404, "resource_not_found")),
        )
            .into_response();
    };
    let status = StatusCode::from_u16(route.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, axum::Json(route.body)).into_response();
    for (name, value) in route.headers {
        if let Ok(value) = value.parse() {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// Starts the mock on 127.0.0.1:0 and a client pointed at it.
async fn start() -> (Mock, UnipileConnector) {
    let mock = Mock::default();
    let app = Router::new().fallback(handle).with_state(mock.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await;
    let Ok(listener) = listener else {
        panic!("cannot bind 127.0.0.1:0");
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let mut config = UnipileConfig::new(format!("http://127.0.0.1:{port}"), API_KEY);
    config.timeout = Duration::from_secs(5);
    let Ok(client) = UnipileConnector::new(&config) else {
        panic!("valid configuration");
    };
    (mock, client)
}

fn account() -> Account {
    Account {
        id: "agent-1".into(),
        provider_account_id: Some(ACCOUNT.into()),
        login: "sam@example.com".into(),
        password: "hunter2".into(),
        country: "fr".into(),
    }
}

const PROFILE_URL: &str = "https://www.linkedin.com/in/jane-doe/";

fn jane() -> Value {
    json!({
        "object": "UserProfile",
        "provider": "LINKEDIN",
        "provider_id": MEMBER,
        "public_identifier": "jane-doe",
        "first_name": "Jane",
        "last_name": "Doe",
        "headline": "VP Sales at Acme",
        "summary": "Building sales teams.",
        "location": "Lyon, Auvergne-Rhône-Alpes, France",
        "network_distance": "SECOND_DEGREE",
        "work_experience": [
            { "position": "Sales Manager", "company": "OldCo", "company_id": "111", "skills": [], "start": "1/1/2015", "end": "1/1/2019" },
            { "position": "VP Sales", "company": "Acme", "company_id": "12345", "current": true, "skills": [], "start": "1/1/2019", "end": null }
        ]
    })
}

fn assert_api_key(mock: &Mock) {
    for seen in mock.seen() {
        assert_eq!(
            seen.headers.get("x-api-key").and_then(|v| v.to_str().ok()),
            Some(API_KEY),
            "{} {}",
            seen.method,
            seen.path
        );
    }
}

#[tokio::test]
async fn login_creates_the_account_and_reads_its_owner() {
    let (mock, client) = start().await;
    mock.on("POST", "/api/v1/accounts", 201, json!({ "object": "AccountCreated", "account_id": "acc_new" }))
        .on("GET", "/api/v1/users/me", 200, json!({ "first_name": "Sam", "last_name": "Smith", "profile_picture_url": "https://media.example/sam.jpg" }));
    let mut fresh = account();
    fresh.provider_account_id = None;
    assert_eq!(
        client.login(&fresh).await,
        Ok(LoginOutcome::LoggedIn {
            provider_account_id: "acc_new".into(),
            name: "Sam Smith".into(),
            avatar: Some("https://media.example/sam.jpg".into()),
        })
    );
    let created = &mock.seen_at("POST", "/api/v1/accounts")[0];
    assert_eq!(
        created.json(),
        json!({ "provider": "LINKEDIN", "username": "sam@example.com", "password": "hunter2", "country": "FR" })
    );
    assert_eq!(
        created
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    let me = &mock.seen_at("GET", "/api/v1/users/me")[0];
    assert_eq!(
        me.query.get("account_id").map(String::as_str),
        Some("acc_new")
    );
    assert_api_key(&mock);
}

#[tokio::test]
async fn login_stops_at_a_checkpoint_solved_by_a_code() {
    let (mock, client) = start().await;
    mock.on(
        "POST",
        "/api/v1/accounts",
        202,
        json!({ "object": "Checkpoint", "account_id": "acc_2fa", "checkpoint": { "type": "2FA" } }),
    )
    .once(
        "POST",
        "/api/v1/accounts/checkpoint",
        401,
        error_body(401, "invalid_checkpoint_solution"),
    )
    .on(
        "POST",
        "/api/v1/accounts/checkpoint",
        201,
        json!({ "object": "AccountCreated", "account_id": "acc_2fa" }),
    )
    .on(
        "GET",
        "/api/v1/users/me",
        200,
        json!({ "first_name": "Sam", "last_name": "Smith" }),
    );
    let mut fresh = account();
    fresh.provider_account_id = None;
    assert_eq!(
        client.login(&fresh).await,
        Ok(LoginOutcome::Checkpoint {
            kind: CheckpointKind::TwoFactor,
            provider_account_id: "acc_2fa".into(),
        })
    );
    assert!(matches!(
        client.submit_code(&fresh, "123456").await,
        Err(ConnectorError::Rejected(_))
    ));
    assert!(
        mock.seen_at("POST", "/api/v1/accounts/checkpoint")
            .is_empty()
    );
    fresh.provider_account_id = Some("acc_2fa".into());
    assert!(matches!(
        client.submit_code(&fresh, "000000").await,
        Err(ConnectorError::Rejected(_))
    ));
    assert_eq!(
        client.submit_code(&fresh, " 123456 ").await,
        Ok(LoginOutcome::LoggedIn {
            provider_account_id: "acc_2fa".into(),
            name: "Sam Smith".into(),
            avatar: None,
        })
    );
    let solved = mock.seen_at("POST", "/api/v1/accounts/checkpoint");
    assert_eq!(
        solved[1].json(),
        json!({ "provider": "LINKEDIN", "account_id": "acc_2fa", "code": "123456" })
    );
}

#[tokio::test]
async fn known_accounts_reconnect_and_other_checkpoints_are_named() {
    let (mock, client) = start().await;
    mock.on("POST", "/api/v1/accounts/acc_1", 202, json!({ "object": "Checkpoint", "account_id": "acc_1", "checkpoint": { "type": "IN_APP_VALIDATION" } }));
    assert_eq!(
        client.login(&account()).await,
        Ok(LoginOutcome::Checkpoint {
            kind: CheckpointKind::Other("IN_APP_VALIDATION".into()),
            provider_account_id: ACCOUNT.into(),
        })
    );
    mock.on(
        "POST",
        "/api/v1/accounts",
        401,
        error_body(401, "invalid_credentials"),
    );
    let mut fresh = account();
    fresh.provider_account_id = None;
    assert_eq!(
        client.login(&fresh).await,
        Err(ConnectorError::SessionExpired)
    );
}

#[tokio::test]
async fn profiles_read_person_company_and_network_distance() {
    let (mock, client) = start().await;
    mock.on("GET", "/api/v1/users/jane-doe", 200, jane())
        .on("GET", "/api/v1/linkedin/company/12345", 200, json!({ "object": "CompanyProfile", "id": "12345", "name": "Acme", "website": "https://acme.example", "profile_url": "https://www.linkedin.com/company/acme/" }));
    let profile = client.profile(&account(), PROFILE_URL).await;
    let Ok(profile) = profile else {
        panic!("{profile:?}");
    };
    assert_eq!(profile.name, "Jane Doe");
    assert_eq!(profile.headline.as_deref(), Some("VP Sales at Acme"));
    assert_eq!(profile.about.as_deref(), Some("Building sales teams."));
    assert_eq!(profile.city.as_deref(), Some("Lyon"));
    assert_eq!(profile.country.as_deref(), Some("France"));
    assert_eq!(profile.current_company_name.as_deref(), Some("Acme"));
    assert_eq!(profile.current_job_title.as_deref(), Some("VP Sales"));
    assert_eq!(
        profile.current_company_website.as_deref(),
        Some("https://acme.example")
    );
    assert_eq!(
        profile.current_company_linkedin_url.as_deref(),
        Some("https://www.linkedin.com/company/acme/")
    );
    assert!(!profile.connected);
    assert_eq!(profile.provider_id, MEMBER);
    let seen = &mock.seen_at("GET", "/api/v1/users/jane-doe")[0];
    assert_eq!(
        seen.query.get("account_id").map(String::as_str),
        Some(ACCOUNT)
    );
    assert_eq!(
        seen.query.get("linkedin_sections").map(String::as_str),
        Some("*")
    );
    let company = &mock.seen_at("GET", "/api/v1/linkedin/company/12345")[0];
    assert_eq!(
        company.query.get("account_id").map(String::as_str),
        Some(ACCOUNT)
    );
    assert_api_key(&mock);
}

#[tokio::test]
async fn first_degree_profiles_are_connected_and_missing_ones_unreachable() {
    let (mock, client) = start().await;
    let mut connected = jane();
    connected["network_distance"] = json!("FIRST_DEGREE");
    connected["work_experience"] = json!([]);
    mock.on("GET", "/api/v1/users/jane-doe", 200, connected);
    let profile = client.profile(&account(), PROFILE_URL).await;
    assert!(
        profile
            .as_ref()
            .is_ok_and(|p| p.connected && p.current_company_name.is_none())
    );
    // Unknown profiles answer 404 (the mock's default).
    assert_eq!(
        client
            .profile(&account(), "https://linkedin.com/in/nobody")
            .await,
        Err(ConnectorError::Unreachable)
    );
    assert!(matches!(
        client.profile(&account(), "https://example.com/jane").await,
        Err(ConnectorError::Rejected(_))
    ));
}

#[tokio::test]
async fn invitations_carry_the_note_and_refusals_map_to_statuses() {
    let (mock, client) = start().await;
    mock.on("GET", "/api/v1/users/jane-doe", 200, jane())
        .once(
            "POST",
            "/api/v1/users/invite",
            201,
            json!({ "object": "UserInvitationSent", "invitation_id": "inv_1", "usage": 50 }),
        )
        .once(
            "POST",
            "/api/v1/users/invite",
            422,
            error_body(422, "cannot_resend_yet"),
        )
        .once(
            "POST",
            "/api/v1/users/invite",
            422,
            error_body(422, "already_invited_recently"),
        )
        .once(
            "POST",
            "/api/v1/users/invite",
            422,
            error_body(422, "cannot_invite_attendee"),
        )
        .once(
            "POST",
            "/api/v1/users/invite",
            422,
            error_body(422, "limit_exceeded"),
        )
        .once(
            "POST",
            "/api/v1/users/invite",
            422,
            error_body(422, "action_already_performed"),
        );
    let me = account();
    assert_eq!(
        client
            .invite(&me, PROFILE_URL, Some("Hi Jane, great post!"), T0)
            .await
            .map(|s| s.provider_id),
        Ok("inv_1".to_owned())
    );
    let sent = &mock.seen_at("POST", "/api/v1/users/invite")[0];
    assert_eq!(
        sent.json(),
        json!({ "provider_id": MEMBER, "account_id": ACCOUNT, "message": "Hi Jane, great post!" })
    );
    assert_eq!(
        client.invite(&me, PROFILE_URL, None, T0).await,
        Err(ConnectorError::InviteCooldown)
    );
    assert_eq!(
        mock.seen_at("POST", "/api/v1/users/invite")[1].json(),
        json!({ "provider_id": MEMBER, "account_id": ACCOUNT })
    );
    assert_eq!(
        client.invite(&me, PROFILE_URL, None, T0).await,
        Err(ConnectorError::InviteCooldown)
    );
    let disabled = client.invite(&me, PROFILE_URL, None, T0).await;
    assert_eq!(disabled, Err(ConnectorError::InvitesDisabled));
    assert_eq!(disabled.err().and_then(|e| e.chat_status()), Some(502));
    assert_eq!(
        client.invite(&me, PROFILE_URL, None, T0).await,
        Err(ConnectorError::RateLimited {
            retry_after: Some(INVITATION_LIMIT_BACKOFF)
        })
    );
    assert_eq!(
        client
            .invite(&me, PROFILE_URL, None, T0)
            .await
            .map(|s| s.provider_id),
        Ok(MEMBER.to_owned())
    );
    let long = "x".repeat(301);
    assert!(matches!(
        client.invite(&me, PROFILE_URL, Some(&long), T0).await,
        Err(ConnectorError::Rejected(_))
    ));
    // The member id was looked up once and cached; the long note never left.
    assert_eq!(mock.seen_at("GET", "/api/v1/users/jane-doe").len(), 1);
    assert_eq!(mock.seen_at("POST", "/api/v1/users/invite").len(), 6);
}

#[tokio::test]
async fn http_errors_map_to_engine_errors() {
    let (mock, client) = start().await;
    mock.push(
        "GET",
        "/api/v1/users/rate-limited",
        429,
        vec![("retry-after", "42".into())],
        error_body(429, "too_many_requests"),
        false,
    );
    mock.on(
        "GET",
        "/api/v1/users/expired",
        401,
        error_body(401, "disconnected_account"),
    )
    .on(
        "GET",
        "/api/v1/users/restricted",
        403,
        error_body(403, "account_restricted"),
    )
    .on(
        "GET",
        "/api/v1/users/broken",
        500,
        error_body(500, "unexpected_error"),
    )
    .on("GET", "/api/v1/users/garbled", 200, json!("not an object"));
    let me = account();
    let profile = |slug: &'static str| {
        let client = &client;
        let me = me.clone();
        async move {
            client
                .profile(&me, &format!("https://linkedin.com/in/{slug}"))
                .await
        }
    };
    assert_eq!(
        profile("rate-limited").await,
        Err(ConnectorError::RateLimited {
            retry_after: Some(Duration::from_secs(42))
        })
    );
    assert_eq!(
        profile("expired").await,
        Err(ConnectorError::SessionExpired)
    );
    assert!(matches!(
        profile("restricted").await,
        Err(ConnectorError::Restricted(_))
    ));
    assert!(matches!(
        profile("broken").await,
        Err(ConnectorError::Transient(_))
    ));
    assert!(matches!(
        profile("garbled").await,
        Err(ConnectorError::Transient(_))
    ));
    // An agent that never logged in needs a login; nothing is sent.
    let before = mock.seen().len();
    let mut fresh = account();
    fresh.provider_account_id = None;
    assert_eq!(
        client.profile(&fresh, PROFILE_URL).await,
        Err(ConnectorError::SessionExpired)
    );
    assert_eq!(mock.seen().len(), before);
}

#[tokio::test]
async fn unreachable_servers_are_transient() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await;
    let port = listener
        .as_ref()
        .ok()
        .and_then(|l| l.local_addr().ok())
        .map(|a| a.port())
        .unwrap_or_default();
    drop(listener);
    let Ok(client) = UnipileConnector::new(&UnipileConfig::new(
        format!("http://127.0.0.1:{port}"),
        API_KEY,
    )) else {
        panic!("valid configuration");
    };
    assert!(matches!(
        client.profile(&account(), PROFILE_URL).await,
        Err(ConnectorError::Transient(_))
    ));
}

#[tokio::test]
async fn first_messages_start_a_chat_with_the_member() {
    let (mock, client) = start().await;
    mock.on("GET", "/api/v1/users/jane-doe", 200, jane())
        .on(
            "GET",
            &format!("/api/v1/chat_attendees/{MEMBER}/chats"),
            200,
            json!({ "object": "ChatList", "items": [], "cursor": null }),
        )
        .on(
            "POST",
            "/api/v1/chats",
            201,
            json!({ "object": "ChatStarted", "chat_id": "chat_1", "message_id": "msg_1" }),
        );
    let text = "Hi Jane,\r\nthanks for connecting!";
    assert_eq!(
        client
            .send_message(&account(), PROFILE_URL, text, "key-1", T0)
            .await
            .map(|s| s.provider_id),
        Ok("msg_1".to_owned())
    );
    let chats = &mock.seen_at("GET", &format!("/api/v1/chat_attendees/{MEMBER}/chats"))[0];
    assert_eq!(
        chats.query.get("account_id").map(String::as_str),
        Some(ACCOUNT)
    );
    let started = &mock.seen_at("POST", "/api/v1/chats")[0];
    assert_eq!(
        started.form(),
        vec![
            ("account_id".to_owned(), ACCOUNT.to_owned()),
            ("text".to_owned(), text.to_owned()),
            ("attendees_ids".to_owned(), MEMBER.to_owned()),
        ]
    );
    assert!(
        started
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data; boundary="))
    );
    assert_api_key(&mock);
}

#[tokio::test]
async fn later_messages_go_to_the_chat_once() {
    let (mock, client) = start().await;
    mock.on("GET", "/api/v1/users/jane-doe", 200, jane())
        .on("GET", &format!("/api/v1/chat_attendees/{MEMBER}/chats"), 200, json!({ "object": "ChatList", "items": [{ "object": "Chat", "id": "chat_1" }], "cursor": null }))
        .once("GET", "/api/v1/chats/chat_1/messages", 200, json!({ "object": "MessageList", "items": [
            { "object": "Message", "id": "old", "text": "Following up", "is_sender": 1, "timestamp": iso8601(T0 - DAY) }
        ], "cursor": null }))
        .once("POST", "/api/v1/chats/chat_1/messages", 201, json!({ "object": "MessageSent", "message_id": "msg_2" }))
        .once("GET", "/api/v1/chats/chat_1/messages", 200, json!({ "object": "MessageList", "items": [
            { "object": "Message", "id": "msg_2", "text": "Following up", "is_sender": 1, "timestamp": iso8601(T0 + 2_000) }
        ], "cursor": null }))
        .once("POST", "/api/v1/chats/chat_1/messages", 422, error_body(422, "no_connection_with_recipient"))
        .on("GET", "/api/v1/chats/chat_1/messages", 200, json!({ "object": "MessageList", "items": [], "cursor": null }));
    let me = account();
    // An older identical message is not this send: the message goes out.
    assert_eq!(
        client
            .send_message(&me, PROFILE_URL, "Following up", "key-2", T0)
            .await
            .map(|s| s.provider_id),
        Ok("msg_2".to_owned())
    );
    assert_eq!(
        mock.seen_at("POST", "/api/v1/chats/chat_1/messages")[0].form(),
        vec![("text".to_owned(), "Following up".to_owned())]
    );
    // A retry of the same send finds it in the chat and does not send twice.
    assert_eq!(
        client
            .send_message(&me, PROFILE_URL, "Following up", "key-2", T0)
            .await
            .map(|s| s.provider_id),
        Ok("msg_2".to_owned())
    );
    assert_eq!(
        mock.seen_at("POST", "/api/v1/chats/chat_1/messages").len(),
        1
    );
    let retry = client
        .send_message(&me, PROFILE_URL, "Another", "key-3", T0)
        .await;
    assert_eq!(retry, Err(ConnectorError::NoLongerInNetwork));
    assert_eq!(retry.err().and_then(|e| e.chat_status()), Some(504));
}

#[tokio::test]
async fn replies_are_the_members_messages_in_the_window() {
    let (mock, client) = start().await;
    let since = T0;
    let now = T0 + 2 * DAY;
    mock.on("GET", "/api/v1/users/jane-doe", 200, jane())
        .on("GET", &format!("/api/v1/chat_attendees/{MEMBER}/chats"), 200, json!({ "object": "ChatList", "items": [{ "object": "Chat", "id": "chat_1" }], "cursor": null }))
        .once("GET", "/api/v1/chats/chat_1/messages", 200, json!({ "object": "MessageList", "items": [
            { "object": "Message", "id": "m3", "text": "And one more thing", "is_sender": 0, "timestamp": iso8601(T0 + DAY + 5) },
            { "object": "Message", "id": "m1", "text": "Hello Jane", "is_sender": 1, "timestamp": iso8601(T0 + 10) },
        ], "cursor": "page-2" }))
        .once("GET", "/api/v1/chats/chat_1/messages", 200, json!({ "object": "MessageList", "items": [
            { "object": "Message", "id": "m2", "text": " Sounds good, tell me more ", "is_sender": 0, "timestamp": iso8601(T0 + DAY) },
            { "object": "Message", "id": "m0", "text": "Too early", "is_sender": 0, "timestamp": iso8601(T0) },
            { "object": "Message", "id": "m9", "text": "Too late", "is_sender": false, "timestamp": iso8601(now + 1) },
        ], "cursor": null }));
    assert_eq!(
        client
            .replies(&account(), PROFILE_URL, since, now, &[])
            .await,
        Ok(vec![
            Incoming {
                id: "m2".into(),
                text: "Sounds good, tell me more".into(),
                at: T0 + DAY
            },
            Incoming {
                id: "m3".into(),
                text: "And one more thing".into(),
                at: T0 + DAY + 5
            },
        ])
    );
    let pages = mock.seen_at("GET", "/api/v1/chats/chat_1/messages");
    assert_eq!(pages[0].query.get("after").cloned(), Some(iso8601(since)));
    assert_eq!(pages[0].query.get("cursor"), None);
    assert_eq!(
        pages[1].query.get("cursor").map(String::as_str),
        Some("page-2")
    );
}

#[tokio::test]
async fn no_chat_means_no_replies() {
    let (mock, client) = start().await;
    mock.on("GET", "/api/v1/users/jane-doe", 200, jane()).on(
        "GET",
        &format!("/api/v1/chat_attendees/{MEMBER}/chats"),
        200,
        json!({ "object": "ChatList", "items": [], "cursor": null }),
    );
    assert_eq!(
        client
            .replies(&account(), PROFILE_URL, T0, T0 + DAY, &[])
            .await,
        Ok(vec![])
    );
}

#[tokio::test]
async fn acceptances_come_from_the_newest_relations() {
    let (mock, client) = start().await;
    let invited = T0;
    mock.once("GET", "/api/v1/users/relations", 200, json!({ "object": "UserRelationsList", "items": [
            { "object": "UserRelation", "public_identifier": "someone-else", "created_at": invited + 5_000, "member_id": "x" },
        ], "cursor": "next" }))
        .once("GET", "/api/v1/users/relations", 200, json!({ "object": "UserRelationsList", "items": [
            { "object": "UserRelation", "public_identifier": "Jane-Doe", "created_at": invited + 1_000, "member_id": "y" },
        ], "cursor": "next-2" }))
        .once("GET", "/api/v1/users/relations", 200, json!({ "object": "UserRelationsList", "items": [
            { "object": "UserRelation", "public_identifier": "old-friend", "created_at": invited - DAY, "member_id": "z" },
        ], "cursor": "next-3" }));
    assert_eq!(
        client
            .invitation_state(&account(), PROFILE_URL, invited, T0 + DAY)
            .await,
        Ok(InvitationState::Accepted {
            at: invited + 1_000
        })
    );
    let pages = mock.seen_at("GET", "/api/v1/users/relations");
    assert_eq!(
        pages[0].query.get("account_id").map(String::as_str),
        Some(ACCOUNT)
    );
    assert_eq!(
        pages[1].query.get("cursor").map(String::as_str),
        Some("next")
    );
    // Relations older than the invitation end the scan: still pending.
    assert_eq!(
        client
            .invitation_state(&account(), PROFILE_URL, invited, T0 + DAY)
            .await,
        Ok(InvitationState::Pending)
    );
    assert!(mock.seen_at("GET", "/api/v1/users/jane-doe").is_empty());
}

#[tokio::test]
async fn inconclusive_scans_ask_the_profile() {
    let (mock, client) = start().await;
    let now = T0 + DAY;
    mock.on("GET", "/api/v1/users/relations", 200, json!({ "object": "UserRelationsList", "items": [
            { "object": "UserRelation", "public_identifier": "someone-else", "created_at": now, "member_id": "x" },
        ], "cursor": "more" }));
    let mut first_degree = jane();
    first_degree["network_distance"] = json!("FIRST_DEGREE");
    mock.once("GET", "/api/v1/users/jane-doe", 200, first_degree);
    let mut ignored = jane();
    ignored["invitation"] = json!({ "type": "SENT", "status": "IGNORED" });
    mock.once("GET", "/api/v1/users/jane-doe", 200, ignored);
    mock.once("GET", "/api/v1/users/jane-doe", 200, jane());
    let me = account();
    assert_eq!(
        client.invitation_state(&me, PROFILE_URL, T0, now).await,
        Ok(InvitationState::Accepted { at: now })
    );
    assert_eq!(
        client.invitation_state(&me, PROFILE_URL, T0, now).await,
        Ok(InvitationState::Declined)
    );
    assert_eq!(
        client.invitation_state(&me, PROFILE_URL, T0, now).await,
        Ok(InvitationState::Pending)
    );
}

#[tokio::test]
async fn sales_navigator_searches_follow_the_cursor() {
    let (mock, client) = start().await;
    let search = "https://www.linkedin.com/sales/search/people?query=(keywords%3Acfo)";
    mock.once("POST", "/api/v1/linkedin/search", 200, json!({ "object": "LinkedinSearch", "items": [
            { "object": "SearchResult", "type": "PEOPLE", "id": "ACwAA1", "name": "Alice Martin", "public_identifier": "alice-martin", "public_profile_url": "https://www.linkedin.com/in/alice-martin/" },
            { "object": "SearchResult", "type": "COMPANY", "id": "42", "name": "Acme" },
            { "object": "SearchResult", "type": "PEOPLE", "id": "ACwAA2", "first_name": "Bob", "last_name": "Stone", "public_identifier": "bob-stone" },
        ], "paging": { "start": 0, "page_count": 3, "total_count": 10 }, "cursor": "c2" }))
        .once("POST", "/api/v1/linkedin/search", 200, json!({ "object": "LinkedinSearch", "items": [
            { "object": "SearchResult", "type": "PEOPLE", "id": "ACwAA3", "name": "Chloe Weber", "public_identifier": null, "profile_url": null },
            { "object": "SearchResult", "type": "PEOPLE", "id": "ACwAA4", "name": "Dan Roe", "public_identifier": "dan-roe" },
        ], "cursor": "c3" }));
    let hits = client.search_sales_navigator(&account(), search, 3).await;
    assert_eq!(
        hits,
        Ok(vec![
            SearchHit {
                name: "Alice Martin".into(),
                profile_url: "https://linkedin.com/in/alice-martin".into()
            },
            SearchHit {
                name: "Bob Stone".into(),
                profile_url: "https://linkedin.com/in/bob-stone".into()
            },
            SearchHit {
                name: "Chloe Weber".into(),
                profile_url: "https://linkedin.com/in/acwaa3".into()
            },
        ])
    );
    let calls = mock.seen_at("POST", "/api/v1/linkedin/search");
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].json(), json!({ "url": search }));
    assert_eq!(
        calls[0].query.get("account_id").map(String::as_str),
        Some(ACCOUNT)
    );
    assert_eq!(calls[0].query.get("limit").map(String::as_str), Some("3"));
    assert_eq!(calls[1].query.get("cursor").map(String::as_str), Some("c2"));
    assert_eq!(calls[1].query.get("limit").map(String::as_str), Some("1"));
}

#[tokio::test]
async fn webhooks_are_registered_with_the_shared_secret() {
    let (mock, client) = start().await;
    mock.on(
        "POST",
        "/api/v1/webhooks",
        201,
        json!({ "object": "WebhookCreated", "webhook_id": "wh_1" }),
    );
    let id = client
        .register_webhook(
            "https://outbound.example/integrations/unipile/webhook",
            WebhookSource::Messaging,
            "s3cret",
        )
        .await;
    assert_eq!(id, Ok("wh_1".to_owned()));
    assert_eq!(
        mock.seen_at("POST", "/api/v1/webhooks")[0].json(),
        json!({
            "request_url": "https://outbound.example/integrations/unipile/webhook",
            "source": "messaging",
            "name": "outbound-messaging",
            "format": "json",
            "headers": [{ "key": "X-Outbound-Webhook-Secret", "value": "s3cret" }],
            "events": ["message_received"],
        })
    );
}

const RECEIVED: i64 = T0 + 99;

#[test]
fn new_message_webhooks_become_events() {
    let body = json!({
        "account_id": ACCOUNT,
        "account_type": "LINKEDIN",
        "account_info": { "type": "LINKEDIN", "feature": "classic", "user_id": "ACoAAOwner" },
        "event": "message_received",
        "chat_id": "chat_1",
        "timestamp": "2026-05-04T09:30:00.000Z",
        "webhook_name": "outbound-messaging",
        "message_id": "msg_9",
        "message": "Sounds interesting, tell me more",
        "sender": {
            "attendee_id": "att_1",
            "attendee_name": "Jane Doe",
            "attendee_provider_id": MEMBER,
            "attendee_profile_url": "https://www.linkedin.com/in/jane-doe"
        },
        "attendees": [],
        "attachments": []
    });
    let Ok(Some(event)) = parse_webhook(body.to_string().as_bytes(), RECEIVED) else {
        panic!("a new message");
    };
    assert_eq!(event.account_id, ACCOUNT);
    assert_eq!(
        event.kind,
        WebhookKind::NewMessage {
            from: ProfileRef {
                provider_id: Some(MEMBER.into()),
                profile_url: Some("https://linkedin.com/in/jane-doe".into()),
            },
            chat_id: Some("chat_1".into()),
            message_id: Some("msg_9".into()),
            text: "Sounds interesting, tell me more".into(),
            at: T0 + 30 * 60 * 1000,
        }
    );
    // The account's own message (sent from another device) is not a reply.
    let mut own = body.clone();
    own["sender"]["attendee_provider_id"] = json!("ACoAAOwner");
    assert_eq!(
        parse_webhook(own.to_string().as_bytes(), RECEIVED),
        Ok(None)
    );
    // Read receipts and other providers are ignored.
    let mut read = body.clone();
    read["event"] = json!("message_read");
    assert_eq!(
        parse_webhook(read.to_string().as_bytes(), RECEIVED),
        Ok(None)
    );
    let mut whatsapp = body;
    whatsapp["account_type"] = json!("WHATSAPP");
    assert_eq!(
        parse_webhook(whatsapp.to_string().as_bytes(), RECEIVED),
        Ok(None)
    );
}

#[test]
fn new_relation_and_account_status_webhooks_become_events() {
    let flat = json!({
        "event": "new_relation",
        "account_id": ACCOUNT,
        "account_type": "LINKEDIN",
        "webhook_name": "outbound-users",
        "user_full_name": "Jane Doe",
        "user_provider_id": MEMBER,
        "user_public_identifier": "jane-doe",
        "user_profile_url": "https://www.linkedin.com/in/jane-doe/"
    });
    let expected = WebhookKind::NewRelation {
        profile: ProfileRef {
            provider_id: Some(MEMBER.into()),
            profile_url: Some("https://linkedin.com/in/jane-doe".into()),
        },
        at: RECEIVED,
    };
    let parsed = parse_webhook(flat.to_string().as_bytes(), RECEIVED);
    assert_eq!(
        parsed.map(|e| e.map(|e| e.kind)),
        Ok(Some(expected.clone()))
    );
    let nested = json!({
        "event": "new_relation",
        "account_id": ACCOUNT,
        "user": { "provider_id": MEMBER, "public_identifier": "jane-doe" }
    });
    let parsed = parse_webhook(nested.to_string().as_bytes(), RECEIVED);
    assert_eq!(parsed.map(|e| e.map(|e| e.kind)), Ok(Some(expected)));
    let status = json!({ "AccountStatus": { "account_id": ACCOUNT, "account_type": "LINKEDIN", "message": "CREDENTIALS" } });
    let parsed = parse_webhook(status.to_string().as_bytes(), RECEIVED);
    assert_eq!(
        parsed.map(|e| e.map(|e| e.kind)),
        Ok(Some(WebhookKind::AccountStatus {
            status: "CREDENTIALS".into(),
            needs_auth: true
        }))
    );
}

#[tokio::test]
async fn invitations_are_withdrawn_by_their_id() {
    let (mock, client) = start().await;
    mock.once(
        "DELETE",
        "/api/v1/users/invite/sent/inv_1",
        200,
        json!({ "object": "InvitationCanceled" }),
    )
    .once(
        "DELETE",
        "/api/v1/users/invite/sent/inv_2",
        429,
        error_body(429, "too_many_requests"),
    );
    let me = account();
    assert_eq!(
        client
            .withdraw_invitation(&me, PROFILE_URL, Some("inv_1"))
            .await,
        Ok(())
    );
    let seen = mock.seen_at("DELETE", "/api/v1/users/invite/sent/inv_1");
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].query.get("account_id").map(String::as_str),
        Some(ACCOUNT)
    );
    assert_api_key(&mock);
    assert!(matches!(
        client
            .withdraw_invitation(&me, PROFILE_URL, Some("inv_2"))
            .await,
        Err(ConnectorError::RateLimited { .. })
    ));
    // Without the invitation's id nothing can be withdrawn, and nothing is asked.
    let before = mock.seen().len();
    assert!(matches!(
        client.withdraw_invitation(&me, PROFILE_URL, None).await,
        Err(ConnectorError::Rejected(_))
    ));
    assert_eq!(mock.seen().len(), before);
}
