//! What a person reads on stderr when the server starts: where it listens, what it stores in,
//! what it reaches LinkedIn and the language models through, and — on the first start, next to
//! the new key — the two next steps.
//!
//! Rule: these lines are for people only (stderr); the one line a script reads, `API key: …`,
//! stays alone on stdout. Nothing here prints a secret but the key it is given.

use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use outbound_store::teams::Team;

use crate::config::{Config, LinkedInConnectorKind, sqlite_file_path};

/// The URL a person on this machine reaches the server at: a wildcard listening address
/// (`0.0.0.0`, `::`) is reached through loopback.
pub fn base_url(local: SocketAddr) -> String {
    let ip = match local.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, local.port()))
}

/// Where the data lives, in words.
fn database(config: &Config) -> String {
    if outbound_store::is_postgres_url(&config.database_url) {
        return format!("PostgreSQL {}", config.redacted_database_url());
    }
    match sqlite_file_path(&config.database_url) {
        Some(path) => format!("SQLite file {}", path.display()),
        None => "SQLite in memory (everything is lost when the server stops)".to_owned(),
    }
}

/// The LinkedIn side, in words.
fn linkedin(config: &Config) -> &'static str {
    match config.linkedin_connector {
        LinkedInConnectorKind::Sandbox => {
            "sandbox: a simulated network, nothing reaches LinkedIn (linkedin_connector = \"unipile\" for real accounts)"
        }
        LinkedInConnectorKind::Unipile => "Unipile: real LinkedIn accounts",
    }
}

/// The language models, in words.
fn models(config: &Config) -> String {
    let providers = config.configured_providers();
    if providers.is_empty() {
        "the offline `template` model: messages are your prompt's own text with its variables \
         filled in (configure a provider, e.g. OUTBOUND_OLLAMA_BASE_URL, for AI-written ones)"
            .to_owned()
    } else {
        format!(
            "`template` and the models of {} (GET /v1/models lists them)",
            providers.join(", ")
        )
    }
}

/// The lines printed once the server listens at `base`.
pub fn summary(config: &Config, base: &str, time_scale: Option<f64>) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "Listening on {base}");
    let _ = writeln!(
        text,
        "  API        {base}/v1  (Outbound {}; reference: {base}/docs)",
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(
        text,
        "  MCP        {base}/mcp  (for AI assistants, with the same key)"
    );
    let _ = writeln!(
        text,
        "  dashboard  {base}/app  (in a browser: sign in with the same key)"
    );
    let _ = writeln!(text, "  database   {}", database(config));
    let _ = writeln!(text, "  LinkedIn   {}", linkedin(config));
    let _ = writeln!(text, "  models     {}", models(config));
    if let Some(factor) = time_scale {
        let _ = writeln!(
            text,
            "  clock      simulated, {factor}x faster than real time"
        );
    }
    text.push_str("Stop it with Ctrl-C (SIGINT) or SIGTERM.");
    text
}

/// The lines printed on the first start, after the key: what it is and what to do next.
pub fn first_steps(base: &str, team: &Team, key: &str) -> String {
    let Team { id, name, plan, .. } = team;
    format!(
        "First start: created the team `{name}` ({id}) on the plan `{plan}`, with the API key \
         printed above.\n\
         It is shown only this once and stored only as a hash: keep it. More keys: \
         `outbound keys create --team {id}`.\n\
         Next steps:\n  \
         1. Open the dashboard, {base}/app, and sign in with the key\n  \
         2. Read the API reference: {base}/docs\n  \
         3. Call it: curl -s {base}/v1/verify -H \"Authorization: Bearer {key}\"\n\
         Or watch a whole campaign run on the sandbox: `outbound demo`."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wildcard_address_is_reached_through_loopback() {
        let any: SocketAddr = "0.0.0.0:8080".parse().expect("address");
        assert_eq!(base_url(any), "http://127.0.0.1:8080");
        let any6: SocketAddr = "[::]:9000".parse().expect("address");
        assert_eq!(base_url(any6), "http://[::1]:9000");
        let lan: SocketAddr = "192.0.2.7:8080".parse().expect("address");
        assert_eq!(base_url(lan), "http://192.0.2.7:8080");
    }

    #[test]
    fn the_first_steps_show_the_docs_and_a_working_call() {
        let team = Team {
            id: "t1".to_owned(),
            name: "default".to_owned(),
            plan: outbound_core::plan::Plan::Unlimited,
            subscription_active: true,
            created_at: 0,
        };
        let steps = first_steps("http://127.0.0.1:8080", &team, "k".repeat(40).as_str());
        assert!(
            steps.starts_with("First start: created the team `default` (t1)"),
            "{steps}"
        );
        assert!(steps.contains("http://127.0.0.1:8080/docs"), "{steps}");
        assert!(
            steps.contains(&format!(
                "curl -s http://127.0.0.1:8080/v1/verify -H \"Authorization: Bearer {}\"",
                "k".repeat(40)
            )),
            "{steps}"
        );
    }
}
