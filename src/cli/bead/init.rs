//! `git bead init`: create the bead store.

use serde::Serialize;

use super::Run;
use crate::bead::Beads;
use crate::cli::{print_json, Ctx};
use crate::error::Result;
use crate::store::Store;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Id prefix for new beads (default: the repository directory's name)
    #[arg(long, short)]
    prefix: Option<String>,
}

/// The `--json` answer (fields in alphabetical order, as before).
#[derive(Serialize)]
struct Initialized<'a> {
    created: bool,
    prefix: &'a str,
    #[serde(rename = "ref")]
    ref_name: String,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, beads: &Beads<'_>) -> Result<i32> {
        let actor = ctx.actor(beads.store)?;
        let prefix = match self.prefix {
            Some(p) => p,
            None => default_prefix(beads.store),
        };
        let (config, created) = beads.init(&actor, &prefix)?;
        if ctx.global.json {
            print_json(&Initialized {
                created,
                prefix: &config.prefix,
                ref_name: Store::ref_name(crate::bead::COLLECTION),
            })?;
        } else if created {
            ctx.status(format!(
                "Initialized bead store with prefix '{}' in refs/gastown/beads",
                config.prefix
            ));
        } else {
            ctx.status(format!(
                "Bead store already initialized with prefix '{}'",
                config.prefix
            ));
        }
        Ok(0)
    }
}

/// The repository directory's name, made a valid prefix.
fn default_prefix(store: &Store) -> String {
    let dir = store
        .repo()
        .workdir()
        .map(|p| p.to_path_buf())
        .unwrap_or_else(|| store.common_dir().to_path_buf());
    let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("bd");
    crate::bead::schema::prefix_from_dir_name(name)
}
