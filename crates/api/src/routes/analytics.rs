//! `GET /v1/analytics/overview` and `GET /v1/analytics/campaigns/{campaignId}`.
//!
//! Rules (catalogue §2.9):
//! - conversionRate = qualified / prospects × 100, responseRate = answers / prospects × 100,
//!   qualificationRate = qualified / answers × 100, averageMessagesPerProspect = messages /
//!   prospects; numbers rounded to 2 decimals, 0 when the denominator is 0;
//! - "messages" are the agent's messages, "responses"/"answers" the prospects'; activity windows
//!   end now (last 24 hours, last 7 days) by the engine's clock (`ApiSettings::now`: scaled
//!   under `serve --time-scale`); the daily breakdown lists the UTC days of the last 30 with
//!   any activity, newest first;
//! - the overview covers the team's own campaigns and agents; a campaign's analytics are
//!   readable wherever the campaign is (its team, and the client team of an agency workspace
//!   the campaign's agent is assigned to); anyone else gets 404.

use axum::Json;
use axum::extract::{Path, State};
use outbound_core::conversation::{CampaignStatus, percent, ratio};
use outbound_core::time::iso8601;
use outbound_store::analytics::{
    Activity, CampaignAnalytics, DAY_MS, Overview, QualificationBreakdown, StatusDistribution,
    Totals,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody, NotFoundAs};
use crate::extract::Tenant;

const CAMPAIGN_NOT_FOUND: &str = "Campaign not found";
/// `YYYY-MM-DD` is the first 10 characters of an ISO-8601 timestamp.
const DATE_LEN: usize = 10;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    total_campaigns: i64,
    active_campaigns: i64,
    paused_campaigns: i64,
    completed_campaigns: i64,
    total_agents: i64,
    /// Agents running.
    active_agents: i64,
    total_prospects: i64,
    total_messages: i64,
    total_qualified: i64,
    total_answers: i64,
    total_closed: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OverviewMetrics {
    conversion_rate: f64,
    response_rate: f64,
    average_messages_per_prospect: f64,
    qualification_rate: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WindowActivity {
    /// Messages the agents sent.
    messages: i64,
    /// Conversations qualified.
    qualified: i64,
}

impl From<Activity> for WindowActivity {
    fn from(a: Activity) -> Self {
        WindowActivity {
            messages: a.messages,
            qualified: a.qualified,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OverviewActivity {
    last24_hours: WindowActivity,
    last_week: WindowActivity,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CampaignFiguresView {
    id: String,
    name: String,
    status: CampaignStatus,
    prospects: i64,
    messages: i64,
    qualified: i64,
    answers: i64,
    conversion_rate: f64,
    response_rate: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OverviewResponse {
    summary: Summary,
    metrics: OverviewMetrics,
    activity: OverviewActivity,
    campaigns: Vec<CampaignFiguresView>,
}

impl From<Overview> for OverviewResponse {
    fn from(o: Overview) -> Self {
        let t = o.totals;
        OverviewResponse {
            summary: Summary {
                total_campaigns: o.campaigns_total,
                active_campaigns: o.campaigns_active,
                paused_campaigns: o.campaigns_paused,
                completed_campaigns: o.campaigns_completed,
                total_agents: o.agents_total,
                active_agents: o.agents_active,
                total_prospects: t.prospects,
                total_messages: t.messages,
                total_qualified: t.qualified,
                total_answers: t.answers,
                total_closed: t.closed,
            },
            metrics: OverviewMetrics {
                conversion_rate: percent(t.qualified, t.prospects),
                response_rate: percent(t.answers, t.prospects),
                average_messages_per_prospect: ratio(t.messages, t.prospects),
                qualification_rate: percent(t.qualified, t.answers),
            },
            activity: OverviewActivity {
                last24_hours: o.last_24_hours.into(),
                last_week: o.last_week.into(),
            },
            campaigns: o
                .campaigns
                .into_iter()
                .map(|c| CampaignFiguresView {
                    id: c.id,
                    name: c.name,
                    status: c.status,
                    prospects: c.totals.prospects,
                    messages: c.totals.messages,
                    qualified: c.totals.qualified,
                    answers: c.totals.answers,
                    conversion_rate: percent(c.totals.qualified, c.totals.prospects),
                    response_rate: percent(c.totals.answers, c.totals.prospects),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CampaignInfo {
    id: String,
    name: String,
    status: CampaignStatus,
    created_at: String,
    /// The agent's id.
    agent: String,
    /// The product's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    product: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CampaignMetrics {
    total_prospects: i64,
    total_messages: i64,
    total_qualified: i64,
    total_answers: i64,
    total_closed: i64,
    conversion_rate: f64,
    response_rate: f64,
    qualification_rate: f64,
    average_messages_per_prospect: f64,
}

impl From<Totals> for CampaignMetrics {
    fn from(t: Totals) -> Self {
        CampaignMetrics {
            total_prospects: t.prospects,
            total_messages: t.messages,
            total_qualified: t.qualified,
            total_answers: t.answers,
            total_closed: t.closed,
            conversion_rate: percent(t.qualified, t.prospects),
            response_rate: percent(t.answers, t.prospects),
            qualification_rate: percent(t.qualified, t.answers),
            average_messages_per_prospect: ratio(t.messages, t.prospects),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DayView {
    /// The UTC day, `YYYY-MM-DD`.
    date: String,
    messages: i64,
    responses: i64,
    qualified: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecentActivity {
    messages: i64,
    responses: i64,
    qualified: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CampaignActivity {
    /// Days with activity among the last 30, newest first.
    daily_breakdown: Vec<DayView>,
    last7_days: RecentActivity,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusDistributionView {
    /// Not contacted yet (status 0–2).
    pending: i64,
    /// Status 3.
    contacted: i64,
    /// Status 4.
    responded: i64,
    /// Status 5.
    qualified: i64,
    /// Ended without qualification (status 6, 7, 502–505).
    closed: i64,
}

impl From<StatusDistribution> for StatusDistributionView {
    fn from(s: StatusDistribution) -> Self {
        StatusDistributionView {
            pending: s.pending,
            contacted: s.contacted,
            responded: s.responded,
            qualified: s.qualified,
            closed: s.closed,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QualificationBreakdownView {
    /// In progress or awaiting review.
    pending: i64,
    qualified: i64,
    disqualified: i64,
}

impl From<QualificationBreakdown> for QualificationBreakdownView {
    fn from(q: QualificationBreakdown) -> Self {
        QualificationBreakdownView {
            pending: q.pending,
            qualified: q.qualified,
            disqualified: q.disqualified,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CampaignAnalyticsResponse {
    campaign: CampaignInfo,
    metrics: CampaignMetrics,
    activity: CampaignActivity,
    status_distribution: StatusDistributionView,
    qualification_breakdown: QualificationBreakdownView,
}

/// `YYYY-MM-DD` of a day number (days since 1970-01-01, UTC).
fn date_of(day: i64) -> String {
    iso8601(day.saturating_mul(DAY_MS))
        .chars()
        .take(DATE_LEN)
        .collect()
}

impl From<CampaignAnalytics> for CampaignAnalyticsResponse {
    fn from(a: CampaignAnalytics) -> Self {
        CampaignAnalyticsResponse {
            campaign: CampaignInfo {
                id: a.id,
                name: a.name,
                status: a.status,
                created_at: iso8601(a.created_at),
                agent: a.agent_id,
                product: a.product,
            },
            metrics: a.totals.into(),
            activity: CampaignActivity {
                daily_breakdown: a
                    .daily
                    .into_iter()
                    .map(|d| DayView {
                        date: date_of(d.day),
                        messages: d.activity.messages,
                        responses: d.activity.responses,
                        qualified: d.activity.qualified,
                    })
                    .collect(),
                last7_days: RecentActivity {
                    messages: a.last_7_days.messages,
                    responses: a.last_7_days.responses,
                    qualified: a.last_7_days.qualified,
                },
            },
            status_distribution: a.statuses.into(),
            qualification_breakdown: a.qualifications.into(),
        }
    }
}

#[utoipa::path(
    get,
    path = "/v1/analytics/overview",
    tag = "Analytics",
    responses(
        (status = 200, description = "The team's campaigns, agents, totals, rates and recent activity", body = OverviewResponse),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded", body = ErrorBody),
    )
)]
pub async fn overview(
    State(state): State<AppState>,
    tenant: Tenant,
) -> ApiResult<Json<OverviewResponse>> {
    let overview = state
        .store
        .analytics_overview(&tenant.team_id, (state.now)())
        .await?;
    Ok(Json(overview.into()))
}

#[utoipa::path(
    get,
    path = "/v1/analytics/campaigns/{campaignId}",
    tag = "Analytics",
    params(("campaignId" = String, Path, description = "The campaign id")),
    responses(
        (status = 200, description = "The campaign's figures, daily activity and breakdowns", body = CampaignAnalyticsResponse),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 404, description = "No such campaign readable by this team", body = ErrorBody),
        (status = 429, description = "Rate limit exceeded", body = ErrorBody),
    )
)]
pub async fn campaign_analytics(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(campaign_id): Path<String>,
) -> ApiResult<Json<CampaignAnalyticsResponse>> {
    let analytics = state
        .store
        .campaign_analytics(&tenant.team_id, &campaign_id, (state.now)())
        .await
        .or_not_found(CAMPAIGN_NOT_FOUND)?;
    Ok(Json(analytics.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_days() {
        assert_eq!(date_of(0), "1970-01-01");
        assert_eq!(date_of(20_575), "2026-05-02");
    }
}
