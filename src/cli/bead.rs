//! `git bead`.

use clap::{Parser, Subcommand};

use super::GlobalArgs;

/// Track work as beads stored under refs/gastown/beads
#[derive(Debug, Parser)]
#[command(name = "git-bead", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the bead store
    Init,
}

pub fn main() -> ! {
    let cli = Cli::parse();
    super::finish(cli.global.json, Ok(0))
}
