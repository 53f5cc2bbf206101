//! Man pages and shell completions, generated from the clap definitions of every binary.

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;

use crate::error::{Error, Result};

/// Every binary of the suite with its clap definition, named as installed.
pub fn commands() -> Vec<clap::Command> {
    vec![
        super::bead::Cli::command().name("git-bead"),
        super::gastown::Cli::command().name("git-gastown"),
        super::formula::Cli::command().name("git-formula"),
        super::mol::MolCli::command().name("git-mol"),
        super::sling::Cli::command().name("git-sling"),
        super::mq::Cli::command().name("git-mq"),
        super::agent::Cli::command().name("git-agent"),
        super::mail::Cli::command().name("git-mail"),
        super::board::Cli::command().name("git-board"),
        super::convoy::Cli::command().name("git-convoy"),
        super::patrol::Cli::command().name("git-patrol"),
        super::escalate::Cli::command().name("git-escalate"),
    ]
}

/// The man page of `cmd` (section 1), rendered as roff.
pub fn man_page(cmd: &clap::Command) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .title(cmd.get_name().to_uppercase())
        .section("1")
        .source(format!("gastown {}", env!("CARGO_PKG_VERSION")))
        .manual("Gastown Manual")
        .render(&mut out)
        .map_err(|e| Error::io("rendering man page", e))?;
    Ok(out)
}

/// Write `<name>.1` for every binary and `<name>-<sub>.1` for each subcommand into `dir`.
pub fn write_man_pages(dir: &Path) -> Result<Vec<String>> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    let mut written = Vec::new();
    for cmd in commands() {
        let mut cmd = cmd;
        cmd.build();
        let mut pages = vec![(cmd.get_name().to_string(), cmd.clone())];
        for sub in cmd
            .get_subcommands()
            .filter(|s| !s.is_hide_set() && s.get_name() != "help")
        {
            let name = format!("{}-{}", cmd.get_name(), sub.get_name());
            pages.push((name.clone(), sub.clone().name(name)));
        }
        for (name, page) in pages {
            let file = format!("{name}.1");
            std::fs::write(dir.join(&file), man_page(&page)?)
                .map_err(|e| Error::io(format!("writing {file}"), e))?;
            written.push(file);
        }
    }
    Ok(written)
}

/// Completion script for every binary of the suite. For bash it also defines the
/// `_git_<tool>` functions git's own completion calls for `git <tool> <TAB>`.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn Write) -> Result<()> {
    for mut cmd in commands() {
        let name = cmd.get_name().to_string();
        clap_complete::generate(shell, &mut cmd, name.clone(), out);
        if shell == clap_complete::Shell::Bash {
            let tool = name.trim_start_matches("git-").replace('-', "_");
            writeln!(
                out,
                "_git_{tool}() {{\n    local -a words=(\"{name}\" \"${{COMP_WORDS[@]:2}}\")\n    COMP_WORDS=(\"${{words[@]}}\")\n    COMP_CWORD=$((COMP_CWORD - 1))\n    _{fn_name} \"{name}\" \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\n}}",
                fn_name = name.replace('-', "__")
            )
            .map_err(|e| Error::io("writing completions", e))?;
        }
    }
    Ok(())
}
