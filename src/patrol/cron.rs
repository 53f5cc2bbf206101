//! `git patrol cron`: the crontab line that runs a pass every N minutes (or hours), and its
//! installation into the user's crontab through the `crontab` command: idempotent (the
//! line for this town is replaced, never doubled) and keeping every other line as it was.
//! cron hands the line to a shell, so every path in it is single-quoted.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::town::settings::parse_duration;

/// What `cron` printed or installed.
#[derive(Debug, Clone, Serialize)]
pub struct CronLine {
    /// The five schedule fields.
    pub schedule: String,
    /// The whole crontab line (schedule, command, the marker comment).
    pub line: String,
    pub installed: bool,
    /// False when the crontab already held exactly this line.
    pub changed: bool,
}

/// The marker that names this town's line, so installing again replaces it.
fn marker(town_root: &Path) -> String {
    format!("# gastown patrol {}", town_root.display())
}

/// The schedule for "every `every`": minutes (1-59) or whole hours (1-23) or a day.
pub fn schedule(every: &str) -> Result<String> {
    let bad = || {
        Error::invalid(format!(
            "bad --every '{every}': use minutes (1m-59m), hours (1h-23h) or 1d"
        ))
    };
    let secs = parse_duration(every).ok_or_else(bad)?;
    Ok(match secs {
        s if s % 86_400 == 0 && s == 86_400 => "0 0 * * *".to_string(),
        s if s % 3600 == 0 && (1..=23).contains(&(s / 3600)) => match s / 3600 {
            1 => "0 * * * *".to_string(),
            h => format!("0 */{h} * * *"),
        },
        s if s % 60 == 0 && (1..=59).contains(&(s / 60)) => match s / 60 {
            1 => "* * * * *".to_string(),
            m => format!("*/{m} * * * *"),
        },
        _ => return Err(bad()),
    })
}

/// Single-quoted for `sh`: `'` becomes `'\''`.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The line: run `binary -C TOWN --quiet`, output appended to `log`.
pub fn line(every: &str, binary: &Path, town_root: &Path, log: &Path) -> Result<CronLine> {
    for (what, path) in [("binary", binary), ("town", town_root), ("log", log)] {
        let text = path.to_string_lossy();
        if text.contains(['\n', '\r', '%']) {
            // cron ends a line at a newline and turns `%` into one.
            return Err(Error::invalid(format!(
                "the {what} path {} cannot go into a crontab line (newline or %)",
                text.escape_debug()
            )));
        }
    }
    let schedule = schedule(every)?;
    let line = format!(
        "{schedule} {} -C {} --quiet >> {} 2>&1 {}",
        quote(&binary.to_string_lossy()),
        quote(&town_root.to_string_lossy()),
        quote(&log.to_string_lossy()),
        marker(town_root)
    );
    Ok(CronLine {
        schedule,
        line,
        installed: false,
        changed: false,
    })
}

/// Put `cron.line` into the user's crontab in place of this town's old line (if any).
pub fn install(mut cron: CronLine, town_root: &Path) -> Result<CronLine> {
    let current = read_crontab()?;
    let mark = marker(town_root);
    let kept: Vec<&str> = current
        .lines()
        .filter(|l| !l.trim_end().ends_with(&mark))
        .collect();
    let had = current.lines().any(|l| l == cron.line);
    let mut next = kept.join("\n");
    if !next.is_empty() {
        next.push('\n');
    }
    next.push_str(&cron.line);
    next.push('\n');
    cron.installed = true;
    cron.changed = !(had && next == current);
    if cron.changed {
        write_crontab(&next)?;
    }
    Ok(cron)
}

fn crontab() -> Result<std::path::PathBuf> {
    which::which("crontab").map_err(|_| {
        Error::invalid("the crontab command is not on PATH (install cron, or add the line by hand)")
    })
}

/// The user's crontab; empty when there is none yet.
fn read_crontab() -> Result<String> {
    let out = Command::new(crontab()?)
        .arg("-l")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::io("running crontab -l", e))?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.to_ascii_lowercase().contains("no crontab") {
        return Ok(String::new());
    }
    Err(Error::invalid(format!(
        "crontab -l failed: {}",
        crate::error::one_line(stderr.trim())
    )))
}

fn write_crontab(text: &str) -> Result<()> {
    let mut child = Command::new(crontab()?)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::io("running crontab -", e))?;
    if let Some(mut pipe) = child.stdin.take() {
        pipe.write_all(text.as_bytes())
            .map_err(|e| Error::io("writing to crontab", e))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| Error::io("running crontab -", e))?;
    if !out.status.success() {
        return Err(Error::invalid(format!(
            "crontab - failed: {}",
            crate::error::one_line(String::from_utf8_lossy(&out.stderr).trim())
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_for_minutes_hours_and_a_day() {
        assert_eq!(schedule("5m").unwrap(), "*/5 * * * *");
        assert_eq!(schedule("1m").unwrap(), "* * * * *");
        assert_eq!(schedule("60m").unwrap(), "0 * * * *");
        assert_eq!(schedule("2h").unwrap(), "0 */2 * * *");
        assert_eq!(schedule("1d").unwrap(), "0 0 * * *");
        for bad in ["30s", "90m", "2d", "soon", "0m", ""] {
            assert!(schedule(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn paths_are_quoted_for_the_shell() {
        let l = line(
            "5m",
            Path::new("/opt/it's here/git-patrol"),
            Path::new("/tmp/town $HOME"),
            Path::new("/tmp/town $HOME/.git/gastown/patrol/cron.log"),
        )
        .unwrap();
        assert!(
            l.line.starts_with(
                r"*/5 * * * * '/opt/it'\''s here/git-patrol' -C '/tmp/town $HOME' --quiet >> "
            ),
            "{}",
            l.line
        );
        assert!(line("5m", Path::new("/a%b"), Path::new("/t"), Path::new("/l")).is_err());
    }
}
