//! Agency workspaces: list, create (with a real client team), delete, invite and remove client
//! users, assign and unassign agents. Only teams on the `agency` plan may call these routes;
//! others get 403 `agency_plan_required` before their input is even read.
//!
//! Decisions:
//! - a workspace, agent or member of another team is 404, like every other resource (the
//!   catalogue's 403 "does not belong to this team" would confirm that the id exists);
//! - an assignment gives API keys of the client team read access (GET routes) to the agent's
//!   campaigns, conversations and prospects (`outbound_store::readable_campaign!`), nothing
//!   else; keys for a client team come from `outbound keys create --team <clientTeamId>`;
//! - assigning twice is a no-op that reports the same counts; unassigning an agent that is not
//!   assigned is 404;
//! - an invitation is recorded first, then emailed when SMTP is configured; `emailSent` says
//!   whether the server accepted the email, and a failure is logged, never an error;
//! - `portalUrl` is the invitation's `redirectUrl`, else the server's public URL (setting
//!   `public_url`, else the request's `Host`).

use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use lettre::Address;
use outbound_core::plan::Plan;
use outbound_core::time::iso8601;
use outbound_core::validation::Problems;
use outbound_store::StoreError;
use outbound_store::workspaces::{AgentAssignment, MemberRef, Membership, Propagated, Workspace};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody, NotFoundAs};
use crate::extract::{ApiJson, Tenant};
use crate::mailer::{Email, parse_address};

const WORKSPACE_NOT_FOUND: &str = "Workspace not found";
const AGENT_NOT_FOUND: &str = "Agent not found";
const CLIENT_NOT_FOUND: &str = "Client not found in this workspace";
const AGENT_NOT_ASSIGNED: &str = "Agent is not assigned to this workspace";
/// Length bounds of a workspace name, in characters, after trimming.
const NAME_LEN: (usize, usize) = (1, 100);
/// Longest email address (RFC 5321 path limit).
const MAX_EMAIL_LEN: usize = 254;
/// Most roles of one member, and the longest role name.
const MAX_ROLES: usize = 10;
const MAX_ROLE_LEN: usize = 32;
/// The role of a member invited without `roles`.
const DEFAULT_ROLE: &str = "member";
/// Longest `redirectUrl`.
const MAX_URL_LEN: usize = 2048;
/// The portal when neither `redirectUrl`, `public_url` nor a `Host` header says better.
const FALLBACK_PORTAL: &str = "http://localhost";

/// The authenticated team, known to be on the agency plan.
#[derive(Debug, Clone)]
pub struct Agency(Tenant);

impl<S: Send + Sync> FromRequestParts<S> for Agency {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let tenant = Tenant::from_request_parts(parts, state).await?;
        if tenant.plan == Plan::Agency {
            Ok(Agency(tenant))
        } else {
            Err(ApiError::AgencyPlanRequired)
        }
    }
}

impl Agency {
    fn team(&self) -> &str {
        &self.0.team_id
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceView {
    id: String,
    name: String,
    /// The client team: create its API keys with `outbound keys create --team <clientTeamId>`.
    client_team_id: String,
    created_at: String,
}

impl From<Workspace> for WorkspaceView {
    fn from(w: Workspace) -> Self {
        WorkspaceView {
            id: w.id,
            name: w.name,
            client_team_id: w.client_team_id,
            created_at: iso8601(w.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkspaceList {
    workspaces: Vec<WorkspaceView>,
    total: usize,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateWorkspaceRequest {
    /// Display name, 1 to 100 characters; also the client team's name.
    name: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeletionStats {
    agents_unassigned: i64,
    /// Campaigns of those agents the client team could read.
    campaigns_updated: i64,
    /// Conversations of those campaigns.
    chats_updated: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeleteWorkspaceResponse {
    message: &'static str,
    stats: DeletionStats,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InviteRequest {
    /// The client's email address.
    email: String,
    /// Default `["member"]`; up to 10 names of letters, digits, `_` and `-`.
    roles: Option<Vec<String>>,
    /// Where the client should go (http or https); default the server's public URL.
    redirect_url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InviteResponse {
    membership_id: String,
    /// The same for one email across the agency's workspaces.
    user_id: String,
    email: String,
    portal_url: String,
    /// Whether the SMTP server accepted the invitation email.
    email_sent: bool,
}

/// The client to remove: by `email`, or (our extension) by the `userId` the invitation
/// returned; exactly one of the two.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemoveClientRequest {
    /// The client's email address.
    email: Option<String>,
    /// The client's user id, from the invitation.
    user_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RemoveClientResponse {
    message: &'static str,
    email: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PropagatedView {
    campaigns: i64,
    chats: i64,
    /// Distinct prospects of those chats.
    prospects: i64,
}

impl From<Propagated> for PropagatedView {
    fn from(p: Propagated) -> Self {
        PropagatedView {
            campaigns: p.campaigns,
            chats: p.chats,
            prospects: p.prospects,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssignResponse {
    agent_id: String,
    workspace_id: String,
    /// What the client team can now read.
    propagated: PropagatedView,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UnassignResponse {
    message: &'static str,
    agent_id: String,
    /// What the client team can no longer read.
    propagated: PropagatedView,
}

/// The trimmed name, or the problem with it.
fn workspace_name(name: &str) -> ApiResult<&str> {
    let name = name.trim();
    let mut problems = Problems::new();
    problems.check_len("name", name, NAME_LEN.0, NAME_LEN.1);
    if name.chars().any(char::is_control) {
        problems.add("name", "The name must not contain control characters");
    }
    problems.into_result().map_err(ApiError::Validation)?;
    Ok(name)
}

/// The address, checked and lowercased.
fn email_address(email: &str) -> ApiResult<Address> {
    let email = email.trim().to_lowercase();
    if email.len() > MAX_EMAIL_LEN {
        return Err(ApiError::field(
            "email",
            format!("The email address is longer than {MAX_EMAIL_LEN} characters"),
        ));
    }
    parse_address(&email).ok_or_else(|| ApiError::field("email", "Invalid email address"))
}

fn is_role_name(role: &str) -> bool {
    (1..=MAX_ROLE_LEN).contains(&role.len())
        && role
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The roles, default `["member"]`, without duplicates, in request order.
fn roles(requested: Option<Vec<String>>) -> ApiResult<Vec<String>> {
    let Some(requested) = requested else {
        return Ok(vec![DEFAULT_ROLE.to_owned()]);
    };
    if requested.is_empty() || requested.len() > MAX_ROLES {
        return Err(ApiError::field(
            "roles",
            format!("Give 1 to {MAX_ROLES} roles"),
        ));
    }
    let mut roles: Vec<String> = Vec::with_capacity(requested.len());
    for (i, role) in requested.into_iter().enumerate() {
        if !is_role_name(&role) {
            return Err(ApiError::field(
                &format!("roles[{i}]"),
                format!("A role is 1 to {MAX_ROLE_LEN} letters, digits, '_' or '-'"),
            ));
        }
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    Ok(roles)
}

/// An absolute http(s) URL.
fn redirect_url(url: Option<String>) -> ApiResult<Option<String>> {
    let Some(url) = url else {
        return Ok(None);
    };
    let url = url.trim();
    let valid = url.len() <= MAX_URL_LEN
        && url::Url::parse(url)
            .is_ok_and(|parsed| matches!(parsed.scheme(), "http" | "https") && parsed.has_host());
    if valid {
        Ok(Some(url.to_owned()))
    } else {
        Err(ApiError::field(
            "redirectUrl",
            format!("An absolute http or https URL of at most {MAX_URL_LEN} characters"),
        ))
    }
}

/// The server's public URL: the setting, else `http://<Host>` when the header is a plain
/// authority.
fn public_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.public_url {
        return url.to_string();
    }
    headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .map(|host| format!("http://{host}"))
        .filter(|url| {
            url::Url::parse(url).is_ok_and(|parsed| {
                parsed.path() == "/"
                    && parsed.query().is_none()
                    && parsed.username().is_empty()
                    && url.len() <= MAX_URL_LEN
            })
        })
        .unwrap_or_else(|| FALLBACK_PORTAL.to_owned())
}

/// The invitation email of `membership`.
fn invitation_email(to: Address, membership: &Membership, portal_url: &str) -> Email {
    let workspace = &membership.workspace.name;
    let agency = &membership.agency_name;
    Email {
        to,
        subject: format!("You are invited to the {workspace} workspace"),
        body: format!(
            "Hello,\n\n\
             {agency} invited you to the client workspace \"{workspace}\".\n\n\
             There you follow the campaigns, conversations and prospects they run\n\
             for you, with the API key of the workspace that your agency gives you.\n\n\
             Open your portal: {portal_url}\n\n\
             If you did not expect this invitation, you can ignore this email.\n"
        ),
    }
}

/// Emails the invitation when SMTP is configured; whether the server accepted it.
async fn send_invitation(state: &AppState, email: Email, membership_id: &str) -> bool {
    let Some(mailer) = &state.mailer else {
        return false;
    };
    match mailer.send(email).await {
        Ok(()) => true,
        Err(error) => {
            tracing::warn!(%error, membership_id, "the invitation email was not sent");
            false
        }
    }
}

fn assignment(outcome: AgentAssignment) -> ApiResult<Propagated> {
    match outcome {
        AgentAssignment::Done(propagated) => Ok(propagated),
        AgentAssignment::UnknownAgent => Err(ApiError::NotFound(AGENT_NOT_FOUND)),
        AgentAssignment::NotAssigned => Err(ApiError::NotFound(AGENT_NOT_ASSIGNED)),
    }
}

/// List the agency's client workspaces, newest first.
#[utoipa::path(
    get,
    path = "/v1/workspaces",
    tag = "Workspaces",
    responses(
        (status = 200, description = "Workspaces", body = WorkspaceList),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 403, description = "Agency plan required", body = ErrorBody),
    )
)]
pub async fn list_workspaces(
    State(state): State<AppState>,
    agency: Agency,
) -> ApiResult<Json<WorkspaceList>> {
    let workspaces = state.store.list_workspaces(agency.team()).await?;
    Ok(Json(WorkspaceList {
        total: workspaces.len(),
        workspaces: workspaces.into_iter().map(WorkspaceView::from).collect(),
    }))
}

/// Create a client workspace, with its client team.
#[utoipa::path(
    post,
    path = "/v1/workspaces",
    tag = "Workspaces",
    request_body = CreateWorkspaceRequest,
    responses(
        (status = 201, description = "Created", body = WorkspaceView),
        (status = 400, description = "Validation error", body = ErrorBody),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 403, description = "Agency plan required", body = ErrorBody),
    )
)]
pub async fn create_workspace(
    State(state): State<AppState>,
    agency: Agency,
    ApiJson(body): ApiJson<CreateWorkspaceRequest>,
) -> ApiResult<(StatusCode, Json<WorkspaceView>)> {
    let name = workspace_name(&body.name)?;
    let workspace = state.store.create_workspace(agency.team(), name).await?;
    Ok((StatusCode::CREATED, Json(workspace.into())))
}

/// Delete a workspace: its members and agent assignments go, and the client team loses every
/// access at once.
#[utoipa::path(
    delete,
    path = "/v1/workspaces/{id}",
    tag = "Workspaces",
    params(("id" = String, Path, description = "Workspace id")),
    responses(
        (status = 200, description = "Deleted", body = DeleteWorkspaceResponse),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 403, description = "Agency plan required", body = ErrorBody),
        (status = 404, description = "Workspace not found", body = ErrorBody),
    )
)]
pub async fn delete_workspace(
    State(state): State<AppState>,
    agency: Agency,
    Path(id): Path<String>,
) -> ApiResult<Json<DeleteWorkspaceResponse>> {
    let deletion = state
        .store
        .delete_workspace(agency.team(), &id)
        .await
        .or_not_found(WORKSPACE_NOT_FOUND)?;
    Ok(Json(DeleteWorkspaceResponse {
        message: "Workspace deleted successfully",
        stats: DeletionStats {
            agents_unassigned: deletion.agents_unassigned,
            campaigns_updated: deletion.campaigns_updated,
            chats_updated: deletion.chats_updated,
        },
    }))
}

/// Invite a client user by email; the email goes out when SMTP is configured.
#[utoipa::path(
    post,
    path = "/v1/workspaces/{id}/invite",
    tag = "Workspaces",
    params(("id" = String, Path, description = "Workspace id")),
    request_body = InviteRequest,
    responses(
        (status = 201, description = "Invited", body = InviteResponse),
        (status = 400, description = "Invalid email address or roles", body = ErrorBody),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 403, description = "Agency plan required", body = ErrorBody),
        (status = 404, description = "Workspace not found", body = ErrorBody),
        (status = 409, description = "Already a member (`already_member`)", body = ErrorBody),
    )
)]
pub async fn invite_client(
    State(state): State<AppState>,
    agency: Agency,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<InviteRequest>,
) -> ApiResult<(StatusCode, Json<InviteResponse>)> {
    let address = email_address(&body.email)?;
    let roles = roles(body.roles)?;
    let redirect = redirect_url(body.redirect_url)?;
    let email = address.to_string();
    let membership = state
        .store
        .add_workspace_member(agency.team(), &id, &email, &roles)
        .await
        .map_err(|error| match error {
            StoreError::AlreadyExists => ApiError::AlreadyMember(email.clone()),
            StoreError::NotFound => ApiError::NotFound(WORKSPACE_NOT_FOUND),
            other => other.into(),
        })?;
    let portal_url = redirect.unwrap_or_else(|| public_url(&state, &headers));
    let message = invitation_email(address, &membership, &portal_url);
    let email_sent = send_invitation(&state, message, &membership.id).await;
    Ok((
        StatusCode::CREATED,
        Json(InviteResponse {
            membership_id: membership.id,
            user_id: membership.user_id,
            email: membership.email,
            portal_url,
            email_sent,
        }),
    ))
}

/// Remove a client user from the workspace, by email (JSON body).
#[utoipa::path(
    delete,
    path = "/v1/workspaces/{id}/clients",
    tag = "Workspaces",
    params(("id" = String, Path, description = "Workspace id")),
    request_body = RemoveClientRequest,
    responses(
        (status = 200, description = "Removed", body = RemoveClientResponse),
        (status = 400, description = "Invalid email address", body = ErrorBody),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 403, description = "Agency plan required", body = ErrorBody),
        (status = 404, description = "Workspace or client not found", body = ErrorBody),
    )
)]
pub async fn remove_client(
    State(state): State<AppState>,
    agency: Agency,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RemoveClientRequest>,
) -> ApiResult<Json<RemoveClientResponse>> {
    let who = match (body.email, body.user_id) {
        (Some(email), None) => MemberRef::Email(email_address(&email)?.to_string()),
        (None, Some(user)) if !user.trim().is_empty() => MemberRef::UserId(user.trim().to_owned()),
        (None, _) => return Err(ApiError::field("email", "The email field is required")),
        (Some(_), Some(_)) => {
            return Err(ApiError::field(
                "userId",
                "Give either email or userId, not both",
            ));
        }
    };
    let email = state
        .store
        .remove_workspace_member(agency.team(), &id, &who)
        .await
        .or_not_found(WORKSPACE_NOT_FOUND)?
        .ok_or(ApiError::NotFound(CLIENT_NOT_FOUND))?;
    Ok(Json(RemoveClientResponse {
        message: "Client removed from workspace",
        email,
    }))
}

/// Assign one of the agency's agents: the client team can then read the agent's campaigns,
/// conversations and prospects.
#[utoipa::path(
    post,
    path = "/v1/workspaces/{id}/agents/{agentId}",
    tag = "Workspaces",
    params(
        ("id" = String, Path, description = "Workspace id"),
        ("agentId" = String, Path, description = "Agent id"),
    ),
    responses(
        (status = 200, description = "Assigned", body = AssignResponse),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 403, description = "Agency plan required", body = ErrorBody),
        (status = 404, description = "Workspace or agent not found", body = ErrorBody),
    )
)]
pub async fn assign_agent(
    State(state): State<AppState>,
    agency: Agency,
    Path((id, agent_id)): Path<(String, String)>,
) -> ApiResult<Json<AssignResponse>> {
    let outcome = state
        .store
        .assign_workspace_agent(agency.team(), &id, &agent_id)
        .await
        .or_not_found(WORKSPACE_NOT_FOUND)?;
    Ok(Json(AssignResponse {
        propagated: assignment(outcome)?.into(),
        agent_id,
        workspace_id: id,
    }))
}

/// Unassign an agent: the client team loses access to its campaigns at once. The agent stays.
#[utoipa::path(
    delete,
    path = "/v1/workspaces/{id}/agents/{agentId}",
    tag = "Workspaces",
    params(
        ("id" = String, Path, description = "Workspace id"),
        ("agentId" = String, Path, description = "Agent id"),
    ),
    responses(
        (status = 200, description = "Unassigned", body = UnassignResponse),
        (status = 401, description = "Invalid or missing API key", body = ErrorBody),
        (status = 403, description = "Agency plan required", body = ErrorBody),
        (status = 404, description = "Workspace or agent not found, or agent not assigned", body = ErrorBody),
    )
)]
pub async fn unassign_agent(
    State(state): State<AppState>,
    agency: Agency,
    Path((id, agent_id)): Path<(String, String)>,
) -> ApiResult<Json<UnassignResponse>> {
    let outcome = state
        .store
        .unassign_workspace_agent(agency.team(), &id, &agent_id)
        .await
        .or_not_found(WORKSPACE_NOT_FOUND)?;
    Ok(Json(UnassignResponse {
        message: "Agent unassigned from workspace",
        propagated: assignment(outcome)?.into(),
        agent_id,
    }))
}
