//! Prompts: their type, their sections and the rules an update must keep.
//!
//! A prompt's text lives in sections (`context`, `firstMessage`, `followUps`, `comment`). An
//! update merges into the stored sections and is refused whole when the result breaks a rule:
//! more than [`MAX_FOLLOW_UPS`] follow-ups, a delay outside [`FOLLOW_UP_DELAY_DAYS`], or a
//! mandatory variable that the prompt had and the update removes.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use utoipa::ToSchema;

use crate::validation::Problems;

/// At most this many follow-ups.
pub const MAX_FOLLOW_UPS: usize = 3;
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
