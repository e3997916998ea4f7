//! The CLI's stream-json output as `record` reads it while it drives the
//! CLI: the session it announced, and whether it ended in an error.

use std::path::Path;

use crate::ingest::lines::LineReader;
use crate::ingest::raw::LStr;

/// The fields of an output line `record` looks at.
#[derive(Default, serde::Deserialize)]
#[serde(default)]
struct OutputLine<'a> {
    #[serde(rename = "type", borrow)]
    kind: LStr<'a>,
    #[serde(borrow)]
    session_id: LStr<'a>,
    /// Any value: only `true` is an error.
    is_error: Option<serde_json::Value>,
}

/// Each line of the output that reads as an object, until the end or a read error.
fn each_line(path: &Path, mut f: impl FnMut(OutputLine<'_>) -> bool) -> bool {
    let Ok(file) = crate::ingest::input::open_regular(path) else { return false };
    let mut lines = LineReader::new(file);
    while let Ok(Some(line)) = lines.next_line() {
        if let Ok(entry) = serde_json::from_slice::<OutputLine<'_>>(line.bytes) {
            if f(entry) {
                return true;
            }
        }
    }
    false
}

/// The session id the CLI announced: the first line's that names one.
pub fn session_id(path: &Path) -> Option<String> {
    let mut id = None;
    each_line(path, |l| {
        id = l.session_id.to_owned_string();
        id.is_some()
    });
    id
}

/// Whether the output has a `result` line with `is_error: true` (2.0.x
/// exits 0 on some failures: the result line tells).
pub fn reports_error(path: &Path) -> bool {
    each_line(path, |l| l.kind.as_deref() == Some("result") && l.is_error == Some(serde_json::Value::Bool(true)))
}
