//! `git gastown demo`: build a throwaway town, let scripted agents work its beads through
//! sling, done and the merge queue, and show what happened (crate::demo holds the logic).

use std::path::PathBuf;
use std::time::Duration;

use super::Run;
use crate::cli::{print_json, print_text, resolve_path, text, Ctx};
use crate::demo::{self, DemoReport, DemoSpec};
use crate::error::{Error, Result};
use crate::store::Actor;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Polecats working at once (the scheduler's cap)
    #[arg(long, value_name = "N", default_value_t = 3)]
    agents: usize,
    /// Beads to file (in rounds of N, each depending on one of the round before)
    #[arg(long, value_name = "M", default_value_t = 8)]
    beads: usize,
    /// Build the town in DIR (new or empty) and keep it; default: a temporary directory, removed at the end
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
    /// Stop waiting after this many seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    timeout: u64,
}

impl Run for Args {
    fn run(self, ctx: &Ctx) -> Result<i32> {
        if self.agents == 0 || self.agents > 100 {
            return Err(Error::invalid(format!(
                "--agents {}: give 1 to 100",
                self.agents
            )));
        }
        if self.beads == 0 || self.beads > 1000 {
            return Err(Error::invalid(format!(
                "--beads {}: give 1 to 1000",
                self.beads
            )));
        }
        let dir = match &self.keep {
            Some(dir) => {
                let dir = resolve_path(ctx, dir);
                let empty = std::fs::read_dir(&dir).map_or(true, |mut e| e.next().is_none());
                if dir.exists() && (!dir.is_dir() || !empty) {
                    return Err(Error::invalid(format!(
                        "--keep {}: not a new or empty directory",
                        dir.display()
                    )));
                }
                dir
            }
            None => std::env::temp_dir().join(format!(
                "gastown-demo-{}-{}",
                std::process::id(),
                chrono::Utc::now().timestamp_millis()
            )),
        };
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        let dir = std::fs::canonicalize(&dir)
            .map_err(|e| Error::io(format!("resolving {}", dir.display()), e))?;
        let outcome = run_in(ctx, &self, &dir);
        if self.keep.is_none() {
            let _ = std::fs::remove_dir_all(&dir);
        }
        let report = outcome?;
        if ctx.global.json {
            print_json(&report)?;
        } else {
            print_text(&render(&report, self.keep.is_some()))?;
        }
        Ok(if report.finished { 0 } else { 1 })
    }
}

fn run_in(ctx: &Ctx, args: &Args, dir: &std::path::Path) -> Result<DemoReport> {
    // The agents the demo starts run `git agent ...`: this binary's siblings come first on
    // PATH, whatever is installed elsewhere.
    let exe = std::env::current_exe().map_err(|e| Error::io("finding this binary", e))?;
    let bin_dir = exe.parent().map(PathBuf::from).unwrap_or_default();
    for (key, value) in demo::environment(dir, &bin_dir)? {
        std::env::set_var(key, value);
    }
    let actor = Actor {
        name: "mayor".into(),
        email: "mayor@gastown.local".into(),
    };
    let spec = DemoSpec {
        agents: args.agents,
        beads: args.beads,
        dir: dir.to_path_buf(),
        timeout: Duration::from_secs(args.timeout),
    };
    ctx.status(format!(
        "Building a town in {} with rig '{}', {} beads and up to {} polecats...",
        text::line(&dir.display().to_string()),
        demo::RIG,
        spec.beads,
        spec.agents
    ));
    let built = demo::build(&spec, &actor)?;
    ctx.status("Slinging ready beads; the scripted agents work, `done` hands their branches to the merge queue...");
    let report = demo::run(&built, &spec, &actor);
    let _ = demo::stop_sessions(&built);
    report
}

/// The report as text: the beads, what landed on main, where the town is.
fn render(report: &DemoReport, kept: bool) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "\n{} of {} beads closed by {} polecats in {:.1} s ({} dispatches).\n\nBeads:\n",
        report.closed,
        report.beads.len(),
        report.agents,
        report.elapsed_ms as f64 / 1000.0,
        report.dispatches
    ));
    for b in &report.beads {
        out.push_str(&format!(
            "  {:<10} {:<12} {}\n",
            text::line(&b.id),
            text::line(&b.status),
            text::line(&b.title)
        ));
    }
    out.push_str("\nThe feed (`git gastown feed`):\n");
    for e in &report.feed {
        out.push_str("  ");
        out.push_str(&super::feed::line(e));
    }
    if let Some(c) = &report.convoy {
        out.push_str(&format!(
            "\nConvoy {} \"{}\": {}{}\n",
            text::line(&c.id),
            text::line(&c.name),
            text::line(&c.status),
            c.landed
                .as_deref()
                .map(|at| format!(" at {}", text::line(at)))
                .unwrap_or_default()
        ));
    }
    out.push_str(&format!("\nLanded on {}'s main:\n", report.rig));
    for line in &report.landed {
        out.push_str(&format!("  {}\n", text::line(line)));
    }
    out.push_str("\nThe town now (`git gastown status`):\n");
    for line in super::status::render(&report.status).lines() {
        out.push_str(&format!("  {line}\n"));
    }
    if kept {
        out.push_str(&format!(
            "\nThe town is kept in {} (rig: {}). Look around:\n  cd {} && git gastown rig list && git mq list --all && git bead list --all\n",
            text::line(&report.town.display().to_string()),
            text::line(&report.rig_path.display().to_string()),
            text::line(&report.rig_path.display().to_string()),
        ));
    }
    if !report.finished {
        out.push_str("\nNot everything was closed in time: the beads above that are not closed were still in flight.\n");
    }
    out
}
