//! Telemetry (docs/TELEMETRY.md): `git sling` and `git agent done` export their events and
//! counters over OTLP/HTTP to a collector named by GT_OTEL_*_URL or the town settings; a
//! collector that never answers costs a command at most the export's bound. The collector is
//! a small HTTP receiver the test runs on 127.0.0.1.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::bin_dir;
use crate::support::scripted::{town, wait_until, Town};

/// One POST the collector received: its path and JSON body.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    body: Value,
}

/// An OTLP/HTTP collector on 127.0.0.1 answering 200 to every POST; stops when dropped.
struct Collector {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Collector {
    fn start() -> Collector {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let received = Arc::clone(&received);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => serve_one(stream, &received),
                        Err(_) => std::thread::sleep(Duration::from_millis(10)),
                    }
                }
            })
        };
        Collector {
            url,
            received,
            stop,
            thread: Some(thread),
        }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Every data point of the metric `name` across the metric requests received.
    fn points(&self, name: &str) -> Vec<Value> {
        let mut out = Vec::new();
        for r in self.received().iter().filter(|r| r.path == "/v1/metrics") {
            for rm in r.body["resourceMetrics"].as_array().unwrap() {
                for sm in rm["scopeMetrics"].as_array().unwrap() {
                    for m in sm["metrics"].as_array().unwrap() {
                        if m["name"] == name {
                            let data = if m["sum"].is_object() {
                                &m["sum"]
                            } else {
                                &m["histogram"]
                            };
                            out.extend(data["dataPoints"].as_array().unwrap().iter().cloned());
                        }
                    }
                }
            }
        }
        out
    }

    /// Every log record named `name`.
    fn records(&self, name: &str) -> Vec<Value> {
        let mut out = Vec::new();
        for r in self.received().iter().filter(|r| r.path == "/v1/logs") {
            for rl in r.body["resourceLogs"].as_array().unwrap() {
                for sl in rl["scopeLogs"].as_array().unwrap() {
                    for rec in sl["logRecords"].as_array().unwrap() {
                        if rec["eventName"] == name {
                            out.push(rec.clone());
                        }
                    }
                }
            }
        }
        out
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Read one POST and record it, then answer: recorded before the client sees its 200, so a
/// command that reported `sent` has its request in `received` already.
fn serve_one(stream: TcpStream, received: &Mutex<Vec<Received>>) {
    if let Some(r) = read_one(&stream) {
        received.lock().unwrap().push(r);
        let mut stream = stream;
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}");
    }
}

fn read_one(stream: &TcpStream) -> Option<Received> {
    stream.set_nonblocking(false).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut length = 0;
    let mut content_type = String::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        if header.trim().is_empty() {
            break;
        }
        let (k, v) = header.split_once(':')?;
        if k.eq_ignore_ascii_case("content-length") {
            length = v.trim().parse().ok()?;
        }
        if k.eq_ignore_ascii_case("content-type") {
            content_type = v.trim().to_string();
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let mut words = line.split_whitespace();
    assert_eq!(words.next(), Some("POST"), "{line}");
    assert_eq!(content_type, "application/json");
    Some(Received {
        path: words.next()?.to_string(),
        body: serde_json::from_slice(&body).ok()?,
    })
}

/// The value of attribute `key` of a record or data point.
fn attr<'v>(item: &'v Value, key: &str) -> Option<&'v str> {
    item["attributes"]
        .as_array()?
        .iter()
        .find(|a| a["key"] == key)?
        .pointer("/value/stringValue")?
        .as_str()
}

/// `git-<tool> ARGS` in the town's repository with extra environment.
fn run_with(t: &Town, tool: &str, args: &[&str], vars: &[(&str, &str)]) -> Output {
    let program = bin_dir().join(format!("git-{tool}"));
    let mut cmd = t.env.command(program.to_str().unwrap(), &t.repo());
    cmd.args(args);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn slinging_town() -> Town {
    let t = town("process");
    t.config_set("agent.default", "script");
    t
}

#[test]
fn sling_and_done_export_events_and_counters_to_the_collector() {
    let collector = Collector::start();
    let t = slinging_town();
    let id = t.env.create("DO-WORK measured", &[]);
    // The session inherits the variables, so its `git agent done` reports too.
    // This test checks what arrives, not the bound (the tests below do): a loaded CI machine
    // must not lose a post to the 150 ms default.
    let vars = [
        ("GT_OTEL_LOGS_URL", collector.url.as_str()),
        ("GT_OTEL_METRICS_URL", collector.url.as_str()),
        ("GT_OTEL_TIMEOUT_MS", "5000"),
    ];
    let out = run_with(&t, "sling", &[&id, "repo", "--json"], &vars);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dispatched: Value = serde_json::from_slice(&out.stdout).unwrap();
    let agent = dispatched[0]["agent"].as_str().unwrap().to_string();
    assert!(agent.starts_with("repo/polecats/"), "{agent}");
    // Logs and metrics are two posts sent side by side: wait for both.
    wait_until("done's telemetry", || {
        !collector.points("gastown.done.total").is_empty()
            && !collector.records("gastown.done").is_empty()
    });

    let slings = collector.points("gastown.sling.total");
    assert_eq!(slings.len(), 1, "{slings:?}");
    let sling = &slings[0];
    assert_eq!(sling["asInt"], "1");
    assert_eq!(attr(sling, "rig"), Some("repo"));
    assert_eq!(attr(sling, "role"), Some("polecat"));
    assert_eq!(attr(sling, "agent"), Some(agent.as_str()));
    assert_eq!(attr(sling, "outcome"), Some("started"));
    let spawns = collector.points("gastown.polecat.spawns.total");
    assert_eq!(spawns.len(), 1, "{spawns:?}");
    assert_eq!(attr(&spawns[0], "agent"), Some(agent.as_str()));
    let durations = collector.points("gastown.sling.duration_ms");
    assert_eq!(durations[0]["count"], "1");
    assert!(durations[0]["sum"].as_f64().unwrap() > 0.0);

    let done = &collector.points("gastown.done.total")[0];
    assert_eq!(attr(done, "agent"), Some(agent.as_str()));
    assert_eq!(attr(done, "role"), Some("polecat"));
    assert_eq!(attr(done, "rig"), Some("repo"));
    assert_eq!(attr(done, "status"), Some("completed"));
    assert_eq!(collector.points("gastown.done.duration_ms").len(), 1);

    let records = collector.records("gastown.sling");
    assert_eq!(records.len(), 1);
    assert_eq!(attr(&records[0], "bead"), Some(id.as_str()));
    assert_eq!(collector.records("gastown.polecat.spawn").len(), 1);
    let done_records = collector.records("gastown.done");
    assert_eq!(attr(&done_records[0], "bead"), Some(id.as_str()));
    assert!(attr(&done_records[0], "merge_request").is_some());
    // The resource names the service, and the session that ran `done`.
    let logs = collector
        .received()
        .into_iter()
        .filter(|r| r.path == "/v1/logs")
        .collect::<Vec<_>>();
    let resources: Vec<&Value> = logs
        .iter()
        .map(|r| &r.body["resourceLogs"][0]["resource"])
        .collect();
    assert!(resources
        .iter()
        .all(|r| attr(r, "service.name") == Some("gastown")));
    assert!(resources.iter().any(|r| attr(r, "session_id").is_some()));
}

#[test]
fn town_settings_name_the_endpoint_and_no_endpoint_sends_nothing() {
    let collector = Collector::start();
    let t = slinging_town();
    // No endpoint: nothing goes out, nothing is reported.
    let first = t.env.create("first", &[]);
    let out = run_with(
        &t,
        "sling",
        &[&first, "repo"],
        &[("GT_REPORT_TELEMETRY", "1")],
    );
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("telemetry"));
    t.config_set("telemetry.logs_url", &collector.url);
    t.config_set(
        "telemetry.metrics_url",
        &format!("{}/v1/metrics", collector.url),
    );
    let second = t.env.create("second", &[]);
    let out = run_with(
        &t,
        "sling",
        &[&second, "repo"],
        &[("GT_REPORT_TELEMETRY", "1")],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("telemetry sent=2 failed=0"), "{stderr}");
    let records = collector.records("gastown.sling");
    assert_eq!(records.len(), 1, "only the second sling: {records:?}");
    assert_eq!(attr(&records[0], "bead"), Some(second.as_str()));
    assert_eq!(collector.points("gastown.sling.total").len(), 1);
}

/// `telemetry ... ms=N` from a command's stderr.
fn reported_ms(stderr: &str) -> f64 {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("telemetry "))
        .unwrap_or_else(|| panic!("no telemetry report in {stderr}"));
    line.rsplit("ms=").next().unwrap().parse().unwrap()
}

fn timed(f: impl FnOnce() -> Output) -> (Duration, Output) {
    let begun = Instant::now();
    let out = f();
    (begun.elapsed(), out)
}

#[test]
fn a_collector_that_never_answers_costs_a_command_at_most_the_bound() {
    // Bound, never accepted: the kernel's backlog takes the connection and nothing answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let t = slinging_town();
    let mut with = Vec::new();
    let mut without = Vec::new();
    for i in 0..3 {
        let a = t.env.create(&format!("silent {i}"), &[]);
        let b = t.env.create(&format!("absent {i}"), &[]);
        let (elapsed, out) = timed(|| {
            run_with(
                &t,
                "sling",
                &[&a, "repo"],
                &[
                    ("GT_OTEL_LOGS_URL", url.as_str()),
                    ("GT_OTEL_METRICS_URL", url.as_str()),
                    ("GT_REPORT_TELEMETRY", "1"),
                ],
            )
        });
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{stderr}");
        assert!(
            stderr.contains("sent=0 failed=2 timed_out=true"),
            "{stderr}"
        );
        let ms = reported_ms(&stderr);
        // The default bound is 150 ms; the rest is a busy machine's scheduling.
        assert!(ms < 250.0, "the export took {ms} ms");
        with.push(elapsed.as_secs_f64());
        let (elapsed, out) = timed(|| run_with(&t, "sling", &[&b, "repo"], &[]));
        assert!(out.status.success());
        without.push(elapsed.as_secs_f64());
    }
    with.sort_by(f64::total_cmp);
    without.sort_by(f64::total_cmp);
    let extra = with[1] - without[1];
    eprintln!(
        "sling median with a silent collector {:.0} ms, without telemetry {:.0} ms ({with:?} / {without:?})",
        with[1] * 1000.0,
        without[1] * 1000.0
    );
    // Loose: sessions start in both, and the machine is shared; the export's own time is
    // checked above.
    assert!(extra < 1.0, "a silent collector added {extra:.3} s");
    drop(silent);
}

#[test]
fn an_unreachable_collector_fails_nothing() {
    let t = slinging_town();
    let id = t.env.create("unreachable", &[]);
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let out = run_with(
        &t,
        "sling",
        &[&id, "repo", "--json"],
        &[
            ("GT_OTEL_LOGS_URL", url.as_str()),
            ("GT_OTEL_METRICS_URL", "not a url"),
            ("GT_REPORT_TELEMETRY", "1"),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("sent=0 failed=2"), "{stderr}");
    let dispatched: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(dispatched[0]["outcome"], "started");
}
