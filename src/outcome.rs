//! What a subcommand's work came to, before it is an exit status. Every
//! subcommand returns one; the CLI maps it to the process's exit code in one
//! place (`cli::exit_code`), so the statuses mean the same everywhere.

/// The outcome of a subcommand that ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to report: no finding at or above the fail level, the runs
    /// behave the same, every request was answered. Exit status 0.
    Success,
    /// The answer is no: findings at or above the fail level (`check`), the
    /// runs differ or a rule regressed (`diff`), a replay diverged
    /// (`replay`), a request went unanswered or the CLI failed (`serve`,
    /// `record`). Exit status 1.
    Failure,
    /// The work could not be done whole, so there is no verdict: a file not
    /// read whole, no input holding a conversation, a `--fault` that hit no
    /// launch. Exit status 2, as for an error.
    Incomplete,
}

impl Outcome {
    /// The exit status: 0, 1 or 2 (an error, which is no outcome, is also 2).
    pub fn exit_status(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::Failure => 1,
            Outcome::Incomplete => 2,
        }
    }

    /// [`Outcome::Failure`] when `failed`, else [`Outcome::Success`].
    pub fn failure_if(failed: bool) -> Outcome {
        if failed {
            Outcome::Failure
        } else {
            Outcome::Success
        }
    }
}
