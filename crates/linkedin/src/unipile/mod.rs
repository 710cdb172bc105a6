//! The Unipile connector: LinkedIn through Unipile's v1 REST API (`{dsn}/api/v1`, `X-API-KEY`).
//!
//! Rules, per method:
//! - `login`: `POST /accounts` (or `POST /accounts/{id}` to reconnect a known account) with
//!   `provider: LINKEDIN`, username, password and the proxy country; a `Checkpoint` answer
//!   becomes [`LoginOutcome::Checkpoint`] (`2FA` → two-factor, `OTP` → e-mail code, `CAPTCHA`,
//!   others by name); `submit_code`: `POST /accounts/checkpoint`; after success the owner's
//!   name and picture come from `GET /users/me` (best effort);
//! - `profile`: `GET /users/{slug}` (all sections) and, for the current company,
//!   `GET /linkedin/company/{id}` (best effort); `connected` is `network_distance ==
//!   FIRST_DEGREE`;
//! - `invite`: `POST /users/invite` with the member's `provider_id` and the optional note; an
//!   invitation that already exists (`errors/action_already_performed`) counts as sent;
//! - `invitation_state`: the newest relations (`GET /users/relations`) are scanned back to
//!   the invitation time; when that is inconclusive the profile's network distance decides; a
//!   sent invitation shown as `IGNORED`/`WITHDRAWN` is `Declined`; the sandbox hints are ignored;
//! - `send_message`: into the existing 1:1 chat (`GET /chat_attendees/{provider_id}/chats`, then
//!   `POST /chats/{id}/messages`) or a new one (`POST /chats` with `attendees_ids`); before
//!   sending into an existing chat, a message of ours with the same text from
//!   [`IDEMPOTENCY_SLACK`] before `at` onwards is taken as this very send (a retry after a
//!   crash does not send twice);
//! - `find_sent`: a message is found like a retry finds it (our message with the same text
//!   from [`IDEMPOTENCY_SLACK`] before its time onwards in the 1:1 chat); an invitation is found
//!   when the profile shows a sent invitation or a first-degree connection;
//! - `replies`: the 1:1 chat's messages (`GET /chats/{id}/messages?after=`) not written by the
//!   account, with `since < at <= now`; `sent` is ignored;
//! - `search_sales_navigator`: `POST /linkedin/search` with the search `url`, paginated by cursor;
//! - member ids (`provider_id`) are cached per slug, since they never change.

mod config;
mod http;
pub mod webhook;
mod wire;

pub use config::{DEFAULT_TIMEOUT, UnipileConfig, UnipileConfigError};
pub use http::{API_KEY_HEADER, INVITATION_LIMIT_BACKOFF, MAX_RESPONSE_BYTES};
pub use webhook::{
    ProfileRef, SECRET_HEADER, WebhookError, WebhookEvent, WebhookKind, parse_webhook,
    verify_secret,
};

use crate::connector::{
    Account, CheckpointKind, ConnectorError, Incoming, InvitationState, LinkedInConnector,
    LoginOutcome, MAX_NOTE_CHARS, Profile, SearchHit, SendProbe, Sent, SentRef,
};
use async_trait::async_trait;
use config::base_url;
use http::{Api, ApiError, Form, Operation, classify};
use outbound_core::dnc::{CANONICAL_PREFIX, normalize_linkedin_url, slug_of};
use outbound_core::time::{Millis, iso8601};
use serde_json::json;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, Once};
use std::time::Duration;
use wire::{
    AccountAnswer, Chat, ChatStarted, CompanyProfile, InvitationSent, Message, MessageSent,
    OwnProfile, Page, Relation, SearchItem, UserProfile, full_name, non_blank,
};

/// A message of ours with the same text sent this long before `at` (or later) is a retry.
pub const IDEMPOTENCY_SLACK: Duration = Duration::from_secs(10 * 60);
/// Recent messages looked at for the idempotency check.
const IDEMPOTENCY_LOOKBACK: u32 = 20;
/// Relations per page, and pages scanned, when looking for an acceptance.
const RELATIONS_PAGE: u32 = 100;
const MAX_RELATION_PAGES: usize = 5;
/// Messages per page, and pages read, when listing replies.
const MESSAGES_PAGE: u32 = 100;
const MAX_MESSAGE_PAGES: usize = 10;
/// Chats asked for when looking for the 1:1 chat with a member.
const CHATS_PAGE: u32 = 5;
/// Search results per page (Unipile's Sales Navigator maximum), and pages read.
const SEARCH_PAGE: u32 = 100;
const MAX_SEARCH_PAGES: usize = 25;
/// Member ids cached before the cache is emptied.
const MAX_CACHED_IDS: usize = 50_000;
const PROVIDER: &str = "LINKEDIN";
const USER_AGENT: &str = concat!("Outbound/", env!("CARGO_PKG_VERSION"));

/// Which events a webhook registration delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookSource {
    /// New messages (`message_received`).
    Messaging,
    /// New relations (`new_relation`).
    Users,
    /// Account status changes.
    AccountStatus,
}

impl WebhookSource {
    /// Every source Outbound listens to.
    pub const ALL: [WebhookSource; 3] = [Self::Messaging, Self::Users, Self::AccountStatus];

    /// Unipile's name of the source.
    pub fn source(self) -> &'static str {
        match self {
            Self::Messaging => "messaging",
            Self::Users => "users",
            Self::AccountStatus => "account_status",
        }
    }

    fn events(self) -> &'static [&'static str] {
        match self {
            Self::Messaging => &["message_received"],
            Self::Users => &["new_relation"],
            Self::AccountStatus => &[],
        }
    }
}

/// The Unipile HTTP client.
pub struct UnipileConnector {
    api: Api,
    provider_ids: Mutex<HashMap<String, String>>,
}

impl fmt::Debug for UnipileConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnipileConnector").finish_non_exhaustive()
    }
}

/// Installs the `ring` TLS provider once per process (another one installed first is kept).
fn install_tls_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // An error means a provider is installed already, which is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

impl UnipileConnector {
    pub fn new(config: &UnipileConfig) -> Result<Self, UnipileConfigError> {
        if config.api_key.trim().is_empty() {
            return Err(UnipileConfigError::MissingApiKey);
        }
        let base = base_url(&config.dsn)?;
        install_tls_provider();
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .user_agent(USER_AGENT)
            .build()?;
        Ok(Self {
            api: Api::new(client, base, config.api_key.trim().to_owned()),
            provider_ids: Mutex::new(HashMap::new()),
        })
    }

    /// Registers a webhook at `request_url` for `source`, sending `secret` in
    /// [`SECRET_HEADER`]; returns Unipile's webhook id.
    pub async fn register_webhook(
        &self,
        request_url: &str,
        source: WebhookSource,
        secret: &str,
    ) -> Result<String, ConnectorError> {
        #[derive(Debug, Default, serde::Deserialize)]
        #[serde(default)]
        struct Created {
            webhook_id: Option<String>,
        }
        let mut body = json!({
            "request_url": request_url,
            "source": source.source(),
            "name": format!("outbound-{}", source.source()),
            "format": "json",
            "headers": [{ "key": SECRET_HEADER, "value": secret }],
        });
        if !source.events().is_empty() {
            body["events"] = json!(source.events());
        }
        let created: Created = self
            .api
            .post_json(self.api.url(&["webhooks"], &[]), &body)
            .await
            .map_err(|e| classify(e, Operation::Read))?;
        created
            .webhook_id
            .ok_or_else(|| ConnectorError::Transient("webhook created without an id".into()))
    }

    fn cached_provider_id(&self, slug: &str) -> Option<String> {
        self.provider_ids
            .lock()
            .ok()
            .and_then(|ids| ids.get(slug).cloned())
    }

    fn remember_provider_id(&self, slug: &str, provider_id: &str) {
        if let Ok(mut ids) = self.provider_ids.lock() {
            if ids.len() >= MAX_CACHED_IDS {
                ids.clear();
            }
            ids.insert(slug.to_owned(), provider_id.to_owned());
        }
    }

    async fn user_profile(
        &self,
        account_id: &str,
        slug: &str,
        all_sections: bool,
    ) -> Result<(UserProfile, String), ConnectorError> {
        let mut query = vec![("account_id", account_id)];
        if all_sections {
            query.push(("linkedin_sections", "*"));
        }
        let user: UserProfile = self
            .api
            .get(self.api.url(&["users", slug], &query))
            .await
            .map_err(|e| classify(e, Operation::Profile))?;
        let provider_id = non_blank(user.provider_id.clone())
            .ok_or_else(|| ConnectorError::Transient("profile without provider_id".into()))?;
        self.remember_provider_id(slug, &provider_id);
        Ok((user, provider_id))
    }

    async fn provider_id(&self, account_id: &str, slug: &str) -> Result<String, ConnectorError> {
        if let Some(id) = self.cached_provider_id(slug) {
            return Ok(id);
        }
        self.user_profile(account_id, slug, false)
            .await
            .map(|(_, id)| id)
    }

    async fn account_answer(
        &self,
        account: &Account,
        answer: Result<AccountAnswer, ApiError>,
        operation: Operation,
    ) -> Result<LoginOutcome, ConnectorError> {
        let answer = answer.map_err(|e| classify(e, operation))?;
        let provider_account_id = non_blank(answer.account_id)
            .or_else(|| account.provider_account_id.clone())
            .ok_or_else(|| ConnectorError::Transient("account answer without account_id".into()))?;
        if answer.object.as_deref() == Some("Checkpoint") || answer.checkpoint.is_some() {
            let kind = answer.checkpoint.and_then(|c| c.kind).unwrap_or_default();
            return Ok(LoginOutcome::Checkpoint {
                kind: checkpoint_kind(&kind),
                provider_account_id,
            });
        }
        let (name, avatar) = self.owner(&provider_account_id, &account.login).await;
        Ok(LoginOutcome::LoggedIn {
            provider_account_id,
            name,
            avatar,
        })
    }

    /// The owner's name and picture, falling back to the login when Unipile cannot tell.
    async fn owner(&self, account_id: &str, login: &str) -> (String, Option<String>) {
        let url = self
            .api
            .url(&["users", "me"], &[("account_id", account_id)]);
        match self.api.get::<OwnProfile>(url).await {
            Ok(me) => {
                let name = full_name(me.first_name.as_deref(), me.last_name.as_deref())
                    .or_else(|| non_blank(me.name))
                    .unwrap_or_else(|| login.to_owned());
                (name, non_blank(me.profile_picture_url))
            }
            Err(error) => {
                tracing::warn!(
                    ?error,
                    "Unipile: could not read the account owner's profile"
                );
                (login.to_owned(), None)
            }
        }
    }

    /// The website and LinkedIn page of a company, best effort.
    async fn company(
        &self,
        account_id: &str,
        company_id: &str,
    ) -> Result<(Option<String>, Option<String>), ConnectorError> {
        let url = self.api.url(
            &["linkedin", "company", company_id],
            &[("account_id", account_id)],
        );
        let fallback_page = format!("https://linkedin.com/company/{company_id}");
        match self.api.get::<CompanyProfile>(url).await {
            Ok(company) => {
                let page = non_blank(company.profile_url)
                    .or_else(|| {
                        non_blank(company.public_identifier)
                            .map(|id| format!("https://linkedin.com/company/{id}"))
                    })
                    .unwrap_or(fallback_page);
                Ok((non_blank(company.website), Some(page)))
            }
            Err(error) => match classify(error, Operation::Read) {
                e @ (ConnectorError::SessionExpired | ConnectorError::RateLimited { .. }) => Err(e),
                _ => Ok((None, Some(fallback_page))),
            },
        }
    }

    /// The newest 1:1 chat with the member, if any.
    async fn chat_with(
        &self,
        account_id: &str,
        provider_id: &str,
    ) -> Result<Option<String>, ConnectorError> {
        let limit = CHATS_PAGE.to_string();
        let url = self.api.url(
            &["chat_attendees", provider_id, "chats"],
            &[("account_id", account_id), ("limit", &limit)],
        );
        let page: Page<Chat> = self
            .api
            .get(url)
            .await
            .map_err(|e| classify(e, Operation::Read))?;
        Ok(page.items.into_iter().find_map(|chat| non_blank(chat.id)))
    }

    async fn messages_page(
        &self,
        chat_id: &str,
        query: &[(&str, &str)],
    ) -> Result<Page<Message>, ConnectorError> {
        self.api
            .get(self.api.url(&["chats", chat_id, "messages"], query))
            .await
            .map_err(|e| classify(e, Operation::Read))
    }

    /// Our message with this text sent since `from`, if the chat already has one.
    async fn already_sent(
        &self,
        chat_id: &str,
        text: &str,
        from: Millis,
    ) -> Result<Option<String>, ConnectorError> {
        let limit = IDEMPOTENCY_LOOKBACK.to_string();
        let page = self.messages_page(chat_id, &[("limit", &limit)]).await?;
        Ok(page.items.into_iter().find_map(|m| {
            let same = m.written_by_account()
                && m.text.as_deref().map(str::trim) == Some(text.trim())
                && m.at().is_some_and(|at| at >= from);
            if same { m.stable_id() } else { None }
        }))
    }

    /// Scans the newest relations back to `invited_at` for the member.
    async fn relation_since(
        &self,
        account_id: &str,
        slug: &str,
        invited_at: Millis,
        now: Millis,
    ) -> Result<RelationScan, ConnectorError> {
        let limit = RELATIONS_PAGE.to_string();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_RELATION_PAGES {
            let mut query = vec![("account_id", account_id), ("limit", limit.as_str())];
            if let Some(cursor) = &cursor {
                query.push(("cursor", cursor));
            }
            let page: Page<Relation> = self
                .api
                .get(self.api.url(&["users", "relations"], &query))
                .await
                .map_err(|e| classify(e, Operation::Read))?;
            let found = page.items.iter().find(|r| {
                r.public_identifier
                    .as_deref()
                    .is_some_and(|id| id.eq_ignore_ascii_case(slug))
            });
            if let Some(relation) = found {
                let at = relation.created_at.as_ref().and_then(wire::timestamp);
                return Ok(RelationScan::Found(at.unwrap_or(now).min(now)));
            }
            let all_older = !page.items.is_empty()
                && page.items.iter().all(|r| {
                    r.created_at
                        .as_ref()
                        .and_then(wire::timestamp)
                        .is_some_and(|at| at < invited_at)
                });
            cursor = page.next_cursor();
            if all_older || cursor.is_none() {
                return Ok(RelationScan::Absent);
            }
        }
        Ok(RelationScan::Inconclusive)
    }
}

/// What a scan of the newest relations found.
enum RelationScan {
    /// The member became a relation at this time.
    Found(Millis),
    /// The member is not among the relations made since the invitation.
    Absent,
    /// The scan stopped before reaching the invitation time.
    Inconclusive,
}

fn checkpoint_kind(kind: &str) -> CheckpointKind {
    match kind.trim().to_ascii_uppercase().as_str() {
        "2FA" => CheckpointKind::TwoFactor,
        "OTP" => CheckpointKind::Email,
        "CAPTCHA" => CheckpointKind::Captcha,
        "" => CheckpointKind::Other("UNKNOWN".into()),
        other => CheckpointKind::Other(other.to_owned()),
    }
}

/// The account's Unipile id, or `SessionExpired` when the agent never logged in.
fn account_id(account: &Account) -> Result<&str, ConnectorError> {
    account
        .provider_account_id
        .as_deref()
        .filter(|id| !id.trim().is_empty())
        .ok_or(ConnectorError::SessionExpired)
}

fn slug(profile_url: &str) -> Result<String, ConnectorError> {
    slug_of(profile_url).ok_or_else(|| {
        ConnectorError::Rejected(format!("not a LinkedIn profile URL: {profile_url}"))
    })
}

fn millis(duration: Duration) -> Millis {
    Millis::try_from(duration.as_millis()).unwrap_or(Millis::MAX)
}

/// "Paris, Île-de-France, France" → (Paris, France); a single part is the city.
fn city_and_country(location: Option<String>) -> (Option<String>, Option<String>) {
    let Some(location) = non_blank(location) else {
        return (None, None);
    };
    let parts: Vec<&str> = location
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    match parts.as_slice() {
        [] => (None, None),
        [city] => (Some((*city).to_owned()), None),
        [city, .., country] => (Some((*city).to_owned()), Some((*country).to_owned())),
    }
}

fn is_first_degree(user: &UserProfile) -> bool {
    let distance = user.network_distance.as_deref().unwrap_or_default();
    matches!(distance, "FIRST_DEGREE" | "DISTANCE_1") || user.is_relationship == Some(true)
}

fn search_hit(item: SearchItem) -> Option<SearchHit> {
    if item
        .kind
        .as_deref()
        .is_some_and(|k| !k.eq_ignore_ascii_case("PEOPLE"))
    {
        return None;
    }
    let profile_url = [&item.public_profile_url, &item.profile_url]
        .into_iter()
        .flatten()
        .find_map(|url| normalize_linkedin_url(url))
        .or_else(|| {
            [&item.public_identifier, &item.id]
                .into_iter()
                .flatten()
                .find_map(|id| normalize_linkedin_url(&format!("{CANONICAL_PREFIX}{id}")))
        })?;
    let name = full_name(item.first_name.as_deref(), item.last_name.as_deref())
        .or_else(|| non_blank(item.name))
        .unwrap_or_default();
    Some(SearchHit { name, profile_url })
}

#[async_trait]
impl LinkedInConnector for UnipileConnector {
    async fn login(&self, account: &Account) -> Result<LoginOutcome, ConnectorError> {
        let mut body = json!({
            "provider": PROVIDER,
            "username": account.login,
            "password": account.password,
        });
        let country = account.country.trim();
        if !country.is_empty() {
            body["country"] = json!(country.to_ascii_uppercase());
        }
        let url = match account.provider_account_id.as_deref() {
            Some(id) if !id.trim().is_empty() => self.api.url(&["accounts", id], &[]),
            _ => self.api.url(&["accounts"], &[]),
        };
        let answer = self.api.post_json(url, &body).await;
        self.account_answer(account, answer, Operation::Login).await
    }

    async fn submit_code(
        &self,
        account: &Account,
        code: &str,
    ) -> Result<LoginOutcome, ConnectorError> {
        let account_id = account_id(account)
            .map_err(|_| ConnectorError::Rejected("no login is waiting for a code".into()))?;
        let body = json!({ "provider": PROVIDER, "account_id": account_id, "code": code.trim() });
        let answer = self
            .api
            .post_json(self.api.url(&["accounts", "checkpoint"], &[]), &body)
            .await;
        self.account_answer(account, answer, Operation::Checkpoint)
            .await
    }

    async fn profile(
        &self,
        account: &Account,
        profile_url: &str,
    ) -> Result<Profile, ConnectorError> {
        let account_id = account_id(account)?;
        let slug = slug(profile_url)?;
        let (user, provider_id) = self.user_profile(account_id, &slug, true).await?;
        let current = user
            .work_experience
            .iter()
            .find(|e| e.is_current())
            .or_else(|| user.work_experience.first());
        let company_id = current.and_then(|e| non_blank(e.company_id.clone()));
        let (website, company_page) = match &company_id {
            Some(id) => self.company(account_id, id).await?,
            None => (None, None),
        };
        let connected = is_first_degree(&user);
        let (city, country) = city_and_country(user.location.clone());
        let name = full_name(user.first_name.as_deref(), user.last_name.as_deref())
            .or_else(|| non_blank(user.public_identifier.clone()))
            .unwrap_or_else(|| slug.clone());
        Ok(Profile {
            name,
            headline: non_blank(user.headline),
            about: non_blank(user.summary),
            city,
            country,
            current_company_name: current.and_then(|e| non_blank(e.company.clone())),
            current_job_title: current.and_then(|e| non_blank(e.position.clone())),
            current_company_website: website,
            current_company_linkedin_url: company_page,
            connected,
            provider_id,
        })
    }

    async fn invite(
        &self,
        account: &Account,
        profile_url: &str,
        note: Option<&str>,
        _at: Millis,
    ) -> Result<Sent, ConnectorError> {
        let account_id = account_id(account)?;
        let slug = slug(profile_url)?;
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        if note.is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS) {
            return Err(ConnectorError::Rejected(format!(
                "an invitation note has at most {MAX_NOTE_CHARS} characters"
            )));
        }
        let provider_id = self.provider_id(account_id, &slug).await?;
        let mut body = json!({ "provider_id": provider_id, "account_id": account_id });
        if let Some(note) = note {
            body["message"] = json!(note);
        }
        let url = self.api.url(&["users", "invite"], &[]);
        match self.api.post_json::<InvitationSent>(url, &body).await {
            Ok(sent) => Ok(Sent {
                provider_id: non_blank(sent.invitation_id).unwrap_or(provider_id),
            }),
            Err(error) if error.is("action_already_performed") => Ok(Sent { provider_id }),
            Err(error) => Err(classify(error, Operation::Invite)),
        }
    }

    async fn withdraw_invitation(
        &self,
        account: &Account,
        profile_url: &str,
        invitation_id: Option<&str>,
    ) -> Result<(), ConnectorError> {
        let account_id = account_id(account)?;
        slug(profile_url)?;
        let invitation_id = invitation_id
            .filter(|id| !id.trim().is_empty())
            .ok_or_else(|| {
                ConnectorError::Rejected(
                    "the invitation's id is unknown: it cannot be withdrawn".into(),
                )
            })?;
        let url = self.api.url(
            &["users", "invite", "sent", invitation_id],
            &[("account_id", account_id)],
        );
        match self.api.delete::<serde_json::Value>(url).await {
            Ok(_) => Ok(()),
            Err(error) => Err(classify(error, Operation::Invite)),
        }
    }

    async fn invitation_state(
        &self,
        account: &Account,
        profile_url: &str,
        invited_at: Millis,
        now: Millis,
    ) -> Result<InvitationState, ConnectorError> {
        let account_id = account_id(account)?;
        let slug = slug(profile_url)?;
        match self
            .relation_since(account_id, &slug, invited_at, now)
            .await?
        {
            RelationScan::Found(at) => return Ok(InvitationState::Accepted { at }),
            RelationScan::Absent => return Ok(InvitationState::Pending),
            RelationScan::Inconclusive => {}
        }
        let (user, _) = self.user_profile(account_id, &slug, false).await?;
        if is_first_degree(&user) {
            return Ok(InvitationState::Accepted { at: now });
        }
        let declined = user.invitation.as_ref().is_some_and(|i| {
            i.kind.as_deref() == Some("SENT")
                && matches!(i.status.as_deref(), Some("IGNORED" | "WITHDRAWN"))
        });
        Ok(if declined {
            InvitationState::Declined
        } else {
            InvitationState::Pending
        })
    }

    async fn send_message(
        &self,
        account: &Account,
        profile_url: &str,
        text: &str,
        _idempotency_key: &str,
        at: Millis,
    ) -> Result<Sent, ConnectorError> {
        let account_id = account_id(account)?;
        let slug = slug(profile_url)?;
        if text.trim().is_empty() {
            return Err(ConnectorError::Rejected("a message needs text".into()));
        }
        let provider_id = self.provider_id(account_id, &slug).await?;
        let Some(chat_id) = self.chat_with(account_id, &provider_id).await? else {
            let form = Form::default()
                .text("account_id", account_id)
                .text("text", text)
                .text("attendees_ids", provider_id.as_str());
            let started: ChatStarted = self
                .api
                .post_form(self.api.url(&["chats"], &[]), &form)
                .await
                .map_err(|e| classify(e, Operation::Message))?;
            let id = non_blank(started.message_id).or_else(|| non_blank(started.chat_id));
            return id
                .map(|provider_id| Sent { provider_id })
                .ok_or_else(|| ConnectorError::Transient("chat started without an id".into()));
        };
        let from = at.saturating_sub(millis(IDEMPOTENCY_SLACK));
        if let Some(existing) = self.already_sent(&chat_id, text, from).await? {
            return Ok(Sent {
                provider_id: existing,
            });
        }
        let form = Form::default().text("text", text);
        let sent: MessageSent = self
            .api
            .post_form(self.api.url(&["chats", &chat_id, "messages"], &[]), &form)
            .await
            .map_err(|e| classify(e, Operation::Message))?;
        Ok(Sent {
            provider_id: non_blank(sent.message_id).unwrap_or(chat_id),
        })
    }

    async fn replies(
        &self,
        account: &Account,
        profile_url: &str,
        since: Millis,
        now: Millis,
        _sent: &[SentRef],
    ) -> Result<Vec<Incoming>, ConnectorError> {
        let account_id = account_id(account)?;
        let slug = slug(profile_url)?;
        let provider_id = self.provider_id(account_id, &slug).await?;
        let Some(chat_id) = self.chat_with(account_id, &provider_id).await? else {
            return Ok(Vec::new());
        };
        let after = iso8601(since);
        let limit = MESSAGES_PAGE.to_string();
        let mut cursor: Option<String> = None;
        let mut incoming = Vec::new();
        for _ in 0..MAX_MESSAGE_PAGES {
            let mut query = vec![("after", after.as_str()), ("limit", limit.as_str())];
            if let Some(cursor) = &cursor {
                query.push(("cursor", cursor));
            }
            let page = self.messages_page(&chat_id, &query).await?;
            cursor = page.next_cursor();
            incoming.extend(page.items.into_iter().filter_map(|m| {
                let at = m.at()?;
                let keep = !m.written_by_account() && at > since && at <= now;
                keep.then(|| Incoming {
                    id: m.stable_id().unwrap_or_else(|| format!("{chat_id}@{at}")),
                    text: m.text.unwrap_or_default().trim().to_owned(),
                    at,
                })
            }));
            if cursor.is_none() {
                break;
            }
        }
        incoming.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
        incoming.dedup_by(|a, b| a.id == b.id);
        Ok(incoming)
    }

    async fn find_sent(
        &self,
        account: &Account,
        profile_url: &str,
        probe: SendProbe<'_>,
    ) -> Result<Option<Sent>, ConnectorError> {
        let account_id = account_id(account)?;
        let slug = slug(profile_url)?;
        match probe {
            SendProbe::Invitation => {
                let (user, provider_id) = self.user_profile(account_id, &slug, false).await?;
                let invited = user
                    .invitation
                    .as_ref()
                    .is_some_and(|i| i.kind.as_deref() == Some("SENT"));
                Ok((invited || is_first_degree(&user)).then_some(Sent { provider_id }))
            }
            SendProbe::Message { text, at, .. } => {
                let provider_id = self.provider_id(account_id, &slug).await?;
                let Some(chat_id) = self.chat_with(account_id, &provider_id).await? else {
                    return Ok(None);
                };
                let from = at.saturating_sub(millis(IDEMPOTENCY_SLACK));
                Ok(self
                    .already_sent(&chat_id, text, from)
                    .await?
                    .map(|provider_id| Sent { provider_id }))
            }
        }
    }

    async fn search_sales_navigator(
        &self,
        account: &Account,
        search_url: &str,
        count: u32,
    ) -> Result<Vec<SearchHit>, ConnectorError> {
        let account_id = account_id(account)?;
        let search_url = search_url.trim();
        if search_url.is_empty() {
            return Err(ConnectorError::Rejected("a search needs a URL".into()));
        }
        let wanted = usize::try_from(count).unwrap_or(usize::MAX);
        let body = json!({ "url": search_url });
        let mut hits: Vec<SearchHit> = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_SEARCH_PAGES {
            let missing = u32::try_from(wanted - hits.len()).unwrap_or(u32::MAX);
            if missing == 0 {
                break;
            }
            let limit = missing.min(SEARCH_PAGE).to_string();
            let mut query = vec![("account_id", account_id), ("limit", limit.as_str())];
            if let Some(cursor) = &cursor {
                query.push(("cursor", cursor));
            }
            let page: Page<SearchItem> = self
                .api
                .post_json(self.api.url(&["linkedin", "search"], &query), &body)
                .await
                .map_err(|e| classify(e, Operation::Read))?;
            cursor = page.next_cursor();
            let empty = page.items.is_empty();
            for hit in page.items.into_iter().filter_map(search_hit) {
                if hits.len() < wanted && !hits.iter().any(|h| h.profile_url == hit.profile_url) {
                    hits.push(hit);
                }
            }
            if cursor.is_none() || empty {
                break;
            }
        }
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsns_become_base_urls() {
        let url = |dsn: &str| base_url(dsn).map(|u| u.to_string()).ok();
        assert_eq!(
            url("api8.unipile.com:13851").as_deref(),
            Some("https://api8.unipile.com:13851/")
        );
        assert_eq!(
            url("https://api8.unipile.com:13851/api/v1/").as_deref(),
            Some("https://api8.unipile.com:13851/")
        );
        assert_eq!(url("ftp://x.example").as_deref(), None);
        assert_eq!(url("https://x.example/other").as_deref(), None);
    }

    #[test]
    fn locations_split_into_city_and_country() {
        assert_eq!(
            city_and_country(Some("Paris, Île-de-France, France".into())),
            (Some("Paris".into()), Some("France".into()))
        );
        assert_eq!(
            city_and_country(Some("Berlin".into())),
            (Some("Berlin".into()), None)
        );
        assert_eq!(city_and_country(None), (None, None));
    }

    #[test]
    fn checkpoint_types_map_to_kinds() {
        assert_eq!(checkpoint_kind("2FA"), CheckpointKind::TwoFactor);
        assert_eq!(checkpoint_kind("OTP"), CheckpointKind::Email);
        assert_eq!(checkpoint_kind("CAPTCHA"), CheckpointKind::Captcha);
        assert_eq!(
            checkpoint_kind("IN_APP_VALIDATION"),
            CheckpointKind::Other("IN_APP_VALIDATION".into())
        );
    }
}
