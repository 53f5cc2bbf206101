//! `git gastown`: suite-level commands.

use clap::{Parser, Subcommand};

use super::{finish, print_json, print_text, Ctx, GlobalArgs};
use crate::error::Result;

/// Suite-level commands of gastown: version, man pages, completions
#[derive(Debug, Parser)]
#[command(name = "git-gastown", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the suite's version and storage format
    Version,
    /// Write the man pages of every gastown command into a directory
    Man {
        /// Directory to write into
        #[arg(long, default_value = "man")]
        dir: std::path::PathBuf,
    },
    /// Print shell completions for every gastown command
    Completions {
        /// The shell to complete for
        shell: clap_complete::Shell,
    },
}

pub fn main() -> ! {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let json = super::wants_json(&args);
    let cli = Cli::parse_from(args);
    let ctx = Ctx::new(cli.global.clone());
    finish(json, run(&ctx, cli.command))
}

fn run(ctx: &Ctx, command: Command) -> Result<i32> {
    match command {
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
        Command::Man { dir } => {
            let dir = super::resolve_path(ctx, &dir);
            let written = super::docs::write_man_pages(&dir)?;
            ctx.status(format!("wrote {} man pages to {}", written.len(), dir.display()));
        }
        Command::Completions { shell } => {
            let mut out = std::io::stdout().lock();
            super::docs::completions(shell, &mut out)?;
        }
    }
    Ok(0)
}
