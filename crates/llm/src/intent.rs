//! What a prospect's reply means, by simple keyword rules (English).
//!
//! Rule: the text is lower-cased, apostrophes are dropped and it is cut into words; a rule
//! matches when one of its phrases appears as whole consecutive words. Rules are tried from
//! the strongest signal to the weakest — opt-out, not interested, not now, interested,
//! question — so "not interested" never reads as "interested" and "not now, but what does it
//! cost?" reads as "not now". Having a tool already declines, unless the reply asks about it
//! ("how is this different from what we already use?" is a question). A reply that is just
//! "no" (or starts with it and matches nothing else) is "not interested"; anything else is
//! [`Intent::Unclear`].

/// What a reply says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Intent {
    /// Wants to talk or learn more.
    Interested,
    /// Asks something.
    Question,
    /// Maybe later.
    NotNow,
    /// Declines.
    NotInterested,
    /// Asks not to be contacted again.
    OptOut,
    /// None of the above.
    Unclear,
}

/// Phrases of an opt-out.
const OPT_OUT: &[&str] = &[
    "unsubscribe",
    "stop messaging",
    "stop contacting",
    "stop sending",
    "stop writing",
    "dont contact",
    "do not contact",
    "dont message",
    "do not message",
    "never contact",
    "remove me",
    "take me off",
    "leave me alone",
    "no more messages",
    "spam",
    "reported",
];
/// Phrases of a refusal.
const NOT_INTERESTED: &[&str] = &[
    "not interested",
    "no interest",
    "not interesting",
    "no thanks",
    "no thank you",
    "not for us",
    "not for me",
    "not a fit",
    "not a good fit",
    "not relevant",
    "were good",
    "we are good",
    "im good",
    "not looking",
    "pass on this",
    "ill pass",
    "well pass",
    "have this covered",
    "have that covered",
    "dont think this is",
    "dont need",
    "do not need",
    "no need",
    "no budget",
];
/// Phrases of a tool in place: a refusal, unless the reply is a question about it.
const ALREADY_SOLVED: &[&str] = &["already have", "already use", "already using"];
/// Phrases of a postponement.
const NOT_NOW: &[&str] = &[
    "not now",
    "not right now",
    "not at the moment",
    "not the right time",
    "bad time",
    "too busy",
    "swamped",
    "busy season",
    "later",
    "next month",
    "next quarter",
    "next year",
    "in a few weeks",
    "in a few months",
    "after the holidays",
    "after summer",
    "circle back",
    "reach out again",
    "check back",
    "maybe in",
    "ping me in",
    "ping me again",
    "revisit",
    "couple of months",
    "at the moment",
    "not a priority",
    "keep it in mind",
    "signed with",
    "for this year",
];
/// Phrases of interest.
const INTERESTED: &[&str] = &[
    "interested",
    "good timing",
    "sounds relevant",
    "sounds good",
    "sounds great",
    "sounds interesting",
    "interesting",
    "tell me more",
    "lets talk",
    "lets chat",
    "happy to chat",
    "happy to talk",
    "love to",
    "keen",
    "book a",
    "schedule",
    "set up a",
    "a call",
    "quick call",
    "a demo",
    "a meeting",
    "count me in",
    "when are you free",
    "im available",
    "yes",
    "sure",
    "absolutely",
    "definitely",
];
/// First words of a question.
const QUESTION_WORDS: &[&str] = &[
    "what", "how", "why", "when", "where", "which", "who", "does", "do", "is", "are", "can",
    "could", "would",
];
/// Phrases that ask even without a question mark.
const QUESTION_PHRASES: &[&str] = &[
    "pricing",
    "price",
    "cost",
    "how much",
    "more details",
    "more info",
    "more information",
];
/// Words that alone decline.
const BARE_NO: &[&str] = &["no", "nope", "nah"];

/// The intent of one reply.
pub fn classify_intent(text: &str) -> Intent {
    let words = words(text);
    let has = |phrases: &[&str]| phrases.iter().any(|p| contains_phrase(&words, p));
    if has(OPT_OUT) {
        Intent::OptOut
    } else if has(NOT_INTERESTED) || (has(ALREADY_SOLVED) && !is_question(text, &words)) {
        Intent::NotInterested
    } else if has(NOT_NOW) {
        Intent::NotNow
    } else if has(INTERESTED) {
        Intent::Interested
    } else if is_question(text, &words) {
        Intent::Question
    } else if words.first().is_some_and(|w| BARE_NO.contains(&w.as_str())) {
        Intent::NotInterested
    } else {
        Intent::Unclear
    }
}

/// Whether the reply asks something.
fn is_question(text: &str, words: &[String]) -> bool {
    text.contains('?')
        || words
            .first()
            .is_some_and(|w| QUESTION_WORDS.contains(&w.as_str()))
        || QUESTION_PHRASES.iter().any(|p| contains_phrase(words, p))
}

/// Lower-case words without apostrophes; anything that is not a letter or digit separates.
fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .replace(['\'', '’', '`'], "")
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Whether the words of `phrase` appear consecutively in `words`.
fn contains_phrase(words: &[String], phrase: &str) -> bool {
    let wanted: Vec<&str> = phrase.split(' ').collect();
    words
        .windows(wanted.len())
        .any(|window| window.iter().zip(&wanted).all(|(w, p)| w == p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intents_table() {
        let table: &[(&str, Intent)] = &[
            (
                "Sounds interesting, let's set up a call!",
                Intent::Interested,
            ),
            ("Yes, happy to chat next Tuesday", Intent::Interested),
            ("I'd love to see a demo", Intent::Interested),
            ("Tell me more.", Intent::Interested),
            ("What does it cost?", Intent::Question),
            ("How does it integrate with Salesforce", Intent::Question),
            ("Could you send pricing", Intent::Question),
            ("Not right now, maybe next quarter", Intent::NotNow),
            ("Not now, but what does it cost?", Intent::NotNow),
            ("We're swamped, ping me in a few weeks", Intent::NotNow),
            ("I'm not interested, thanks", Intent::NotInterested),
            ("Not interested.", Intent::NotInterested),
            ("No thanks, we already use HubSpot", Intent::NotInterested),
            ("We already have a tool for that", Intent::NotInterested),
            (
                "How is this different from what we already use?",
                Intent::Question,
            ),
            ("Happy to have a quick call next week", Intent::Interested),
            (
                "Interesting, but we just signed with another vendor",
                Intent::NotNow,
            ),
            ("No.", Intent::NotInterested),
            ("Nope", Intent::NotInterested),
            ("Please stop messaging me", Intent::OptOut),
            ("Remove me from your list. Not interested.", Intent::OptOut),
            ("Don’t contact me again", Intent::OptOut),
            ("UNSUBSCRIBE", Intent::OptOut),
            ("Thanks for connecting", Intent::Unclear),
            ("", Intent::Unclear),
            ("No problem, let's talk", Intent::Interested),
            ("Recall the meeting notes", Intent::Unclear),
        ];
        for (text, expected) in table {
            assert_eq!(classify_intent(text), *expected, "{text:?}");
        }
    }

    #[test]
    fn phrases_match_whole_words_only() {
        let w = words("the so-called recall");
        assert!(!contains_phrase(&w, "a call"));
        assert!(contains_phrase(&w, "so called"));
        assert!(!contains_phrase(&words("keenly"), "keen"));
    }
}
