//! Built-in formulas, the library's precedence, variable assignments.

use std::collections::BTreeMap;

use super::*;

#[test]
fn builtin_formulas_parse_cleanly_and_cook() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("formulas");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| name_of_file(e.ok()?.file_name().to_str()?).map(str::to_string))
        .collect();
    on_disk.sort();
    let mut embedded: Vec<String> = BUILTIN.iter().map(|(n, _)| n.to_string()).collect();
    embedded.sort();
    assert_eq!(on_disk, embedded, "every file in formulas/ is embedded");
    let lib = Library::builtin_only();
    for (name, _) in BUILTIN {
        let parsed = lib.load(name).unwrap();
        assert!(parsed.warnings.is_empty(), "{name}: {:?}", parsed.warnings);
        assert_eq!(&parsed.formula.name, name);
        let given: BTreeMap<String, String> = parsed
            .formula
            .vars
            .iter()
            .filter(|v| v.required)
            .map(|v| (v.name.clone(), "X-1".to_string()))
            .collect();
        let opts = CookOptions {
            vars: given,
            ..CookOptions::default()
        };
        let cooked = cook(&parsed, &lib, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
        let undeclared: Vec<_> = cooked
            .warnings
            .iter()
            .filter(|w| w.contains("{{"))
            .collect();
        assert!(undeclared.is_empty(), "{name}: {undeclared:?}");
        if parsed.formula.kind == FormulaKind::Workflow {
            assert!(
                cooked.steps.len() >= 5,
                "{name} has {} steps",
                cooked.steps.len()
            );
        }
    }
    let work = cook(
        &lib.load("mol-polecat-work").unwrap(),
        &lib,
        &CookOptions {
            vars: vars(&[("issue", "gt-42")]),
            ..CookOptions::default()
        },
    )
    .unwrap();
    assert_eq!(
        ids(&work),
        vec!["claim", "branch", "implement", "test", "commit", "done"]
    );
    assert!(work
        .step("branch")
        .unwrap()
        .description
        .contains("git switch -c polecat/gt-42"));
}

#[test]
fn library_precedence_builtin_then_repo_then_user() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    let user = tmp.path().join("config/gastown/formulas");
    std::fs::create_dir_all(repo_dir(&repo)).unwrap();
    std::fs::create_dir_all(&user).unwrap();
    let write = |dir: &std::path::Path, name: &str, title: &str| {
        std::fs::write(
            dir.join(format!("{name}.formula.toml")),
            format!("formula = \"{name}\"\n[[steps]]\nid = \"a\"\ntitle = \"{title}\"\n"),
        )
        .unwrap();
    };
    write(&repo_dir(&repo), "shared", "from repo");
    write(&user, "shared", "from user");
    write(&user, "mine", "from user");
    write(&repo_dir(&repo), "mol-release", "hijack");
    let lib = Library::new(Some(&repo), Some(user.clone()));
    assert_eq!(lib.find("shared").unwrap().source, SourceKind::Repo);
    assert_eq!(lib.find("mine").unwrap().source, SourceKind::User);
    assert_eq!(lib.find("mol-release").unwrap().source, SourceKind::Builtin);
    let list = lib.list();
    let shared: Vec<_> = list.iter().filter(|e| e.name == "shared").collect();
    assert_eq!(shared.len(), 2);
    assert_eq!(
        (shared[0].source, shared[0].shadowed_by),
        (SourceKind::Repo, None)
    );
    assert_eq!(
        (shared[1].source, shared[1].shadowed_by),
        (SourceKind::User, Some(SourceKind::Repo))
    );
    let release: Vec<_> = list.iter().filter(|e| e.name == "mol-release").collect();
    assert_eq!(release[1].shadowed_by, Some(SourceKind::Builtin));
    let title = &lib.load("shared").unwrap().formula.steps[0].title;
    assert_eq!(title, "from repo");
}

#[test]
fn user_dir_honours_xdg() {
    let home = std::path::Path::new("/home/u");
    assert_eq!(
        user_dir(Some(home), None).unwrap(),
        std::path::PathBuf::from("/home/u/.config/gastown/formulas")
    );
    assert_eq!(
        user_dir(Some(home), Some(std::path::Path::new("/x/cfg"))).unwrap(),
        std::path::PathBuf::from("/x/cfg/gastown/formulas")
    );
    // A relative XDG_CONFIG_HOME is invalid per the spec and ignored.
    assert_eq!(
        user_dir(Some(home), Some(std::path::Path::new("rel"))).unwrap(),
        std::path::PathBuf::from("/home/u/.config/gastown/formulas")
    );
    assert!(user_dir(None, None).is_none());
}

#[test]
fn var_assignments() {
    let m = parse_var_assignments(&["a=1", "b=x=y", "c="]).unwrap();
    assert_eq!(m["b"], "x=y");
    assert_eq!(m["c"], "");
    assert!(parse_var_assignments(&["nope"])
        .unwrap_err()
        .to_string()
        .contains("NAME=VALUE"));
    assert!(parse_var_assignments(&["a=1", "a=2"])
        .unwrap_err()
        .to_string()
        .contains("given twice"));
}
