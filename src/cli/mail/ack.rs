use super::super::Ctx;
use super::{shared, Run};
use crate::error::Result;
use crate::mail::State;
use crate::town::Town;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Message ids (unique prefixes will do)
    #[arg(required = true)]
    ids: Vec<String>,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, town: &Town) -> Result<i32> {
        shared::mark(ctx, town, &self.ids, State::Acked)
    }
}
