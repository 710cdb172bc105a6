//! Prospect imports: `POST /v1/prospects`, `/v1/prospects/batch`,
//! `/v1/prospects/batch/round-robin` and `GET /v1/prospects/imports/{listId}`. Jobs are
//! committed before the 201 and processed by driving the worker step
//! (`store.process_imports`) explicitly; a job stopped mid-way is finished from a second store
//! opened on the same database.

use crate::both_backends;
use crate::common::{TestApp, assert_keys, keys, timestamp};
use outbound_core::plan::Plan;
use outbound_core::prompt::PromptType;
use outbound_store::Store;
use outbound_store::campaigns::NewCampaign;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};

/// Rows per worker step in tests (the engine's batch size).
const STEP: i64 = 100;

/// A campaign of `team` named `name`, with its own product, prompt and agent.
async fn campaign(app: &TestApp, team: &str, name: &str) -> String {
    let store = &app.store;
    let product = store
        .create_product(team, "Widgets", "Widgets for every purpose", None)
        .await
        .expect("product");
    let prompt = store
        .create_prompt(team, "Outreach", PromptType::Messages, "template")
        .await
        .expect("prompt");
    let agent = store.create_agent(team, None).await.expect("agent");
    let new = NewCampaign {
        name: name.to_owned(),
        product_id: product.id,
        prompt_id: prompt.id,
        agent_id: agent.id,
        qualification_automatic: 70,
        qualification_verification: 50,
        variables: BTreeMap::new(),
        prevent_auto_start: false,
        review_mode: outbound_core::review::ReviewMode::Off,
    };
    store
        .create_campaign(team, &new, None)
        .await
        .expect("campaign")
        .id
}

/// Runs the worker on `store` until no job is left; returns the rows processed.
async fn drain(store: &dyn Store) -> usize {
    let mut total = 0;
    loop {
        let processed = store.process_imports(STEP).await.expect("process imports");
        if processed == 0 {
            return total;
        }
        total += processed;
    }
}

/// `{name, url}` of a prospect numbered `n`.
fn person(n: usize) -> Value {
    json!({
        "name": format!("Person {n}"),
        "url": format!("https://www.linkedin.com/in/person-{n}")
    })
}

/// The import `list_id` as the first team sees it.
async fn import_of(app: &TestApp, list_id: &str) -> Value {
    app.get(app.key(), &format!("/v1/prospects/imports/{list_id}"))
        .await
        .expect(200)
        .clone()
}

/// The listId of a 201 answer.
fn list_id(body: &Value) -> String {
    body["listId"].as_str().expect("listId").to_owned()
}

/// The campaign's prospect counter.
async fn prospects_count(app: &TestApp, campaign_id: &str) -> i64 {
    app.store
        .get_campaign(&app.team.team_id, campaign_id)
        .await
        .expect("campaign")
        .counters
        .prospects
}

/// How many import jobs and chats exist in the whole database, whatever the team (`$1` is a
/// dummy argument: no id is empty).
async fn jobs_and_chats(app: &TestApp) -> (i64, i64) {
    (
        app.scalar::<i64>("SELECT COUNT(*) FROM imports WHERE id <> $1", "")
            .await,
        app.scalar::<i64>("SELECT COUNT(*) FROM chats WHERE id <> $1", "")
            .await,
    )
}

/// Asserts the counters of an import.
#[track_caller]
fn assert_counters(import: &Value, expected: [(&str, i64); 8]) {
    for (key, value) in expected {
        assert_eq!(import[key], value, "{key}: {import}");
    }
}

/// The keys of every import.
const IMPORT_KEYS: &[&str] = &[
    "campaignId",
    "currentIndex",
    "enrichmentFailed",
    "existing",
    "imported",
    "invalid",
    "listId",
    "processed",
    "report",
    "skippedDnc",
    "status",
    "total",
];
/// The keys of an import once it has started, processed a row, completed.
const IMPORT_KEYS_WHEN_SET: &[&str] = &["completedAt", "lastProcessedAt", "startedAt"];

/// The keys of every report row.
const ROW_KEYS: &[&str] = &[
    "chatCreated",
    "customDataSaved",
    "index",
    "inputUrl",
    "message",
    "status",
];
/// The keys of a report row for a person found (a valid profile URL, a conversation).
const ROW_KEYS_WHEN_SET: &[&str] = &["chatId", "linkedinSlug", "prospectId"];

both_backends!(
    async fn a_single_prospect_is_queued_then_imported(app) {
        let campaign_id = campaign(&app, &app.team.team_id, "Single").await;
        let reply = app
            .post(
                app.key(),
                "/v1/prospects",
                json!({
                    "campaignId": campaign_id,
                    "name": "Jane Doe",
                    "url": "https://www.linkedin.com/in/Jane-Doe/",
                    "customData": "Met at the fair"
                }),
            )
            .await;
        let body = reply.expect(201);
        assert_eq!(keys(body), ["listId", "message"]);
        assert_eq!(body["message"], "Prospect added successfully");
        let list = list_id(body);

        let queued = import_of(&app, &list).await;
        assert_keys(&queued, IMPORT_KEYS, IMPORT_KEYS_WHEN_SET);
        assert_eq!(queued["listId"], list.as_str());
        assert_eq!(queued["campaignId"], campaign_id.as_str());
        assert_eq!(queued["status"], "queued");
        assert_counters(
            &queued,
            [
                ("total", 1),
                ("processed", 0),
                ("imported", 0),
                ("existing", 0),
                ("invalid", 0),
                ("skippedDnc", 0),
                ("enrichmentFailed", 0),
                ("currentIndex", 0),
            ],
        );
        for key in IMPORT_KEYS_WHEN_SET {
            assert!(queued.get(key).is_none(), "{key}: {queued}");
        }
        assert_eq!(queued["report"], json!([]));

        assert_eq!(drain(app.store.as_ref()).await, 1);
        let done = import_of(&app, &list).await;
        assert_eq!(done["status"], "completed");
        assert_counters(
            &done,
            [
                ("total", 1),
                ("processed", 1),
                ("imported", 1),
                ("existing", 0),
                ("invalid", 0),
                ("skippedDnc", 0),
                ("enrichmentFailed", 0),
                ("currentIndex", 1),
            ],
        );
        let started = timestamp(&done["startedAt"]);
        assert!(timestamp(&done["lastProcessedAt"]) >= started);
        assert!(timestamp(&done["completedAt"]) >= started);
        let row = &done["report"][0];
        assert_keys(row, ROW_KEYS, ROW_KEYS_WHEN_SET);
        assert_eq!(row["index"], 0);
        assert_eq!(row["inputUrl"], "https://www.linkedin.com/in/Jane-Doe/");
        assert_eq!(row["linkedinSlug"], "jane-doe");
        assert_eq!(row["status"], "imported");
        assert_eq!(row["message"], "Prospect imported");
        assert_eq!(row["chatCreated"], true);
        assert_eq!(row["customDataSaved"], true);
        let chat_id = row["chatId"].as_str().expect("chatId");
        let prospect_id = row["prospectId"].as_str().expect("prospectId");
        assert_eq!(
            app.scalar::<String>("SELECT prospect_id FROM chats WHERE id = $1", chat_id).await,
            prospect_id
        );
        assert_eq!(
            app.scalar::<String>("SELECT url FROM prospects WHERE id = $1", prospect_id).await,
            "https://linkedin.com/in/jane-doe"
        );
        assert_eq!(
            app.scalar::<String>("SELECT custom_data FROM chats WHERE id = $1", chat_id).await,
            "Met at the fair"
        );
        assert_eq!(
            app.scalar::<i64>("SELECT status FROM chats WHERE id = $1", chat_id).await,
            0
        );
        assert_eq!(prospects_count(&app, &campaign_id).await, 1);
        assert_eq!(drain(app.store.as_ref()).await, 0, "nothing left to do");
    }
);

both_backends!(
    async fn a_batch_reports_imported_existing_invalid_and_dnc_rows(app) {
        let campaign_id = campaign(&app, &app.team.team_id, "Batch").await;
        let earlier = app
            .post(
                app.key(),
                "/v1/prospects",
                json!({
                    "campaignId": campaign_id,
                    "name": "Already",
                    "url": "linkedin.com/in/already"
                }),
            )
            .await;
        let earlier = list_id(earlier.expect(201));
        drain(app.store.as_ref()).await;
        let earlier_chat = import_of(&app, &earlier).await["report"][0]["chatId"].clone();
        app.post(
            app.key(),
            "/v1/dnc",
            json!({ "url": "https://linkedin.com/in/blocked" }),
        )
        .await
        .expect(201);

        let reply = app
            .post(
                app.key(),
                "/v1/prospects/batch",
                json!({
                    "campaignId": campaign_id,
                    "prospects": [
                        { "name": "New One", "url": "https://www.linkedin.com/in/new-one" },
                        { "name": "Not LinkedIn", "url": "https://example.com/in/nobody" },
                        {
                            "name": "New One Again",
                            "url": "http://fr.linkedin.com/in/NEW-ONE/?x=1"
                        },
                        { "name": "Blocked", "url": "in/blocked" },
                        { "name": "Already", "url": "https://linkedin.com/in/already/" },
                        { "name": "Ongoing", "url": "linkedin.com/in/ongoing", "ongoing": true }
                    ]
                }),
            )
            .await;
        let body = reply.expect(201);
        assert_eq!(keys(body), ["listId", "message"]);
        assert_eq!(body["message"], "6 prospects added successfully");
        let list = list_id(body);
        assert_eq!(drain(app.store.as_ref()).await, 6);

        let done = import_of(&app, &list).await;
        assert_eq!(done["status"], "completed");
        assert_counters(
            &done,
            [
                ("total", 6),
                ("processed", 6),
                ("imported", 2),
                ("existing", 2),
                ("invalid", 1),
                ("skippedDnc", 1),
                ("enrichmentFailed", 0),
                ("currentIndex", 6),
            ],
        );
        let report = done["report"].as_array().expect("report");
        let statuses: Vec<&str> = report
            .iter()
            .map(|r| r["status"].as_str().expect("status"))
            .collect();
        assert_eq!(
            statuses,
            [
                "imported",
                "invalid",
                "existing",
                "skipped_dnc",
                "existing",
                "imported"
            ]
        );
        for (i, row) in report.iter().enumerate() {
            assert_keys(row, ROW_KEYS, ROW_KEYS_WHEN_SET);
            assert_eq!(row["index"], i);
            assert_eq!(
                row["customDataSaved"], false,
                "no custom data was sent: {row}"
            );
        }
        let invalid = &report[1];
        for key in ROW_KEYS_WHEN_SET {
            assert!(invalid.get(key).is_none(), "{key}: {invalid}");
        }
        assert_eq!(invalid["chatCreated"], false);
        assert_eq!(invalid["message"], "Not a LinkedIn profile URL");
        let duplicate = &report[2];
        assert_eq!(duplicate["linkedinSlug"], "new-one");
        assert_eq!(
            duplicate["chatId"], report[0]["chatId"],
            "the chat made by row 0"
        );
        assert_eq!(duplicate["prospectId"], report[0]["prospectId"]);
        assert_eq!(duplicate["chatCreated"], false);
        let blocked = &report[3];
        assert_eq!(blocked["linkedinSlug"], "blocked");
        assert_eq!(blocked["chatId"], Value::Null);
        assert_eq!(blocked["chatCreated"], false);
        let already = &report[4];
        assert_eq!(already["chatId"], earlier_chat);
        assert_eq!(already["chatCreated"], false);
        assert_eq!(already["message"], "Prospect already in this campaign");
        let ongoing_chat = report[5]["chatId"].as_str().expect("chatId");
        assert_eq!(
            app.scalar::<i64>("SELECT status FROM chats WHERE id = $1", ongoing_chat).await,
            3,
            "an ongoing conversation starts as contacted"
        );
        assert_eq!(prospects_count(&app, &campaign_id).await, 3);
        assert_eq!(
            app.scalar::<i64>(
                "SELECT COUNT(*) FROM chats WHERE campaign_id = $1",
                &campaign_id
            )
            .await,
            3
        );
        assert_eq!(
            app.scalar::<i64>(
                "SELECT COUNT(*) FROM prospects WHERE url = $1",
                "https://linkedin.com/in/blocked"
            )
            .await,
            0,
            "a DNC row creates no prospect"
        );
    }
);

both_backends!(
    async fn legacy_additional_fields_are_folded_into_custom_data(app) {
        let campaign_id = campaign(&app, &app.team.team_id, "Legacy").await;
        let single = app
            .post(
                app.key(),
                "/v1/prospects",
                json!({
                    "campaignId": campaign_id,
                    "name": "Legacy One",
                    "url": "linkedin.com/in/legacy-one",
                    "customData": "Met at the fair",
                    "additionalFields": [
                        { "fieldName": "Company", "fieldValue": "Acme" },
                        { "fieldName": "Role", "fieldValue": "CTO" }
                    ]
                }),
            )
            .await;
        let single = list_id(single.expect(201));
        let batch = app
            .post(
                app.key(),
                "/v1/prospects/batch",
                json!({
                    "campaignId": campaign_id,
                    "prospects": [
                        {
                            "name": "Legacy Two",
                            "url": "linkedin.com/in/legacy-two",
                            "additionalFields": [{ "fieldName": "Source", "fieldValue": "n8n" }]
                        },
                        { "name": "Plain", "url": "linkedin.com/in/plain", "customData": "" }
                    ]
                }),
            )
            .await;
        let batch = list_id(batch.expect(201));
        drain(app.store.as_ref()).await;

        let row = &import_of(&app, &single).await["report"][0];
        assert_eq!(row["customDataSaved"], true);
        let chat = row["chatId"].as_str().expect("chatId");
        let details = app.get(app.key(), &format!("/v1/prospects/{chat}")).await;
        assert_eq!(
            details.expect(200)["customData"],
            "Met at the fair\nCompany: Acme\nRole: CTO"
        );
        let report = import_of(&app, &batch).await["report"].clone();
        assert_eq!(report[0]["customDataSaved"], true);
        let chat = report[0]["chatId"].as_str().expect("chatId");
        assert_eq!(
            app.scalar::<String>("SELECT custom_data FROM chats WHERE id = $1", chat).await,
            "Source: n8n"
        );
        assert_eq!(report[1]["chatCreated"], true);
        assert_eq!(report[1]["customDataSaved"], false, "nothing to save");
    }
);

both_backends!(
    async fn invalid_bodies_are_400_naming_the_field_and_write_nothing(app) {
        let campaign_id = campaign(&app, &app.team.team_id, "Validation").await;
        let long = "x".repeat(3001);
        let fits = "y".repeat(2995);
        let many: Vec<Value> = (0..101).map(person).collect();
        let cases = [
            (
                "/v1/prospects",
                json!({ "name": "A", "url": "in/a" }),
                "campaignId",
            ),
            (
                "/v1/prospects",
                json!({ "campaignId": campaign_id, "url": "in/a" }),
                "name",
            ),
            (
                "/v1/prospects",
                json!({ "campaignId": campaign_id, "name": "  ", "url": "in/a" }),
                "name",
            ),
            (
                "/v1/prospects",
                json!({ "campaignId": campaign_id, "name": "A" }),
                "url",
            ),
            (
                "/v1/prospects",
                json!({ "campaignId": campaign_id, "name": "A", "url": "" }),
                "url",
            ),
            (
                "/v1/prospects",
                json!({ "campaignId": campaign_id, "name": "A", "url": 42 }),
                "url",
            ),
            (
                "/v1/prospects",
                json!({ "campaignId": campaign_id, "name": "A", "url": "in/a", "ongoing": "yes" }),
                "ongoing",
            ),
            (
                "/v1/prospects",
                json!({
                    "campaignId": campaign_id, "name": "A", "url": "in/a", "customData": long
                }),
                "customData",
            ),
            (
                "/v1/prospects",
                json!({
                    "campaignId": campaign_id, "name": "A", "url": "in/a", "customData": fits,
                    "additionalFields": [{ "fieldName": "Company", "fieldValue": "Acme" }]
                }),
                "additionalFields",
            ),
            (
                "/v1/prospects",
                json!({
                    "campaignId": campaign_id, "name": "A", "url": "in/a",
                    "additionalFields": [{ "fieldName": "Company" }]
                }),
                "additionalFields[0].fieldValue",
            ),
            (
                "/v1/prospects",
                json!({ "campaignId": "", "name": "A", "url": "in/a" }),
                "campaignId",
            ),
            (
                "/v1/prospects/batch",
                json!({ "campaignId": campaign_id }),
                "prospects",
            ),
            (
                "/v1/prospects/batch",
                json!({ "campaignId": campaign_id, "prospects": [] }),
                "prospects",
            ),
            (
                "/v1/prospects/batch",
                json!({ "campaignId": campaign_id, "prospects": many }),
                "prospects",
            ),
            (
                "/v1/prospects/batch",
                json!({ "campaignId": campaign_id, "prospects": {} }),
                "prospects",
            ),
            (
                "/v1/prospects/batch",
                json!({ "campaignId": campaign_id, "prospects": [person(1), { "url": "in/b" }] }),
                "prospects[1].name",
            ),
            (
                "/v1/prospects/batch",
                json!({
                    "campaignId": campaign_id,
                    "prospects": [person(1), { "name": "B", "url": "in/b", "customData": long }]
                }),
                "prospects[1].customData",
            ),
            (
                "/v1/prospects/batch/round-robin",
                json!({ "campaignIds": [campaign_id, "other"], "prospects": [] }),
                "prospects",
            ),
            (
                "/v1/prospects/batch/round-robin",
                json!({ "campaignIds": [campaign_id, "other"], "prospects": many }),
                "prospects",
            ),
            (
                "/v1/prospects/batch/round-robin",
                json!({ "campaignIds": "a,b", "prospects": [person(1)] }),
                "campaignIds",
            ),
        ];
        for (path, body, field) in cases {
            let reply = app.post(app.key(), path, body.clone()).await;
            reply.expect_error(400, "validation_error");
            let fields: Vec<&str> = reply.body["details"]
                .as_array()
                .expect("details")
                .iter()
                .map(|d| d["field"].as_str().expect("field"))
                .collect();
            assert!(
                fields.contains(&field),
                "{path} {body}: expected {field} in {}",
                reply.body
            );
        }
        let malformed = app
            .send_raw(
                reqwest::Method::POST,
                "/v1/prospects/batch",
                app.key(),
                "{\"campaignId\": ",
            )
            .await;
        malformed.expect_error(400, "validation_error");
        assert_eq!(
            jobs_and_chats(&app).await,
            (0, 0),
            "a refused request writes nothing"
        );
        assert_eq!(drain(app.store.as_ref()).await, 0);
    }
);

both_backends!(
    async fn importing_into_an_unknown_or_foreign_campaign_is_404(app) {
        let campaign_id = campaign(&app, &app.team.team_id, "Mine").await;
        let other = app.new_team(Plan::Unlimited).await;
        for (key, id) in [
            (app.key(), "nope"),
            (other.key.as_str(), campaign_id.as_str()),
        ] {
            let single = app
                .post(
                    key,
                    "/v1/prospects",
                    json!({ "campaignId": id, "name": "A", "url": "in/a" }),
                )
                .await;
            single.expect_error(404, "not_found");
            assert_eq!(single.body["message"], "Campaign not found");
            let batch = app
                .post(
                    key,
                    "/v1/prospects/batch",
                    json!({ "campaignId": id, "prospects": [person(1)] }),
                )
                .await;
            batch.expect_error(404, "not_found");
        }
        assert_eq!(jobs_and_chats(&app).await, (0, 0));
        let unauthenticated = app
            .send(
                reqwest::Method::POST,
                "/v1/prospects",
                None,
                Some(json!({})),
            )
            .await;
        assert_eq!(unauthenticated.status, 401);
    }
);

both_backends!(
    async fn another_teams_import_is_not_found(app) {
        let campaign_id = campaign(&app, &app.team.team_id, "Private").await;
        let reply = app
            .post(
                app.key(),
                "/v1/prospects/batch",
                json!({ "campaignId": campaign_id, "prospects": [person(1)] }),
            )
            .await;
        let list = list_id(reply.expect(201));
        drain(app.store.as_ref()).await;
        let other = app.new_team(Plan::Unlimited).await;
        let foreign = app
            .get(&other.key, &format!("/v1/prospects/imports/{list}"))
            .await;
        foreign.expect_error(404, "not_found");
        assert_eq!(foreign.body["message"], "Import not found");
        app.get(app.key(), "/v1/prospects/imports/unknown")
            .await
            .expect_error(404, "not_found");
        let anonymous = app
            .send(
                reqwest::Method::GET,
                &format!("/v1/prospects/imports/{list}"),
                None,
                None,
            )
            .await;
        assert_eq!(anonymous.status, 401);
        assert_eq!(import_of(&app, &list).await["imported"], 1);
    }
);

both_backends!(
    async fn round_robin_fills_the_least_loaded_campaign_first(app) {
        let team = app.team.team_id.clone();
        let heavy = campaign(&app, &team, "Heavy").await;
        let light = campaign(&app, &team, "Light").await;
        let preload = |campaign_id: &str, from: usize, count: usize| {
            let prospects: Vec<Value> = (from..from + count).map(person).collect();
            json!({ "campaignId": campaign_id, "prospects": prospects })
        };
        app.post(app.key(), "/v1/prospects/batch", preload(&heavy, 100, 5))
            .await
            .expect(201);
        app.post(app.key(), "/v1/prospects/batch", preload(&light, 200, 2))
            .await
            .expect(201);
        drain(app.store.as_ref()).await;
        assert_eq!(prospects_count(&app, &heavy).await, 5);
        assert_eq!(prospects_count(&app, &light).await, 2);

        let prospects: Vec<Value> = (0..6).map(person).collect();
        let reply = app
            .post(
                app.key(),
                "/v1/prospects/batch/round-robin",
                json!({ "campaignIds": [heavy, light], "prospects": prospects }),
            )
            .await;
        let body = reply.expect(201).clone();
        assert_eq!(
            keys(&body),
            [
                "campaignsCount",
                "distribution",
                "message",
                "successfulCampaignIds",
                "totalProspects"
            ]
        );
        assert_eq!(
            body["message"],
            "Round Robin distribution processing started"
        );
        assert_eq!(body["totalProspects"], 6);
        assert_eq!(body["campaignsCount"], 2);
        assert_eq!(body["successfulCampaignIds"], json!([heavy, light]));
        let distribution = body["distribution"].as_array().expect("distribution");
        assert_eq!(distribution.len(), 2);
        for entry in distribution {
            assert_eq!(
                keys(entry),
                ["campaignId", "campaignName", "listId", "prospectsAssigned"]
            );
        }
        assert_eq!(distribution[0]["campaignId"], heavy.as_str());
        assert_eq!(distribution[0]["campaignName"], "Heavy");
        assert_eq!(distribution[0]["prospectsAssigned"], 2);
        assert_eq!(distribution[1]["campaignId"], light.as_str());
        assert_eq!(distribution[1]["campaignName"], "Light");
        assert_eq!(distribution[1]["prospectsAssigned"], 4);

        // Loads 5/2: light takes 0, 1, 2 (5/5), heavy 3, light 4 (6/6), heavy 5.
        assert_eq!(drain(app.store.as_ref()).await, 6);
        let urls_of = |import: &Value| -> Vec<String> {
            import["report"]
                .as_array()
                .expect("report")
                .iter()
                .map(|r| r["inputUrl"].as_str().expect("inputUrl").to_owned())
                .collect()
        };
        let heavy_list = import_of(&app, distribution[0]["listId"].as_str().expect("listId")).await;
        let light_list = import_of(&app, distribution[1]["listId"].as_str().expect("listId")).await;
        assert_eq!(heavy_list["campaignId"], heavy.as_str());
        assert_eq!(light_list["campaignId"], light.as_str());
        let url = |n: usize| format!("https://www.linkedin.com/in/person-{n}");
        assert_eq!(urls_of(&heavy_list), [url(3), url(5)]);
        assert_eq!(urls_of(&light_list), [url(0), url(1), url(2), url(4)]);
        assert_eq!(heavy_list["imported"], 2);
        assert_eq!(light_list["imported"], 4);
        assert_eq!(prospects_count(&app, &heavy).await, 7);
        assert_eq!(prospects_count(&app, &light).await, 6);
    }
);

both_backends!(
    async fn round_robin_ties_go_in_request_order_and_empty_shares_get_no_job(app) {
        let team = app.team.team_id.clone();
        let first = campaign(&app, &team, "First").await;
        let second = campaign(&app, &team, "Second").await;
        let third = campaign(&app, &team, "Third").await;
        let reply = app
            .post(
                app.key(),
                "/v1/prospects/batch/round-robin",
                json!({
                    "campaignIds": [third, first, third, second],
                    "prospects": [person(1), person(2)]
                }),
            )
            .await;
        let body = reply.expect(201);
        assert_eq!(body["campaignsCount"], 3, "a repeated id counts once");
        assert_eq!(body["successfulCampaignIds"], json!([third, first]));
        let assigned: Vec<(&str, i64)> = body["distribution"]
            .as_array()
            .expect("distribution")
            .iter()
            .map(|d| {
                (
                    d["campaignId"].as_str().expect("id"),
                    d["prospectsAssigned"].as_i64().expect("n"),
                )
            })
            .collect();
        assert_eq!(assigned, [(third.as_str(), 1), (first.as_str(), 1)]);
        assert_eq!(jobs_and_chats(&app).await, (2, 0));
    }
);

both_backends!(
    async fn round_robin_errors_are_the_documented_ones_and_write_nothing(app) {
        let team = app.team.team_id.clone();
        let mine = campaign(&app, &team, "Mine").await;
        let also_mine = campaign(&app, &team, "Also mine").await;
        let other = app.new_team(Plan::Unlimited).await;
        let theirs = campaign(&app, &other.team_id, "Theirs").await;
        let prospects = json!([person(1), person(2)]);
        let path = "/v1/prospects/batch/round-robin";

        for ids in [json!([mine]), json!([mine, mine]), json!([])] {
            let reply = app
                .post(
                    app.key(),
                    path,
                    json!({ "campaignIds": ids, "prospects": prospects }),
                )
                .await;
            reply.expect_error(400, "invalid_campaigns");
            assert_eq!(
                reply.body["message"],
                "Minimum 2 campaigns required for Round Robin distribution"
            );
        }
        let forbidden = app
            .post(
                app.key(),
                path,
                json!({ "campaignIds": [mine, theirs], "prospects": prospects }),
            )
            .await;
        forbidden.expect_error(403, "forbidden");
        assert_eq!(
            forbidden.body["message"],
            format!("Campaign {theirs} does not belong to your team")
        );
        let missing = app
            .post(
                app.key(),
                path,
                json!({
                    "campaignIds": [mine, "missing-campaign", also_mine],
                    "prospects": prospects
                }),
            )
            .await;
        missing.expect_error(404, "campaign_not_found");
        assert_eq!(
            missing.body["message"],
            "Campaign missing-campaign not found"
        );
        assert_eq!(
            jobs_and_chats(&app).await,
            (0, 0),
            "a refused request writes nothing"
        );
    }
);

both_backends!(
    async fn a_job_stopped_mid_way_resumes_from_another_process_without_duplicates(app) {
        let campaign_id = campaign(&app, &app.team.team_id, "Resumable").await;
        let mut prospects: Vec<Value> = (0..9).map(person).collect();
        prospects.insert(5, person(1));
        let reply = app
            .post(
                app.key(),
                "/v1/prospects/batch",
                json!({ "campaignId": campaign_id, "prospects": prospects }),
            )
            .await;
        let list = list_id(reply.expect(201));

        assert_eq!(app.store.process_imports(3).await.expect("first step"), 3);
        let halfway = import_of(&app, &list).await;
        assert_eq!(halfway["status"], "processing");
        assert_counters(
            &halfway,
            [
                ("total", 10),
                ("processed", 3),
                ("imported", 3),
                ("existing", 0),
                ("invalid", 0),
                ("skippedDnc", 0),
                ("enrichmentFailed", 0),
                ("currentIndex", 3),
            ],
        );
        assert_eq!(halfway["report"].as_array().expect("report").len(), 3);
        assert!(halfway["completedAt"].is_null());
        timestamp(&halfway["startedAt"]);

        // Another process (a fresh store on the same database) picks the job up.
        let restarted = outbound_store::connect(&app.database_url)
            .await
            .expect("reconnect");
        assert_eq!(drain(restarted.as_ref()).await, 7);
        assert_eq!(drain(app.store.as_ref()).await, 0);
        let done = import_of(&app, &list).await;
        assert_eq!(done["status"], "completed");
        assert_counters(
            &done,
            [
                ("total", 10),
                ("processed", 10),
                ("imported", 9),
                ("existing", 1),
                ("invalid", 0),
                ("skippedDnc", 0),
                ("enrichmentFailed", 0),
                ("currentIndex", 10),
            ],
        );
        let report = done["report"].as_array().expect("report");
        let indexes: Vec<i64> = report
            .iter()
            .map(|r| r["index"].as_i64().expect("index"))
            .collect();
        assert_eq!(indexes, (0..10).collect::<Vec<_>>());
        assert_eq!(report[5]["status"], "existing");
        assert_eq!(report[5]["chatId"], report[1]["chatId"]);
        let chats: HashSet<&str> = report
            .iter()
            .map(|r| r["chatId"].as_str().expect("chatId"))
            .collect();
        assert_eq!(chats.len(), 9);
        assert_eq!(
            app.scalar::<i64>(
                "SELECT COUNT(*) FROM chats WHERE campaign_id = $1",
                &campaign_id
            )
            .await,
            9
        );
        assert_eq!(prospects_count(&app, &campaign_id).await, 9);
        assert_eq!(
            timestamp(&halfway["startedAt"]),
            timestamp(&done["startedAt"]),
            "startedAt is the first step's"
        );
    }
);

both_backends!(
    async fn a_job_whose_batches_keep_failing_is_failed_and_does_not_block_the_queue(app) {
        let campaign_id = campaign(&app, &app.team.team_id, "Failing").await;
        app.execute(
            &["CREATE TRIGGER refuse_chats BEFORE INSERT ON chats \
               BEGIN SELECT RAISE(ABORT, 'refused'); END"],
            &[
                "CREATE FUNCTION refuse_chats() RETURNS trigger AS \
                 $$ BEGIN RAISE EXCEPTION 'refused'; END $$ LANGUAGE plpgsql",
                "CREATE TRIGGER refuse_chats BEFORE INSERT ON chats FOR EACH ROW \
                 EXECUTE FUNCTION refuse_chats()",
            ],
            &[],
        )
        .await;
        let doomed = app
            .post(
                app.key(),
                "/v1/prospects/batch",
                json!({ "campaignId": campaign_id, "prospects": [person(1), person(2)] }),
            )
            .await;
        let doomed = list_id(doomed.expect(201));
        for attempt in 1..=outbound_store::imports::MAX_ATTEMPTS {
            assert!(
                app.store.process_imports(STEP).await.is_err(),
                "attempt {attempt}"
            );
            let status = import_of(&app, &doomed).await["status"].clone();
            let expected = if attempt < outbound_store::imports::MAX_ATTEMPTS {
                "queued"
            } else {
                "failed"
            };
            assert_eq!(status, expected, "after attempt {attempt}");
        }
        let failed = import_of(&app, &doomed).await;
        assert_eq!(failed["processed"], 0);
        assert_eq!(failed["report"], json!([]));
        timestamp(&failed["completedAt"]);
        assert_eq!(
            jobs_and_chats(&app).await.1,
            0,
            "every failed batch was rolled back"
        );

        app.execute(
            &["DROP TRIGGER refuse_chats"],
            &["DROP TRIGGER refuse_chats ON chats"],
            &[],
        )
        .await;
        let next = app
            .post(
                app.key(),
                "/v1/prospects",
                json!({ "campaignId": campaign_id, "name": "Later", "url": "in/later" }),
            )
            .await;
        let next = list_id(next.expect(201));
        assert_eq!(
            drain(app.store.as_ref()).await,
            1,
            "the failed job is not retried"
        );
        assert_eq!(import_of(&app, &next).await["status"], "completed");
        assert_eq!(import_of(&app, &doomed).await["status"], "failed");
    }
);

both_backends!(
    async fn a_client_team_reads_imports_of_assigned_agents_only_and_cannot_import(app) {
        let team = app.team.team_id.clone();
        let campaign_id = campaign(&app, &team, "Shared").await;
        let agent = app
            .store
            .get_campaign(&team, &campaign_id)
            .await
            .expect("campaign")
            .agent_id;
        let reply = app
            .post(
                app.key(),
                "/v1/prospects/batch",
                json!({ "campaignId": campaign_id, "prospects": [person(1)] }),
            )
            .await;
        let list = list_id(reply.expect(201));
        drain(app.store.as_ref()).await;
        let workspace = app
            .store
            .create_workspace(&team, "Client")
            .await
            .expect("workspace");
        let client_key = app.new_key(&workspace.client_team_id).await;
        let path = format!("/v1/prospects/imports/{list}");
        app.get(&client_key, &path)
            .await
            .expect_error(404, "not_found");

        app.store
            .assign_workspace_agent(&team, &workspace.id, &agent)
            .await
            .expect("assign");
        let seen = app.get(&client_key, &path).await;
        assert_eq!(seen.expect(200), &import_of(&app, &list).await);
        app.post(
            &client_key,
            "/v1/prospects",
            json!({ "campaignId": campaign_id, "name": "A", "url": "in/a" }),
        )
        .await
        .expect_error(404, "not_found");
        let other = campaign(&app, &workspace.client_team_id, "Client's own").await;
        app.post(
            &client_key,
            "/v1/prospects/batch/round-robin",
            json!({ "campaignIds": [other, campaign_id], "prospects": [person(2)] }),
        )
        .await
        .expect_error(403, "forbidden");

        app.store
            .unassign_workspace_agent(&team, &workspace.id, &agent)
            .await
            .expect("unassign");
        app.get(&client_key, &path)
            .await
            .expect_error(404, "not_found");
        assert_eq!(
            jobs_and_chats(&app).await,
            (1, 1),
            "the client team wrote nothing"
        );
    }
);

both_backends!(
    async fn concurrent_workers_share_the_queue_and_never_run_one_job_twice(app) {
        const JOBS: usize = 4;
        const ROWS: usize = 30;
        const WORKERS: usize = 4;
        let campaign_id = campaign(&app, &app.team.team_id, "Busy").await;
        let mut lists = Vec::new();
        for job in 0..JOBS {
            let prospects: Vec<Value> = (0..ROWS).map(|n| person(job * 1000 + n)).collect();
            let reply = app
                .post(
                    app.key(),
                    "/v1/prospects/batch",
                    json!({ "campaignId": campaign_id, "prospects": prospects }),
                )
                .await;
            lists.push(list_id(reply.expect(201)));
        }
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..WORKERS {
            let store = outbound_store::connect(&app.database_url)
                .await
                .expect("worker store");
            workers.spawn(async move {
                let mut total = 0;
                loop {
                    match store.process_imports(7).await.expect("no worker fails") {
                        0 => return total,
                        rows => total += rows,
                    }
                }
            });
        }
        let processed: usize = workers.join_all().await.into_iter().sum();
        assert_eq!(processed, JOBS * ROWS, "every row processed exactly once");
        for list in &lists {
            let import = import_of(&app, list).await;
            assert_eq!(import["status"], "completed");
            assert_eq!(import["processed"], ROWS);
            assert_eq!(import["imported"], ROWS);
        }
        assert_eq!(
            prospects_count(&app, &campaign_id).await,
            i64::try_from(JOBS * ROWS).expect("small")
        );
    }
);
