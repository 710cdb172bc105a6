//! What the model is asked: the prompt's sections rendered with one conversation's variables.
//!
//! Rule: variables are filled in by `outbound_core::prompt::render` only, with the system values
//! (prospect name and description, offering description, agent name, company, custom data)
//! and the campaign's custom `variables`; a section that needs a variable nobody defines is not
//! rendered (and no message is sent with a hole in it).

use outbound_core::prompt::{MissingVariables, SystemValues, render};
use outbound_llm::{ChatTurn, GenerationRequest, Purpose, QualificationRequest};
use outbound_store::chats::Role;
use outbound_store::engine::{CampaignContext, EngineChat, HistoryMessage};
use std::collections::BTreeMap;

/// What is known about a prospect, as one paragraph for `{{prospectDescription}}`.
pub fn prospect_description(chat: &EngineChat) -> String {
    let mut parts = Vec::new();
    match &chat.headline {
        Some(headline) => parts.push(format!("{} — {headline}.", chat.prospect_name)),
        None => parts.push(format!("{}.", chat.prospect_name)),
    }
    match (&chat.job_title, &chat.company) {
        (Some(title), Some(company)) => parts.push(format!("{title} at {company}.")),
        (None, Some(company)) => parts.push(format!("Works at {company}.")),
        (Some(title), None) => parts.push(format!("{title}.")),
        (None, None) => {}
    }
    let place: Vec<&str> = [chat.city.as_deref(), chat.country.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    if !place.is_empty() {
        parts.push(format!("Based in {}.", place.join(", ")));
    }
    if let Some(about) = chat.about.as_deref().filter(|a| !a.trim().is_empty()) {
        parts.push(format!("About: {}", about.trim()));
    }
    parts.join(" ")
}

/// The variables of one conversation.
pub fn variables(context: &CampaignContext, chat: &EngineChat) -> BTreeMap<String, String> {
    SystemValues {
        prospect_name: chat.prospect_name.clone(),
        prospect_description: prospect_description(chat),
        offering_description: context.product_description.clone(),
        agent_name: context.agent_name.clone(),
        company: chat.company.clone().unwrap_or_default(),
        custom_data: chat.custom_data.clone(),
    }
    .with_custom(&context.variables)
}

/// The system part: the rendered context and the offering.
fn system(
    context: &CampaignContext,
    vars: &BTreeMap<String, String>,
) -> Result<String, MissingVariables> {
    let rendered = render(&context.prompt.context, vars)?;
    Ok(format!(
        "{}\n\nThe offering: {}\n{}",
        rendered.trim(),
        context.product_name,
        context.product_description.trim()
    ))
}

/// The conversation so far, as the model reads it.
pub fn turns(history: &[HistoryMessage]) -> Vec<ChatTurn> {
    history
        .iter()
        .map(|m| match m.role {
            Role::Assistant => ChatTurn::assistant(m.content.clone()),
            Role::User => ChatTurn::user(m.content.clone()),
        })
        .collect()
}

/// The request for the message `purpose` in `chat`.
pub fn generation_request(
    purpose: Purpose,
    context: &CampaignContext,
    chat: &EngineChat,
    history: &[HistoryMessage],
) -> Result<GenerationRequest, MissingVariables> {
    let vars = variables(context, chat);
    let section = match purpose {
        Purpose::FirstMessage => context.prompt.first_message.as_str(),
        Purpose::FollowUp(n) => context
            .prompt
            .follow_ups
            .get(usize::from(n.saturating_sub(1)))
            .map_or("", |f| f.prompt.as_str()),
        Purpose::Reply | Purpose::InvitationNote => "",
    };
    Ok(GenerationRequest {
        purpose,
        system: system(context, &vars)?,
        instruction: render(section, &vars)?,
        history: turns(history),
        prospect_name: chat.prospect_name.clone(),
        offering: context.product_description.clone(),
        max_tokens: 0,
    })
}

/// The request to score `chat`.
pub fn qualification_request(
    context: &CampaignContext,
    chat: &EngineChat,
    history: &[HistoryMessage],
) -> Result<QualificationRequest, MissingVariables> {
    let vars = variables(context, chat);
    Ok(QualificationRequest {
        system: system(context, &vars)?,
        criteria: render(&context.prompt.context, &vars)?,
        history: turns(history),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use outbound_core::conversation::{CampaignStatus, Qualification};
    use outbound_core::prompt::{FollowUp, PromptSections};

    fn context() -> CampaignContext {
        CampaignContext {
            id: "c".into(),
            team_id: "t".into(),
            status: CampaignStatus::Active,
            agent_id: "a".into(),
            agent_name: "Sam".into(),
            qualification_automatic: 70,
            qualification_verification: 50,
            variables: BTreeMap::from([("goal".to_owned(), "a demo".to_owned())]),
            prompt: PromptSections {
                context: "Sell {{offeringDescription}} to {{prospectDescription}} for {{goal}}."
                    .into(),
                first_message: "Hi {{prospectName}}, I am {{agentName}}. {{customData}}".into(),
                follow_ups: vec![FollowUp {
                    prompt: "Any thoughts, {{prospectName}}?".into(),
                    delay: 3,
                }],
                follow_up_enabled: true,
                comment: String::new(),
            },
            model: "template".into(),
            product_name: "Ledger".into(),
            product_description: "Automated bookkeeping.".into(),
            prompt_id: "prompt".into(),
            review_mode: outbound_core::review::ReviewMode::Off,
        }
    }

    fn chat() -> EngineChat {
        EngineChat {
            id: "h".into(),
            team_id: "t".into(),
            campaign_id: "c".into(),
            agent_id: "a".into(),
            campaign_status: CampaignStatus::Active,
            prospect_id: "p".into(),
            prospect_name: "Ana Ruiz".into(),
            url: "https://linkedin.com/in/ana".into(),
            headline: Some("CFO".into()),
            about: None,
            city: Some("Madrid".into()),
            country: Some("Spain".into()),
            company: Some("Ledgerly".into()),
            job_title: Some("CFO".into()),
            status: 2,
            qualification: Qualification::InProgress,
            paused: false,
            has_responded: false,
            ongoing: false,
            custom_data: "Met at SaaStr.".into(),
            messages_sent: 0,
            last_message_at: None,
            last_response_at: None,
            invited_at: None,
            accepted_at: None,
            enriched_at: None,
            next_message_at: None,
            next_message_kind: None,
            followups_sent: 0,
            replies_seen_at: None,
            on_dnc: false,
            draft_id: None,
        }
    }

    #[test]
    fn sections_are_rendered_with_system_and_custom_variables() {
        let request = generation_request(Purpose::FirstMessage, &context(), &chat(), &[]).unwrap();
        assert_eq!(request.instruction, "Hi Ana Ruiz, I am Sam. Met at SaaStr.");
        assert!(
            request
                .system
                .starts_with("Sell Automated bookkeeping. to Ana Ruiz — CFO.")
        );
        assert!(request.system.contains("for a demo."));
        let follow_up = generation_request(Purpose::FollowUp(1), &context(), &chat(), &[]).unwrap();
        assert_eq!(follow_up.instruction, "Any thoughts, Ana Ruiz?");
        let reply = generation_request(Purpose::Reply, &context(), &chat(), &[]).unwrap();
        assert_eq!(reply.instruction, "");
    }

    #[test]
    fn an_undefined_variable_is_refused() {
        let mut context = context();
        context.variables.clear();
        assert_eq!(
            generation_request(Purpose::FirstMessage, &context, &chat(), &[])
                .unwrap_err()
                .0,
            vec!["goal".to_owned()]
        );
    }

    #[test]
    fn the_description_says_what_is_known() {
        assert_eq!(
            prospect_description(&chat()),
            "Ana Ruiz — CFO. CFO at Ledgerly. Based in Madrid, Spain."
        );
    }
}
