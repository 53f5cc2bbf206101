//! `git gastown completions`: shell completions for every binary of the suite.

use std::io::Write;

use super::Run;
use crate::cli::{docs, Ctx};
use crate::error::{Error, Result};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The shell to complete for
    shell: clap_complete::Shell,
}

impl Run for Args {
    fn run(self, _ctx: &Ctx) -> Result<i32> {
        // Rendered first: clap_complete panics when stdout closes early (`| head`); a
        // failed write here is an error that `finish` turns into a quiet exit.
        let mut script = Vec::new();
        docs::completions(self.shell, &mut script)?;
        std::io::stdout()
            .lock()
            .write_all(&script)
            .map_err(|e| Error::io("writing output", e))?;
        Ok(0)
    }
}
