//! Byte fast paths: lines the checks need only a few ids of are not parsed;
//! their bytes are scanned for those ids. Most lines of a large session are
//! results of ordinary tools (Read, Bash, …) and progress mirrors, so this
//! is where the time goes.
//!
//! Holds no state and records nothing: each scan says what it found, or
//! `None` when the line needs a full parse, and the builder does the rest.
//! Uses memchr and [`crate::ingest::lines`]; it is asked, not told, which ids
//! are launches.

use memchr::memmem::Finder;
use std::sync::LazyLock;

use crate::ingest::lines::KeyFinder;

/// A user line that only carries results of ordinary tools: its tool_use
/// ids, and the entry's uuid.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct PlainResults<'a> {
    pub ids: Vec<&'a str>,
    pub uuid: Option<&'a str>,
}

/// Whether a user line of tool results may carry an agent's report (the
/// result of a launch): its `toolUseResult` names the agent or its run time,
/// as every Claude Code version writes it. Only a hint for reading ahead:
/// a line without it is still parsed when its id is a launch's.
pub(super) fn may_be_agent_result(line: &[u8]) -> bool {
    static AGENT: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"agentId\""));
    static DURATION: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"totalDurationMs\""));
    AGENT.find(line).is_some() || DURATION.find(line).is_some()
}

/// The tool_use ids of a user line that only carries results of ordinary
/// tools: the checks need just the ids (and the uuid, to skip a copy).
/// `None` when the line needs a full parse, so that nothing is read another
/// way than the parse would: a launch's result (`is_launch` of its id), a
/// subagent's line, a TaskOutput retrieval, text, an error (a hook's denial
/// is read back from its text), an escape anywhere but in the results
/// (`"t\u0079pe"` is a key the parse reads), a block with its id twice or
/// none, a line not whole.
pub(super) fn plain_tool_results(bytes: &[u8], is_launch: impl Fn(&str) -> bool) -> Option<PlainResults<'_>> {
    static KEY: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"tool_use_id\":\""));
    static RESULT: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"tool_result\""));
    static SIDECHAIN: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"isSidechain\""));
    static NOT_SIDECHAIN: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"isSidechain\":false"));
    static PARENT: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"parent_tool_use_id\":\""));
    static RETRIEVAL: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"<retrieval_status>"));
    static ERROR: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"is_error\""));
    static ESCAPE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\\u"));
    static UUID: LazyLock<KeyFinder> = LazyLock::new(|| KeyFinder::new("uuid"));
    if RESULT.find(bytes).is_none()
        || (SIDECHAIN.find(bytes).is_some() && NOT_SIDECHAIN.find(bytes).is_none())
        || PARENT.find(bytes).is_some()
        || RETRIEVAL.find(bytes).is_some()
        || !crate::ingest::lines::looks_whole(bytes)
    {
        return None;
    }
    // Only the message's own results: toolUseResult may nest other ids
    // (WebSearch's server tool results).
    static MESSAGE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"message\":"));
    let start = MESSAGE.find(bytes)? + 10;
    static TOOL_USE_RESULT: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"toolUseResult\":"));
    // Claude Code writes toolUseResult after the message; otherwise parse.
    let end = match TOOL_USE_RESULT.find(bytes) {
        Some(t) if t < start => return None,
        Some(t) => t,
        None => bytes.len(),
    };
    let bytes = &bytes[..end];
    if ESCAPE.find(bytes).is_some() {
        return None;
    }
    for at in ERROR.find_iter(bytes) {
        if !bytes[at + 10..].starts_with(b":false") {
            return None;
        }
    }
    let mut ids = Vec::new();
    for at in KEY.find_iter(&bytes[start..]).map(|i| i + start) {
        let start = at + 15;
        let len = memchr::memchr(b'"', &bytes[start..])?;
        let id = std::str::from_utf8(&bytes[start..start + len]).ok()?;
        if is_launch(id) {
            return None;
        }
        ids.push(id);
    }
    if ids.is_empty() || RESULT.find_iter(&bytes[start..]).count() != ids.len() {
        return None;
    }
    Some(PlainResults { ids, uuid: UUID.value(bytes) })
}

/// An `agent_progress` mirror line: the agent id it names and the tool_use
/// id of the launch it mirrors (`parentToolUseID`).
pub(super) fn agent_progress(bytes: &[u8]) -> Option<(&str, &str)> {
    static AGENT_PROGRESS: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"agent_progress\""));
    static AGENT_ID: LazyLock<KeyFinder> = LazyLock::new(|| KeyFinder::new("agentId"));
    static PARENT: LazyLock<KeyFinder> = LazyLock::new(|| KeyFinder::new("parentToolUseID"));
    AGENT_PROGRESS.find(bytes)?;
    Some((AGENT_ID.value(bytes)?, PARENT.value(bytes)?))
}

/// The `<task-notification>` of an `attachment` line of type
/// `queued_command` (how Claude Code 2.1.15x–2.1.23x hand a background
/// agent's return to the model), if the line is one. Only lines the
/// sniffer found a `queued_command` type in get here.
pub(super) fn queued_notification(bytes: &[u8]) -> Option<String> {
    memchr::memmem::find(bytes, b"task-notification>")?;
    #[derive(serde::Deserialize)]
    struct Line {
        #[serde(rename = "type")]
        kind: Option<String>,
        attachment: Option<Attachment>,
    }
    #[derive(serde::Deserialize)]
    struct Attachment {
        #[serde(rename = "type")]
        kind: Option<String>,
        prompt: Option<serde_json::Value>,
    }
    let line: Line = serde_json::from_slice(bytes).ok()?;
    let attachment = line.attachment.filter(|_| line.kind.as_deref() == Some("attachment"))?;
    if attachment.kind.as_deref() != Some("queued_command") {
        return None;
    }
    let text = match attachment.prompt? {
        serde_json::Value::String(s) => s,
        serde_json::Value::Array(parts) => {
            parts.iter().filter_map(|p| p.get("text").and_then(|t| t.as_str())).collect::<Vec<_>>().join("\n")
        }
        _ => return None,
    };
    text.trim_start().starts_with("<task-notification>").then_some(text)
}

/// What a line can be reduced to so that the reader reads it the same way
/// (`orchlint guard`'s mirror of a live transcript keeps only this).
#[derive(Debug, PartialEq, Eq)]
pub enum Slim {
    /// Needed as it is.
    Keep,
    /// Not read at all.
    Drop,
    /// These bytes are read the same way.
    Replace(Vec<u8>),
}

/// Lines shorter than this are kept as they are: slimming them saves little.
const SLIM_ABOVE: usize = 1024;

/// What the reader needs of a line. A progress line is read only for the
/// agent id and launch of an `agent_progress` mirror. A user line that
/// carries only results of calls `ordinary` says are ordinary tools' (not
/// launches) is read only for the ids, unless a result is an error (a
/// hook's denial is read back from its text). Everything else is kept.
pub fn slim(bytes: &[u8], ordinary: impl Fn(&str) -> bool) -> Slim {
    match crate::ingest::lines::sniff(bytes) {
        crate::ingest::lines::Wanted::Skip => Slim::Drop,
        crate::ingest::lines::Wanted::Progress => match agent_progress(bytes) {
            Some((agent, launch)) => Slim::Replace(
                serde_json::json!({
                    "type": "progress",
                    "data": {"type": "agent_progress", "agentId": agent},
                    "parentToolUseID": launch,
                })
                .to_string()
                .into_bytes(),
            ),
            None => Slim::Drop,
        },
        crate::ingest::lines::Wanted::User if bytes.len() > SLIM_ABOVE => {
            let Some(PlainResults { ids, uuid }) = plain_tool_results(bytes, |id| !ordinary(id)) else {
                return Slim::Keep;
            };
            let content: Vec<serde_json::Value> =
                ids.iter().map(|id| serde_json::json!({"type": "tool_result", "tool_use_id": id})).collect();
            let mut line = serde_json::json!({
                "type": "user",
                "message": {"role": "user", "content": content},
            });
            if let Some(uuid) = uuid {
                line["uuid"] = uuid.into();
            }
            Slim::Replace(line.to_string().into_bytes())
        }
        _ => Slim::Keep,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: &str = r#"{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"ok"},{"type":"tool_result","tool_use_id":"t2","content":"ok"}]},"uuid":"u"}"#;

    fn ids(line: &str) -> Option<Vec<&str>> {
        plain_tool_results(line.as_bytes(), |id| id == "launch").map(|p| p.ids)
    }

    #[test]
    fn plain_tool_results_give_their_ids() {
        assert_eq!(ids(PLAIN), Some(vec!["t1", "t2"]));
        assert_eq!(plain_tool_results(PLAIN.as_bytes(), |_| false).unwrap().uuid, Some("u"));
        // As Claude Code 2.x writes them: toolUseResult after the message.
        let with_result = PLAIN
            .replace("\"uuid\"", "\"isSidechain\":false,\"uuid\"")
            .replace("}]},", "}]},\"toolUseResult\":{\"stdout\":\"ok\"},");
        assert_eq!(ids(&with_result), Some(vec!["t1", "t2"]));
        let not_error = PLAIN.replace("\"content\":\"ok\"}", "\"content\":\"ok\",\"is_error\":false}");
        assert_eq!(ids(&not_error), Some(vec!["t1", "t2"]));
    }

    #[test]
    fn lines_that_need_a_parse_are_left_to_it() {
        let launch = PLAIN.replace("\"t2\"", "\"launch\"");
        let sidechain = PLAIN.replace("\"uuid\"", "\"isSidechain\":true,\"uuid\"");
        let stream = PLAIN.replace("\"uuid\"", "\"parent_tool_use_id\":\"x\",\"uuid\"");
        let retrieval = PLAIN.replace("\"ok\"", "\"<retrieval_status>success</retrieval_status>\"");
        let escaped = PLAIN.replace("\"t1\"", r#""t\u0031""#);
        let result_first = PLAIN.replace("{\"type\":\"user\",", "{\"type\":\"user\",\"toolUseResult\":{},");
        let text = r#"{"type":"user","message":{"role":"user","content":"tool_result"}}"#;
        let cut = &PLAIN[..PLAIN.len() - 1];
        let error = PLAIN.replace("\"content\":\"ok\"}", "\"content\":\"ok\",\"is_error\":true}");
        let escaped_key =
            PLAIN.replace("\"tool_result\",\"tool_use_id\":\"t2\"", r#""tool_result","t\u006fol_use_id":"t2""#);
        let twice = PLAIN.replace("\"tool_use_id\":\"t2\"", "\"tool_use_id\":\"t2\",\"tool_use_id\":\"t3\"");
        let spaced_sidechain = PLAIN.replace("\"uuid\"", "\"isSidechain\": true,\"uuid\"");
        let cases = [&*launch, &sidechain, &stream, &retrieval, &escaped, &result_first, text, cut];
        for line in cases.into_iter().chain([&*error, &escaped_key, &twice, &spaced_sidechain]) {
            assert_eq!(ids(line), None, "{line}");
        }
    }

    #[test]
    fn an_agent_progress_line_names_agent_and_launch() {
        let line = br#"{"type":"progress","data":{"type":"agent_progress","agentId":"a1"},"parentToolUseID":"t1"}"#;
        assert_eq!(agent_progress(line), Some(("a1", "t1")));
        let other = br#"{"type":"progress","data":{"type":"bash_progress","agentId":"a1"},"parentToolUseID":"t1"}"#;
        assert_eq!(agent_progress(other), None);
        let no_parent = br#"{"type":"progress","data":{"type":"agent_progress","agentId":"a1"}}"#;
        assert_eq!(agent_progress(no_parent), None);
    }

    #[test]
    fn slim_keeps_what_the_reader_reads() {
        let big = "x".repeat(2000);
        let plain = PLAIN.replace("\"ok\"", &format!("\"{big}\""));
        let slimmed = match slim(plain.as_bytes(), |id| id == "t1" || id == "t2") {
            Slim::Replace(bytes) => bytes,
            other => panic!("{other:?}"),
        };
        assert!(slimmed.len() < 200, "{}", String::from_utf8_lossy(&slimmed));
        let read = plain_tool_results(&slimmed, |_| false).unwrap();
        assert_eq!((read.ids, read.uuid), (vec!["t1", "t2"], Some("u")));
        // A result of a call not known to be an ordinary tool's, an error, or a short line: as it is.
        assert_eq!(slim(plain.as_bytes(), |id| id == "t1"), Slim::Keep);
        assert_eq!(
            slim(plain.replace("\"content\":", "\"is_error\":true,\"content\":").as_bytes(), |_| true),
            Slim::Keep
        );
        assert_eq!(slim(PLAIN.as_bytes(), |_| true), Slim::Keep);
        // Progress: an agent's mirror keeps its ids; other progress goes.
        let progress = format!(
            r#"{{"type":"progress","data":{{"type":"agent_progress","agentId":"a1","message":"{big}"}},"parentToolUseID":"t1"}}"#
        );
        let Slim::Replace(p) = slim(progress.as_bytes(), |_| true) else { panic!() };
        assert_eq!(agent_progress(&p), Some(("a1", "t1")));
        assert_eq!(slim(br#"{"type":"progress","data":{"type":"bash_progress"}}"#, |_| true), Slim::Drop);
        assert_eq!(slim(br#"{"type":"attachment"}"#, |_| true), Slim::Drop);
    }
}
