//! `orchlint explain`: a rule kind's documentation, and a workflow's instance of it.

use std::path::PathBuf;

use orchlint::checks;
use orchlint::outcome::Outcome;
use orchlint::report;
use orchlint::settings::Sources;

#[derive(clap::Args)]
pub struct Args {
    /// The rule id, e.g. agent-count.
    #[arg(required_unless_present = "all")]
    rule: Option<String>,
    /// Print every rule's documentation, one after the other.
    #[arg(long, conflicts_with_all = ["rule", "workflow"])]
    all: bool,
    /// A rules file in play beside the bundled workflows (repeatable).
    #[arg(long, value_name = "FILE")]
    rules: Vec<PathBuf>,
    /// Also show this workflow's instance: its phases, counts, gates or policy, in its own words.
    #[arg(long, value_name = "NAME")]
    workflow: Option<String>,
}

pub fn run(args: Args) -> miette::Result<Outcome> {
    let text = if args.all {
        checks::RULES.iter().map(|r| r.doc).collect::<Vec<_>>().join("\n")
    } else {
        let id = args.rule.as_deref().unwrap_or_default();
        let Some(rule) = checks::rule(id) else {
            miette::bail!(help = checks::suggest_rule(id), "unknown rule `{id}`");
        };
        match &args.workflow {
            None => rule.doc.to_string(),
            Some(name) => {
                let wfs = Sources::with_rules(&args.rules).workflows()?;
                let wf = wfs.get(name).ok_or_else(|| {
                    miette::miette!(
                        help = format!("the workflows are: {}", wfs.names().join(", ")),
                        "no workflow `{name}`"
                    )
                })?;
                report::rules::explain_instance(rule, wf)
            }
        }
    };
    super::print_all(|out| out.write_all(text.as_bytes()))?;
    Ok(Outcome::Success)
}
