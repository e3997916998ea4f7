//! Raw transcript entries as serde reads them: every field optional, wrong
//! types tolerated (read as absent), unknown fields ignored.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// A string field that is absent when the line holds any other type. It
/// borrows from the line when the string has no escapes.
#[derive(Debug, Default, Clone)]
pub struct LStr<'a>(pub Option<Cow<'a, str>>);

impl LStr<'_> {
    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }

    pub fn to_owned_string(&self) -> Option<String> {
        self.0.as_deref().map(str::to_string)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for LStr<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = LStr<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<LStr<'a>, E> {
                Ok(LStr(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<LStr<'a>, E> {
                Ok(LStr(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<LStr<'a>, E> {
                Ok(LStr(Some(Cow::Owned(v))))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<LStr<'a>, E> {
                Ok(LStr(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<LStr<'a>, E> {
                Ok(LStr(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<LStr<'a>, E> {
                Ok(LStr(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<LStr<'a>, E> {
                Ok(LStr(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<LStr<'a>, E> {
                Ok(LStr(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<LStr<'a>, E> {
                Ok(LStr(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<LStr<'a>, D::Error> {
                d.deserialize_any(V(std::marker::PhantomData))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<LStr<'a>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(LStr(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LStr<'a>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(LStr(None))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A list of strings that is absent when the value is of another type;
/// elements of another type are skipped.
#[derive(Debug, Default)]
pub struct LList<'a>(pub Option<Vec<Cow<'a, str>>>);

impl<'de: 'a, 'a> Deserialize<'de> for LList<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = LList<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<LList<'a>, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<LStr<'a>>()? {
                    out.extend(item.0);
                }
                Ok(LList(Some(out)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LList<'a>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(LList(None))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<LList<'a>, E> {
                Ok(LList(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<LList<'a>, E> {
                Ok(LList(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<LList<'a>, E> {
                Ok(LList(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<LList<'a>, E> {
                Ok(LList(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<LList<'a>, E> {
                Ok(LList(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<LList<'a>, E> {
                Ok(LList(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<LList<'a>, E> {
                Ok(LList(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<LList<'a>, D::Error> {
                d.deserialize_any(V(std::marker::PhantomData))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A list that is absent when the value is of another type (`"todos":"x"`).
#[derive(Debug, Clone)]
pub struct LSeq<T>(pub Option<Vec<T>>);

impl<T> Default for LSeq<T> {
    fn default() -> Self {
        LSeq(None)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for LSeq<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = LSeq<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<LSeq<T>, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<T>()? {
                    out.push(item);
                }
                Ok(LSeq(Some(out)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LSeq<T>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(LSeq(None))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<LSeq<T>, E> {
                Ok(LSeq(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<LSeq<T>, E> {
                Ok(LSeq(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<LSeq<T>, E> {
                Ok(LSeq(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<LSeq<T>, E> {
                Ok(LSeq(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<LSeq<T>, E> {
                Ok(LSeq(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<LSeq<T>, E> {
                Ok(LSeq(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<LSeq<T>, E> {
                Ok(LSeq(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<LSeq<T>, D::Error> {
                d.deserialize_any(V(std::marker::PhantomData))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
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
pub enum Content<'a> {
    #[default]
    None,
    Text(Cow<'a, str>),
    Blocks(Vec<Block<'a>>),
}

impl<'de: 'a, 'a> Deserialize<'de> for Content<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Content<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a list of content blocks")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Content<'a>, E> {
                Ok(Content::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Content<'a>, E> {
                Ok(Content::Text(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Content<'a>, E> {
                Ok(Content::Text(Cow::Owned(v)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Content<'a>, A::Error> {
                let mut blocks = Vec::new();
                while let Some(b) = seq.next_element::<LObj<Block<'a>>>()? {
                    if let Some(b) = b.0 {
                        blocks.push(b);
                    }
                }
                Ok(Content::Blocks(blocks))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Content<'a>, A::Error> {
                // A single block instead of a list.
                let b = Block::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Content::Blocks(vec![b]))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Content<'a>, E> {
                Ok(Content::None)
            }
            fn visit_none<E: de::Error>(self) -> Result<Content<'a>, E> {
                Ok(Content::None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Content<'a>, D::Error> {
                d.deserialize_any(V(std::marker::PhantomData))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Content<'a>, E> {
                Ok(Content::None)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Content<'a>, E> {
                Ok(Content::None)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Content<'a>, E> {
                Ok(Content::None)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Content<'a>, E> {
                Ok(Content::None)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl Content<'_> {
    /// All text of the content, blocks joined by newlines.
    pub fn joined_text(&self) -> String {
        match self {
            Content::None => String::new(),
            Content::Text(t) => t.to_string(),
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
pub struct Block<'a> {
    #[serde(rename = "type")]
    #[serde(borrow)]
    pub kind: LStr<'a>,
    #[serde(borrow)]
    pub text: LStr<'a>,
    #[serde(borrow)]
    pub id: LStr<'a>,
    #[serde(borrow)]
    pub name: LStr<'a>,
    #[serde(borrow)]
    pub input: LObj<ToolInputRaw<'a>>,
    #[serde(borrow)]
    pub tool_use_id: LStr<'a>,
    #[serde(borrow)]
    pub content: Content<'a>,
    pub is_error: LBool,
}

/// Tool input fields the checks read.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ToolInputRaw<'a> {
    #[serde(borrow)]
    pub subagent_type: LStr<'a>,
    #[serde(borrow)]
    pub description: LStr<'a>,
    #[serde(borrow)]
    pub prompt: LStr<'a>,
    pub run_in_background: LBool,
    #[serde(borrow)]
    pub command: LStr<'a>,
    #[serde(borrow)]
    pub file_path: LStr<'a>,
    #[serde(borrow)]
    pub notebook_path: LStr<'a>,
    #[serde(borrow)]
    pub path: LStr<'a>,
    #[serde(borrow)]
    pub subject: LStr<'a>,
    #[serde(borrow)]
    pub todos: LSeq<LObj<TodoRaw<'a>>>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct TodoRaw<'a> {
    #[serde(borrow)]
    pub content: LStr<'a>,
    #[serde(borrow)]
    pub subject: LStr<'a>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct Message<'a> {
    #[serde(borrow)]
    pub id: LStr<'a>,
    #[serde(borrow)]
    pub role: LStr<'a>,
    #[serde(borrow)]
    pub content: Content<'a>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct Origin<'a> {
    #[serde(borrow)]
    pub kind: LStr<'a>,
}

/// `toolUseResult` of a tool result line: an object for successes, a string for errors.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ToolUseResult<'a> {
    #[serde(borrow)]
    pub status: LStr<'a>,
    #[serde(rename = "agentId")]
    #[serde(borrow)]
    pub agent_id: LStr<'a>,
}

/// `data` of a progress line.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ProgressData<'a> {
    #[serde(rename = "type")]
    #[serde(borrow)]
    pub kind: LStr<'a>,
    #[serde(rename = "agentId")]
    #[serde(borrow)]
    pub agent_id: LStr<'a>,
}

/// One line of a session file or of stream-json output.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Entry<'a> {
    #[serde(rename = "type")]
    #[serde(borrow)]
    pub kind: LStr<'a>,
    #[serde(borrow)]
    pub subtype: LStr<'a>,
    /// The tools offered to the model (stream-json `system`/`init`).
    #[serde(borrow)]
    pub tools: LList<'a>,
    #[serde(borrow)]
    pub uuid: LStr<'a>,
    #[serde(rename = "parentUuid")]
    #[serde(borrow)]
    pub parent_uuid: LStr<'a>,
    #[serde(rename = "isSidechain")]
    pub is_sidechain: LBool,
    #[serde(rename = "isMeta")]
    pub is_meta: LBool,
    #[serde(rename = "isCompactSummary")]
    pub is_compact_summary: LBool,
    #[serde(rename = "sessionId")]
    #[serde(borrow)]
    pub session_id: LStr<'a>,
    /// The API request of an assistant line: with `message.id`, one response.
    #[serde(rename = "requestId")]
    #[serde(borrow)]
    pub request_id: LStr<'a>,
    #[serde(rename = "session_id")]
    #[serde(borrow)]
    pub session_id_snake: LStr<'a>,
    #[serde(rename = "agentId")]
    #[serde(borrow)]
    pub agent_id: LStr<'a>,
    #[serde(borrow)]
    pub version: LStr<'a>,
    #[serde(rename = "claude_code_version")]
    #[serde(borrow)]
    pub claude_code_version: LStr<'a>,
    #[serde(borrow)]
    pub message: LObj<Message<'a>>,
    #[serde(rename = "toolUseResult")]
    #[serde(borrow)]
    pub tool_use_result: LObj<ToolUseResult<'a>>,
    #[serde(rename = "tool_use_result")]
    #[serde(borrow)]
    pub tool_use_result_snake: LObj<ToolUseResult<'a>>,
    #[serde(borrow)]
    pub origin: LObj<Origin<'a>>,
    #[serde(rename = "promptSource")]
    #[serde(borrow)]
    pub prompt_source: LStr<'a>,
    /// queue-operation: `enqueue`, `dequeue`, `remove`, `popAll`.
    #[serde(borrow)]
    pub operation: LStr<'a>,
    /// queue-operation and system lines: text content.
    #[serde(borrow)]
    pub content: LStr<'a>,
    /// stream-json: the launch a subagent line belongs to.
    #[serde(borrow)]
    pub parent_tool_use_id: LStr<'a>,
    /// stream-json system task_* lines.
    #[serde(borrow)]
    pub tool_use_id: LStr<'a>,
    #[serde(borrow)]
    pub task_id: LStr<'a>,
    #[serde(borrow)]
    pub status: LStr<'a>,
    /// stream-json task_notification: the agent's report (`summary_is_report`).
    #[serde(borrow)]
    pub summary: LStr<'a>,
    /// progress lines.
    #[serde(borrow)]
    pub data: LObj<ProgressData<'a>>,
    #[serde(rename = "parentToolUseID")]
    #[serde(borrow)]
    pub parent_tool_use_id_camel: LStr<'a>,
}

/// serde_json's nesting limit; sonic-rs has none and would overflow the stack.
const MAX_DEPTH: usize = 128;

/// Parses one transcript line. Fast SIMD parsing where the line cannot nest
/// deeper than serde_json's limit (fewer brackets than the limit), serde_json
/// otherwise, which stops at that depth instead of overflowing the stack.
pub fn parse_entry(bytes: &[u8]) -> Option<Entry<'_>> {
    // An entry is an object: serde would read an array as the struct's
    // fields in order (`[{…}]` as an entry of no type).
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return None;
    }
    let brackets = memchr::memchr2_iter(b'[', b'{', bytes).take(MAX_DEPTH).count();
    if brackets < MAX_DEPTH {
        sonic_rs::from_slice::<Entry>(bytes).ok()
    } else {
        serde_json::from_slice::<Entry>(bytes).ok()
    }
}
