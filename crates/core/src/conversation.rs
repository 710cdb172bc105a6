//! Conversations ("chats": one prospect in one campaign) and campaigns: status codes,
//! qualification, and the tally every campaign keeps of its conversations.
//!
//! The status codes are the table of Kakiyo's prospects-list page (0–7, 502–505). Campaign
//! counters are never recounted on a hot path: every change of a conversation applies
//! `ChatTally::of(after) - ChatTally::of(before)` to its campaign in the same transaction.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Conversation status codes.
pub mod status {
    pub const NOT_STARTED: i64 = 0;
    pub const INVITATION_SENT: i64 = 1;
    pub const INVITATION_ACCEPTED: i64 = 2;
    pub const CONTACTED: i64 = 3;
    pub const REPLIED: i64 = 4;
    pub const QUALIFIED: i64 = 5;
    pub const UNQUALIFIED: i64 = 6;
    pub const SKIPPED: i64 = 7;
    pub const INVITES_DISABLED: i64 = 502;
    pub const UNREACHABLE: i64 = 503;
    pub const NO_LONGER_IN_NETWORK: i64 = 504;
    pub const INVITE_COOLDOWN: i64 = 505;

    /// Every defined code.
    pub const ALL: [i64; 12] = [
        NOT_STARTED,
        INVITATION_SENT,
        INVITATION_ACCEPTED,
        CONTACTED,
        REPLIED,
        QUALIFIED,
        UNQUALIFIED,
        SKIPPED,
        INVITES_DISABLED,
        UNREACHABLE,
        NO_LONGER_IN_NETWORK,
        INVITE_COOLDOWN,
    ];

    /// Whether the conversation has ended (no more work for the AI).
    pub fn is_finished(code: i64) -> bool {
        matches!(code, QUALIFIED | UNQUALIFIED | SKIPPED) || code >= INVITES_DISABLED
    }

    /// Whether the conversation ended without a qualification ("closed").
    pub fn is_closed(code: i64) -> bool {
        matches!(code, UNQUALIFIED | SKIPPED) || code >= INVITES_DISABLED
    }
}

/// The AI's (or a human's) verdict on a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum Qualification {
    InProgress,
    NeedVerification,
    Qualified,
    Unqualified,
}

/// The coarse vocabulary of search and analytics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CoarseQualification {
    Pending,
    Qualified,
    Disqualified,
}

impl Qualification {
    pub const ALL: [Qualification; 4] = [
        Qualification::InProgress,
        Qualification::NeedVerification,
        Qualification::Qualified,
        Qualification::Unqualified,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Qualification::InProgress => "inProgress",
            Qualification::NeedVerification => "needVerification",
            Qualification::Qualified => "qualified",
            Qualification::Unqualified => "unqualified",
        }
    }

    pub fn parse(value: &str) -> Option<Qualification> {
        Qualification::ALL.into_iter().find(|q| q.as_str() == value)
    }

    /// `pending` (in progress or awaiting review), `qualified` or `disqualified`.
    pub fn coarse(self) -> CoarseQualification {
        match self {
            Qualification::InProgress | Qualification::NeedVerification => {
                CoarseQualification::Pending
            }
            Qualification::Qualified => CoarseQualification::Qualified,
            Qualification::Unqualified => CoarseQualification::Disqualified,
        }
    }

    /// The verdict for a fit score 0–100 against a campaign's two thresholds.
    pub fn for_score(score: i64, automatic: i64, verification: i64) -> Qualification {
        if score >= automatic {
            Qualification::Qualified
        } else if score >= verification {
            Qualification::NeedVerification
        } else {
            Qualification::Unqualified
        }
    }
}

impl CoarseQualification {
    /// The fine values a coarse one stands for.
    pub fn members(self) -> &'static [Qualification] {
        match self {
            CoarseQualification::Pending => {
                &[Qualification::InProgress, Qualification::NeedVerification]
            }
            CoarseQualification::Qualified => &[Qualification::Qualified],
            CoarseQualification::Disqualified => &[Qualification::Unqualified],
        }
    }
}

/// What one conversation contributes to its campaign's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChatTally {
    pub prospects: i64,
    pub answers: i64,
    pub messages: i64,
    pub qualified: i64,
    pub closed: i64,
}

impl ChatTally {
    /// The tally of a conversation in this state; `messages` counts the agent's messages.
    pub fn of(
        status_code: i64,
        qualification: Qualification,
        has_responded: bool,
        messages_sent: i64,
    ) -> Self {
        ChatTally {
            prospects: 1,
            answers: i64::from(has_responded),
            messages: messages_sent,
            qualified: i64::from(qualification == Qualification::Qualified),
            closed: i64::from(status::is_closed(status_code)),
        }
    }

    /// `self - before`: what to add to the campaign when a conversation changes.
    pub fn minus(self, before: ChatTally) -> ChatTally {
        ChatTally {
            prospects: self.prospects - before.prospects,
            answers: self.answers - before.answers,
            messages: self.messages - before.messages,
            qualified: self.qualified - before.qualified,
            closed: self.closed - before.closed,
        }
    }

    /// `-self`: what to add when the conversation is deleted.
    pub fn negated(self) -> ChatTally {
        ChatTally::default().minus(self)
    }

    pub fn is_zero(self) -> bool {
        self == ChatTally::default()
    }
}

/// A campaign's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CampaignStatus {
    Draft,
    Active,
    Paused,
    Completed,
}

impl CampaignStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignStatus::Draft => "draft",
            CampaignStatus::Active => "active",
            CampaignStatus::Paused => "paused",
            CampaignStatus::Completed => "completed",
        }
    }

    pub fn parse(value: &str) -> Option<CampaignStatus> {
        [
            CampaignStatus::Draft,
            CampaignStatus::Active,
            CampaignStatus::Paused,
            CampaignStatus::Completed,
        ]
        .into_iter()
        .find(|s| s.as_str() == value)
    }
}

/// Campaign name bounds, in characters.
pub const CAMPAIGN_NAME_LEN: (usize, usize) = (3, 100);
/// Qualification thresholds are percentages.
pub const THRESHOLD_RANGE: (i64, i64) = (0, 100);
/// Default thresholds.
pub const DEFAULT_AUTOMATIC_THRESHOLD: i64 = 70;
pub const DEFAULT_VERIFICATION_THRESHOLD: i64 = 50;
/// Longest `customData`, in characters; longer input is truncated.
pub const MAX_CUSTOM_DATA_LEN: usize = 3000;

/// Longest prospect name, in characters.
pub const MAX_PROSPECT_NAME_LEN: usize = 200;

/// Checks a prospect to import, whichever door it came through: a name and a URL (trimmed,
/// within their lengths; whether the URL is a LinkedIn profile is the import's verdict, not a
/// refusal) and `customData` within [`MAX_CUSTOM_DATA_LEN`]. Problems are recorded under
/// `prefix` (`""`, `prospects[3].`, `row 4: `).
pub fn check_prospect(
    problems: &mut crate::validation::Problems,
    prefix: &str,
    name: &str,
    url: &str,
    custom_data: &str,
) {
    let name = name.trim();
    if name.is_empty() {
        problems.add(format!("{prefix}name"), "The name field is required");
    } else {
        problems.check_len(&format!("{prefix}name"), name, 1, MAX_PROSPECT_NAME_LEN);
    }
    let url = url.trim();
    if url.is_empty() {
        problems.add(format!("{prefix}url"), "The url field is required");
    } else {
        problems.check_len(&format!("{prefix}url"), url, 1, crate::dnc::MAX_URL_LEN);
    }
    if custom_data.chars().count() > MAX_CUSTOM_DATA_LEN {
        problems.add(
            format!("{prefix}customData"),
            format!("The customData field must be at most {MAX_CUSTOM_DATA_LEN} characters long"),
        );
    }
}

/// `value` cut to [`MAX_CUSTOM_DATA_LEN`] characters.
pub fn truncate_custom_data(value: &str) -> String {
    value.chars().take(MAX_CUSTOM_DATA_LEN).collect()
}

/// A rate as Kakiyo's stats show it: `"12.00%"`; zero when the denominator is zero.
pub fn percent_string(numerator: i64, denominator: i64) -> String {
    format!("{:.2}%", percent(numerator, denominator))
}

/// `numerator / denominator × 100`, rounded to 2 decimals; zero when the denominator is zero.
pub fn percent(numerator: i64, denominator: i64) -> f64 {
    ratio(numerator * 100, denominator)
}

/// `numerator / denominator`, rounded to 2 decimals; zero when the denominator is zero.
#[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
pub fn ratio(numerator: i64, denominator: i64) -> f64 {
    if denominator == 0 {
        return 0.0;
    }
    (numerator as f64 / denominator as f64 * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualification_by_score_uses_both_thresholds() {
        assert_eq!(
            Qualification::for_score(70, 70, 50),
            Qualification::Qualified
        );
        assert_eq!(
            Qualification::for_score(69, 70, 50),
            Qualification::NeedVerification
        );
        assert_eq!(
            Qualification::for_score(50, 70, 50),
            Qualification::NeedVerification
        );
        assert_eq!(
            Qualification::for_score(49, 70, 50),
            Qualification::Unqualified
        );
    }

    #[test]
    fn coarse_vocabulary() {
        assert_eq!(
            Qualification::InProgress.coarse(),
            CoarseQualification::Pending
        );
        assert_eq!(
            Qualification::NeedVerification.coarse(),
            CoarseQualification::Pending
        );
        assert_eq!(
            Qualification::Qualified.coarse(),
            CoarseQualification::Qualified
        );
        assert_eq!(
            Qualification::Unqualified.coarse(),
            CoarseQualification::Disqualified
        );
        for q in Qualification::ALL {
            assert_eq!(Qualification::parse(q.as_str()), Some(q));
            assert!(q.coarse().members().contains(&q));
        }
    }

    #[test]
    fn tallies_add_up() {
        let new = ChatTally::of(status::NOT_STARTED, Qualification::InProgress, false, 0);
        assert_eq!(
            new,
            ChatTally {
                prospects: 1,
                ..ChatTally::default()
            }
        );
        let replied = ChatTally::of(status::QUALIFIED, Qualification::Qualified, true, 3);
        let delta = replied.minus(new);
        assert_eq!(
            delta,
            ChatTally {
                prospects: 0,
                answers: 1,
                messages: 3,
                qualified: 1,
                closed: 0
            }
        );
        let closed = ChatTally::of(status::UNQUALIFIED, Qualification::Unqualified, true, 3);
        assert_eq!(closed.closed, 1);
        assert_eq!(replied.negated().prospects, -1);
        assert!(new.minus(new).is_zero());
    }

    #[test]
    fn rates() {
        assert_eq!(percent_string(10, 200), "5.00%");
        assert_eq!(percent_string(0, 0), "0.00%");
        assert_eq!(percent_string(1, 3), "33.33%");
        assert!((percent(2, 3) - 66.67).abs() < 1e-9);
        assert!((ratio(410, 200) - 2.05).abs() < 1e-9);
        assert_eq!(ratio(5, 0), 0.0);
    }

    #[test]
    fn finished_and_closed_codes() {
        assert!(status::is_finished(status::QUALIFIED));
        assert!(!status::is_closed(status::QUALIFIED));
        assert!(status::is_closed(status::UNREACHABLE));
        assert!(!status::is_finished(status::REPLIED));
        assert_eq!(
            truncate_custom_data(&"é".repeat(3005)).chars().count(),
            3000
        );
    }
}
