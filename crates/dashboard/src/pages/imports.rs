//! Prospect import from a CSV file: upload, map the columns (common headers are recognised;
//! any column can be left out), preview, then watch the import report fill in (imported,
//! already there, invalid, on the Do-Not-Contact list).
//!
//! Rules:
//! - every row is checked by `outbound_core::conversation::check_prospect`, the rule of
//!   `POST /v1/prospects/batch`; rows without a name or a URL are left out and counted, and
//!   the rest go into ONE import job (`ImportStore::create_import`, one transaction), which the
//!   import worker carries out exactly as for `/v1` (LinkedIn URL check, DNC, duplicates);
//! - the wizard keeps no state on the server between its steps: the mapping form carries the
//!   file's text back, so a restart or a second server loses nothing;
//! - at most [`MAX_ROWS`] rows per file and the body limit of [`crate::csrf::MAX_BODY_BYTES`];
//!   the progress view reads the job's counters only (never its report).

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use outbound_core::conversation::check_prospect;
use outbound_core::validation::Problems;
use outbound_store::imports::{Import, ImportStatus, NewImportRow, source};
use serde::Deserialize;
use std::collections::HashMap;

use super::{campaign_choices, done, form_status, wants_fragment};
use crate::AppState;
use crate::session::Signed;
use crate::view::{Choice, Chrome, PageError, Section, percent, render, render_status, url_escape};

/// Most rows of one file.
pub(crate) const MAX_ROWS: usize = 10_000;
/// Rows shown in the preview.
const PREVIEW_ROWS: usize = 10;
/// Seconds between refreshes of the progress view.
const PROGRESS_REFRESH_SECS: u32 = 1;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/imports/new", get(upload_form))
        .route("/imports/preview", post(preview))
        .route("/imports", post(start))
        .route("/imports/{list_id}", get(progress))
}

/// What a column becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Skip,
    Name,
    FirstName,
    LastName,
    Url,
    /// Folded into `customData` as `Header: value` lines.
    CustomData,
}

impl Target {
    const ALL: [Target; 6] = [
        Target::Skip,
        Target::Name,
        Target::FirstName,
        Target::LastName,
        Target::Url,
        Target::CustomData,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Target::Skip => "skip",
            Target::Name => "name",
            Target::FirstName => "first_name",
            Target::LastName => "last_name",
            Target::Url => "url",
            Target::CustomData => "custom_data",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Target::Skip => "Do not import",
            Target::Name => "Full name",
            Target::FirstName => "First name",
            Target::LastName => "Last name",
            Target::Url => "LinkedIn URL",
            Target::CustomData => "Custom data",
        }
    }

    fn parse(value: &str) -> Target {
        Target::ALL
            .into_iter()
            .find(|t| t.as_str() == value)
            .unwrap_or(Target::Skip)
    }

    /// The target of a header as exporters commonly name it.
    fn guess(header: &str) -> Target {
        let key: String = header
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        match key.as_str() {
            "name" | "fullname" | "prospectname" | "contactname" => Target::Name,
            "firstname" | "first" | "givenname" | "prenom" => Target::FirstName,
            "lastname" | "last" | "surname" | "familyname" | "nom" => Target::LastName,
            "url" | "linkedin" | "linkedinurl" | "profileurl" | "linkedinprofile"
            | "linkedinprofileurl" | "profile" | "personlinkedinurl" => Target::Url,
            "customdata" | "notes" | "note" | "company" | "companyname" | "title" | "jobtitle"
            | "position" | "headline" | "industry" | "location" | "city" | "country" => {
                Target::CustomData
            }
            _ => Target::Skip,
        }
    }
}

/// A parsed file: its header row and the rows after it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// Parses CSV text (comma or semicolon separated, a header row first, a byte-order mark
/// allowed), or says why not.
fn parse_csv(text: &str) -> Result<Table, String> {
    let text = text.trim_start_matches('\u{feff}');
    let first_line = text.lines().next().unwrap_or_default();
    let delimiter = if first_line.matches(';').count() > first_line.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| format!("The file is not CSV: {e}"))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    if headers.iter().all(String::is_empty) {
        return Err("The file has no header row.".to_owned());
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| format!("The file is not CSV: {e}"))?;
        if record.iter().all(|field| field.trim().is_empty()) {
            continue;
        }
        if rows.len() == MAX_ROWS {
            return Err(format!(
                "At most {MAX_ROWS} rows per file: split it in parts."
            ));
        }
        rows.push(record.iter().map(|f| f.trim().to_owned()).collect());
    }
    if rows.is_empty() {
        return Err("The file has a header row but no prospect.".to_owned());
    }
    Ok(Table { headers, rows })
}

/// The prospect a row makes under `mapping` (one target per column).
fn prospect_of(headers: &[String], row: &[String], mapping: &[Target]) -> NewImportRow {
    let mut name = String::new();
    let (mut first, mut last, mut url) = (String::new(), String::new(), String::new());
    let mut custom = Vec::new();
    for (i, target) in mapping.iter().enumerate() {
        let value = row.get(i).map(String::as_str).unwrap_or_default();
        if value.is_empty() {
            continue;
        }
        match target {
            Target::Skip => {}
            Target::Name => name = value.to_owned(),
            Target::FirstName => first = value.to_owned(),
            Target::LastName => last = value.to_owned(),
            Target::Url => url = value.to_owned(),
            Target::CustomData => {
                let header = headers.get(i).map(String::as_str).unwrap_or_default();
                custom.push(format!("{header}: {value}"));
            }
        }
    }
    if name.is_empty() {
        name = format!("{first} {last}").trim().to_owned();
    }
    NewImportRow {
        name,
        url,
        custom_data: custom.join("\n"),
        ongoing: false,
    }
}

/// The rows that pass the import rule, and how many did not.
fn valid_rows(table: &Table, mapping: &[Target]) -> (Vec<NewImportRow>, usize) {
    let mut rows = Vec::with_capacity(table.rows.len());
    let mut left_out = 0;
    for row in &table.rows {
        let prospect = prospect_of(&table.headers, row, mapping);
        let mut problems = Problems::new();
        check_prospect(
            &mut problems,
            "",
            &prospect.name,
            &prospect.url,
            &prospect.custom_data,
        );
        if problems.is_empty() {
            rows.push(prospect);
        } else {
            left_out += 1;
        }
    }
    (rows, left_out)
}

#[derive(Template)]
#[template(path = "import_new.html")]
struct UploadPage {
    chrome: Chrome,
    campaigns: Vec<Choice>,
    campaign: String,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct UploadQuery {
    #[serde(default)]
    campaign: String,
}

async fn upload_page(
    state: &AppState,
    signed: &Signed,
    campaign: String,
    error: Option<String>,
) -> Result<Response, PageError> {
    let status = form_status(error.is_some());
    let page = UploadPage {
        chrome: Chrome::new(signed, Section::Prospects, "Import prospects"),
        campaigns: campaign_choices(state, signed.team(), true).await?,
        campaign,
        error,
    };
    Ok(render_status(status, &page))
}

async fn upload_form(
    State(state): State<AppState>,
    signed: Signed,
    Query(query): Query<UploadQuery>,
) -> Result<Response, PageError> {
    upload_page(&state, &signed, query.campaign, None).await
}

/// One column of the mapping form.
struct Column {
    index: usize,
    header: String,
    target: Target,
    sample: String,
}

impl Column {
    fn options(&self) -> Vec<(&'static str, &'static str, bool)> {
        Target::ALL
            .into_iter()
            .map(|t| (t.as_str(), t.label(), t == self.target))
            .collect()
    }
}

/// A row of the preview.
struct PreviewRow {
    name: String,
    url: String,
    custom_data: String,
    ok: bool,
}

#[derive(Template)]
#[template(path = "import_map.html")]
struct MappingPage {
    chrome: Chrome,
    campaign: String,
    campaign_name: String,
    csv: String,
    columns: Vec<Column>,
    preview: Vec<PreviewRow>,
    total: usize,
    valid: usize,
    error: Option<String>,
}

fn mapping_page(
    signed: &Signed,
    campaign: String,
    campaign_name: String,
    csv: String,
    table: &Table,
    mapping: &[Target],
    error: Option<String>,
) -> Response {
    let columns = table
        .headers
        .iter()
        .enumerate()
        .map(|(index, header)| Column {
            index,
            header: header.clone(),
            target: mapping.get(index).copied().unwrap_or(Target::Skip),
            sample: table
                .rows
                .iter()
                .filter_map(|r| r.get(index))
                .find(|v| !v.is_empty())
                .cloned()
                .unwrap_or_default(),
        })
        .collect();
    let preview = table
        .rows
        .iter()
        .take(PREVIEW_ROWS)
        .map(|row| {
            let p = prospect_of(&table.headers, row, mapping);
            let mut problems = Problems::new();
            check_prospect(&mut problems, "", &p.name, &p.url, &p.custom_data);
            PreviewRow {
                ok: problems.is_empty(),
                name: p.name,
                url: p.url,
                custom_data: p.custom_data.replace('\n', " · "),
            }
        })
        .collect();
    let (valid, _) = valid_rows(table, mapping);
    let status = form_status(error.is_some());
    let page = MappingPage {
        chrome: Chrome::new(signed, Section::Prospects, "Map the columns"),
        campaign,
        campaign_name,
        csv,
        columns,
        preview,
        total: table.rows.len(),
        valid: valid.len(),
        error,
    };
    render_status(status, &page)
}

/// The name of the team's own campaign `id`, or 404.
async fn campaign_name(state: &AppState, team: &str, id: &str) -> Result<String, PageError> {
    let campaign = state.store.get_campaign(team, id).await?;
    if campaign.team_id != team {
        return Err(PageError::NotFound);
    }
    Ok(campaign.name)
}

/// Step 2: the uploaded file, read and auto-mapped.
async fn preview(
    State(state): State<AppState>,
    signed: Signed,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    let (mut campaign, mut text) = (String::new(), None);
    while let Ok(Some(field)) = multipart.next_field().await {
        match field.name() {
            Some("campaign") => campaign = field.text().await.unwrap_or_default(),
            Some("file") => {
                let bytes = field.bytes().await.map_err(|_| PageError::TooLarge)?;
                text = Some(String::from_utf8_lossy(&bytes).into_owned());
            }
            _ => {}
        }
    }
    if campaign.is_empty() {
        return upload_page(
            &state,
            &signed,
            campaign,
            Some("Choose a campaign.".to_owned()),
        )
        .await;
    }
    let name = campaign_name(&state, signed.team(), &campaign).await?;
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return upload_page(
            &state,
            &signed,
            campaign,
            Some("Choose a CSV file.".to_owned()),
        )
        .await;
    };
    let table = match parse_csv(&text) {
        Ok(table) => table,
        Err(problem) => return upload_page(&state, &signed, campaign, Some(problem)).await,
    };
    let mapping: Vec<Target> = table.headers.iter().map(|h| Target::guess(h)).collect();
    Ok(mapping_page(
        &signed, campaign, name, text, &table, &mapping, None,
    ))
}

/// Step 3: the mapping chosen, the job created.
async fn start(
    State(state): State<AppState>,
    signed: Signed,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let team = signed.team();
    let fields: HashMap<String, String> = fields.into_iter().collect();
    let field = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let campaign = field("campaign");
    let name = campaign_name(&state, team, &campaign).await?;
    let text = field("csv");
    let table = parse_csv(&text).map_err(|p| PageError::Refused(StatusCode::BAD_REQUEST, p))?;
    let mapping: Vec<Target> = (0..table.headers.len())
        .map(|i| Target::parse(&field(&format!("map_{i}"))))
        .collect();
    let problem = if !mapping.contains(&Target::Url) {
        Some("Choose the column that holds the LinkedIn URL.")
    } else if !mapping
        .iter()
        .any(|t| matches!(t, Target::Name | Target::FirstName | Target::LastName))
    {
        Some("Choose the column (or the columns) of the name.")
    } else {
        None
    };
    let (rows, left_out) = valid_rows(&table, &mapping);
    let problem = problem.or_else(|| {
        rows.is_empty()
            .then_some("No row has both a name and a URL with this mapping.")
    });
    if let Some(problem) = problem {
        return Ok(mapping_page(
            &signed,
            campaign,
            name,
            text,
            &table,
            &mapping,
            Some(problem.to_owned()),
        ));
    }
    let list_id = state
        .store
        .create_import(team, &campaign, source::DASHBOARD_CSV, &rows)
        .await?;
    tracing::info!(team = %team, list = %list_id, rows = rows.len(), left_out, "dashboard import queued");
    let path = format!("/app/imports/{}?left_out={left_out}", url_escape(&list_id));
    Ok(done(&path, "import-queued").into_response())
}

/// The figures of the progress view.
struct Progress {
    id: String,
    campaign_id: String,
    status: &'static str,
    finished: bool,
    total: i64,
    processed: i64,
    percent: i64,
    imported: i64,
    existing: i64,
    invalid: i64,
    skipped_dnc: i64,
}

fn progress_of(import: &Import) -> Progress {
    Progress {
        id: import.id.clone(),
        campaign_id: import.campaign_id.clone(),
        status: import.status.as_str(),
        finished: matches!(
            import.status,
            ImportStatus::Completed | ImportStatus::Failed
        ),
        total: import.total,
        processed: import.processed,
        percent: percent(import.processed, import.total),
        imported: import.imported,
        existing: import.existing,
        invalid: import.invalid,
        skipped_dnc: import.skipped_dnc,
    }
}

#[derive(Template)]
#[template(path = "import_progress.html")]
struct ProgressPage {
    chrome: Chrome,
    progress: Progress,
    campaign_name: String,
    left_out: u64,
    refresh_secs: u32,
}

#[derive(Template)]
#[template(path = "import_counts.html")]
struct CountsFragment {
    progress: Progress,
}

#[derive(Debug, Default, Deserialize)]
struct ProgressQuery {
    left_out: Option<u64>,
}

async fn progress(
    State(state): State<AppState>,
    signed: Signed,
    Path(list_id): Path<String>,
    Query(query): Query<ProgressQuery>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let team = signed.team();
    let import = state.store.get_import_summary(team, &list_id).await?;
    let progress = progress_of(&import);
    if wants_fragment(&headers) {
        return Ok(render(&CountsFragment { progress }));
    }
    let campaign_name = state
        .store
        .get_campaign(team, &import.campaign_id)
        .await
        .map(|c| c.name)
        .unwrap_or_default();
    let page = ProgressPage {
        chrome: Chrome::new(&signed, Section::Prospects, "Import"),
        progress,
        campaign_name,
        left_out: query.left_out.unwrap_or(0),
        refresh_secs: PROGRESS_REFRESH_SECS,
    };
    Ok(render(&page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_headers_are_recognised() {
        assert_eq!(Target::guess("LinkedIn URL"), Target::Url);
        assert_eq!(Target::guess("First Name"), Target::FirstName);
        assert_eq!(Target::guess("last_name"), Target::LastName);
        assert_eq!(Target::guess("Company"), Target::CustomData);
        assert_eq!(Target::guess("Phone"), Target::Skip);
    }

    #[test]
    fn a_file_is_read_with_its_separator_and_mark() {
        let table = parse_csv("\u{feff}First name;Last name;Profile\nAda;Lovelace;https://www.linkedin.com/in/ada\n;;\n")
            .expect("csv");
        assert_eq!(table.headers, ["First name", "Last name", "Profile"]);
        assert_eq!(table.rows.len(), 1, "the blank row is dropped");
        assert!(parse_csv("name,url\n").is_err(), "no prospect");
    }

    #[test]
    fn rows_become_prospects_and_incomplete_rows_are_left_out() {
        let table = parse_csv(
            "First,Last,URL,Company,Phone\n\
             Ada,Lovelace,https://www.linkedin.com/in/ada,Analytical,123\n\
             Bob,,,Nowhere,456\n",
        )
        .expect("csv");
        let mapping: Vec<Target> = table.headers.iter().map(|h| Target::guess(h)).collect();
        let (rows, left_out) = valid_rows(&table, &mapping);
        assert_eq!(left_out, 1);
        assert_eq!(rows[0].name, "Ada Lovelace");
        assert_eq!(rows[0].custom_data, "Company: Analytical");
    }
}
