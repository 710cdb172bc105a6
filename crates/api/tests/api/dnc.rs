//! The Do-Not-Contact list: its `{error: null, data, message?}` envelope, URL normalisation,
//! paging, batch import, deletion, and isolation between teams.

use crate::both_backends;
use crate::common::{Reply, TestApp};
use outbound_core::plan::Plan;
use serde_json::{Value, json};
use std::time::Duration;

/// `/v1/dnc/check?url=<url, encoded>`.
fn check_path(url: &str) -> String {
    let parsed = reqwest::Url::parse_with_params("http://localhost/v1/dnc/check", &[("url", url)])
        .expect("check URL");
    format!("{}?{}", parsed.path(), parsed.query().expect("query"))
}

/// Asserts the DNC success envelope and returns `data`.
#[track_caller]
fn data_of(reply: &Reply, status: u16) -> &Value {
    let body = reply.expect(status);
    assert!(
        body.get("error").is_some_and(Value::is_null),
        "error is not null: {body}"
    );
    assert!(body.get("data").is_some(), "no data: {body}");
    &body["data"]
}

/// Asserts a DNC entry's shape and returns its id.
#[track_caller]
fn assert_entry(entry: &Value, team_id: &str, url: &str) -> String {
    assert_eq!(entry["teamId"], team_id, "{entry}");
    assert_eq!(entry["url"], url, "{entry}");
    for key in ["$createdAt", "$updatedAt"] {
        let at = entry[key].as_str().unwrap_or_default();
        assert!(
            chrono::DateTime::parse_from_rfc3339(at).is_ok(),
            "{key} is not an ISO-8601 time: {entry}"
        );
    }
    let id = entry["$id"].as_str().expect("$id").to_owned();
    assert!(!id.is_empty());
    id
}

/// The URLs of a team's list (first 1000), newest first.
async fn listed_urls(app: &TestApp, key: &str) -> Vec<String> {
    let reply = app.get(key, "/v1/dnc?limit=1000").await;
    data_of(&reply, 200)["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["url"].as_str().expect("url").to_owned())
        .collect()
}

both_backends!(
    async fn add_normalises_the_url_and_returns_the_entry(app) {
        let reply = app
            .post(app.key(), "/v1/dnc", json!({ "url": "https://www.linkedin.com/in/Jane-Doe/" }))
            .await;
        let data = data_of(&reply, 201);
        assert_eq!(reply.body["message"], "Added to Do Not Contact list");
        let id = assert_entry(data, &app.team.team_id, "https://linkedin.com/in/jane-doe");
        let keys: Vec<&String> = data.as_object().expect("object").keys().collect();
        assert_eq!(keys.len(), 5, "unexpected keys: {data}");
        assert_eq!(data["$createdAt"], data["$updatedAt"]);
        let listed = app.get(app.key(), "/v1/dnc").await;
        let entries = &data_of(&listed, 200)["entries"];
        assert_eq!(entries.as_array().expect("entries").len(), 1);
        assert_eq!(entries[0]["$id"], id.as_str());
        assert_eq!(entries[0], *data);
    }
);

both_backends!(
    async fn every_spelling_of_a_url_is_one_entry(app) {
        let first = app.post(app.key(), "/v1/dnc", json!({ "url": "in/u" })).await;
        assert_entry(data_of(&first, 201), &app.team.team_id, "https://linkedin.com/in/u");
        for spelling in [
            "https://linkedin.com/in/u",
            "https://www.linkedin.com/in/u/",
            "linkedin.com/in/u",
            "in/u",
            "HTTPS://WWW.LINKEDIN.COM/IN/U",
        ] {
            let reply = app.post(app.key(), "/v1/dnc", json!({ "url": spelling })).await;
            reply.expect_error(409, "dnc_entry_exists");
            assert_eq!(reply.body["message"], "URL already on DNC list");
            let check = app.get(app.key(), &check_path(spelling)).await;
            let data = data_of(&check, 200);
            assert_eq!(data["onList"], true, "{spelling}");
            assert_eq!(data["entry"]["url"], "https://linkedin.com/in/u");
        }
        assert_eq!(listed_urls(&app, app.key()).await, ["https://linkedin.com/in/u"]);
    }
);

both_backends!(
    async fn add_rejects_a_missing_or_invalid_url_and_writes_nothing(app) {
        for body in [json!({}), json!({ "url": "" }), json!({ "url": "   " }), json!({ "url": 42 }), json!({ "link": "in/u" })] {
            let reply = app.post(app.key(), "/v1/dnc", body.clone()).await;
            reply.expect_error(400, "invalid_request");
            assert_eq!(reply.body["message"], "LinkedIn URL is required", "{body}");
        }
        let empty = app.post_empty(app.key(), "/v1/dnc").await;
        empty.expect_error(400, "invalid_request");
        for url in ["https://example.com/x", "https://linkedin.com/company/acme", "not a url", "in/"] {
            let reply = app.post(app.key(), "/v1/dnc", json!({ "url": url })).await;
            reply.expect_error(400, "invalid_url");
            assert_eq!(reply.body["message"], "Invalid LinkedIn URL format");
        }
        assert!(listed_urls(&app, app.key()).await.is_empty());
    }
);

both_backends!(
    async fn list_is_newest_first_and_pages(app) {
        let mut added = Vec::new();
        for i in 0..5 {
            let url = format!("https://linkedin.com/in/person-{i}");
            app.post(app.key(), "/v1/dnc", json!({ "url": url })).await.expect(201);
            added.push(url);
            // Distinct creation times, so that "newest first" is well defined.
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let newest_first: Vec<String> = added.iter().rev().cloned().collect();

        let all = app.get(app.key(), "/v1/dnc").await;
        let data = data_of(&all, 200);
        assert!(all.body.get("message").is_none_or(Value::is_null), "{}", all.body);
        assert_eq!(data["total"], 5);
        assert_eq!(data["limit"], 50);
        assert_eq!(data["offset"], 0);
        assert_eq!(listed_urls(&app, app.key()).await, newest_first);

        let page = app.get(app.key(), "/v1/dnc?limit=2&offset=1").await;
        let data = data_of(&page, 200);
        assert_eq!(data["total"], 2, "total counts this page only");
        assert_eq!(data["limit"], 2);
        assert_eq!(data["offset"], 1);
        let urls: Vec<&str> = data["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| e["url"].as_str().expect("a string"))
            .collect();
        assert_eq!(urls, [newest_first[1].as_str(), newest_first[2].as_str()]);

        let tail = app.get(app.key(), "/v1/dnc?limit=2&offset=4").await;
        let data = data_of(&tail, 200);
        assert_eq!(data["total"], 1);
        assert_eq!(data["entries"][0]["url"], newest_first[4].as_str());

        let past = app.get(app.key(), "/v1/dnc?offset=10").await;
        let data = data_of(&past, 200);
        assert_eq!(data["total"], 0);
        assert_eq!(data["entries"], json!([]));

        let edges = app.get(app.key(), "/v1/dnc?limit=1000").await;
        assert_eq!(data_of(&edges, 200)["limit"], 1000);
        let one = app.get(app.key(), "/v1/dnc?limit=1").await;
        assert_eq!(data_of(&one, 200)["entries"][0]["url"], newest_first[0].as_str());

        for query in ["limit=0", "limit=1001", "limit=-1", "limit=abc", "offset=-1", "offset=abc"] {
            let reply = app.get(app.key(), &format!("/v1/dnc?{query}")).await;
            assert_eq!(reply.status, 400, "{query}: {}", reply.body);
            assert_eq!(reply.error_code(), "validation_error", "{query}: {}", reply.body);
            let field = query.split('=').next().expect("a field");
            assert_eq!(reply.body["details"][0]["field"], field, "{query}: {}", reply.body);
        }
    }
);

both_backends!(
    async fn check_answers_on_list_and_validates_its_url(app) {
        let added = app.post(app.key(), "/v1/dnc", json!({ "url": "in/listed-one" })).await;
        let id = assert_entry(data_of(&added, 201), &app.team.team_id, "https://linkedin.com/in/listed-one");

        let on = app
            .get(app.key(), &check_path("https://www.linkedin.com/in/Listed-One/?utm_source=x"))
            .await;
        let data = data_of(&on, 200);
        assert_eq!(data["onList"], true);
        assert_eq!(data["entry"]["$id"], id.as_str());
        assert_entry(&data["entry"], &app.team.team_id, "https://linkedin.com/in/listed-one");

        let off = app.get(app.key(), &check_path("linkedin.com/in/someone-else")).await;
        let data = data_of(&off, 200);
        assert_eq!(data["onList"], false);
        assert!(data.get("entry").is_some_and(Value::is_null), "entry must be null: {data}");

        for path in ["/v1/dnc/check", "/v1/dnc/check?url=", "/v1/dnc/check?other=in/x"] {
            app.get(app.key(), path).await.expect_error(400, "invalid_request");
        }
        for url in ["https://example.com/x", "in/"] {
            app.get(app.key(), &check_path(url)).await.expect_error(400, "invalid_url");
        }
    }
);

both_backends!(
    async fn batch_reports_each_entry_in_order(app) {
        app.post(app.key(), "/v1/dnc", json!({ "url": "in/existing" })).await.expect(201);
        let reply = app
            .post(
                app.key(),
                "/v1/dnc/batch",
                json!({ "entries": [
                    { "url": "https://www.linkedin.com/in/New-One/" },
                    { "url": "linkedin.com/in/existing" },
                    { "url": "in/new-one" },
                    { "url": "https://example.com/x" },
                    { "url": "in/new-two" },
                ] }),
            )
            .await;
        let data = data_of(&reply, 201);
        assert_eq!(reply.body["message"], "Bulk import completed: 2 added, 2 duplicates, 1 errors");
        assert_eq!(data["added"], 2);
        assert_eq!(data["duplicates"], 2);
        assert_eq!(data["errors"], 1);
        let details = data["details"].as_array().expect("details");
        let statuses: Vec<&str> = details.iter().map(|d| d["status"].as_str().expect("a string")).collect();
        assert_eq!(statuses, ["added", "duplicate", "duplicate", "error", "added"]);
        assert_eq!(details[0]["url"], "https://linkedin.com/in/new-one");
        assert_eq!(details[1]["url"], "https://linkedin.com/in/existing");
        assert_eq!(details[2]["url"], "https://linkedin.com/in/new-one");
        assert_eq!(details[3]["url"], "https://example.com/x");
        assert_eq!(details[3]["error"], "Invalid LinkedIn URL format");
        assert_eq!(details[4]["url"], "https://linkedin.com/in/new-two");
        for ok in [0, 1, 2, 4] {
            assert!(details[ok].get("error").is_none_or(Value::is_null), "{}", details[ok]);
        }

        let mut urls = listed_urls(&app, app.key()).await;
        urls.sort();
        assert_eq!(
            urls,
            [
                "https://linkedin.com/in/existing",
                "https://linkedin.com/in/new-one",
                "https://linkedin.com/in/new-two"
            ]
        );
        let check = app.get(app.key(), &check_path("in/new-two")).await;
        assert_eq!(data_of(&check, 200)["onList"], true);

        let all_duplicates = app
            .post(app.key(), "/v1/dnc/batch", json!({ "entries": [{ "url": "in/existing" }] }))
            .await;
        data_of(&all_duplicates, 201);
        assert_eq!(
            all_duplicates.body["message"],
            "Bulk import completed: 0 added, 1 duplicates, 0 errors"
        );
    }
);

both_backends!(
    async fn batch_rejects_a_malformed_request_and_writes_nothing(app) {
        app.post(app.key(), "/v1/dnc", json!({ "url": "in/before" })).await.expect(201);
        let before = listed_urls(&app, app.key()).await;

        for body in [json!({}), json!({ "entries": [] }), json!({ "entries": "in/u" }), json!({ "entries": null })] {
            let reply = app.post(app.key(), "/v1/dnc/batch", body.clone()).await;
            reply.expect_error(400, "invalid_request");
            assert_eq!(reply.body["message"], "Entries array is required", "{body}");
        }
        let empty = app.post_empty(app.key(), "/v1/dnc/batch").await;
        empty.expect_error(400, "invalid_request");
        assert_eq!(empty.body["message"], "Entries array is required");

        for entries in [
            json!([{ "url": "in/first-good" }, {}]),
            json!([{ "url": "in/first-good" }, { "link": "in/x" }]),
            json!([{ "url": "in/first-good" }, { "url": "" }]),
            json!([{ "url": "in/first-good" }, "in/x"]),
        ] {
            let reply = app.post(app.key(), "/v1/dnc/batch", json!({ "entries": entries })).await;
            reply.expect_error(400, "invalid_request");
            assert_eq!(reply.body["message"], "Each entry must have a url field", "{entries}");
        }
        assert_eq!(listed_urls(&app, app.key()).await, before, "nothing may be written");
        let check = app.get(app.key(), &check_path("in/first-good")).await;
        assert_eq!(data_of(&check, 200)["onList"], false);
    }
);

both_backends!(
    async fn delete_removes_the_entry_once(app) {
        let added = app.post(app.key(), "/v1/dnc", json!({ "url": "in/to-delete" })).await;
        let id = assert_entry(data_of(&added, 201), &app.team.team_id, "https://linkedin.com/in/to-delete");
        app.post(app.key(), "/v1/dnc", json!({ "url": "in/to-keep" })).await.expect(201);

        let reply = app.delete(app.key(), &format!("/v1/dnc/{id}")).await;
        let data = data_of(&reply, 200);
        assert_eq!(*data, json!({ "message": "DNC entry deleted successfully" }));

        assert_eq!(listed_urls(&app, app.key()).await, ["https://linkedin.com/in/to-keep"]);
        let check = app.get(app.key(), &check_path("in/to-delete")).await;
        assert_eq!(data_of(&check, 200)["onList"], false);

        let again = app.delete(app.key(), &format!("/v1/dnc/{id}")).await;
        again.expect_error(404, "dnc_not_found");
        assert_eq!(again.body["message"], "DNC entry not found");
        app.delete(app.key(), "/v1/dnc/doesnotexist0000000").await.expect_error(404, "dnc_not_found");

        // The URL can be added again after its deletion.
        let re_added = app.post(app.key(), "/v1/dnc", json!({ "url": "in/to-delete" })).await;
        let new_id = assert_entry(data_of(&re_added, 201), &app.team.team_id, "https://linkedin.com/in/to-delete");
        assert_ne!(new_id, id);
    }
);

both_backends!(
    async fn teams_never_see_or_touch_each_others_entries(app) {
        let other = app.new_team(Plan::Hunter).await;
        let added = app.post(app.key(), "/v1/dnc", json!({ "url": "in/shared-person" })).await;
        let id = assert_entry(data_of(&added, 201), &app.team.team_id, "https://linkedin.com/in/shared-person");

        // The other team sees an empty list and the URL as not listed.
        assert!(listed_urls(&app, &other.key).await.is_empty());
        let check = app.get(&other.key, &check_path("in/shared-person")).await;
        let data = data_of(&check, 200);
        assert_eq!(data["onList"], false);
        assert!(data["entry"].is_null());

        // It may not delete the first team's entry, and the entry survives.
        let refused = app.delete(&other.key, &format!("/v1/dnc/{id}")).await;
        refused.expect_error(403, "unauthorized_dnc");
        assert!(refused.body.get("data").is_none(), "nothing of the entry leaks: {}", refused.body);
        let still = app.get(app.key(), &check_path("in/shared-person")).await;
        let data = data_of(&still, 200);
        assert_eq!(data["onList"], true);
        assert_eq!(data["entry"]["$id"], id.as_str());

        // It can add the same URL on its own list, in single and batch form.
        let own = app.post(&other.key, "/v1/dnc", json!({ "url": "https://www.linkedin.com/in/shared-person/" })).await;
        let own_id = assert_entry(data_of(&own, 201), &other.team_id, "https://linkedin.com/in/shared-person");
        assert_ne!(own_id, id);
        let batch = app
            .post(&other.key, "/v1/dnc/batch", json!({ "entries": [{ "url": "in/shared-person" }, { "url": "in/other-only" }] }))
            .await;
        assert_eq!(data_of(&batch, 201)["added"], 1);
        assert_eq!(batch.body["data"]["duplicates"], 1);

        // Each list holds only its own team's entries.
        assert_eq!(listed_urls(&app, app.key()).await, ["https://linkedin.com/in/shared-person"]);
        let mut other_urls = listed_urls(&app, &other.key).await;
        other_urls.sort();
        assert_eq!(other_urls, ["https://linkedin.com/in/other-only", "https://linkedin.com/in/shared-person"]);
        let other_list = app.get(&other.key, "/v1/dnc").await;
        for entry in data_of(&other_list, 200)["entries"].as_array().expect("an array") {
            assert_eq!(entry["teamId"], other.team_id.as_str());
        }

        // Deleting its own copy leaves the first team's entry alone.
        app.delete(&other.key, &format!("/v1/dnc/{own_id}")).await.expect(200);
        let first = app.get(app.key(), &check_path("in/shared-person")).await;
        assert_eq!(data_of(&first, 200)["onList"], true);
        // And the first team cannot delete the other team's remaining entry either.
        let other_entry = app.get(&other.key, &check_path("in/other-only")).await;
        let other_id = data_of(&other_entry, 200)["entry"]["$id"].as_str().expect("a string").to_owned();
        app.delete(app.key(), &format!("/v1/dnc/{other_id}")).await.expect_error(403, "unauthorized_dnc");
    }
);

both_backends!(
    async fn every_dnc_route_requires_a_key(app) {
        use reqwest::Method;
        for (method, path) in [
            (Method::GET, "/v1/dnc"),
            (Method::POST, "/v1/dnc"),
            (Method::GET, "/v1/dnc/check?url=in/u"),
            (Method::POST, "/v1/dnc/batch"),
            (Method::DELETE, "/v1/dnc/abc"),
        ] {
            let reply = app.send(method.clone(), path, None, Some(json!({ "url": "in/u" }))).await;
            assert_eq!(reply.status, 401, "{method} {path}: {}", reply.body);
        }
        assert!(listed_urls(&app, app.key()).await.is_empty());
    }
);
