//! The Do-Not-Contact list (`/v1/dnc`): profiles no campaign may ever contact.

use axum::http::Method;
use serde_json::json;

use super::{Call, Effect, Tool, fixed, integer, query, text};
use crate::rest::RestRequest;

const URL: &str = "A LinkedIn profile URL, in any usual form (it is normalised)";

pub fn tools() -> Vec<Tool> {
    vec![
        Tool {
            name: "list_dnc",
            description: "List the Do-Not-Contact entries, newest first.",
            effect: Effect::Read,
            params: vec![
                integer("limit", 1, 1000, "At most this many (default 50)"),
                integer("offset", 0, i64::MAX, "Skip this many"),
            ],
            call: |args| {
                let query = query(args, &["limit", "offset"])?;
                Ok(Call::Rest(RestRequest::get(fixed("dnc")).with_query(query)))
            },
        },
        Tool {
            name: "add_dnc",
            description: "Put a profile on the Do-Not-Contact list: no campaign of the team will invite or message it.",
            effect: Effect::Write,
            params: vec![text("url", URL).required()],
            call: |args| {
                let url = args.required_text("url")?;
                Ok(Call::Rest(
                    RestRequest::new(Method::POST, fixed("dnc")).with_body(json!({ "url": url })),
                ))
            },
        },
        Tool {
            name: "remove_dnc",
            description: "Take a profile off the Do-Not-Contact list, by its URL.",
            effect: Effect::Destructive,
            params: vec![text("url", URL).required()],
            call: |args| {
                Ok(Call::RemoveDnc {
                    url: args.required_text("url")?,
                })
            },
        },
        Tool {
            name: "check_dnc",
            description: "Whether a profile is on the Do-Not-Contact list, with its entry.",
            effect: Effect::Read,
            params: vec![text("url", URL).required()],
            call: |args| Ok(Call::Rest(check(args.required_text("url")?))),
        },
    ]
}

/// `GET /v1/dnc/check?url=…`.
pub fn check(url: String) -> RestRequest {
    RestRequest::get(fixed("dnc/check")).with_query(vec![("url".to_owned(), url)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::Args;

    #[test]
    fn remove_needs_a_url() {
        let tools = tools();
        let remove = tools
            .iter()
            .find(|t| t.name == "remove_dnc")
            .expect("remove_dnc");
        assert!((remove.call)(&Args::default()).is_err());
    }
}
