//! Conversations and prospect deletion: the campaign list (full shape, headers, offset and
//! cursor paging, cursor stability under concurrent inserts, filters, bad input), the details
//! with messages in order, `customData` (truncation, clearing), pause/resume, the manual
//! verdicts (one outbox event per change, campaign stats), single and bulk deletion with exact
//! counts, client-team read access and second-team invisibility.
//!
//! Campaigns, products, prompts, agents, webhooks and workspaces are made through their routes;
//! people and messages through the store (`add_to_campaign`, `append_message`), as imports and
//! the engine do.

use crate::both_backends;
use crate::common::{Reply, TestApp, assert_keys, keys, timestamp};
use outbound_core::plan::Plan;
use outbound_core::time::{iso8601, now_millis};
use outbound_store::chats::{Added, NewConversation, ProspectProfile, Role};
use reqwest::Method;
use serde_json::{Value, json};

const GPT_41: &str = "680321aa001300a6673d";
const ITEM_KEYS: &[&str] = &["id", "paused", "prospect", "qualification", "status"];
/// An item's keys once the conversation has messages.
const ITEM_KEYS_WHEN_SET: &[&str] = &["lastMessage"];
/// The person's keys; Kakiyo's schema declares the four company fields `string|null`.
const CARD_KEYS: &[&str] = &[
    "currentCompanyLinkedInUrl",
    "currentCompanyName",
    "currentCompanyWebsite",
    "currentJobTitle",
    "id",
    "name",
    "url",
];
/// The person's keys once the profile was read.
const CARD_KEYS_WHEN_SET: &[&str] = &["headline"];
const NOT_STARTED: i64 = 0;
const CONTACTED: i64 = 3;
const REPLIED: i64 = 4;
const QUALIFIED: i64 = 5;
const UNQUALIFIED: i64 = 6;

/// A campaign and the agent behind it.
pub(crate) struct Campaign {
    pub(crate) id: String,
    pub(crate) agent: String,
}

/// A person in a campaign.
pub(crate) struct Chat {
    pub(crate) prospect: String,
    pub(crate) chat: String,
}

fn id_of(reply: &Reply, status: u16) -> String {
    reply.expect(status)["id"]
        .as_str()
        .expect("an id")
        .to_owned()
}

/// A campaign of the team of `key`, with its own product, prompt and agent.
pub(crate) async fn new_campaign(app: &TestApp, key: &str, name: &str) -> Campaign {
    let product = id_of(
        &app.post(
            key,
            "/v1/products",
            json!({ "name": "Ledger suite", "description": "Accounting software for finance teams" }),
        )
        .await,
        201,
    );
    let prompt = id_of(
        &app.post(
            key,
            "/v1/prompts",
            json!({ "name": "Outreach", "type": "Messages", "model": GPT_41 }),
        )
        .await,
        201,
    );
    let agent = id_of(&app.post_empty(key, "/v1/agents").await, 201);
    let id = id_of(
        &app.post(
            key,
            "/v1/campaigns",
            json!({ "name": name, "productId": product, "promptId": prompt, "agentId": agent }),
        )
        .await,
        201,
    );
    Campaign { id, agent }
}

fn person(slug: &str) -> NewConversation {
    NewConversation {
        name: format!("Person {slug}"),
        url: format!("https://linkedin.com/in/{slug}"),
        slug: slug.to_owned(),
        custom_data: String::new(),
        ongoing: false,
        list_id: None,
    }
}

/// Puts `slug` into a campaign of `team` through the store.
pub(crate) async fn add(app: &TestApp, team: &str, campaign: &str, slug: &str) -> Chat {
    match app
        .store
        .add_to_campaign(team, campaign, person(slug), now_millis())
        .await
        .expect("add to campaign")
    {
        Added::Created {
            prospect_id,
            chat_id,
        } => Chat {
            prospect: prospect_id,
            chat: chat_id,
        },
        other => panic!("not created: {other:?}"),
    }
}

async fn message(app: &TestApp, team: &str, chat: &str, role: Role, at: i64) {
    app.store
        .append_message(team, chat, role, &format!("{} at {at}", role.as_str()), at)
        .await
        .expect("append message");
}

fn header<'a>(reply: &'a Reply, name: &str) -> &'a str {
    reply.headers[name].to_str().expect("a text header")
}

/// Asserts the chat ids of a list page, in order.
#[track_caller]
fn assert_ids(body: &Value, expected: &[&String]) {
    let expected: Vec<&str> = expected.iter().map(|id| id.as_str()).collect();
    assert_eq!(chat_ids(body), expected, "{body}");
}

fn chat_ids(body: &Value) -> Vec<String> {
    body.as_array()
        .expect("a bare array")
        .iter()
        .map(|item| item["id"].as_str().expect("id").to_owned())
        .collect()
}

async fn list(app: &TestApp, key: &str, campaign: &str, query: &str) -> Reply {
    app.get(key, &format!("/v1/prospects/campaign/{campaign}{query}"))
        .await
}

async fn details(app: &TestApp, key: &str, chat: &str) -> Value {
    app.get(key, &format!("/v1/prospects/{chat}"))
        .await
        .expect(200)
        .clone()
}

/// The `stats` of a campaign of the first team, as `GET /v1/campaigns` lists it.
async fn campaign_stats(app: &TestApp, campaign: &str) -> Value {
    let reply = app.get(app.key(), "/v1/campaigns").await;
    reply
        .expect(200)
        .as_array()
        .expect("a bare array")
        .iter()
        .find(|c| c["id"] == campaign)
        .unwrap_or_else(|| panic!("campaign {campaign} is not listed"))["stats"]
        .clone()
}

async fn bulk_delete(app: &TestApp, key: &str, body: Option<Value>) -> Reply {
    app.send(Method::DELETE, "/v1/prospects", Some(key), body)
        .await
}

/// The bodies of the deliveries queued since the last call (each is leased once, so a later
/// call returns only newer ones), after fanning out the outbox.
async fn delivered_events(app: &TestApp, webhook: &str) -> Vec<Value> {
    app.store.fan_out_events(100).await.expect("fan out");
    let now = now_millis();
    let claimed = app
        .store
        .claim_deliveries(now, now + 60_000, 100)
        .await
        .expect("claim");
    assert!(claimed.iter().all(|d| d.webhook_id == webhook));
    let mut bodies: Vec<(String, Value)> = claimed
        .into_iter()
        .map(|d| (d.id, serde_json::from_str(&d.body).expect("a JSON body")))
        .collect();
    bodies.sort_by(|a, b| a.0.cmp(&b.0));
    bodies.into_iter().map(|(_, body)| body).collect()
}

async fn subscribe_everything(app: &TestApp) -> String {
    id_of(
        &app.post(
            app.key(),
            "/v1/webhooks",
            json!({ "name": "All", "url": "https://example.com/hooks/all", "events": ["*"] }),
        )
        .await,
        201,
    )
}

both_backends!(
    async fn the_campaign_list_has_the_full_shape_and_the_headers(app) {
        let team = app.team.team_id.clone();
        let campaign = new_campaign(&app, app.key(), "Fintech CFOs").await;
        let ana = add(&app, &team, &campaign.id, "anaruiz").await;
        let ben = add(&app, &team, &campaign.id, "benkim").await;
        let cy = add(&app, &team, &campaign.id, "cyrusdoe").await;
        let profile = ProspectProfile {
            headline: Some("CFO at Ledgerly".to_owned()),
            about: Some("Finance leader".to_owned()),
            city: Some("Madrid".to_owned()),
            country: Some("Spain".to_owned()),
            email: None,
            current_company_name: Some("Ledgerly".to_owned()),
            current_job_title: Some("CFO".to_owned()),
            current_company_website: Some("https://ledgerly.example".to_owned()),
            current_company_linkedin_url: Some("https://linkedin.com/company/ledgerly".to_owned()),
            provider_id: None,
        };
        app.store
            .set_prospect_profile(&team, &ana.prospect, &profile, now_millis())
            .await
            .expect("profile");
        let sent_at = 1_777_716_840_000;
        message(&app, &team, &ana.chat, Role::Assistant, sent_at).await;

        let reply = list(&app, app.key(), &campaign.id, "").await;
        let body = reply.expect(200);
        assert_ids(body, &[&cy.chat, &ben.chat, &ana.chat]);
        assert_eq!(header(&reply, "x-limit"), "25");
        assert_eq!(header(&reply, "x-offset"), "0");
        assert_eq!(header(&reply, "x-has-more"), "false");
        assert_eq!(header(&reply, "x-next-cursor"), "");
        let items = body.as_array().expect("array");
        for item in items {
            assert_keys(item, ITEM_KEYS, ITEM_KEYS_WHEN_SET);
            assert_keys(&item["prospect"], CARD_KEYS, CARD_KEYS_WHEN_SET);
        }
        assert_eq!(
            items[2],
            json!({
                "id": ana.chat, "status": CONTACTED, "qualification": "inProgress",
                "paused": false, "lastMessage": iso8601(sent_at),
                "prospect": {
                    "id": ana.prospect, "name": "Person anaruiz",
                    "url": "https://linkedin.com/in/anaruiz", "headline": "CFO at Ledgerly",
                    "currentCompanyName": "Ledgerly", "currentJobTitle": "CFO",
                    "currentCompanyWebsite": "https://ledgerly.example",
                    "currentCompanyLinkedInUrl": "https://linkedin.com/company/ledgerly"
                }
            })
        );
        assert_eq!(items[0]["status"], NOT_STARTED);
        assert!(items[0]["lastMessage"].is_null(), "{}", items[0]);
        assert!(items[0]["prospect"]["headline"].is_null(), "{}", items[0]);

        // Offset paging.
        let first = list(&app, app.key(), &campaign.id, "?limit=2").await;
        assert_ids(first.expect(200), &[&cy.chat, &ben.chat]);
        assert_eq!(header(&first, "x-limit"), "2");
        assert_eq!(header(&first, "x-has-more"), "true");
        assert!(!header(&first, "x-next-cursor").is_empty());
        let second = list(&app, app.key(), &campaign.id, "?limit=2&offset=2").await;
        assert_ids(second.expect(200), &[&ana.chat]);
        assert_eq!(header(&second, "x-offset"), "2");
        assert_eq!(header(&second, "x-has-more"), "false");
        assert_eq!(header(&second, "x-next-cursor"), "");
        let beyond = list(&app, app.key(), &campaign.id, "?offset=50").await;
        assert_eq!(beyond.expect(200), &json!([]));
        let exact = list(&app, app.key(), &campaign.id, "?limit=3").await;
        assert_eq!(chat_ids(exact.expect(200)).len(), 3);
        assert_eq!(header(&exact, "x-has-more"), "false");

        // An empty campaign is an empty page; unknown and foreign campaigns are 404.
        let empty = new_campaign(&app, app.key(), "Empty campaign").await;
        assert_eq!(list(&app, app.key(), &empty.id, "").await.expect(200), &json!([]));
        list(&app, app.key(), "nope", "").await.expect_error(404, "not_found");
        let other = app.new_team(Plan::Unlimited).await;
        list(&app, &other.key, &campaign.id, "").await.expect_error(404, "not_found");
        let theirs = new_campaign(&app, &other.key, "Their campaign").await;
        add(&app, &other.team_id, &theirs.id, "anaruiz").await;
        list(&app, app.key(), &theirs.id, "").await.expect_error(404, "not_found");
        let their_list = list(&app, &other.key, &theirs.id, "").await;
        let their_items = their_list.expect(200).as_array().expect("array").clone();
        assert_eq!(their_items.len(), 1);
        assert_ne!(their_items[0]["prospect"]["id"], ana.prospect.as_str(), "prospects are per team");
        assert!(their_items[0]["prospect"]["headline"].is_null());
    }
);

both_backends!(
    async fn cursor_pages_return_every_row_exactly_once_under_concurrent_inserts(app) {
        let team = app.team.team_id.clone();
        let campaign = new_campaign(&app, app.key(), "Big campaign").await;
        let mut existing = Vec::new();
        for i in 0..8 {
            existing.push(add(&app, &team, &campaign.id, &format!("early{i}")).await.chat);
        }
        existing.reverse();

        let mut seen: Vec<String> = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let query = match &cursor {
                // The offset is ignored next to a cursor.
                Some(c) => format!("?limit=3&cursor={c}&offset=1"),
                None => "?limit=3".to_owned(),
            };
            let reply = list(&app, app.key(), &campaign.id, &query).await;
            seen.extend(chat_ids(reply.expect(200)));
            pages += 1;
            // Someone imports more people between two pages: they are newer than every row
            // already listed and must not appear in later pages.
            add(&app, &team, &campaign.id, &format!("late{pages}")).await;
            if cursor.is_some() {
                assert_eq!(header(&reply, "x-offset"), "0");
            }
            let next = header(&reply, "x-next-cursor").to_owned();
            if header(&reply, "x-has-more") == "false" {
                assert_eq!(next, "");
                break;
            }
            assert!(!next.is_empty());
            assert!(next.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{next}");
            cursor = Some(next);
            assert!(pages < 10, "paging does not end");
        }
        assert_eq!(pages, 3);
        assert_eq!(seen, existing, "every row once, in order, none of the new ones");

        // The new rows are on a fresh first page.
        let fresh = list(&app, app.key(), &campaign.id, "?limit=100").await;
        assert_eq!(chat_ids(fresh.expect(200)).len(), 8 + 3);

        // A cursor that is not ours is refused, whatever it looks like.
        for bad in ["garbage!", "bm90LWEtY3Vyc29y", "MTIz"] {
            let reply = list(&app, app.key(), &campaign.id, &format!("?cursor={bad}")).await;
            reply.expect_error(400, "validation_error");
            assert_eq!(reply.body["details"][0]["field"], "cursor", "{}", reply.body);
        }
        // An empty cursor is no cursor.
        let reply = list(&app, app.key(), &campaign.id, "?cursor=&limit=1").await;
        assert_eq!(chat_ids(reply.expect(200)).len(), 1);
    }
);

both_backends!(
    async fn the_campaign_list_filters_and_refuses_bad_input(app) {
        let team = app.team.team_id.clone();
        let campaign = new_campaign(&app, app.key(), "Filters").await;
        let idle = add(&app, &team, &campaign.id, "idle").await;
        let contacted = add(&app, &team, &campaign.id, "contacted").await;
        let replied = add(&app, &team, &campaign.id, "replied").await;
        let paused = add(&app, &team, &campaign.id, "paused").await;
        message(&app, &team, &contacted.chat, Role::Assistant, now_millis()).await;
        message(&app, &team, &replied.chat, Role::Assistant, now_millis()).await;
        message(&app, &team, &replied.chat, Role::User, now_millis()).await;
        message(&app, &team, &paused.chat, Role::Assistant, now_millis()).await;
        app.post_empty(app.key(), &format!("/v1/prospects/{}/pause", paused.chat))
            .await
            .expect(200);

        let cases: [(&str, Vec<&String>); 8] = [
            ("?status=0", vec![&idle.chat]),
            ("?status=3", vec![&paused.chat, &contacted.chat]),
            ("?status=4", vec![&replied.chat]),
            ("?status=5", vec![]),
            ("?isPaused=true", vec![&paused.chat]),
            ("?isPaused=false", vec![&replied.chat, &contacted.chat, &idle.chat]),
            ("?hasResponded=true", vec![&replied.chat]),
            ("?hasResponded=false&isPaused=false&status=3", vec![&contacted.chat]),
        ];
        for (query, expected) in cases {
            let reply = list(&app, app.key(), &campaign.id, query).await;
            let expected: Vec<&str> = expected.iter().map(|id| id.as_str()).collect();
            assert_eq!(chat_ids(reply.expect(200)), expected, "{query}");
        }
        let filtered_page = list(&app, app.key(), &campaign.id, "?isPaused=false&limit=2").await;
        assert_ids(filtered_page.expect(200), &[&replied.chat, &contacted.chat]);
        assert_eq!(header(&filtered_page, "x-has-more"), "true");
        let cursor = header(&filtered_page, "x-next-cursor").to_owned();
        let rest = list(
            &app,
            app.key(),
            &campaign.id,
            &format!("?isPaused=false&limit=2&cursor={cursor}"),
        )
        .await;
        assert_ids(rest.expect(200), &[&idle.chat]);

        for (query, field) in [
            ("?limit=0", "limit"),
            ("?limit=101", "limit"),
            ("?limit=-1", "limit"),
            ("?limit=99999999999999999999999", "limit"),
            ("?limit=ten", "limit"),
            ("?offset=-1", "offset"),
            ("?status=999", "status"),
            ("?status=-3", "status"),
            ("?status=replied", "status"),
            ("?isPaused=maybe", "isPaused"),
            ("?hasResponded=1", "hasResponded"),
        ] {
            let reply = list(&app, app.key(), &campaign.id, query).await;
            reply.expect_error(400, "validation_error");
            assert_eq!(reply.body["details"][0]["field"], field, "{query}: {}", reply.body);
        }
        let max = list(&app, app.key(), &campaign.id, "?limit=100").await;
        assert_eq!(header(&max, "x-limit"), "100");
    }
);

both_backends!(
    async fn details_show_the_profile_and_the_messages_in_order(app) {
        let team = app.team.team_id.clone();
        let campaign = new_campaign(&app, app.key(), "Fintech CFOs - Q3").await;
        let ana = add(&app, &team, &campaign.id, "anaruiz").await;
        let profile = ProspectProfile {
            headline: Some("CFO at Ledgerly".to_owned()),
            about: Some("Finance leader...".to_owned()),
            city: Some("Madrid".to_owned()),
            country: Some("Spain".to_owned()),
            email: Some("ana@ledgerly.example".to_owned()),
            current_company_name: Some("Ledgerly".to_owned()),
            current_job_title: Some("CFO".to_owned()),
            current_company_website: None,
            current_company_linkedin_url: None,
            provider_id: None,
        };
        app.store
            .set_prospect_profile(&team, &ana.prospect, &profile, now_millis())
            .await
            .expect("profile");
        let t0 = 1_777_630_000_000;
        message(&app, &team, &ana.chat, Role::Assistant, t0).await;
        message(&app, &team, &ana.chat, Role::User, t0 + 60_000).await;
        message(&app, &team, &ana.chat, Role::Assistant, t0 + 120_000).await;
        app.patch_custom_data(&ana.chat, "Met at SaaStr").await.expect(200);

        let body = details(&app, app.key(), &ana.chat).await;
        assert_eq!(
            body,
            json!({
                "id": ana.chat, "status": REPLIED, "qualification": "inProgress", "paused": false,
                "lastMessage": iso8601(t0 + 120_000), "customData": "Met at SaaStr",
                "campaign": { "id": campaign.id, "name": "Fintech CFOs - Q3" },
                "prospect": {
                    "id": ana.prospect, "name": "Person anaruiz",
                    "url": "https://linkedin.com/in/anaruiz", "headline": "CFO at Ledgerly",
                    "currentCompanyName": "Ledgerly", "currentJobTitle": "CFO",
                    "currentCompanyWebsite": null, "currentCompanyLinkedInUrl": null,
                    "location": { "city": "Madrid", "country": "Spain" },
                    "about": "Finance leader..."
                },
                "messages": [
                    { "role": "assistant", "content": format!("assistant at {t0}"), "date": iso8601(t0), "author": "ai" },
                    { "role": "user", "content": format!("user at {}", t0 + 60_000), "date": iso8601(t0 + 60_000), "author": "prospect" },
                    { "role": "assistant", "content": format!("assistant at {}", t0 + 120_000), "date": iso8601(t0 + 120_000), "author": "ai" }
                ]
            })
        );
        timestamp(&body["messages"][0]["date"]);

        // A conversation without messages or profile.
        let ben = add(&app, &team, &campaign.id, "benkim").await;
        let bare = details(&app, app.key(), &ben.chat).await;
        assert_eq!(bare["messages"], json!([]));
        assert!(bare.get("lastMessage").is_none(), "{bare}");
        assert_eq!(bare["customData"], "");
        assert_eq!(bare["prospect"]["location"], json!({}));
        assert!(bare["prospect"].get("about").is_none(), "{bare}");
        assert!(bare["prospect"].get("headline").is_none(), "{bare}");

        let missing = app.get(app.key(), "/v1/prospects/0000000000000000000a").await;
        missing.expect_error(404, "not_found");
        assert_eq!(missing.body["message"], "Prospect not found");
        let other = app.new_team(Plan::Unlimited).await;
        app.get(&other.key, &format!("/v1/prospects/{}", ana.chat))
            .await
            .expect_error(404, "not_found");
        // A prospect id is not a chat id.
        app.get(app.key(), &format!("/v1/prospects/{}", ana.prospect))
            .await
            .expect_error(404, "not_found");
    }
);

impl TestApp {
    async fn patch_custom_data(&self, chat: &str, value: &str) -> Reply {
        self.send(
            Method::PATCH,
            &format!("/v1/prospects/{chat}/custom-data"),
            Some(self.key()),
            Some(json!({ "customData": value })),
        )
        .await
    }
}

both_backends!(
    async fn custom_data_is_truncated_cleared_and_owned(app) {
        let team = app.team.team_id.clone();
        let campaign = new_campaign(&app, app.key(), "Custom data").await;
        let ana = add(&app, &team, &campaign.id, "anaruiz").await;

        let reply = app.patch_custom_data(&ana.chat, "Met at SaaStr").await;
        assert_eq!(
            reply.expect(200),
            &json!({
                "message": "Conversation customData updated successfully", "chatId": ana.chat,
                "customDataSaved": true, "customDataLength": 13
            })
        );
        // Longer than 3000 characters is cut, counted in characters.
        let long = "é".repeat(3005);
        let reply = app.patch_custom_data(&ana.chat, &long).await;
        assert_eq!(reply.expect(200)["customDataLength"], 3000);
        assert_eq!(reply.body["customDataSaved"], true);
        let stored = details(&app, app.key(), &ana.chat).await["customData"].clone();
        assert_eq!(stored.as_str().expect("a string"), "é".repeat(3000));
        let exact = "x".repeat(3000);
        assert_eq!(app.patch_custom_data(&ana.chat, &exact).await.expect(200)["customDataLength"], 3000);

        // "" clears it.
        let reply = app.patch_custom_data(&ana.chat, "").await;
        assert_eq!(
            reply.expect(200),
            &json!({
                "message": "Conversation customData updated successfully", "chatId": ana.chat,
                "customDataSaved": false, "customDataLength": 0
            })
        );
        assert_eq!(details(&app, app.key(), &ana.chat).await["customData"], "");

        app.patch_custom_data(&ana.chat, "kept").await.expect(200);
        let path = format!("/v1/prospects/{}/custom-data", ana.chat);
        for body in [json!({}), json!({ "customData": null }), json!({ "customData": 5 }), json!([])] {
            let reply = app.send(Method::PATCH, &path, Some(app.key()), Some(body.clone())).await;
            reply.expect_error(400, "validation_error");
            let field = &reply.body["details"][0]["field"];
            assert!(field == "customData" || field == "body", "{body}: {}", reply.body);
        }
        let malformed = app.send_raw(Method::PATCH, &path, app.key(), "{\"customData\": ").await;
        malformed.expect_error(400, "validation_error");
        let empty_body = app.send(Method::PATCH, &path, Some(app.key()), None).await;
        empty_body.expect_error(400, "validation_error");

        let missing = app.patch_custom_data("0000000000000000000a", "x").await;
        missing.expect_error(404, "not_found");
        assert_eq!(missing.body["message"], "Conversation not found");
        let other = app.new_team(Plan::Unlimited).await;
        app.send(Method::PATCH, &path, Some(&other.key), Some(json!({ "customData": "theirs" })))
            .await
            .expect_error(404, "not_found");
        assert_eq!(details(&app, app.key(), &ana.chat).await["customData"], "kept");
    }
);

both_backends!(
    async fn pause_and_resume_are_idempotent_and_owned(app) {
        let team = app.team.team_id.clone();
        let campaign = new_campaign(&app, app.key(), "Pausing").await;
        let ana = add(&app, &team, &campaign.id, "anaruiz").await;
        let pause = format!("/v1/prospects/{}/pause", ana.chat);
        let resume = format!("/v1/prospects/{}/resume", ana.chat);
        for _ in 0..2 {
            assert_eq!(
                app.post_empty(app.key(), &pause).await.expect(200),
                &json!({ "message": "Conversation paused successfully" })
            );
            assert_eq!(details(&app, app.key(), &ana.chat).await["paused"], true);
        }
        // A body is ignored.
        app.post(app.key(), &pause, json!({ "anything": 1 })).await.expect(200);
        let other = app.new_team(Plan::Unlimited).await;
        app.post_empty(&other.key, &resume).await.expect_error(404, "not_found");
        assert_eq!(details(&app, app.key(), &ana.chat).await["paused"], true);
        for _ in 0..2 {
            assert_eq!(
                app.post_empty(app.key(), &resume).await.expect(200),
                &json!({ "message": "Conversation resumed successfully" })
            );
            assert_eq!(details(&app, app.key(), &ana.chat).await["paused"], false);
        }
        app.post_empty(&other.key, &pause).await.expect_error(404, "not_found");
        assert_eq!(details(&app, app.key(), &ana.chat).await["paused"], false);
        for action in ["pause", "resume", "qualify", "disqualify"] {
            let reply = app
                .post_empty(app.key(), &format!("/v1/prospects/0000000000000000000a/{action}"))
                .await;
            reply.expect_error(404, "not_found");
            assert_eq!(reply.body["message"], "Conversation not found", "{action}");
        }
    }
);

both_backends!(
    async fn verdicts_write_one_event_per_change_and_move_the_stats(app) {
        let team = app.team.team_id.clone();
        let webhook = subscribe_everything(&app).await;
        let campaign = new_campaign(&app, app.key(), "Verdicts").await;
        let ana = add(&app, &team, &campaign.id, "anaruiz").await;
        let ben = add(&app, &team, &campaign.id, "benkim").await;
        message(&app, &team, &ana.chat, Role::Assistant, now_millis()).await;
        message(&app, &team, &ana.chat, Role::User, now_millis()).await;

        let qualify = format!("/v1/prospects/{}/qualify", ana.chat);
        for _ in 0..2 {
            assert_eq!(
                app.post_empty(app.key(), &qualify).await.expect(200),
                &json!({ "message": "Prospect marked as qualified successfully" })
            );
        }
        let chat = details(&app, app.key(), &ana.chat).await;
        assert_eq!(chat["status"], QUALIFIED);
        assert_eq!(chat["qualification"], "qualified");
        assert_eq!(
            campaign_stats(&app, &campaign.id).await,
            json!({ "prospects": 2, "prospectsAnswers": 1, "messages": 1, "qualified": 1, "closed": 0 })
        );
        let events = delivered_events(&app, &webhook).await;
        assert_eq!(events.len(), 1, "one event for two identical calls: {events:?}");
        let event = &events[0];
        assert_eq!(event["event"], "prospect.qualified");
        assert_eq!(event["teamId"], team.as_str());
        let data = &event["data"];
        assert_eq!(
            keys(data),
            ["agentId", "campaignId", "chatId", "prospectId", "qualification", "qualifiedBy", "timestamp"]
        );
        assert_eq!(data["agentId"], campaign.agent.as_str());
        assert_eq!(data["campaignId"], campaign.id.as_str());
        assert_eq!(data["chatId"], ana.chat.as_str());
        assert_eq!(data["prospectId"], ana.prospect.as_str());
        assert_eq!(data["qualification"], "qualified");
        assert_eq!(data["qualifiedBy"], "manual");
        timestamp(&data["timestamp"]);

        // Disqualifying moves the counters back and closes the conversation.
        let disqualify = format!("/v1/prospects/{}/disqualify", ana.chat);
        for _ in 0..2 {
            assert_eq!(
                app.post_empty(app.key(), &disqualify).await.expect(200),
                &json!({ "message": "Prospect marked as disqualified successfully" })
            );
        }
        let chat = details(&app, app.key(), &ana.chat).await;
        assert_eq!(chat["status"], UNQUALIFIED);
        assert_eq!(chat["qualification"], "unqualified");
        assert_eq!(
            campaign_stats(&app, &campaign.id).await,
            json!({ "prospects": 2, "prospectsAnswers": 1, "messages": 1, "qualified": 0, "closed": 1 })
        );
        let events = delivered_events(&app, &webhook).await;
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0]["event"], "prospect.unqualified");
        assert_eq!(events[0]["data"]["qualification"], "unqualified");
        assert_eq!(events[0]["data"]["qualifiedBy"], "manual");

        // A changed verdict is a new event; the untouched conversation stays as it was.
        app.post_empty(app.key(), &qualify).await.expect(200);
        let events = delivered_events(&app, &webhook).await;
        assert_eq!(events.len(), 1);
        assert_eq!(events[0]["event"], "prospect.qualified");
        let stats = app.get(app.key(), &format!("/v1/campaigns/{}/stats", campaign.id)).await;
        assert_eq!(stats.expect(200)["stats"]["qualified"], 1);
        assert_eq!(stats.body["stats"]["closed"], 0);
        assert_eq!(details(&app, app.key(), &ben.chat).await["status"], NOT_STARTED);

        // Another team can neither judge nor cause events.
        let other = app.new_team(Plan::Unlimited).await;
        app.post_empty(&other.key, &disqualify).await.expect_error(404, "not_found");
        app.post_empty(&other.key, &format!("/v1/prospects/{}/qualify", ben.chat))
            .await
            .expect_error(404, "not_found");
        assert_eq!(details(&app, app.key(), &ana.chat).await["qualification"], "qualified");
        assert!(delivered_events(&app, &webhook).await.is_empty());
        let total = app
            .store
            .list_deliveries(&team, &webhook, 100, 0)
            .await
            .expect("deliveries");
        assert_eq!(total.len(), 3);
    }
);

both_backends!(
    async fn deleting_a_prospect_needs_idle_conversations_and_reports_exact_counts(app) {
        let team = app.team.team_id.clone();
        let webhook = subscribe_everything(&app).await;
        let first = new_campaign(&app, app.key(), "First campaign").await;
        let second = new_campaign(&app, app.key(), "Second campaign").await;
        let stay = add(&app, &team, &first.id, "stays").await;
        message(&app, &team, &stay.chat, Role::Assistant, now_millis()).await;
        let ana = add(&app, &team, &first.id, "anaruiz").await;
        for role in [Role::Assistant, Role::User, Role::Assistant] {
            message(&app, &team, &ana.chat, role, now_millis()).await;
        }
        // The same person in a second campaign: one prospect, two conversations.
        let ana_again = match app
            .store
            .add_to_campaign(&team, &second.id, person("anaruiz"), now_millis())
            .await
            .expect("add")
        {
            Added::Created { prospect_id, chat_id } => Chat { prospect: prospect_id, chat: chat_id },
            other => panic!("{other:?}"),
        };
        assert_eq!(ana_again.prospect, ana.prospect);
        message(&app, &team, &ana_again.chat, Role::Assistant, now_millis()).await;

        // Both conversations are running: refused, nothing deleted.
        let path = format!("/v1/prospects/{}", ana.prospect);
        let refused = app.delete(app.key(), &path).await;
        refused.expect_error(409, "prospect_active");
        assert_eq!(
            refused.body["message"],
            "Cannot delete prospect with active conversation. Please pause first."
        );
        // One finished (qualified, with its event), one still running: still refused.
        app.post_empty(app.key(), &format!("/v1/prospects/{}/qualify", ana.chat))
            .await
            .expect(200);
        app.delete(app.key(), &path).await.expect_error(409, "prospect_active");
        assert_eq!(details(&app, app.key(), &ana.chat).await["messages"].as_array().map(Vec::len), Some(3));
        assert_eq!(delivered_events(&app, &webhook).await.len(), 1);
        assert_eq!(
            campaign_stats(&app, &first.id).await,
            json!({ "prospects": 2, "prospectsAnswers": 1, "messages": 3, "qualified": 1, "closed": 0 })
        );

        // Another team cannot delete it, and does not learn that it exists.
        let other = app.new_team(Plan::Unlimited).await;
        app.delete(&other.key, &path).await.expect_error(404, "not_found");

        app.post_empty(app.key(), &format!("/v1/prospects/{}/pause", ana_again.chat))
            .await
            .expect(200);
        let reply = app.delete(app.key(), &path).await;
        let body = reply.expect(200);
        assert_eq!(keys(body), ["campaignStatsUpdated", "deletionSummary", "message"]);
        assert_eq!(body["message"], "Prospect deleted successfully");
        let summary = &body["deletionSummary"];
        assert_eq!(
            keys(summary),
            ["campaignId", "campaignName", "deletedAt", "deletedItems", "prospectId", "prospectName"]
        );
        assert_eq!(summary["prospectId"], ana.prospect.as_str());
        assert_eq!(summary["prospectName"], "Person anaruiz");
        assert_eq!(summary["campaignId"], first.id.as_str(), "the first conversation's campaign");
        assert_eq!(summary["campaignName"], "First campaign");
        assert_eq!(
            summary["deletedItems"],
            json!({ "chats": 2, "messages": 4, "tasks": 0, "webhookEvents": 1 })
        );
        timestamp(&summary["deletedAt"]);
        assert_eq!(
            body["campaignStatsUpdated"],
            json!({ "prospectsCount": 1, "messagesCount": 1, "qualifiedCount": 0 })
        );
        // Counters of both campaigns follow; the conversations, messages and the event's
        // delivery are gone.
        assert_eq!(
            campaign_stats(&app, &first.id).await,
            json!({ "prospects": 1, "prospectsAnswers": 0, "messages": 1, "qualified": 0, "closed": 0 })
        );
        assert_eq!(
            campaign_stats(&app, &second.id).await,
            json!({ "prospects": 0, "prospectsAnswers": 0, "messages": 0, "qualified": 0, "closed": 0 })
        );
        for chat in [&ana.chat, &ana_again.chat] {
            app.get(app.key(), &format!("/v1/prospects/{chat}")).await.expect_error(404, "not_found");
        }
        assert_ids(list(&app, app.key(), &first.id, "").await.expect(200), &[&stay.chat]);
        assert!(
            app.store.list_deliveries(&team, &webhook, 100, 0).await.expect("deliveries").is_empty(),
            "the deleted prospect's deliveries go with its events"
        );
        let again = app.delete(app.key(), &path).await;
        again.expect_error(404, "not_found");
        assert_eq!(again.body["message"], "Prospect not found");

        // The person can come back as a new prospect.
        let back = add(&app, &team, &second.id, "anaruiz").await;
        assert_ne!(back.prospect, ana.prospect);

        // Not-started conversations are active too; a finished one alone is deletable.
        let fresh = add(&app, &team, &first.id, "fresh").await;
        app.delete(app.key(), &format!("/v1/prospects/{}", fresh.prospect))
            .await
            .expect_error(409, "prospect_active");
        app.post_empty(app.key(), &format!("/v1/prospects/{}/disqualify", fresh.chat))
            .await
            .expect(200);
        let reply = app.delete(app.key(), &format!("/v1/prospects/{}", fresh.prospect)).await;
        assert_eq!(
            reply.expect(200)["deletionSummary"]["deletedItems"],
            json!({ "chats": 1, "messages": 0, "tasks": 0, "webhookEvents": 1 })
        );
        assert_eq!(
            reply.body["campaignStatsUpdated"],
            json!({ "prospectsCount": 1, "messagesCount": 1, "qualifiedCount": 0 })
        );
        assert_eq!(campaign_stats(&app, &first.id).await["closed"], 0);
    }
);

both_backends!(
    async fn bulk_deletion_reports_each_prospect(app) {
        let team = app.team.team_id.clone();
        let first = new_campaign(&app, app.key(), "First campaign").await;
        let second = new_campaign(&app, app.key(), "Second campaign").await;
        let idle = add(&app, &team, &first.id, "idle").await;
        message(&app, &team, &idle.chat, Role::Assistant, now_millis()).await;
        message(&app, &team, &idle.chat, Role::Assistant, now_millis()).await;
        app.post_empty(app.key(), &format!("/v1/prospects/{}/pause", idle.chat)).await.expect(200);
        let active = add(&app, &team, &first.id, "active").await;
        let elsewhere = add(&app, &team, &second.id, "elsewhere").await;
        app.post_empty(app.key(), &format!("/v1/prospects/{}/qualify", elsewhere.chat)).await.expect(200);
        let kept = add(&app, &team, &first.id, "kept").await;
        message(&app, &team, &kept.chat, Role::Assistant, now_millis()).await;
        app.post_empty(app.key(), &format!("/v1/prospects/{}/qualify", kept.chat)).await.expect(200);
        let other = app.new_team(Plan::Unlimited).await;
        let theirs_campaign = new_campaign(&app, &other.key, "Their campaign").await;
        let theirs = add(&app, &other.team_id, &theirs_campaign.id, "theirs").await;
        app.post_empty(&other.key, &format!("/v1/prospects/{}/pause", theirs.chat)).await.expect(200);

        // Refused requests delete nothing.
        for body in [None, Some(json!({})), Some(json!({ "prospectIds": [] })), Some(json!({ "prospectIds": null }))] {
            let reply = bulk_delete(&app, app.key(), body.clone()).await;
            reply.expect_error(400, "invalid_request");
        }
        let too_many: Vec<String> = (0..101).map(|i| format!("id{i}")).collect();
        bulk_delete(&app, app.key(), Some(json!({ "prospectIds": too_many })))
            .await
            .expect_error(400, "too_many_prospects");
        for body in [json!({ "prospectIds": "abc" }), json!({ "prospectIds": [1, 2] }), json!({ "prospectIds": [idle.prospect], "campaignId": 5 })] {
            bulk_delete(&app, app.key(), Some(body)).await.expect_error(400, "validation_error");
        }
        let unknown_campaign = bulk_delete(
            &app,
            app.key(),
            Some(json!({ "prospectIds": [idle.prospect], "campaignId": theirs_campaign.id })),
        )
        .await;
        unknown_campaign.expect_error(400, "campaign_mismatch");
        assert_eq!(details(&app, app.key(), &idle.chat).await["id"], idle.chat.as_str());

        // With the campaign guard: only prospects of that campaign go.
        let reply = bulk_delete(
            &app,
            app.key(),
            Some(json!({
                "prospectIds": [idle.prospect, active.prospect, elsewhere.prospect, "0000000000000000000a", theirs.prospect, idle.prospect],
                "campaignId": first.id
            })),
        )
        .await;
        let body = reply.expect(200);
        assert_eq!(keys(body), ["campaignStatsUpdated", "message", "results", "summary"]);
        assert_eq!(body["message"], "Bulk deletion completed");
        assert_eq!(keys(&body["summary"]), ["failed", "processedAt", "requested", "successful"]);
        assert_eq!(body["summary"]["requested"], 6);
        assert_eq!(body["summary"]["successful"], 1);
        assert_eq!(body["summary"]["failed"], 5);
        timestamp(&body["summary"]["processedAt"]);
        let results = body["results"].as_array().expect("results");
        assert_eq!(
            results[0],
            json!({
                "prospectId": idle.prospect, "status": "success", "prospectName": "Person idle",
                "deletedItems": { "chats": 1, "messages": 2, "tasks": 0, "webhookEvents": 0 }
            })
        );
        let failure = |index: usize, id: &str, error: &str| {
            let item = &results[index];
            assert_eq!(keys(item), ["error", "message", "prospectId", "status"], "{item}");
            assert_eq!(item["prospectId"], id);
            assert_eq!(item["status"], "failed");
            assert_eq!(item["error"], error, "{item}");
            assert!(item["message"].as_str().is_some_and(|m| !m.is_empty()));
        };
        failure(1, &active.prospect, "prospect_active");
        failure(2, &elsewhere.prospect, "campaign_mismatch");
        failure(3, "0000000000000000000a", "not_found");
        failure(4, &theirs.prospect, "not_found");
        failure(5, &idle.prospect, "not_found");
        assert_eq!(
            results[1]["message"],
            "Cannot delete prospect with active conversation. Please pause first."
        );
        assert_eq!(results[3]["message"], "Prospect not found");
        assert_eq!(
            body["campaignStatsUpdated"],
            json!({ "campaignId": first.id, "prospectsCount": 2, "messagesCount": 1, "qualifiedCount": 1 })
        );
        assert_eq!(
            campaign_stats(&app, &first.id).await,
            json!({ "prospects": 2, "prospectsAnswers": 0, "messages": 1, "qualified": 1, "closed": 0 })
        );
        app.get(app.key(), &format!("/v1/prospects/{}", idle.chat)).await.expect_error(404, "not_found");
        details(&app, &other.key, &theirs.chat).await;

        // Without the guard; the stats are those of the first deleted prospect's campaign.
        let reply = bulk_delete(
            &app,
            app.key(),
            Some(json!({ "prospectIds": [active.prospect, elsewhere.prospect, kept.prospect] })),
        )
        .await;
        let body = reply.expect(200);
        assert_eq!(body["summary"]["successful"], 2);
        assert_eq!(body["summary"]["failed"], 1);
        assert_eq!(body["results"][0]["error"], "prospect_active");
        assert_eq!(body["results"][1]["status"], "success");
        assert_eq!(
            body["results"][1]["deletedItems"],
            json!({ "chats": 1, "messages": 0, "tasks": 0, "webhookEvents": 1 })
        );
        assert_eq!(body["results"][2]["prospectName"], "Person kept");
        assert_eq!(
            body["campaignStatsUpdated"],
            json!({ "campaignId": second.id, "prospectsCount": 0, "messagesCount": 0, "qualifiedCount": 0 })
        );
        assert_eq!(
            campaign_stats(&app, &first.id).await,
            json!({ "prospects": 1, "prospectsAnswers": 0, "messages": 0, "qualified": 0, "closed": 0 })
        );

        // Nothing deleted and no guard: no campaign to report.
        let reply = bulk_delete(&app, app.key(), Some(json!({ "prospectIds": ["nope"] }))).await;
        assert_eq!(reply.expect(200)["campaignStatsUpdated"], Value::Null);
        assert_eq!(reply.body["summary"]["failed"], 1);
        // The other team's prospect survived every request.
        assert_eq!(details(&app, &other.key, &theirs.chat).await["paused"], true);
    }
);

both_backends!(
    async fn client_teams_read_conversations_of_assigned_agents_only(app) {
        let agency = app.new_team(Plan::Agency).await;
        let campaign = new_campaign(&app, &agency.key, "Agency campaign").await;
        let ana = add(&app, &agency.team_id, &campaign.id, "anaruiz").await;
        message(&app, &agency.team_id, &ana.chat, Role::Assistant, now_millis()).await;
        let workspace = app
            .post(&agency.key, "/v1/workspaces", json!({ "name": "Acme" }))
            .await;
        let workspace_id = id_of(&workspace, 201);
        let client_team = workspace.body["clientTeamId"].as_str().expect("client team").to_owned();
        let client = app.new_key(&client_team).await;
        let chat_path = format!("/v1/prospects/{}", ana.chat);

        // Before the assignment the client sees nothing.
        list(&app, &client, &campaign.id, "").await.expect_error(404, "not_found");
        app.get(&client, &chat_path).await.expect_error(404, "not_found");

        let assign = format!("/v1/workspaces/{workspace_id}/agents/{}", campaign.agent);
        app.post_empty(&agency.key, &assign).await.expect(200);
        let listed = list(&app, &client, &campaign.id, "").await;
        assert_ids(listed.expect(200), &[&ana.chat]);
        assert_eq!(header(&listed, "x-has-more"), "false");
        let seen = details(&app, &client, &ana.chat).await;
        assert_eq!(seen, details(&app, &agency.key, &ana.chat).await);
        assert_eq!(seen["messages"].as_array().map(Vec::len), Some(1));

        // Reading is all: every write is 404 and changes nothing.
        for action in ["pause", "resume", "qualify", "disqualify"] {
            app.post_empty(&client, &format!("{chat_path}/{action}"))
                .await
                .expect_error(404, "not_found");
        }
        app.send(Method::PATCH, &format!("{chat_path}/custom-data"), Some(&client), Some(json!({ "customData": "x" })))
            .await
            .expect_error(404, "not_found");
        app.delete(&client, &format!("/v1/prospects/{}", ana.prospect))
            .await
            .expect_error(404, "not_found");
        let bulk = bulk_delete(&app, &client, Some(json!({ "prospectIds": [ana.prospect] }))).await;
        assert_eq!(bulk.expect(200)["results"][0]["error"], "not_found");
        assert_eq!(details(&app, &agency.key, &ana.chat).await, seen);

        // A stranger sees nothing either.
        let stranger = app.new_team(Plan::Unlimited).await;
        list(&app, &stranger.key, &campaign.id, "").await.expect_error(404, "not_found");
        app.get(&stranger.key, &chat_path).await.expect_error(404, "not_found");

        // Unassigning takes the access away at once.
        app.send(Method::DELETE, &assign, Some(&agency.key), None).await.expect(200);
        list(&app, &client, &campaign.id, "").await.expect_error(404, "not_found");
        app.get(&client, &chat_path).await.expect_error(404, "not_found");
    }
);
