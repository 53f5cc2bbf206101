//! Mail addresses and their resolution to mailboxes.
//!
//! A *mailbox* is what holds mail: an agent (`mayor`, `deacon`, `RIG/witness`,
//! `RIG/refinery`, `RIG/polecats/NAME`, `RIG/crew/NAME`) or `overseer`, the person. A send
//! may also name `group:NAME` (fan-out to its members), `queue:NAME` (one claimant takes
//! each message), `channel:NAME` (its subscribers read it; retention prunes it), patterns
//! (`*/witness`, `RIG/*`, `@town`, `@crew`, `@polecats`, `@witnesses`, `@refineries`,
//! `@all`) and a bare list name, looked up among groups, queues and channels. A word that
//! resolves to nothing, or a bare name that more than one kind of list holds, is an error.

use std::collections::BTreeSet;

use super::lists::{ListKind, Lists};
use crate::agent::{address::validate_agent_name, Address, Agents, Role};
use crate::error::{Error, Result};
use crate::town::rigs::validate_name as validate_rig_name;
use crate::town::Town;

/// The person steering the town.
pub const OVERSEER: &str = "overseer";

/// A mailbox address in its canonical form, from user input (syntax only: fast, for the
/// reader's own identity). `RIG/NAME` is not accepted here; `Resolver` resolves it.
pub fn parse_mailbox(text: &str) -> Result<String> {
    if text == OVERSEER {
        return Ok(OVERSEER.to_string());
    }
    Address::parse(text).map(|a| a.to_string()).map_err(|_| {
        Error::invalid(format!(
            "'{}' is not a mailbox: use overseer, mayor, deacon, RIG/witness, RIG/refinery, RIG/polecats/NAME or RIG/crew/NAME",
            text.escape_debug()
        ))
    })
}

/// Names of groups, queues and channels: as rig names (one safe path component).
pub fn validate_list_name(kind: ListKind, name: &str) -> Result<()> {
    validate_rig_name(name).map_err(|_| {
        Error::invalid(format!(
            "bad {} name '{}': use lower-case letters, digits, '-' and '_' (at most 32)",
            kind.as_str(),
            name.escape_debug()
        ))
    })
}

/// Where a send goes, once resolved: mailboxes (agents, overseer) and lists that hold
/// messages themselves (queues, channels).
pub type Recipients = Vec<String>;

/// Resolves what users write to mailboxes, against the town's rigs and agents and the mail
/// collection's lists.
pub struct Resolver<'a> {
    town: &'a Town,
    lists: &'a Lists,
    known: std::cell::OnceCell<Vec<String>>,
}

/// How deep groups may nest (a group of groups ...), so a cycle ends as an error.
const MAX_NESTING: usize = 8;

impl<'a> Resolver<'a> {
    pub fn new(town: &'a Town, lists: &'a Lists) -> Self {
        Resolver {
            town,
            lists,
            known: std::cell::OnceCell::new(),
        }
    }

    /// Every word resolved, in order, without duplicates.
    pub fn resolve_all(&self, words: &[String]) -> Result<Recipients> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        for word in words {
            for r in self.resolve(word, 0)? {
                if seen.insert(r.clone()) {
                    out.push(r);
                }
            }
        }
        Ok(out)
    }

    /// One word as the mailboxes or lists it stands for.
    pub fn resolve(&self, word: &str, depth: usize) -> Result<Recipients> {
        let word = word.trim();
        if word.is_empty() {
            return Err(Error::invalid("an empty address"));
        }
        if word == OVERSEER || word == "human" {
            return Ok(vec![OVERSEER.to_string()]);
        }
        if let Some((kind, name)) = ListKind::split(word) {
            validate_list_name(kind, name)?;
            return self.list(kind, name, depth);
        }
        if word.starts_with('@') || word.contains('*') {
            return self.pattern(word);
        }
        if word.contains('/') || word == "mayor" || word == "deacon" {
            return Ok(vec![self.agent(word)?]);
        }
        let kinds: Vec<ListKind> = ListKind::ALL
            .into_iter()
            .filter(|k| self.lists.get(*k, word).is_some())
            .collect();
        match kinds.as_slice() {
            [kind] => self.list(*kind, word, depth),
            [] => Err(Error::invalid(format!(
                "unknown address '{}': no agent, group, queue or channel of that name",
                word.escape_debug()
            ))),
            _ => Err(Error::invalid(format!(
                "ambiguous address '{word}': it names a {}; write {}",
                kinds
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(" and a "),
                kinds
                    .iter()
                    .map(|k| format!("{}:{word}", k.as_str()))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ))),
        }
    }

    fn list(&self, kind: ListKind, name: &str, depth: usize) -> Result<Recipients> {
        let Some(def) = self.lists.get(kind, name) else {
            return Err(Error::invalid(format!(
                "unknown address '{}:{name}': no such {} (see `git mail {} list`)",
                kind.as_str(),
                kind.as_str(),
                kind.as_str()
            )));
        };
        match kind {
            ListKind::Queue | ListKind::Channel => Ok(vec![format!("{}:{name}", kind.as_str())]),
            ListKind::Group => {
                if depth >= MAX_NESTING {
                    return Err(Error::invalid(format!(
                        "group '{name}' nests groups more than {MAX_NESTING} deep (a cycle?)"
                    )));
                }
                let mut out = Vec::new();
                for member in &def.members {
                    out.extend(self.resolve(member, depth + 1)?);
                }
                Ok(out)
            }
        }
    }

    /// An agent's canonical address: it must parse and exist (a rig's witness and refinery
    /// exist with their rig; polecats and crew need a live record).
    fn agent(&self, word: &str) -> Result<String> {
        let unknown = |why: String| {
            Error::invalid(format!("unknown address '{}': {why}", word.escape_debug()))
        };
        let agents = Agents::new(self.town);
        let address = agents.resolve(word).map_err(|e| unknown(e.to_string()))?;
        match &address.rig {
            None => {}
            Some(rig) if !address.role.is_named() => {
                self.town
                    .rigs()
                    .get(rig)
                    .map_err(|e| unknown(e.to_string()))?;
            }
            Some(_) => {
                let agent = agents
                    .get(&address)
                    .map_err(|_| unknown("no such agent".into()))?;
                if !agent.is_live() {
                    return Err(unknown("that agent was nuked".into()));
                }
            }
        }
        Ok(address.to_string())
    }

    /// Every address a pattern may match: live agents, each rig's witness and refinery,
    /// the mayor and the deacon.
    fn known(&self) -> Result<&[String]> {
        if let Some(known) = self.known.get() {
            return Ok(known);
        }
        let mut set = BTreeSet::new();
        set.insert(Address::town(Role::Mayor).to_string());
        set.insert(Address::town(Role::Deacon).to_string());
        for rig in self.town.rigs().list()? {
            set.insert(Address::rig_role(&rig.name, Role::Witness).to_string());
            set.insert(Address::rig_role(&rig.name, Role::Refinery).to_string());
        }
        for agent in Agents::new(self.town).list(None, false)? {
            set.insert(agent.address.to_string());
        }
        Ok(self.known.get_or_init(|| set.into_iter().collect()))
    }

    fn pattern(&self, word: &str) -> Result<Recipients> {
        let role_of = |a: &str| Address::parse(a).map(|a| a.role).ok();
        let known = self.known()?;
        let matched: Vec<String> = match word {
            "@town" => known.iter().filter(|a| role_of(a).is_some_and(Role::is_town_role)).cloned().collect(),
            "@all" => known.to_vec(),
            "@crew" | "@polecats" | "@witnesses" | "@refineries" => {
                let role = match word {
                    "@crew" => Role::Crew,
                    "@polecats" => Role::Polecat,
                    "@witnesses" => Role::Witness,
                    _ => Role::Refinery,
                };
                known.iter().filter(|a| role_of(a) == Some(role)).cloned().collect()
            }
            w if w.starts_with('@') => {
                return Err(Error::invalid(format!(
                    "unknown address '{}': patterns are @town, @all, @crew, @polecats, @witnesses, @refineries, */witness, RIG/*",
                    w.escape_debug()
                )))
            }
            w => {
                let parts: Vec<&str> = w.split('/').collect();
                for part in &parts {
                    let ok = *part == "*"
                        || matches!(*part, "polecats" | "crew")
                        || validate_rig_name(part).is_ok()
                        || validate_agent_name(part).is_ok();
                    if !ok {
                        return Err(Error::invalid(format!("bad address pattern '{}'", w.escape_debug())));
                    }
                }
                known.iter().filter(|a| glob(&parts, a)).cloned().collect()
            }
        };
        if matched.is_empty() {
            return Err(Error::invalid(format!(
                "unknown address '{word}': the pattern matches no agent"
            )));
        }
        Ok(matched)
    }
}

/// Whether `address` matches the pattern's components: `*` is one whole component, and a
/// final `*` after the rig (`RIG/*`) matches every agent of that rig.
fn glob(pattern: &[&str], address: &str) -> bool {
    let parts: Vec<&str> = address.split('/').collect();
    if let [rig, "*"] = pattern {
        return parts.len() >= 2 && (*rig == "*" || *rig == parts[0]);
    }
    pattern.len() == parts.len() && pattern.iter().zip(&parts).all(|(p, a)| *p == "*" || p == a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_whole_components() {
        assert!(glob(&["*", "witness"], "web/witness"));
        assert!(!glob(&["*", "witness"], "web/polecats/nux"));
        assert!(glob(&["web", "*"], "web/polecats/nux"));
        assert!(glob(&["web", "*"], "web/refinery"));
        assert!(!glob(&["web", "*"], "api/refinery"));
        assert!(!glob(&["web", "*"], "mayor"));
        assert!(glob(&["*", "polecats", "*"], "api/polecats/nux"));
    }

    #[test]
    fn mailboxes_parse_to_canonical_addresses() {
        assert_eq!(
            parse_mailbox("web/polecat/nux").unwrap(),
            "web/polecats/nux"
        );
        assert_eq!(parse_mailbox("overseer").unwrap(), "overseer");
        assert!(parse_mailbox("alice").is_err());
        assert!(parse_mailbox("../x").is_err());
    }
}
