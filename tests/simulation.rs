//! The town simulation at integration-test size (docs/SIMULATION.md): 2 rigs, 10 scripted
//! agents, 60 beads with dependencies, shared files and a flaky gate, agent sessions and
//! the driver's own commands killed with SIGKILL at random; then nothing lost, nothing
//! done twice, nothing left behind. The seed is printed; `GT_SIM_SEED=N` replays it.
//! The benchmark (benches/town.rs) runs the same simulation at its default size.
//!
//! A test binary of its own: the simulation drives the library in this process too, so it
//! sets git's config variables for the whole process, which tests running beside it in
//! tests/it must not see (tests/it/main.rs).

#[path = "it/support/mod.rs"]
#[allow(dead_code)]
mod support;

use std::time::Duration;

use support::bin_dir;
use support::town_sim::{Sim, Spec};

#[test]
fn a_town_under_random_kills_loses_nothing_and_does_nothing_twice() {
    let dir = tempfile::Builder::new()
        .prefix("gastown-sim")
        .tempdir()
        .unwrap();
    let seed = Spec::seed_from_env();
    // Straight to stderr so the seed is seen even when the harness captures output.
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "town simulation seed: {seed} (replay: GT_SIM_SEED={seed})"
    );
    let spec = Spec {
        rigs: 2,
        agents: 10,
        beads: 60,
        seed,
        dir: dir.path().join("sim"),
        bin_dir: bin_dir(),
        faults: true,
        timeout: Duration::from_secs(240),
    };
    let sim = Sim::build(spec);
    let report = sim.drive();
    let text = report.render();
    let _ = writeln!(std::io::stderr(), "{text}");
    if !report.violations.is_empty() {
        // Kept for a look: the town, its rigs and every log.
        let kept = dir.keep();
        panic!("{text}\nthe town is kept in {}", kept.display());
    }
    assert_eq!(report.merged_beads, 60, "{text}");
    assert!(
        report.faults.sessions_killed + report.faults.commands_killed.values().sum::<usize>() > 0,
        "no fault was injected: {text}"
    );
}
