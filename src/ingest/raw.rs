//! Raw transcript entries as serde reads them: every field optional, wrong
//! types tolerated (read as absent), unknown fields ignored.

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// A string field that is absent when the line holds any other type.
#[derive(Debug, Default, Clone)]
pub struct LStr(pub Option<String>);

impl<'de> Deserialize<'de> for LStr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LStr;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<LStr, E> {
                Ok(LStr(Some(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<LStr, E> {
                Ok(LStr(Some(v)))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<LStr, E> {
                Ok(LStr(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<LStr, E> {
                Ok(LStr(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<LStr, E> {
                Ok(LStr(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<LStr, E> {
                Ok(LStr(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<LStr, E> {
                Ok(LStr(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<LStr, E> {
                Ok(LStr(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<LStr, D::Error> {
                d.deserialize_any(V)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<LStr, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(LStr(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LStr, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(LStr(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// A boolean field that is false when absent or of another type
/// (`"true"` as a string counts as true).
#[derive(Debug, Default, Clone, Copy)]
pub struct LBool(pub bool);

impl<'de> Deserialize<'de> for LBool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LBool;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<LBool, E> {
                Ok(LBool(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<LBool, E> {
                Ok(LBool(v == "true"))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<LBool, E> {
                Ok(LBool(false))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<LBool, E> {
                Ok(LBool(false))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<LBool, E> {
                Ok(LBool(false))
            }
            fn visit_unit<E: de::Error>(self) -> Result<LBool, E> {
                Ok(LBool(false))
            }
            fn visit_none<E: de::Error>(self) -> Result<LBool, E> {
                Ok(LBool(false))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<LBool, D::Error> {
                d.deserialize_any(V)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<LBool, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(LBool(false))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LBool, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(LBool(false))
            }
        }
        d.deserialize_any(V)
    }
}

/// A field that is parsed as `T` when it is an object, absent otherwise.
#[derive(Debug, Clone)]
pub struct LObj<T>(pub Option<T>);

impl<T> Default for LObj<T> {
    fn default() -> Self {
        LObj(None)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for LObj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = LObj<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<LObj<T>, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(|t| LObj(Some(t)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<LObj<T>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(LObj(None))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<LObj<T>, E> {
                Ok(LObj(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<LObj<T>, E> {
                Ok(LObj(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<LObj<T>, E> {
                Ok(LObj(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<LObj<T>, E> {
                Ok(LObj(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<LObj<T>, E> {
                Ok(LObj(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<LObj<T>, E> {
                Ok(LObj(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<LObj<T>, E> {
                Ok(LObj(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<LObj<T>, D::Error> {
                d.deserialize_any(V(std::marker::PhantomData))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// `message.content` or `tool_result.content`: a string or a list of blocks.
#[derive(Debug, Default, Clone)]
pub enum Content {
    #[default]
    None,
    Text(String),
    Blocks(Vec<Block>),
}

impl<'de> Deserialize<'de> for Content {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Content;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a list of content blocks")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Content, E> {
                Ok(Content::Text(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Content, E> {
                Ok(Content::Text(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Content, A::Error> {
                let mut blocks = Vec::new();
                while let Some(b) = seq.next_element::<LObj<Block>>()? {
                    if let Some(b) = b.0 {
                        blocks.push(b);
                    }
                }
                Ok(Content::Blocks(blocks))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Content, A::Error> {
                // A single block instead of a list.
                let b = Block::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Content::Blocks(vec![b]))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Content, E> {
                Ok(Content::None)
            }
            fn visit_none<E: de::Error>(self) -> Result<Content, E> {
                Ok(Content::None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Content, D::Error> {
                d.deserialize_any(V)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Content, E> {
                Ok(Content::None)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Content, E> {
                Ok(Content::None)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Content, E> {
                Ok(Content::None)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Content, E> {
                Ok(Content::None)
            }
        }
        d.deserialize_any(V)
    }
}

impl Content {
    /// All text of the content, blocks joined by newlines.
    pub fn joined_text(&self) -> String {
        match self {
            Content::None => String::new(),
            Content::Text(t) => t.clone(),
            Content::Blocks(blocks) => {
                let mut out = String::new();
                for b in blocks {
                    if let Some(t) = &b.text.0 {
                        if !out.is_empty() {
                            out.push('\n');
                        }
                        out.push_str(t);
                    }
                }
                out
            }
        }
    }
}

/// A content block, all kinds in one struct (`kind` tells which).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct Block {
    #[serde(rename = "type")]
    pub kind: LStr,
    pub text: LStr,
    pub id: LStr,
    pub name: LStr,
    pub input: LObj<ToolInputRaw>,
    pub tool_use_id: LStr,
    pub content: Content,
    pub is_error: LBool,
}

/// Tool input fields the checks read.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ToolInputRaw {
    pub subagent_type: LStr,
    pub description: LStr,
    pub prompt: LStr,
    pub run_in_background: LBool,
    pub command: LStr,
    pub file_path: LStr,
    pub notebook_path: LStr,
    pub path: LStr,
    pub subject: LStr,
    pub todos: Option<Vec<LObj<TodoRaw>>>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct TodoRaw {
    pub content: LStr,
    pub subject: LStr,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct Message {
    pub id: LStr,
    pub role: LStr,
    pub content: Content,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct Origin {
    pub kind: LStr,
}

/// `toolUseResult` of a tool result line: an object for successes, a string for errors.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ToolUseResult {
    pub status: LStr,
    #[serde(rename = "agentId")]
    pub agent_id: LStr,
}

/// `data` of a progress line.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ProgressData {
    #[serde(rename = "type")]
    pub kind: LStr,
    #[serde(rename = "agentId")]
    pub agent_id: LStr,
}

/// One line of a session file or of stream-json output.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Entry {
    #[serde(rename = "type")]
    pub kind: LStr,
    pub subtype: LStr,
    pub uuid: LStr,
    #[serde(rename = "parentUuid")]
    pub parent_uuid: LStr,
    #[serde(rename = "isSidechain")]
    pub is_sidechain: LBool,
    #[serde(rename = "isMeta")]
    pub is_meta: LBool,
    #[serde(rename = "isCompactSummary")]
    pub is_compact_summary: LBool,
    #[serde(rename = "sessionId")]
    pub session_id: LStr,
    #[serde(rename = "session_id")]
    pub session_id_snake: LStr,
    #[serde(rename = "agentId")]
    pub agent_id: LStr,
    pub version: LStr,
    #[serde(rename = "claude_code_version")]
    pub claude_code_version: LStr,
    pub message: LObj<Message>,
    #[serde(rename = "toolUseResult")]
    pub tool_use_result: LObj<ToolUseResult>,
    #[serde(rename = "tool_use_result")]
    pub tool_use_result_snake: LObj<ToolUseResult>,
    pub origin: LObj<Origin>,
    #[serde(rename = "promptSource")]
    pub prompt_source: LStr,
    /// queue-operation: `enqueue`, `dequeue`, `remove`, `popAll`.
    pub operation: LStr,
    /// queue-operation and system lines: text content.
    pub content: LStr,
    /// stream-json: the launch a subagent line belongs to.
    pub parent_tool_use_id: LStr,
    /// stream-json system task_* lines.
    pub tool_use_id: LStr,
    pub task_id: LStr,
    pub status: LStr,
    /// stream-json task_notification: the agent's report (`summary_is_report`).
    pub summary: LStr,
    /// progress lines.
    pub data: LObj<ProgressData>,
    #[serde(rename = "parentToolUseID")]
    pub parent_tool_use_id_camel: LStr,
}
