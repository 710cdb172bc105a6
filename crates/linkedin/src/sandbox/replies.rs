//! How simulated prospects answer: whether, when and what, derived from the agent's messages.
//!
//! Rules:
//! - replies are a pure function of `(seed, slug, config, sent)`; whether and how the k-th
//!   message (in time order) is answered depends only on the messages up to k and the answers
//!   before it, so the replies dated up to a message never change when the agent sends more
//!   after it;
//! - a prospect answers a message at most once, strictly after it was sent;
//! - the first message is answered with `reply_rate`, a follow-up (no answer since the previous
//!   message) with `reply_rate × followup_reply_factor`, a message that continues a live
//!   conversation with `conversation_reply_rate`;
//! - the first reply carries the person's disposition (drawn from the interest mix), later ones
//!   are drawn afresh; after a "not interested" or "opt-out" reply the prospect is silent.

use super::config::SandboxConfig;
use super::people::first_name;
use crate::connector::SentRef;
use crate::hash::Hasher;
use outbound_core::time::Millis;

/// What a reply means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Intent {
    Interested,
    Question,
    NotNow,
    NotInterested,
    OptOut,
}

impl Intent {
    /// Whether the prospect stays silent after this reply.
    pub fn closes(self) -> bool {
        matches!(self, Self::NotInterested | Self::OptOut)
    }

    /// What a prospect of this intent writes; `{first}` is the prospect's first name.
    pub fn templates(self) -> &'static [&'static str] {
        match self {
            Self::Interested => &[
                "Thanks for reaching out! This actually sounds relevant for us right now. Could you send me a few more details?",
                "Hi, good timing, we were just discussing this internally. Happy to have a quick call next week.",
                "Interesting. How would this work for a team of our size? Open to a 20 minute chat.",
                "Sounds good. Can you share some case studies? If it fits I'll loop in my colleague.",
                "Hey, thanks. Yes, let's talk. What does your calendar look like on Thursday? {first}",
            ],
            Self::Question => &[
                "Thanks for the message. What does pricing look like?",
                "Hi! How is this different from what we already use?",
                "Can you tell me a bit more about how the onboarding works?",
                "Who else in our industry is using this?",
                "Does it integrate with our CRM? That would be the deciding factor for us.",
            ],
            Self::NotNow => &[
                "Thanks, but the timing isn't right. Maybe reach out again next quarter.",
                "Appreciate it. We're in the middle of budget planning, can we revisit in a couple of months?",
                "Not a priority for us at the moment, but I'll keep it in mind.",
                "Busy season here. Ping me again in the autumn? {first}",
                "Interesting, but we just signed with another vendor for this year.",
            ],
            Self::NotInterested => &[
                "Thanks, but we're not interested.",
                "Not relevant for us, sorry.",
                "We have this covered internally. Good luck though!",
                "No thank you.",
                "I don't think this is a fit for us. All the best.",
            ],
            Self::OptOut => &[
                "Please remove me from your list.",
                "Please don't message me again.",
                "Unsubscribe.",
                "Stop contacting me, thanks.",
                "Not interested, please take me off your outreach.",
            ],
        }
    }
}

/// The weights of what prospects mean when they answer; they need not sum to one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InterestMix {
    pub interested: f64,
    pub question: f64,
    pub not_now: f64,
    pub not_interested: f64,
    pub opt_out: f64,
}

impl Default for InterestMix {
    fn default() -> Self {
        Self {
            interested: 0.25,
            question: 0.25,
            not_now: 0.2,
            not_interested: 0.2,
            opt_out: 0.1,
        }
    }
}

impl InterestMix {
    fn weights(&self) -> [(Intent, f64); 5] {
        [
            (Intent::Interested, self.interested),
            (Intent::Question, self.question),
            (Intent::NotNow, self.not_now),
            (Intent::NotInterested, self.not_interested),
            (Intent::OptOut, self.opt_out),
        ]
    }

    /// The sum of the weights.
    pub fn total(&self) -> f64 {
        self.weights().iter().map(|(_, w)| w.max(0.0)).sum()
    }

    /// The intent at fraction `u` in `[0, 1)` of the weighted line.
    pub fn pick(&self, u: f64) -> Intent {
        let mut left = u * self.total();
        for (intent, weight) in self.weights() {
            let weight = weight.max(0.0);
            if left < weight {
                return intent;
            }
            left -= weight;
        }
        Intent::NotNow
    }
}

/// One derived answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Index (in time order) of the agent message it answers.
    pub answers: usize,
    pub intent: Intent,
    pub text: String,
    pub at: Millis,
    pub id: String,
}

/// Every reply the prospect `slug` (named `name`) ever makes to the messages `sent`, by time.
pub fn derive(
    seed: u64,
    config: &SandboxConfig,
    slug: &str,
    name: &str,
    sent: &[SentRef],
) -> Vec<Reply> {
    let mut messages: Vec<&SentRef> = sent.iter().collect();
    messages.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.text.cmp(&b.text)));
    let key = Hasher::new(seed).str(slug);
    let mut replies: Vec<Reply> = Vec::new();
    for (k, message) in messages.iter().enumerate() {
        let previous_at = k.checked_sub(1).map(|i| messages[i].at);
        let probability = answer_probability(config, previous_at, message.at, &replies);
        let k64 = k as u64;
        if key.str("reply").u64(k64).unit() >= probability {
            continue;
        }
        let intent = if replies.is_empty() {
            config.interest.pick(key.str("disposition").unit())
        } else {
            config.interest.pick(key.str("intent").u64(k64).unit())
        };
        let templates = intent.templates();
        let template = templates[key.str("template").u64(k64).index(templates.len())];
        replies.push(Reply {
            answers: k,
            intent,
            text: template.replace("{first}", first_name(name)),
            at: message.at
                + config
                    .reply_delay
                    .pick(key.str("reply-delay").u64(k64).unit()),
            id: format!("sbx-msg-{:016x}", key.str("reply-id").u64(k64).finish()),
        });
    }
    silence_after_closing(&mut replies);
    replies.sort_by(|a, b| a.at.cmp(&b.at).then(a.answers.cmp(&b.answers)));
    replies
}

fn answer_probability(
    config: &SandboxConfig,
    previous_at: Option<Millis>,
    at: Millis,
    replies: &[Reply],
) -> f64 {
    let Some(previous_at) = previous_at else {
        return config.reply_rate;
    };
    let live = replies.iter().any(|r| r.at > previous_at && r.at <= at);
    if live {
        config.conversation_reply_rate
    } else {
        config.reply_rate * config.followup_reply_factor
    }
}

/// Drops every reply later than the first closing one.
fn silence_after_closing(replies: &mut Vec<Reply>) {
    let closing = replies
        .iter()
        .filter(|r| r.intent.closes())
        .map(|r| r.at)
        .min();
    if let Some(closing) = closing {
        replies.retain(|r| r.at <= closing);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_picks_by_weight() {
        let mix = InterestMix::default();
        assert_eq!(mix.pick(0.0), Intent::Interested);
        assert_eq!(mix.pick(0.3), Intent::Question);
        assert_eq!(mix.pick(0.95), Intent::OptOut);
        let only_opt_out = InterestMix {
            interested: 0.0,
            question: 0.0,
            not_now: 0.0,
            not_interested: 0.0,
            opt_out: 1.0,
        };
        assert_eq!(only_opt_out.pick(0.5), Intent::OptOut);
    }

    #[test]
    fn every_template_is_filled() {
        for intent in [
            Intent::Interested,
            Intent::Question,
            Intent::NotNow,
            Intent::NotInterested,
            Intent::OptOut,
        ] {
            assert!(intent.templates().len() >= 5);
        }
    }
}
