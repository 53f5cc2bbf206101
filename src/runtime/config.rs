//! Runtimes from git config: `gastown.runtime.NAME.command` (a new runtime, or a preset's
//! binary moved), `.args` (one value per argument, `git config --add`), `.prompt`
//! (arg|stdin|none), `.promptFlag`, `.resume` (one value per argument, `{session_id}` marks the
//! id), `.fork` (arguments added to `.resume` to open a copy of a session rather than continue
//! it) and `.hooks` (claude|codex|gemini|none). One value per argument means no quoting rules
//! and no shell.

use std::collections::BTreeMap;

use super::{presets, HookKind, PromptMode, Runtime};
use crate::error::{Error, Result};

/// What git config says about one runtime; unset fields keep the preset's value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuntimeOverride {
    pub command: Option<String>,
    pub args: Option<Vec<String>>,
    pub prompt: Option<String>,
    pub prompt_flag: Option<String>,
    pub resume: Option<Vec<String>>,
    pub fork: Option<Vec<String>>,
    pub hooks: Option<String>,
}

/// The presets plus what git config defines or changes.
#[derive(Clone, Debug, Default)]
pub struct Runtimes {
    overrides: BTreeMap<String, RuntimeOverride>,
}

impl Runtimes {
    pub fn new(overrides: BTreeMap<String, RuntimeOverride>) -> Runtimes {
        Runtimes { overrides }
    }

    /// Read `gastown.runtime.*` from the repository's config (all its files, in git's order:
    /// a later file's value wins).
    pub fn from_repo(repo: &gix::Repository) -> Runtimes {
        let snapshot = repo.config_snapshot();
        let mut overrides: BTreeMap<String, RuntimeOverride> = BTreeMap::new();
        let Some(sections) = snapshot.plumbing().sections_by_name("gastown") else {
            return Runtimes { overrides };
        };
        for section in sections {
            let Some(sub) = section.header().subsection_name() else {
                continue;
            };
            let Some(name) = sub.to_string().strip_prefix("runtime.").map(str::to_string) else {
                continue;
            };
            let entry = overrides.entry(name).or_default();
            let text = |key: &str| section.value(key).map(|v| v.to_string());
            let list = |key: &str| {
                let values = section.values(key);
                (!values.is_empty()).then(|| values.iter().map(|v| v.to_string()).collect())
            };
            entry.command = text("command").or(entry.command.take());
            entry.args = list("args").or(entry.args.take());
            entry.prompt = text("prompt").or(entry.prompt.take());
            entry.prompt_flag = text("promptFlag").or(entry.prompt_flag.take());
            entry.resume = list("resume").or(entry.resume.take());
            entry.fork = list("fork").or(entry.fork.take());
            entry.hooks = text("hooks").or(entry.hooks.take());
        }
        Runtimes { overrides }
    }

    /// The runtime called `name`: a preset with its config applied, or a configured command.
    pub fn get(&self, name: &str) -> Result<Runtime> {
        let over = self.overrides.get(name);
        let mut runtime = match (presets::preset(name), over) {
            (Some(preset), _) => preset,
            (None, Some(o)) if o.command.is_some() => Runtime {
                name: name.to_string(),
                command: String::new(),
                args: Vec::new(),
                prompt: PromptMode::Arg,
                prompt_flag: None,
                resume: Vec::new(),
                fork: Vec::new(),
                hooks: HookKind::None,
                configured: true,
            },
            _ => {
                let known: Vec<String> = self.all().into_iter().map(|r| r.name).collect();
                return Err(Error::invalid(format!(
                    "unknown runtime '{name}' (known: {}); define one with `git config gastown.runtime.{name}.command /path/to/cli`",
                    known.join(", ")
                )));
            }
        };
        let Some(over) = over else {
            return Ok(runtime);
        };
        let bad =
            |key: &str, err: Error| Error::invalid(format!("gastown.runtime.{name}.{key}: {err}"));
        if let Some(command) = &over.command {
            if command.trim().is_empty() {
                return Err(Error::invalid(format!(
                    "gastown.runtime.{name}.command is empty"
                )));
            }
            runtime.command = command.clone();
        }
        if let Some(args) = &over.args {
            runtime.args = args.clone();
        }
        if let Some(prompt) = &over.prompt {
            runtime.prompt = PromptMode::parse(prompt).map_err(|e| bad("prompt", e))?;
        }
        if let Some(flag) = &over.prompt_flag {
            runtime.prompt_flag = (!flag.is_empty()).then(|| flag.clone());
        }
        if let Some(resume) = &over.resume {
            runtime.resume = resume.clone();
        }
        if let Some(fork) = &over.fork {
            runtime.fork = fork.clone();
        }
        if let Some(hooks) = &over.hooks {
            runtime.hooks = HookKind::parse(hooks).map_err(|e| bad("hooks", e))?;
        }
        runtime.configured = true;
        Ok(runtime)
    }

    /// Presets first, in their documented order, then configured runtimes by name. A configured
    /// runtime with a bad value is left out here; `get` names the problem.
    pub fn all(&self) -> Vec<Runtime> {
        let mut names: Vec<String> = presets::names().map(str::to_string).collect();
        for (name, over) in &self.overrides {
            if !names.contains(name) && over.command.is_some() {
                names.push(name.clone());
            }
        }
        names.iter().filter_map(|n| self.get(n).ok()).collect()
    }
}

/// `gastown.session.backend` (auto|tmux|process), if set.
pub fn session_backend_setting(repo: &gix::Repository) -> Option<String> {
    repo.config_snapshot()
        .string("gastown.session.backend")
        .map(|v| v.to_string())
}
