//! What every page shares: the frame around it ([`Chrome`]), rendering, the error pages, and
//! the small formatting rules of the dashboard (rates, times, labels).
//!
//! Rule: store errors map to pages the way they map to `/v1` errors — not found (including
//! another team's rows) is 404, a refused change 409/400 with its reason, a database that does
//! not answer 503 — never a page with a stack trace.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use outbound_core::conversation::{Qualification, status};
use outbound_core::time::Millis;
use outbound_store::StoreError;

use crate::session::Signed;

/// The sections of the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Home,
    Campaigns,
    Inbox,
    Review,
    Agents,
    Prospects,
    Dnc,
    Products,
    Prompts,
    Webhooks,
    Settings,
}

/// The frame of a signed-in page: the team, the navigation, the CSRF token of its forms and
/// the notice of the action just done.
#[derive(Debug, Clone)]
pub(crate) struct Chrome {
    pub team_name: String,
    pub plan: String,
    pub csrf: String,
    pub section: Section,
    pub title: String,
    pub notice: Option<String>,
}

impl Chrome {
    pub fn new(signed: &Signed, section: Section, title: impl Into<String>) -> Chrome {
        Chrome {
            team_name: signed.session.team_name.clone(),
            plan: signed.session.plan.as_str().to_owned(),
            csrf: signed.session.csrf_token.clone(),
            section,
            title: title.into(),
            notice: None,
        }
    }

    /// With the notice of `code` (from a `?done=` after a redirect), if it is one we know.
    pub fn with_notice(mut self, code: Option<&str>) -> Chrome {
        self.notice = code.and_then(notice_text).map(str::to_owned);
        self
    }

    /// The path of one of the dashboard's assets.
    pub fn asset(&self, name: &str) -> String {
        format!("{}/assets/{}/{name}", crate::BASE, crate::assets::VERSION)
    }

    /// The class of a navigation link: `current` for this page's section.
    pub fn nav(&self, section: &str) -> &'static str {
        let current = match self.section {
            Section::Home => "home",
            Section::Campaigns => "campaigns",
            Section::Inbox => "inbox",
            Section::Review => "review",
            Section::Agents => "agents",
            Section::Prospects => "prospects",
            Section::Dnc => "dnc",
            Section::Products => "products",
            Section::Prompts => "prompts",
            Section::Webhooks => "webhooks",
            Section::Settings => "settings",
        };
        if current == section { "current" } else { "" }
    }
}

/// The text of a notice code. Codes, not texts, travel in URLs, so nobody can make the page
/// say something of their choosing.
fn notice_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "campaign-created" => "Campaign created.",
        "campaign-updated" => "Campaign saved.",
        "campaign-paused" => "Campaign paused.",
        "campaign-resumed" => "Campaign resumed.",
        "paused" => "You have taken over: the AI will not write in this conversation.",
        "resumed" => "The AI is back on this conversation.",
        "message-queued" => "Message queued: the agent sends it now.",
        "qualified" => "Marked as qualified.",
        "disqualified" => "Marked as not qualified.",
        "dnc-added" => "Added to the Do-Not-Contact list.",
        "dnc-removed" => "Removed from the Do-Not-Contact list.",
        "dnc-uploaded" => "Do-Not-Contact list updated.",
        "approved" => "Draft approved: the agent sends it now.",
        "rejected" => "Draft rejected.",
        "agent-paused" => "Agent paused.",
        "agent-resumed" => "Agent resumed.",
        "agent-saved" => "Agent settings saved.",
        "code-sent" => "Verification code sent: the agent is logging in.",
        "import-queued" => "Import queued: the prospects are being added.",
        "product-created" => "Product created.",
        "prompt-created" => "Prompt created.",
        "prompt-saved" => "Prompt saved.",
        "webhook-saved" => "Webhook saved.",
        "webhook-deleted" => "Webhook deleted.",
        "webhook-tested" => "Test event queued for every webhook subscribed to it.",
        "delivery-retried" => "Delivery queued again.",
        "key-revoked" => "Key revoked: it no longer works, and its sessions are ended.",
        _ => return None,
    })
}

/// One option of a `<select>`: the value sent and the label shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Choice {
    pub value: String,
    pub label: String,
}

impl Choice {
    pub fn new(value: impl Into<String>, label: impl Into<String>) -> Choice {
        Choice {
            value: value.into(),
            label: label.into(),
        }
    }
}

/// Seconds a browser is told to wait (`Retry-After`) when the database cannot serve.
const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

/// Why a page could not be shown.
#[derive(Debug)]
pub(crate) enum PageError {
    NotFound,
    /// A state-changing request without a valid CSRF token or from another site.
    Forbidden,
    /// The body is larger than a form may be.
    TooLarge,
    /// The request cannot be done as asked; the reason is shown.
    Refused(StatusCode, String),
    /// The database does not answer.
    Unavailable,
    Internal,
}

impl From<StoreError> for PageError {
    fn from(error: StoreError) -> Self {
        if error.is_unavailable() {
            tracing::warn!(%error, "dashboard: database unavailable");
            return PageError::Unavailable;
        }
        match error {
            StoreError::NotFound => PageError::NotFound,
            other => match refusal_of(&other) {
                Some((status, reason)) => PageError::Refused(status, reason),
                None => {
                    tracing::error!(error = %other, "dashboard: store error");
                    PageError::Internal
                }
            },
        }
    }
}

/// The status and explanation of a store error that refuses a request (not a failure).
fn refusal_of(error: &StoreError) -> Option<(StatusCode, String)> {
    let status = match error {
        StoreError::DraftNotPending(_)
        | StoreError::ProspectOnDnc
        | StoreError::AlreadyExists
        | StoreError::CampaignBusy
        | StoreError::CampaignActive
        | StoreError::ProspectActive => StatusCode::CONFLICT,
        StoreError::QuotaReached { .. } => StatusCode::FORBIDDEN,
        StoreError::InvalidStatus(_) | StoreError::AgentHasAlerts | StoreError::Invalid(_) => {
            StatusCode::BAD_REQUEST
        }
        StoreError::MissingReference(_) => StatusCode::NOT_FOUND,
        _ => return None,
    };
    let reason = match error {
        StoreError::Invalid(problems) => problems
            .iter()
            .map(|p| format!("{}: {}", p.field, p.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => capitalized(&other.to_string()),
    };
    Some((status, reason))
}

/// `text` with a capital first letter and a final full stop.
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    let first: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    format!("{first}{}.", chars.as_str())
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    detail: &'a str,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, title, detail) = match &self {
            PageError::NotFound => (
                StatusCode::NOT_FOUND,
                "Not found",
                "There is nothing here, or it belongs to another team.",
            ),
            PageError::Forbidden => (
                StatusCode::FORBIDDEN,
                "Refused",
                "This form did not come from this dashboard, or it is too old. Go back, reload \
                 the page and try again.",
            ),
            PageError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "Too large",
                "That upload is larger than 8 MiB.",
            ),
            PageError::Refused(status, reason) => (*status, "Not possible", reason.as_str()),
            PageError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Try again shortly",
                "The database does not answer at the moment.",
            ),
            PageError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "The error is in the server's log.",
            ),
        };
        let mut response = render_status(status, &ErrorPage { title, detail });
        if matches!(self, PageError::Unavailable) {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(UNAVAILABLE_RETRY_AFTER_SECS),
            );
        }
        response
    }
}

/// A page, 200.
pub(crate) fn render(page: &impl Template) -> Response {
    render_status(StatusCode::OK, page)
}

/// A page with this status.
pub(crate) fn render_status(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            tracing::error!(%error, "dashboard: template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

/// Percent-encodes a value for a URL's query (or path segment).
pub(crate) fn url_escape(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `part / whole` as a whole percentage, `0` when `whole` is 0.
pub(crate) fn percent(part: i64, whole: i64) -> i64 {
    if whole <= 0 {
        0
    } else {
        (part.saturating_mul(100) + whole / 2) / whole
    }
}

/// A rate for people: `42%`, or `—` when nothing was measured.
pub(crate) fn rate(part: i64, whole: i64) -> String {
    if whole <= 0 {
        "—".to_owned()
    } else {
        format!("{}%", percent(part, whole))
    }
}

/// A span of time in words (`under a minute`, `5 min`, `3 h`, `2 d`).
fn span(ms: Millis) -> String {
    const MINUTE: Millis = 60_000;
    const HOUR: Millis = 60 * MINUTE;
    const DAY: Millis = 24 * HOUR;
    match ms {
        m if m < MINUTE => "under a minute".to_owned(),
        m if m < HOUR => format!("{} min", m / MINUTE),
        m if m < DAY => format!("{} h", m / HOUR),
        m => format!("{} d", m / DAY),
    }
}

/// How long ago `at` was, in words (`just now`, `5 min ago`).
pub(crate) fn ago(at: Millis, now: Millis) -> String {
    if now - at < 60_000 {
        "just now".to_owned()
    } else {
        format!("{} ago", span(now - at))
    }
}

/// How far away planned work is, in words (`now`, `in 5 min`).
pub(crate) fn until(at: Millis, now: Millis) -> String {
    if at <= now {
        "now".to_owned()
    } else {
        format!("in {}", span(at - now))
    }
}

/// The label of a conversation status code, as people read it.
pub(crate) fn status_label(code: i64) -> &'static str {
    match code {
        status::NOT_STARTED => "Not started",
        status::INVITATION_SENT => "Invited",
        status::INVITATION_ACCEPTED => "Connected",
        status::CONTACTED => "Messaged",
        status::REPLIED => "Replied",
        status::QUALIFIED => "Qualified",
        status::UNQUALIFIED => "Not qualified",
        status::SKIPPED => "Skipped",
        status::INVITES_DISABLED => "Invites disabled",
        status::UNREACHABLE => "Unreachable",
        status::NO_LONGER_IN_NETWORK => "Left the network",
        status::INVITE_COOLDOWN => "Invite cooldown",
        _ => "Unknown",
    }
}

/// The label of a qualification.
pub(crate) fn qualification_label(qualification: Qualification) -> &'static str {
    match qualification {
        Qualification::InProgress => "In progress",
        Qualification::NeedVerification => "Needs your verdict",
        Qualification::Qualified => "Qualified",
        Qualification::Unqualified => "Not qualified",
    }
}

/// The first `max` characters of `text`, with `…` when cut.
pub(crate) fn excerpt(text: &str, max: usize) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(max).collect();
    if chars.next().is_some() {
        format!("{}…", head.trim_end())
    } else {
        head
    }
}

/// The initials of a name, for avatars (`Ada Lovelace` → `AL`).
pub(crate) fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|word| word.chars().next())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_round_and_say_when_nothing_was_measured() {
        assert_eq!(rate(1, 3), "33%");
        assert_eq!(rate(2, 3), "67%");
        assert_eq!(rate(0, 0), "—");
    }

    #[test]
    fn times_read_as_words() {
        assert_eq!(ago(0, 30_000), "just now");
        assert_eq!(ago(0, 5 * 60_000), "5 min ago");
        assert_eq!(ago(0, 3 * 3_600_000), "3 h ago");
        assert_eq!(until(10 * 60_000, 0), "in 10 min");
        assert_eq!(until(0, 5), "now");
    }

    #[test]
    fn texts_are_shortened_on_characters() {
        assert_eq!(excerpt("héllo world", 5), "héllo…");
        assert_eq!(excerpt("short", 10), "short");
        assert_eq!(initials("ada  lovelace byron"), "AL");
    }

    #[test]
    fn unknown_notices_say_nothing() {
        assert!(notice_text("paused").is_some());
        assert!(notice_text("<script>").is_none());
    }
}
