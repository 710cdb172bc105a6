//! Home: the team at a glance — KPI cards, the last 30 days of activity, the campaigns sorted by
//! any rate, and what needs a person (agent alerts, drafts waiting, replies waiting,
//! conversations waiting for a verdict).
//!
//! Rule: a bounded number of small reads — the funnels (a sum over `chat_counts`), 30 rows of
//! daily activity, at most [`MAX_CAMPAIGNS`] campaigns, the agents (a plan bounds them) and the
//! first few drafts and replies — whatever the number of conversations.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use outbound_core::conversation::Qualification;
use outbound_core::review::DraftStatus;
use outbound_store::activity::Funnel;
use outbound_store::campaigns::ListWindow;
use outbound_store::chats::ChatPage;
use outbound_store::drafts::DraftFilter;
use outbound_store::inbox::InboxFilter;
use serde::Deserialize;
use std::collections::HashMap;

use super::chart::{Chart, chart};
use crate::AppState;
use crate::session::Signed;
use crate::view::{Chrome, PageError, Section, ago, excerpt, percent, rate, render};

/// Days of the activity chart.
const CHART_DAYS: i64 = 30;
/// Most campaigns in the table.
const MAX_CAMPAIGNS: u32 = 100;
/// Items of each "needs attention" kind shown.
const ATTENTION_ITEMS: i64 = 5;
/// Below these rates Kakiyo's guidance says to act: connection 30 %, reply 15 %.
const LOW_CONNECTION_RATE: i64 = 30;
const LOW_REPLY_RATE: i64 = 15;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/", get(home))
}

/// A KPI card.
struct Card {
    label: &'static str,
    value: String,
    hint: String,
    low: bool,
    testid: &'static str,
}

/// A row of the campaign table.
struct CampaignRow {
    id: String,
    name: String,
    status: &'static str,
    funnel: Funnel,
    connection: i64,
    reply: i64,
    qualified_rate: i64,
}

impl CampaignRow {
    fn connection_text(&self) -> String {
        rate(self.funnel.accepted, self.funnel.invited)
    }
    fn reply_text(&self) -> String {
        rate(self.funnel.replied, self.funnel.messaged)
    }
    fn qualified_text(&self) -> String {
        rate(self.funnel.qualified, self.funnel.replied)
    }
}

/// Something a person should look at.
struct Attention {
    kind: &'static str,
    text: String,
    link: String,
    when: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
    cards: Vec<Card>,
    chart: Chart,
    campaigns: Vec<CampaignRow>,
    sort: String,
    attention: Vec<Attention>,
}

#[derive(Debug, Default, Deserialize)]
struct HomeQuery {
    sort: Option<String>,
    done: Option<String>,
}

/// The KPI cards of the team's funnel.
fn cards(total: &Funnel) -> Vec<Card> {
    let connection = percent(total.accepted, total.invited);
    let reply = percent(total.replied, total.messaged);
    vec![
        Card {
            label: "Prospects",
            value: total.imported.to_string(),
            hint: format!("{} invited", total.invited),
            low: false,
            testid: "kpi-prospects",
        },
        Card {
            label: "Connection rate",
            value: rate(total.accepted, total.invited),
            hint: format!("{} of {} accepted", total.accepted, total.invited),
            low: total.invited > 0 && connection < LOW_CONNECTION_RATE,
            testid: "kpi-connection",
        },
        Card {
            label: "Reply rate",
            value: rate(total.replied, total.messaged),
            hint: format!("{} of {} messaged replied", total.replied, total.messaged),
            low: total.messaged > 0 && reply < LOW_REPLY_RATE,
            testid: "kpi-reply",
        },
        Card {
            label: "Qualified",
            value: total.qualified.to_string(),
            hint: format!("{} waiting for your verdict", total.need_verification),
            low: false,
            testid: "kpi-qualified",
        },
    ]
}

/// Sorts the table by the column `sort` names (highest first; by name A–Z).
fn sort_rows(rows: &mut [CampaignRow], sort: &str) {
    match sort {
        "name" => rows.sort_by_key(|r| r.name.to_lowercase()),
        "prospects" => rows.sort_by_key(|r| std::cmp::Reverse(r.funnel.imported)),
        "connection" => rows.sort_by_key(|r| std::cmp::Reverse(r.connection)),
        "reply" => rows.sort_by_key(|r| std::cmp::Reverse(r.reply)),
        "qualified" => rows.sort_by_key(|r| std::cmp::Reverse(r.qualified_rate)),
        _ => {}
    }
}

async fn home(
    State(state): State<AppState>,
    signed: Signed,
    Query(query): Query<HomeQuery>,
) -> Result<Response, PageError> {
    let team = signed.team();
    let store = &state.store;
    let now = (state.settings.now)();
    let funnels: HashMap<String, Funnel> = store
        .funnels(team)
        .await?
        .into_iter()
        .map(|f| (f.campaign_id, f.funnel))
        .collect();
    let total = funnels
        .values()
        .fold(Funnel::default(), |sum, f| sum.plus(*f));
    let window = ListWindow {
        after: None,
        offset: 0,
        limit: Some(MAX_CAMPAIGNS),
    };
    let mut campaigns: Vec<CampaignRow> = store
        .list_campaigns(team, &window)
        .await?
        .into_iter()
        .map(|c| {
            let funnel = funnels.get(&c.id).copied().unwrap_or_default();
            CampaignRow {
                connection: percent(funnel.accepted, funnel.invited),
                reply: percent(funnel.replied, funnel.messaged),
                qualified_rate: percent(funnel.qualified, funnel.replied),
                id: c.id,
                name: c.name,
                status: c.status.as_str(),
                funnel,
            }
        })
        .collect();
    let sort = query.sort.unwrap_or_default();
    sort_rows(&mut campaigns, &sort);
    let days = store.activity_days(team, now, CHART_DAYS).await?;
    let attention = attention(&state, team).await?;
    let page = HomePage {
        chrome: Chrome::new(&signed, Section::Home, "Home").with_notice(query.done.as_deref()),
        cards: cards(&total),
        chart: chart(&days),
        campaigns,
        sort,
        attention,
    };
    Ok(render(&page))
}

/// Agent alerts, then the drafts waiting, the newest replies waiting and the conversations
/// waiting for a verdict.
async fn attention(state: &AppState, team: &str) -> Result<Vec<Attention>, PageError> {
    let store = &state.store;
    let now = state.engine_now();
    let mut items = Vec::new();
    for agent in store.list_agents(team).await? {
        for alert in &agent.alerts {
            items.push(Attention {
                kind: "agent",
                text: format!("{}: {}", agent.name, alert.message),
                link: format!("/app/agents/{}", agent.id),
                when: String::new(),
            });
        }
    }
    let pending = DraftFilter {
        status: Some(DraftStatus::Pending),
        ..DraftFilter::default()
    };
    for draft in store
        .list_drafts(team, &pending, &ChatPage::Offset(0), ATTENTION_ITEMS)
        .await?
    {
        items.push(Attention {
            kind: "draft",
            text: format!("Draft to {} waits for approval", draft.prospect_name),
            link: format!("/app/review#draft-{}", draft.id),
            when: ago(draft.created_at, now),
        });
    }
    let waiting = InboxFilter {
        awaiting_reply: true,
        ..InboxFilter::default()
    };
    for item in store.inbox(team, &waiting, None, ATTENTION_ITEMS).await? {
        items.push(Attention {
            kind: "reply",
            text: format!(
                "{} replied: {}",
                item.chat.prospect.name,
                excerpt(item.last_message.as_deref().unwrap_or_default(), 80)
            ),
            link: format!("/app/inbox/{}", item.chat.id),
            when: ago(item.activity_at, now),
        });
    }
    let verdicts = InboxFilter {
        qualification: Some(Qualification::NeedVerification),
        ..InboxFilter::default()
    };
    for item in store.inbox(team, &verdicts, None, ATTENTION_ITEMS).await? {
        items.push(Attention {
            kind: "verdict",
            text: format!("{} waits for your verdict", item.chat.prospect.name),
            link: "/app/review".to_owned(),
            when: ago(item.activity_at, now),
        });
    }
    Ok(items)
}
