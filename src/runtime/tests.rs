use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::*;

fn identity() -> Identity {
    Identity {
        root: PathBuf::from("/town"),
        rig: Some("gastown".into()),
        role: "polecat".into(),
        address: "gastown/polecats/furiosa".into(),
        session: "gt-gastown-furiosa".into(),
        author_name: "furiosa".into(),
        author_email: "furiosa@gastown.local".into(),
    }
}

/// An executable standing in for a runtime's binary.
fn fake_binary(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn with_command(name: &str, command: &Path) -> Runtimes {
    let mut overrides = BTreeMap::new();
    overrides.insert(
        name.to_string(),
        RuntimeOverride {
            command: Some(command.to_string_lossy().into_owned()),
            ..Default::default()
        },
    );
    Runtimes::new(overrides)
}

fn strings(argv: &[OsString]) -> Vec<String> {
    argv.iter().map(|a| a.to_string_lossy().into_owned()).collect()
}

#[test]
fn all_eight_presets_exist_with_their_autonomous_flags() {
    let runtimes = Runtimes::default();
    let names: Vec<String> = runtimes.all().into_iter().map(|r| r.name).collect();
    assert_eq!(
        names,
        ["claude", "codex", "gemini", "copilot", "opencode", "cursor-agent", "amp", "auggie"]
    );
    let claude = runtimes.get("claude").unwrap();
    assert_eq!(claude.args, ["--dangerously-skip-permissions"]);
    assert_eq!(claude.hooks, HookKind::Claude);
    assert_eq!(
        runtimes.get("codex").unwrap().args,
        ["--dangerously-bypass-approvals-and-sandbox"]
    );
    assert_eq!(runtimes.get("gemini").unwrap().args, ["--approval-mode", "yolo"]);
    assert_eq!(runtimes.get("copilot").unwrap().args, ["--yolo"]);
    assert_eq!(runtimes.get("cursor-agent").unwrap().args, ["-f"]);
}

#[test]
fn resolution_order_is_flag_then_rig_then_town_then_claude() {
    assert_eq!(resolve_name(Some("codex"), Some("gemini"), Some("amp")), "codex");
    assert_eq!(resolve_name(None, Some("gemini"), Some("amp")), "gemini");
    assert_eq!(resolve_name(None, None, Some("amp")), "amp");
    assert_eq!(resolve_name(None, Some(" "), None), "claude");
    assert_eq!(resolve_name(None, None, None), "claude");
}

#[test]
fn missing_binary_names_it_and_the_config_key() {
    let runtimes = with_command("claude", Path::new("/nonexistent/claude-xyz"));
    let err = runtimes.get("claude").unwrap().require_binary().unwrap_err().to_string();
    assert!(err.contains("'/nonexistent/claude-xyz'"), "{err}");
    assert!(
        err.contains("git config gastown.runtime.claude.command /path/to/"),
        "{err}"
    );
    assert!(!err.contains('\n'));
}

#[test]
fn unknown_runtime_lists_the_known_ones() {
    let err = Runtimes::default().get("nope").unwrap_err().to_string();
    assert!(err.contains("unknown runtime 'nope'") && err.contains("claude, codex"), "{err}");
}

#[test]
fn claude_launch_has_settings_outside_the_sandbox_prompt_as_one_argument_and_identity() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = fake_binary(tmp.path(), "claude");
    let hooks_dir = tmp.path().join("gastown/sessions/gt-x.hooks");
    let runtime = with_command("claude", &bin).get("claude").unwrap();
    let prompt = "fix it; rm -rf / $(whoami) `id` 'quoted'";
    let launch = runtime
        .launch(&LaunchRequest {
            identity: &identity(),
            prompt: Some(prompt),
            resume: None,
            hooks_dir: &hooks_dir,
            hook_commands: &HookCommands::default(),
        })
        .unwrap();
    let settings = hooks_dir.join("claude-settings.json");
    assert_eq!(
        strings(&launch.argv),
        [
            bin.to_str().unwrap(),
            "--dangerously-skip-permissions",
            "--settings",
            settings.to_str().unwrap(),
            prompt
        ]
    );
    assert_eq!(launch.stdin, None);
    let env: BTreeMap<String, String> = launch
        .env
        .iter()
        .map(|(k, v)| (k.to_string_lossy().into(), v.to_string_lossy().into()))
        .collect();
    for key in ["GT_AGENT", "GT_ACTOR", "BD_ACTOR"] {
        assert_eq!(env[key], "gastown/polecats/furiosa");
    }
    assert_eq!(env["GT_RIG"], "gastown");
    assert_eq!(env["GT_ROLE"], "polecat");
    assert_eq!(env["GT_ROOT"], "/town");
    assert_eq!(env["GT_SESSION"], "gt-gastown-furiosa");
    assert_eq!(env["GIT_AUTHOR_EMAIL"], "furiosa@gastown.local");
    assert_eq!(env["GT_RUNTIME"], "claude");

    launch.write_files().unwrap();
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&settings).unwrap()).unwrap();
    let hook = |event: &str, i: usize| {
        written["hooks"][event][0]["hooks"][i]["command"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(hook("SessionStart", 0), "git agent prime --hook");
    assert_eq!(hook("UserPromptSubmit", 0), "git mail check --inject");
    assert_eq!(hook("UserPromptSubmit", 1), "git agent activity --hook working");
    assert_eq!(hook("PreCompact", 0), "git agent handoff");
    assert_eq!(hook("Stop", 0), "git agent activity --hook stop");
    assert_eq!(hook("Notification", 0), "git agent activity --hook waiting");
}

#[test]
fn resume_goes_where_each_runtime_wants_it() {
    let tmp = tempfile::tempdir().unwrap();
    let request = |runtime: &Runtime, resume| {
        runtime
            .launch(&LaunchRequest {
                identity: &identity(),
                prompt: None,
                resume,
                hooks_dir: tmp.path(),
                hook_commands: &HookCommands::default(),
            })
            .map(|l| strings(&l.argv))
    };
    let claude_bin = fake_binary(tmp.path(), "claude");
    let claude = with_command("claude", &claude_bin).get("claude").unwrap();
    let argv = request(&claude, Some("abc-123")).unwrap();
    assert_eq!(&argv[argv.len() - 2..], ["--resume", "abc-123"]);

    let codex_bin = fake_binary(tmp.path(), "codex");
    let codex = with_command("codex", &codex_bin).get("codex").unwrap();
    let argv = request(&codex, Some("0199a-uuid")).unwrap();
    assert_eq!(&argv[1..4], ["resume", "0199a-uuid", "--dangerously-bypass-approvals-and-sandbox"]);
    assert_eq!(argv[4..6], ["-c", "features.codex_hooks=true"]);
    let hooks: toml::Value = toml::from_str(&argv[7].replacen("hooks=", "hooks = ", 1)).unwrap();
    assert_eq!(
        hooks["hooks"]["SessionStart"][0]["hooks"][0]["command"].as_str(),
        Some("git agent prime --hook")
    );

    let err = request(&claude, Some("--evil")).unwrap_err().to_string();
    assert!(err.contains("not a runtime session id"), "{err}");
}

#[test]
fn gemini_gets_its_settings_through_the_environment_and_prompt_after_dash_i() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = fake_binary(tmp.path(), "gemini");
    let runtime = with_command("gemini", &bin).get("gemini").unwrap();
    let launch = runtime
        .launch(&LaunchRequest {
            identity: &identity(),
            prompt: Some("-starts with a dash"),
            resume: None,
            hooks_dir: tmp.path(),
            hook_commands: &HookCommands::default(),
        })
        .unwrap();
    let argv = strings(&launch.argv);
    assert_eq!(&argv[argv.len() - 2..], ["-i", "-starts with a dash"]);
    let settings = tmp.path().join("gemini-settings.json");
    assert!(launch.env.iter().any(|(k, v)| k == "GEMINI_CLI_SYSTEM_SETTINGS_PATH"
        && Path::new(v) == settings));
    assert!(launch.files.iter().any(|(p, body)| p == &settings
        && String::from_utf8_lossy(body).contains("BeforeAgent")));
}

#[test]
fn custom_runtime_from_config_with_stdin_prompt_and_args_one_per_value() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = fake_binary(tmp.path(), "my-agent");
    let mut overrides = BTreeMap::new();
    overrides.insert(
        "mine".to_string(),
        RuntimeOverride {
            command: Some(bin.to_string_lossy().into_owned()),
            args: Some(vec!["--mode".into(), "two words".into()]),
            prompt: Some("stdin".into()),
            ..Default::default()
        },
    );
    let runtimes = Runtimes::new(overrides);
    let runtime = runtimes.get("mine").unwrap();
    assert!(runtime.configured);
    let launch = runtime
        .launch(&LaunchRequest {
            identity: &identity(),
            prompt: Some("do the work\nline two"),
            resume: None,
            hooks_dir: tmp.path(),
            hook_commands: &HookCommands::default(),
        })
        .unwrap();
    assert_eq!(strings(&launch.argv), [bin.to_str().unwrap(), "--mode", "two words"]);
    assert_eq!(launch.stdin.as_deref(), Some(&b"do the work\nline two"[..]));
    assert!(launch.files.is_empty());
    assert_eq!(runtimes.all().last().unwrap().name, "mine");
    let status = runtimes.status();
    assert!(status.iter().any(|s| s.runtime.name == "mine" && s.on_path));
}

#[test]
fn bad_prompt_mode_in_config_names_the_key() {
    let mut overrides = BTreeMap::new();
    overrides.insert(
        "mine".to_string(),
        RuntimeOverride {
            command: Some("/bin/true".into()),
            prompt: Some("telepathy".into()),
            ..Default::default()
        },
    );
    let err = Runtimes::new(overrides).get("mine").unwrap_err().to_string();
    assert!(err.starts_with("gastown.runtime.mine.prompt: unknown prompt mode 'telepathy'"), "{err}");
}

#[test]
fn runtimes_come_from_git_config() {
    let tmp = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("git")
        .args(["init", "-q"])
        .arg(tmp.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .status()
        .unwrap();
    assert!(status.success());
    let config = tmp.path().join(".git/config");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(
        "[gastown \"runtime.mine\"]\n\tcommand = /bin/cat\n\targs = -u\n\targs = -\n\tprompt = stdin\n\
         [gastown \"runtime.claude\"]\n\tcommand = /opt/claude\n[gastown \"session\"]\n\tbackend = process\n",
    );
    std::fs::write(&config, text).unwrap();
    let repo = gix::open(tmp.path()).unwrap();
    let runtimes = Runtimes::from_repo(&repo);
    let mine = runtimes.get("mine").unwrap();
    assert_eq!(mine.command, "/bin/cat");
    assert_eq!(mine.args, ["-u", "-"]);
    assert_eq!(mine.prompt, PromptMode::Stdin);
    let claude = runtimes.get("claude").unwrap();
    assert_eq!(claude.command, "/opt/claude");
    assert_eq!(claude.args, ["--dangerously-skip-permissions"]);
    assert_eq!(session_backend_setting(&repo).as_deref(), Some("process"));
}

#[test]
fn hook_input_from_each_runtime_spelling() {
    let claude = parse_hook_input(
        br#"{"session_id":"s-1","hook_event_name":"SessionStart","source":"resume","transcript_path":"/t","cwd":"/w"}"#,
    );
    assert_eq!(claude.session_id.as_deref(), Some("s-1"));
    assert_eq!(claude.event.as_deref(), Some("SessionStart"));
    assert_eq!(claude.source.as_deref(), Some("resume"));
    assert_eq!(parse_hook_input(br#"{"sessionId":"c-2"}"#).session_id.as_deref(), Some("c-2"));
    assert_eq!(
        parse_hook_input(br#"{"conversation_id":"k-3"}"#).session_id.as_deref(),
        Some("k-3")
    );
    assert_eq!(parse_hook_input(b"not json"), HookInput::default());
}

#[test]
fn hook_programs_with_spaces_are_quoted_for_the_runtime_shell() {
    let commands = HookCommands::with_programs(&["/opt/my tools/git-agent"], &["git", "mail"]);
    assert_eq!(commands.session_start, "'/opt/my tools/git-agent' prime --hook");
    assert_eq!(hooks::shell_quote("it's"), r"'it'\''s'");
}
