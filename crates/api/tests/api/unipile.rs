//! `POST /integrations/unipile/webhook`: closed without a configured secret, 401 with a wrong
//! one, 400 for a body that is not a webhook, 200 `ignored` for what matches nobody; a new
//! relation wakes the invitation check of the right conversation only (not another team's
//! conversation with the same person), even a check that had given up; a lost session puts the
//! agent in `auth_needed` with an alert. And the deletion of a prospect the engine worked on
//! counts the tasks it removes. The agent is set up through the API and run by the real
//! outreach engine on the sandbox connector.

use crate::common::{Backend, TestApp};
use outbound_core::conversation::status;
use outbound_core::plan::Plan;
use outbound_core::time::{Millis, now_millis};
use outbound_engine::outreach::{Engine, EngineConfig, ModelRegistry};
use outbound_linkedin::sandbox::DelayRange;
use outbound_linkedin::{SandboxConfig, SandboxConnector};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

const PATH: &str = "/integrations/unipile/webhook";
const SECRET: &str = "whsec-outbound-test";
const SECRET_HEADER: &str = "X-Outbound-Webhook-Secret";
const PERSON: &str = "https://www.linkedin.com/in/webhook-person";
const CANONICAL_PERSON: &str = "https://linkedin.com/in/webhook-person";
const MINUTE: Millis = 60_000;
const DAY: Millis = 24 * 60 * MINUTE;
/// How far the engine is driven: past the 21 days after which an invitation check gives up.
const GIVE_UP_HORIZON: Millis = 25 * DAY;

/// A server with `SECRET` configured; `None` for PostgreSQL without a configured server.
async fn spawn(backend: Backend) -> Option<TestApp> {
    TestApp::spawn_with_settings(backend, |settings| {
        settings.unipile_webhook_secret = Some(SECRET.to_owned());
    })
    .await
}

/// Runs `async fn name(app)` on a server with `SECRET`, once per backend.
macro_rules! with_secret {
    ($(#[$meta:meta])* async fn $name:ident($app:ident) $body:block) => {
        $(#[$meta])*
        async fn $name($app: TestApp) $body

        mod $name {
            use crate::common::Backend;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(super::spawn(Backend::Sqlite).await.expect("sqlite")).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = super::spawn(Backend::Postgres).await {
                    super::$name(app).await;
                }
            }
        }
    };
}

async fn hook(app: &TestApp, secret: Option<&str>, body: &str) -> crate::common::Reply {
    let mut request = app
        .client
        .post(format!("{}{PATH}", app.base))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(secret) = secret {
        request = request.header(SECRET_HEADER, secret);
    }
    let response = request.send().await.expect("send webhook");
    let status = response.status();
    let text = response.text().await.expect("body");
    crate::common::Reply {
        status,
        headers: Default::default(),
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    }
}

fn new_relation(account_id: &str, profile_url: &str) -> String {
    json!({
        "event": "new_relation",
        "account_id": account_id,
        "account_type": "LINKEDIN",
        "webhook_name": "relations",
        "user_full_name": "Webhook Person",
        "user_provider_id": "ACoAAWebhookPerson",
        "user_public_identifier": "webhook-person",
        "user_profile_url": profile_url,
    })
    .to_string()
}

/// A network where nobody ever accepts, so the invitation check gives up after 21 days.
fn silent_network() -> SandboxConnector {
    network(0.0)
}

/// A network where everyone accepts (with `acceptance_rate`) within hours and nobody answers.
fn network(acceptance_rate: f64) -> SandboxConnector {
    let config = SandboxConfig {
        acceptance_rate,
        acceptance_delay: DelayRange::new(Duration::from_secs(3600), Duration::from_secs(7200)),
        reply_rate: 0.0,
        conversation_reply_rate: 0.0,
        already_connected_rate: 0.0,
        unreachable_rate: 0.0,
        invites_disabled_rate: 0.0,
        ..SandboxConfig::default()
    };
    SandboxConnector::new(5, config).expect("sandbox")
}

/// The outreach engine of `app` on the silent network, as `outbound serve` runs it.
fn engine_of(app: &TestApp) -> Engine {
    engine_on(app, silent_network())
}

/// The outreach engine of `app` on `network`.
fn engine_on(app: &TestApp, network: SandboxConnector) -> Engine {
    Engine::new(
        Arc::clone(&app.store),
        Arc::new(network),
        ModelRegistry::offline(),
        Arc::clone(&app.secrets),
        EngineConfig::default(),
    )
}

/// An always-working agent with the LinkedIn account `login` and a running campaign holding
/// `PERSON`; returns `(agent, campaign)`.
async fn campaign_with_person(app: &TestApp, key: &str, login: &str) -> (String, String) {
    let agent = app.post_empty(key, "/v1/agents").await.expect(201)["id"]
        .as_str()
        .expect("agent id")
        .to_owned();
    app.put(
        key,
        &format!("/v1/agents/{agent}"),
        json!({
            "workingHours": { "days": "1:1:1:1:1:1:1", "start": "00:00", "end": "00:00", "timezone": 0 },
            "limits": { "invitationsMin": 20, "invitationsMax": 25, "messagesMin": 20, "messagesMax": 25 }
        }),
    )
    .await
    .expect(200);
    app.post(
        key,
        &format!("/v1/agents/{agent}/setup"),
        json!({ "login": login, "password": "correct horse", "country": "fr" }),
    )
    .await
    .expect(200);
    let product = app
        .post(
            key,
            "/v1/products",
            json!({ "name": "Ledger AI", "description": "Closes the books twice as fast." }),
        )
        .await;
    let product = product.expect(201)["id"].as_str().expect("id").to_owned();
    let prompt = app
        .post(
            key,
            "/v1/prompts",
            json!({ "name": "Outreach", "type": "Messages", "model": "template" }),
        )
        .await;
    let prompt = prompt.expect(201)["id"].as_str().expect("id").to_owned();
    app.put(
        key,
        &format!("/v1/prompts/{prompt}"),
        json!({
            "context": "Sell {{offeringDescription}} to {{prospectDescription}}.",
            "firstMessage": "Hi {{prospectName}}, a quick question about your books."
        }),
    )
    .await
    .expect(200);
    let campaign = app
        .post(
            key,
            "/v1/campaigns",
            json!({ "name": "Webhooks", "productId": product, "promptId": prompt, "agentId": agent }),
        )
        .await;
    let campaign = campaign.expect(201)["id"].as_str().expect("id").to_owned();
    app.post(
        key,
        "/v1/prospects",
        json!({ "campaignId": campaign, "name": "Webhook Person", "url": PERSON }),
    )
    .await
    .expect(201);
    while app.store.process_imports(100).await.expect("import step") > 0 {}
    (agent, campaign)
}

/// `(status, due_at, attempts)` of a conversation's check task.
async fn check_task(app: &TestApp, chat: &str) -> Option<(String, i64, i64)> {
    app.rows(
        "SELECT status, due_at, attempts FROM tasks WHERE chat_id = $1 AND kind = 'check'",
        chat,
    )
    .await
    .pop()
}

async fn provider_account(app: &TestApp, agent: &str) -> String {
    app.scalar::<Option<String>>(
        "SELECT provider_account_id FROM agents WHERE id = $1",
        agent,
    )
    .await
    .expect("the engine logged the agent in")
}

/// The conversation of `PERSON` in `campaign`.
async fn chat_of(app: &TestApp, key: &str, campaign: &str) -> Value {
    let list = app
        .get(key, &format!("/v1/prospects/campaign/{campaign}"))
        .await;
    list.expect(200)[0].clone()
}

/// Drives the engine on simulated time from now until `until`, a step at a time.
async fn drive(engine: &Engine, from: Millis, until: Millis) {
    let mut now = from;
    engine.plan(now).await.expect("plan");
    while now < until {
        engine.run_all_due(now).await.expect("engine");
        match engine.next_due().await.expect("next due") {
            Some(next) => now = (next.max(now) + MINUTE).min(until.max(now + MINUTE)),
            None => break,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_route_is_closed_without_a_secret() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    hook(&app, Some(SECRET), &new_relation("acc", PERSON))
        .await
        .expect_error(404, "not_found");
}

with_secret!(
    /// A wrong or missing secret is refused; a body that is not a webhook is 400; events that
    /// match nobody are acknowledged.
    async fn the_secret_guards_the_route(app) {
        let body = new_relation("unknown-account", PERSON);
        hook(&app, None, &body).await.expect_error(401, "invalid_webhook_secret");
        hook(&app, Some("whsec-outbound-tesT"), &body).await.expect_error(401, "invalid_webhook_secret");
        hook(&app, Some(SECRET), "not json").await.expect_error(400, "invalid_request");
        hook(&app, Some(SECRET), r#"{"event":"new_relation"}"#).await.expect_error(400, "invalid_request");
        let ignored = json!({ "received": true, "action": "ignored", "conversations": 0 });
        assert_eq!(hook(&app, Some(SECRET), &body).await.expect(200), &ignored);
        let other_provider = json!({ "event": "message_received", "account_id": "a", "account_type": "WHATSAPP" });
        assert_eq!(hook(&app, Some(SECRET), &other_provider.to_string()).await.expect(200), &ignored);
    }
);

with_secret!(
    /// The invitation check of the invited person is woken (even after it gave up); the same
    /// person in another team's campaign is not touched.
    async fn a_new_relation_wakes_the_invitation_check(app) {
        let (agent, campaign) = campaign_with_person(&app, app.key(), "sam.smith@example.com").await;
        let other = app.new_team(Plan::Unlimited).await;
        let (_, other_campaign) = campaign_with_person(&app, &other.key, "kim.lee@example.com").await;
        let other_chat = chat_of(&app, &other.key, &other_campaign).await["id"]
            .as_str()
            .expect("other chat")
            .to_owned();

        // Both agents run, each on its own LinkedIn account.
        let engine = engine_of(&app);
        let start = now_millis();
        drive(&engine, start, start + GIVE_UP_HORIZON).await;

        let chat = chat_of(&app, app.key(), &campaign).await;
        let chat_id = chat["id"].as_str().expect("chat id").to_owned();
        let details = app.get(app.key(), &format!("/v1/prospects/{chat_id}")).await;
        assert_eq!(details.expect(200)["status"], status::INVITATION_SENT, "{}", details.body);
        let (state, _, _) = check_task(&app, &chat_id).await.expect("check task");
        assert_eq!(state, "done", "the check gave up after 21 days");
        let other_before = check_task(&app, &other_chat).await;

        let account = provider_account(&app, &agent).await;
        let before = now_millis();
        let reply = hook(&app, Some(SECRET), &new_relation(&account, CANONICAL_PERSON)).await;
        assert_eq!(
            reply.expect(200),
            &json!({ "received": true, "action": "woken", "conversations": 1 })
        );
        let (state, due_at, attempts) = check_task(&app, &chat_id).await.expect("check task");
        assert_eq!(state, "pending");
        assert!(due_at >= before && due_at <= now_millis(), "due now: {due_at}");
        assert_eq!(attempts, 0);
        assert_eq!(check_task(&app, &other_chat).await, other_before, "another team's chat");

        // The same event again changes nothing more than "due now".
        let again = hook(&app, Some(SECRET), &new_relation(&account, PERSON)).await;
        assert_eq!(again.expect(200)["conversations"], 1);
    }
);

with_secret!(
    /// `CREDENTIALS` puts the account's agent in `auth_needed` with one `session_expired`
    /// alert, however often it is sent; another team cannot see that agent.
    async fn a_lost_session_needs_the_user(app) {
        let (agent, _) = campaign_with_person(&app, app.key(), "sam.smith@example.com").await;
        let engine = engine_of(&app);
        engine.run_all_due(now_millis()).await.expect("login");
        let path = format!("/v1/agents/{agent}");
        assert_eq!(app.get(app.key(), &path).await.expect(200)["status"], "running");
        let account = provider_account(&app, &agent).await;
        let body = json!({
            "AccountStatus": { "account_id": account, "account_type": "LINKEDIN", "message": "CREDENTIALS" }
        })
        .to_string();
        for _ in 0..2 {
            let reply = hook(&app, Some(SECRET), &body).await;
            assert_eq!(
                reply.expect(200),
                &json!({ "received": true, "action": "agent_needs_auth", "conversations": 0 })
            );
        }
        let details = app.get(app.key(), &path).await;
        let details = details.expect(200);
        assert_eq!(details["status"], "auth_needed");
        let alerts = details["alerts"].as_array().expect("alerts");
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert_eq!(alerts[0]["type"], "auth");
        assert_eq!(alerts[0]["subType"], "session_expired");
        let other = app.new_team(Plan::Unlimited).await;
        app.get(&other.key, &path).await.expect_error(404, "not_found");
    }
);

with_secret!(
    /// Deleting a prospect the engine worked on takes its tasks along and says how many; the
    /// other team gets 404 for it.
    async fn deleting_a_prospect_counts_its_engine_tasks(app) {
        let (_, campaign) = campaign_with_person(&app, app.key(), "sam.smith@example.com").await;
        let engine = engine_of(&app);
        let start = now_millis();
        drive(&engine, start, start + DAY).await;
        let chat = chat_of(&app, app.key(), &campaign).await;
        assert_eq!(chat["status"], status::INVITATION_SENT, "{chat}");
        let chat_id = chat["id"].as_str().expect("chat id");
        let prospect = chat["prospect"]["id"].as_str().expect("prospect id");
        assert!(check_task(&app, chat_id).await.is_some(), "the engine checks the invitation");

        let other = app.new_team(Plan::Unlimited).await;
        app.delete(&other.key, &format!("/v1/prospects/{prospect}"))
            .await
            .expect_error(404, "not_found");
        app.post_empty(app.key(), &format!("/v1/prospects/{chat_id}/pause"))
            .await
            .expect(200);
        let reply = app.delete(app.key(), &format!("/v1/prospects/{prospect}")).await;
        let items = &reply.expect(200)["deletionSummary"]["deletedItems"];
        assert_eq!(items["chats"], 1);
        assert_eq!(items["tasks"], 1, "{items}");
        assert!(check_task(&app, chat_id).await.is_none());
    }
);

with_secret!(
    /// A new message that names its sender only by LinkedIn member id (Unipile's
    /// `attendee_profile_url` may carry the id instead of the public slug) finds the
    /// conversation through the id stored with the profile read after the acceptance.
    async fn a_message_finds_its_sender_by_member_id(app) {
        let (agent, campaign) =
            campaign_with_person(&app, app.key(), "sam.smith@example.com").await;
        let engine = engine_on(&app, network(1.0));
        let start = now_millis();
        drive(&engine, start, start + 2 * DAY).await;
        let chat = chat_of(&app, app.key(), &campaign).await;
        assert_eq!(chat["status"], status::CONTACTED, "{chat}");
        let chat_id = chat["id"].as_str().expect("chat id").to_owned();
        let member: String = app
            .scalar::<Option<String>>("SELECT provider_id FROM prospects WHERE url = $1", CANONICAL_PERSON)
            .await
            .expect("the member id was stored with the profile");

        let account = provider_account(&app, &agent).await;
        let message = |sender: &str| {
            json!({
                "event": "message_received",
                "account_id": account,
                "account_type": "LINKEDIN",
                "chat_id": "chat-1",
                "message_id": "msg-1",
                "message": "Sounds interesting, tell me more",
                "timestamp": "2026-05-04T10:00:00.000Z",
                "account_info": { "user_id": "ACoAAOwnAccount" },
                "sender": {
                    "attendee_id": "att-1",
                    "attendee_name": "Webhook Person",
                    "attendee_provider_id": sender,
                    "attendee_profile_url": format!("https://www.linkedin.com/in/{sender}"),
                },
            })
            .to_string()
        };
        let stranger = hook(&app, Some(SECRET), &message("ACoAAStranger")).await;
        assert_eq!(stranger.expect(200)["action"], "ignored");
        let before = now_millis();
        let reply = hook(&app, Some(SECRET), &message(&member)).await;
        assert_eq!(
            reply.expect(200),
            &json!({ "received": true, "action": "woken", "conversations": 1 })
        );
        let (state, due_at, _) = check_task(&app, &chat_id).await.expect("check task");
        assert_eq!(state, "pending");
        assert!(due_at >= before && due_at <= now_millis(), "due now: {due_at}");
    }
);
