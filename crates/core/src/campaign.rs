//! The rules a campaign's settings follow, whichever door they come through (`/v1`, MCP, the
//! dashboard): each check records its problems under the API's field names.
//!
//! - a name of [`CAMPAIGN_NAME_LEN`] characters (trimmed); product, prompt and agent given;
//! - thresholds within [`THRESHOLD_RANGE`];
//! - at most [`MAX_VARIABLES`] variables, names of 1–[`MAX_VARIABLE_NAME_LEN`] characters,
//!   values up to [`MAX_VARIABLE_VALUE_LEN`]; every custom `{{variable}}` of the prompt defined
//!   (the system variables need no definition);
//! - a review mode among [`ReviewMode`]'s names.

use std::collections::BTreeMap;

use crate::conversation::{CAMPAIGN_NAME_LEN, THRESHOLD_RANGE};
use crate::prompt::{PromptSections, custom_variables};
use crate::review::ReviewMode;
use crate::validation::Problems;

/// At most this many `variables`.
pub const MAX_VARIABLES: usize = 50;
/// Longest variable name, in characters.
pub const MAX_VARIABLE_NAME_LEN: usize = 64;
/// Longest variable value, in characters.
pub const MAX_VARIABLE_VALUE_LEN: usize = 1000;

/// Checks a campaign name (trimmed).
pub fn check_name(problems: &mut Problems, name: &str) {
    problems.check_len(
        "name",
        name.trim(),
        CAMPAIGN_NAME_LEN.0,
        CAMPAIGN_NAME_LEN.1,
    );
}

/// Checks a qualification threshold, when given.
pub fn check_threshold(problems: &mut Problems, field: &str, value: Option<i64>) {
    if let Some(value) = value {
        problems.check_range(field, value, THRESHOLD_RANGE.0, THRESHOLD_RANGE.1);
    }
}

/// Checks the shape of a campaign's variables.
pub fn check_variables(problems: &mut Problems, variables: &BTreeMap<String, String>) {
    if variables.len() > MAX_VARIABLES {
        problems.add(
            "variables",
            format!("At most {MAX_VARIABLES} variables are allowed"),
        );
    }
    for (name, value) in variables {
        let len = name.chars().count();
        if len == 0 || len > MAX_VARIABLE_NAME_LEN {
            problems.add(
                "variables",
                format!("Variable names must be 1 to {MAX_VARIABLE_NAME_LEN} characters long"),
            );
        }
        if value.chars().count() > MAX_VARIABLE_VALUE_LEN {
            problems.add(
                "variables",
                format!(
                    "The value of variable `{name}` must be at most {MAX_VARIABLE_VALUE_LEN} \
                     characters long"
                ),
            );
        }
    }
}

/// Checks that a reference (`productId`, `promptId`, `agentId`) is given.
pub fn check_reference(problems: &mut Problems, field: &str, id: &str) {
    if id.trim().is_empty() {
        problems.add(field, format!("The {field} field is required"));
    }
}

/// The review mode named by `value`, or a problem.
pub fn check_review_mode(problems: &mut Problems, value: Option<&str>) -> Option<ReviewMode> {
    let value = value?;
    let mode = ReviewMode::parse(value);
    if mode.is_none() {
        problems.add("reviewMode", "Must be one of off, first_message, all");
    }
    mode
}

/// Why `variables` cannot go with a prompt of these sections: the custom variables it uses and
/// `variables` does not define; `None` when all are defined.
pub fn undefined_variables(
    sections: &PromptSections,
    variables: &BTreeMap<String, String>,
) -> Option<String> {
    let undefined: Vec<String> = custom_variables(sections)
        .into_iter()
        .filter(|name| !variables.contains_key(name))
        .map(|name| format!("{{{{{name}}}}}"))
        .collect();
    (!undefined.is_empty()).then(|| {
        format!(
            "The prompt uses {} but variables does not define {}",
            undefined.join(", "),
            if undefined.len() == 1 { "it" } else { "them" }
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_shape_limits() {
        let mut problems = Problems::new();
        let mut variables: BTreeMap<String, String> = (0..=MAX_VARIABLES)
            .map(|i| (format!("v{i}"), "x".to_owned()))
            .collect();
        check_variables(&mut problems, &variables);
        assert!(!problems.is_empty());
        variables.clear();
        variables.insert(
            "k".repeat(MAX_VARIABLE_NAME_LEN),
            "é".repeat(MAX_VARIABLE_VALUE_LEN),
        );
        let mut problems = Problems::new();
        check_variables(&mut problems, &variables);
        assert!(problems.is_empty());
        variables.insert(String::new(), String::new());
        check_variables(&mut problems, &variables);
        assert!(!problems.is_empty());
    }
}
