//! `git bead comment ID TEXT...`: bd's short form of `comments add`.

use super::comments::AddArgs;
use super::Run;
use crate::bead::Beads;
use crate::cli::Ctx;
use crate::error::Result;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    id: String,
    /// The comment (several words are joined with spaces)
    #[arg(required = true, num_args = 1..)]
    text: Vec<String>,
    /// Record this person as the comment's author (default: the actor)
    #[arg(long, short)]
    author: Option<String>,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, beads: &Beads<'_>) -> Result<i32> {
        AddArgs::new(self.id, self.text.join(" "), self.author).add(ctx, beads)
    }

    fn first_id(&self) -> Option<&str> {
        Some(&self.id)
    }
}
