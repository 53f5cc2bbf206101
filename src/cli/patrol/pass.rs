//! `git patrol [--rig R] [--dry-run]`: one pass, and its report.

use crate::cli::formula::library_for;
use crate::cli::{print_json, print_text, text, Ctx};
use crate::error::Result;
use crate::patrol::{Finding, Patrol, PatrolSpec};
use crate::town::Town;

pub fn run(ctx: &Ctx, rig: Option<String>, dry_run: bool) -> Result<i32> {
    let town = Town::discover(&ctx.dir())?;
    let actor = ctx.actor(&town.store)?;
    let library = library_for(ctx);
    let report = Patrol::new(&town).run(
        &actor,
        &PatrolSpec {
            rig,
            dry_run,
            library: &library,
        },
    )?;
    if ctx.global.json {
        print_json(&report)?;
        return Ok(report.exit_code());
    }
    if let Some(why) = &report.skipped {
        ctx.status(format!("Patrol skipped: {why}"));
        return Ok(0);
    }
    let mut out = String::new();
    let mut seen = 0;
    for rig in &report.rigs {
        for f in &rig.findings {
            out.push_str(&line(Some(&rig.rig), f));
            seen += 1;
        }
    }
    for f in &report.town {
        out.push_str(&line(None, f));
        seen += 1;
    }
    print_text(&out)?;
    let polecats: usize = report.rigs.iter().map(|r| r.polecats).sum();
    let verb = if dry_run { "would act on" } else { "acted on" };
    ctx.status(format!(
        "Patrol: {} rig(s), {polecats} polecat(s), {seen} finding(s); {verb} {}, {} failed; {} ms",
        report.rigs.len(),
        report.actions,
        report.failures,
        report.millis
    ));
    Ok(report.exit_code())
}

/// `OUTCOME duty/class [rig] agent bead: detail -> action (error)`
fn line(rig: Option<&str>, f: &Finding) -> String {
    let mut s = format!("{:<8} {}/{}", f.outcome, f.duty, f.class);
    if let Some(rig) = rig {
        s.push_str(&format!(" [{}]", text::line(rig)));
    }
    if let Some(agent) = &f.agent {
        s.push_str(&format!(" {}", text::line(agent)));
    }
    if let Some(bead) = &f.bead {
        s.push_str(&format!(" {}", text::line(bead)));
    }
    s.push_str(&format!(": {}", text::line(&f.detail)));
    if f.action != "none" {
        s.push_str(&format!(" -> {}", f.action));
    }
    if let Some(err) = &f.error {
        s.push_str(&format!(" ({})", text::line(err)));
    }
    s.push('\n');
    s
}
