//! What campaigns are made of and how they do: products, prompts, models, analytics, and the
//! key check.

use super::{Call, Effect, Tool, fixed, id, path};
use crate::args::{ArgError, Args};
use crate::rest::RestRequest;

/// `GET /v1/<route>`.
fn get(route: &str) -> Result<Call, ArgError> {
    Ok(Call::Rest(RestRequest::get(fixed(route))))
}

/// A tool without arguments that reads one route.
fn read(
    name: &'static str,
    description: &'static str,
    call: fn(&Args) -> Result<Call, ArgError>,
) -> Tool {
    Tool {
        name,
        description,
        effect: Effect::Read,
        params: vec![],
        call,
    }
}

pub fn tools() -> Vec<Tool> {
    vec![
        read(
            "list_products",
            "List the products (offerings) campaigns can sell: name and description, the AI's knowledge of what it sells.",
            |_| get("products"),
        ),
        read(
            "list_prompts",
            "List the prompts: how the AI writes (context, first message, follow-ups) and with which model.",
            |_| get("prompts"),
        ),
        read(
            "get_analytics_overview",
            "Team-wide figures across campaigns: prospects, messages, replies, qualified, rates, the last 24 hours and daily activity.",
            |_| get("analytics/overview"),
        ),
        Tool {
            name: "get_campaign_analytics",
            description: "One campaign's figures in detail: counters, rates and daily activity.",
            effect: Effect::Read,
            params: vec![id("campaignId", "The campaign")],
            call: |args| {
                let campaign = args.id("campaignId", &[])?;
                Ok(Call::Rest(RestRequest::get(path(&[
                    "analytics",
                    "campaigns",
                    &campaign,
                ]))))
            },
        },
        read(
            "list_models",
            "List the language models prompts can use (the offline `template` model is always there).",
            |_| get("models"),
        ),
        read(
            "verify_api_key",
            "Check that the API key works; returns the team id.",
            |_| get("verify"),
        ),
    ]
}
