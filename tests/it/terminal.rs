//! Text output is safe on a terminal: bead text cannot inject escape sequences or fake
//! rows; actor names cannot carry control characters; each man page names its binary.

use crate::support::{assert_one_line_error, Env};

const EVIL_TITLE: &str =
    "Harmless\ngt-fake  P0  task     open        Injected row\u{1b}[2J\u{1b}[31m\tred";

fn setup() -> Env {
    let env = Env::new();
    env.bead_ok(&["init", "--prefix", "gt"]);
    env
}

fn assert_no_controls(text: &str, what: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|c| c.is_control() && *c != '\n')
        .collect();
    assert!(
        bad.is_empty(),
        "{what} printed control characters {bad:?}: {text:?}"
    );
}

#[test]
fn list_and_show_escape_control_characters() {
    let env = setup();
    let id = env.create(EVIL_TITLE, &["--assignee", "mal\u{1b}]0;owned\u{7}lory"]);
    env.create("Second", &[]);

    let list = env.bead_ok(&["list"]);
    assert_no_controls(&list, "list");
    assert_eq!(list.lines().count(), 2, "a title faked a row: {list}");
    assert!(!list.lines().any(|l| l.starts_with("gt-fake")), "{list}");
    assert!(list.contains("Harmless\\ngt-fake"), "{list}");
    assert!(list.contains("\\u{1b}[2J"), "{list}");
    assert!(list.contains("\\tred"), "{list}");

    let show = env.bead_ok(&["show", &id]);
    assert_no_controls(&show, "show");
    assert!(
        show.starts_with(&format!("{id}: Harmless\\ngt-fake")),
        "{show}"
    );
    assert!(
        show.contains("Assignee: mal\\u{1b}]0;owned\\u{7}lory"),
        "{show}"
    );

    for args in [
        vec!["ready"],
        vec!["search", "Harmless"],
        vec!["list", "--all"],
    ] {
        let out = env.bead_ok(&args);
        assert_no_controls(&out, args[0]);
        let rows = env.bead_json(&args).as_array().unwrap().len();
        assert_eq!(out.lines().count(), rows, "{args:?}: {out}");
    }

    // JSON keeps the text exactly.
    let json = env.bead_json(&["show", &id]);
    assert_eq!(json[0]["title"], EVIL_TITLE);
}

#[test]
fn status_lines_and_comments_escape_control_characters() {
    let env = setup();
    let id = env.create("Plain", &[]);
    let out = env.bead(&["update", &id, "--title", "New\u{1b}[1Atitle"]);
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_no_controls(&stderr, "update status");
    assert!(stderr.contains("New\\u{1b}[1Atitle"), "{stderr}");

    env.bead_ok(&["comments", "add", &id, "line one\nfake line\u{1b}[K"]);
    let comments = env.bead_ok(&["comments", "list", &id]);
    assert_no_controls(&comments, "comments list");
    assert_eq!(comments.lines().count(), 1, "{comments}");
}

#[test]
fn actor_names_with_control_characters_are_refused() {
    let env = setup();
    let before = env.ref_tip(&env.repo(), "refs/gastown/beads");
    let out = env.bead(&["create", "Task", "--actor", "bob\u{1b}[31m"]);
    let (code, stderr) = crate::support::err(out, &["create", "--actor"]);
    assert_eq!(code, 1);
    assert_one_line_error(&stderr);
    assert!(stderr.contains("control characters"), "{stderr}");
    assert_no_controls(&stderr, "the error");

    for var in ["GT_ACTOR", "BD_ACTOR"] {
        let out = env
            .command(
                crate::support::bin_dir().join("git-bead").to_str().unwrap(),
                &env.repo(),
            )
            .args(["create", "Task"])
            .env(var, "eve\u{7}\u{8}")
            .output()
            .unwrap();
        let (code, stderr) = crate::support::err(out, &["create", var]);
        assert_eq!(code, 1, "{var}");
        assert_one_line_error(&stderr);
        assert!(stderr.contains("control characters"), "{var}: {stderr}");
    }
    assert_eq!(env.ref_tip(&env.repo(), "refs/gastown/beads"), before);
}

#[test]
fn each_man_page_names_its_binary() {
    let man = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let description = env!("CARGO_PKG_DESCRIPTION").replace('-', "\\-");
    let mut seen = std::collections::HashSet::new();
    let tools: Vec<String> = gastown::cli::docs::commands()
        .iter()
        .map(|c| c.get_name().trim_start_matches("git-").to_string())
        .collect();
    assert!(tools.len() >= 6, "{tools:?}");
    for tool in &tools {
        let page = std::fs::read_to_string(man.join(format!("git-{tool}.1"))).unwrap();
        let name = page
            .lines()
            .skip_while(|l| *l != ".SH NAME")
            .nth(1)
            .unwrap_or_default()
            .to_string();
        assert!(name.starts_with(&format!("git\\-{tool} \\- ")), "{name}");
        assert!(
            !name.contains(&description),
            "git-{tool}'s NAME is the package's: {name}"
        );
        assert!(
            seen.insert(name.clone()),
            "two binaries share the NAME line {name}"
        );
    }
}
