//! `git gastown dashboard`: serve the town's web page on 127.0.0.1 until stopped.

use super::{open_town, Run};
use crate::cli::{print_json, print_text, Ctx};
use crate::dashboard::{open_in_browser, Dashboard};
use crate::error::Result;

/// The port when none is given.
pub const DEFAULT_PORT: u16 = 8787;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Port on 127.0.0.1 to listen on (0: any free port)
    #[arg(long, default_value_t = DEFAULT_PORT, value_name = "P")]
    port: u16,
    /// Open the page in the default browser (xdg-open, or open on macOS)
    #[arg(long)]
    open: bool,
}

impl Run for Args {
    fn run(self, ctx: &Ctx) -> Result<i32> {
        let town = open_town(ctx)?;
        let root = town.root.clone();
        // A town that cannot be read fails here, not on the first page load.
        crate::status::gather(&town)?;
        drop(town);
        let dashboard = Dashboard::bind(root.clone(), self.port)?;
        let url = dashboard.url();
        // The URL alone on stdout (scripts and tests read it); the rest on stderr.
        if ctx.global.json {
            print_json(&serde_json::json!({ "url": url, "port": dashboard.port(), "town": root }))?;
        } else {
            print_text(&format!("{url}\n"))?;
        }
        ctx.status(format!(
            "Dashboard of {} at {url} (read-only; Ctrl-C stops it)",
            root.display()
        ));
        if self.open {
            if let Err(err) = open_in_browser(&url) {
                ctx.status(format!("warning: {err}"));
            }
        }
        dashboard.serve()?;
        Ok(0)
    }
}
