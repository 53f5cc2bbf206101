//! Polecat name pools, as Gas Town's: themed lists (mad-max by default), then numbers past
//! the pool (`<theme-first-name>-51`, ...). A name is free when no live polecat holds it;
//! names are picked inside the rig's write lock, so concurrent `agent add`s never collide.

use crate::error::{Error, Result};

pub const MAD_MAX: &[&str] = &[
    "furiosa",
    "nux",
    "slit",
    "rictus",
    "toast",
    "capable",
    "cheedo",
    "dag",
    "angharad",
    "immortan",
    "max",
    "morsov",
    "ace",
    "keeper",
    "valkyrie",
    "scrotus",
    "corpus",
    "organic",
    "bullet",
    "doof",
    "splendid",
    "miss-giddy",
    "prime",
    "vuvalini",
    "glory",
    "coma",
    "dementus",
    "jack",
    "praetorian",
    "mary",
    "chumbucket",
    "hungry",
    "warboy",
    "gastown",
    "citadel",
    "buzzard",
    "rockrider",
    "bullfarmer",
    "scabrous",
    "toecutter",
    "humungus",
    "wez",
    "feral",
    "gyro",
    "pappagallo",
    "jedediah",
    "ironbar",
    "savannah",
    "aunty",
    "blaster",
];

pub const MINERALS: &[&str] = &[
    "quartz",
    "feldspar",
    "mica",
    "garnet",
    "beryl",
    "topaz",
    "jasper",
    "onyx",
    "opal",
    "agate",
    "basalt",
    "granite",
    "obsidian",
    "pyrite",
    "galena",
    "calcite",
    "dolomite",
    "gypsum",
    "talc",
    "fluorite",
    "apatite",
    "corundum",
    "diamond",
    "zircon",
    "olivine",
    "hematite",
    "magnetite",
    "malachite",
    "azurite",
    "cinnabar",
    "bauxite",
    "cobalt",
    "jade",
    "lapis",
    "marble",
    "flint",
    "chert",
    "slate",
    "shale",
    "pumice",
    "tourmaline",
    "spinel",
    "rutile",
    "barite",
    "halite",
    "sylvite",
    "borax",
    "cuprite",
    "epidote",
    "kyanite",
];

pub const WASTELAND: &[&str] = &[
    "scrap", "rust", "ash", "dust", "cinder", "grit", "husk", "ember", "shard", "bolt", "rivet",
    "sprocket", "gasket", "piston", "axle", "crank", "dynamo", "fuse", "wick", "flare", "scav",
    "drifter", "nomad", "raider", "rover", "tinker", "salvage", "junker", "wrench", "spanner",
    "hatchet", "machete", "sling", "lantern", "canteen", "jerrycan", "tarp", "crate", "barrel",
    "siphon", "static", "geiger", "radscorp", "mutie", "ghoul", "vault", "bunker", "outpost",
    "bulwark", "cistern",
];

/// The names of a theme (custom pools come from `namepool.names`).
pub fn theme(name: &str, custom: &[String]) -> Result<Vec<String>> {
    let list: Vec<String> = match name {
        "mad-max" | "madmax" => MAD_MAX.iter().map(|s| s.to_string()).collect(),
        "minerals" => MINERALS.iter().map(|s| s.to_string()).collect(),
        "wasteland" => WASTELAND.iter().map(|s| s.to_string()).collect(),
        "custom" => {
            if custom.is_empty() {
                return Err(Error::invalid(
                    "namepool.theme is custom but namepool.names is empty; set it with `git gastown config set namepool.names a,b,c`",
                ));
            }
            for n in custom {
                super::address::validate_agent_name(n)?;
            }
            custom.to_vec()
        }
        other => {
            return Err(Error::invalid(format!(
                "unknown name pool '{other}' (mad-max, minerals, wasteland, custom)"
            )))
        }
    };
    Ok(list)
}

/// The first name of `pool` that `taken` does not hold; past the pool, `<first>-<n>` with
/// n counting on from the pool's size.
pub fn pick(pool: &[String], taken: impl Fn(&str) -> bool) -> String {
    if let Some(name) = pool.iter().find(|n| !taken(n)) {
        return name.clone();
    }
    let base = pool.first().map(String::as_str).unwrap_or("polecat");
    (pool.len() + 1..)
        .map(|n| format!("{base}-{n}"))
        .find(|n| !taken(n))
        .expect("an unbounded range always has a free name")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_hold_valid_unique_names() {
        for pool in [MAD_MAX, MINERALS, WASTELAND] {
            assert_eq!(pool.len(), 50);
            let mut seen = std::collections::HashSet::new();
            for n in pool {
                super::super::address::validate_agent_name(n).unwrap();
                assert!(seen.insert(n), "{n} twice");
            }
        }
    }

    #[test]
    fn numbering_goes_past_the_pool() {
        let pool: Vec<String> = vec!["a".into(), "b".into()];
        assert_eq!(pick(&pool, |n| n == "a"), "b");
        assert_eq!(pick(&pool, |n| n == "a" || n == "b"), "a-3");
        assert_eq!(pick(&pool, |n| ["a", "b", "a-3"].contains(&n)), "a-4");
    }
}
