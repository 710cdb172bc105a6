//! Resources, beyond Kakiyo: a campaign's live figures and a conversation's transcript, for an
//! assistant to read (or attach) without a tool call.
//!
//! Rule: a resource is a REST read like a tool — its URI names the route, the caller's key
//! goes with it — so the same tenant scoping applies; a transcript is that route's JSON
//! written out as Markdown, nothing more.

use rmcp::model::{Resource, ResourceTemplate};
use serde_json::Value;

use crate::rest::RestRequest;
use crate::tools::path;

/// The scheme of our resource URIs.
const SCHEME: &str = "outbound://";
/// A campaign's figures.
pub const CAMPAIGN_STATS: &str = "outbound://campaigns/{campaignId}/stats";
/// A conversation's transcript.
pub const CONVERSATION: &str = "outbound://conversations/{chatId}";

/// What a resource URI reads, and how its answer is shown.
#[derive(Debug, Clone, PartialEq)]
pub enum Read {
    /// The JSON of the route, as is.
    Json(RestRequest),
    /// The conversation's JSON, as a Markdown transcript.
    Transcript(RestRequest),
}

/// The resource templates.
pub fn templates() -> Vec<ResourceTemplate> {
    vec![
        ResourceTemplate::new(CAMPAIGN_STATS, "campaign-stats")
            .with_title("Campaign figures")
            .with_description("A campaign's live counters and rates (GET /v1/campaigns/{id}/stats)")
            .with_mime_type("application/json"),
        ResourceTemplate::new(CONVERSATION, "conversation")
            .with_title("Conversation transcript")
            .with_description(
                "Who the person is, where the conversation stands, and every message in order",
            )
            .with_mime_type("text/markdown"),
    ]
}

/// The stats resource of every campaign in a `GET /v1/campaigns` answer.
pub fn campaign_resources(campaigns: &Value) -> Vec<Resource> {
    campaigns
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|campaign| {
            let id = campaign["id"].as_str()?;
            let name = campaign["name"].as_str().unwrap_or(id);
            Some(
                Resource::new(
                    format!("{SCHEME}campaigns/{id}/stats"),
                    format!("{name} — figures"),
                )
                .with_mime_type("application/json"),
            )
        })
        .collect()
}

/// What `uri` reads; none for a URI that is not one of ours.
pub fn read_of(uri: &str) -> Option<Read> {
    let rest = uri.strip_prefix(SCHEME)?;
    let segments: Vec<&str> = rest.split('/').collect();
    match segments.as_slice() {
        ["campaigns", id, "stats"] if !id.is_empty() => {
            Some(Read::Json(RestRequest::get(path(&[
                "campaigns",
                id,
                "stats",
            ]))))
        }
        ["conversations", id] if !id.is_empty() => {
            Some(Read::Transcript(RestRequest::get(path(&["prospects", id]))))
        }
        _ => None,
    }
}

/// A conversation (`GET /v1/prospects/{chatId}`) as Markdown.
pub fn transcript(conversation: &Value) -> String {
    let person = &conversation["prospect"];
    let name = person["name"].as_str().unwrap_or("The prospect");
    let mut text = format!("# {name}\n\n");
    if let Some(headline) = person["headline"].as_str() {
        text.push_str(&format!("{headline}\n\n"));
    }
    text.push_str(&format!(
        "- campaign: {}\n- status: {}\n- qualification: {}\n- AI paused: {}\n",
        conversation["campaign"]["name"].as_str().unwrap_or("?"),
        conversation["status"],
        conversation["qualification"].as_str().unwrap_or("?"),
        conversation["paused"].as_bool().unwrap_or(false),
    ));
    if let Some(url) = person["url"].as_str() {
        text.push_str(&format!("- profile: {url}\n"));
    }
    if let Some(notes) = conversation["customData"]
        .as_str()
        .filter(|n| !n.is_empty())
    {
        text.push_str(&format!("- notes: {notes}\n"));
    }
    text.push_str("\n## Messages\n\n");
    let messages = conversation["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if messages.is_empty() {
        text.push_str("No message yet.\n");
    }
    for message in &messages {
        let who = if message["role"] == "user" {
            name
        } else {
            "Agent"
        };
        text.push_str(&format!(
            "**{who}** ({}):\n{}\n\n",
            message["date"].as_str().unwrap_or("?"),
            message["content"].as_str().unwrap_or_default()
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn uris_name_their_routes() {
        assert_eq!(
            read_of("outbound://campaigns/c1/stats"),
            Some(Read::Json(RestRequest::get(
                "/v1/campaigns/c1/stats".to_owned()
            )))
        );
        assert_eq!(
            read_of("outbound://conversations/h2"),
            Some(Read::Transcript(RestRequest::get(
                "/v1/prospects/h2".to_owned()
            )))
        );
        assert_eq!(read_of("outbound://campaigns//stats"), None);
        assert_eq!(read_of("file:///etc/passwd"), None);
    }

    #[test]
    fn a_transcript_shows_who_said_what() {
        let text = transcript(&json!({
            "status": 4, "qualification": "inProgress", "paused": false,
            "campaign": { "name": "CFOs" },
            "prospect": { "name": "Ana Ruiz", "headline": "CFO at Ledgerly", "url": "https://linkedin.com/in/ana" },
            "messages": [
                { "role": "assistant", "content": "Hi Ana", "date": "2026-05-01T09:00:00.000Z" },
                { "role": "user", "content": "Tell me more", "date": "2026-05-01T10:00:00.000Z" }
            ]
        }));
        assert!(text.starts_with("# Ana Ruiz\n\nCFO at Ledgerly"), "{text}");
        assert!(
            text.contains("**Agent** (2026-05-01T09:00:00.000Z):\nHi Ana"),
            "{text}"
        );
        assert!(
            text.contains("**Ana Ruiz** (2026-05-01T10:00:00.000Z):\nTell me more"),
            "{text}"
        );
    }
}
