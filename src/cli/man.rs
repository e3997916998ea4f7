//! `orchlint man`: the manual pages, from the command-line definition
//! itself (clap_mangen), with the sections clap does not know: examples,
//! exit status and the pages to see also.

use std::path::PathBuf;

use clap::CommandFactory;
use roff::{bold, roman, Roff};

use orchlint::outcome::Outcome;

use super::Cli;

#[derive(clap::Args)]
pub struct Args {
    /// The subcommand whose page to print, e.g. `check` or `cassette extract` (default: orchlint(1)).
    #[arg(value_name = "SUBCOMMAND", conflicts_with = "dir")]
    page: Vec<String>,
    /// Write every page (orchlint.1, orchlint-check.1, …) into this folder instead.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

/// What each exit status means for a page's command (by page name).
fn exit_statuses(name: &str) -> [(&'static str, &'static str); 3] {
    const ERROR: &str = "could not run: a usage error, an invalid config or rules file, an unreadable input";
    match name {
        "orchlint" | "orchlint-check" => [
            ("0", "no finding at or above the fail level (default: error)"),
            ("1", "findings at or above the fail level"),
            (
                "2",
                "could not run or check whole: a usage error, an invalid config or rules file, a file not read \
                 whole, no input holding a Claude Code conversation",
            ),
        ],
        "orchlint-diff" => [
            ("0", "the two runs behave the same (with --corpus: no rule regressed)"),
            ("1", "the runs differ (with --corpus: a rule's share of broken runs grew beyond --max-regression)"),
            ("2", ERROR),
        ],
        "orchlint-replay" => [
            ("0", "every replay matched its recording"),
            ("1", "a replay diverged from its recording"),
            (
                "2",
                "could not run or replay whole: an error as above, an unreadable session, a --fault that hit no launch",
            ),
        ],
        "orchlint-serve" => [
            ("0", "every request was answered"),
            ("1", "a request could not be answered from the recording"),
            ("2", "could not start: a usage error, an unreadable recording, the port taken"),
        ],
        "orchlint-record" => [
            ("0", "every CLI invocation succeeded and every request was answered"),
            ("1", "a CLI invocation failed or a request went unanswered"),
            ("2", "could not record: a usage error, no Claude Code CLI, an unreadable recording"),
        ],
        "orchlint-merge" => [
            ("0", "no finding in the merged report at or above the fail level (default: error)"),
            ("1", "findings at or above the fail level"),
            ("2", "could not merge: a usage error, a report unreadable or not of this orchlint; for html and human, a transcript gone or changed since the part was checked"),
        ],
        "orchlint-guard" => [
            ("0", "the hook call was answered (the decision is the JSON on standard output), or let through because it could not be judged (said on standard error)"),
            ("1", "not used"),
            ("2", "the rules file or the config is invalid: with onFailure \"block\" the call is blocked"),
        ],
        _ => [("0", "done"), ("1", "not used"), ("2", ERROR)],
    }
}

/// The examples of orchlint(1): the `--help` examples, one a paragraph.
fn examples(roff: &mut Roff) {
    roff.control("SH", ["EXAMPLES"]);
    for line in super::EXAMPLES.lines().skip(1).take_while(|l| !l.is_empty()) {
        let line = line.trim();
        let (command, what) = line.split_once("  ").map_or((line, ""), |(c, w)| (c, w.trim()));
        roff.control("TP", []).text([bold(command)]).text([roman(what)]);
    }
}

/// One page: clap's sections, then examples (orchlint(1) only), exit
/// status and see also.
fn page(cmd: &clap::Command, top: &clap::Command) -> std::io::Result<Vec<u8>> {
    let name = cmd.get_display_name().unwrap_or_else(|| cmd.get_name()).to_string();
    let version = top.get_version().unwrap_or_default();
    let man = clap_mangen::Man::new(cmd.clone()).source(format!("orchlint {version}")).manual("orchlint manual");
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut out)?;
    }
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        man.render_subcommands_section(&mut out)?;
    }
    let mut roff = Roff::new();
    if name == "orchlint" {
        examples(&mut roff);
    }
    roff.control("SH", ["EXIT STATUS"]);
    for (code, meaning) in exit_statuses(&name) {
        if meaning != "not used" {
            roff.control("TP", []).text([bold(code)]).text([roman(meaning)]);
        }
    }
    roff.control("SH", ["SEE ALSO"]);
    let mut see: Vec<String> = Vec::new();
    if name != "orchlint" {
        see.push("orchlint(1)".into());
    }
    see.extend(
        pages(top).iter().map(|(n, _)| format!("{n}(1)")).filter(|n| *n != format!("{name}(1)") && n != "orchlint(1)"),
    );
    roff.text([roman(format!("{}.", see.join(", ")))]);
    roff.control("PP", []);
    roff.text([roman("The documentation: docs/ in the orchlint repository; a rule's: orchlint explain RULE.")]);
    // Subcommands carry no version of their own: theirs is orchlint's.
    if let Some(version) = top.get_version() {
        roff.control("SH", ["VERSION"]);
        roff.text([roman(format!("v{version}"))]);
    }
    roff.to_writer(&mut out)?;
    Ok(out)
}

/// Every page: the built command and its (nested) subcommands, by page name.
fn pages(top: &clap::Command) -> Vec<(String, clap::Command)> {
    fn walk(cmd: &clap::Command, out: &mut Vec<(String, clap::Command)>) {
        let name = cmd.get_display_name().unwrap_or_else(|| cmd.get_name()).to_string();
        out.push((name, cmd.clone()));
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            walk(sub, out);
        }
    }
    let mut out = Vec::new();
    walk(top, &mut out);
    out
}

pub fn run(args: Args) -> miette::Result<Outcome> {
    let mut top = Cli::command().disable_help_subcommand(true);
    top.build();
    let all = pages(&top);
    if let Some(dir) = &args.dir {
        std::fs::create_dir_all(dir).map_err(|e| miette::miette!("cannot create {}: {e}", dir.display()))?;
        for (name, cmd) in &all {
            let path = dir.join(format!("{name}.1"));
            let text = page(cmd, &top).map_err(|e| miette::miette!("cannot render {name}(1): {e}"))?;
            std::fs::write(&path, text).map_err(|e| miette::miette!("cannot write {}: {e}", path.display()))?;
        }
        eprintln!("wrote {} to {}", orchlint::words::plural(all.len(), "man page"), dir.display());
        return Ok(Outcome::Success);
    }
    let wanted = std::iter::once("orchlint").chain(args.page.iter().map(String::as_str)).collect::<Vec<_>>().join("-");
    let Some((_, cmd)) = all.iter().find(|(name, _)| *name == wanted) else {
        let names: Vec<&str> = all.iter().skip(1).map(|(n, _)| &n["orchlint-".len()..]).collect();
        let asked = args.page.join(" ");
        let help = match orchlint::words::closest(&asked.replace(' ', "-"), names.iter().copied()) {
            Some(n) => format!("did you mean `orchlint man {}`?", n.replace('-', " ")),
            None => format!("the pages: {}", names.iter().map(|n| n.replace('-', " ")).collect::<Vec<_>>().join(", ")),
        };
        miette::bail!(help = help, "no man page for `{asked}`");
    };
    let text = page(cmd, &top).map_err(|e| miette::miette!("cannot render the man page: {e}"))?;
    super::print_all(|out| out.write_all(&text))?;
    Ok(Outcome::Success)
}
