//! Products: the list (newest first, full shape), creation, field validation naming the field,
//! the plan quota, and team isolation. A refused request writes nothing.

use crate::both_backends;
use crate::common::{TestApp, keys, timestamp};
use outbound_core::plan::Plan;
use reqwest::Method;
use serde_json::{Value, json};

/// Asserts an opaque 20-character id and returns it.
#[track_caller]
fn id_of(body: &Value) -> String {
    let id = body["id"].as_str().expect("an id string");
    assert_eq!(id.len(), 20, "id {id}");
    assert!(
        id.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
        "id {id}"
    );
    id.to_owned()
}

async fn create(app: &TestApp, key: &str, name: &str, description: &str) -> String {
    let reply = app
        .post(
            key,
            "/v1/products",
            json!({ "name": name, "description": description }),
        )
        .await;
    let body = reply.expect(201);
    assert_eq!(keys(body), ["id", "message"], "{body}");
    assert_eq!(body["message"], "Product created successfully");
    id_of(body)
}

async fn list(app: &TestApp, key: &str) -> Vec<Value> {
    let reply = app.get(key, "/v1/products").await;
    reply.expect(200).as_array().expect("a bare array").clone()
}

/// Asserts a 400 `validation_error` whose first detail names `field`.
#[track_caller]
fn assert_invalid(reply: &crate::common::Reply, field: &str) {
    reply.expect_error(400, "validation_error");
    let details = reply.body["details"].as_array().expect("details array");
    assert!(!details.is_empty(), "no details: {}", reply.body);
    assert_eq!(details[0]["field"], field, "body: {}", reply.body);
    assert!(details[0]["message"].is_string(), "body: {}", reply.body);
}

both_backends!(
    async fn products_are_listed_newest_first_with_every_field(app) {
        assert_eq!(list(&app, app.key()).await, Vec::<Value>::new());
        let first = create(&app, app.key(), "Ledger AI", "Automated bookkeeping for SMBs").await;
        let second = create(&app, app.key(), "  Payroll Pro  ", "  Payroll for remote teams  ").await;
        let third = create(&app, app.key(), "Tax", "Tax filing, end to end").await;
        assert_ne!(first, second);

        let products = list(&app, app.key()).await;
        let ids: Vec<&str> = products.iter().map(|p| p["id"].as_str().expect("id")).collect();
        assert_eq!(ids, [third.as_str(), second.as_str(), first.as_str()]);
        for product in &products {
            assert_eq!(keys(product), ["createdAt", "description", "id", "name"], "{product}");
        }
        assert_eq!(products[2]["name"], "Ledger AI");
        assert_eq!(products[2]["description"], "Automated bookkeeping for SMBs");
        // Surrounding whitespace is not kept.
        assert_eq!(products[1]["name"], "Payroll Pro");
        assert_eq!(products[1]["description"], "Payroll for remote teams");
        assert_eq!(products[0]["name"], "Tax");
        let times: Vec<_> = products.iter().map(|p| timestamp(&p["createdAt"])).collect();
        assert!(times[0] >= times[1] && times[1] >= times[2], "{times:?}");
        let age = chrono::Utc::now().signed_duration_since(times[2]);
        assert!(age.num_seconds().abs() < 60, "createdAt is not now: {}", times[2]);
    }
);

both_backends!(
    async fn product_bounds_are_inclusive(app) {
        create(&app, app.key(), "abc", "0123456789").await;
        create(&app, app.key(), &"n".repeat(200), &"d".repeat(20_000)).await;
        // Characters, not bytes.
        create(&app, app.key(), "été", "ééééééééééé").await;
        let products = list(&app, app.key()).await;
        assert_eq!(products.len(), 3);
        assert_eq!(products[0]["name"], "été");
        assert_eq!(products[1]["description"].as_str().map(str::len), Some(20_000));
    }
);

both_backends!(
    async fn invalid_products_name_the_field_and_write_nothing(app) {
        let long_name = "n".repeat(201);
        let long_description = "d".repeat(20_001);
        let cases = [
            (json!({ "name": "AI", "description": "Automated bookkeeping" }), "name"),
            (json!({ "name": "   ab   ", "description": "Automated bookkeeping" }), "name"),
            (json!({ "name": "      ", "description": "Automated bookkeeping" }), "name"),
            (json!({ "name": "Ledger AI", "description": "too short" }), "description"),
            (json!({ "name": "Ledger AI", "description": "   short    " }), "description"),
            (json!({ "description": "Automated bookkeeping" }), "name"),
            (json!({ "name": "Ledger AI" }), "description"),
            (json!({}), "name"),
            (json!({ "name": 5, "description": "Automated bookkeeping" }), "name"),
            (json!({ "name": null, "description": "Automated bookkeeping" }), "name"),
            (json!({ "name": "Ledger AI", "description": ["a", "b"] }), "description"),
            (json!({ "name": "Ledger AI", "description": { "text": "long enough" } }), "description"),
            (json!({ "name": long_name, "description": "Automated bookkeeping" }), "name"),
            (json!({ "name": "Ledger AI", "description": long_description }), "description"),
            (json!([]), "body"),
            (json!("Ledger AI"), "body"),
        ];
        for (body, field) in cases {
            let reply = app.post(app.key(), "/v1/products", body.clone()).await;
            assert_invalid(&reply, field);
        }
        // Both fields wrong: both are reported.
        let reply = app
            .post(app.key(), "/v1/products", json!({ "name": "A", "description": "B" }))
            .await;
        assert_invalid(&reply, "name");
        assert_eq!(reply.body["details"][1]["field"], "description", "{}", reply.body);
        // No body at all and malformed JSON.
        let reply = app.send(Method::POST, "/v1/products", Some(app.key()), None).await;
        assert_invalid(&reply, "name");
        let reply = app
            .send_raw(Method::POST, "/v1/products", app.key(), "not json")
            .await;
        assert_invalid(&reply, "body");
        assert_eq!(list(&app, app.key()).await.len(), 0);
    }
);

both_backends!(
    async fn the_plan_quota_refuses_the_fourth_product_on_pioneer(app) {
        let pioneer = app.new_team(Plan::Pioneer).await;
        for i in 0..3 {
            create(&app, &pioneer.key, &format!("Product {i}"), "A product description").await;
        }
        let reply = app
            .post(
                &pioneer.key,
                "/v1/products",
                json!({ "name": "One too many", "description": "A product description" }),
            )
            .await;
        reply.expect_error(403, "plan_limit_reached");
        let products = list(&app, &pioneer.key).await;
        assert_eq!(products.len(), 3);
        assert!(products.iter().all(|p| p["name"] != "One too many"));
        // The quota is per team: the unlimited team is not affected.
        for i in 0..4 {
            create(&app, app.key(), &format!("Unlimited {i}"), "A product description").await;
        }
        assert_eq!(list(&app, app.key()).await.len(), 4);
        // Hunter allows nine.
        let hunter = app.new_team(Plan::Hunter).await;
        for i in 0..9 {
            create(&app, &hunter.key, &format!("Hunter {i}"), "A product description").await;
        }
        let reply = app
            .post(&hunter.key, "/v1/products", json!({ "name": "Tenth", "description": "A product description" }))
            .await;
        reply.expect_error(403, "plan_limit_reached");
        assert_eq!(list(&app, &hunter.key).await.len(), 9);
    }
);

both_backends!(
    async fn a_team_never_sees_another_teams_products(app) {
        let mine = create(&app, app.key(), "Ledger AI", "Automated bookkeeping").await;
        let other = app.new_team(Plan::Conqueror).await;
        assert_eq!(list(&app, &other.key).await, Vec::<Value>::new());
        let theirs = create(&app, &other.key, "Payroll Pro", "Payroll for remote teams").await;
        let their_list = list(&app, &other.key).await;
        assert_eq!(their_list.len(), 1);
        assert_eq!(their_list[0]["id"], theirs.as_str());
        let my_list = list(&app, app.key()).await;
        assert_eq!(my_list.len(), 1);
        assert_eq!(my_list[0]["id"], mine.as_str());
        // There is no route for a single product, for anyone.
        app.get(&other.key, &format!("/v1/products/{mine}"))
            .await
            .expect_error(404, "not_found");
    }
);

both_backends!(
    async fn products_need_a_key(app) {
        app.send(Method::GET, "/v1/products", None, None)
            .await
            .expect_error(401, "missing_api_key");
        let body = json!({ "name": "Ledger AI", "description": "Automated bookkeeping" });
        app.send(Method::POST, "/v1/products", None, Some(body.clone()))
            .await
            .expect_error(401, "missing_api_key");
        app.post(&"Z".repeat(40), "/v1/products", body)
            .await
            .expect_error(401, "invalid_api_key");
        assert_eq!(list(&app, app.key()).await.len(), 0);
    }
);
