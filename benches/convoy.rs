//! The convoy benchmark: a town with 3 rigs, 500 beads spread over them (imported as bd
//! JSONL, a fifth closed and a fifth assigned), one convoy tracking all 500; then
//! whole-process medians of `git convoy show` (text and `--json`) and `list`. Run with
//! `cargo bench --bench convoy` (options after `--`):
//!
//!   --beads 500   beads in the convoy
//!   --runs 15     timed runs per command (the median is printed)
//!   --dir DIR     where to build the town (default: target/tmp)

#[path = "support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::{median, ms, option_pairs, Hermetic};

const RIGS: [(&str, &str); 3] = [("web", "wb"), ("api", "ap"), ("lib", "lb")];

fn main() {
    let mut beads = 500;
    let mut runs = 15;
    let mut dir: Option<PathBuf> = None;
    for (k, v) in option_pairs() {
        match k.as_str() {
            "--beads" => beads = v.parse().expect("--beads takes a number"),
            "--runs" => runs = v.parse().expect("--runs takes a number"),
            "--dir" => dir = Some(PathBuf::from(v)),
            other => panic!("unknown option {other}"),
        }
    }
    let base = dir.unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tmp"));
    let root = base.join(format!("convoy-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let h = Hermetic::new(root.join("home"));
    let town = root.join("town");
    h.run("gastown", &root, "bench", &["init", town.to_str().unwrap()]);
    let mut ids = Vec::new();
    for (r, (name, prefix)) in RIGS.iter().enumerate() {
        let repo = root.join(name);
        std::fs::create_dir_all(&repo).unwrap();
        h.git(&repo, &["init", "-q", "-b", "main"]);
        h.git(&repo, &["commit", "-q", "--allow-empty", "-m", "initial"]);
        h.run(
            "gastown",
            &town,
            "bench",
            &[
                "rig",
                "add",
                name,
                repo.to_str().unwrap(),
                "--prefix",
                prefix,
            ],
        );
        let mut jsonl = String::new();
        for i in (r..beads).step_by(RIGS.len()) {
            let id = format!("{prefix}-b{i:04}");
            let status = match i % 5 {
                0 => "closed",
                1 => "in_progress",
                _ => "open",
            };
            let mut bead = serde_json::json!({
                "id": id, "title": format!("convoy work item {i}"), "status": status,
                "priority": i % 4, "issue_type": "task",
                "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
            });
            if i % 5 == 1 {
                bead["assignee"] = serde_json::json!(format!("{name}/polecats/p{}", i % 7));
            }
            if status == "closed" {
                bead["closed_at"] = serde_json::json!("2026-01-02T00:00:00Z");
            }
            jsonl.push_str(&format!("{bead}\n"));
            ids.push(id);
        }
        let file = root.join(format!("{name}.jsonl"));
        std::fs::write(&file, jsonl).unwrap();
        h.run("bead", &repo, "bench", &["import", file.to_str().unwrap()]);
        // Build each rig's index once: what is timed is the steady state.
        h.run("bead", &repo, "bench", &["list", "--json"]);
    }
    let mut args = vec!["create".to_string(), "The big one".to_string()];
    args.extend(ids.iter().cloned());
    args.push("--json".into());
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let (out, _) = h.run("convoy", &town, "bench", &argv);
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    let convoy = |args: &[&str]| -> Duration { h.run("convoy", &town, "bench", args).1 };
    let first = convoy(&["show", &id, "--json"]);
    let (out, _) = h.run("convoy", &town, "bench", &["show", &id, "--json"]);
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["progress"]["total"], beads, "every bead tracked");
    assert!(
        shown["tracked"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["status"] != "unknown" && b["status"] != "missing"),
        "every bead found in its rig"
    );
    let timed = |f: &dyn Fn() -> Duration| -> f64 {
        let samples: Vec<f64> = (0..runs).map(|_| ms(f())).collect();
        median(&samples)
    };
    let floor = timed(&|| convoy(&["--version"]));
    let show_json = timed(&|| convoy(&["show", &id, "--json"]));
    let show_text = timed(&|| convoy(&["show", &id]));
    let list = timed(&|| convoy(&["list", "--json"]));
    let stranded = timed(&|| convoy(&["stranded", "--json"]));
    println!(
        "convoy benchmark: one convoy of {beads} beads across {} rigs, {runs} runs each (whole-process medians)",
        RIGS.len()
    );
    println!("  git-convoy --version (process floor)  {floor:7.2} ms");
    println!("  convoy show --json                    {show_json:7.2} ms");
    println!("  convoy show (text)                    {show_text:7.2} ms");
    println!("  convoy list --json                    {list:7.2} ms");
    println!("  convoy stranded --json                {stranded:7.2} ms");
    eprintln!("first show: {:.1} ms", ms(first));
    let _ = std::fs::remove_dir_all(&root);
}
