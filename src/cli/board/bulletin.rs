use super::super::{print_json, print_text, text, Ctx};
use super::Run;
use crate::board::Board;
use crate::error::Result;
use crate::feed::parse_since;
use crate::town::Town;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Only entries at or after T (RFC 3339, a date, or an age such as 30m, 2h, 1d)
    #[arg(long, value_name = "T")]
    since: Option<String>,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, town: &Town) -> Result<i32> {
        let since = self.since.as_deref().map(parse_since).transpose()?;
        let entries = Board::new(town).bulletin(since)?;
        if ctx.global.json {
            print_json(&entries)?;
        } else if entries.is_empty() {
            ctx.status("The bulletin is empty");
        } else {
            let mut out = String::new();
            for e in &entries {
                let ids = if e.ids.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", e.ids.join(" "))
                };
                out.push_str(&format!(
                    "{}  {:<10} {}{}: {}\n",
                    e.at.get(..19).unwrap_or(&e.at),
                    e.kind,
                    text::line(&e.actor),
                    ids,
                    text::line(e.text.lines().next().unwrap_or(""))
                ));
            }
            print_text(&out)?;
        }
        Ok(0)
    }
}
