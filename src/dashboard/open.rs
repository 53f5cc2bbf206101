//! `--open`: hand the page's URL to the desktop's opener. The URL is ours
//! (`http://127.0.0.1:PORT/`), passed as one argument, never through a shell.

use std::process::{Command, Stdio};

use crate::error::{Error, Result};

/// Start the default browser on `url` and return at once (the browser outlives nothing of
/// ours; its output is dropped so it cannot scribble over the command's).
pub fn open_in_browser(url: &str) -> Result<()> {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    Command::new(opener)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(|mut child| {
            // Reaped in the background: the dashboard runs on, and leaves no zombie.
            std::thread::spawn(move || child.wait());
        })
        .map_err(|e| Error::io(format!("starting {opener} to open {url}"), e))
}
