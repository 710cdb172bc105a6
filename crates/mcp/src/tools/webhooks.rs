//! Webhooks: signed event notifications (`/v1/webhooks`).

use axum::http::Method;
use serde_json::{Value, json};

use super::{Call, Effect, Tool, fixed, flag, id, path, structured, text};
use crate::args::{ArgError, Args};
use crate::rest::RestRequest;

const WEBHOOK_ID: &str = "The webhook's id (from list_webhooks)";
const EVENTS: &str = "Event names from list_webhook_events, or [\"*\"] for all of Kakiyo's events";

fn events_schema() -> Value {
    json!({ "type": "array", "items": { "type": "string" } })
}

pub fn tools() -> Vec<Tool> {
    vec![
        Tool {
            name: "list_webhooks",
            description: "List the team's webhooks with their events, state and delivery counts (the secret is never shown).",
            effect: Effect::Read,
            params: vec![],
            call: |_| Ok(Call::Rest(RestRequest::get(fixed("webhooks")))),
        },
        Tool {
            name: "create_webhook",
            description: "Create a webhook: every event it subscribes to is POSTed to the URL, signed with the secret (X-Kakiyo-Signature and Standard Webhooks headers). Without a name, the URL's host names it.",
            effect: Effect::Write,
            params: vec![
                text("url", "The HTTPS endpoint that receives the events").required(),
                structured("events", events_schema(), EVENTS).required(),
                text("name", "A name for people (default: the URL's host)"),
                text(
                    "secret",
                    "The signing secret (whsec_... or any string of 16+ characters)",
                ),
            ],
            call: create_webhook,
        },
        Tool {
            name: "update_webhook",
            description: "Change a webhook's URL, events, name, secret or on/off state; what is not given is kept.",
            effect: Effect::Write,
            params: vec![
                id("webhookId", WEBHOOK_ID),
                text("url", "The new endpoint"),
                structured("events", events_schema(), EVENTS),
                text("name", "The new name"),
                flag("active", "false stops deliveries; true resumes them"),
                text("secret", "The new signing secret"),
            ],
            call: |args| {
                let webhook = args.id("webhookId", &[])?;
                let body = args.body(
                    &["url", "events", "name", "active", "secret"],
                    &[],
                    &["events"],
                )?;
                Ok(Call::Rest(
                    RestRequest::new(Method::PUT, path(&["webhooks", &webhook])).with_body(body),
                ))
            },
        },
        Tool {
            name: "delete_webhook",
            description: "Delete a webhook and stop its deliveries.",
            effect: Effect::Destructive,
            params: vec![id("webhookId", WEBHOOK_ID)],
            call: |args| {
                let webhook = args.id("webhookId", &[])?;
                Ok(Call::Rest(RestRequest::new(
                    Method::DELETE,
                    path(&["webhooks", &webhook]),
                )))
            },
        },
        Tool {
            name: "list_webhook_events",
            description: "The event types a webhook can subscribe to, with what each means.",
            effect: Effect::Read,
            params: vec![],
            call: |_| Ok(Call::Rest(RestRequest::get(fixed("webhooks/events")))),
        },
    ]
}

/// `POST /v1/webhooks`, named after the URL's host when no name is given.
fn create_webhook(args: &Args) -> Result<Call, ArgError> {
    let mut body = args.body(&["url", "events", "name", "secret"], &[], &["events"])?;
    if body.get("name").is_none() {
        let url = args.required_text("url")?;
        body["name"] = json!(host_of(&url));
    }
    Ok(Call::Rest(
        RestRequest::new(Method::POST, fixed("webhooks")).with_body(body),
    ))
}

/// The host of `url` (`https://crm.example.com/hooks` → `crm.example.com`), or the URL itself.
fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host = host.rsplit('@').next().unwrap_or(host);
    if host.is_empty() { url } else { host }.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nameless_webhook_is_named_after_its_host() {
        assert_eq!(
            host_of("https://crm.example.com/hooks/x?y=1"),
            "crm.example.com"
        );
        assert_eq!(
            host_of("https://user:pw@hooks.example.org"),
            "hooks.example.org"
        );
        assert_eq!(host_of("nonsense"), "nonsense");
    }
}
