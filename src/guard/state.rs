//! The guard's own state, one folder a session under the state folder
//! (`$CLAUDE_PLUGIN_DATA`, else the user's cache): the lines of the
//! transcript that the checks read, copied as the transcript grows (so a hook
//! call reads only what was written since the last one), how far it has
//! read, whether the end-of-turn reminder was given, and the log of
//! decisions. Every change happens under an exclusive lock on the folder's
//! lock file: Claude Code runs the hooks of parallel calls at the same time.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::ingest::transcript::{slim, Slim};
use crate::workflow::Workflows;

/// Why the state could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
}

fn io(what: &Path) -> impl Fn(std::io::Error) -> StateError + '_ {
    move |e| StateError::Io(what.display().to_string(), e)
}

/// One session's state folder.
pub struct SessionState {
    dir: PathBuf,
    session: String,
}

/// What is kept between calls (`state.json`).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
struct Kept {
    /// Bytes of the transcript read so far (up to a line end).
    offset: u64,
    /// The run whose end was reminded: a hash of its first line.
    reminded_run: Option<String>,
    /// The orchestrator's calls of ordinary tools (not launches) whose result
    /// is yet to come: their results are kept in the mirror by their ids only.
    ordinary: Vec<String>,
}

/// At most this many ordinary calls are remembered (a call never answered
/// is forgotten eventually; its result, if it comes, is then kept whole).
const ORDINARY_KEPT: usize = 4096;

/// A session id as a folder name: what is not a letter, digit, `-` or `_`
/// becomes `_` (a session id is a UUID; nothing else reaches the path).
fn folder_name(session: &str) -> String {
    let name: String =
        session.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    if name.is_empty() {
        "unknown-session".into()
    } else {
        name
    }
}

impl SessionState {
    pub fn open(root: &Path, session: &str) -> Result<SessionState, StateError> {
        let dir = root.join(folder_name(session));
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        Ok(SessionState { dir, session: session.to_string() })
    }

    /// The session id, as the hook input gave it.
    pub fn session(&self) -> &str {
        &self.session
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Runs `f` holding the session's lock.
    pub fn locked<T>(&self, f: impl FnOnce(&Self) -> Result<T, StateError>) -> Result<T, StateError> {
        let path = self.dir.join("lock");
        let file = OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(io(&path))?;
        let mut lock = fd_lock::RwLock::new(file);
        let _guard = lock.write().map_err(io(&path))?;
        f(self)
    }

    fn kept(&self) -> Kept {
        std::fs::read(self.dir.join("state.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    fn keep(&self, kept: &Kept) -> Result<(), StateError> {
        let path = self.dir.join("state.json");
        let tmp = self.dir.join("state.json.tmp");
        std::fs::write(&tmp, serde_json::to_vec(kept).unwrap_or_default()).map_err(io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io(&path))
    }

    /// Copies the transcript's new whole lines into the mirror, each as
    /// little of it as the checks read ([`slim`]), and returns the mirror
    /// (call it holding the lock). A transcript shorter than what was read
    /// (rewritten) is read again from the start.
    pub fn catch_up(&self, transcript: &Path, wfs: &Workflows) -> Result<Vec<u8>, StateError> {
        let mut kept = self.kept();
        let mirror_path = self.dir.join("mirror.jsonl");
        let mut file = crate::ingest::input::open_regular(transcript)
            .map_err(|e| StateError::Io(transcript.display().to_string(), std::io::Error::other(e.to_string())))?;
        let len = file.metadata().map_err(io(transcript))?.len();
        let mut mirror = if len < kept.offset {
            kept = Kept { reminded_run: kept.reminded_run, ..Kept::default() };
            File::create(&mirror_path).map_err(io(&mirror_path))?
        } else {
            OpenOptions::new().create(true).append(true).open(&mirror_path).map_err(io(&mirror_path))?
        };
        if len == kept.offset {
            return Ok(self.mirror());
        }
        file.seek(SeekFrom::Start(kept.offset)).map_err(io(transcript))?;
        let mut new = Vec::with_capacity((len - kept.offset) as usize);
        file.take(len - kept.offset).read_to_end(&mut new).map_err(io(transcript))?;
        // Only whole lines: the one being written is read next time.
        let Some(end) = memchr::memrchr(b'\n', &new) else { return Ok(self.mirror()) };
        let mut out = Vec::with_capacity(end + 1);
        for line in new[..end].split(|b| *b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.len() > crate::ingest::input::MAX_LINE {
                continue;
            }
            kept.ordinary.extend(ordinary_calls(line, wfs));
            let slimmed = slim(line, |id| kept.ordinary.iter().any(|o| o == id));
            match slimmed {
                Slim::Drop => continue,
                Slim::Keep => out.extend_from_slice(line),
                Slim::Replace(bytes) => {
                    kept.ordinary.retain(|o| memchr::memmem::find(&bytes, o.as_bytes()).is_none());
                    out.extend_from_slice(&bytes);
                }
            }
            out.push(b'\n');
        }
        if kept.ordinary.len() > ORDINARY_KEPT {
            kept.ordinary.drain(..kept.ordinary.len() - ORDINARY_KEPT);
        }
        mirror.write_all(&out).map_err(io(&mirror_path))?;
        kept.offset += end as u64 + 1;
        self.keep(&kept)?;
        Ok(self.mirror())
    }

    /// Lets go of the mirror's lines before `first`, a whole line of it (the
    /// first line of the session's last run: the runs before it are over);
    /// nothing when no line is `first` (the mirror was cut already, or
    /// rewritten). Call it holding the lock. The mirror is replaced whole,
    /// so a reader gets the one or the other.
    pub fn cut_before(&self, first: &[u8]) -> Result<(), StateError> {
        let mirror = self.mirror();
        let Some(at) = line_start(&mirror, first) else { return Ok(()) };
        if at == 0 {
            return Ok(());
        }
        let path = self.dir.join("mirror.jsonl");
        let tmp = self.dir.join("mirror.jsonl.tmp");
        std::fs::write(&tmp, &mirror[at..]).map_err(io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io(&path))
    }

    /// The mirror: the lines of the transcript so far that the checks read.
    pub fn mirror(&self) -> Vec<u8> {
        std::fs::read(self.dir.join("mirror.jsonl")).unwrap_or_default()
    }

    /// Whether the end of the run `run` (a hash of its first line) was reminded.
    pub fn reminded(&self, run: &str) -> bool {
        self.kept().reminded_run.as_deref() == Some(run)
    }

    pub fn set_reminded(&self, run: &str) -> Result<(), StateError> {
        let mut kept = self.kept();
        kept.reminded_run = Some(run.to_string());
        self.keep(&kept)
    }

    /// The calls the guard denied in this session, from its log.
    pub fn denied(&self) -> Vec<String> {
        let text = std::fs::read_to_string(self.dir.join("guard.jsonl")).unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|d| d["decision"] == "deny")
            .filter_map(|d| d["tool_use_id"].as_str().map(str::to_string))
            .collect()
    }

    /// Appends a decision to the session's log (`guard.jsonl`).
    pub fn log(&self, line: &serde_json::Value) -> Result<(), StateError> {
        let path = self.dir.join("guard.jsonl");
        let mut f = OpenOptions::new().create(true).append(true).open(&path).map_err(io(&path))?;
        let mut text = serde_json::to_vec(line).unwrap_or_default();
        text.push(b'\n');
        f.write_all(&text).map_err(io(&path))
    }
}

/// The ids of an assistant line's calls of tools that are not launches.
fn ordinary_calls(line: &[u8], wfs: &Workflows) -> Vec<String> {
    if memchr::memmem::find(line, b"\"tool_use\"").is_none() {
        return Vec::new();
    }
    let Ok(entry) = serde_json::from_slice::<crate::ingest::blocks::WholeEntry>(line) else { return Vec::new() };
    if entry.kind.0.as_deref() != Some("assistant") {
        return Vec::new();
    }
    entry
        .blocks()
        .filter(|b| crate::ingest::blocks::kind(b) == Some("tool_use"))
        .filter_map(|b| {
            let name = b.get("name")?.as_str()?;
            let id = b.get("id")?.as_str()?;
            (!wfs.is_launch_tool(name)).then(|| id.to_string())
        })
        .collect()
}

/// Where the whole line `line` starts in `text`.
fn line_start(text: &[u8], line: &[u8]) -> Option<usize> {
    if line.is_empty() {
        return None;
    }
    let mut from = 0;
    while let Some(i) = memchr::memmem::find(&text[from..], line).map(|i| i + from) {
        let starts = i == 0 || text[i - 1] == b'\n';
        let ends = text.get(i + line.len()).is_none_or(|b| *b == b'\n');
        if starts && ends {
            return Some(i);
        }
        from = i + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catch_up_copies_whole_read_lines_once() {
        let wfs = Workflows::builtin();
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path().join("t.jsonl");
        std::fs::write(&t, "{\"type\":\"user\",\"n\":1}\n{\"type\":\"attachment\"}\n{\"type\":\"assistant\",\"n\":2")
            .unwrap();
        let s = SessionState::open(&dir.path().join("state"), "s/../1").unwrap();
        assert!(s.dir().ends_with("s____1"), "{}", s.dir().display());
        s.locked(|s| s.catch_up(&t, &wfs)).unwrap();
        assert_eq!(s.mirror(), b"{\"type\":\"user\",\"n\":1}\n");
        // The line being written is read once whole; nothing twice.
        let mut f = OpenOptions::new().append(true).open(&t).unwrap();
        f.write_all(b"}\n").unwrap();
        s.locked(|s| s.catch_up(&t, &wfs)).unwrap();
        s.locked(|s| s.catch_up(&t, &wfs)).unwrap();
        assert_eq!(s.mirror(), b"{\"type\":\"user\",\"n\":1}\n{\"type\":\"assistant\",\"n\":2}\n");
        // A rewritten, shorter transcript is read again.
        std::fs::write(&t, "{\"type\":\"user\",\"n\":3}\n").unwrap();
        s.locked(|s| s.catch_up(&t, &wfs)).unwrap();
        assert_eq!(s.mirror(), b"{\"type\":\"user\",\"n\":3}\n");
    }
}
