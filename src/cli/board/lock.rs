use super::super::{print_json, print_text, Ctx};
use super::{lock_line, Run};
use crate::board::{parse_ttl, Board, DEFAULT_TTL};
use crate::error::Result;
use crate::town::Town;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Paths to lock (files or directories, relative to here; they need not exist)
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<String>,
    /// What you are doing there (other agents read it)
    #[arg(long, value_name = "TEXT")]
    intent: String,
    /// The lease: 90s, 30m, 2h, 1h30m, 1d (at most 7d); lock again to renew
    #[arg(long, value_name = "DURATION", default_value = DEFAULT_TTL)]
    ttl: String,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, town: &Town) -> Result<i32> {
        let ttl = parse_ttl(&self.ttl)?;
        let paths = Board::normalize_paths(&ctx.dir(), &self.paths)?;
        let actor = ctx.actor(&town.store)?;
        let locked = Board::new(town).lock(&actor, &paths, &self.intent, ttl)?;
        if ctx.global.json {
            print_json(&locked)?;
        } else {
            let mut out = String::new();
            for lock in &locked.locks {
                out.push_str(if locked.renewed.contains(&lock.path) {
                    "renewed "
                } else {
                    "locked "
                });
                out.push_str(&lock_line(lock));
            }
            print_text(&out)?;
        }
        Ok(0)
    }
}
