//! Sales Navigator imports: `POST /v1/prospects/sales-navigator` (202, validation, every
//! documented refusal, the per-campaign and per-team limits) and our
//! `GET /v1/prospects/sales-navigator/{sourceId}`; and the worker end to end: the agent set up
//! through the API and logged in by the outreach engine on the sandbox connector, the search
//! run by `outbound_engine::sales_navigator`, its people imported by the import worker.

use crate::both_backends;
use crate::common::{TestApp, assert_keys, keys, timestamp};
use outbound_core::plan::Plan;
use outbound_core::time::now_millis;
use outbound_engine::outreach::{Engine, EngineConfig, ModelRegistry};
use outbound_engine::sales_navigator::{AGENT_WAIT, process_next, process_next_at};
use outbound_linkedin::{Account, LinkedInConnector, SandboxConnector};
use outbound_store::Store;
use serde_json::{Value, json};
use std::sync::Arc;

const PATH: &str = "/v1/prospects/sales-navigator";
const GPT_41: &str = "680321aa001300a6673d";
const SEED: u64 = 42;
/// Rows per import worker step.
const STEP: i64 = 100;

/// A people search URL numbered `n`.
fn search(n: usize) -> String {
    format!(
        "https://www.linkedin.com/sales/search/people?query=(keywords%3ASaaS{n})&viewAllFilters=true"
    )
}

async fn new_agent(app: &TestApp, key: &str) -> String {
    let reply = app.post_empty(key, "/v1/agents").await;
    reply.expect(201)["id"].as_str().expect("id").to_owned()
}

/// Gives the agent LinkedIn credentials (status `auth_in_progress`, password sealed).
async fn setup(app: &TestApp, key: &str, agent: &str) {
    let reply = app
        .post(
            key,
            &format!("/v1/agents/{agent}/setup"),
            json!({ "login": "sam.smith@example.com", "password": "correct horse", "country": "fr" }),
        )
        .await;
    reply.expect(200);
}

/// A campaign of `agent`, with a fresh product and prompt.
async fn new_campaign(app: &TestApp, key: &str, agent: &str, name: &str) -> String {
    let product = app
        .post(
            key,
            "/v1/products",
            json!({ "name": format!("{name} offer"), "description": "What we sell, in detail." }),
        )
        .await;
    let product = product.expect(201)["id"].as_str().expect("id").to_owned();
    let prompt = app
        .post(
            key,
            "/v1/prompts",
            json!({ "name": format!("{name} prompt"), "type": "Messages", "model": GPT_41 }),
        )
        .await;
    let prompt = prompt.expect(201)["id"].as_str().expect("id").to_owned();
    let campaign = app
        .post(
            key,
            "/v1/campaigns",
            json!({ "name": name, "productId": product, "promptId": prompt, "agentId": agent }),
        )
        .await;
    campaign.expect(201)["id"]
        .as_str()
        .expect("campaign id")
        .to_owned()
}

/// A campaign whose agent has its credentials; returns `(agent, campaign)`.
async fn ready_campaign(app: &TestApp, key: &str, name: &str) -> (String, String) {
    let agent = new_agent(app, key).await;
    setup(app, key, &agent).await;
    let campaign = new_campaign(app, key, &agent, name).await;
    (agent, campaign)
}

async fn queue(app: &TestApp, key: &str, campaign: &str, url: &str) -> crate::common::Reply {
    app.post(
        key,
        PATH,
        json!({ "campaignId": campaign, "searchUrl": url }),
    )
    .await
}

/// The `sourceId` of a 202.
fn source_id(reply: &crate::common::Reply) -> String {
    reply.expect(202)["sourceId"]
        .as_str()
        .expect("sourceId")
        .to_owned()
}

/// Saved searches in the database, whatever their team.
async fn sources_count(app: &TestApp) -> i64 {
    app.scalar(
        "SELECT COUNT(*) FROM sales_navigator_sources WHERE id <> $1",
        "",
    )
    .await
}

/// Makes a campaign a draft, which the API cannot do (nothing creates drafts yet).
async fn make_draft(app: &TestApp, campaign: &str) {
    let sql = "UPDATE campaigns SET status = 'draft' WHERE id = $1";
    app.execute(&[sql], &[sql], &[campaign]).await;
}

/// Runs the outreach engine once, as `outbound serve` would: it logs set-up agents in.
async fn run_engine(app: &TestApp, connector: Arc<dyn LinkedInConnector>) {
    let engine = Engine::new(
        Arc::clone(&app.store),
        connector,
        ModelRegistry::offline(),
        Arc::clone(&app.secrets),
        EngineConfig::default(),
    );
    engine.run_all_due(now_millis()).await.expect("engine");
}

/// Runs the import worker until no job is left.
async fn drain_imports(store: &dyn Store) {
    while store.process_imports(STEP).await.expect("import step") > 0 {}
}

/// Asserts a 400 `validation_error` whose first detail names `field`.
#[track_caller]
fn assert_invalid(reply: &crate::common::Reply, field: &str) {
    reply.expect_error(400, "validation_error");
    let details = reply.body["details"].as_array().expect("details");
    assert_eq!(details[0]["field"], field, "body: {}", reply.body);
}

both_backends!(
    /// 202 with exactly the documented keys, defaults applied, and the search read back by
    /// its team only.
    async fn a_search_is_queued_and_read_back_by_its_team_only(app) {
        let (_, campaign) = ready_campaign(&app, app.key(), "Searches").await;
        let url = search(1);
        let reply = queue(&app, app.key(), &campaign, &url).await;
        let body = reply.expect(202).clone();
        assert_eq!(
            keys(&body),
            ["message", "requestedCount", "runId", "sourceId", "status"],
            "{body}"
        );
        assert_eq!(body["message"], "Sales Navigator import queued");
        assert_eq!(body["status"], "queued");
        assert_eq!(body["requestedCount"], 250);
        assert!(body["runId"].is_null(), "{body}");
        let id = source_id(&reply);

        let path = format!("{PATH}/{id}");
        let read = app.get(app.key(), &path).await.expect(200).clone();
        assert_keys(
            &read,
            &["campaignId", "createdAt", "name", "requestedCount", "searchUrl", "sourceId", "status"],
            &["completedAt", "error", "foundCount", "listId", "runId"],
        );
        assert_eq!(read["sourceId"], id.as_str());
        assert_eq!(read["campaignId"], campaign.as_str());
        assert_eq!(read["name"], "Sales Navigator import");
        assert_eq!(read["searchUrl"], url.as_str());
        assert_eq!(read["requestedCount"], 250);
        assert_eq!(read["status"], "queued");
        for empty in ["runId", "listId", "foundCount", "error", "completedAt"] {
            assert!(read[empty].is_null(), "{empty}: {read}");
        }
        timestamp(&read["createdAt"]);

        // Explicit count and name (trimmed).
        let (_, other) = ready_campaign(&app, app.key(), "More searches").await;
        let reply = app
            .post(
                app.key(),
                PATH,
                json!({
                    "campaignId": other,
                    "searchUrl": search(1),
                    "requestedCount": 500,
                    "name": "  US SaaS Sales Leaders "
                }),
            )
            .await;
        assert_eq!(reply.expect(202)["requestedCount"], 500);
        let read = app.get(app.key(), &format!("{PATH}/{}", source_id(&reply))).await;
        assert_eq!(read.expect(200)["name"], "US SaaS Sales Leaders");

        let stranger = app.new_team(Plan::Unlimited).await;
        app.get(&stranger.key, &path).await.expect_error(404, "not_found");
        app.get(app.key(), &format!("{PATH}/nope")).await.expect_error(404, "not_found");
    }
);

both_backends!(
    /// 404 for campaigns the team cannot see (another team's included), 403 for one it sees
    /// only as an agency client, 400 without a set-up agent or for a draft; a paused campaign
    /// is fine. Nothing is written by a refusal.
    async fn campaigns_that_cannot_take_a_search_are_refused(app) {
        let url = search(1);
        queue(&app, app.key(), "nope", &url)
            .await
            .expect_error(404, "campaign_not_found");

        let stranger = app.new_team(Plan::Unlimited).await;
        let (_, theirs) = ready_campaign(&app, &stranger.key, "Theirs").await;
        queue(&app, app.key(), &theirs, &url)
            .await
            .expect_error(404, "campaign_not_found");

        let unset = new_agent(&app, app.key()).await;
        let campaign = new_campaign(&app, app.key(), &unset, "No agent").await;
        queue(&app, app.key(), &campaign, &url)
            .await
            .expect_error(400, "campaign_missing_agent");

        let (_, draft) = ready_campaign(&app, app.key(), "Draft").await;
        make_draft(&app, &draft).await;
        queue(&app, app.key(), &draft, &url)
            .await
            .expect_error(400, "campaign_not_ready");

        // An agency's campaign, seen by the client team of a workspace.
        let agency = app.new_team(Plan::Agency).await;
        let (agent, shared) = ready_campaign(&app, &agency.key, "Shared").await;
        let workspace = app
            .post(&agency.key, "/v1/workspaces", json!({ "name": "Globex" }))
            .await;
        let workspace = workspace.expect(201).clone();
        let client = app
            .new_key(workspace["clientTeamId"].as_str().expect("client team"))
            .await;
        let assign = format!(
            "/v1/workspaces/{}/agents/{agent}",
            workspace["id"].as_str().expect("id")
        );
        app.post_empty(&agency.key, &assign).await.expect(200);
        queue(&app, &client, &shared, &url)
            .await
            .expect_error(403, "forbidden");
        assert_eq!(sources_count(&app).await, 0, "a refusal writes nothing");

        // The agency's own search is readable by its client, as its imports are.
        let id = source_id(&queue(&app, &agency.key, &shared, &url).await);
        app.get(&client, &format!("{PATH}/{id}")).await.expect(200);

        let (_, paused) = ready_campaign(&app, app.key(), "Paused").await;
        app.post_empty(app.key(), &format!("/v1/campaigns/{paused}/pause"))
            .await
            .expect(200);
        queue(&app, app.key(), &paused, &url).await.expect(202);
    }
);

both_backends!(
    /// One active import per campaign (a queued search or import job makes it busy), three
    /// active searches per team; a search URL once per campaign.
    async fn campaigns_take_one_import_at_a_time_and_teams_three_searches(app) {
        let (_, first) = ready_campaign(&app, app.key(), "First").await;
        source_id(&queue(&app, app.key(), &first, &search(1)).await);
        queue(&app, app.key(), &first, &search(2))
            .await
            .expect_error(409, "campaign_busy");
        queue(&app, app.key(), &first, &search(1))
            .await
            .expect_error(409, "sales_navigator_source_exists");

        // A queued ordinary import makes a campaign busy too.
        let (_, importing) = ready_campaign(&app, app.key(), "Importing").await;
        app.post(
            app.key(),
            "/v1/prospects",
            json!({
                "campaignId": importing,
                "name": "Jane Doe",
                "url": "https://www.linkedin.com/in/jane-doe"
            }),
        )
        .await
        .expect(201);
        queue(&app, app.key(), &importing, &search(1))
            .await
            .expect_error(409, "campaign_busy");
        drain_imports(app.store.as_ref()).await;

        // The same URL may be saved for another campaign; the team's third search is the last.
        source_id(&queue(&app, app.key(), &importing, &search(1)).await);
        let (_, third) = ready_campaign(&app, app.key(), "Third").await;
        source_id(&queue(&app, app.key(), &third, &search(3)).await);
        let (_, fourth) = ready_campaign(&app, app.key(), "Fourth").await;
        let before = sources_count(&app).await;
        let reply = queue(&app, app.key(), &fourth, &search(4)).await;
        reply.expect_error(429, "sales_navigator_team_limit");
        assert!(
            reply.headers.get("retry-after").is_none(),
            "no fixed retry time: {:?}",
            reply.headers
        );
        assert_eq!(sources_count(&app).await, before, "nothing written");

        // Another team's limit is its own.
        let other = app.new_team(Plan::Unlimited).await;
        let (_, theirs) = ready_campaign(&app, &other.key, "Theirs").await;
        source_id(&queue(&app, &other.key, &theirs, &search(4)).await);
    }
);

both_backends!(
    /// Unknown fields, bad URLs, counts and names, wrong types: 400 naming the field, nothing
    /// written.
    async fn invalid_requests_name_the_field_and_write_nothing(app) {
        let (_, campaign) = ready_campaign(&app, app.key(), "Validated").await;
        let good = search(1);
        let long = format!("{good}&x={}", "a".repeat(20_000));
        let with = |field: &str, value: Value| {
            let mut body = json!({ "campaignId": campaign, "searchUrl": good });
            body[field] = value;
            body
        };
        let cases = [
            (with("extra", json!(1)), "extra"),
            (with("prospects", json!([])), "prospects"),
            (json!({ "searchUrl": good }), "campaignId"),
            (json!({ "campaignId": campaign }), "searchUrl"),
            (with("campaignId", json!(42)), "campaignId"),
            (with("campaignId", json!("  ")), "campaignId"),
            (with("searchUrl", json!("")), "searchUrl"),
            (with("searchUrl", json!(7)), "searchUrl"),
            (
                with(
                    "searchUrl",
                    json!("http://www.linkedin.com/sales/search/people?query=(a)"),
                ),
                "searchUrl",
            ),
            (
                with(
                    "searchUrl",
                    json!("https://www.example.com/sales/search/people?query=(a)"),
                ),
                "searchUrl",
            ),
            (
                with(
                    "searchUrl",
                    json!("https://www.linkedin.com/sales/search/company?query=(a)"),
                ),
                "searchUrl",
            ),
            (
                with(
                    "searchUrl",
                    json!("https://www.linkedin.com/sales/search/people?keywords=a"),
                ),
                "searchUrl",
            ),
            (with("searchUrl", json!(long)), "searchUrl"),
            (with("requestedCount", json!(99)), "requestedCount"),
            (with("requestedCount", json!(1000)), "requestedCount"),
            (with("requestedCount", json!(-250)), "requestedCount"),
            (with("requestedCount", json!(250.5)), "requestedCount"),
            (with("requestedCount", json!("x")), "requestedCount"),
            (with("requestedCount", json!(1e30)), "requestedCount"),
            (with("name", json!("")), "name"),
            (with("name", json!("   ")), "name"),
            (with("name", json!("n".repeat(121))), "name"),
            (with("name", json!(["a"])), "name"),
        ];
        for (body, field) in cases {
            let reply = app.post(app.key(), PATH, body.clone()).await;
            assert_invalid(&reply, field);
        }
        let reply = app.send_raw(reqwest::Method::POST, PATH, app.key(), "{\"campaignId\":").await;
        reply.expect_error(400, "validation_error");
        let reply = app.post(app.key(), PATH, json!([1, 2])).await;
        reply.expect_error(400, "validation_error");
        assert_eq!(sources_count(&app).await, 0, "nothing written");

        // The edges of what is accepted.
        let reply = app
            .post(
                app.key(),
                PATH,
                json!({
                    "campaignId": campaign,
                    "searchUrl": good,
                    "requestedCount": 100,
                    "name": "n".repeat(120)
                }),
            )
            .await;
        assert_eq!(reply.expect(202)["requestedCount"], 100);
    }
);

both_backends!(
    /// The worker end to end: the search waits for its agent's login, then its people become
    /// one import job carried out like any import (DNC), and chats exist in the campaign.
    async fn the_worker_imports_the_people_found(app) {
        let sandbox = SandboxConnector::with_defaults(SEED);
        let connector: Arc<dyn LinkedInConnector> = Arc::new(sandbox.clone());
        let (_, campaign) = ready_campaign(&app, app.key(), "Imported").await;
        let url = search(9);
        let reply = app
            .post(
                app.key(),
                PATH,
                json!({ "campaignId": campaign, "searchUrl": url, "requestedCount": 100 }),
            )
            .await;
        let id = source_id(&reply);
        let path = format!("{PATH}/{id}");

        // The agent is set up but not logged in yet: the search waits.
        assert!(
            process_next(app.store.as_ref(), connector.as_ref(), &app.secrets)
                .await
                .expect("step")
        );
        let read = app.get(app.key(), &path).await.expect(200).clone();
        assert_eq!(read["status"], "queued", "{read}");
        assert!(read["runId"].is_string(), "{read}");
        assert!(read["error"].as_str().is_some_and(|e| e.contains("connected")), "{read}");

        // The outreach engine logs the agent in; one found person is on the DNC list.
        run_engine(&app, Arc::clone(&connector)).await;
        let probe = Account {
            id: "probe".into(),
            provider_account_id: Some("probe".into()),
            login: "probe@example.com".into(),
            password: "x".into(),
            country: String::new(),
        };
        let people = sandbox
            .search_sales_navigator(&probe, &url, 100)
            .await
            .expect("the sandbox's people");
        assert_eq!(people.len(), 100);
        app.post(app.key(), "/v1/dnc", json!({ "url": people[0].profile_url }))
            .await
            .expect(201);

        let later = now_millis() + AGENT_WAIT;
        assert!(
            process_next_at(app.store.as_ref(), connector.as_ref(), &app.secrets, later)
                .await
                .expect("step")
        );
        let read = app.get(app.key(), &path).await.expect(200).clone();
        assert_eq!(read["status"], "completed", "{read}");
        assert_eq!(read["foundCount"], 100);
        assert!(read["error"].is_null(), "{read}");
        timestamp(&read["completedAt"]);
        let list = read["listId"].as_str().expect("listId").to_owned();

        // Busy while its import job runs; then the campaign takes another search.
        queue(&app, app.key(), &campaign, &search(10))
            .await
            .expect_error(409, "campaign_busy");
        drain_imports(app.store.as_ref()).await;
        let import = app
            .get(app.key(), &format!("/v1/prospects/imports/{list}"))
            .await
            .expect(200)
            .clone();
        assert_eq!(import["status"], "completed", "{import}");
        assert_eq!(import["campaignId"], campaign.as_str());
        assert_eq!(
            (&import["total"], &import["imported"], &import["skippedDnc"]),
            (&json!(100), &json!(99), &json!(1)),
            "{import}"
        );
        let report = import["report"].as_array().expect("report");
        assert_eq!(report[0]["status"], "skipped_dnc");
        assert_eq!(report[1]["inputUrl"], people[1].profile_url.as_str());
        let prospects = app
            .store
            .get_campaign(&app.team.team_id, &campaign)
            .await
            .expect("campaign")
            .counters
            .prospects;
        assert_eq!(prospects, 99, "one chat per imported person");
        let chat = report[1]["chatId"].as_str().expect("chat id");
        let chat = app.get(app.key(), &format!("/v1/prospects/{chat}")).await;
        chat.expect(200);

        queue(&app, app.key(), &campaign, &url)
            .await
            .expect_error(409, "sales_navigator_source_exists");
        let next = source_id(&queue(&app, app.key(), &campaign, &search(10)).await);
        assert!(
            process_next(app.store.as_ref(), connector.as_ref(), &app.secrets)
                .await
                .expect("step")
        );
        let done = app.get(app.key(), &format!("{PATH}/{next}")).await;
        assert_eq!(done.expect(200)["status"], "completed");
        let again = app.get(app.key(), &path).await.expect(200).clone();
        assert_eq!(again, read, "a finished search is never run again");

        let stranger = app.new_team(Plan::Unlimited).await;
        app.get(&stranger.key, &path).await.expect_error(404, "not_found");

        // A deleted campaign takes its searches with it.
        drain_imports(app.store.as_ref()).await;
        let campaign_path = format!("/v1/campaigns/{campaign}");
        app.post_empty(app.key(), &format!("{campaign_path}/pause"))
            .await
            .expect(200);
        app.delete(app.key(), &campaign_path).await.expect(200);
        app.get(app.key(), &path).await.expect_error(404, "not_found");
    }
);
