use super::super::{print_json, print_text, text, Ctx};
use super::Run;
use crate::convoy::Convoys;
use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {}

impl Run for Args {
    fn run(self, ctx: &Ctx, convoys: &Convoys<'_>) -> Result<i32> {
        let stranded = convoys.stranded()?;
        if ctx.global.json {
            print_json(&stranded)?;
            return Ok(0);
        }
        if stranded.is_empty() {
            ctx.status("No stranded convoys");
            return Ok(0);
        }
        let mut out = String::new();
        for s in &stranded {
            let why = match s.reason.as_str() {
                "ready" => format!("ready, unassigned: {}", s.ready.join(", ")),
                "stuck" => "nothing ready and nobody working".to_string(),
                _ => "tracks no beads".to_string(),
            };
            out.push_str(&format!(
                "{}  {}/{}  {}  ({})\n",
                s.id,
                s.progress.closed,
                s.progress.total,
                text::line(&s.name),
                text::line(&why)
            ));
        }
        print_text(&out)?;
        Ok(0)
    }
}
