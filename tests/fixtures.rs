//! Every rule against its fixtures, run with that rule alone: a valid fixture
//! with a finding is "noisy", an invalid one without a finding at the
//! labelled line is "missing". Each snapshot holds the offending input line and
//! the rendered diagnostics together.

mod common;

use common::{check, fixtures, human, manifest, relative};
use orchlint::diagnostic::Severity;

#[test]
fn every_fixture_is_judged_as_labelled() {
    let mut problems = Vec::new();
    for fixture in manifest() {
        let path = fixtures().join(&fixture.file);
        let report = check(&[&path], &[&fixture.rule]);
        // incomplete-run is a note by design; elsewhere notes are context, not findings.
        let findings: Vec<_> = report
            .diagnostics
            .iter()
            .filter(|d| d.rule == fixture.rule && (d.severity != Severity::Note || d.rule == "incomplete-run"))
            .collect();
        match (fixture.kind.as_str(), &fixture.violation) {
            ("valid", _) if !findings.is_empty() => problems.push(format!(
                "noisy: {} reports {:?}",
                fixture.file,
                findings.iter().map(|d| (d.line, &d.message)).collect::<Vec<_>>()
            )),
            ("invalid", Some(v)) if !findings.iter().any(|d| v.at(&fixture, d)) => problems.push(format!(
                "missing: {} has no {} finding at {}:{} (got {:?})",
                fixture.file,
                fixture.rule,
                v.file.as_deref().unwrap_or(&fixture.file),
                v.line,
                findings.iter().map(|d| (&d.file, d.line, &d.message)).collect::<Vec<_>>()
            )),
            ("invalid", Some(v)) => {
                if let Some(phase) = v.phase {
                    let at_line: Vec<_> = findings.iter().filter(|d| v.at(&fixture, d)).collect();
                    if !at_line.iter().any(|d| d.phase == Some(phase)) {
                        problems.push(format!(
                            "phase: {} finding at line {} is not in phase {phase}",
                            fixture.file, v.line
                        ));
                    }
                }
            }
            ("invalid", None) => problems.push(format!("manifest: {} has no violation line", fixture.file)),
            _ => {}
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn fixture_snapshots() {
    for fixture in manifest() {
        let path = fixtures().join(&fixture.file);
        let report = check(&[&path], &[&fixture.rule]);
        let mut snapshot = format!("fixture: {}\ndemonstrates: {}\n", fixture.file, fixture.demonstrates);
        for d in report.diagnostics.iter().filter(|d| d.rule == fixture.rule) {
            // The diagnostic's own file: the fixture, or one of its subagent transcripts.
            let text = std::fs::read_to_string(&*d.file).unwrap();
            let line = text.lines().nth(d.line as usize - 1).unwrap_or("");
            let shown: String = line.chars().take(160).collect();
            let of = if d.file.ends_with(&fixture.file) { String::new() } else { format!(" of {}", relative(&d.file)) };
            snapshot.push_str(&format!(
                "input line {}{of}: {}{}\n",
                d.line,
                shown,
                if shown.len() < line.len() { "…" } else { "" }
            ));
        }
        snapshot.push_str("---\n");
        snapshot.push_str(&relative(&human(&report)));
        let name = fixture.file.trim_end_matches(".jsonl").replace('/', "__");
        insta::with_settings!({ snapshot_path => "snapshots/fixtures", prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!(name, snapshot);
        });
    }
}
