//! `git gastown`: suite-level commands.

use clap::{Parser, Subcommand};

use super::{print_json, print_text, Ctx, GlobalArgs};
use crate::error::Result;
use crate::sync::SyncOptions;

/// Suite-level commands of gastown: sync between clones, housekeeping, version, man pages, completions
#[derive(Debug, Clone, Parser)]
#[command(name = "git-gastown", version)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Fetch the remote's gastown state, merge it into ours and push the result
    ///
    /// Fetches refs/gastown/* into refs/gastown-remotes/<remote>/*, merges every shared
    /// collection deterministically (no conflict markers; every clone converges), pushes,
    /// and retries when another clone pushed in between. Collections under
    /// refs/gastown/local/ never leave this clone. See docs/SYNC.md.
    Sync {
        /// A configured remote, a URL or a path (default: the current branch's remote, else origin)
        remote: Option<String>,
        /// Give up after this many fetch-merge-push rounds when other clones keep pushing
        #[arg(long, default_value_t = crate::sync::DEFAULT_ATTEMPTS, value_name = "N")]
        attempts: usize,
    },
    /// Pack refs and objects (safe while other processes write)
    ///
    /// Runs `git pack-refs --all` and an incremental `git repack -d`; --full runs `git gc`
    /// (which prunes only unreachable objects older than git's expiry). Writes start
    /// `gc --auto` by themselves when loose objects pile up (threshold: GT_GC_AUTO or git
    /// config gastown.gcAuto, default 6700; 0 disables).
    Gc {
        /// Only if loose objects passed the threshold and no other gc runs
        #[arg(long)]
        auto: bool,
        /// Also consolidate packs and prune old unreachable objects (`git gc`)
        #[arg(long, conflicts_with = "auto")]
        full: bool,
    },
    /// Print the suite's version and storage format
    Version,
    /// Write the man pages of every gastown command into a directory
    Man {
        /// Directory to write into
        #[arg(long, default_value = "man")]
        dir: std::path::PathBuf,
        /// Write into <prefix>/share/man/man1 beside the installed binaries (e.g.
        /// ~/.cargo/share/man/man1), where man finds them for `git bead --help`
        #[arg(long, conflicts_with = "dir")]
        install: bool,
    },
    /// Print shell completions for every gastown command
    Completions {
        /// The shell to complete for
        shell: clap_complete::Shell,
    },
}

impl super::Tool for Cli {
    fn global(&self) -> &GlobalArgs {
        &self.global
    }

    fn run(self, ctx: &Ctx) -> Result<i32> {
        run(ctx, self.command)
    }
}

fn run(ctx: &Ctx, command: Command) -> Result<i32> {
    match command {
        Command::Sync { remote, attempts } => return sync(ctx, remote, attempts),
        Command::Gc { auto, full } => return gc(ctx, auto, full),
        Command::Version => {
            if ctx.global.json {
                print_json(&serde_json::json!({
                    "version": env!("CARGO_PKG_VERSION"),
                    "format": crate::bead::FORMAT_VERSION,
                }))?;
            } else {
                print_text(&format!(
                    "gastown {} (bead store format {})\n",
                    env!("CARGO_PKG_VERSION"),
                    crate::bead::FORMAT_VERSION
                ))?;
            }
        }
        Command::Man { dir, install } => {
            let dir = if install {
                let exe = std::env::current_exe()
                    .map_err(|e| crate::Error::io("locating the running executable", e))?;
                let prefix = exe.parent().and_then(|bin| bin.parent()).ok_or_else(|| {
                    crate::Error::invalid(format!(
                        "cannot tell the install prefix of {}",
                        exe.display()
                    ))
                })?;
                prefix.join("share").join("man").join("man1")
            } else {
                super::resolve_path(ctx, &dir)
            };
            let written = super::docs::write_man_pages(&dir)?;
            ctx.status(format!(
                "wrote {} man pages to {}",
                written.len(),
                dir.display()
            ));
        }
        Command::Completions { shell } => {
            let mut out = std::io::stdout().lock();
            super::docs::completions(shell, &mut out)?;
        }
    }
    Ok(0)
}

fn sync(ctx: &Ctx, remote: Option<String>, attempts: usize) -> Result<i32> {
    if attempts == 0 {
        return Err(crate::Error::invalid("--attempts must be at least 1"));
    }
    let store = ctx.open_store()?;
    let actor = ctx.actor(&store)?;
    let options = SyncOptions {
        remote,
        cwd: ctx.dir(),
        attempts,
    };
    let report = crate::sync::sync(&store, &actor, &options)?;
    for warning in &report.warnings {
        ctx.status(format!("warning: {warning}"));
    }
    if ctx.global.json {
        print_json(&report)?;
        return Ok(0);
    }
    if report.up_to_date {
        ctx.status(format!("Already up to date with {}.", report.remote));
        return Ok(0);
    }
    let mut text = String::new();
    for collection in &report.collections {
        text.push_str(&format!(
            "{}: {} from {}{}\n",
            collection.collection,
            collection.action,
            report.remote,
            crate::sync::summary(&collection.report, false)
        ));
        for rename in &collection.report.renamed {
            text.push_str(&format!(
                "  renamed {} to {} ({}): another clone created a different bead with that id\n",
                rename.from, rename.to, rename.title
            ));
        }
        for cycle in &collection.cycles {
            text.push_str(&format!("  dependency cycle: {}\n", cycle.join(" → ")));
        }
    }
    if !report.pushed.is_empty() {
        text.push_str(&format!(
            "pushed {} to {}\n",
            report.pushed.join(", "),
            report.remote
        ));
    }
    print_text(&text)?;
    Ok(0)
}

fn gc(ctx: &Ctx, auto: bool, full: bool) -> Result<i32> {
    let store = ctx.open_store()?;
    let report = crate::store::gc::run(&store, &ctx.dir(), auto, full)?;
    if ctx.global.json {
        print_json(&report)?;
    } else if report.ran {
        ctx.status(format!(
            "packed: ~{} loose objects before, ~{} after; {} packs",
            report.loose_before, report.loose_after, report.packs_after
        ));
    } else {
        ctx.status("nothing to do");
    }
    Ok(0)
}
