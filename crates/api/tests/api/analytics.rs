//! Analytics: the overview and a campaign's figures checked against a hand-computed fixture
//! (messages, replies and verdicts at chosen times over several days), the rates and their
//! division by zero, the daily breakdown by UTC day newest first within 30 days, the status and
//! verdict breakdowns, client teams of agency workspaces, and second teams.
//!
//! The fixture, in campaign "Fintech" (4 people) of a team that also has an empty paused
//! campaign and an empty completed one, and two agents of which one runs:
//!
//! | chat | events (A = agent's message, U = prospect's, Q = verdict)                 | status |
//! |------|---------------------------------------------------------------------------|--------|
//! | ana  | A 40 days ago, A 10 days ago, U 2 days ago, A 1 hour ago                  | 4      |
//! | bob  | A 2 days ago, U yesterday (noon), Q qualified 2 hours ago                 | 5      |
//! | cara | A 10 days ago, Q unqualified 2 days ago                                   | 6      |
//! | dan  | nothing                                                                   | 0      |
//!
//! Totals: 4 prospects, 5 agent messages, 2 answered, 1 qualified, 1 closed. Rates: conversion
//! 1/4 = 25 %, response 2/4 = 50 %, qualification 1/2 = 50 %, 5/4 = 1.25 messages per prospect.
//! Days ("2 days ago" and "10 days ago" are at noon UTC): 10 days ago 2 messages; 2 days ago 1
//! message, 1 response; yesterday 1 response; and the day(s) of "1 hour ago" (1 message) and
//! "2 hours ago" (1 qualified), which are today or yesterday depending on the clock. The last 7
//! days: 2 messages, 2 responses, 1 qualified; the last 24 hours: 1 message, 1 qualified.

use crate::both_backends;
use crate::common::{Reply, TestApp, keys, timestamp};
use outbound_core::agent::AgentEvent;
use outbound_core::plan::Plan;
use outbound_core::time::{iso8601, now_millis};
use outbound_store::agents::AgentChange;
use outbound_store::chats::{Added, NewConversation, Role, Verdict};
use serde_json::{Value, json};

const GPT_41: &str = "680321aa001300a6673d";
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

fn id_of(reply: &Reply, status: u16) -> String {
    reply.expect(status)["id"]
        .as_str()
        .expect("an id")
        .to_owned()
}

struct Campaign {
    id: String,
    agent: String,
}

/// A campaign of the team of `key`, with a product named `product`.
async fn new_campaign(app: &TestApp, key: &str, name: &str, product: &str) -> Campaign {
    let product = id_of(
        &app.post(
            key,
            "/v1/products",
            json!({ "name": product, "description": "What we sell" }),
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

async fn add(app: &TestApp, team: &str, campaign: &str, slug: &str) -> String {
    let person = NewConversation {
        name: format!("Person {slug}"),
        url: format!("https://linkedin.com/in/{slug}"),
        slug: slug.to_owned(),
        custom_data: String::new(),
        ongoing: false,
        list_id: None,
    };
    match app
        .store
        .add_to_campaign(team, campaign, person, now_millis())
        .await
        .expect("add to campaign")
    {
        Added::Created { chat_id, .. } => chat_id,
        other => panic!("not created: {other:?}"),
    }
}

async fn message(app: &TestApp, team: &str, chat: &str, role: Role, at: i64) {
    app.store
        .append_message(team, chat, role, "hello", at)
        .await
        .expect("append message");
}

async fn verdict(app: &TestApp, team: &str, chat: &str, verdict: Verdict, at: i64) {
    assert!(
        app.store
            .judge_chat(team, chat, verdict, at)
            .await
            .expect("judge")
    );
}

/// `YYYY-MM-DD` of a timestamp, UTC.
fn date(at: i64) -> String {
    iso8601(at)[..10].to_owned()
}

/// The fixture of the module docs; returns the main campaign, the empty paused one, and the
/// moment the fixture was built around.
async fn fixture(app: &TestApp) -> (Campaign, String, i64) {
    let team = app.team.team_id.clone();
    let key = app.key().to_owned();
    let fintech = new_campaign(app, &key, "Fintech", "Ledger AI").await;
    let paused = new_campaign(app, &key, "Paused one", "Other").await;
    app.post_empty(&key, &format!("/v1/campaigns/{}/pause", paused.id))
        .await
        .expect(200);
    let completed = new_campaign(app, &key, "Done one", "Other").await;
    app.store
        .complete_campaign(&team, &completed.id)
        .await
        .expect("complete");
    // One running agent.
    app.post(
        &key,
        &format!("/v1/agents/{}/setup", fintech.agent),
        json!({ "login": "sam@example.com", "password": "Sup3r-Secret", "country": "fr" }),
    )
    .await
    .expect(200);
    app.store
        .transition_agent(
            &team,
            &fintech.agent,
            AgentEvent::LoginSucceeded,
            AgentChange::Nothing,
        )
        .await
        .expect("running");

    let now = now_millis();
    let today = now - now.rem_euclid(DAY);
    let noon = |days_ago: i64| today - days_ago * DAY + 12 * HOUR;
    let ana = add(app, &team, &fintech.id, "ana").await;
    let bob = add(app, &team, &fintech.id, "bob").await;
    let cara = add(app, &team, &fintech.id, "cara").await;
    add(app, &team, &fintech.id, "dan").await;
    message(app, &team, &ana, Role::Assistant, noon(40)).await;
    message(app, &team, &ana, Role::Assistant, noon(10)).await;
    message(app, &team, &ana, Role::User, noon(2)).await;
    message(app, &team, &ana, Role::Assistant, now - HOUR).await;
    message(app, &team, &bob, Role::Assistant, noon(2)).await;
    message(app, &team, &bob, Role::User, noon(1)).await;
    verdict(app, &team, &bob, Verdict::Qualified, now - 2 * HOUR).await;
    message(app, &team, &cara, Role::Assistant, noon(10)).await;
    verdict(app, &team, &cara, Verdict::Unqualified, noon(2)).await;
    (fintech, paused.id, now)
}

/// The expected daily breakdown: `(at, messages, responses, qualified)` events summed by day,
/// newest first.
fn days(events: &[(i64, i64, i64, i64)]) -> Value {
    let mut by_day: std::collections::BTreeMap<String, [i64; 3]> = Default::default();
    for &(at, messages, responses, qualified) in events {
        let day = by_day.entry(date(at)).or_default();
        day[0] += messages;
        day[1] += responses;
        day[2] += qualified;
    }
    Value::Array(
        by_day
            .into_iter()
            .rev()
            .map(|(date, [messages, responses, qualified])| {
                json!({ "date": date, "messages": messages, "responses": responses, "qualified": qualified })
            })
            .collect(),
    )
}

both_backends!(
    async fn campaign_analytics_match_the_hand_computed_fixture(app) {
        let (fintech, _, now) = fixture(&app).await;
        let reply = app.get(app.key(), &format!("/v1/analytics/campaigns/{}", fintech.id)).await;
        let body = reply.expect(200).clone();
        assert_eq!(
            keys(&body),
            ["activity", "campaign", "metrics", "qualificationBreakdown", "statusDistribution"]
        );
        assert_eq!(keys(&body["campaign"]), ["agent", "createdAt", "id", "name", "product", "status"]);
        timestamp(&body["campaign"]["createdAt"]);
        assert_eq!(body["campaign"]["id"], fintech.id.as_str());
        assert_eq!(body["campaign"]["name"], "Fintech");
        assert_eq!(body["campaign"]["status"], "active");
        assert_eq!(body["campaign"]["agent"], fintech.agent.as_str());
        assert_eq!(body["campaign"]["product"], "Ledger AI");
        assert_eq!(
            body["metrics"],
            json!({
                "totalProspects": 4,
                "totalMessages": 5,
                "totalQualified": 1,
                "totalAnswers": 2,
                "totalClosed": 1,
                "conversionRate": 25.0,
                "responseRate": 50.0,
                "qualificationRate": 50.0,
                "averageMessagesPerProspect": 1.25,
            })
        );
        let today = now - now.rem_euclid(DAY);
        let noon = |days_ago: i64| today - days_ago * DAY + 12 * HOUR;
        let expected_days = days(&[
            (noon(10), 2, 0, 0),
            (noon(2), 1, 1, 0),
            (noon(1), 0, 1, 0),
            (now - HOUR, 1, 0, 0),
            (now - 2 * HOUR, 0, 0, 1),
        ]);
        assert_eq!(body["activity"]["dailyBreakdown"], expected_days);
        assert_eq!(body["activity"]["dailyBreakdown"][0]["date"], date(now - HOUR));
        assert_eq!(
            body["activity"]["last7Days"],
            json!({ "messages": 2, "responses": 2, "qualified": 1 })
        );
        assert_eq!(
            body["statusDistribution"],
            json!({ "pending": 1, "contacted": 0, "responded": 1, "qualified": 1, "closed": 1 })
        );
        assert_eq!(
            body["qualificationBreakdown"],
            json!({ "pending": 2, "qualified": 1, "disqualified": 1 })
        );
    }
);

both_backends!(
    async fn overview_matches_the_hand_computed_fixture(app) {
        let (fintech, paused, _) = fixture(&app).await;
        let body = app.get(app.key(), "/v1/analytics/overview").await.expect(200).clone();
        assert_eq!(keys(&body), ["activity", "campaigns", "metrics", "summary"]);
        assert_eq!(
            body["summary"],
            json!({
                "totalCampaigns": 3,
                "activeCampaigns": 1,
                "pausedCampaigns": 1,
                "completedCampaigns": 1,
                "totalAgents": 3,
                "activeAgents": 1,
                "totalProspects": 4,
                "totalMessages": 5,
                "totalQualified": 1,
                "totalAnswers": 2,
                "totalClosed": 1,
            })
        );
        assert_eq!(
            body["metrics"],
            json!({
                "conversionRate": 25.0,
                "responseRate": 50.0,
                "averageMessagesPerProspect": 1.25,
                "qualificationRate": 50.0,
            })
        );
        assert_eq!(
            body["activity"],
            json!({
                "last24Hours": { "messages": 1, "qualified": 1 },
                "lastWeek": { "messages": 2, "qualified": 1 },
            })
        );
        let campaigns = body["campaigns"].as_array().expect("campaigns");
        assert_eq!(campaigns.len(), 3);
        // Newest first: the completed one, the paused one, then Fintech.
        assert_eq!(campaigns[0]["name"], "Done one");
        assert_eq!(campaigns[0]["status"], "completed");
        assert_eq!(
            campaigns[1],
            json!({
                "id": paused, "name": "Paused one", "status": "paused", "prospects": 0,
                "messages": 0, "qualified": 0, "answers": 0, "conversionRate": 0.0,
                "responseRate": 0.0,
            })
        );
        assert_eq!(
            campaigns[2],
            json!({
                "id": fintech.id, "name": "Fintech", "status": "active", "prospects": 4,
                "messages": 5, "qualified": 1, "answers": 2, "conversionRate": 25.0,
                "responseRate": 50.0,
            })
        );
    }
);

both_backends!(
    async fn empty_teams_and_campaigns_have_zero_rates(app) {
        let body = app.get(app.key(), "/v1/analytics/overview").await.expect(200).clone();
        assert_eq!(
            body,
            json!({
                "summary": {
                    "totalCampaigns": 0, "activeCampaigns": 0, "pausedCampaigns": 0,
                    "completedCampaigns": 0, "totalAgents": 0, "activeAgents": 0,
                    "totalProspects": 0, "totalMessages": 0, "totalQualified": 0,
                    "totalAnswers": 0, "totalClosed": 0,
                },
                "metrics": {
                    "conversionRate": 0.0, "responseRate": 0.0,
                    "averageMessagesPerProspect": 0.0, "qualificationRate": 0.0,
                },
                "activity": {
                    "last24Hours": { "messages": 0, "qualified": 0 },
                    "lastWeek": { "messages": 0, "qualified": 0 },
                },
                "campaigns": [],
            })
        );
        let empty = new_campaign(&app, app.key(), "Empty", "Widget").await;
        let body = app
            .get(app.key(), &format!("/v1/analytics/campaigns/{}", empty.id))
            .await
            .expect(200)
            .clone();
        assert_eq!(
            body["metrics"],
            json!({
                "totalProspects": 0, "totalMessages": 0, "totalQualified": 0,
                "totalAnswers": 0, "totalClosed": 0, "conversionRate": 0.0,
                "responseRate": 0.0, "qualificationRate": 0.0,
                "averageMessagesPerProspect": 0.0,
            })
        );
        assert_eq!(
            body["activity"],
            json!({ "dailyBreakdown": [], "last7Days": { "messages": 0, "responses": 0, "qualified": 0 } })
        );
        assert_eq!(
            body["statusDistribution"],
            json!({ "pending": 0, "contacted": 0, "responded": 0, "qualified": 0, "closed": 0 })
        );
        assert_eq!(
            body["qualificationBreakdown"],
            json!({ "pending": 0, "qualified": 0, "disqualified": 0 })
        );

        // Prospects but no answer: the qualification rate divides by zero answers.
        let team = app.team.team_id.clone();
        let chat = add(&app, &team, &empty.id, "solo").await;
        verdict(&app, &team, &chat, Verdict::Qualified, now_millis()).await;
        let metrics = app
            .get(app.key(), &format!("/v1/analytics/campaigns/{}", empty.id))
            .await
            .expect(200)["metrics"]
            .clone();
        assert_eq!(metrics["conversionRate"], 100.0);
        assert_eq!(metrics["qualificationRate"], 0.0);
        assert_eq!(metrics["responseRate"], 0.0);
    }
);

both_backends!(
    async fn rates_round_to_two_decimals(app) {
        let team = app.team.team_id.clone();
        let campaign = new_campaign(&app, app.key(), "Thirds", "Widget").await;
        let mut chats = Vec::new();
        for slug in ["one", "two", "three"] {
            chats.push(add(&app, &team, &campaign.id, slug).await);
        }
        let now = now_millis();
        message(&app, &team, &chats[0], Role::Assistant, now - HOUR).await;
        message(&app, &team, &chats[0], Role::User, now - HOUR).await;
        message(&app, &team, &chats[1], Role::Assistant, now - HOUR).await;
        message(&app, &team, &chats[1], Role::User, now - HOUR).await;
        message(&app, &team, &chats[2], Role::Assistant, now - HOUR).await;
        verdict(&app, &team, &chats[0], Verdict::Qualified, now - HOUR).await;
        let metrics = app
            .get(app.key(), &format!("/v1/analytics/campaigns/{}", campaign.id))
            .await
            .expect(200)["metrics"]
            .clone();
        // 1/3, 2/3, 1/2, 3/3.
        assert_eq!(metrics["conversionRate"], 33.33);
        assert_eq!(metrics["responseRate"], 66.67);
        assert_eq!(metrics["qualificationRate"], 50.0);
        assert_eq!(metrics["averageMessagesPerProspect"], 1.0);
        let overview = app.get(app.key(), "/v1/analytics/overview").await.expect(200).clone();
        assert_eq!(overview["metrics"]["conversionRate"], 33.33);
        assert_eq!(overview["campaigns"][0]["responseRate"], 66.67);
    }
);

both_backends!(
    async fn other_teams_get_404_and_client_teams_read_assigned_campaigns(app) {
        let (fintech, _, _) = fixture(&app).await;
        let path = format!("/v1/analytics/campaigns/{}", fintech.id);
        let mine = app.get(app.key(), &path).await.expect(200).clone();

        let other = app.new_team(Plan::Unlimited).await;
        app.get(&other.key, &path).await.expect_error(404, "not_found");
        app.get(app.key(), "/v1/analytics/campaigns/nope").await.expect_error(404, "not_found");
        let theirs = app.get(&other.key, "/v1/analytics/overview").await.expect(200).clone();
        assert_eq!(theirs["summary"]["totalCampaigns"], 0);
        assert_eq!(theirs["summary"]["totalProspects"], 0);
        assert_eq!(theirs["activity"]["lastWeek"], json!({ "messages": 0, "qualified": 0 }));
        assert_eq!(theirs["campaigns"], json!([]));
        app.get("bad", "/v1/analytics/overview").await.expect_error(401, "invalid_api_key_format");

        // An agency's client team reads the analytics of the campaigns it was given, and its
        // overview stays its own.
        let agency = app.new_team(Plan::Agency).await;
        let campaign = new_campaign(&app, &agency.key, "Agency campaign", "Widget").await;
        let chat = add(&app, &agency.team_id, &campaign.id, "eve").await;
        message(&app, &agency.team_id, &chat, Role::Assistant, now_millis() - HOUR).await;
        let workspace = app.post(&agency.key, "/v1/workspaces", json!({ "name": "Acme" })).await;
        let workspace_id = id_of(&workspace, 201);
        let client_team = workspace.body["clientTeamId"].as_str().expect("client").to_owned();
        let client = app.new_key(&client_team).await;
        let agency_path = format!("/v1/analytics/campaigns/{}", campaign.id);
        app.get(&client, &agency_path).await.expect_error(404, "not_found");
        let assign = format!("/v1/workspaces/{workspace_id}/agents/{}", campaign.agent);
        app.post_empty(&agency.key, &assign).await.expect(200);
        let seen = app.get(&client, &agency_path).await.expect(200).clone();
        assert_eq!(seen, app.get(&agency.key, &agency_path).await.expect(200).clone());
        assert_eq!(seen["metrics"]["totalMessages"], 1);
        let overview = app.get(&client, "/v1/analytics/overview").await.expect(200).clone();
        assert_eq!(overview["summary"]["totalCampaigns"], 0);
        app.get(&client, &path).await.expect_error(404, "not_found");

        // Nothing the others did changed the first team's figures.
        assert_eq!(app.get(app.key(), &path).await.expect(200).clone(), mine);
    }
);

/// Under `serve --time-scale`, the API measures its windows on the engine's clock (here three
/// days ahead of the machine's): a message of two hours ago by the machine's clock is three
/// days old by the engine's, outside the last 24 hours but inside the last week.
async fn windows_follow_the_engine_clock(backend: crate::common::Backend) {
    let Some(app) = TestApp::spawn_with_settings(backend, |settings| {
        settings.now = std::sync::Arc::new(|| now_millis() + 3 * DAY);
    })
    .await
    else {
        return;
    };
    let campaign = new_campaign(&app, app.key(), "Scaled", "Widget").await;
    let chat = add(&app, &app.team.team_id, &campaign.id, "scaled").await;
    message(
        &app,
        &app.team.team_id,
        &chat,
        Role::Assistant,
        now_millis() - 2 * HOUR,
    )
    .await;
    let overview = app.get(app.key(), "/v1/analytics/overview").await;
    assert_eq!(
        overview.expect(200)["activity"],
        json!({
            "last24Hours": { "messages": 0, "qualified": 0 },
            "lastWeek": { "messages": 1, "qualified": 0 },
        })
    );
    let other = app.new_team(Plan::Unlimited).await;
    let path = format!("/v1/analytics/campaigns/{}", campaign.id);
    app.get(&other.key, &path)
        .await
        .expect_error(404, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_follow_the_engine_clock_sqlite() {
    windows_follow_the_engine_clock(crate::common::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_follow_the_engine_clock_postgres() {
    windows_follow_the_engine_clock(crate::common::Backend::Postgres).await;
}
