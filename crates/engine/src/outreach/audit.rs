//! The auditor: checks an outreach log against the rules, independently of the scheduler.
//!
//! Rule: the auditor reads only what happened — the action log, the ledger of sends, the
//! messages, the conversations, the targets drawn per local day, the DNC list — and what the
//! caller did from outside (when it added DNC entries, when it paused conversations or agents,
//! how often the connector delivered each send). It recomputes every rule from those facts with
//! the agents' settings, and counts each action that breaks one:
//! - `daily_limit`: actions of an agent on a local day beyond that day's target (or with no
//!   target drawn, or a target outside the agent's range);
//! - `weekly_limit`: invitations beyond the cap within any seven days;
//! - `working_hours`: actions outside the agent's working window;
//! - `dnc_contacted`: invitations and messages to a person after their URL was put on the DNC
//!   list;
//! - `duplicate_send`: a send delivered more than once by the connector, two invitations to one
//!   conversation, or the same text twice to one conversation within a minute;
//! - `followup_after_reply`: a follow-up sent after the prospect's first reply;
//! - `paused_messaged`: an invitation or message while the conversation or its agent was
//!   paused;
//! - `monthly_limit`: invitations beyond the monthly cap within any thirty days;
//! - `warmup`: invitations of an agent with warm-up on beyond its warm-up day's maximum;
//! - `sent_without_approval`: an AI message that its campaign's review mode holds, sent without
//!   a draft a person approved;
//! - `ai_after_takeover`: an AI message after a person's message in the same conversation,
//!   with no resume in between.

use outbound_core::agent::warmup_range;
use outbound_core::review::{Author, DraftStatus, ReviewMode};
use outbound_core::schedule::WorkingWindow;
use outbound_core::time::Millis;
use outbound_store::agents::MONTH;
use outbound_store::engine::{AuditData, EngineAgent, SendKind, action, day_key, parse_day_key};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

use super::rules::{MINUTE, WEEK, instant};

/// Two equal texts to one conversation closer than this are a duplicate.
const DUPLICATE_WINDOW: Millis = MINUTE;

/// What the caller did to the campaigns from outside the engine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interventions {
    /// `(url, when it was put on the DNC list)`.
    pub dnc: Vec<(String, Millis)>,
    /// `(chat, paused from, until)`; `None`: still paused.
    pub chat_pauses: Vec<(String, Millis, Option<Millis>)>,
    /// `(agent, paused from, until)`.
    pub agent_pauses: Vec<(String, Millis, Option<Millis>)>,
    /// How often the connector delivered each send (by idempotency key or conversation).
    pub deliveries: Vec<(String, u32)>,
}

/// Rules broken, one count per offending action.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Violations {
    pub daily_limit: u64,
    pub weekly_limit: u64,
    pub working_hours: u64,
    pub dnc_contacted: u64,
    pub duplicate_send: u64,
    pub followup_after_reply: u64,
    pub paused_messaged: u64,
    pub monthly_limit: u64,
    pub warmup: u64,
    pub sent_without_approval: u64,
    pub ai_after_takeover: u64,
}

impl Violations {
    pub fn total(&self) -> u64 {
        self.daily_limit
            + self.weekly_limit
            + self.working_hours
            + self.dnc_contacted
            + self.duplicate_send
            + self.followup_after_reply
            + self.paused_messaged
            + self.monthly_limit
            + self.warmup
            + self.sent_without_approval
            + self.ai_after_takeover
    }
}

/// The funnel of the log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Funnel {
    pub invitations_sent: u64,
    pub invitations_accepted: u64,
    pub messages_sent: u64,
    pub followups_sent: u64,
    pub replies_received: u64,
    pub qualified: u64,
    pub need_verification: u64,
    pub unqualified: u64,
    /// Conversations stopped because their person is on the DNC list.
    pub skipped_dnc: u64,
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// The invitations of sorted `times` beyond `cap` within any `span`.
fn over_cap(times: &[Millis], span: Millis, cap: i64) -> u64 {
    let mut over = 0;
    let mut start = 0;
    for (i, at) in times.iter().enumerate() {
        while times[start] <= at - span {
            start += 1;
        }
        if i64::try_from(i - start + 1).unwrap_or(i64::MAX) > cap {
            over += 1;
        }
    }
    over
}

/// The warm-up day (1-based) of local day `day` for an agent with warm-up on.
fn warmup_day_of(agent: &EngineAgent, day: &str) -> Option<u32> {
    if !agent.settings.warmup {
        return None;
    }
    let first = parse_day_key(agent.warmup_started.as_deref()?)?;
    let n = (parse_day_key(day)? - first).num_days() + 1;
    u32::try_from(n.max(1)).ok()
}

/// Whether a sent message of ledger kind `kind` waits for a person under `mode`.
fn held_by_review(mode: &str, kind: &str) -> bool {
    let Some(mode) = ReviewMode::parse(mode) else {
        return false;
    };
    match SendKind::parse(kind) {
        Some(SendKind::Message(kind)) => mode.holds(kind.draft_kind()),
        _ => false,
    }
}

fn within(at: Millis, intervals: Option<&Vec<(Millis, Option<Millis>)>>) -> bool {
    intervals.is_some_and(|list| {
        list.iter()
            .any(|(from, to)| at >= *from && to.is_none_or(|to| at < to))
    })
}

/// The funnel and the violations of `data`.
pub fn audit(data: &AuditData, outside: &Interventions) -> (Funnel, Violations) {
    let mut violations = Violations::default();
    let windows: HashMap<&str, Option<WorkingWindow>> = data
        .agents
        .iter()
        .map(|a| {
            let window =
                WorkingWindow::from_hours(&a.working_hours, a.timezone_name.as_deref()).ok();
            (a.id.as_str(), window)
        })
        .collect();
    let agents: HashMap<&str, &EngineAgent> =
        data.agents.iter().map(|a| (a.id.as_str(), a)).collect();
    let targets: HashMap<(&str, &str), (i64, i64)> = data
        .days
        .iter()
        .map(|(agent, day, inv, msg)| ((agent.as_str(), day.as_str()), (*inv, *msg)))
        .collect();

    // A person's messages count in the day's messages but are theirs to send: the AI's
    // target is not broken by them.
    let agent_of_chat: HashMap<&str, &str> = data
        .chats
        .iter()
        .map(|(chat, .., agent)| (chat.as_str(), agent.as_str()))
        .collect();
    let mut by_person: HashMap<(&str, String), i64> = HashMap::new();
    let person_actions: HashSet<(&str, Millis)> = data
        .reviewed
        .iter()
        .filter(|m| m.author == Author::Person.as_str())
        .map(|m| (m.chat_id.as_str(), m.at))
        .collect();
    for message in data
        .reviewed
        .iter()
        .filter(|m| m.author == Author::Person.as_str())
    {
        let Some(agent) = agent_of_chat.get(message.chat_id.as_str()) else {
            continue;
        };
        if let Some(Some(window)) = windows.get(agent) {
            let day = day_key(window.local_day(instant(message.at)));
            *by_person.entry((agent, day)).or_default() += 1;
        }
    }

    // Daily limits and working hours, per action.
    let mut per_day: BTreeMap<(&str, String, &str), i64> = BTreeMap::new();
    for (agent, chat, kind, at) in &data.actions {
        let Some(Some(window)) = windows.get(agent.as_str()) else {
            violations.working_hours += 1;
            continue;
        };
        let by_a_person = chat
            .as_deref()
            .is_some_and(|chat| person_actions.contains(&(chat, *at)));
        if !window.contains(instant(*at)) && !by_a_person {
            violations.working_hours += 1;
        }
        let day = day_key(window.local_day(instant(*at)));
        *per_day
            .entry((agent.as_str(), day, kind.as_str()))
            .or_default() += 1;
    }
    for ((agent, day, kind), done) in &per_day {
        let Some((invitations, messages)) = targets.get(&(*agent, day.as_str())) else {
            violations.daily_limit += u64::try_from(*done).unwrap_or(0);
            continue;
        };
        let limits = agents.get(agent).map(|a| a.limits);
        let (target, range) = if *kind == action::INVITATION {
            let configured = limits.map(|l| (l.invitations_min, l.invitations_max));
            let warmup_day = agents.get(agent).and_then(|a| warmup_day_of(a, day));
            let range = match (configured, warmup_day) {
                (Some(configured), Some(n)) => {
                    let (_, most) = warmup_range(n, configured);
                    violations.warmup += u64::try_from((done - most).max(0)).unwrap_or(0);
                    Some(warmup_range(n, configured))
                }
                (configured, _) => configured,
            };
            (*invitations, range)
        } else {
            (*messages, limits.map(|l| (l.messages_min, l.messages_max)))
        };
        let in_range = range.is_some_and(|(min, max)| (min..=max).contains(&target));
        let persons = if *kind == action::INVITATION {
            0
        } else {
            by_person.get(&(*agent, day.clone())).copied().unwrap_or(0)
        };
        let allowed = if in_range { target } else { 0 } + persons;
        violations.daily_limit += u64::try_from((done - allowed).max(0)).unwrap_or(0);
    }

    // Weekly cap: invitations within any seven days.
    let mut invitations: BTreeMap<&str, Vec<Millis>> = BTreeMap::new();
    for (agent, _, kind, at) in &data.actions {
        if kind == action::INVITATION {
            invitations.entry(agent.as_str()).or_default().push(*at);
        }
    }
    for (agent, times) in &invitations {
        let agent = agents.get(agent);
        let weekly = agent.map_or(0, |a| a.weekly_invitation_cap);
        violations.weekly_limit += over_cap(times, WEEK, weekly);
        let monthly = agent.map_or(0, |a| a.monthly_invitation_cap);
        violations.monthly_limit += over_cap(times, MONTH, monthly);
    }

    // Review mode and take-overs, from the ledger.
    let resumed: HashMap<&str, Option<Millis>> = data
        .resumed
        .iter()
        .map(|(chat, at)| (chat.as_str(), *at))
        .collect();
    let mut person_wrote: HashMap<&str, Millis> = HashMap::new();
    for message in &data.reviewed {
        let chat = message.chat_id.as_str();
        if message.author == Author::Person.as_str() {
            person_wrote.insert(chat, message.at);
            continue;
        }
        if held_by_review(&message.review_mode, &message.kind)
            && message.draft_status.as_deref() != Some(DraftStatus::Sent.as_str())
        {
            violations.sent_without_approval += 1;
        }
        if let Some(person) = person_wrote.get(chat) {
            let resumed_between = resumed
                .get(chat)
                .copied()
                .flatten()
                .is_some_and(|at| at > *person && at <= message.at);
            if !resumed_between {
                violations.ai_after_takeover += 1;
            }
        }
    }

    // DNC and pauses, per action.
    let url_of: HashMap<&str, &str> = data
        .chats
        .iter()
        .map(|(chat, url, ..)| (chat.as_str(), url.as_str()))
        .collect();
    let agent_of: HashMap<&str, &str> = data
        .chats
        .iter()
        .map(|(chat, .., agent)| (chat.as_str(), agent.as_str()))
        .collect();
    let mut dnc_since: HashMap<&str, Millis> =
        data.dnc.iter().map(|u| (u.as_str(), Millis::MIN)).collect();
    for (url, at) in &outside.dnc {
        dnc_since.insert(url.as_str(), *at);
    }
    let mut chat_pauses: HashMap<&str, Vec<(Millis, Option<Millis>)>> = HashMap::new();
    for (chat, from, to) in &outside.chat_pauses {
        chat_pauses
            .entry(chat.as_str())
            .or_default()
            .push((*from, *to));
    }
    let mut agent_pauses: HashMap<&str, Vec<(Millis, Option<Millis>)>> = HashMap::new();
    for (agent, from, to) in &outside.agent_pauses {
        agent_pauses
            .entry(agent.as_str())
            .or_default()
            .push((*from, *to));
    }
    for (agent, chat, _, at) in &data.actions {
        let Some(chat) = chat.as_deref() else {
            continue;
        };
        if let Some(since) = url_of.get(chat).and_then(|url| dnc_since.get(url))
            && *at >= *since
        {
            violations.dnc_contacted += 1;
        }
        if within(*at, chat_pauses.get(chat)) || within(*at, agent_pauses.get(agent.as_str())) {
            violations.paused_messaged += 1;
        }
    }

    // Duplicates.
    violations.duplicate_send += outside
        .deliveries
        .iter()
        .map(|(_, n)| u64::from(n.saturating_sub(1)))
        .sum::<u64>();
    let mut invited: HashMap<&str, u64> = HashMap::new();
    for (_, chat, kind, _) in &data.actions {
        if kind == action::INVITATION
            && let Some(chat) = chat.as_deref()
        {
            *invited.entry(chat).or_default() += 1;
        }
    }
    violations.duplicate_send += invited.values().map(|n| n.saturating_sub(1)).sum::<u64>();
    let mut last_text: HashMap<(&str, &str), Millis> = HashMap::new();
    let mut first_reply: HashMap<&str, Millis> = HashMap::new();
    let mut replies = 0;
    for (chat, role, content, at) in &data.messages {
        if role == "user" {
            replies += 1;
            first_reply.entry(chat.as_str()).or_insert(*at);
            continue;
        }
        if let Some(previous) = last_text.insert((chat.as_str(), content.as_str()), *at)
            && at - previous < DUPLICATE_WINDOW
        {
            violations.duplicate_send += 1;
        }
    }

    // Follow-ups after a reply, from the ledger.
    let mut followups = 0;
    for (_, chat, kind, _, status, at) in &data.sends {
        if kind != "followup" || status != "sent" {
            continue;
        }
        followups += 1;
        if first_reply
            .get(chat.as_str())
            .is_some_and(|reply| at > reply)
        {
            violations.followup_after_reply += 1;
        }
    }

    let dnc_urls: HashSet<&str> = dnc_since.keys().copied().collect();
    let mut funnel = Funnel {
        invitations_sent: count(
            data.actions
                .iter()
                .filter(|a| a.2 == action::INVITATION)
                .count(),
        ),
        messages_sent: count(
            data.actions
                .iter()
                .filter(|a| a.2 == action::MESSAGE)
                .count(),
        ),
        invitations_accepted: data
            .events
            .iter()
            .filter(|(event, _)| event == "linkedin.invitation.accepted")
            .map(|(_, n)| u64::try_from(*n).unwrap_or(0))
            .sum(),
        followups_sent: followups,
        replies_received: replies,
        ..Funnel::default()
    };
    for (chat, url, status, qualification, _) in &data.chats {
        match qualification.as_str() {
            "qualified" => funnel.qualified += 1,
            "needVerification" => funnel.need_verification += 1,
            "unqualified" => funnel.unqualified += 1,
            _ => {}
        }
        if *status == outbound_core::conversation::status::SKIPPED
            && dnc_urls.contains(url.as_str())
            && agent_of.contains_key(chat.as_str())
        {
            funnel.skipped_dnc += 1;
        }
    }
    (funnel, violations)
}

#[cfg(test)]
mod tests {
    use super::*;
    use outbound_core::agent::{AgentSettings, AgentStatus, Limits, WorkingHours};
    use outbound_store::engine::EngineAgent;

    fn agent() -> EngineAgent {
        EngineAgent {
            id: "a".into(),
            team_id: "t".into(),
            name: "A".into(),
            status: AgentStatus::Running,
            login: None,
            country: None,
            password_sealed: None,
            provider_account_id: None,
            working_hours: WorkingHours::default(),
            timezone_name: None,
            limits: Limits {
                invitations_min: 1,
                invitations_max: 3,
                messages_min: 1,
                messages_max: 3,
            },
            settings: AgentSettings::default(),
            alerts: vec![],
            usage_day: None,
            day_ends_at: None,
            invitations_today: 0,
            messages_today: 0,
            invitations_target: 2,
            messages_target: 2,
            weekly_invitation_cap: 2,
            monthly_invitation_cap: 800,
            warmup_started: None,
            rate_limited_streak: 0,
            last_invitation_at: None,
            last_message_action_at: None,
        }
    }

    fn at(s: &str) -> Millis {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn every_rule_is_counted() {
        let mut data = AuditData {
            agents: vec![agent()],
            days: vec![("a".into(), "2026-06-01".into(), 2, 2)],
            chats: vec![
                ("c1".into(), "u1".into(), 3, "inProgress".into(), "a".into()),
                ("c2".into(), "u2".into(), 7, "inProgress".into(), "a".into()),
            ],
            dnc: vec![],
            ..AuditData::default()
        };
        let monday = |t: &str| at(&format!("2026-06-01T{t}Z"));
        data.actions = vec![
            (
                "a".into(),
                Some("c1".into()),
                "invitation".into(),
                monday("09:00:00"),
            ),
            (
                "a".into(),
                Some("c2".into()),
                "invitation".into(),
                monday("10:00:00"),
            ),
            // Third invitation: over the daily target and the weekly cap, and late.
            (
                "a".into(),
                Some("c1".into()),
                "invitation".into(),
                monday("19:00:00"),
            ),
            (
                "a".into(),
                Some("c2".into()),
                "message".into(),
                monday("11:00:00"),
            ),
        ];
        data.messages = vec![
            (
                "c1".into(),
                "user".into(),
                "Interested".into(),
                monday("09:30:00"),
            ),
            (
                "c2".into(),
                "assistant".into(),
                "Hi".into(),
                monday("11:00:00"),
            ),
            (
                "c2".into(),
                "assistant".into(),
                "Hi".into(),
                monday("11:00:30"),
            ),
        ];
        data.sends = vec![(
            "s".into(),
            "c1".into(),
            "followup".into(),
            "x".into(),
            "sent".into(),
            monday("10:30:00"),
        )];
        let outside = Interventions {
            dnc: vec![("u2".into(), monday("10:30:00"))],
            chat_pauses: vec![("c2".into(), monday("10:45:00"), None)],
            agent_pauses: vec![],
            deliveries: vec![("k".into(), 2)],
        };
        let (funnel, v) = audit(&data, &outside);
        assert_eq!(v.daily_limit, 1);
        assert_eq!(v.weekly_limit, 1);
        assert_eq!(v.working_hours, 1);
        assert_eq!(v.dnc_contacted, 1, "the message to c2 after its DNC entry");
        assert_eq!(v.paused_messaged, 1);
        assert_eq!(
            v.duplicate_send,
            1 + 1 + 1,
            "a redelivery, a second invitation, a repeated text"
        );
        assert_eq!(v.followup_after_reply, 1);
        assert_eq!(funnel.invitations_sent, 3);
        assert_eq!(funnel.messages_sent, 1);
        assert_eq!(funnel.replies_received, 1);
        assert_eq!(funnel.skipped_dnc, 1);
    }

    #[test]
    fn a_clean_log_has_no_violation() {
        let data = AuditData {
            agents: vec![agent()],
            days: vec![("a".into(), "2026-06-01".into(), 2, 2)],
            chats: vec![("c1".into(), "u1".into(), 1, "inProgress".into(), "a".into())],
            actions: vec![(
                "a".into(),
                Some("c1".into()),
                "invitation".into(),
                at("2026-06-01T09:00:00Z"),
            )],
            ..AuditData::default()
        };
        let (_, v) = audit(&data, &Interventions::default());
        assert_eq!(v, Violations::default());
    }
}
