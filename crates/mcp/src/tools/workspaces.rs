//! Agency workspaces (`/v1/workspaces`, agency plan only): client teams, their members, and
//! the agents whose campaigns they may read.

use axum::http::Method;
use serde_json::json;

use super::{Call, Effect, Tool, fixed, id, path, structured, text};
use crate::args::{ArgError, Args};
use crate::rest::RestRequest;

const WORKSPACE_ID: &str = "The workspace's id (from list_workspaces)";

pub fn tools() -> Vec<Tool> {
    vec![
        Tool {
            name: "list_workspaces",
            description: "List the agency's client workspaces (agency plan).",
            effect: Effect::Read,
            params: vec![],
            call: |_| Ok(Call::Rest(RestRequest::get(fixed("workspaces")))),
        },
        Tool {
            name: "create_workspace",
            description: "Create a client workspace (agency plan).",
            effect: Effect::Write,
            params: vec![text("name", "The client's name").required()],
            call: |args| {
                let body = args.body(&["name"], &[], &[])?;
                Ok(Call::Rest(
                    RestRequest::new(Method::POST, fixed("workspaces")).with_body(body),
                ))
            },
        },
        Tool {
            name: "delete_workspace",
            description: "Delete a workspace: its clients lose access and its agents are unassigned (the agents are kept).",
            effect: Effect::Destructive,
            params: vec![id("workspaceId", WORKSPACE_ID)],
            call: |args| {
                let workspace = args.id("workspaceId", &[])?;
                Ok(Call::Rest(RestRequest::new(
                    Method::DELETE,
                    path(&["workspaces", &workspace]),
                )))
            },
        },
        Tool {
            name: "invite_client",
            description: "Invite a client user to a workspace by email (a sign-in link is mailed when SMTP is configured).",
            effect: Effect::Write,
            params: vec![
                id("workspaceId", WORKSPACE_ID),
                text("email", "The client's email address").required(),
                structured(
                    "roles",
                    json!({ "type": "array", "items": { "type": "string" } }),
                    "Roles (default [\"member\"])",
                ),
                text("redirectUrl", "Where the invitation link leads"),
            ],
            call: |args| {
                let workspace = args.id("workspaceId", &[])?;
                let body = args.body(&["email", "roles", "redirectUrl"], &[], &["roles"])?;
                Ok(Call::Rest(
                    RestRequest::new(Method::POST, path(&["workspaces", &workspace, "invite"]))
                        .with_body(body),
                ))
            },
        },
        Tool {
            name: "remove_client",
            description: "Remove a client user from a workspace, by the email they were invited with or the userId invite_client returned (one of the two).",
            effect: Effect::Destructive,
            params: vec![
                id("workspaceId", WORKSPACE_ID),
                text("email", "The client's email address"),
                text("userId", "The client's user id, from invite_client"),
            ],
            call: remove_client,
        },
        Tool {
            name: "assign_agent_to_workspace",
            description: "Give a workspace's clients read access to one of the agency's agents: its campaigns, conversations and prospects.",
            effect: Effect::Write,
            params: vec![id("workspaceId", WORKSPACE_ID), id("agentId", "The agent")],
            call: |args| assignment(args, Method::POST),
        },
        Tool {
            name: "unassign_agent_from_workspace",
            description: "Take that access away again; the agent itself is kept.",
            effect: Effect::Destructive,
            params: vec![id("workspaceId", WORKSPACE_ID), id("agentId", "The agent")],
            call: |args| assignment(args, Method::DELETE),
        },
    ]
}

fn remove_client(args: &Args) -> Result<Call, ArgError> {
    let workspace = args.id("workspaceId", &[])?;
    let body = args.body(&["email", "userId"], &[], &[])?;
    Ok(Call::Rest(
        RestRequest::new(Method::DELETE, path(&["workspaces", &workspace, "clients"]))
            .with_body(body),
    ))
}

/// `POST` or `DELETE /v1/workspaces/{id}/agents/{agentId}`.
fn assignment(args: &Args, method: Method) -> Result<Call, ArgError> {
    let workspace = args.id("workspaceId", &[])?;
    let agent = args.id("agentId", &[])?;
    Ok(Call::Rest(RestRequest::new(
        method,
        path(&["workspaces", &workspace, "agents", &agent]),
    )))
}
