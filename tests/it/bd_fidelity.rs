//! bd fidelity: what real bd exports and bd's own rules need from `git bead`, and input
//! that must fail with one clear line instead of hanging, aborting or passing silently.

use serde_json::Value;

use crate::support::{assert_one_line_error, bd_export, err, ok, Env};

fn live_count(env: &Env) -> usize {
    env.bead_json(&["list", "--all", "--limit", "0"])
        .as_array()
        .expect("list is an array")
        .len()
}

const TOMBSTONE: &str = r#"{"id":"bd-dead1","title":"Removed duplicate","status":"tombstone","issue_type":"task","original_type":"task","priority":2,"created_at":"2025-11-01T10:00:00Z","updated_at":"2025-12-01T10:00:00Z","deleted_at":"2025-12-01T10:00:00Z","deleted_by":"stevey","delete_reason":"duplicate of bd-xyz"}"#;

#[test]
fn a_dotted_prefix_works_for_init_ids_children_and_lookups() {
    let env = Env::new();
    let init = env.bead_json(&["init", "--prefix", "haxe.ocaml"]);
    assert_eq!(init["prefix"], "haxe.ocaml");
    let parent = env.create("Parent", &[]);
    assert!(parent.starts_with("haxe.ocaml-"), "{parent}");
    let child = env.create("Child", &["--parent", &parent]);
    assert_eq!(child, format!("{parent}.1"));
    // An id without its prefix resolves with the store's (dotted) prefix.
    let short = parent.strip_prefix("haxe.ocaml-").unwrap();
    let shown = env.bead_json(&["show", short]);
    assert_eq!(shown[0]["id"], parent.as_str());
    let explicit = env.create("Explicit child", &["--id", &format!("{parent}.7")]);
    assert_eq!(explicit, format!("{parent}.7"));
    // bd trims a trailing hyphen from the prefix; the store keeps its first prefix.
    let again = env.bead_json(&["init", "--prefix", "haxe.ocaml-"]);
    assert_eq!(again["created"], false);
}

#[test]
fn the_default_prefix_keeps_a_dotted_directory_name() {
    let env = Env::empty();
    let dir = env.path().join("haxe.ocaml");
    std::fs::create_dir_all(&dir).unwrap();
    env.git_ok(&dir, &["init", "-q"]);
    let out = ok(env.run_in(&dir, "bead", &["init", "--json"]), &["init"]);
    let init: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(init["prefix"], "haxe.ocaml");
}

#[test]
fn explicit_child_ids_need_their_parent_and_lengths_are_reported_as_lengths() {
    let env = Env::new();
    env.bead_ok(&["init", "--prefix", "gt"]);
    let (code, stderr) = env.bead_err(&["create", "Orphan", "--id", "gt-nope.1"]);
    assert_eq!(code, 1);
    assert_one_line_error(&stderr);
    assert!(stderr.contains("parent gt-nope does not exist"), "{stderr}");
    let (_, stderr) = env.bead_err(&["create", "No prefix", "--id", "P.0"]);
    assert_one_line_error(&stderr);
    assert!(stderr.contains("expected <prefix>-<hash>"), "{stderr}");
    assert_eq!(live_count(&env), 0, "a refused create writes nothing");

    let long_id = format!("gt-{}", "a".repeat(250));
    let (_, stderr) = env.bead_err(&["create", "Long", "--id", &long_id]);
    assert_one_line_error(&stderr);
    assert!(
        stderr.contains("too long (253 characters, at most 200)"),
        "{stderr}"
    );

    let fresh = Env::new();
    let (_, stderr) = fresh.bead_err(&["init", "--prefix", &"p".repeat(70)]);
    assert_one_line_error(&stderr);
    assert!(
        stderr.contains("too long (70 characters, at most 64)"),
        "{stderr}"
    );
}

#[test]
fn a_bd_tombstone_imports_as_a_deletion_and_round_trips() {
    let env = Env::new();
    env.bead_ok(&["init", "--prefix", "bd"]);
    let real = bd_export::generate(0xdead, 60).text;
    let lines = real.lines().filter(|l| !l.trim().is_empty()).count();
    let file = env.path().join("with-tombstone.jsonl");
    std::fs::write(&file, format!("{real}{TOMBSTONE}\n")).unwrap();

    let report = env.bead_json(&["import", file.to_str().unwrap()]);
    assert_eq!(report["created"], lines);
    assert_eq!(report["deleted"], 1);
    // One line more than live beads: the tombstone is not a bead with an unknown status.
    assert_eq!(live_count(&env), lines);
    let (_, stderr) = env.bead_err(&["show", "bd-dead1"]);
    assert!(stderr.contains("was deleted"), "{stderr}");

    // Export keeps the tombstone in bd's shape; importing that export elsewhere gives the
    // same live beads and the same tombstone.
    let exported = env.bead_ok(&["export", "--include-deleted"]);
    let tomb: Value = exported
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["id"] == "bd-dead1")
        .expect("tombstone exported");
    assert_eq!(tomb["status"], "tombstone");
    assert_eq!(tomb["deleted_by"], "stevey");
    assert_eq!(tomb["delete_reason"], "duplicate of bd-xyz");
    let other = Env::new();
    other.bead_ok(&["init", "--prefix", "bd"]);
    let copy = other.path().join("export.jsonl");
    std::fs::write(&copy, &exported).unwrap();
    let report = other.bead_json(&["import", copy.to_str().unwrap()]);
    assert_eq!(
        (report["created"].as_u64(), report["deleted"].as_u64()),
        (Some(lines as u64), Some(1))
    );
    assert_eq!(live_count(&other), lines);
    assert_eq!(other.bead_ok(&["export", "--include-deleted"]), exported);
}

#[test]
fn a_tombstone_deletes_the_live_bead_it_names_and_our_deletions_export_as_tombstones() {
    let env = Env::new();
    env.bead_ok(&["init", "--prefix", "bd"]);
    let file = env.path().join("one.jsonl");
    std::fs::write(
        &file,
        r#"{"id":"bd-dead1","title":"Removed duplicate","status":"open"}"#,
    )
    .unwrap();
    env.bead_ok(&["import", file.to_str().unwrap()]);
    assert_eq!(live_count(&env), 1);
    std::fs::write(&file, TOMBSTONE).unwrap();
    let report = env.bead_json(&["import", file.to_str().unwrap()]);
    assert_eq!(report["deleted"], 1, "{report}");
    assert_eq!(live_count(&env), 0);

    let id = env.create("Short lived", &["-t", "bug"]);
    env.bead_ok(&["delete", &id]);
    let exported = env.bead_ok(&["export", "--include-deleted"]);
    let line: Value = exported
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["id"] == id.as_str())
        .expect("deleted bead exported");
    assert_eq!(line["status"], "tombstone");
    assert_eq!(line["original_type"], "bug");
    assert_eq!(line["deleted_by"], "Test User");
    assert!(line["deleted_at"].is_string(), "{line}");
}

#[test]
fn import_refuses_unknown_statuses_and_types_as_bd_does() {
    let env = Env::new();
    env.bead_ok(&["init", "--prefix", "bd"]);
    let file = env.path().join("bad.jsonl");
    for (line, needle) in [
        (
            r#"{"id":"bd-a","title":"A","status":"bogus"}"#,
            "unknown status 'bogus'",
        ),
        (
            r#"{"id":"bd-a","title":"A","issue_type":"saga"}"#,
            "unknown issue type 'saga'",
        ),
    ] {
        std::fs::write(
            &file,
            format!("{{\"id\":\"bd-ok\",\"title\":\"fine\"}}\n{line}\n"),
        )
        .unwrap();
        let (code, stderr) = env.bead_err(&["import", file.to_str().unwrap()]);
        assert_eq!(code, 1);
        assert_one_line_error(&stderr);
        assert!(
            stderr.contains("line 2: bd-a: ") && stderr.contains(needle),
            "{stderr}"
        );
        assert_eq!(live_count(&env), 0, "nothing imported");
    }
    // A declared custom status imports.
    env.bead_ok(&["config", "set", "statuses", "bogus"]);
    std::fs::write(
        &file,
        "{\"id\":\"bd-a\",\"title\":\"A\",\"status\":\"bogus\"}\n",
    )
    .unwrap();
    env.bead_ok(&["import", file.to_str().unwrap()]);
    assert_eq!(env.bead_json(&["show", "bd-a"])[0]["status"], "bogus");
}

#[test]
fn import_warns_about_dangling_dependencies_and_skipped_memories() {
    let env = Env::new();
    env.bead_ok(&["init", "--prefix", "bd"]);
    let file = env.path().join("dangling.jsonl");
    std::fs::write(
        &file,
        concat!(
            r#"{"id":"bd-a","title":"A","dependencies":[{"issue_id":"bd-a","depends_on_id":"bd-missing","type":"blocks"},{"issue_id":"bd-a","depends_on_id":"external:other:cap","type":"blocks"}]}"#,
            "\n",
            r#"{"_type":"memory","key":"style","value":"terse"}"#,
            "\n"
        ),
    )
    .unwrap();
    let out = env.bead(&["import", file.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{stderr}");
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("warning: "))
        .collect();
    assert_eq!(warnings.len(), 2, "{stderr}");
    assert!(
        warnings[0].contains("line 1: bd-a depends on bd-missing"),
        "{stderr}"
    );
    assert!(
        warnings[1].contains("line 2: bd memory 'style' skipped"),
        "{stderr}"
    );
    let shown = env.bead_json(&["show", "bd-a"]);
    assert_eq!(
        shown[0]["dependencies"].as_array().unwrap().len(),
        2,
        "kept"
    );

    let report = env.bead_json(&["import", file.to_str().unwrap(), "--dry-run"]);
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["warnings"].as_array().unwrap().len(), 2, "{report}");
}

#[test]
fn import_accepts_a_byte_order_mark_and_names_the_line_of_invalid_utf8() {
    let env = Env::new();
    env.bead_ok(&["init", "--prefix", "bd"]);
    let file = env.path().join("bom.jsonl");
    std::fs::write(&file, b"\xEF\xBB\xBF{\"id\":\"bd-a\",\"title\":\"A\"}\r\n").unwrap();
    let report = env.bead_json(&["import", file.to_str().unwrap()]);
    assert_eq!(report["created"], 1);

    std::fs::write(
        &file,
        b"{\"id\":\"bd-b\",\"title\":\"B\"}\n{\"id\":\"bd-c\",\"title\":\"\xFF\"}\n",
    )
    .unwrap();
    let (code, stderr) = env.bead_err(&["import", file.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_one_line_error(&stderr);
    assert!(stderr.contains("line 2: not valid UTF-8"), "{stderr}");
    assert_eq!(live_count(&env), 1);
}

#[test]
fn list_with_an_unknown_status_is_an_error_not_an_empty_list() {
    let env = Env::new();
    env.bead_ok(&["init", "--prefix", "gt"]);
    env.create("One", &[]);
    for args in [
        &["list", "--status", "bogus"][..],
        &["ready", "--status", "bogus"][..],
        &["list", "--type", "saga"][..],
    ] {
        let (code, stderr) = env.bead_err(args);
        assert_eq!(code, 1, "{args:?}");
        assert_one_line_error(&stderr);
        assert!(stderr.contains("unknown"), "{stderr}");
    }
    // bd's aliases still filter: `feat` is `feature`.
    env.create("Feature", &["-t", "feature"]);
    let found = env.bead_json(&["list", "--type", "feat"]);
    assert_eq!(found.as_array().unwrap().len(), 1);
}

fn formula(env: &Env, args: &[&str]) -> std::process::Output {
    env.run_in(&env.repo(), "formula", args)
}

#[test]
fn formula_variables_that_refer_to_each_other_fail_fast_with_one_line() {
    let env = Env::new();
    let cyclic = env.path().join("cyclic.formula.toml");
    std::fs::write(
        &cyclic,
        "formula = \"cyclic\"\nversion = 1\n[vars]\na = \"{{b}}{{b}}{{b}}{{b}}\"\nb = \"{{a}}{{a}}{{a}}{{a}}\"\n[[steps]]\nid = \"s\"\ntitle = \"{{a}}\"\n",
    )
    .unwrap();
    let path = cyclic.to_str().unwrap();
    for args in [&["cook", path][..], &["validate", path][..]] {
        let (code, stderr) = err(formula(&env, args), args);
        assert_eq!(code, 1, "{args:?}: {stderr}");
        let first = stderr.lines().next().unwrap();
        assert!(first.contains("cycle: a -> b -> a"), "{stderr}");
    }
    env.bead_ok(&["init", "--prefix", "gt"]);
    let out = env.run_in(&env.repo(), "mol", &["pour", path]);
    let (code, stderr) = err(out, &["pour"]);
    assert_eq!(code, 1);
    assert_one_line_error(&stderr);

    // A --var can close the cycle too.
    let open = env.path().join("open.formula.toml");
    std::fs::write(
        &open,
        "formula = \"open\"\nversion = 1\n[vars]\nx = \"a\"\ny = \"{{x}}{{x}}\"\n[[steps]]\nid = \"s\"\ntitle = \"{{y}}\"\n",
    )
    .unwrap();
    let args = ["cook", open.to_str().unwrap(), "--var", "x={{y}}{{y}}"];
    let (_, stderr) = err(formula(&env, &args), &args);
    assert_one_line_error(&stderr);
    assert!(stderr.contains("cycle: x -> y -> x"), "{stderr}");
}

#[test]
fn formula_variables_cannot_grow_without_bound() {
    let env = Env::new();
    // Each level multiplies by 16: 16^6 = 16 MiB from a 4-byte seed, with no cycle.
    let mut text = String::from("formula = \"wide\"\nversion = 1\n[vars]\nv0 = \"seed\"\n");
    for level in 1..=6 {
        let refs = format!("{{{{v{}}}}}", level - 1).repeat(16);
        text.push_str(&format!("v{level} = \"{refs}\"\n"));
    }
    text.push_str("[[steps]]\nid = \"s\"\ntitle = \"{{v6}}\"\n");
    let file = env.path().join("wide.formula.toml");
    std::fs::write(&file, text).unwrap();
    let args = ["cook", file.to_str().unwrap()];
    let (code, stderr) = err(formula(&env, &args), &args);
    assert_eq!(code, 1);
    assert_one_line_error(&stderr);
    assert!(stderr.contains("expands to more than 1 MiB"), "{stderr}");

    // Many references in a step's text to a large (but allowed) value are bounded too.
    let big = "x".repeat(600 * 1024);
    let file = env.path().join("many.formula.toml");
    std::fs::write(
        &file,
        format!(
            "formula = \"many\"\nversion = 1\n[vars]\nbig = \"{big}\"\n[[steps]]\nid = \"s\"\ntitle = \"t\"\ndescription = \"{}\"\n",
            "{{big}}".repeat(4)
        ),
    )
    .unwrap();
    let args = ["cook", file.to_str().unwrap()];
    let (_, stderr) = err(formula(&env, &args), &args);
    assert_one_line_error(&stderr);
    assert!(stderr.contains("step 's' grows past 1 MiB"), "{stderr}");
}

#[test]
fn deeply_nested_loop_ranges_do_not_overflow_the_stack() {
    let env = Env::new();
    for expr in [
        "(".repeat(100_000) + "1" + &")".repeat(100_000),
        "-".repeat(100_000) + "1",
        "2^".repeat(100_000) + "1",
    ] {
        let file = env.path().join("deep.formula.toml");
        std::fs::write(
            &file,
            format!(
                "formula = \"deep\"\nversion = 1\n[[steps]]\nid = \"l\"\ntitle = \"L\"\n[steps.loop]\nrange = \"1..{expr}\"\nvar = \"i\"\n[[steps.loop.body]]\nid = \"b\"\ntitle = \"B\"\n"
            ),
        )
        .unwrap();
        let args = ["cook", file.to_str().unwrap()];
        let (code, stderr) = err(formula(&env, &args), &args);
        assert_eq!(code, 1, "{stderr}");
        assert_one_line_error(&stderr);
        assert!(
            stderr.contains("nested more than 64 levels deep"),
            "{}",
            &stderr[..stderr.len().min(300)]
        );
    }
}
