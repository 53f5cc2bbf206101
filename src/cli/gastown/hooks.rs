//! `git gastown hooks`: install, remove and inspect the git hooks (docs/HOOKS.md), and the
//! hidden `run` that the installed scripts call.

use std::io::Read;

use clap::Subcommand;

use super::Run;
use crate::cli::{print_json, print_text, text, Ctx};
use crate::error::Result;
use crate::hooks::{self, run::Ran};

#[derive(Debug, Clone, Subcommand)]
pub enum Args {
    /// Install the hooks (post-commit, reference-transaction, pre-push), chaining to any already there
    ///
    /// A hook already in the hooks directory (core.hooksPath honoured) is kept aside as
    /// <hook>.gastown-orig and run first, with the same arguments and input. Sets
    /// notes.displayRef to refs/gastown/notes/* so plain `git log` shows the work notes,
    /// and (unless --no-fetch) adds fetch refspecs to every remote so a plain `git fetch`
    /// brings gastown state, which the reference-transaction hook merges. Re-running
    /// changes nothing.
    Install {
        /// Leave the remotes' fetch refspecs alone
        #[arg(long)]
        no_fetch: bool,
    },
    /// Remove the hooks, putting back the hooks they chained to byte for byte, and undo the config
    Uninstall,
    /// Show which hooks are installed, what they chain to, and the config they rely on
    Status,
    /// Run one hook's gastown part (what the installed scripts call)
    #[command(hide = true)]
    Run {
        /// post-commit, reference-transaction or pre-push
        hook: String,
        /// The arguments git gave the hook
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

impl Run for Args {
    fn run(self, ctx: &Ctx) -> Result<i32> {
        let dir = ctx.dir();
        match self {
            Args::Install { no_fetch } => {
                let changed = hooks::install(&dir, !no_fetch)?;
                report_changes(ctx, &changed)
            }
            Args::Uninstall => {
                let changed = hooks::uninstall(&dir)?;
                report_changes(ctx, &changed)
            }
            Args::Status => {
                let status = hooks::status(&dir)?;
                if ctx.global.json {
                    print_json(&status)?;
                    return Ok(0);
                }
                let mut out = format!("hooks directory: {}\n", status.hooks_dir.display());
                for h in &status.hooks {
                    out.push_str(&format!("{:<22} {}", h.name, h.state));
                    if let Some(c) = &h.chained {
                        out.push_str(&format!(" (runs {} first)", c.display()));
                    }
                    out.push('\n');
                }
                out.push_str(&format!(
                    "notes.displayRef: {}\n",
                    if status.display_ref {
                        "shows the work notes in git log"
                    } else {
                        "not set (git log does not show the work notes)"
                    }
                ));
                if !status.fetch_remotes.is_empty() {
                    out.push_str(&format!(
                        "git fetch brings gastown state from: {}\n",
                        status.fetch_remotes.join(", ")
                    ));
                }
                print_text(&out)?;
                Ok(0)
            }
            Args::Run { hook, args } => Ok(run_hook(ctx, &hook, &args)),
        }
    }
}

fn report_changes(ctx: &Ctx, changed: &hooks::Changed) -> Result<i32> {
    if ctx.global.json {
        print_json(changed)?;
        return Ok(0);
    }
    let mut out = String::new();
    for h in &changed.hooks {
        out.push_str(&format!("{:<22} {}", h.name, h.action));
        if let Some(c) = &h.chained {
            out.push_str(&format!(" (runs {} first)", c.display()));
        }
        out.push('\n');
    }
    if changed.display_ref_changed {
        out.push_str(&format!(
            "notes.displayRef {}\n",
            crate::store::notes::DISPLAY_REF
        ));
    }
    if !changed.fetch_remotes.is_empty() {
        out.push_str(&format!(
            "fetch refspecs of: {}\n",
            changed.fetch_remotes.join(", ")
        ));
    }
    print_text(&out)?;
    Ok(0)
}

/// Run a hook's part. Never an error: a failure is a warning on stderr and exit 0, so the
/// user's git command goes on; only a guard's refusal exits with [`hooks::REFUSED`].
fn run_hook(ctx: &Ctx, hook: &str, args: &[String]) -> i32 {
    // Git commands we run from here must not run our hooks again.
    std::env::set_var("GT_NO_HOOKS", "1");
    // A busy store must not hold the user's command for long: a post-commit note is kept
    // and written later, and a merge is left to the next fetch or sync.
    let limit: u64 = std::env::var("GT_HOOK_LOCK_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let current: Option<u64> = std::env::var("GT_LOCK_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.parse().ok());
    if current.is_none_or(|c| c > limit) {
        std::env::set_var("GT_LOCK_TIMEOUT_MS", limit.to_string());
    }
    let result = (|| -> Result<Ran> {
        if !hooks::HOOKS.iter().any(|(name, _)| *name == hook) {
            return Err(crate::Error::invalid(format!(
                "unknown hook '{hook}' (post-commit, reference-transaction, pre-push)"
            )));
        }
        let store = ctx.open_store()?;
        let actor = ctx.actor(&store)?;
        let dir = ctx.dir();
        let mut input = String::new();
        if hook != "post-commit" {
            let _ = std::io::stdin().read_to_string(&mut input);
        }
        match hook {
            "post-commit" => hooks::run::post_commit(&store, &actor, &dir),
            "reference-transaction" => {
                let state = args.first().map(String::as_str).unwrap_or("");
                hooks::run::reference_transaction(&store, &actor, state, &input)
            }
            "pre-push" => {
                let remote = args.first().map(String::as_str).unwrap_or("origin");
                hooks::run::pre_push(&store, &actor, &dir, remote, &input)
            }
            other => Err(crate::Error::invalid(format!("unknown hook '{other}'"))),
        }
    })();
    let verbose = std::env::var_os("GT_HOOKS_VERBOSE").is_some();
    match result {
        Ok(ran) => {
            for warning in &ran.warnings {
                eprintln!("gastown {hook} hook: warning: {}", text::line(warning));
            }
            if verbose {
                for did in &ran.did {
                    eprintln!("gastown {hook} hook: {}", text::line(did));
                }
            }
            if let Some(why) = &ran.refused {
                eprintln!("error: {}", text::line(why));
                return hooks::REFUSED;
            }
            if ctx.global.json {
                let _ = print_json(&ran);
            }
            0
        }
        Err(err) => {
            eprintln!(
                "gastown {hook} hook: warning: {} (ignored: your git command goes on)",
                text::line(&crate::error::one_line(&err.to_string()))
            );
            0
        }
    }
}
