//! `git gastown dashboard` (docs/DASHBOARD.md) on a town the test builds: a lone repository
//! (rig `repo`) with polecats running the scripted runtime, a crew member, a convoy and an
//! escalation.
//!
//! - `dashboard_api_*`: plain HTTP from the test: `/api/status` is the document of
//!   `git gastown status --json` (timestamps aside), `/api/feed` the feed's newest events,
//!   and the server refuses writes, other hosts and unknown paths.
//! - `dashboard_page_*`: the page in a real headless Chromium (Debian's `chromium`), started
//!   by the test: its DOM, once the page's script ran, names the town's agents and convoys,
//!   and a screenshot is kept at `target/test-artifacts/dashboard.png`. Without chromium it
//!   says SKIPPED and passes, unless `GT_REQUIRE_CHROMIUM=1` (set by `.ci/run`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::bin_dir;
use crate::support::scripted::{town, wait_until, Town};
use crate::support::seed_agent;

const CREW: &str = "repo/crew/alice";
const ESCALATION: &str = "the gate hangs on the dashboard branch";

/// A running `git gastown dashboard`, killed when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(t: &Town) -> Server {
        let program = bin_dir().join("git-gastown");
        let mut child = t
            .env
            .command(program.to_str().unwrap(), &t.repo())
            .args(["dashboard", "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line.trim().to_string();
        let server = Server { child, url };
        assert!(
            server.url.starts_with("http://127.0.0.1:") && server.url.ends_with('/'),
            "printed {line:?}"
        );
        server
    }

    fn port(&self) -> u16 {
        self.url
            .trim_start_matches("http://127.0.0.1:")
            .trim_end_matches('/')
            .parse()
            .unwrap()
    }

    /// One request with plain HTTP/1.0: (status code, body).
    fn request(&self, method: &str, path: &str, host: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port())).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        write!(stream, "{method} {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        let code = head
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("bad response {head:?}"));
        (code, body.to_string())
    }

    fn get_json(&self, path: &str) -> Value {
        let (code, body) = self.request("GET", path, &format!("127.0.0.1:{}", self.port()));
        assert_eq!(code, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}\n{body}"))
    }
}

/// The scripted town with two polecats holding work (alive), a crew member, a convoy of the
/// two beads, a HIGH escalation; its polecats' addresses and the convoy's name.
fn busy_town() -> (Town, Vec<String>, String) {
    let t = town("process");
    t.config_set("agent.default", "script");
    seed_agent(&t.repo(), CREW, None);
    let first = t.env.create("wire the dashboard", &[]);
    let second = t.env.create("draw the convoy", &[]);
    let dispatched = t.sling_json(&[&first, &second, "repo", "--no-convoy"]);
    let polecats: Vec<String> = dispatched
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["agent"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(polecats.len(), 2, "{dispatched}");
    wait_until("both polecats alive", || t.alive_sessions() == 2);
    let name = "dashboard-convoy".to_string();
    let out = t.tool_in(
        &t.repo(),
        "convoy",
        &["create", &name, &first, &second, "--json"],
    );
    assert!(
        out.status.success(),
        "convoy create: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = t.tool_in(
        &t.repo(),
        "escalate",
        &["-s", "HIGH", ESCALATION, "--bead", &first],
    );
    assert!(
        out.status.success(),
        "escalate: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (t, polecats, name)
}

/// Drop what differs between two reads of the same town: the time of the read and the
/// seconds-since values computed from it.
fn without_clock(mut v: Value) -> Value {
    match &mut v {
        Value::Object(map) => {
            map.remove("generated_at");
            map.remove("quiet_for_s");
            for value in map.values_mut() {
                *value = without_clock(value.take());
            }
        }
        Value::Array(items) => {
            for value in items.iter_mut() {
                *value = without_clock(value.take());
            }
        }
        _ => {}
    }
    v
}

#[test]
fn dashboard_api_status_is_the_status_document_and_the_server_is_read_only() {
    let (t, polecats, convoy) = busy_town();
    let server = Server::start(&t);
    let api = server.get_json("/api/status");
    let cli = t.env.json_in(&t.repo(), "gastown", &["status"]);
    assert!(api["generated_at"].is_string(), "{api}");
    assert_eq!(without_clock(api.clone()), without_clock(cli));
    let addresses: Vec<&str> = api["agents"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["address"].as_str().unwrap())
        .collect();
    for p in &polecats {
        assert!(addresses.contains(&p.as_str()), "{p} in {addresses:?}");
    }
    assert!(addresses.contains(&CREW));
    assert!(
        api["convoys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == convoy.as_str()),
        "{}",
        api["convoys"]
    );

    let escalations = &api["escalations"]["list"];
    assert_eq!(escalations[0]["summary"], ESCALATION, "{escalations}");

    // The feed: the newest events, oldest first; `limit` bounds them.
    let feed = server.get_json("/api/feed?limit=500");
    let events = feed.as_array().unwrap();
    assert!(events.iter().any(|e| e["kind"] == "sling"), "{feed}");
    let times: Vec<&str> = events.iter().map(|e| e["at"].as_str().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "oldest first");
    let last_two = server.get_json("/api/feed?limit=2");
    assert_eq!(last_two.as_array().unwrap().len(), 2);
    assert_eq!(last_two[1]["commit"], events.last().unwrap()["commit"]);
    let later = server.get_json("/api/feed?since=2999-01-01");
    assert_eq!(later, Value::Array(vec![]));

    // The page itself, and what is refused.
    let host = format!("127.0.0.1:{}", server.port());
    let (code, page) = server.request("GET", "/", &host);
    assert_eq!(code, 200);
    assert!(page.contains("/api/status"), "the page polls the API");
    let refs_before = t.refs();
    for method in ["POST", "PUT", "DELETE"] {
        let (code, body) = server.request(method, "/api/status", &host);
        assert_eq!(code, 405, "{method}: {body}");
    }
    assert_eq!(t.refs(), refs_before, "nothing was written");
    let (code, _) = server.request("GET", "/api/status", "attacker.example");
    assert_eq!(code, 403, "another host name for 127.0.0.1 is refused");
    let (code, body) = server.request("GET", "/api/nothing", &host);
    assert_eq!(code, 404);
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["kind"], "not_found");
    let (code, body) = server.request("GET", "/api/feed?since=yesterday-ish", &host);
    assert_eq!(code, 400, "{body}");
}

#[test]
fn dashboard_refuses_a_port_in_use_with_one_line() {
    let t = town("process");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = t.tool_in(&t.repo(), "gastown", &["dashboard", "--port", &port]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "{stderr}");
    crate::support::assert_one_line_error(&stderr);
}

/// Chromium, or None after saying why (a failure when GT_REQUIRE_CHROMIUM=1).
fn chromium_or_skip(test: &str) -> Option<PathBuf> {
    let found = std::env::var_os("GT_CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| which::which("chromium").ok())
        .or_else(|| which::which("chromium-browser").ok());
    if found.is_some() {
        return found;
    }
    if std::env::var("GT_REQUIRE_CHROMIUM").as_deref() == Ok("1") {
        panic!("{test}: chromium required (GT_REQUIRE_CHROMIUM=1) but not on PATH");
    }
    let _ = writeln!(
        std::io::stderr(),
        "\n*** {test}: SKIPPED: chromium is not installed; run .ci/run or \
         `apt-get install -y chromium` ***\n"
    );
    None
}

/// Run headless Chromium on `url` with `extra` flags (a profile of its own, killed after
/// a minute): its stdout.
fn chromium(binary: &Path, profile: &Path, url: &str, extra: &[&str]) -> String {
    let mut child = Command::new(binary)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
            // Virtual time runs the page's timers at once but waits for its fetches.
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        let _ = stdout.read_to_string(&mut out);
        out
    });
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    reader.join().unwrap()
}

#[test]
fn dashboard_page_renders_the_towns_agents_and_convoys_in_chromium() {
    let Some(binary) = chromium_or_skip("dashboard_page_renders_the_towns_agents_and_convoys")
    else {
        return;
    };
    let (t, polecats, convoy) = busy_town();
    let server = Server::start(&t);
    let profile = t.env.path().join("chromium-profile");
    let dom = chromium(&binary, &profile, &server.url, &["--dump-dom"]);
    assert!(
        dom.contains("data-loaded=\"true\""),
        "the page's script filled it in:\n{dom}"
    );
    for address in polecats.iter().map(String::as_str).chain([CREW]) {
        assert!(
            dom.contains(&format!("data-address=\"{address}\"")),
            "agent {address} on the page"
        );
    }
    let agents = section(&dom, "agents");
    assert!(
        agents.contains("wire the dashboard"),
        "the hooked bead's title: {agents}"
    );
    let convoys = section(&dom, "convoys");
    assert!(convoys.contains(&convoy), "convoy {convoy}: {convoys}");
    assert!(convoys.contains("0/2"), "its progress: {convoys}");
    assert!(
        section(&dom, "feed").contains("sling"),
        "the feed shows the slings"
    );

    let artifacts = bin_dir().parent().unwrap().join("test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("dashboard.png");
    let _ = std::fs::remove_file(&shot);
    chromium(
        &binary,
        &profile,
        &server.url,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1400,1000",
        ],
    );
    let png = std::fs::read(&shot).expect("the screenshot was written");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    assert!(
        png.len() > 10_000,
        "more than a blank page: {} bytes",
        png.len()
    );
    eprintln!("dashboard screenshot: {}", shot.display());
}

/// The HTML of the element `id="ID"` onwards, up to the next section.
fn section<'d>(dom: &'d str, id: &str) -> &'d str {
    let start = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in the page"));
    let rest = &dom[start..];
    let end = rest.find("</section>").unwrap_or(rest.len());
    &rest[..end]
}
