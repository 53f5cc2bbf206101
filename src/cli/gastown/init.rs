//! `git gastown init`: create a town.

use super::Run;
use crate::cli::{print_json, resolve_path, text, Ctx};
use crate::error::Result;
use crate::town::Town;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The town's directory (default: $GT_ROOT, else ~/gt)
    dir: Option<std::path::PathBuf>,
}

impl Run for Args {
    fn run(self, ctx: &Ctx) -> Result<i32> {
        let root = match &self.dir {
            Some(dir) => resolve_path(ctx, dir),
            None => Town::default_root()?,
        };
        let info = Town::init(&root, |store| ctx.actor(store))?;
        if ctx.global.json {
            print_json(&info)?;
        } else {
            let root = info.root.to_string_lossy();
            let verb = if info.created {
                "Initialized town"
            } else {
                "Town already initialized:"
            };
            ctx.status(format!(
                "{verb} '{}' in {}",
                text::line(&info.name),
                text::line(&root)
            ));
        }
        Ok(0)
    }
}
