//! `git escalate`: records, routing by severity (mail read back with `git mail inbox` as
//! the mayor and the overseer), the notify command, `stale`, bad input, and the merge
//! queue's escalations, on a lone repository (a town of one rig).

use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{self, assert_refused, Env};

fn town() -> Env {
    let env = Env::new();
    env.bead_ok(&["init", "--prefix", "gt"]);
    env
}

fn esc(env: &Env, args: &[&str]) -> Output {
    env.run_in(&env.repo(), "escalate", args)
}

fn esc_json(env: &Env, args: &[&str]) -> Value {
    env.json_in(&env.repo(), "escalate", args)
}

/// Raise one; its JSON.
fn raise(env: &Env, severity: &str, summary: &str, extra: &[&str]) -> Value {
    let mut args = vec!["-s", severity, summary];
    args.extend_from_slice(extra);
    esc_json(env, &args)
}

/// The mailbox's messages (`git mail inbox --json --actor MAILBOX`).
fn inbox(env: &Env, mailbox: &str) -> Vec<Value> {
    let v = env.json_in(&env.repo(), "mail", &["inbox", "--all", "--actor", mailbox]);
    v.as_array().unwrap().clone()
}

fn tips(env: &Env) -> (Option<String>, Option<String>) {
    (
        env.ref_tip(&env.repo(), "refs/gastown/beads"),
        env.ref_tip(&env.repo(), "refs/gastown/mail"),
    )
}

/// An executable script in the temporary root; its path.
fn script(env: &Env, name: &str, body: &str) -> String {
    use std::os::unix::fs::PermissionsExt;
    let path = env.write(name, &format!("#!/bin/sh\n{body}\n"));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.to_str().unwrap().to_string()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

#[test]
fn an_escalation_is_created_listed_shown_acked_and_closed() {
    let env = town();
    let bead = env.create("flaky login test", &[]);
    let before = env.commits(&env.repo(), "beads");
    let high = raise(
        &env,
        "HIGH",
        "tests hang on CI",
        &["-m", "tried twice", "--bead", &bead, "--category", "failed"],
    );
    assert_eq!(high["severity"], "HIGH");
    assert_eq!(high["priority"], 1);
    assert_eq!(high["status"], "open");
    assert_eq!(high["bead"], bead.as_str());
    assert_eq!(high["category"], "failed");
    assert_eq!(high["body"], "tried twice");
    assert_eq!(high["created"], true);
    assert_eq!(high["escalated_by"], "Test User");
    assert!(id(&high).starts_with("esc-"), "{high}");
    // The record, then the delivery: two commits, each naming the escalation.
    assert_eq!(env.commits(&env.repo(), "beads"), before + 2);
    let log = env.git_ok(
        &env.repo(),
        &["log", "--format=%s", "-2", "refs/gastown/beads"],
    );
    assert!(
        log.contains(&format!("escalate {} HIGH: tests hang on CI", id(&high))),
        "{log}"
    );
    assert!(
        log.contains(&format!("escalation routed: {}", id(&high))),
        "{log}"
    );

    // LOW has no routes: one commit, its (empty) delivery recorded with it.
    let before = env.commits(&env.repo(), "beads");
    let low = raise(&env, "low", "docs are thin", &[]);
    assert_eq!(
        (low["severity"].as_str(), low["priority"].as_u64()),
        (Some("LOW"), Some(3))
    );
    assert_eq!(env.commits(&env.repo(), "beads"), before + 1);
    assert_eq!(low["deliveries"][0]["routes"], serde_json::json!([]));
    // Default severity: MEDIUM (P2), as Gas Town's.
    let medium = esc_json(
        &env,
        &["a", "decision", "is", "needed", "--category", "decision"],
    );
    assert_eq!(
        (medium["severity"].as_str(), medium["priority"].as_u64()),
        (Some("MEDIUM"), Some(2))
    );
    assert_eq!(medium["summary"], "a decision is needed");

    let list = esc_json(&env, &["list"]);
    let order: Vec<String> = list.as_array().unwrap().iter().map(id).collect();
    assert_eq!(
        order,
        [id(&high), id(&medium), id(&low)],
        "most severe first"
    );
    let only_low = esc_json(&env, &["list", "--severity", "LOW"]);
    assert_eq!(only_low.as_array().unwrap().len(), 1);
    assert_eq!(only_low[0]["id"], low["id"]);

    let shown = esc_json(&env, &["show", &id(&high)[..8]]);
    assert_eq!(shown["id"], high["id"]);
    assert_eq!(
        shown["deliveries"][0]["mailed_to"],
        serde_json::json!(["mayor", "overseer"])
    );
    let text = support::ok(esc(&env, &["show", &id(&high)]), &["show"]);
    assert!(
        text.contains("tests hang on CI") && text.contains("tried twice"),
        "{text}"
    );
    assert!(text.contains(&bead), "{text}");

    let acked = esc_json(&env, &["ack", &id(&high)]);
    assert_eq!(
        (acked["status"].as_str(), acked["changed"].as_bool()),
        (Some("acked"), Some(true))
    );
    assert_eq!(acked["acked_by"], "Test User");
    let tip = tips(&env);
    let again = esc_json(&env, &["ack", &id(&high)]);
    assert_eq!(again["changed"], false);
    assert_eq!(tips(&env), tip, "a second ack writes nothing");
    let unacked = esc_json(&env, &["list", "--unacked"]);
    assert!(unacked
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["id"] != high["id"]));
    assert_eq!(unacked.as_array().unwrap().len(), 2);

    let closed = esc_json(
        &env,
        &["close", &id(&high), "--reason", "the runner was restarted"],
    );
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["closed_reason"], "the runner was restarted");
    assert_eq!(esc_json(&env, &["list"]).as_array().unwrap().len(), 2);
    assert_eq!(
        esc_json(&env, &["list", "--all"]).as_array().unwrap().len(),
        3
    );
    let text = support::ok(esc(&env, &["list"]), &["list"]);
    assert_eq!(text.lines().count(), 2, "{text}");
    env.assert_fsck_clean(&env.repo());
}

#[test]
fn routing_follows_severity_to_the_mayor_and_the_overseer() {
    let env = town();
    raise(&env, "LOW", "a low one", &[]);
    assert!(
        env.ref_tip(&env.repo(), "refs/gastown/mail").is_none(),
        "LOW sends nothing"
    );

    let medium = raise(&env, "MEDIUM", "a medium one", &[]);
    let mayor = inbox(&env, "mayor");
    assert_eq!(mayor.len(), 1);
    assert_eq!(mayor[0]["subject"], "[MEDIUM] a medium one");
    assert_eq!(mayor[0]["type"], "escalation");
    assert_eq!(mayor[0]["priority"], "normal");
    assert!(
        inbox(&env, "overseer").is_empty(),
        "MEDIUM goes to the mayor only"
    );
    assert_eq!(medium["deliveries"][0]["mail"], mayor[0]["id"]);

    let high = raise(&env, "HIGH", "a high one", &["-m", "details"]);
    let mayor = inbox(&env, "mayor");
    let overseer = inbox(&env, "overseer");
    assert_eq!((mayor.len(), overseer.len()), (2, 1));
    assert_eq!(overseer[0]["subject"], "[HIGH] a high one");
    assert_eq!(overseer[0]["priority"], "high");
    assert_eq!(
        overseer[0]["from"], "overseer",
        "from the person at the keyboard"
    );
    // An agent's escalation is from its mailbox (GT_AGENT).
    let mut cmd = env.command(
        support::bin_dir().join("git-escalate").to_str().unwrap(),
        &env.repo(),
    );
    let out = cmd
        .env("GT_AGENT", "repo/witness")
        .args(["-s", "MEDIUM", "from the witness"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(inbox(&env, "mayor")[0]["from"], "repo/witness");
    // The message carries the escalation as its payload, and says how to acknowledge it.
    let message = env.json_in(
        &env.repo(),
        "mail",
        &[
            "read",
            overseer[0]["id"].as_str().unwrap(),
            "--actor",
            "overseer",
        ],
    );
    assert_eq!(message["payload"]["id"], high["id"]);
    assert!(message["body"]
        .as_str()
        .unwrap()
        .contains(&format!("git escalate ack {}", id(&high))));
    assert!(message["body"].as_str().unwrap().contains("details"));

    // CRITICAL also runs the notify command; none is set: the mail still goes, the
    // failure is recorded and reported, the command succeeds.
    let out = esc(&env, &["-s", "CRITICAL", "prod is down", "--json"]);
    let c: support::Captured = out.into();
    assert_eq!(c.code, 0, "{}", c.stderr);
    let critical: Value = serde_json::from_str(&c.stdout).unwrap();
    assert_eq!(critical["priority"], 0);
    let d = &critical["deliveries"][0];
    assert_eq!(
        d["routes"],
        serde_json::json!(["mail:mayor", "mail:overseer", "notify"])
    );
    assert!(
        d["errors"][0]
            .as_str()
            .unwrap()
            .contains("escalation.notify_command is not set"),
        "{d}"
    );
    assert_eq!(inbox(&env, "overseer")[0]["priority"], "urgent");

    // Routes are town settings: LOW to the deacon, MEDIUM recorded only.
    env.config_set("escalation.routes.low", "mail:deacon");
    env.config_set("escalation.routes.medium", "");
    raise(&env, "LOW", "for the deacon", &[]);
    let deacon = inbox(&env, "deacon");
    assert_eq!(deacon.len(), 1);
    assert_eq!(deacon[0]["subject"], "[LOW] for the deacon");
    let mails = inbox(&env, "mayor").len();
    raise(&env, "MEDIUM", "recorded only now", &[]);
    assert_eq!(inbox(&env, "mayor").len(), mails);
    // An address that does not resolve is recorded, not fatal.
    env.config_set(
        "escalation.routes.low",
        "mail:nowhere/polecats/ghost,mail:deacon",
    );
    let partly = raise(&env, "LOW", "partly routed", &[]);
    assert!(
        partly["deliveries"][0]["errors"][0]
            .as_str()
            .unwrap()
            .contains("nowhere"),
        "{partly}"
    );
    assert_eq!(
        partly["deliveries"][0]["mailed_to"],
        serde_json::json!(["deacon"])
    );
}

#[test]
fn the_notify_command_gets_the_json_on_stdin_and_no_shell_sees_the_text() {
    let env = town();
    let out = env.path().join("notified.json");
    let seen_id = env.path().join("notified.id");
    let notifier = script(
        &env,
        "bin/notify",
        &format!(
            "cat > '{}'\nprintf %s \"$GT_ESCALATION_ID\" > '{}'",
            out.display(),
            seen_id.display()
        ),
    );
    env.config_set("escalation.notify_command", &notifier);
    let nasty =
        "db down $(touch PWNED) `touch PWNED2`; touch PWNED3 | rm -rf / & echo \"x\" > PWNED4";
    let critical = raise(&env, "CRITICAL", nasty, &[]);
    let notify = &critical["deliveries"][0]["notify"];
    assert_eq!(notify["status"], "ok", "{critical}");
    assert_eq!(notify["command"], serde_json::json!([notifier]));
    let sent: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(sent["id"], critical["id"]);
    assert_eq!(sent["summary"], nasty, "the text arrives exactly, as data");
    assert_eq!(sent["severity"], "CRITICAL");
    assert_eq!(std::fs::read_to_string(&seen_id).unwrap(), id(&critical));
    for dir in [env.repo(), env.path().to_path_buf(), env.path().join("bin")] {
        for f in ["PWNED", "PWNED2", "PWNED3", "PWNED4"] {
            assert!(
                !dir.join(f).exists(),
                "{f} in {}: a shell ran the text",
                dir.display()
            );
        }
    }

    // A failing command is recorded; the escalation stands and the command exits 0.
    let failing = script(&env, "bin/failing", "echo pager says no >&2\nexit 3");
    env.config_set("escalation.notify_command", &failing);
    let c: support::Captured = esc(&env, &["-s", "CRITICAL", "second"]).into();
    assert_eq!(c.code, 0, "{}", c.stderr);
    assert!(
        c.stderr.contains("notify command failed (exit 3)"),
        "{}",
        c.stderr
    );
    let shown = esc_json(&env, &["list", "--severity", "CRITICAL"]);
    let second = shown
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["summary"] == "second")
        .unwrap();
    let n = &second["deliveries"][0]["notify"];
    assert_eq!(
        (n["status"].as_str(), n["exit_status"].as_i64()),
        (Some("failed"), Some(3))
    );
    assert!(n["output"].as_str().unwrap().contains("pager says no"));

    // A hanging one is killed at the timeout.
    let hanging = script(&env, "bin/hanging", "sleep 30");
    env.config_set("escalation.notify_command", &hanging);
    env.config_set("escalation.notify_timeout", "1s");
    let started = Instant::now();
    let slow = raise(&env, "CRITICAL", "third", &[]);
    assert!(started.elapsed() < Duration::from_secs(15));
    assert_eq!(slow["deliveries"][0]["notify"]["status"], "timeout");
    assert_eq!(inbox(&env, "overseer").len(), 3, "mail went out every time");
}

#[test]
fn stale_bumps_one_level_routes_the_new_severity_and_stops_after_max() {
    let env = town();
    env.config_set("escalation.stale_threshold", "1s");
    let low = raise(&env, "LOW", "nobody looked", &[]);
    let acked = raise(&env, "LOW", "someone has this", &[]);
    esc_json(&env, &["ack", &id(&acked)]);
    // Nothing is old enough: nothing written, nothing sent.
    let tip = tips(&env);
    let report = esc_json(&env, &["stale"]);
    assert_eq!(report["bumped"], serde_json::json!([]));
    assert_eq!(report["checked"], 1, "the acked one is not looked at");
    assert_eq!(tips(&env), tip);

    std::thread::sleep(Duration::from_millis(1100));
    let dry = esc_json(&env, &["stale", "--dry-run"]);
    assert_eq!(dry["bumped"][0]["to"], "MEDIUM");
    assert_eq!(tips(&env), tip, "a dry run writes nothing");
    let report = esc_json(&env, &["stale"]);
    let bumped = report["bumped"].as_array().unwrap();
    assert_eq!(bumped.len(), 1, "{report}");
    assert_eq!(
        (bumped[0]["from"].as_str(), bumped[0]["to"].as_str()),
        (Some("LOW"), Some("MEDIUM"))
    );
    assert_eq!(bumped[0]["reescalation_count"], 1);
    let mayor = inbox(&env, "mayor");
    assert_eq!(mayor.len(), 1, "MEDIUM routes to the mayor");
    assert_eq!(mayor[0]["subject"], "[MEDIUM, re-escalated] nobody looked");
    assert!(inbox(&env, "overseer").is_empty());
    // Bumped just now: not again until the threshold passes once more.
    let tip = tips(&env);
    assert_eq!(esc_json(&env, &["stale"])["bumped"], serde_json::json!([]));
    assert_eq!(tips(&env), tip);

    std::thread::sleep(Duration::from_millis(1100));
    let report = esc_json(&env, &["stale"]);
    assert_eq!(report["bumped"][0]["to"], "HIGH", "{report}");
    assert_eq!(inbox(&env, "mayor").len(), 2);
    assert_eq!(inbox(&env, "overseer").len(), 1);

    // Two bumps is the default maximum.
    std::thread::sleep(Duration::from_millis(1100));
    let tip = tips(&env);
    let report = esc_json(&env, &["stale"]);
    assert_eq!(report["bumped"], serde_json::json!([]));
    assert_eq!(report["at_max"], serde_json::json!([id(&low)]));
    assert_eq!(tips(&env), tip);

    let shown = esc_json(&env, &["show", &id(&low)]);
    assert_eq!(shown["severity"], "HIGH");
    assert_eq!(shown["priority"], 1);
    assert_eq!(shown["original_severity"], "LOW");
    assert_eq!(shown["reescalation_count"], 2);
    assert_eq!(shown["last_reescalated_by"], "Test User");
    let bumps: Vec<(&str, &str)> = shown["bumps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["from"].as_str().unwrap(), b["to"].as_str().unwrap()))
        .collect();
    assert_eq!(bumps, [("LOW", "MEDIUM"), ("MEDIUM", "HIGH")]);
    assert_eq!(
        shown["deliveries"].as_array().unwrap().len(),
        3,
        "one routing per severity"
    );
    assert_eq!(esc_json(&env, &["show", &id(&acked)])["severity"], "LOW");
}

#[test]
fn a_routing_redone_after_a_crash_sends_no_second_message_and_keys_make_create_idempotent() {
    use gastown::escalate::{EscalationSpec, Escalations, Severity};
    let env = town();
    let medium = raise(&env, "MEDIUM", "will be re-routed", &[]);
    let mail = medium["deliveries"][0]["mail"]
        .as_str()
        .unwrap()
        .to_string();
    // As if killed after the mail's write and before the delivery's: drop the record of it.
    let store = gastown::store::Store::open(&env.repo()).unwrap();
    let actor = gastown::store::Actor {
        name: "test".into(),
        email: "test@example.com".into(),
    };
    let path = gastown::escalate::path_of(&id(&medium));
    store
        .write("beads", &actor, |snap, batch| {
            let mut record = gastown::records::read(snap, &path)?.unwrap();
            assert!(record.comments.remove("delivery/000").is_some());
            gastown::records::put(batch, &path, &record);
            gastown::bead::ops::carry_count(snap, batch, 0);
            Ok(gastown::store::Outcome::Commit {
                message: "simulate a crash".into(),
                value: (),
            })
        })
        .unwrap();
    let text = support::ok(esc(&env, &["show", &id(&medium)]), &["show"]);
    assert!(text.contains("not recorded yet"), "{text}");
    let report = esc_json(&env, &["stale"]);
    assert_eq!(
        report["repaired"][0]["escalation"], medium["id"],
        "{report}"
    );
    assert_eq!(
        report["repaired"][0]["mail"],
        mail.as_str(),
        "the same message"
    );
    assert_eq!(inbox(&env, "mayor").len(), 1, "sent once");
    // Repaired: the next stale has nothing to do.
    let tip = tips(&env);
    esc_json(&env, &["stale"]);
    assert_eq!(tips(&env), tip);

    // The service as patrol calls it: a key makes the escalation once.
    let town = gastown::town::Town::discover(&env.repo()).unwrap();
    let escalations = Escalations::new(&town);
    let spec = EscalationSpec {
        severity: Severity::High,
        summary: "polecat nux died 4 times".into(),
        category: Some("lifecycle".into()),
        from: Some("deacon".into()),
        key: Some("lifecycle/repo/polecats/nux/deaths-4".into()),
        ..Default::default()
    };
    let first = escalations.create(&actor, &spec).unwrap();
    assert!(first.created);
    let tip = tips(&env);
    let second = escalations.create(&actor, &spec).unwrap();
    assert!(!second.created);
    assert_eq!(second.escalation.id, first.escalation.id);
    assert_eq!(tips(&env), tip, "nothing written the second time");
    assert_eq!(inbox(&env, "overseer").len(), 1);
    assert_eq!(inbox(&env, "overseer")[0]["from"], "deacon");
    // A stale pass with nothing due writes nothing.
    let report = escalations.stale(&actor).unwrap();
    assert!(report.bumped.is_empty() && report.repaired.is_empty());
    assert_eq!(tips(&env), tip);
}

#[test]
fn bad_input_is_one_line_and_changes_nothing() {
    let env = town();
    let e = raise(&env, "MEDIUM", "exists", &[]);
    esc_json(&env, &["close", &id(&e), "--reason", "done"]);
    let tip = tips(&env);
    let long = "x".repeat(181);
    let closed = id(&e);
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (vec!["show", "esc-nope"], vec!["no escalation 'esc-nope'"]),
        (vec!["ack", "nope"], vec!["no escalation 'nope'"]),
        (
            vec!["close", "../x", "--reason", "r"],
            vec!["no escalation '../x'"],
        ),
        (
            vec!["-s", "URGENT", "x"],
            vec!["unknown severity 'URGENT'", "CRITICAL"],
        ),
        (
            vec!["-s", "HIGH", "x", "--category", "bored"],
            vec!["unknown category 'bored'", "gate_timeout"],
        ),
        (vec!["-s", "HIGH", "  "], vec!["summary is empty"]),
        (vec!["-s", "HIGH", "two\nlines"], vec!["one line"]),
        (vec!["-s", "HIGH", &long], vec!["at most 180"]),
        (
            vec!["-s", "HIGH", "x", "--bead", "gt-nope"],
            vec!["--bead", "gt-nope"],
        ),
        (
            vec!["close", &closed, "--reason", "again"],
            vec!["already closed"],
        ),
        (
            vec!["close", "esc-nope", "--reason", " "],
            vec!["reason is empty"],
        ),
        (vec!["ack", &closed], vec!["is closed"]),
        (
            vec!["list", "--severity", "meh"],
            vec!["unknown severity 'meh'"],
        ),
    ];
    for (args, needles) in cases {
        assert_refused(esc(&env, &args), &needles);
        assert_eq!(tips(&env), tip, "{args:?} changed something");
    }
    // --json errors are one JSON object.
    let out = esc(&env, &["show", "nope", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kind"], "invalid");
    // Usage errors exit 2.
    assert_eq!(esc(&env, &["close", &id(&e)]).status.code(), Some(2));
    // Without a store: a clear line, nothing created.
    let bare = Env::new();
    assert_refused(
        bare.run_in(&bare.repo(), "escalate", &["-s", "LOW", "x"]),
        &["git bead init"],
    );
    assert!(bare.ref_tip(&bare.repo(), "refs/gastown/beads").is_none());
}

#[test]
fn the_merge_queue_escalates_after_max_retries_and_on_a_gate_timeout() {
    let env = town();
    env.config_set("merge_queue.gates.test", "test ! -e BAD");
    env.config_set("merge_queue.max_retries", "2");
    let bead = env.create("flaky", &[]);
    env.branch_with("bad", "main", &[("BAD", "x\n")]);
    let (code, v) = env.mq_json(&["submit", "bad", "--bead", &bead]);
    assert_eq!(code, 0, "{v}");
    let mr = id(&v);
    let (_, report) = env.mq_json(&["run"]);
    assert_eq!(report["decisions"][0]["outcome"], "rejected");
    assert!(
        report["decisions"][0].get("escalation").is_none(),
        "a plain failure is no escalation"
    );
    assert!(esc_json(&env, &["list"]).as_array().unwrap().is_empty());
    env.mq_json(&["retry", &mr]);
    let (_, report) = env.mq_json(&["run"]);
    let d = &report["decisions"][0];
    assert_eq!(d["outcome"], "escalated", "{report}");
    let escalation = d["escalation"]
        .as_str()
        .unwrap_or_else(|| panic!("{report}"));
    let e = esc_json(&env, &["show", escalation]);
    assert_eq!(e["severity"], "HIGH");
    assert_eq!(e["category"], "failed");
    assert_eq!(e["mr"], mr.as_str());
    assert_eq!(e["bead"], bead.as_str());
    assert_eq!(e["rig"], "repo");
    assert_eq!(e["from"], "repo/refinery");
    assert!(e["summary"].as_str().unwrap().contains(&mr), "{e}");
    assert!(
        e["summary"].as_str().unwrap().contains("rejected 2 times"),
        "{e}"
    );
    assert!(e["body"].as_str().unwrap().contains("bad -> main"), "{e}");
    let overseer = inbox(&env, "overseer");
    assert_eq!(overseer.len(), 1);
    assert_eq!(overseer[0]["from"], "repo/refinery");
    assert_eq!(inbox(&env, "mayor").len(), 1);

    env.config_set(
        "merge_queue.gates.slow",
        "if [ -e SLOW ]; then sleep 30; fi",
    );
    env.config_set("merge_queue.gate_timeouts.slow", "1s");
    env.config_set("merge_queue.max_retries", "5");
    env.branch_with("slow", "main", &[("SLOW", "x\n")]);
    let (_, v) = env.mq_json(&["submit", "slow"]);
    let slow = id(&v);
    let (_, report) = env.mq_json(&["run"]);
    let d = &report["decisions"][0];
    assert_eq!(d["outcome"], "rejected", "{report}");
    let e = esc_json(
        &env,
        &[
            "show",
            d["escalation"]
                .as_str()
                .unwrap_or_else(|| panic!("{report}")),
        ],
    );
    assert_eq!(
        (e["severity"].as_str(), e["category"].as_str()),
        (Some("MEDIUM"), Some("gate_timeout"))
    );
    assert_eq!(e["mr"], slow.as_str());
    assert!(e["summary"].as_str().unwrap().contains("timed out"), "{e}");
    assert_eq!(inbox(&env, "mayor").len(), 2);
    assert_eq!(inbox(&env, "overseer").len(), 1, "MEDIUM: the mayor only");
}

#[test]
fn in_a_town_escalations_live_in_the_town_and_beads_are_found_in_their_rigs() {
    let env = Env::new();
    let town = env.path().join("town");
    support::ok(
        env.run_in(env.path(), "gastown", &["init", town.to_str().unwrap()]),
        &["init"],
    );
    let repo = env.repo();
    support::ok(
        env.run_in(
            &town,
            "gastown",
            &[
                "rig",
                "add",
                "web",
                repo.to_str().unwrap(),
                "--prefix",
                "wb",
            ],
        ),
        &["rig add"],
    );
    let bead = env.create("broken build", &[]);
    assert!(bead.starts_with("wb-"), "{bead}");
    let rig_tip = env.ref_tip(&repo, "refs/gastown/beads");
    // Raised from the rig, about the rig's bead: the record is the town's.
    let e = env.json_in(
        &repo,
        "escalate",
        &["-s", "HIGH", "build broken", "--bead", &bead],
    );
    assert_eq!(e["bead"], bead.as_str());
    assert_eq!(e["rig"], "web");
    assert_eq!(
        env.ref_tip(&repo, "refs/gastown/beads"),
        rig_tip,
        "nothing in the rig's store"
    );
    let from_town = env.json_in(&town, "escalate", &["list"]);
    assert_eq!(from_town[0]["id"], e["id"]);
    let overseer = env.json_in(&town, "mail", &["inbox", "--actor", "overseer"]);
    assert_eq!(overseer[0]["subject"], "[HIGH] build broken");
    // From the town, the bead is found in its rig too.
    let again = env.json_in(
        &town,
        "escalate",
        &["-s", "LOW", "still broken", "--bead", &bead],
    );
    assert_eq!(again["rig"], "web");
}

#[test]
fn a_pass_raises_the_escalation_a_killed_pass_left_unraised() {
    let env = town();
    env.config_set("merge_queue.gates.test", "true");
    env.branch_with("lost", "main", &[("lost.txt", "x\n")]);
    let (_, v) = env.mq_json(&["submit", "lost"]);
    let mr = id(&v);
    // As a pass killed right after its rejection write leaves it: rejected, escalated, and
    // no escalation in the town.
    let store = gastown::store::Store::open(&env.repo()).unwrap();
    let actor = gastown::store::Actor {
        name: "test".into(),
        email: "test@example.com".into(),
    };
    let path = gastown::mq::record::path_of(&mr);
    store
        .write("beads", &actor, |snap, batch| {
            let mut record = gastown::records::read(snap, &path)?.unwrap();
            let stamp = gastown::bead::record::Stamp(batch.clock, "test".into());
            record.set("status", serde_json::json!("rejected"), &stamp);
            record.set("escalated", serde_json::json!(true), &stamp);
            record.set(
                "reason",
                serde_json::json!("gate 'test' failed (exit 1)"),
                &stamp,
            );
            gastown::records::put(batch, &path, &record);
            gastown::bead::ops::carry_count(snap, batch, 0);
            Ok(gastown::store::Outcome::Commit {
                message: "simulate a killed pass".into(),
                value: (),
            })
        })
        .unwrap();
    let (_, report) = env.mq_json(&["run"]);
    let repaired = report["escalations_repaired"]
        .as_array()
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(repaired.len(), 1, "{report}");
    let e = esc_json(&env, &["show", repaired[0].as_str().unwrap()]);
    assert_eq!(
        (e["category"].as_str(), e["mr"].as_str()),
        (Some("failed"), Some(mr.as_str()))
    );
    assert_eq!(inbox(&env, "overseer").len(), 1);
    // Raised once: the next pass finds it.
    let (_, report) = env.mq_json(&["run"]);
    assert!(report.get("escalations_repaired").is_none(), "{report}");
    assert_eq!(esc_json(&env, &["list"]).as_array().unwrap().len(), 1);
}
