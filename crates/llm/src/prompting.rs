//! The words that network models get and how their answers are read back.
//!
//! Rules:
//! - a generation is the system part, the conversation as chat turns (the agent is the
//!   assistant, the prospect the user) and a final task message that states the purpose and
//!   the campaign's instruction; the answer must be the message text alone;
//! - a qualification is judged from a transcript in one user message, never as chat turns, so
//!   the model scores the conversation instead of continuing it;
//! - answers are read leniently (code fences, a leading `<think>` block, text around the JSON
//!   object) but a verdict outside 0–100 or without a reason is a [`LlmError::BadResponse`].

use serde_json::{Value, json};

use crate::types::{ChatTurn, GenerationRequest, Purpose, QualificationRequest, Role};
use crate::{INVITATION_NOTE_MAX_CHARS, LlmError};

/// The name of the structured output (OpenAI `json_schema`, Anthropic tool) of a verdict.
pub const QUALIFICATION_NAME: &str = "qualification";
/// Highest score.
pub const MAX_SCORE: u8 = 100;
/// Longest reason kept, in characters.
pub const MAX_REASON_CHARS: usize = 1000;
/// Temperature of message writing.
pub(crate) const GENERATION_TEMPERATURE: f64 = 0.7;
/// Temperature of qualification: as repeatable as the model allows.
pub(crate) const QUALIFICATION_TEMPERATURE: f64 = 0.0;
/// `max_tokens` of a qualification answer.
pub(crate) const QUALIFICATION_MAX_TOKENS: u32 = 512;
/// The system part used when a request brings none.
const DEFAULT_SYSTEM: &str = "You are a sales development representative who writes short, \
personal and honest LinkedIn messages.";
/// How the answer must look.
const MESSAGE_ONLY: &str = "Answer with the text of the message only: no subject line, no \
quotes, no placeholders, no commentary.";
/// Opening and closing tags of the reasoning some local models print before their answer.
const THINK_TAGS: (&str, &str) = ("<think>", "</think>");

/// The system part of a request, or the default one when it is blank.
pub(crate) fn system_or_default(system: &str) -> &str {
    if system.trim().is_empty() {
        DEFAULT_SYSTEM
    } else {
        system
    }
}

/// The last message of a generation: what to write, to whom, following which instruction.
pub(crate) fn generation_task(request: &GenerationRequest) -> String {
    let name = display_name(&request.prospect_name);
    let what = match request.purpose {
        Purpose::FirstMessage => {
            format!("Write the first LinkedIn message to {name}, who just accepted the invitation.")
        }
        Purpose::FollowUp(n) => format!(
            "Write follow-up message number {n} to {name}, who has not replied to the messages above."
        ),
        Purpose::Reply => {
            format!("Write the reply to the latest message of {name} in the conversation above.")
        }
        Purpose::InvitationNote => format!(
            "Write the note of a LinkedIn invitation to {name}, at most \
             {INVITATION_NOTE_MAX_CHARS} characters."
        ),
    };
    let mut task = what;
    let instruction = request.instruction.trim();
    if !instruction.is_empty() {
        task.push_str("\n\nInstructions of the campaign:\n");
        task.push_str(instruction);
    }
    task.push_str("\n\n");
    task.push_str(MESSAGE_ONLY);
    task
}

/// The prospect's name as addressed in instructions.
fn display_name(prospect_name: &str) -> &str {
    let name = prospect_name.trim();
    if name.is_empty() {
        "the prospect"
    } else {
        name
    }
}

/// The conversation as `Agent:` / `Prospect:` lines.
pub(crate) fn transcript(history: &[ChatTurn]) -> String {
    if history.is_empty() {
        return "(no messages yet)".to_owned();
    }
    history
        .iter()
        .map(|turn| {
            let who = match turn.role {
                Role::Assistant => "Agent",
                Role::User => "Prospect",
            };
            format!("{who}: {}", turn.content.trim())
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// How the verdict must come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VerdictOutput {
    /// As a JSON object in the text.
    Json,
    /// Through the qualification tool.
    Tool,
}

/// The user message of a qualification: transcript, criteria, scale and output format.
pub(crate) fn qualification_task(request: &QualificationRequest, output: VerdictOutput) -> String {
    let criteria = request.criteria.trim();
    let criteria = if criteria.is_empty() {
        "The prospect shows interest in the offering and fits it."
    } else {
        criteria
    };
    let answer = match output {
        VerdictOutput::Json => {
            "Respond with a JSON object only, exactly of the form \
             {\"score\": <integer from 0 to 100>, \"reason\": \"<one or two sentences>\"}."
        }
        VerdictOutput::Tool => "Record your verdict with the qualification tool.",
    };
    format!(
        "Here is a LinkedIn conversation between our agent and a prospect.\n\n\
         <conversation>\n{}\n</conversation>\n\n\
         Qualification criteria:\n{criteria}\n\n\
         Score from 0 to 100 how well the prospect is qualified according to the criteria and \
         what the prospect wrote: 100 means clearly qualified and interested, 0 clearly not. \
         Give the reason in one or two sentences.\n\n{answer}",
        transcript(&request.history)
    )
}

/// The JSON schema of a verdict: `{score: integer 0–100, reason: string}`, nothing else.
pub fn qualification_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "score": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_SCORE,
                "description": "0 = clearly not qualified, 100 = clearly qualified"
            },
            "reason": {
                "type": "string",
                "description": "Why, in one or two sentences"
            }
        },
        "required": ["score", "reason"],
        "additionalProperties": false
    })
}

/// A verdict from free text holding a JSON object.
pub(crate) fn parse_verdict_text(text: &str) -> Result<(u8, String), LlmError> {
    let text = strip_thinking(text);
    let (Some(start), Some(end)) = (text.find('{'), text.rfind('}')) else {
        return Err(LlmError::BadResponse(format!(
            "expected a JSON verdict, got `{}`",
            crate::http::snippet(text)
        )));
    };
    if end < start {
        return Err(LlmError::BadResponse("malformed JSON verdict".into()));
    }
    let value: Value = serde_json::from_str(&text[start..=end])
        .map_err(|e| LlmError::BadResponse(format!("verdict is not valid JSON: {e}")))?;
    parse_verdict_value(&value)
}

/// A verdict from a JSON object `{score, reason}`.
pub(crate) fn parse_verdict_value(value: &Value) -> Result<(u8, String), LlmError> {
    let score = value
        .get("score")
        .ok_or_else(|| LlmError::BadResponse("verdict without a score".into()))?;
    let score = score_of(score)?;
    let reason = value
        .get("reason")
        .and_then(Value::as_str)
        .ok_or_else(|| LlmError::BadResponse("verdict without a reason".into()))?;
    Ok((score, truncate_chars(reason.trim(), MAX_REASON_CHARS)))
}

/// A score in 0–100 from a JSON number (a float is rounded).
fn score_of(value: &Value) -> Result<u8, LlmError> {
    let out_of_range = || LlmError::BadResponse(format!("score {value} is not in 0–{MAX_SCORE}"));
    if let Some(n) = value.as_u64() {
        return u8::try_from(n)
            .ok()
            .filter(|s| *s <= MAX_SCORE)
            .ok_or_else(out_of_range);
    }
    let Some(f) = value.as_f64() else {
        return Err(LlmError::BadResponse(format!(
            "score {value} is not a number"
        )));
    };
    if !(0.0..=f64::from(MAX_SCORE)).contains(&f) {
        return Err(out_of_range());
    }
    // In range 0–100 after the check above, so the cast is exact.
    #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let rounded = f.round() as u8;
    Ok(rounded)
}

/// A model's message made ready to send: reasoning, fences and wrapping quotes removed.
pub(crate) fn clean_message(text: &str) -> Result<String, LlmError> {
    let mut text = strip_thinking(text).trim();
    for quote in ['"', '“'] {
        let close = if quote == '“' { '”' } else { quote };
        if text.len() > 1 && text.starts_with(quote) && text.ends_with(close) {
            text = text[quote.len_utf8()..text.len() - close.len_utf8()].trim();
        }
    }
    if text.is_empty() {
        return Err(LlmError::BadResponse(
            "the model wrote an empty message".into(),
        ));
    }
    Ok(text.to_owned())
}

/// `text` without a leading `<think>…</think>` block.
fn strip_thinking(text: &str) -> &str {
    let (open, close) = THINK_TAGS;
    let trimmed = text.trim_start();
    if trimmed.starts_with(open)
        && let Some(end) = trimmed.find(close)
    {
        return &trimmed[end + close.len()..];
    }
    text
}

/// At most `max` characters of `text`, cut at a character boundary.
pub(crate) fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => text[..cut].to_owned(),
        None => text.to_owned(),
    }
}

/// A rough token count of `texts`: one token per word.
pub(crate) fn estimate_tokens<'a>(texts: impl IntoIterator<Item = &'a str>) -> u32 {
    let words: usize = texts
        .into_iter()
        .map(|text| text.split_whitespace().count())
        .sum();
    u32::try_from(words).unwrap_or(u32::MAX)
}

/// The words of a whole generation request, for estimates.
pub(crate) fn generation_input_tokens(request: &GenerationRequest) -> u32 {
    estimate_tokens(
        [request.system.as_str(), request.instruction.as_str()]
            .into_iter()
            .chain(request.history.iter().map(|t| t.content.as_str())),
    )
}

/// The words of a whole qualification request, for estimates.
pub(crate) fn qualification_input_tokens(request: &QualificationRequest) -> u32 {
    estimate_tokens(
        [request.system.as_str(), request.criteria.as_str()]
            .into_iter()
            .chain(request.history.iter().map(|t| t.content.as_str())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(purpose: Purpose, instruction: &str) -> GenerationRequest {
        GenerationRequest {
            purpose,
            system: String::new(),
            instruction: instruction.into(),
            history: vec![],
            prospect_name: "Ada Lovelace".into(),
            offering: String::new(),
            max_tokens: 0,
        }
    }

    #[test]
    fn tasks_state_the_purpose_and_the_instruction() {
        let first = generation_task(&request(Purpose::FirstMessage, "Mention {{nothing}}"));
        assert!(first.contains("first LinkedIn message to Ada Lovelace"));
        assert!(first.contains("Instructions of the campaign:\nMention {{nothing}}"));
        let follow = generation_task(&request(Purpose::FollowUp(2), ""));
        assert!(follow.contains("follow-up message number 2"));
        assert!(!follow.contains("Instructions"));
        let note = generation_task(&request(Purpose::InvitationNote, ""));
        assert!(note.contains("at most 300 characters"));
    }

    #[test]
    fn verdicts_are_read_leniently_but_checked() {
        let ok = |t: &str| parse_verdict_text(t).unwrap();
        assert_eq!(
            ok(r#"{"score": 80, "reason": "Keen"}"#),
            (80, "Keen".into())
        );
        assert_eq!(
            ok("```json\n{\"score\": 79.6, \"reason\": \" Asked for a demo \"}\n```"),
            (80, "Asked for a demo".into())
        );
        assert_eq!(
            ok("<think>{\"score\": 1}</think> Sure: {\"score\": 0, \"reason\": \"No\"}"),
            (0, "No".into())
        );
        for bad in [
            "not json",
            r#"{"score": 150, "reason": "x"}"#,
            r#"{"score": -1, "reason": "x"}"#,
            r#"{"score": "80", "reason": "x"}"#,
            r#"{"score": 80}"#,
            r#"{"reason": "x"}"#,
            "} {",
            r#"{"score": 80, "reason": "x""#,
        ] {
            assert!(
                matches!(parse_verdict_text(bad), Err(LlmError::BadResponse(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn messages_are_cleaned() {
        assert_eq!(clean_message("  \"Hi Ada\" ").unwrap(), "Hi Ada");
        assert_eq!(clean_message("“Hi Ada”").unwrap(), "Hi Ada");
        assert_eq!(
            clean_message("<think>hmm</think>\nHi Ada").unwrap(),
            "Hi Ada"
        );
        assert_eq!(clean_message("\"").unwrap(), "\"");
        assert!(clean_message("  ").is_err());
        assert!(clean_message("<think>only thoughts</think>").is_err());
    }

    #[test]
    fn transcripts_name_the_speakers() {
        let history = [ChatTurn::assistant("Hi"), ChatTurn::user(" Hello ")];
        assert_eq!(transcript(&history), "Agent: Hi\nProspect: Hello");
        assert_eq!(transcript(&[]), "(no messages yet)");
    }

    #[test]
    fn schema_requires_both_fields() {
        let schema = qualification_schema();
        assert_eq!(schema["required"], json!(["score", "reason"]));
        assert_eq!(schema["additionalProperties"], json!(false));
        assert_eq!(schema["properties"]["score"]["maximum"], json!(100));
    }
}
