//! What `orchlint merge` reads beyond the parts' JSON reports, for the
//! formats that show the transcripts themselves: html draws each session's
//! timeline, and html and human show the line of each finding. Neither is in
//! a report, so merge reads those files again, where the parts were checked.
//!
//! A part checked with `--shard K/N` stamps, in its JSON report, every file
//! such output is drawn from ([`crate::engine::Report::stamps`]); merge reads
//! a file again only when its bytes are still the ones stamped, and draws the
//! sessions with the rules it is given, which must give the totals the parts
//! report. Otherwise it stops with an error naming the file: it never draws
//! a page of other transcripts than the ones checked.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::diagnostic;
use crate::engine::{self, Checked, Options, Report};
use crate::ingest::discover::InputError;
use crate::ingest::input::open_regular;
use crate::workflow::Workflows;

/// Each file's stamp, by its path as the report names it.
pub type Stamps = BTreeMap<Arc<str>, String>;

/// Why the transcripts could not be read again as they were checked.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Error {
    #[error("{file}: the parts' findings or sessions are drawn from it, but it cannot be read here: {why}")]
    #[diagnostic(help(
        "html and human read the transcripts again: merge where the parts were checked, from the \
                       same folder; elsewhere, merge into json, sarif, junit, concise, github or jsonl, which need \
                       only the reports"
    ))]
    Missing { file: String, why: String },
    #[error("{file} changed since the part naming it was checked{why}")]
    #[diagnostic(help(
        "check the parts again, or merge into json, sarif, junit, concise, github or jsonl, which \
                       need only the reports"
    ))]
    Changed { file: String, why: String },
    #[error("the parts hold no stamp of {file} (a part checked without --shard --stamps, or by an older orchlint), so it cannot be known unchanged")]
    #[diagnostic(help(
        "write every part with `orchlint check --shard K/N --stamps --format json` of this orchlint; \
                       a transcript read from standard input cannot be read again"
    ))]
    Unstamped { file: String },
    #[error("read again with these rules, the transcripts give {found} where the parts report {reported}")]
    #[diagnostic(help("give merge the --rules, --workflow and --config (or --isolated) the parts were checked with"))]
    Settings { found: String, reported: String },
}

/// The stamp of a file: the SHA-256 of its bytes, in hex.
pub fn stamp(path: &str) -> std::io::Result<String> {
    read(Path::new(path), &BTreeSet::new()).map(|(stamp, _)| stamp)
}

/// The stamp of a file and the offsets where the given lines (1-based) start.
fn read(path: &Path, lines: &BTreeSet<u32>) -> std::io::Result<(String, BTreeMap<u32, u64>)> {
    let mut file = open_regular(path).map_err(|e| match e {
        crate::ingest::input::OpenFailure::Io(e) => e,
        special => std::io::Error::other(special.to_string()),
    })?;
    let mut hasher = Sha256::new();
    let mut starts = BTreeMap::new();
    let mut wanted = lines.iter().copied().filter(|&l| l > 1).peekable();
    if lines.contains(&1) {
        starts.insert(1, 0);
    }
    let (mut line, mut offset) = (1u32, 0u64);
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        if wanted.peek().is_some() {
            for nl in memchr::memchr_iter(b'\n', &buf[..n]) {
                line += 1;
                if wanted.next_if_eq(&line).is_some() {
                    starts.insert(line, offset + nl as u64 + 1);
                }
            }
        }
        offset += n as u64;
    }
    let stamp = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok((stamp, starts))
}

/// Reads again the files the merged `report` is drawn from, each known by its
/// stamp to be unchanged: gives every finding with a span its excerpt, and
/// with `draw`, returns the sessions checked, read with `wfs` and `opts`, in
/// the order of the page.
pub fn read_again(
    report: &mut Report,
    stamps: &Stamps,
    wfs: &Workflows,
    opts: &Options,
    draw: bool,
) -> Result<Vec<Checked>, Error> {
    // The lines of each file that findings show.
    let mut lines: BTreeMap<Arc<str>, BTreeSet<u32>> = BTreeMap::new();
    for d in report.diagnostics.iter().filter(|d| d.span.is_some()) {
        lines.entry(d.file.clone()).or_default().insert(d.line);
    }
    // Every session a part checked was stamped (a report without stamps is
    // not a part of `check --shard`).
    let mut named = lines.keys().chain(report.files.iter().filter(|_| draw));
    if let Some(file) = named.find(|f| !stamps.contains_key(*f)) {
        return Err(Error::Unstamped { file: file.to_string() });
    }
    let needed: Vec<&Arc<str>> = if draw { stamps.keys().collect() } else { lines.keys().collect() };
    let none = BTreeSet::new();
    let starts = needed
        .into_par_iter()
        .map(|file| {
            let (stamp, starts) = read(Path::new(&**file), lines.get(file).unwrap_or(&none)).map_err(|e| {
                let why = match e.kind() {
                    std::io::ErrorKind::NotFound => crate::ingest::input::missing_reason(Path::new(&**file)),
                    _ => e.to_string(),
                };
                Error::Missing { file: file.to_string(), why }
            })?;
            if stamps.get(file) != Some(&stamp) {
                return Err(Error::Changed { file: file.to_string(), why: String::new() });
            }
            Ok((file.clone(), starts))
        })
        .collect::<Result<BTreeMap<Arc<str>, BTreeMap<u32, u64>>, Error>>()?;
    excerpts(report, &starts)?;
    if !draw {
        return Ok(Vec::new());
    }
    sessions(report, stamps, wfs, opts)
}

/// Gives each finding with a span the excerpt of its line, as `check` does.
fn excerpts(report: &mut Report, starts: &BTreeMap<Arc<str>, BTreeMap<u32, u64>>) -> Result<(), Error> {
    let mut reader = crate::ingest::blocks::Reader::default();
    for d in report.diagnostics.iter_mut() {
        let Some([from, to]) = d.span else { continue };
        let changed = |why: &str| Error::Changed { file: d.file.to_string(), why: format!(": {why}") };
        let Some(&start) = starts.get(&d.file).and_then(|s| s.get(&d.line)) else {
            return Err(changed(&format!("it has no line {}", d.line)));
        };
        let source = crate::model::Source { file: d.file.clone(), line: d.line, offset: start, len: 0 };
        let Some(line) = reader.line_at(&source) else {
            return Err(changed(&format!("line {} cannot be read again", d.line)));
        };
        let (a, b) = (from.saturating_sub(start) as usize, to.saturating_sub(start) as usize);
        if from < start || a > b || b > line.len() {
            return Err(changed(&format!("line {} does not hold the finding's span", d.line)));
        }
        let (column, excerpt) = diagnostic::excerpt(&line, a, b);
        let subject_differs = d.subject.is_some() && diagnostic::subject(&line[a..b]) != d.subject;
        if column != d.column || subject_differs {
            return Err(changed(&format!("line {} does not hold what a finding names there", d.line)));
        }
        d.excerpt = Some(excerpt);
    }
    Ok(())
}

/// The sessions of the stamped files, read and checked again; their totals
/// must be the report's.
fn sessions(report: &Report, stamps: &Stamps, wfs: &Workflows, opts: &Options) -> Result<Vec<Checked>, Error> {
    let paths: Vec<PathBuf> = stamps.keys().map(|f| PathBuf::from(&**f)).collect();
    let (again, mut checked) = engine::check_collect(&paths, wfs, opts).map_err(|e| match e {
        InputError::Missing(file, why) => Error::Missing { file, why },
        other => Error::Missing { file: "-".into(), why: other.to_string() },
    })?;
    // A subagent file that came since would change the page.
    for c in &checked {
        let files = c.session.launches.iter().filter_map(|l| l.transcript.as_ref()).map(|t| t.file.as_str());
        if let Some(new) = files.into_iter().find(|f| !stamps.contains_key(*f)) {
            return Err(Error::Changed {
                file: c.session.file.to_string(),
                why: format!(": its subagent file {new} was not there then"),
            });
        }
    }
    let totals = |s: &engine::Summary| {
        [
            crate::words::plural(s.transcripts, "transcript"),
            crate::words::plural(s.subagent_files, "subagent file"),
            crate::words::plural(s.runs, "workflow run"),
            crate::words::plural_phrase(s.sessions_without_run, "session without a run", "sessions without a run"),
        ]
        .join(", ")
    };
    let (found, reported) = (totals(&again.summary), totals(&report.summary));
    if found != reported {
        return Err(Error::Settings { found, reported });
    }
    let mut files = again.files;
    files.sort();
    if files != report.files {
        return Err(Error::Settings { found: "other sessions".into(), reported: "the ones they name".into() });
    }
    // The same counts may hide other findings (a rule's severity changed,
    // another rules file of as many phases): each finding must be found again.
    type Key<'a> = (&'a str, diagnostic::Severity, &'static str, u32);
    fn findings(list: &[diagnostic::Diagnostic]) -> Vec<Key<'_>> {
        let mut keys: Vec<Key<'_>> =
            list.iter().map(|d| (d.fingerprint.as_str(), d.severity, d.rule, d.line)).collect();
        keys.sort();
        keys
    }
    let (found, reported) = (findings(&again.diagnostics), findings(&report.diagnostics));
    if found != reported {
        let said = |k: Option<&Key<'_>>| {
            k.map_or_else(
                || "nothing more".to_string(),
                |(_, severity, rule, line)| format!("{} {rule} at line {line}", severity.as_str()),
            )
        };
        let at = found.iter().zip(&reported).position(|(a, b)| a != b).unwrap_or(found.len().min(reported.len()));
        return Err(Error::Settings {
            found: format!("{} findings ({} first differs)", found.len(), said(found.get(at))),
            reported: format!("{} ({})", reported.len(), said(reported.get(at))),
        });
    }
    engine::page_order(&mut checked);
    Ok(checked)
}
