//! `orchlint rules`: the rule kinds and the workflows; check or show a rules file.

use std::path::PathBuf;

use orchlint::outcome::Outcome;
use orchlint::report;
use orchlint::settings::Sources;
use orchlint::workflow::Workflow;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Validate a rules file and print what it declares, phase by phase (exit 2 on an error).
    Check {
        /// The rules file.
        file: PathBuf,
    },
    /// Print the rules file of a workflow (bundled or given with --rules), to copy and adapt.
    Show {
        /// The workflow's name, e.g. feature-dev.
        name: String,
        /// A rules file in play beside the bundled workflows (repeatable).
        #[arg(long, value_name = "FILE")]
        rules: Vec<PathBuf>,
    },
    /// Print what every workflow in play declares.
    Describe {
        /// A rules file in play beside the bundled workflows (repeatable).
        #[arg(long, value_name = "FILE")]
        rules: Vec<PathBuf>,
    },
}

pub fn run(action: Option<Command>) -> miette::Result<Outcome> {
    let text = match action {
        None => {
            let wfs = Sources::default().workflows()?;
            format!("{}\nworkflows:\n{}", report::rules::kinds(), report::rules::list(&wfs))
        }
        Some(Command::Check { file }) => {
            let wf = Workflow::load(&file)?;
            format!("{}: valid\n\n{}", file.display(), report::rules::describe(&wf))
        }
        Some(Command::Describe { rules }) => {
            let wfs = Sources::with_rules(&rules).workflows()?;
            wfs.iter().map(|wf| report::rules::describe(wf)).collect::<Vec<_>>().join("\n")
        }
        Some(Command::Show { name, rules }) => {
            let wfs = Sources::with_rules(&rules).workflows()?;
            let Some(wf) = wfs.get(&name) else {
                miette::bail!(help = format!("the workflows are: {}", wfs.names().join(", ")), "no workflow `{name}`");
            };
            let bundled = orchlint::workflow::BUNDLED.iter().find(|(file, _)| wf.source_name.starts_with(file));
            match bundled {
                Some((_, text)) => text.to_string(),
                None => std::fs::read_to_string(&wf.source_name)
                    .map_err(|e| miette::miette!("cannot read {}: {e}", wf.source_name))?,
            }
        }
    };
    super::print_all(|out| out.write_all(text.as_bytes()))?;
    Ok(Outcome::Success)
}
