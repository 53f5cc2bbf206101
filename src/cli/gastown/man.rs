//! `git gastown man`: write the suite's man pages.

use super::Run;
use crate::cli::{docs, resolve_path, Ctx};
use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Directory to write into
    #[arg(long, default_value = "man")]
    dir: std::path::PathBuf,
    /// Write into <prefix>/share/man/man1 beside the installed binaries (e.g.
    /// ~/.cargo/share/man/man1), where man finds them for `git bead --help`
    #[arg(long, conflicts_with = "dir")]
    install: bool,
}

impl Run for Args {
    fn run(self, ctx: &Ctx) -> Result<i32> {
        let dir = if self.install {
            let exe = std::env::current_exe()
                .map_err(|e| crate::Error::io("locating the running executable", e))?;
            let prefix = exe.parent().and_then(|bin| bin.parent()).ok_or_else(|| {
                crate::Error::invalid(format!(
                    "cannot tell the install prefix of {}",
                    exe.display()
                ))
            })?;
            prefix.join("share").join("man").join("man1")
        } else {
            resolve_path(ctx, &self.dir)
        };
        let written = docs::write_man_pages(&dir)?;
        ctx.status(format!(
            "wrote {} man pages to {}",
            written.len(),
            dir.display()
        ));
        Ok(0)
    }
}
