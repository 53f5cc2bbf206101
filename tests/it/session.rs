use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use gastown::runtime::*;

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
    argv.iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect()
}

#[test]
fn all_eight_presets_exist_with_their_autonomous_flags() {
    let runtimes = Runtimes::default();
    let names: Vec<String> = runtimes.all().into_iter().map(|r| r.name).collect();
    assert_eq!(
        names,
        [
            "claude",
            "codex",
            "gemini",
            "copilot",
            "opencode",
            "cursor-agent",
            "amp",
            "auggie"
        ]
    );
    let claude = runtimes.get("claude").unwrap();
    assert_eq!(claude.args, ["--dangerously-skip-permissions"]);
    assert_eq!(claude.hooks, HookKind::Claude);
    assert_eq!(
        runtimes.get("codex").unwrap().args,
        ["--dangerously-bypass-approvals-and-sandbox"]
    );
    assert_eq!(
        runtimes.get("gemini").unwrap().args,
        ["--approval-mode", "yolo"]
    );
    assert_eq!(runtimes.get("copilot").unwrap().args, ["--yolo"]);
    assert_eq!(runtimes.get("cursor-agent").unwrap().args, ["-f"]);
}

#[test]
fn resolution_order_is_flag_then_rig_then_town_then_claude() {
    assert_eq!(
        resolve_name(Some("codex"), Some("gemini"), Some("amp")),
        "codex"
    );
    assert_eq!(resolve_name(None, Some("gemini"), Some("amp")), "gemini");
    assert_eq!(resolve_name(None, None, Some("amp")), "amp");
    assert_eq!(resolve_name(None, Some(" "), None), "claude");
    assert_eq!(resolve_name(None, None, None), "claude");
}

#[test]
fn missing_binary_names_it_and_the_config_key() {
    let runtimes = with_command("claude", Path::new("/nonexistent/claude-xyz"));
    let err = runtimes
        .get("claude")
        .unwrap()
        .require_binary()
        .unwrap_err()
        .to_string();
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
    assert!(
        err.contains("unknown runtime 'nope'") && err.contains("claude, codex"),
        "{err}"
    );
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
    assert_eq!(
        hook("UserPromptSubmit", 1),
        "git agent activity --hook working"
    );
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
    assert_eq!(
        &argv[1..4],
        [
            "resume",
            "0199a-uuid",
            "--dangerously-bypass-approvals-and-sandbox"
        ]
    );
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
    assert!(launch
        .env
        .iter()
        .any(|(k, v)| k == "GEMINI_CLI_SYSTEM_SETTINGS_PATH" && Path::new(v) == settings));
    assert!(launch
        .files
        .iter()
        .any(|(p, body)| p == &settings && String::from_utf8_lossy(body).contains("BeforeAgent")));
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
    assert_eq!(
        strings(&launch.argv),
        [bin.to_str().unwrap(), "--mode", "two words"]
    );
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
    let err = Runtimes::new(overrides)
        .get("mine")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("gastown.runtime.mine.prompt: unknown prompt mode 'telepathy'"),
        "{err}"
    );
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
    assert_eq!(
        parse_hook_input(br#"{"sessionId":"c-2"}"#)
            .session_id
            .as_deref(),
        Some("c-2")
    );
    assert_eq!(
        parse_hook_input(br#"{"conversation_id":"k-3"}"#)
            .session_id
            .as_deref(),
        Some("k-3")
    );
    assert_eq!(parse_hook_input(b"not json"), HookInput::default());
}

#[test]
fn hook_programs_with_spaces_are_quoted_for_the_runtime_shell() {
    let commands = HookCommands::with_programs(&["/opt/my tools/git-agent"], &["git", "mail"]);
    assert_eq!(
        commands.session_start,
        "'/opt/my tools/git-agent' prime --hook"
    );
    let quoted = HookCommands::with_programs(&["it's"], &["git", "mail"]);
    assert_eq!(quoted.pre_compact, r"'it'\''s' handoff");
}

// ---- sessions: real processes on both backends ----

use std::time::{Duration, Instant};

use gastown::session::{
    agent_state, last_activity, record_runtime_session, runtime_session, set_agent_state,
    touch_activity, AgentState, Backend, SessionSpec, Sessions,
};

/// Kills everything a test started, even when an assertion failed first.
struct Cleanup {
    sessions: Sessions,
    names: Vec<String>,
    pids: Vec<i32>,
    socket: Option<PathBuf>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for name in &self.names {
            let _ = self.sessions.stop(name);
        }
        for pid in &self.pids {
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .stderr(std::process::Stdio::null())
                .status();
        }
        if let Some(socket) = &self.socket {
            let _ = std::process::Command::new("tmux")
                .arg("-S")
                .arg(socket)
                .arg("kill-server")
                .env_remove("TMUX")
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
}

/// A scripted runtime: records its pid, environment, arguments and (optionally) one line of
/// stdin in `$OUT_DIR/$GT_SESSION.env`, says hello, then becomes `sleep`.
const AGENT_SCRIPT: &str = r#"#!/bin/sh
out="$OUT_DIR/$GT_SESSION"
{
  echo "pid=$$"
  echo "agent=$GT_AGENT"
  echo "actor=$GT_ACTOR"
  echo "bd=$BD_ACTOR"
  echo "rig=$GT_RIG"
  echo "role=$GT_ROLE"
  echo "root=$GT_ROOT"
  echo "author=$GIT_AUTHOR_NAME <$GIT_AUTHOR_EMAIL>"
  echo "cwd=$(pwd)"
  for a in "$@"; do printf 'arg=%s\n' "$a"; done
} > "$out.tmp"
if [ "$READ_STDIN" = 1 ]; then
  IFS= read -r line
  printf 'stdin=%s\n' "$line" >> "$out.tmp"
fi
mv "$out.tmp" "$out.env"
echo "hello from $GT_SESSION"
exec sleep 600
"#;

struct Town {
    _tmp: tempfile::TempDir,
    state: PathBuf,
    sandbox: PathBuf,
    out: PathBuf,
    script: PathBuf,
}

fn town() -> Town {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("repo.git/gastown");
    let sandbox = tmp.path().join("sandbox");
    let out = tmp.path().join("out");
    for dir in [&state, &sandbox, &out] {
        std::fs::create_dir_all(dir).unwrap();
    }
    let script = tmp.path().join("fake-agent");
    std::fs::write(&script, AGENT_SCRIPT).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    Town {
        state,
        sandbox,
        out,
        script,
        _tmp: tmp,
    }
}

fn tmux_present() -> bool {
    if which::which("tmux").is_ok() && which::which("flock").is_ok() {
        return true;
    }
    eprintln!("\n\n!!!!!!!! tmux or flock(1) is not installed: SKIPPING the tmux session tests !!!!!!!!\n\n");
    false
}

/// The session spec a `git agent start` would build: the scripted runtime through `Launch`.
fn spec(town: &Town, name: &str, prompt_mode: &str, prompt: &str) -> SessionSpec {
    let mut overrides = BTreeMap::new();
    overrides.insert(
        "scripted".to_string(),
        RuntimeOverride {
            command: Some(town.script.to_string_lossy().into_owned()),
            args: Some(vec!["--autonomous".into()]),
            prompt: Some(prompt_mode.into()),
            ..Default::default()
        },
    );
    let runtime = Runtimes::new(overrides).get("scripted").unwrap();
    let sessions = Sessions::new(&town.state);
    let mut who = identity();
    who.session = name.to_string();
    let mut launch = runtime
        .launch(&LaunchRequest {
            identity: &who,
            prompt: Some(prompt),
            resume: None,
            hooks_dir: &sessions.hooks_dir(name).unwrap(),
            hook_commands: &HookCommands::default(),
        })
        .unwrap();
    launch
        .env
        .push(("OUT_DIR".into(), town.out.clone().into_os_string()));
    if prompt_mode == "stdin" {
        launch.env.push(("READ_STDIN".into(), "1".into()));
    }
    SessionSpec::from_launch(name, &town.sandbox, &launch)
}

/// Wait (bounded) for what the scripted agent recorded about itself.
fn recorded(town: &Town, name: &str) -> Vec<String> {
    let path = town.out.join(format!("{name}.env"));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(text) = std::fs::read_to_string(&path) {
            return text.lines().map(str::to_string).collect();
        }
        assert!(
            Instant::now() < deadline,
            "the agent never wrote {}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn pid_of(lines: &[String]) -> i32 {
    lines
        .iter()
        .find_map(|l| l.strip_prefix("pid="))
        .unwrap()
        .parse()
        .unwrap()
}

/// Dead, as the kernel sees it: gone or a zombie (its descriptors are closed by then).
fn wait_dead(pid: i32) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let gone = match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => true,
            Ok(stat) => stat
                .rsplit(") ")
                .next()
                .is_some_and(|rest| rest.starts_with('Z')),
        };
        if gone {
            return;
        }
        assert!(Instant::now() < deadline, "pid {pid} survived kill -9");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn wait_for_output(sessions: &Sessions, name: &str, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = sessions.peek(name, 20).unwrap();
        if text.contains(needle) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "peek never showed '{needle}': {text:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Start, check identity and prompt, peek, refuse a second start, survive nothing after
/// `kill -9`, restart, stop.
fn lifecycle(backend: Backend, town: &Town, cleanup: &mut Cleanup) {
    let sessions = Sessions::new(&town.state);
    let name = "gt-gastown-furiosa";
    cleanup.names.push(name.to_string());
    // Shell metacharacters and a trailing `;` (which tmux would otherwise split on).
    let prompt = "fix bead gt-1; don't $(rm -rf /) `id` \"now\";";
    let info = sessions
        .start(&backend, &spec(town, name, "arg", prompt))
        .unwrap();
    assert_eq!(info.backend, backend);
    assert!(sessions.is_alive(name).unwrap());

    let lines = recorded(town, name);
    let pid = pid_of(&lines);
    cleanup.pids.push(pid);
    for expected in [
        "agent=gastown/polecats/furiosa",
        "actor=gastown/polecats/furiosa",
        "bd=gastown/polecats/furiosa",
        "rig=gastown",
        "role=polecat",
        "root=/town",
        "author=furiosa <furiosa@gastown.local>",
        "arg=--autonomous",
    ] {
        assert!(
            lines.iter().any(|l| l == expected),
            "{expected} missing from {lines:?}"
        );
    }
    let cwd = std::fs::canonicalize(&town.sandbox).unwrap();
    assert!(
        lines.contains(&format!("cwd={}", cwd.display())),
        "{lines:?}"
    );
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("arg=")).count(),
        2,
        "{lines:?}"
    );
    assert!(lines.contains(&format!("arg={prompt}")), "{lines:?}");

    wait_for_output(&sessions, name, &format!("hello from {name}"));

    let again = sessions
        .start(&backend, &spec(town, name, "arg", "x"))
        .unwrap_err()
        .to_string();
    assert!(
        again.contains(&format!("session {name} is already running")),
        "{again}"
    );
    assert!(!again.contains('\n'));
    assert!(
        sessions.is_alive(name).unwrap(),
        "a refused start must leave the session alone"
    );

    let listed = sessions.list().unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].alive && listed[0].info.name == name);

    // kill -9 the agent: dead the moment the kernel has it, no heartbeat to wait out.
    let status = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    wait_dead(pid);
    if matches!(backend, Backend::Tmux { .. }) {
        wait_dead(info.pid as i32); // flock(1), the pane's first process, exits with it
    }
    assert!(!sessions.is_alive(name).unwrap());
    assert!(!sessions.list().unwrap()[0].alive);

    // A crashed session can be started again under its name, and stopped.
    std::fs::remove_file(town.out.join(format!("{name}.env"))).unwrap();
    sessions
        .start(&backend, &spec(town, name, "arg", "second run"))
        .unwrap();
    let pid = pid_of(&recorded(town, name));
    cleanup.pids.push(pid);
    assert!(sessions.is_alive(name).unwrap());
    assert!(sessions.stop(name).unwrap());
    assert!(!sessions.is_alive(name).unwrap());
    wait_dead(pid);
    assert!(
        !sessions.stop(name).unwrap(),
        "stopping a stopped session is a no-op"
    );
}

fn prompt_on_stdin(backend: Backend, town: &Town, cleanup: &mut Cleanup) {
    let sessions = Sessions::new(&town.state);
    let name = "gt-stdin";
    cleanup.names.push(name.to_string());
    let prompt = "read bead gt-2; then $(echo nothing) 'quoted'\n";
    sessions
        .start(&backend, &spec(town, name, "stdin", prompt))
        .unwrap();
    let lines = recorded(town, name);
    cleanup.pids.push(pid_of(&lines));
    assert!(
        lines.contains(&"stdin=read bead gt-2; then $(echo nothing) 'quoted'".to_string()),
        "{lines:?}"
    );
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("arg=")).count(),
        1,
        "{lines:?}"
    );
    assert!(sessions.stop(name).unwrap());
    assert!(!sessions.is_alive(name).unwrap());
}

/// A town, its backend and the guard that kills what the test starts; None (after a loud
/// message) if the backend is tmux and tmux is missing.
fn setup(tmux: bool) -> Option<(Town, Backend, Cleanup)> {
    if tmux && !tmux_present() {
        return None;
    }
    let town = town();
    let backend = if tmux {
        Backend::choose(Some("tmux"), &town.state).unwrap()
    } else {
        Backend::Process
    };
    let socket = match &backend {
        Backend::Tmux { socket } => Some(socket.clone()),
        Backend::Process => None,
    };
    let cleanup = Cleanup {
        sessions: Sessions::new(&town.state),
        names: vec![],
        pids: vec![],
        socket,
    };
    Some((town, backend, cleanup))
}

#[test]
fn process_backend_lifecycle() {
    let (town, backend, mut cleanup) = setup(false).unwrap();
    lifecycle(backend, &town, &mut cleanup);
    let sessions = Sessions::new(&town.state);
    let info = sessions.info("gt-gastown-furiosa").unwrap().unwrap();
    assert!(info.log.unwrap().starts_with(town.state.join("sessions")));
    let err = sessions
        .attach_command("gt-gastown-furiosa")
        .unwrap_err()
        .to_string();
    assert!(err.contains("tail -f"), "{err}");
}

#[test]
fn process_backend_prompt_on_stdin() {
    let (town, backend, mut cleanup) = setup(false).unwrap();
    prompt_on_stdin(backend, &town, &mut cleanup);
}

#[test]
fn tmux_backend_lifecycle() {
    let Some((town, backend, mut cleanup)) = setup(true) else {
        return;
    };
    let socket = cleanup.socket.clone().unwrap();
    assert!(
        socket.starts_with(&town.state),
        "a private socket: {}",
        socket.display()
    );
    lifecycle(backend, &town, &mut cleanup);
    let attach = strings(
        &Sessions::new(&town.state)
            .attach_command("gt-gastown-furiosa")
            .unwrap(),
    );
    assert_eq!(attach[..2], ["tmux", "-S"]);
    assert_eq!(Path::new(&attach[2]), socket);
    assert_eq!(attach[3..], ["attach-session", "-t", "=gt-gastown-furiosa"]);
}

#[test]
fn tmux_backend_prompt_on_stdin() {
    let Some((town, backend, mut cleanup)) = setup(true) else {
        return;
    };
    prompt_on_stdin(backend, &town, &mut cleanup);
}

#[test]
fn backend_choice_and_bad_names() {
    let town = town();
    assert_eq!(
        Backend::choose(Some("process"), &town.state).unwrap(),
        Backend::Process
    );
    let err = Backend::choose(Some("screen"), &town.state)
        .unwrap_err()
        .to_string();
    assert!(err.contains("gastown.session.backend is 'screen'"), "{err}");
    let deep = PathBuf::from(format!("/{}/.git/gastown", "d".repeat(120)));
    if let Backend::Tmux { socket } = Backend::choose(Some("auto"), &deep).unwrap() {
        assert!(socket.as_os_str().len() < 100, "{}", socket.display());
    }
    let sessions = Sessions::new(&town.state);
    for bad in ["../x", "a.b", "a:b", "-x", ""] {
        let err = sessions
            .start(
                &Backend::Process,
                &SessionSpec {
                    name: bad.into(),
                    argv: vec!["true".into()],
                    cwd: town.sandbox.clone(),
                    env: vec![],
                    stdin: None,
                },
            )
            .unwrap_err()
            .to_string();
        assert!(err.contains("is not a session name"), "{bad}: {err}");
    }
    assert!(!sessions.is_alive("never-started").unwrap());
    assert!(sessions.list().unwrap().is_empty());
}

#[test]
fn activity_and_state_are_files_in_the_state_dir() {
    let town = town();
    let agent = "gastown/polecats/furiosa";
    assert_eq!(last_activity(&town.state, agent).unwrap(), None);
    let at = touch_activity(&town.state, agent).unwrap();
    assert_eq!(last_activity(&town.state, agent).unwrap(), Some(at));
    assert!(town
        .state
        .join("activity/gastown+polecats+furiosa.last")
        .is_file());
    let record = set_agent_state(&town.state, agent, AgentState::Waiting).unwrap();
    assert_eq!(agent_state(&town.state, agent).unwrap(), Some(record));
    let saved = record_runtime_session(&town.state, "gt-furiosa", "claude", "abc").unwrap();
    assert_eq!(
        runtime_session(&town.state, "gt-furiosa").unwrap(),
        Some(saved)
    );
    for bad in ["../x", "a//b", "a/./b", "/abs", "a b", ""] {
        let err = touch_activity(&town.state, bad).unwrap_err().to_string();
        assert!(err.contains("is not an agent address"), "{bad}: {err}");
    }
    assert!(record_runtime_session(&town.state, "../x", "claude", "id").is_err());
}
