//! The command-line layer: the only code that knows clap, reads the environment for
//! options, and prints. Each binary in `bins/` is `cli::main::<its Cli>()`.

/// The subcommands of one tool, in `--help` order (`Variant(module::Args)`, each with its
/// summary line), and `Command::run`, which hands each to its module's `Run::run` with what
/// the tool gives every command: `(town: &Town)`, say, or `()`. Each tool declares its own
/// `Run` trait with that signature. (`git bead` keeps a macro of its own: its commands also
/// name the bead that picks their store.)
macro_rules! subcommands {
    (($($arg:ident: $ty:ty),*) $($rest:tt)*) => {
        // The arguments travel as one token tree so each variant's arm can use them all.
        $crate::cli::subcommands!(@commands [$($arg),*] [$($arg: $ty),*] $($rest)*);
    };
    (@commands $call:tt [$($param:tt)*] $($(#[$meta:meta])* $variant:ident($args:ty),)*) => {
        #[derive(Debug, Clone, clap::Subcommand)]
        pub enum Command {
            $($(#[$meta])* $variant($args),)*
        }

        impl Command {
            fn run(self, ctx: &Ctx, $($param)*) -> Result<i32> {
                match self {
                    $(Command::$variant(args) => $crate::cli::subcommands!(@run args ctx $call),)*
                }
            }
        }
    };
    (@run $args:ident $ctx:ident [$($arg:ident),*]) => {
        Run::run($args, $ctx, $($arg),*)
    };
}
pub(crate) use subcommands;

pub mod agent;
pub mod bead;
pub mod board;
pub mod convoy;
pub mod docs;
pub mod escalate;
pub mod formula;
pub mod gastown;
pub mod mail;
pub mod mol;
pub mod mq;
pub mod patrol;
pub mod sling;
pub mod text;

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::store::{Actor, Store};

/// Options every command takes.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Print machine-readable JSON on stdout
    #[arg(long, global = true)]
    pub json: bool,
    /// Act as this agent (default: GT_ACTOR, BD_ACTOR, git user.name, $USER)
    #[arg(long, global = true, value_name = "NAME")]
    pub actor: Option<String>,
    /// Run as if started in DIR
    #[arg(short = 'C', global = true, value_name = "DIR")]
    pub directory: Option<PathBuf>,
    /// Print no status messages on stderr
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

/// A binary of the suite: its clap definition and what running it does.
pub trait Tool: clap::Parser + Clone {
    fn global(&self) -> &GlobalArgs;
    fn run(self, ctx: &Ctx) -> Result<i32>;
}

/// The `main` of every binary: parse the arguments, run (once more if the object database
/// changed under the first run), print errors, exit with the command's status.
pub fn main<T: Tool>() -> ! {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let json = wants_json(&args);
    let cli = T::parse_from(args.clone());
    let ctx = Ctx::new(cli.global().clone());
    let result = retrying(|| cli.clone().run(&ctx));
    if result.is_ok() {
        lazy_patrol(&ctx, &args);
    }
    finish(json, result)
}

/// The lazy tick (`patrol.lazy_after`): after a successful command, start a background
/// patrol when the last pass is old enough. Off unless configured; never fails the command.
fn lazy_patrol(ctx: &Ctx, args: &[std::ffi::OsString]) {
    let is_patrol = args
        .first()
        .and_then(|a| Path::new(a).file_name())
        .is_some_and(|n| n == "git-patrol");
    if is_patrol || std::env::var_os("GT_NO_LAZY_PATROL").is_some() {
        return;
    }
    let _ = crate::patrol::lazy::tick_from(&ctx.dir());
}

/// What a command needs from its invocation: options, output, the store.
pub struct Ctx {
    pub global: GlobalArgs,
}

impl Ctx {
    pub fn new(global: GlobalArgs) -> Self {
        Ctx { global }
    }

    pub fn dir(&self) -> PathBuf {
        self.global
            .directory
            .clone()
            .unwrap_or_else(|| PathBuf::from("."))
    }

    pub fn open_store(&self) -> Result<Store> {
        let dir = self.dir();
        if !dir.is_dir() {
            let why = if dir.exists() {
                "not a directory"
            } else {
                "no such directory"
            };
            return Err(Error::invalid(format!(
                "cannot change to '{}': {why}",
                dir.display()
            )));
        }
        Store::open(&dir)
    }

    /// The acting agent: --actor, GT_ACTOR, BD_ACTOR, git user.name, $USER, "unknown".
    pub fn actor(&self, store: &Store) -> Result<Actor> {
        let config = store.repo().config_snapshot();
        let git_name = config.string("user.name").map(|s| s.to_string());
        let git_email = config.string("user.email").map(|s| s.to_string());
        let from_flag_or_env = self
            .global
            .actor
            .clone()
            .or_else(|| non_empty_env("GT_ACTOR"))
            .or_else(|| non_empty_env("BD_ACTOR"));
        let (name, email) = match from_flag_or_env {
            Some(name) => {
                let email = format!("{}@gastown.local", email_local_part(&name));
                (name, email)
            }
            None => match git_name {
                Some(name) if !name.trim().is_empty() => {
                    let email = git_email
                        .unwrap_or_else(|| format!("{}@gastown.local", email_local_part(&name)));
                    (name, email)
                }
                _ => {
                    let name = non_empty_env("USER").unwrap_or_else(|| "unknown".to_string());
                    let email = format!("{}@gastown.local", email_local_part(&name));
                    (name, email)
                }
            },
        };
        let name = name.trim().to_string();
        if name.chars().any(char::is_control) {
            return Err(Error::invalid(format!(
                "bad actor name '{}': control characters are not allowed",
                text::line(&name)
            )));
        }
        if name.is_empty() || name.contains(['<', '>']) {
            return Err(Error::invalid(format!("bad actor name '{name}'")));
        }
        Ok(Actor { name, email })
    }

    /// A status message on stderr (silenced by --quiet, and by --json so scripts see data only).
    pub fn status(&self, message: impl AsRef<str>) {
        if !self.global.quiet && !self.global.json {
            let _ = writeln!(std::io::stderr(), "{}", message.as_ref());
        }
    }
}

fn non_empty_env(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.trim().is_empty())
}

fn email_local_part(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '.'
            }
        })
        .collect()
}

/// Print a value as JSON on stdout.
pub fn print_json(value: &impl Serialize) -> Result<()> {
    // Render first: stdout is line-buffered, and pretty JSON is many lines.
    let mut text = serde_json::to_vec_pretty(value)
        .map_err(|e| Error::io("writing JSON", std::io::Error::other(e)))?;
    text.push(b'\n');
    std::io::stdout()
        .lock()
        .write_all(&text)
        .map_err(|e| Error::io("writing output", e))
}

/// Print text on stdout.
pub fn print_text(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .map_err(|e| Error::io("writing output", e))?;
    Ok(())
}

/// Run a command and exit with its status: errors become one line on stderr (and a JSON
/// object on stdout with --json); a closed stdout (`| head`) exits quietly.
pub fn finish(json: bool, result: Result<i32>) -> ! {
    let code = match result {
        Ok(code) => code,
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(err) => {
            let message = crate::error::one_line(&err.to_string());
            if json {
                let value = serde_json::json!({ "error": message, "kind": err.kind() });
                let _ = writeln!(std::io::stdout(), "{value}");
            }
            // Messages quote user input: escaped, it cannot rewrite the terminal.
            let _ = writeln!(std::io::stderr(), "error: {}", text::line(&message));
            err.exit_code()
        }
    };
    let _ = std::io::stdout().flush();
    flush_telemetry();
    report_peak_memory();
    std::process::exit(code)
}

/// Export what the command recorded (bounded: docs/TELEMETRY.md). With GT_REPORT_TELEMETRY
/// set, print what the export did on stderr (`telemetry sent=N failed=N ms=N`): the tests
/// and the benchmark read it.
pub fn flush_telemetry() {
    let flushed = crate::telemetry::flush();
    if std::env::var_os("GT_REPORT_TELEMETRY").is_none() {
        return;
    }
    if let Some(f) = flushed {
        let _ = writeln!(
            std::io::stderr(),
            "telemetry sent={} failed={} timed_out={} ms={:.1}",
            f.sent,
            f.failed,
            f.timed_out,
            f.elapsed.as_secs_f64() * 1000.0
        );
    }
}

/// With GT_REPORT_PEAK_RSS set, print the process's peak resident memory on stderr as
/// `peak_rss_kb=N` (Linux only): the benchmark reads it.
fn report_peak_memory() {
    if std::env::var_os("GT_REPORT_PEAK_RSS").is_none() {
        return;
    }
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        if let Some(line) = status.lines().find(|l| l.starts_with("VmHWM:")) {
            let kb = line
                .trim_start_matches("VmHWM:")
                .trim()
                .trim_end_matches("kB")
                .trim();
            let _ = writeln!(std::io::stderr(), "peak_rss_kb={kb}");
        }
    }
}

/// Run a command, and once more if the object database changed under it: a concurrent
/// housekeeping run may roll up the pack a reader had looked into, and a fresh start sees
/// the packs as they are now. Commands are safe to re-run (a write that failed wrote nothing).
pub fn retrying(mut run: impl FnMut() -> Result<i32>) -> Result<i32> {
    match run() {
        Err(err) if err.is_vanished_object() => run(),
        other => other,
    }
}

/// Whether `--json` appears among the raw arguments (for errors raised before parsing ends).
pub fn wants_json(args: &[std::ffi::OsString]) -> bool {
    args.iter().any(|a| a == "--json")
}

/// Resolve a user-given path relative to the -C directory.
pub fn resolve_path(ctx: &Ctx, path: &Path) -> PathBuf {
    if path.is_absolute() || path == Path::new("-") {
        path.to_path_buf()
    } else {
        ctx.dir().join(path)
    }
}
