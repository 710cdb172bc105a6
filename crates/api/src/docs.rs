//! `GET /docs`: a readable API reference rendered on the server from our OpenAPI document, so
//! it works offline (no script or stylesheet from elsewhere).

use serde_json::Value;
use std::fmt::Write;
use utoipa::openapi::OpenApi;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:980px;margin:2rem auto;\
padding:0 1rem;color:#1d2330;line-height:1.5}code,pre{font-family:ui-monospace,monospace}\
pre{background:#f4f5f8;padding:.75rem;overflow-x:auto;border-radius:6px;font-size:.85rem}\
.op{border:1px solid #dfe2ea;border-radius:8px;margin:1rem 0;padding:.5rem 1rem}\
.m{display:inline-block;min-width:4.5rem;font-weight:700;text-transform:uppercase}\
.get{color:#1b6ac9}.post{color:#1f8a4c}.put{color:#a86b00}.patch{color:#7a4bc2}.delete{color:#c0392b}\
table{border-collapse:collapse}td,th{border-bottom:1px solid #eee;padding:.2rem .6rem;text-align:left}\
nav a{margin-right:1rem}";

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// The name of a `$ref`'d schema, or the schema itself pretty-printed.
fn schema_label(schema: &Value) -> String {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        return reference.rsplit('/').next().unwrap_or(reference).to_owned();
    }
    if let Some(items) = schema.get("items") {
        return format!("array of {}", schema_label(items));
    }
    serde_json::to_string(schema).unwrap_or_default()
}

fn render_operation(out: &mut String, method: &str, path: &str, op: &Value) {
    let _ = write!(
        out,
        "<div class=\"op\"><p><span class=\"m {method}\">{method}</span> <code>{}</code> — {}</p>",
        escape(path),
        escape(str_of(op, "summary"))
    );
    let description = str_of(op, "description");
    if !description.is_empty() {
        let _ = write!(out, "<p>{}</p>", escape(description));
    }
    if let Some(params) = op.get("parameters").and_then(Value::as_array) {
        out.push_str(
            "<table><tr><th>parameter</th><th>in</th><th>required</th><th>description</th></tr>",
        );
        for p in params {
            let _ = write!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(str_of(p, "name")),
                escape(str_of(p, "in")),
                p.get("required").and_then(Value::as_bool).unwrap_or(false),
                escape(str_of(p, "description"))
            );
        }
        out.push_str("</table>");
    }
    if let Some(schema) = op.pointer("/requestBody/content/application~1json/schema") {
        let _ = write!(
            out,
            "<p>Body: <code>{}</code></p>",
            escape(&schema_label(schema))
        );
    }
    if let Some(responses) = op.get("responses").and_then(Value::as_object) {
        out.push_str("<table><tr><th>status</th><th>meaning</th><th>body</th></tr>");
        for (status, response) in responses {
            let body = response
                .pointer("/content/application~1json/schema")
                .map(schema_label)
                .unwrap_or_default();
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                escape(status),
                escape(str_of(response, "description")),
                escape(&body)
            );
        }
        out.push_str("</table>");
    }
    out.push_str("</div>");
}

/// The reference page for `document`.
pub fn render(document: &OpenApi) -> String {
    let doc = serde_json::to_value(document).unwrap_or_default();
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} — reference</title>\
         <style>{STYLE}</style></head><body><h1>{}</h1><p>{}</p>\
         <p>Machine-readable: <a href=\"/v1/openapi.json\">/v1/openapi.json</a> (OpenAPI 3.1).</p>",
        escape(str_of(&doc["info"], "title")),
        escape(str_of(&doc["info"], "title")),
        escape(str_of(&doc["info"], "description")),
    );
    let tags: Vec<&Value> = doc["tags"]
        .as_array()
        .map(|t| t.iter().collect())
        .unwrap_or_default();
    out.push_str("<nav>");
    for tag in &tags {
        let name = escape(str_of(tag, "name"));
        let _ = write!(out, "<a href=\"#{name}\">{name}</a>");
    }
    out.push_str("</nav>");
    let paths = doc["paths"].as_object().cloned().unwrap_or_default();
    for tag in &tags {
        let name = str_of(tag, "name");
        let _ = write!(
            out,
            "<h2 id=\"{0}\">{0}</h2><p>{1}</p>",
            escape(name),
            escape(str_of(tag, "description"))
        );
        for (path, item) in &paths {
            for method in METHODS {
                let Some(op) = item.get(method) else { continue };
                let tagged = op["tags"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| t.as_str() == Some(name)));
                if tagged {
                    render_operation(&mut out, method, path, op);
                }
            }
        }
    }
    let _ = write!(
        out,
        "<h2>Schemas</h2><pre>{}</pre></body></html>",
        escape(&serde_json::to_string_pretty(&doc["components"]["schemas"]).unwrap_or_default())
    );
    out
}
