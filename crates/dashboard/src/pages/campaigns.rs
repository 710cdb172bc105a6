//! Campaigns: the list with status and counts (pause / resume), one campaign with its funnel
//! (imported → invited → accepted → messaged → replied → qualified, with the rate of each step),
//! its settings and its prospects, and the form that creates or edits one from a product, a
//! prompt and an agent.
//!
//! Rule: the form is checked by `outbound_core::campaign`'s rules — the ones `POST` and
//! `PUT /v1/campaigns` apply — and written by the same store calls, within the plan's campaign
//! quota; only the team's own campaigns can be changed (another team's: 404).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use outbound_core::campaign::{
    check_name, check_reference, check_review_mode, check_threshold, check_variables,
    undefined_variables,
};
use outbound_core::conversation::{DEFAULT_AUTOMATIC_THRESHOLD, DEFAULT_VERIFICATION_THRESHOLD};
use outbound_core::plan::Quota;
use outbound_core::review::ReviewMode;
use outbound_core::time::now_millis;
use outbound_core::validation::{FieldError, Problems};
use outbound_store::activity::Funnel;
use outbound_store::campaigns::{Campaign, CampaignPatch, ListWindow, NewCampaign};
use outbound_store::chats::{ChatCursor, ChatFilter, ChatPage};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

use super::{PAGE_ROWS, agent_choices, done, form_status, next_page};
use crate::AppState;
use crate::session::Signed;
use crate::view::{
    Choice, Chrome, PageError, Section, ago, percent, qualification_label, rate, render,
    render_status, status_label, url_escape,
};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/campaigns", get(list).post(create))
        .route("/campaigns/new", get(new_form))
        .route("/campaigns/{id}", get(detail).post(update))
        .route("/campaigns/{id}/edit", get(edit_form))
        .route("/campaigns/{id}/pause", post(pause))
        .route("/campaigns/{id}/resume", post(resume))
}

/// A campaign in the list.
struct ListRow {
    id: String,
    name: String,
    status: &'static str,
    agent: String,
    review: &'static str,
    funnel: Funnel,
    created: String,
}

impl ListRow {
    fn connection(&self) -> String {
        rate(self.funnel.accepted, self.funnel.invited)
    }
    fn reply(&self) -> String {
        rate(self.funnel.replied, self.funnel.messaged)
    }
    fn can_pause(&self) -> bool {
        self.status == "active" || self.status == "draft"
    }
}

#[derive(Template)]
#[template(path = "campaigns.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<ListRow>,
    next: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    after: Option<String>,
    done: Option<String>,
}

fn review_label(mode: ReviewMode) -> &'static str {
    match mode {
        ReviewMode::Off => "sends on its own",
        ReviewMode::FirstMessage => "first message reviewed",
        ReviewMode::All => "every message reviewed",
    }
}

async fn agent_names(state: &AppState, team: &str) -> Result<HashMap<String, String>, PageError> {
    Ok(state
        .store
        .list_agents(team)
        .await?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect())
}

async fn list(
    State(state): State<AppState>,
    signed: Signed,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let team = signed.team();
    let window = ListWindow {
        after: query.after.clone().filter(|a| !a.is_empty()),
        offset: 0,
        limit: u32::try_from(PAGE_ROWS).ok(),
    };
    let campaigns = state.store.list_campaigns(team, &window).await?;
    let funnels: HashMap<String, Funnel> = state
        .store
        .funnels(team)
        .await?
        .into_iter()
        .map(|f| (f.campaign_id, f.funnel))
        .collect();
    let agents = agent_names(&state, team).await?;
    let now = now_millis();
    let next = next_page(&campaigns, |c| url_escape(&c.id));
    let rows = campaigns
        .into_iter()
        .map(|c| ListRow {
            funnel: funnels.get(&c.id).copied().unwrap_or_default(),
            agent: agents.get(&c.agent_id).cloned().unwrap_or_default(),
            status: c.status.as_str(),
            review: review_label(c.review_mode),
            created: ago(c.created_at, now),
            id: c.id,
            name: c.name,
        })
        .collect();
    let page = ListPage {
        chrome: Chrome::new(&signed, Section::Campaigns, "Campaigns")
            .with_notice(query.done.as_deref()),
        rows,
        next,
    };
    Ok(render(&page))
}

/// One step of the funnel.
struct Step {
    label: &'static str,
    count: i64,
    /// Share of the first step, for the bar (0–100).
    width: i64,
    /// Share of the step before.
    step_rate: String,
}

fn steps(funnel: &Funnel) -> Vec<Step> {
    let stages = [
        ("Imported", funnel.imported),
        ("Invited", funnel.invited),
        ("Accepted", funnel.accepted),
        ("Messaged", funnel.messaged),
        ("Replied", funnel.replied),
        ("Qualified", funnel.qualified),
    ];
    let mut previous: Option<i64> = None;
    stages
        .into_iter()
        .map(|(label, count)| {
            let step_rate = previous.map_or_else(String::new, |p| rate(count, p));
            previous = Some(count);
            Step {
                label,
                count,
                width: percent(count, funnel.imported),
                step_rate,
            }
        })
        .collect()
}

/// A prospect of the campaign.
struct ProspectRow {
    chat_id: String,
    name: String,
    headline: String,
    status: &'static str,
    qualification: &'static str,
    qualification_class: &'static str,
    paused: bool,
    added: String,
}

#[derive(Template)]
#[template(path = "campaign.html")]
struct DetailPage {
    chrome: Chrome,
    campaign: Campaign,
    status: &'static str,
    agent: String,
    product: String,
    prompt: String,
    review: &'static str,
    steps: Vec<Step>,
    funnel: Funnel,
    prospects: Vec<ProspectRow>,
    next: Option<String>,
    owned: bool,
}

impl DetailPage {
    fn can_pause(&self) -> bool {
        self.status == "active" || self.status == "draft"
    }
}

#[derive(Debug, Default, Deserialize)]
struct DetailQuery {
    after: Option<String>,
    done: Option<String>,
}

async fn detail(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(query): Query<DetailQuery>,
) -> Result<Response, PageError> {
    let team = signed.team();
    let campaign = state.store.get_campaign(team, &id).await?;
    let funnel = state
        .store
        .funnels(&campaign.team_id)
        .await?
        .into_iter()
        .find(|f| f.campaign_id == campaign.id)
        .map(|f| f.funnel)
        .unwrap_or_default();
    let page_of = query
        .after
        .as_deref()
        .and_then(|a| a.split_once(':'))
        .and_then(|(at, chat)| {
            Some(ChatPage::After(ChatCursor {
                created_at: at.parse().ok()?,
                id: chat.to_owned(),
            }))
        })
        .unwrap_or(ChatPage::Offset(0));
    let chats = state
        .store
        .list_campaign_chats(team, &id, &ChatFilter::default(), &page_of, PAGE_ROWS)
        .await?;
    let next = next_page(&chats, |c| {
        format!("{}:{}", c.created_at, url_escape(&c.id))
    });
    let now = now_millis();
    let prospects = chats
        .into_iter()
        .map(|c| ProspectRow {
            chat_id: c.id,
            name: c.prospect.name,
            headline: c.prospect.headline.unwrap_or_default(),
            status: status_label(c.status),
            qualification: qualification_label(c.qualification),
            qualification_class: c.qualification.as_str(),
            paused: c.paused,
            added: ago(c.created_at, now),
        })
        .collect();
    let owned = campaign.team_id == team;
    let (agent, product, prompt) = if owned {
        names_of(&state, team, &campaign).await?
    } else {
        Default::default()
    };
    let page = DetailPage {
        chrome: Chrome::new(&signed, Section::Campaigns, campaign.name.clone())
            .with_notice(query.done.as_deref()),
        status: campaign.status.as_str(),
        review: review_label(campaign.review_mode),
        steps: steps(&funnel),
        funnel,
        agent,
        product,
        prompt,
        campaign,
        prospects,
        next,
        owned,
    };
    Ok(render(&page))
}

/// The names of a campaign's agent, product and prompt.
async fn names_of(
    state: &AppState,
    team: &str,
    campaign: &Campaign,
) -> Result<(String, String, String), PageError> {
    let agent = agent_names(state, team)
        .await?
        .remove(&campaign.agent_id)
        .unwrap_or_default();
    let product = state
        .store
        .list_products(team)
        .await?
        .into_iter()
        .find(|p| p.id == campaign.product_id)
        .map(|p| p.name)
        .unwrap_or_default();
    let prompt = state
        .store
        .get_prompt(team, &campaign.prompt_id)
        .await
        .map(|p| p.name)
        .unwrap_or_default();
    Ok((agent, product, prompt))
}

/// The create / edit form, as filled in.
#[derive(Debug, Default, Clone, Deserialize)]
struct CampaignForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    product_id: String,
    #[serde(default)]
    prompt_id: String,
    #[serde(default)]
    agent_id: String,
    #[serde(default)]
    review_mode: String,
    #[serde(default)]
    qualification_automatic: String,
    #[serde(default)]
    qualification_verification: String,
    /// One `name = value` per line.
    #[serde(default)]
    variables: String,
    #[serde(default)]
    prevent_auto_start: Option<String>,
}

#[derive(Template)]
#[template(path = "campaign_form.html")]
struct FormPage {
    chrome: Chrome,
    /// The campaign edited; none: a new one.
    id: Option<String>,
    form: CampaignForm,
    products: Vec<Choice>,
    prompts: Vec<Choice>,
    agents: Vec<Choice>,
    problems: Vec<FieldError>,
}

async fn choices(
    state: &AppState,
    team: &str,
) -> Result<(Vec<Choice>, Vec<Choice>, Vec<Choice>), PageError> {
    let products = state
        .store
        .list_products(team)
        .await?
        .into_iter()
        .map(|p| Choice::new(p.id, p.name))
        .collect();
    let prompts = state
        .store
        .list_prompts(team)
        .await?
        .into_iter()
        .map(|p| Choice::new(p.id, p.name))
        .collect();
    let agents = agent_choices(state, team).await?;
    Ok((products, prompts, agents))
}

async fn form_page(
    state: &AppState,
    signed: &Signed,
    id: Option<String>,
    form: CampaignForm,
    problems: Vec<FieldError>,
) -> Result<Response, PageError> {
    let (products, prompts, agents) = choices(state, signed.team()).await?;
    let title = if id.is_some() {
        "Edit campaign"
    } else {
        "New campaign"
    };
    let status = form_status(!problems.is_empty());
    let page = FormPage {
        chrome: Chrome::new(signed, Section::Campaigns, title),
        id,
        form,
        products,
        prompts,
        agents,
        problems,
    };
    Ok(render_status(status, &page))
}

async fn new_form(State(state): State<AppState>, signed: Signed) -> Result<Response, PageError> {
    let form = CampaignForm {
        review_mode: ReviewMode::FirstMessage.as_str().to_owned(),
        qualification_automatic: DEFAULT_AUTOMATIC_THRESHOLD.to_string(),
        qualification_verification: DEFAULT_VERIFICATION_THRESHOLD.to_string(),
        ..CampaignForm::default()
    };
    form_page(&state, &signed, None, form, Vec::new()).await
}

/// The variables of the form's `name = value` lines.
fn parse_variables(text: &str, problems: &mut Problems) -> BTreeMap<String, String> {
    let mut variables = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match line.split_once('=') {
            Some((name, value)) => {
                variables.insert(name.trim().to_owned(), value.trim().to_owned());
            }
            None => problems.add(
                "variables",
                format!("Line {}: write each variable as name = value", n + 1),
            ),
        }
    }
    variables
}

/// A threshold field: blank keeps the default, else a whole number.
fn parse_threshold(problems: &mut Problems, field: &str, value: &str) -> Option<i64> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    let parsed = value.parse().ok();
    if parsed.is_none() {
        problems.add(field, "Must be a whole number from 0 to 100");
    }
    check_threshold(problems, field, parsed);
    parsed
}

/// The settings the create and edit forms share, read and checked by the campaign rules.
struct Settings {
    automatic: Option<i64>,
    verification: Option<i64>,
    variables: BTreeMap<String, String>,
    review_mode: Option<ReviewMode>,
}

impl CampaignForm {
    /// The shared settings, their problems recorded in `problems`.
    fn settings(&self, problems: &mut Problems) -> Settings {
        check_name(problems, &self.name);
        let automatic = parse_threshold(
            problems,
            "qualificationAutomatic",
            &self.qualification_automatic,
        );
        let verification = parse_threshold(
            problems,
            "qualificationVerification",
            &self.qualification_verification,
        );
        let variables = parse_variables(&self.variables, problems);
        check_variables(problems, &variables);
        let review_mode = check_review_mode(problems, Some(&self.review_mode));
        Settings {
            automatic,
            verification,
            variables,
            review_mode,
        }
    }
}

/// Checks the prompt's variables against the form's.
async fn check_prompt(
    state: &AppState,
    team: &str,
    prompt_id: &str,
    variables: &BTreeMap<String, String>,
    problems: &mut Problems,
) -> Result<(), PageError> {
    match state.store.get_prompt(team, prompt_id).await {
        Ok(prompt) => {
            if let Some(problem) = undefined_variables(&prompt.sections, variables) {
                problems.add("variables", problem);
            }
            Ok(())
        }
        Err(outbound_store::StoreError::NotFound) => {
            problems.add("promptId", "Prompt not found");
            Ok(())
        }
        Err(error) => Err(error.into()),
    }
}

async fn create(
    State(state): State<AppState>,
    signed: Signed,
    Form(form): Form<CampaignForm>,
) -> Result<Response, PageError> {
    let team = signed.team();
    let mut problems = Problems::new();
    check_reference(&mut problems, "productId", &form.product_id);
    check_reference(&mut problems, "promptId", &form.prompt_id);
    check_reference(&mut problems, "agentId", &form.agent_id);
    let settings = form.settings(&mut problems);
    if problems.is_empty() {
        check_prompt(
            &state,
            team,
            &form.prompt_id,
            &settings.variables,
            &mut problems,
        )
        .await?;
    }
    if let Err(problems) = problems.into_result() {
        return form_page(&state, &signed, None, form, problems).await;
    }
    let new = NewCampaign {
        name: form.name.trim().to_owned(),
        product_id: form.product_id.clone(),
        prompt_id: form.prompt_id.clone(),
        agent_id: form.agent_id.clone(),
        qualification_automatic: settings.automatic.unwrap_or(DEFAULT_AUTOMATIC_THRESHOLD),
        qualification_verification: settings
            .verification
            .unwrap_or(DEFAULT_VERIFICATION_THRESHOLD),
        variables: settings.variables,
        prevent_auto_start: form.prevent_auto_start.is_some(),
        review_mode: settings.review_mode.unwrap_or_default(),
    };
    let created = state
        .store
        .create_campaign(team, &new, signed.session.plan.quota(Quota::Campaigns))
        .await;
    let campaign = match created {
        Ok(campaign) => campaign,
        Err(outbound_store::StoreError::MissingReference(what)) => {
            let problem = FieldError {
                field: "form".to_owned(),
                message: what.to_owned(),
            };
            return form_page(&state, &signed, None, form, vec![problem]).await;
        }
        Err(error) => return Err(error.into()),
    };
    Ok(done(
        &format!("/app/campaigns/{}", url_escape(&campaign.id)),
        "campaign-created",
    )
    .into_response())
}

/// The team's own campaign (one it may only read is not found for a change).
async fn owned(state: &AppState, team: &str, id: &str) -> Result<Campaign, PageError> {
    let campaign = state.store.get_campaign(team, id).await?;
    if campaign.team_id != team {
        return Err(PageError::NotFound);
    }
    Ok(campaign)
}

async fn edit_form(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let campaign = owned(&state, signed.team(), &id).await?;
    let form = CampaignForm {
        name: campaign.name,
        product_id: campaign.product_id,
        prompt_id: campaign.prompt_id,
        agent_id: campaign.agent_id,
        review_mode: campaign.review_mode.as_str().to_owned(),
        qualification_automatic: campaign.qualification_automatic.to_string(),
        qualification_verification: campaign.qualification_verification.to_string(),
        variables: campaign
            .variables
            .iter()
            .map(|(name, value)| format!("{name} = {value}"))
            .collect::<Vec<_>>()
            .join("\n"),
        prevent_auto_start: campaign.prevent_auto_start.then(String::new),
    };
    form_page(&state, &signed, Some(id), form, Vec::new()).await
}

async fn update(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Form(form): Form<CampaignForm>,
) -> Result<Response, PageError> {
    let team = signed.team();
    let campaign = owned(&state, team, &id).await?;
    let mut problems = Problems::new();
    let settings = form.settings(&mut problems);
    if problems.is_empty() {
        check_prompt(
            &state,
            team,
            &campaign.prompt_id,
            &settings.variables,
            &mut problems,
        )
        .await?;
    }
    if let Err(problems) = problems.into_result() {
        return form_page(&state, &signed, Some(id), form, problems).await;
    }
    let patch = CampaignPatch {
        name: Some(form.name.trim().to_owned()),
        qualification_automatic: settings.automatic,
        qualification_verification: settings.verification,
        variables: Some(settings.variables),
        review_mode: settings.review_mode,
    };
    state.store.update_campaign(team, &id, &patch).await?;
    Ok(done(
        &format!("/app/campaigns/{}", url_escape(&id)),
        "campaign-updated",
    )
    .into_response())
}

async fn pause(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    state.store.pause_campaign(signed.team(), &id).await?;
    Ok(done(
        &format!("/app/campaigns/{}", url_escape(&id)),
        "campaign-paused",
    )
    .into_response())
}

async fn resume(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    state.store.resume_campaign(signed.team(), &id).await?;
    Ok(done(
        &format!("/app/campaigns/{}", url_escape(&id)),
        "campaign-resumed",
    )
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_read_one_per_line() {
        let mut problems = Problems::new();
        let variables = parse_variables(
            "goal = a demo\n\n painPoint=closing books \nbroken",
            &mut problems,
        );
        assert_eq!(variables.get("goal").map(String::as_str), Some("a demo"));
        assert_eq!(
            variables.get("painPoint").map(String::as_str),
            Some("closing books")
        );
        assert!(!problems.is_empty(), "the line without = is a problem");
    }

    #[test]
    fn the_funnel_rates_each_step_against_the_one_before() {
        let funnel = Funnel {
            imported: 100,
            invited: 80,
            accepted: 40,
            messaged: 40,
            replied: 10,
            qualified: 2,
            ..Funnel::default()
        };
        let steps = steps(&funnel);
        assert_eq!(steps[0].step_rate, "");
        assert_eq!(steps[2].step_rate, "50%");
        assert_eq!(steps[5].step_rate, "20%");
        assert_eq!(steps[1].width, 80);
    }
}
