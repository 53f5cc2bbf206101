//! beads-ui (npm `beads-ui` 0.12.0) runs bd as `$BD_BIN` with argument vectors and parses
//! its JSON; these tests prove `git-bead` can be that binary (docs/BEADS.md, "beads-ui
//! compatibility").
//!
//! - `replay_*` runs every argument vector of the table in docs/BEADS.md against the real
//!   binary, as beads-ui's server builds them (`--sandbox` first), and checks the JSON keys
//!   and values beads-ui reads. Always runs.
//! - `beads_ui_server_*` starts the real beads-ui server with `BD_BIN=git-bead` and talks to
//!   its WebSocket through `fixtures/beads_ui/bridge.mjs`. They need node and beads-ui
//!   installed (`.ci/run` does it); without them they say SKIPPED and pass, unless
//!   `GT_REQUIRE_BEADS_UI=1`, which makes absence a failure.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{self as common, Env};

// ---------------------------------------------------------------------------------------
// The store every test starts from.

/// Beads in every state the UI's lists select.
struct Fixture {
    epic: String,
    open_child: String,
    closed_child: String,
    blocker: String,
    blocked: String,
    in_progress: String,
    closed: String,
}

fn fixture(env: &Env) -> Fixture {
    env.bead_ok(&["init", "--prefix", "ui"]);
    let epic = env.create("Ship the UI", &["-t", "epic", "-p", "1"]);
    let open_child = env.create("Open child", &["--parent", &epic]);
    let closed_child = env.create("Closed child", &["--parent", &epic]);
    env.bead_ok(&["close", &closed_child]);
    let blocker = env.create("Blocker", &["-p", "0"]);
    let blocked = env.create(
        "Blocked work",
        &[
            "-d",
            "Waits for the blocker",
            "--acceptance",
            "It is unblocked",
        ],
    );
    env.bead_ok(&["dep", "add", &blocked, &blocker]);
    env.bead_ok(&["label", "add", &blocked, "ui"]);
    env.bead_ok(&["comments", "add", &blocked, "first comment"]);
    let in_progress = env.create("Being done", &["-a", "alice"]);
    env.bead_ok(&["update", &in_progress, "--status", "in_progress"]);
    let closed = env.create("Done already", &[]);
    env.bead_ok(&["close", &closed, "--reason", "finished"]);
    Fixture {
        epic,
        open_child,
        closed_child,
        blocker,
        blocked,
        in_progress,
        closed,
    }
}

impl Fixture {
    /// `items` (a list, or a UI snapshot of one) has every bead not closed.
    fn assert_lists_the_unclosed(&self, items: &[Value]) {
        let listed = ids(items);
        for id in [
            &self.epic,
            &self.open_child,
            &self.blocker,
            &self.blocked,
            &self.in_progress,
        ] {
            assert!(listed.contains(id), "{id} not listed: {listed:?}");
        }
    }

    /// `items` are exactly the closed beads.
    fn assert_lists_the_closed(&self, items: &[Value]) {
        let mut listed = ids(items);
        listed.sort();
        let mut want = vec![self.closed.clone(), self.closed_child.clone()];
        want.sort();
        assert_eq!(listed, want);
    }
}

// ---------------------------------------------------------------------------------------
// Calls as beads-ui's server makes them (server/bd.js).

/// `git-bead --sandbox ARGS…` in the workspace, as bd.js builds every call.
fn ui_call(env: &Env, args: &[&str]) -> Output {
    let mut argv = vec!["--sandbox"];
    argv.extend_from_slice(args);
    env.bead(&argv)
}

fn ui_ok(env: &Env, args: &[&str]) -> String {
    common::ok(ui_call(env, args), args)
}

/// A `--json` call: exit 0 and stdout that parses (bd.js `runBdJson`).
fn ui_json(env: &Env, args: &[&str]) -> Value {
    let out = ui_ok(env, args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {out}"))
}

fn array(value: &Value, what: &str) -> Vec<Value> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("{what}: not an array: {value}"))
        .clone()
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|v| v["id"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn find<'a>(items: &'a [Value], id: &str) -> &'a Value {
    items
        .iter()
        .find(|v| v["id"] == id)
        .unwrap_or_else(|| panic!("{id} missing from {items:?}"))
}

fn rfc3339(value: &Value, what: &str) {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("{what}: not a string: {value}"));
    assert!(
        chrono::DateTime::parse_from_rfc3339(text).is_ok(),
        "{what}: not RFC 3339: {text}"
    );
}

/// The issue fields beads-ui reads (list-adapters.js `normalizeIssueList` and the views).
fn assert_issue(issue: &Value) {
    let id = issue["id"].as_str().unwrap_or_default();
    assert!(!id.is_empty(), "no id: {issue}");
    assert!(issue["title"].is_string(), "{id}: title: {issue}");
    assert!(issue["status"].is_string(), "{id}: status: {issue}");
    assert!(issue["issue_type"].is_string(), "{id}: issue_type: {issue}");
    let priority = issue["priority"].as_u64();
    assert!(priority.is_some_and(|p| p <= 4), "{id}: priority: {issue}");
    rfc3339(&issue["created_at"], &format!("{id} created_at"));
    rfc3339(&issue["updated_at"], &format!("{id} updated_at"));
    if issue["status"] == "closed" {
        rfc3339(&issue["closed_at"], &format!("{id} closed_at"));
    } else {
        assert!(issue["closed_at"].is_null(), "{id}: closed_at: {issue}");
    }
    if let Some(labels) = issue.get("labels") {
        assert!(
            array(labels, "labels").iter().all(Value::is_string),
            "{id}: labels: {issue}"
        );
    }
    if let Some(assignee) = issue.get("assignee") {
        assert!(assignee.is_string(), "{id}: assignee: {issue}");
    }
}

/// A list row: an issue plus bd's counts.
fn assert_counted(row: &Value) {
    assert_issue(row);
    for key in ["dependency_count", "dependent_count", "comment_count"] {
        assert!(row[key].is_u64(), "{key} missing: {row}");
    }
}

/// A list call: an array of counted rows.
fn list_rows(env: &Env, args: &[&str]) -> Vec<Value> {
    let rows = array(&ui_json(env, args), &format!("{args:?}"));
    rows.iter().for_each(assert_counted);
    rows
}

fn show(env: &Env, id: &str) -> Value {
    let shown = array(&ui_json(env, &["show", id, "--json"]), "show");
    assert_eq!(shown.len(), 1, "{shown:?}");
    shown[0].clone()
}

// ---------------------------------------------------------------------------------------
// Replay: the table in docs/BEADS.md, row by row.

#[test]
fn replay_reads_give_the_shapes_beads_ui_parses() {
    let env = Env::new();
    let f = fixture(&env);

    // 1: all-issues. Not closed ones; counts as bd computes them.
    let all = list_rows(&env, &["list", "--json", "--tree=false"]);
    f.assert_lists_the_unclosed(&all);
    assert!(!ids(&all).contains(&f.closed));
    let blocked = find(&all, &f.blocked);
    assert_eq!(blocked["dependency_count"], 1);
    assert_eq!(blocked["comment_count"], 1);
    assert_eq!(blocked["labels"], json!(["ui"]));
    assert_eq!(find(&all, &f.blocker)["dependent_count"], 1);
    assert_eq!(find(&all, &f.epic)["dependent_count"], 2, "both children");
    assert_eq!(find(&all, &f.open_child)["parent"], f.epic.as_str());
    // `--tree` alone and `--tree=true` are accepted too (text is indented; JSON stays flat).
    assert_eq!(
        list_rows(&env, &["list", "--json", "--tree"]).len(),
        all.len()
    );
    let tree = ui_ok(&env, &["list", "--tree=true"]);
    let child_line = tree
        .lines()
        .find(|l| l.contains(&f.open_child))
        .expect("child listed");
    assert!(child_line.starts_with("  "), "not indented: {tree}");

    // 2: in-progress-issues.
    let in_progress = list_rows(
        &env,
        &["list", "--json", "--tree=false", "--status", "in_progress"],
    );
    assert_eq!(ids(&in_progress), vec![f.in_progress.clone()]);
    assert_eq!(in_progress[0]["assignee"], "alice");

    // 3: closed-issues.
    let closed = list_rows(
        &env,
        &[
            "list",
            "--json",
            "--tree=false",
            "--status",
            "closed",
            "--limit",
            "1000",
        ],
    );
    f.assert_lists_the_closed(&closed);
    assert_eq!(find(&closed, &f.closed)["close_reason"], "finished");

    // 4: epics. bd's EpicStatus: the epic nested, counters beside it.
    let epics = array(&ui_json(&env, &["epic", "status", "--json"]), "epic status");
    assert_eq!(epics.len(), 1, "{epics:?}");
    assert_issue(&epics[0]["epic"]);
    assert_eq!(epics[0]["epic"]["id"], f.epic.as_str());
    assert_eq!(epics[0]["epic"]["issue_type"], "epic");
    assert_eq!(epics[0]["total_children"], 2);
    assert_eq!(epics[0]["closed_children"], 1);
    assert_eq!(epics[0]["eligible_for_close"], false);
    assert!(epics[0]["epic"].get("deleted_at").is_none());
    // With the last child closed the epic is eligible (and `--eligible-only` keeps it).
    ui_ok(&env, &["update", &f.open_child, "--status", "closed"]);
    let eligible = array(
        &ui_json(&env, &["epic", "status", "--eligible-only", "--json"]),
        "eligible",
    );
    assert_eq!(eligible.len(), 1);
    assert_eq!(eligible[0]["eligible_for_close"], true);
    ui_ok(&env, &["update", &f.open_child, "--status", "open"]);
    assert_eq!(
        ui_json(&env, &["epic", "status", "--eligible-only", "--json"]),
        json!([])
    );

    // 5: blocked-issues. bd's BlockedIssue.
    let blocked_rows = list_rows(&env, &["blocked", "--json"]);
    assert_eq!(ids(&blocked_rows), vec![f.blocked.clone()]);
    assert_eq!(blocked_rows[0]["blocked_by_count"], 1);
    assert_eq!(blocked_rows[0]["blocked_by"], json!([f.blocker]));

    // 6: ready-issues.
    let ready = list_rows(&env, &["ready", "--limit", "1000", "--json"]);
    assert!(ids(&ready).contains(&f.blocker));
    assert!(ids(&ready).contains(&f.open_child));
    assert!(!ids(&ready).contains(&f.blocked));
    assert!(!ids(&ready).contains(&f.in_progress));

    // 7: issue-detail. bd's IssueDetails: linked beads themselves, with dependency_type.
    let detail = show(&env, &f.blocked);
    assert_issue(&detail);
    assert_eq!(detail["acceptance_criteria"], "It is unblocked");
    assert_eq!(detail["description"], "Waits for the blocker");
    assert_eq!(detail["labels"], json!(["ui"]));
    let comments = array(&detail["comments"], "comments");
    assert_eq!(comments[0]["text"], "first comment");
    let deps = array(&detail["dependencies"], "dependencies");
    assert_eq!(deps.len(), 1);
    assert_issue(&deps[0]);
    assert_eq!(deps[0]["id"], f.blocker.as_str());
    assert_eq!(deps[0]["title"], "Blocker");
    assert_eq!(deps[0]["status"], "open");
    assert_eq!(deps[0]["priority"], 0);
    assert_eq!(deps[0]["dependency_type"], "blocks");
    assert!(
        deps[0].get("depends_on_id").is_none(),
        "edge shape: {detail}"
    );
    let dependents = array(&show(&env, &f.blocker)["dependents"], "dependents");
    assert_eq!(ids(&dependents), vec![f.blocked.clone()]);
    assert_eq!(dependents[0]["title"], "Blocked work");
    assert_eq!(dependents[0]["dependency_type"], "blocks");
    // The epic: children as dependents, progress as bd's epic_* fields.
    let epic = show(&env, &f.epic);
    let children = array(&epic["dependents"], "children");
    assert_eq!(children.len(), 2);
    assert!(children
        .iter()
        .all(|c| c["dependency_type"] == "parent-child"));
    assert_eq!(epic["epic_total_children"], 2);
    assert_eq!(epic["epic_closed_children"], 1);
    assert_eq!(epic["epic_closeable"], false);
    let child = show(&env, &f.open_child);
    assert_eq!(child["parent"], f.epic.as_str());
    assert_eq!(child["dependencies"][0]["id"], f.epic.as_str());
    assert_eq!(child["dependencies"][0]["dependency_type"], "parent-child");
    // A bead with no links has neither list (bd omits empty ones).
    let lone = show(&env, &f.closed);
    assert!(lone.get("dependencies").is_none() && lone.get("dependents").is_none());
    // Edges stay in export.
    let export = ui_ok(&env, &["export"]);
    let line: Value = export
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["id"] == f.blocked.as_str())
        .unwrap();
    assert_eq!(line["dependencies"][0]["depends_on_id"], f.blocker.as_str());
    assert_eq!(line["dependencies"][0]["type"], "blocks");
}

#[test]
fn replay_writes_change_the_store_as_beads_ui_asks() {
    let env = Env::new();
    let f = fixture(&env);
    let id = f.open_child.as_str();

    // 8: assignee set, then cleared with "".
    ui_ok(&env, &["update", id, "--assignee", "bob"]);
    assert_eq!(show(&env, id)["assignee"], "bob");
    ui_ok(&env, &["update", id, "--assignee", ""]);
    assert!(show(&env, id).get("assignee").is_none());

    // 9: every status the UI offers.
    for status in ["in_progress", "closed", "open"] {
        ui_ok(&env, &["update", id, "--status", status]);
        let shown = show(&env, id);
        assert_eq!(shown["status"], status);
        assert_issue(&shown);
    }

    // 10: priority.
    ui_ok(&env, &["update", id, "--priority", "4"]);
    assert_eq!(show(&env, id)["priority"], 4);

    // 11, 12: the five text fields, with the flags ws.js maps them to.
    for (flag, field) in [
        ("--title", "title"),
        ("--description", "description"),
        ("--notes", "notes"),
        ("--design", "design"),
        ("--acceptance-criteria", "acceptance_criteria"),
    ] {
        let value = format!("new {field}\nsecond line");
        ui_ok(&env, &["update", id, flag, &value]);
        assert_eq!(show(&env, id)[field], value.as_str(), "{flag}");
    }

    // 13: create with every option the dialog sends.
    let before = list_rows(&env, &["list", "--json", "--tree=false"]).len();
    ui_ok(
        &env,
        &[
            "create",
            "Made in the UI",
            "-t",
            "bug",
            "-p",
            "1",
            "-d",
            "From the dialog",
        ],
    );
    let after = list_rows(&env, &["list", "--json", "--tree=false"]);
    assert_eq!(after.len(), before + 1);
    let made = after
        .iter()
        .find(|v| v["title"] == "Made in the UI")
        .expect("created");
    assert_eq!(made["issue_type"], "bug");
    assert_eq!(made["priority"], 1);
    assert_eq!(made["description"], "From the dialog");
    let made = made["id"].as_str().unwrap().to_string();
    for kind in ["feature", "task", "epic", "chore"] {
        ui_ok(&env, &["create", &format!("A {kind}"), "-t", kind]);
    }
    // `--acceptance-criteria` on create too (bd's spelling).
    ui_ok(
        &env,
        &[
            "create",
            "With criteria",
            "--acceptance-criteria",
            "Done when shown",
        ],
    );

    // 14: dependencies.
    ui_ok(&env, &["dep", "add", &made, &f.blocker]);
    let deps = array(&show(&env, &made)["dependencies"], "deps");
    assert_eq!(ids(&deps), vec![f.blocker.clone()]);
    ui_ok(&env, &["dep", "remove", &made, &f.blocker]);
    assert!(show(&env, &made).get("dependencies").is_none());

    // 15: labels.
    ui_ok(&env, &["label", "add", &made, "frontend"]);
    assert_eq!(show(&env, &made)["labels"], json!(["frontend"]));
    ui_ok(&env, &["label", "remove", &made, "frontend"]);
    assert!(show(&env, &made).get("labels").is_none());

    // 16, 17: comments, listed as bd's comment objects; `comment` with bd's --author.
    assert_eq!(ui_json(&env, &["comments", &made, "--json"]), json!([]));
    ui_ok(
        &env,
        &["comment", &made, "Looks", "good", "--author", "Jane Doe"],
    );
    let comments = array(&ui_json(&env, &["comments", &made, "--json"]), "comments");
    assert_eq!(comments.len(), 1);
    let comment = &comments[0];
    for key in ["id", "issue_id", "author", "text", "created_at"] {
        assert!(comment[key].is_string(), "{key}: {comment}");
    }
    assert_eq!(comment["text"], "Looks good");
    assert_eq!(comment["author"], "Jane Doe");
    assert_eq!(comment["issue_id"], made.as_str());
    rfc3339(&comment["created_at"], "comment created_at");
    // Without --author the actor writes it; `comments add` takes --author as well.
    ui_ok(&env, &["comment", &made, "mine"]);
    ui_ok(&env, &["comments", "add", &made, "theirs", "-a", "Sam"]);
    let comments = array(&ui_json(&env, &["comments", &made, "--json"]), "comments");
    let authors: Vec<&str> = comments
        .iter()
        .map(|c| c["author"].as_str().unwrap())
        .collect();
    assert_eq!(authors, vec!["Jane Doe", "Test User", "Sam"]);
    assert_eq!(
        find(&list_rows(&env, &["list", "--json", "--tree=false"]), &made)["comment_count"],
        3
    );
    // An author that would rewrite a terminal is refused, and nothing is written.
    let tip = env.ref_tip(&env.repo(), "refs/gastown/beads");
    let (code, stderr) = common::err(
        ui_call(&env, &["comment", &made, "x", "--author", "evil\u{1b}[2J"]),
        &["comment"],
    );
    assert_eq!(code, 1, "{stderr}");
    common::assert_one_line_error(&stderr);
    assert_eq!(env.ref_tip(&env.repo(), "refs/gastown/beads"), tip);

    // 18: delete with --force.
    ui_ok(&env, &["delete", &made, "--force"]);
    let listed = list_rows(&env, &["list", "--json", "--tree=false"]);
    assert!(!ids(&listed).contains(&made));
    let (_, stderr) = common::err(ui_call(&env, &["show", &made, "--json"]), &["show"]);
    assert!(stderr.contains("deleted"), "{stderr}");
}

#[test]
fn list_tree_prints_each_bead_once_even_on_a_parent_cycle() {
    let env = Env::new();
    env.bead_ok(&["init", "--prefix", "ui"]);
    // `dep add` refuses a parent cycle; an import (or a sync) can still bring one.
    let file = env.path().join("cycle.jsonl");
    let line = |id: &str, parent: &str| {
        json!({"id": id, "title": format!("bead {id}"), "status": "open", "priority": 2,
               "issue_type": "task",
               "dependencies": [{"issue_id": id, "depends_on_id": parent, "type": "parent-child"}]})
        .to_string()
    };
    let lone = json!({"id": "ui-top", "title": "top", "status": "open", "priority": 2,
                      "issue_type": "epic"});
    std::fs::write(
        &file,
        format!(
            "{}\n{}\n{}\n{lone}\n",
            line("ui-aaaa", "ui-bbbb"),
            line("ui-bbbb", "ui-aaaa"),
            line("ui-kid", "ui-top")
        ),
    )
    .unwrap();
    env.bead_ok(&["import", file.to_str().unwrap()]);
    let tree = ui_ok(&env, &["list", "--tree"]);
    for id in ["ui-aaaa", "ui-bbbb", "ui-kid", "ui-top"] {
        let lines = tree
            .lines()
            .filter(|l| l.trim_start().starts_with(id))
            .count();
        assert_eq!(lines, 1, "{id} in:\n{tree}");
    }
    let kid = tree.lines().find(|l| l.contains("ui-kid")).unwrap();
    assert!(kid.starts_with("  "), "child not under its parent:\n{tree}");
    let flat = ui_ok(&env, &["list", "--tree=false"]);
    assert!(flat.lines().all(|l| !l.starts_with(' ')), "{flat}");
}

// ---------------------------------------------------------------------------------------
// The real server.

/// Where beads-ui is installed: `$GT_BEADS_UI_DIR`, else `target/bdui` (where .ci/run puts
/// it), as an npm prefix holding `node_modules/beads-ui`.
fn beads_ui_dir() -> PathBuf {
    match std::env::var_os("GT_BEADS_UI_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bdui"),
    }
}

/// The beads-ui install and node, or None after saying why (a failure when
/// GT_REQUIRE_BEADS_UI=1).
fn beads_ui_or_skip(test: &str) -> Option<PathBuf> {
    let dir = beads_ui_dir();
    let server = dir.join("node_modules/beads-ui/server/index.js");
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let missing = if !node {
        "node is not on PATH".to_string()
    } else if !server.is_file() {
        format!("{} does not exist", server.display())
    } else {
        return Some(dir);
    };
    if std::env::var("GT_REQUIRE_BEADS_UI").as_deref() == Ok("1") {
        panic!("{test}: beads-ui required (GT_REQUIRE_BEADS_UI=1) but {missing}");
    }
    // Straight to stderr, past the test harness's capture, so the skip is seen.
    let _ = writeln!(
        std::io::stderr(),
        "\n*** {test}: SKIPPED: beads-ui not installed ({missing}); run .ci/run or \
         `npm install --no-save --prefix target/bdui beads-ui@0.12.0` ***\n"
    );
    None
}

/// A child process (and its process group) killed when the test ends, pass or fail.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        // The server runs bd calls as its own children: end the whole group.
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Long enough for any machine; a reply that takes this long means a hang.
const REPLY_WAIT: Duration = Duration::from_secs(60);

/// beads-ui's server on a free port, and a WebSocket client connected to it.
struct BeadsUi {
    // Field order is drop order: the client goes before the server.
    to_server: ChildStdin,
    from_server: Receiver<String>,
    _bridge: Killed,
    _server: Killed,
    next_id: u64,
    /// Pushed messages (snapshots, upserts, deletes) seen so far.
    events: Vec<Value>,
}

impl BeadsUi {
    fn start(env: &Env, install: &Path) -> BeadsUi {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let bd_bin = common::bin_dir().join("git-bead");
        let mut server = env.command("node", &env.repo());
        server
            .arg(install.join("node_modules/beads-ui/server/index.js"))
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .env("BD_BIN", &bd_bin)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        std::os::unix::process::CommandExt::process_group(&mut server, 0);
        let server = Killed(server.spawn().expect("node starts"));
        let deadline = Instant::now() + REPLY_WAIT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "beads-ui never listened on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let bridge_js = common::fixtures("beads_ui/bridge.mjs");
        let mut bridge = env.command("node", &env.repo());
        bridge
            .arg(bridge_js)
            .arg(install)
            .arg(format!("ws://127.0.0.1:{port}/ws"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        std::os::unix::process::CommandExt::process_group(&mut bridge, 0);
        let mut bridge = Killed(bridge.spawn().expect("node starts"));
        let to_server = bridge.0.stdin.take().unwrap();
        let stdout = bridge.0.stdout.take().unwrap();
        let (tx, from_server) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(|l| l.ok()) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut ui = BeadsUi {
            to_server,
            from_server,
            _bridge: bridge,
            _server: server,
            next_id: 0,
            events: Vec::new(),
        };
        let opened = ui.next_message();
        assert_eq!(opened, json!({"bridge": "open"}));
        ui
    }

    fn next_message(&mut self) -> Value {
        match self.from_server.recv_timeout(REPLY_WAIT) {
            Ok(line) => serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}")),
            Err(RecvTimeoutError::Timeout) => panic!("no message from beads-ui in {REPLY_WAIT:?}"),
            Err(RecvTimeoutError::Disconnected) => panic!("the WebSocket client ended"),
        }
    }

    /// Send `{id, type, payload}` and return the reply's payload, asserting it is ok.
    fn request(&mut self, kind: &str, payload: Value) -> Value {
        self.next_id += 1;
        let id = format!("t{}", self.next_id);
        let message = json!({"id": id, "type": kind, "payload": payload});
        writeln!(self.to_server, "{message}").unwrap();
        self.to_server.flush().unwrap();
        loop {
            let reply = self.next_message();
            if reply["id"] == id.as_str() {
                assert_eq!(reply["ok"], true, "{kind} {payload} failed: {reply}");
                assert_eq!(reply["type"], kind);
                return reply["payload"].clone();
            }
            self.events.push(reply);
        }
    }

    /// The latest snapshot pushed for subscription `sub`.
    fn snapshot(&self, sub: &str) -> Vec<Value> {
        let event = self
            .events
            .iter()
            .rev()
            .find(|e| e["type"] == "snapshot" && e["payload"]["id"] == sub)
            .unwrap_or_else(|| panic!("no snapshot for {sub}: {:?}", self.events));
        array(&event["payload"]["issues"], "snapshot issues")
    }

    fn subscribe(&mut self, sub: &str, kind: &str, params: Option<Value>) -> Vec<Value> {
        let mut payload = json!({"id": sub, "type": kind});
        if let Some(params) = params {
            payload["params"] = params;
        }
        let reply = self.request("subscribe-list", payload);
        assert_eq!(reply["id"], sub);
        self.snapshot(sub)
    }
}

fn detail_of(payload: &Value) -> Value {
    match payload {
        Value::Array(items) => items[0].clone(),
        other => other.clone(),
    }
}

#[test]
fn beads_ui_server_lists_every_subscription_from_git_bead() {
    let Some(install) = beads_ui_or_skip("beads_ui_server_lists_every_subscription_from_git_bead")
    else {
        return;
    };
    let env = Env::new();
    let f = fixture(&env);
    let mut ui = BeadsUi::start(&env, &install);

    let all = ui.subscribe("all", "all-issues", None);
    f.assert_lists_the_unclosed(&all);
    let blocked = find(&all, &f.blocked);
    assert_eq!(blocked["dependency_count"], 1);
    // The adapter turns timestamps into epoch milliseconds: they parsed.
    assert!(
        blocked["created_at"].as_u64().is_some_and(|ms| ms > 0),
        "{blocked}"
    );

    let epics = ui.subscribe("epics", "epics", None);
    assert_eq!(ids(&epics), vec![f.epic.clone()]);
    assert_eq!(epics[0]["total_children"], 2);
    assert_eq!(epics[0]["closed_children"], 1);
    assert_eq!(epics[0]["eligible_for_close"], false);

    let blocked = ui.subscribe("blocked", "blocked-issues", None);
    assert_eq!(ids(&blocked), vec![f.blocked.clone()]);
    assert_eq!(blocked[0]["blocked_by_count"], 1);

    let ready = ui.subscribe("ready", "ready-issues", None);
    assert!(ids(&ready).contains(&f.blocker));
    assert!(!ids(&ready).contains(&f.blocked));

    let in_progress = ui.subscribe("wip", "in-progress-issues", None);
    assert_eq!(ids(&in_progress), vec![f.in_progress.clone()]);

    let closed = ui.subscribe("closed", "closed-issues", None);
    f.assert_lists_the_closed(&closed);
    assert!(closed[0]["closed_at"].as_u64().is_some_and(|ms| ms > 0));

    let detail = ui.subscribe(
        "detail",
        "issue-detail",
        Some(json!({"id": f.blocked.clone()})),
    );
    assert_eq!(ids(&detail), vec![f.blocked.clone()]);
    assert_eq!(detail[0]["dependencies"][0]["id"], f.blocker.as_str());
    assert_eq!(detail[0]["dependencies"][0]["title"], "Blocker");
    assert_eq!(detail[0]["dependencies"][0]["dependency_type"], "blocks");
    let epic = ui.subscribe("epic-detail", "issue-detail", Some(json!({"id": f.epic})));
    assert_eq!(array(&epic[0]["dependents"], "children").len(), 2);
}

#[test]
fn beads_ui_server_writes_through_git_bead() {
    let Some(install) = beads_ui_or_skip("beads_ui_server_writes_through_git_bead") else {
        return;
    };
    let env = Env::new();
    let f = fixture(&env);
    let mut ui = BeadsUi::start(&env, &install);
    let stored = |id: &str| env.bead_json(&["show", id])[0].clone();
    ui.subscribe("all", "all-issues", None);
    let id = f.open_child.clone();

    let shown = ui.request("update-assignee", json!({"id": id, "assignee": "bob"}));
    assert_eq!(detail_of(&shown)["assignee"], "bob");
    assert_eq!(stored(&id)["assignee"], "bob");
    ui.request("update-assignee", json!({"id": id, "assignee": ""}));
    assert!(stored(&id).get("assignee").is_none());

    for status in ["in_progress", "closed", "open"] {
        let shown = ui.request("update-status", json!({"id": id, "status": status}));
        assert_eq!(detail_of(&shown)["status"], status);
        assert_eq!(stored(&id)["status"], status);
    }

    let shown = ui.request("update-priority", json!({"id": id, "priority": 0}));
    assert_eq!(detail_of(&shown)["priority"], 0);
    assert_eq!(stored(&id)["priority"], 0);

    for (field, key) in [
        ("title", "title"),
        ("description", "description"),
        ("acceptance", "acceptance_criteria"),
        ("notes", "notes"),
        ("design", "design"),
    ] {
        let value = format!("UI {field}");
        let shown = ui.request(
            "edit-text",
            json!({"id": id, "field": field, "value": value}),
        );
        assert_eq!(detail_of(&shown)[key], value.as_str(), "{field}");
        assert_eq!(stored(&id)[key], value.as_str(), "{field}");
    }

    let created = ui.request(
        "create-issue",
        json!({"title": "From the browser", "type": "feature", "priority": 1, "description": "typed in"}),
    );
    assert_eq!(created, json!({"created": true}));
    let made = env
        .bead_json(&["list", "--all", "--limit", "0"])
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["title"] == "From the browser")
        .cloned()
        .expect("created in the store");
    assert_eq!(made["issue_type"], "feature");
    assert_eq!(made["priority"], 1);
    assert_eq!(made["description"], "typed in");
    let made = made["id"].as_str().unwrap().to_string();
    // A list the UI opens now has it, with bd's counts. (The server also pushes an upsert
    // after its post-write refresh timer; a fresh subscription is checked instead, so the
    // test does not depend on that timer.)
    let listed = ui.subscribe("all-after-create", "all-issues", None);
    let row = find(&listed, &made);
    assert_eq!(row["title"], "From the browser");
    assert_eq!(row["dependency_count"], 0);
    // The adapter turned the timestamps into epoch milliseconds: they parsed.
    assert!(row["created_at"].as_u64().is_some_and(|ms| ms > 0), "{row}");

    let shown = ui.request("dep-add", json!({"a": made, "b": f.blocker}));
    assert_eq!(
        detail_of(&shown)["dependencies"][0]["id"],
        f.blocker.as_str()
    );
    assert_eq!(stored(&made)["dependencies"][0]["id"], f.blocker.as_str());
    let shown = ui.request(
        "dep-remove",
        json!({"a": made, "b": f.blocker, "view_id": f.blocker}),
    );
    assert_eq!(
        detail_of(&shown)["id"],
        f.blocker.as_str(),
        "view_id is shown"
    );
    assert!(stored(&made).get("dependencies").is_none());

    let shown = ui.request("label-add", json!({"id": made, "label": " frontend "}));
    assert_eq!(detail_of(&shown)["labels"], json!(["frontend"]));
    ui.request("label-remove", json!({"id": made, "label": "frontend"}));
    assert!(stored(&made).get("labels").is_none());

    assert_eq!(ui.request("get-comments", json!({"id": made})), json!([]));
    let comments = ui.request("add-comment", json!({"id": made, "text": " Nice work "}));
    let comments = array(&comments, "comments");
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0]["text"], "Nice work");
    // The server names the author from `git config user.name` in its directory.
    assert_eq!(comments[0]["author"], "Test User");
    assert_eq!(comments[0]["issue_id"], made.as_str());
    assert_eq!(
        ui.request("get-comments", json!({"id": made})),
        json!(comments)
    );
    assert_eq!(stored(&made)["comments"][0]["text"], "Nice work");

    let deleted = ui.request("delete-issue", json!({"id": made}));
    assert_eq!(deleted, json!({"deleted": true, "id": made}));
    let (_, stderr) = env.bead_err(&["show", &made]);
    assert!(stderr.contains("deleted"), "{stderr}");
    let listed = ui.subscribe("all-after-delete", "all-issues", None);
    assert!(!ids(&listed).contains(&made));
}
