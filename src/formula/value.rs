//! Conversions between TOML, JSON and positions in text, for the parser.

use serde_json::{Map, Value};
use toml::Table;

use crate::error::{Error, Result};

pub(super) fn toml_table(text: &str, label: &str) -> Result<Table> {
    text.parse::<Table>().map_err(|err| {
        let (line, col) = err
            .span()
            .map(|span| line_col(text, span.start))
            .unwrap_or((1, 1));
        Error::invalid(format!(
            "{label}:{line}:{col}: malformed TOML: {}",
            crate::error::one_line(err.message())
        ))
    })
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    (line, before[line_start..].chars().count() + 1)
}

pub(super) fn json_to_table(text: &str, label: &str) -> Result<Table> {
    let value: Value = serde_json::from_str(text).map_err(|err| {
        Error::invalid(format!(
            "{label}:{}:{}: malformed JSON: {}",
            err.line(),
            err.column(),
            crate::error::one_line(&err.to_string())
        ))
    })?;
    match json_to_toml(value) {
        Some(toml::Value::Table(t)) => Ok(t),
        _ => Err(Error::invalid(format!(
            "{label}: a formula must be a JSON object"
        ))),
    }
}

fn json_to_toml(value: Value) -> Option<toml::Value> {
    Some(match value {
        Value::Null => return None,
        Value::Bool(b) => toml::Value::Boolean(b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => toml::Value::Integer(i),
            None => toml::Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => toml::Value::String(s),
        Value::Array(a) => toml::Value::Array(a.into_iter().filter_map(json_to_toml).collect()),
        Value::Object(o) => toml::Value::Table(
            o.into_iter()
                .filter_map(|(k, v)| json_to_toml(v).map(|v| (k, v)))
                .collect(),
        ),
    })
}

/// TOML value → JSON value (for metadata, on_complete, squash, ...).
pub fn toml_to_json(value: &toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => Value::from(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => Value::Object(table_to_json(t)),
    }
}

pub(super) fn table_to_json(t: &Table) -> Map<String, Value> {
    t.iter()
        .map(|(k, v)| (k.clone(), toml_to_json(v)))
        .collect()
}

pub(super) fn type_name(value: &toml::Value) -> &'static str {
    match value {
        toml::Value::String(_) => "a string",
        toml::Value::Integer(_) => "an integer",
        toml::Value::Float(_) => "a float",
        toml::Value::Boolean(_) => "a boolean",
        toml::Value::Datetime(_) => "a datetime",
        toml::Value::Array(_) => "an array",
        toml::Value::Table(_) => "a table",
    }
}
