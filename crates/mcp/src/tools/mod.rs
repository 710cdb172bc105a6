//! The tool catalogue: Kakiyo's 42 MCP tools and our review-queue tools, each with its arguments, its JSON Schema, its
//! hints, and the REST request it becomes.
//!
//! Rule: a tool is a description and a mapping, never a rule of its own — `call` turns the
//! arguments into the request of the tool's REST route (ids into the path, the rest into the
//! query or body), and the REST API decides. One module per resource, like the REST routes.

mod agents;
mod campaigns;
mod catalog;
mod dnc;
mod prospects;
mod review;
mod webhooks;
mod workspaces;

pub use dnc::check as dnc_check;

use serde_json::{Map, Value, json};

use crate::args::{ArgError, Args};
use crate::rest::{RestRequest, encode};

/// What a tool does to the team's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Reads only.
    Read,
    /// Creates or changes.
    Write,
    /// Removes data or access.
    Destructive,
}

/// The JSON type of an argument.
#[derive(Debug, Clone)]
pub enum Kind {
    String,
    Integer {
        min: Option<i64>,
        max: Option<i64>,
    },
    Boolean,
    /// One of these strings.
    OneOf(&'static [&'static str]),
    /// An array or object of this schema.
    Json(Value),
    /// A conversation status: its integer code or its name.
    Status,
}

/// One argument of a tool.
#[derive(Debug, Clone)]
pub struct Param {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
    pub description: &'static str,
}

impl Param {
    fn new(name: &'static str, kind: Kind, description: &'static str) -> Param {
        Param {
            name,
            kind,
            required: false,
            description,
        }
    }

    /// This argument must be given.
    pub fn required(mut self) -> Param {
        self.required = true;
        self
    }

    fn schema(&self) -> Value {
        let mut schema = match &self.kind {
            Kind::String => json!({ "type": "string" }),
            Kind::Integer { min, max } => {
                let mut schema = json!({ "type": "integer" });
                if let Some(min) = min {
                    schema["minimum"] = json!(min);
                }
                if let Some(max) = max {
                    schema["maximum"] = json!(max);
                }
                schema
            }
            Kind::Boolean => json!({ "type": "boolean" }),
            Kind::OneOf(values) => json!({ "type": "string", "enum": values }),
            Kind::Json(schema) => schema.clone(),
            Kind::Status => json!({
                "oneOf": [
                    { "type": "integer", "description": "A conversation status code" },
                    { "type": "string", "enum": STATUS_NAMES.iter().map(|(name, _)| *name).collect::<Vec<_>>() }
                ]
            }),
        };
        schema["description"] = json!(self.description);
        schema
    }
}

/// A string argument.
pub fn text(name: &'static str, description: &'static str) -> Param {
    Param::new(name, Kind::String, description)
}

/// A required id argument.
pub fn id(name: &'static str, description: &'static str) -> Param {
    text(name, description).required()
}

/// An integer argument within `min..=max`.
pub fn integer(name: &'static str, min: i64, max: i64, description: &'static str) -> Param {
    Param::new(
        name,
        Kind::Integer {
            min: Some(min),
            max: Some(max),
        },
        description,
    )
}

/// A boolean argument.
pub fn flag(name: &'static str, description: &'static str) -> Param {
    Param::new(name, Kind::Boolean, description)
}

/// A string argument with a fixed set of values.
pub fn one_of(
    name: &'static str,
    values: &'static [&'static str],
    description: &'static str,
) -> Param {
    Param::new(name, Kind::OneOf(values), description)
}

/// An array or object argument of `schema`.
pub fn structured(name: &'static str, schema: Value, description: &'static str) -> Param {
    Param::new(name, Kind::Json(schema), description)
}

/// What a tool call becomes.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    /// One REST request; its body is the result.
    Rest(RestRequest),
    /// A campaign's prospect list: the REST body is a bare array and the paging is in headers,
    /// so the result is `{"prospects": [...], "pagination": {...}}`.
    CampaignProspects(RestRequest),
    /// Unblock a profile by URL: its entry is looked up (`GET /v1/dnc/check`), then deleted by
    /// id (`DELETE /v1/dnc/{id}`).
    RemoveDnc { url: String },
}

/// One tool.
pub struct Tool {
    pub name: &'static str,
    pub description: &'static str,
    pub effect: Effect,
    pub params: Vec<Param>,
    pub call: fn(&Args) -> Result<Call, ArgError>,
}

impl Tool {
    /// The JSON Schema of the tool's arguments.
    pub fn input_schema(&self) -> Map<String, Value> {
        let properties: Map<String, Value> = self
            .params
            .iter()
            .map(|param| (param.name.to_owned(), param.schema()))
            .collect();
        let required: Vec<&str> = self
            .params
            .iter()
            .filter(|param| param.required)
            .map(|param| param.name)
            .collect();
        let mut schema = Map::new();
        schema.insert("type".to_owned(), json!("object"));
        schema.insert("properties".to_owned(), Value::Object(properties));
        if !required.is_empty() {
            schema.insert("required".to_owned(), json!(required));
        }
        schema
    }
}

/// Every tool: Kakiyo's 42, grouped as Kakiyo groups them, then ours (the review queue).
pub fn catalogue() -> Vec<Tool> {
    [
        agents::tools(),
        campaigns::tools(),
        prospects::tools(),
        catalog::tools(),
        webhooks::tools(),
        dnc::tools(),
        workspaces::tools(),
        review::tools(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The conversation status names an assistant may use instead of the codes.
pub const STATUS_NAMES: [(&str, i64); 10] = [
    ("not_started", 0),
    ("invitation_sent", 1),
    ("invitation_accepted", 2),
    ("contacted", 3),
    ("replied", 4),
    ("responded", 4),
    ("response", 4),
    ("qualified", 5),
    ("unqualified", 6),
    ("skipped", 7),
];

/// A `status` argument as its integer code: a number, a numeric string or a status name.
pub fn status_code(args: &Args) -> Result<Option<i64>, ArgError> {
    if let Ok(code) = args.integer("status") {
        return Ok(code);
    }
    let name = args.text("status")?.unwrap_or_default();
    let wanted = name.trim().to_ascii_lowercase();
    STATUS_NAMES
        .iter()
        .find(|(known, _)| *known == wanted)
        .map(|(_, code)| Some(*code))
        .ok_or_else(|| {
            let names: Vec<&str> = STATUS_NAMES.iter().map(|(name, _)| *name).collect();
            ArgError::new(
                "status",
                format!(
                    "`{name}` is not a status; use a code or one of {}",
                    names.join(", ")
                ),
            )
        })
}

/// `/v1/<resource>/<id>…`: the segments joined, each id percent-encoded.
pub fn path(segments: &[&str]) -> String {
    let mut out = String::from("/v1");
    for segment in segments {
        out.push('/');
        out.push_str(&encode(segment));
    }
    out
}

/// `POST /v1/<resource>/{id}/<action>`, the id taken from the argument `id_name` (or one of
/// its `aliases`): the body-less action routes (pause, resume, qualify).
pub fn action(
    args: &Args,
    (id_name, aliases): (&str, &[&str]),
    resource: &str,
    action: &str,
) -> Result<Call, ArgError> {
    let id = args.id(id_name, aliases)?;
    Ok(Call::Rest(RestRequest::new(
        axum::http::Method::POST,
        path(&[resource, &id, action]),
    )))
}

/// `/v1/<literal path>`, for paths without ids.
pub fn fixed(path: &str) -> String {
    format!("/v1/{path}")
}

/// The query pairs of the optional arguments `names` that are present (as given, converted
/// to text; the route checks them).
pub fn query(args: &Args, names: &[&str]) -> Result<Vec<(String, String)>, ArgError> {
    let mut pairs = Vec::new();
    for name in names {
        if let Some(value) = args.text(name)? {
            pairs.push(((*name).to_owned(), value));
        }
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn there_are_kakiyos_42_tools_and_ours_with_distinct_names() {
        let tools = catalogue();
        assert_eq!(tools.len(), 42 + review::tools().len());
        let names: HashSet<&str> = tools.iter().map(|tool| tool.name).collect();
        assert_eq!(names.len(), tools.len());
    }

    #[test]
    fn every_schema_is_an_object_whose_required_arguments_exist() {
        for tool in catalogue() {
            let schema = tool.input_schema();
            assert_eq!(schema["type"], "object", "{}", tool.name);
            let properties = schema["properties"].as_object().expect("properties");
            for required in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let name = required.as_str().expect("a name");
                assert!(properties.contains_key(name), "{}: {name}", tool.name);
            }
            assert!(!tool.description.is_empty(), "{}", tool.name);
        }
    }

    #[test]
    fn status_names_map_to_codes() {
        let args = |value: Value| Args::new(json!({ "status": value }).as_object().cloned());
        assert_eq!(status_code(&args(json!("replied"))), Ok(Some(4)));
        assert_eq!(status_code(&args(json!("Qualified"))), Ok(Some(5)));
        assert_eq!(status_code(&args(json!(3))), Ok(Some(3)));
        assert_eq!(status_code(&args(json!("2"))), Ok(Some(2)));
        assert!(status_code(&args(json!("chatting"))).is_err());
        assert_eq!(status_code(&Args::default()), Ok(None));
    }

    #[test]
    fn ids_are_encoded_in_paths() {
        assert_eq!(path(&["agents", "a/b", "pause"]), "/v1/agents/a%2Fb/pause");
    }
}
