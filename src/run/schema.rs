//! Structured answers: batch has no structured-output mode, so `collect --json-schema FILE`
//! finds the JSON value in each answer (the whole text, else the first fenced ``` block, else the
//! first `{…}` or `[…]` value in it), validates it against the user's JSON Schema (the
//! `boon` crate, every draft it knows, no remote `$ref` resolving), and spreads the
//! schema's top-level `properties` into columns, in the schema's order. A row whose answer has
//! no JSON or breaks the schema gets `schema_error`, and its property cells stay empty.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::table::{Cell, Kind};

pub struct Schema {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
    /// The top-level properties: name and column kind (from its `type`).
    pub properties: Vec<(String, Kind)>,
}

fn kind_of(prop: &Value) -> Kind {
    match prop.get("type").and_then(Value::as_str) {
        Some("integer") => Kind::Int,
        Some("number") => Kind::Float,
        Some("boolean") => Kind::Bool,
        _ => Kind::Str,
    }
}

impl Schema {
    pub fn load(path: &std::path::Path) -> Result<Schema> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Usage(format!("--json-schema {}: {e}", path.display())))?;
        let v: Value = serde_json::from_str(&text).map_err(|e| Error::Usage(format!("--json-schema {}: not JSON: {e}", path.display())))?;
        let bad = |e: boon::CompileError| Error::Usage(format!("--json-schema {}: not a valid JSON Schema: {e}", path.display()));
        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        let loc = "file:///bedbatch-doctor/json-schema.json";
        compiler.add_resource(loc, v.clone()).map_err(bad)?;
        let index = compiler.compile(loc, &mut schemas).map_err(bad)?;
        let properties =
            v.get("properties").and_then(Value::as_object).map(|o| o.iter().map(|(k, p)| (k.clone(), kind_of(p))).collect()).unwrap_or_default();
        Ok(Schema { schemas, index, properties })
    }

    /// The answer's JSON value checked against the schema: the property cells (in
    /// [`Schema::properties`] order), or why not.
    pub fn check(&self, answer: &str) -> std::result::Result<Vec<Cell>, String> {
        let v = extract(answer).ok_or("the answer holds no JSON value")?;
        if let Err(e) = self.schemas.validate(&v, self.index) {
            // The first leaf of the error tree: the one rule that failed, where.
            let mut leaf = &e;
            while let Some(c) = leaf.causes.first() {
                leaf = c;
            }
            let at = leaf.instance_location.to_string();
            return Err(if at.is_empty() { leaf.kind.to_string() } else { format!("{at}: {}", leaf.kind) });
        }
        self.properties.iter().map(|(k, kind)| cell(k, v.get(k), *kind)).collect()
    }
}

/// One property's cell. JSON Schema's `integer` is any number with a zero fractional part
/// (draft 2020-12 Validation §6.1.1: "a number with a zero fractional part"), so `3.0` is one
/// and goes in the integer column as 3; one beyond a 64-bit integer is this row's schema error,
/// never a cell of another type in that column.
fn cell(key: &str, v: Option<&Value>, kind: Kind) -> std::result::Result<Cell, String> {
    Ok(match (v, kind) {
        (None | Some(Value::Null), _) => Cell::Null,
        (Some(Value::Number(n)), Kind::Int) => match n.as_i64() {
            Some(i) => Cell::Int(i),
            None => match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f >= -(2f64.powi(63)) && f < 2f64.powi(63) => Cell::Int(f as i64),
                _ => return Err(format!("/{key}: {n} does not fit a 64-bit integer column")),
            },
        },
        (Some(Value::Number(n)), Kind::Float) => n.as_f64().map(Cell::Float).unwrap_or(Cell::Null),
        (Some(Value::Bool(b)), Kind::Bool) => Cell::Bool(*b),
        (Some(Value::String(s)), _) => Cell::Str(s.clone()),
        (Some(other), _) => Cell::Str(other.to_string()),
    })
}

/// The first JSON value of `s` starting at byte `at`, if one parses there.
fn value_at(s: &str, at: usize) -> Option<Value> {
    serde_json::Deserializer::from_str(&s[at..]).into_iter::<Value>().next()?.ok()
}

/// The JSON value an answer holds: the whole text; else the first fenced block (```json … ```
/// or ``` … ```) that parses; else the first `{` or `[` from which a value parses.
pub fn extract(answer: &str) -> Option<Value> {
    let t = answer.trim();
    if let Ok(v) = serde_json::from_str::<Value>(t) {
        return Some(v);
    }
    let mut rest = t;
    while let Some(open) = rest.find("```") {
        let after = &rest[open + 3..];
        let body_start = after.find('\n').map(|i| i + 1).unwrap_or(0);
        let body = &after[body_start..];
        let Some(close) = body.find("```") else { break };
        if let Ok(v) = serde_json::from_str::<Value>(body[..close].trim()) {
            return Some(v);
        }
        rest = &body[close + 3..];
    }
    t.char_indices().filter(|(_, c)| *c == '{' || *c == '[').find_map(|(i, _)| value_at(t, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(text: &str) -> Schema {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), text).unwrap();
        Schema::load(f.path()).unwrap()
    }

    /// `3.0` is an integer to JSON Schema and goes in the integer column as 3; one no 64-bit
    /// integer holds is the row's schema error, not a text cell in an integer column.
    #[test]
    fn whole_floats_are_integers_and_huge_ones_a_schema_error() {
        let s = schema(r#"{"type":"object","properties":{"score":{"type":"integer"},"why":{"type":"string"}}}"#);
        assert_eq!(s.check(r#"{"score": 3.0, "why": "w"}"#), Ok(vec![Cell::Int(3), Cell::Str("w".into())]));
        assert_eq!(s.check(r#"{"score": -7}"#), Ok(vec![Cell::Int(-7), Cell::Null]));
        let e = s.check(r#"{"score": 1e20}"#).unwrap_err();
        assert!(e.contains("/score") && e.contains("64-bit"), "{e}");
    }

    /// A property named as a column collect adds is refused, naming it.
    #[test]
    fn a_property_named_as_an_added_column_is_refused() {
        let s = schema(r#"{"type":"object","properties":{"status":{"type":"string"}}}"#);
        let e =
            crate::run::results::output_columns(None, crate::families::Family::Anthropic, Some("p_"), Some(&s)).err().expect("refused").to_string();
        assert!(e.contains("\"status\"") && e.contains("rename it"), "{e}");
        let ok = schema(r#"{"type":"object","properties":{"label":{"type":"string"}}}"#);
        assert!(crate::run::results::output_columns(None, crate::families::Family::Anthropic, None, Some(&ok)).is_ok());
    }

    #[test]
    fn the_json_in_an_answer_is_found() {
        assert_eq!(extract(r#" {"a": 1} "#), Some(serde_json::json!({"a": 1})));
        assert_eq!(extract("Sure:\n```json\n{\"a\": [1, 2]}\n```\nDone."), Some(serde_json::json!({"a": [1, 2]})));
        assert_eq!(extract("Sure:\n```\nnot json\n```\nthen {\"b\": true} trailing"), Some(serde_json::json!({"b": true})));
        assert_eq!(extract("no json here"), None);
    }

    #[test]
    fn answers_are_checked_and_spread() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.json");
        std::fs::write(&p, r#"{"type":"object","properties":{"label":{"type":"string","enum":["pos","neg"]},"score":{"type":"integer"},"why":{"type":"array"}},"required":["label","score"]}"#).unwrap();
        let s = Schema::load(&p).unwrap();
        assert_eq!(s.properties.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["label", "score", "why"]);
        assert_eq!(
            s.check(
                r#"```json
{"label": "pos", "score": 3, "why": ["a"]}
```"#
            )
            .unwrap(),
            vec![Cell::Str("pos".into()), Cell::Int(3), Cell::Str("[\"a\"]".into())]
        );
        let e = s.check(r#"{"label": "meh", "score": 3}"#).unwrap_err();
        assert!(e.contains("/label"), "{e}");
        assert!(s.check(r#"{"label": "pos"}"#).unwrap_err().contains("score"));
        assert!(s.check("nothing").is_err());
        std::fs::write(&p, r#"{"type": 12}"#).unwrap();
        assert!(Schema::load(&p).err().unwrap().to_string().contains("not a valid JSON Schema"));
    }
}
