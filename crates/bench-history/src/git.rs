//! The few git operations the history needs, run as `git` child processes in one repository:
//! the commit checked out and whether the tree is dirty, the commits between two, and
//! worktrees to build a commit in without touching the user's checkout.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::HistoryError;

/// A git repository (any folder inside its work tree).
#[derive(Debug, Clone)]
pub struct Git {
    dir: PathBuf,
}

impl Git {
    /// The repository containing `dir` (not checked until a command runs).
    pub fn new(dir: &Path) -> Self {
        Self { dir: dir.to_path_buf() }
    }

    /// Runs `git ARGS` in the repository; its trimmed stdout, or an input error with git's
    /// message and the command.
    pub fn run(&self, args: &[&str]) -> Result<String, HistoryError> {
        let out = Command::new("git").arg("-C").arg(&self.dir).args(args).output().map_err(|e| {
            HistoryError::Input(format!("cannot run git ({e}): the history needs git on the PATH"))
        })?;
        if !out.status.success() {
            return Err(HistoryError::Input(format!(
                "git {} in {}: {}",
                args.join(" "),
                self.dir.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// The full hash of `rev` (a branch, tag, short hash, `HEAD~3`, …).
    pub fn resolve(&self, rev: &str) -> Result<String, HistoryError> {
        self.run(&["rev-parse", "--verify", "--quiet", &format!("{rev}^{{commit}}")])
            .map_err(|_| HistoryError::Input(format!("{rev:?} is not a commit of {}", self.dir.display())))
    }

    /// The commit checked out and whether tracked files have uncommitted changes.
    pub fn state(&self) -> Result<(String, bool), HistoryError> {
        if self.run(&["rev-parse", "--is-inside-work-tree"]).is_err() {
            return Err(HistoryError::Input(format!(
                "{} is not inside a git repository's work tree",
                self.dir.display()
            )));
        }
        let commit = self.resolve("HEAD")?;
        let dirty = !self.run(&["status", "--porcelain", "--untracked-files=no"])?.is_empty();
        Ok((commit, dirty))
    }

    /// The commits after `good` up to and including `bad`, oldest first, along the first-parent
    /// line from `good` (what a bisection walks). `good` must be an ancestor of `bad`.
    pub fn commits_between(&self, good: &str, bad: &str) -> Result<Vec<String>, HistoryError> {
        let (g, b) = (self.resolve(good)?, self.resolve(bad)?);
        if self.run(&["merge-base", "--is-ancestor", &g, &b]).is_err() {
            return Err(HistoryError::Input(format!(
                "--good {good} is not an ancestor of --bad {bad}: give an older good commit"
            )));
        }
        let list =
            self.run(&["rev-list", "--reverse", "--first-parent", "--ancestry-path", &format!("{g}..{b}")])?;
        Ok(list.lines().map(str::to_owned).collect())
    }

    /// The web page of a commit on the `origin` remote's host, `{commit}` standing for the
    /// hash: `https://github.com/o/r/commit/{commit}` for `git@github.com:o/r.git` or
    /// `https://github.com/o/r.git` (GitHub, GitLab, Gitea and alike); `None` without an
    /// `origin` or for another kind of address.
    pub fn commit_url(&self) -> Option<String> {
        let origin = self.run(&["remote", "get-url", "origin"]).ok()?;
        let web = if let Some(rest) = origin.strip_prefix("git@") {
            let (host, path) = rest.split_once(':')?;
            format!("https://{host}/{path}")
        } else if origin.starts_with("https://") || origin.starts_with("http://") {
            origin
        } else {
            return None;
        };
        Some(format!("{}/commit/{{commit}}", web.trim_end_matches('/').trim_end_matches(".git")))
    }

    /// `commit`'s subject line.
    pub fn subject(&self, commit: &str) -> Result<String, HistoryError> {
        self.run(&["log", "-1", "--format=%s", commit])
    }

    /// Checks `commit` out, detached, in a new worktree at `path`.
    pub fn add_worktree(&self, path: &Path, commit: &str) -> Result<(), HistoryError> {
        let p = path.to_string_lossy();
        self.run(&["worktree", "add", "--force", "--detach", &p, commit]).map(|_| ())
    }

    /// Removes the worktree at `path` (and git's record of it).
    pub fn remove_worktree(&self, path: &Path) -> Result<(), HistoryError> {
        self.run(&["worktree", "remove", "--force", &path.to_string_lossy()]).map(|_| ())
    }
}

/// The first 10 characters of a commit hash (the whole label when it is not a hash).
pub fn short(commit: &str) -> &str {
    if commit.len() > 10 && commit.bytes().all(|b| b.is_ascii_hexdigit()) { &commit[..10] } else { commit }
}
