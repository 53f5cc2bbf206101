//! The town simulation as a benchmark (docs/SIMULATION.md): R rigs, A scripted agents,
//! B beads with dependencies, shared files and a flaky gate, worked through sling → done →
//! merge queue while agent sessions and the driver's own commands are killed with SIGKILL
//! at random; then every end-state check (nothing lost or done twice, nothing left
//! behind). Prints the seed, throughput (beads merged per minute), p50/p99 of each
//! command, commits written per bead and the peak memory of a command. Exits 1 when a
//! check fails. Run with `cargo bench --bench town` (options after `--`):
//!
//!   --rigs 3        rigs
//!   --agents 100    polecats working at once, over all rigs
//!   --beads 1000    beads, spread over the rigs
//!   --seed N        replay a seed (default: GT_SIM_SEED, else a fresh one)
//!   --runs 1        runs, with seeds N, N+1, ...
//!   --no-faults     no kills (the clean-run baseline)
//!   --timeout 3600  seconds before a run counts as stuck
//!   --dir DIR       where to build the towns (default: target/tmp)

#[path = "support/mod.rs"]
mod support;

#[allow(dead_code)]
#[path = "../tests/it/support/sample.rs"]
mod sample;

#[allow(dead_code)]
#[path = "../tests/it/support/town_sim/mod.rs"]
mod town_sim;

use std::path::PathBuf;
use std::time::Duration;

use town_sim::{Sim, Spec};

fn main() {
    let mut spec = Spec {
        rigs: 3,
        agents: 100,
        beads: 1000,
        seed: Spec::seed_from_env(),
        dir: PathBuf::new(),
        bin_dir: support::tool("git-bead").parent().unwrap().to_path_buf(),
        faults: true,
        timeout: Duration::from_secs(3600),
    };
    let mut runs = 1;
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tmp");
    let mut args = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .peekable();
    while let Some(name) = args.next() {
        if name == "--no-faults" {
            spec.faults = false;
            continue;
        }
        let value = args
            .next()
            .unwrap_or_else(|| panic!("{name} needs a value"));
        let number = || {
            value
                .parse::<u64>()
                .unwrap_or_else(|_| panic!("{name} takes a number"))
        };
        match name.as_str() {
            "--rigs" => spec.rigs = number() as usize,
            "--agents" => spec.agents = number() as usize,
            "--beads" => spec.beads = number() as usize,
            "--seed" => spec.seed = number(),
            "--runs" => runs = number(),
            "--timeout" => spec.timeout = Duration::from_secs(number()),
            "--dir" => dir = PathBuf::from(&value),
            other => panic!("unknown option {other}"),
        }
    }
    assert!(
        spec.rigs >= 1 && spec.agents >= spec.rigs && spec.beads >= 1,
        "bad sizes"
    );
    let mut failed = false;
    for run in 0..runs {
        let mut spec = spec.clone();
        spec.seed += run;
        let root = tempfile::Builder::new()
            .prefix("town-bench")
            .tempdir_in({
                std::fs::create_dir_all(&dir).unwrap();
                &dir
            })
            .unwrap();
        spec.dir = root.path().join("sim");
        eprintln!(
            "run {}: seed {} (replay: --seed {}), {} rigs, {} agents, {} beads, faults {}",
            run + 1,
            spec.seed,
            spec.seed,
            spec.rigs,
            spec.agents,
            spec.beads,
            if spec.faults { "on" } else { "off" }
        );
        let report = Sim::build(spec).drive();
        println!("{}", report.render());
        failed |= !report.violations.is_empty();
    }
    if failed {
        std::process::exit(1);
    }
}
