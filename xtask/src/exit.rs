//! Exit codes, and the one error type of the command line: every library error converts into
//! it by asking the error whether the input was at fault ([`bench_core::ErrorClass`]).

use bench_core::ErrorClass;

/// Success; for a pairwise evaluation, the candidate was accepted.
pub const SUCCESS: i32 = 0;
/// A pairwise evaluation that was not accepted: rejected, a regression, or inconclusive (the
/// bounds still contain the threshold when the budget ran out).
pub const REJECTED: i32 = 1;
/// Usage or input error: the message names the file/field and what was expected.
pub const INPUT: i32 = 2;
/// Internal failure, including a measured workload run that panicked (the run is recorded as
/// failed with its message, everything completed is written, then the command exits 3).
pub const INTERNAL: i32 = 3;
/// Interrupted (SIGINT): completed work was written, reports are marked incomplete.
pub const INTERRUPTED: i32 = 130;

/// Why a command failed, and whether the user's input was at fault.
#[derive(Debug)]
pub struct Failure {
    input: bool,
    error: anyhow::Error,
}

impl<E: ErrorClass + std::error::Error + Send + Sync + 'static> From<E> for Failure {
    fn from(e: E) -> Self {
        Self { input: e.is_input_error(), error: anyhow::Error::new(e) }
    }
}

impl Failure {
    /// Bad input, with a message that says what was expected.
    pub fn input(message: impl Into<String>) -> Self {
        Self { input: true, error: anyhow::Error::msg(message.into()) }
    }

    /// An internal failure.
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self { input: false, error: error.into() }
    }

    /// The same failure with what was being done.
    pub fn context(self, what: impl std::fmt::Display + Send + Sync + 'static) -> Self {
        Self { input: self.input, error: self.error.context(what) }
    }
}

/// What a subcommand returns: its exit code, or why it failed.
pub type Outcome = Result<i32, Failure>;

/// Prints a failure (if any) to stderr and returns the process exit code.
pub fn report(outcome: Outcome) -> i32 {
    match outcome {
        Ok(code) => code,
        Err(Failure { input, error }) => {
            let mut said = error.to_string();
            eprintln!("error: {said}");
            for text in error.chain().skip(1).map(|c| c.to_string()) {
                if !said.contains(&text) {
                    eprintln!("  caused by: {text}");
                }
                said.push_str(&text);
            }
            if input {
                INPUT
            } else {
                eprintln!(
                    "(internal failure, exit code 3: please report it with the command that caused it)"
                );
                INTERNAL
            }
        }
    }
}

/// Prints `doc` as one JSON document (with `--json`) or the text `text` makes.
pub fn print(doc: &impl serde::Serialize, text: impl FnOnce() -> String) -> Result<(), Failure> {
    match crate::flags().json {
        true => println!("{}", self::json(doc)?),
        false => print!("{}", text()),
    }
    Ok(())
}

/// Serialises a document for `--json` (a failure here is internal).
pub fn json(value: &impl serde::Serialize) -> Result<String, Failure> {
    serde_json::to_string_pretty(value).map_err(Failure::internal)
}
