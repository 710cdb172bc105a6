//! Prompts: their type, their sections and the rules an update must keep.
//!
//! A prompt's text lives in sections (`context`, `firstMessage`, `followUps`, `comment`). An
//! update merges into the stored sections and is refused whole when the result breaks a rule:
//! more than [`MAX_FOLLOW_UPS`] follow-ups, a delay outside [`FOLLOW_UP_DELAY_DAYS`], or a
//! mandatory variable that the prompt had and the update removes.
//!
//! Rendering ([`render`]) is the one place where `{{ name }}` placeholders are filled in, by
//! the token rule of [`template_variables`]; a placeholder without a value fails the rendering.
//! The system fills in [`SYSTEM_VARIABLES`]; any other variable is a campaign's custom one
//! ([`custom_variables`]).

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use utoipa::ToSchema;

use crate::validation::Problems;

/// At most this many follow-ups.
pub const MAX_FOLLOW_UPS: usize = 3;
/// Prompt name bounds, in characters.
pub const PROMPT_NAME_LEN: (usize, usize) = (3, 200);
/// A follow-up waits this many days (inclusive) after the previous message.
pub const FOLLOW_UP_DELAY_DAYS: (i64, i64) = (1, 30);
/// Longest section text.
pub const MAX_SECTION_LEN: usize = 20_000;
/// Variables that the system fills in and that a messages prompt should use.
pub const MANDATORY_VARIABLES: [&str; 2] = ["prospectDescription", "offeringDescription"];

/// What a prompt writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum PromptType {
    /// Invitations, first messages, follow-ups and replies.
    Messages,
    /// Comments on prospects' posts.
    Comment,
}

impl PromptType {
    /// The type for a request value, including the legacy `message` and `invitation`.
    pub fn from_request(value: &str) -> Option<PromptType> {
        match value {
            "Messages" | "message" | "invitation" => Some(PromptType::Messages),
            "Comment" => Some(PromptType::Comment),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PromptType::Messages => "Messages",
            PromptType::Comment => "Comment",
        }
    }
}

/// One follow-up: what to write and how many days after the previous message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUp {
    pub prompt: String,
    pub delay: i64,
}

/// The text of a prompt.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PromptSections {
    pub context: String,
    pub first_message: String,
    pub follow_ups: Vec<FollowUp>,
    pub follow_up_enabled: bool,
    pub comment: String,
}

/// A partial update of [`PromptSections`]; `None` keeps the stored value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SectionsPatch {
    pub context: Option<String>,
    pub first_message: Option<String>,
    pub follow_ups: Option<Vec<FollowUp>>,
    pub follow_up_enabled: Option<bool>,
    pub comment: Option<String>,
}

impl PromptSections {
    /// The sections after `patch`, or every rule the result breaks.
    pub fn merged(
        &self,
        kind: PromptType,
        patch: SectionsPatch,
    ) -> Result<PromptSections, Vec<crate::validation::FieldError>> {
        let mut problems = Problems::new();
        if patch.comment.is_some() && kind != PromptType::Comment {
            problems.add("comment", "Only Comment prompts have a comment section");
        }
        let merged = PromptSections {
            context: patch.context.unwrap_or_else(|| self.context.clone()),
            first_message: patch
                .first_message
                .unwrap_or_else(|| self.first_message.clone()),
            follow_ups: patch.follow_ups.unwrap_or_else(|| self.follow_ups.clone()),
            follow_up_enabled: patch.follow_up_enabled.unwrap_or(self.follow_up_enabled),
            comment: patch.comment.unwrap_or_else(|| self.comment.clone()),
        };
        merged.validate(&mut problems);
        for variable in self.mandatory_variables_present() {
            if !merged.mandatory_variables_present().contains(variable) {
                problems.add(
                    "context",
                    format!("The mandatory variable {{{{{variable}}}}} cannot be removed"),
                );
            }
        }
        problems.into_result().map(|()| merged)
    }

    fn validate(&self, problems: &mut Problems) {
        for (field, text) in [
            ("context", &self.context),
            ("firstMessage", &self.first_message),
            ("comment", &self.comment),
        ] {
            problems.check_len(field, text, 0, MAX_SECTION_LEN);
        }
        if self.follow_ups.len() > MAX_FOLLOW_UPS {
            problems.add(
                "followUps",
                format!("At most {MAX_FOLLOW_UPS} follow-ups are allowed"),
            );
        }
        for (i, follow_up) in self.follow_ups.iter().enumerate() {
            let (min, max) = FOLLOW_UP_DELAY_DAYS;
            problems.check_range(&format!("followUps[{i}].delay"), follow_up.delay, min, max);
            problems.check_len(
                &format!("followUps[{i}].prompt"),
                &follow_up.prompt,
                1,
                MAX_SECTION_LEN,
            );
        }
    }

    /// Every `{{variable}}` used anywhere in the sections.
    pub fn variables(&self) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        let texts = [&self.context, &self.first_message, &self.comment]
            .into_iter()
            .chain(self.follow_ups.iter().map(|f| &f.prompt));
        for text in texts {
            found.extend(template_variables(text));
        }
        found
    }

    /// The mandatory variables that the sections use.
    pub fn mandatory_variables_present(&self) -> BTreeSet<&'static str> {
        let used = self.variables();
        MANDATORY_VARIABLES
            .into_iter()
            .filter(|v| used.contains(*v))
            .collect()
    }

    /// The mandatory variables that the sections do not use yet.
    pub fn missing_mandatory_variables(&self) -> Vec<&'static str> {
        let present = self.mandatory_variables_present();
        MANDATORY_VARIABLES
            .into_iter()
            .filter(|v| !present.contains(v))
            .collect()
    }
}

/// The names inside `{{ }}` in `text`, in order of appearance, trimmed.
pub fn template_variables(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else { break };
        let name = after[..close].trim();
        if !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
        {
            names.push(name.to_owned());
        }
        rest = &after[close + 2..];
    }
    names
}

// ---------------------------------------------------------------------------------------------
// Rendering: the one place where `{{ variable }}` placeholders are filled in.
//
// Rule: a placeholder is `{{`, a name, `}}` — the very token rule of [`template_variables`]
// (whitespace around the name is ignored; a name is letters, digits, `_` and `.`). Anything
// else between braces is left as written. Every placeholder must have a value: rendering fails
// with the list of the unknown names, never sends a message with a hole in it. Values are
// inserted as they are and never scanned again, so a prospect's text cannot inject a variable.
// ---------------------------------------------------------------------------------------------

/// The prospect's full name.
pub const VAR_PROSPECT_NAME: &str = "prospectName";
/// What is known about the prospect (headline, about, company, title, location).
pub const VAR_PROSPECT_DESCRIPTION: &str = "prospectDescription";
/// The description of the product the campaign sells.
pub const VAR_OFFERING_DESCRIPTION: &str = "offeringDescription";
/// The name of the LinkedIn agent that writes.
pub const VAR_AGENT_NAME: &str = "agentName";
/// The prospect's current company.
pub const VAR_COMPANY: &str = "company";
/// The prospect's free-form custom data.
pub const VAR_CUSTOM_DATA: &str = "customData";
/// Variables that the system fills in for every conversation; any other variable a prompt uses
/// is a custom one that the campaign must define.
pub const SYSTEM_VARIABLES: [&str; 6] = [
    VAR_PROSPECT_NAME,
    VAR_PROSPECT_DESCRIPTION,
    VAR_OFFERING_DESCRIPTION,
    VAR_AGENT_NAME,
    VAR_COMPANY,
    VAR_CUSTOM_DATA,
];
/// Opens a placeholder.
const PLACEHOLDER_OPEN: &str = "{{";
/// Closes a placeholder.
const PLACEHOLDER_CLOSE: &str = "}}";

/// The placeholders of a template that have no value, each name once, in order of appearance.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown prompt variables: {}", .0.join(", "))]
pub struct MissingVariables(pub Vec<String>);

/// The values of the system variables for one conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemValues {
    pub prospect_name: String,
    pub prospect_description: String,
    pub offering_description: String,
    pub agent_name: String,
    pub company: String,
    pub custom_data: String,
}

impl SystemValues {
    /// The variables to render with: the system values, then the campaign's `custom` ones
    /// (a custom variable never overrides a system one).
    pub fn with_custom(&self, custom: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut vars: BTreeMap<String, String> = custom
            .iter()
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        for (name, value) in [
            (VAR_PROSPECT_NAME, &self.prospect_name),
            (VAR_PROSPECT_DESCRIPTION, &self.prospect_description),
            (VAR_OFFERING_DESCRIPTION, &self.offering_description),
            (VAR_AGENT_NAME, &self.agent_name),
            (VAR_COMPANY, &self.company),
            (VAR_CUSTOM_DATA, &self.custom_data),
        ] {
            vars.insert(name.to_owned(), value.clone());
        }
        vars
    }
}

/// A piece of a template: text to copy, or a placeholder to fill.
#[derive(Debug, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    Variable(&'a str),
}

/// The template cut into text and placeholders, by the token rule of [`template_variables`].
fn pieces(template: &str) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find(PLACEHOLDER_OPEN) {
        let after = &rest[open + PLACEHOLDER_OPEN.len()..];
        let Some(close) = after.find(PLACEHOLDER_CLOSE) else {
            break;
        };
        let end = open + PLACEHOLDER_OPEN.len() + close + PLACEHOLDER_CLOSE.len();
        let name = after[..close].trim();
        if is_variable_name(name) {
            pieces.push(Piece::Text(&rest[..open]));
            pieces.push(Piece::Variable(name));
        } else {
            pieces.push(Piece::Text(&rest[..end]));
        }
        rest = &rest[end..];
    }
    pieces.push(Piece::Text(rest));
    pieces
}

/// Whether `name` (already trimmed) may be a variable name.
fn is_variable_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
}

/// `template` with every `{{ name }}` replaced by its value in `vars`, or the names that have
/// no value.
pub fn render(template: &str, vars: &BTreeMap<String, String>) -> Result<String, MissingVariables> {
    let mut out = String::with_capacity(template.len());
    let mut missing: Vec<String> = Vec::new();
    for piece in pieces(template) {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Variable(name) => match vars.get(name) {
                Some(value) => out.push_str(value),
                None if missing.iter().any(|m| m == name) => {}
                None => missing.push(name.to_owned()),
            },
        }
    }
    if missing.is_empty() {
        Ok(out)
    } else {
        Err(MissingVariables(missing))
    }
}

/// Whether the system fills `name` in.
pub fn is_system_variable(name: &str) -> bool {
    SYSTEM_VARIABLES.contains(&name)
}

/// The variables that `sections` use and the system does not fill in: a campaign using this
/// prompt must define each of them.
pub fn custom_variables(sections: &PromptSections) -> BTreeSet<String> {
    sections
        .variables()
        .into_iter()
        .filter(|name| !is_system_variable(name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sections_with_context(context: &str) -> PromptSections {
        PromptSections {
            context: context.to_owned(),
            ..PromptSections::default()
        }
    }

    #[test]
    fn legacy_types_map_to_messages() {
        assert_eq!(
            PromptType::from_request("message"),
            Some(PromptType::Messages)
        );
        assert_eq!(
            PromptType::from_request("invitation"),
            Some(PromptType::Messages)
        );
        assert_eq!(
            PromptType::from_request("Messages"),
            Some(PromptType::Messages)
        );
        assert_eq!(
            PromptType::from_request("Comment"),
            Some(PromptType::Comment)
        );
        assert_eq!(PromptType::from_request("messages"), None);
    }

    #[test]
    fn variables_are_found_in_every_section() {
        let sections = PromptSections {
            context: "Sell {{ offeringDescription }} to {{prospectDescription}}".into(),
            first_message: "Hi {{prospectName}}".into(),
            follow_ups: vec![FollowUp {
                prompt: "About {{goal}}".into(),
                delay: 3,
            }],
            ..PromptSections::default()
        };
        let vars: Vec<String> = sections.variables().into_iter().collect();
        assert_eq!(
            vars,
            [
                "goal",
                "offeringDescription",
                "prospectDescription",
                "prospectName"
            ]
        );
        assert!(sections.missing_mandatory_variables().is_empty());
        assert_eq!(template_variables("{{ unclosed"), Vec::<String>::new());
        assert_eq!(template_variables("{{two words}}"), Vec::<String>::new());
    }

    #[test]
    fn omitted_fields_are_kept() {
        let stored = PromptSections {
            first_message: "Hello".into(),
            follow_up_enabled: true,
            ..sections_with_context("ctx")
        };
        let merged = stored
            .merged(
                PromptType::Messages,
                SectionsPatch {
                    context: Some("new".into()),
                    ..SectionsPatch::default()
                },
            )
            .unwrap();
        assert_eq!(merged.context, "new");
        assert_eq!(merged.first_message, "Hello");
        assert!(merged.follow_up_enabled);
    }

    #[test]
    fn follow_up_rules() {
        let stored = PromptSections::default();
        let too_many = vec![
            FollowUp {
                prompt: "x".into(),
                delay: 3
            };
            4
        ];
        let patch = SectionsPatch {
            follow_ups: Some(too_many),
            ..SectionsPatch::default()
        };
        assert!(stored.merged(PromptType::Messages, patch).is_err());
        for delay in [0, 31, -1] {
            let patch = SectionsPatch {
                follow_ups: Some(vec![FollowUp {
                    prompt: "x".into(),
                    delay,
                }]),
                ..SectionsPatch::default()
            };
            assert!(
                stored.merged(PromptType::Messages, patch).is_err(),
                "delay {delay}"
            );
        }
        for delay in [1, 30] {
            let patch = SectionsPatch {
                follow_ups: Some(vec![FollowUp {
                    prompt: "x".into(),
                    delay,
                }]),
                ..SectionsPatch::default()
            };
            assert!(
                stored.merged(PromptType::Messages, patch).is_ok(),
                "delay {delay}"
            );
        }
    }

    #[test]
    fn mandatory_variables_cannot_be_removed() {
        let stored = sections_with_context("{{prospectDescription}} {{offeringDescription}}");
        let patch = SectionsPatch {
            context: Some("{{prospectDescription}} only".into()),
            ..SectionsPatch::default()
        };
        let problems = stored.merged(PromptType::Messages, patch).unwrap_err();
        assert!(problems[0].message.contains("offeringDescription"));
        let moved = SectionsPatch {
            context: Some("{{prospectDescription}}".into()),
            first_message: Some("{{offeringDescription}}".into()),
            ..SectionsPatch::default()
        };
        assert!(stored.merged(PromptType::Messages, moved).is_ok());
    }

    #[test]
    fn comment_section_only_on_comment_prompts() {
        let patch = SectionsPatch {
            comment: Some("Nice post".into()),
            ..SectionsPatch::default()
        };
        assert!(
            PromptSections::default()
                .merged(PromptType::Messages, patch.clone())
                .is_err()
        );
        assert!(
            PromptSections::default()
                .merged(PromptType::Comment, patch)
                .is_ok()
        );
    }
}

#[cfg(test)]
mod render_tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn replaces_placeholders_with_or_without_spaces() {
        let values = vars(&[("prospectName", "Ada"), ("company", "Acme")]);
        let out = render(
            "Hi {{prospectName}} of {{ company }}, {{  prospectName\t}}!",
            &values,
        );
        assert_eq!(out, Ok("Hi Ada of Acme, Ada!".to_owned()));
    }

    #[test]
    fn unknown_names_are_listed_once_in_order() {
        let values = vars(&[("prospectName", "Ada")]);
        let err = render("{{goal}} {{prospectName}} {{budget}} {{goal}}", &values).unwrap_err();
        assert_eq!(err, MissingVariables(vec!["goal".into(), "budget".into()]));
        assert_eq!(err.to_string(), "unknown prompt variables: goal, budget");
    }

    #[test]
    fn non_placeholders_are_left_as_written() {
        let values = vars(&[("a", "1")]);
        for text in [
            "{{two words}} {{a}}",
            "{{}} {{a}}",
            "{{ a",
            "}} {{a}} {{",
            "{ {a} }",
            "{{{a}}}",
        ] {
            let expected = match text {
                "{{two words}} {{a}}" => "{{two words}} 1",
                "{{}} {{a}}" => "{{}} 1",
                "{{ a" => "{{ a",
                "}} {{a}} {{" => "}} 1 {{",
                "{ {a} }" => "{ {a} }",
                _ => "{{{a}}}",
            };
            assert_eq!(render(text, &values).as_deref(), Ok(expected), "{text}");
        }
    }

    #[test]
    fn render_finds_exactly_the_variables_of_template_variables() {
        for text in [
            "Hi {{prospectName}}, {{ offeringDescription }}",
            "{{ a {{b}} c}} {{d}}",
            "{{x.y}} {{_z}} {{élan}} {{bad-name}}",
            "no braces",
            "{{unclosed",
        ] {
            let mut found: Vec<String> = Vec::new();
            for piece in pieces(text) {
                if let Piece::Variable(name) = piece {
                    found.push(name.to_owned());
                }
            }
            assert_eq!(found, template_variables(text), "{text}");
        }
    }

    #[test]
    fn values_are_not_rendered_again() {
        let values = vars(&[("customData", "{{agentName}}")]);
        assert_eq!(
            render("{{customData}}", &values).as_deref(),
            Ok("{{agentName}}")
        );
    }

    #[test]
    fn system_values_fill_every_system_variable() {
        let system = SystemValues {
            prospect_name: "Ada Lovelace".into(),
            company: "Analytical Engines".into(),
            ..SystemValues::default()
        };
        let custom = vars(&[("goal", "more leads"), ("company", "ignored")]);
        let all = system.with_custom(&custom);
        for name in SYSTEM_VARIABLES {
            assert!(all.contains_key(name), "{name}");
        }
        assert_eq!(all["company"], "Analytical Engines");
        let text = "{{prospectName}} at {{company}} wants {{goal}}{{customData}}";
        assert_eq!(
            render(text, &all).as_deref(),
            Ok("Ada Lovelace at Analytical Engines wants more leads")
        );
    }

    #[test]
    fn custom_variables_exclude_system_ones() {
        let sections = PromptSections {
            context: "{{prospectDescription}} {{offeringDescription}} {{ tone }}".into(),
            first_message: "Hi {{prospectName}} from {{agentName}} about {{goal}}".into(),
            follow_ups: vec![FollowUp {
                prompt: "{{company}} {{customData}} {{deadline}}".into(),
                delay: 2,
            }],
            ..PromptSections::default()
        };
        let custom: Vec<String> = custom_variables(&sections).into_iter().collect();
        assert_eq!(custom, ["deadline", "goal", "tone"]);
        assert!(is_system_variable("agentName"));
        assert!(!is_system_variable("goal"));
    }
}
