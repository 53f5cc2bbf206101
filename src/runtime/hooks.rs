//! Lifecycle hooks that call our commands, wired per session from files in a directory we own
//! (never the sandbox, never the user's global settings: parallel agents sharing one settings
//! file corrupt it, and an agent could commit one in its worktree).
//!
//! | event (Claude / Codex · Gemini)          | command                               |
//! |------------------------------------------|---------------------------------------|
//! | SessionStart                             | `git agent prime --hook`              |
//! | UserPromptSubmit · BeforeAgent           | `git mail check --inject`, then `git agent activity --hook working` |
//! | PreCompact · PreCompress                 | `git agent handoff`                   |
//! | Stop · AfterAgent                        | `git agent activity --hook stop`      |
//! | Notification (Claude, Gemini)            | `git agent activity --hook waiting`   |
//!
//! The commands learn which runtime called them (and so which output shape it reads) from
//! `GT_RUNTIME`, and who they are from the session's `GT_*` environment.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{json, Value};

use super::{HookKind, Runtime};

/// The shell commands the hooks run. Runtimes run hook commands through a shell, so each is a
/// fixed string built from quoted program words: no bead text or prompt ever appears in one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HookCommands {
    pub session_start: String,
    pub prompt_submit: Vec<String>,
    pub pre_compact: String,
    pub stop: String,
    pub waiting: String,
}

impl Default for HookCommands {
    fn default() -> Self {
        HookCommands::with_programs(&["git", "agent"], &["git", "mail"])
    }
}

impl HookCommands {
    /// Commands for the given program words, e.g. `["/opt/bin/git-agent"]` and
    /// `["/opt/bin/git-mail"]`, each word shell-quoted.
    pub fn with_programs(agent: &[&str], mail: &[&str]) -> HookCommands {
        let agent = quote_words(agent);
        let mail = quote_words(mail);
        HookCommands {
            session_start: format!("{agent} prime --hook"),
            prompt_submit: vec![
                format!("{mail} check --inject"),
                format!("{agent} activity --hook working"),
            ],
            pre_compact: format!("{agent} handoff"),
            stop: format!("{agent} activity --hook stop"),
            waiting: format!("{agent} activity --hook waiting"),
        }
    }
}

fn quote_words(words: &[&str]) -> String {
    words
        .iter()
        .map(|w| shell_quote(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A word the shell reads back unchanged: bare when it is plainly safe, else single-quoted.
pub(crate) fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | '+' | ':' | '=')
        });
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// What wiring hooks adds to a launch.
pub(super) struct Wiring {
    pub args: Vec<String>,
    pub env: Vec<(OsString, OsString)>,
    pub files: Vec<(PathBuf, Vec<u8>)>,
}

pub(super) fn wire(runtime: &Runtime, dir: &Path, commands: &HookCommands) -> Wiring {
    let mut wiring = Wiring {
        args: Vec::new(),
        env: Vec::new(),
        files: Vec::new(),
    };
    match runtime.hooks {
        HookKind::Claude => {
            let path = dir.join("claude-settings.json");
            wiring.args = vec!["--settings".into(), path.to_string_lossy().into_owned()];
            wiring
                .files
                .push((path, pretty(&claude_settings(commands))));
        }
        HookKind::Gemini => {
            let path = dir.join("gemini-settings.json");
            wiring.env.push((
                "GEMINI_CLI_SYSTEM_SETTINGS_PATH".into(),
                path.clone().into_os_string(),
            ));
            wiring
                .files
                .push((path, pretty(&gemini_settings(commands))));
        }
        HookKind::Codex => {
            wiring.args = vec![
                "-c".into(),
                "features.codex_hooks=true".into(),
                "-c".into(),
                format!("hooks={}", codex_hooks_toml(commands)),
            ];
        }
        HookKind::None => {}
    }
    wiring
}

fn pretty(value: &Value) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).expect("JSON values serialize");
    bytes.push(b'\n');
    bytes
}

fn claude_group(commands: &[&str]) -> Value {
    let hooks: Vec<Value> = commands
        .iter()
        .map(|c| json!({"type": "command", "command": c, "timeout": 30}))
        .collect();
    json!([{"matcher": "", "hooks": hooks}])
}

/// Claude Code settings for `--settings` (timeouts in seconds).
pub(super) fn claude_settings(c: &HookCommands) -> Value {
    let submit: Vec<&str> = c.prompt_submit.iter().map(String::as_str).collect();
    json!({"hooks": {
        "SessionStart": claude_group(&[&c.session_start]),
        "UserPromptSubmit": claude_group(&submit),
        "PreCompact": claude_group(&[&c.pre_compact]),
        "Stop": claude_group(&[&c.stop]),
        "Notification": claude_group(&[&c.waiting]),
    }})
}

fn gemini_group(commands: &[&str]) -> Value {
    let hooks: Vec<Value> = commands
        .iter()
        .enumerate()
        .map(|(i, c)| json!({"type": "command", "command": c, "name": format!("gastown-{i}"), "timeout": 30000}))
        .collect();
    json!([{"matcher": "", "hooks": hooks}])
}

/// Gemini CLI settings: its system-settings layer (timeouts in milliseconds).
pub(super) fn gemini_settings(c: &HookCommands) -> Value {
    let submit: Vec<&str> = c.prompt_submit.iter().map(String::as_str).collect();
    json!({"hooks": {
        "SessionStart": gemini_group(&[&c.session_start]),
        "BeforeAgent": gemini_group(&submit),
        "PreCompress": gemini_group(&[&c.pre_compact]),
        "AfterAgent": gemini_group(&[&c.stop]),
        "Notification": gemini_group(&[&c.waiting]),
    }})
}

/// Codex's `[hooks]` table as one TOML inline value for `-c hooks=...`. JSON string escapes
/// are valid TOML basic strings, so serde_json quotes each command.
pub(super) fn codex_hooks_toml(c: &HookCommands) -> String {
    let group = |commands: &[&String]| {
        let hooks: Vec<String> = commands
            .iter()
            .map(|cmd| {
                format!(
                    "{{type=\"command\",command={},timeout=30}}",
                    serde_json::to_string(cmd).expect("strings serialize")
                )
            })
            .collect();
        format!("[{{hooks=[{}]}}]", hooks.join(","))
    };
    let submit: Vec<&String> = c.prompt_submit.iter().collect();
    format!(
        "{{SessionStart={},UserPromptSubmit={},PreCompact={},Stop={}}}",
        group(&[&c.session_start]),
        group(&submit),
        group(&[&c.pre_compact]),
        group(&[&c.stop])
    )
}

/// The fields we read from a hook's JSON stdin, whatever runtime sent it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HookInput {
    /// The runtime's own session id, saved so a crashed session can be resumed.
    pub session_id: Option<String>,
    pub event: Option<String>,
    /// SessionStart's `source`: startup, resume, clear or compact.
    pub source: Option<String>,
    pub transcript_path: Option<String>,
    pub cwd: Option<String>,
}

/// Read a hook's stdin. Runtimes differ in spelling (`session_id`, `sessionId`, Cursor's
/// `conversation_id`, Codex notify's `thread-id`); anything unreadable gives empty fields,
/// because a hook must never fail the agent's turn over its input.
pub fn parse_hook_input(bytes: &[u8]) -> HookInput {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(bytes) else {
        return HookInput::default();
    };
    let first = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| map.get(*k).and_then(Value::as_str))
            .map(str::to_string)
    };
    HookInput {
        session_id: first(&["session_id", "sessionId", "conversation_id", "thread-id"]),
        event: first(&["hook_event_name", "hookEventName", "type"]),
        source: first(&["source"]),
        transcript_path: first(&["transcript_path", "transcriptPath"]),
        cwd: first(&["cwd"]),
    }
}
