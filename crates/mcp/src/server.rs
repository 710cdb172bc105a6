//! The MCP server: lists the catalogue's tools and runs a call as the REST request it maps to.
//!
//! Rule: a call is authenticated by the caller's own key — the `Authorization` header of the
//! HTTP request, or the key the stdio server was started with — and that key goes with the
//! REST request, so the team, plan checks and rate-limit bucket are the REST route's. Results
//! are the REST body as JSON text (and as `structuredContent` when it is an object); a refusal
//! of the REST API, or of the arguments, is a tool error carrying the `{"error","message"}`
//! body. Only an unknown tool is a protocol error. Resources and prompts ([`resources`],
//! [`prompts`]) follow the same rule: a resource is a REST read with the caller's key.

use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, GetPromptRequestParams,
    GetPromptResponse, Implementation, ListPromptsResult, ListResourceTemplatesResult,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams,
    ReadResourceResponse, ReadResourceResult, ResourceContents, ServerCapabilities, ServerConfig,
    ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::{Value, json};
use std::sync::Arc;

use crate::args::Args;
use crate::prompts;
use crate::resources::{self, Read};
use crate::rest::{RestAnswer, RestDoor, RestRequest};
use crate::tools::{self, Call, Effect, Tool};

/// The server's name in `initialize`.
pub const SERVER_NAME: &str = "outbound";

/// What an assistant is told about this server.
const INSTRUCTIONS: &str = "Outbound runs LinkedIn outreach: agents (LinkedIn accounts) run \
campaigns that tie a product, a prompt and an agent; prospects are added to campaigns and the AI \
invites, messages, answers and qualifies them. Start with verify_api_key, list_campaigns and \
get_analytics_overview. Prospect ids are conversation ids (the `id` of list items).";

/// The state every request shares: the REST door and the tool catalogue.
#[derive(Clone)]
pub struct OutboundMcp {
    door: RestDoor,
    tools: Arc<Vec<Tool>>,
    /// The key of a stdio server; none over HTTP, where each request brings its own.
    fixed_key: Option<Arc<str>>,
}

impl OutboundMcp {
    /// A server whose calls authenticate with each HTTP request's `Authorization` header.
    pub fn over_http(door: RestDoor) -> OutboundMcp {
        OutboundMcp {
            door,
            tools: Arc::new(tools::catalogue()),
            fixed_key: None,
        }
    }

    /// A server whose calls all authenticate with `key` (stdio has no headers).
    pub fn with_key(door: RestDoor, key: &str) -> OutboundMcp {
        OutboundMcp {
            fixed_key: Some(Arc::from(key)),
            ..OutboundMcp::over_http(door)
        }
    }

    /// The value of the `Authorization` header the REST request carries.
    fn authorization(&self, context: &RequestContext<RoleServer>) -> String {
        if let Some(key) = &self.fixed_key {
            return format!("Bearer {key}");
        }
        context
            .extensions
            .get::<Parts>()
            .and_then(|parts| parts.headers.get(header::AUTHORIZATION))
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    /// Runs `call` against the REST API.
    async fn run(&self, call: Call, authorization: &str) -> CallToolResult {
        match call {
            Call::Rest(request) => result_of(self.door.send(&request, authorization).await),
            Call::CampaignProspects(request) => {
                let answer = self.door.send(&request, authorization).await;
                result_of(with_pagination(answer))
            }
            Call::RemoveDnc { url } => self.remove_dnc(url, authorization).await,
        }
    }

    /// Looks the URL's entry up, then deletes it by id.
    async fn remove_dnc(&self, url: String, authorization: &str) -> CallToolResult {
        let found = self.door.send(&tools::dnc_check(url), authorization).await;
        if !found.status.is_success() {
            return result_of(found);
        }
        let Some(id) = found
            .body
            .pointer("/data/entry/$id")
            .and_then(Value::as_str)
        else {
            return tool_error(&json!({
                "error": "dnc_not_found",
                "message": "This URL is not on the Do-Not-Contact list"
            }));
        };
        let delete = RestRequest::new(axum::http::Method::DELETE, tools::path(&["dnc", id]));
        result_of(self.door.send(&delete, authorization).await)
    }
}

/// The MCP description of `tool`.
fn describe(tool: &Tool) -> rmcp::model::Tool {
    let annotations = ToolAnnotations::new()
        .read_only(tool.effect == Effect::Read)
        .destructive(tool.effect == Effect::Destructive)
        .open_world(false);
    rmcp::model::Tool::new(tool.name, tool.description, Arc::new(tool.input_schema()))
        .with_annotations(annotations)
}

/// A REST answer as a tool result.
fn result_of(answer: RestAnswer) -> CallToolResult {
    if !answer.status.is_success() {
        return tool_error(&answer.body);
    }
    let mut result = CallToolResult::success(vec![ContentBlock::text(answer.body.to_string())]);
    if answer.body.is_object() {
        result.structured_content = Some(answer.body);
    }
    result
}

/// A refusal as a tool result: the error body as text and as structured content.
fn tool_error(body: &Value) -> CallToolResult {
    let mut result = CallToolResult::error(vec![ContentBlock::text(body.to_string())]);
    if body.is_object() {
        result.structured_content = Some(body.clone());
    }
    result
}

/// A campaign's bare prospect array with the paging of its headers folded in.
fn with_pagination(answer: RestAnswer) -> RestAnswer {
    if !answer.status.is_success() {
        return answer;
    }
    let pagination = json!({
        "limit": header_number(&answer.headers, "x-limit"),
        "offset": header_number(&answer.headers, "x-offset"),
        "hasMore": header_text(&answer.headers, "x-has-more") == "true",
        "nextCursor": header_text(&answer.headers, "x-next-cursor"),
    });
    RestAnswer {
        status: StatusCode::OK,
        body: json!({ "prospects": answer.body, "pagination": pagination }),
        headers: answer.headers,
    }
}

fn header_text(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn header_number(headers: &HeaderMap, name: &str) -> i64 {
    header_text(headers, name).parse().unwrap_or_default()
}

impl ServerHandler for OutboundMcp {
    fn get_info(&self) -> ServerConfig {
        let capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_resources()
            .enable_prompts()
            .build();
        ServerConfig::new(capabilities)
            .with_server_info(Implementation::new(SERVER_NAME, env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(
            self.tools.iter().map(describe).collect(),
        ))
    }

    fn get_tool(&self, name: &str) -> Option<rmcp::model::Tool> {
        self.tools
            .iter()
            .find(|tool| tool.name == name)
            .map(describe)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let Some(tool) = self.tools.iter().find(|tool| tool.name == request.name) else {
            return Err(ErrorData::invalid_params(
                format!("unknown tool `{}`", request.name),
                None,
            ));
        };
        let args = Args::new(request.arguments);
        let call = match (tool.call)(&args) {
            Ok(call) => call,
            Err(refusal) => return Ok(tool_error(&refusal.body()).into()),
        };
        let authorization = self.authorization(&context);
        Ok(self.run(call, &authorization).await.into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let campaigns = RestRequest::get(tools::fixed("campaigns"));
        let answer = self
            .door
            .send(&campaigns, &self.authorization(&context))
            .await;
        if !answer.status.is_success() {
            return Err(refused(&answer));
        }
        Ok(ListResourcesResult::with_all_items(
            resources::campaign_resources(&answer.body),
        ))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(ListResourceTemplatesResult::with_all_items(
            resources::templates(),
        ))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let uri = request.uri;
        let Some(read) = resources::read_of(&uri) else {
            return Err(ErrorData::resource_not_found(
                format!("no resource `{uri}`"),
                None,
            ));
        };
        let authorization = self.authorization(&context);
        let (request, as_transcript) = match read {
            Read::Json(request) => (request, false),
            Read::Transcript(request) => (request, true),
        };
        let answer = self.door.send(&request, &authorization).await;
        if !answer.status.is_success() {
            return Err(refused(&answer));
        }
        let contents = if as_transcript {
            ResourceContents::text(resources::transcript(&answer.body), uri)
                .with_mime_type("text/markdown")
        } else {
            ResourceContents::text(answer.body.to_string(), uri).with_mime_type("application/json")
        };
        Ok(ReadResourceResult::new(vec![contents]).into())
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Ok(ListPromptsResult::with_all_items(prompts::prompts()))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        prompts::render(&request.name, request.arguments.as_ref())
            .map(Into::into)
            .ok_or_else(|| {
                ErrorData::invalid_params(
                    format!(
                        "unknown prompt `{}`, or a required argument is missing",
                        request.name
                    ),
                    None,
                )
            })
    }
}

/// A refused REST read as a protocol error: resources have no error results. The REST body
/// (code and message) goes with it as data; a missing resource is "resource not found".
fn refused(answer: &RestAnswer) -> ErrorData {
    let message = answer.body["message"]
        .as_str()
        .unwrap_or("refused")
        .to_owned();
    if answer.status == StatusCode::NOT_FOUND {
        ErrorData::resource_not_found(message, Some(answer.body.clone()))
    } else {
        ErrorData::invalid_request(message, Some(answer.body.clone()))
    }
}
