//! The review queue and take-over over HTTP: `reviewMode` on campaigns (and its bad values),
//! the draft list (shape, filters, cursor paging, bad input), a draft's details, approve with
//! an edit, reject (pause), 409 on a second decision, `POST /v1/prospects/{chatId}/messages`
//! (400, 404, 409 on the DNC list), message authors, the draft events reaching only webhooks that
//! name them, and a second team that gets 404 for every id of the first.
//!
//! Drafts are written the way the engine writes them (a settlement with `ChatOp::Drafted`); the
//! engine's own review tests are in `crates/engine/tests/outreach.rs`.

use crate::both_backends;
use crate::common::{Reply, TestApp, assert_keys};
use crate::conformance::contract::Contract;
use crate::prospects::{Chat, add, new_campaign};
use outbound_core::plan::Plan;
use outbound_core::review::{DEFAULT_DRAFT_TTL, DraftKind};
use outbound_core::time::now_millis;
use outbound_store::chats::Role;
use outbound_store::drafts::NewDraft;
use outbound_store::engine::{ChatOp, Settlement};
use serde_json::{Value, json};

const DRAFT_KEYS: &[&str] = &[
    "agentId",
    "campaignId",
    "chatId",
    "createdAt",
    "expiresAt",
    "id",
    "kind",
    "messages",
    "model",
    "promptId",
    "prospect",
    "status",
    "text",
];
const DRAFT_KEYS_WHEN_SET: &[&str] = &["decidedAt", "editedText", "reason", "sentAt"];

/// Writes a pending first-message draft for `chat`, as the engine does; returns its id.
async fn draft(
    app: &TestApp,
    team: &str,
    campaign: &crate::prospects::Campaign,
    chat: &Chat,
    at: i64,
) -> String {
    let id = outbound_core::ids::new_id();
    let mut settlement = Settlement::new(at);
    settlement.chats.push(ChatOp::Drafted {
        chat: chat.chat.clone(),
        draft: NewDraft {
            id: id.clone(),
            team_id: team.to_owned(),
            chat_id: chat.chat.clone(),
            campaign_id: campaign.id.clone(),
            agent_id: campaign.agent.clone(),
            prospect_id: chat.prospect.clone(),
            kind: DraftKind::FirstMessage,
            text: format!("Hi from the AI ({id})"),
            model: Some("template".into()),
            prompt_id: Some("prompt".into()),
            created_at: at,
            expires_at: at + DEFAULT_DRAFT_TTL,
        },
    });
    app.store.settle(&settlement).await.expect("settle");
    id
}

/// Our served OpenAPI document, as a strict contract.
async fn contract(app: &TestApp) -> Contract {
    let document = app.get(app.key(), "/v1/openapi.json").await;
    Contract::new("/v1/openapi.json", document.expect(200), true)
}

/// Asserts that `reply` to `method path` is a response the document describes.
#[track_caller]
fn conforms(contract: &Contract, method: &str, path: &str, reply: &Reply) {
    let violations = contract.violations(method, path, reply.status.as_u16(), &reply.body);
    assert!(violations.is_empty(), "{method} {path}: {violations:?}");
}

fn ids(body: &Value) -> Vec<&str> {
    body.as_array()
        .expect("a list")
        .iter()
        .map(|d| d["id"].as_str().expect("an id"))
        .collect()
}

both_backends!(
    /// A campaign in review mode: list, read, approve with an edit, reject, decide twice.
    async fn drafts_are_reviewed_and_decided_once(app) {
        let a = app.new_team(Plan::Unlimited).await;
        let b = app.new_team(Plan::Unlimited).await;
        let campaign = new_campaign(&app, &a.key, "Reviewed campaign").await;
        let path = format!("/v1/campaigns/{}", campaign.id);
        app.put(&a.key, &path, json!({ "reviewMode": "sometimes" }))
            .await
            .expect_error(400, "validation_error");
        app.put(&a.key, &path, json!({ "reviewMode": "all" })).await.expect(200);
        app.put(&b.key, &path, json!({ "reviewMode": "off" })).await.expect_error(404, "not_found");
        let list = app.get(&a.key, "/v1/campaigns").await;
        assert_eq!(list.expect(200)[0]["reviewMode"], "all", "{}", list.body);

        let first = add(&app, &a.team_id, &campaign.id, "ana-review").await;
        let second = add(&app, &a.team_id, &campaign.id, "ben-review").await;
        app.store
            .append_message(&a.team_id, &first.chat, Role::User, "Hello there", now_millis())
            .await
            .expect("message");
        let older = draft(&app, &a.team_id, &campaign, &first, now_millis() - 1000).await;
        let newer = draft(&app, &a.team_id, &campaign, &second, now_millis()).await;

        let contract = contract(&app).await;
        let page = app.get(&a.key, "/v1/drafts?status=pending&limit=1").await;
        conforms(&contract, "GET", "/v1/drafts", &page);
        assert_eq!(ids(page.expect(200)), [newer.as_str()], "newest first");
        assert_eq!(page.headers["x-has-more"], "true");
        let cursor = page.headers["x-next-cursor"].to_str().expect("cursor").to_owned();
        let next = app.get(&a.key, &format!("/v1/drafts?limit=1&cursor={cursor}")).await;
        assert_eq!(ids(next.expect(200)), [older.as_str()]);
        assert_eq!(next.headers["x-has-more"], "false");
        let item = &next.expect(200)[0];
        assert_keys(item, DRAFT_KEYS, DRAFT_KEYS_WHEN_SET);
        assert_eq!(item["kind"], "first_message");
        assert_eq!(item["prospect"]["url"], "https://linkedin.com/in/ana-review");
        assert_eq!(item["messages"][0]["author"], "prospect", "{item}");
        let filtered = app.get(&a.key, &format!("/v1/drafts?campaignId={}&status=approved", campaign.id)).await;
        assert_eq!(ids(filtered.expect(200)).len(), 0);
        for bad in ["status=waiting", "limit=0", "limit=101", "cursor=not-ours"] {
            app.get(&a.key, &format!("/v1/drafts?{bad}")).await.expect_error(400, "validation_error");
        }

        // The second team sees none of it.
        assert_eq!(ids(app.get(&b.key, "/v1/drafts").await.expect(200)).len(), 0);
        for path in [format!("/v1/drafts/{older}")] {
            app.get(&b.key, &path).await.expect_error(404, "not_found");
        }
        for action in ["approve", "reject"] {
            app.post(&b.key, &format!("/v1/drafts/{older}/{action}"), json!({}))
                .await
                .expect_error(404, "not_found");
        }
        app.get(&a.key, "/v1/drafts/not-a-draft").await.expect_error(404, "not_found");

        let approve = format!("/v1/drafts/{older}/approve");
        for body in [json!({ "text": "  " }), json!({ "text": "x".repeat(8001) }), json!({ "tone": "warm" })] {
            app.post(&a.key, &approve, body).await.expect_error(400, "validation_error");
        }
        let approved = app.post(&a.key, &approve, json!({ "text": "Hi Ana, a person wrote this." })).await;
        conforms(&contract, "POST", &approve, &approved);
        let approved = approved.expect(200);
        assert_eq!(approved["status"], "approved");
        assert_eq!(approved["editedText"], "Hi Ana, a person wrote this.");
        assert!(approved["text"].as_str().expect("text").starts_with("Hi from the AI"));
        let twice = app.post(&a.key, &approve, json!({})).await;
        conforms(&contract, "POST", &approve, &twice);
        twice.expect_error(409, "draft_not_pending");

        let reject = format!("/v1/drafts/{newer}/reject");
        app.post(&a.key, &reject, json!({ "reason": "x".repeat(1001) }))
            .await
            .expect_error(400, "validation_error");
        let rejected = app.post(&a.key, &reject, json!({ "reason": "Too formal" })).await;
        assert_eq!(rejected.expect(200)["status"], "rejected");
        assert_eq!(rejected.expect(200)["reason"], "Too formal");
        app.post(&a.key, &reject, json!({})).await.expect_error(409, "draft_not_pending");
        let chat = app.get(&a.key, &format!("/v1/prospects/{}", second.chat)).await;
        assert_eq!(chat.expect(200)["paused"], true, "a rejection pauses the conversation");
        let read = app.get(&a.key, &format!("/v1/drafts/{newer}")).await;
        conforms(&contract, "GET", &format!("/v1/drafts/{newer}"), &read);
        assert_eq!(read.expect(200)["status"], "rejected");
        conforms(&contract, "POST", &reject, &rejected);
        let detail = app.get(&a.key, &format!("/v1/prospects/{}", first.chat)).await;
        conforms(&contract, "GET", &format!("/v1/prospects/{}", first.chat), &detail);
        let campaigns = app.get(&a.key, "/v1/campaigns").await;
        conforms(&contract, "GET", "/v1/campaigns", &campaigns);
    }
);

both_backends!(
    /// A person's message: validated, queued (the AI pauses), refused on the DNC list and
    /// invisible to a second team.
    async fn a_person_message_is_queued_and_pauses_the_ai(app) {
        let a = app.new_team(Plan::Unlimited).await;
        let b = app.new_team(Plan::Unlimited).await;
        let campaign = new_campaign(&app, &a.key, "Taken over").await;
        let person = add(&app, &a.team_id, &campaign.id, "cleo-takeover").await;
        let path = format!("/v1/prospects/{}/messages", person.chat);
        for body in [json!({}), json!({ "text": "" }), json!({ "text": "x".repeat(8001) }), json!({ "text": 5 })] {
            app.post(&a.key, &path, body).await.expect_error(400, "validation_error");
        }
        app.post(&b.key, &path, json!({ "text": "Hi" })).await.expect_error(404, "not_found");
        app.post(&a.key, "/v1/prospects/not-a-chat/messages", json!({ "text": "Hi" }))
            .await
            .expect_error(404, "not_found");
        let queued = app.post(&a.key, &path, json!({ "text": "Hi Cleo, Sam here." })).await;
        conforms(&contract(&app).await, "POST", &path, &queued);
        let body = queued.expect(202);
        assert_keys(body, &["chatId", "id", "message", "paused", "status"], &[]);
        assert_eq!(body["status"], "queued");
        let chat = app.get(&a.key, &format!("/v1/prospects/{}", person.chat)).await;
        assert_eq!(chat.expect(200)["paused"], true);
        let tasks: i64 = app
            .scalar("SELECT COUNT(*) FROM tasks WHERE chat_id = $1 AND kind = 'manual_message'", &person.chat)
            .await;
        assert_eq!(tasks, 1, "one message for the engine to send");

        app.post(&a.key, "/v1/dnc", json!({ "url": "https://linkedin.com/in/cleo-takeover" }))
            .await
            .expect(201);
        app.post(&a.key, &path, json!({ "text": "Still there?" }))
            .await
            .expect_error(409, "prospect_on_dnc");
    }
);

both_backends!(
    /// `draft.created` reaches a webhook that names it, never a `*` one.
    async fn draft_events_reach_only_webhooks_that_name_them(app) {
        let a = app.new_team(Plan::Unlimited).await;
        let campaign = new_campaign(&app, &a.key, "Draft events").await;
        let mut hooks = Vec::new();
        for events in [json!(["*"]), json!(["draft.created"])] {
            let created = app
                .post(&a.key, "/v1/webhooks", json!({ "name": "Hook", "url": "https://hooks.example.com/in", "events": events }))
                .await;
            hooks.push(created.expect(201)["id"].as_str().expect("id").to_owned());
        }
        let person = add(&app, &a.team_id, &campaign.id, "dana-events").await;
        draft(&app, &a.team_id, &campaign, &person, now_millis()).await;
        app.store.fan_out_events(100).await.expect("fan out");
        let count = |hook: &str| {
            let hook = hook.to_owned();
            let app = &app;
            async move {
                app.scalar::<i64>("SELECT COUNT(*) FROM webhook_deliveries WHERE webhook_id = $1", &hook)
                    .await
            }
        };
        assert_eq!(count(&hooks[0]).await, 0, "a `*` webhook sees nothing new");
        assert_eq!(count(&hooks[1]).await, 1);
        let events = app.get(&a.key, "/v1/webhooks/events").await;
        assert!(events.body.to_string().contains("draft.created"), "{}", events.body);
    }
);
