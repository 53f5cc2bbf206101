//! The integration tests: one test binary (building and linking one binary instead of one per
//! file is what makes `cargo test` rebuild fast), one module per area. Every test drives the
//! real `git-*` binaries on temporary repositories with a hermetic git environment.
//!
//! - `support/`: the one harness (`Env`: temporary home + repository, running the binaries,
//!   asserting results, `assert_fsck_clean`), deterministic randomness and medians
//!   (`sample.rs`, shared with benches/), a generated bd export (`bd_export.rs`), and the
//!   scripted agent runtime with its lone-repository town (`scripted.rs`, for agent and
//!   sling tests).
//! - `fixtures/`: test data the project wrote (formula files, the beads-ui WebSocket bridge).
//! - `real_data.rs`: the `real_data_*` tests on `../shared/testdata`, skipped loudly when it is
//!   absent (required by CI); the default suite covers the same behaviour without it.
//!
//! To add tests: put them in the module of their area, or add `mod <area>;` below and a file
//! `<area>.rs`; take helpers from `support` (add new ones there, not beside a test). Tests of
//! one module run in parallel with all the others, so never change the process environment
//! or working directory; pass variables to the commands instead. A test needing a process of
//! its own (global state) belongs in a separate `tests/<name>.rs` that declares
//! `#[path = "it/support/mod.rs"] mod support;`.
//!
//! `cargo test --test it <filter>` runs a part: `cargo test --test it sync::`, `... real_data`.

mod agent;
mod bd_fidelity;
mod bead;
mod beads_ui;
mod board;
mod convoy;
mod crash;
mod dashboard;
mod demo;
mod docs;
mod escalate;
mod feed;
mod formula;
mod hooks;
mod load;
mod mail;
mod mol;
mod mq;
mod patrol;
mod real_data;
mod services;
mod session;
mod sling;
mod status;
mod support;
mod sync;
mod sync_model;
mod telemetry;
mod terminal;
mod town;
