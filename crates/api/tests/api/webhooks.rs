//! Webhooks: management (create, list, update, delete), the event catalogues, test sends, the
//! delivery log with manual retry, failure tracking and its reset, and isolation between teams.
//!
//! No dispatcher runs here: delivery state is driven through the store (`record_event`,
//! `fan_out_events`, `claim_deliveries`, `finish_delivery`), as the dispatcher would drive it.

use crate::both_backends;
use crate::common::{Reply, TestApp, assert_keys, keys, timestamp};
use outbound_core::plan::Plan;
use outbound_core::time::{Millis, iso8601, now_millis};
use outbound_store::webhooks::{AttemptOutcome, ClaimedDelivery};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Duration;

/// The subscribable events with their names (`GET /v1/webhooks/events`).
const EVENTS: [(&str, &str); 10] = [
    ("linkedin.invitation.sent", "LinkedIn Invitation Sent"),
    (
        "linkedin.invitation.accepted",
        "LinkedIn Invitation Accepted",
    ),
    ("linkedin.message.sent", "LinkedIn Message Sent"),
    ("linkedin.message.received", "LinkedIn Message Received"),
    (
        "prospect.qualification.manual",
        "Prospect Needs Manual Qualification",
    ),
    ("prospect.unqualified", "Prospect Unqualified"),
    ("prospect.qualified", "Prospect Qualified"),
    ("draft.created", "AI Draft Waiting for Review"),
    ("draft.expired", "AI Draft Expired"),
    ("agent.stopped", "Agent Stopped to Protect the Account"),
];

/// The legacy test events with their categories (`GET /v1/webhooks/test/events`).
const TEST_EVENTS: [(&str, &str); 6] = [
    ("prospect.qualified", "prospect"),
    ("prospect.responded", "prospect"),
    ("campaign.completed", "campaign"),
    ("agent.status_changed", "agent"),
    ("message.sent", "message"),
    ("connection.accepted", "connection"),
];

const WEBHOOK_KEYS: &[&str] = &[
    "active",
    "createdAt",
    "events",
    "failureCount",
    "id",
    "name",
    "successCount",
    "url",
];
/// A webhook's keys once something was delivered to it or failed.
const WEBHOOK_KEYS_WHEN_SET: &[&str] = &["lastFailure", "lastSuccess"];

const DELIVERY_KEYS: &[&str] = &["attempts", "createdAt", "event", "id", "status"];
/// A delivery's keys once tried, answered, failed, or while a next attempt is planned.
const DELIVERY_KEYS_WHEN_SET: &[&str] =
    &["lastAttempt", "lastError", "nextAttempt", "responseCode"];

/// Creates a webhook of the team of `key` and returns its id.
async fn create(app: &TestApp, key: &str, name: &str, url: &str, events: &[&str]) -> String {
    let reply = app
        .post(
            key,
            "/v1/webhooks",
            json!({ "name": name, "url": url, "events": events }),
        )
        .await;
    reply.expect(201)["id"].as_str().expect("an id").to_owned()
}

/// The webhooks of the team of `key`, as listed.
async fn list(app: &TestApp, key: &str) -> Vec<Value> {
    app.get(key, "/v1/webhooks")
        .await
        .expect(200)
        .as_array()
        .expect("a bare array")
        .clone()
}

/// One webhook of the first team, as listed.
async fn listed(app: &TestApp, id: &str) -> Value {
    list(app, app.key())
        .await
        .into_iter()
        .find(|w| w["id"] == id)
        .unwrap_or_else(|| panic!("webhook {id} is not listed"))
}

/// The deliveries of a webhook of the first team (first page of 100).
async fn deliveries(app: &TestApp, webhook: &str) -> Vec<Value> {
    let reply = app
        .get(
            app.key(),
            &format!("/v1/webhooks/{webhook}/deliveries?limit=100"),
        )
        .await;
    reply.expect(200)["deliveries"]
        .as_array()
        .expect("deliveries")
        .clone()
}

/// The response text of a request, unparsed.
async fn raw_text(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> String {
    let mut request = app
        .client
        .request(method, format!("{}{path}", app.base))
        .bearer_auth(app.key());
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("send request");
    assert!(response.status().is_success(), "{}", response.status());
    response.text().await.expect("read body")
}

/// Asserts a 400 `validation_error` whose details name `field`.
#[track_caller]
fn assert_invalid(reply: &Reply, field: &str) {
    reply.expect_error(400, "validation_error");
    let details = reply.body["details"].as_array().expect("details");
    assert!(
        details.iter().any(|d| d["field"]
            .as_str()
            .is_some_and(|f| f == field || f.starts_with(&format!("{field}[")))),
        "no detail names {field}: {}",
        reply.body
    );
}

/// Leases every delivery due now.
async fn claim_now(app: &TestApp) -> Vec<ClaimedDelivery> {
    let now = now_millis();
    app.store
        .claim_deliveries(now, now + 60_000, 10)
        .await
        .expect("claim deliveries")
}

/// Records `event` for the first team, fans it out and leases the deliveries due now.
async fn emit_and_claim(app: &TestApp, event: &str) -> Vec<ClaimedDelivery> {
    app.store
        .record_event(
            &app.team.team_id,
            event,
            &json!({ "chatId": "chat_1", "prospectId": "prospect_1" }),
        )
        .await
        .expect("record event");
    app.store.fan_out_events(100).await.expect("fan out");
    claim_now(app).await
}

/// Records the outcome of an attempt made `at`.
async fn finish(app: &TestApp, delivery: &str, outcome: AttemptOutcome, at: Millis) {
    app.store
        .finish_delivery(delivery, outcome, at, 4)
        .await
        .expect("finish delivery");
}

fn failed(retry_at: Option<Millis>) -> AttemptOutcome {
    AttemptOutcome::Failed {
        response_code: Some(500),
        error: "HTTP 500 Internal Server Error".to_owned(),
        retry_at,
    }
}

/// Claims the single delivery of a new `event` and records a failed attempt that exhausts it.
async fn exhaust_one(app: &TestApp, event: &str) -> String {
    let claimed = emit_and_claim(app, event).await;
    assert_eq!(claimed.len(), 1, "one delivery is due");
    finish(app, &claimed[0].id, failed(None), now_millis()).await;
    claimed[0].id.clone()
}

/// Asserts that `value` is an ISO-8601 time within `slack` of now.
#[track_caller]
fn assert_near_now(value: &Value, slack: Duration) {
    let at = timestamp(value).with_timezone(&chrono::Utc);
    let now = chrono::Utc::now();
    let slack = chrono::Duration::from_std(slack).expect("slack");
    assert!(
        at > now - slack && at < now + slack,
        "{at} is not near {now}"
    );
}

both_backends!(
    async fn create_returns_the_webhook_and_the_list_shows_it_newest_first(app) {
        let secret = "whsec_do-not-leak-0123456789";
        let reply = app
            .post(
                app.key(),
                "/v1/webhooks",
                json!({
                    "name": "CRM sync",
                    "url": "https://example.com/hooks/crm",
                    "secret": secret,
                    "events": ["linkedin.message.received", "prospect.unqualified"],
                }),
            )
            .await;
        let created = reply.expect(201);
        assert_eq!(keys(created), ["active", "events", "id", "message", "name", "url"]);
        assert_eq!(created["name"], "CRM sync");
        assert_eq!(created["url"], "https://example.com/hooks/crm");
        assert_eq!(created["events"], json!(["linkedin.message.received", "prospect.unqualified"]));
        assert_eq!(created["active"], true);
        assert_eq!(created["message"], "Webhook created successfully");
        let first = created["id"].as_str().expect("an id").to_owned();
        assert!(!first.is_empty());
        assert!(!created.to_string().contains(secret), "the secret leaked: {created}");

        tokio::time::sleep(Duration::from_millis(5)).await;
        let second = app
            .post(
                app.key(),
                "/v1/webhooks",
                json!({ "name": "  Everything  ", "url": "http://127.0.0.1:9000/all", "events": ["*"] }),
            )
            .await;
        let second_body = second.expect(201);
        assert_eq!(second_body["events"], json!(["*"]), "`*` subscribes to every event");
        assert_eq!(second_body["name"], "Everything", "the name is trimmed");
        let second = second_body["id"].as_str().expect("an id").to_owned();
        assert_ne!(first, second);

        let webhooks = list(&app, app.key()).await;
        let ids: Vec<&str> = webhooks.iter().map(|w| w["id"].as_str().expect("an id")).collect();
        assert_eq!(ids, [second.as_str(), first.as_str()], "newest first");
        for webhook in &webhooks {
            assert_keys(webhook, WEBHOOK_KEYS, WEBHOOK_KEYS_WHEN_SET);
            assert_eq!(webhook["active"], true);
            assert_eq!(webhook["successCount"], 0);
            assert_eq!(webhook["failureCount"], 0);
            assert!(webhook["lastSuccess"].is_null(), "{webhook}");
            assert!(webhook["lastFailure"].is_null(), "{webhook}");
            assert_near_now(&webhook["createdAt"], Duration::from_secs(60));
        }
        assert_eq!(webhooks[1]["name"], "CRM sync");
        assert_eq!(webhooks[1]["url"], "https://example.com/hooks/crm");
        assert_eq!(webhooks[1]["events"], json!(["linkedin.message.received", "prospect.unqualified"]));
        assert_eq!(webhooks[0]["events"], json!(["*"]));

        // The secret appears in no response, even after it changes.
        let text = raw_text(&app, Method::GET, "/v1/webhooks", None).await;
        assert!(!text.contains(secret) && !text.contains("secret"), "{text}");
        let new_secret = "another-secret-never-shown-42";
        let text = raw_text(
            &app,
            Method::PUT,
            &format!("/v1/webhooks/{first}"),
            Some(json!({ "secret": new_secret })),
        )
        .await;
        assert!(!text.contains(new_secret), "{text}");
        let text = raw_text(&app, Method::GET, "/v1/webhooks", None).await;
        assert!(!text.contains(secret) && !text.contains(new_secret) && !text.contains("secret"), "{text}");
        let text = raw_text(
            &app,
            Method::POST,
            "/v1/webhooks/test",
            Some(json!({ "event": "linkedin.message.received" })),
        )
        .await;
        assert!(!text.contains(new_secret), "{text}");
        let text = raw_text(&app, Method::GET, &format!("/v1/webhooks/{first}/deliveries"), None).await;
        assert!(!text.contains(new_secret), "{text}");
        let text = raw_text(&app, Method::DELETE, &format!("/v1/webhooks/{first}"), None).await;
        assert!(!text.contains(new_secret), "{text}");
    }
);

both_backends!(
    async fn create_validates_every_field_and_writes_nothing(app) {
        let url = "https://example.com/hook";
        let events = json!(["linkedin.message.sent"]);
        let cases = [
            (json!({ "url": url, "events": events }), "name"),
            (json!({ "name": "", "url": url, "events": events }), "name"),
            (json!({ "name": "   ", "url": url, "events": events }), "name"),
            (json!({ "name": "x".repeat(201), "url": url, "events": events }), "name"),
            (json!({ "name": "n", "events": events }), "url"),
            (json!({ "name": "n", "url": url }), "events"),
            (json!({ "name": "n", "url": url, "events": [] }), "events"),
            (json!({ "name": "n", "url": url, "events": ["message.sent"] }), "events"),
            (json!({ "name": "n", "url": url, "events": ["linkedin.message.sent", "nope"] }), "events"),
            (json!({ "name": "n", "url": url, "events": "linkedin.message.sent" }), "events"),
            (json!({ "name": "n", "url": "ftp://example.com/hook", "events": events }), "url"),
            (json!({ "name": "n", "url": "not a url", "events": events }), "url"),
            (json!({ "name": "n", "url": "example.com/hook", "events": events }), "url"),
            (json!({ "name": "n", "url": "https://user:pass@example.com/hook", "events": events }), "url"),
            (json!({ "name": "n", "url": "https://user@example.com/hook", "events": events }), "url"),
            (json!({ "name": "n", "url": "", "events": events }), "url"),
            (json!({ "name": "n", "url": url, "events": events, "secret": "" }), "secret"),
        ];
        for (body, field) in cases {
            let reply = app.post(app.key(), "/v1/webhooks", body.clone()).await;
            assert_invalid(&reply, field);
            assert!(reply.body.get("id").is_none(), "{body}: {}", reply.body);
        }
        // Several problems are all reported.
        let reply = app
            .post(app.key(), "/v1/webhooks", json!({ "name": "", "url": "ftp://x.example", "events": [] }))
            .await;
        for field in ["name", "url", "events"] {
            assert_invalid(&reply, field);
        }
        let empty = app.post_empty(app.key(), "/v1/webhooks").await;
        empty.expect_error(400, "validation_error");
        assert!(list(&app, app.key()).await.is_empty(), "nothing was written");
    }
);

both_backends!(
    async fn update_changes_only_the_given_fields(app) {
        let id = create(&app, app.key(), "Original", "https://example.com/a", &["linkedin.message.sent"]).await;
        let path = format!("/v1/webhooks/{id}");

        let reply = app.put(app.key(), &path, json!({ "name": "Renamed" })).await;
        let body = reply.expect(200);
        assert_eq!(keys(body), ["id", "message"]);
        assert_eq!(body["id"], id.as_str());
        assert_eq!(body["message"], "Webhook updated successfully");
        let webhook = listed(&app, &id).await;
        assert_eq!(webhook["name"], "Renamed");
        assert_eq!(webhook["url"], "https://example.com/a");
        assert_eq!(webhook["events"], json!(["linkedin.message.sent"]));
        assert_eq!(webhook["active"], true);

        app.put(
            app.key(),
            &path,
            json!({ "url": "https://example.com/b", "events": ["*", "linkedin.message.received"] }),
        )
        .await
        .expect(200);
        let webhook = listed(&app, &id).await;
        assert_eq!(webhook["name"], "Renamed");
        assert_eq!(webhook["url"], "https://example.com/b");
        assert_eq!(webhook["events"], json!(["*", "linkedin.message.received"]));

        app.put(app.key(), &path, json!({ "active": false })).await.expect(200);
        let webhook = listed(&app, &id).await;
        assert_eq!(webhook["active"], false);
        assert_eq!(webhook["name"], "Renamed");
        // An inactive webhook receives no test send.
        app.post(app.key(), "/v1/webhooks/test", json!({ "event": "linkedin.message.sent" }))
            .await
            .expect_error(404, "not_found");

        // Invalid changes are refused and change nothing.
        let before = listed(&app, &id).await;
        assert_invalid(&app.put(app.key(), &path, json!({})).await, "body");
        let no_body = app.send(Method::PUT, &path, Some(app.key()), None).await;
        assert_invalid(&no_body, "body");
        for (body, field) in [
            (json!({ "name": "" }), "name"),
            (json!({ "url": "ftp://example.com/x" }), "url"),
            (json!({ "url": "not a url" }), "url"),
            (json!({ "url": "https://u:p@example.com/x" }), "url"),
            (json!({ "events": [] }), "events"),
            (json!({ "events": ["message.sent"] }), "events"),
            (json!({ "active": "yes" }), "active"),
            (json!({ "name": "Fine", "url": "ftp://example.com/x" }), "url"),
        ] {
            assert_invalid(&app.put(app.key(), &path, body).await, field);
        }
        assert_eq!(listed(&app, &id).await, before, "nothing changed");

        // An unknown webhook.
        app.put(app.key(), "/v1/webhooks/00000000000000000000", json!({ "name": "x" }))
            .await
            .expect_error(404, "not_found");
    }
);

both_backends!(
    async fn re_enabling_resets_failure_tracking(app) {
        let id = create(&app, app.key(), "Flaky", "https://example.com/flaky", &["linkedin.message.sent"]).await;

        // A success, then a failure that will be retried: counted, still active.
        let claimed = emit_and_claim(&app, "linkedin.message.sent").await;
        assert_eq!(claimed.len(), 1);
        assert_eq!(claimed[0].webhook_id, id);
        let succeeded_at = now_millis();
        finish(&app, &claimed[0].id, AttemptOutcome::Succeeded { response_code: 200 }, succeeded_at).await;
        let claimed = emit_and_claim(&app, "linkedin.message.sent").await;
        assert_eq!(claimed.len(), 1);
        let failed_at = now_millis();
        finish(&app, &claimed[0].id, failed(Some(failed_at + 300_000)), failed_at).await;
        let webhook = listed(&app, &id).await;
        assert_eq!(webhook["successCount"], 1);
        assert_eq!(webhook["failureCount"], 1);
        assert_eq!(webhook["lastSuccess"], iso8601(succeeded_at).as_str());
        assert_eq!(webhook["lastFailure"], iso8601(failed_at).as_str());
        assert_eq!(webhook["active"], true);

        // 410 Gone disables it at once.
        let claimed = emit_and_claim(&app, "linkedin.message.sent").await;
        assert_eq!(claimed.len(), 1, "the retried delivery is not due yet");
        finish(&app, &claimed[0].id, AttemptOutcome::Gone, now_millis()).await;
        let webhook = listed(&app, &id).await;
        assert_eq!(webhook["active"], false);
        assert_eq!(webhook["failureCount"], 2);
        assert!(webhook["lastFailure"].is_string());
        let gone = deliveries(&app, &id).await;
        assert_eq!(gone[0]["status"], "failed");
        assert_eq!(gone[0]["responseCode"], 410);

        // A disabled webhook receives no new events.
        assert!(emit_and_claim(&app, "linkedin.message.sent").await.is_empty());
        assert_eq!(deliveries(&app, &id).await.len(), 3);

        // Re-enabling resets the failure tracking and keeps the successes.
        let reply = app.put(app.key(), &format!("/v1/webhooks/{id}"), json!({ "active": true })).await;
        assert_eq!(reply.expect(200)["message"], "Webhook updated successfully");
        let webhook = listed(&app, &id).await;
        assert_eq!(webhook["active"], true);
        assert_eq!(webhook["failureCount"], 0);
        assert!(webhook["lastFailure"].is_null(), "{webhook}");
        assert_eq!(webhook["successCount"], 1);
        assert_eq!(webhook["lastSuccess"], iso8601(succeeded_at).as_str());
        // And it receives events again.
        assert_eq!(emit_and_claim(&app, "linkedin.message.sent").await.len(), 1);
    }
);

both_backends!(
    async fn four_exhausted_events_disable_a_webhook_until_it_is_re_enabled(app) {
        let id = create(&app, app.key(), "Down", "https://example.com/down", &["*"]).await;
        for n in 1..=3 {
            exhaust_one(&app, "linkedin.message.received").await;
            let webhook = listed(&app, &id).await;
            assert_eq!(webhook["failureCount"], n);
            assert_eq!(webhook["active"], true, "still active after {n} exhausted events");
        }
        exhaust_one(&app, "linkedin.message.received").await;
        let webhook = listed(&app, &id).await;
        assert_eq!(webhook["active"], false, "disabled after 4 exhausted events");
        assert_eq!(webhook["failureCount"], 4);

        app.put(app.key(), &format!("/v1/webhooks/{id}"), json!({ "active": true })).await.expect(200);
        let webhook = listed(&app, &id).await;
        assert_eq!(webhook["active"], true);
        assert_eq!(webhook["failureCount"], 0);
        assert!(webhook["lastFailure"].is_null());
        // The streak starts over: one more exhausted event does not disable it again.
        exhaust_one(&app, "linkedin.message.received").await;
        let webhook = listed(&app, &id).await;
        assert_eq!(webhook["active"], true);
        assert_eq!(webhook["failureCount"], 1);
    }
);

both_backends!(
    async fn delete_removes_the_webhook_and_its_log_once(app) {
        let kept = create(&app, app.key(), "Kept", "https://example.com/kept", &["*"]).await;
        let id = create(&app, app.key(), "Doomed", "https://example.com/doomed", &["*"]).await;
        app.post(app.key(), "/v1/webhooks/test", json!({ "event": "linkedin.invitation.sent" }))
            .await
            .expect(200);
        assert_eq!(deliveries(&app, &id).await.len(), 1);

        let path = format!("/v1/webhooks/{id}");
        let reply = app.delete(app.key(), &path).await;
        let body = reply.expect(200);
        assert_eq!(keys(body), ["id", "message"]);
        assert_eq!(body["id"], id.as_str());
        assert_eq!(body["message"], "Webhook deleted successfully");

        app.delete(app.key(), &path).await.expect_error(404, "not_found");
        app.put(app.key(), &path, json!({ "name": "x" })).await.expect_error(404, "not_found");
        app.get(app.key(), &format!("{path}/deliveries")).await.expect_error(404, "not_found");
        let ids: Vec<Value> = list(&app, app.key()).await.into_iter().map(|w| w["id"].clone()).collect();
        assert_eq!(ids, [json!(kept)]);
        // Its queued delivery went with it; the other webhook's remains.
        let claimed = claim_now(&app).await;
        assert_eq!(claimed.len(), 1);
        assert_eq!(claimed[0].webhook_id, kept);
        app.delete(app.key(), "/v1/webhooks/00000000000000000000").await.expect_error(404, "not_found");
    }
);

both_backends!(
    async fn events_lists_the_subscribable_events(app) {
        let reply = app.get(app.key(), "/v1/webhooks/events").await;
        let events = reply.expect(200).as_array().expect("a bare array");
        let listed: Vec<(&str, &str)> = events
            .iter()
            .map(|e| {
                assert_eq!(keys(e), ["id", "name"], "{e}");
                (e["id"].as_str().expect("id"), e["name"].as_str().expect("name"))
            })
            .collect();
        assert_eq!(listed, EVENTS);
        // Every listed event can be subscribed to.
        for (id, _) in EVENTS {
            create(&app, app.key(), id, "https://example.com/h", &[id]).await;
        }
        let reply = app.send(Method::GET, "/v1/webhooks/events", None, None).await;
        reply.expect_error(401, "missing_api_key");
    }
);

both_backends!(
    async fn test_send_queues_one_delivery_per_subscribed_active_webhook(app) {
        let event = "linkedin.message.received";
        let exact = create(&app, app.key(), "Exact", "https://example.com/exact", &[event]).await;
        let wildcard = create(&app, app.key(), "Wildcard", "https://example.com/all", &["*"]).await;
        let other = create(&app, app.key(), "Other", "https://example.com/other", &["linkedin.invitation.sent"]).await;
        let inactive = create(&app, app.key(), "Inactive", "https://example.com/off", &[event]).await;
        app.put(app.key(), &format!("/v1/webhooks/{inactive}"), json!({ "active": false }))
            .await
            .expect(200);

        let reply = app
            .post(
                app.key(),
                "/v1/webhooks/test",
                json!({ "event": event, "data": { "custom": "value", "message": "Custom text", "nested": { "a": 1 } } }),
            )
            .await;
        let body = reply.expect(200);
        assert_eq!(keys(body), ["event", "message", "webhooks", "webhooksCount"]);
        assert_eq!(body["message"], "Test webhook sent successfully");
        assert_eq!(body["event"], event);
        assert_eq!(body["webhooksCount"], 2);
        let targets = body["webhooks"].as_array().expect("webhooks");
        assert_eq!(targets.len(), 2);
        let mut seen = BTreeSet::new();
        for target in targets {
            assert_eq!(keys(target), ["id", "name", "url"], "{target}");
            let id = target["id"].as_str().expect("id");
            if id == exact {
                assert_eq!(target["name"], "Exact");
                assert_eq!(target["url"], "https://example.com/exact");
            } else {
                assert_eq!(id, wildcard);
                assert_eq!(target["name"], "Wildcard");
                assert_eq!(target["url"], "https://example.com/all");
            }
            seen.insert(id.to_owned());
        }
        assert_eq!(seen, BTreeSet::from([exact.clone(), wildcard.clone()]));

        // Queued, not sent: each target has one pending delivery of the event.
        for id in [&exact, &wildcard] {
            let log = deliveries(&app, id).await;
            assert_eq!(log.len(), 1, "{log:?}");
            let delivery = &log[0];
            assert_keys(delivery, DELIVERY_KEYS, DELIVERY_KEYS_WHEN_SET);
            assert_eq!(delivery["event"], event);
            assert_eq!(delivery["status"], "pending");
            assert_eq!(delivery["attempts"], 0);
            assert!(delivery["responseCode"].is_null());
            assert!(delivery["lastAttempt"].is_null());
            assert!(delivery["lastError"].is_null());
            assert_near_now(&delivery["nextAttempt"], Duration::from_secs(60));
            assert_near_now(&delivery["createdAt"], Duration::from_secs(60));
        }
        assert!(deliveries(&app, &other).await.is_empty());
        assert!(deliveries(&app, &inactive).await.is_empty());

        // The stored bodies: the delivery envelope with the custom data merged in.
        let claimed = claim_now(&app).await;
        assert_eq!(claimed.len(), 2);
        let claimed_for: BTreeSet<String> = claimed.iter().map(|c| c.webhook_id.clone()).collect();
        assert_eq!(claimed_for, BTreeSet::from([exact.clone(), wildcard.clone()]));
        for delivery in &claimed {
            assert_eq!(delivery.attempts, 0);
            assert!(delivery.body.starts_with(r#"{"event":"linkedin.message.received","teamId":"#), "{}", delivery.body);
            let sent: Value = serde_json::from_str(&delivery.body).expect("a JSON body");
            assert_eq!(keys(&sent), ["data", "event", "teamId", "timestamp"]);
            assert_eq!(sent["event"], event);
            assert_eq!(sent["teamId"], app.team.team_id.as_str());
            assert_near_now(&sent["timestamp"], Duration::from_secs(60));
            let data = &sent["data"];
            assert_eq!(data["custom"], "value");
            assert_eq!(data["message"], "Custom text", "custom data overrides the sample");
            assert_eq!(data["nested"], json!({ "a": 1 }));
            assert_eq!(data["test"], true);
            for key in ["agentId", "campaignId", "chatId", "prospectId", "timestamp"] {
                assert!(data[key].is_string(), "data.{key} missing: {data}");
            }
        }
        assert_eq!(claimed[0].body, claimed[1].body, "one body for every target");

        // A test send with no data still carries the sample data.
        let reply = app.post(app.key(), "/v1/webhooks/test", json!({ "event": "linkedin.invitation.sent" })).await;
        let body = reply.expect(200);
        assert_eq!(body["webhooksCount"], 2);
        let ids: BTreeSet<&str> = body["webhooks"].as_array().expect("webhooks").iter().map(|w| w["id"].as_str().expect("id")).collect();
        assert_eq!(ids, BTreeSet::from([wildcard.as_str(), other.as_str()]));
    }
);

both_backends!(
    async fn test_send_refuses_bad_requests_and_unsubscribed_events(app) {
        let none = app.post(app.key(), "/v1/webhooks/test", json!({ "event": "linkedin.message.sent" })).await;
        none.expect_error(404, "not_found");
        assert_eq!(none.body["message"], "No webhooks found for this event");

        let id = create(&app, app.key(), "Sent only", "https://example.com/h", &["linkedin.message.sent"]).await;
        let unsubscribed = app
            .post(app.key(), "/v1/webhooks/test", json!({ "event": "linkedin.message.received" }))
            .await;
        unsubscribed.expect_error(404, "not_found");
        assert_eq!(unsubscribed.body["message"], "No webhooks found for this event");

        for (body, field) in [
            (json!({ "event": "*" }), "event"),
            (json!({ "event": "message.sent" }), "event"),
            (json!({ "event": "nope" }), "event"),
            (json!({ "event": "" }), "event"),
            (json!({}), "event"),
            (json!({ "event": 7 }), "event"),
            (json!({ "event": "linkedin.message.sent", "data": "text" }), "data"),
            (json!({ "event": "linkedin.message.sent", "data": [1, 2] }), "data"),
            (json!({ "event": "linkedin.message.sent", "data": 3 }), "data"),
        ] {
            let reply = app.post(app.key(), "/v1/webhooks/test", body.clone()).await;
            assert_invalid(&reply, field);
        }
        assert!(deliveries(&app, &id).await.is_empty(), "nothing was queued");
        assert!(claim_now(&app).await.is_empty());

        // `data: null` is no data.
        let reply = app
            .post(app.key(), "/v1/webhooks/test", json!({ "event": "linkedin.message.sent", "data": null }))
            .await;
        assert_eq!(reply.expect(200)["webhooksCount"], 1);
        assert_eq!(deliveries(&app, &id).await.len(), 1);
    }
);

both_backends!(
    async fn test_events_list_the_legacy_catalogue(app) {
        let reply = app.get(app.key(), "/v1/webhooks/test/events").await;
        let events = reply.expect(200).as_array().expect("a bare array");
        assert_eq!(events.len(), TEST_EVENTS.len());
        for (event, (id, category)) in events.iter().zip(TEST_EVENTS) {
            assert_eq!(keys(event), ["category", "description", "id", "name"], "{event}");
            assert_eq!(event["id"], id);
            assert_eq!(event["category"], category);
            assert!(event["name"].as_str().is_some_and(|n| !n.is_empty()), "{event}");
            assert!(event["description"].as_str().is_some_and(|d| !d.is_empty()), "{event}");
        }
        assert_eq!(events[0]["name"], "Prospect Qualified");
    }
);

both_backends!(
    async fn test_examples_carry_the_callers_team(app) {
        let team = app.store.get_team(&app.team.team_id).await.expect("team");
        for (event, category) in TEST_EVENTS {
            let reply = app.get(app.key(), &format!("/v1/webhooks/test/example/{event}")).await;
            let body = reply.expect(200);
            assert_eq!(keys(body), ["data", "event", "team", "timestamp"], "{event}");
            assert_eq!(body["event"], event);
            assert_near_now(&body["timestamp"], Duration::from_secs(60));
            assert_eq!(body["team"], json!({ "id": team.id, "name": team.name }));
            let data = body["data"].as_object().expect("data is an object");
            assert!(!data.is_empty(), "{event}");
            assert!(data.contains_key(category), "{event}: {}", body["data"]);
        }
        let qualified = app.get(app.key(), "/v1/webhooks/test/example/prospect.qualified").await;
        let prospect = &qualified.expect(200)["data"]["prospect"];
        for key in ["id", "name", "email", "headline", "url", "location", "qualification", "qualifiedAt", "qualifiedBy"] {
            assert!(prospect.get(key).is_some(), "prospect.{key} missing: {prospect}");
        }

        // Another team sees its own team in the example.
        let other = app.new_team(Plan::Hunter).await;
        let reply = app.get(&other.key, "/v1/webhooks/test/example/message.sent").await;
        assert_eq!(reply.expect(200)["team"]["id"], other.team_id.as_str());

        let valid: Vec<&str> = TEST_EVENTS.iter().map(|(id, _)| *id).collect();
        for unknown in ["nope", "linkedin.message.sent", "*"] {
            let reply = app.get(app.key(), &format!("/v1/webhooks/test/example/{unknown}")).await;
            reply.expect_error(400, "invalid_event");
            assert_eq!(reply.body["message"], format!("Invalid event: {unknown}"));
            assert_eq!(reply.body["validEvents"], json!(valid));
        }
    }
);

both_backends!(
    async fn deliveries_are_newest_first_and_paged(app) {
        let id = create(&app, app.key(), "All", "https://example.com/all", &["*"]).await;
        let sent = ["linkedin.invitation.sent", "linkedin.invitation.accepted", "linkedin.message.sent"];
        for event in sent {
            app.post(app.key(), "/v1/webhooks/test", json!({ "event": event })).await.expect(200);
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
        let newest_first: Vec<&str> = sent.iter().rev().copied().collect();

        let path = format!("/v1/webhooks/{id}/deliveries");
        let reply = app.get(app.key(), &path).await;
        let page = reply.expect(200);
        assert_eq!(keys(page), ["deliveries", "hasMore", "limit", "offset"]);
        assert_eq!(page["limit"], 25);
        assert_eq!(page["offset"], 0);
        assert_eq!(page["hasMore"], false);
        let events: Vec<&str> = page["deliveries"]
            .as_array()
            .expect("deliveries")
            .iter()
            .map(|d| {
                assert_keys(d, DELIVERY_KEYS, DELIVERY_KEYS_WHEN_SET);
                d["event"].as_str().expect("event")
            })
            .collect();
        assert_eq!(events, newest_first);
        let all_ids: Vec<Value> = page["deliveries"].as_array().expect("deliveries").iter().map(|d| d["id"].clone()).collect();

        let first = app.get(app.key(), &format!("{path}?limit=2")).await;
        let first = first.expect(200);
        assert_eq!(first["limit"], 2);
        assert_eq!(first["hasMore"], true);
        let ids: Vec<Value> = first["deliveries"].as_array().expect("deliveries").iter().map(|d| d["id"].clone()).collect();
        assert_eq!(ids, all_ids[..2]);

        let rest = app.get(app.key(), &format!("{path}?limit=2&offset=2")).await;
        let rest = rest.expect(200);
        assert_eq!(rest["offset"], 2);
        assert_eq!(rest["hasMore"], false);
        let ids: Vec<Value> = rest["deliveries"].as_array().expect("deliveries").iter().map(|d| d["id"].clone()).collect();
        assert_eq!(ids, all_ids[2..]);

        let exact = app.get(app.key(), &format!("{path}?limit=3")).await;
        assert_eq!(exact.expect(200)["hasMore"], false, "no more when the page is exactly full");
        let past = app.get(app.key(), &format!("{path}?offset=10")).await;
        let past = past.expect(200);
        assert!(past["deliveries"].as_array().expect("deliveries").is_empty());
        assert_eq!(past["hasMore"], false);
        app.get(app.key(), &format!("{path}?limit=100")).await.expect(200);
        app.get(app.key(), &format!("{path}?limit=1")).await.expect(200);

        for (query, field) in [
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("limit=-1", "limit"),
            ("limit=abc", "limit"),
            ("offset=-1", "offset"),
            ("offset=x", "offset"),
        ] {
            assert_invalid(&app.get(app.key(), &format!("{path}?{query}")).await, field);
        }
        app.get(app.key(), "/v1/webhooks/00000000000000000000/deliveries")
            .await
            .expect_error(404, "not_found");
    }
);

both_backends!(
    async fn a_failed_attempt_shows_in_the_delivery_log(app) {
        let id = create(&app, app.key(), "Failing", "https://example.com/fail", &["linkedin.message.received"]).await;
        let claimed = emit_and_claim(&app, "linkedin.message.received").await;
        assert_eq!(claimed.len(), 1);
        let delivery_id = claimed[0].id.clone();
        let attempted_at = now_millis();
        let retry_at = attempted_at + 5_000;
        finish(&app, &delivery_id, failed(Some(retry_at)), attempted_at).await;

        let log = deliveries(&app, &id).await;
        assert_eq!(log.len(), 1);
        let delivery = &log[0];
        assert_keys(delivery, DELIVERY_KEYS, DELIVERY_KEYS_WHEN_SET);
        assert_eq!(delivery["id"], delivery_id.as_str());
        assert_eq!(delivery["event"], "linkedin.message.received");
        assert_eq!(delivery["status"], "pending");
        assert_eq!(delivery["attempts"], 1);
        assert_eq!(delivery["responseCode"], 500);
        assert_eq!(delivery["lastError"], "HTTP 500 Internal Server Error");
        assert_eq!(delivery["lastAttempt"], iso8601(attempted_at).as_str());
        assert_eq!(delivery["nextAttempt"], iso8601(retry_at).as_str());
        timestamp(&delivery["createdAt"]);
        let webhook = listed(&app, &id).await;
        assert_eq!(webhook["failureCount"], 1);
        assert_eq!(webhook["lastFailure"], iso8601(attempted_at).as_str());

        // Not due before its retry time; due at it. Exhausted: failed, with no next attempt.
        assert!(claim_now(&app).await.is_empty());
        let again = app.store.claim_deliveries(retry_at, retry_at + 60_000, 10).await.expect("claim");
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].id, delivery_id);
        assert_eq!(again[0].attempts, 1);
        assert_eq!(again[0].body, claimed[0].body, "a retry sends the same bytes");
        finish(
            &app,
            &delivery_id,
            AttemptOutcome::Failed { response_code: None, error: "connection refused".to_owned(), retry_at: None },
            retry_at,
        )
        .await;
        let delivery = &deliveries(&app, &id).await[0];
        assert_eq!(delivery["status"], "failed");
        assert_eq!(delivery["attempts"], 2);
        assert!(delivery["responseCode"].is_null(), "{delivery}");
        assert_eq!(delivery["lastError"], "connection refused");
        assert!(delivery["nextAttempt"].is_null(), "{delivery}");
        assert_eq!(delivery["lastAttempt"], iso8601(retry_at).as_str());

        // A success is recorded too.
        let claimed = emit_and_claim(&app, "linkedin.message.received").await;
        assert_eq!(claimed.len(), 1);
        finish(&app, &claimed[0].id, AttemptOutcome::Succeeded { response_code: 204 }, now_millis()).await;
        let delivery = &deliveries(&app, &id).await[0];
        assert_eq!(delivery["id"], claimed[0].id.as_str());
        assert_eq!(delivery["status"], "succeeded");
        assert_eq!(delivery["attempts"], 1);
        assert_eq!(delivery["responseCode"], 204);
        assert!(delivery["lastError"].is_null());
        assert!(delivery["nextAttempt"].is_null());
        let webhook = listed(&app, &id).await;
        assert_eq!(webhook["successCount"], 1);
        assert_eq!(webhook["failureCount"], 2);
    }
);

both_backends!(
    async fn retry_queues_a_failed_delivery_again(app) {
        let id = create(&app, app.key(), "Retry me", "https://example.com/r", &["linkedin.message.sent"]).await;
        let sibling = create(&app, app.key(), "Sibling", "https://example.com/s", &["linkedin.invitation.sent"]).await;
        let delivery_id = exhaust_one(&app, "linkedin.message.sent").await;
        let before = &deliveries(&app, &id).await[0];
        assert_eq!(before["status"], "failed");
        assert!(before["nextAttempt"].is_null());

        let path = format!("/v1/webhooks/{id}/deliveries/{delivery_id}/retry");
        let reply = app.post_empty(app.key(), &path).await;
        let body = reply.expect(200);
        assert_eq!(keys(body), ["delivery", "message"]);
        assert_eq!(body["message"], "Delivery queued for retry");
        let delivery = &body["delivery"];
        assert_keys(delivery, DELIVERY_KEYS, DELIVERY_KEYS_WHEN_SET);
        assert_eq!(delivery["id"], delivery_id.as_str());
        assert_eq!(delivery["status"], "pending");
        assert_eq!(delivery["attempts"], 1, "earlier attempts are kept");
        assert_near_now(&delivery["nextAttempt"], Duration::from_secs(10));
        let listed = &deliveries(&app, &id).await[0];
        assert_eq!(listed, delivery);

        // It is due at once, with its attempts.
        let claimed = claim_now(&app).await;
        assert_eq!(claimed.len(), 1);
        assert_eq!(claimed[0].id, delivery_id);
        assert_eq!(claimed[0].attempts, 1);

        app.post_empty(app.key(), &format!("/v1/webhooks/{id}/deliveries/00000000000000000000/retry"))
            .await
            .expect_error(404, "not_found");
        app.post_empty(app.key(), &format!("/v1/webhooks/{sibling}/deliveries/{delivery_id}/retry"))
            .await
            .expect_error(404, "not_found");
        app.post_empty(app.key(), &format!("/v1/webhooks/00000000000000000000/deliveries/{delivery_id}/retry"))
            .await
            .expect_error(404, "not_found");
    }
);

both_backends!(
    async fn teams_never_see_or_touch_each_others_webhooks(app) {
        let other = app.new_team(Plan::Hunter).await;
        let id = create(&app, app.key(), "Mine", "https://example.com/mine", &["*"]).await;
        let delivery_id = exhaust_one(&app, "linkedin.message.sent").await;
        let before = listed(&app, &id).await;

        // The other team has no webhooks and cannot reach the first team's.
        assert!(list(&app, &other.key).await.is_empty());
        let path = format!("/v1/webhooks/{id}");
        app.put(&other.key, &path, json!({ "name": "Stolen", "active": true }))
            .await
            .expect_error(404, "not_found");
        app.delete(&other.key, &path).await.expect_error(404, "not_found");
        app.get(&other.key, &format!("{path}/deliveries")).await.expect_error(404, "not_found");
        app.post_empty(&other.key, &format!("{path}/deliveries/{delivery_id}/retry"))
            .await
            .expect_error(404, "not_found");
        app.post(&other.key, "/v1/webhooks/test", json!({ "event": "linkedin.message.sent" }))
            .await
            .expect_error(404, "not_found");
        assert_eq!(listed(&app, &id).await, before, "untouched");
        let log = deliveries(&app, &id).await;
        assert_eq!(log.len(), 1);
        assert_eq!(log[0]["status"], "failed", "not retried by the other team");

        // With a webhook of its own, its test send reaches only that one.
        let own = create(&app, &other.key, "Theirs", "https://example.com/theirs", &["*"]).await;
        let reply = app.post(&other.key, "/v1/webhooks/test", json!({ "event": "linkedin.message.sent" })).await;
        let body = reply.expect(200);
        assert_eq!(body["webhooksCount"], 1);
        assert_eq!(body["webhooks"][0]["id"], own.as_str());
        assert_eq!(deliveries(&app, &id).await.len(), 1, "nothing reached the first team");
        let claimed = claim_now(&app).await;
        assert_eq!(claimed.len(), 1);
        assert_eq!(claimed[0].webhook_id, own);
        let sent: Value = serde_json::from_str(&claimed[0].body).expect("JSON");
        assert_eq!(sent["teamId"], other.team_id.as_str());

        // Its own webhook's path does not reach the first team's delivery either.
        app.post_empty(&other.key, &format!("/v1/webhooks/{own}/deliveries/{delivery_id}/retry"))
            .await
            .expect_error(404, "not_found");
        let theirs = app.get(&other.key, &format!("/v1/webhooks/{own}/deliveries")).await;
        let theirs = theirs.expect(200)["deliveries"].as_array().expect("deliveries").clone();
        assert_eq!(theirs.len(), 1);
        assert_ne!(theirs[0]["id"], delivery_id.as_str());

        // Each list holds only its own team's webhooks, and the first team cannot reach the other's.
        let mine: Vec<Value> = list(&app, app.key()).await.into_iter().map(|w| w["id"].clone()).collect();
        assert_eq!(mine, [json!(id)]);
        let ours: Vec<Value> = list(&app, &other.key).await.into_iter().map(|w| w["id"].clone()).collect();
        assert_eq!(ours, [json!(own)]);
        app.delete(app.key(), &format!("/v1/webhooks/{own}")).await.expect_error(404, "not_found");
        app.get(app.key(), &format!("/v1/webhooks/{own}/deliveries")).await.expect_error(404, "not_found");
    }
);

both_backends!(
    async fn every_webhook_route_requires_a_key(app) {
        let id = create(&app, app.key(), "Keyed", "https://example.com/k", &["*"]).await;
        let body = json!({ "name": "n", "url": "https://example.com/x", "events": ["*"], "event": "linkedin.message.sent" });
        for (method, path) in [
            (Method::GET, "/v1/webhooks".to_owned()),
            (Method::POST, "/v1/webhooks".to_owned()),
            (Method::PUT, format!("/v1/webhooks/{id}")),
            (Method::DELETE, format!("/v1/webhooks/{id}")),
            (Method::GET, "/v1/webhooks/events".to_owned()),
            (Method::POST, "/v1/webhooks/test".to_owned()),
            (Method::GET, "/v1/webhooks/test/events".to_owned()),
            (Method::GET, "/v1/webhooks/test/example/message.sent".to_owned()),
            (Method::GET, format!("/v1/webhooks/{id}/deliveries")),
            (Method::POST, format!("/v1/webhooks/{id}/deliveries/abc/retry")),
        ] {
            let reply = app.send(method.clone(), &path, None, Some(body.clone())).await;
            reply.expect_error(401, "missing_api_key");
        }
        let webhooks = list(&app, app.key()).await;
        assert_eq!(webhooks.len(), 1);
        assert_eq!(webhooks[0]["name"], "Keyed");
        assert!(claim_now(&app).await.is_empty(), "no test send was queued");
    }
);
