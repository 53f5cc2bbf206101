//! `git agent attach`: become the terminal of an agent's tmux session.

use std::os::unix::process::CommandExt;

use super::{on_agent, Run};
use crate::cli::{print_json, Ctx};
use crate::error::{Error, Result};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The agent's address
    address: String,
}

impl Run for Args {
    fn run(self, ctx: &Ctx) -> Result<i32> {
        on_agent(ctx, Some(&self.address), |_, agents, address| {
            agents.get(&address)?;
            let argv = agents.attach_command(&address)?;
            if ctx.global.json {
                // Scripts get the command to run instead of a terminal taken over.
                let words: Vec<String> = argv
                    .iter()
                    .map(|a| a.to_string_lossy().into_owned())
                    .collect();
                print_json(&serde_json::json!({ "agent": address, "command": words }))?;
                return Ok(0);
            }
            let err = std::process::Command::new(&argv[0])
                .args(&argv[1..])
                .env_remove("TMUX")
                .exec();
            Err(Error::io(
                format!("running {}", argv[0].to_string_lossy()),
                err,
            ))
        })
    }
}
