//! The dashboard's routes, as a function from a request to a reply (no sockets), so each
//! route is tested directly and the server stays a loop around it.

use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::feed::{self, Feed};
use crate::town::Town;

/// The page: one file, embedded in the binary.
const PAGE: &str = include_str!("page.html");
/// Feed events per request unless `limit` says otherwise, and the most it may ask.
const FEED_DEFAULT: usize = 50;
const FEED_MAX: usize = 1000;

/// What the router needs of a request.
pub struct Request<'a> {
    pub method: &'a str,
    /// The path and query (`/api/feed?limit=10`).
    pub url: &'a str,
    /// The Host header, if any.
    pub host: Option<&'a str>,
    /// The port we listen on (the only one a Host may name).
    pub port: u16,
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Reply {
    fn json(status: u16, value: &(impl Serialize + ?Sized)) -> Reply {
        match serde_json::to_vec_pretty(value) {
            Ok(mut body) => {
                body.push(b'\n');
                Reply {
                    status,
                    content_type: "application/json",
                    body,
                }
            }
            Err(e) => Reply::error(500, &e.to_string()),
        }
    }

    /// An error as the CLI's `--json` shape: `{"error", "kind"}`.
    fn error(status: u16, message: &str) -> Reply {
        let kind = match status {
            404 => "not_found",
            403 | 405 => "refused",
            400 => "invalid",
            _ => "failed",
        };
        Reply::json_value(
            status,
            serde_json::json!({ "error": message, "kind": kind }),
        )
    }

    fn json_value(status: u16, value: serde_json::Value) -> Reply {
        Reply {
            status,
            content_type: "application/json",
            body: format!("{value}\n").into_bytes(),
        }
    }

    fn failed(err: &Error) -> Reply {
        let status = match err {
            Error::Invalid(_) => 400,
            Error::NotFound(_) => 404,
            _ => 500,
        };
        Reply::error(status, &crate::error::one_line(&err.to_string()))
    }

    /// The headers sent with the body: no caching (every poll must see the refs as they
    /// are), and a page that may load nothing but itself and its own API.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = vec![
            (
                "Content-Type",
                format!("{}; charset=utf-8", self.content_type),
            ),
            ("Cache-Control", "no-store".to_string()),
            ("X-Content-Type-Options", "nosniff".to_string()),
        ];
        if self.content_type == "text/html" {
            headers.push((
                "Content-Security-Policy",
                "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
                 connect-src 'self'; img-src data:; frame-ancestors 'none'"
                    .to_string(),
            ));
        }
        headers
    }
}

/// Answer one request for the town at `root`.
pub fn route(root: &Path, request: &Request) -> Reply {
    if !host_allowed(request.host, request.port) {
        // Another name for 127.0.0.1 (DNS rebinding) must not read the town.
        return Reply::error(
            403,
            "this dashboard answers only to 127.0.0.1 and localhost",
        );
    }
    if request.method != "GET" && request.method != "HEAD" {
        return Reply::error(405, "the dashboard is read-only: only GET is served");
    }
    let (path, query) = request.url.split_once('?').unwrap_or((request.url, ""));
    match path {
        "/" | "/index.html" => Reply {
            status: 200,
            content_type: "text/html",
            body: PAGE.as_bytes().to_vec(),
        },
        "/api/status" => match status(root) {
            Ok(reply) => reply,
            Err(err) => Reply::failed(&err),
        },
        "/api/feed" => match feed_events(root, query) {
            Ok(reply) => reply,
            Err(err) => Reply::failed(&err),
        },
        _ => Reply::error(404, &format!("no page '{}'", path.escape_debug())),
    }
}

fn open(root: &Path) -> Result<Town> {
    Town::discover(root)
}

fn status(root: &Path) -> Result<Reply> {
    let town = open(root)?;
    Ok(Reply::json(200, &crate::status::gather(&town)?))
}

/// The newest `limit` events wanted, oldest first (as `git gastown feed --json`).
fn feed_events(root: &Path, query: &str) -> Result<Reply> {
    let mut filter = feed::Filter::default();
    let mut limit = FEED_DEFAULT;
    for (key, value) in query_pairs(query) {
        match key.as_str() {
            "limit" => {
                limit = value
                    .parse::<usize>()
                    .map_err(|_| Error::invalid(format!("bad limit '{}'", value.escape_debug())))?
                    .min(FEED_MAX)
            }
            "since" => filter.since_ms = Some(feed::parse_since(&value)?),
            "rig" => filter.rig = Some(value),
            "kind" => filter.kinds.push(value),
            _ => {}
        }
    }
    let town = open(root)?;
    let events = Feed::new(&town)?.events(&filter)?;
    let skip = events.len().saturating_sub(limit);
    Ok(Reply::json(200, &events[skip..]))
}

/// `a=1&b=x%20y` as decoded pairs.
fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
                continue;
            }
            (b'+', _) => out.push(b' '),
            (b, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A missing Host (HTTP/1.0) or one naming loopback on our port.
fn host_allowed(host: Option<&str>, port: u16) -> bool {
    let Some(host) = host else {
        return true;
    };
    let host = host.trim().to_ascii_lowercase();
    ["127.0.0.1", "localhost", "[::1]"]
        .iter()
        .any(|name| host == *name || host == format!("{name}:{port}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(url: &str, host: Option<&str>) -> Reply {
        route(
            Path::new("/nonexistent-town"),
            &Request {
                method: "GET",
                url,
                host,
                port: 8787,
            },
        )
    }

    #[test]
    fn the_page_is_served_with_a_strict_policy() {
        let reply = get("/", Some("127.0.0.1:8787"));
        assert_eq!(reply.status, 200);
        assert!(String::from_utf8_lossy(&reply.body).contains("<title>"));
        assert!(reply
            .headers()
            .iter()
            .any(|(k, v)| *k == "Content-Security-Policy" && v.contains("connect-src 'self'")));
    }

    #[test]
    fn other_hosts_methods_and_paths_are_refused() {
        assert_eq!(get("/", Some("evil.example:8787")).status, 403);
        assert_eq!(get("/", Some("127.0.0.1:9999")).status, 403);
        assert_eq!(get("/", Some("localhost:8787")).status, 200);
        assert_eq!(get("/nope", None).status, 404);
        let post = route(
            Path::new("/"),
            &Request {
                method: "POST",
                url: "/api/status",
                host: None,
                port: 8787,
            },
        );
        assert_eq!(post.status, 405);
    }

    #[test]
    fn a_bad_query_is_a_one_line_error() {
        let reply = get("/api/feed?limit=lots", None);
        assert_eq!(reply.status, 400);
        let body: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(body["error"], "bad limit 'lots'");
    }

    #[test]
    fn queries_are_percent_decoded() {
        assert_eq!(
            query_pairs("since=2026-12-01T10%3A00%3A00Z&rig=a+b&x=%zz&y=%4"),
            [
                ("since".into(), "2026-12-01T10:00:00Z".into()),
                ("rig".into(), "a b".into()),
                ("x".into(), "%zz".into()),
                ("y".into(), "%4".into()),
            ]
        );
    }
}
