//! The sandbox connector: a simulated LinkedIn network, the embedded default.
//!
//! Rules:
//! - stateless and deterministic: every answer is a pure function of the seed, the
//!   configuration, the profile slug and the parameters of the call (never the machine clock),
//!   so results survive restarts and the same seed replays the same network;
//! - each profile has one kind, drawn once from its slug: invites disabled (502), unreachable
//!   (503), already connected, or ordinary; unreachable profiles fail every call about them;
//! - an invited ordinary profile accepts with `acceptance_rate`, `acceptance_delay` after the
//!   invitation, or stays pending forever (LinkedIn never tells a decline); inviting an
//!   already-connected profile succeeds and counts as accepted at the invitation time;
//! - messages are sent to any reachable profile (the sandbox keeps no record of acceptances);
//! - replies are derived from the agent's sent messages ([`replies::derive`]);
//! - logins: a login containing [`TWO_FACTOR_MARKER`] stops at a two-factor checkpoint that any
//!   6-digit code solves; a login containing [`EXPIRED_MARKER`] logs in but every later call
//!   answers `SessionExpired` (to exercise the `auth_needed` path); any call but `login` needs
//!   the `provider_account_id` that `login` returned;
//! - the one piece of state is the ledger of what was sent (shared by clones), so that
//!   [`LinkedInConnector::find_sent`] can tell whether an interrupted send happened: in memory,
//!   or in a file that outlives the process ([`SandboxConnector::with_ledger_file`], what
//!   `outbound serve` uses), as LinkedIn remembers what it delivered; a send whose record cannot
//!   be written fails (`Transient`): unrecorded, it did not happen;
//! - beside it, in memory: the invitations withdrawn (never accepted afterwards), and, with
//!   `restrict_above_daily_invitations`, each account's invitations of the last 24 hours: an
//!   account past that pace is restricted for the life of the process (its invitations and
//!   messages answer `Restricted`), to exercise the engine's circuit breaker.

mod config;
mod ledger;
mod people;
pub mod replies;

pub use config::{DelayRange, InvalidSandboxConfig, SandboxConfig};
pub use replies::{Intent, InterestMix};

use crate::connector::{
    Account, CheckpointKind, ConnectorError, Incoming, InvitationState, LinkedInConnector,
    LoginOutcome, MAX_NOTE_CHARS, Profile, SearchHit, SendProbe, Sent, SentRef,
};
use crate::hash::Hasher;
use async_trait::async_trait;
use ledger::{Ledger, SendKey};
use outbound_core::dnc::slug_of;
use outbound_core::time::Millis;
use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// A login containing this (case-insensitive) asks for a two-factor code.
pub const TWO_FACTOR_MARKER: &str = "+2fa";
/// A login containing this (case-insensitive) has a session that is always expired.
pub const EXPIRED_MARKER: &str = "+expired";
/// Digits of a valid verification code.
pub const CODE_DIGITS: usize = 6;
/// Most people a search returns (Sales Navigator shows at most 2,500).
pub const MAX_SEARCH_RESULTS: u32 = 2_500;

/// What a profile is, for the whole life of the simulated network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileKind {
    Ordinary,
    AlreadyConnected,
    Unreachable,
    InvitesDisabled,
}

/// The simulated LinkedIn network.
#[derive(Debug, Clone)]
pub struct SandboxConnector {
    seed: u64,
    config: SandboxConfig,
    ledger: Arc<Mutex<Ledger>>,
    pace: Arc<Mutex<Pace>>,
}

/// The sandbox's memory of account safety: recent invitations per account, the restricted
/// accounts and the withdrawn invitations.
#[derive(Debug, Default)]
struct Pace {
    recent: std::collections::HashMap<String, Vec<Millis>>,
    restricted: HashSet<String>,
    withdrawn: HashSet<(String, String)>,
}

/// The span of the sandbox's invitation pace.
const PACE_WINDOW: Millis = 24 * 60 * 60 * 1000;

impl SandboxConnector {
    /// A network for `seed` that behaves as `config` says.
    pub fn new(seed: u64, config: SandboxConfig) -> Result<Self, InvalidSandboxConfig> {
        config.validate()?;
        Ok(Self {
            seed,
            config,
            ledger: Arc::default(),
            pace: Arc::default(),
        })
    }

    /// A network for `seed` with the default configuration.
    pub fn with_defaults(seed: u64) -> Self {
        Self {
            seed,
            config: SandboxConfig::default(),
            ledger: Arc::default(),
            pace: Arc::default(),
        }
    }

    /// The same network, remembering its sends in `path` (created if missing, read back if
    /// present) instead of in memory.
    pub fn with_ledger_file(self, path: &Path) -> std::io::Result<Self> {
        Ok(Self {
            ledger: Arc::new(Mutex::new(Ledger::open(path)?)),
            ..self
        })
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn config(&self) -> &SandboxConfig {
        &self.config
    }

    /// The kind of the profile behind `profile_url`.
    pub fn profile_kind(&self, profile_url: &str) -> Result<ProfileKind, ConnectorError> {
        slug(profile_url).map(|slug| self.kind(&slug))
    }

    fn key(&self, label: &str, slug: &str) -> Hasher {
        Hasher::new(self.seed).str(label).str(slug)
    }

    fn kind(&self, slug: &str) -> ProfileKind {
        let u = self.key("kind", slug).unit();
        let disabled = self.config.invites_disabled_rate;
        let unreachable = disabled + self.config.unreachable_rate;
        let connected = unreachable + self.config.already_connected_rate;
        if u < disabled {
            ProfileKind::InvitesDisabled
        } else if u < unreachable {
            ProfileKind::Unreachable
        } else if u < connected {
            ProfileKind::AlreadyConnected
        } else {
            ProfileKind::Ordinary
        }
    }

    /// The delay after which `slug` accepts an invitation, or `None` if it never does.
    fn acceptance_delay(&self, slug: &str) -> Option<Millis> {
        (self.key("accept", slug).unit() < self.config.acceptance_rate).then(|| {
            self.config
                .acceptance_delay
                .pick(self.key("accept-delay", slug).unit())
        })
    }

    fn provider_account_id(&self, account: &Account) -> String {
        account.provider_account_id.clone().unwrap_or_else(|| {
            let login = account.login.trim().to_lowercase();
            format!(
                "sbx-acc-{:016x}",
                Hasher::new(self.seed).str("account").str(&login).finish()
            )
        })
    }

    /// Remembers a send; an error means the send's outcome is unknown to the caller.
    fn record(
        &self,
        invitation: bool,
        key: SendKey,
        provider_id: &str,
    ) -> Result<(), ConnectorError> {
        let mut ledger = self
            .ledger
            .lock()
            .map_err(|_| ConnectorError::Transient("the sandbox ledger is poisoned".into()))?;
        ledger
            .record(invitation, key, provider_id)
            .map_err(|e| ConnectorError::Transient(format!("the sandbox ledger: {e}")))
    }

    fn recorded(&self, invitation: bool, key: &SendKey) -> Option<String> {
        let ledger = self.ledger.lock().ok()?;
        ledger.recorded(invitation, key).map(str::to_owned)
    }

    /// `Restricted` when the account is restricted, or becomes so with an invitation at `at`.
    fn check_pace(&self, account: &str, inviting_at: Option<Millis>) -> Result<(), ConnectorError> {
        let restricted = || {
            ConnectorError::Restricted(
                "the account sent too many invitations too fast (simulated restriction)".into(),
            )
        };
        let mut pace = self
            .pace
            .lock()
            .map_err(|_| ConnectorError::Transient("the sandbox pace is poisoned".into()))?;
        if pace.restricted.contains(account) {
            return Err(restricted());
        }
        let (Some(limit), Some(at)) = (self.config.restrict_above_daily_invitations, inviting_at)
        else {
            return Ok(());
        };
        let recent = pace.recent.entry(account.to_owned()).or_default();
        recent.retain(|t| *t > at - PACE_WINDOW);
        recent.push(at);
        if recent.len() > usize::try_from(limit).unwrap_or(usize::MAX) {
            pace.restricted.insert(account.to_owned());
            return Err(restricted());
        }
        Ok(())
    }

    fn is_withdrawn(&self, account: &str, slug: &str) -> bool {
        self.pace
            .lock()
            .is_ok_and(|p| p.withdrawn.contains(&(account.to_owned(), slug.to_owned())))
    }

    fn logged_in(&self, account: &Account) -> LoginOutcome {
        LoginOutcome::LoggedIn {
            provider_account_id: self.provider_account_id(account),
            name: name_from_login(&account.login),
            avatar: None,
        }
    }
}

/// The slug of a profile URL, or `Rejected` when it is not one.
fn slug(profile_url: &str) -> Result<String, ConnectorError> {
    slug_of(profile_url).ok_or_else(|| {
        ConnectorError::Rejected(format!("not a LinkedIn profile URL: {profile_url}"))
    })
}

fn has_marker(login: &str, marker: &str) -> bool {
    login.to_lowercase().contains(marker)
}

/// Refuses calls from accounts that never logged in or whose session is expired.
fn session(account: &Account) -> Result<(), ConnectorError> {
    if account.provider_account_id.is_none() || has_marker(&account.login, EXPIRED_MARKER) {
        return Err(ConnectorError::SessionExpired);
    }
    Ok(())
}

/// "sam.smith+2fa@example.com" → "Sam Smith".
fn name_from_login(login: &str) -> String {
    let local = login.split('@').next().unwrap_or(login);
    let local = local.split('+').next().unwrap_or(local);
    let words: Vec<String> = local
        .split(['.', '_', '-'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect();
    if words.is_empty() {
        "Sandbox User".to_owned()
    } else {
        words.join(" ")
    }
}

fn is_valid_code(code: &str) -> bool {
    let code = code.trim();
    code.len() == CODE_DIGITS && code.bytes().all(|b| b.is_ascii_digit())
}

#[async_trait]
impl LinkedInConnector for SandboxConnector {
    async fn login(&self, account: &Account) -> Result<LoginOutcome, ConnectorError> {
        if account.login.trim().is_empty() || account.password.is_empty() {
            return Err(ConnectorError::SessionExpired);
        }
        if has_marker(&account.login, TWO_FACTOR_MARKER) {
            return Ok(LoginOutcome::Checkpoint {
                kind: CheckpointKind::TwoFactor,
                provider_account_id: self.provider_account_id(account),
            });
        }
        Ok(self.logged_in(account))
    }

    async fn submit_code(
        &self,
        account: &Account,
        code: &str,
    ) -> Result<LoginOutcome, ConnectorError> {
        if !is_valid_code(code) {
            return Err(ConnectorError::Rejected(format!(
                "the verification code must be {CODE_DIGITS} digits"
            )));
        }
        Ok(self.logged_in(account))
    }

    async fn profile(
        &self,
        account: &Account,
        profile_url: &str,
    ) -> Result<Profile, ConnectorError> {
        session(account)?;
        let slug = slug(profile_url)?;
        match self.kind(&slug) {
            ProfileKind::Unreachable => Err(ConnectorError::Unreachable),
            kind => Ok(people::profile(
                self.seed,
                &slug,
                kind == ProfileKind::AlreadyConnected,
            )),
        }
    }

    async fn invite(
        &self,
        account: &Account,
        profile_url: &str,
        note: Option<&str>,
        at: Millis,
    ) -> Result<Sent, ConnectorError> {
        session(account)?;
        let slug = slug(profile_url)?;
        if note.is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS) {
            return Err(ConnectorError::Rejected(format!(
                "an invitation note has at most {MAX_NOTE_CHARS} characters"
            )));
        }
        self.check_pace(&self.provider_account_id(account), Some(at))?;
        match self.kind(&slug) {
            ProfileKind::InvitesDisabled => Err(ConnectorError::InvitesDisabled),
            ProfileKind::Unreachable => Err(ConnectorError::Unreachable),
            ProfileKind::Ordinary | ProfileKind::AlreadyConnected => {
                let provider_id = format!(
                    "sbx-inv-{:016x}",
                    self.key("invite", &slug).i64(at).finish()
                );
                self.record(
                    true,
                    (self.provider_account_id(account), slug),
                    &provider_id,
                )?;
                Ok(Sent { provider_id })
            }
        }
    }

    async fn invitation_state(
        &self,
        account: &Account,
        profile_url: &str,
        invited_at: Millis,
        now: Millis,
    ) -> Result<InvitationState, ConnectorError> {
        session(account)?;
        let slug = slug(profile_url)?;
        if self.is_withdrawn(&self.provider_account_id(account), &slug) {
            return Ok(InvitationState::Pending);
        }
        let accepted_at = match self.kind(&slug) {
            ProfileKind::AlreadyConnected => Some(invited_at),
            ProfileKind::Ordinary => self.acceptance_delay(&slug).map(|d| invited_at + d),
            ProfileKind::Unreachable | ProfileKind::InvitesDisabled => None,
        };
        Ok(match accepted_at {
            Some(at) if at <= now => InvitationState::Accepted { at },
            _ => InvitationState::Pending,
        })
    }

    async fn withdraw_invitation(
        &self,
        account: &Account,
        profile_url: &str,
        _invitation_id: Option<&str>,
    ) -> Result<(), ConnectorError> {
        session(account)?;
        let slug = slug(profile_url)?;
        let account = self.provider_account_id(account);
        self.pace
            .lock()
            .map_err(|_| ConnectorError::Transient("the sandbox pace is poisoned".into()))?
            .withdrawn
            .insert((account, slug));
        Ok(())
    }

    async fn send_message(
        &self,
        account: &Account,
        profile_url: &str,
        text: &str,
        idempotency_key: &str,
        _at: Millis,
    ) -> Result<Sent, ConnectorError> {
        session(account)?;
        let slug = slug(profile_url)?;
        self.check_pace(&self.provider_account_id(account), None)?;
        if text.trim().is_empty() {
            return Err(ConnectorError::Rejected("a message needs text".into()));
        }
        if self.kind(&slug) == ProfileKind::Unreachable {
            return Err(ConnectorError::Unreachable);
        }
        let id = self.key("message", &slug).str(idempotency_key).finish();
        let provider_id = format!("sbx-out-{id:016x}");
        let key = (
            self.provider_account_id(account),
            idempotency_key.to_owned(),
        );
        self.record(false, key, &provider_id)?;
        Ok(Sent { provider_id })
    }

    async fn replies(
        &self,
        account: &Account,
        profile_url: &str,
        since: Millis,
        now: Millis,
        sent: &[SentRef],
    ) -> Result<Vec<Incoming>, ConnectorError> {
        session(account)?;
        let slug = slug(profile_url)?;
        if self.kind(&slug) == ProfileKind::Unreachable {
            return Ok(Vec::new());
        }
        let name = people::name(self.seed, &slug);
        Ok(replies::derive(self.seed, &self.config, &slug, &name, sent)
            .into_iter()
            .filter(|r| r.at > since && r.at <= now)
            .map(|r| Incoming {
                id: r.id,
                text: r.text,
                at: r.at,
            })
            .collect())
    }

    async fn find_sent(
        &self,
        account: &Account,
        profile_url: &str,
        probe: SendProbe<'_>,
    ) -> Result<Option<Sent>, ConnectorError> {
        session(account)?;
        let slug = slug(profile_url)?;
        let account_key = self.provider_account_id(account);
        let found = match probe {
            SendProbe::Invitation => self.recorded(true, &(account_key, slug)),
            SendProbe::Message {
                idempotency_key, ..
            } => self.recorded(false, &(account_key, idempotency_key.to_owned())),
        };
        Ok(found.map(|provider_id| Sent { provider_id }))
    }

    async fn search_sales_navigator(
        &self,
        account: &Account,
        search_url: &str,
        count: u32,
    ) -> Result<Vec<SearchHit>, ConnectorError> {
        session(account)?;
        let search_url = search_url.trim();
        if search_url.is_empty() {
            return Err(ConnectorError::Rejected("a search needs a URL".into()));
        }
        let wanted = usize::try_from(count.min(MAX_SEARCH_RESULTS)).unwrap_or(0);
        let search = Hasher::new(self.seed)
            .str("search")
            .str(search_url)
            .finish();
        let mut seen = HashSet::with_capacity(wanted);
        let hits = (0..)
            .take(wanted.saturating_mul(2))
            .map(|i| people::search_hit(self.seed, search, i))
            .filter(|hit| seen.insert(hit.profile_url.clone()))
            .take(wanted)
            .collect();
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_logins() {
        assert_eq!(name_from_login("sam.smith+2fa@example.com"), "Sam Smith");
        assert_eq!(name_from_login("@example.com"), "Sandbox User");
    }

    #[test]
    fn codes_are_six_digits() {
        assert!(is_valid_code("123456"));
        assert!(is_valid_code(" 000000 "));
        assert!(!is_valid_code("12345"));
        assert!(!is_valid_code("12345a"));
    }
}
