//! Anthropic Claude: the Messages API body on Bedrock, and its response.
//! AWS, "Anthropic Claude Messages API":
//! https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-anthropic-claude-messages.html
//! Request: `anthropic_version` "bedrock-2023-05-31", `max_tokens` (required), `system`,
//! `messages` of `{role, content}` with content blocks `{"type":"text","text"}`, `temperature`,
//! `top_p`. Response: `content` blocks, `stop_reason` (end_turn, max_tokens, stop_sequence,
//! tool_use), `usage.input_tokens`, `usage.output_tokens`.
//! `validate`'s reading of the request (`check`, `misfit`) is below the reader.

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::{json, Value};

use super::answer::{join_text, str_at, u64_at, Answer};
use super::body::{sampling, BodyOptions};
use super::diags::Code;
use super::limits::Limits;
use super::shapes::{max_output, NotedResult, Number, Text};

pub const VERSION: &str = "bedrock-2023-05-31";

pub fn body(prompt: &str, system: Option<&str>, o: &BodyOptions) -> Value {
    let mut b = serde_json::Map::new();
    b.insert("anthropic_version".into(), VERSION.into());
    b.insert("max_tokens".into(), o.max_tokens.into());
    if let Some(s) = system {
        b.insert("system".into(), s.into());
    }
    b.insert("messages".into(), json!([{"role": "user", "content": [{"type": "text", "text": prompt}]}]));
    sampling(&mut b, o, "temperature", "top_p");
    Value::Object(b)
}

pub fn read(out: &Value) -> Result<Answer, String> {
    let blocks = out.get("content").and_then(Value::as_array).ok_or("no content array (Anthropic Messages response)")?;
    Ok(Answer {
        text: join_text(blocks, true),
        stop_reason: str_at(out, &["stop_reason"]),
        input_tokens: u64_at(out, &["usage", "input_tokens"]),
        output_tokens: u64_at(out, &["usage", "output_tokens"]),
        embedding: None,
    })
}

// ------------------------------------------------------------------------------ validate

/// Anthropic's Messages body on Bedrock (AWS, "Anthropic Claude Messages API" model parameters):
/// these keys only. Bedrock answers any other with "Extra inputs are not permitted", so an
/// unknown key (a `modelId` copied into `modelInput`, say) is refused here too.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnthropicInput<'a> {
    #[serde(borrow)]
    anthropic_version: Option<Text<'a>>,
    max_tokens: Option<Number>,
    messages: Option<Messages>,
    temperature: Option<f64>,
    top_p: Option<f64>,
    #[allow(dead_code)]
    anthropic_beta: Option<IgnoredAny>,
    #[allow(dead_code)]
    system: Option<IgnoredAny>,
    #[allow(dead_code)]
    top_k: Option<IgnoredAny>,
    #[allow(dead_code)]
    stop_sequences: Option<IgnoredAny>,
    #[allow(dead_code)]
    tools: Option<IgnoredAny>,
    #[allow(dead_code)]
    tool_choice: Option<IgnoredAny>,
    #[allow(dead_code)]
    thinking: Option<IgnoredAny>,
}

/// Anthropic's top-level keys, for the message that names an extra one.
const KEYS: &[&str] = &[
    "anthropic_version",
    "anthropic_beta",
    "max_tokens",
    "system",
    "messages",
    "temperature",
    "top_p",
    "top_k",
    "stop_sequences",
    "tools",
    "tool_choice",
    "thinking",
];

/// Anthropic `messages`, checked while they are read: no Vec, no copy of any text. Holds the
/// count, or the first problem found.
struct Messages(Result<usize, String>);

impl<'de> Deserialize<'de> for Messages {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Messages;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of messages")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Messages, A::Error> {
                let mut i = 0usize;
                let mut problem: Option<String> = None;
                while let Some(m) = seq.next_element::<AnthropicMessage>()? {
                    if problem.is_none() {
                        let want = if i % 2 == 0 { "user" } else { "assistant" };
                        if m.role.as_deref() != Some(want) {
                            problem = Some(format!(
                                "messages[{i}].role is {:?}; roles must alternate user, assistant, … starting with user",
                                m.role.as_deref().unwrap_or("(missing)")
                            ));
                        } else if let Content(Err(e)) = m.content {
                            problem = Some(format!("messages[{i}].content: {e}"));
                        }
                    }
                    i += 1;
                }
                Ok(Messages(match problem {
                    Some(p) => Err(p),
                    None => Ok(i),
                }))
            }
        }
        d.deserialize_seq(V)
    }
}

#[derive(Deserialize)]
struct AnthropicMessage<'a> {
    #[serde(borrow)]
    role: Option<Text<'a>>,
    #[serde(default = "no_content")]
    content: Content,
}

fn no_content() -> Content {
    Content(Err("missing".into()))
}

/// A message's content: a string, or a non-empty list of blocks of known types. Read in one
/// pass; the text itself is skipped, never copied.
struct Content(Result<(), String>);

impl<'de> Deserialize<'de> for Content {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Content;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or a list of content blocks")
            }
            fn visit_borrowed_str<E>(self, _: &'de str) -> Result<Content, E> {
                Ok(Content(Ok(())))
            }
            fn visit_str<E>(self, _: &str) -> Result<Content, E> {
                Ok(Content(Ok(())))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Content, A::Error> {
                let mut j = 0usize;
                let mut problem: Option<String> = None;
                while let Some(b) = seq.next_element::<Block>()? {
                    if problem.is_none() {
                        match b.kind.as_deref() {
                            Some(k) if BLOCKS.contains(&k) => {}
                            Some(k) => problem = Some(format!("content[{j}].type {k:?} is not one of {BLOCKS:?}")),
                            None => problem = Some(format!("content[{j}] has no type")),
                        }
                    }
                    j += 1;
                }
                if j == 0 && problem.is_none() {
                    problem = Some("an empty list".into());
                }
                Ok(Content(match problem {
                    Some(p) => Err(p),
                    None => Ok(()),
                }))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Content, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Content(Err("must be a string or a list of content blocks, not an object".into())))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Content, E> {
                Ok(Content(Err("must be a string or a list of content blocks, not a number".into())))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Content, E> {
                Ok(Content(Err("must be a string or a list of content blocks, not a number".into())))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Content, E> {
                Ok(Content(Err("must be a string or a list of content blocks, not a number".into())))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Content, E> {
                Ok(Content(Err("must be a string or a list of content blocks, not a boolean".into())))
            }
            fn visit_unit<E>(self) -> Result<Content, E> {
                Ok(Content(Err("must be a string or a list of content blocks, not null".into())))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
struct Block<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Text<'a>>,
}

/// Anthropic content block types (the page above, "messages").
const BLOCKS: &[&str] = &["text", "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking"];

/// `validate`'s rules for a record (the page above): `anthropic_version` [`VERSION`],
/// `max_tokens` (required) a positive integer within the model's limit, not both temperature
/// and top_p where the model forbids it, `messages` non-empty and alternating from the user's.
/// Ok: the output ceiling, with a note when the last message is the assistant's.
pub(crate) fn check(limits: &Limits, m: AnthropicInput) -> NotedResult {
    match m.anthropic_version.as_deref() {
        Some(VERSION) => {}
        Some(v) => return Err((Code::WrongShape, format!("anthropic_version is {v:?}; Bedrock needs {VERSION:?}"))),
        None => return Err((Code::WrongShape, format!("anthropic_version is missing; Bedrock needs {VERSION:?}"))),
    }
    if m.max_tokens.is_none() {
        return Err((Code::WrongShape, "max_tokens is missing".to_string()));
    }
    let max = max_output(limits, "max_tokens", &m.max_tokens, None)?;
    if limits.forbids_temperature_with_top_p && m.temperature.is_some() && m.top_p.is_some() {
        return Err((Code::TemperatureAndTopP, "temperature and top_p are both set; this model accepts only one of them".into()));
    }
    let count = match m.messages {
        None => return Err((Code::WrongShape, "messages is missing".into())),
        Some(Messages(Err(p))) => return Err((Code::WrongShape, p)),
        Some(Messages(Ok(n))) => n,
    };
    if count == 0 {
        return Err((Code::WrongShape, "messages must be a non-empty list".into()));
    }
    // Ending with an assistant turn is a prefill: allowed, but worth a note once.
    let prefill = (count % 2 == 0).then(|| (Code::AssistantPrefill, "the last message is the assistant's (a prefill)".to_string()));
    Ok((max, prefill))
}

/// Bedrock's own words for an Anthropic `modelInput` that does not read as [`AnthropicInput`]:
/// a body in the Converse format, or a key Anthropic does not know. None: neither (and without
/// `messages` it is another shape altogether, e.g. the legacy `prompt`), so the generic
/// wrong-shape message stands.
pub(crate) fn misfit(m: &Value) -> Option<(Code, String)> {
    m.get("messages")?;
    let obj = m.as_object();
    if obj.is_some_and(|o| o.contains_key("inferenceConfig") || o.contains_key("toolConfig")) {
        return Some((
            Code::WrongShape,
            "modelInput is in the Converse format (inferenceConfig), not Anthropic's InvokeModel body: validate with --invocation-type converse and submit with modelInvocationType Converse".into(),
        ));
    }
    let extra = obj.and_then(|o| o.keys().find(|k| !KEYS.contains(&k.as_str())))?;
    Some((Code::BadModelInput, format!("modelInput.{extra}: Extra inputs are not permitted (Anthropic accepts only {})", KEYS.join(", "))))
}
