//! A command as the user wrote it, and how it is started: split into words like a shell would
//! (no shell involved), or handed to `sh -c` for pipes and redirections.

use std::process::{Command, Stdio};

use serde::Serialize;

use crate::CommandError;

/// How a command line is started.
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Shell {
    /// No shell: the line is split into words with POSIX shell quoting rules and the first word
    /// is the program (looked up on `PATH`). Nothing of a shell's start-up is timed.
    #[default]
    None,
    /// `sh -c LINE`: pipes, redirections, `&&`, globbing. The shell's start-up is part of every
    /// run, on both sides alike.
    Sh,
}

impl Shell {
    /// `none` or `sh`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Sh => "sh",
        }
    }
}

/// A command line ready to start.
///
/// ```
/// use bench_command::{CommandSpec, Shell};
/// let c = CommandSpec::parse("python3 -c 'print(1 + 1)'", Shell::None).unwrap();
/// assert_eq!(c.argv(), ["python3", "-c", "print(1 + 1)"]);
/// assert!(CommandSpec::parse("echo 'unclosed", Shell::None).is_err());
/// assert!(CommandSpec::parse("   ", Shell::None).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommandSpec {
    /// The line as written.
    pub text: String,
    /// How it is started.
    pub shell: Shell,
    #[serde(skip)]
    argv: Vec<String>,
    /// Variables added to the inherited environment.
    #[serde(skip)]
    env: Vec<(String, String)>,
    /// The folder it runs in (default: this process's).
    #[serde(skip)]
    dir: Option<std::path::PathBuf>,
}

impl CommandSpec {
    /// Checks and splits `text`. An empty line and unbalanced quotes are refused; under
    /// [`Shell::Sh`] the line is checked by `sh -n` (syntax only, nothing runs) so a syntax error
    /// is reported as such rather than as a failing run.
    pub fn parse(text: &str, shell: Shell) -> Result<Self, CommandError> {
        if text.trim().is_empty() {
            return Err(CommandError::Input(
                "an empty command: give the command line to run, quoted as one argument, e.g. 'python3 backtest.py'"
                    .into(),
            ));
        }
        let argv = match shell {
            Shell::None => {
                let words = shlex::split(text).ok_or_else(|| {
                    CommandError::Input(format!(
                        "cannot split {text:?} into words: a quote is not closed (with --shell none the line is split like a shell would, without running one)"
                    ))
                })?;
                if words.is_empty() {
                    return Err(CommandError::Input(format!("{text:?} holds no command")));
                }
                words
            }
            Shell::Sh => {
                let check = Command::new("sh")
                    .args(["-n", "-c", text])
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .output()
                    .map_err(|e| CommandError::Input(format!("--shell sh: cannot start sh ({e})")))?;
                if !check.status.success() {
                    return Err(CommandError::Input(format!(
                        "shell syntax error in {text:?}: {}",
                        String::from_utf8_lossy(&check.stderr).trim()
                    )));
                }
                vec!["sh".into(), "-c".into(), text.to_owned()]
            }
        };
        Ok(Self { text: text.to_owned(), shell, argv, env: Vec::new(), dir: None })
    }

    /// The program and its arguments as started.
    pub fn argv(&self) -> &[String] {
        &self.argv
    }

    /// A program and its arguments as words, nothing to split or unquote (a program this
    /// process found itself, say); `text` names it in messages. An empty `argv` is refused.
    ///
    /// ```
    /// use bench_command::CommandSpec;
    /// let c = CommandSpec::from_argv("counter", vec!["/bin/echo".into(), "a b".into()]).unwrap().with_env("K", "v");
    /// assert_eq!(c.argv(), ["/bin/echo", "a b"]);
    /// assert!(CommandSpec::from_argv("nothing", vec![]).is_err());
    /// ```
    pub fn from_argv(text: &str, argv: Vec<String>) -> Result<Self, CommandError> {
        if argv.is_empty() {
            return Err(CommandError::Input(format!("{text:?} holds no command")));
        }
        Ok(Self { text: text.to_owned(), shell: Shell::None, argv, env: Vec::new(), dir: None })
    }

    /// The same command with `key=value` added to its environment.
    pub fn with_env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// The same command run in the folder `dir` (a git worktree of another commit, say).
    pub fn with_dir(mut self, dir: &std::path::Path) -> Self {
        self.dir = Some(dir.to_path_buf());
        self
    }

    /// The same line started as `argv` instead (a wrapper such as Valgrind around it).
    pub(crate) fn with_argv(&self, argv: Vec<String>) -> Self {
        Self { argv, ..self.clone() }
    }

    /// A [`Command`] with stdin from `/dev/null` (a benchmarked command must not wait for
    /// input); the caller sets stdout and stderr.
    pub(crate) fn command(&self) -> Command {
        let mut c = Command::new(&self.argv[0]);
        c.args(&self.argv[1..]).envs(self.env.iter().map(|(k, v)| (k, v))).stdin(Stdio::null());
        if let Some(dir) = &self.dir {
            c.current_dir(dir);
        }
        c
    }

    /// What to tell a user whose command could not be started.
    pub(crate) fn start_error(&self, e: &std::io::Error) -> CommandError {
        let program = &self.argv[0];
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => format!(
                "no program {program:?} was found{}",
                if program.contains('/') { "" } else { " on PATH" }
            ),
            std::io::ErrorKind::PermissionDenied => format!("{program:?} is not executable"),
            _ => e.to_string(),
        };
        CommandError::Input(format!(
            "cannot start {:?}: {why}{}",
            self.text,
            if self.shell == Shell::None {
                " (with --shell none the first word is the program; use --shell sh for shell built-ins, pipes and redirections)"
            } else {
                ""
            }
        ))
    }
}
