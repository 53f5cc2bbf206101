//! Checks on real data no one on this project wrote, in `../shared/testdata` beside the
//! project (see its README.md): the original's formula files and real bd exports. A fresh
//! clone has no `../shared`, so each test prints `SKIPPED: ...` and passes when the data is
//! absent; .ci/run sets GT_REQUIRE_REAL_DATA=1 whenever it is present, which makes absence a
//! failure. The default suite proves the same behaviour on data it generates (fixtures/,
//! support/bd_export.rs), calling the same `check_*` functions as these tests do.
//! Every test here is named `real_data_*`, so `cargo test real_data` runs just this group.

use crate::bead::{check_bd_export_round_trips_losslessly, check_bd_import_answers_ready_like_bd};
use crate::formula::{
    check_every_formula_cooks_with_its_required_vars, check_every_formula_validates, step, step_ids,
};
use crate::mol::check_formulas_pour_and_walk_to_the_end;
use crate::support::{real_data, Env};

/// The original ships ten formula files (and beads one).
const ORIGINAL_FORMULAS: usize = 10;

#[test]
fn real_data_formulas_validate() {
    let Some(dir) = real_data("real_data_formulas_validate", "formulas") else {
        return;
    };
    let report = check_every_formula_validates(&dir, ORIGINAL_FORMULAS);
    assert!(report.contains("(design convoy, 7 steps)"), "{report}");
    assert!(
        report.contains("(shiny-enterprise workflow, 9 steps)"),
        "{report}"
    );
}

#[test]
fn real_data_formulas_cook_with_their_required_vars() {
    let Some(dir) = real_data(
        "real_data_formulas_cook_with_their_required_vars",
        "formulas",
    ) else {
        return;
    };
    check_every_formula_cooks_with_its_required_vars(&dir, ORIGINAL_FORMULAS);
}

#[test]
fn real_data_formulas_cook_to_the_expected_graphs() {
    let Some(td) = real_data("real_data_formulas_cook_to_the_expected_graphs", "formulas") else {
        return;
    };
    let env = Env::empty();
    let json = |args: &[&str]| env.json_in(env.path(), "formula", args);
    let file = |n: &str| td.join(format!("{n}.formula.toml")).display().to_string();

    let enterprise = json(&["cook", &file("shiny-enterprise"), "--var", "feature=login"]);
    assert_eq!(
        step_ids(&enterprise),
        [
            "design",
            "implement.draft",
            "implement.refine-1",
            "implement.refine-2",
            "implement.refine-3",
            "implement.refine-4",
            "review",
            "test",
            "submit"
        ]
    );
    assert_eq!(
        step(&enterprise, "implement.draft")["title"],
        "Draft: Implement login"
    );
    assert_eq!(
        step(&enterprise, "review")["needs"],
        serde_json::json!(["implement.refine-4"])
    );
    assert_eq!(enterprise["extends"], serde_json::json!(["shiny"]));

    let secure = json(&["cook", &file("shiny-secure"), "--var", "feature=login"]);
    assert_eq!(
        step(&secure, "implement")["needs"],
        serde_json::json!(["implement-security-prescan"])
    );
    assert_eq!(
        step(&secure, "review")["needs"],
        serde_json::json!(["implement-security-postscan"])
    );
    assert_eq!(
        step(&secure, "submit-security-postscan")["title"],
        "Security postscan for submit"
    );

    let design = json(&["cook", &file("design"), "--var", "problem=caching"]);
    let legs = design["legs"].as_array().unwrap();
    assert_eq!(legs.len(), 6);
    assert_eq!(
        step(&design, "synthesis")["needs"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
    assert!(step(&design, "api")["needs"].as_array().unwrap().is_empty());
    let prompt = step(&design, "api")["metadata"]["prompt"].as_str().unwrap();
    assert!(prompt.contains("**Problem**: caching"), "{prompt}");
    assert!(prompt.contains("**Leg ID**: api"), "{prompt}");

    let boot = json(&["cook", &file("mol-gastown-boot")]);
    assert_eq!(step(&boot, "ensure-witnesses")["issue_type"], "epic");
    assert_eq!(
        step(&boot, "ensure-witnesses")["children"],
        serde_json::json!(["ensure-gastown-witness", "ensure-beads-witness"])
    );
    assert_eq!(
        step(&boot, "ensure-beads-refinery")["parent"],
        "ensure-refineries"
    );

    let release = json(&["cook", &file("beads-release"), "--var", "version=1.2.3"]);
    let gate = &step(&release, "await-ci")["metadata"]["gate"];
    assert_eq!(gate["type"], "gh:run");
    assert_eq!(gate["id"], "release.yml");
    assert_eq!(release["pour"], true);
    assert!(step(&release, "push-tag")["description"]
        .as_str()
        .unwrap()
        .contains("git push origin v1.2.3"));
    // stamp-changelog is declared before the step it needs; cooking orders it after.
    let ids = step_ids(&release);
    let pos = |id: &str| ids.iter().position(|x| x == id).unwrap();
    assert!(pos("snapshot-docs") < pos("stamp-changelog"));

    let hanoi = json(&["cook", &file("towers-of-hanoi")]);
    assert_eq!(hanoi["vars"]["source_peg"], "A");
    assert_eq!(step_ids(&hanoi).len(), 9);
    assert_eq!(
        step(&hanoi, "verify")["needs"],
        serde_json::json!(["move-7"])
    );
}

#[test]
fn real_data_formulas_pour_and_walk_to_the_end() {
    let Some(dir) = real_data("real_data_formulas_pour_and_walk_to_the_end", "formulas") else {
        return;
    };
    check_formulas_pour_and_walk_to_the_end(
        &dir,
        &[
            "shiny",
            "shiny-enterprise",
            "towers-of-hanoi",
            "mol-dog-checkpoint",
            "design",
        ],
    );
}

#[test]
fn real_data_bd_exports_round_trip_losslessly() {
    let Some(dir) = real_data("real_data_bd_exports_round_trip_losslessly", "bd") else {
        return;
    };
    for name in ["beads-project.issues.jsonl", "gastop.issues.jsonl"] {
        check_bd_export_round_trips_losslessly(&dir.join(name));
    }
}

#[test]
fn real_data_bd_import_answers_ready_like_bd() {
    let Some(dir) = real_data("real_data_bd_import_answers_ready_like_bd", "bd") else {
        return;
    };
    check_bd_import_answers_ready_like_bd(&dir.join("beads-project.issues.jsonl"), 484, 451);
}
