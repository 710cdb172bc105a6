//! Our tools beside Kakiyo's 42: the review queue of AI drafts and a person's own message in a
//! conversation. Each calls its `/v1` twin, so the rules (and the 404 of another team's ids)
//! are the REST API's.

use axum::http::Method;

use super::{Call, Effect, Param, Tool, fixed, flag, id, integer, one_of, path, query, text};
use crate::args::{ArgError, Args};
use crate::rest::RestRequest;

const DRAFT_ID: &str = "The draft's id (the `id` of a list_drafts item)";
const DRAFT_STATUSES: &[&str] = &[
    "pending",
    "approved",
    "rejected",
    "expired",
    "sent",
    "superseded",
];

fn draft(args: &Args) -> Result<String, ArgError> {
    args.id("draftId", &["id"])
}

fn draft_param() -> Param {
    id("draftId", DRAFT_ID)
}

pub fn tools() -> Vec<Tool> {
    vec![
        Tool {
            name: "list_drafts",
            description: "The review queue: AI messages of review-mode campaigns waiting for a person (status pending) or already decided, newest first, each with the prospect and the last messages of the conversation.",
            effect: Effect::Read,
            params: vec![
                one_of(
                    "status",
                    DRAFT_STATUSES,
                    "Only drafts in this status (pending: waiting for a person)",
                ),
                text("campaignId", "Only this campaign"),
                text("agentId", "Only this agent"),
                integer("limit", 1, 100, "At most this many (default 25)"),
                integer(
                    "offset",
                    0,
                    i64::MAX,
                    "Skip this many (ignored with cursor)",
                ),
                text("cursor", "X-Next-Cursor of the previous page"),
            ],
            call: |args| {
                let names = [
                    "status",
                    "campaignId",
                    "agentId",
                    "limit",
                    "offset",
                    "cursor",
                ];
                Ok(Call::Rest(
                    RestRequest::get(fixed("drafts")).with_query(query(args, &names)?),
                ))
            },
        },
        Tool {
            name: "get_draft",
            description: "One AI draft: its text, the person's edit, its status and expiry, the prospect and the last messages of the conversation.",
            effect: Effect::Read,
            params: vec![draft_param()],
            call: |args| {
                Ok(Call::Rest(RestRequest::get(path(&[
                    "drafts",
                    &draft(args)?,
                ]))))
            },
        },
        Tool {
            name: "approve_draft",
            description: "Approve a pending AI draft, as written or with an edited text: the agent sends it in its working hours and limits, at most once. A draft already decided, expired or superseded is refused (409).",
            effect: Effect::Write,
            params: vec![
                draft_param(),
                text(
                    "text",
                    "Send this instead of the AI's text (the AI's text is kept beside it)",
                ),
            ],
            call: |args| {
                let body = args.body(&["text"], &[], &[])?;
                Ok(Call::Rest(
                    RestRequest::new(Method::POST, path(&["drafts", &draft(args)?, "approve"]))
                        .with_body(body),
                ))
            },
        },
        Tool {
            name: "reject_draft",
            description: "Reject a pending AI draft: the conversation pauses, or with regenerate the AI writes a new draft.",
            effect: Effect::Write,
            params: vec![
                draft_param(),
                text("reason", "Why, kept with the draft"),
                flag(
                    "regenerate",
                    "Write a new draft instead of pausing the conversation",
                ),
            ],
            call: |args| {
                let body = args.body(&["reason", "regenerate"], &[], &[])?;
                Ok(Call::Rest(
                    RestRequest::new(Method::POST, path(&["drafts", &draft(args)?, "reject"]))
                        .with_body(body),
                ))
            },
        },
        Tool {
            name: "send_prospect_message",
            description: "Take over a conversation: send a person's own message through the agent now. It is recorded as written by a person and the AI stays paused there until resume_prospect. Never sent to someone on the Do-Not-Contact list.",
            effect: Effect::Write,
            params: vec![
                id(
                    "prospectId",
                    "The conversation's id (`chatId` is accepted too)",
                ),
                text("text", "The message, as it will be sent").required(),
            ],
            call: |args| {
                let chat = args.id("prospectId", &["chatId"])?;
                let body = args.body(&["text"], &[], &[])?;
                Ok(Call::Rest(
                    RestRequest::new(Method::POST, path(&["prospects", &chat, "messages"]))
                        .with_body(body),
                ))
            },
        },
    ]
}
