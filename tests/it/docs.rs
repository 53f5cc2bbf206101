//! Man pages and completions are generated from the clap definitions; the committed pages
//! in man/ must match what the binaries would generate now.

use crate::support::{self, Env};

#[test]
fn committed_man_pages_are_current() {
    let env = Env::empty();
    let out_dir = env.path().join("man");
    let out = env.run_in(
        env.path(),
        "gastown",
        &["man", "--dir", out_dir.to_str().unwrap()],
    );
    support::ok(out, &["man"]);
    let committed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let mut generated: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    generated.sort();
    for name in [
        "git-bead.1",
        "git-bead-ready.1",
        "git-gastown.1",
        "git-formula.1",
        "git-mol.1",
        "git-agent.1",
        "git-agent-prime.1",
    ] {
        assert!(
            generated.contains(&name.to_string()),
            "{name} not generated: {generated:?}"
        );
    }
    let mut stale = Vec::new();
    for name in &generated {
        let fresh = std::fs::read(out_dir.join(name)).unwrap();
        let old = std::fs::read(committed.join(name)).unwrap_or_default();
        if fresh != old {
            stale.push(name.clone());
        }
    }
    let mut extra: Vec<String> = std::fs::read_dir(&committed)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().to_string())
                .collect()
        })
        .unwrap_or_default();
    extra.retain(|n| !generated.contains(n));
    assert!(
        stale.is_empty() && extra.is_empty(),
        "man pages are stale: {stale:?}, obsolete: {extra:?}; run `cargo run --bin git-gastown -- man --dir man`"
    );
}

#[test]
fn man_page_describes_the_command() {
    let page = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("man/git-bead-ready.1"),
    )
    .unwrap();
    assert!(
        page.contains(".TH GIT-BEAD-READY 1"),
        "{}",
        &page[..200.min(page.len())]
    );
    assert!(page.contains("explain"));
}

#[test]
fn agent_man_page_names_the_command() {
    let page = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("man/git-agent.1"),
    )
    .unwrap();
    assert!(
        page.contains(".TH GIT-AGENT 1"),
        "{}",
        &page[..200.min(page.len())]
    );
    assert!(
        page.contains("git\\-agent \\- Run agents: polecats and crew in sandboxes"),
        "the NAME line describes git-agent"
    );
}

#[test]
fn bash_completion_defines_git_subcommand_hooks() {
    let env = Env::empty();
    let out = support::ok(
        env.run_in(env.path(), "gastown", &["completions", "bash"]),
        &["completions"],
    );
    for tool in ["bead", "gastown", "formula", "mol", "agent"] {
        assert!(
            out.contains(&format!("_git_{tool}()")),
            "no _git_{tool} in bash completion"
        );
    }
    assert!(out.contains("ready"), "subcommands are completed");
    let out = support::ok(
        env.run_in(env.path(), "gastown", &["completions", "zsh"]),
        &["completions"],
    );
    assert!(
        out.contains("#compdef git-bead"),
        "zsh completion for git-bead"
    );
    // The bash script must at least parse.
    let script = env.path().join("complete.bash");
    let bash = support::ok(
        env.run_in(env.path(), "gastown", &["completions", "bash"]),
        &["completions"],
    );
    std::fs::write(&script, bash).unwrap();
    let check = env
        .command("bash", env.path())
        .args(["-n", script.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}
