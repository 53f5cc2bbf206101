use std::io::Write;
use std::time::Duration;

use super::super::{print_json, text, Ctx};
use super::{open_town, Run};
use crate::error::{Error, Result};
use crate::feed::{parse_since, Event, Feed, Filter, Follower};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Only events at or after T (RFC 3339, a date, or an age such as 30m, 2h, 1d)
    #[arg(long, value_name = "T")]
    since: Option<String>,
    /// Only events of this rig
    #[arg(long, value_name = "RIG")]
    rig: Option<String>,
    /// Only events of these kinds (sling, hook, done, merged, rejected, landed, mail, ...; repeatable)
    #[arg(long, value_name = "KIND")]
    kind: Vec<String>,
    /// Show at most the last N events (0: all)
    #[arg(short = 'n', long, value_name = "N", default_value_t = 0)]
    limit: usize,
    /// Keep printing new events as they are written (--json: one JSON object per line)
    #[arg(short, long)]
    follow: bool,
    /// With --follow: how often to look at the refs, in milliseconds
    #[arg(long, value_name = "MS", default_value_t = 250, hide = true)]
    poll_ms: u64,
}

impl Run for Args {
    fn run(self, ctx: &Ctx) -> Result<i32> {
        let town = open_town(ctx)?;
        if let Some(rig) = &self.rig {
            town.rigs().get(rig)?;
        }
        let filter = Filter {
            since_ms: self.since.as_deref().map(parse_since).transpose()?,
            rig: self.rig.clone(),
            kinds: self.kind.clone(),
        };
        let feed = Feed::new(&town)?;
        let mut events = feed.events(&filter)?;
        if self.limit > 0 && events.len() > self.limit {
            events.drain(..events.len() - self.limit);
        }
        if !self.follow {
            if ctx.global.json {
                print_json(&events)?;
            } else if events.is_empty() {
                ctx.status("No events");
            } else {
                print_lines(ctx, &events)?;
            }
            return Ok(0);
        }
        let mut follower = Follower::new(&feed, filter)?;
        print_lines(ctx, &events)?;
        loop {
            std::thread::sleep(Duration::from_millis(self.poll_ms.max(10)));
            let new = follower.poll()?;
            print_lines(ctx, &new)?;
        }
    }
}

/// Events one per line (JSON lines with --json), flushed at once for a reader that waits.
fn print_lines(ctx: &Ctx, events: &[Event]) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let mut out = String::new();
    for e in events {
        if ctx.global.json {
            out.push_str(&serde_json::to_string(e).map_err(|e| Error::Git(e.to_string()))?);
            out.push('\n');
        } else {
            out.push_str(&line(e));
        }
    }
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| Error::io("writing output", e))
}

fn line(e: &Event) -> String {
    let rig = e
        .rig
        .as_deref()
        .map(|r| format!("[{r}] "))
        .unwrap_or_default();
    format!(
        "{}  {:<9} {}{}: {}\n",
        e.at.get(..19).unwrap_or(&e.at).replace('T', " "),
        e.kind,
        rig,
        text::line(&e.actor),
        text::line(&e.summary)
    )
}
