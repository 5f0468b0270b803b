//! The shapes several families share, each with the rule it carries: a borrowed string
//! ([`Text`]), a number kept as written ([`Number`]) and the declared maximum output it gives,
//! Converse-style messages of content blocks (Nova, Converse) with their `inferenceConfig`, and
//! chat messages of `{role, content}` (Mistral, OpenAI). A family's own shape and rules are in
//! its file under `src/families/`.

use std::borrow::Cow;

use serde::de::IgnoredAny;
use serde::Deserialize;

use super::diags::Code;
use super::limits::Limits;

/// One record's verdict: Ok(output ceiling) or the problem.
pub(crate) type LineResult = Result<u64, (Code, String)>;

/// A verdict with a note beside it, for a record that passes but is worth a word (Anthropic's
/// prefill): Ok((output ceiling, the note)) or the problem.
pub(crate) type NotedResult = Result<(u64, Option<(Code, String)>), (Code, String)>;

/// A JSON string borrowed from the line when it holds no escape (copied only when it does).
/// serde's own `Cow<str>` inside an `Option` or a `Vec` always copies (its `borrow` attribute
/// reaches a bare `Cow` only): one allocation per string field of every record.
pub(crate) struct Text<'a>(Cow<'a, str>);

/// Shown as the string is (`"system"`), as the `Cow` it replaced was: messages quote it.
impl std::fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        std::fmt::Debug::fmt(&*self.0, f)
    }
}

impl std::ops::Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(s.to_string())))
            }
            fn visit_string<E>(self, s: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

/// A JSON number kept as written, so "an integer" can be checked.
#[derive(Deserialize)]
#[serde(transparent)]
pub(crate) struct Number(pub(crate) serde_json::Number);

impl Number {
    pub(crate) fn as_positive_int(&self) -> Option<u64> {
        self.0.as_u64().filter(|n| *n > 0)
    }
}

/// A declared maximum output: a positive integer within the model's limit (and `cap`).
pub(crate) fn max_output(limits: &Limits, name: &str, max: &Option<Number>, cap: Option<u64>) -> LineResult {
    let Some(max) = max else { return Ok(0) };
    let n = max.as_positive_int().ok_or_else(|| (Code::WrongShape, format!("{name} must be a positive integer, not {}", max.0)))?;
    if let Some(cap) = cap.filter(|c| n > *c) {
        return Err((Code::MaxTokensOverLimit, format!("{name} {n} is over the documented maximum of {cap}")));
    }
    if let Some(limit) = limits.max_output_tokens.filter(|l| n > *l) {
        return Err((Code::MaxTokensOverLimit, format!("{name} {n} is over the model's limit of {limit}")));
    }
    Ok(n)
}

/// A Converse-style message (Nova's InvokeModel body, the Converse format): `role` user or
/// assistant, `content` a list of blocks, each naming its kind by its one key (`{"text": …}`).
#[derive(Deserialize)]
pub(crate) struct NovaMessage<'a> {
    #[serde(borrow)]
    role: Text<'a>,
    content: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// Converse-style messages: non-empty, each of role user or assistant with a non-empty list of
/// blocks among `blocks`.
pub(crate) fn messages_blocks(messages: &[NovaMessage], blocks: &[&str]) -> Result<(), (Code, String)> {
    if messages.is_empty() {
        return Err((Code::WrongShape, "messages must be a non-empty list".into()));
    }
    for (i, msg) in messages.iter().enumerate() {
        if &*msg.role != "user" && &*msg.role != "assistant" {
            return Err((Code::WrongShape, format!("messages[{i}].role must be user or assistant, not {:?}", msg.role)));
        }
        if msg.content.is_empty() {
            return Err((Code::WrongShape, format!("messages[{i}].content must be a non-empty list of blocks")));
        }
        for (j, b) in msg.content.iter().enumerate() {
            if !b.keys().any(|k| blocks.contains(&k.as_str())) {
                return Err((Code::WrongShape, format!("messages[{i}].content[{j}] has none of {blocks:?}")));
            }
        }
    }
    Ok(())
}

/// `inferenceConfig` (Nova, Converse): `maxTokens` (Nova also reads `max_new_tokens`),
/// `temperature`, `topP`.
#[derive(Deserialize)]
pub(crate) struct InferenceConfig {
    #[serde(rename = "maxTokens", alias = "max_new_tokens")]
    max_tokens: Option<Number>,
    temperature: Option<f64>,
    #[serde(rename = "topP")]
    top_p: Option<f64>,
}

/// `inferenceConfig`'s rules: not temperature with topP where the model forbids it, `maxTokens`
/// a positive integer within the model's limit. Its maxTokens is the record's output ceiling.
pub(crate) fn inference(limits: &Limits, c: &Option<InferenceConfig>) -> LineResult {
    let Some(c) = c else { return Ok(0) };
    if limits.forbids_temperature_with_top_p && c.temperature.is_some() && c.top_p.is_some() {
        return Err((Code::TemperatureAndTopP, "temperature and topP are both set; this model accepts only one of them".into()));
    }
    let Some(max) = &c.max_tokens else { return Ok(0) };
    let max =
        max.as_positive_int().ok_or_else(|| (Code::WrongShape, format!("inferenceConfig.maxTokens must be a positive integer, not {}", max.0)))?;
    if let Some(limit) = limits.max_output_tokens {
        if max > limit {
            return Err((Code::MaxTokensOverLimit, format!("maxTokens {max} is over the model's limit of {limit}")));
        }
    }
    Ok(max)
}

/// A chat message: its role and whatever its content is (checked per family).
#[derive(Deserialize)]
pub(crate) struct RoleContent<'a> {
    #[serde(borrow)]
    role: Option<Text<'a>>,
    /// Only its presence is checked (per family).
    #[allow(dead_code)]
    content: Option<IgnoredAny>,
}

/// Chat messages: non-empty, each with one of `roles` and a content.
pub(crate) fn chat_messages(messages: &Option<Vec<RoleContent>>, roles: &[&str]) -> Result<(), (Code, String)> {
    let Some(messages) = messages else { return Err((Code::WrongShape, "messages is missing".into())) };
    if messages.is_empty() {
        return Err((Code::WrongShape, "messages must be a non-empty list".into()));
    }
    for (i, m) in messages.iter().enumerate() {
        match m.role.as_deref() {
            Some(r) if roles.contains(&r) => {}
            other => return Err((Code::WrongShape, format!("messages[{i}].role must be one of {roles:?}, not {other:?}"))),
        }
        if m.content.is_none() {
            return Err((Code::WrongShape, format!("messages[{i}].content is missing")));
        }
    }
    Ok(())
}
