//! Text views of agents (rows for `list`, the full `show`). Anything an agent or a bead
//! wrote is escaped (`cli::text`); JSON output carries it exactly.

use chrono::Utc;

use crate::agent::lifecycle::{AgentView, SessionView};
use crate::cli::text;

/// `alive`, `dead` or `-`, with the backend.
pub fn session_cell(session: &Option<SessionView>) -> String {
    match session {
        None => "-".to_string(),
        Some(s) => format!("{} ({})", if s.alive { "alive" } else { "dead" }, s.backend),
    }
}

/// How long ago the last activity was, e.g. `12s ago`.
pub fn activity_cell(session: &Option<SessionView>) -> String {
    let Some(at) = session.as_ref().and_then(|s| s.last_activity) else {
        return "-".to_string();
    };
    let secs = (Utc::now() - at).num_seconds().max(0);
    let ago = match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    };
    let state = session
        .as_ref()
        .and_then(|s| s.working_state.as_deref())
        .map(|w| format!(" {w}"))
        .unwrap_or_default();
    format!("{ago} ago{state}")
}

/// The rows of `list`, aligned.
pub fn rows(views: &[AgentView]) -> String {
    let mut table: Vec<[String; 5]> = vec![[
        "ADDRESS".into(),
        "STATE".into(),
        "HOOK".into(),
        "SESSION".into(),
        "ACTIVITY".into(),
    ]];
    for v in views {
        table.push([
            text::line(&v.agent.address.to_string()).into_owned(),
            text::line(&v.agent.state).into_owned(),
            v.agent
                .hook
                .as_deref()
                .map(|h| text::line(h).into_owned())
                .unwrap_or_else(|| "-".into()),
            session_cell(&v.session),
            activity_cell(&v.session),
        ]);
    }
    let widths: Vec<usize> = (0..5)
        .map(|i| {
            table
                .iter()
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in &table {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `show`: one agent in full.
pub fn full(v: &AgentView) -> String {
    let a = &v.agent;
    let opt = |o: Option<&str>| {
        o.map(|s| text::line(s).into_owned())
            .unwrap_or_else(|| "-".into())
    };
    let mut out = format!("{}\n", text::line(&a.address.to_string()));
    out.push_str(&format!("  role:     {}\n", a.role));
    out.push_str(&format!("  state:    {}\n", text::line(&a.state)));
    out.push_str(&format!("  hook:     {}\n", opt(a.hook.as_deref())));
    out.push_str(&format!("  runtime:  {}\n", opt(a.runtime.as_deref())));
    let sandbox = a.sandbox.as_ref().map(|p| p.to_string_lossy().into_owned());
    out.push_str(&format!("  sandbox:  {}\n", opt(sandbox.as_deref())));
    out.push_str(&format!("  branch:   {}\n", opt(a.branch.as_deref())));
    match &v.session {
        None => out.push_str("  session:  none\n"),
        Some(s) => {
            out.push_str(&format!(
                "  session:  {} {} pid {} since {}\n",
                s.name,
                session_cell(&v.session),
                s.pid,
                s.started_at.format("%Y-%m-%d %H:%M:%S UTC")
            ));
            out.push_str(&format!("  activity: {}\n", activity_cell(&v.session)));
            if let Some(id) = &s.runtime_session_id {
                out.push_str(&format!("  runtime session: {}\n", text::line(id)));
            }
        }
    }
    out.push_str(&format!("  completed: {}\n", a.completions.len()));
    out
}
