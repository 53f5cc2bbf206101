//! `git sling`: put beads on agents' hooks and start them; `git sling queue` manages the
//! dispatches waiting for capacity. The rules are in `crate::sling`; this file maps
//! arguments to a `SlingSpec` and prints what happened to each bead.

mod queue;

use clap::{Parser, Subcommand};
use serde_json::{Map, Value};

use super::formula::{library_for, load_target};
use super::{print_json, print_text, text, Ctx, GlobalArgs};
use crate::agent::{Address, Agents, Role};
use crate::bead::Beads;
use crate::error::{Error, Result};
use crate::sling::{Dispatch, FormulaChoice, Sling, SlingSpec, Target};
use crate::town::{settings, Town};

/// Dispatch beads to agents: attach them to a hook and start the agent
///
/// `git sling BEAD... [TARGET]` attaches each bead to an agent's hook (one atomic write:
/// the bead becomes hooked, the agent records it) and starts the agent's session with a
/// beacon naming its hook. TARGET is a rig (an idle polecat of it, its sandbox refreshed,
/// else a new one), RIG/NAME, crew/NAME, self or mayor; default: the rig the beads belong to.
/// Over the scheduler's capacity the dispatch is queued and starts when a slot frees.
#[derive(Debug, Clone, Parser)]
#[command(name = "git-sling", version, args_conflicts_with_subcommands = true)]
#[command(
    after_help = "Exit status: 0 every bead started, hooked or queued; 1 bad input or a dispatch failed; 4 a bead is on another hook."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub dispatch: DispatchArgs,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// The dispatches waiting for capacity: list, run, pause, resume, clear
    Queue(queue::Args),
}

#[derive(Debug, Clone, clap::Args)]
pub struct DispatchArgs {
    /// Beads to dispatch, then optionally the target (a rig, RIG/NAME, crew/NAME, self, mayor)
    #[arg(value_name = "BEAD... [TARGET]")]
    words: Vec<String>,
    /// Dispatch the N most urgent ready beads of the rig (default 1)
    #[arg(long, value_name = "N", num_args = 0..=1, default_missing_value = "1")]
    ready: Option<usize>,
    /// The runtime to start (claude, codex, ... or a custom one)
    #[arg(long = "agent", value_name = "RUNTIME")]
    runtime: Option<String>,
    /// Pour this formula onto each bead (default: the rig's workflow.default_formula)
    #[arg(long, value_name = "FORMULA", conflicts_with = "no_formula")]
    formula: Option<String>,
    /// Pour no formula
    #[arg(long)]
    no_formula: bool,
    /// A formula variable (repeatable)
    #[arg(long = "var", value_name = "KEY=VALUE")]
    vars: Vec<String>,
    /// Take a bead from another hook, or replace what the agent's hook holds
    #[arg(long)]
    force: bool,
    /// Do not put beads that no convoy tracks into a new "Work: <title>" convoy
    #[arg(long)]
    no_convoy: bool,
}

impl super::Tool for Cli {
    fn global(&self) -> &GlobalArgs {
        &self.global
    }

    fn run(self, ctx: &Ctx) -> Result<i32> {
        match self.command {
            Some(Command::Queue(args)) => queue::run(ctx, args),
            None => dispatch(ctx, self.dispatch),
        }
    }
}

fn dispatch(ctx: &Ctx, args: DispatchArgs) -> Result<i32> {
    let started = std::time::Instant::now();
    let town = Town::discover(&ctx.dir())?;
    let agents = Agents::new(&town);
    let store = ctx.open_store()?;
    let actor = ctx.actor(&store)?;
    let (beads, target) = split_target(ctx, &town, &agents, &args)?;
    if beads.is_empty() {
        return Err(Error::invalid(
            "nothing to sling: name beads, or use --ready [N]",
        ));
    }
    // The store whose settings pick the default formula: the rig's, or the town's for the mayor.
    let rig_store = match &target {
        Target::Rig(r) => town.rigs().get(r)?.open_store()?,
        Target::Agent(a) => match &a.rig {
            Some(r) => town.rigs().get(r)?.open_store()?,
            None => crate::store::Store::open(&town.root)?,
        },
    };
    let library = library_for(ctx);
    let formula_name = if args.no_formula {
        None
    } else {
        match &args.formula {
            Some(name) => Some(name.clone()),
            None => settings::effective(Some(&rig_store), &town.store, "workflow.default_formula")?
                .value
                .as_str()
                .map(str::to_string),
        }
    };
    let loaded = match &formula_name {
        Some(name) => Some(load_target(ctx, &library, name)?),
        None => None,
    };
    let mut vars = Map::new();
    for (k, v) in crate::formula::parse_var_assignments(&args.vars)? {
        vars.insert(k, Value::String(v));
    }
    let spec = SlingSpec {
        beads,
        target,
        runtime: args.runtime,
        formula: loaded.as_ref().map(|(parsed, lib)| FormulaChoice {
            parsed: parsed.clone(),
            resolver: lib,
        }),
        vars,
        force: args.force,
        no_start: false,
    };
    let sling = Sling::new(agents);
    let dispatches = sling.sling(&actor, &spec)?;
    let rig = rig_of(&town, &spec.target).ok().map(|r| r.name);
    crate::telemetry::sling(&town, rig.as_deref(), &dispatches, started);
    if !args.no_convoy {
        track_in_convoy(ctx, &town, &actor, &dispatches);
    }
    report(ctx, &dispatches)
}

/// Slung beads that no convoy tracks go into one new "Work: <title>" convoy (the town's
/// record of the batch). Best effort: the dispatches have happened either way.
fn track_in_convoy(ctx: &Ctx, town: &Town, actor: &crate::store::Actor, dispatches: &[Dispatch]) {
    let beads: Vec<String> = dispatches
        .iter()
        .filter(|d| d.outcome != "failed")
        .map(|d| d.bead.clone())
        .collect();
    if beads.is_empty() {
        return;
    }
    let owner = std::env::var("GT_AGENT")
        .ok()
        .and_then(|a| crate::mail::parse_mailbox(a.trim()).ok())
        .unwrap_or_else(|| crate::mail::OVERSEER.to_string());
    match crate::convoy::Convoys::new(town).track_new_work(actor, &beads, Some(owner)) {
        Ok(Some(convoy)) => ctx.status(format!(
            "Convoy {}: {}",
            text::line(&convoy.id),
            text::line(&convoy.name)
        )),
        Ok(None) => {}
        Err(err) => ctx.status(format!(
            "warning: no convoy made for the slung beads: {}",
            text::line(&crate::error::one_line(&err.to_string()))
        )),
    }
}

/// Print one line per bead (or the JSON array); exit 1 when any dispatch failed.
pub(super) fn report(ctx: &Ctx, dispatches: &[Dispatch]) -> Result<i32> {
    if ctx.global.json {
        print_json(&dispatches)?;
    } else {
        let mut out = String::new();
        for d in dispatches {
            let who = d.agent.as_ref().map(|a| a.to_string()).unwrap_or_default();
            let line = match d.outcome.as_str() {
                "started" => format!(
                    "{} -> {who}: started ({})",
                    d.bead,
                    d.runtime.as_deref().unwrap_or("")
                ),
                "hooked" => format!("{} -> {who}: on its hook", d.bead),
                "queued" => format!("{}: queued ({})", d.bead, d.reason.as_deref().unwrap_or("")),
                _ => format!(
                    "{}: dispatch failed ({} so far): {}",
                    d.bead,
                    d.failures,
                    d.reason.as_deref().unwrap_or("")
                ),
            };
            out.push_str(&text::line(&line));
            out.push('\n');
        }
        print_text(&out)?;
    }
    Ok(if dispatches.iter().any(|d| d.outcome == "failed") {
        1
    } else {
        0
    })
}

/// The rig a target is in.
fn rig_of(town: &Town, target: &Target) -> Result<crate::town::Rig> {
    match target {
        Target::Rig(r) => town.rigs().get(r),
        Target::Agent(a) => town.rigs().get(a.rig.as_deref().unwrap_or_default()),
    }
}

/// The beads and the target: the last word is the target when it names one.
fn split_target(
    ctx: &Ctx,
    town: &Town,
    agents: &Agents<'_>,
    args: &DispatchArgs,
) -> Result<(Vec<String>, Target)> {
    let mut words = args.words.clone();
    let mut target = None;
    if let Some(last) = words.last() {
        if let Some(t) = parse_target(ctx, town, agents, last)? {
            target = Some(t);
            words.pop();
        }
    }
    let named_target = target.clone();
    let target =
        match target {
            Some(t) => t,
            None => Target::Rig(town.rigs().containing(&ctx.dir()).map(|r| r.name).or_else(
                |_| {
                    // Outside a rig: the rig whose prefix the first bead carries.
                    let first = words.first().cloned().unwrap_or_default();
                    town.rigs()
                        .list()?
                        .into_iter()
                        .find(|r| {
                            !r.prefix.is_empty() && first.starts_with(&format!("{}-", r.prefix))
                        })
                        .map(|r| r.name)
                        .ok_or_else(|| {
                            Error::invalid(format!("no rig to sling '{first}' to: name a target"))
                        })
                },
            )?),
        };
    if named_target.is_none() && words.len() > 1 {
        // `BEAD WORD`: WORD is more likely a mistyped target than a bead; say so.
        let last = words.last().cloned().unwrap_or_default();
        let rig = rig_of(town, &target)?;
        let store = rig.open_store()?;
        let beads = Beads::new(&store);
        let snap = beads.snapshot()?;
        if let Err(Error::NotFound(_)) =
            beads.resolve(&snap, &beads.config(&snap)?, &last, &mut None)
        {
            return Err(Error::invalid(format!(
                "no rig, agent or bead named '{last}'"
            )));
        }
    }
    if let Some(n) = args.ready {
        if !words.is_empty() {
            return Err(Error::invalid(
                "--ready picks the beads itself: name only a rig",
            ));
        }
        let rig = rig_of(town, &target)?;
        let store = rig.open_store()?;
        words = crate::sling::ready::pickable(&store, n, chrono::Utc::now().timestamp_millis())?;
        if words.is_empty() {
            return Err(Error::invalid(format!(
                "rig '{}' has no ready, unassigned beads",
                rig.name
            )));
        }
    }
    Ok((words, target))
}

fn parse_target(ctx: &Ctx, town: &Town, agents: &Agents<'_>, word: &str) -> Result<Option<Target>> {
    if word == "self" {
        return Ok(Some(Target::Agent(agents.whoami(&ctx.dir())?)));
    }
    if word == "mayor" {
        return Ok(Some(Target::Agent(Address::town(Role::Mayor))));
    }
    if let Some(name) = word.strip_prefix("crew/") {
        let rig = town.rigs().containing(&ctx.dir())?;
        return Ok(Some(Target::Agent(Address::named(
            &rig.name,
            Role::Crew,
            name,
        ))));
    }
    if word.contains('/') {
        return agents.resolve(word).map(|a| Some(Target::Agent(a)));
    }
    if town.rigs().list()?.iter().any(|r| r.name == word) {
        return Ok(Some(Target::Rig(word.to_string())));
    }
    Ok(None)
}
