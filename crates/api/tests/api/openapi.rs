//! The OpenAPI document and the reference page: every implemented route is described, and no
//! route of the catalogue answers without being in the document.

use crate::both_backends;
use crate::common::TestApp;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// The routes implemented so far, with their methods, as the document must list them.
const DOCUMENTED: &[(&str, &[&str])] = &[
    ("/v1/verify", &["get"]),
    ("/v1/models", &["get"]),
    ("/v1/models/{modelId}", &["get"]),
    ("/v1/products", &["get", "post"]),
    ("/v1/prompts", &["get", "post"]),
    ("/v1/prompts/{id}", &["get", "put"]),
    ("/v1/agents", &["get", "post"]),
    ("/v1/agents/{id}", &["get", "put", "delete"]),
    ("/v1/agents/{id}/setup", &["post"]),
    ("/v1/agents/{id}/pause", &["post"]),
    ("/v1/agents/{id}/resume", &["post"]),
    ("/v1/agents/{id}/relaunch", &["post"]),
    ("/v1/dnc", &["get", "post"]),
    ("/v1/dnc/check", &["get"]),
    ("/v1/dnc/batch", &["post"]),
    ("/v1/dnc/{id}", &["delete"]),
    ("/v1/webhooks", &["get", "post"]),
    ("/v1/webhooks/{webhookId}", &["put", "delete"]),
    ("/v1/webhooks/events", &["get"]),
    ("/v1/webhooks/test", &["post"]),
    ("/v1/webhooks/test/events", &["get"]),
    ("/v1/webhooks/test/example/{event}", &["get"]),
];

/// Documented routes of our own, outside the Kakiyo catalogue.
const EXTENSIONS: &[(&str, &[&str])] = &[
    ("/v1/webhooks/{webhookId}/deliveries", &["get"]),
    (
        "/v1/webhooks/{webhookId}/deliveries/{deliveryId}/retry",
        &["post"],
    ),
    ("/v1/agents/{id}/verification-code", &["post"]),
    ("/v1/prospects/sales-navigator/{sourceId}", &["get"]),
    ("/integrations/unipile/webhook", &["post"]),
];

/// Every route of the Kakiyo catalogue (§1 of the compatibility catalogue), all 61.
pub(crate) const CATALOGUE: [(&str, &str); 61] = [
    ("GET", "/v1/verify"),
    ("GET", "/v1/campaigns"),
    ("POST", "/v1/campaigns"),
    ("PUT", "/v1/campaigns/{id}"),
    ("DELETE", "/v1/campaigns/{id}"),
    ("POST", "/v1/campaigns/{id}/pause"),
    ("POST", "/v1/campaigns/{id}/resume"),
    ("GET", "/v1/campaigns/{id}/stats"),
    ("POST", "/v1/prospects"),
    ("POST", "/v1/prospects/batch"),
    ("POST", "/v1/prospects/batch/round-robin"),
    ("POST", "/v1/prospects/sales-navigator"),
    ("GET", "/v1/prospects/imports/{listId}"),
    ("GET", "/v1/prospects/campaign/{campaignId}"),
    ("GET", "/v1/prospects/search"),
    ("GET", "/v1/prospects/{chatId}"),
    ("PATCH", "/v1/prospects/{chatId}/custom-data"),
    ("POST", "/v1/prospects/{chatId}/pause"),
    ("POST", "/v1/prospects/{chatId}/resume"),
    ("POST", "/v1/prospects/{chatId}/qualify"),
    ("DELETE", "/v1/prospects/{prospectId}"),
    ("DELETE", "/v1/prospects"),
    ("GET", "/v1/dnc"),
    ("POST", "/v1/dnc"),
    ("GET", "/v1/dnc/check"),
    ("POST", "/v1/dnc/batch"),
    ("DELETE", "/v1/dnc/{id}"),
    ("GET", "/v1/products"),
    ("POST", "/v1/products"),
    ("GET", "/v1/prompts"),
    ("POST", "/v1/prompts"),
    ("GET", "/v1/prompts/{id}"),
    ("PUT", "/v1/prompts/{id}"),
    ("GET", "/v1/agents"),
    ("POST", "/v1/agents"),
    ("GET", "/v1/agents/{id}"),
    ("PUT", "/v1/agents/{id}"),
    ("POST", "/v1/agents/{id}/setup"),
    ("POST", "/v1/agents/{id}/pause"),
    ("POST", "/v1/agents/{id}/resume"),
    ("DELETE", "/v1/agents/{id}"),
    ("POST", "/v1/agents/{id}/relaunch"),
    ("GET", "/v1/webhooks"),
    ("POST", "/v1/webhooks"),
    ("PUT", "/v1/webhooks/{webhookId}"),
    ("DELETE", "/v1/webhooks/{webhookId}"),
    ("GET", "/v1/webhooks/events"),
    ("POST", "/v1/webhooks/test"),
    ("GET", "/v1/webhooks/test/events"),
    ("GET", "/v1/webhooks/test/example/{event}"),
    ("GET", "/v1/analytics/overview"),
    ("GET", "/v1/analytics/campaigns/{campaignId}"),
    ("GET", "/v1/models"),
    ("GET", "/v1/models/{modelId}"),
    ("GET", "/v1/workspaces"),
    ("POST", "/v1/workspaces"),
    ("DELETE", "/v1/workspaces/{id}"),
    ("POST", "/v1/workspaces/{id}/invite"),
    ("DELETE", "/v1/workspaces/{id}/clients"),
    ("POST", "/v1/workspaces/{id}/agents/{agentId}"),
    ("DELETE", "/v1/workspaces/{id}/agents/{agentId}"),
];

/// The path's segments, with every `{parameter}` as `None`: parameter names do not matter
/// (two methods of one path must share a name, so the document may name it differently).
fn template_segments(path: &str) -> Vec<Option<&str>> {
    path.split('/')
        .map(|segment| (!segment.starts_with('{')).then_some(segment))
        .collect()
}

/// `template` with every parameter replaced by a sample id.
fn sample_path(template: &str) -> String {
    template_segments(template)
        .into_iter()
        .map(|segment| segment.unwrap_or("abc"))
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether the concrete `path` matches the document's `template`.
fn matches_template(template: &str, path: &str) -> bool {
    let template = template_segments(template);
    let path: Vec<&str> = path.split('/').collect();
    template.len() == path.len()
        && template
            .iter()
            .zip(&path)
            .all(|(t, p)| t.is_none_or(|t| t == *p))
}

async fn openapi_document(app: &TestApp) -> Value {
    let reply = app.send(Method::GET, "/v1/openapi.json", None, None).await;
    let content_type = reply.headers["content-type"]
        .to_str()
        .expect("content type");
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    reply.expect(200).clone()
}

/// Resolves a local `$ref` of the document.
fn resolve<'a>(document: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference.strip_prefix('#').expect("a local reference");
            document
                .pointer(pointer)
                .unwrap_or_else(|| panic!("dangling reference {reference}"))
        }
        None => schema,
    }
}

/// Every `$ref` string inside `value`.
fn references(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                if key == "$ref" {
                    if let Some(reference) = inner.as_str() {
                        out.push(reference.to_owned());
                    }
                } else {
                    references(inner, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| references(item, out)),
        _ => {}
    }
}

both_backends!(
    async fn the_document_describes_every_implemented_route(app) {
        let document = openapi_document(&app).await;
        let version = document["openapi"].as_str().expect("openapi version");
        assert!(version.starts_with("3.1"), "OpenAPI {version}");
        assert!(document["info"]["title"].is_string());
        assert_eq!(document["components"]["securitySchemes"]["bearerAuth"]["type"], "http");
        assert_eq!(document["components"]["securitySchemes"]["bearerAuth"]["scheme"], "bearer");
        assert!(
            document["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get("bearerAuth").is_some())),
            "every route needs the bearer key: {}",
            document["security"]
        );

        let paths = document["paths"].as_object().expect("paths");
        for (path, methods) in DOCUMENTED.iter().chain(EXTENSIONS) {
            let item = paths
                .get(*path)
                .unwrap_or_else(|| panic!("{path} is not documented"));
            for method in *methods {
                let operation = item
                    .get(*method)
                    .unwrap_or_else(|| panic!("{method} {path} is not documented"));
                let responses = operation["responses"].as_object().expect("responses");
                let success = responses
                    .get("200")
                    .or_else(|| responses.get("201"))
                    .or_else(|| responses.get("202"))
                    .unwrap_or_else(|| panic!("{method} {path} has no 200/201/202 response"));
                let schema = success
                    .pointer("/content/application~1json/schema")
                    .unwrap_or_else(|| panic!("{method} {path}: success without a schema"));
                let schema = resolve(&document, schema);
                assert!(
                    schema.is_object() && !schema.as_object().expect("an object").is_empty(),
                    "{method} {path}: empty success schema"
                );
                let unauthorised = responses
                    .get("401")
                    .unwrap_or_else(|| panic!("{method} {path} has no 401 response"));
                assert!(
                    unauthorised.pointer("/content/application~1json/schema").is_some(),
                    "{method} {path}: 401 without the error schema"
                );
                assert!(operation["tags"].as_array().is_some_and(|t| !t.is_empty()), "{method} {path} untagged");
            }
            // Path parameters are declared.
            for segment in path.split('/').filter(|s| s.starts_with('{')) {
                let name = segment.trim_matches(['{', '}']);
                for method in *methods {
                    let declared = item[*method]["parameters"]
                        .as_array()
                        .is_some_and(|ps| ps.iter().any(|p| p["name"] == name && p["in"] == "path"));
                    assert!(declared, "{method} {path} does not declare {name}");
                }
            }
        }
        let dnc_created = &document["paths"]["/v1/dnc"]["post"]["responses"]["201"];
        assert!(dnc_created.is_object(), "POST /v1/dnc answers 201");
        let batch_created = &document["paths"]["/v1/dnc/batch"]["post"]["responses"]["201"];
        assert!(batch_created.is_object(), "POST /v1/dnc/batch answers 201");

        // Every schema reference resolves.
        let mut refs = Vec::new();
        references(&document, &mut refs);
        assert!(!refs.is_empty());
        for reference in refs {
            resolve(&document, &json!({ "$ref": reference }));
        }
        // The document needs no key, and so does the page.
        let with_bad_key = app.send(Method::GET, "/v1/openapi.json", Some("bad"), None).await;
        with_bad_key.expect(200);
    }
);

both_backends!(
    async fn no_route_of_the_catalogue_answers_undocumented(app) {
        let document = openapi_document(&app).await;
        let paths = document["paths"].as_object().expect("paths");
        // Documented: the document has the route's template (parameter names aside), or a
        // documented template of that method serves the sample path (e.g. GET /v1/prospects/search
        // answered by a documented GET /v1/prospects/{chatId} before search exists).
        let documented = |method: &str, template: &str, concrete: &str| {
            let method = method.to_ascii_lowercase();
            let normalised = template_segments(template);
            paths.iter().any(|(path, item)| {
                item.get(&method).is_some()
                    && (template_segments(path) == normalised || matches_template(path, concrete))
            })
        };

        let mut existing = BTreeSet::new();
        let mut undocumented = Vec::new();
        for (method, template) in CATALOGUE {
            let path = sample_path(template);
            let method_value = Method::from_bytes(method.as_bytes()).expect("a method");
            let body = (method != "GET").then(|| json!({}));
            let reply = app.send(method_value, &path, Some(app.key()), body).await;
            let unknown_route = reply.status == 404
                && reply.error_code() == "not_found"
                && reply.body["message"].as_str().is_some_and(|m| m.starts_with("No route for"));
            if unknown_route || reply.status == 405 {
                continue;
            }
            existing.insert((method, template));
            if !documented(method, template, &path) {
                undocumented.push(format!("{method} {template} (answered {})", reply.status));
            }
        }
        assert!(undocumented.is_empty(), "routes missing from the document: {undocumented:#?}");

        // The guard is not vacuous: every implemented route is found by the rule.
        for (path, methods) in DOCUMENTED {
            for method in *methods {
                let method = method.to_ascii_uppercase();
                assert!(
                    existing.iter().any(|(m, t)| *m == method && t == path),
                    "{method} {path} was not detected as existing"
                );
            }
        }
        // And an unknown route or method is not mistaken for one.
        let reply = app.get(app.key(), "/v1/campaigns-nope").await;
        assert_eq!(reply.status, 404);
        assert!(reply.body["message"].as_str().expect("a string").starts_with("No route for"));
    }
);

both_backends!(
    async fn the_reference_page_lists_every_documented_path(app) {
        let reply = app.send(Method::GET, "/docs", None, None).await;
        assert_eq!(reply.status, 200);
        let content_type = reply.headers["content-type"].to_str().expect("content type");
        assert!(content_type.starts_with("text/html"), "{content_type}");
        let page = reply.body.as_str().expect("an HTML page");
        assert!(page.starts_with("<!doctype html>"), "{}", &page[..page.len().min(80)]);
        assert!(page.contains("/v1/openapi.json"));
        let document = openapi_document(&app).await;
        let documented: Vec<&String> = document["paths"].as_object().expect("paths").keys().collect();
        assert!(documented.len() >= DOCUMENTED.len());
        for path in documented {
            assert!(page.contains(path.as_str()), "/docs does not mention {path}");
        }
        for (path, _) in DOCUMENTED.iter().chain(EXTENSIONS) {
            assert!(page.contains(path), "/docs does not mention {path}");
        }
        assert!(!page.contains("<script"), "the page works without scripts");
    }
);

#[test]
fn templates_ignore_parameter_names() {
    assert_eq!(
        sample_path("/v1/workspaces/{id}/agents/{agentId}"),
        "/v1/workspaces/abc/agents/abc"
    );
    assert_eq!(
        template_segments("/v1/prospects/{chatId}"),
        template_segments("/v1/prospects/{prospectId}")
    );
    assert_ne!(
        template_segments("/v1/prospects/{chatId}"),
        template_segments("/v1/prospects/search")
    );
    assert!(matches_template(
        "/v1/prospects/{chatId}",
        "/v1/prospects/search"
    ));
    assert!(!matches_template(
        "/v1/prospects/{chatId}",
        "/v1/prospects/abc/pause"
    ));
    assert!(!matches_template("/v1/dnc/check", "/v1/dnc/abc"));
    assert_eq!(CATALOGUE.len(), 61);
    let distinct: BTreeSet<_> = CATALOGUE.iter().collect();
    assert_eq!(distinct.len(), 61, "no route is listed twice");
}
