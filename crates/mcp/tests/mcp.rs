//! End-to-end tests of `/mcp` with a real MCP client (rmcp's, over streamable HTTP) against the
//! whole application on 127.0.0.1:0, on SQLite and on PostgreSQL: the 42 tools (and our five
//! review tools) listed with
//! their schemas and hints, every tool called on a fixture, tenants kept apart, bad arguments
//! as tool errors, bad keys as 401, and one rate limit per team across REST and MCP.

use outbound_api::{ApiSettings, ModelCatalog, RateLimits};
use outbound_core::keys::{generate_api_key, hash_api_key};
use outbound_core::model::default_catalogue;
use outbound_core::plan::Plan;
use outbound_core::secrets::SecretBox;
use outbound_core::time::now_millis;
use outbound_engine::outreach::{Engine, EngineConfig, ModelRegistry};
use outbound_linkedin::SandboxConnector;
use outbound_mcp::{AllowedHosts, RestDoor};
use outbound_store::Store;
use outbound_testkit::{Backend, TestDatabase};
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig,
    GetPromptRequestParams, Implementation, ReadResourceRequestParams,
};
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Kakiyo's 42 tool names, then ours.
const TOOLS: [&str; 47] = [
    "list_agents",
    "get_agent",
    "update_agent",
    "pause_agent",
    "resume_agent",
    "list_campaigns",
    "get_campaign_stats",
    "create_campaign",
    "update_campaign",
    "pause_campaign",
    "resume_campaign",
    "list_prospects",
    "get_prospect",
    "add_prospect",
    "add_prospects_batch",
    "search_prospects",
    "list_campaign_prospects",
    "pause_prospect",
    "resume_prospect",
    "qualify_prospect",
    "list_products",
    "list_prompts",
    "get_analytics_overview",
    "get_campaign_analytics",
    "list_models",
    "list_webhooks",
    "create_webhook",
    "update_webhook",
    "delete_webhook",
    "list_webhook_events",
    "list_dnc",
    "add_dnc",
    "remove_dnc",
    "check_dnc",
    "list_workspaces",
    "create_workspace",
    "delete_workspace",
    "invite_client",
    "remove_client",
    "assign_agent_to_workspace",
    "unassign_agent_from_workspace",
    "verify_api_key",
    "list_drafts",
    "get_draft",
    "approve_draft",
    "reject_draft",
    "send_prospect_message",
];

/// A running server with `/mcp` over its own database.
struct Server {
    base: String,
    store: Arc<dyn Store>,
    secrets: Arc<SecretBox>,
    http: reqwest::Client,
    _database: TestDatabase,
}

impl Server {
    async fn start(backend: Backend, limits: RateLimits) -> Option<Server> {
        Self::start_with(backend, limits, AllowedHosts::These(Vec::new())).await
    }

    async fn start_with(
        backend: Backend,
        limits: RateLimits,
        hosts: AllowedHosts,
    ) -> Option<Server> {
        let database = TestDatabase::new(backend, "outbound_mcp")?;
        let store = outbound_store::connect(&database.url)
            .await
            .expect("connect");
        store.migrate().await.expect("migrate");
        let mount: outbound_api::McpMount =
            Arc::new(move |door| outbound_mcp::http::service(RestDoor::new(door), &hosts));
        let settings = ApiSettings {
            rate_limits: limits,
            mcp: Some(mount),
            ..ApiSettings::new(ModelCatalog::new(default_catalogue(), Vec::<String>::new()))
        };
        let secrets = SecretBox::from_encoded_key(&SecretBox::generate_encoded_key()).expect("key");
        let app = outbound_api::app(Arc::clone(&store), secrets.clone(), settings);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        let _ = rustls::crypto::ring::default_provider().install_default();
        Some(Server {
            base: format!("http://{addr}"),
            store,
            secrets: Arc::new(secrets),
            http: reqwest::Client::new(),
            _database: database,
        })
    }

    /// A new team on `plan` and one of its keys.
    async fn team(&self, plan: Plan) -> String {
        let team = self
            .store
            .create_team(&format!("team {}", outbound_core::ids::new_id()), plan)
            .await
            .expect("team");
        let key = generate_api_key();
        self.store
            .create_api_key(&team.id, "mcp", &hash_api_key(&key))
            .await
            .expect("key");
        key
    }

    /// An MCP client of this server acting with `key`.
    async fn client(&self, key: &str) -> RunningService<RoleClient, ClientConfig> {
        let transport = StreamableHttpClientTransport::from_config(
            StreamableHttpClientTransportConfig::with_uri(format!("{}/mcp", self.base))
                .auth_header(key.to_owned()),
        );
        ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("outbound-test", "0"),
        )
        .serve(transport)
        .await
        .expect("initialize")
    }

    /// A REST call with `key`; returns the status and the JSON body.
    async fn rest(
        &self,
        key: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("send");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

/// Calls `tool` with `arguments`.
async fn call(
    client: &RunningService<RoleClient, ClientConfig>,
    tool: &str,
    arguments: Value,
) -> CallToolResult {
    let mut params = CallToolRequestParams::new(tool.to_owned());
    if let Value::Object(map) = arguments {
        params = params.with_arguments(map);
    }
    client
        .call_tool(params)
        .await
        .unwrap_or_else(|e| panic!("{tool}: {e}"))
}

/// The JSON of a result's text.
fn body(result: &CallToolResult) -> Value {
    let text = result
        .content
        .first()
        .and_then(|block| block.as_text())
        .map(|text| text.text.clone())
        .unwrap_or_default();
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// A successful call's body; its structured content is the same object when it is one.
async fn ok(
    client: &RunningService<RoleClient, ClientConfig>,
    tool: &str,
    arguments: Value,
) -> Value {
    let result = call(client, tool, arguments).await;
    assert_eq!(result.is_error, Some(false), "{tool}: {:?}", result.content);
    let value = body(&result);
    if value.is_object() {
        assert_eq!(result.structured_content.as_ref(), Some(&value), "{tool}");
    }
    value
}

/// A refused call's error code.
async fn refused(
    client: &RunningService<RoleClient, ClientConfig>,
    tool: &str,
    arguments: Value,
) -> Value {
    let result = call(client, tool, arguments).await;
    assert_eq!(
        result.is_error,
        Some(true),
        "{tool} should fail: {:?}",
        result.content
    );
    let value = body(&result);
    assert!(
        value["error"].is_string() && value["message"].is_string(),
        "{tool}: {value}"
    );
    value
}

fn text(value: &Value, pointer: &str) -> String {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no {pointer} in {value}"))
        .to_owned()
}

async fn on_both(test: impl AsyncFn(Server)) {
    test(
        Server::start(Backend::Sqlite, RateLimits::off())
            .await
            .expect("sqlite"),
    )
    .await;
    if let Some(server) = Server::start(Backend::Postgres, RateLimits::off()).await {
        test(server).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tool_is_listed_with_schemas_and_hints() {
    on_both(async |server| {
        let key = server.team(Plan::Unlimited).await;
        let client = server.client(&key).await;
        let info = client.peer_info().expect("server info");
        assert_eq!(
            info.server_info.as_ref().map(|s| s.name.as_str()),
            Some("outbound")
        );
        let tools = client.list_all_tools().await.expect("tools/list");
        let names: BTreeSet<&str> = tools.iter().map(|tool| tool.name.as_ref()).collect();
        assert_eq!(names, TOOLS.into_iter().collect::<BTreeSet<_>>());
        let tool = |name: &str| {
            tools
                .iter()
                .find(|t| t.name == name)
                .expect("a tool")
                .clone()
        };
        let get_agent = tool("get_agent");
        assert_eq!(get_agent.input_schema["required"], json!(["agentId"]));
        let hints = get_agent.annotations.expect("annotations");
        assert_eq!(hints.read_only_hint, Some(true));
        let delete = tool("delete_webhook").annotations.expect("annotations");
        assert_eq!(
            (delete.read_only_hint, delete.destructive_hint),
            (Some(false), Some(true))
        );
        let batch = tool("add_prospects_batch");
        assert_eq!(
            batch.input_schema["required"],
            json!(["campaignId", "prospects"])
        );
        let search = tool("search_prospects");
        assert_eq!(
            search.input_schema["properties"]["qualification"]["enum"],
            json!(["pending", "qualified", "disqualified"])
        );
        for tool in &tools {
            assert!(
                tool.description.as_ref().is_some_and(|d| d.len() > 20),
                "{}",
                tool.name
            );
        }
        client.cancel().await.expect("close");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_runs_end_to_end_through_the_tools() {
    on_both(async |server| {
        let key = server.team(Plan::Unlimited).await;
        let stranger = server.team(Plan::Unlimited).await;
        // What MCP does not create (as in Kakiyo): a product, a prompt, an agent with a login.
        let post = reqwest::Method::POST;
        let (_, product) = server.rest(&key, post.clone(), "/v1/products", Some(json!({ "name": "Ledger AI", "description": "Bookkeeping." }))).await;
        let (_, prompt) = server.rest(&key, post.clone(), "/v1/prompts", Some(json!({ "name": "CFOs", "model": "template", "type": "Messages" }))).await;
        let (_, agent) = server.rest(&key, post.clone(), "/v1/agents", None).await;
        let agent = text(&agent, "/id");
        server.rest(&key, post.clone(), &format!("/v1/agents/{agent}/setup"), Some(json!({ "login": "sam@example.com", "password": "correct horse", "country": "FR" }))).await;
        // The engine logs the agent in on the sandbox network, as `outbound serve` would.
        let engine = Engine::new(
            Arc::clone(&server.store),
            Arc::new(SandboxConnector::with_defaults(1)),
            ModelRegistry::offline(),
            Arc::clone(&server.secrets),
            EngineConfig::default(),
        );
        engine.run_all_due(now_millis()).await.expect("engine");

        let client = server.client(&key).await;
        let foreign = server.client(&stranger).await;
        assert!(ok(&client, "verify_api_key", json!({})).await["teamId"].is_string());
        assert!(ok(&client, "list_models", json!({})).await["models"].is_array());
        assert_eq!(ok(&client, "list_products", json!({})).await.as_array().map(Vec::len), Some(1));
        assert_eq!(ok(&client, "list_prompts", json!({})).await.as_array().map(Vec::len), Some(1));

        // Agents.
        assert_eq!(ok(&client, "list_agents", json!({})).await[0]["id"], agent.as_str());
        ok(&client, "update_agent", json!({
            "agentId": agent,
            "workingHours": { "days": "1:1:1:1:1:0:0", "start": "08:00", "end": "17:00" },
            "limits": "{\"invitationsMin\": 10, \"invitationsMax\": 20}"
        })).await;
        let details = ok(&client, "get_agent", json!({ "agentId": agent })).await;
        assert_eq!(details["usage"]["workingHours"]["stop"], "17:00", "`end` is `stop`: {details}");
        assert_eq!(details["limits"]["invitationsMax"], 20);
        let refusal = refused(&foreign, "get_agent", json!({ "agentId": agent })).await;
        assert_eq!(refusal["error"], "not_found");
        let missing = refused(&client, "get_agent", json!({})).await;
        assert_eq!(missing["error"], "validation_error");
        assert_eq!(missing["details"][0]["field"], "agentId");
        refused(&client, "update_agent", json!({ "agentId": agent, "limits": { "invitationsMin": 0 } })).await;

        // A campaign, its prospects and their conversations.
        let created = ok(&client, "create_campaign", json!({
            "name": "Fintech CFOs", "productId": text(&product, "/id"), "promptId": text(&prompt, "/id"), "agentId": agent
        })).await;
        let campaign = text(&created, "/id");
        refused(&client, "create_campaign", json!({ "name": "x" })).await;
        assert_eq!(ok(&client, "list_campaigns", json!({ "limit": "10" })).await[0]["id"], campaign.as_str());
        ok(&client, "update_campaign", json!({ "campaignId": campaign, "name": "Fintech CFOs (EU)" })).await;
        refused(&foreign, "update_campaign", json!({ "campaignId": campaign, "name": "Mine" })).await;
        ok(&client, "add_prospect", json!({ "campaignId": campaign, "name": "Ana Ruiz", "url": "linkedin.com/in/mcp-ana" })).await;
        let queued = ok(&client, "add_prospects_batch", json!({
            "campaignId": campaign,
            "prospects": "[{\"name\":\"Li Wei\",\"url\":\"linkedin.com/in/mcp-li\"},{\"name\":\"Sam Okafor\",\"url\":\"linkedin.com/in/mcp-sam\"}]"
        })).await;
        assert!(queued["listId"].is_string(), "{queued}");
        refused(&foreign, "add_prospect", json!({ "campaignId": campaign, "name": "X Y", "url": "linkedin.com/in/x-y" })).await;
        while server.store.process_imports(100).await.expect("imports") > 0 {}

        let page = ok(&client, "list_campaign_prospects", json!({ "campaignId": campaign, "limit": 2 })).await;
        assert_eq!(page["prospects"].as_array().map(Vec::len), Some(2), "{page}");
        assert_eq!(page["pagination"]["hasMore"], true);
        let cursor = text(&page, "/pagination/nextCursor");
        let rest = ok(&client, "list_campaign_prospects", json!({ "campaignId": campaign, "cursor": cursor })).await;
        assert_eq!(rest["prospects"].as_array().map(Vec::len), Some(1), "{rest}");
        assert_eq!(rest["pagination"]["hasMore"], false);
        let none = ok(&client, "list_campaign_prospects", json!({ "campaignId": campaign, "status": "replied" })).await;
        assert_eq!(none["prospects"], json!([]), "nobody replied yet");
        let all = ok(&client, "list_prospects", json!({ "limit": 50 })).await;
        assert_eq!(all["prospects"].as_array().map(Vec::len), Some(3), "{all}");
        let found = ok(&client, "search_prospects", json!({ "query": "ana", "status": "not_started" })).await;
        assert_eq!(found["prospects"].as_array().map(Vec::len), Some(1), "{found}");
        let wrong = refused(&client, "search_prospects", json!({ "status": "chatting" })).await;
        assert!(text(&wrong, "/details/0/message").contains("replied"), "{wrong}");
        let chat = text(&found, "/prospects/0/id");
        let conversation = ok(&client, "get_prospect", json!({ "prospectId": chat })).await;
        assert_eq!(conversation["prospect"]["name"], "Ana Ruiz");
        ok(&client, "get_prospect", json!({ "chatId": chat })).await;
        refused(&foreign, "get_prospect", json!({ "prospectId": chat })).await;
        for tool in ["pause_prospect", "resume_prospect", "qualify_prospect"] {
            ok(&client, tool, json!({ "prospectId": chat })).await;
            refused(&foreign, tool, json!({ "prospectId": chat })).await;
        }
        let qualified = ok(&client, "get_prospect", json!({ "prospectId": chat })).await;
        assert_eq!(qualified["qualification"], "qualified");

        // Figures.
        let stats = ok(&client, "get_campaign_stats", json!({ "campaignId": campaign })).await;
        assert_eq!(stats["stats"]["prospects"], 3, "{stats}");
        assert_eq!(stats["stats"]["qualified"], 1, "{stats}");
        ok(&client, "get_analytics_overview", json!({})).await;
        ok(&client, "get_campaign_analytics", json!({ "campaignId": campaign })).await;
        refused(&foreign, "get_campaign_analytics", json!({ "campaignId": campaign })).await;
        for tool in ["pause_campaign", "resume_campaign"] {
            ok(&client, tool, json!({ "campaignId": campaign })).await;
            refused(&foreign, tool, json!({ "campaignId": campaign })).await;
        }
        for tool in ["pause_agent", "resume_agent"] {
            ok(&client, tool, json!({ "agentId": agent })).await;
            refused(&foreign, tool, json!({ "agentId": agent })).await;
        }

        // Webhooks.
        let events = ok(&client, "list_webhook_events", json!({})).await;
        assert!(events.to_string().contains("linkedin.message.received"), "{events}");
        let webhook = ok(&client, "create_webhook", json!({ "url": "https://crm.example.com/hooks/outbound", "events": ["*"] })).await;
        assert_eq!(webhook["name"], "crm.example.com", "named after its host: {webhook}");
        let webhook = text(&webhook, "/id");
        refused(&client, "create_webhook", json!({ "url": "https://crm.example.com/x", "events": ["prospect.replied"] })).await;
        ok(&client, "update_webhook", json!({ "webhookId": webhook, "active": false })).await;
        assert_eq!(ok(&client, "list_webhooks", json!({})).await[0]["active"], false);
        refused(&foreign, "delete_webhook", json!({ "webhookId": webhook })).await;
        ok(&client, "delete_webhook", json!({ "webhookId": webhook })).await;

        // Do-Not-Contact, removed by URL.
        ok(&client, "add_dnc", json!({ "url": "https://www.linkedin.com/in/MCP-Blocked/" })).await;
        assert_eq!(ok(&client, "check_dnc", json!({ "url": "linkedin.com/in/mcp-blocked" })).await["data"]["onList"], true);
        assert_eq!(ok(&client, "list_dnc", json!({ "limit": 10 })).await["data"]["entries"].as_array().map(Vec::len), Some(1));
        refused(&foreign, "remove_dnc", json!({ "url": "linkedin.com/in/mcp-blocked" })).await;
        ok(&client, "remove_dnc", json!({ "url": "linkedin.com/in/mcp-blocked" })).await;
        assert_eq!(ok(&client, "check_dnc", json!({ "url": "linkedin.com/in/mcp-blocked" })).await["data"]["onList"], false);
        let gone = refused(&client, "remove_dnc", json!({ "url": "linkedin.com/in/mcp-blocked" })).await;
        assert_eq!(gone["error"], "dnc_not_found");

        // Resources: each campaign's figures, and a conversation's transcript, for this team only.
        let listed = client.list_all_resources().await.expect("resources/list");
        let stats_uri = format!("outbound://campaigns/{campaign}/stats");
        assert_eq!(listed.iter().map(|r| r.uri.as_str()).collect::<Vec<_>>(), [stats_uri.as_str()]);
        assert!(foreign.list_all_resources().await.expect("resources/list").is_empty());
        let templates = client.list_all_resource_templates().await.expect("templates");
        assert_eq!(templates.len(), 2);
        let figures = client.read_resource(ReadResourceRequestParams::new(stats_uri.clone())).await.expect("read");
        assert!(format!("{:?}", figures.contents).contains("prospectsAnswers"), "{figures:?}");
        let transcript = client
            .read_resource(ReadResourceRequestParams::new(format!("outbound://conversations/{chat}")))
            .await
            .expect("read");
        assert!(format!("{:?}", transcript.contents).contains("# Ana Ruiz"), "{transcript:?}");
        assert!(foreign.read_resource(ReadResourceRequestParams::new(stats_uri)).await.is_err());
        assert!(client.read_resource(ReadResourceRequestParams::new("outbound://nothing")).await.is_err());

        // Prompts that compose the tools.
        let prompts = client.list_all_prompts().await.expect("prompts/list");
        let names: Vec<&str> = prompts.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["review_todays_replies", "plan_campaign"]);
        let args = json!({ "product": "Ledger AI" }).as_object().cloned().expect("object");
        let plan = client
            .get_prompt(GetPromptRequestParams::new("plan_campaign").with_arguments(args))
            .await
            .expect("prompts/get");
        assert!(format!("{:?}", plan.messages).contains("create_campaign"));
        assert!(client.get_prompt(GetPromptRequestParams::new("plan_campaign")).await.is_err());

        // Workspaces: refused without the agency plan, served with it.
        let refusal = refused(&client, "list_workspaces", json!({})).await;
        assert_eq!(refusal["error"], "agency_plan_required");
        let agency_key = server.team(Plan::Agency).await;
        let agency = server.client(&agency_key).await;
        let (_, agency_agent) = server.rest(&agency_key, post.clone(), "/v1/agents", None).await;
        let agency_agent = text(&agency_agent, "/id");
        let workspace = text(&ok(&agency, "create_workspace", json!({ "name": "Acme" })).await, "/id");
        assert_eq!(ok(&agency, "list_workspaces", json!({})).await["total"], 1);
        ok(&agency, "invite_client", json!({ "workspaceId": workspace, "email": "client@example.com" })).await;
        ok(&agency, "remove_client", json!({ "workspaceId": workspace, "email": "client@example.com" })).await;
        let invited = ok(&agency, "invite_client", json!({ "workspaceId": workspace, "email": "other@example.com" })).await;
        let removed = ok(&agency, "remove_client", json!({ "workspaceId": workspace, "userId": text(&invited, "/userId") })).await;
        assert_eq!(removed["email"], "other@example.com");
        refused(&agency, "remove_client", json!({ "workspaceId": workspace })).await;
        ok(&agency, "assign_agent_to_workspace", json!({ "workspaceId": workspace, "agentId": agency_agent })).await;
        refused(&agency, "assign_agent_to_workspace", json!({ "workspaceId": workspace, "agentId": agent })).await;
        ok(&agency, "unassign_agent_from_workspace", json!({ "workspaceId": workspace, "agentId": agency_agent })).await;
        ok(&agency, "delete_workspace", json!({ "workspaceId": workspace })).await;
        refused(&agency, "delete_workspace", json!({ "workspaceId": workspace })).await;

        // An unknown tool is a protocol error, not a result.
        let unknown = client.call_tool(CallToolRequestParams::new("launch_rockets")).await;
        assert!(unknown.is_err(), "{unknown:?}");
        for client in [client, foreign, agency] {
            client.cancel().await.expect("close");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_key_gets_401_with_a_challenge_and_only_post_is_served() {
    let server = Server::start(Backend::Sqlite, RateLimits::off())
        .await
        .expect("sqlite");
    let initialize = json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": { "name": "raw", "version": "0" } } });
    let post = |key: Option<String>, accept: &'static str| {
        let mut request = server
            .http
            .post(format!("{}/mcp", server.base))
            .header("accept", accept)
            .json(&initialize);
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        request.send()
    };
    let both = "application/json, text/event-stream";
    for key in [None, Some("x".repeat(40)), Some("short".to_owned())] {
        let response = post(key, both).await.expect("send");
        assert_eq!(response.status().as_u16(), 401);
        let challenge = response.headers()["www-authenticate"]
            .to_str()
            .expect("ascii");
        assert!(challenge.starts_with("Bearer "), "{challenge}");
        let body: Value = response.json().await.expect("json");
        assert!(
            body["error"]
                .as_str()
                .is_some_and(|e| e.contains("api_key")),
            "{body}"
        );
    }
    let key = server.team(Plan::Unlimited).await;
    let response = post(Some(key.clone()), both).await.expect("send");
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("application/json")
    );
    assert!(
        response.headers().get("mcp-session-id").is_none(),
        "stateless"
    );
    let answer: Value = response.json().await.expect("json");
    assert_eq!(answer["result"]["serverInfo"]["name"], "outbound");
    let streamed = post(Some(key.clone()), "text/event-stream, application/json")
        .await
        .expect("send");
    assert!(
        streamed.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/event-stream")
    );
    assert!(
        streamed
            .text()
            .await
            .expect("text")
            .contains("\"serverInfo\"")
    );
    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        let response = server
            .http
            .request(method, format!("{}/mcp", server.base))
            .bearer_auth(&key)
            .send()
            .await
            .expect("send");
        assert_eq!(response.status().as_u16(), 405);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_and_mcp_share_one_rate_limit_per_team() {
    let limits = RateLimits::parse("high=2,low=2").expect("limits");
    let server = Server::start(Backend::Sqlite, limits)
        .await
        .expect("sqlite");
    let key = server.team(Plan::Unlimited).await;
    let other = server.team(Plan::Unlimited).await;
    let client = server.client(&key).await;
    // Two writes over REST use the low bucket up; the next write over MCP is refused.
    for name in ["One", "Two"] {
        let (status, _) = server
            .rest(
                &key,
                reqwest::Method::POST,
                "/v1/products",
                Some(json!({ "name": name, "description": "A product worth selling." })),
            )
            .await;
        assert_eq!(status, 201);
    }
    let limited = refused(
        &client,
        "create_webhook",
        json!({ "url": "https://example.com/h", "events": ["*"] }),
    )
    .await;
    assert_eq!(limited["error"], "rate_limit_exceeded", "{limited}");
    assert!(limited["retryAfter"].is_number(), "{limited}");
    // Two key checks over MCP use the high bucket up; the next one over REST is refused.
    ok(&client, "verify_api_key", json!({})).await;
    ok(&client, "verify_api_key", json!({})).await;
    let (status, body) = server
        .rest(&key, reqwest::Method::GET, "/v1/verify", None)
        .await;
    assert_eq!(status, 429, "{body}");
    // Another team has buckets of its own.
    let (status, _) = server
        .rest(&other, reqwest::Method::GET, "/v1/verify", None)
        .await;
    assert_eq!(status, 200);
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_check_admits_loopback_and_the_configured_names() {
    let initialize = json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": { "name": "raw", "version": "0" } } });
    for (hosts, lan_status) in [
        (AllowedHosts::These(Vec::new()), 403),
        (AllowedHosts::These(vec!["outbound.lan".to_owned()]), 200),
        (AllowedHosts::Any, 200),
    ] {
        let server = Server::start_with(Backend::Sqlite, RateLimits::off(), hosts.clone())
            .await
            .expect("sqlite");
        let key = server.team(Plan::Unlimited).await;
        for (host, expected) in [
            ("127.0.0.1:8080", 200),
            ("localhost", 200),
            ("outbound.lan:8080", lan_status),
        ] {
            let response = server
                .http
                .post(format!("{}/mcp", server.base))
                .header("host", host)
                .header("accept", "application/json, text/event-stream")
                .bearer_auth(&key)
                .json(&initialize)
                .send()
                .await
                .expect("send");
            assert_eq!(
                response.status().as_u16(),
                expected,
                "{hosts:?}, Host: {host}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drafts_are_reviewed_and_conversations_taken_over_through_the_tools() {
    use outbound_core::review::{DEFAULT_DRAFT_TTL, DraftKind};
    use outbound_store::chats::{Added, NewConversation};
    use outbound_store::drafts::NewDraft;
    use outbound_store::engine::{ChatOp, Settlement};
    on_both(async |server| {
        let key = server.team(Plan::Unlimited).await;
        let stranger = server.team(Plan::Unlimited).await;
        let post = reqwest::Method::POST;
        let (_, product) = server.rest(&key, post.clone(), "/v1/products", Some(json!({ "name": "Ledger AI", "description": "Bookkeeping." }))).await;
        let (_, prompt) = server.rest(&key, post.clone(), "/v1/prompts", Some(json!({ "name": "CFOs", "model": "template", "type": "Messages" }))).await;
        let (_, agent) = server.rest(&key, post.clone(), "/v1/agents", None).await;
        let (status, campaign) = server.rest(&key, post.clone(), "/v1/campaigns", Some(json!({
            "name": "Reviewed", "productId": text(&product, "/id"), "promptId": text(&prompt, "/id"),
            "agentId": text(&agent, "/id"), "reviewMode": "all"
        }))).await;
        assert_eq!(status, 201, "{campaign}");
        let (_, verified) = server.rest(&key, reqwest::Method::GET, "/v1/verify", None).await;
        let team = text(&verified, "/teamId");
        let person = NewConversation {
            name: "Ana Ruiz".into(),
            url: "https://linkedin.com/in/ana-mcp".into(),
            slug: "ana-mcp".into(),
            custom_data: String::new(),
            ongoing: false,
            list_id: None,
        };
        let (prospect, chat) = match server.store.add_to_campaign(&team, &text(&campaign, "/id"), person, now_millis()).await.expect("add") {
            Added::Created { prospect_id, chat_id } => (prospect_id, chat_id),
            other => panic!("{other:?}"),
        };
        let draft = outbound_core::ids::new_id();
        let mut settlement = Settlement::new(now_millis());
        settlement.chats.push(ChatOp::Drafted {
            chat: chat.clone(),
            draft: NewDraft {
                id: draft.clone(),
                team_id: team.clone(),
                chat_id: chat.clone(),
                campaign_id: text(&campaign, "/id"),
                agent_id: text(&agent, "/id"),
                prospect_id: prospect,
                kind: DraftKind::FirstMessage,
                text: "Hi Ana, the AI wrote this.".into(),
                model: Some("template".into()),
                prompt_id: Some(text(&prompt, "/id")),
                created_at: now_millis(),
                expires_at: now_millis() + DEFAULT_DRAFT_TTL,
            },
        });
        server.store.settle(&settlement).await.expect("settle");

        let client = server.client(&key).await;
        let foreign = server.client(&stranger).await;
        let listed = ok(&client, "list_drafts", json!({ "status": "pending" })).await;
        assert_eq!(listed[0]["id"], draft.as_str(), "{listed}");
        assert_eq!(ok(&foreign, "list_drafts", json!({})).await.as_array().map(Vec::len), Some(0));
        assert_eq!(refused(&foreign, "get_draft", json!({ "draftId": draft })).await["error"], "not_found");
        assert_eq!(refused(&foreign, "approve_draft", json!({ "draftId": draft })).await["error"], "not_found");
        assert_eq!(refused(&client, "list_drafts", json!({ "status": "waiting" })).await["error"], "validation_error");
        let approved = ok(&client, "approve_draft", json!({ "draftId": draft, "text": "Hi Ana, a person wrote this." })).await;
        assert_eq!(approved["status"], "approved");
        assert_eq!(approved["editedText"], "Hi Ana, a person wrote this.");
        assert_eq!(refused(&client, "reject_draft", json!({ "draftId": draft })).await["error"], "draft_not_pending");
        assert_eq!(ok(&client, "get_draft", json!({ "id": draft })).await["status"], "approved");

        assert_eq!(refused(&client, "send_prospect_message", json!({ "prospectId": chat, "text": " " })).await["error"], "validation_error");
        assert_eq!(refused(&foreign, "send_prospect_message", json!({ "prospectId": chat, "text": "Hi" })).await["error"], "not_found");
        let queued = ok(&client, "send_prospect_message", json!({ "chatId": chat, "text": "Hi Ana, Sam here." })).await;
        assert_eq!(queued["status"], "queued");
        let conversation = ok(&client, "get_prospect", json!({ "prospectId": chat })).await;
        assert_eq!(conversation["paused"], true);
    })
    .await;
}
