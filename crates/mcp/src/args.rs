//! Reading a tool's arguments, leniently where assistants are known to stray.
//!
//! Rule: only what a tool needs to *address* its route is checked here (an id is a non-empty
//! string, a number is a number); everything else is passed on to the REST route, whose
//! validation is the only one. Command-line clients send arrays and objects as JSON text and
//! numbers as strings: a JSON string is accepted where an array or object is expected, and a
//! numeric string where an integer is. A refusal is the REST API's own `validation_error`.

use serde_json::{Map, Value, json};

/// A refusal of the arguments, in the REST API's error shape.
#[derive(Debug, Clone, PartialEq)]
pub struct ArgError {
    pub field: String,
    pub message: String,
}

impl ArgError {
    pub fn new(field: &str, message: impl Into<String>) -> ArgError {
        ArgError {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// `{"error":"validation_error","message":…,"details":[{field,message}]}`.
    pub fn body(&self) -> Value {
        json!({
            "error": "validation_error",
            "message": "Validation failed",
            "details": [{ "field": self.field, "message": self.message }]
        })
    }
}

/// The arguments of one call.
#[derive(Debug, Clone, Default)]
pub struct Args {
    values: Map<String, Value>,
}

impl Args {
    pub fn new(values: Option<Map<String, Value>>) -> Args {
        Args {
            values: values.unwrap_or_default(),
        }
    }

    /// The value of the first of `names` that is present and not `null`.
    fn raw(&self, names: &[&str]) -> Option<&Value> {
        names
            .iter()
            .find_map(|name| self.values.get(*name).filter(|v| !v.is_null()))
    }

    /// A required id, under `name` or one of its `aliases`.
    pub fn id(&self, name: &str, aliases: &[&str]) -> Result<String, ArgError> {
        let names: Vec<&str> = std::iter::once(name)
            .chain(aliases.iter().copied())
            .collect();
        match self.raw(&names) {
            Some(Value::String(id)) if !id.trim().is_empty() => Ok(id.trim().to_owned()),
            Some(Value::Number(n)) => Ok(n.to_string()),
            Some(_) => Err(ArgError::new(name, format!("`{name}` must be a string id"))),
            None => Err(ArgError::new(name, format!("`{name}` is required"))),
        }
    }

    /// An optional string.
    pub fn text(&self, name: &str) -> Result<Option<String>, ArgError> {
        match self.raw(&[name]) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(_) => Err(ArgError::new(name, format!("`{name}` must be a string"))),
        }
    }

    /// A required string.
    pub fn required_text(&self, name: &str) -> Result<String, ArgError> {
        self.text(name)?
            .filter(|text| !text.trim().is_empty())
            .ok_or_else(|| ArgError::new(name, format!("`{name}` is required")))
    }

    /// An optional integer, given as a number or a numeric string.
    pub fn integer(&self, name: &str) -> Result<Option<i64>, ArgError> {
        let wrong = || ArgError::new(name, format!("`{name}` must be an integer"));
        match self.raw(&[name]) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(wrong),
            Some(Value::String(text)) => text.trim().parse().map(Some).map_err(|_| wrong()),
            Some(_) => Err(wrong()),
        }
    }

    /// An optional boolean, given as a boolean or as `"true"` / `"false"`.
    pub fn boolean(&self, name: &str) -> Result<Option<bool>, ArgError> {
        match self.raw(&[name]) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(text)) => match text.trim() {
                "true" => Ok(Some(true)),
                "false" => Ok(Some(false)),
                _ => Err(ArgError::new(
                    name,
                    format!("`{name}` must be true or false"),
                )),
            },
            Some(_) => Err(ArgError::new(
                name,
                format!("`{name}` must be true or false"),
            )),
        }
    }

    /// An optional array or object, given as JSON or as JSON text.
    pub fn structured(&self, name: &str) -> Result<Option<Value>, ArgError> {
        match self.raw(&[name]) {
            None => Ok(None),
            Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
                Ok(value @ (Value::Array(_) | Value::Object(_))) => Ok(Some(value)),
                _ => Err(ArgError::new(
                    name,
                    format!("`{name}` must be an array or an object (JSON text is accepted)"),
                )),
            },
            Some(value) => Ok(Some(value.clone())),
        }
    }

    /// A JSON body of the named arguments that are present, as given (numeric strings stay
    /// strings: the route decides), except `integers`, read as integers, and `structured`,
    /// arrays or objects also accepted as JSON text. Any other string stays a string, even one
    /// that looks like JSON (`"[EU] Fintech CFOs"` is a name).
    pub fn body(
        &self,
        fields: &[&str],
        integers: &[&str],
        structured: &[&str],
    ) -> Result<Value, ArgError> {
        let mut body = Map::new();
        for field in fields {
            let value = if integers.contains(field) {
                self.integer(field)?.map(Value::from)
            } else if structured.contains(field) {
                self.structured(field)?
            } else {
                self.raw(&[field]).cloned()
            };
            if let Some(value) = value {
                body.insert((*field).to_owned(), value);
            }
        }
        Ok(Value::Object(body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(value: Value) -> Args {
        Args::new(value.as_object().cloned())
    }

    #[test]
    fn ids_take_aliases_and_refuse_blanks() {
        let a = args(json!({ "chatId": "c1", "blank": " " }));
        assert_eq!(a.id("prospectId", &["chatId"]), Ok("c1".to_owned()));
        assert_eq!(
            a.id("blank", &[]).map_err(|e| e.field),
            Err("blank".to_owned())
        );
        assert!(a.id("agentId", &[]).is_err());
    }

    #[test]
    fn numbers_and_structures_come_as_text_too() {
        let a = args(
            json!({ "limit": "50", "bad": "x", "prospects": "[{\"name\":\"A\"}]", "flag": "true" }),
        );
        assert_eq!(a.integer("limit"), Ok(Some(50)));
        assert!(a.integer("bad").is_err());
        assert_eq!(a.boolean("flag"), Ok(Some(true)));
        assert_eq!(
            a.body(&["prospects", "limit"], &["limit"], &["prospects"]),
            Ok(json!({ "prospects": [{ "name": "A" }], "limit": 50 }))
        );
        let named = args(json!({ "name": "[EU] Fintech CFOs", "events": "nope" }));
        assert_eq!(
            named.body(&["name"], &[], &[]),
            Ok(json!({ "name": "[EU] Fintech CFOs" })),
            "a string that looks like JSON stays a string"
        );
        assert!(named.body(&["events"], &[], &["events"]).is_err());
    }

    #[test]
    fn a_refusal_has_the_rest_shape() {
        let body = ArgError::new("agentId", "`agentId` is required").body();
        assert_eq!(body["error"], "validation_error");
        assert_eq!(body["details"][0]["field"], "agentId");
    }
}
