//! Prompts, beyond Kakiyo: ready-made requests an assistant's user can pick, each composing the
//! tools into a piece of work ("review today's replies", "plan a campaign").
//!
//! Rule: a prompt only writes instructions that name tools; it reads and changes nothing
//! itself, so every effect still goes through a tool the user sees being called.

use rmcp::model::{GetPromptResult, Prompt, PromptArgument, PromptMessage, Role};
use serde_json::{Map, Value};

const REVIEW_REPLIES: &str = "review_todays_replies";
const PLAN_CAMPAIGN: &str = "plan_campaign";

/// The prompts offered.
pub fn prompts() -> Vec<Prompt> {
    vec![
        Prompt::new(
            REVIEW_REPLIES,
            Some(
                "Go through the conversations where prospects replied, summarise each, and propose the next step (qualify, take over, or let the AI answer).",
            ),
            Some(vec![
                PromptArgument::new("campaignId")
                    .with_description("Only this campaign (default: every campaign)")
                    .with_required(false),
            ]),
        ),
        Prompt::new(
            PLAN_CAMPAIGN,
            Some(
                "Plan a campaign for a product: check the product, prompt and agent, create the campaign, and add the first prospects.",
            ),
            Some(vec![
                PromptArgument::new("product")
                    .with_description("The product's name or id (list_products shows them)")
                    .with_required(true),
                PromptArgument::new("audience")
                    .with_description(
                        "Who to reach, e.g. \"CFOs of European fintechs with 50-500 people\"",
                    )
                    .with_required(false),
            ]),
        ),
    ]
}

/// The messages of prompt `name` with `arguments`; none for an unknown prompt.
pub fn render(name: &str, arguments: Option<&Map<String, Value>>) -> Option<GetPromptResult> {
    let argument = |key: &str| {
        arguments
            .and_then(|args| args.get(key))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|value| !value.is_empty())
    };
    let text = match name {
        REVIEW_REPLIES => review_replies(argument("campaignId")),
        PLAN_CAMPAIGN => plan_campaign(argument("product")?, argument("audience")),
        _ => return None,
    };
    let mut result = GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)]);
    result.description = prompts()
        .into_iter()
        .find(|prompt| prompt.name == name)
        .and_then(|prompt| prompt.description);
    Some(result)
}

fn review_replies(campaign: Option<&str>) -> String {
    let scope = campaign.map_or_else(
        || "across all campaigns".to_owned(),
        |id| format!("in campaign {id}"),
    );
    format!(
        "Review the prospects who replied {scope}.\n\
         1. Call search_prospects with status \"replied\" and hasResponded true{filter} (limit 50; \
            page with offset while pagination.hasMore).\n\
         2. For each conversation, call get_prospect and read the whole thread.\n\
         3. Summarise each in one line: who they are, what they said, how warm they are.\n\
         4. Propose one next step each: qualify_prospect for a clear lead; pause_prospect when a \
            person should take over (pricing, objections, anything sensitive); otherwise let the \
            AI continue. Ask me before calling qualify_prospect or pause_prospect.\n\
         5. End with get_analytics_overview's reply rate and qualified count for context.",
        filter = campaign.map_or_else(String::new, |id| format!(" and campaignId \"{id}\"")),
    )
}

fn plan_campaign(product: &str, audience: Option<&str>) -> String {
    let audience = audience.unwrap_or("the people this product is for");
    format!(
        "Plan an outreach campaign for the product \"{product}\", aimed at {audience}.\n\
         1. Call list_products and find the product (by name or id); show me its description.\n\
         2. Call list_prompts and pick the prompt that fits (first message and follow-ups); \
            say why.\n\
         3. Call list_agents and pick a running agent without alerts; check its working hours \
            and daily limits with get_agent.\n\
         4. Propose the campaign (name, product, prompt, agent, qualification thresholds) and \
            wait for my go-ahead; then call create_campaign.\n\
         5. Ask me for the first prospects (name and LinkedIn URL each), check none is on the \
            Do-Not-Contact list with check_dnc, and add them with add_prospects_batch.\n\
         6. Finish with get_campaign_stats of the new campaign."
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prompts_name_the_tools_they_use() {
        let args = json!({ "product": "Ledger AI" });
        let plan = render(PLAN_CAMPAIGN, args.as_object()).expect("a prompt");
        let text = format!("{:?}", plan.messages);
        for tool in [
            "list_products",
            "create_campaign",
            "add_prospects_batch",
            "check_dnc",
        ] {
            assert!(text.contains(tool), "{tool}");
        }
        assert!(
            render(PLAN_CAMPAIGN, None).is_none(),
            "the product is required"
        );
        let review =
            render(REVIEW_REPLIES, json!({ "campaignId": "c1" }).as_object()).expect("a prompt");
        assert!(format!("{:?}", review.messages).contains("campaignId \\\"c1\\\""));
        assert!(render("nope", None).is_none());
    }
}
