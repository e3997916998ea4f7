//! `orchlint cassette extract`: the agents' answers of a run.

use std::path::{Path, PathBuf};

use orchlint::engine;
use orchlint::outcome::Outcome;
use orchlint::words::plural;

use super::SettingsArgs;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Write the answers of every launch of a session (agent type, prompt, response, status).
    Extract {
        /// A session file, stream-json output, or a folder holding one session.
        transcript: PathBuf,
        /// The cassette file to write (`-` for standard output).
        #[arg(long, short = 'o', value_name = "FILE")]
        output: PathBuf,
        #[command(flatten)]
        settings: SettingsArgs,
    },
}

pub fn run(command: Command) -> miette::Result<Outcome> {
    let Command::Extract { transcript, output, settings } = command;
    extract(&transcript, &output, &settings)
}

fn extract(transcript: &Path, output: &Path, settings: &SettingsArgs) -> miette::Result<Outcome> {
    let wfs = settings.sources().workflows()?;
    let checked =
        engine::sessions_at(transcript, &wfs, &engine::Options::default(), |c| !c.session.launches.is_empty())?;
    let c = match checked.len() {
        1 => &checked[0],
        0 => miette::bail!("{}: no agent launch found", transcript.display()),
        n => miette::bail!(help = "name one session file", "{}: {n} sessions with launches", transcript.display()),
    };
    let cassette = orchlint::cassette::extract(c);
    let mut text = serde_json::to_string_pretty(&cassette).map_err(|e| miette::miette!("{e}"))?;
    text.push('\n');
    if output.as_os_str() == "-" {
        super::print_all(|out| out.write_all(text.as_bytes()))?;
    } else {
        std::fs::write(output, text).map_err(|e| miette::miette!("cannot write {}: {e}", output.display()))?;
        eprintln!("wrote {} to {}", plural(cassette.entries.len(), "entry"), output.display());
    }
    Ok(Outcome::Success)
}
