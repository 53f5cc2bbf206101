//! Agent runtimes: how to launch each agent CLI (claude, codex, gemini, ...) or any command
//! configured in git, with its autonomous-mode flags, its first prompt, its resume flag and its
//! lifecycle hooks wired to our commands. This module only *describes* a launch (`Launch`);
//! `crate::session` starts it. Nothing here goes through a shell: the prompt is one argv element
//! or stdin bytes, never part of a command line.

mod config;
mod hooks;
mod presets;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};

pub use config::{session_backend_setting, RuntimeOverride, Runtimes};
pub use hooks::{parse_hook_input, HookCommands, HookInput};

/// The runtime used when neither `--agent` nor a rig or town `agent.default` names one.
pub const DEFAULT_RUNTIME: &str = "claude";

/// How a runtime takes its first prompt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PromptMode {
    /// One argv element after the other arguments (after `prompt_flag` when there is one).
    Arg,
    /// Bytes on the process's standard input (typed into the pane under tmux).
    Stdin,
    /// Not at start: the prime hook or a nudge delivers the work.
    None,
}

impl PromptMode {
    pub fn parse(text: &str) -> Result<PromptMode> {
        match text {
            "arg" => Ok(PromptMode::Arg),
            "stdin" => Ok(PromptMode::Stdin),
            "none" => Ok(PromptMode::None),
            other => Err(Error::invalid(format!(
                "unknown prompt mode '{other}': use arg, stdin or none"
            ))),
        }
    }
}

/// How a runtime's lifecycle hooks are wired for one session, always from files we own outside
/// the sandbox (see docs/AGENTS.md, "Sessions and runtimes").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HookKind {
    /// Claude Code: `--settings <file>` with a `hooks` table.
    Claude,
    /// Codex CLI: `-c features.codex_hooks=true -c hooks={...}` config overrides.
    Codex,
    /// Gemini CLI: `GEMINI_CLI_SYSTEM_SETTINGS_PATH=<file>` (the settings layer that wins).
    Gemini,
    /// No per-session hook mechanism: prompt and nudges only.
    None,
}

impl HookKind {
    pub fn parse(text: &str) -> Result<HookKind> {
        match text {
            "claude" => Ok(HookKind::Claude),
            "codex" => Ok(HookKind::Codex),
            "gemini" => Ok(HookKind::Gemini),
            "none" => Ok(HookKind::None),
            other => Err(Error::invalid(format!(
                "unknown hook kind '{other}': use claude, codex, gemini or none"
            ))),
        }
    }
}

/// One agent CLI and how to drive it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Runtime {
    pub name: String,
    /// Binary name (looked up on PATH) or path.
    pub command: String,
    /// Arguments before everything else we add, including the autonomous-mode flags.
    pub args: Vec<String>,
    pub prompt: PromptMode,
    /// Flag that precedes the prompt argument (`-i` for gemini), if any.
    pub prompt_flag: Option<String>,
    /// Resume arguments with `{session_id}` in place of the runtime's session id. A template
    /// whose first word is not a flag is a subcommand (`resume {session_id}`) and goes first.
    pub resume: Vec<String>,
    /// Arguments added to `resume` to open a copy of the session (the original is left as it
    /// was); empty when the runtime cannot fork one.
    pub fork: Vec<String>,
    pub hooks: HookKind,
    /// Defined or changed by git config rather than a built-in preset as is.
    pub configured: bool,
}

/// Who an agent session is: becomes its environment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// The town's root (GT_ROOT).
    pub root: PathBuf,
    pub rig: Option<String>,
    pub role: String,
    /// The agent's address, e.g. `gastown/polecats/furiosa`: GT_AGENT, GT_ACTOR, BD_ACTOR.
    pub address: String,
    /// The session's name (GT_SESSION).
    pub session: String,
    pub author_name: String,
    pub author_email: String,
}

impl Identity {
    pub fn env(&self) -> Vec<(OsString, OsString)> {
        let mut env: Vec<(OsString, OsString)> = vec![
            ("GT_ROOT".into(), self.root.clone().into_os_string()),
            ("GT_ROLE".into(), self.role.clone().into()),
            ("GT_AGENT".into(), self.address.clone().into()),
            ("GT_ACTOR".into(), self.address.clone().into()),
            ("BD_ACTOR".into(), self.address.clone().into()),
            ("GT_SESSION".into(), self.session.clone().into()),
            ("GIT_AUTHOR_NAME".into(), self.author_name.clone().into()),
            ("GIT_AUTHOR_EMAIL".into(), self.author_email.clone().into()),
            // The agent's commits must not depend on a user.name in some config file.
            ("GIT_COMMITTER_NAME".into(), self.author_name.clone().into()),
            (
                "GIT_COMMITTER_EMAIL".into(),
                self.author_email.clone().into(),
            ),
        ];
        if let Some(rig) = &self.rig {
            env.push(("GT_RIG".into(), rig.clone().into()));
        }
        env
    }
}

/// What a launch needs besides the runtime.
pub struct LaunchRequest<'a> {
    pub identity: &'a Identity,
    pub prompt: Option<&'a str>,
    /// The runtime's own session id, recorded from its SessionStart hook, to resume.
    pub resume: Option<&'a str>,
    /// A directory we own for this session's hook config (under the common git dir, never in
    /// the sandbox).
    pub hooks_dir: &'a Path,
    pub hook_commands: &'a HookCommands,
}

/// Everything needed to start one agent process; `crate::session` runs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Launch {
    pub argv: Vec<OsString>,
    pub env: Vec<(OsString, OsString)>,
    pub stdin: Option<Vec<u8>>,
    /// Hook config files to write before starting (`write_files`).
    pub files: Vec<(PathBuf, Vec<u8>)>,
}

impl Launch {
    /// Write the hook config files, each atomically (a half-written settings file would make
    /// the runtime start without hooks).
    pub fn write_files(&self) -> Result<()> {
        for (path, contents) in &self.files {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
            }
            let tmp = path.with_extension("tmp");
            std::fs::write(&tmp, contents)
                .and_then(|()| std::fs::rename(&tmp, path))
                .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
        }
        Ok(())
    }
}

impl Runtime {
    /// Where the binary is on PATH (or the configured path, if it exists).
    pub fn on_path(&self) -> Option<PathBuf> {
        which::which(&self.command).ok()
    }

    /// The binary, or a one-line error naming it and how to point at it.
    pub fn require_binary(&self) -> Result<PathBuf> {
        self.on_path().ok_or_else(|| {
            Error::invalid(format!(
                "runtime '{}' needs '{}', which is not on PATH; install it or run `git config gastown.runtime.{}.command /path/to/{}`",
                self.name, self.command, self.name, self.command
            ))
        })
    }

    /// Build the launch: argv, environment, stdin and hook files. The binary must exist.
    pub fn launch(&self, request: &LaunchRequest) -> Result<Launch> {
        let binary = self.require_binary()?;
        let mut argv: Vec<OsString> = vec![binary.into_os_string()];
        let resume = match request.resume {
            Some(id) => self.resume_args(id)?,
            None => Vec::new(),
        };
        let resume_is_subcommand = resume.first().is_some_and(|first| !first.starts_with('-'));
        if resume_is_subcommand {
            argv.extend(resume.iter().map(OsString::from));
        }
        argv.extend(self.args.iter().map(OsString::from));
        let wiring = hooks::wire(self, request.hooks_dir, request.hook_commands);
        argv.extend(wiring.args.into_iter().map(OsString::from));
        if !resume_is_subcommand {
            argv.extend(resume.iter().map(OsString::from));
        }
        let mut env = request.identity.env();
        env.push(("GT_RUNTIME".into(), self.name.clone().into()));
        env.extend(wiring.env);
        let mut stdin = None;
        if let Some(prompt) = request.prompt {
            match self.prompt {
                PromptMode::Arg => {
                    if let Some(flag) = &self.prompt_flag {
                        argv.push(flag.into());
                    }
                    argv.push(prompt_argument(prompt, self.prompt_flag.is_some()).into());
                }
                PromptMode::Stdin => stdin = Some(prompt.as_bytes().to_vec()),
                PromptMode::None => {}
            }
        }
        Ok(Launch {
            argv,
            env,
            stdin,
            files: wiring.files,
        })
    }

    /// The command that opens the runtime's session `session_id` for a person (`git agent
    /// seance --talk`): the binary, the resume arguments and, where the runtime has them, the
    /// fork arguments, so the agent's own session is left as it was. None of the autonomous
    /// flags: a person talking is asked before anything runs. The bool: forked.
    pub fn talk_command(&self, session_id: &str) -> Result<(Vec<OsString>, bool)> {
        if self.resume.is_empty() {
            return Err(Error::invalid(format!(
                "runtime '{}' cannot resume a session (no resume arguments; set `git config --add gastown.runtime.{}.resume ...`)",
                self.name, self.name
            )));
        }
        let binary = self.require_binary()?;
        let mut argv: Vec<OsString> = vec![binary.into_os_string()];
        argv.extend(
            self.resume_args(session_id)?
                .into_iter()
                .map(OsString::from),
        );
        argv.extend(self.fork.iter().map(OsString::from));
        Ok((argv, !self.fork.is_empty()))
    }

    fn resume_args(&self, session_id: &str) -> Result<Vec<String>> {
        if self.resume.is_empty() {
            return Err(Error::invalid(format!(
                "runtime '{}' has no resume flag; set `git config --add gastown.runtime.{}.resume --resume` and `... {{session_id}}`",
                self.name, self.name
            )));
        }
        // The id comes from the runtime's hook input: keep it from reading as a flag or path.
        let valid = !session_id.is_empty()
            && session_id.len() <= 200
            && !session_id.starts_with('-')
            && session_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
        if !valid {
            return Err(Error::invalid(format!(
                "'{session_id}' is not a runtime session id (letters, digits, - _ . : only)"
            )));
        }
        Ok(self
            .resume
            .iter()
            .map(|part| part.replace("{session_id}", session_id))
            .collect())
    }
}

/// A prompt given as a bare argument must not read as an option: CLIs parse a leading `-`
/// as a flag, so such a prompt gets a leading space (meaningless to the model).
fn prompt_argument(prompt: &str, after_flag: bool) -> String {
    if !after_flag && prompt.starts_with('-') {
        format!(" {prompt}")
    } else {
        prompt.to_string()
    }
}

/// Which runtime a session uses: `--agent`, then the rig's `agent.default`, then the town's,
/// then `claude`.
pub fn resolve_name<'a>(
    flag: Option<&'a str>,
    rig_default: Option<&'a str>,
    town_default: Option<&'a str>,
) -> &'a str {
    [flag, rig_default, town_default]
        .into_iter()
        .flatten()
        .find(|name| !name.trim().is_empty())
        .unwrap_or(DEFAULT_RUNTIME)
}

/// One line of `git agent runtimes`.
#[derive(Clone, Debug, Serialize)]
pub struct RuntimeStatus {
    #[serde(flatten)]
    pub runtime: Runtime,
    pub path: Option<PathBuf>,
    pub on_path: bool,
}

impl Runtimes {
    /// Every runtime (presets, then configured ones) and whether its binary is on PATH.
    pub fn status(&self) -> Vec<RuntimeStatus> {
        self.all()
            .into_iter()
            .map(|runtime| {
                let path = runtime.on_path();
                RuntimeStatus {
                    on_path: path.is_some(),
                    path,
                    runtime,
                }
            })
            .collect()
    }
}
