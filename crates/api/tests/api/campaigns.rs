//! Campaigns: creation (defaults, `preventAutoStart`, every validation rule, references of the
//! same team, prompt variables, the plan quota), the newest-first list with `limit`, `offset`
//! and `after`, updates, pause and resume, stats that follow the conversations, and deletion
//! with its real counts: refused while active or while an import runs; the chats, messages,
//! exclusive prospects, webhook events and their deliveries go, a prospect shared with another
//! campaign stays. Deleting an agent deletes its campaigns the same way. A second team never
//! sees or touches the first team's campaigns.
//!
//! Conversations and their messages are written through the store, as the engine writes them.

use std::collections::BTreeMap;

use crate::both_backends;
use crate::common::{Reply, TestApp, keys, timestamp};
use outbound_core::dnc::{normalize_linkedin_url, slug_of};
use outbound_core::plan::Plan;
use outbound_core::time::now_millis;
use outbound_store::StoreError;
use outbound_store::chats::{Added, NewConversation, Role, Verdict};
use serde_json::{Value, json};

const GPT_41: &str = "680321aa001300a6673d";
/// A prompt that uses two custom variables besides system ones.
const CONTEXT_WITH_VARIABLES: &str = "We sell {{offeringDescription}} to \
     {{prospectDescription}}; {{agentName}} from {{company}} talks about {{goal}}.";
const FIRST_MESSAGE_WITH_VARIABLES: &str =
    "Hi {{prospectName}}, {{customData}} - does {{painPoint}} ring a bell?";

/// The product, prompt and agent a campaign needs.
struct Refs {
    product: String,
    prompt: String,
    agent: String,
}

/// Asserts a 400 `validation_error` whose first detail names `field`.
#[track_caller]
fn assert_invalid(reply: &Reply, field: &str) {
    reply.expect_error(400, "validation_error");
    let details = reply.body["details"].as_array().expect("details array");
    assert!(!details.is_empty(), "no details: {}", reply.body);
    assert_eq!(details[0]["field"], field, "body: {}", reply.body);
    assert!(details[0]["message"].is_string(), "body: {}", reply.body);
}

/// Asserts a 404 `not_found` with `message`.
#[track_caller]
fn assert_not_found(reply: &Reply, message: &str) {
    reply.expect_error(404, "not_found");
    assert_eq!(reply.body["message"], message, "body: {}", reply.body);
}

fn id_of(body: &Value) -> String {
    body["id"].as_str().expect("id").to_owned()
}

async fn new_product(app: &TestApp, key: &str) -> String {
    let body = json!({ "name": "Ledger", "description": "Bookkeeping for small firms" });
    id_of(app.post(key, "/v1/products", body).await.expect(201))
}

async fn new_prompt(app: &TestApp, key: &str) -> String {
    let body = json!({ "name": "Outreach", "type": "Messages", "model": GPT_41 });
    id_of(app.post(key, "/v1/prompts", body).await.expect(201))
}

async fn new_agent(app: &TestApp, key: &str) -> String {
    id_of(app.post_empty(key, "/v1/agents").await.expect(201))
}

/// A product, a prompt without custom variables and an agent of the team of `key`.
async fn refs(app: &TestApp, key: &str) -> Refs {
    Refs {
        product: new_product(app, key).await,
        prompt: new_prompt(app, key).await,
        agent: new_agent(app, key).await,
    }
}

/// A prompt using the custom variables `goal` and `painPoint`.
async fn prompt_with_variables(app: &TestApp, key: &str) -> String {
    let id = new_prompt(app, key).await;
    let sections = json!({
        "context": CONTEXT_WITH_VARIABLES,
        "firstMessage": FIRST_MESSAGE_WITH_VARIABLES,
    });
    app.put(key, &format!("/v1/prompts/{id}"), sections)
        .await
        .expect(200);
    id
}

fn create_body(refs: &Refs, name: &str) -> Value {
    json!({
        "name": name,
        "productId": refs.product,
        "promptId": refs.prompt,
        "agentId": refs.agent,
    })
}

/// Creates a campaign with the defaults and returns its id.
async fn create(app: &TestApp, key: &str, refs: &Refs, name: &str) -> String {
    let reply = app
        .post(key, "/v1/campaigns", create_body(refs, name))
        .await;
    let body = reply.expect(201);
    assert_eq!(
        keys(body),
        ["id", "name", "preventAutoStart", "reviewMode", "status"],
        "{body}"
    );
    id_of(body)
}

async fn list(app: &TestApp, key: &str, query: &str) -> Vec<Value> {
    app.get(key, &format!("/v1/campaigns{query}"))
        .await
        .expect(200)
        .as_array()
        .expect("a bare array")
        .clone()
}

fn ids(items: &[Value]) -> Vec<String> {
    items.iter().map(id_of).collect()
}

async fn stats(app: &TestApp, key: &str, id: &str) -> Value {
    app.get(key, &format!("/v1/campaigns/{id}/stats"))
        .await
        .expect(200)
        .clone()
}

async fn status(app: &TestApp, id: &str) -> String {
    stats(app, app.key(), id).await["status"]
        .as_str()
        .expect("status")
        .to_owned()
}

async fn pause(app: &TestApp, key: &str, id: &str) {
    let reply = app
        .post_empty(key, &format!("/v1/campaigns/{id}/pause"))
        .await;
    assert_eq!(
        reply.expect(200),
        &json!({ "id": id, "message": "Campaign paused successfully" })
    );
}

async fn resume(app: &TestApp, key: &str, id: &str) {
    let reply = app
        .post_empty(key, &format!("/v1/campaigns/{id}/resume"))
        .await;
    assert_eq!(
        reply.expect(200),
        &json!({ "id": id, "message": "Campaign resumed successfully" })
    );
}

fn person(slug: &str) -> NewConversation {
    let url = normalize_linkedin_url(&format!("https://www.linkedin.com/in/{slug}/"))
        .expect("a profile URL");
    NewConversation {
        name: format!("Person {slug}"),
        slug: slug_of(&url).expect("a slug"),
        url,
        custom_data: String::new(),
        ongoing: false,
        list_id: None,
    }
}

/// Puts the person `slug` into a campaign of the first team; returns (prospect id, chat id).
async fn converse(app: &TestApp, campaign: &str, slug: &str) -> (String, String) {
    let added = app
        .store
        .add_to_campaign(&app.team.team_id, campaign, person(slug), now_millis())
        .await
        .expect("add to campaign");
    match added {
        Added::Created {
            prospect_id,
            chat_id,
        } => (prospect_id, chat_id),
        Added::Existing { .. } => panic!("{slug} was already in {campaign}"),
    }
}

async fn message(app: &TestApp, chat: &str, role: Role) {
    app.store
        .append_message(&app.team.team_id, chat, role, "Hello", now_millis())
        .await
        .expect("append message");
}

async fn judge(app: &TestApp, chat: &str, verdict: Verdict) {
    let changed = app
        .store
        .judge_chat(&app.team.team_id, chat, verdict, now_millis())
        .await
        .expect("judge chat");
    assert!(changed);
}

/// The deliveries of a webhook of the first team.
async fn deliveries(app: &TestApp, webhook: &str) -> Vec<Value> {
    let path = format!("/v1/webhooks/{webhook}/deliveries?limit=100");
    app.get(app.key(), &path).await.expect(200)["deliveries"]
        .as_array()
        .expect("deliveries")
        .clone()
}

fn counters(prospects: i64, answers: i64, messages: i64, qualified: i64, closed: i64) -> Value {
    json!({
        "prospects": prospects,
        "prospectsAnswers": answers,
        "messages": messages,
        "qualified": qualified,
        "closed": closed,
    })
}

both_backends!(
    async fn campaigns_are_created_and_listed_newest_first(app) {
        assert_eq!(list(&app, app.key(), "").await, Vec::<Value>::new());
        let refs = refs(&app, app.key()).await;
        let reply = app
            .post(app.key(), "/v1/campaigns", create_body(&refs, "  Fintech CFOs - Q3  "))
            .await;
        let created = reply.expect(201).clone();
        let first = id_of(&created);
        assert_eq!(first.len(), 20, "{first}");
        assert_eq!(
            created,
            json!({ "id": first, "name": "Fintech CFOs - Q3", "status": "active",
                    "preventAutoStart": false, "reviewMode": "off" })
        );
        let mut body = create_body(&refs, "Held back");
        body["preventAutoStart"] = json!(true);
        body["qualificationAutomatic"] = json!(0);
        body["qualificationVerification"] = json!(100);
        let held = app.post(app.key(), "/v1/campaigns", body).await.expect(201).clone();
        let second = id_of(&held);
        assert_eq!(
            held,
            json!({ "id": second, "name": "Held back", "status": "paused",
                    "preventAutoStart": true, "reviewMode": "off" })
        );

        let items = list(&app, app.key(), "").await;
        assert_eq!(ids(&items), [second.clone(), first.clone()]);
        let item = &items[1];
        assert_eq!(
            keys(item),
            ["agent", "createdAt", "id", "name", "product", "reviewMode", "stats", "status"],
            "{item}"
        );
        assert_eq!(item["name"], "Fintech CFOs - Q3");
        assert_eq!(item["status"], "active");
        assert_eq!(item["agent"], refs.agent.as_str());
        assert_eq!(item["product"], refs.product.as_str());
        assert_eq!(item["stats"], counters(0, 0, 0, 0, 0));
        let created_at = timestamp(&item["createdAt"]);
        assert!((chrono::Utc::now() - created_at.to_utc()).num_seconds().abs() < 60);
        assert_eq!(items[0]["status"], "paused");

        // Stored as sent, with the documented defaults.
        let stored = app.store.get_campaign(&app.team.team_id, &first).await.expect("stored");
        assert_eq!(stored.prompt_id, refs.prompt);
        assert_eq!(
            (stored.qualification_automatic, stored.qualification_verification),
            (70, 50)
        );
        assert!(stored.variables.is_empty());
        assert!(!stored.prevent_auto_start);
        let stored = app.store.get_campaign(&app.team.team_id, &second).await.expect("stored");
        assert_eq!(
            (stored.qualification_automatic, stored.qualification_verification),
            (0, 100)
        );
        assert!(stored.prevent_auto_start);
    }
);

both_backends!(
    async fn creation_refuses_bad_input_and_writes_nothing(app) {
        let refs = refs(&app, app.key()).await;
        let with = |field: &str, value: Value| {
            let mut body = create_body(&refs, "Valid name");
            body[field] = value;
            body
        };
        let cases = [
            (json!({}), "name"),
            (with("name", json!("ab")), "name"),
            (with("name", json!("   ab   ")), "name"),
            (with("name", json!("x".repeat(101))), "name"),
            (with("name", json!(42)), "name"),
            (with("name", Value::Null), "name"),
            (with("productId", json!("")), "productId"),
            (with("promptId", json!(7)), "promptId"),
            (with("agentId", json!("   ")), "agentId"),
            (with("qualificationAutomatic", json!(-1)), "qualificationAutomatic"),
            (with("qualificationAutomatic", json!(101)), "qualificationAutomatic"),
            (with("qualificationAutomatic", json!(70.5)), "qualificationAutomatic"),
            (with("qualificationVerification", json!("50")), "qualificationVerification"),
            (with("qualificationVerification", json!(1e30)), "qualificationVerification"),
            (with("variables", json!(["goal"])), "variables"),
            (with("variables", json!({ "goal": 1 })), "variables.goal"),
            (with("variables", json!({ "goal": null })), "variables.goal"),
            (with("variables", json!({ "": "empty name" })), "variables"),
            (with("variables", json!({ ("k".repeat(65)): "long name" })), "variables"),
            (with("variables", json!({ "goal": "v".repeat(1001) })), "variables"),
            (
                with(
                    "variables",
                    Value::Object((0..51).map(|i| (format!("v{i}"), json!("x"))).collect()),
                ),
                "variables",
            ),
            (with("preventAutoStart", json!("yes")), "preventAutoStart"),
        ];
        for (body, field) in cases {
            let reply = app.post(app.key(), "/v1/campaigns", body.clone()).await;
            assert_invalid(&reply, field);
        }
        let huge = format!(
            r#"{{"name":"Valid name","productId":"{}","promptId":"{}","agentId":"{}","qualificationAutomatic":99999999999999999999999}}"#,
            refs.product, refs.prompt, refs.agent
        );
        let reply = app
            .send_raw(reqwest::Method::POST, "/v1/campaigns", app.key(), huge)
            .await;
        assert_invalid(&reply, "qualificationAutomatic");
        let reply = app
            .send_raw(reqwest::Method::POST, "/v1/campaigns", app.key(), "{\"name\": ")
            .await;
        reply.expect_error(400, "validation_error");
        assert_eq!(list(&app, app.key(), "").await, Vec::<Value>::new());

        // The bounds themselves are accepted, with a 100-character name.
        let mut body = create_body(&refs, &"x".repeat(100));
        body["qualificationAutomatic"] = json!(100);
        body["qualificationVerification"] = json!(0);
        body["variables"] = json!({ ("k".repeat(64)): "v".repeat(1000) });
        body["unknownField"] = json!("ignored");
        app.post(app.key(), "/v1/campaigns", body).await.expect(201);
    }
);

both_backends!(
    async fn references_must_exist_in_the_same_team(app) {
        let refs = refs(&app, app.key()).await;
        let other = app.new_team(Plan::Unlimited).await;
        let theirs = self::refs(&app, &other.key).await;
        let cases = [
            ("productId", "nope", "Product not found"),
            ("productId", theirs.product.as_str(), "Product not found"),
            ("promptId", "nope", "Prompt not found"),
            ("promptId", theirs.prompt.as_str(), "Prompt not found"),
            ("agentId", "nope", "Agent not found"),
            ("agentId", theirs.agent.as_str(), "Agent not found"),
        ];
        for (field, id, message) in cases {
            let mut body = create_body(&refs, "Cross-team");
            body[field] = json!(id);
            let reply = app.post(app.key(), "/v1/campaigns", body).await;
            assert_not_found(&reply, message);
        }
        assert_eq!(list(&app, app.key(), "").await, Vec::<Value>::new());
        assert_eq!(list(&app, &other.key, "").await, Vec::<Value>::new());
    }
);

both_backends!(
    async fn custom_prompt_variables_must_be_defined(app) {
        let refs = refs(&app, app.key()).await;
        let prompt = prompt_with_variables(&app, app.key()).await;
        let mut body = create_body(&refs, "Variables");
        body["promptId"] = json!(prompt);
        let reply = app.post(app.key(), "/v1/campaigns", body.clone()).await;
        assert_invalid(&reply, "variables");
        let message = reply.body["details"][0]["message"].as_str().expect("message");
        assert!(message.contains("{{goal}}") && message.contains("{{painPoint}}"), "{message}");
        assert!(!message.contains("prospectName"), "{message}");

        body["variables"] = json!({ "goal": "a demo" });
        let reply = app.post(app.key(), "/v1/campaigns", body.clone()).await;
        assert_invalid(&reply, "variables");
        let message = reply.body["details"][0]["message"].as_str().expect("message");
        assert!(message.contains("{{painPoint}}") && !message.contains("{{goal}}"), "{message}");
        assert_eq!(list(&app, app.key(), "").await, Vec::<Value>::new());

        body["variables"] = json!({ "goal": "a demo", "painPoint": "", "extra": "unused" });
        let id = id_of(app.post(app.key(), "/v1/campaigns", body).await.expect(201));
        let stored = app.store.get_campaign(&app.team.team_id, &id).await.expect("stored");
        let expected: BTreeMap<String, String> = [("goal", "a demo"), ("painPoint", ""), ("extra", "unused")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        assert_eq!(stored.variables, expected);

        // PUT replaces the map and is held to the same rule.
        let path = format!("/v1/campaigns/{id}");
        let reply = app.put(app.key(), &path, json!({ "variables": { "goal": "x" } })).await;
        assert_invalid(&reply, "variables");
        let stored = app.store.get_campaign(&app.team.team_id, &id).await.expect("stored");
        assert_eq!(stored.variables, expected);
        let reply = app
            .put(app.key(), &path, json!({ "variables": { "goal": "x", "painPoint": "y" } }))
            .await;
        reply.expect(200);
        let stored = app.store.get_campaign(&app.team.team_id, &id).await.expect("stored");
        assert_eq!(stored.variables.len(), 2);
        assert_eq!(stored.variables["goal"], "x");
        assert_eq!(stored.variables["painPoint"], "y");
    }
);

both_backends!(
    async fn the_plan_limits_campaigns(app) {
        let pioneer = app.new_team(Plan::Pioneer).await;
        let refs = refs(&app, &pioneer.key).await;
        let mut created = Vec::new();
        for n in 1..=3 {
            created.push(create(&app, &pioneer.key, &refs, &format!("Campaign {n}")).await);
        }
        let reply = app
            .post(&pioneer.key, "/v1/campaigns", create_body(&refs, "Campaign 4"))
            .await;
        reply.expect_error(403, "plan_limit_reached");
        assert_eq!(list(&app, &pioneer.key, "").await.len(), 3);

        // Deleting one frees its place.
        pause(&app, &pioneer.key, &created[0]).await;
        app.delete(&pioneer.key, &format!("/v1/campaigns/{}", created[0]))
            .await
            .expect(200);
        create(&app, &pioneer.key, &refs, "Campaign 4").await;
        assert_eq!(list(&app, &pioneer.key, "").await.len(), 3);
    }
);

both_backends!(
    async fn the_list_pages_with_limit_offset_and_after(app) {
        let refs = refs(&app, app.key()).await;
        let mut created = Vec::new();
        for n in 1..=5 {
            created.push(create(&app, app.key(), &refs, &format!("Campaign {n}")).await);
        }
        let newest_first: Vec<String> = created.iter().rev().cloned().collect();
        assert_eq!(ids(&list(&app, app.key(), "").await), newest_first);
        let cases = [
            ("?limit=2".to_owned(), &newest_first[..2]),
            ("?limit=100".to_owned(), &newest_first[..]),
            ("?limit=2&offset=2".to_owned(), &newest_first[2..4]),
            ("?offset=3".to_owned(), &newest_first[3..]),
            ("?offset=99".to_owned(), &newest_first[..0]),
            (format!("?after={}", newest_first[1]), &newest_first[2..]),
            (format!("?after={}&limit=1", newest_first[1]), &newest_first[2..3]),
            (
                format!("?after={}&offset=1&limit=1", newest_first[1]),
                &newest_first[3..4],
            ),
            (format!("?after={}", newest_first[4]), &newest_first[..0]),
            ("?after=".to_owned(), &newest_first[..]),
        ];
        for (query, expected) in cases {
            assert_eq!(ids(&list(&app, app.key(), &query).await), expected, "{query}");
        }
        // Walking with `after` visits every campaign once.
        let mut walked = Vec::new();
        let mut query = "?limit=2".to_owned();
        loop {
            let page = ids(&list(&app, app.key(), &query).await);
            let Some(last) = page.last().cloned() else { break };
            walked.extend(page);
            query = format!("?limit=2&after={last}");
        }
        assert_eq!(walked, newest_first);

        let other = app.new_team(Plan::Unlimited).await;
        let theirs = create(&app, &other.key, &self::refs(&app, &other.key).await, "Theirs").await;
        let bad = [
            ("?limit=0", "limit"),
            ("?limit=101", "limit"),
            ("?limit=-1", "limit"),
            ("?limit=abc", "limit"),
            ("?limit=99999999999999999999999", "limit"),
            ("?offset=-1", "offset"),
            ("?offset=1.5", "offset"),
            ("?after=unknown", "after"),
        ];
        for (query, field) in bad {
            let reply = app.get(app.key(), &format!("/v1/campaigns{query}")).await;
            assert_invalid(&reply, field);
        }
        // Another team's id is no cursor either, and their campaign is not listed.
        let reply = app.get(app.key(), &format!("/v1/campaigns?after={theirs}")).await;
        assert_invalid(&reply, "after");
        assert!(!ids(&list(&app, app.key(), "").await).contains(&theirs));
        assert_eq!(ids(&list(&app, &other.key, "").await), [theirs]);
    }
);

both_backends!(
    async fn updates_change_name_and_thresholds(app) {
        let refs = refs(&app, app.key()).await;
        let id = create(&app, app.key(), &refs, "Before").await;
        let path = format!("/v1/campaigns/{id}");
        let reply = app
            .put(
                app.key(),
                &path,
                json!({ "name": "  After  ", "qualificationAutomatic": 90,
                        "qualificationVerification": 10 }),
            )
            .await;
        assert_eq!(
            reply.expect(200),
            &json!({ "id": id, "message": "Campaign updated successfully" })
        );
        let stored = app.store.get_campaign(&app.team.team_id, &id).await.expect("stored");
        assert_eq!(stored.name, "After");
        assert_eq!(
            (stored.qualification_automatic, stored.qualification_verification),
            (90, 10)
        );
        // A partial update keeps the rest.
        app.put(app.key(), &path, json!({ "qualificationVerification": 20 }))
            .await
            .expect(200);
        let stored = app.store.get_campaign(&app.team.team_id, &id).await.expect("stored");
        assert_eq!(
            (stored.name.as_str(), stored.qualification_automatic, stored.qualification_verification),
            ("After", 90, 20)
        );

        let bad = [
            (json!({}), "body"),
            (json!({ "name": "ab" }), "name"),
            (json!({ "name": null }), "body"),
            (json!({ "qualificationAutomatic": 101 }), "qualificationAutomatic"),
            (json!({ "qualificationVerification": -5 }), "qualificationVerification"),
            (json!({ "qualificationVerification": true }), "qualificationVerification"),
            (json!({ "variables": { "goal": 5 } }), "variables.goal"),
            (json!({ "variables": "goal" }), "variables"),
        ];
        for (body, field) in bad {
            let reply = app.put(app.key(), &path, body.clone()).await;
            assert_invalid(&reply, field);
        }
        let unchanged = app.store.get_campaign(&app.team.team_id, &id).await.expect("stored");
        assert_eq!(unchanged, stored);

        let reply = app.put(app.key(), "/v1/campaigns/unknown", json!({ "name": "Valid" })).await;
        assert_not_found(&reply, "Campaign not found");
        let other = app.new_team(Plan::Unlimited).await;
        for body in [json!({ "name": "Hijacked" }), json!({ "variables": {} })] {
            let reply = app.put(&other.key, &path, body).await;
            assert_not_found(&reply, "Campaign not found");
        }
        let unchanged = app.store.get_campaign(&app.team.team_id, &id).await.expect("stored");
        assert_eq!(unchanged, stored);
    }
);

both_backends!(
    async fn pause_and_resume_are_idempotent(app) {
        let refs = refs(&app, app.key()).await;
        let id = create(&app, app.key(), &refs, "Toggle").await;
        pause(&app, app.key(), &id).await;
        assert_eq!(status(&app, &id).await, "paused");
        pause(&app, app.key(), &id).await;
        assert_eq!(status(&app, &id).await, "paused");
        resume(&app, app.key(), &id).await;
        assert_eq!(status(&app, &id).await, "active");
        resume(&app, app.key(), &id).await;
        assert_eq!(status(&app, &id).await, "active");

        // Resume clears preventAutoStart for good.
        let mut body = create_body(&refs, "Held back");
        body["preventAutoStart"] = json!(true);
        let held = id_of(app.post(app.key(), "/v1/campaigns", body).await.expect(201));
        assert_eq!(status(&app, &held).await, "paused");
        resume(&app, app.key(), &held).await;
        let stored = app.store.get_campaign(&app.team.team_id, &held).await.expect("stored");
        assert_eq!(stored.status.as_str(), "active");
        assert!(!stored.prevent_auto_start);
        pause(&app, app.key(), &held).await;
        let stored = app.store.get_campaign(&app.team.team_id, &held).await.expect("stored");
        assert!(!stored.prevent_auto_start);

        // A completed campaign runs again when resumed.
        app.store.complete_campaign(&app.team.team_id, &id).await.expect("complete");
        let stored = app.store.get_campaign(&app.team.team_id, &id).await.expect("stored");
        assert_eq!(stored.status.as_str(), "completed");
        assert!(stored.completed_at.is_some());
        assert_eq!(status(&app, &id).await, "completed");
        resume(&app, app.key(), &id).await;
        let stored = app.store.get_campaign(&app.team.team_id, &id).await.expect("stored");
        assert_eq!(stored.status.as_str(), "active");
        assert_eq!(stored.completed_at, None);

        let other = app.new_team(Plan::Unlimited).await;
        for action in ["pause", "resume"] {
            let reply = app.post_empty(app.key(), &format!("/v1/campaigns/unknown/{action}")).await;
            assert_not_found(&reply, "Campaign not found");
            let reply = app.post_empty(&other.key, &format!("/v1/campaigns/{id}/{action}")).await;
            assert_not_found(&reply, "Campaign not found");
        }
        // A body is ignored.
        let reply = app
            .post(app.key(), &format!("/v1/campaigns/{id}/pause"), json!({ "status": "active" }))
            .await;
        reply.expect(200);
        assert_eq!(status(&app, &id).await, "paused");
    }
);

both_backends!(
    async fn stats_follow_the_conversations(app) {
        let refs = refs(&app, app.key()).await;
        let id = create(&app, app.key(), &refs, "Counted").await;
        let empty = stats(&app, app.key(), &id).await;
        assert_eq!(
            empty,
            json!({ "id": id, "name": "Counted", "status": "active",
                    "stats": { "prospects": 0, "prospectsAnswers": 0, "messages": 0,
                               "qualified": 0, "closed": 0,
                               "conversionRate": "0.00%", "responseRate": "0.00%" } })
        );

        // a: two agent messages and an answer, then qualified.
        let (_, a) = converse(&app, &id, "ada").await;
        message(&app, &a, Role::Assistant).await;
        message(&app, &a, Role::User).await;
        message(&app, &a, Role::Assistant).await;
        judge(&app, &a, Verdict::Qualified).await;
        // b: one agent message, then unqualified (closed).
        let (_, b) = converse(&app, &id, "bob").await;
        message(&app, &b, Role::Assistant).await;
        judge(&app, &b, Verdict::Unqualified).await;
        // c: an answer before any message of ours (an ongoing conversation).
        let (_, c) = converse(&app, &id, "cyd").await;
        message(&app, &c, Role::User).await;
        message(&app, &c, Role::User).await;
        // d: nothing yet.
        converse(&app, &id, "dee").await;

        // 4 prospects, 2 answered, 3 agent messages, 1 qualified, 1 closed.
        let expected = counters(4, 2, 3, 1, 1);
        let items = list(&app, app.key(), "").await;
        assert_eq!(items[0]["stats"], expected);
        let body = stats(&app, app.key(), &id).await;
        assert_eq!(keys(&body), ["id", "name", "stats", "status"]);
        let mut with_rates = expected.clone();
        with_rates["conversionRate"] = json!("25.00%");
        with_rates["responseRate"] = json!("50.00%");
        assert_eq!(body["stats"], with_rates);

        // Rates keep two decimals: 1 qualified and 2 answers out of 3.
        let other = create(&app, app.key(), &refs, "Thirds").await;
        let (_, x) = converse(&app, &other, "xia").await;
        judge(&app, &x, Verdict::Qualified).await;
        message(&app, &x, Role::User).await;
        let (_, y) = converse(&app, &other, "yan").await;
        message(&app, &y, Role::User).await;
        converse(&app, &other, "zed").await;
        let body = stats(&app, app.key(), &other).await;
        assert_eq!(body["stats"]["conversionRate"], "33.33%");
        assert_eq!(body["stats"]["responseRate"], "66.67%");
        assert_eq!(body["stats"]["prospects"], 3);

        let stranger = app.new_team(Plan::Unlimited).await;
        let reply = app.get(&stranger.key, &format!("/v1/campaigns/{id}/stats")).await;
        assert_not_found(&reply, "Campaign not found");
        let reply = app.get(app.key(), "/v1/campaigns/unknown/stats").await;
        assert_not_found(&reply, "Campaign not found");
        assert_eq!(list(&app, &stranger.key, "").await, Vec::<Value>::new());
    }
);

both_backends!(
    async fn deletion_cascades_with_real_counts(app) {
        let refs = refs(&app, app.key()).await;
        let doomed = create(&app, app.key(), &refs, "Doomed").await;
        let kept = create(&app, app.key(), &refs, "Kept").await;
        // ann is in both campaigns; ben and cat only in the doomed one.
        let (ann, ann_doomed) = converse(&app, &doomed, "ann").await;
        let (ben, ben_doomed) = converse(&app, &doomed, "ben").await;
        let (_, cat_doomed) = converse(&app, &doomed, "cat").await;
        let (ann_again, ann_kept) = converse(&app, &kept, "ann").await;
        assert_eq!(ann, ann_again);
        message(&app, &ann_doomed, Role::Assistant).await;
        message(&app, &ann_doomed, Role::User).await;
        message(&app, &ben_doomed, Role::Assistant).await;
        message(&app, &ann_kept, Role::Assistant).await;
        judge(&app, &ben_doomed, Verdict::Qualified).await;
        judge(&app, &cat_doomed, Verdict::Unqualified).await;
        judge(&app, &ann_kept, Verdict::Qualified).await;
        let kept_before = stats(&app, app.key(), &kept).await;
        // Each verdict event is fanned out to a webhook: 3 deliveries.
        let webhook = app
            .post(
                app.key(),
                "/v1/webhooks",
                json!({ "name": "All", "url": "https://example.com/hook", "events": ["*"] }),
            )
            .await;
        let webhook = id_of(webhook.expect(201));
        while app.store.fan_out_events(100).await.expect("fan out") > 0 {}
        assert_eq!(deliveries(&app, &webhook).await.len(), 3);

        // Not while active, and never for another team.
        let path = format!("/v1/campaigns/{doomed}");
        let reply = app.delete(app.key(), &path).await;
        reply.expect_error(409, "campaign_active");
        assert_eq!(
            reply.body["message"],
            "Cannot delete active campaign. Please pause the campaign first."
        );
        pause(&app, app.key(), &doomed).await;
        let other = app.new_team(Plan::Unlimited).await;
        assert_not_found(&app.delete(&other.key, &path).await, "Campaign not found");
        assert_eq!(stats(&app, app.key(), &doomed).await["stats"]["prospects"], 3);

        let reply = app.delete(app.key(), &path).await;
        let body = reply.expect(200);
        assert_eq!(keys(body), ["deletionSummary", "message"]);
        assert_eq!(body["message"], "Campaign deleted successfully");
        let summary = &body["deletionSummary"];
        assert_eq!(
            keys(summary),
            ["campaignId", "campaignName", "deletedAt", "deletedItems"]
        );
        assert_eq!(summary["campaignId"], doomed.as_str());
        assert_eq!(summary["campaignName"], "Doomed");
        // 2 prospects (ann stays), 3 chats, 3 messages, no tasks, 2 verdict events.
        assert_eq!(
            summary["deletedItems"],
            json!({ "prospects": 2, "chats": 3, "messages": 3, "tasks": 0, "webhookEvents": 2 })
        );
        let deleted_at = timestamp(&summary["deletedAt"]);
        assert!((chrono::Utc::now() - deleted_at.to_utc()).num_seconds().abs() < 60);

        // Gone: the campaign, its chats and its messages.
        assert_not_found(&app.delete(app.key(), &path).await, "Campaign not found");
        let reply = app.get(app.key(), &format!("/v1/campaigns/{doomed}/stats")).await;
        assert_not_found(&reply, "Campaign not found");
        assert_eq!(ids(&list(&app, app.key(), "").await), [kept.as_str()]);
        let added = app
            .store
            .add_to_campaign(&app.team.team_id, &doomed, person("dan"), now_millis())
            .await;
        assert!(matches!(added, Err(StoreError::NotFound)), "{added:?}");
        for chat in [&ann_doomed, &ben_doomed, &cat_doomed] {
            let found = app.store.get_chat(&app.team.team_id, chat).await;
            assert!(matches!(found, Err(StoreError::NotFound)), "{chat}");
        }

        // The deliveries of the deleted events went with them (their bodies name the prospects).
        assert_eq!(deliveries(&app, &webhook).await.len(), 1);

        // The shared prospect and the other campaign are untouched; ben is a new person now.
        assert_eq!(stats(&app, app.key(), &kept).await, kept_before);
        let kept_chat = app.store.get_chat(&app.team.team_id, &ann_kept).await.expect("kept");
        assert_eq!(kept_chat.messages.len(), 1);
        let again = app
            .store
            .add_to_campaign(&app.team.team_id, &kept, person("ann"), now_millis())
            .await
            .expect("add");
        assert_eq!(
            again,
            Added::Existing { prospect_id: ann.clone(), chat_id: ann_kept.clone() }
        );
        let (ben_new, _) = converse(&app, &kept, "ben").await;
        assert_ne!(ben_new, ben);
    }
);

both_backends!(
    async fn completed_and_empty_campaigns_can_be_deleted(app) {
        let refs = refs(&app, app.key()).await;
        let id = create(&app, app.key(), &refs, "Finished").await;
        app.store.complete_campaign(&app.team.team_id, &id).await.expect("complete");
        let reply = app.delete(app.key(), &format!("/v1/campaigns/{id}")).await;
        let summary = &reply.expect(200)["deletionSummary"];
        assert_eq!(
            summary["deletedItems"],
            json!({ "prospects": 0, "chats": 0, "messages": 0, "tasks": 0, "webhookEvents": 0 })
        );
        assert_eq!(list(&app, app.key(), "").await, Vec::<Value>::new());
    }
);

both_backends!(
    async fn running_imports_block_deletion_and_agents_take_their_campaigns(app) {
        let refs = refs(&app, app.key()).await;
        let first = create(&app, app.key(), &refs, "First of the agent").await;
        let second = create(&app, app.key(), &refs, "Second of the agent").await;
        let other_refs = self::refs(&app, app.key()).await;
        let elsewhere = create(&app, app.key(), &other_refs, "Another agent's").await;
        let (_, chat) = converse(&app, &first, "eve").await;
        message(&app, &chat, Role::Assistant).await;
        let (_, elsewhere_chat) = converse(&app, &elsewhere, "eve").await;

        // A queued import into the second campaign holds both deletions back.
        let reply = app
            .post(
                app.key(),
                "/v1/prospects",
                json!({ "campaignId": second, "name": "Fay", "url": "https://linkedin.com/in/fay" }),
            )
            .await;
        reply.expect(201);
        pause(&app, app.key(), &second).await;
        let reply = app.delete(app.key(), &format!("/v1/campaigns/{second}")).await;
        reply.expect_error(409, "campaign_busy");
        let agent_path = format!("/v1/agents/{}", refs.agent);
        let reply = app.delete(app.key(), &agent_path).await;
        reply.expect_error(409, "campaign_busy");
        assert_eq!(list(&app, app.key(), "").await.len(), 3);
        app.get(app.key(), &agent_path).await.expect(200);

        while app.store.process_imports(100).await.expect("process imports") > 0 {}
        assert_eq!(stats(&app, app.key(), &second).await["stats"]["prospects"], 1);

        // Another team cannot delete the agent; its owner can, campaigns and all.
        let stranger = app.new_team(Plan::Unlimited).await;
        app.delete(&stranger.key, &agent_path).await.expect_error(404, "not_found");
        app.delete(app.key(), &agent_path).await.expect(200);
        app.get(app.key(), &agent_path).await.expect_error(404, "not_found");
        assert_eq!(ids(&list(&app, app.key(), "").await), [elsewhere.as_str()]);
        for id in [&first, &second] {
            let reply = app.get(app.key(), &format!("/v1/campaigns/{id}/stats")).await;
            assert_not_found(&reply, "Campaign not found");
            let added = app
                .store
                .add_to_campaign(&app.team.team_id, id, person("gus"), now_millis())
                .await;
            assert!(matches!(added, Err(StoreError::NotFound)), "{added:?}");
        }
        let found = app.store.get_chat(&app.team.team_id, &chat).await;
        assert!(matches!(found, Err(StoreError::NotFound)));
        app.store
            .get_chat(&app.team.team_id, &elsewhere_chat)
            .await
            .expect("the other agent's conversation stays");
        assert_eq!(stats(&app, app.key(), &elsewhere).await["stats"]["prospects"], 1);
    }
);
