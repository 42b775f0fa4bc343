//! Exit codes and the mapping from errors to them.

/// Success; for a pairwise evaluation, the candidate was accepted.
pub const SUCCESS: i32 = 0;
/// A pairwise evaluation that was rejected.
pub const REJECTED: i32 = 1;
/// Usage or input error: the message names the file/field and what was expected.
pub const INPUT: i32 = 2;
/// Internal failure, including a measured workload run that panicked (the run is recorded as
/// failed with its message, everything completed is written, then the command exits 3).
pub const INTERNAL: i32 = 3;
/// Interrupted (SIGINT): completed work was written, reports are marked incomplete.
pub const INTERRUPTED: i32 = 130;

/// An error caused by what the user gave us (a flag, a file), as opposed to an internal fault.
#[derive(Debug)]
pub struct InputProblem(pub String);

impl std::fmt::Display for InputProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InputProblem {}

/// Shorthand for an input error with a message.
pub fn input(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(InputProblem(message.into()))
}

/// True when the error chain says the input was at fault.
pub fn is_input_error(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.is::<InputProblem>()
            || e.is::<bench_core::InputError>()
            || e.is::<bench_core::RunIdError>()
            || e.is::<bench_core::SampleError>()
            || e.is::<bench_workloads::DataError>()
            || matches!(
                e.downcast_ref::<bench_workloads::WorkloadError>(),
                Some(
                    bench_workloads::WorkloadError::Data(_)
                        | bench_workloads::WorkloadError::InvalidParameter(_)
                        | bench_workloads::WorkloadError::UnknownSymbol { .. }
                        | bench_workloads::WorkloadError::OutOfRange { .. }
                )
            )
            || matches!(
                e.downcast_ref::<bench_threshold::ThresholdError>(),
                Some(
                    bench_threshold::ThresholdError::MismatchedPairs { .. }
                        | bench_threshold::ThresholdError::UnknownPreset { .. }
                        | bench_threshold::ThresholdError::InvalidThreshold { .. }
                        | bench_threshold::ThresholdError::Sample(_)
                )
            )
    })
}

/// Prints an error (if any) to stderr and returns the process exit code.
pub fn report(result: anyhow::Result<i32>) -> i32 {
    match result {
        Ok(code) => code,
        Err(err) => {
            let code = if is_input_error(&err) { INPUT } else { INTERNAL };
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            if code == INTERNAL {
                eprintln!(
                    "(internal failure, exit code 3: please report it with the command that caused it)"
                );
            }
            code
        }
    }
}
