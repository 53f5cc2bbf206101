//! Formulas: TOML workflow templates, validated and cooked into a step graph.
//!
//! A pure library: no printing, no argument parsing, no git. The CLI (`git formula`,
//! `git mol`) calls it; the molecule pourer turns a [`Cooked`] into beads.
//!
//! ```text
//! Library::new(repo_root, user_dir)      where formulas are found (built-in wins, then repo, then user)
//!   .load(name) / load_file(path)        → Parsed { formula, warnings }
//! cook(&parsed, &library, &CookOptions)  → Cooked { steps: Vec<CookedStep>, vars, warnings, .. }
//! ```
//!
//! The format is the original's (gastown and beads `*.formula.toml`), key names unchanged:
//! see docs/FORMULAS.md for what is supported and how it differs.

mod cook;
mod expand;
mod graph;
mod library;
mod model;
mod parse;
pub mod text;
mod transform;
mod value;

pub use cook::{cook, CookMode, CookOptions, Cooked, CookedStep};
pub use library::{
    load_file, name_of_file, repo_dir, user_dir, Entry, Library, Resolver, BUILTIN, SUFFIXES,
};
pub use model::{
    Advice, AdviceStep, BranchRule, Compose, ExpandRule, Formula, FormulaKind, Gate, GateRule, Leg,
    LoopSpec, MapRule, Origin, Output, Pointcut, Preset, SourceKind, Step, Synthesis, VarDef,
};
pub use parse::{parse_str, Parsed};
pub use transform::{MAX_EXPANSION_DEPTH, MAX_LOOP_STEPS};
pub use value::{line_col, toml_to_json};

use std::collections::BTreeMap;

use crate::error::{Error, Result};

/// Parse `name=value` (the `--var` syntax).
pub fn parse_var_assignment(text: &str) -> Result<(String, String)> {
    match text.split_once('=') {
        Some((name, value)) if text::is_var_name(name.trim()) => {
            Ok((name.trim().to_string(), value.to_string()))
        }
        _ => Err(Error::invalid(format!(
            "bad variable '{text}': expected NAME=VALUE"
        ))),
    }
}

/// Parse a list of `name=value` into a map; a name given twice is an error.
pub fn parse_var_assignments<S: AsRef<str>>(items: &[S]) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for item in items {
        let (name, value) = parse_var_assignment(item.as_ref())?;
        if out.insert(name.clone(), value).is_some() {
            return Err(Error::invalid(format!("variable '{name}' given twice")));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
