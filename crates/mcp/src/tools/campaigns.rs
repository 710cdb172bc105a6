//! Campaigns: one agent, one product, one prompt (`/v1/campaigns`).

use axum::http::Method;
use serde_json::json;

use super::{Call, Effect, Tool, action, fixed, flag, id, integer, path, query, structured, text};
use crate::args::{ArgError, Args};
use crate::rest::RestRequest;

const CAMPAIGN_ID: &str = "The campaign's id (from list_campaigns)";
/// The argument naming the campaign.
const CAMPAIGN: (&str, &[&str]) = ("campaignId", &[]);
const QUALIFICATION_AUTOMATIC: &str =
    "Score 0-100 at or above which a conversation is qualified automatically (default 70)";
const QUALIFICATION_VERIFICATION: &str = "Score 0-100 at or above which (and below the automatic threshold) a person must decide (default 50)";

fn variables() -> serde_json::Value {
    json!({ "type": "object", "additionalProperties": { "type": "string" } })
}

pub fn tools() -> Vec<Tool> {
    vec![
        Tool {
            name: "list_campaigns",
            description: "List the team's campaigns, newest first, with their status, agent, product, prompt and prospect counts. Without limit, all of them.",
            effect: Effect::Read,
            params: vec![
                integer("limit", 1, 100, "At most this many"),
                integer("offset", 0, i64::MAX, "Skip this many"),
                text("after", "Only campaigns after this campaign id"),
            ],
            call: |args| {
                let query = query(args, &["limit", "offset", "after"])?;
                Ok(Call::Rest(
                    RestRequest::get(fixed("campaigns")).with_query(query),
                ))
            },
        },
        Tool {
            name: "get_campaign_stats",
            description: "A campaign's counters and rates: prospects, answers, messages, qualified, closed, conversion and response rates.",
            effect: Effect::Read,
            params: vec![id("campaignId", CAMPAIGN_ID)],
            call: |args| {
                let campaign = args.id("campaignId", &[])?;
                Ok(Call::Rest(RestRequest::get(path(&[
                    "campaigns",
                    &campaign,
                    "stats",
                ]))))
            },
        },
        Tool {
            name: "create_campaign",
            description: "Create a campaign that ties a product (what is sold), a prompt (how the AI writes) and an agent (the LinkedIn account). It starts active unless preventAutoStart.",
            effect: Effect::Write,
            params: vec![
                text("name", "3 to 100 characters").required(),
                id("productId", "A product of the team (list_products)"),
                id("promptId", "A prompt of the team (list_prompts)"),
                id("agentId", "An agent of the team (list_agents)"),
                integer("qualificationAutomatic", 0, 100, QUALIFICATION_AUTOMATIC),
                integer(
                    "qualificationVerification",
                    0,
                    100,
                    QUALIFICATION_VERIFICATION,
                ),
                structured(
                    "variables",
                    variables(),
                    "Values of the prompt's custom {{variables}}",
                ),
                flag(
                    "preventAutoStart",
                    "Start paused and stay paused until resumed",
                ),
            ],
            call: |args| {
                let body = args.body(
                    &[
                        "name",
                        "productId",
                        "promptId",
                        "agentId",
                        "qualificationAutomatic",
                        "qualificationVerification",
                        "variables",
                        "preventAutoStart",
                    ],
                    &["qualificationAutomatic", "qualificationVerification"],
                    &["variables"],
                )?;
                Ok(Call::Rest(
                    RestRequest::new(Method::POST, fixed("campaigns")).with_body(body),
                ))
            },
        },
        Tool {
            name: "update_campaign",
            description: "Change a campaign's name, prompt variables or qualification thresholds; what is not given is kept.",
            effect: Effect::Write,
            params: vec![
                id("campaignId", CAMPAIGN_ID),
                text("name", "3 to 100 characters"),
                structured(
                    "variables",
                    variables(),
                    "Replaces all the prompt variables",
                ),
                integer("qualificationAutomatic", 0, 100, QUALIFICATION_AUTOMATIC),
                integer(
                    "qualificationVerification",
                    0,
                    100,
                    QUALIFICATION_VERIFICATION,
                ),
            ],
            call: update_campaign,
        },
        Tool {
            name: "pause_campaign",
            description: "Pause a campaign: no invitation or message goes out until it is resumed.",
            effect: Effect::Write,
            params: vec![id("campaignId", CAMPAIGN_ID)],
            call: |args| action(args, CAMPAIGN, "campaigns", "pause"),
        },
        Tool {
            name: "resume_campaign",
            description: "Resume a paused campaign.",
            effect: Effect::Write,
            params: vec![id("campaignId", CAMPAIGN_ID)],
            call: |args| action(args, CAMPAIGN, "campaigns", "resume"),
        },
    ]
}

fn update_campaign(args: &Args) -> Result<Call, ArgError> {
    let campaign = args.id("campaignId", &[])?;
    let body = args.body(
        &[
            "name",
            "variables",
            "qualificationAutomatic",
            "qualificationVerification",
        ],
        &["qualificationAutomatic", "qualificationVerification"],
        &["variables"],
    )?;
    Ok(Call::Rest(
        RestRequest::new(Method::PUT, path(&["campaigns", &campaign])).with_body(body),
    ))
}
