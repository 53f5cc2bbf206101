//! `git bead config`: read and change store-wide settings.

use clap::Subcommand;
use serde_json::Value;

use super::Run;
use crate::bead::Beads;
use crate::cli::{print_json, print_text, text, Ctx};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Subcommand)]
pub enum Args {
    /// Print one setting
    Get { key: String },
    /// Change one setting (prefix, or comma-separated custom types / statuses)
    Set { key: String, value: String },
    /// Print every setting
    List,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, beads: &Beads<'_>) -> Result<i32> {
        let (config, key) = match self {
            Args::Set { key, value } => {
                let actor = ctx.actor(beads.store)?;
                (beads.set_config(&actor, &key, &value)?, Some(key))
            }
            Args::Get { key } => {
                if !crate::bead::ops::CONFIG_KEYS.contains(&key.as_str()) && key != "format" {
                    return Err(Error::invalid(format!("unknown config key '{key}'")));
                }
                let snap = beads.snapshot()?;
                (beads.config(&snap)?, Some(key))
            }
            Args::List => {
                let snap = beads.snapshot()?;
                (beads.config(&snap)?, None)
            }
        };
        let value = serde_json::to_value(&config).expect("config serialises");
        let shown = match &key {
            Some(k) => value.get(k).cloned().unwrap_or(Value::Null),
            None => value,
        };
        if ctx.global.json {
            print_json(&shown)?;
        } else {
            let out = match shown {
                Value::Object(map) => map
                    .iter()
                    .map(|(k, v)| format!("{k} = {}\n", text::line(&text::plain_value(v))))
                    .collect(),
                other => format!("{}\n", text::line(&text::plain_value(&other))),
            };
            print_text(&out)?;
        }
        Ok(0)
    }
}
