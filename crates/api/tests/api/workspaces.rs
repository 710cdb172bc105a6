//! Agency workspaces: the agency-plan gate on all seven routes, creation with a real client
//! team, the list, deletion with real counts, invitations (recorded, emailed through a fake SMTP
//! server when configured, 409 for a member), removal of clients, agent assignment with real
//! `propagated` counts, and the client team's read-only access to exactly the assigned agents'
//! campaigns, conversations and prospects, taken away at once by unassigning or deleting.
//!
//! Conversations are put into campaigns through the store, as the import worker does.

use crate::both_backends;
use crate::common::{Backend, Reply, TeamKey, TestApp, keys, timestamp};
use outbound_core::plan::Plan;
use outbound_core::time::now_millis;
use outbound_store::chats::{Added, NewConversation};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

const GPT_41: &str = "680321aa001300a6673d";

/// Asserts a 400 `validation_error` whose first detail names `field`.
#[track_caller]
fn assert_invalid(reply: &Reply, field: &str) {
    reply.expect_error(400, "validation_error");
    let details = reply.body["details"].as_array().expect("details array");
    assert_eq!(details[0]["field"], field, "body: {}", reply.body);
}

async fn agency(app: &TestApp) -> TeamKey {
    app.new_team(Plan::Agency).await
}

/// Creates a workspace and checks the response shape.
async fn create_workspace(app: &TestApp, key: &str, name: &str) -> Value {
    let reply = app
        .post(key, "/v1/workspaces", json!({ "name": name }))
        .await;
    let body = reply.expect(201).clone();
    assert_eq!(
        keys(&body),
        ["clientTeamId", "createdAt", "id", "name"],
        "{body}"
    );
    assert_eq!(body["name"], name.trim());
    timestamp(&body["createdAt"]);
    body
}

fn id_of(value: &Value) -> String {
    value["id"].as_str().expect("id").to_owned()
}

async fn list(app: &TestApp, key: &str) -> Value {
    app.get(key, "/v1/workspaces").await.expect(200).clone()
}

async fn new_agent(app: &TestApp, key: &str) -> String {
    let reply = app.post_empty(key, "/v1/agents").await;
    reply.expect(201)["id"].as_str().expect("id").to_owned()
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

/// Puts the LinkedIn people `slugs` into the campaign; returns their (prospect, chat) ids.
async fn add_people(
    app: &TestApp,
    team: &str,
    campaign: &str,
    slugs: &[&str],
) -> Vec<(String, String)> {
    let mut chats = Vec::new();
    for slug in slugs {
        let person = NewConversation {
            name: format!("Person {slug}"),
            url: format!("https://linkedin.com/in/{slug}"),
            slug: (*slug).to_owned(),
            custom_data: String::new(),
            ongoing: false,
            list_id: None,
        };
        let added = app
            .store
            .add_to_campaign(team, campaign, person, now_millis())
            .await
            .expect("add to campaign");
        match added {
            Added::Created {
                prospect_id,
                chat_id,
            } => chats.push((prospect_id, chat_id)),
            Added::Existing { .. } => panic!("{slug} was already in {campaign}"),
        }
    }
    chats
}

fn assign_path(workspace: &str, agent: &str) -> String {
    format!("/v1/workspaces/{workspace}/agents/{agent}")
}

/// Assigns and returns `propagated`.
async fn assign(app: &TestApp, key: &str, workspace: &str, agent: &str) -> Value {
    let reply = app.post_empty(key, &assign_path(workspace, agent)).await;
    let body = reply.expect(200);
    assert_eq!(
        keys(body),
        ["agentId", "propagated", "workspaceId"],
        "{body}"
    );
    assert_eq!(body["agentId"], agent);
    assert_eq!(body["workspaceId"], workspace);
    assert_eq!(
        keys(&body["propagated"]),
        ["campaigns", "chats", "prospects"]
    );
    body["propagated"].clone()
}

fn propagated(campaigns: i64, chats: i64, prospects: i64) -> Value {
    json!({ "campaigns": campaigns, "chats": chats, "prospects": prospects })
}

/// Every workspace route with a plausible body.
fn every_route(workspace: &str, agent: &str) -> Vec<(Method, String, Option<Value>)> {
    vec![
        (Method::GET, "/v1/workspaces".to_owned(), None),
        (
            Method::POST,
            "/v1/workspaces".to_owned(),
            Some(json!({ "name": "Acme" })),
        ),
        (Method::DELETE, format!("/v1/workspaces/{workspace}"), None),
        (
            Method::POST,
            format!("/v1/workspaces/{workspace}/invite"),
            Some(json!({ "email": "client@example.com" })),
        ),
        (
            Method::DELETE,
            format!("/v1/workspaces/{workspace}/clients"),
            Some(json!({ "email": "client@example.com" })),
        ),
        (Method::POST, assign_path(workspace, agent), None),
        (Method::DELETE, assign_path(workspace, agent), None),
    ]
}

both_backends!(
    async fn every_workspace_route_needs_the_agency_plan(app) {
        let owner = agency(&app).await;
        let workspace = id_of(&create_workspace(&app, &owner.key, "Acme").await);
        let agent = new_agent(&app, &owner.key).await;
        let client_key = app.new_key(
            create_workspace(&app, &owner.key, "Globex").await["clientTeamId"]
                .as_str()
                .expect("client team"),
        )
        .await;
        let mut others = Vec::new();
        for plan in [Plan::Pioneer, Plan::Hunter, Plan::Conqueror, Plan::Unlimited] {
            others.push(app.new_team(plan).await.key);
        }
        others.push(client_key);
        for key in &others {
            for (method, path, body) in every_route(&workspace, &agent) {
                let reply = app.send(method.clone(), &path, Some(key), body).await;
                reply.expect_error(403, "agency_plan_required");
            }
            // The plan is checked before the input is read.
            let reply = app.send_raw(Method::POST, "/v1/workspaces", key, "{oops").await;
            reply.expect_error(403, "agency_plan_required");
        }
        // Nothing was touched: the agency still sees its two workspaces, the agent unassigned.
        assert_eq!(list(&app, &owner.key).await["total"], 2);
        let reply = app.delete(&owner.key, &assign_path(&workspace, &agent)).await;
        reply.expect_error(404, "not_found");
        // Without a key it is 401, as everywhere.
        let reply = app.send(Method::GET, "/v1/workspaces", None, None).await;
        reply.expect_error(401, "missing_api_key");
    }
);

both_backends!(
    async fn workspaces_are_created_with_a_client_team_and_listed(app) {
        let owner = agency(&app).await;
        assert_eq!(list(&app, &owner.key).await, json!({ "workspaces": [], "total": 0 }));
        let first = create_workspace(&app, &owner.key, "  Acme Corporation ").await;
        let second = create_workspace(&app, &owner.key, "Globex").await;
        assert_ne!(first["id"], second["id"]);
        assert_ne!(first["clientTeamId"], second["clientTeamId"]);

        // The client team is a real team named after the workspace, without workspaces of its own.
        let client_team = first["clientTeamId"].as_str().expect("client team");
        let team = app.store.get_team(client_team).await.expect("client team exists");
        assert_eq!(team.name, "Acme Corporation");
        assert_eq!(team.plan, Plan::Unlimited);
        assert!(team.subscription_active);
        let client_key = app.new_key(client_team).await;
        app.get(&client_key, "/v1/verify").await.expect(200);

        let listed = list(&app, &owner.key).await;
        assert_eq!(keys(&listed), ["total", "workspaces"]);
        assert_eq!(listed["total"], 2);
        assert_eq!(listed["workspaces"], json!([second, first]), "newest first");

        // Another agency sees none of them and cannot touch them.
        let other = agency(&app).await;
        assert_eq!(list(&app, &other.key).await, json!({ "workspaces": [], "total": 0 }));
        let id = id_of(&first);
        let reply = app.delete(&other.key, &format!("/v1/workspaces/{id}")).await;
        reply.expect_error(404, "not_found");
        assert_eq!(list(&app, &owner.key).await["total"], 2);
    }
);

both_backends!(
    async fn workspace_names_are_validated_and_nothing_is_written(app) {
        let owner = agency(&app).await;
        let teams_before = app.store.list_teams().await.expect("teams").len();
        let bad = [
            (json!({}), "name"),
            (json!({ "name": "" }), "name"),
            (json!({ "name": "   " }), "name"),
            (json!({ "name": "x".repeat(101) }), "name"),
            (json!({ "name": "bad\nname" }), "name"),
            (json!({ "name": 42 }), "name"),
            (json!({ "name": null }), "name"),
            (json!({ "name": ["Acme"] }), "name"),
        ];
        for (body, field) in bad {
            let reply = app.post(&owner.key, "/v1/workspaces", body.clone()).await;
            assert_invalid(&reply, field);
        }
        for raw in ["{\"name\":", "[1,2]", "\"Acme\"", "{\"name\": \"Acme\"} trailing"] {
            let reply = app.send_raw(Method::POST, "/v1/workspaces", &owner.key, raw).await;
            reply.expect_error(400, "validation_error");
        }
        assert_eq!(list(&app, &owner.key).await["total"], 0);
        assert_eq!(app.store.list_teams().await.expect("teams").len(), teams_before);
        // The longest name is fine.
        create_workspace(&app, &owner.key, &"x".repeat(100)).await;
        create_workspace(&app, &owner.key, "É").await;
    }
);

both_backends!(
    async fn deleting_a_workspace_reports_what_the_client_team_lost(app) {
        let owner = agency(&app).await;
        let workspace = id_of(&create_workspace(&app, &owner.key, "Acme").await);
        let busy = new_agent(&app, &owner.key).await;
        let idle = new_agent(&app, &owner.key).await;
        let unassigned = new_agent(&app, &owner.key).await;
        let first = new_campaign(&app, &owner.key, &busy, "First").await;
        let second = new_campaign(&app, &owner.key, &busy, "Second").await;
        let elsewhere = new_campaign(&app, &owner.key, &unassigned, "Elsewhere").await;
        add_people(&app, &owner.team_id, &first, &["ann", "bob", "cid"]).await;
        add_people(&app, &owner.team_id, &second, &["ann"]).await;
        add_people(&app, &owner.team_id, &elsewhere, &["dan", "eve"]).await;
        assign(&app, &owner.key, &workspace, &busy).await;
        assign(&app, &owner.key, &workspace, &idle).await;
        app.post(
            &owner.key,
            &format!("/v1/workspaces/{workspace}/invite"),
            json!({ "email": "client@example.com" }),
        )
        .await
        .expect(201);

        // Another agency cannot delete it.
        let other = agency(&app).await;
        let path = format!("/v1/workspaces/{workspace}");
        app.delete(&other.key, &path).await.expect_error(404, "not_found");

        let reply = app.delete(&owner.key, &path).await;
        assert_eq!(
            reply.expect(200),
            &json!({
                "message": "Workspace deleted successfully",
                "stats": { "agentsUnassigned": 2, "campaignsUpdated": 2, "chatsUpdated": 4 }
            })
        );
        assert_eq!(list(&app, &owner.key).await["total"], 0);
        app.delete(&owner.key, &path).await.expect_error(404, "not_found");
        let reply = app
            .post(&owner.key, &format!("{path}/invite"), json!({ "email": "client@example.com" }))
            .await;
        reply.expect_error(404, "not_found");
        // The agents and their campaigns are untouched.
        app.get(&owner.key, &format!("/v1/agents/{busy}")).await.expect(200);
        app.get(&owner.key, &format!("/v1/campaigns/{first}/stats")).await.expect(200);

        // An empty workspace deletes with zero counts; an unknown id is 404.
        let empty = id_of(&create_workspace(&app, &owner.key, "Empty").await);
        let reply = app.delete(&owner.key, &format!("/v1/workspaces/{empty}")).await;
        assert_eq!(
            reply.expect(200)["stats"],
            json!({ "agentsUnassigned": 0, "campaignsUpdated": 0, "chatsUpdated": 0 })
        );
        let reply = app.delete(&owner.key, "/v1/workspaces/nope").await;
        reply.expect_error(404, "not_found");
    }
);

/// Sends an invitation and returns the reply.
async fn invite(app: &TestApp, key: &str, workspace: &str, body: Value) -> Reply {
    app.post(key, &format!("/v1/workspaces/{workspace}/invite"), body)
        .await
}

/// Asserts the shape of a successful invitation and returns its body.
#[track_caller]
fn invited(reply: &Reply, email: &str) -> Value {
    let body = reply.expect(201).clone();
    assert_eq!(
        keys(&body),
        ["email", "emailSent", "membershipId", "portalUrl", "userId"],
        "{body}"
    );
    assert_eq!(body["email"], email);
    assert!(
        body["membershipId"]
            .as_str()
            .is_some_and(|id| !id.is_empty())
    );
    assert!(body["userId"].as_str().is_some_and(|id| !id.is_empty()));
    body
}

both_backends!(
    async fn clients_are_invited_once_per_workspace(app) {
        let owner = agency(&app).await;
        let acme = id_of(&create_workspace(&app, &owner.key, "Acme").await);
        let globex = id_of(&create_workspace(&app, &owner.key, "Globex").await);

        let reply = invite(&app, &owner.key, &acme, json!({ "email": " Client@Example.COM " })).await;
        let first = invited(&reply, "client@example.com");
        assert_eq!(first["emailSent"], false, "no SMTP server is configured");
        // Without redirectUrl nor public URL, the portal is this server, as the client reached it.
        assert_eq!(first["portalUrl"], app.base);

        // The same person again, in any spelling: 409.
        for email in ["client@example.com", "CLIENT@example.com"] {
            let reply = invite(&app, &owner.key, &acme, json!({ "email": email })).await;
            reply.expect_error(409, "already_member");
        }
        // In another workspace of the agency: a new membership of the same user.
        let reply = invite(
            &app,
            &owner.key,
            &globex,
            json!({
                "email": "client@example.com",
                "roles": ["member", "admin", "member"],
                "redirectUrl": "https://portal.youragency.com/welcome"
            }),
        )
        .await;
        let second = invited(&reply, "client@example.com");
        assert_eq!(second["userId"], first["userId"]);
        assert_ne!(second["membershipId"], first["membershipId"]);
        assert_eq!(second["portalUrl"], "https://portal.youragency.com/welcome");
        // Another person is another user.
        let reply = invite(&app, &owner.key, &acme, json!({ "email": "boss@example.com" })).await;
        assert_ne!(invited(&reply, "boss@example.com")["userId"], first["userId"]);

        // Unknown workspaces and those of another agency are 404.
        let other = agency(&app).await;
        let body = json!({ "email": "new@example.com" });
        invite(&app, &other.key, &acme, body.clone()).await.expect_error(404, "not_found");
        invite(&app, &owner.key, "nope", body.clone()).await.expect_error(404, "not_found");
        // Nothing was recorded by those: the address is still free in Acme.
        invited(&invite(&app, &owner.key, &acme, body).await, "new@example.com");
    }
);

both_backends!(
    async fn invitations_are_validated_and_nothing_is_written(app) {
        let owner = agency(&app).await;
        let acme = id_of(&create_workspace(&app, &owner.key, "Acme").await);
        let long_local = format!("{}@example.com", "a".repeat(250));
        let too_many: Vec<String> = (0..11).map(|i| format!("role{i}")).collect();
        let bad = [
            (json!({}), "email"),
            (json!({ "email": "" }), "email"),
            (json!({ "email": "client" }), "email"),
            (json!({ "email": "client@" }), "email"),
            (json!({ "email": "@example.com" }), "email"),
            (json!({ "email": "a b@example.com" }), "email"),
            (json!({ "email": "client@@example.com" }), "email"),
            (json!({ "email": long_local }), "email"),
            (json!({ "email": 7 }), "email"),
            (json!({ "email": null }), "email"),
            (json!({ "email": "client@example.com", "roles": [] }), "roles"),
            (json!({ "email": "client@example.com", "roles": "member" }), "roles"),
            (json!({ "email": "client@example.com", "roles": [1] }), "roles[0]"),
            (json!({ "email": "client@example.com", "roles": ["member", ""] }), "roles[1]"),
            (json!({ "email": "client@example.com", "roles": ["with space"] }), "roles[0]"),
            (json!({ "email": "client@example.com", "roles": ["x".repeat(33)] }), "roles[0]"),
            (json!({ "email": "client@example.com", "roles": too_many }), "roles"),
            (json!({ "email": "client@example.com", "redirectUrl": "portal" }), "redirectUrl"),
            (json!({ "email": "client@example.com", "redirectUrl": "ftp://x.io/" }), "redirectUrl"),
            (json!({ "email": "client@example.com", "redirectUrl": "javascript:alert(1)" }), "redirectUrl"),
            (
                json!({ "email": "client@example.com", "redirectUrl": format!("https://x.io/{}", "a".repeat(2048)) }),
                "redirectUrl",
            ),
            (json!({ "email": "client@example.com", "redirectUrl": 5 }), "redirectUrl"),
        ];
        for (body, field) in bad {
            let reply = invite(&app, &owner.key, &acme, body.clone()).await;
            assert_invalid(&reply, field);
        }
        let path = format!("/v1/workspaces/{acme}/invite");
        let reply = app.send_raw(Method::POST, &path, &owner.key, "{\"email\":").await;
        reply.expect_error(400, "validation_error");
        // A bad email on an unknown workspace is still a 400: the input is checked first.
        let reply = invite(&app, &owner.key, "nope", json!({ "email": "x" })).await;
        assert_invalid(&reply, "email");
        // None of these recorded anything.
        let reply = invite(&app, &owner.key, &acme, json!({ "email": "client@example.com" })).await;
        invited(&reply, "client@example.com");
    }
);

/// `DELETE /v1/workspaces/{id}/clients` with a JSON body.
async fn remove(app: &TestApp, key: &str, path: &str, body: Value) -> Reply {
    app.send(Method::DELETE, path, Some(key), Some(body)).await
}

both_backends!(
    async fn clients_are_removed_by_email(app) {
        let owner = agency(&app).await;
        let acme = id_of(&create_workspace(&app, &owner.key, "Acme").await);
        let globex = id_of(&create_workspace(&app, &owner.key, "Globex").await);
        for workspace in [&acme, &globex] {
            let reply = invite(&app, &owner.key, workspace, json!({ "email": "client@example.com" })).await;
            invited(&reply, "client@example.com");
        }
        let path = format!("/v1/workspaces/{acme}/clients");

        // Validation first, then the workspace, then the member.
        for (body, field) in [
            (json!({}), "email"),
            (json!({ "email": "not-an-email" }), "email"),
            (json!({ "email": 3 }), "email"),
        ] {
            assert_invalid(&remove(&app, &owner.key, &path, body).await, field);
        }
        let reply = app.delete(&owner.key, &path).await;
        assert_invalid(&reply, "email");
        let other = agency(&app).await;
        let body = json!({ "email": "client@example.com" });
        remove(&app, &other.key, &path, body.clone()).await.expect_error(404, "not_found");
        let unknown = "/v1/workspaces/nope/clients";
        remove(&app, &owner.key, unknown, body.clone()).await.expect_error(404, "not_found");
        let reply = remove(&app, &owner.key, &path, json!({ "email": "who@example.com" })).await;
        reply.expect_error(404, "not_found");

        let reply = remove(&app, &owner.key, &path, json!({ "email": "CLIENT@example.com" })).await;
        assert_eq!(
            reply.expect(200),
            &json!({ "message": "Client removed from workspace", "email": "client@example.com" })
        );
        remove(&app, &owner.key, &path, body.clone()).await.expect_error(404, "not_found");
        // Only Acme's membership went: Globex still has the client, Acme can invite again.
        let reply = invite(&app, &owner.key, &globex, body.clone()).await;
        reply.expect_error(409, "already_member");
        let again = invite(&app, &owner.key, &acme, body).await;
        invited(&again, "client@example.com");

        // By the user id the invitation returned, too (our extension); not both at once.
        let user = again.body["userId"].as_str().expect("userId").to_owned();
        let both = json!({ "email": "client@example.com", "userId": user });
        assert_invalid(&remove(&app, &owner.key, &path, both).await, "userId");
        let by_user = json!({ "userId": user });
        remove(&app, &other.key, &path, by_user.clone()).await.expect_error(404, "not_found");
        let reply = remove(&app, &owner.key, &path, by_user.clone()).await;
        assert_eq!(reply.expect(200)["email"], "client@example.com");
        remove(&app, &owner.key, &path, by_user).await.expect_error(404, "not_found");
    }
);

both_backends!(
    async fn assigning_agents_reports_real_counts(app) {
        let owner = agency(&app).await;
        let workspace = id_of(&create_workspace(&app, &owner.key, "Acme").await);
        let agent = new_agent(&app, &owner.key).await;
        let first = new_campaign(&app, &owner.key, &agent, "First").await;
        let second = new_campaign(&app, &owner.key, &agent, "Second").await;
        add_people(&app, &owner.team_id, &first, &["ann", "bob", "cid"]).await;
        // Ann is in both campaigns: two chats, one prospect.
        add_people(&app, &owner.team_id, &second, &["ann", "dan"]).await;
        let other_agent = new_agent(&app, &owner.key).await;
        let other_campaign = new_campaign(&app, &owner.key, &other_agent, "Other").await;
        add_people(&app, &owner.team_id, &other_campaign, &["eve"]).await;

        assert_eq!(assign(&app, &owner.key, &workspace, &agent).await, propagated(2, 5, 4));
        // Assigning again changes nothing and says the same.
        assert_eq!(assign(&app, &owner.key, &workspace, &agent).await, propagated(2, 5, 4));
        // An agent without campaigns propagates nothing.
        let idle = new_agent(&app, &owner.key).await;
        assert_eq!(assign(&app, &owner.key, &workspace, &idle).await, propagated(0, 0, 0));
        // One agent may serve several workspaces.
        let globex = id_of(&create_workspace(&app, &owner.key, "Globex").await);
        assert_eq!(assign(&app, &owner.key, &globex, &agent).await, propagated(2, 5, 4));

        let reply = app.delete(&owner.key, &assign_path(&workspace, &agent)).await;
        let body = reply.expect(200);
        assert_eq!(keys(body), ["agentId", "message", "propagated"], "{body}");
        assert_eq!(body["message"], "Agent unassigned from workspace");
        assert_eq!(body["agentId"], agent);
        assert_eq!(body["propagated"], propagated(2, 5, 4));
        // Not assigned any more: 404; the agent itself is still there.
        let reply = app.delete(&owner.key, &assign_path(&workspace, &agent)).await;
        reply.expect_error(404, "not_found");
        app.get(&owner.key, &format!("/v1/agents/{agent}")).await.expect(200);
        // And it can be assigned again.
        assert_eq!(assign(&app, &owner.key, &workspace, &agent).await, propagated(2, 5, 4));
    }
);

both_backends!(
    async fn assignments_stay_within_the_agency(app) {
        let owner = agency(&app).await;
        let workspace = id_of(&create_workspace(&app, &owner.key, "Acme").await);
        let agent = new_agent(&app, &owner.key).await;
        let other = agency(&app).await;
        let other_workspace = id_of(&create_workspace(&app, &other.key, "Theirs").await);
        let other_agent = new_agent(&app, &other.key).await;

        for method in [Method::POST, Method::DELETE] {
            let cases = [
                (&owner.key, assign_path(&workspace, &other_agent)),
                (&owner.key, assign_path(&workspace, "nope")),
                (&owner.key, assign_path(&other_workspace, &agent)),
                (&owner.key, assign_path("nope", &agent)),
                (&other.key, assign_path(&workspace, &agent)),
                (&other.key, assign_path(&other_workspace, &agent)),
            ];
            for (key, path) in cases {
                let reply = app.send(method.clone(), &path, Some(key), None).await;
                reply.expect_error(404, "not_found");
            }
        }
        // Refused assignments wrote nothing: the owner's agent is not assigned anywhere.
        let reply = app.delete(&owner.key, &assign_path(&workspace, &agent)).await;
        reply.expect_error(404, "not_found");
        assert_eq!(
            app.delete(&owner.key, &format!("/v1/workspaces/{workspace}")).await.expect(200)["stats"]
                ["agentsUnassigned"],
            0
        );
    }
);

/// One SMTP session as the fake server saw it.
#[derive(Debug, Clone, Default)]
struct Received {
    mail_from: String,
    rcpt_to: Vec<String>,
    data: String,
}

/// A minimal SMTP server on 127.0.0.1 that records what it is sent; `reject_rcpt` answers 550
/// to every recipient.
struct FakeSmtp {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl FakeSmtp {
    async fn start(reject_rcpt: bool) -> FakeSmtp {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind SMTP");
        let port = listener.local_addr().expect("address").port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&received);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let sink = Arc::clone(&sink);
                tokio::spawn(async move {
                    if let Some(session) = smtp_session(stream, reject_rcpt).await {
                        sink.lock().expect("lock").push(session);
                    }
                });
            }
        });
        FakeSmtp {
            url: format!("smtp://127.0.0.1:{port}?from=Acme%20Agency%20%3Cagency%40example.com%3E"),
            received,
        }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }
}

/// Speaks the server side of one SMTP session; the message when one was accepted.
async fn smtp_session(stream: tokio::net::TcpStream, reject_rcpt: bool) -> Option<Received> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut session = Received::default();
    let mut accepted = false;
    write.write_all(b"220 fake.test ESMTP\r\n").await.ok()?;
    while let Ok(Some(line)) = lines.next_line().await {
        let command = line.to_ascii_uppercase();
        let answer: &[u8] = if command.starts_with("EHLO") || command.starts_with("HELO") {
            b"250 fake.test\r\n"
        } else if command.starts_with("MAIL FROM:") {
            session.mail_from = line["MAIL FROM:".len()..].to_owned();
            b"250 OK\r\n"
        } else if command.starts_with("RCPT TO:") {
            if reject_rcpt {
                b"550 No such user\r\n"
            } else {
                session.rcpt_to.push(line["RCPT TO:".len()..].to_owned());
                b"250 OK\r\n"
            }
        } else if command == "DATA" {
            write.write_all(b"354 Go ahead\r\n").await.ok()?;
            while let Ok(Some(data)) = lines.next_line().await {
                if data == "." {
                    break;
                }
                let data = data.strip_prefix('.').unwrap_or(&data);
                session.data.push_str(data);
                session.data.push_str("\r\n");
            }
            accepted = true;
            b"250 Queued\r\n"
        } else if command == "QUIT" {
            let _ = write.write_all(b"221 Bye\r\n").await;
            break;
        } else {
            b"250 OK\r\n"
        };
        write.write_all(answer).await.ok()?;
    }
    accepted.then_some(session)
}

/// The decoded text body of a message (7bit or quoted-printable).
fn text_body(data: &str) -> String {
    let (headers, body) = data.split_once("\r\n\r\n").expect("headers and body");
    if !headers
        .to_ascii_lowercase()
        .contains("content-transfer-encoding: quoted-printable")
    {
        return body.to_owned();
    }
    let joined = body.replace("=\r\n", "");
    let mut out = Vec::new();
    let bytes = joined.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("hex");
            out.push(u8::from_str_radix(hex, 16).expect("hex byte"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("UTF-8 body")
}

async fn spawn_with_smtp(
    backend: Backend,
    smtp_url: &str,
    public_url: Option<&str>,
) -> Option<TestApp> {
    let smtp_url = smtp_url.to_owned();
    let public_url = public_url.map(str::to_owned);
    TestApp::spawn_with_settings(backend, move |settings| {
        settings.smtp_url = Some(smtp_url);
        settings.public_url = public_url;
    })
    .await
}

/// With SMTP configured, the invitation is emailed with the portal link.
async fn invitations_are_emailed(backend: Backend) {
    let smtp = FakeSmtp::start(false).await;
    let Some(app) =
        spawn_with_smtp(backend, &smtp.url, Some("https://outbound.example.com/")).await
    else {
        return;
    };
    let owner = agency(&app).await;
    let acme = id_of(&create_workspace(&app, &owner.key, "Acme Corporation").await);
    let reply = invite(
        &app,
        &owner.key,
        &acme,
        json!({ "email": "Client@Example.com" }),
    )
    .await;
    let body = invited(&reply, "client@example.com");
    assert_eq!(body["emailSent"], true);
    assert_eq!(body["portalUrl"], "https://outbound.example.com");

    let received = smtp.received();
    assert_eq!(received.len(), 1, "{received:?}");
    let message = &received[0];
    assert_eq!(message.mail_from.trim(), "<agency@example.com>");
    assert_eq!(message.rcpt_to.len(), 1);
    assert_eq!(message.rcpt_to[0].trim(), "<client@example.com>");
    let sender_and_recipient = "From: \"Acme Agency\" <agency@example.com>\r\n\
                                To: client@example.com\r\n";
    assert!(
        message.data.starts_with(sender_and_recipient),
        "{}",
        message.data
    );
    assert!(
        message
            .data
            .contains("Subject: You are invited to the Acme Corporation workspace"),
        "{}",
        message.data
    );
    let text = text_body(&message.data);
    assert!(
        text.contains("Open your portal: https://outbound.example.com\r\n"),
        "{text}"
    );
    assert!(text.contains("\"Acme Corporation\""), "{text}");

    // With a redirectUrl, the email links there.
    let reply = invite(
        &app,
        &owner.key,
        &acme,
        json!({ "email": "boss@example.com", "redirectUrl": "https://portal.acme.io/in" }),
    )
    .await;
    assert_eq!(invited(&reply, "boss@example.com")["emailSent"], true);
    let received = smtp.received();
    assert_eq!(received.len(), 2);
    assert!(
        text_body(&received[1].data).contains("Open your portal: https://portal.acme.io/in\r\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitations_are_emailed_sqlite() {
    invitations_are_emailed(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitations_are_emailed_postgres() {
    invitations_are_emailed(Backend::Postgres).await;
}

/// A refusing or absent SMTP server: `emailSent` is false and the membership exists anyway.
async fn failed_emails_still_record_the_invitation(backend: Backend) {
    let refusing = FakeSmtp::start(true).await;
    let Some(app) = spawn_with_smtp(backend, &refusing.url, None).await else {
        return;
    };
    let owner = agency(&app).await;
    let acme = id_of(&create_workspace(&app, &owner.key, "Acme").await);
    let body = json!({ "email": "client@example.com" });
    let reply = invite(&app, &owner.key, &acme, body.clone()).await;
    assert_eq!(invited(&reply, "client@example.com")["emailSent"], false);
    assert!(refusing.received().is_empty());
    invite(&app, &owner.key, &acme, body)
        .await
        .expect_error(409, "already_member");

    // Nobody listens on the port any more: connection refused.
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        listener.local_addr().expect("address").port()
    };
    let Some(app) = spawn_with_smtp(backend, &format!("smtp://127.0.0.1:{closed}"), None).await
    else {
        return;
    };
    let owner = agency(&app).await;
    let acme = id_of(&create_workspace(&app, &owner.key, "Acme").await);
    let body = json!({ "email": "client@example.com" });
    let reply = invite(&app, &owner.key, &acme, body.clone()).await;
    assert_eq!(invited(&reply, "client@example.com")["emailSent"], false);
    invite(&app, &owner.key, &acme, body)
        .await
        .expect_error(409, "already_member");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_emails_still_record_the_invitation_sqlite() {
    failed_emails_still_record_the_invitation(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_emails_still_record_the_invitation_postgres() {
    failed_emails_still_record_the_invitation(Backend::Postgres).await;
}

/// The ids of a bare array of objects.
fn ids(list: &Value) -> Vec<&str> {
    list.as_array()
        .expect("a bare array")
        .iter()
        .map(|item| item["id"].as_str().expect("id"))
        .collect()
}

/// What a client team's key may read of the assigned agent's campaign `campaign` (whose first
/// conversation is `chat`), and that it cannot read `hidden` (another agent's campaign) nor
/// `hidden_chat`.
async fn assert_reads_exactly(
    app: &TestApp,
    key: &str,
    campaign: &str,
    chat: &str,
    hidden: &str,
    hidden_chat: &str,
) {
    let listed = app.get(key, "/v1/campaigns").await;
    assert_eq!(ids(listed.expect(200)), [campaign]);
    let stats = app
        .get(key, &format!("/v1/campaigns/{campaign}/stats"))
        .await;
    stats.expect(200);
    let prospects = app
        .get(key, &format!("/v1/prospects/campaign/{campaign}"))
        .await;
    assert_eq!(prospects.expect(200).as_array().expect("array").len(), 2);
    let details = app.get(key, &format!("/v1/prospects/{chat}")).await;
    details.expect(200);
    assert_reads_nothing_of(app, key, hidden, hidden_chat).await;
}

/// The chat ids `GET /v1/prospects/search` finds for `key`, sorted.
async fn searched_chats(app: &TestApp, key: &str) -> Vec<String> {
    let reply = app.get(key, "/v1/prospects/search?limit=100").await;
    let body = reply.expect(200);
    let mut chats: Vec<String> = ids(&body["prospects"])
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(body["pagination"]["total"], chats.len(), "{body}");
    chats.sort();
    chats
}

/// Every read of `campaign` and `chat` is 404 for `key`.
async fn assert_reads_nothing_of(app: &TestApp, key: &str, campaign: &str, chat: &str) {
    for path in [
        format!("/v1/campaigns/{campaign}/stats"),
        format!("/v1/prospects/campaign/{campaign}"),
        format!("/v1/prospects/{chat}"),
    ] {
        let reply = app.get(key, &path).await;
        assert_eq!(reply.status, 404, "GET {path}: {}", reply.body);
    }
}

/// Every write a client key could try on the agency's campaign, conversation and prospect.
fn writes(campaign: &str, chat: &str, prospect: &str) -> Vec<(Method, String, Option<Value>)> {
    let person = json!({ "name": "Zed", "url": "https://linkedin.com/in/zed" });
    vec![
        (
            Method::PUT,
            format!("/v1/campaigns/{campaign}"),
            Some(json!({ "name": "Mine now" })),
        ),
        (Method::DELETE, format!("/v1/campaigns/{campaign}"), None),
        (
            Method::POST,
            format!("/v1/campaigns/{campaign}/pause"),
            None,
        ),
        (
            Method::POST,
            format!("/v1/campaigns/{campaign}/resume"),
            None,
        ),
        (Method::POST, format!("/v1/prospects/{chat}/pause"), None),
        (Method::POST, format!("/v1/prospects/{chat}/resume"), None),
        (Method::POST, format!("/v1/prospects/{chat}/qualify"), None),
        (
            Method::POST,
            format!("/v1/prospects/{chat}/disqualify"),
            None,
        ),
        (
            Method::PATCH,
            format!("/v1/prospects/{chat}/custom-data"),
            Some(json!({ "customData": "mine" })),
        ),
        (Method::DELETE, format!("/v1/prospects/{prospect}"), None),
        (
            Method::POST,
            "/v1/prospects".to_owned(),
            Some(
                json!({ "campaignId": campaign, "name": "Zed", "url": "https://linkedin.com/in/zed" }),
            ),
        ),
        (
            Method::POST,
            "/v1/prospects/batch".to_owned(),
            Some(json!({ "campaignId": campaign, "prospects": [person] })),
        ),
    ]
}

both_backends!(
    async fn client_teams_read_exactly_the_assigned_agents_data(app) {
        let owner = agency(&app).await;
        let shared = new_agent(&app, &owner.key).await;
        let private = new_agent(&app, &owner.key).await;
        let campaign = new_campaign(&app, &owner.key, &shared, "Shared").await;
        let hidden = new_campaign(&app, &owner.key, &private, "Private").await;
        let people = add_people(&app, &owner.team_id, &campaign, &["ann", "bob"]).await;
        let hidden_people = add_people(&app, &owner.team_id, &hidden, &["cid"]).await;
        let (prospect, chat) = people[0].clone();
        let hidden_chat = hidden_people[0].1.clone();

        let acme = create_workspace(&app, &owner.key, "Acme").await;
        let workspace = id_of(&acme);
        let client = app.new_key(acme["clientTeamId"].as_str().expect("client team")).await;
        let bystander = create_workspace(&app, &owner.key, "Globex").await;
        let bystander = app.new_key(bystander["clientTeamId"].as_str().expect("team")).await;

        // Before any assignment, the client team sees nothing of the agency.
        assert_eq!(app.get(&client, "/v1/campaigns").await.expect(200), &json!([]));
        assert_reads_nothing_of(&app, &client, &campaign, &chat).await;
        assert!(searched_chats(&app, &client).await.is_empty());

        assert_eq!(assign(&app, &owner.key, &workspace, &shared).await, propagated(1, 2, 2));
        assert_reads_exactly(&app, &client, &campaign, &chat, &hidden, &hidden_chat).await;
        let mut shared_chats: Vec<String> = people.iter().map(|(_, chat)| chat.clone()).collect();
        shared_chats.sort();
        assert_eq!(searched_chats(&app, &client).await, shared_chats);
        assert!(searched_chats(&app, &bystander).await.is_empty());
        assert_eq!(searched_chats(&app, &owner.key).await.len(), 3);
        // A workspace without that agent reads nothing; the agency still reads everything.
        assert_eq!(app.get(&bystander, "/v1/campaigns").await.expect(200), &json!([]));
        assert_reads_nothing_of(&app, &bystander, &campaign, &chat).await;
        let mut all = ids(app.get(&owner.key, "/v1/campaigns").await.expect(200))
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>();
        all.sort();
        let mut expected = vec![campaign.clone(), hidden.clone()];
        expected.sort();
        assert_eq!(all, expected);

        // Reading is all: every write is 404, and nothing changes.
        let before = app.get(&owner.key, &format!("/v1/prospects/{chat}")).await.expect(200).clone();
        let stats_before = app
            .get(&owner.key, &format!("/v1/campaigns/{campaign}/stats"))
            .await
            .expect(200)
            .clone();
        for (method, path, body) in writes(&campaign, &chat, &prospect) {
            let reply = app.send(method.clone(), &path, Some(&client), body).await;
            assert_eq!(reply.status, 404, "{method} {path}: {}", reply.body);
        }
        let reply = app
            .send(
                Method::DELETE,
                "/v1/prospects",
                Some(&client),
                Some(json!({ "prospectIds": [prospect] })),
            )
            .await;
        let failed = &reply.expect(200)["results"][0];
        assert_eq!(failed["error"], "not_found", "{}", reply.body);
        let after = app.get(&owner.key, &format!("/v1/prospects/{chat}")).await;
        assert_eq!(after.expect(200), &before);
        let stats_after = app.get(&owner.key, &format!("/v1/campaigns/{campaign}/stats")).await;
        assert_eq!(stats_after.expect(200), &stats_before);
        let listed = app.get(&owner.key, "/v1/campaigns").await;
        let shared_campaign = listed
            .expect(200)
            .as_array()
            .expect("array")
            .iter()
            .find(|c| c["id"] == campaign.as_str())
            .expect("still there")
            .clone();
        assert_eq!(shared_campaign["name"], "Shared");
        assert_eq!(shared_campaign["status"], "active");

        // Unassigning takes the access away at once.
        app.delete(&owner.key, &assign_path(&workspace, &shared)).await.expect(200);
        assert_eq!(app.get(&client, "/v1/campaigns").await.expect(200), &json!([]));
        assert_reads_nothing_of(&app, &client, &campaign, &chat).await;
        assert!(searched_chats(&app, &client).await.is_empty());

        // So does deleting the workspace; the client key still authenticates, reading nothing.
        assign(&app, &owner.key, &workspace, &shared).await;
        assert_reads_exactly(&app, &client, &campaign, &chat, &hidden, &hidden_chat).await;
        let reply = app.delete(&owner.key, &format!("/v1/workspaces/{workspace}")).await;
        assert_eq!(
            reply.expect(200)["stats"],
            json!({ "agentsUnassigned": 1, "campaignsUpdated": 1, "chatsUpdated": 2 })
        );
        assert_eq!(app.get(&client, "/v1/campaigns").await.expect(200), &json!([]));
        assert_reads_nothing_of(&app, &client, &campaign, &chat).await;
        assert!(searched_chats(&app, &client).await.is_empty());
    }
);
