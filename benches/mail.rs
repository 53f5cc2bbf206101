//! The mail benchmark: a town (a lone repository) with 50 polecats and N messages (10,000 by
//! default, written through the library in one commit), then whole-process medians of the
//! mail commands agents run most. Run with `cargo bench --bench mail` (options after `--`):
//!
//!   --messages 10000   messages in the town
//!   --runs 15          timed runs per command (the median is printed)
//!   --dir DIR          where to build the town (default: target/tmp)
//!   --keep             leave the town there afterwards (to look into a figure)
//!
//! Each polecat receives N/50 messages; the overseer is copied on one in ten.

#[path = "support/mod.rs"]
#[allow(unused_imports)] // the store benchmark's generator is not needed here
mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use gastown::bead::record::Stamp;
use gastown::mail::{build_record, message_path, Outgoing};
use gastown::store::{Actor, Outcome, Store};
use support::{median, ms, Hermetic};

const POLECATS: usize = 50;

fn main() {
    let mut messages = 10_000;
    let mut runs = 15;
    let mut dir: Option<PathBuf> = None;
    let mut keep = false;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--messages" => messages = value.parse().expect("--messages takes a number"),
            "--runs" => runs = value.parse().expect("--runs takes a number"),
            "--dir" => dir = Some(PathBuf::from(value)),
            "--keep" => {
                keep = true;
                i += 1;
                continue;
            }
            "--bench" => {
                i += 1;
                continue;
            }
            other => panic!("unknown option {other}"),
        }
        i += 2;
    }
    let base = dir.unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tmp"));
    let root = base.join(format!("mail-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let h = Hermetic::new(root.join("home"));
    let repo = root.join("town");
    std::fs::create_dir_all(&repo).unwrap();
    h.git(&repo, &["init", "-q", "-b", "main"]);
    h.git(&repo, &["commit", "-q", "--allow-empty", "-m", "initial"]);
    let started = std::time::Instant::now();
    seed(&repo, messages);
    eprintln!(
        "built a town with {messages} messages in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let me = "town/polecats/p0";
    let mail = |agent: &str, args: &[&str]| -> Duration {
        let mut cmd = h.command(support::tool("git-mail"), &repo);
        cmd.args(args).env("GT_AGENT", agent);
        h.timed(cmd).1
    };
    // Build the index once: what is timed is the steady state.
    let first = mail(me, &["inbox", "--json"]);
    eprintln!(
        "first inbox (index built from scratch): {:.1} ms",
        ms(first)
    );
    let timed = |f: &dyn Fn() -> Duration| -> f64 {
        let samples: Vec<f64> = (0..runs).map(|_| ms(f())).collect();
        median(&samples)
    };
    // What any process costs on this machine now (exec, loading): the floor under each figure.
    let floor = timed(&|| mail(me, &["--version"]));
    let inbox = timed(&|| mail(me, &["inbox", "--json"]));
    let inbox_overseer = timed(&|| mail("overseer", &["inbox", "--json"]));
    let check = timed(&|| mail(me, &["check", "--inject"]));
    let send = timed(&|| {
        mail(
            "overseer",
            &[
                "send",
                "town/polecats/p1",
                "-s",
                "status?",
                "-m",
                "how is it going",
            ],
        )
    });
    let after_send = median(
        &(0..runs)
            .map(|_| {
                mail("overseer", &["send", me, "-s", "ping"]);
                ms(mail(me, &["inbox", "--json"]))
            })
            .collect::<Vec<_>>(),
    );
    let per = messages / POLECATS;
    println!(
        "mail benchmark: {messages} messages in the town, {runs} runs each (whole-process medians)"
    );
    println!("  git-mail --version (process floor)    {floor:7.2} ms");
    println!("  mail send (to one polecat)            {send:7.2} ms");
    println!("  inbox --json ({per} messages)          {inbox:7.2} ms");
    println!(
        "  inbox --json (overseer, {} messages)  {inbox_overseer:7.2} ms",
        messages / 10
    );
    println!(
        "  inbox --json right after a send       {after_send:7.2} ms  (index refreshed by diff)"
    );
    println!("  check --inject (nothing new)          {check:7.2} ms");
    if keep {
        eprintln!("kept the town in {}", repo.display());
    } else {
        let _ = std::fs::remove_dir_all(&root);
    }
}

/// 50 polecat records (one commit) and `n` messages (one commit), through the library.
fn seed(repo: &Path, n: usize) {
    let store = Store::open(repo).unwrap();
    let actor = Actor {
        name: "bench".into(),
        email: "bench@example.com".into(),
    };
    store
        .write("beads", &actor, |snap, batch| {
            let stamp = Stamp(batch.clock, actor.name.clone());
            for p in 0..POLECATS {
                let address = format!("town/polecats/p{p}");
                let mut record = gastown::records::named_record(&address);
                record.set("role", serde_json::json!("polecat"), &stamp);
                record.set("state", serde_json::json!("idle"), &stamp);
                gastown::records::put(batch, &format!("agents/polecats/p{p}.json"), &record);
            }
            gastown::bead::ops::carry_count(snap, batch, 0);
            Ok(Outcome::Commit {
                message: "bench: polecats".into(),
                value: (),
            })
        })
        .unwrap();
    store
        .write(gastown::mail::COLLECTION, &actor, |_snap, batch| {
            let stamp = Stamp(batch.clock, actor.name.clone());
            for i in 0..n {
                let id = gastown::bead::id::hash_id("m", &format!("bench-{i}"), 0, 10);
                let out = Outgoing {
                    to: vec![format!("town/polecats/p{}", i % POLECATS)],
                    cc: if i % 10 == 0 {
                        vec!["overseer".into()]
                    } else {
                        vec![]
                    },
                    subject: format!("message {i} about the work"),
                    body: "Some text a person or an agent wrote, a few lines long.\nIssue: gt-1\n"
                        .into(),
                    priority: Some(["urgent", "high", "normal", "low"][i % 4].into()),
                    ..Outgoing::default()
                };
                let mut record = build_record(&id, "town/witness", &out, &id, None, &stamp);
                if i % 3 == 0 {
                    record.set_label(&format!("read:{}", out.to[0]), true, &stamp);
                }
                gastown::records::put(batch, &message_path(&id), &record);
            }
            Ok(Outcome::Commit {
                message: format!("bench: {n} messages"),
                value: (),
            })
        })
        .unwrap();
}
