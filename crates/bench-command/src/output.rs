//! The equivalence gate for commands: do both print the same results?

use serde::Serialize;

use crate::CommandError;

/// How two outputs are compared.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "tolerance")]
pub enum OutputCheck {
    /// Byte for byte.
    Exact,
    /// Line by line: the text between numbers must match exactly, and every number must agree
    /// within the tolerance, `|a − b| ≤ tol · max(1, |a|)` (absolute near zero, relative
    /// above one) — for results printed with run-to-run rounding noise.
    Numeric(f64),
    /// Not compared (the report says so).
    None,
}

impl std::str::FromStr for OutputCheck {
    type Err = String;

    /// `exact`, `none` or `numeric:TOL` (e.g. `numeric:1e-9`).
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "exact" => Ok(Self::Exact),
            "none" => Ok(Self::None),
            _ => match s.strip_prefix("numeric:").map(str::parse::<f64>) {
                Some(Ok(t)) if t.is_finite() && t >= 0.0 => Ok(Self::Numeric(t)),
                _ => Err(format!(
                    "{s:?}: expected exact, none or numeric:TOL with TOL a number ≥ 0 (e.g. numeric:1e-9)"
                )),
            },
        }
    }
}

impl std::fmt::Display for OutputCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Exact => f.write_str("exact"),
            Self::Numeric(t) => write!(f, "numeric:{t}"),
            Self::None => f.write_str("none"),
        }
    }
}

/// The first line where two outputs differ (1-based; `None`: that output has no such line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineDifference {
    /// Line number, from 1.
    pub line: usize,
    /// The baseline's line.
    pub baseline: Option<String>,
    /// The candidate's line.
    pub candidate: Option<String>,
}

/// What the gate found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutputComparison {
    /// How it compared.
    pub check: OutputCheck,
    /// Whether the outputs agree under it (always true for [`OutputCheck::None`]).
    pub equivalent: bool,
    /// Lines of the baseline's output.
    pub baseline_lines: usize,
    /// Lines of the candidate's output.
    pub candidate_lines: usize,
    /// Numbers compared within the tolerance (numeric check).
    pub numbers_compared: usize,
    /// The largest difference between two numbers, relative as in the tolerance.
    pub largest_difference: f64,
    /// The first difference, when they differ.
    pub first_difference: Option<LineDifference>,
}

/// One line cut into text and numbers.
fn tokens(line: &str) -> Vec<Result<f64, &str>> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut text_start) = (0, 0);
    while i < b.len() {
        if let Some(end) = number_at(b, i) {
            if text_start < i {
                out.push(Err(&line[text_start..i]));
            }
            out.push(line[i..end].parse::<f64>().map_err(|_| &line[i..end]));
            i = end;
            text_start = end;
        } else {
            i += 1;
        }
    }
    if text_start < b.len() {
        out.push(Err(&line[text_start..]));
    }
    out
}

/// The end of a decimal number starting at `i` (`-1.5`, `2e-3`, `.5`), if one starts there. A
/// sign belongs to the number only after a non-alphanumeric character (so `a-1` is `a-` and `1`).
fn number_at(b: &[u8], i: usize) -> Option<usize> {
    let word_before = i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_' || b[i - 1] == b'.');
    if word_before {
        return None;
    }
    let mut j = i;
    if j < b.len() && (b[j] == b'-' || b[j] == b'+') {
        j += 1;
    }
    let digits = |j: &mut usize| {
        let s = *j;
        while *j < b.len() && b[*j].is_ascii_digit() {
            *j += 1;
        }
        *j - s
    };
    let int = digits(&mut j);
    let mut frac = 0;
    if j < b.len() && b[j] == b'.' {
        let mut k = j + 1;
        frac = digits(&mut k);
        if int + frac > 0 {
            j = k;
        }
    }
    if int + frac == 0 {
        return None;
    }
    if j < b.len() && (b[j] == b'e' || b[j] == b'E') {
        let mut k = j + 1;
        if k < b.len() && (b[k] == b'-' || b[k] == b'+') {
            k += 1;
        }
        if digits(&mut k) > 0 {
            j = k;
        }
    }
    Some(j)
}

fn shown(line: &str) -> String {
    if line.chars().count() > 200 {
        format!("{}…", line.chars().take(200).collect::<String>())
    } else {
        line.to_owned()
    }
}

fn utf8<'a>(bytes: &'a [u8], side: &str) -> Result<&'a str, CommandError> {
    std::str::from_utf8(bytes).map_err(|e| {
        CommandError::Input(format!(
            "--check-output numeric compares text, but the {side}'s output is not UTF-8 (invalid byte at offset {}); use --check-output exact for binary output",
            e.valid_up_to()
        ))
    })
}

/// Compares the baseline's output `a` with the candidate's `b`.
///
/// ```
/// use bench_command::{OutputCheck, compare_outputs};
/// let a = b"sharpe 1.2345678901\ntrades 42\n";
/// let b = b"sharpe 1.2345678902\ntrades 42\n";
/// assert!(!compare_outputs(a, b, OutputCheck::Exact).unwrap().equivalent);
/// assert!(compare_outputs(a, b, OutputCheck::Numeric(1e-9)).unwrap().equivalent);
/// let d = compare_outputs(a, b"sharpe 1.3\ntrades 42\n", OutputCheck::Numeric(1e-9)).unwrap();
/// assert_eq!(d.first_difference.unwrap().line, 1);
/// ```
pub fn compare_outputs(a: &[u8], b: &[u8], check: OutputCheck) -> Result<OutputComparison, CommandError> {
    let lossy_lines = |x: &[u8]| String::from_utf8_lossy(x).lines().map(str::to_owned).collect::<Vec<_>>();
    let (la, lb) = (lossy_lines(a), lossy_lines(b));
    let mut out = OutputComparison {
        check,
        equivalent: true,
        baseline_lines: la.len(),
        candidate_lines: lb.len(),
        numbers_compared: 0,
        largest_difference: 0.0,
        first_difference: None,
    };
    let first_diff = |differs: &dyn Fn(usize) -> bool| -> Option<LineDifference> {
        (0..la.len().max(lb.len())).find(|&i| differs(i)).map(|i| LineDifference {
            line: i + 1,
            baseline: la.get(i).map(|l| shown(l)),
            candidate: lb.get(i).map(|l| shown(l)),
        })
    };
    match check {
        OutputCheck::None => {}
        OutputCheck::Exact => {
            if a != b {
                out.equivalent = false;
                out.first_difference = first_diff(&|i| la.get(i) != lb.get(i)).or_else(|| {
                    // Same lines, different bytes: line endings or a missing final newline.
                    Some(LineDifference {
                        line: la.len().max(1),
                        baseline: Some(format!("{} bytes", a.len())),
                        candidate: Some(format!(
                            "{} bytes (the outputs differ only in line endings or a final newline)",
                            b.len()
                        )),
                    })
                });
            }
        }
        OutputCheck::Numeric(tol) => {
            let (ta, tb) = (utf8(a, "baseline")?, utf8(b, "candidate")?);
            let (la, lb): (Vec<&str>, Vec<&str>) = (ta.lines().collect(), tb.lines().collect());
            let mut largest = 0.0f64;
            let mut compared = 0usize;
            let mut differs_at = None;
            for i in 0..la.len().max(lb.len()) {
                let same = match (la.get(i), lb.get(i)) {
                    (Some(x), Some(y)) => {
                        let (tx, ty) = (tokens(x), tokens(y));
                        tx.len() == ty.len()
                            && tx.iter().zip(&ty).all(|(p, q)| match (p, q) {
                                (Ok(u), Ok(v)) => {
                                    compared += 1;
                                    let d = if u == v { 0.0 } else { (u - v).abs() / u.abs().max(1.0) };
                                    largest = largest.max(d);
                                    d <= tol || (u.is_nan() && v.is_nan())
                                }
                                (Err(s), Err(t)) => s == t,
                                _ => false,
                            })
                    }
                    _ => false,
                };
                if !same && differs_at.is_none() {
                    differs_at = Some(i);
                }
            }
            out.numbers_compared = compared;
            out.largest_difference = largest;
            if let Some(i) = differs_at {
                out.equivalent = false;
                out.first_difference = Some(LineDifference {
                    line: i + 1,
                    baseline: la.get(i).map(|l| shown(l)),
                    candidate: lb.get(i).map(|l| shown(l)),
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_cut_out_of_text() {
        let t = tokens("pnl=-1.5e3, trades 42; a-1 x2");
        let nums: Vec<f64> = t.iter().filter_map(|x| x.ok()).collect();
        assert_eq!(nums, vec![-1.5e3, 42.0, 1.0]);
        let text: Vec<&str> = t.iter().filter_map(|x| x.err()).collect();
        assert_eq!(text, ["pnl=", ", trades ", "; a-", " x2"]);
    }

    #[test]
    fn a_missing_line_is_a_difference() {
        let d = compare_outputs(b"1\n2\n", b"1\n", OutputCheck::Numeric(0.1)).unwrap();
        assert!(!d.equivalent);
        let f = d.first_difference.unwrap();
        assert_eq!((f.line, f.candidate), (2, None));
    }

    #[test]
    fn numeric_refuses_binary_output() {
        let e = compare_outputs(&[0xff, 0xfe], b"x", OutputCheck::Numeric(0.0)).unwrap_err();
        assert!(e.to_string().contains("not UTF-8"), "{e}");
    }
}
