//! The dashboard (`git gastown dashboard`, docs/DASHBOARD.md): a local web page served while
//! the command runs, on 127.0.0.1 only. One embedded HTML file (page.html, plain JS and CSS,
//! no build step) polls a read-only JSON API:
//!
//! - `GET /api/status`: the document of `git gastown status --json` (`crate::status::gather`)
//! - `GET /api/feed?limit=N&since=T&rig=R`: the newest events of `git gastown feed`
//!
//! Every request opens the town afresh, so the page shows the refs as they are now, and
//! nothing is cached or written: there is no state to fall out of step, and several
//! dashboards (or none) change nothing. Only GET and HEAD are served.

mod open;
mod routes;

use std::path::PathBuf;
use std::sync::Arc;

use crate::error::{Error, Result};

pub use open::open_in_browser;
pub use routes::{route, Reply, Request};

/// Worker threads answering requests: a status read takes milliseconds, and the page makes
/// two requests per refresh, so a few suffice and a busy machine is spared.
const WORKERS: usize = 3;

/// A bound, not yet serving, dashboard.
pub struct Dashboard {
    server: Arc<tiny_http::Server>,
    town_root: PathBuf,
    port: u16,
}

impl Dashboard {
    /// Listen on 127.0.0.1:`port` (0: any free port) for the town at `town_root`.
    pub fn bind(town_root: PathBuf, port: u16) -> Result<Dashboard> {
        // Most often the port is taken: the user's to change, so a refusal (exit 1).
        let server = tiny_http::Server::http(("127.0.0.1", port))
            .map_err(|e| Error::invalid(format!("cannot listen on 127.0.0.1:{port}: {e}")))?;
        let port = server
            .server_addr()
            .to_ip()
            .map(|a| a.port())
            .unwrap_or(port);
        Ok(Dashboard {
            server: Arc::new(server),
            town_root,
            port,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The page's address.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// Answer requests until the process is stopped.
    pub fn serve(self) -> Result<()> {
        let mut workers = Vec::new();
        for _ in 0..WORKERS {
            let server = Arc::clone(&self.server);
            let root = self.town_root.clone();
            let port = self.port;
            let worker = std::thread::Builder::new()
                .name("dashboard".into())
                .spawn(move || loop {
                    match server.recv() {
                        Ok(request) => answer(&root, port, request),
                        Err(_) => return,
                    }
                })
                .map_err(|e| Error::io("starting the dashboard's threads", e))?;
            workers.push(worker);
        }
        for worker in workers {
            let _ = worker.join();
        }
        Ok(())
    }
}

/// Route one request and send the reply; a client that went away is no error of ours.
fn answer(root: &std::path::Path, port: u16, request: tiny_http::Request) {
    let host = request
        .headers()
        .iter()
        .find(|h| h.field.equiv("host"))
        .map(|h| h.value.as_str().to_string());
    let method = request.method().as_str().to_string();
    let reply = route(
        root,
        &Request {
            method: &method,
            url: request.url(),
            host: host.as_deref(),
            port,
        },
    );
    let headers = reply.headers();
    let mut response = tiny_http::Response::from_data(if method == "HEAD" {
        Vec::new()
    } else {
        reply.body
    })
    .with_status_code(reply.status);
    for (name, value) in headers {
        if let Ok(header) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            response.add_header(header);
        }
    }
    let _ = request.respond(response);
}
