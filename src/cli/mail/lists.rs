//! What `group`, `queue` and `channel` share: member validation and the views of lists.

use serde_json::json;

use super::super::{print_json, print_text, text, Ctx};
use super::shared;
use crate::error::{Error, Result};
use crate::mail::address::validate_list_name;
use crate::mail::{ListDef, ListKind, Mail, Resolver, Summary};
use crate::town::Town;

/// Members as they are stored: each must resolve now; agents in canonical form, patterns
/// and lists as written (they are expanded at each send).
pub fn members(town: &Town, words: &[String]) -> Result<Vec<String>> {
    let lists = Mail::new(town).lists()?;
    let resolver = Resolver::new(town, &lists);
    let mut out = Vec::new();
    for word in words {
        let resolved = resolver.resolve(word, 0)?;
        let plain_agent =
            !word.contains('*') && !word.starts_with('@') && ListKind::split(word).is_none();
        match resolved.as_slice() {
            [one] if plain_agent => out.push(one.clone()),
            _ => out.push(word.trim().to_string()),
        }
    }
    Ok(out)
}

/// A subscriber or claimant: one mailbox (default: mine).
pub fn one_mailbox(ctx: &Ctx, town: &Town, word: Option<&str>) -> Result<String> {
    let Some(word) = word else {
        return shared::mailbox(ctx);
    };
    let lists = Mail::new(town).lists()?;
    match Resolver::new(town, &lists).resolve(word, 0)?.as_slice() {
        [one] if !one.contains(':') => Ok(one.clone()),
        _ => Err(Error::invalid(format!(
            "'{word}' is not one mailbox (an agent or overseer)"
        ))),
    }
}

pub fn name(kind: ListKind, word: &str) -> Result<String> {
    let name = word
        .strip_prefix(&format!("{}:", kind.as_str()))
        .unwrap_or(word);
    validate_list_name(kind, name)?;
    Ok(name.to_string())
}

pub fn print_defs(ctx: &Ctx, kind: ListKind, defs: &[ListDef]) -> Result<i32> {
    let defs: Vec<&ListDef> = defs.iter().filter(|d| d.kind == kind).collect();
    if ctx.global.json {
        print_json(&defs)?;
    } else if defs.is_empty() {
        ctx.status(format!("No {}s", kind.as_str()));
    } else {
        let mut out = String::new();
        for d in defs {
            out.push_str(&format!(
                "{} ({} member{})\n",
                d.name,
                d.members.len(),
                if d.members.len() == 1 { "" } else { "s" }
            ));
        }
        print_text(&out)?;
    }
    Ok(0)
}

pub fn print_def(ctx: &Ctx, def: &ListDef, messages: Option<&[Summary]>) -> Result<i32> {
    if ctx.global.json {
        let mut value = json!(def);
        if let Some(m) = messages {
            value["messages"] = json!(m);
        }
        print_json(&value)?;
        return Ok(0);
    }
    let mut out = format!("{} {}\n", def.kind.as_str(), def.name);
    let label = if def.kind == ListKind::Channel {
        "subscribers"
    } else {
        "members"
    };
    out.push_str(&format!(
        "{label}: {}\n",
        text::line(&def.members.join(", "))
    ));
    if let Some(order) = &def.order {
        out.push_str(&format!("order: {order}\n"));
    }
    if let Some(n) = def.retain_count {
        out.push_str(&format!("retain: {n} messages\n"));
    }
    if let Some(h) = def.retain_hours {
        out.push_str(&format!("retain: {h} hours\n"));
    }
    print_text(&out)?;
    if let Some(m) = messages {
        shared::print_summaries(ctx, m, "No messages")?;
    }
    Ok(0)
}
