//! Prospects and their conversations. A "prospect id" in these tools is what the REST API
//! calls a chat id — one person inside one campaign, the `id` of list and search items —
//! and `chatId` is accepted as its alias.

use axum::http::Method;
use serde_json::json;

use super::{
    Call, Effect, Kind, Param, Tool, action, fixed, flag, id, integer, one_of, path, query,
    status_code, structured, text,
};
use crate::args::{ArgError, Args};
use crate::rest::RestRequest;

const PROSPECT_ID: &str =
    "The conversation's id: the `id` of a list or search item (`chatId` is accepted too)";
/// The argument naming the conversation, and its alias.
const CHAT: (&str, &[&str]) = ("prospectId", &["chatId"]);
const QUALIFICATIONS: &[&str] = &["pending", "qualified", "disqualified"];

fn status_param(description: &'static str) -> Param {
    Param {
        name: "status",
        kind: Kind::Status,
        required: false,
        description,
    }
}

fn person_schema() -> serde_json::Value {
    json!({
        "type": "object",
        "properties": {
            "name": { "type": "string", "description": "Full name" },
            "url": { "type": "string", "description": "LinkedIn profile URL (linkedin.com/in/...)" },
            "customData": { "type": "string", "description": "Up to 3000 characters the AI may use ({{customData}})" },
            "ongoing": { "type": "boolean", "description": "Already in a conversation: no invitation, no opening message" }
        },
        "required": ["name", "url"]
    })
}

pub fn tools() -> Vec<Tool> {
    vec![
        Tool {
            name: "list_prospects",
            description: "List the team's conversations across campaigns, newest first, with paging (the search without a text filter).",
            effect: Effect::Read,
            params: vec![
                integer("limit", 1, 100, "At most this many (default 50)"),
                integer("offset", 0, i64::MAX, "Skip this many"),
                text("campaignId", "Only this campaign"),
            ],
            call: |args| {
                let query = query(args, &["limit", "offset", "campaignId"])?;
                Ok(Call::Rest(RestRequest::get(fixed("prospects/search")).with_query(query)))
            },
        },
        Tool {
            name: "get_prospect",
            description: "One conversation in full: status, qualification, the person's profile, custom data and every message in order.",
            effect: Effect::Read,
            params: vec![id("prospectId", PROSPECT_ID)],
            call: |args| {
                let chat = args.id("prospectId", &["chatId"])?;
                Ok(Call::Rest(RestRequest::get(path(&["prospects", &chat]))))
            },
        },
        Tool {
            name: "add_prospect",
            description: "Add one LinkedIn profile to a campaign. The import is asynchronous: the answer's listId reports progress; duplicates and Do-Not-Contact profiles are skipped.",
            effect: Effect::Write,
            params: vec![
                id("campaignId", "The campaign to add to"),
                text("name", "Full name").required(),
                text("url", "LinkedIn profile URL (linkedin.com/in/...)").required(),
                text("customData", "Up to 3000 characters the AI may use ({{customData}})"),
                flag("ongoing", "Already in a conversation: no invitation, no opening message"),
            ],
            call: |args| {
                let body = args.body(&["campaignId", "name", "url", "customData", "ongoing"], &[], &[])?;
                Ok(Call::Rest(RestRequest::new(Method::POST, fixed("prospects")).with_body(body)))
            },
        },
        Tool {
            name: "add_prospects_batch",
            description: "Add up to 100 LinkedIn profiles to one campaign in one asynchronous import (listId reports progress row by row).",
            effect: Effect::Write,
            params: vec![
                id("campaignId", "The campaign to add to"),
                structured(
                    "prospects",
                    json!({ "type": "array", "items": person_schema(), "minItems": 1, "maxItems": 100 }),
                    "The people to add",
                )
                .required(),
            ],
            call: |args| {
                let body = args.body(&["campaignId", "prospects"], &[], &["prospects"])?;
                Ok(Call::Rest(
                    RestRequest::new(Method::POST, fixed("prospects/batch")).with_body(body),
                ))
            },
        },
        Tool {
            name: "search_prospects",
            description: "Search conversations across campaigns by text (names, headlines), campaign, status, qualification, place, whether the person answered and whether the AI is paused.",
            effect: Effect::Read,
            params: vec![
                text("query", "Words to find in names and headlines"),
                text("campaignId", "Only this campaign"),
                status_param("A status code (4 = replied) or name: not_started, invitation_sent, invitation_accepted, contacted, replied, qualified, unqualified, skipped"),
                one_of("qualification", QUALIFICATIONS, "The verdict"),
                text("city", "The person's city"),
                text("country", "The person's country"),
                flag("hasResponded", "Only people who answered (true) or did not (false)"),
                flag("isPaused", "Only conversations whose AI is paused (true) or not (false)"),
                integer("limit", 1, 100, "At most this many (default 50)"),
                integer("offset", 0, i64::MAX, "Skip this many"),
            ],
            call: search_prospects,
        },
        Tool {
            name: "list_campaign_prospects",
            description: "A campaign's conversations, newest first, paged by offset or cursor; the result carries pagination.nextCursor for the next page.",
            effect: Effect::Read,
            params: vec![
                id("campaignId", "The campaign"),
                status_param("A status code (4 = replied) or name"),
                integer("limit", 1, 100, "At most this many (default 25)"),
                integer("offset", 0, i64::MAX, "Skip this many (ignored with cursor)"),
                text("cursor", "pagination.nextCursor of the previous page"),
                flag("isPaused", "Only conversations whose AI is paused (true) or not (false)"),
                flag("hasResponded", "Only people who answered (true) or did not (false)"),
            ],
            call: list_campaign_prospects,
        },
        Tool {
            name: "pause_prospect",
            description: "Stop the AI on one conversation so a person can take over; nothing more is sent there until resumed.",
            effect: Effect::Write,
            params: vec![id("prospectId", PROSPECT_ID)],
            call: |args| action(args, CHAT, "prospects", "pause"),
        },
        Tool {
            name: "resume_prospect",
            description: "Let the AI continue a paused conversation, with its whole history.",
            effect: Effect::Write,
            params: vec![id("prospectId", PROSPECT_ID)],
            call: |args| action(args, CHAT, "prospects", "resume"),
        },
        Tool {
            name: "qualify_prospect",
            description: "Mark a conversation as a qualified lead (status 5); the qualified webhook event is sent.",
            effect: Effect::Write,
            params: vec![id("prospectId", PROSPECT_ID)],
            call: |args| action(args, CHAT, "prospects", "qualify"),
        },
    ]
}

/// The filters of a search or list, with `status` as its code.
fn filters(args: &Args, names: &[&str]) -> Result<Vec<(String, String)>, ArgError> {
    let mut pairs = query(args, names)?;
    if let Some(code) = status_code(args)? {
        pairs.push(("status".to_owned(), code.to_string()));
    }
    Ok(pairs)
}

fn search_prospects(args: &Args) -> Result<Call, ArgError> {
    let names = [
        "query",
        "campaignId",
        "qualification",
        "city",
        "country",
        "hasResponded",
        "isPaused",
        "limit",
        "offset",
    ];
    Ok(Call::Rest(
        RestRequest::get(fixed("prospects/search")).with_query(filters(args, &names)?),
    ))
}

fn list_campaign_prospects(args: &Args) -> Result<Call, ArgError> {
    let campaign = args.id("campaignId", &[])?;
    let names = ["limit", "offset", "cursor", "isPaused", "hasResponded"];
    Ok(Call::CampaignProspects(
        RestRequest::get(path(&["prospects", "campaign", &campaign]))
            .with_query(filters(args, &names)?),
    ))
}
