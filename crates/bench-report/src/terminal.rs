//! The terminal: progress on stderr that hides itself for machine-read output (`json`), non-TTY
//! stderr and CI, and colour for the verdict words of every text report on stdout that honours
//! `NO_COLOR` and is off for machine-read output and non-TTY. The command line uses these; a
//! program of its own that prints reports can too.
//!
//! ```
//! use bench_report::terminal::paint;
//! assert_eq!(paint("ACCEPTED: x", true), "\x1b[1;32mACCEPTED\x1b[0m: x");
//! assert_eq!(paint("ACCEPTED: x", false), "ACCEPTED: x");
//! ```

use std::io::IsTerminal;
use std::time::Duration;

pub use indicatif::ProgressBar;
use indicatif::ProgressStyle;

/// Whether progress should be drawn: not for `--json`, not when stderr is not a terminal, not
/// when `CI` is set.
pub fn enabled(json: bool) -> bool {
    !json && std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()
}

/// A bar of `len` steps, or a hidden one.
pub fn bar(len: u64, message: &str, json: bool) -> ProgressBar {
    styled_bar(len, message, json, "(eta {eta})")
}

/// A harness's progress (`label`, pairs done, pairs at most) shown on `bar`.
pub fn follow_pairs(bar: &ProgressBar) -> impl FnMut(&str, usize, usize) + 'static {
    let shown = bar.clone();
    move |label: &str, done: usize, total: usize| {
        shown.set_length(total as u64);
        shown.set_position(done as u64);
        shown.set_message(format!("{label}: pairs"));
    }
}

/// A bar of at most `len` steps — work that may stop early (an adaptive comparison deciding)
/// — whose time left reads as the bound it is, or a hidden one.
pub fn budget_bar(len: u64, message: &str, json: bool) -> ProgressBar {
    styled_bar(len, message, json, "(at most {eta} left)")
}

fn styled_bar(len: u64, message: &str, json: bool, eta: &str) -> ProgressBar {
    if !enabled(json) {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} {{msg}} [{{bar:30}}] {{pos}}/{{len}} {{elapsed_precise}} {eta}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    pb.set_message(message.to_owned());
    pb.enable_steady_tick(Duration::from_millis(200));
    pb
}

/// Follows a comparison of commands on `bar` (a [`budget_bar`]): prints its plan on stderr
/// (not for `json`) and counts to the pairs — or the runs of one command, unless `paired` —
/// that its time budget allows at the planned pace, so the time left is a bound.
#[allow(clippy::print_stderr, reason = "this module is the terminal")]
pub fn follow_comparison(
    bar: &ProgressBar,
    paired: bool,
    json: bool,
) -> impl FnMut(bench_command::CompareProgress) + '_ {
    use bench_command::CompareProgress;
    move |event| match event {
        CompareProgress::Planned(plan) => {
            bar.set_length(plan.timed_at_most().div_ceil(if paired { 2 } else { 1 }) as u64);
            bar.suspend(|| (!json).then(|| eprintln!("expected time: {plan}")));
        }
        CompareProgress::Done { done, most } => {
            bar.set_length(bar.length().unwrap_or(u64::MAX).min(most as u64).max(done as u64));
            bar.set_position(done as u64);
        }
    }
}

/// A spinner with a message and elapsed time, or a hidden one.
pub fn spinner(message: &str, json: bool) -> ProgressBar {
    if !enabled(json) {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new_spinner();
    pb.set_style(
        ProgressStyle::with_template("{spinner} {msg} {elapsed_precise}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.set_message(message.to_owned());
    pb.enable_steady_tick(Duration::from_millis(200));
    pb
}

/// Long work shown as it goes: a spinner naming the current stage, the plan (what will run and
/// how long it should take) as a line on stderr, then a bar of counted units; all hidden where
/// [`enabled`] says so, except the plan line, which only machine-read output hides.
#[derive(Debug)]
pub struct Activity {
    json: bool,
    unit: String,
    spin: std::sync::Mutex<ProgressBar>,
    bar: std::sync::OnceLock<ProgressBar>,
}

impl Activity {
    /// Starts with a spinner showing `stage`; the bar, when counting starts, counts `unit`.
    pub fn new(stage: &str, unit: &str, json: bool) -> Self {
        Self {
            json,
            unit: unit.to_owned(),
            spin: std::sync::Mutex::new(spinner(stage, json)),
            bar: std::sync::OnceLock::new(),
        }
    }

    fn spin(&self) -> std::sync::MutexGuard<'_, ProgressBar> {
        self.spin.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A new stage (a new spinner once the plan has been shown).
    pub fn stage(&self, what: &str) {
        let mut spin = self.spin();
        if spin.is_finished() {
            *spin = spinner(what, self.json);
        } else {
            spin.set_message(what.to_owned());
        }
    }

    /// Clears the spinner and prints the plan on stderr.
    #[allow(clippy::print_stderr, reason = "this module is the terminal")]
    pub fn plan(&self, what: &str) {
        self.spin().finish_and_clear();
        if !self.json {
            eprintln!("{what}");
        }
    }

    /// `done` of `total` units counted.
    pub fn count(&self, done: u64, total: u64) {
        self.bar.get_or_init(|| bar(total, &self.unit, self.json)).set_position(done);
    }

    /// Clears whatever is still drawn.
    pub fn clear(&self) {
        self.spin().finish_and_clear();
        if let Some(b) = self.bar.get() {
            b.finish_and_clear();
        }
    }
}

/// Whether stdout gets colour: a terminal, no `--json`, `NO_COLOR` unset or empty, not a dumb
/// terminal.
pub fn colour(json: bool) -> bool {
    !json
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var("TERM").map_or(true, |t| t != "dumb")
}

/// `text` with its verdict words coloured (green accepted and pass, red rejected and FAIL,
/// magenta regression, yellow blocked, inconclusive, incomplete and underpowered) when `on`.
pub fn paint(text: &str, on: bool) -> String {
    if !on {
        return text.to_owned();
    }
    const WORDS: [(&str, &str); 11] = [
        ("ACCEPTED", "1;32"),
        ("REJECTED", "1;31"),
        ("rejected", "31"),
        ("REGRESSION", "1;35"),
        ("BLOCKED", "1;33"),
        ("INCOMPLETE", "1;33"),
        ("UNDERPOWERED", "33"),
        ("INCONCLUSIVE", "1;33"),
        ("inconclusive", "33"),
        ("FAIL", "31"),
        ("pass", "32"),
    ];
    let is_word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    'outer: while !rest.is_empty() {
        for (word, code) in WORDS {
            if let Some(after) = rest.strip_prefix(word)
                && !is_word(after.chars().next())
                && !is_word(out.chars().next_back())
            {
                out.push_str(&format!("\x1b[{code}m{word}\x1b[0m"));
                rest = after;
                continue 'outer;
            }
        }
        let c = rest.chars().next().expect("not empty");
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::paint;

    #[test]
    fn only_whole_verdict_words_are_painted() {
        assert_eq!(paint("ACCEPTED: x", false), "ACCEPTED: x");
        assert_eq!(paint("ACCEPTED: x", true), "\x1b[1;32mACCEPTED\x1b[0m: x");
        assert_eq!(paint("FAILED passes", true), "FAILED passes");
        assert_eq!(paint("a pass.", true), "a \x1b[32mpass\x1b[0m.");
    }
}
