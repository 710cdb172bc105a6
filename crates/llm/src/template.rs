//! The offline `template` model: the embedded default, deterministic and without network.
//!
//! Rules:
//! - first messages, follow-ups and invitation notes are the rendered prompt section itself
//!   (the `instruction`); an empty section gets a short default greeting naming the prospect
//!   and the offering. Invitation notes are cut to [`INVITATION_NOTE_MAX_CHARS`];
//! - a reply answers the intent of the prospect's latest message ([`classify_intent`]):
//!   interest → propose a short call; a question → the first sentences of the offering and a
//!   call; not now → ask when to follow up; not interested or opt-out → a polite close;
//! - qualification scores the conversation: an opt-out anywhere scores [`SCORE_OPT_OUT`];
//!   otherwise the latest reply decides (interested > question > not now > unclear >
//!   not interested), and no reply at all scores [`SCORE_NO_REPLY`]; the criteria are not read.
//!   With the default thresholds (70 / 50) interest qualifies, a question needs verification
//!   and the rest is unqualified;
//! - token usage is estimated as one token per word;
//! - the same request always gives the same answer.

use async_trait::async_trait;

use crate::intent::{Intent, classify_intent};
use crate::prompting::{estimate_tokens, generation_input_tokens, qualification_input_tokens};
use crate::types::{
    ChatTurn, Generation, GenerationRequest, INVITATION_NOTE_MAX_CHARS, Purpose,
    QualificationRequest, Role, TokenUsage, Verdict,
};
use crate::{LanguageModel, LlmError};

/// Score of a prospect whose latest reply shows interest.
pub const SCORE_INTERESTED: u8 = 85;
/// Score of a prospect whose latest reply asks a question.
pub const SCORE_QUESTION: u8 = 60;
/// Score of a reply that is neither interest, question nor refusal.
pub const SCORE_UNCLEAR: u8 = 40;
/// Score of a prospect who asked to be contacted later.
pub const SCORE_NOT_NOW: u8 = 45;
/// Score of a prospect who has not replied.
pub const SCORE_NO_REPLY: u8 = 30;
/// Score of a prospect who declined.
pub const SCORE_NOT_INTERESTED: u8 = 10;
/// Score of a prospect who asked not to be contacted again.
pub const SCORE_OPT_OUT: u8 = 5;
/// Sentences of the offering quoted when answering a question.
const OFFERING_SENTENCES: usize = 2;
/// Characters of the prospect's reply quoted in a verdict's reason.
const QUOTE_CHARS: usize = 80;
/// How a prospect without a name is greeted.
const NO_NAME: &str = "there";

/// The offline model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TemplateModel;

impl TemplateModel {
    /// The message for `request`.
    pub fn write(&self, request: &GenerationRequest) -> String {
        let name = first_name(&request.prospect_name);
        let instruction = request.instruction.trim();
        match request.purpose {
            Purpose::Reply => reply(name, &request.offering, &request.history),
            Purpose::InvitationNote => {
                let note = if instruction.is_empty() {
                    format!("Hi {name}, I'd be glad to connect and exchange ideas.")
                } else {
                    instruction.to_owned()
                };
                cut_at_word(&note, INVITATION_NOTE_MAX_CHARS)
            }
            _ if !instruction.is_empty() => instruction.to_owned(),
            Purpose::FirstMessage => first_message(name, &request.offering),
            Purpose::FollowUp(_) => format!(
                "Hi {name}, just following up on my previous message. Would a short call \
                 this week make sense?"
            ),
        }
    }

    /// The score and its reason for `history`.
    pub fn judge(&self, history: &[ChatTurn]) -> (u8, String) {
        let replies: Vec<&str> = history
            .iter()
            .filter(|t| t.role == Role::User)
            .map(|t| t.content.as_str())
            .collect();
        if let Some(opt_out) = replies
            .iter()
            .find(|r| classify_intent(r) == Intent::OptOut)
        {
            return (
                SCORE_OPT_OUT,
                format!(
                    "The prospect asked not to be contacted again (\"{}\").",
                    quote(opt_out)
                ),
            );
        }
        let Some(last) = replies.last() else {
            return (
                SCORE_NO_REPLY,
                "The prospect has not replied yet.".to_owned(),
            );
        };
        let (score, signal) = match classify_intent(last) {
            Intent::Interested => (SCORE_INTERESTED, "shows interest"),
            Intent::Question => (SCORE_QUESTION, "asks a question"),
            Intent::Unclear => (SCORE_UNCLEAR, "shows no clear intent"),
            Intent::NotNow => (SCORE_NOT_NOW, "asks to be contacted later"),
            Intent::NotInterested | Intent::OptOut => (SCORE_NOT_INTERESTED, "declines"),
        };
        (
            score,
            format!(
                "The prospect's latest reply {signal} (\"{}\").",
                quote(last)
            ),
        )
    }
}

/// The first word of a name, or a neutral greeting.
fn first_name(full: &str) -> &str {
    full.split_whitespace().next().unwrap_or(NO_NAME)
}

/// The default first message.
fn first_message(name: &str, offering: &str) -> String {
    let summary = first_sentences(offering, 1);
    if summary.is_empty() {
        format!("Hi {name}, thanks for connecting! Would you be open to a short chat?")
    } else {
        format!(
            "Hi {name}, thanks for connecting! {summary} Would you be open to a short chat \
             about it?"
        )
    }
}

/// The answer to the prospect's latest message.
fn reply(name: &str, offering: &str, history: &[ChatTurn]) -> String {
    let last = history.iter().rev().find(|t| t.role == Role::User);
    let intent = last.map_or(Intent::Unclear, |t| classify_intent(&t.content));
    let summary = first_sentences(offering, OFFERING_SENTENCES);
    match intent {
        Intent::Interested => format!(
            "Great to hear, {name}! Would a 15-minute call this week work for you? Tell me a \
             time that suits you and I'll send an invite."
        ),
        Intent::Question if summary.is_empty() => format!(
            "Good question, {name}. The details are easiest to cover live: would a 15-minute \
             call this week work for you?"
        ),
        Intent::Question => format!(
            "Good question, {name}. In short: {summary} Happy to go into the details on a \
             15-minute call, would that help?"
        ),
        Intent::NotNow => {
            format!("Totally understand, {name}. When would be a better time for me to follow up?")
        }
        Intent::NotInterested => format!(
            "Thanks for letting me know, {name}. I won't take more of your time. All the best!"
        ),
        Intent::OptOut => {
            format!("Understood, {name}. I won't contact you again. Sorry for the bother.")
        }
        Intent::Unclear if summary.is_empty() => format!(
            "Thanks for your reply, {name}! Would a short call be useful to see if we can help?"
        ),
        Intent::Unclear => format!(
            "Thanks for your reply, {name}! {summary} Would a short call be useful to see if \
             this fits?"
        ),
    }
}

/// The first `count` sentences of `text`, on one line.
fn first_sentences(text: &str, count: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut ends = 0;
    for (i, c) in flat.char_indices() {
        let at_end = i + c.len_utf8() == flat.len() || flat[i + c.len_utf8()..].starts_with(' ');
        if matches!(c, '.' | '!' | '?') && at_end {
            ends += 1;
            if ends == count {
                return flat[..i + c.len_utf8()].to_owned();
            }
        }
    }
    flat
}

/// `text` cut to at most `max` characters, at a word boundary when there is one.
fn cut_at_word(text: &str, max: usize) -> String {
    let Some((cut, _)) = text.char_indices().nth(max) else {
        return text.to_owned();
    };
    let head = &text[..cut];
    match head.rfind(char::is_whitespace) {
        Some(space) if space > 0 => head[..space].trim_end().to_owned(),
        _ => head.to_owned(),
    }
}

/// A short excerpt of a reply for a reason.
fn quote(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(QUOTE_CHARS) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}

#[async_trait]
impl LanguageModel for TemplateModel {
    async fn generate(&self, request: &GenerationRequest) -> Result<Generation, LlmError> {
        let text = self.write(request);
        let usage = TokenUsage {
            input: generation_input_tokens(request),
            output: estimate_tokens([text.as_str()]),
        };
        Ok(Generation { text, usage })
    }

    async fn qualify(&self, request: &QualificationRequest) -> Result<Verdict, LlmError> {
        let (score, reason) = self.judge(&request.history);
        let usage = TokenUsage {
            input: qualification_input_tokens(request),
            output: estimate_tokens([reason.as_str()]),
        };
        Ok(Verdict {
            score,
            reason,
            usage,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFERING: &str = "Acme Leads finds B2B prospects. It books meetings on autopilot. \
                            Pricing starts at 99 USD.";

    fn request(purpose: Purpose, instruction: &str, history: Vec<ChatTurn>) -> GenerationRequest {
        GenerationRequest {
            purpose,
            system: "You sell Acme Leads.".into(),
            instruction: instruction.into(),
            history,
            prospect_name: "Ada Lovelace".into(),
            offering: OFFERING.into(),
            max_tokens: 0,
        }
    }

    fn reply_to(text: &str) -> String {
        let history = vec![
            ChatTurn::assistant("Hi Ada, want more leads?"),
            ChatTurn::user(text),
        ];
        TemplateModel.write(&request(Purpose::Reply, "", history))
    }

    fn score_of(replies: &[&str]) -> u8 {
        let mut history = vec![ChatTurn::assistant("Hi Ada")];
        history.extend(replies.iter().map(|r| ChatTurn::user(*r)));
        TemplateModel.judge(&history).0
    }

    #[test]
    fn sections_are_the_messages() {
        let first = request(Purpose::FirstMessage, "  Hi Ada, about leads…  ", vec![]);
        assert_eq!(TemplateModel.write(&first), "Hi Ada, about leads…");
        let follow = request(Purpose::FollowUp(2), "Any news, Ada?", vec![]);
        assert_eq!(TemplateModel.write(&follow), "Any news, Ada?");
    }

    #[test]
    fn empty_sections_get_a_default_greeting() {
        let first = TemplateModel.write(&request(Purpose::FirstMessage, "", vec![]));
        assert_eq!(
            first,
            "Hi Ada, thanks for connecting! Acme Leads finds B2B prospects. Would you be open \
             to a short chat about it?"
        );
        let follow = TemplateModel.write(&request(Purpose::FollowUp(1), " ", vec![]));
        assert!(follow.starts_with("Hi Ada, just following up"));
        let mut nameless = request(Purpose::InvitationNote, "", vec![]);
        nameless.prospect_name = "  ".into();
        assert!(TemplateModel.write(&nameless).starts_with("Hi there,"));
    }

    #[test]
    fn invitation_notes_fit_linkedin() {
        let long = "word ".repeat(100);
        let note = TemplateModel.write(&request(Purpose::InvitationNote, &long, vec![]));
        assert!(note.chars().count() <= INVITATION_NOTE_MAX_CHARS);
        assert!(note.ends_with("word"));
    }

    #[test]
    fn replies_follow_the_intent() {
        assert!(reply_to("Sounds great, let's talk").contains("15-minute call"));
        let answer = reply_to("How does it work?");
        assert!(
            answer.contains(
                "In short: Acme Leads finds B2B prospects. It books meetings on autopilot."
            )
        );
        assert!(!answer.contains("Pricing"));
        assert!(reply_to("Not now, maybe next quarter").contains("better time"));
        assert!(reply_to("Not interested").contains("won't take more of your time"));
        assert!(reply_to("Stop messaging me").contains("won't contact you again"));
        assert!(reply_to("Thanks for connecting").starts_with("Thanks for your reply, Ada!"));
    }

    #[test]
    fn same_input_same_output() {
        let history = vec![
            ChatTurn::assistant("Hi"),
            ChatTurn::user("What does it cost?"),
        ];
        let a = request(Purpose::Reply, "", history.clone());
        let b = request(Purpose::Reply, "", history);
        assert_eq!(TemplateModel.write(&a), TemplateModel.write(&b));
        let h = [ChatTurn::user("Sounds good")];
        assert_eq!(TemplateModel.judge(&h), TemplateModel.judge(&h));
    }

    #[test]
    fn scores_are_ordered_by_intent() {
        let interested = score_of(&["Yes, let's set up a call"]);
        let question = score_of(&["What does it cost?"]);
        let not_now = score_of(&["Not right now, ping me next month"]);
        let declined = score_of(&["Not interested, thanks"]);
        let opted_out = score_of(&["Yes tell me more", "Actually, remove me from your list"]);
        let silent = score_of(&[]);
        assert!(interested > question, "{interested} {question}");
        assert!(question > not_now);
        assert!(not_now > silent);
        assert!(silent > declined);
        assert!(declined > opted_out);
        assert_eq!(interested, SCORE_INTERESTED);
        assert_eq!(silent, SCORE_NO_REPLY);
    }

    #[test]
    fn an_opt_out_is_never_forgotten() {
        let (score, reason) = TemplateModel.judge(&[
            ChatTurn::user("Unsubscribe"),
            ChatTurn::assistant("Sorry!"),
            ChatTurn::user("Well actually, sounds interesting"),
        ]);
        assert_eq!(score, SCORE_OPT_OUT);
        assert!(reason.contains("not to be contacted"));
    }

    #[test]
    fn reasons_name_the_signal() {
        let (_, reason) = TemplateModel.judge(&[ChatTurn::user("What does it cost?")]);
        assert_eq!(
            reason,
            "The prospect's latest reply asks a question (\"What does it cost?\")."
        );
    }

    #[test]
    fn sentences_and_cuts() {
        assert_eq!(first_sentences("One. Two! Three?", 2), "One. Two!");
        assert_eq!(first_sentences("v1.2 is out. Yes.", 1), "v1.2 is out.");
        assert_eq!(first_sentences("No end", 2), "No end");
        assert_eq!(cut_at_word("abc def", 5), "abc");
        assert_eq!(cut_at_word("abcdef", 3), "abc");
        assert_eq!(cut_at_word("short", 10), "short");
    }
}
