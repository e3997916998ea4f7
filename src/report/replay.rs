//! `orchlint replay` output: a line per session, the divergence in detail,
//! verdict changes, and totals.

use std::io::{self, Write};

use crate::words::plural;

use crate::replay::{Order, ReplayReport, SessionReplay, Verdict};

/// Longest line of a diff or step shown in human output; JSON keeps them whole.
const WIDTH: usize = 160;

pub fn render_human(report: &ReplayReport, out: &mut dyn Write) -> io::Result<()> {
    for s in &report.sessions {
        session(s, out)?;
    }
    for u in &report.unreadable {
        writeln!(out, "unreadable  {u}")?;
    }
    let t = &report.summary;
    let schedule = match report.order {
        Order::Random => format!("order random, seed {}", report.seed),
        Order::Recorded => "order recorded".into(),
        Order::Reverse => "order reverse".into(),
    };
    writeln!(
        out,
        "\n{} replayed: {} as recorded, {} diverged{}{} ({schedule}, --match {}).",
        plural(t.sessions, "session"),
        t.replayed,
        t.diverged,
        if t.verdicts_changed > 0 { format!(", {} with changed verdicts", t.verdicts_changed) } else { String::new() },
        if t.unreadable > 0 { format!(", {} unreadable", t.unreadable) } else { String::new() },
        report.matching
    )
}

fn session(s: &SessionReplay, out: &mut dyn Write) -> io::Result<()> {
    let errors = s.verdicts.iter().filter(|v| v.severity == crate::diagnostic::Severity::Error).count();
    let warnings = s.verdicts.iter().filter(|v| v.severity == crate::diagnostic::Severity::Warning).count();
    let verdicts = format!(
        "verdicts {} ({}, {})",
        if s.verdict_changes.is_empty() { "as recorded" } else { "changed" },
        plural(errors, "error"),
        plural(warnings, "warning")
    );
    match &s.divergence {
        None => writeln!(
            out,
            "replayed  {}  {}, {}, {}; {verdicts}",
            s.file,
            plural(s.replayed_steps, "step"),
            plural(s.decisions, "decision"),
            plural(s.launches, "launch"),
        )?,
        Some(d) => {
            writeln!(out, "diverged  {}", s.file)?;
            writeln!(out, "  at step {}: {}", d.step, d.message)?;
            writeln!(out, "  recorded: {}", cut(&d.recorded))?;
            match &d.replayed {
                Some(r) => writeln!(out, "  replayed: {}", cut(r))?,
                None => writeln!(out, "  replayed: (nothing)")?,
            }
            for line in d.diff.lines() {
                writeln!(out, "  {}", cut(line))?;
            }
            writeln!(out, "  verdicts not compared: the replay stopped after {}", plural(s.replayed_steps, "step"))?;
        }
    }
    if s.input_problems > 0 {
        writeln!(
            out,
            "  note: {} reading the input; `orchlint check` lists them",
            plural(s.input_problems, "problem")
        )?;
    }
    for v in &s.verdict_changes.added {
        writeln!(out, "  + {}", verdict(v))?;
    }
    for v in &s.verdict_changes.removed {
        writeln!(out, "  - {}", verdict(v))?;
    }
    Ok(())
}

fn verdict(v: &Verdict) -> String {
    let phase = v.phase.map(|p| format!(" phase {p}")).unwrap_or_default();
    format!("{}[{}]{phase} line {} (step {}): {}", v.severity.as_str(), v.rule, v.line, v.step, v.message)
}

/// A line cut to the display width, on a character boundary.
fn cut(line: &str) -> String {
    if line.chars().count() <= WIDTH {
        return line.to_string();
    }
    let head: String = line.chars().take(WIDTH).collect();
    format!("{head}…")
}
