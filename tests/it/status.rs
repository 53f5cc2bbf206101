//! `git gastown status` and `git agent seance`, on towns the tests build: a town with two
//! rigs (web, api) whose agents run the scripted runtime (`support::scripted`), some alive,
//! one killed while holding work, a queued dispatch, a held merge request; and a lone
//! repository whose polecat runs a small "talker" runtime that reports a runtime session id
//! and, when resumed, prints what it was asked to resume.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::support::scripted::{self, kill_group, wait_until, Cleanup};
use crate::support::{self, assert_one_line_error, Env};

/// A town at `<tmp>/town` with rigs `web` and `api` (projects at `<tmp>/web`, `<tmp>/api`),
/// the scripted runtime as every session's runtime (process backend), no automatic
/// merge-queue passes.
struct TwoRigs {
    // Before `env`: the cleanups read the session files that dropping `env` deletes.
    _cleanups: Vec<Cleanup>,
    env: Env,
    town: PathBuf,
    web: PathBuf,
    api: PathBuf,
    out: PathBuf,
}

impl TwoRigs {
    fn new() -> TwoRigs {
        let env = Env::empty();
        let root = std::fs::canonicalize(env.path()).unwrap();
        let town = root.join("town");
        support::ok(
            env.run_in(&root, "gastown", &["init", town.to_str().unwrap()]),
            &["init"],
        );
        let out = root.join("out");
        std::fs::create_dir_all(&out).unwrap();
        let script = root.join("scripted-agent");
        scripted::write_script(&script, &out);
        let mut cleanups = Vec::new();
        let mut rigs = Vec::new();
        for (name, prefix) in [("web", "wb"), ("api", "ap")] {
            let dir = root.join(name);
            std::fs::create_dir_all(&dir).unwrap();
            env.git_ok(&dir, &["init", "-q", "-b", "main"]);
            std::fs::write(dir.join("README"), format!("{name}\n")).unwrap();
            env.git_ok(&dir, &["add", "README"]);
            env.git_ok(&dir, &["commit", "-qm", "initial"]);
            support::ok(
                env.run_in(
                    &town,
                    "gastown",
                    &[
                        "rig",
                        "add",
                        name,
                        dir.to_str().unwrap(),
                        "--prefix",
                        prefix,
                    ],
                ),
                &["rig", "add", name],
            );
            for (key, value) in [
                ("gastown.runtime.script.command", script.to_str().unwrap()),
                ("gastown.runtime.script.prompt", "arg"),
                ("gastown.session.backend", "process"),
            ] {
                env.git_ok(&dir, &["config", key, value]);
            }
            cleanups.push(Cleanup::new(dir.join(".git/gastown")));
            rigs.push(dir);
        }
        let t = TwoRigs {
            _cleanups: cleanups,
            env,
            town,
            api: rigs.pop().unwrap(),
            web: rigs.pop().unwrap(),
            out,
        };
        t.gastown_ok(&t.town, &["config", "set", "agent.default", "script"]);
        t.gastown_ok(&t.town, &["config", "set", "merge_queue.auto", "false"]);
        t
    }

    fn run(&self, dir: &Path, tool: &str, args: &[&str]) -> Output {
        self.env.run_in(dir, tool, args)
    }

    fn gastown_ok(&self, dir: &Path, args: &[&str]) -> String {
        support::ok(self.run(dir, "gastown", args), args)
    }

    fn json(&self, dir: &Path, tool: &str, args: &[&str]) -> Value {
        self.env.json_in(dir, tool, args)
    }

    fn bead(&self, rig: &Path, title: &str) -> String {
        let v = self.json(rig, "bead", &["create", title]);
        v["id"].as_str().unwrap().to_string()
    }

    /// `git sling BEAD RIG` from the rig: the dispatch report.
    fn sling(&self, rig: &Path, bead: &str, target: &str) -> Value {
        let v = self.json(rig, "sling", &[bead, target]);
        v.as_array().unwrap()[0].clone()
    }

    fn status(&self) -> Value {
        self.json(&self.town, "gastown", &["status"])
    }

    /// Every ref of the town and both rigs with its tip: what "nothing written" compares.
    fn all_refs(&self) -> String {
        [&self.town, &self.web, &self.api]
            .iter()
            .map(|dir| {
                self.env
                    .git_ok(dir, &["for-each-ref", "--format=%(refname) %(objectname)"])
            })
            .collect::<Vec<_>>()
            .join("--\n")
    }
}

fn agent_line<'a>(status: &'a Value, address: &str) -> &'a Value {
    status["agents"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["address"] == address)
        .unwrap_or_else(|| panic!("{address} not in {}", status["agents"]))
}

fn rig_line<'a>(status: &'a Value, name: &str) -> &'a Value {
    status["rigs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("rig {name} not in {}", status["rigs"]))
}

/// The town the status tests look at: in `web`, one polecat alive on its bead and one whose
/// session was killed holding its bead (and, with `patrol.stuck_after = 1s`, the live one
/// counts as stuck); in `api` (parked afterwards), one polecat alive, a second dispatch
/// queued behind `scheduler.max_polecats = 1`, and a merge request the last pass held
/// because its gate's command does not exist. (web bead alive, web bead dead, api queued
/// bead, the held request's id.)
fn busy_town(t: &TwoRigs) -> (String, String, String, String, String, String) {
    t.gastown_ok(
        &t.town,
        &["config", "set", "patrol.stuck_after", "1s", "--rig", "web"],
    );
    t.gastown_ok(
        &t.town,
        &[
            "config",
            "set",
            "scheduler.max_polecats",
            "1",
            "--rig",
            "api",
        ],
    );
    let alive_bead = t.bead(&t.web, "alive work");
    let dead_bead = t.bead(&t.web, "dead work");
    let api_bead = t.bead(&t.api, "api work");
    let queued_bead = t.bead(&t.api, "api waits");
    let alive = t.sling(&t.web, &alive_bead, "web");
    let dead = t.sling(&t.web, &dead_bead, "web");
    assert_eq!(alive["outcome"], "started", "{alive}");
    assert_eq!(dead["outcome"], "started", "{dead}");
    assert_eq!(t.sling(&t.api, &api_bead, "api")["outcome"], "started");
    let queued = t.sling(&t.api, &queued_bead, "api");
    assert_eq!(queued["outcome"], "queued", "{queued}");
    let alive_agent = alive["agent"].as_str().unwrap().to_string();
    let dead_agent = dead["agent"].as_str().unwrap().to_string();

    // Each session has run its prime before the one is killed (its files are written).
    for agent in [&alive_agent, &dead_agent] {
        let session = agent.replace('/', "-").replace("-polecats-", "-");
        let file = t.out.join(format!("gt-{session}.env"));
        wait_until(&format!("{agent}'s session to start"), || file.exists());
    }
    let shown = t.json(&t.web, "agent", &["show", &dead_agent]);
    kill_group(shown["session"]["pid"].as_u64().unwrap());
    wait_until("the killed session to read as dead", || {
        t.json(&t.web, "agent", &["show", &dead_agent])["session"]["alive"] == false
    });

    // A merge request in api, held by a pass whose gate command does not exist.
    t.env.git_ok(&t.api, &["checkout", "-q", "-b", "feature"]);
    std::fs::write(t.api.join("feature.txt"), "feature\n").unwrap();
    t.env.git_ok(&t.api, &["add", "feature.txt"]);
    t.env.git_ok(&t.api, &["commit", "-qm", "feature"]);
    t.env.git_ok(&t.api, &["checkout", "-q", "main"]);
    let mr = t.json(&t.api, "mq", &["submit", "feature"]);
    let mr_id = mr["id"].as_str().unwrap().to_string();
    t.gastown_ok(
        &t.town,
        &[
            "config",
            "set",
            "merge_queue.gates.test",
            "no-such-gate-command-here",
            "--rig",
            "api",
        ],
    );
    let pass = t.run(&t.api, "mq", &["run", "--rig", "api", "--json"]);
    assert_eq!(pass.status.code(), Some(11), "the pass holds: {pass:?}");
    // A convoy with ready work nobody is on (stranded), and an advisory lock.
    let idle_bead = t.bead(&t.web, "nobody on it");
    let convoy = t.json(
        &t.town,
        "convoy",
        &["create", "release 1", &idle_bead, &alive_bead],
    );
    let convoy_id = convoy["id"].as_str().unwrap().to_string();
    support::ok(
        t.run(
            &t.web,
            "board",
            &["lock", "src/auth", "--intent", "reworking auth"],
        ),
        &["board", "lock"],
    );
    std::fs::write(t.out.join("convoy"), &convoy_id).unwrap();
    // Escalations: a HIGH one open, a LOW one acknowledged, a MEDIUM one closed.
    t.json(&t.town, "escalate", &["-s", "HIGH", "the api rig is down"]);
    let low = t.json(&t.town, "escalate", &["-s", "LOW", "a typo in the docs"]);
    t.json(&t.town, "escalate", &["ack", low["id"].as_str().unwrap()]);
    let medium = t.json(&t.town, "escalate", &["-s", "MEDIUM", "solved already"]);
    t.json(
        &t.town,
        "escalate",
        &["close", medium["id"].as_str().unwrap(), "--reason", "fixed"],
    );
    t.gastown_ok(&t.town, &["rig", "park", "api"]);
    // Quiet for longer than web's patrol.stuck_after.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    (
        alive_agent,
        dead_agent,
        alive_bead,
        dead_bead,
        queued_bead,
        mr_id,
    )
}

#[test]
fn status_json_puts_dead_work_first_and_has_every_section() {
    let t = TwoRigs::new();
    let (alive_agent, dead_agent, alive_bead, dead_bead, queued_bead, mr_id) = busy_town(&t);
    let before = t.all_refs();
    let s = t.status();
    assert_eq!(t.all_refs(), before, "status wrote something");

    // Problems, most urgent first: the dead session holding work leads.
    let problems = s["problems"].as_array().unwrap();
    let kinds: Vec<&str> = problems
        .iter()
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "dead_session_with_work",
            "stuck_agent",
            "stranded_convoy",
            "held_merge"
        ],
        "{problems:?}"
    );
    let convoy_id = std::fs::read_to_string(t.out.join("convoy")).unwrap();
    assert_eq!(problems[0]["subject"], dead_agent.as_str());
    assert_eq!(problems[0]["bead"], dead_bead.as_str());
    assert_eq!(problems[0]["rig"], "web");
    assert_eq!(problems[1]["subject"], alive_agent.as_str());
    assert_eq!(problems[2]["subject"], convoy_id.as_str());
    assert_eq!(problems[3]["subject"], mr_id.as_str());
    assert_eq!(problems[3]["rig"], "api");

    // Convoys with progress: sling's own convoys (one per dispatch, the queued one moving
    // by the scheduler, so not stranded) and the stranded one.
    let convoys = s["convoys"].as_array().unwrap();
    let mine = convoys
        .iter()
        .find(|c| c["id"] == convoy_id.as_str())
        .unwrap_or_else(|| panic!("{convoy_id} not in {convoys:?}"));
    assert_eq!(mine["name"], "release 1");
    assert_eq!(mine["progress"]["total"], 2);
    assert_eq!(mine["progress"]["closed"], 0);
    assert_eq!(mine["stranded"], "ready");
    let stranded: Vec<&Value> = convoys
        .iter()
        .filter(|c| c["stranded"].is_string())
        .collect();
    assert_eq!(stranded.len(), 1, "{convoys:?}");

    // Escalations not closed, by severity, most severe first.
    let e = &s["escalations"];
    assert_eq!(
        (&e["open"], &e["acked"]),
        (&Value::from(1), &Value::from(1)),
        "{e}"
    );
    assert_eq!(e["by_severity"], serde_json::json!({"HIGH": 1, "LOW": 1}));
    let summaries: Vec<&str> = e["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["summary"].as_str().unwrap())
        .collect();
    assert_eq!(summaries, ["the api rig is down", "a typo in the docs"]);

    // Locks held on the board.
    let locks = s["locks"].as_array().unwrap();
    assert_eq!(locks.len(), 1, "{locks:?}");
    assert_eq!(locks[0]["path"], "src/auth");
    assert_eq!(locks[0]["intent"], "reworking auth");

    // Rigs, parked or not, with their counts.
    assert_eq!(s["rigs"].as_array().unwrap().len(), 2);
    let web = rig_line(&s, "web");
    assert_eq!(
        (
            &web["parked"],
            &web["available"],
            &web["agents"],
            &web["alive"]
        ),
        (
            &Value::Bool(false),
            &Value::Bool(true),
            &Value::from(2),
            &Value::from(1)
        ),
        "{web}"
    );
    let api = rig_line(&s, "api");
    assert_eq!(api["parked"], true, "{api}");
    assert_eq!(api["merge_queue_depth"], 1);
    assert_eq!(api["queued_dispatches"], 1);

    // Agents by role and state, each with its hook and liveness.
    assert_eq!(s["agents"]["total"], 3, "{}", s["agents"]);
    assert_eq!(s["agents"]["alive"], 2);
    assert_eq!(s["agents"]["by_role"]["polecat"]["working"], 3);
    let alive = agent_line(&s, &alive_agent);
    assert_eq!(alive["liveness"], "alive");
    assert_eq!(alive["hook"], alive_bead.as_str());
    assert_eq!(alive["hook_title"], "alive work");
    assert_eq!(alive["stuck"], true);
    assert!(alive["quiet_for_s"].as_i64().unwrap() >= 1);
    assert_eq!(alive["session"]["alive"], true);
    let dead = agent_line(&s, &dead_agent);
    assert_eq!(dead["liveness"], "dead");
    assert_eq!(dead["hook"], dead_bead.as_str());
    assert_eq!(dead["stuck"], false);

    // The merge queues: api's held request and its last pass; web's empty queue.
    let mqs = s["merge_queue"].as_array().unwrap();
    assert_eq!(mqs.len(), 2);
    let api_mq = mqs.iter().find(|m| m["rig"] == "api").unwrap();
    assert_eq!(api_mq["depth"], 1);
    assert_eq!(api_mq["by_status"]["open"], 1);
    assert_eq!(api_mq["next"][0]["id"], mr_id.as_str());
    assert!(api_mq["next"][0]["held"].is_string(), "{api_mq}");
    assert_eq!(api_mq["last_pass"]["held"], 1);
    assert_eq!(api_mq["unfinished_merge"], false);
    let web_mq = mqs.iter().find(|m| m["rig"] == "web").unwrap();
    assert_eq!(
        (&web_mq["depth"], &web_mq["last_pass"]),
        (&Value::from(0), &Value::Null)
    );

    // The queued dispatch.
    let queue = s["dispatch_queue"].as_array().unwrap();
    assert_eq!(queue.len(), 1, "{queue:?}");
    assert_eq!(queue[0]["rig"], "api");
    assert_eq!(queue[0]["bead"], queued_bead.as_str());
    assert_eq!(queue[0]["status"], "queued");

    // The text view: problems first, the dead session's line before the rest.
    let text = t.gastown_ok(&t.town, &["status"]);
    let at = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("{needle:?} not in:\n{text}"))
    };
    assert!(at("Problems (4)") < at("dead session with work"));
    assert!(at("dead session with work") < at("stuck agent"));
    assert!(at("stuck agent") < at("stranded convoy"));
    assert!(at("stranded convoy") < at("held merge"));
    assert!(at("held merge") < at("Rigs (2)"));
    assert!(at("Rigs (2)") < at("Agents (3, 2 alive)"));
    assert!(at("Agents (3, 2 alive)") < at("Merge queue"));
    assert!(at("Merge queue") < at("Convoys ("));
    assert!(at("Convoys (") < at("Escalations (1 open, 1 acknowledged)  1 HIGH, 1 LOW"));
    assert!(at("Escalations (1 open") < at("Locks (1)"));
    assert!(text.contains("the api rig is down"), "{text}");
    assert!(at("Locks (1)") < at("Queued dispatches (1)"));
    assert!(text.contains("release 1"), "{text}");
    assert!(text.contains("src/auth"), "{text}");
    assert!(
        text.contains(&format!("{dead_agent} holds {dead_bead}")),
        "{text}"
    );
    assert!(text.contains("parked"), "{text}");
    assert!(text.contains("alive work"), "{text}");
    assert!(text.contains("STUCK"), "{text}");
    assert!(text.contains(&queued_bead), "{text}");
    assert_eq!(t.all_refs(), before, "the text view wrote something");

    // From inside a rig and from an agent's sandbox, it is the same town's status.
    let from_rig = t.json(&t.web, "gastown", &["status"]);
    assert_eq!(from_rig["town"]["root"], s["town"]["root"]);
    assert_eq!(from_rig["agents"]["total"], 3);
}

#[test]
fn status_of_a_quiet_lone_repository_has_no_problems() {
    let t = scripted::town("process");
    let s = t.env.json_in(&t.repo(), "gastown", &["status"]);
    assert_eq!(s["town"]["lone_rig"], "repo");
    assert_eq!(s["problems"], Value::Array(vec![]));
    assert_eq!(s["rigs"][0]["name"], "repo");
    assert_eq!(s["agents"]["total"], 0);
    assert_eq!(s["merge_queue"][0]["depth"], 0);
    assert_eq!(s["dispatch_queue"], Value::Array(vec![]));
    let text = support::ok(t.env.run_in(&t.repo(), "gastown", &["status"]), &["status"]);
    assert!(text.contains("No problems."), "{text}");
    assert!(text.contains("a town of one rig, 'repo'"), "{text}");
}

/// The talker runtime: started as a session, it reports a runtime session id through the
/// SessionStart hook (`git agent prime --hook`) and sleeps; run with `--resume ID ...` it
/// prints its arguments and directory and exits.
const TALKER: &str = r#"#!/bin/sh
if [ "$1" = --resume ]; then
  shift
  printf 'talk %s in %s\n' "$*" "$(pwd -P)"
  exit 0
fi
printf '{"session_id":"rt-%s"}' "$(date +%s%N)" | git agent prime --hook > /dev/null 2>&1
exec sleep 600
"#;

const NUX: &str = "repo/polecats/nux";

fn sessions(t: &scripted::Town) -> Vec<Value> {
    t.json(&["seance", NUX])["sessions"]
        .as_array()
        .unwrap()
        .clone()
}

/// Start nux on the talker and wait until its runtime's session id is on entry `n`.
fn start_and_wait(t: &scripted::Town, n: usize) -> String {
    t.ok(&["start", NUX, "--agent", "talker"]);
    let mut id = String::new();
    wait_until(&format!("session {n}'s runtime id"), || {
        let s = sessions(t);
        match s.get(n - 1).and_then(|e| e["runtime_session_id"].as_str()) {
            Some(found) => {
                id = found.to_string();
                true
            }
            None => false,
        }
    });
    id
}

#[test]
fn seance_lists_sessions_after_start_stop_done_and_a_kill() {
    let t = scripted::town("process");
    let talker = t.env.path().join("talker");
    std::fs::write(&talker, TALKER).unwrap();
    std::fs::set_permissions(&talker, std::fs::Permissions::from_mode(0o755)).unwrap();
    t.git(&[
        "config",
        "gastown.runtime.talker.command",
        talker.to_str().unwrap(),
    ]);
    t.git(&["config", "gastown.runtime.talker.prompt", "none"]);
    t.ok(&["add", "polecat", "nux"]);
    assert_eq!(sessions(&t), Vec::<Value>::new());

    // 1: started and stopped.
    let first = start_and_wait(&t, 1);
    assert_eq!(sessions(&t)[0]["outcome"], "running");
    t.ok(&["stop", NUX]);
    // 2: started with work on the hook, which `done` hands in.
    let bead = t.env.create("seance work", &[]);
    t.ok(&["hook", &bead, "--to", NUX]);
    let second = start_and_wait(&t, 2);
    let sandbox = t.sandbox("polecats", "nux");
    std::fs::write(sandbox.join("work.txt"), "work\n").unwrap();
    t.env.git_ok(&sandbox, &["add", "work.txt"]);
    t.env.git_ok(&sandbox, &["commit", "-qm", "work"]);
    support::ok(t.agent_in(&sandbox, &["done", "--json"]), &["done"]);
    t.ok(&["stop", NUX]);
    // 3: killed: its end is not recorded.
    let third = start_and_wait(&t, 3);
    kill_group(t.view(NUX)["session"]["pid"].as_u64().unwrap());
    wait_until("the killed session to read as dead", || {
        t.view(NUX)["session"]["alive"] == false
    });

    let s = sessions(&t);
    assert_eq!(s.len(), 3, "{s:?}");
    let ids: Vec<u64> = s.iter().map(|e| e["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, [1, 2, 3]);
    let outcomes: Vec<&str> = s.iter().map(|e| e["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["stopped", "completed", "exited"]);
    let runtime_ids: Vec<&str> = s
        .iter()
        .map(|e| e["runtime_session_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        runtime_ids,
        [first.as_str(), second.as_str(), third.as_str()]
    );
    assert!(first != second && second != third, "{runtime_ids:?}");
    assert_eq!(s[0]["hook"], Value::Null);
    assert_eq!(s[1]["hook"], bead.as_str());
    for e in &s {
        assert_eq!(e["runtime"], "talker");
        assert!(e["started_at"].is_string());
    }
    assert!(s[0]["ended_at"].is_string() && s[1]["ended_at"].is_string());
    assert!(s[0]["runtime_s"].is_i64() && s[1]["runtime_s"].is_i64());
    assert_eq!(s[2]["ended_at"], Value::Null);
    assert_eq!(s[2]["runtime_s"], Value::Null);

    // The text view, and the same list from inside the sandbox (no address).
    let text = t.ok(&["seance", NUX]);
    for needle in [
        "ID",
        "OUTCOME",
        "stopped",
        "completed",
        "exited",
        &bead,
        &second,
    ] {
        assert!(text.contains(needle), "{needle:?} not in:\n{text}");
    }
    let mine = t.json_in(&sandbox, &["seance"]);
    assert_eq!(mine["sessions"].as_array().unwrap().len(), 3);

    // --talk: no resume arguments for the talker yet: a one-line error, nothing run.
    let (code, err) = t.fails(&["seance", NUX, "--talk", "2"]);
    assert_eq!(code, 1);
    assert!(err.contains("cannot resume"), "{err}");
    let (_, err) = t.fails(&["seance", NUX, "--talk", "9"]);
    assert!(err.contains("no session '9'"), "{err}");

    // With resume (and fork) arguments registered, --talk runs them in the sandbox, by the
    // session's number or by the runtime's session id.
    for value in ["--resume", "{session_id}"] {
        t.git(&["config", "--add", "gastown.runtime.talker.resume", value]);
    }
    t.git(&["config", "gastown.runtime.talker.fork", "--fork-it"]);
    let sandbox_real = std::fs::canonicalize(&sandbox).unwrap();
    let talked = t.ok(&["seance", NUX, "--talk", "2"]);
    assert_eq!(
        talked,
        format!("talk {second} --fork-it in {}\n", sandbox_real.display())
    );
    let talked = t.ok(&["seance", NUX, "--talk", &first]);
    assert!(
        talked.starts_with(&format!("talk {first} --fork-it")),
        "{talked}"
    );
    let planned = t.json(&["seance", NUX, "--talk", "3"]);
    assert_eq!(planned["forked"], true);
    assert_eq!(planned["runtime_session_id"], third.as_str());
    assert_eq!(
        planned["argv"].as_array().unwrap()[1..],
        [
            Value::from("--resume"),
            Value::from(third.as_str()),
            Value::from("--fork-it")
        ]
    );
}

#[test]
fn talk_refuses_a_session_whose_runtime_reported_no_id() {
    let t = scripted::town("process");
    t.ok(&["add", "polecat", "nux"]);
    // The scripted runtime reports no runtime session id.
    t.ok(&["start", NUX, "--agent", "script"]);
    wait_until("the session's prime", || {
        t.out_file("gt-repo-nux.env").exists()
    });
    t.ok(&["stop", NUX]);
    let s = sessions(&t);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0]["outcome"], "stopped");
    let out = t.agent(&["seance", NUX, "--talk", "1"]);
    let (code, err) = support::err(out, &[]);
    assert_eq!(code, 1);
    assert_one_line_error(&err);
    assert!(err.contains("no runtime session id"), "{err}");
}
