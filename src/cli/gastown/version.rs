//! `git gastown version`: the suite's version and storage format.

use super::Run;
use crate::cli::{print_json, print_text, Ctx};
use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {}

impl Run for Args {
    fn run(self, ctx: &Ctx) -> Result<i32> {
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
        Ok(0)
    }
}
