//! Agents: creation (any body ignored) and the plan quota, the list and the details with usage
//! and alerts, settings updates validated as a whole, setup (the password never comes back),
//! the status actions with their `invalid_status` refusals, delete, relaunch, and team isolation.
//!
//! Events the API cannot cause (login results, disabling, ending) are applied through the store.
//! Alerts are raised through the store too, as the engine does when LinkedIn asks for a code.

use crate::both_backends;
use crate::common::{Reply, TestApp};
use crate::common::{assert_keys, keys};
use outbound_core::agent::{AgentEvent, Alert, Severity};
use outbound_core::plan::Plan;
use outbound_store::agents::AgentChange;
use reqwest::Method;
use serde_json::{Value, json};

const PASSWORD: &str = "Sup3r-Secret-Passw0rd";

/// Asserts a 400 `validation_error` whose first detail names `field`.
#[track_caller]
fn assert_invalid(reply: &Reply, field: &str) {
    reply.expect_error(400, "validation_error");
    let details = reply.body["details"].as_array().expect("details array");
    assert!(!details.is_empty(), "no details: {}", reply.body);
    assert_eq!(details[0]["field"], field, "body: {}", reply.body);
    assert!(details[0]["message"].is_string(), "body: {}", reply.body);
}

/// Asserts a 400 `invalid_status` naming the agent's `current` status.
#[track_caller]
fn assert_invalid_status(reply: &Reply, current: &str) {
    reply.expect_error(400, "invalid_status");
    assert_eq!(reply.body["currentStatus"], current, "body: {}", reply.body);
}

/// Creates an agent with `key` and returns its id.
async fn create(app: &TestApp, key: &str) -> String {
    let reply = app.post_empty(key, "/v1/agents").await;
    let body = reply.expect(201);
    assert_eq!(keys(body), ["id", "message"], "{body}");
    assert_eq!(body["message"], "Agent created successfully");
    let id = body["id"].as_str().expect("id");
    assert_eq!(id.len(), 20, "{id}");
    id.to_owned()
}

async fn list(app: &TestApp, key: &str) -> Vec<Value> {
    let reply = app.get(key, "/v1/agents").await;
    reply.expect(200).as_array().expect("a bare array").clone()
}

async fn details(app: &TestApp, key: &str, id: &str) -> Value {
    app.get(key, &format!("/v1/agents/{id}"))
        .await
        .expect(200)
        .clone()
}

async fn status(app: &TestApp, id: &str) -> String {
    details(app, app.key(), id).await["status"]
        .as_str()
        .expect("status")
        .to_owned()
}

/// Gives the first team's agent valid credentials (`auth_in_progress`).
async fn setup(app: &TestApp, id: &str) {
    let reply = app
        .post(
            app.key(),
            &format!("/v1/agents/{id}/setup"),
            json!({ "login": "sam@example.com", "password": PASSWORD, "country": "fr" }),
        )
        .await;
    assert_eq!(
        reply.expect(200),
        &json!({ "message": "Agent setup successfully" })
    );
}

/// Applies an event the API cannot cause, as the engine would.
async fn apply(app: &TestApp, id: &str, event: AgentEvent) {
    app.store
        .transition_agent(&app.team.team_id, id, event, AgentChange::Nothing)
        .await
        .expect("store transition");
}

/// A first-team agent that is `running`.
async fn running_agent(app: &TestApp) -> String {
    let id = create(app, app.key()).await;
    setup(app, &id).await;
    apply(app, &id, AgentEvent::LoginSucceeded).await;
    assert_eq!(status(app, &id).await, "running");
    id
}

/// The keys of every agent.
const AGENT_KEYS: &[&str] = &["alerts", "id", "name", "status"];
/// The keys an agent has once they have a value (a new agent has none of them).
const AGENT_KEYS_WHEN_SET: &[&str] = &["avatar", "country", "login", "nextTask"];

/// Asserts the list-item fields of a new agent.
#[track_caller]
fn assert_new_agent(agent: &Value, id: &str) {
    assert_eq!(agent["id"], id);
    assert_eq!(agent["name"], "New LinkedIn agent");
    assert_eq!(agent["status"], "setup_needed");
    for key in AGENT_KEYS_WHEN_SET {
        assert!(agent.get(key).is_none(), "`{key}` of a new agent: {agent}");
    }
    assert_eq!(agent["alerts"], json!([]));
}

both_backends!(
    async fn agents_are_created_with_or_without_a_body(app) {
        assert_eq!(list(&app, app.key()).await, Vec::<Value>::new());
        let bare = create(&app, app.key()).await;
        // The outdated documentation's body is accepted and ignored.
        let reply = app
            .post(
                app.key(),
                "/v1/agents",
                json!({
                    "name": "Sam", "email": "sam@example.com", "password": "whatever1",
                    "workingHours": { "start": "08:00", "end": "12:00", "days": [1, 2] },
                    "limits": { "dailyConnections": 500 }
                }),
            )
            .await;
        let body = reply.expect(201);
        assert_eq!(body["message"], "Agent created successfully");
        let with_body = body["id"].as_str().expect("id").to_owned();
        let reply = app
            .send_raw(Method::POST, "/v1/agents", app.key(), "not json at all")
            .await;
        let garbage = reply.expect(201)["id"].as_str().expect("id").to_owned();

        let agents = list(&app, app.key()).await;
        let ids: Vec<&str> = agents.iter().map(|a| a["id"].as_str().expect("id")).collect();
        assert_eq!(ids, [garbage.as_str(), with_body.as_str(), bare.as_str()]);
        for agent in &agents {
            assert_keys(agent, AGENT_KEYS, AGENT_KEYS_WHEN_SET);
        }
        assert_new_agent(&agents[2], &bare);
        assert_new_agent(&agents[1], &with_body);
        // The ignored body changed nothing.
        let details = details(&app, app.key(), &with_body).await;
        assert_eq!(details["usage"]["workingHours"]["start"], "09:00");
        assert_eq!(details["limits"]["invitationsMax"], 25);
    }
);

both_backends!(
    async fn details_carry_usage_limits_settings_and_alerts(app) {
        let id = create(&app, app.key()).await;
        let body = details(&app, app.key(), &id).await;
        assert_keys(
            &body,
            &[AGENT_KEYS, &["limits", "settings", "usage"]].concat(),
            AGENT_KEYS_WHEN_SET,
        );
        assert_new_agent(&body, &id);
        let usage = &body["usage"];
        assert_keys(
            usage,
            &[
                "invitations",
                "invitationsDaily",
                "invitationsMonth",
                "invitationsMonthCap",
                "invitationsWeek",
                "invitationsWeekCap",
                "messages",
                "messagesDaily",
                "workingHours",
            ],
            &["nextInvitation", "nextMessage", "warmupDay"],
        );
        assert_eq!(usage["invitationsWeekCap"], 100);
        assert_eq!(usage["invitationsMonthCap"], 800);
        assert_eq!(usage["invitationsMonth"], 0);
        assert_eq!(usage["invitations"], 0);
        assert_eq!(usage["messages"], 0);
        let invitations_daily = usage["invitationsDaily"].as_i64().expect("integer");
        assert!((15..=25).contains(&invitations_daily), "{invitations_daily}");
        let messages_daily = usage["messagesDaily"].as_i64().expect("integer");
        assert!((30..=60).contains(&messages_daily), "{messages_daily}");
        assert!(usage["nextInvitation"].is_null());
        assert!(usage["nextMessage"].is_null());
        assert_eq!(
            usage["workingHours"],
            json!({ "days": "1:1:1:1:1:0:0", "start": "09:00", "stop": "18:00", "timezone": 0 })
        );
        assert_eq!(
            body["limits"],
            json!({ "invitationsMin": 15, "invitationsMax": 25, "messagesMin": 30, "messagesMax": 60 })
        );
        assert_eq!(
            body["settings"],
            json!([
                { "key": "skipInNetwork", "value": false },
                { "key": "invitationsOnly", "value": false },
                { "key": "warmup", "value": true }
            ])
        );
        // The list item is the details without usage, limits and settings.
        let listed = list(&app, app.key()).await;
        let mut expected = body.clone();
        let object = expected.as_object_mut().expect("object");
        for key in ["usage", "limits", "settings"] {
            object.remove(key);
        }
        assert_eq!(listed, [expected]);
    }
);

both_backends!(
    async fn the_plan_quota_limits_agents(app) {
        let pioneer = app.new_team(Plan::Pioneer).await;
        let first = create(&app, &pioneer.key).await;
        let reply = app.post_empty(&pioneer.key, "/v1/agents").await;
        reply.expect_error(403, "plan_limit_reached");
        let agents = list(&app, &pioneer.key).await;
        assert_eq!(agents.len(), 1);
        assert_eq!(agents[0]["id"], first.as_str());
        // Deleting frees the slot.
        app.delete(&pioneer.key, &format!("/v1/agents/{first}")).await.expect(200);
        create(&app, &pioneer.key).await;
        app.post_empty(&pioneer.key, "/v1/agents")
            .await
            .expect_error(403, "plan_limit_reached");
        // Hunter allows three.
        let hunter = app.new_team(Plan::Hunter).await;
        for _ in 0..3 {
            create(&app, &hunter.key).await;
        }
        app.post_empty(&hunter.key, "/v1/agents")
            .await
            .expect_error(403, "plan_limit_reached");
        assert_eq!(list(&app, &hunter.key).await.len(), 3);
        // The unlimited team is not affected.
        for _ in 0..4 {
            create(&app, app.key()).await;
        }
        assert_eq!(list(&app, app.key()).await.len(), 4);
    }
);

both_backends!(
    async fn settings_updates_are_visible_in_the_details(app) {
        let id = create(&app, app.key()).await;
        let path = format!("/v1/agents/{id}");
        let reply = app
            .put(
                app.key(),
                &path,
                json!({
                    "workingHours": { "days": "1:1:1:1:1:1:0", "start": "08:30", "end": "17:45", "timezone": 2 },
                    "limits": { "invitationsMin": 5, "invitationsMax": 10, "messagesMin": 20, "messagesMax": 40 },
                    "settings": [{ "key": "skipInNetwork", "value": true }]
                }),
            )
            .await;
        assert_eq!(
            reply.expect(200),
            &json!({ "id": id, "message": "Agent settings updated successfully" })
        );
        let body = details(&app, app.key(), &id).await;
        assert_eq!(
            body["usage"]["workingHours"],
            json!({ "days": "1:1:1:1:1:1:0", "start": "08:30", "stop": "17:45", "timezone": 2 })
        );
        assert_eq!(
            body["limits"],
            json!({ "invitationsMin": 5, "invitationsMax": 10, "messagesMin": 20, "messagesMax": 40 })
        );
        assert_eq!(
            body["settings"],
            json!([
                { "key": "skipInNetwork", "value": true },
                { "key": "invitationsOnly", "value": false },
                { "key": "warmup", "value": true }
            ])
        );
        // Today's targets are drawn inside the new ranges.
        let invitations_daily = body["usage"]["invitationsDaily"].as_i64().expect("integer");
        assert!((5..=10).contains(&invitations_daily), "{invitations_daily}");
        let messages_daily = body["usage"]["messagesDaily"].as_i64().expect("integer");
        assert!((20..=40).contains(&messages_daily), "{messages_daily}");
        assert_eq!(body["status"], "setup_needed");

        // Partial updates keep everything else.
        app.put(app.key(), &path, json!({ "workingHours": { "stop": "19:00" } }))
            .await
            .expect(200);
        app.put(app.key(), &path, json!({ "limits": { "invitationsMax": 7 } }))
            .await
            .expect(200);
        app.put(
            app.key(),
            &path,
            json!({ "settings": [
                { "key": "invitationsOnly", "value": true },
                { "key": "warmup", "value": false }
            ] }),
        )
        .await
        .expect(200);
        let body = details(&app, app.key(), &id).await;
        assert_eq!(
            body["usage"]["workingHours"],
            json!({ "days": "1:1:1:1:1:1:0", "start": "08:30", "stop": "19:00", "timezone": 2 })
        );
        assert_eq!(
            body["limits"],
            json!({ "invitationsMin": 5, "invitationsMax": 7, "messagesMin": 20, "messagesMax": 40 })
        );
        assert_eq!(
            body["settings"],
            json!([
                { "key": "skipInNetwork", "value": true },
                { "key": "invitationsOnly", "value": true },
                { "key": "warmup", "value": false }
            ])
        );
        let invitations_daily = body["usage"]["invitationsDaily"].as_i64().expect("integer");
        assert!((5..=7).contains(&invitations_daily), "{invitations_daily}");
        // Boundaries are accepted; equal min and max pin the target.
        app.put(
            app.key(),
            &path,
            json!({
                "workingHours": { "start": "00:00", "stop": "23:59", "timezone": -12 },
                "limits": { "invitationsMin": 100, "invitationsMax": 100, "messagesMin": 1, "messagesMax": 2 },
                "settings": [{ "key": "skipInNetwork", "value": false }]
            }),
        )
        .await
        .expect(200);
        let body = details(&app, app.key(), &id).await;
        assert_eq!(body["usage"]["invitationsDaily"], 100);
        assert_eq!(body["usage"]["workingHours"]["timezone"], -12);
        assert_eq!(body["usage"]["workingHours"]["start"], "00:00");
        assert_eq!(body["settings"][0], json!({ "key": "skipInNetwork", "value": false }));
        app.put(app.key(), &path, json!({ "workingHours": { "timezone": 14 } }))
            .await
            .expect(200);
        assert_eq!(details(&app, app.key(), &id).await["usage"]["workingHours"]["timezone"], 14);
    }
);

both_backends!(
    async fn rejected_settings_change_nothing(app) {
        let id = create(&app, app.key()).await;
        let path = format!("/v1/agents/{id}");
        let before = details(&app, app.key(), &id).await;
        let cases = [
            // Min above max, including against the stored values (min 15, max 25; 30 and 60).
            (json!({ "limits": { "invitationsMax": 5 } }), "limits.invitationsMin"),
            (json!({ "limits": { "invitationsMin": 26 } }), "limits.invitationsMin"),
            (json!({ "limits": { "invitationsMin": 30, "invitationsMax": 20 } }), "limits.invitationsMin"),
            (json!({ "limits": { "messagesMin": 70 } }), "limits.messagesMin"),
            (json!({ "limits": { "messagesMax": 29 } }), "limits.messagesMin"),
            // Out of range.
            (json!({ "limits": { "invitationsMin": 0 } }), "limits.invitationsMin"),
            (json!({ "limits": { "invitationsMax": 101 } }), "limits.invitationsMax"),
            (json!({ "limits": { "invitationsMax": 1 } }), "limits.invitationsMax"),
            (json!({ "limits": { "messagesMin": 0 } }), "limits.messagesMin"),
            (json!({ "limits": { "messagesMax": 501 } }), "limits.messagesMax"),
            (json!({ "limits": { "messagesMin": -5 } }), "limits.messagesMin"),
            (json!({ "limits": { "invitationsMin": "ten" } }), "limits.invitationsMin"),
            (json!({ "limits": { "invitationsMin": 2.5 } }), "limits.invitationsMin"),
            (json!({ "limits": 20 }), "limits"),
            // Working hours.
            (json!({ "workingHours": { "days": "1:1:1:1:1:0" } }), "workingHours.days"),
            (json!({ "workingHours": { "days": "0:0:0:0:0:0:0" } }), "workingHours.days"),
            (json!({ "workingHours": { "days": "1111100" } }), "workingHours.days"),
            (json!({ "workingHours": { "days": "1:1:1:1:1:0:2" } }), "workingHours.days"),
            (json!({ "workingHours": { "days": [1, 1, 1, 1, 1, 0, 0] } }), "workingHours.days"),
            (json!({ "workingHours": { "start": "24:00" } }), "workingHours.start"),
            (json!({ "workingHours": { "start": "9am" } }), "workingHours.start"),
            (json!({ "workingHours": { "stop": "12:60" } }), "workingHours.stop"),
            (json!({ "workingHours": { "end": "18:0" } }), "workingHours.stop"),
            (json!({ "workingHours": { "timezone": 15 } }), "workingHours.timezone"),
            (json!({ "workingHours": { "timezone": -13 } }), "workingHours.timezone"),
            (json!({ "workingHours": { "start": 9 } }), "workingHours.start"),
            // Settings.
            (json!({ "settings": [{ "key": "autoReply", "value": true }] }), "settings[0].key"),
            (json!({ "settings": [{ "key": "skipInNetwork", "value": "yes" }] }), "settings[0].value"),
            (json!({ "settings": [{ "key": "skipInNetwork" }] }), "settings[0].value"),
            (json!({ "settings": { "skipInNetwork": true } }), "settings"),
            // Valid sections are not saved when another is refused.
            (
                json!({
                    "settings": [{ "key": "skipInNetwork", "value": true }],
                    "workingHours": { "start": "07:00" },
                    "limits": { "invitationsMax": 5 }
                }),
                "limits.invitationsMin",
            ),
            (
                json!({
                    "settings": [{ "key": "invitationsOnly", "value": true }],
                    "limits": { "invitationsMin": 1 },
                    "workingHours": { "stop": "24:00" }
                }),
                "workingHours.stop",
            ),
            // Nothing to change.
            (json!({}), "body"),
            (json!({ "name": "Renamed" }), "body"),
            (json!([]), "body"),
        ];
        for (body, field) in cases {
            let reply = app.put(app.key(), &path, body.clone()).await;
            assert_invalid(&reply, field);
            assert_eq!(details(&app, app.key(), &id).await, before, "changed by {body}");
        }
        let reply = app.send(Method::PUT, &path, Some(app.key()), None).await;
        assert_invalid(&reply, "body");
        assert_eq!(details(&app, app.key(), &id).await, before);
    }
);

both_backends!(
    async fn setup_validates_and_never_returns_the_password(app) {
        let id = create(&app, app.key()).await;
        let path = format!("/v1/agents/{id}/setup");
        let cases = [
            (json!({ "login": "not-an-email", "password": PASSWORD, "country": "FR" }), "login"),
            (json!({ "login": "sam@localhost", "password": PASSWORD, "country": "FR" }), "login"),
            (json!({ "login": "sam @example.com", "password": PASSWORD, "country": "FR" }), "login"),
            (json!({ "login": "", "password": PASSWORD, "country": "FR" }), "login"),
            (json!({ "password": PASSWORD, "country": "FR" }), "login"),
            (json!({ "login": "sam@example.com", "password": "12345", "country": "FR" }), "password"),
            (json!({ "login": "sam@example.com", "country": "FR" }), "password"),
            (json!({ "login": "sam@example.com", "password": 123456789, "country": "FR" }), "password"),
            (json!({ "login": "sam@example.com", "password": PASSWORD, "country": "FRA" }), "country"),
            (json!({ "login": "sam@example.com", "password": PASSWORD, "country": "F" }), "country"),
            (json!({ "login": "sam@example.com", "password": PASSWORD, "country": "F1" }), "country"),
            (json!({ "login": "sam@example.com", "password": PASSWORD }), "country"),
            (json!({}), "login"),
        ];
        for (body, field) in cases {
            let reply = app.post(app.key(), &path, body.clone()).await;
            assert_invalid(&reply, field);
            let body_text = reply.body.to_string();
            assert!(!body_text.contains(PASSWORD), "password echoed: {body_text}");
        }
        // Every problem is reported at once.
        let reply = app
            .post(app.key(), &path, json!({ "login": "nope", "password": "123", "country": "FRA" }))
            .await;
        let fields: Vec<&str> = reply.body["details"]
            .as_array()
            .expect("details")
            .iter()
            .map(|d| d["field"].as_str().expect("field"))
            .collect();
        assert_eq!(fields, ["login", "password", "country"]);
        assert!(!reply.body.to_string().contains("123\""));
        let unchanged = details(&app, app.key(), &id).await;
        assert_new_agent(&unchanged, &id);

        let reply = app
            .post(
                app.key(),
                &path,
                json!({ "login": "  sam@example.com ", "password": PASSWORD, "country": "fr" }),
            )
            .await;
        assert_eq!(reply.expect(200), &json!({ "message": "Agent setup successfully" }));
        let body = details(&app, app.key(), &id).await;
        assert_eq!(body["status"], "auth_in_progress");
        assert_eq!(body["login"], "sam@example.com");
        assert_eq!(body["country"], "FR");
        assert_eq!(body["name"], "sam@example.com");
        assert_eq!(body["alerts"], json!([]));
        let listed = list(&app, app.key()).await;
        assert_eq!(listed[0]["status"], "auth_in_progress");
        assert_eq!(listed[0]["login"], "sam@example.com");
        assert_eq!(listed[0]["country"], "FR");
        for text in [body.to_string(), serde_json::to_string(&listed).expect("json")] {
            assert!(!text.contains(PASSWORD), "password returned: {text}");
            assert!(!text.to_lowercase().contains("password"), "password field returned: {text}");
        }
        // New credentials while logging in are accepted; they replace the old ones.
        let reply = app
            .post(
                app.key(),
                &path,
                json!({ "login": "sam.lee@example.org", "password": "another-secret", "country": "de" }),
            )
            .await;
        reply.expect(200);
        let body = details(&app, app.key(), &id).await;
        assert_eq!(body["login"], "sam.lee@example.org");
        assert_eq!(body["country"], "DE");
        assert!(!body.to_string().contains("another-secret"));
        // Setup is refused once the agent runs.
        apply(&app, &id, AgentEvent::LoginSucceeded).await;
        let reply = app
            .post(
                app.key(),
                &path,
                json!({ "login": "x@example.com", "password": PASSWORD, "country": "US" }),
            )
            .await;
        assert_invalid_status(&reply, "running");
        assert_eq!(details(&app, app.key(), &id).await["login"], "sam.lee@example.org");
        // From auth_needed, setup is how new credentials are given.
        apply(&app, &id, AgentEvent::LoginNeedsAction).await;
        assert_eq!(status(&app, &id).await, "auth_needed");
        setup(&app, &id).await;
        assert_eq!(status(&app, &id).await, "auth_in_progress");
    }
);

both_backends!(
    async fn pause_and_resume_follow_the_status_rules(app) {
        let id = create(&app, app.key()).await;
        let pause = format!("/v1/agents/{id}/pause");
        let resume = format!("/v1/agents/{id}/resume");
        assert_invalid_status(&app.post_empty(app.key(), &pause).await, "setup_needed");
        assert_invalid_status(&app.post_empty(app.key(), &resume).await, "setup_needed");
        setup(&app, &id).await;
        assert_invalid_status(&app.post_empty(app.key(), &pause).await, "auth_in_progress");
        assert_invalid_status(&app.post_empty(app.key(), &resume).await, "auth_in_progress");
        assert_eq!(status(&app, &id).await, "auth_in_progress");

        apply(&app, &id, AgentEvent::LoginSucceeded).await;
        assert_eq!(status(&app, &id).await, "running");
        let reply = app.post_empty(app.key(), &pause).await;
        assert_eq!(reply.expect(200), &json!({ "message": "Agent paused successfully" }));
        assert_eq!(status(&app, &id).await, "paused");
        assert_eq!(list(&app, app.key()).await[0]["status"], "paused");
        // Pausing again is a no-op; a JSON body is accepted too.
        let reply = app.post(app.key(), &pause, json!({})).await;
        assert_eq!(reply.expect(200), &json!({ "message": "Agent paused successfully" }));
        assert_eq!(status(&app, &id).await, "paused");

        let reply = app.post_empty(app.key(), &resume).await;
        assert_eq!(reply.expect(200), &json!({ "message": "Agent resumed successfully" }));
        assert_eq!(status(&app, &id).await, "running");
        app.post_empty(app.key(), &resume).await.expect(200);
        assert_eq!(status(&app, &id).await, "running");

        // LinkedIn asks for something: neither pause nor resume.
        apply(&app, &id, AgentEvent::LoginNeedsAction).await;
        assert_eq!(status(&app, &id).await, "auth_needed");
        assert_invalid_status(&app.post_empty(app.key(), &resume).await, "auth_needed");
        assert_invalid_status(&app.post_empty(app.key(), &pause).await, "auth_needed");

        // An alert: resume is refused with its own code, and the alert shows in the details.
        let alert = Alert {
            kind: "auth".to_owned(),
            sub_type: "2fa_required".to_owned(),
            message: "Enter the LinkedIn verification code".to_owned(),
            severity: Severity::Warning,
        };
        app.store
            .transition_agent(
                &app.team.team_id,
                &id,
                AgentEvent::LoginNeedsAction,
                AgentChange::RaiseAlert(alert),
            )
            .await
            .expect("raise an alert");
        app.post_empty(app.key(), &resume)
            .await
            .expect_error(400, "agent_has_alerts");
        assert_eq!(
            details(&app, app.key(), &id).await["alerts"],
            json!([{
                "type": "auth",
                "subType": "2fa_required",
                "message": "Enter the LinkedIn verification code",
                "severity": "warning"
            }])
        );
        // New credentials clear the alerts.
        setup(&app, &id).await;
        assert_eq!(details(&app, app.key(), &id).await["alerts"], json!([]));

        // Disabled and ended agents cannot be paused or resumed either.
        apply(&app, &id, AgentEvent::Disable).await;
        assert_invalid_status(&app.post_empty(app.key(), &resume).await, "disabled");
        apply(&app, &id, AgentEvent::End).await;
        assert_invalid_status(&app.post_empty(app.key(), &pause).await, "ended");
        assert_eq!(status(&app, &id).await, "ended");
    }
);

both_backends!(
    async fn delete_refuses_working_agents(app) {
        // setup_needed: deleted.
        let fresh = create(&app, app.key()).await;
        let reply = app.delete(app.key(), &format!("/v1/agents/{fresh}")).await;
        assert_eq!(reply.expect(200), &json!({ "message": "Agent deleted successfully" }));
        app.get(app.key(), &format!("/v1/agents/{fresh}"))
            .await
            .expect_error(404, "not_found");
        app.delete(app.key(), &format!("/v1/agents/{fresh}"))
            .await
            .expect_error(404, "not_found");
        assert_eq!(list(&app, app.key()).await, Vec::<Value>::new());

        // auth_in_progress and running: refused, with the status.
        let id = create(&app, app.key()).await;
        let path = format!("/v1/agents/{id}");
        setup(&app, &id).await;
        assert_invalid_status(&app.delete(app.key(), &path).await, "auth_in_progress");
        apply(&app, &id, AgentEvent::LoginSucceeded).await;
        assert_invalid_status(&app.delete(app.key(), &path).await, "running");
        assert_eq!(status(&app, &id).await, "running");
        assert_eq!(list(&app, app.key()).await.len(), 1);

        // paused: deleted.
        app.post_empty(app.key(), &format!("{path}/pause")).await.expect(200);
        app.delete(app.key(), &path).await.expect(200);
        app.get(app.key(), &path).await.expect_error(404, "not_found");

        // ended: deleted.
        let ended = running_agent(&app).await;
        apply(&app, &ended, AgentEvent::End).await;
        app.delete(app.key(), &format!("/v1/agents/{ended}")).await.expect(200);
        assert_eq!(list(&app, app.key()).await, Vec::<Value>::new());
    }
);

both_backends!(
    async fn relaunch_resets_ended_and_disabled_agents_only(app) {
        let id = running_agent(&app).await;
        let path = format!("/v1/agents/{id}/relaunch");
        assert_invalid_status(&app.post_empty(app.key(), &path).await, "running");
        app.put(
            app.key(),
            &format!("/v1/agents/{id}"),
            json!({ "limits": { "invitationsMin": 3, "invitationsMax": 4 } }),
        )
        .await
        .expect(200);
        apply(&app, &id, AgentEvent::End).await;
        assert_eq!(status(&app, &id).await, "ended");
        // An ended agent takes no credentials until relaunched.
        let reply = app
            .post(
                app.key(),
                &format!("/v1/agents/{id}/setup"),
                json!({ "login": "new@example.com", "password": PASSWORD, "country": "US" }),
            )
            .await;
        assert_invalid_status(&reply, "ended");
        assert_eq!(details(&app, app.key(), &id).await["login"], "sam@example.com");

        let reply = app.post_empty(app.key(), &path).await;
        assert_eq!(
            reply.expect(200),
            &json!({ "message": "Agent relaunched successfully", "status": "setup_needed" })
        );
        let body = details(&app, app.key(), &id).await;
        assert_new_agent(&body, &id);
        // The id and the settings are kept.
        assert_eq!(body["limits"]["invitationsMax"], 4);
        assert_invalid_status(&app.post_empty(app.key(), &path).await, "setup_needed");

        // After a relaunch the agent can be set up again.
        setup(&app, &id).await;
        assert_invalid_status(&app.post_empty(app.key(), &path).await, "auth_in_progress");
        apply(&app, &id, AgentEvent::Disable).await;
        let reply = app.post_empty(app.key(), &path).await;
        assert_eq!(reply.expect(200)["status"], "setup_needed");
        assert!(details(&app, app.key(), &id).await["login"].is_null());

        // paused and auth_needed are not relaunched.
        let paused = running_agent(&app).await;
        app.post_empty(app.key(), &format!("/v1/agents/{paused}/pause")).await.expect(200);
        let reply = app.post_empty(app.key(), &format!("/v1/agents/{paused}/relaunch")).await;
        assert_invalid_status(&reply, "paused");
        apply(&app, &paused, AgentEvent::LoginNeedsAction).await;
        let reply = app.post_empty(app.key(), &format!("/v1/agents/{paused}/relaunch")).await;
        assert_invalid_status(&reply, "auth_needed");
        assert_eq!(details(&app, app.key(), &paused).await["login"], "sam@example.com");
    }
);

both_backends!(
    async fn a_team_never_reaches_another_teams_agents(app) {
        let id = running_agent(&app).await;
        apply(&app, &id, AgentEvent::End).await;
        let before = details(&app, app.key(), &id).await;
        let other = app.new_team(Plan::Conqueror).await;
        let path = format!("/v1/agents/{id}");
        let setup_body = json!({ "login": "eve@example.com", "password": PASSWORD, "country": "US" });
        let settings = json!({ "limits": { "invitationsMin": 1 } });
        let attempts = [
            app.get(&other.key, &path).await,
            app.put(&other.key, &path, settings.clone()).await,
            app.post(&other.key, &format!("{path}/setup"), setup_body.clone()).await,
            app.post_empty(&other.key, &format!("{path}/pause")).await,
            app.post_empty(&other.key, &format!("{path}/resume")).await,
            app.post_empty(&other.key, &format!("{path}/relaunch")).await,
            app.delete(&other.key, &path).await,
        ];
        for reply in &attempts {
            reply.expect_error(404, "not_found");
            assert_eq!(reply.body["message"], "Agent not found");
        }
        assert_eq!(details(&app, app.key(), &id).await, before);
        assert_eq!(list(&app, &other.key).await, Vec::<Value>::new());
        let theirs = create(&app, &other.key).await;
        let their_list = list(&app, &other.key).await;
        assert_eq!(their_list.len(), 1);
        assert_eq!(their_list[0]["id"], theirs.as_str());
        let mine = list(&app, app.key()).await;
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0]["id"], id.as_str());
        app.get(app.key(), &format!("/v1/agents/{theirs}"))
            .await
            .expect_error(404, "not_found");

        // Unknown ids are 404 on every route, for the owner as well.
        let unknown = format!("/v1/agents/{}", "b".repeat(20));
        let attempts = [
            app.get(app.key(), &unknown).await,
            app.put(app.key(), &unknown, settings).await,
            app.post(app.key(), &format!("{unknown}/setup"), setup_body).await,
            app.post_empty(app.key(), &format!("{unknown}/pause")).await,
            app.post_empty(app.key(), &format!("{unknown}/resume")).await,
            app.post_empty(app.key(), &format!("{unknown}/relaunch")).await,
            app.delete(app.key(), &unknown).await,
        ];
        for reply in &attempts {
            reply.expect_error(404, "not_found");
        }
    }
);

both_backends!(
    async fn agents_need_a_key(app) {
        let id = create(&app, app.key()).await;
        let path = format!("/v1/agents/{id}");
        let requests = [
            (Method::GET, "/v1/agents".to_owned(), None),
            (Method::POST, "/v1/agents".to_owned(), None),
            (Method::GET, path.clone(), None),
            (Method::PUT, path.clone(), Some(json!({ "limits": { "invitationsMin": 1 } }))),
            (Method::DELETE, path.clone(), None),
            (
                Method::POST,
                format!("{path}/setup"),
                Some(json!({ "login": "sam@example.com", "password": PASSWORD, "country": "FR" })),
            ),
            (Method::POST, format!("{path}/pause"), None),
            (Method::POST, format!("{path}/resume"), None),
            (Method::POST, format!("{path}/relaunch"), None),
        ];
        for (method, path, body) in requests {
            app.send(method, &path, None, body)
                .await
                .expect_error(401, "missing_api_key");
        }
        let agents = list(&app, app.key()).await;
        assert_eq!(agents.len(), 1);
        assert_new_agent(&agents[0], &id);
    }
);

both_backends!(
    /// `workingHours.timezone` takes an IANA name (shown with its current offset and as
    /// `timezoneName`) or an offset (which clears the name); unknown names are refused.
    async fn timezones_are_offsets_or_iana_names(app) {
        let id = create(&app, app.key()).await;
        let path = format!("/v1/agents/{id}");
        app.put(app.key(), &path, json!({ "workingHours": { "timezone": "Asia/Tokyo" } }))
            .await
            .expect(200);
        let hours = details(&app, app.key(), &id).await["usage"]["workingHours"].clone();
        assert_eq!(hours["timezone"], 9, "{hours}");
        assert_eq!(hours["timezoneName"], "Asia/Tokyo");
        // A zone with daylight saving shows the offset in force now.
        app.put(app.key(), &path, json!({ "workingHours": { "timezone": "Europe/Paris" } }))
            .await
            .expect(200);
        let hours = details(&app, app.key(), &id).await["usage"]["workingHours"].clone();
        let offset = hours["timezone"].as_i64().expect("an integer offset");
        assert!(offset == 1 || offset == 2, "{hours}");
        // An offset replaces the name.
        app.put(app.key(), &path, json!({ "workingHours": { "timezone": -5 } }))
            .await
            .expect(200);
        let hours = details(&app, app.key(), &id).await["usage"]["workingHours"].clone();
        assert_eq!(hours["timezone"], -5);
        assert!(hours.get("timezoneName").is_none(), "{hours}");
        for bad in [json!("Mars/Olympus"), json!(""), json!(true), json!(1.5)] {
            let reply = app
                .put(app.key(), &path, json!({ "workingHours": { "timezone": bad } }))
                .await;
            assert_eq!(reply.status, 400, "{bad}: {}", reply.body);
        }
        assert_invalid(
            &app.put(app.key(), &path, json!({ "workingHours": { "timezone": "Mars/Olympus" } }))
                .await,
            "workingHours.timezone",
        );
        assert_eq!(
            details(&app, app.key(), &id).await["usage"]["workingHours"]["timezone"],
            -5,
            "a refused change writes nothing"
        );
    }
);

both_backends!(
    /// `POST /v1/agents/{id}/verification-code` queues the code of a login that waits for one.
    async fn verification_codes_are_queued_for_waiting_logins(app) {
        let id = create(&app, app.key()).await;
        let path = format!("/v1/agents/{id}/verification-code");
        // Not waiting for a code.
        assert_invalid_status(
            &app.post(app.key(), &path, json!({ "code": "123456" })).await,
            "setup_needed",
        );
        setup(&app, &id).await;
        let alert = Alert {
            kind: "auth".to_owned(),
            sub_type: "2fa_required".to_owned(),
            message: "Enter the LinkedIn verification code".to_owned(),
            severity: Severity::Warning,
        };
        app.store
            .transition_agent(
                &app.team.team_id,
                &id,
                AgentEvent::LoginNeedsAction,
                AgentChange::RaiseAlert(alert),
            )
            .await
            .expect("raise an alert");
        for bad in [json!({}), json!({ "code": "12" }), json!({ "code": "12 34 56" }), json!({ "code": 123456 })] {
            let reply = app.post(app.key(), &path, bad.clone()).await;
            assert_eq!(reply.status, 400, "{bad}: {}", reply.body);
        }
        let reply = app.post(app.key(), &path, json!({ "code": " 123456 " })).await;
        assert_eq!(reply.expect(202), &json!({ "message": "Verification code submitted" }));
        assert_eq!(status(&app, &id).await, "auth_needed", "the engine submits it");
        // Another team, and unknown agents, get 404.
        let other = app.new_team(Plan::Conqueror).await;
        app.post(&other.key, &path, json!({ "code": "123456" }))
            .await
            .expect_error(404, "not_found");
        app.post(app.key(), "/v1/agents/nope/verification-code", json!({ "code": "123456" }))
            .await
            .expect_error(404, "not_found");
        app.send(Method::POST, &path, None, Some(json!({ "code": "123456" })))
            .await
            .expect_error(401, "missing_api_key");
    }
);
