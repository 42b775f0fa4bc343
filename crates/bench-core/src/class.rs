//! Every error type of the workspace says whether it is the user's input that was wrong or the
//! tool that failed, so a command line can choose its exit code without knowing the variants.
//! Each type implements it beside its definition; this file depends on nothing.

/// Whether an error was caused by what the user gave — a flag, a file, a value (exit code 2) —
/// or is an internal failure (exit code 3).
///
/// ```
/// use bench_core::{ErrorClass, RunId};
/// let e = RunId::new("../x").unwrap_err();
/// assert!(e.is_input_error());
/// ```
pub trait ErrorClass {
    /// True when the input was at fault.
    fn is_input_error(&self) -> bool;
}
