use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::*;
use crate::agent::Address;

/// Read one HTTP request from a stream: (request line, body).
fn read_request(stream: &mut std::net::TcpStream) -> (String, String) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let mut length = 0;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).unwrap();
        if header.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = header.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap();
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    (line.trim().to_string(), String::from_utf8(body).unwrap())
}

/// A receiver answering `n` requests with 200, handing back what it got.
fn receiver(n: usize) -> (String, std::thread::JoinHandle<Vec<(String, String)>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let mut got = Vec::new();
        for _ in 0..n {
            let (mut stream, _) = listener.accept().unwrap();
            got.push(read_request(&mut stream));
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}")
                .unwrap();
        }
        got
    });
    (url, handle)
}

fn dispatch(bead: &str, outcome: &str, agent: Option<Address>) -> Dispatch {
    Dispatch {
        bead: bead.into(),
        outcome: outcome.into(),
        agent,
        molecule: None,
        runtime: Some("scripted".into()),
        reason: None,
        failures: 0,
    }
}

fn sample_batch() -> Batch {
    let mut batch = Batch::default();
    let polecat = Address::named("web", crate::agent::Role::Polecat, "nux");
    batch.sling(
        Some("web"),
        &[
            dispatch("web-1", "started", Some(polecat.clone())),
            dispatch("web-2", "queued", None),
        ],
        Duration::from_millis(42),
    );
    batch
}

fn attr<'v>(attrs: &'v Value, key: &str) -> Option<&'v str> {
    attrs
        .as_array()?
        .iter()
        .find(|a| a["key"] == key)?
        .pointer("/value/stringValue")?
        .as_str()
}

#[test]
fn base_urls_get_the_signal_path_and_full_urls_are_kept() {
    assert_eq!(signal_url("http://h:4318", "logs"), "http://h:4318/v1/logs");
    assert_eq!(
        signal_url("http://h:4318/", "metrics"),
        "http://h:4318/v1/metrics"
    );
    assert_eq!(
        signal_url("http://h/otlp/v1/logs", "logs"),
        "http://h/otlp/v1/logs"
    );
}

#[test]
fn sling_batch_counts_dispatches_and_spawns_with_attributes() {
    let batch = sample_batch();
    let resource = otlp::resource();
    let metrics = otlp::metrics(&resource, &batch, SystemTime::now());
    let list = &metrics["resourceMetrics"][0]["scopeMetrics"][0]["metrics"];
    let by_name = |name: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no metric {name} in {list}"))
    };
    let sling = by_name("gastown.sling.total");
    let points = sling["sum"]["dataPoints"].as_array().unwrap();
    assert_eq!(points.len(), 2, "started and queued are two series");
    let started = points
        .iter()
        .find(|p| attr(&p["attributes"], "outcome") == Some("started"))
        .unwrap();
    assert_eq!(attr(&started["attributes"], "rig"), Some("web"));
    assert_eq!(attr(&started["attributes"], "role"), Some("polecat"));
    assert_eq!(
        attr(&started["attributes"], "agent"),
        Some("web/polecats/nux")
    );
    assert_eq!(
        attr(&started["attributes"], "bead"),
        None,
        "no per-bead series"
    );
    assert_eq!(started["asInt"], "1");
    let spawns = by_name("gastown.polecat.spawns.total");
    assert_eq!(spawns["sum"]["dataPoints"][0]["asInt"], "1");
    let duration = by_name("gastown.sling.duration_ms");
    let point = &duration["histogram"]["dataPoints"][0];
    assert_eq!(point["count"], "1");
    assert_eq!(point["sum"], 42.0);
    let logs = otlp::logs(&resource, &batch);
    let records = logs["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
        .as_array()
        .unwrap();
    let names: Vec<&str> = records
        .iter()
        .map(|r| r["eventName"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["gastown.polecat.spawn", "gastown.sling", "gastown.sling"]
    );
    assert_eq!(attr(&records[1]["attributes"], "bead"), Some("web-1"));
}

#[test]
fn export_posts_logs_and_metrics_to_a_receiver() {
    let (url, handle) = receiver(2);
    let endpoints = Endpoints {
        logs: Some(url.clone()),
        metrics: Some(format!("{url}/v1/metrics")),
    };
    let flushed = export_batch(&endpoints, &sample_batch(), Duration::from_secs(5));
    assert_eq!((flushed.sent, flushed.failed), (2, 0), "{flushed:?}");
    let mut got = handle.join().unwrap();
    got.sort();
    assert_eq!(got[0].0, "POST /v1/logs HTTP/1.1");
    assert_eq!(got[1].0, "POST /v1/metrics HTTP/1.1");
    let logs: Value = serde_json::from_str(&got[0].1).unwrap();
    let resource = &logs["resourceLogs"][0]["resource"]["attributes"];
    assert_eq!(attr(resource, "service.name"), Some("gastown"));
    assert!(got[1].1.contains("gastown.sling.total"));
}

#[test]
fn an_endpoint_that_never_answers_costs_at_most_the_deadline() {
    // Accepted (the backlog takes the connection) but never read nor answered.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let endpoints = Endpoints {
        logs: Some(url.clone()),
        metrics: Some(url),
    };
    let deadline = Duration::from_millis(DEFAULT_DEADLINE_MS);
    let begun = Instant::now();
    let flushed = export_batch(&endpoints, &sample_batch(), deadline);
    let elapsed = begun.elapsed();
    assert_eq!(flushed.sent, 0);
    assert_eq!(flushed.failed, 2);
    assert!(
        elapsed < deadline + Duration::from_millis(100),
        "took {elapsed:?}"
    );
    drop(listener);
}

#[test]
fn an_absent_endpoint_fails_fast_and_quietly() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let endpoints = Endpoints {
        logs: Some(format!("http://127.0.0.1:{port}")),
        metrics: Some("https://127.0.0.1:1/v1/metrics".into()),
    };
    let flushed = export_batch(&endpoints, &sample_batch(), Duration::from_secs(2));
    assert_eq!((flushed.sent, flushed.failed), (0, 2));
    assert!(!flushed.timed_out, "refused connections answer at once");
}
