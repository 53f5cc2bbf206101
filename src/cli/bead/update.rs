//! `git bead update`: change fields, labels, parent of beads, or claim them.

use serde_json::json;

use super::shared::{done, json_object_arg, time_arg};
use super::Run;
use crate::bead::{schema, Beads, UpdateSpec};
use crate::cli::Ctx;
use crate::error::{Error, Result};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[arg(required = true)]
    pub ids: Vec<String>,
    #[arg(long)]
    pub title: Option<String>,
    #[arg(long, short)]
    pub description: Option<String>,
    #[arg(long)]
    pub design: Option<String>,
    /// Acceptance criteria
    #[arg(long, visible_alias = "acceptance-criteria")]
    pub acceptance: Option<String>,
    #[arg(long)]
    pub notes: Option<String>,
    /// Append a paragraph to the notes
    #[arg(long)]
    pub append_notes: Option<String>,
    #[arg(long, short)]
    pub status: Option<String>,
    #[arg(long, short)]
    pub priority: Option<String>,
    #[arg(long = "type", short = 't')]
    pub issue_type: Option<String>,
    /// Assignee ("" to clear)
    #[arg(long, short)]
    pub assignee: Option<String>,
    #[arg(long)]
    pub owner: Option<String>,
    #[arg(long)]
    pub external_ref: Option<String>,
    #[arg(long)]
    pub due: Option<String>,
    #[arg(long)]
    pub defer: Option<String>,
    #[arg(long)]
    pub estimate: Option<u32>,
    /// Metadata as a JSON object (replaces the old one)
    #[arg(long)]
    pub metadata: Option<String>,
    /// Add labels (comma-separated, can be repeated)
    #[arg(long, value_delimiter = ',')]
    pub add_label: Vec<String>,
    /// Remove labels
    #[arg(long, value_delimiter = ',')]
    pub remove_label: Vec<String>,
    /// Move under this parent ("" to detach)
    #[arg(long)]
    pub parent: Option<String>,
    /// Take the bead: assignee = actor, status = in_progress, atomically; fails if someone else holds it
    #[arg(long)]
    pub claim: bool,
    /// Set any field: KEY=VALUE (VALUE parsed as JSON when it is valid JSON)
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Remove a field
    #[arg(long, value_name = "KEY")]
    pub unset: Vec<String>,
}

impl Run for Args {
    fn run(self, ctx: &Ctx, beads: &Beads<'_>) -> Result<i32> {
        let actor = ctx.actor(beads.store)?;
        let spec = self.spec()?;
        let records = beads.update(&actor, &self.ids, &spec)?;
        done(
            ctx,
            if spec.claim { "Claimed" } else { "Updated" },
            &records,
        )
    }

    fn first_id(&self) -> Option<&str> {
        self.ids.first().map(String::as_str)
    }
}

impl Args {
    /// The flags as an update; the service checks what it may change.
    fn spec(&self) -> Result<UpdateSpec> {
        let mut set = Vec::new();
        for pair in &self.set {
            let (key, raw) = pair
                .split_once('=')
                .ok_or_else(|| Error::invalid(format!("bad --set '{pair}': use KEY=VALUE")))?;
            let value = serde_json::from_str(raw).unwrap_or_else(|_| json!(raw));
            set.push((key.trim().to_string(), value));
        }
        let optional_time = |raw: &Option<String>| raw.as_deref().map(time_arg).transpose();
        Ok(UpdateSpec {
            title: self.title.clone(),
            description: self.description.clone(),
            design: self.design.clone(),
            acceptance_criteria: self.acceptance.clone(),
            notes: self.notes.clone(),
            owner: self.owner.clone(),
            external_ref: self.external_ref.clone(),
            assignee: self
                .assignee
                .as_ref()
                .map(|a| Some(a.clone()).filter(|a| !a.is_empty())),
            priority: self
                .priority
                .as_deref()
                .map(schema::parse_priority)
                .transpose()?,
            due_at: optional_time(&self.due)?,
            defer_until: optional_time(&self.defer)?,
            estimated_minutes: self.estimate,
            metadata: self
                .metadata
                .as_deref()
                .map(|m| json_object_arg(m, "metadata"))
                .transpose()?,
            set,
            unset: self.unset.clone(),
            append_notes: self.append_notes.clone(),
            status: self.status.clone(),
            issue_type: self.issue_type.clone(),
            add_labels: self.add_label.clone(),
            remove_labels: self.remove_label.clone(),
            parent: self
                .parent
                .as_ref()
                .map(|p| Some(p.clone()).filter(|p| !p.is_empty())),
            claim: self.claim,
        })
    }
}
