//! Saved baselines: one command's runs, its output and the machine's fingerprint, kept under a
//! name so a later command can be compared with them.

use std::path::{Path, PathBuf};

use bench_core::{RawData, RunId};
use serde::{Deserialize, Serialize};

use crate::{CommandError, Shell};

/// Schema version of `saved.json`.
pub const BASELINE_SCHEMA_VERSION: u32 = 1;

/// What `saved.json` records besides the runs and the output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineInfo {
    /// Schema version.
    pub schema_version: u32,
    /// The name it was saved under.
    pub name: String,
    /// The command line.
    pub command: String,
    /// `none` or `sh`.
    pub shell: String,
    /// RFC 3339 UTC time it was saved.
    pub saved: String,
}

/// A saved baseline: `<dir>/<name>/saved.json`, `baseline.json` (the runs, in the raw-data
/// format) and `output.txt` (what the command printed, for the equivalence gate).
#[derive(Debug, Clone, PartialEq)]
pub struct SavedBaseline {
    /// Name, command, shell, date.
    pub info: BaselineInfo,
    /// The runs and the environment fingerprint.
    pub raw: RawData,
    /// Where the runs are.
    pub raw_path: PathBuf,
    /// The command's standard output.
    pub stdout: Vec<u8>,
}

fn io(path: &Path, e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> CommandError {
    CommandError::io(path.display(), e)
}

fn checked_name(name: &str) -> Result<RunId, CommandError> {
    RunId::new(name).map_err(|e| {
        CommandError::Input(format!("baseline name {name:?}: {e} (use letters, digits, '-', '_' and '.')"))
    })
}

impl SavedBaseline {
    /// One line for a person: the name, the runs, the command, the mean time and where it is.
    pub fn describe(&self, suite: &bench_measure::SuiteOutcome) -> String {
        let mean = suite.result.as_ref().map_or_else(String::new, |r| {
            format!(", mean {}", bench_core::units::duration_decimal(r.execution_time_mean))
        });
        let dir = self.raw_path.parent().unwrap_or(&self.raw_path);
        let runs = self.raw.runs.len();
        format!(
            "saved baseline {:?}: {runs} runs of {}{mean} in {}",
            self.info.name,
            self.info.command,
            dir.display()
        )
    }

    /// The baseline as a document: its info, run count and folder.
    pub fn to_json(&self) -> serde_json::Value {
        let dir = self.raw_path.parent().unwrap_or(&self.raw_path);
        serde_json::json!({"kind": "saved_baseline", "info": self.info, "runs": self.raw.runs.len(), "directory": dir})
    }

    /// Checks that `name` can name a saved baseline (a file-name stem that stays inside its
    /// directory), before anything is measured.
    pub fn check_name(name: &str) -> Result<(), CommandError> {
        checked_name(name).map(drop)
    }

    /// Saves `raw` and `stdout` of `command` as `name` under `dir`, replacing a baseline of that
    /// name only once the new one is complete on disk (written to a scratch directory beside it,
    /// then renamed), so an interruption leaves the old one or the new one, never half of either.
    pub fn save(
        dir: &Path,
        name: &str,
        command: &str,
        shell: Shell,
        raw: &RawData,
        stdout: &[u8],
        saved: &str,
    ) -> Result<Self, CommandError> {
        let id = checked_name(name)?;
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let pid = std::process::id();
        let scratch = dir.join(format!(".{id}.saving-{pid}"));
        let _ = std::fs::remove_dir_all(&scratch);
        std::fs::create_dir_all(&scratch).map_err(|e| io(&scratch, e))?;
        let info = BaselineInfo {
            schema_version: BASELINE_SCHEMA_VERSION,
            name: id.to_string(),
            command: command.to_owned(),
            shell: shell.as_str().to_owned(),
            saved: saved.to_owned(),
        };
        let write = |file: &str, bytes: &[u8]| {
            let p = scratch.join(file);
            bench_core::write_atomic(&p, bytes).map_err(|e| io(&p, e))
        };
        let mut info_text = serde_json::to_string_pretty(&info).map_err(|e| io(&scratch, e))?;
        info_text.push('\n');
        write("saved.json", info_text.as_bytes())?;
        let mut raw = raw.clone();
        raw.run_id = format!("{id}_baseline");
        raw.pairing = None;
        raw.unpaired_runs.clear();
        let raw_at = scratch.join("baseline.json");
        raw.write(&raw_at).map_err(|e| io(&raw_at, e))?;
        write("output.txt", stdout)?;
        let target = dir.join(id.as_str());
        let old = dir.join(format!(".{id}.old-{pid}"));
        let had_old = target.exists();
        if had_old {
            std::fs::rename(&target, &old).map_err(|e| io(&target, e))?;
        }
        if let Err(e) = std::fs::rename(&scratch, &target) {
            if had_old {
                let _ = std::fs::rename(&old, &target);
            }
            return Err(io(&target, e));
        }
        if had_old {
            let _ = std::fs::remove_dir_all(&old);
        }
        Self::load(dir, name)
    }

    /// The baselines saved under `dir`, by name.
    pub fn list(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().join("saved.json").is_file())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        names
    }

    /// Loads baseline `name` from `dir`; an unknown name lists the saved ones.
    pub fn load(dir: &Path, name: &str) -> Result<Self, CommandError> {
        let id = checked_name(name)?;
        let at = dir.join(id.as_str());
        if !at.join("saved.json").is_file() {
            let saved = Self::list(dir);
            return Err(CommandError::Input(format!(
                "no saved baseline named {name:?} under {} ({}); save one with: cargo xtask compare --save-baseline {name} 'COMMAND'",
                dir.display(),
                if saved.is_empty() {
                    "none saved yet".to_owned()
                } else {
                    format!("saved: {}", saved.join(", "))
                }
            )));
        }
        let info_path = at.join("saved.json");
        let text = std::fs::read_to_string(&info_path).map_err(|e| io(&info_path, e))?;
        let info: BaselineInfo = bench_core::parse_json(&text, &info_path)
            .and_then(|v| bench_core::from_value(v, &info_path))
            .map_err(|e| CommandError::Input(e.to_string()))?;
        if info.schema_version != BASELINE_SCHEMA_VERSION {
            return Err(CommandError::Input(format!(
                "{}: schema_version {} is not {BASELINE_SCHEMA_VERSION}; save the baseline again",
                info_path.display(),
                info.schema_version
            )));
        }
        let raw_path = at.join("baseline.json");
        let raw = RawData::read(&raw_path).map_err(|e| CommandError::Input(e.to_string()))?;
        let out_path = at.join("output.txt");
        let stdout = std::fs::read(&out_path).map_err(|e| io(&out_path, e))?;
        Ok(Self { info, raw, raw_path, stdout })
    }
}
