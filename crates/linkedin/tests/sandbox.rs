//! The sandbox network through the public `LinkedInConnector` API: determinism, rates, logins,
//! invitations, stateless replies, and a send ledger that outlives the process.

use outbound_linkedin::sandbox::replies::{self, Intent};
use outbound_linkedin::sandbox::{DelayRange, InterestMix, ProfileKind};
use outbound_linkedin::{
    Account, CheckpointKind, ConnectorError, InvitationState, LinkedInConnector, LoginOutcome,
    SandboxConfig, SandboxConnector, SendProbe, SentRef,
};
use std::time::Duration;

const SEED: u64 = 42;
const HOUR: i64 = 60 * 60 * 1000;
const DAY: i64 = 24 * HOUR;
/// 2026-05-04T09:00:00Z.
const T0: i64 = 1_777_885_200_000;
const SAMPLE: usize = 10_000;

fn account(login: &str) -> Account {
    Account {
        id: "agent-1".into(),
        provider_account_id: Some("sbx-acc-1".into()),
        login: login.into(),
        password: "secret".into(),
        country: "FR".into(),
    }
}

fn me() -> Account {
    account("sam@example.com")
}

fn url(i: usize) -> String {
    format!("https://linkedin.com/in/prospect-{i}")
}

fn sent(at: i64, text: &str) -> SentRef {
    SentRef {
        at,
        text: text.into(),
    }
}

fn assert_near(count: usize, total: usize, rate: f64, tolerance: f64, what: &str) {
    let observed = count as f64 / total as f64;
    assert!(
        (observed - rate).abs() <= tolerance,
        "{what}: observed {observed:.4}, expected {rate} ± {tolerance}"
    );
}

#[tokio::test]
async fn same_seed_and_url_give_the_same_profile_and_decisions() {
    let a = SandboxConnector::with_defaults(SEED);
    let b = SandboxConnector::with_defaults(SEED);
    for i in 0..200 {
        let u = url(i);
        assert_eq!(a.profile(&me(), &u).await, b.profile(&me(), &u).await);
        assert_eq!(
            a.invite(&me(), &u, None, T0).await,
            b.invite(&me(), &u, None, T0).await
        );
        assert_eq!(
            a.invitation_state(&me(), &u, T0, T0 + 5 * DAY).await,
            b.invitation_state(&me(), &u, T0, T0 + 5 * DAY).await
        );
    }
    // Spellings of one profile are one person.
    let spelled = a
        .profile(&me(), "https://www.linkedin.com/in/Jane-Doe-7/?trk=x")
        .await;
    let canonical = a.profile(&me(), "linkedin.com/in/jane-doe-7").await;
    assert_eq!(spelled, canonical);
    assert_eq!(canonical.map(|p| p.name), Ok("Jane Doe".to_owned()));
}

#[tokio::test]
async fn different_seeds_give_different_networks() {
    let a = SandboxConnector::with_defaults(1);
    let b = SandboxConnector::with_defaults(2);
    let mut differing = 0;
    for i in 0..100 {
        if a.profile(&me(), &url(i)).await != b.profile(&me(), &url(i)).await {
            differing += 1;
        }
    }
    assert!(differing >= 95, "only {differing} of 100 profiles differ");
}

#[tokio::test]
async fn generated_profiles_look_real() {
    let sandbox = SandboxConnector::with_defaults(SEED);
    let mut found = None;
    for slug in ["x7k2p", "x7k2q", "x7k2r"] {
        if let Ok(profile) = sandbox
            .profile(&me(), &format!("linkedin.com/in/{slug}"))
            .await
        {
            found = Some(profile);
            break;
        }
    }
    let Some(profile) = found else {
        panic!("three unreachable profiles in a row");
    };
    assert_eq!(profile.name.split(' ').count(), 2);
    let title = profile.current_job_title.clone().unwrap_or_default();
    let company = profile.current_company_name.clone().unwrap_or_default();
    assert_eq!(profile.headline, Some(format!("{title} at {company}")));
    assert!(profile.about.is_some() && profile.city.is_some() && profile.country.is_some());
    assert!(profile.provider_id.starts_with("ACoAA"));
    assert!(
        profile
            .current_company_linkedin_url
            .is_some_and(|u| u.starts_with("https://linkedin.com/company/"))
    );
}

#[tokio::test]
async fn rates_are_honoured_over_ten_thousand_profiles() {
    let sandbox = SandboxConnector::with_defaults(SEED);
    let config = SandboxConfig::default();
    let (mut disabled, mut unreachable, mut connected, mut ordinary, mut accepted) =
        (0, 0, 0, 0, 0);
    let (mut answered_first, mut followups, mut answered_followup) = (0, 0, 0);
    let min_delay = config.acceptance_delay.min.as_millis() as i64;
    let max_delay = config.acceptance_delay.max.as_millis() as i64;
    for i in 0..SAMPLE {
        let u = url(i);
        match sandbox.invite(&me(), &u, Some("Hi!"), T0).await {
            Err(ConnectorError::InvitesDisabled) => {
                disabled += 1;
                continue;
            }
            Err(ConnectorError::Unreachable) => {
                unreachable += 1;
                continue;
            }
            Err(other) => panic!("unexpected {other:?}"),
            Ok(_) => {}
        }
        let Ok(profile) = sandbox.profile(&me(), &u).await else {
            panic!("an invitable profile must be readable");
        };
        if profile.connected {
            connected += 1;
            continue;
        }
        ordinary += 1;
        if let Ok(InvitationState::Accepted { at }) =
            sandbox.invitation_state(&me(), &u, T0, T0 + 30 * DAY).await
        {
            accepted += 1;
            assert!(
                at >= T0 + min_delay && at <= T0 + max_delay,
                "accepted at {at}"
            );
        }
        let first = [sent(T0 + 4 * DAY, "Hello")];
        let replies = sandbox.replies(&me(), &u, 0, T0 + 60 * DAY, &first).await;
        if replies.is_ok_and(|r| !r.is_empty()) {
            answered_first += 1;
        } else {
            followups += 1;
            let both = [first[0].clone(), sent(T0 + 7 * DAY, "Any thoughts?")];
            let replies = sandbox.replies(&me(), &u, 0, T0 + 60 * DAY, &both).await;
            if replies.is_ok_and(|r| !r.is_empty()) {
                answered_followup += 1;
            }
        }
    }
    assert_near(
        disabled,
        SAMPLE,
        config.invites_disabled_rate,
        0.004,
        "invites disabled",
    );
    assert_near(
        unreachable,
        SAMPLE,
        config.unreachable_rate,
        0.006,
        "unreachable",
    );
    assert_near(
        connected,
        SAMPLE,
        config.already_connected_rate,
        0.012,
        "already connected",
    );
    assert_near(
        accepted,
        ordinary,
        config.acceptance_rate,
        0.025,
        "acceptance",
    );
    assert_near(
        answered_first,
        ordinary,
        config.reply_rate,
        0.025,
        "first reply",
    );
    let followup_rate = config.reply_rate * config.followup_reply_factor;
    assert_near(
        answered_followup,
        followups,
        followup_rate,
        0.025,
        "follow-up reply",
    );
}

#[test]
fn interest_mix_is_honoured() {
    let config = SandboxConfig::default();
    let mut intents = std::collections::HashMap::new();
    let mut first_replies = 0;
    for i in 0..SAMPLE {
        let slug = format!("prospect-{i}");
        let derived = replies::derive(SEED, &config, &slug, "Pat Doe", &[sent(T0, "Hello")]);
        if let Some(reply) = derived.first() {
            first_replies += 1;
            *intents.entry(reply.intent).or_insert(0) += 1;
        }
    }
    let mix = config.interest;
    for (intent, weight) in [
        (Intent::Interested, mix.interested),
        (Intent::Question, mix.question),
        (Intent::NotNow, mix.not_now),
        (Intent::NotInterested, mix.not_interested),
        (Intent::OptOut, mix.opt_out),
    ] {
        let count = intents.get(&intent).copied().unwrap_or(0);
        assert_near(
            count,
            first_replies,
            weight / mix.total(),
            0.04,
            &format!("{intent:?}"),
        );
    }
}

#[tokio::test]
async fn kinds_are_exclusive_and_stable() {
    let sandbox = SandboxConnector::with_defaults(SEED);
    for i in 0..500 {
        let kind = sandbox.profile_kind(&url(i));
        assert_eq!(kind, sandbox.profile_kind(&url(i)));
        if kind == Ok(ProfileKind::Unreachable) {
            assert_eq!(
                sandbox.profile(&me(), &url(i)).await,
                Err(ConnectorError::Unreachable)
            );
        }
    }
    assert!(matches!(
        sandbox.profile_kind("https://example.com/jane"),
        Err(ConnectorError::Rejected(_))
    ));
}

#[tokio::test]
async fn two_factor_logins_need_a_six_digit_code() {
    let sandbox = SandboxConnector::with_defaults(SEED);
    let mut fresh = account("sam+2fa@example.com");
    fresh.provider_account_id = None;
    let Ok(LoginOutcome::Checkpoint {
        kind,
        provider_account_id,
    }) = sandbox.login(&fresh).await
    else {
        panic!("a +2fa login must stop at a checkpoint");
    };
    assert_eq!(kind, CheckpointKind::TwoFactor);
    fresh.provider_account_id = Some(provider_account_id.clone());
    for bad in ["12345", "1234567", "abcdef", ""] {
        assert!(matches!(
            sandbox.submit_code(&fresh, bad).await,
            Err(ConnectorError::Rejected(_))
        ));
    }
    assert_eq!(
        sandbox.submit_code(&fresh, "123456").await,
        Ok(LoginOutcome::LoggedIn {
            provider_account_id,
            name: "Sam".into(),
            avatar: None,
        })
    );
}

#[tokio::test]
async fn plain_logins_succeed_and_sessions_are_checked() {
    let sandbox = SandboxConnector::with_defaults(SEED);
    let mut fresh = account("jane.doe@example.com");
    fresh.provider_account_id = None;
    let outcome = sandbox.login(&fresh).await;
    let Ok(LoginOutcome::LoggedIn {
        provider_account_id,
        name,
        ..
    }) = outcome
    else {
        panic!("a plain login succeeds: {outcome:?}");
    };
    assert_eq!(name, "Jane Doe");
    assert!(sandbox.login(&fresh).await.is_ok());
    // Never logged in: every call needs a new login.
    assert_eq!(
        sandbox.profile(&fresh, &url(1)).await,
        Err(ConnectorError::SessionExpired)
    );
    fresh.provider_account_id = Some(provider_account_id);
    assert!(
        sandbox
            .invitation_state(&fresh, &url(1), T0, T0)
            .await
            .is_ok()
    );
    // An expired session fails every call after the login.
    let expired = account("ops+expired@example.com");
    assert!(sandbox.login(&expired).await.is_ok());
    assert_eq!(
        sandbox.send_message(&expired, &url(1), "Hi", "k", T0).await,
        Err(ConnectorError::SessionExpired)
    );
}

#[tokio::test]
async fn acceptance_is_dated_and_stateless() {
    let sandbox = SandboxConnector::with_defaults(SEED);
    let mut checked = 0;
    for i in 0..300 {
        let u = url(i);
        let Ok(InvitationState::Accepted { at }) =
            sandbox.invitation_state(&me(), &u, T0, T0 + 10 * DAY).await
        else {
            continue;
        };
        if at == T0 {
            continue; // already connected
        }
        checked += 1;
        assert_eq!(
            sandbox.invitation_state(&me(), &u, T0, at - 1).await,
            Ok(InvitationState::Pending)
        );
        assert_eq!(
            sandbox.invitation_state(&me(), &u, T0, at).await,
            Ok(InvitationState::Accepted { at })
        );
        // Inviting later shifts the acceptance by the same amount.
        assert_eq!(
            sandbox
                .invitation_state(&me(), &u, T0 + DAY, T0 + 20 * DAY)
                .await,
            Ok(InvitationState::Accepted { at: at + DAY })
        );
    }
    assert!(checked > 50, "{checked}");
}

#[tokio::test]
async fn invitation_notes_are_limited() {
    let sandbox = SandboxConnector::with_defaults(SEED);
    let long = "x".repeat(301);
    assert!(matches!(
        sandbox.invite(&me(), &url(3), Some(&long), T0).await,
        Err(ConnectorError::Rejected(_))
    ));
}

#[tokio::test]
async fn replies_are_stateless_and_never_precede_the_message() {
    let sandbox = SandboxConnector::with_defaults(SEED);
    let restarted = SandboxConnector::with_defaults(SEED);
    let conversation = [
        sent(T0, "Hello, thanks for connecting!"),
        sent(T0 + 3 * DAY, "Just following up."),
        sent(T0 + 8 * DAY, "Last note from me."),
    ];
    let mut total = 0;
    for i in 0..2_000 {
        let u = url(i);
        let now = T0 + 30 * DAY;
        let first = sandbox.replies(&me(), &u, 0, now, &conversation).await;
        assert_eq!(
            first,
            sandbox.replies(&me(), &u, 0, now, &conversation).await
        );
        assert_eq!(
            first,
            restarted.replies(&me(), &u, 0, now, &conversation).await
        );
        let first = first.unwrap_or_default();
        total += first.len();
        for reply in &first {
            assert!(reply.at > T0, "a reply before the first message");
            assert!(!reply.text.is_empty());
        }
        assert_eq!(
            sandbox.replies(&me(), &u, 0, T0, &conversation).await,
            Ok(vec![])
        );
        assert_eq!(sandbox.replies(&me(), &u, 0, now, &[]).await, Ok(vec![]));
        // Windows partition the replies.
        let mid = T0 + 5 * DAY;
        let early = sandbox.replies(&me(), &u, 0, mid, &conversation).await;
        let late = sandbox.replies(&me(), &u, mid, now, &conversation).await;
        let joined: Vec<_> = early
            .unwrap_or_default()
            .into_iter()
            .chain(late.unwrap_or_default())
            .collect();
        assert_eq!(joined, first);
    }
    assert!(total > 300, "{total}");
}

#[tokio::test]
async fn replies_seen_so_far_survive_new_messages() {
    let sandbox = SandboxConnector::with_defaults(SEED);
    for i in 0..2_000 {
        let u = url(i);
        let next = T0 + 2 * DAY;
        let one = [sent(T0, "Hello")];
        let two = [sent(T0, "Hello"), sent(next, "Following up")];
        assert_eq!(
            sandbox.replies(&me(), &u, 0, next, &one).await,
            sandbox.replies(&me(), &u, 0, next, &two).await
        );
    }
}

fn always_opting_out() -> SandboxConfig {
    SandboxConfig {
        reply_rate: 1.0,
        followup_reply_factor: 1.0,
        conversation_reply_rate: 1.0,
        reply_delay: DelayRange::new(Duration::from_secs(600), Duration::from_secs(3_600)),
        interest: InterestMix {
            interested: 0.0,
            question: 0.0,
            not_now: 0.0,
            not_interested: 0.0,
            opt_out: 1.0,
        },
        ..SandboxConfig::default()
    }
}

#[tokio::test]
async fn nobody_answers_after_an_opt_out() {
    let Ok(sandbox) = SandboxConnector::new(SEED, always_opting_out()) else {
        panic!("valid configuration");
    };
    let conversation = [
        sent(T0, "Hello"),
        sent(T0 + DAY, "Following up"),
        sent(T0 + 2 * DAY, "Still there?"),
    ];
    for i in 0..100 {
        let u = url(i);
        let replies = sandbox
            .replies(&me(), &u, 0, T0 + 30 * DAY, &conversation)
            .await
            .unwrap_or_default();
        if sandbox.profile_kind(&u) == Ok(ProfileKind::Unreachable) {
            assert!(replies.is_empty());
            continue;
        }
        assert_eq!(replies.len(), 1, "{u}: {replies:?}");
        assert!(replies[0].at > T0 && replies[0].at <= T0 + HOUR);
    }
}

#[test]
fn closing_replies_end_every_default_conversation() {
    let config = SandboxConfig::default();
    let conversation: Vec<SentRef> = (0..6).map(|k| sent(T0 + k * 2 * DAY, "msg")).collect();
    let mut closed = 0;
    for i in 0..SAMPLE {
        let derived = replies::derive(SEED, &config, &format!("p-{i}"), "Pat Doe", &conversation);
        if let Some(end) = derived.iter().position(|r| r.intent.closes()) {
            closed += 1;
            assert_eq!(end, derived.len() - 1, "a reply after a closing one");
        }
        let answered: std::collections::HashSet<usize> =
            derived.iter().map(|r| r.answers).collect();
        assert_eq!(answered.len(), derived.len(), "two answers to one message");
        for reply in &derived {
            assert!(reply.at > conversation[reply.answers].at);
        }
    }
    assert!(closed > 500, "{closed}");
}

#[tokio::test]
async fn searches_return_deterministic_people() {
    let sandbox = SandboxConnector::with_defaults(SEED);
    let search = "https://www.linkedin.com/sales/search/people?query=(keywords:cfo)";
    let Ok(hits) = sandbox.search_sales_navigator(&me(), search, 25).await else {
        panic!("search works");
    };
    assert_eq!(hits.len(), 25);
    assert_eq!(
        sandbox.search_sales_navigator(&me(), search, 25).await,
        Ok(hits.clone())
    );
    let unique: std::collections::HashSet<_> = hits.iter().map(|h| &h.profile_url).collect();
    assert_eq!(unique.len(), 25);
    for hit in &hits {
        assert!(hit.profile_url.starts_with("https://linkedin.com/in/"));
        if let Ok(profile) = sandbox.profile(&me(), &hit.profile_url).await {
            assert_eq!(profile.name, hit.name);
        }
    }
    let other = sandbox
        .search_sales_navigator(
            &me(),
            "https://www.linkedin.com/sales/search/people?query=(keywords:cto)",
            25,
        )
        .await
        .unwrap_or_default();
    assert_ne!(other, hits);
    assert!(matches!(
        sandbox.search_sales_navigator(&me(), " ", 5).await,
        Err(ConnectorError::Rejected(_))
    ));
}

#[tokio::test]
async fn messages_get_stable_ids() {
    let sandbox = SandboxConnector::with_defaults(SEED);
    let u = (0..50)
        .map(url)
        .find(|u| sandbox.profile_kind(u) == Ok(ProfileKind::Ordinary))
        .unwrap_or_default();
    let a = sandbox.send_message(&me(), &u, "Hello", "key-1", T0).await;
    assert_eq!(
        a,
        sandbox
            .send_message(&me(), &u, "Hello", "key-1", T0 + 5)
            .await
    );
    assert_ne!(
        a,
        sandbox.send_message(&me(), &u, "Hello", "key-2", T0).await
    );
    assert!(matches!(
        sandbox.send_message(&me(), &u, "  ", "key-3", T0).await,
        Err(ConnectorError::Rejected(_))
    ));
}

/// What a connector with a ledger file sent, a new connector on that file (a restarted server)
/// still finds; a connector without the file does not.
#[tokio::test]
async fn the_ledger_file_remembers_sends_across_restarts() {
    let dir = std::env::temp_dir().join(format!("outbound-sandbox-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("outbound.db.sandbox");
    let _ = std::fs::remove_file(&path);
    let target = url(7);
    let probe = SendProbe::Message {
        text: "Hello",
        idempotency_key: "send-1",
        at: T0,
    };
    let sent = {
        let before = SandboxConnector::with_defaults(SEED)
            .with_ledger_file(&path)
            .expect("ledger");
        before
            .invite(&me(), &target, None, T0)
            .await
            .expect("invite");
        before
            .send_message(&me(), &target, "Hello", "send-1", T0)
            .await
            .expect("send")
    };
    let after = SandboxConnector::with_defaults(SEED)
        .with_ledger_file(&path)
        .expect("ledger again");
    assert_eq!(after.find_sent(&me(), &target, probe).await, Ok(Some(sent)));
    assert!(
        after
            .find_sent(&me(), &target, SendProbe::Invitation)
            .await
            .expect("probe")
            .is_some()
    );
    let other_key = SendProbe::Message {
        text: "Hello",
        idempotency_key: "send-2",
        at: T0,
    };
    assert_eq!(after.find_sent(&me(), &target, other_key).await, Ok(None));
    let forgetful = SandboxConnector::with_defaults(SEED);
    assert_eq!(forgetful.find_sent(&me(), &target, probe).await, Ok(None));
    let _ = std::fs::remove_dir_all(&dir);
}
