//! Agents: the LinkedIn accounts that run campaigns (`/v1/agents`). Creating an agent and
//! giving it LinkedIn credentials stay out of MCP on purpose, as in Kakiyo: credentials are
//! typed by a person, not handed to an assistant.

use axum::http::Method;
use serde_json::json;

use super::{Call, Effect, Tool, action, fixed, id, path, structured};
use crate::args::{ArgError, Args};
use crate::rest::RestRequest;

const AGENT_ID: &str = "The agent's id (from list_agents)";
/// The argument naming the agent.
const AGENT: (&str, &[&str]) = ("agentId", &[]);

pub fn tools() -> Vec<Tool> {
    vec![
        Tool {
            name: "list_agents",
            description: "List the team's LinkedIn agents with their status, login, country, next task and alerts.",
            effect: Effect::Read,
            params: vec![],
            call: |_| Ok(Call::Rest(RestRequest::get(fixed("agents")))),
        },
        Tool {
            name: "get_agent",
            description: "One agent in detail: status, alerts, today's usage against its daily targets, working hours, limits and settings.",
            effect: Effect::Read,
            params: vec![id("agentId", AGENT_ID)],
            call: |args| {
                let agent = args.id("agentId", &[])?;
                Ok(Call::Rest(RestRequest::get(path(&["agents", &agent]))))
            },
        },
        Tool {
            name: "update_agent",
            description: "Change an agent's working hours, daily limits or behaviour flags. Give at least one of workingHours, limits, settings; what is not given is kept.",
            effect: Effect::Write,
            params: vec![
                id("agentId", AGENT_ID),
                structured(
                    "workingHours",
                    json!({
                        "type": "object",
                        "properties": {
                            "days": { "type": "string", "description": "Seven 0/1 flags, Monday first, e.g. \"1:1:1:1:1:0:0\"" },
                            "start": { "type": "string", "description": "\"HH:MM\", 24-hour" },
                            "stop": { "type": "string", "description": "\"HH:MM\", 24-hour (`end` is accepted too)" },
                            "timezone": { "description": "Whole-hour UTC offset, or an IANA zone name such as \"Europe/Paris\"" }
                        }
                    }),
                    "When the agent works",
                ),
                structured(
                    "limits",
                    json!({
                        "type": "object",
                        "properties": {
                            "invitationsMin": { "type": "integer" }, "invitationsMax": { "type": "integer" },
                            "messagesMin": { "type": "integer" }, "messagesMax": { "type": "integer" }
                        }
                    }),
                    "Daily ranges: invitations 1-100, messages 1-500; each day's target is drawn between min and max",
                ),
                structured(
                    "settings",
                    json!({
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "key": { "type": "string", "enum": ["skipInNetwork", "invitationsOnly"] },
                                "value": { "type": "boolean" }
                            },
                            "required": ["key", "value"]
                        }
                    }),
                    "Behaviour flags",
                ),
            ],
            call: update_agent,
        },
        Tool {
            name: "pause_agent",
            description: "Pause an agent: it sends nothing until resumed.",
            effect: Effect::Write,
            params: vec![id("agentId", AGENT_ID)],
            call: |args| action(args, AGENT, "agents", "pause"),
        },
        Tool {
            name: "resume_agent",
            description: "Resume a paused agent. Refused while the agent has alerts to resolve (see get_agent).",
            effect: Effect::Write,
            params: vec![id("agentId", AGENT_ID)],
            call: |args| action(args, AGENT, "agents", "resume"),
        },
    ]
}

fn update_agent(args: &Args) -> Result<Call, ArgError> {
    let agent = args.id("agentId", &[])?;
    let body = args.body(
        &["workingHours", "limits", "settings"],
        &[],
        &["workingHours", "limits", "settings"],
    )?;
    if body.as_object().is_some_and(serde_json::Map::is_empty) {
        return Err(ArgError::new(
            "workingHours",
            "give at least one of workingHours, limits, settings",
        ));
    }
    Ok(Call::Rest(
        RestRequest::new(Method::PUT, path(&["agents", &agent])).with_body(body),
    ))
}
