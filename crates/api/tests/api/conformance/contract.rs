//! An OpenAPI document as a contract: for a request's method and concrete path, the operation it
//! names, and whether a response (status and JSON body) is one that operation documents.
//!
//! Rule: the status must be listed for the operation, and a JSON body must be valid against the
//! schema of that status under a JSON Schema 2020-12 validator with format checks on (so a
//! `null` where a `string` is declared, or a date that is not RFC 3339, is a violation). A
//! document that does not describe an operation or status at all (an external one, describing
//! only part of the API) is not asked about it: [`Contract::strict`] decides which of the two.

use jsonschema::Validator;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The HTTP methods an OpenAPI path item may describe.
const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// An operation: a method and a path template of the document, with `{parameters}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Operation {
    pub method: String,
    pub template: String,
}

/// What a response of one status must look like.
struct Documented {
    /// The validator of its JSON body; none when the document declares no JSON content.
    body: Option<Validator>,
}

pub struct Contract {
    name: String,
    /// The path prefix the document's paths are written under (`/v1` for a document whose
    /// server URL ends in `/v1` and whose paths do not repeat it).
    prefix: String,
    /// Undocumented operations and statuses are violations (our own document), or passed
    /// over (a document that describes only part of what we serve).
    strict: bool,
    operations: HashMap<Operation, HashMap<String, Documented>>,
}

impl Contract {
    /// The contract of `document`, named `name` in messages.
    pub fn new(name: &str, document: &Value, strict: bool) -> Contract {
        let prefix = server_path(document);
        let components = document
            .get("components")
            .cloned()
            .unwrap_or(Value::Object(Map::new()));
        let mut operations = HashMap::new();
        let paths = document["paths"]
            .as_object()
            .expect("the document has paths");
        for (template, item) in paths {
            for method in METHODS {
                let Some(operation) = item.get(method) else {
                    continue;
                };
                let responses = operation["responses"]
                    .as_object()
                    .map(|responses| {
                        responses
                            .iter()
                            .map(|(status, response)| {
                                let body = response
                                    .pointer("/content/application~1json/schema")
                                    .map(|schema| validator(name, schema, &components));
                                (status.clone(), Documented { body })
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                operations.insert(
                    Operation {
                        method: method.to_owned(),
                        template: format!("{prefix}{template}"),
                    },
                    responses,
                );
            }
        }
        Contract {
            name: name.to_owned(),
            prefix,
            strict,
            operations,
        }
    }

    /// The document's operation for `method` and the concrete `path` (query removed): the
    /// matching template with the most literal segments, so `/v1/prospects/search` is not
    /// taken for `/v1/prospects/{chatId}`.
    pub fn operation_of(&self, method: &str, path: &str) -> Option<Operation> {
        let method = method.to_ascii_lowercase();
        let path = path.split('?').next().unwrap_or(path);
        if !path.starts_with(&self.prefix) {
            return None;
        }
        self.operations
            .keys()
            .filter(|operation| operation.method == method)
            .filter_map(|operation| {
                literal_matches(&operation.template, path).map(|literals| (literals, operation))
            })
            .max_by_key(|(literals, _)| *literals)
            .map(|(_, operation)| operation.clone())
    }

    /// The violations of one response: an empty list when the document agrees with it.
    pub fn violations(&self, method: &str, path: &str, status: u16, body: &Value) -> Vec<String> {
        let Some(operation) = self.operation_of(method, path) else {
            return if self.strict {
                vec![format!("{}: no operation for {method} {path}", self.name)]
            } else {
                Vec::new()
            };
        };
        let responses = &self.operations[&operation];
        let documented = responses
            .get(&status.to_string())
            .or_else(|| responses.get(&format!("{}XX", status / 100)))
            .or_else(|| responses.get("default"));
        let Some(documented) = documented else {
            return if self.strict {
                vec![format!(
                    "{}: {} {} does not document status {status} (body {body})",
                    self.name, operation.method, operation.template
                )]
            } else {
                Vec::new()
            };
        };
        let Some(validator) = &documented.body else {
            return Vec::new();
        };
        validator
            .iter_errors(body)
            .map(|error| {
                format!(
                    "{}: {method} {path} → {status}: at `{}`: {error} (body {body})",
                    self.name,
                    error.instance_path()
                )
            })
            .collect()
    }
}

/// The path of the document's first server URL (`https://host/v1` → `/v1`), or `""`.
fn server_path(document: &Value) -> String {
    let Some(url) = document.pointer("/servers/0/url").and_then(Value::as_str) else {
        return String::new();
    };
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = after_scheme
        .find('/')
        .map_or("", |start| &after_scheme[start..]);
    path.trim_end_matches('/').to_owned()
}

/// How many literal segments of `template` match `path`, or `None` when it does not match.
fn literal_matches(template: &str, path: &str) -> Option<usize> {
    let template: Vec<&str> = template.split('/').collect();
    let path: Vec<&str> = path.split('/').collect();
    if template.len() != path.len() {
        return None;
    }
    let mut literals = 0;
    for (expected, actual) in template.iter().zip(&path) {
        if expected.starts_with('{') {
            if actual.is_empty() {
                return None;
            }
        } else if expected == actual {
            literals += 1;
        } else {
            return None;
        }
    }
    Some(literals)
}

/// A validator of `schema`, whose `#/components/...` references resolve in `components`.
fn validator(name: &str, schema: &Value, components: &Value) -> Validator {
    let mut root = match schema {
        Value::Object(map) => map.clone(),
        other => {
            let mut map = Map::new();
            map.insert("allOf".to_owned(), Value::Array(vec![other.clone()]));
            map
        }
    };
    root.insert("components".to_owned(), components.clone());
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&Value::Object(root))
        .unwrap_or_else(|error| panic!("{name}: a response schema does not compile: {error}"))
}
