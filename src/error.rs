//! The one error type of the library. Every variant renders as one line that names the bad
//! input; `exit_code` maps it to the documented exit status.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not a git repository: {}", .0.display())]
    NotARepository(PathBuf),
    #[error("{0} uses the reftable ref format, which gastown cannot read yet; convert it with `git refs migrate --ref-format=files`")]
    Reftable(PathBuf),
    #[error("{0} uses SHA-256 object ids, which gastown does not support yet; use a SHA-1 repository (`git init --object-format=sha1`)")]
    Sha256(PathBuf),
    #[error(
        "no gastown {0} store in this repository; run `git bead init --prefix <prefix>` first"
    )]
    NotInitialized(&'static str),
    #[error(
        "the {what} store is busy: another process held its lock for {waited_ms} ms; try again"
    )]
    Busy { what: String, waited_ms: u128 },
    #[error("no bead matches '{0}'")]
    NotFound(String),
    #[error("'{prefix}' is ambiguous: it matches {}", .candidates.join(", "))]
    Ambiguous {
        prefix: String,
        candidates: Vec<String>,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error("git: {0}")]
    Git(String),
    /// Stored or fetched state that is not what gastown writes (a ref at a foreign
    /// commit, a clock out of range, a record that does not parse).
    #[error("malformed gastown state: {0}")]
    Corrupt(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::Invalid(msg.into())
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// Exit status: 1 bad input or refused (including "not a git repository" and a
    /// repository format gastown does not support), 3 busy (retry), 4 conflict (someone
    /// else won), 5 repository failure (malformed state, git or I/O errors). Usage errors
    /// from argument parsing exit 2. Exhaustive on purpose: a new variant must choose.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Busy { .. } => 3,
            Error::Conflict(_) => 4,
            Error::Corrupt(_) | Error::Git(_) | Error::Io { .. } => 5,
            Error::NotARepository(_)
            | Error::Reftable(_)
            | Error::Sha256(_)
            | Error::NotInitialized(_)
            | Error::NotFound(_)
            | Error::Ambiguous { .. }
            | Error::Invalid(_) => 1,
        }
    }

    /// The same error, its message prefixed with where the bad input came from (e.g. the
    /// remote a malformed state was fetched from). Busy and conflict errors are left as
    /// they are: they are about this clone, not the source.
    pub fn within(self, source: &str) -> Self {
        match self {
            Error::Invalid(m) => Error::Invalid(format!("{source}: {m}")),
            Error::Corrupt(m) => Error::Corrupt(format!("{source}: {m}")),
            Error::Git(m) => Error::Git(format!("{source}: {m}")),
            other => other,
        }
    }

    /// An object or pack that could not be found: after a concurrent `git repack` this is
    /// transient, and a fresh look at the object database finds it.
    pub fn is_vanished_object(&self) -> bool {
        matches!(self, Error::Git(text) if text.contains("could not be found")
            || (text.contains("pack") && text.contains("No such file")))
    }

    /// A short machine-readable name for `--json` error output.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::NotARepository(_) => "not_a_repository",
            Error::Reftable(_) => "reftable",
            Error::Sha256(_) => "sha256",
            Error::Corrupt(_) => "corrupt",
            Error::NotInitialized(_) => "not_initialized",
            Error::Busy { .. } => "busy",
            Error::NotFound(_) => "not_found",
            Error::Ambiguous { .. } => "ambiguous",
            Error::Invalid(_) => "invalid",
            Error::Conflict(_) => "conflict",
            Error::Git(_) => "git",
            Error::Io { .. } => "io",
        }
    }
}

impl From<gix::Error> for Error {
    fn from(err: gix::Error) -> Self {
        Error::Git(one_line(&err.to_string()))
    }
}

/// Errors from gix can span lines; the CLI promises one.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
