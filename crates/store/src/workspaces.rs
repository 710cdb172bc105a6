//! Agency workspaces. A workspace belongs to an agency team and owns a real client team (created
//! with it, in the same transaction, on plan [`CLIENT_TEAM_PLAN`]). Assigning one of the
//! agency's agents to a workspace lets the client team *read* that agent's campaigns, chats and
//! prospects (the rule lives in [`crate::readable_campaign!`]); unassigning it, or deleting the
//! workspace, takes the access away with the same commit. Members are invited client users,
//! unique per workspace by lowercased email.
//!
//! Deleting a workspace removes its members and assignments; the client team itself stays (its
//! keys keep authenticating but see none of the agency's data any more), since it may hold rows
//! of its own.
//!
//! `propagated` and deletion counts are computed in the write transaction: the campaigns of the
//! agents concerned, the chats of those campaigns and the distinct prospects of those chats.

use outbound_core::ids::new_id;
use outbound_core::plan::Plan;
use outbound_core::time::{Millis, now_millis};

use crate::{StoreError, StoreResult};

/// The plan of a client team: no quotas (like the agency's own plan) and no workspaces of its
/// own. The client team gets read access to the agency's data through assignments; it never
/// needs to create anything for this feature.
pub const CLIENT_TEAM_PLAN: Plan = Plan::Unlimited;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Workspace {
    pub id: String,
    pub name: String,
    pub client_team_id: String,
    pub created_at: Millis,
}

/// What a client team can read through one agent (or through every agent of a workspace).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Propagated {
    pub campaigns: i64,
    pub chats: i64,
    pub prospects: i64,
}

/// What deleting a workspace took away from its client team.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkspaceDeletion {
    pub agents_unassigned: i64,
    pub campaigns_updated: i64,
    pub chats_updated: i64,
}

/// A new membership, with what an invitation email needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub id: String,
    /// The same for one email across the agency's workspaces.
    pub user_id: String,
    /// Lowercased.
    pub email: String,
    pub roles: Vec<String>,
    pub workspace: Workspace,
    /// The name of the agency team, to sign the invitation.
    pub agency_name: String,
    pub created_at: Millis,
}

/// The outcome of assigning or unassigning an agent in an existing workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentAssignment {
    /// Done; what the client team can now read (assign) or no longer reads (unassign).
    Done(Propagated),
    /// The agency team has no agent with that id.
    UnknownAgent,
    /// Unassign only: the agent exists but is not assigned to this workspace.
    NotAssigned,
}

#[async_trait::async_trait]
pub trait WorkspaceStore {
    /// The agency team's workspaces, newest first.
    async fn list_workspaces(&self, team: &str) -> StoreResult<Vec<Workspace>>;
    /// A workspace named `name` with a new client team of the same name.
    async fn create_workspace(&self, team: &str, name: &str) -> StoreResult<Workspace>;
    /// Deletes the workspace with its members and agent assignments. `NotFound` when the team
    /// has no such workspace.
    async fn delete_workspace(&self, team: &str, id: &str) -> StoreResult<WorkspaceDeletion>;
    /// Records `email` (lowercased by the caller) as a member. `NotFound` for an unknown
    /// workspace, `AlreadyExists` when the email is a member already.
    async fn add_workspace_member(
        &self,
        team: &str,
        id: &str,
        email: &str,
        roles: &[String],
    ) -> StoreResult<Membership>;
    /// Removes the member named by `who`; returns their email, none when there was no such
    /// member. `NotFound` for an unknown workspace.
    async fn remove_workspace_member(
        &self,
        team: &str,
        id: &str,
        who: &MemberRef,
    ) -> StoreResult<Option<String>>;
    /// Gives the client team read access to the agent's campaigns (idempotent). `NotFound` for
    /// an unknown workspace.
    async fn assign_workspace_agent(
        &self,
        team: &str,
        id: &str,
        agent: &str,
    ) -> StoreResult<AgentAssignment>;
    /// Takes that access away. `NotFound` for an unknown workspace.
    async fn unassign_workspace_agent(
        &self,
        team: &str,
        id: &str,
        agent: &str,
    ) -> StoreResult<AgentAssignment>;
}

/// How a client is named when removed: by the email they were invited with, or by the user id
/// the invitation returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberRef {
    Email(String),
    UserId(String),
}

const SELECT_WORKSPACE: &str = "SELECT id, name, client_team_id, created_at FROM workspaces \
                                WHERE team_id = $1 AND id = $2";
const LIST_WORKSPACES: &str = "SELECT id, name, client_team_id, created_at FROM workspaces \
                               WHERE team_id = $1 ORDER BY created_at DESC, id DESC";
const INSERT_CLIENT_TEAM: &str = "INSERT INTO teams (id, name, plan, subscription_active, \
                                  created_at) VALUES ($1, $2, $3, TRUE, $4)";
const INSERT_WORKSPACE: &str = "INSERT INTO workspaces (id, team_id, name, client_team_id, \
                                created_at) VALUES ($1, $2, $3, $4, $5)";
const AGENT_EXISTS: &str = "SELECT id FROM agents WHERE team_id = $1 AND id = $2";
/// The user id the agency already gave this email in one of its workspaces.
const KNOWN_USER: &str = "SELECT m.user_id FROM workspace_members m \
                          JOIN workspaces w ON w.id = m.workspace_id \
                          WHERE w.team_id = $1 AND m.email = $2 \
                          ORDER BY m.created_at, m.id LIMIT 1";
const MEMBER_IN_WORKSPACE: &str =
    "SELECT id FROM workspace_members WHERE workspace_id = $1 AND email = $2";
const INSERT_MEMBER: &str = "INSERT INTO workspace_members (id, workspace_id, email, user_id, \
                             roles, created_at) VALUES ($1, $2, $3, $4, $5, $6)";

/// Counts what the agents chosen by `$agents` give access to, for `concat!`: campaigns whose
/// agent is in the set, their chats, and the distinct prospects of those chats (read from the
/// unique `(campaign_id, prospect_id)` index alone).
macro_rules! propagation_of {
    ($agents:expr) => {
        concat!(
            "SELECT (SELECT COUNT(*) FROM campaigns c WHERE c.agent_id IN (",
            $agents,
            ")) AS campaigns, COUNT(*) AS chats, COUNT(DISTINCT h.prospect_id) AS prospects \
             FROM chats h WHERE h.campaign_id IN (SELECT c.id FROM campaigns c \
             WHERE c.agent_id IN (",
            $agents,
            "))"
        )
    };
}

/// Through the agent bound as `$1`.
const PROPAGATION_OF_AGENT: &str = propagation_of!("$1");
/// Through every agent assigned to the workspace bound as `$1`.
const PROPAGATION_OF_WORKSPACE: &str =
    propagation_of!("SELECT wa.agent_id FROM workspace_agents wa WHERE wa.workspace_id = $1");

fn roles_json(roles: &[String]) -> String {
    serde_json::to_string(roles).unwrap_or_else(|_| "[\"member\"]".to_owned())
}

macro_rules! impl_workspace_store {
    ($store:ty) => {
        impl $store {
            async fn workspace_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                team: &str,
                id: &str,
            ) -> StoreResult<Workspace> {
                sqlx::query_as::<_, Workspace>(SELECT_WORKSPACE)
                    .bind(team)
                    .bind(id)
                    .fetch_optional(&mut **tx)
                    .await?
                    .ok_or(StoreError::NotFound)
            }

            async fn agent_exists_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                team: &str,
                agent: &str,
            ) -> StoreResult<bool> {
                let found: Option<String> = sqlx::query_scalar(AGENT_EXISTS)
                    .bind(team)
                    .bind(agent)
                    .fetch_optional(&mut **tx)
                    .await?;
                Ok(found.is_some())
            }

            async fn propagation_in(
                tx: &mut sqlx::Transaction<'static, <$store as crate::Backend>::Db>,
                sql: &'static str,
                id: &str,
            ) -> StoreResult<Propagated> {
                Ok(sqlx::query_as::<_, Propagated>(sql)
                    .bind(id)
                    .fetch_one(&mut **tx)
                    .await?)
            }
        }

        #[async_trait::async_trait]
        impl WorkspaceStore for $store {
            async fn list_workspaces(&self, team: &str) -> StoreResult<Vec<Workspace>> {
                Ok(sqlx::query_as::<_, Workspace>(LIST_WORKSPACES)
                    .bind(team)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn create_workspace(&self, team: &str, name: &str) -> StoreResult<Workspace> {
                let workspace = Workspace {
                    id: new_id(),
                    name: name.to_owned(),
                    client_team_id: new_id(),
                    created_at: now_millis(),
                };
                let mut tx = self.begin_write().await?;
                sqlx::query(INSERT_CLIENT_TEAM)
                    .bind(&workspace.client_team_id)
                    .bind(name)
                    .bind(CLIENT_TEAM_PLAN.as_str())
                    .bind(workspace.created_at)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(INSERT_WORKSPACE)
                    .bind(&workspace.id)
                    .bind(team)
                    .bind(name)
                    .bind(&workspace.client_team_id)
                    .bind(workspace.created_at)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(workspace)
            }

            async fn delete_workspace(
                &self,
                team: &str,
                id: &str,
            ) -> StoreResult<WorkspaceDeletion> {
                let mut tx = self.begin_write().await?;
                Self::workspace_in(&mut tx, team, id).await?;
                let reach = Self::propagation_in(&mut tx, PROPAGATION_OF_WORKSPACE, id).await?;
                let agents: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM workspace_agents WHERE workspace_id = $1",
                )
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM workspaces WHERE team_id = $1 AND id = $2")
                    .bind(team)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(WorkspaceDeletion {
                    agents_unassigned: agents,
                    campaigns_updated: reach.campaigns,
                    chats_updated: reach.chats,
                })
            }

            async fn add_workspace_member(
                &self,
                team: &str,
                id: &str,
                email: &str,
                roles: &[String],
            ) -> StoreResult<Membership> {
                let mut tx = self.begin_write().await?;
                // Serialises invitations of one agency, so one email gets one user id.
                Self::lock_team(&mut tx, team).await?;
                let workspace = Self::workspace_in(&mut tx, team, id).await?;
                let existing: Option<String> = sqlx::query_scalar(MEMBER_IN_WORKSPACE)
                    .bind(id)
                    .bind(email)
                    .fetch_optional(&mut *tx)
                    .await?;
                if existing.is_some() {
                    return Err(StoreError::AlreadyExists);
                }
                let known_user: Option<String> = sqlx::query_scalar(KNOWN_USER)
                    .bind(team)
                    .bind(email)
                    .fetch_optional(&mut *tx)
                    .await?;
                let user_id = known_user.unwrap_or_else(new_id);
                let agency_name: String =
                    sqlx::query_scalar("SELECT name FROM teams WHERE id = $1")
                        .bind(team)
                        .fetch_one(&mut *tx)
                        .await?;
                let membership = Membership {
                    id: new_id(),
                    user_id,
                    email: email.to_owned(),
                    roles: roles.to_vec(),
                    workspace,
                    agency_name,
                    created_at: now_millis(),
                };
                sqlx::query(INSERT_MEMBER)
                    .bind(&membership.id)
                    .bind(id)
                    .bind(email)
                    .bind(&membership.user_id)
                    .bind(roles_json(roles))
                    .bind(membership.created_at)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(membership)
            }

            async fn remove_workspace_member(
                &self,
                team: &str,
                id: &str,
                who: &MemberRef,
            ) -> StoreResult<Option<String>> {
                let (sql, value) = match who {
                    MemberRef::Email(email) => (
                        "DELETE FROM workspace_members WHERE workspace_id = $1 AND email = $2 \
                         RETURNING email",
                        email,
                    ),
                    MemberRef::UserId(user) => (
                        "DELETE FROM workspace_members WHERE workspace_id = $1 AND user_id = $2 \
                         RETURNING email",
                        user,
                    ),
                };
                let mut tx = self.begin_write().await?;
                Self::workspace_in(&mut tx, team, id).await?;
                let removed: Option<(String,)> = sqlx::query_as(sql)
                    .bind(id)
                    .bind(value)
                    .fetch_optional(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(removed.map(|(email,)| email))
            }

            async fn assign_workspace_agent(
                &self,
                team: &str,
                id: &str,
                agent: &str,
            ) -> StoreResult<AgentAssignment> {
                let mut tx = self.begin_write().await?;
                Self::workspace_in(&mut tx, team, id).await?;
                if !Self::agent_exists_in(&mut tx, team, agent).await? {
                    return Ok(AgentAssignment::UnknownAgent);
                }
                sqlx::query(
                    "INSERT INTO workspace_agents (workspace_id, agent_id, created_at) \
                     VALUES ($1, $2, $3) ON CONFLICT (workspace_id, agent_id) DO NOTHING",
                )
                .bind(id)
                .bind(agent)
                .bind(now_millis())
                .execute(&mut *tx)
                .await?;
                let reach = Self::propagation_in(&mut tx, PROPAGATION_OF_AGENT, agent).await?;
                tx.commit().await?;
                Ok(AgentAssignment::Done(reach))
            }

            async fn unassign_workspace_agent(
                &self,
                team: &str,
                id: &str,
                agent: &str,
            ) -> StoreResult<AgentAssignment> {
                let mut tx = self.begin_write().await?;
                Self::workspace_in(&mut tx, team, id).await?;
                if !Self::agent_exists_in(&mut tx, team, agent).await? {
                    return Ok(AgentAssignment::UnknownAgent);
                }
                let removed = sqlx::query(
                    "DELETE FROM workspace_agents WHERE workspace_id = $1 AND agent_id = $2",
                )
                .bind(id)
                .bind(agent)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if removed == 0 {
                    return Ok(AgentAssignment::NotAssigned);
                }
                let reach = Self::propagation_in(&mut tx, PROPAGATION_OF_AGENT, agent).await?;
                tx.commit().await?;
                Ok(AgentAssignment::Done(reach))
            }
        }
    };
}

impl_workspace_store!(crate::sqlite::SqliteStore);
impl_workspace_store!(crate::postgres::PgStore);
