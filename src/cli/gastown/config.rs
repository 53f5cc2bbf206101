//! `git gastown config`: shared town and rig settings with their effective values.

use clap::Subcommand;
use serde::Serialize;

use super::{open_town, Run};
use crate::cli::{print_json, print_text, text, Ctx};
use crate::error::Result;
use crate::store::Store;
use crate::town::settings::{self, Setting, Settings};
use crate::town::{Rig, Town};

#[derive(Debug, Clone, Subcommand)]
pub enum Args {
    /// Print the effective value of KEY (the rig's, else the town's, else the default)
    Get {
        key: String,
        /// As rig R sees it (default: the rig containing the current directory, if any)
        #[arg(long, value_name = "R")]
        rig: Option<String>,
    },
    /// Set KEY to VALUE for the town, or with --rig for one rig
    Set {
        key: String,
        /// An int, a bool (true/false), text, a comma-separated list or a duration (30s, 5m, 4h, 2d)
        #[arg(allow_hyphen_values = true)]
        value: String,
        /// Set it for rig R only
        #[arg(long, value_name = "R")]
        rig: Option<String>,
    },
    /// Remove KEY's value from the town, or with --rig from one rig
    Unset {
        key: String,
        /// Remove rig R's value only
        #[arg(long, value_name = "R")]
        rig: Option<String>,
    },
    /// List effective settings with their source (rig, town or default)
    List {
        /// As rig R sees them (default: the rig containing the current directory, if any)
        #[arg(long, value_name = "R")]
        rig: Option<String>,
        /// List every known key with its type, default and meaning instead
        #[arg(long, conflicts_with = "rig")]
        known: bool,
    },
}

/// A row of `config list --known`.
#[derive(Serialize)]
struct KnownKey {
    key: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    default: Option<&'static str>,
    about: &'static str,
}

impl Run for Args {
    fn run(self, ctx: &Ctx) -> Result<i32> {
        if let Args::List { known: true, .. } = self {
            return known(ctx);
        }
        let town = open_town(ctx)?;
        match self {
            Args::Get { key, rig } => {
                let rig = reading_rig(ctx, &town, rig)?;
                let layer = rig
                    .as_ref()
                    .map(|(rig, store)| (store, Some(rig.name.as_str())));
                let setting = settings::effective_for(layer, &town.store, &key)?;
                if ctx.global.json {
                    print_json(&setting)?;
                } else if !setting.value.is_null() {
                    print_text(&format!(
                        "{}\n",
                        text::line(&text::plain_value(&setting.value))
                    ))?;
                }
            }
            Args::Set { key, value, rig } => return set(ctx, &town, &key, Some(&value), rig),
            Args::Unset { key, rig } => return set(ctx, &town, &key, None, rig),
            Args::List { rig, .. } => {
                let rig = reading_rig(ctx, &town, rig)?;
                let layer = rig
                    .as_ref()
                    .map(|(rig, store)| (store, Some(rig.name.as_str())));
                let list = settings::effective_all(layer, &town.store)?;
                if ctx.global.json {
                    print_json(&list)?;
                } else {
                    print_text(&list.iter().map(row).collect::<String>())?;
                }
            }
        }
        Ok(0)
    }
}

/// The rig (and its store) whose view `get` and `list` show: --rig, else the rig
/// containing the current directory. A lone repository is its own town: one layer, no rig.
fn reading_rig(ctx: &Ctx, town: &Town, named: Option<String>) -> Result<Option<(Rig, Store)>> {
    let rigs = town.rigs();
    let rig = match named {
        Some(name) => Some(rigs.get(&name)?).filter(|rig| !rig.lone),
        None if town.is_lone_rig() => None,
        None => rigs.containing(&ctx.dir()).ok(),
    };
    rig.map(|rig| rig.open_store().map(|store| (rig, store)))
        .transpose()
}

fn set(ctx: &Ctx, town: &Town, key: &str, value: Option<&str>, rig: Option<String>) -> Result<i32> {
    let rig = match rig {
        Some(name) => Some(town.rigs().get(&name)?).filter(|r| !r.lone),
        None => None,
    };
    let rig_store: Option<Store> = rig.as_ref().map(Rig::open_store).transpose()?;
    let store = rig_store.as_ref().unwrap_or(&town.store);
    let actor = ctx.actor(store)?;
    let mut changed = Settings::new(store).set(&actor, key, value)?;
    changed.setting.source = if rig.is_some() { "rig" } else { "town" }.into();
    changed.setting.rig = rig.as_ref().map(|r| r.name.clone());
    if ctx.global.json {
        print_json(&changed)?;
        return Ok(0);
    }
    let place = where_from(&changed.setting);
    let note = if changed.changed { "" } else { " (unchanged)" };
    match value {
        Some(_) => ctx.status(format!(
            "{key} = {} ({place}){note}",
            text::line(&text::plain_value(&changed.setting.value))
        )),
        None => ctx.status(format!("unset {key} ({place}){note}")),
    }
    Ok(0)
}

/// `rig NAME`, `town` or `default`.
fn where_from(setting: &Setting) -> String {
    match &setting.rig {
        Some(rig) => format!("rig {rig}"),
        None => setting.source.clone(),
    }
}

fn row(setting: &Setting) -> String {
    format!(
        "{} = {}  ({})\n",
        setting.key,
        text::line(&text::plain_value(&setting.value)),
        where_from(setting)
    )
}

fn known(ctx: &Ctx) -> Result<i32> {
    let rows: Vec<KnownKey> = settings::KNOWN
        .iter()
        .map(|k| KnownKey {
            key: k.key,
            kind: k.kind.name(),
            default: k.default,
            about: k.about,
        })
        .collect();
    if ctx.global.json {
        print_json(&rows)?;
        return Ok(0);
    }
    let width = rows.iter().map(|r| r.key.len()).max().unwrap_or(0);
    let mut out = String::new();
    for r in &rows {
        let default = r
            .default
            .map(|d| format!(" (default {d})"))
            .unwrap_or_default();
        out.push_str(&format!(
            "{:width$}  {:8}  {}{default}\n",
            r.key, r.kind, r.about
        ));
    }
    print_text(&out)?;
    Ok(0)
}
