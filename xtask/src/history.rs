//! `cargo xtask history`: results across commits — import, show, change points, bisect.

use bench_history::{BisectOptions, DetectOptions, History};

use crate::cli::HistoryAction;
use crate::exit::{self, Failure, Outcome};
use crate::paths;

/// Runs the subcommand.
pub fn run(action: HistoryAction) -> Outcome {
    let file = paths::history_file();
    let here = std::path::Path::new(".");
    match action {
        HistoryAction::Import { files } => {
            let n = bench_history::record_results(&file, here, &files, &[])?;
            println!("recorded {n} results from {} files into {}", files.len(), paths::display(&file));
        }
        HistoryAction::Show(s) => {
            let series = History::open(&file)?.series(s.benchmark.as_deref(), s.metric.as_deref())?;
            exit::print(&series, || bench_history::show_text(&series))?;
        }
        HistoryAction::Detect { series: s, min_change, max_p } => {
            let options = DetectOptions { max_p, min_magnitude: min_change / 100.0, ..Default::default() };
            let h = History::open(&file)?;
            let found = bench_history::detect(&h, s.benchmark.as_deref(), s.metric.as_deref(), &options)?;
            let (page, url) = (file.with_extension("html"), bench_history::git::Git::new(here).commit_url());
            bench_report::write_history_html(&found, url.as_deref(), &page)?;
            exit::print(&found, || {
                bench_history::detect_text(&found, &options) + &paths::wrote([&Some(page)])
            })?;
        }
        HistoryAction::Bisect(b) => {
            let threshold = b.threshold.threshold()?;
            let (runs, design) = b.sampling.request().resolve(&threshold)?;
            let scratch = tempfile::tempdir().map_err(Failure::internal)?;
            let compare = bench_command::CompareOptions {
                design,
                runs,
                check: b.check_output,
                confirmed: crate::flags().yes,
                ..bench_command::CompareOptions::new("bisect", threshold, scratch.path())
            };
            let options = BisectOptions {
                build: b.build,
                faster: b.faster,
                ..BisectOptions::new(&b.good, &b.bad, &b.command, b.benchmark, compare, b.metric)
            };
            let (mut history, json) = (History::open(&file)?, crate::flags().json);
            let activity = bench_report::terminal::Activity::new("bisecting", "verdicts", json);
            let found =
                bench_history::bisect(here, &options, Some(&mut history), &mut |m| activity.stage(m))?;
            activity.clear();
            exit::print(&found, || bench_history::bisect_text(&found))?;
            return Ok(if found.first_moved.is_some() { exit::SUCCESS } else { exit::REJECTED });
        }
    }
    Ok(exit::SUCCESS)
}
