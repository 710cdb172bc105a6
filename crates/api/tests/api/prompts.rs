//! Prompts: creation with current and legacy values, the list, the sections of one prompt, and
//! partial updates that are validated as a whole (a rejected update saves nothing). Teams never
//! see each other's prompts.

use crate::both_backends;
use crate::common::{Reply, TestApp};
use crate::common::{keys, timestamp};
use outbound_core::plan::Plan;
use reqwest::Method;
use serde_json::{Value, json};

const GPT_41: &str = "680321aa001300a6673d";
const CLAUDE_SONNET: &str = "67fcab2e0032f8b20363";

/// Asserts a 400 `validation_error` whose first detail names `field`.
#[track_caller]
fn assert_invalid(reply: &Reply, field: &str) {
    reply.expect_error(400, "validation_error");
    let details = reply.body["details"].as_array().expect("details array");
    assert!(!details.is_empty(), "no details: {}", reply.body);
    assert_eq!(details[0]["field"], field, "body: {}", reply.body);
    assert!(details[0]["message"].is_string(), "body: {}", reply.body);
}

/// Creates a prompt and returns its id.
async fn create(app: &TestApp, key: &str, name: &str, kind: &str, model: &str) -> String {
    let reply = app
        .post(
            key,
            "/v1/prompts",
            json!({ "name": name, "type": kind, "model": model }),
        )
        .await;
    let body = reply.expect(201);
    assert_eq!(keys(body), ["id", "message"], "{body}");
    assert_eq!(body["message"], "Prompt created successfully");
    let id = body["id"].as_str().expect("id");
    assert_eq!(id.len(), 20, "{id}");
    id.to_owned()
}

async fn list(app: &TestApp, key: &str) -> Vec<Value> {
    let reply = app.get(key, "/v1/prompts").await;
    reply.expect(200).as_array().expect("a bare array").clone()
}

async fn details(app: &TestApp, key: &str, id: &str) -> Value {
    app.get(key, &format!("/v1/prompts/{id}"))
        .await
        .expect(200)
        .clone()
}

/// A messages prompt with every section filled in.
async fn full_prompt(app: &TestApp) -> String {
    let id = create(app, app.key(), "Full prompt", "Messages", GPT_41).await;
    app.put(
        app.key(),
        &format!("/v1/prompts/{id}"),
        json!({
            "context": "We sell {{offeringDescription}} to {{prospectDescription}}.",
            "firstMessage": "Hi {{firstName}}, a quick question.",
            "followUps": [
                { "prompt": "Follow up on the question", "delay": 3 },
                { "prompt": "Share a case study", "delay": 7 }
            ],
            "followUpEnabled": true
        }),
    )
    .await
    .expect(200);
    id
}

both_backends!(
    async fn prompts_are_created_with_current_and_legacy_values(app) {
        assert_eq!(list(&app, app.key()).await, Vec::<Value>::new());
        let current = create(&app, app.key(), "Outreach", "Messages", GPT_41).await;
        let legacy = create(&app, app.key(), "Legacy", "message", "model_claude3").await;
        let invitation = create(&app, app.key(), "Invites", "invitation", "model_gpt35").await;
        let comment = create(&app, app.key(), "Comments", "Comment", "template").await;
        let inactive = create(&app, app.key(), "Sonnet", "Messages", CLAUDE_SONNET).await;

        let prompts = list(&app, app.key()).await;
        let ids: Vec<&str> = prompts.iter().map(|p| p["id"].as_str().expect("id")).collect();
        assert_eq!(
            ids,
            [inactive.as_str(), comment.as_str(), invitation.as_str(), legacy.as_str(), current.as_str()]
        );
        for prompt in &prompts {
            assert_eq!(keys(prompt), ["createdAt", "id", "model", "name", "type"], "{prompt}");
            timestamp(&prompt["createdAt"]);
        }
        let expected = [
            ("Sonnet", "Messages", CLAUDE_SONNET),
            ("Comments", "Comment", "template"),
            ("Invites", "Messages", "model_gpt35"),
            ("Legacy", "Messages", "model_claude3"),
            ("Outreach", "Messages", GPT_41),
        ];
        for (prompt, (name, kind, model)) in prompts.iter().zip(expected) {
            assert_eq!(prompt["name"], name);
            assert_eq!(prompt["type"], kind);
            assert_eq!(prompt["model"], model);
        }
        let times: Vec<_> = prompts.iter().map(|p| timestamp(&p["createdAt"])).collect();
        assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    }
);

both_backends!(
    async fn invalid_prompts_name_the_field_and_write_nothing(app) {
        let long_name = "n".repeat(201);
        let cases = [
            (json!({ "name": "Outreach", "type": "messages", "model": GPT_41 }), "type"),
            (json!({ "name": "Outreach", "type": "Invitation", "model": GPT_41 }), "type"),
            (json!({ "name": "Outreach", "type": "", "model": GPT_41 }), "type"),
            (json!({ "name": "Outreach", "type": 1, "model": GPT_41 }), "type"),
            (json!({ "name": "Outreach", "type": "Messages", "model": "gpt-4" }), "model"),
            (json!({ "name": "Outreach", "type": "Messages", "model": "model_gpt5" }), "model"),
            (json!({ "name": "Outreach", "type": "Messages", "model": "" }), "model"),
            (json!({ "name": "Outreach", "type": "Messages" }), "model"),
            (json!({ "name": "Outreach", "model": GPT_41 }), "type"),
            (json!({ "type": "Messages", "model": GPT_41 }), "name"),
            (json!({ "name": "ab", "type": "Messages", "model": GPT_41 }), "name"),
            (json!({ "name": "  ab  ", "type": "Messages", "model": GPT_41 }), "name"),
            (json!({ "name": long_name, "type": "Messages", "model": GPT_41 }), "name"),
            (json!({ "name": ["Outreach"], "type": "Messages", "model": GPT_41 }), "name"),
        ];
        for (body, field) in cases {
            let reply = app.post(app.key(), "/v1/prompts", body.clone()).await;
            assert_invalid(&reply, field);
        }
        // Several problems are reported together.
        let reply = app
            .post(app.key(), "/v1/prompts", json!({ "name": "x", "type": "nope", "model": "nope" }))
            .await;
        assert_invalid(&reply, "name");
        let fields: Vec<&str> = reply.body["details"]
            .as_array()
            .expect("details")
            .iter()
            .map(|d| d["field"].as_str().expect("field"))
            .collect();
        assert_eq!(fields, ["name", "type", "model"]);
        let reply = app.send(Method::POST, "/v1/prompts", Some(app.key()), None).await;
        assert_invalid(&reply, "name");
        assert_eq!(list(&app, app.key()).await.len(), 0);
    }
);

both_backends!(
    async fn a_new_prompt_has_empty_sections_and_guidelines(app) {
        let id = create(&app, app.key(), "Outreach", "message", "model_gpt4").await;
        let body = details(&app, app.key(), &id).await;
        assert_eq!(
            keys(&body),
            [
                "comment",
                "context",
                "createdAt",
                "firstMessage",
                "followUpEnabled",
                "followUps",
                "guidelines",
                "id",
                "model",
                "name",
                "type",
                "updatedAt"
            ]
        );
        assert_eq!(body["id"], id.as_str());
        assert_eq!(body["name"], "Outreach");
        assert_eq!(body["type"], "Messages");
        assert_eq!(body["model"], "model_gpt4");
        assert_eq!(body["context"], "");
        assert_eq!(body["firstMessage"], "");
        assert_eq!(body["followUps"], json!([]));
        assert_eq!(body["followUpEnabled"], false);
        assert_eq!(body["comment"], "");
        let guidelines = &body["guidelines"];
        assert_eq!(
            keys(guidelines),
            ["mandatoryVariables", "missingVariables", "schema", "variables"]
        );
        assert_eq!(
            guidelines["mandatoryVariables"],
            json!(["prospectDescription", "offeringDescription"])
        );
        assert_eq!(
            guidelines["missingVariables"],
            json!(["prospectDescription", "offeringDescription"])
        );
        assert_eq!(guidelines["variables"], json!([]));
        assert!(guidelines["schema"].as_str().is_some_and(|s| s.contains("followUps")));
        assert_eq!(timestamp(&body["createdAt"]), timestamp(&body["updatedAt"]));
    }
);

both_backends!(
    async fn updates_merge_and_keep_omitted_sections(app) {
        let id = create(&app, app.key(), "Outreach", "Messages", GPT_41).await;
        let path = format!("/v1/prompts/{id}");
        let reply = app
            .put(
                app.key(),
                &path,
                json!({
                    "context": "We sell {{offeringDescription}} to {{ prospectDescription }}.",
                    "firstMessage": "Hi {{firstName}}"
                }),
            )
            .await;
        let body = reply.expect(200);
        assert_eq!(keys(body), ["id", "message", "prompt"]);
        assert_eq!(body["id"], id.as_str());
        assert_eq!(body["message"], "Prompt updated successfully");
        assert_eq!(body["prompt"]["firstMessage"], "Hi {{firstName}}");
        assert_eq!(body["prompt"]["guidelines"]["missingVariables"], json!([]));
        assert_eq!(
            body["prompt"]["guidelines"]["variables"],
            json!(["firstName", "offeringDescription", "prospectDescription"])
        );
        // The response's prompt is what GET returns.
        assert_eq!(body["prompt"], details(&app, app.key(), &id).await);

        let follow_ups = json!([
            { "prompt": "Checking in about {{companyName}}", "delay": 1 },
            { "prompt": "Sharing a case study", "delay": 30 },
            { "prompt": "Last note", "delay": 14 }
        ]);
        app.put(app.key(), &path, json!({ "followUps": follow_ups, "followUpEnabled": true }))
            .await
            .expect(200);
        let got = details(&app, app.key(), &id).await;
        assert_eq!(got["context"], "We sell {{offeringDescription}} to {{ prospectDescription }}.");
        assert_eq!(got["firstMessage"], "Hi {{firstName}}");
        assert_eq!(got["followUps"], follow_ups);
        assert_eq!(got["followUpEnabled"], true);
        assert_eq!(
            got["guidelines"]["variables"],
            json!(["companyName", "firstName", "offeringDescription", "prospectDescription"])
        );
        assert!(timestamp(&got["updatedAt"]) >= timestamp(&got["createdAt"]));

        // Toggling follow-ups keeps the list; `[]` clears the list and keeps the toggle.
        app.put(app.key(), &path, json!({ "followUpEnabled": false })).await.expect(200);
        let got = details(&app, app.key(), &id).await;
        assert_eq!(got["followUpEnabled"], false);
        assert_eq!(got["followUps"], follow_ups);
        app.put(app.key(), &path, json!({ "followUps": [], "followUpEnabled": true }))
            .await
            .expect(200);
        let got = details(&app, app.key(), &id).await;
        assert_eq!(got["followUps"], json!([]));
        assert_eq!(got["followUpEnabled"], true);
        assert_eq!(got["firstMessage"], "Hi {{firstName}}");

        // A mandatory variable may move to another section.
        app.put(
            app.key(),
            &path,
            json!({
                "context": "We sell to {{prospectDescription}}.",
                "firstMessage": "Our offer: {{offeringDescription}}"
            }),
        )
        .await
        .expect(200);
        let got = details(&app, app.key(), &id).await;
        assert_eq!(got["context"], "We sell to {{prospectDescription}}.");
        assert_eq!(got["guidelines"]["missingVariables"], json!([]));
        // The list shows the prompt unchanged apart from its sections.
        let listed = list(&app, app.key()).await;
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["type"], "Messages");
        assert_eq!(listed[0]["model"], GPT_41);
    }
);

both_backends!(
    async fn mandatory_variables_need_not_be_present_but_cannot_be_removed(app) {
        let id = create(&app, app.key(), "Outreach", "Messages", GPT_41).await;
        let path = format!("/v1/prompts/{id}");
        // Never present: an update without them is fine, and they show as missing.
        let reply = app.put(app.key(), &path, json!({ "context": "Be brief." })).await;
        let body = reply.expect(200);
        assert_eq!(
            body["prompt"]["guidelines"]["missingVariables"],
            json!(["prospectDescription", "offeringDescription"])
        );
        // Add one; then it cannot be dropped, and the other still may be absent.
        app.put(app.key(), &path, json!({ "context": "For {{prospectDescription}}." }))
            .await
            .expect(200);
        let before = details(&app, app.key(), &id).await;
        assert_eq!(before["guidelines"]["missingVariables"], json!(["offeringDescription"]));
        let reply = app.put(app.key(), &path, json!({ "context": "Be brief." })).await;
        assert_invalid(&reply, "context");
        let message = reply.body["details"][0]["message"].as_str().expect("message");
        assert!(message.contains("prospectDescription"), "{message}");
        assert_eq!(details(&app, app.key(), &id).await, before);
    }
);

both_backends!(
    async fn rejected_updates_save_nothing(app) {
        let id = full_prompt(&app).await;
        let path = format!("/v1/prompts/{id}");
        let before = details(&app, app.key(), &id).await;
        let four = json!([
            { "prompt": "one", "delay": 1 },
            { "prompt": "two", "delay": 2 },
            { "prompt": "three", "delay": 3 },
            { "prompt": "four", "delay": 4 }
        ]);
        let long = "x".repeat(20_001);
        let cases = [
            (json!({ "followUps": four }), "followUps"),
            (json!({ "followUps": [{ "prompt": "Soon", "delay": 0 }] }), "followUps[0].delay"),
            (json!({ "followUps": [{ "prompt": "Late", "delay": 31 }] }), "followUps[0].delay"),
            (json!({ "followUps": [{ "prompt": "Ok", "delay": 2 }, { "prompt": "Back", "delay": -1 }] }), "followUps[1].delay"),
            (json!({ "followUps": [{ "prompt": "", "delay": 2 }] }), "followUps[0].prompt"),
            (json!({ "followUps": [{ "prompt": "Half", "delay": 1.5 }] }), "followUps[0].delay"),
            (json!({ "followUps": [{ "prompt": "No delay" }] }), "followUps[0].delay"),
            (json!({ "followUps": "weekly" }), "followUps"),
            (json!({ "context": "We sell {{offeringDescription}} to everyone." }), "context"),
            (json!({ "context": "We sell things to {{prospectDescription}}." }), "context"),
            (json!({ "context": long }), "context"),
            (json!({ "firstMessage": 42 }), "firstMessage"),
            (json!({ "followUpEnabled": "yes" }), "followUpEnabled"),
            (json!({ "comment": "Great post!" }), "comment"),
            (json!({ "firstMessage": "Changed", "comment": "Great post!" }), "comment"),
            (json!({}), "body"),
            (json!([]), "body"),
        ];
        for (body, field) in cases {
            let reply = app.put(app.key(), &path, body.clone()).await;
            assert_invalid(&reply, field);
            assert_eq!(details(&app, app.key(), &id).await, before, "changed by {body}");
        }
        let reply = app.send(Method::PUT, &path, Some(app.key()), None).await;
        assert_invalid(&reply, "body");
        let reply = app.send_raw(Method::PUT, &path, app.key(), "not json").await;
        assert_invalid(&reply, "body");
        assert_eq!(details(&app, app.key(), &id).await, before);
        // The error names the removed variable.
        let reply = app
            .put(app.key(), &path, json!({ "context": "We sell {{offeringDescription}}." }))
            .await;
        let message = reply.body["details"][0]["message"].as_str().expect("message");
        assert!(message.contains("prospectDescription"), "{message}");
        assert_eq!(before["followUps"].as_array().map(Vec::len), Some(2));
        assert_eq!(before["followUpEnabled"], true);
    }
);

both_backends!(
    async fn comment_prompts_take_a_comment(app) {
        let id = create(&app, app.key(), "Post comments", "Comment", GPT_41).await;
        let path = format!("/v1/prompts/{id}");
        let reply = app
            .put(app.key(), &path, json!({ "comment": "React to {{postTopic}} in one line" }))
            .await;
        assert_eq!(reply.expect(200)["prompt"]["comment"], "React to {{postTopic}} in one line");
        let got = details(&app, app.key(), &id).await;
        assert_eq!(got["type"], "Comment");
        assert_eq!(got["comment"], "React to {{postTopic}} in one line");
        assert_eq!(got["guidelines"]["variables"], json!(["postTopic"]));
        assert_eq!(got["context"], "");
    }
);

both_backends!(
    async fn a_team_never_reaches_another_teams_prompts(app) {
        let id = full_prompt(&app).await;
        let before = details(&app, app.key(), &id).await;
        let other = app.new_team(Plan::Pioneer).await;
        let path = format!("/v1/prompts/{id}");
        app.get(&other.key, &path).await.expect_error(404, "not_found");
        app.put(&other.key, &path, json!({ "firstMessage": "Hijacked" }))
            .await
            .expect_error(404, "not_found");
        assert_eq!(list(&app, &other.key).await, Vec::<Value>::new());
        let theirs = create(&app, &other.key, "Theirs", "Messages", "template").await;
        let their_list = list(&app, &other.key).await;
        assert_eq!(their_list.len(), 1);
        assert_eq!(their_list[0]["id"], theirs.as_str());
        let my_list = list(&app, app.key()).await;
        assert_eq!(my_list.len(), 1);
        assert_eq!(my_list[0]["id"], id.as_str());
        app.get(app.key(), &format!("/v1/prompts/{theirs}"))
            .await
            .expect_error(404, "not_found");
        assert_eq!(details(&app, app.key(), &id).await, before);
        // Unknown ids.
        let unknown = format!("/v1/prompts/{}", "a".repeat(20));
        let reply = app.get(app.key(), &unknown).await;
        reply.expect_error(404, "not_found");
        assert_eq!(reply.body["message"], "Prompt not found");
        app.put(app.key(), &unknown, json!({ "firstMessage": "Hi" }))
            .await
            .expect_error(404, "not_found");
    }
);

both_backends!(
    async fn prompts_need_a_key(app) {
        let id = create(&app, app.key(), "Outreach", "Messages", GPT_41).await;
        for (method, path, body) in [
            (Method::GET, "/v1/prompts".to_owned(), None),
            (
                Method::POST,
                "/v1/prompts".to_owned(),
                Some(json!({ "name": "Outreach", "type": "Messages", "model": GPT_41 })),
            ),
            (Method::GET, format!("/v1/prompts/{id}"), None),
            (Method::PUT, format!("/v1/prompts/{id}"), Some(json!({ "firstMessage": "Hi" }))),
        ] {
            app.send(method, &path, None, body)
                .await
                .expect_error(401, "missing_api_key");
        }
        assert_eq!(list(&app, app.key()).await.len(), 1);
        assert_eq!(details(&app, app.key(), &id).await["firstMessage"], "");
    }
);

both_backends!(
    async fn unknown_keys_are_refused_and_named(app) {
        let id = full_prompt(&app).await;
        let path = format!("/v1/prompts/{id}");
        let before = details(&app, app.key(), &id).await;
        let cases = [
            (json!({ "content": "Hello" }), "content"),
            (
                json!({ "context": "New {{offeringDescription}} {{prospectDescription}}", "content": "x" }),
                "content",
            ),
            (
                json!({ "followUps": [{ "prompt": "Hi", "delay": 2, "extra": true }] }),
                "followUps[0].extra",
            ),
        ];
        for (body, field) in cases {
            let reply = app.put(app.key(), &path, body.clone()).await;
            assert_invalid(&reply, field);
            assert_eq!(details(&app, app.key(), &id).await, before, "changed by {body}");
        }
    }
);
