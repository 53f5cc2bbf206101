//! The agent CLIs Gas Town supports, with the flags that make each run unattended. Sources:
//! ../shared/reference/runtimes.md and gastown.md §16; where they are silent, each CLI's own
//! `--help` and docs (flags named in docs/AGENTS.md).

use super::{HookKind, PromptMode, Runtime};

struct Preset {
    name: &'static str,
    command: &'static str,
    args: &'static [&'static str],
    prompt: PromptMode,
    prompt_flag: Option<&'static str>,
    resume: &'static [&'static str],
    /// Added to `resume` to open a copy of the session instead of continuing it (seance).
    fork: &'static [&'static str],
    hooks: HookKind,
}

const PRESETS: &[Preset] = &[
    Preset {
        name: "claude",
        command: "claude",
        args: &["--dangerously-skip-permissions"],
        prompt: PromptMode::Arg,
        prompt_flag: None,
        resume: &["--resume", "{session_id}"],
        // `--fork-session` with `--resume`: a new session from the old one's transcript.
        fork: &["--fork-session"],
        hooks: HookKind::Claude,
    },
    Preset {
        name: "codex",
        command: "codex",
        args: &["--dangerously-bypass-approvals-and-sandbox"],
        prompt: PromptMode::Arg,
        prompt_flag: None,
        // `codex resume <id>` is a subcommand.
        resume: &["resume", "{session_id}"],
        fork: &[],
        hooks: HookKind::Codex,
    },
    Preset {
        name: "gemini",
        command: "gemini",
        args: &["--approval-mode", "yolo"],
        // A bare argument runs one turn and exits; `-i` runs it and stays interactive.
        prompt: PromptMode::Arg,
        prompt_flag: Some("-i"),
        resume: &["--resume", "{session_id}"],
        fork: &[],
        hooks: HookKind::Gemini,
    },
    Preset {
        name: "copilot",
        command: "copilot",
        args: &["--yolo"],
        prompt: PromptMode::Arg,
        prompt_flag: Some("-i"),
        resume: &["--resume", "{session_id}"],
        fork: &[],
        // Copilot reads hooks only from the repository (.github/hooks) or ~/.copilot: no
        // per-session file, and we never write into the sandbox.
        hooks: HookKind::None,
    },
    Preset {
        name: "opencode",
        command: "opencode",
        args: &[],
        prompt: PromptMode::Arg,
        prompt_flag: Some("--prompt"),
        resume: &["--session", "{session_id}"],
        fork: &[],
        // Its hooks are JS plugins loaded from the project or ~/.config/opencode.
        hooks: HookKind::None,
    },
    Preset {
        name: "cursor-agent",
        command: "cursor-agent",
        args: &["-f"],
        prompt: PromptMode::Arg,
        prompt_flag: None,
        resume: &["--resume", "{session_id}"],
        fork: &[],
        // .cursor/hooks.json lives in the project or ~/.cursor only.
        hooks: HookKind::None,
    },
    Preset {
        name: "amp",
        command: "amp",
        args: &["--dangerously-allow-all"],
        prompt: PromptMode::Arg,
        prompt_flag: None,
        resume: &["threads", "continue", "{session_id}"],
        fork: &[],
        hooks: HookKind::None,
    },
    Preset {
        name: "auggie",
        command: "auggie",
        args: &[],
        prompt: PromptMode::Arg,
        prompt_flag: None,
        resume: &["--resume", "{session_id}"],
        fork: &[],
        hooks: HookKind::None,
    },
];

pub(super) fn names() -> impl Iterator<Item = &'static str> {
    PRESETS.iter().map(|p| p.name)
}

pub(super) fn preset(name: &str) -> Option<Runtime> {
    PRESETS.iter().find(|p| p.name == name).map(|p| Runtime {
        name: p.name.to_string(),
        command: p.command.to_string(),
        args: p.args.iter().map(|s| s.to_string()).collect(),
        prompt: p.prompt,
        prompt_flag: p.prompt_flag.map(str::to_string),
        resume: p.resume.iter().map(|s| s.to_string()).collect(),
        fork: p.fork.iter().map(|s| s.to_string()).collect(),
        hooks: p.hooks,
        configured: false,
    })
}
