//! The dashboard's figures: each campaign's funnel and a team's daily activity.
//!
//! Rule: both read a few rows per campaign or per day, never the conversations or messages
//! themselves, so a page costs the same at a million conversations:
//! - a funnel is a sum over `chat_counts` (migration 0010, kept by triggers). A conversation
//!   counts at every stage up to the one its status has reached (statuses only move forward):
//!   invited from `1` on, accepted from `2`, messaged from `3`; replied is `has_responded`,
//!   qualified the qualification. A conversation closed (`6`) counts as messaged, as closing
//!   follows a conversation in all but the rarest cases (a person disqualifying before any
//!   message);
//! - daily activity is `team_activity_days` (migration 0019, kept by triggers on messages and
//!   invitations), per UTC day.

use outbound_core::conversation::{Qualification, status};
use outbound_core::time::Millis;

use crate::{StoreError, StoreResult};

/// Milliseconds in a day.
const DAY_MS: Millis = 24 * 60 * 60 * 1000;

/// How far a campaign's conversations got.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Funnel {
    pub imported: i64,
    pub invited: i64,
    pub accepted: i64,
    pub messaged: i64,
    pub replied: i64,
    pub qualified: i64,
    /// Waiting for a person to qualify them.
    pub need_verification: i64,
    pub paused: i64,
}

impl Funnel {
    /// Adds `n` conversations of this status, qualification, response and pause.
    fn add(
        &mut self,
        code: i64,
        qualification: Qualification,
        responded: bool,
        paused: bool,
        n: i64,
    ) {
        self.imported += n;
        let reached = |stage: i64| match code {
            status::NO_LONGER_IN_NETWORK => stage <= status::INVITATION_ACCEPTED,
            status::INVITATION_SENT..=status::UNQUALIFIED => code >= stage,
            _ => false,
        };
        if reached(status::INVITATION_SENT) {
            self.invited += n;
        }
        if reached(status::INVITATION_ACCEPTED) {
            self.accepted += n;
        }
        if reached(status::CONTACTED) {
            self.messaged += n;
        }
        if responded {
            self.replied += n;
        }
        match qualification {
            Qualification::Qualified => self.qualified += n,
            Qualification::NeedVerification => self.need_verification += n,
            _ => {}
        }
        if paused {
            self.paused += n;
        }
    }

    /// The sum of two funnels.
    pub fn plus(self, other: Funnel) -> Funnel {
        Funnel {
            imported: self.imported + other.imported,
            invited: self.invited + other.invited,
            accepted: self.accepted + other.accepted,
            messaged: self.messaged + other.messaged,
            replied: self.replied + other.replied,
            qualified: self.qualified + other.qualified,
            need_verification: self.need_verification + other.need_verification,
            paused: self.paused + other.paused,
        }
    }
}

/// One campaign's funnel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignFunnel {
    pub campaign_id: String,
    pub funnel: Funnel,
}

/// One UTC day of a team.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActivityDay {
    /// Days since 1970-01-01.
    pub day: i64,
    pub invitations: i64,
    pub messages: i64,
    pub replies: i64,
}

#[async_trait::async_trait]
pub trait ActivityStore {
    /// The funnel of each campaign of `team` that has conversations (its own campaigns).
    async fn funnels(&self, team: &str) -> StoreResult<Vec<CampaignFunnel>>;
    /// The last `days` UTC days of `team` up to `now`'s, oldest first, every day present
    /// (zeros where nothing happened).
    async fn activity_days(
        &self,
        team: &str,
        now: Millis,
        days: i64,
    ) -> StoreResult<Vec<ActivityDay>>;
}

/// `days` consecutive days ending at `last`, filled from `rows` (day, invitations, messages,
/// replies).
fn fill_days(rows: &[(i64, i64, i64, i64)], last: i64, days: i64) -> Vec<ActivityDay> {
    (last - days + 1..=last)
        .map(|day| {
            rows.iter().find(|row| row.0 == day).map_or(
                ActivityDay {
                    day,
                    ..ActivityDay::default()
                },
                |row| ActivityDay {
                    day,
                    invitations: row.1,
                    messages: row.2,
                    replies: row.3,
                },
            )
        })
        .collect()
}

macro_rules! impl_activity_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl ActivityStore for $store {
            async fn funnels(&self, team: &str) -> StoreResult<Vec<CampaignFunnel>> {
                let groups = sqlx::query_as::<_, (String, i64, String, bool, bool, i64)>(
                    "SELECT campaign_id, status, qualification, has_responded, paused, \
                     CAST(SUM(n) AS BIGINT) FROM chat_counts WHERE team_id = $1 \
                     GROUP BY campaign_id, status, qualification, has_responded, paused \
                     ORDER BY campaign_id",
                )
                .bind(team)
                .fetch_all(&self.pool)
                .await?;
                let mut funnels: Vec<CampaignFunnel> = Vec::new();
                for (campaign_id, code, qualification, responded, paused, n) in groups {
                    let qualification = Qualification::parse(&qualification).ok_or_else(|| {
                        StoreError::Corrupt(format!("qualification {qualification}"))
                    })?;
                    if funnels
                        .last()
                        .is_none_or(|last| last.campaign_id != campaign_id)
                    {
                        funnels.push(CampaignFunnel {
                            campaign_id,
                            funnel: Funnel::default(),
                        });
                    }
                    if let Some(last) = funnels.last_mut() {
                        last.funnel.add(code, qualification, responded, paused, n);
                    }
                }
                Ok(funnels)
            }

            async fn activity_days(
                &self,
                team: &str,
                now: Millis,
                days: i64,
            ) -> StoreResult<Vec<ActivityDay>> {
                let last = now.div_euclid(DAY_MS);
                let rows = sqlx::query_as::<_, (i64, i64, i64, i64)>(
                    "SELECT day, invitations, messages, replies FROM team_activity_days \
                     WHERE team_id = $1 AND day > $2 AND day <= $3 ORDER BY day",
                )
                .bind(team)
                .bind(last - days)
                .bind(last)
                .fetch_all(&self.pool)
                .await?;
                Ok(fill_days(&rows, last, days))
            }
        }
    };
}

impl_activity_store!(crate::sqlite::SqliteStore);
impl_activity_store!(crate::postgres::PgStore);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conversation_counts_at_every_stage_its_status_reached() {
        let mut funnel = Funnel::default();
        funnel.add(
            status::NOT_STARTED,
            Qualification::InProgress,
            false,
            false,
            10,
        );
        funnel.add(
            status::INVITATION_SENT,
            Qualification::InProgress,
            false,
            false,
            5,
        );
        funnel.add(
            status::REPLIED,
            Qualification::NeedVerification,
            true,
            true,
            2,
        );
        funnel.add(status::QUALIFIED, Qualification::Qualified, true, false, 1);
        funnel.add(
            status::NO_LONGER_IN_NETWORK,
            Qualification::InProgress,
            false,
            false,
            1,
        );
        funnel.add(status::SKIPPED, Qualification::InProgress, false, false, 3);
        assert_eq!(
            funnel,
            Funnel {
                imported: 22,
                invited: 9,
                accepted: 4,
                messaged: 3,
                replied: 3,
                qualified: 1,
                need_verification: 2,
                paused: 2,
            }
        );
    }

    #[test]
    fn days_without_activity_are_zeros() {
        let days = fill_days(&[(9, 1, 2, 3)], 10, 3);
        assert_eq!(days.iter().map(|d| d.day).collect::<Vec<_>>(), [8, 9, 10]);
        assert_eq!(days[1].messages, 2);
        assert_eq!(
            days[2],
            ActivityDay {
                day: 10,
                ..ActivityDay::default()
            }
        );
    }
}
