//! Analytics: a team's overview and one campaign's figures, activity by UTC day and breakdowns
//! by status and verdict.
//!
//! Rule: every figure is an SQL aggregate over an index, never a walk over a team's rows in
//! memory. Totals come from the campaigns' counters (kept equal to their chats' tallies by
//! every write); breakdowns from `chat_counts` (migration 0010, kept by triggers); activity
//! counts only the rows of its window through `(campaign|team, created_at, role)` and
//! `(campaign|team, qualified_at)` indexes. A UTC day is `timestamp / DAY_MS`, an integer on both
//! databases; the caller formats it.
//!
//! The overview covers the team's own campaigns; a campaign's analytics are readable by the
//! client team of an agency workspace like the campaign itself (`readable_campaign!`).

use outbound_core::conversation::{CampaignStatus, Qualification, status};
use outbound_core::time::Millis;

use crate::{StoreError, StoreResult, readable_campaign};

/// One UTC day, in milliseconds.
pub const DAY_MS: i64 = 86_400_000;
/// Days of a campaign's daily breakdown, today included.
pub const BREAKDOWN_DAYS: i64 = 30;
/// The overview's short and long windows, and a campaign's recent window.
pub const LAST_24_HOURS_MS: i64 = DAY_MS;
pub const LAST_WEEK_MS: i64 = 7 * DAY_MS;

/// A campaign's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub prospects: i64,
    pub messages: i64,
    pub qualified: i64,
    pub answers: i64,
    pub closed: i64,
}

/// One campaign in the overview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignFigures {
    pub id: String,
    pub name: String,
    pub status: CampaignStatus,
    pub totals: Totals,
}

/// What happened within a window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Activity {
    /// The agent's messages.
    pub messages: i64,
    /// The prospects' messages.
    pub responses: i64,
    /// Conversations qualified.
    pub qualified: i64,
}

/// A team at a glance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overview {
    pub campaigns_total: i64,
    pub campaigns_active: i64,
    pub campaigns_paused: i64,
    pub campaigns_completed: i64,
    pub agents_total: i64,
    /// Agents `running`.
    pub agents_active: i64,
    /// The sum over the team's campaigns.
    pub totals: Totals,
    pub last_24_hours: Activity,
    pub last_week: Activity,
    /// Newest first.
    pub campaigns: Vec<CampaignFigures>,
}

/// The activity of one UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayActivity {
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
    pub activity: Activity,
}

/// Conversations by status group: not yet contacted (0–2), contacted (3), replied (4),
/// qualified (5), closed (ended without qualification).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusDistribution {
    pub pending: i64,
    pub contacted: i64,
    pub responded: i64,
    pub qualified: i64,
    pub closed: i64,
}

impl StatusDistribution {
    /// Adds `n` conversations of status `code`.
    fn add(&mut self, code: i64, n: i64) {
        let bucket = match code {
            status::CONTACTED => &mut self.contacted,
            status::REPLIED => &mut self.responded,
            status::QUALIFIED => &mut self.qualified,
            code if status::is_closed(code) => &mut self.closed,
            _ => &mut self.pending,
        };
        *bucket += n;
    }
}

/// Conversations by coarse verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QualificationBreakdown {
    pub pending: i64,
    pub qualified: i64,
    pub disqualified: i64,
}

impl QualificationBreakdown {
    fn add(&mut self, qualification: Qualification, n: i64) {
        use outbound_core::conversation::CoarseQualification as C;
        let bucket = match qualification.coarse() {
            C::Pending => &mut self.pending,
            C::Qualified => &mut self.qualified,
            C::Disqualified => &mut self.disqualified,
        };
        *bucket += n;
    }
}

/// One campaign's analytics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignAnalytics {
    pub id: String,
    pub name: String,
    pub status: CampaignStatus,
    pub created_at: Millis,
    pub agent_id: String,
    /// The name of the campaign's product.
    pub product: Option<String>,
    pub totals: Totals,
    /// The days of the last [`BREAKDOWN_DAYS`] with any activity, newest first.
    pub daily: Vec<DayActivity>,
    pub last_7_days: Activity,
    pub statuses: StatusDistribution,
    pub qualifications: QualificationBreakdown,
}

#[async_trait::async_trait]
pub trait AnalyticsStore {
    /// The team's campaigns, agents, totals and recent activity as of `now`.
    async fn analytics_overview(&self, team: &str, now: Millis) -> StoreResult<Overview>;

    /// A campaign readable by `team`, as of `now`; `NotFound` otherwise.
    async fn campaign_analytics(
        &self,
        team: &str,
        campaign_id: &str,
        now: Millis,
    ) -> StoreResult<CampaignAnalytics>;
}

fn campaign_status(value: &str) -> StoreResult<CampaignStatus> {
    CampaignStatus::parse(value)
        .ok_or_else(|| StoreError::Corrupt(format!("campaign status {value}")))
}

/// Merges per-day message counts `(day, messages, responses)` and qualified counts
/// `(day, qualified)` into days newest first.
fn merge_days(messages: &[(i64, i64, i64)], qualified: &[(i64, i64)]) -> Vec<DayActivity> {
    let mut days: std::collections::BTreeMap<i64, Activity> = std::collections::BTreeMap::new();
    for &(day, sent, received) in messages {
        let activity = days.entry(day).or_default();
        activity.messages += sent;
        activity.responses += received;
    }
    for &(day, count) in qualified {
        days.entry(day).or_default().qualified += count;
    }
    days.into_iter()
        .rev()
        .filter(|(_, activity)| *activity != Activity::default())
        .map(|(day, activity)| DayActivity { day, activity })
        .collect()
}

/// The campaigns' counter columns, summed, for `campaigns` rows of one team.
macro_rules! summed_counters {
    () => {
        "CAST(COALESCE(SUM(prospects_count), 0) AS BIGINT), \
         CAST(COALESCE(SUM(messages_count), 0) AS BIGINT), \
         CAST(COALESCE(SUM(qualified_count), 0) AS BIGINT), \
         CAST(COALESCE(SUM(answers_count), 0) AS BIGINT), \
         CAST(COALESCE(SUM(closed_count), 0) AS BIGINT)"
    };
}

/// `COUNT(*)` of `status = $value` rows, as BIGINT.
macro_rules! count_where {
    ($condition:literal) => {
        concat!(
            "CAST(COALESCE(SUM(CASE WHEN ",
            $condition,
            " THEN 1 ELSE 0 END), 0) AS BIGINT)"
        )
    };
}

#[derive(Debug, sqlx::FromRow)]
struct FiguresRow {
    id: String,
    name: String,
    status: String,
    prospects_count: i64,
    messages_count: i64,
    qualified_count: i64,
    answers_count: i64,
    closed_count: i64,
}

impl FiguresRow {
    fn totals(&self) -> Totals {
        Totals {
            prospects: self.prospects_count,
            messages: self.messages_count,
            qualified: self.qualified_count,
            answers: self.answers_count,
            closed: self.closed_count,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
struct CampaignRow {
    #[sqlx(flatten)]
    figures: FiguresRow,
    created_at: Millis,
    agent_id: String,
    product_name: Option<String>,
}

/// The activity of the last 24 hours and of the last 7 days.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Recent {
    day: Activity,
    week: Activity,
}

/// Which rows a window covers: `team_id = $1` or `campaign_id = $1`, both indexed with the
/// time (`messages_by_*_time_role`, `chats_qualified_by_*`).
#[derive(Debug, Clone, Copy)]
enum Scope {
    Team,
    Campaign,
}

impl Scope {
    fn column(self) -> &'static str {
        match self {
            Scope::Team => "team_id",
            Scope::Campaign => "campaign_id",
        }
    }
}

macro_rules! impl_analytics_store {
    ($store:ty) => {
        impl $store {
            /// The activity of `scope` in the last 24 hours and 7 days before `now`: one pass
            /// over the week's messages (the agent's and the prospects', from the index alone)
            /// and one over the week's verdicts.
            async fn recent_activity(
                &self,
                scope: Scope,
                id: &str,
                now: Millis,
            ) -> StoreResult<Recent> {
                let column = scope.column();
                let (day_sent, day_received, week_sent, week_received) =
                    sqlx::query_as::<_, (i64, i64, i64, i64)>(sqlx::AssertSqlSafe(format!(
                        "SELECT {}, {}, {}, {} FROM messages WHERE {column} = $1 \
                         AND created_at >= $3 AND created_at <= $4",
                        count_where!("role = 'assistant' AND created_at >= $2"),
                        count_where!("role = 'user' AND created_at >= $2"),
                        count_where!("role = 'assistant'"),
                        count_where!("role = 'user'"),
                    )))
                    .bind(id)
                    .bind(now - LAST_24_HOURS_MS)
                    .bind(now - LAST_WEEK_MS)
                    .bind(now)
                    .fetch_one(&self.pool)
                    .await?;
                let (day_qualified, week_qualified) =
                    sqlx::query_as::<_, (i64, i64)>(sqlx::AssertSqlSafe(format!(
                        "SELECT {}, COUNT(*) FROM chats WHERE {column} = $1 \
                         AND qualified_at >= $3 AND qualified_at <= $4",
                        count_where!("qualified_at >= $2"),
                    )))
                    .bind(id)
                    .bind(now - LAST_24_HOURS_MS)
                    .bind(now - LAST_WEEK_MS)
                    .bind(now)
                    .fetch_one(&self.pool)
                    .await?;
                Ok(Recent {
                    day: Activity {
                        messages: day_sent,
                        responses: day_received,
                        qualified: day_qualified,
                    },
                    week: Activity {
                        messages: week_sent,
                        responses: week_received,
                        qualified: week_qualified,
                    },
                })
            }
        }

        #[async_trait::async_trait]
        impl AnalyticsStore for $store {
            async fn analytics_overview(&self, team: &str, now: Millis) -> StoreResult<Overview> {
                let (
                    total,
                    active,
                    paused,
                    completed,
                    prospects,
                    messages,
                    qualified,
                    answers,
                    closed,
                ) = sqlx::query_as::<_, (i64, i64, i64, i64, i64, i64, i64, i64, i64)>(concat!(
                    "SELECT COUNT(*), ",
                    count_where!("status = 'active'"),
                    ", ",
                    count_where!("status = 'paused'"),
                    ", ",
                    count_where!("status = 'completed'"),
                    ", ",
                    summed_counters!(),
                    " FROM campaigns WHERE team_id = $1"
                ))
                .bind(team)
                .fetch_one(&self.pool)
                .await?;
                let (agents_total, agents_active) = sqlx::query_as::<_, (i64, i64)>(concat!(
                    "SELECT COUNT(*), ",
                    count_where!("status = 'running'"),
                    " FROM agents WHERE team_id = $1"
                ))
                .bind(team)
                .fetch_one(&self.pool)
                .await?;
                let campaigns = sqlx::query_as::<_, FiguresRow>(
                    "SELECT id, name, status, prospects_count, messages_count, qualified_count, \
                     answers_count, closed_count FROM campaigns WHERE team_id = $1 \
                     ORDER BY created_at DESC, id DESC",
                )
                .bind(team)
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(|row| {
                    Ok(CampaignFigures {
                        totals: row.totals(),
                        status: campaign_status(&row.status)?,
                        id: row.id,
                        name: row.name,
                    })
                })
                .collect::<StoreResult<Vec<_>>>()?;
                let recent = self.recent_activity(Scope::Team, team, now).await?;
                Ok(Overview {
                    campaigns_total: total,
                    campaigns_active: active,
                    campaigns_paused: paused,
                    campaigns_completed: completed,
                    agents_total,
                    agents_active,
                    totals: Totals {
                        prospects,
                        messages,
                        qualified,
                        answers,
                        closed,
                    },
                    last_24_hours: recent.day,
                    last_week: recent.week,
                    campaigns,
                })
            }

            async fn campaign_analytics(
                &self,
                team: &str,
                campaign_id: &str,
                now: Millis,
            ) -> StoreResult<CampaignAnalytics> {
                let row = sqlx::query_as::<_, CampaignRow>(concat!(
                    "SELECT c.id, c.name, c.status, c.prospects_count, c.messages_count, \
                     c.qualified_count, c.answers_count, c.closed_count, c.created_at, \
                     c.agent_id, pr.name AS product_name \
                     FROM campaigns c LEFT JOIN products pr ON pr.id = c.product_id \
                     WHERE c.id = $2 AND ",
                    readable_campaign!()
                ))
                .bind(team)
                .bind(campaign_id)
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound)?;
                let since = (now.div_euclid(DAY_MS) - (BREAKDOWN_DAYS - 1)) * DAY_MS;
                let messages = sqlx::query_as::<_, (i64, i64, i64)>(concat!(
                    "SELECT created_at / $4, ",
                    count_where!("role = 'assistant'"),
                    ", ",
                    count_where!("role = 'user'"),
                    " FROM messages WHERE campaign_id = $1 AND created_at >= $2 \
                     AND created_at <= $3 GROUP BY 1"
                ))
                .bind(campaign_id)
                .bind(since)
                .bind(now)
                .bind(DAY_MS)
                .fetch_all(&self.pool)
                .await?;
                let qualified = sqlx::query_as::<_, (i64, i64)>(
                    "SELECT qualified_at / $4, COUNT(*) FROM chats WHERE campaign_id = $1 \
                     AND qualified_at >= $2 AND qualified_at <= $3 GROUP BY 1",
                )
                .bind(campaign_id)
                .bind(since)
                .bind(now)
                .bind(DAY_MS)
                .fetch_all(&self.pool)
                .await?;
                let mut statuses = StatusDistribution::default();
                let mut qualifications = QualificationBreakdown::default();
                let groups = sqlx::query_as::<_, (i64, String, i64)>(
                    "SELECT status, qualification, CAST(SUM(n) AS BIGINT) FROM chat_counts \
                     WHERE campaign_id = $1 GROUP BY status, qualification",
                )
                .bind(campaign_id)
                .fetch_all(&self.pool)
                .await?;
                for (code, qualification, n) in groups {
                    let qualification = Qualification::parse(&qualification).ok_or_else(|| {
                        StoreError::Corrupt(format!("qualification {qualification}"))
                    })?;
                    statuses.add(code, n);
                    qualifications.add(qualification, n);
                }
                Ok(CampaignAnalytics {
                    totals: row.figures.totals(),
                    status: campaign_status(&row.figures.status)?,
                    id: row.figures.id,
                    name: row.figures.name,
                    created_at: row.created_at,
                    agent_id: row.agent_id,
                    product: row.product_name,
                    daily: merge_days(&messages, &qualified),
                    last_7_days: self
                        .recent_activity(Scope::Campaign, campaign_id, now)
                        .await?
                        .week,
                    statuses,
                    qualifications,
                })
            }
        }
    };
}

impl_analytics_store!(crate::sqlite::SqliteStore);
impl_analytics_store!(crate::postgres::PgStore);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_merge_newest_first_without_empty_days() {
        let days = merge_days(&[(10, 2, 1), (12, 0, 0), (11, 1, 0)], &[(12, 1), (9, 0)]);
        assert_eq!(
            days,
            [
                DayActivity {
                    day: 12,
                    activity: Activity {
                        messages: 0,
                        responses: 0,
                        qualified: 1
                    }
                },
                DayActivity {
                    day: 11,
                    activity: Activity {
                        messages: 1,
                        responses: 0,
                        qualified: 0
                    }
                },
                DayActivity {
                    day: 10,
                    activity: Activity {
                        messages: 2,
                        responses: 1,
                        qualified: 0
                    }
                },
            ]
        );
    }

    #[test]
    fn statuses_group_as_documented() {
        let mut d = StatusDistribution::default();
        for code in status::ALL {
            d.add(code, 1);
        }
        assert_eq!(
            d,
            StatusDistribution {
                pending: 3,
                contacted: 1,
                responded: 1,
                qualified: 1,
                closed: 6
            }
        );
        let mut q = QualificationBreakdown::default();
        for verdict in Qualification::ALL {
            q.add(verdict, 2);
        }
        assert_eq!(
            q,
            QualificationBreakdown {
                pending: 4,
                qualified: 2,
                disqualified: 2
            }
        );
    }
}
