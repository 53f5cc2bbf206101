//! `git agent runtimes`: every runtime (presets and configured ones), installed or not.

use super::Run;
use crate::cli::{print_json, print_text, text, Ctx};
use crate::error::Result;
use crate::runtime::{HookKind, PromptMode, Runtimes};
use crate::store::Store;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {}

impl Run for Args {
    fn run(self, ctx: &Ctx) -> Result<i32> {
        // Outside a repository only the presets (and global config) apply.
        let runtimes = match Store::open(&ctx.dir()) {
            Ok(store) => Runtimes::from_repo(store.repo()),
            Err(_) => Runtimes::default(),
        };
        let status = runtimes.status();
        if ctx.global.json {
            print_json(&status)?;
            return Ok(0);
        }
        let mut out = String::new();
        for s in &status {
            let r = &s.runtime;
            let mut command = vec![r.command.clone()];
            command.extend(r.args.iter().cloned());
            let prompt = match r.prompt {
                PromptMode::Arg => "prompt by argument",
                PromptMode::Stdin => "prompt on stdin",
                PromptMode::None => "no prompt",
            };
            let hooks = match r.hooks {
                HookKind::Claude => "claude hooks",
                HookKind::Codex => "codex hooks",
                HookKind::Gemini => "gemini hooks",
                HookKind::None => "no hooks",
            };
            let found = match &s.path {
                Some(p) => p.display().to_string(),
                None => "not on PATH".to_string(),
            };
            out.push_str(&format!(
                "{:<13} {}  [{prompt}, {hooks}]  {}\n",
                text::line(&r.name),
                text::line(&command.join(" ")),
                text::line(&found)
            ));
        }
        print_text(&out)?;
        Ok(0)
    }
}
