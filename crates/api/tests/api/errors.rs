//! Malformed input and unknown routes: every failure is a 4xx in our error shape, names the
//! offending field, and writes nothing; request ids and health routes.

use crate::both_backends;
use crate::common::{Backend, Reply, TestApp};
use reqwest::Method;
use serde_json::{Value, json};

const DESCRIPTION: &str = "Automated bookkeeping for small teams";

/// Asserts a 400 `validation_error` whose `details` name `field`.
#[track_caller]
fn expect_invalid_field(reply: &Reply, field: &str) {
    reply.expect_error(400, "validation_error");
    let details = reply.body["details"]
        .as_array()
        .unwrap_or_else(|| panic!("no details: {}", reply.body));
    assert!(
        details
            .iter()
            .any(|d| d["field"] == field && d["message"].is_string()),
        "no detail for {field}: {}",
        reply.body
    );
}

/// Asserts our error shape: exactly `error`, `message` and the documented optional keys.
#[track_caller]
fn assert_error_shape(reply: &Reply, status: u16, code: &str) {
    reply.expect_error(status, code);
    let object = reply.body.as_object().expect("an object");
    for key in object.keys() {
        assert!(
            [
                "error",
                "message",
                "details",
                "currentStatus",
                "retryAfter",
                "resetTime",
                "requestId"
            ]
            .contains(&key.as_str()),
            "unexpected key {key}: {}",
            reply.body
        );
    }
    let content_type = reply.headers["content-type"]
        .to_str()
        .expect("content type");
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
}

/// The team's product names.
async fn product_names(app: &TestApp) -> Vec<String> {
    let reply = app.get(app.key(), "/v1/products").await;
    reply
        .expect(200)
        .as_array()
        .expect("array")
        .iter()
        .map(|p| p["name"].as_str().expect("name").to_owned())
        .collect()
}

/// A new agent's id.
async fn new_agent(app: &TestApp) -> String {
    let reply = app.post_empty(app.key(), "/v1/agents").await;
    reply.expect(201)["id"].as_str().expect("id").to_owned()
}

both_backends!(
    async fn malformed_json_is_a_validation_error(app) {
        for raw in [
            r#"{"name":"#,
            r#"{"name": "Ledger AI", "description": "Automated bookkeeping""#,
            "not json",
            r#"{"name": "Ledger AI", "description": "Automated bookkeeping"} trailing"#,
            r#"{"name": 'single'}"#,
        ] {
            let reply = app.send_raw(Method::POST, "/v1/products", app.key(), raw).await;
            assert_error_shape(&reply, 400, "validation_error");
            // The field is where parsing stopped: `body` itself, or the value being read.
            let field = reply.body["details"][0]["field"].as_str().unwrap_or_default();
            assert!(!field.is_empty(), "{raw}: {}", reply.body);
            let message = reply.body["details"][0]["message"].as_str().expect("a string");
            assert!(!message.contains(" at line "), "positions are not shown: {message}");
        }
        let reply = app.send_raw(Method::POST, "/v1/products", app.key(), "not json").await;
        assert_eq!(reply.body["details"][0]["field"], "body", "{}", reply.body);
        let reply = app.send_raw(Method::POST, "/v1/products", app.key(), r#"{"name":"#).await;
        assert_eq!(reply.body["details"][0]["field"], "name", "{}", reply.body);
        // A body that is JSON but not an object.
        let reply = app.send_raw(Method::POST, "/v1/products", app.key(), "42").await;
        assert_error_shape(&reply, 400, "validation_error");
        // The same for a route of another resource.
        let agent = new_agent(&app).await;
        let reply = app
            .send_raw(Method::PUT, &format!("/v1/agents/{agent}"), app.key(), r#"{"limits": {"#)
            .await;
        assert_error_shape(&reply, 400, "validation_error");
        assert!(product_names(&app).await.is_empty());
    }
);

both_backends!(
    async fn wrong_types_name_the_field(app) {
        let cases = [
            (json!({ "name": 123, "description": DESCRIPTION }), "name"),
            (json!({ "name": "Ledger AI", "description": ["a", "list"] }), "description"),
            (json!({ "name": null, "description": DESCRIPTION }), "name"),
            (json!({ "name": true, "description": DESCRIPTION }), "name"),
        ];
        for (body, field) in cases {
            let reply = app.post(app.key(), "/v1/products", body.clone()).await;
            expect_invalid_field(&reply, field);
        }
        assert!(product_names(&app).await.is_empty());

        let agent = new_agent(&app).await;
        let path = format!("/v1/agents/{agent}");
        let cases = [
            (json!({ "limits": { "invitationsMin": "ten" } }), "limits.invitationsMin"),
            (json!({ "workingHours": { "start": 9 } }), "workingHours.start"),
            (json!({ "settings": { "key": "skipInNetwork", "value": true } }), "settings"),
            (json!({ "settings": [{ "key": "skipInNetwork", "value": "yes" }] }), "settings[0].value"),
        ];
        for (body, field) in cases {
            let reply = app.put(app.key(), &path, body.clone()).await;
            expect_invalid_field(&reply, field);
        }
        let setup = app
            .post(app.key(), &format!("{path}/setup"), json!({ "login": "sam@example.com", "password": 123456, "country": "FR" }))
            .await;
        expect_invalid_field(&setup, "password");
    }
);

both_backends!(
    async fn missing_fields_are_named(app) {
        let reply = app.post(app.key(), "/v1/products", json!({ "name": "Ledger AI" })).await;
        expect_invalid_field(&reply, "description");
        let reply = app.post(app.key(), "/v1/products", json!({ "description": DESCRIPTION })).await;
        expect_invalid_field(&reply, "name");
        let reply = app.post_empty(app.key(), "/v1/products").await;
        expect_invalid_field(&reply, "name");
        assert!(product_names(&app).await.is_empty());

        let agent = new_agent(&app).await;
        let setup = format!("/v1/agents/{agent}/setup");
        let reply = app.post(app.key(), &setup, json!({ "login": "sam@example.com", "country": "FR" })).await;
        expect_invalid_field(&reply, "password");
        let reply = app.post(app.key(), &setup, json!({ "login": "sam@example.com", "password": "secret99" })).await;
        expect_invalid_field(&reply, "country");
        let reply = app
            .put(app.key(), &format!("/v1/agents/{agent}"), json!({ "settings": [{ "key": "skipInNetwork" }] }))
            .await;
        expect_invalid_field(&reply, "settings[0].value");
        let details = app.get(app.key(), &format!("/v1/agents/{agent}")).await;
        assert_eq!(details.expect(200)["status"], "setup_needed", "setup was not applied");
        assert!(details.body["login"].is_null());
    }
);

both_backends!(
    async fn unknown_enum_values_are_rejected_and_nothing_is_saved(app) {
        let agent = new_agent(&app).await;
        let path = format!("/v1/agents/{agent}");
        let before = app.get(app.key(), &path).await.expect(200).clone();

        let reply = app
            .put(
                app.key(),
                &path,
                json!({ "settings": [{ "key": "skipInNetwork", "value": true }, { "key": "foo", "value": true }] }),
            )
            .await;
        expect_invalid_field(&reply, "settings[1].key");
        let message = reply.body["details"][0]["message"].as_str().expect("a string");
        assert!(message.contains("foo"), "the message names the value: {message}");

        let reply = app
            .post(app.key(), "/v1/prompts", json!({ "name": "Outreach", "model": "680321c8001e2f527d82", "type": "Poem" }))
            .await;
        assert_error_shape(&reply, 400, "validation_error");
        let prompts = app.get(app.key(), "/v1/prompts").await;
        assert_eq!(prompts.expect(200).as_array().map(Vec::len), Some(0));

        let after = app.get(app.key(), &path).await.expect(200).clone();
        assert_eq!(before, after, "a rejected update changes nothing");
    }
);

both_backends!(
    async fn out_of_range_numbers_are_rejected_and_nothing_is_saved(app) {
        let agent = new_agent(&app).await;
        let path = format!("/v1/agents/{agent}");
        let before = app.get(app.key(), &path).await.expect(200).clone();

        for raw in [
            r#"{"limits": {"invitationsMin": -1}}"#,
            r#"{"limits": {"invitationsMin": 0}}"#,
            r#"{"limits": {"invitationsMin": 101}}"#,
            r#"{"limits": {"invitationsMin": 1e40}}"#,
            r#"{"limits": {"invitationsMin": -1e40}}"#,
            r#"{"limits": {"invitationsMin": 99999999999999999999}}"#,
            r#"{"limits": {"invitationsMin": -99999999999999999999}}"#,
            r#"{"limits": {"invitationsMin": 9223372036854775807}}"#,
            r#"{"limits": {"invitationsMin": 2.5}}"#,
        ] {
            let reply = app.send_raw(Method::PUT, &path, app.key(), raw).await;
            assert_error_shape(&reply, 400, "validation_error");
            assert_eq!(reply.body["details"][0]["field"], "limits.invitationsMin", "{raw}: {}", reply.body);
        }
        for raw in [
            r#"{"limits": {"messagesMax": 501}}"#,
            r#"{"limits": {"messagesMax": 1e40}}"#,
            r#"{"limits": {"messagesMax": 99999999999999999999}}"#,
        ] {
            let reply = app.send_raw(Method::PUT, &path, app.key(), raw).await;
            assert_error_shape(&reply, 400, "validation_error");
            assert_eq!(reply.body["details"][0]["field"], "limits.messagesMax", "{raw}: {}", reply.body);
        }
        // A valid limit next to an invalid one is not saved either.
        let reply = app
            .put(app.key(), &path, json!({ "limits": { "invitationsMin": 5, "messagesMin": -3 } }))
            .await;
        expect_invalid_field(&reply, "limits.messagesMin");
        let reply = app
            .put(app.key(), &path, json!({ "workingHours": { "timezone": 99999999999i64 } }))
            .await;
        expect_invalid_field(&reply, "workingHours.timezone");

        let after = app.get(app.key(), &path).await.expect(200).clone();
        assert_eq!(before, after, "a rejected update changes nothing");

        // Huge list paging numbers are refused the same way.
        for query in ["limit=1e40", "limit=99999999999999999999", "offset=99999999999999999999"] {
            let reply = app.get(app.key(), &format!("/v1/dnc?{query}")).await;
            assert_error_shape(&reply, 400, "validation_error");
        }
    }
);

both_backends!(
    async fn unicode_text_is_accepted_and_counted_in_characters(app) {
        // Three emoji are three characters (twelve bytes): a valid name.
        let rocket = "🚀🚀🚀";
        let reply = app.post(app.key(), "/v1/products", json!({ "name": rocket, "description": DESCRIPTION })).await;
        assert_eq!(reply.expect(201)["message"], "Product created successfully");
        // Two emoji are two characters, though eight bytes: too short.
        let reply = app.post(app.key(), "/v1/products", json!({ "name": "🚀🚀", "description": DESCRIPTION })).await;
        expect_invalid_field(&reply, "name");
        // Ten emoji make a long enough description; nine do not.
        let reply = app.post(app.key(), "/v1/products", json!({ "name": "Émoji desc", "description": "🎉".repeat(10) })).await;
        reply.expect(201);
        let reply = app.post(app.key(), "/v1/products", json!({ "name": "Émoji short", "description": "🎉".repeat(9) })).await;
        expect_invalid_field(&reply, "description");
        // 200 characters is the longest name, in any script.
        let longest = "é".repeat(200);
        app.post(app.key(), "/v1/products", json!({ "name": longest, "description": DESCRIPTION }))
            .await
            .expect(201);
        let reply = app
            .post(app.key(), "/v1/products", json!({ "name": "é".repeat(201), "description": DESCRIPTION }))
            .await;
        expect_invalid_field(&reply, "name");
        // Mixed scripts and combining marks survive the round trip unchanged.
        let mixed = "Zoë 日本語 👩‍💻 مرحبا";
        app.post(app.key(), "/v1/products", json!({ "name": mixed, "description": DESCRIPTION }))
            .await
            .expect(201);

        let mut names = product_names(&app).await;
        names.sort();
        let mut expected = vec![rocket.to_owned(), "Émoji desc".to_owned(), longest, mixed.to_owned()];
        expected.sort();
        assert_eq!(names, expected);
        let listed = app.get(app.key(), "/v1/products").await;
        let emoji = listed.body.as_array().expect("an array").iter().find(|p| p["name"] == "Émoji desc").expect("the product");
        assert_eq!(emoji["description"], "🎉".repeat(10));
    }
);

both_backends!(
    async fn a_body_over_the_limit_is_413_and_writes_nothing(app) {
        let filler = "x".repeat(2 * 1024 * 1024);
        let body = format!(r#"{{"name": "Too big", "description": "{filler}"}}"#);
        let reply = app.send_raw(Method::POST, "/v1/products", app.key(), body).await;
        assert_error_shape(&reply, 413, "payload_too_large");
        assert!(reply.headers.contains_key("x-request-id"));
        let message = reply.body["message"].as_str().expect("a string");
        assert!(message.contains(&outbound_api::DEFAULT_MAX_BODY_BYTES.to_string()), "{message}");
        let dnc = app.send_raw(Method::POST, "/v1/dnc/batch", app.key(), format!(r#"{{"entries": "{filler}"}}"#)).await;
        assert_error_shape(&dnc, 413, "payload_too_large");
        assert!(product_names(&app).await.is_empty());
        // A body just under the limit is read (and refused only for its content).
        let under = format!(r#"{{"name": "Big", "description": "{}"}}"#, "y".repeat(30_000));
        let reply = app.send_raw(Method::POST, "/v1/products", app.key(), under).await;
        expect_invalid_field(&reply, "description");
    }
);

both_backends!(
    async fn unknown_routes_and_methods_answer_in_our_shape(app) {
        for (method, path) in [
            (Method::GET, "/v1/nope"),
            (Method::POST, "/v1/nope"),
            (Method::GET, "/nope"),
            (Method::GET, "/v1/products/abc/def"),
            (Method::GET, "/v2/products"),
        ] {
            let reply = app.send(method.clone(), path, Some(app.key()), None).await;
            assert_error_shape(&reply, 404, "not_found");
            assert_eq!(reply.body["message"], format!("No route for {method} {path}"));
            assert!(reply.headers.contains_key("x-request-id"));
        }
        // Without a key too: an unknown route is not an authentication question.
        let reply = app.send(Method::GET, "/v1/nope", None, None).await;
        assert_error_shape(&reply, 404, "not_found");

        for (method, path) in [
            (Method::PATCH, "/v1/products"),
            (Method::DELETE, "/v1/products"),
            (Method::PUT, "/v1/dnc"),
            (Method::GET, "/v1/dnc/batch"),
            (Method::POST, "/v1/verify"),
            (Method::DELETE, "/v1/prompts/abc"),
        ] {
            let reply = app.send(method.clone(), path, Some(app.key()), Some(json!({}))).await;
            assert_error_shape(&reply, 405, "method_not_allowed");
            assert_eq!(reply.body["message"], format!("Method {method} is not allowed on this route"));
            assert!(reply.headers.contains_key("x-request-id"));
        }
        let reply = app.send(Method::PATCH, "/v1/products", None, None).await;
        assert_eq!(reply.status, 405, "{}", reply.body);
        assert!(product_names(&app).await.is_empty());
    }
);

both_backends!(
    async fn every_response_carries_a_request_id(app) {
        let agent = new_agent(&app).await;
        let replies = [
            app.get(app.key(), "/v1/verify").await,
            app.post(app.key(), "/v1/products", json!({ "name": "Ledger AI", "description": DESCRIPTION })).await,
            app.post(app.key(), "/v1/products", json!({})).await,
            app.send(Method::GET, "/v1/verify", None, None).await,
            app.get(app.key(), &format!("/v1/agents/{agent}x")).await,
            app.post(app.key(), "/v1/dnc", json!({ "url": "in/u" })).await,
            app.get(app.key(), "/v1/nope").await,
            app.send(Method::PATCH, "/v1/products", Some(app.key()), None).await,
            app.send(Method::GET, "/healthz", None, None).await,
            app.send(Method::GET, "/readyz", None, None).await,
            app.send(Method::GET, "/v1/openapi.json", None, None).await,
            app.send(Method::GET, "/docs", None, None).await,
        ];
        let mut seen = std::collections::HashSet::new();
        for reply in &replies {
            let id = reply.headers.get("x-request-id").unwrap_or_else(|| panic!("no request id: {reply:?}"));
            let id = id.to_str().expect("an ASCII header");
            assert!(!id.is_empty());
            assert!(seen.insert(id.to_owned()), "ids are fresh per request: {id}");
        }

        for sane in ["my-request.id_42", "ABC123", &"a".repeat(128)] {
            let response = app
                .client
                .get(format!("{}/v1/verify", app.base))
                .bearer_auth(app.key())
                .header("x-request-id", sane)
                .send()
                .await
                .expect("send request");
            assert_eq!(response.status(), 200);
            assert_eq!(response.headers()["x-request-id"], sane);
        }
        // Echoed on errors too.
        let response = app
            .client
            .get(format!("{}/v1/nope", app.base))
            .header("x-request-id", "trace-404")
            .send()
            .await
            .expect("send request");
        assert_eq!(response.status(), 404);
        assert_eq!(response.headers()["x-request-id"], "trace-404");
        // An unreasonable id is replaced by one of ours.
        for insane in ["has space", "semi;colon", "<script>", &"a".repeat(129)] {
            let response = app
                .client
                .get(format!("{}/v1/verify", app.base))
                .bearer_auth(app.key())
                .header("x-request-id", insane)
                .send()
                .await
                .expect("send request");
            let id = response.headers()["x-request-id"].to_str().expect("an ASCII header");
            assert_ne!(id, insane);
            assert!(!id.is_empty());
        }
    }
);

both_backends!(
    async fn health_and_readiness_need_no_key(app) {
        let alive = app.send(Method::GET, "/healthz", None, None).await;
        assert_eq!(alive.expect(200)["status"], "ok");
        let ready = app.send(Method::GET, "/readyz", None, None).await;
        let body = ready.expect(200);
        assert_eq!(body["status"], "ready");
        let database = match app.backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        };
        assert_eq!(body["database"], database);
        assert_eq!(body["migrations"], "current");
        assert_eq!(app.store.pending_migrations().await.expect("pending"), 0);
        // A bad key is ignored there.
        let with_bad_key = app.send(Method::GET, "/readyz", Some("nonsense"), None).await;
        with_bad_key.expect(200);
        let value: &Value = &with_bad_key.body;
        assert_eq!(value["database"], database);
    }
);

both_backends!(
    async fn a_database_behind_this_builds_migrations_is_not_ready(app) {
        let url = app.database_url.clone();
        let delete_last = "DELETE FROM _sqlx_migrations \
                           WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)";
        match app.backend {
            Backend::Sqlite => {
                let mut db = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
                    .await
                    .expect("connect");
                sqlx::query(delete_last).execute(&mut db).await.expect("delete");
            }
            Backend::Postgres => {
                let mut db = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
                    .await
                    .expect("connect");
                sqlx::query(delete_last).execute(&mut db).await.expect("delete");
            }
        }
        assert_eq!(app.store.pending_migrations().await.expect("pending"), 1);
        app.send(Method::GET, "/readyz", None, None)
            .await
            .expect_error(503, "not_ready");
    }
);
