//! Who may read what. A team writes only its own rows. It reads its own rows and, as the client
//! team of an agency workspace, the campaigns (with their chats, messages and prospects) of the
//! agents assigned to that workspace — and nothing else. Write queries filter on `team_id`
//! alone; read queries use [`readable_campaign!`] for the campaign alias `c`.

/// SQL condition: campaign alias `c` is readable by the team bound as `$1`. Expands to a string
/// literal, for `concat!`.
#[macro_export]
macro_rules! readable_campaign {
    () => {
        "(c.team_id = $1 OR c.agent_id IN (SELECT wa.agent_id FROM workspace_agents wa \
         JOIN workspaces w ON w.id = wa.workspace_id WHERE w.client_team_id = $1))"
    };
}
