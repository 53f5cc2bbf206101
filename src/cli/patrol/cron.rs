//! `git patrol cron [--every 5m] [--install]`: the crontab line that runs a pass.

use crate::cli::{print_json, print_text, Ctx};
use crate::detach::suite_binary;
use crate::error::Result;
use crate::patrol::{cron, Patrol};
use crate::town::Town;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// How often: minutes (1m-59m), hours (1h-23h) or 1d
    #[arg(long, default_value = "5m", value_name = "DURATION")]
    every: String,
    /// Put the line into your crontab (replacing this town's earlier line, keeping the rest)
    #[arg(long)]
    install: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<i32> {
    let town = Town::discover(&ctx.dir())?;
    let root = std::fs::canonicalize(&town.root).unwrap_or_else(|_| town.root.clone());
    let binary = suite_binary("git-patrol")?;
    let binary = std::fs::canonicalize(&binary).unwrap_or(binary);
    let log = Patrol::new(&town).dir().join("cron.log");
    let log = std::path::absolute(&log).unwrap_or(log);
    let mut line = cron::line(&args.every, &binary, &root, &log)?;
    if args.install {
        line = cron::install(line, &root)?;
    }
    if ctx.global.json {
        print_json(&line)?;
        return Ok(0);
    }
    if args.install {
        ctx.status(if line.changed {
            "Installed in your crontab:"
        } else {
            "Already in your crontab:"
        });
    }
    print_text(&format!("{}\n", line.line))?;
    Ok(0)
}
