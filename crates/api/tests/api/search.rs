//! `GET /v1/prospects/search`: the full item shape (OAS `Prospect` plus the flattened fields),
//! every filter alone and combined, case-insensitive text over names, headlines and companies
//! (indexed and short terms, enrichment seen at once), pagination totals, `filters.applied` and
//! `filters.available`, every 400, a wide fixture where each filter combination must equal
//! what the conversations say (whichever index the page walks), totals after deletions, client
//! teams of agency workspaces, and second teams that never see a thing.
//!
//! Campaigns are made through their routes; people, profiles, messages, pauses and verdicts
//! through the store, as imports, enrichment and the engine do.

use crate::both_backends;
use crate::common::{Reply, TestApp, assert_keys, keys, timestamp};
use outbound_core::plan::Plan;
use outbound_core::time::{iso8601, now_millis};
use outbound_store::chats::{Added, NewConversation, ProspectProfile, Role, Verdict};
use serde_json::json;

const GPT_41: &str = "680321aa001300a6673d";
/// The keys of a search item: the OAS `Prospect` and the flattened fields.
const ITEM_KEYS: &[&str] = &[
    "campaign",
    "currentCompanyLinkedInUrl",
    "currentCompanyName",
    "currentCompanyWebsite",
    "currentJobTitle",
    "hasResponded",
    "id",
    "isPaused",
    "lastActivity",
    "location",
    "name",
    "paused",
    "prospect",
    "qualification",
    "stats",
    "status",
    "url",
];
/// The keys of an item once its conversation has messages and its profile was read.
const ITEM_KEYS_WHEN_SET: &[&str] = &["headline", "lastMessage"];
/// A second of chat creation times, so that "newest first" is certain.
const STEP_MS: i64 = 1000;

fn id_of(reply: &Reply, status: u16) -> String {
    reply.expect(status)["id"]
        .as_str()
        .expect("an id")
        .to_owned()
}

/// A campaign of the team of `key` (with its own product, prompt and agent): (id, agent id).
async fn new_campaign(app: &TestApp, key: &str, name: &str) -> (String, String) {
    let product = id_of(
        &app.post(
            key,
            "/v1/products",
            json!({ "name": "Ledger suite", "description": "Accounting software" }),
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
    (id, agent)
}

/// Puts a person into a campaign at `at`: (prospect id, chat id).
async fn add(
    app: &TestApp,
    team: &str,
    campaign: &str,
    name: &str,
    slug: &str,
    at: i64,
) -> (String, String) {
    let person = NewConversation {
        name: name.to_owned(),
        url: format!("https://linkedin.com/in/{slug}"),
        slug: slug.to_owned(),
        custom_data: String::new(),
        ongoing: false,
        list_id: None,
    };
    match app
        .store
        .add_to_campaign(team, campaign, person, at)
        .await
        .expect("add to campaign")
    {
        Added::Created {
            prospect_id,
            chat_id,
        }
        | Added::Existing {
            prospect_id,
            chat_id,
        } => (prospect_id, chat_id),
    }
}

async fn profile(
    app: &TestApp,
    team: &str,
    prospect: &str,
    headline: &str,
    company: Option<&str>,
    location: Option<(&str, &str)>,
) {
    let profile = ProspectProfile {
        headline: Some(headline.to_owned()),
        current_company_name: company.map(str::to_owned),
        current_job_title: Some("Leader".to_owned()),
        city: location.map(|(city, _)| city.to_owned()),
        country: location.map(|(_, country)| country.to_owned()),
        ..ProspectProfile::default()
    };
    app.store
        .set_prospect_profile(team, prospect, &profile, now_millis())
        .await
        .expect("set profile");
}

async fn message(app: &TestApp, team: &str, chat: &str, role: Role, at: i64) {
    app.store
        .append_message(team, chat, role, "hello", at)
        .await
        .expect("append message");
}

/// The conversations of the fixture, newest last.
struct Fixture {
    campaign_a: String,
    campaign_b: String,
    /// Ana Ruiz in A: CFO at Ledgerly, Madrid; replied.
    ana_a: String,
    /// Bob Stone in A: Acme Corp, London; paused, qualified.
    bob: String,
    /// Cara Lee in B: Northwind, Madrid; disqualified.
    cara: String,
    /// Dan Ruiz in B: no profile; contacted.
    dan: String,
    /// Ana Ruiz again, in B; not started.
    ana_b: String,
    base: i64,
}

impl Fixture {
    /// Every chat, newest first.
    fn all(&self) -> Vec<&str> {
        vec![&self.ana_b, &self.dan, &self.cara, &self.bob, &self.ana_a]
            .into_iter()
            .map(String::as_str)
            .collect()
    }
}

async fn fixture(app: &TestApp) -> Fixture {
    let team = app.team.team_id.clone();
    let (campaign_a, _) = new_campaign(app, app.key(), "Fintech CFOs").await;
    let (campaign_b, _) = new_campaign(app, app.key(), "Retail leaders").await;
    let base = now_millis() - 3_600_000;
    let (ana, ana_a) = add(app, &team, &campaign_a, "Ana Ruiz", "anaruiz", base).await;
    let (bob_p, bob) = add(
        app,
        &team,
        &campaign_a,
        "Bob Stone",
        "bobstone",
        base + STEP_MS,
    )
    .await;
    let (cara_p, cara) = add(
        app,
        &team,
        &campaign_b,
        "Cara Lee",
        "caralee",
        base + 2 * STEP_MS,
    )
    .await;
    let (_, dan) = add(
        app,
        &team,
        &campaign_b,
        "Dan Ruiz",
        "danruiz",
        base + 3 * STEP_MS,
    )
    .await;
    let (_, ana_b) = add(
        app,
        &team,
        &campaign_b,
        "Ana Ruiz",
        "anaruiz",
        base + 4 * STEP_MS,
    )
    .await;
    profile(
        app,
        &team,
        &ana,
        "CFO at Ledgerly",
        Some("Ledgerly"),
        Some(("Madrid", "Spain")),
    )
    .await;
    profile(
        app,
        &team,
        &bob_p,
        "VP Sales",
        Some("Acme Corp"),
        Some(("London", "United Kingdom")),
    )
    .await;
    profile(
        app,
        &team,
        &cara_p,
        "Head of Growth",
        Some("Northwind"),
        Some(("Madrid", "Spain")),
    )
    .await;
    message(app, &team, &ana_a, Role::Assistant, base + 10 * STEP_MS).await;
    message(app, &team, &ana_a, Role::User, base + 11 * STEP_MS).await;
    message(app, &team, &ana_a, Role::User, base + 12 * STEP_MS).await;
    message(app, &team, &bob, Role::Assistant, base + 13 * STEP_MS).await;
    message(app, &team, &dan, Role::Assistant, base + 14 * STEP_MS).await;
    app.store
        .set_chat_paused(&team, &bob, true, now_millis())
        .await
        .expect("pause");
    app.store
        .judge_chat(&team, &bob, Verdict::Qualified, now_millis())
        .await
        .expect("qualify");
    app.store
        .judge_chat(&team, &cara, Verdict::Unqualified, now_millis())
        .await
        .expect("disqualify");
    Fixture {
        campaign_a,
        campaign_b,
        ana_a,
        bob,
        cara,
        dan,
        ana_b,
        base,
    }
}

async fn search(app: &TestApp, key: &str, query: &str) -> Reply {
    app.get(key, &format!("/v1/prospects/search{query}")).await
}

/// The chat ids of a successful search, in order.
#[track_caller]
fn ids(reply: &Reply) -> Vec<String> {
    reply.expect(200)["prospects"]
        .as_array()
        .expect("prospects array")
        .iter()
        .map(|item| item["id"].as_str().expect("id").to_owned())
        .collect()
}

#[track_caller]
fn total(reply: &Reply) -> i64 {
    reply.expect(200)["pagination"]["total"]
        .as_i64()
        .expect("total")
}

/// Asserts the ids (in order) and the total of a search.
async fn expect_found(app: &TestApp, query: &str, expected: &[&str]) {
    let reply = search(app, app.key(), query).await;
    assert_eq!(ids(&reply), expected, "{query}: {}", reply.body);
    assert_eq!(total(&reply), expected.len() as i64, "{query}");
}

#[track_caller]
fn assert_invalid(reply: &Reply, field: &str) {
    reply.expect_error(400, "validation_error");
    assert_eq!(
        reply.body["details"][0]["field"], field,
        "body: {}",
        reply.body
    );
}

both_backends!(
    async fn search_returns_every_conversation_with_the_full_shape(app) {
        let f = fixture(&app).await;
        let reply = search(&app, app.key(), "").await;
        let body = reply.expect(200).clone();
        assert_eq!(keys(&body), ["filters", "pagination", "prospects"]);
        assert_eq!(ids(&reply), f.all());
        assert_eq!(
            body["pagination"],
            json!({ "total": 5, "limit": 50, "offset": 0, "hasMore": false })
        );
        assert_eq!(
            body["filters"],
            json!({
                "applied": {},
                "available": {
                    "qualifications": ["pending", "qualified", "disqualified"],
                    "cities": ["London", "Madrid"],
                    "countries": ["Spain", "United Kingdom"],
                },
            })
        );

        let ana = &body["prospects"][4];
        assert_keys(ana, ITEM_KEYS, ITEM_KEYS_WHEN_SET);
        assert_eq!(ana["id"], f.ana_a.as_str());
        assert_eq!(ana["status"], 4);
        assert_eq!(ana["qualification"], "inProgress");
        assert_eq!(ana["paused"], false);
        assert_eq!(ana["lastMessage"], iso8601(f.base + 12 * STEP_MS));
        assert_eq!(
            ana["prospect"],
            json!({
                "id": ana["prospect"]["id"],
                "name": "Ana Ruiz",
                "url": "https://linkedin.com/in/anaruiz",
                "headline": "CFO at Ledgerly",
                "currentCompanyName": "Ledgerly",
                "currentJobTitle": "Leader",
                "currentCompanyWebsite": null,
                "currentCompanyLinkedInUrl": null,
            })
        );
        assert!(ana["prospect"]["id"].is_string());
        for field in [
            "name",
            "url",
            "headline",
            "currentCompanyName",
            "currentJobTitle",
            "currentCompanyWebsite",
            "currentCompanyLinkedInUrl",
        ] {
            assert_eq!(ana[field], ana["prospect"][field], "{field}");
        }
        assert_eq!(ana["location"], json!({ "city": "Madrid", "country": "Spain" }));
        assert_eq!(ana["hasResponded"], true);
        assert_eq!(ana["isPaused"], false);
        timestamp(&ana["lastActivity"]);
        assert_eq!(ana["lastActivity"], ana["lastMessage"]);
        assert_eq!(ana["campaign"], json!({ "id": f.campaign_a, "name": "Fintech CFOs" }));
        assert_eq!(
            ana["stats"],
            json!({ "messages": 1, "responses": 2, "lastResponse": iso8601(f.base + 12 * STEP_MS) })
        );

        // A conversation without messages nor profile.
        let ana_b = &body["prospects"][0];
        assert!(ana_b.get("lastMessage").is_none(), "{ana_b}");
        assert_eq!(ana_b["lastActivity"], iso8601(f.base + 4 * STEP_MS));
        assert_eq!(ana_b["stats"], json!({ "messages": 0, "responses": 0 }));
        assert_eq!(ana_b["campaign"]["name"], "Retail leaders");
        assert_eq!(ana_b["prospect"]["id"], ana["prospect"]["id"], "one person, two chats");
        let dan = &body["prospects"][1];
        assert_eq!(dan["location"], json!({}));
        assert!(dan.get("headline").is_none(), "{dan}");
        let bob = &body["prospects"][3];
        assert_eq!(
            (&bob["isPaused"], &bob["paused"], &bob["qualification"], &bob["status"]),
            (&json!(true), &json!(true), &json!("qualified"), &json!(5))
        );
    }
);

both_backends!(
    async fn query_matches_names_headlines_and_companies_case_insensitively(app) {
        let f = fixture(&app).await;
        expect_found(&app, "?query=RUIZ", &[&f.ana_b, &f.dan, &f.ana_a]).await;
        expect_found(&app, "?query=ana%20ruiz", &[&f.ana_b, &f.ana_a]).await;
        // Headline and company.
        expect_found(&app, "?query=ledgerly", &[&f.ana_b, &f.ana_a]).await;
        expect_found(&app, "?query=Head%20of%20growth", &[&f.cara]).await;
        expect_found(&app, "?query=acme%20CORP", &[&f.bob]).await;
        // Every word must occur, anywhere.
        expect_found(&app, "?query=ruiz%20ledgerly", &[&f.ana_b, &f.ana_a]).await;
        expect_found(&app, "?query=stone%20ledgerly", &[]).await;
        // Substrings, and words shorter than an index holds.
        expect_found(&app, "?query=edger", &[&f.ana_b, &f.ana_a]).await;
        expect_found(&app, "?query=vp", &[&f.bob]).await;
        expect_found(&app, "?query=vp%20stone", &[&f.bob]).await;
        expect_found(&app, "?query=%20%20", &f.all()).await;
        // LIKE and FTS operators are plain text.
        expect_found(&app, "?query=%25", &[]).await;
        expect_found(&app, "?query=a_a", &[]).await;
        expect_found(&app, "?query=%22ruiz%22", &[]).await;
        expect_found(&app, "?query=ruiz%20OR%20stone", &[]).await;

        // Enrichment is searchable at once, and what it replaced is not.
        let team = app.team.team_id.clone();
        let dan_prospect = search(&app, app.key(), "?query=dan").await.body["prospects"][0]
            ["prospect"]["id"]
            .as_str()
            .expect("prospect id")
            .to_owned();
        profile(&app, &team, &dan_prospect, "Buyer at Globex", Some("Globex"), None).await;
        expect_found(&app, "?query=globex", &[&f.dan]).await;
        profile(&app, &team, &dan_prospect, "Buyer at Initech", None, None).await;
        expect_found(&app, "?query=globex", &[]).await;
        expect_found(&app, "?query=initech", &[&f.dan]).await;

        let applied = search(&app, app.key(), "?query=%20Ana%20Ruiz%20").await;
        assert_eq!(applied.expect(200)["filters"]["applied"], json!({ "query": "Ana Ruiz" }));
    }
);

both_backends!(
    async fn each_filter_alone_and_combined(app) {
        let f = fixture(&app).await;
        let a = &f.campaign_a;
        let b = &f.campaign_b;
        expect_found(&app, &format!("?campaignId={a}"), &[&f.bob, &f.ana_a]).await;
        expect_found(&app, &format!("?campaignId={b}"), &[&f.ana_b, &f.dan, &f.cara]).await;
        expect_found(&app, "?campaignId=nope", &[]).await;
        expect_found(&app, "?qualification=qualified", &[&f.bob]).await;
        expect_found(&app, "?qualification=disqualified", &[&f.cara]).await;
        expect_found(&app, "?qualification=pending", &[&f.ana_b, &f.dan, &f.ana_a]).await;
        expect_found(&app, "?status=4", &[&f.ana_a]).await;
        expect_found(&app, "?status=3", &[&f.dan]).await;
        expect_found(&app, "?status=0", &[&f.ana_b]).await;
        expect_found(&app, "?status=7", &[]).await;
        expect_found(&app, "?city=madrid", &[&f.ana_b, &f.cara, &f.ana_a]).await;
        expect_found(&app, "?city=%20LONDON%20", &[&f.bob]).await;
        expect_found(&app, "?city=Mad", &[]).await;
        expect_found(&app, "?country=SPAIN", &[&f.ana_b, &f.cara, &f.ana_a]).await;
        expect_found(&app, "?country=united%20kingdom", &[&f.bob]).await;
        expect_found(&app, "?hasResponded=true", &[&f.ana_a]).await;
        expect_found(&app, "?hasResponded=false", &[&f.ana_b, &f.dan, &f.cara, &f.bob]).await;
        expect_found(&app, "?isPaused=true", &[&f.bob]).await;
        expect_found(&app, "?isPaused=false", &[&f.ana_b, &f.dan, &f.cara, &f.ana_a]).await;

        expect_found(
            &app,
            &format!("?campaignId={b}&qualification=pending&country=spain"),
            &[&f.ana_b],
        )
        .await;
        expect_found(&app, &format!("?query=ruiz&campaignId={b}"), &[&f.ana_b, &f.dan]).await;
        expect_found(&app, "?city=Madrid&status=6&qualification=disqualified", &[&f.cara]).await;
        expect_found(&app, "?query=ruiz&city=madrid&hasResponded=true", &[&f.ana_a]).await;
        expect_found(&app, &format!("?campaignId={a}&isPaused=true&status=5"), &[&f.bob]).await;
        expect_found(&app, &format!("?campaignId={a}&isPaused=true&status=4"), &[]).await;

        let reply = search(
            &app,
            app.key(),
            &format!(
                "?query=ruiz&campaignId={a}&qualification=pending&status=4&city=Madrid\
                 &country=Spain&hasResponded=true&isPaused=false"
            ),
        )
        .await;
        assert_eq!(ids(&reply), [f.ana_a.as_str()]);
        assert_eq!(
            reply.body["filters"]["applied"],
            json!({
                "query": "ruiz",
                "campaignId": a,
                "qualification": "pending",
                "status": 4,
                "city": "Madrid",
                "country": "Spain",
                "hasResponded": true,
                "isPaused": false,
            })
        );
    }
);

both_backends!(
    async fn pages_report_total_and_has_more(app) {
        let f = fixture(&app).await;
        let all = f.all();
        let first = search(&app, app.key(), "?limit=2").await;
        assert_eq!(ids(&first), all[..2]);
        assert_eq!(
            first.body["pagination"],
            json!({ "total": 5, "limit": 2, "offset": 0, "hasMore": true })
        );
        let middle = search(&app, app.key(), "?limit=2&offset=2").await;
        assert_eq!(ids(&middle), all[2..4]);
        assert_eq!(middle.body["pagination"]["hasMore"], true);
        let last = search(&app, app.key(), "?limit=2&offset=4").await;
        assert_eq!(ids(&last), all[4..]);
        assert_eq!(
            last.body["pagination"],
            json!({ "total": 5, "limit": 2, "offset": 4, "hasMore": false })
        );
        // Past the end: no items, the total still right, whichever way it is counted.
        for query in ["?offset=5", "?offset=99&query=ruiz", "?offset=3&city=madrid", "?offset=9000000000000"] {
            let past = search(&app, app.key(), query).await;
            assert!(ids(&past).is_empty(), "{query}");
            assert_eq!(past.body["pagination"]["hasMore"], false, "{query}");
        }
        assert_eq!(total(&search(&app, app.key(), "?offset=99&query=ruiz").await), 3);
        assert_eq!(total(&search(&app, app.key(), "?offset=3&city=madrid").await), 3);
        let text = search(&app, app.key(), "?query=ruiz&limit=1&offset=1").await;
        assert_eq!(ids(&text), [f.dan.as_str()]);
        assert_eq!(
            text.body["pagination"],
            json!({ "total": 3, "limit": 1, "offset": 1, "hasMore": true })
        );
        let city = search(&app, app.key(), "?city=madrid&limit=1&offset=2").await;
        assert_eq!(ids(&city), [f.ana_a.as_str()]);
        assert_eq!(city.body["pagination"]["hasMore"], false);
        let full = search(&app, app.key(), "?limit=100").await;
        assert_eq!(ids(&full), all);
    }
);

both_backends!(
    async fn bad_parameters_are_400_naming_the_field(app) {
        fixture(&app).await;
        for (query, field) in [
            ("?limit=0", "limit"),
            ("?limit=101", "limit"),
            ("?limit=-5", "limit"),
            ("?limit=ten", "limit"),
            ("?limit=99999999999999999999", "limit"),
            ("?offset=-1", "offset"),
            ("?offset=1.5", "offset"),
            ("?qualification=maybe", "qualification"),
            ("?qualification=inProgress", "qualification"),
            ("?qualification=", "qualification"),
            ("?status=99", "status"),
            ("?status=-1", "status"),
            ("?status=four", "status"),
            ("?hasResponded=yes", "hasResponded"),
            ("?isPaused=2", "isPaused"),
        ] {
            assert_invalid(&search(&app, app.key(), query).await, field);
        }
        let long = "a".repeat(201);
        assert_invalid(&search(&app, app.key(), &format!("?query={long}")).await, "query");
        let many = ["word"; 11].join("%20");
        assert_invalid(&search(&app, app.key(), &format!("?query={many}")).await, "query");
        assert_invalid(&search(&app, app.key(), &format!("?city={long}")).await, "city");
        assert_invalid(&search(&app, app.key(), &format!("?country={long}")).await, "country");
        assert_invalid(&search(&app, app.key(), &format!("?campaignId={long}")).await, "campaignId");
        search(&app, "not-a-key", "").await.expect_error(401, "invalid_api_key_format");
        // Unknown parameters are ignored, as clients send all sorts.
        assert_eq!(total(&search(&app, app.key(), "?sort=name").await), 5);
    }
);

both_backends!(
    async fn second_teams_never_see_the_first_teams_prospects(app) {
        let f = fixture(&app).await;
        let other = app.new_team(Plan::Unlimited).await;
        let (theirs, _) = new_campaign(&app, &other.key, "Their campaign").await;
        let (_, their_chat) =
            add(&app, &other.team_id, &theirs, "Ana Ruiz", "anaruiz", now_millis()).await;
        for query in [
            String::new(),
            "?query=ruiz".to_owned(),
            "?query=vp".to_owned(),
            format!("?campaignId={}", f.campaign_a),
            "?city=Madrid".to_owned(),
            "?country=Spain".to_owned(),
            "?qualification=qualified".to_owned(),
            "?isPaused=true".to_owned(),
        ] {
            let reply = search(&app, &other.key, &query).await;
            let found = ids(&reply);
            assert!(found.iter().all(|id| *id == their_chat), "{query}: {found:?}");
        }
        let reply = search(&app, &other.key, "").await;
        assert_eq!(ids(&reply), [their_chat.as_str()]);
        assert_eq!(
            reply.body["filters"]["available"],
            json!({ "qualifications": ["pending", "qualified", "disqualified"], "cities": [], "countries": [] })
        );
        // And the first team does not see theirs.
        assert!(!ids(&search(&app, app.key(), "?query=ruiz").await).contains(&their_chat));
        assert_eq!(total(&search(&app, app.key(), "").await), 5);
    }
);

both_backends!(
    async fn client_teams_find_the_conversations_of_assigned_agents(app) {
        let agency = app.new_team(Plan::Agency).await;
        let (campaign, agent) = new_campaign(&app, &agency.key, "Agency campaign").await;
        let (prospect, chat) =
            add(&app, &agency.team_id, &campaign, "Eve Moss", "evemoss", now_millis()).await;
        profile(&app, &agency.team_id, &prospect, "CTO", Some("Hooli"), Some(("Paris", "France")))
            .await;
        let (hidden, _) = new_campaign(&app, &agency.key, "Not shared").await;
        add(&app, &agency.team_id, &hidden, "Finn Moss", "finnmoss", now_millis()).await;
        let workspace = app.post(&agency.key, "/v1/workspaces", json!({ "name": "Acme" })).await;
        let workspace_id = id_of(&workspace, 201);
        let client_team = workspace.body["clientTeamId"].as_str().expect("client team").to_owned();
        let client = app.new_key(&client_team).await;

        assert_eq!(total(&search(&app, &client, "?query=moss").await), 0);
        let assign = format!("/v1/workspaces/{workspace_id}/agents/{agent}");
        app.post_empty(&agency.key, &assign).await.expect(200);
        for query in [
            "",
            "?query=moss",
            "?query=hooli%20cto",
            "?city=paris",
            "?country=FRANCE",
            "?qualification=pending&status=0&isPaused=false&hasResponded=false",
        ] {
            let reply = search(&app, &client, query).await;
            assert_eq!(ids(&reply), [chat.as_str()], "{query}");
            assert_eq!(total(&reply), 1, "{query}");
        }
        let reply = search(&app, &client, &format!("?campaignId={campaign}")).await;
        assert_eq!(ids(&reply), [chat.as_str()]);
        assert_eq!(reply.body["filters"]["available"]["cities"], json!(["Paris"]));
        assert_eq!(reply.body["filters"]["available"]["countries"], json!(["France"]));
        assert_eq!(total(&search(&app, &client, &format!("?campaignId={hidden}")).await), 0);

        app.send(reqwest::Method::DELETE, &assign, Some(&agency.key), None).await.expect(200);
        assert_eq!(total(&search(&app, &client, "").await), 0);
    }
);

/// One person of the wide fixture and what the search must know of it.
#[derive(Debug, Clone)]
struct Row {
    chat: String,
    campaign: usize,
    status: i64,
    qualification: &'static str,
    paused: bool,
    responded: bool,
    city: Option<&'static str>,
    country: Option<&'static str>,
    name: String,
}

const CITIES: [(&str, &str); 3] = [("Lyon", "France"), ("Paris", "France"), ("Osaka", "Japan")];

both_backends!(
    async fn every_combination_of_filters_equals_what_the_conversations_say(app) {
        let team = app.team.team_id.clone();
        let mut campaigns = Vec::new();
        for name in ["North", "South"] {
            campaigns.push(new_campaign(&app, app.key(), name).await.0);
        }
        let base = now_millis() - 3_600_000;
        let mut rows: Vec<Row> = Vec::new();
        for i in 0..40_usize {
            let campaign = i % 2;
            let name = format!("Person {i} {}", if i % 5 == 0 { "Zephyr" } else { "Smith" });
            let slug = format!("person{i}");
            let at = base + i as i64 * STEP_MS;
            let (prospect, chat) = add(&app, &team, &campaigns[campaign], &name, &slug, at).await;
            let location = (i % 4 != 3).then(|| CITIES[i % 3]);
            if let Some(location) = location {
                profile(&app, &team, &prospect, "Engineer", None, Some(location)).await;
            }
            let mut row = Row {
                chat: chat.clone(),
                campaign,
                status: 0,
                qualification: "inProgress",
                paused: false,
                responded: false,
                city: location.map(|l| l.0),
                country: location.map(|l| l.1),
                name,
            };
            if i % 3 == 0 {
                message(&app, &team, &chat, Role::Assistant, at + 1).await;
                row.status = 3;
            }
            if i % 6 == 0 {
                message(&app, &team, &chat, Role::User, at + 2).await;
                row.status = 4;
                row.responded = true;
            }
            if i % 7 == 0 {
                app.store.judge_chat(&team, &chat, Verdict::Qualified, at).await.expect("judge");
                row.status = 5;
                row.qualification = "qualified";
            } else if i % 11 == 0 {
                app.store.judge_chat(&team, &chat, Verdict::Unqualified, at).await.expect("judge");
                row.status = 6;
                row.qualification = "unqualified";
            }
            if i % 13 == 0 {
                app.store.set_chat_paused(&team, &chat, true, at).await.expect("pause");
                row.paused = true;
            }
            rows.push(row);
        }
        rows.reverse();

        type Check = Box<dyn Fn(&Row) -> bool>;
        let cases: Vec<(String, Check)> = vec![
            (String::new(), Box::new(|_| true)),
            (format!("campaignId={}", campaigns[1]), Box::new(|r| r.campaign == 1)),
            ("status=4".into(), Box::new(|r| r.status == 4)),
            (format!("campaignId={}&status=3", campaigns[0]), Box::new(|r| r.campaign == 0 && r.status == 3)),
            ("qualification=qualified".into(), Box::new(|r| r.qualification == "qualified")),
            ("qualification=disqualified".into(), Box::new(|r| r.qualification == "unqualified")),
            ("qualification=pending".into(), Box::new(|r| r.qualification == "inProgress")),
            ("isPaused=true".into(), Box::new(|r| r.paused)),
            ("isPaused=false".into(), Box::new(|r| !r.paused)),
            ("hasResponded=true".into(), Box::new(|r| r.responded)),
            ("hasResponded=false&isPaused=false".into(), Box::new(|r| !r.responded && !r.paused)),
            (format!("campaignId={}&isPaused=true", campaigns[0]), Box::new(|r| r.campaign == 0 && r.paused)),
            (format!("campaignId={}&hasResponded=false", campaigns[1]), Box::new(|r| r.campaign == 1 && !r.responded)),
            ("country=france".into(), Box::new(|r| r.country == Some("France"))),
            ("country=japan&status=0".into(), Box::new(|r| r.country == Some("Japan") && r.status == 0)),
            ("city=paris".into(), Box::new(|r| r.city == Some("Paris"))),
            ("city=lyon&qualification=pending".into(), Box::new(|r| r.city == Some("Lyon") && r.qualification == "inProgress")),
            ("query=zephyr".into(), Box::new(|r| r.name.contains("Zephyr"))),
            ("query=smith&hasResponded=true".into(), Box::new(|r| r.name.contains("Smith") && r.responded)),
            ("query=zephyr&country=france".into(), Box::new(|r| r.name.contains("Zephyr") && r.country == Some("France"))),
            ("qualification=qualified&isPaused=true&hasResponded=true".into(), Box::new(|r| r.qualification == "qualified" && r.paused && r.responded)),
        ];
        for (query, check) in &cases {
            let expected: Vec<&str> =
                rows.iter().filter(|r| check(r)).map(|r| r.chat.as_str()).collect();
            for (limit, offset) in [(100, 0), (3, 0), (3, 4), (7, 10)] {
                let reply =
                    search(&app, app.key(), &format!("?{query}&limit={limit}&offset={offset}")).await;
                let page: Vec<&str> =
                    expected.iter().copied().skip(offset).take(limit).collect();
                assert_eq!(ids(&reply), page, "{query} limit {limit} offset {offset}");
                assert_eq!(total(&reply), expected.len() as i64, "{query}");
            }
        }

        // Deleting people takes their conversations out of every count.
        let paused_prospects: Vec<String> = search(&app, app.key(), "?isPaused=true")
            .await
            .body["prospects"]
            .as_array()
            .expect("items")
            .iter()
            .map(|item| item["prospect"]["id"].as_str().expect("id").to_owned())
            .collect();
        for prospect in &paused_prospects {
            app.store.delete_prospect(&team, prospect).await.expect("delete paused prospect");
        }
        let left = rows.iter().filter(|r| !r.paused).count() as i64;
        assert_eq!(total(&search(&app, app.key(), "").await), left);
        assert_eq!(total(&search(&app, app.key(), "?isPaused=true").await), 0);
        let french = rows.iter().filter(|r| !r.paused && r.country == Some("France")).count();
        assert_eq!(total(&search(&app, app.key(), "?country=France").await), french as i64);
    }
);
