//! Formulas: TOML workflow templates, validated and cooked into a step graph.
//! `git formula`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};
use serde_json::json;

use super::{print_json, print_text, resolve_path, Ctx, GlobalArgs};
use crate::error::{Error, Result};
use crate::formula::{
    self, cook, CookMode, CookOptions, Cooked, Formula, FormulaKind, Library, Parsed, SourceKind,
    Step,
};

/// Inspect, validate and cook workflow formulas
///
/// Formulas are found by name among the built-in formulas, then `.gastown/formulas/` of the
/// repository, then `~/.config/gastown/formulas/` (`$XDG_CONFIG_HOME/gastown/formulas/`);
/// on a name clash the first wins. A path names a file directly.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "git-formula",
    version,
    after_help = "Exit status: 0 success; 1 bad input, or a file that fails validation; 2 usage error."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// List the formulas that can be cooked, and where each comes from
    List,
    /// Show a formula: description, variables, steps
    Show {
        /// A formula name or a path to a .formula.toml file
        formula: String,
    },
    /// Check formula files: syntax, keys, references, cycles (exits 1 if any fails)
    Validate {
        /// Formula files (or names)
        #[arg(required = true)]
        files: Vec<String>,
    },
    /// Resolve a formula into its final step graph and print it; writes nothing
    Cook {
        /// A formula name or a path to a .formula.toml file
        formula: String,
        /// Set a variable (can be repeated)
        #[arg(long = "var", value_name = "NAME=VALUE")]
        vars: Vec<String>,
        /// Convoy formulas: cook only the legs of this preset
        #[arg(long, value_name = "PRESET")]
        preset: Option<String>,
        /// Keep missing variables as {{name}} placeholders instead of failing
        #[arg(long)]
        compile: bool,
    },
}

impl super::Tool for Cli {
    fn global(&self) -> &GlobalArgs {
        &self.global
    }

    fn run(self, ctx: &Ctx) -> Result<i32> {
        run(ctx, self.command)
    }
}

fn run(ctx: &Ctx, command: Command) -> Result<i32> {
    let dir = ctx.dir();
    if !dir.is_dir() {
        return Err(Error::invalid(format!(
            "cannot change to '{}': no such directory",
            dir.display()
        )));
    }
    let library = library_for(ctx);
    match command {
        Command::List => list(ctx, &library),
        Command::Show { formula } => show(ctx, &library, &formula),
        Command::Validate { files } => validate(ctx, &library, &files),
        Command::Cook {
            formula,
            vars,
            preset,
            compile,
        } => {
            let opts = CookOptions {
                vars: formula::parse_var_assignments(&vars)?,
                mode: if compile {
                    CookMode::Compile
                } else {
                    CookMode::Runtime
                },
                preset,
            };
            cook_cmd(ctx, &library, &formula, &opts)
        }
    }
}

/// The library seen from the -C directory: its repository's formulas and the user's.
pub fn library_for(ctx: &Ctx) -> Library {
    let dir = ctx.dir();
    let repo_root = find_repo_root(&dir);
    let home = non_empty_env_path("HOME");
    let xdg = non_empty_env_path("XDG_CONFIG_HOME");
    Library::new(
        repo_root.as_deref(),
        formula::user_dir(home.as_deref(), xdg.as_deref()),
    )
}

fn non_empty_env_path(key: &str) -> Option<PathBuf> {
    std::env::var_os(key)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The worktree root: the nearest directory at or above `dir` holding `.git` (dir or file).
pub fn find_repo_root(dir: &Path) -> Option<PathBuf> {
    let start = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    start
        .ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

/// A formula given as a name or a path. Files resolve the names they mention in the
/// library first, then in their own directory.
pub fn load_target(ctx: &Ctx, library: &Library, arg: &str) -> Result<(Parsed, Library)> {
    let looks_like_path = arg.contains('/')
        || arg.contains(std::path::MAIN_SEPARATOR)
        || arg.ends_with(".toml")
        || arg.ends_with(".json");
    if !looks_like_path {
        if let Some(entry) = library.find(arg) {
            return Ok((library.load_entry(&entry)?, library.clone()));
        }
    }
    let path = resolve_path(ctx, Path::new(arg));
    let path: PathBuf = path
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect();
    if path.is_file() {
        let parsed = formula::load_file(&path, SourceKind::File)?;
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
        return Ok((parsed, library.clone().with_extra_dir(dir)));
    }
    if looks_like_path {
        return Err(Error::invalid(format!(
            "no formula file '{}'",
            path.display()
        )));
    }
    library.load(arg).map(|p| (p, library.clone()))
}

fn warn_all(ctx: &Ctx, warnings: &[String]) {
    for w in warnings {
        ctx.status(format!("warning: {w}"));
    }
}

fn path_text(entry_path: Option<&Path>, name: &str) -> String {
    match entry_path {
        Some(p) => p.display().to_string(),
        None => format!("(built-in) formulas/{name}.formula.toml"),
    }
}

fn list(ctx: &Ctx, library: &Library) -> Result<i32> {
    let mut rows = Vec::new();
    for entry in library.list() {
        let loaded = library.load_entry(&entry);
        let (kind, description, error) = match &loaded {
            Ok(p) => (
                Some(p.formula.kind),
                first_line(&p.formula.description),
                None,
            ),
            Err(e) => (
                None,
                String::new(),
                Some(crate::error::one_line(&e.to_string())),
            ),
        };
        if let Some(e) = &error {
            ctx.status(format!("warning: {e}"));
        }
        rows.push((entry, kind, description, error));
    }
    if ctx.global.json {
        let items: Vec<_> = rows
            .iter()
            .map(|(e, kind, description, error)| {
                json!({
                    "name": e.name,
                    "kind": kind,
                    "source": e.source,
                    "path": e.path,
                    "shadowed_by": e.shadowed_by,
                    "description": description,
                    "error": error,
                })
            })
            .collect();
        print_json(&items)?;
        return Ok(0);
    }
    let width = rows
        .iter()
        .map(|(e, ..)| e.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut out = format!("{:width$}  {:9}  {:7}  PATH\n", "NAME", "KIND", "SOURCE");
    for (e, kind, _, error) in &rows {
        let kind =
            kind.map(|k| k.as_str())
                .unwrap_or(if error.is_some() { "invalid" } else { "?" });
        let mut path = path_text(e.path.as_deref(), &e.name);
        if let Some(by) = e.shadowed_by {
            let _ = write!(path, "  (shadowed by {by})");
        }
        let _ = writeln!(
            out,
            "{:width$}  {:9}  {:7}  {path}",
            e.name,
            kind,
            e.source.as_str()
        );
    }
    print_text(&out)?;
    Ok(0)
}

fn first_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .to_string()
}

fn show(ctx: &Ctx, library: &Library, arg: &str) -> Result<i32> {
    let (parsed, _) = load_target(ctx, library, arg)?;
    let f = &parsed.formula;
    if ctx.global.json {
        print_json(&json!({
            "formula": f,
            "source": f.origin.source,
            "path": f.origin.label,
            "warnings": parsed.warnings,
        }))?;
        return Ok(0);
    }
    warn_all(ctx, &parsed.warnings);
    print_text(&render_formula(f))?;
    Ok(0)
}

fn render_formula(f: &Formula) -> String {
    let mut out = String::new();
    let version = f
        .version
        .map(|v| format!(", version {v}"))
        .unwrap_or_default();
    let _ = writeln!(out, "{} ({}{version})", f.name, f.kind);
    match f.origin.source {
        SourceKind::Builtin => {
            let _ = writeln!(out, "source: builtin (formulas/{}.formula.toml)", f.name);
        }
        source => {
            let _ = writeln!(out, "source: {source} {}", f.origin.label);
        }
    }
    if !f.extends.is_empty() {
        let _ = writeln!(out, "extends: {}", f.extends.join(", "));
    }
    let mut flags = Vec::new();
    if let Some(phase) = &f.phase {
        flags.push(format!("phase {phase}"));
    }
    if f.pour == Some(true) {
        flags.push("pour".to_string());
    }
    if !flags.is_empty() {
        let _ = writeln!(out, "{}", flags.join(", "));
    }
    if !f.description.trim().is_empty() {
        let _ = writeln!(out, "\n{}", f.description.trim_end());
    }
    if !f.vars.is_empty() {
        let _ = writeln!(out, "\nVariables:");
        let width = f.vars.iter().map(|v| v.name.len()).max().unwrap_or(0);
        for v in &f.vars {
            let mut spec = Vec::new();
            if v.required && v.default.is_none() {
                spec.push("required".to_string());
            }
            if !v.required_unless.is_empty() {
                spec.push(format!(
                    "required unless {}",
                    v.required_unless.join(" or ")
                ));
            }
            if let Some(d) = &v.default {
                spec.push(format!("default {d:?}"));
            }
            if !v.allowed.is_empty() {
                spec.push(format!("one of: {}", v.allowed.join(", ")));
            }
            if spec.is_empty() {
                spec.push("optional".to_string());
            }
            let _ = writeln!(
                out,
                "  {:width$}  {}{}",
                v.name,
                spec.join("; "),
                if v.description.is_empty() {
                    String::new()
                } else {
                    format!("  — {}", v.description)
                }
            );
        }
    }
    let compose = &f.compose;
    if !compose.is_empty() {
        let _ = writeln!(out, "\nCompose:");
        for e in &compose.expand {
            let _ = writeln!(out, "  expand {} with {}", e.target, e.with);
        }
        for m in &compose.map {
            let _ = writeln!(out, "  map {} with {}", m.select, m.with);
        }
        if !compose.aspects.is_empty() {
            let _ = writeln!(out, "  aspects: {}", compose.aspects.join(", "));
        }
        for b in &compose.branch {
            let _ = writeln!(
                out,
                "  branch {} -> [{}] -> {}",
                b.from,
                b.steps.join(", "),
                b.join
            );
        }
    }
    if !f.steps.is_empty() {
        let _ = writeln!(out, "\nSteps:");
        render_steps(&f.steps, 1, &mut out);
    } else if !f.extends.is_empty() {
        let _ = writeln!(
            out,
            "\nSteps: inherited from {} (`git formula cook` shows the result)",
            f.extends.join(", ")
        );
    }
    if !f.template.is_empty() {
        let _ = writeln!(out, "\nTemplate:");
        render_steps(&f.template, 1, &mut out);
    }
    if !f.legs.is_empty() {
        let _ = writeln!(out, "\nLegs (parallel):");
        let width = f.legs.iter().map(|l| l.id.len()).max().unwrap_or(0);
        for l in &f.legs {
            let _ = writeln!(out, "  {:width$}  {}", l.id, l.title);
        }
        if let Some(s) = &f.synthesis {
            let needs = if s.depends_on.is_empty() {
                "all legs".to_string()
            } else {
                s.depends_on.join(", ")
            };
            let _ = writeln!(out, "Synthesis: {}  (needs {needs})", s.title);
        }
        for p in &f.presets {
            let _ = writeln!(out, "Preset {}: {}", p.name, p.legs.join(", "));
        }
    }
    if !f.advice.is_empty() {
        let _ = writeln!(out, "\nAdvice:");
        for a in &f.advice {
            let target = if a.target.is_empty() { "*" } else { &a.target };
            for (when, steps) in [
                ("before", &a.before),
                ("around/before", &a.around_before),
                ("after", &a.after),
                ("around/after", &a.around_after),
            ] {
                for s in steps {
                    let _ = writeln!(out, "  {when} {target}: {}", s.id);
                }
            }
        }
        for p in &f.pointcuts {
            let mut parts = Vec::new();
            if let Some(g) = &p.glob {
                parts.push(format!("glob {g}"));
            }
            if let Some(t) = &p.step_type {
                parts.push(format!("type {t}"));
            }
            if let Some(l) = &p.label {
                parts.push(format!("label {l}"));
            }
            let _ = writeln!(out, "  pointcut: {}", parts.join(", "));
        }
    }
    out
}

fn render_steps(steps: &[Step], depth: usize, out: &mut String) {
    for s in steps {
        let indent = "  ".repeat(depth);
        let mut line = format!("{indent}{}  {}", s.id, s.title);
        if !s.needs.is_empty() {
            let _ = write!(line, "  (needs {})", s.needs.join(", "));
        }
        if let Some(e) = &s.expand {
            let _ = write!(line, "  (expands with {e})");
        }
        if let Some(g) = &s.gate {
            let _ = write!(line, "  (gate {})", g.gate_type);
        }
        if let Some(c) = &s.condition {
            let _ = write!(line, "  (if {c})");
        }
        let _ = writeln!(out, "{line}");
        render_steps(&s.children, depth + 1, out);
        if let Some(l) = &s.loop_spec {
            let how = if let Some(c) = l.count {
                format!("{c} times")
            } else if let Some(r) = &l.range {
                format!("over {r}")
            } else {
                format!("until {}", l.until.as_deref().unwrap_or("?"))
            };
            let _ = writeln!(out, "{indent}  loop {how}:");
            render_steps(&l.body, depth + 2, out);
        }
    }
}

fn validate(ctx: &Ctx, library: &Library, files: &[String]) -> Result<i32> {
    let mut results = Vec::new();
    let mut failed = 0;
    for arg in files {
        let outcome = load_target(ctx, library, arg).and_then(|(parsed, lib)| {
            let opts = CookOptions {
                mode: CookMode::Compile,
                ..CookOptions::default()
            };
            cook(&parsed, &lib, &opts).map(|c| (parsed, c))
        });
        match outcome {
            Ok((parsed, cooked)) => {
                warn_all(ctx, &cooked.warnings);
                results.push(json!({
                    "path": arg,
                    "ok": true,
                    "formula": parsed.formula.name,
                    "kind": parsed.formula.kind,
                    "steps": cooked.steps.len(),
                    "warnings": cooked.warnings,
                }));
            }
            Err(err) => {
                failed += 1;
                let message = crate::error::one_line(&err.to_string());
                if !ctx.global.json {
                    eprintln!("error: {message}");
                }
                results.push(json!({"path": arg, "ok": false, "error": message}));
            }
        }
    }
    if ctx.global.json {
        print_json(&results)?;
    } else {
        let mut out = String::new();
        for r in &results {
            if r["ok"] == true {
                let _ = writeln!(
                    out,
                    "ok    {}  ({} {}, {} steps{})",
                    r["path"].as_str().unwrap_or(""),
                    r["formula"].as_str().unwrap_or(""),
                    r["kind"].as_str().unwrap_or(""),
                    r["steps"],
                    match r["warnings"].as_array().map(Vec::len).unwrap_or(0) {
                        0 => String::new(),
                        1 => ", 1 warning".to_string(),
                        n => format!(", {n} warnings"),
                    }
                );
            } else {
                let _ = writeln!(
                    out,
                    "FAIL  {}  {}",
                    r["path"].as_str().unwrap_or(""),
                    r["error"].as_str().unwrap_or("")
                );
            }
        }
        print_text(&out)?;
    }
    Ok(if failed > 0 { 1 } else { 0 })
}

fn cook_cmd(ctx: &Ctx, library: &Library, arg: &str, opts: &CookOptions) -> Result<i32> {
    let (parsed, lib) = load_target(ctx, library, arg)?;
    let cooked = cook(&parsed, &lib, opts)?;
    if ctx.global.json {
        print_json(&cooked)?;
        return Ok(0);
    }
    warn_all(ctx, &cooked.warnings);
    print_text(&render_cooked(&cooked))?;
    Ok(0)
}

fn render_cooked(c: &Cooked) -> String {
    let mut out = String::new();
    let from = if c.source == SourceKind::Builtin {
        "builtin".to_string()
    } else {
        format!("{} {}", c.source, c.path)
    };
    let _ = writeln!(
        out,
        "{} ({}) from {from}: {} step{}",
        c.formula,
        c.kind,
        c.steps.len(),
        if c.steps.len() == 1 { "" } else { "s" }
    );
    if !c.extends.is_empty() || !c.expansions.is_empty() || !c.aspects.is_empty() {
        let mut parts = Vec::new();
        if !c.extends.is_empty() {
            parts.push(format!("extends {}", c.extends.join(", ")));
        }
        if !c.expansions.is_empty() {
            parts.push(format!("expansions {}", c.expansions.join(", ")));
        }
        if !c.aspects.is_empty() {
            parts.push(format!("aspects {}", c.aspects.join(", ")));
        }
        let _ = writeln!(out, "{}", parts.join("; "));
    }
    if !c.vars.is_empty() {
        let vars: Vec<String> = c.vars.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(out, "vars: {}", vars.join(" "));
    }
    let depth = depths(c);
    let width = c
        .steps
        .iter()
        .map(|s| s.id.len() + 2 * depth.get(s.id.as_str()).copied().unwrap_or(0))
        .max()
        .unwrap_or(0);
    for s in &c.steps {
        let d = depth.get(s.id.as_str()).copied().unwrap_or(0);
        let id = format!("{}{}", "  ".repeat(d), s.id);
        let mut line = format!("  {id:width$}  {}", s.title);
        if !s.needs.is_empty() {
            let _ = write!(line, "  (needs {})", s.needs.join(", "));
        }
        if let Some(g) = s.metadata.get("gate") {
            let _ = write!(line, "  (gate {})", g["type"].as_str().unwrap_or("?"));
        }
        let _ = writeln!(out, "{line}");
    }
    if c.kind == FormulaKind::Convoy && !c.legs.is_empty() {
        let _ = writeln!(out, "legs: {}", c.legs.join(", "));
    }
    out
}

fn depths(c: &Cooked) -> BTreeMap<&str, usize> {
    let mut depth: BTreeMap<&str, usize> = BTreeMap::new();
    // Parents come before their children in the cooked order.
    for s in &c.steps {
        let d = s
            .parent
            .as_deref()
            .and_then(|p| depth.get(p))
            .map(|d| d + 1)
            .unwrap_or(0);
        depth.insert(&s.id, d);
    }
    depth
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn clap_definitions_are_consistent() {
        super::Cli::command().debug_assert();
    }
}
