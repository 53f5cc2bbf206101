//! Agent addresses, as Gas Town's: `mayor`, `deacon`, `<rig>/witness`, `<rig>/refinery`,
//! `<rig>/polecats/<name>`, `<rig>/crew/<name>`. An address names one record path in one
//! store and one sandbox directory; every part is validated so none escapes its directory.

use std::fmt;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::town::rigs::validate_name as validate_rig_name;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Mayor,
    Deacon,
    Witness,
    Refinery,
    Polecat,
    Crew,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Mayor => "mayor",
            Role::Deacon => "deacon",
            Role::Witness => "witness",
            Role::Refinery => "refinery",
            Role::Polecat => "polecat",
            Role::Crew => "crew",
        }
    }

    pub fn parse(text: &str) -> Result<Role> {
        Ok(match text {
            "mayor" => Role::Mayor,
            "deacon" => Role::Deacon,
            "witness" => Role::Witness,
            "refinery" => Role::Refinery,
            "polecat" | "polecats" => Role::Polecat,
            "crew" => Role::Crew,
            _ => {
                return Err(Error::invalid(format!(
                    "unknown role '{text}' (mayor, deacon, witness, refinery, polecat, crew)"
                )))
            }
        })
    }

    /// Town-wide roles live in the town's store; the others in their rig's.
    pub fn is_town_role(self) -> bool {
        matches!(self, Role::Mayor | Role::Deacon)
    }

    /// Roles with a name of their own (several per rig).
    pub fn is_named(self) -> bool {
        matches!(self, Role::Polecat | Role::Crew)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address {
    pub rig: Option<String>,
    pub role: Role,
    pub name: Option<String>,
}

/// Agent names: lower-case letters, digits, '-' and '_', starting with a letter or digit.
pub fn validate_agent_name(name: &str) -> Result<()> {
    crate::town::rigs::validate_path_name("agent", name, 40)
}

impl Address {
    pub fn town(role: Role) -> Address {
        Address {
            rig: None,
            role,
            name: None,
        }
    }

    pub fn rig_role(rig: &str, role: Role) -> Address {
        Address {
            rig: Some(rig.to_string()),
            role,
            name: None,
        }
    }

    pub fn named(rig: &str, role: Role, name: &str) -> Address {
        Address {
            rig: Some(rig.to_string()),
            role,
            name: Some(name.to_string()),
        }
    }

    /// Parse a full address. `<rig>/<name>` alone is not accepted here: it is ambiguous
    /// between a polecat and a crew member, and resolving it needs the store
    /// (`Agents::resolve`).
    pub fn parse(text: &str) -> Result<Address> {
        let bad = || {
            Error::invalid(format!(
                "bad agent address '{}': use mayor, deacon, RIG/witness, RIG/refinery, RIG/polecats/NAME or RIG/crew/NAME",
                text.escape_debug()
            ))
        };
        let parts: Vec<&str> = text.split('/').collect();
        let address = match parts.as_slice() {
            ["mayor"] => Address::town(Role::Mayor),
            ["deacon"] => Address::town(Role::Deacon),
            [rig, "witness"] => Address::rig_role(rig, Role::Witness),
            [rig, "refinery"] => Address::rig_role(rig, Role::Refinery),
            [rig, "polecats" | "polecat", name] => Address::named(rig, Role::Polecat, name),
            [rig, "crew", name] => Address::named(rig, Role::Crew, name),
            _ => return Err(bad()),
        };
        if let Some(rig) = &address.rig {
            validate_rig_name(rig).map_err(|_| bad())?;
        }
        if let Some(name) = &address.name {
            validate_agent_name(name)?;
        }
        Ok(address)
    }

    /// The record's path in its store's work collection.
    pub fn record_path(&self) -> String {
        match (&self.role, &self.name) {
            (Role::Polecat, Some(name)) => format!("agents/polecats/{name}.json"),
            (Role::Crew, Some(name)) => format!("agents/crew/{name}.json"),
            (role, _) => format!("agents/{}.json", role.as_str()),
        }
    }

    /// A name for the session (tmux session, log file): `gt-<rig>-<name>`, `gt-mayor`.
    pub fn session_name(&self) -> String {
        match (&self.rig, &self.name) {
            (Some(rig), Some(name)) if self.role == Role::Crew => format!("gt-{rig}-crew-{name}"),
            (Some(rig), Some(name)) => format!("gt-{rig}-{name}"),
            (Some(rig), None) => format!("gt-{rig}-{}", self.role),
            (None, _) => format!("gt-{}", self.role),
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.rig, &self.name) {
            (None, _) => write!(f, "{}", self.role),
            (Some(rig), None) => write!(f, "{rig}/{}", self.role),
            (Some(rig), Some(name)) if self.role == Role::Polecat => {
                write!(f, "{rig}/polecats/{name}")
            }
            (Some(rig), Some(name)) => write!(f, "{rig}/crew/{name}"),
        }
    }
}

impl Serialize for Address {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_round_trip() {
        for text in [
            "mayor",
            "deacon",
            "web/witness",
            "web/refinery",
            "web/polecats/nux",
            "web/crew/max",
        ] {
            assert_eq!(Address::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(
            Address::parse("web/polecat/nux").unwrap().to_string(),
            "web/polecats/nux"
        );
    }

    #[test]
    fn bad_addresses_are_refused() {
        for text in [
            "",
            "web",
            "web/polecats",
            "web/polecats/../x",
            "../polecats/x",
            "web/polecats/a/b",
            "web/crew/X",
            "web/boss",
            "web/polecats/nux\n",
        ] {
            assert!(Address::parse(text).is_err(), "{text:?} accepted");
        }
    }

    #[test]
    fn record_paths_stay_in_agents() {
        let a = Address::parse("web/polecats/nux").unwrap();
        assert_eq!(a.record_path(), "agents/polecats/nux.json");
        assert_eq!(a.session_name(), "gt-web-nux");
        assert_eq!(
            Address::parse("mayor").unwrap().record_path(),
            "agents/mayor.json"
        );
    }
}
