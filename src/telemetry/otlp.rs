//! OTLP's JSON encoding (opentelemetry-proto, `ExportLogsServiceRequest` and
//! `ExportMetricsServiceRequest` in the protobuf JSON mapping): 64-bit integers as decimal
//! strings, enums as numbers, attribute values as `{"stringValue": …}`.

use std::time::SystemTime;

use serde_json::{json, Value};

use super::{unix_nanos, Attributes, Batch};

/// Upper bounds of the duration histograms' buckets, in milliseconds.
pub const BOUNDS_MS: &[f64] = &[
    5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, 30000.0,
];

/// `AGGREGATION_TEMPORALITY_DELTA`: each command reports its own increments.
const DELTA: u8 = 1;
/// `SEVERITY_NUMBER_INFO`.
const INFO: u8 = 9;

/// The resource: what sent the data (the service, and the run and session when known).
pub fn resource() -> Value {
    let mut attributes = vec![
        kv("service.name", "gastown"),
        kv("service.version", env!("CARGO_PKG_VERSION")),
    ];
    for (key, var) in [("run.id", "GT_RUN"), ("session_id", "GT_SESSION")] {
        if let Some(value) = std::env::var(var).ok().filter(|v| !v.is_empty()) {
            attributes.push(kv(key, &value));
        }
    }
    json!({ "attributes": attributes })
}

fn scope() -> Value {
    json!({ "name": "gastown", "version": env!("CARGO_PKG_VERSION") })
}

fn kv(key: &str, value: &str) -> Value {
    json!({ "key": key, "value": { "stringValue": value } })
}

fn attributes(attributes: &Attributes) -> Vec<Value> {
    attributes.iter().map(|(k, v)| kv(k, v)).collect()
}

/// The body of a POST to `/v1/logs`.
pub fn logs(resource: &Value, batch: &Batch) -> Value {
    let records: Vec<Value> = batch
        .logs
        .iter()
        .map(|record| {
            let at = unix_nanos(record.at);
            json!({
                "timeUnixNano": at,
                "observedTimeUnixNano": at,
                "severityNumber": INFO,
                "severityText": "INFO",
                "eventName": record.name,
                "body": { "stringValue": record.name },
                "attributes": attributes(&record.attributes),
            })
        })
        .collect();
    json!({
        "resourceLogs": [{
            "resource": resource,
            "scopeLogs": [{ "scope": scope(), "logRecords": records }],
        }]
    })
}

/// The body of a POST to `/v1/metrics`: one sum per counter name, one histogram per
/// duration name, a data point per attribute set.
pub fn metrics(resource: &Value, batch: &Batch, now: SystemTime) -> Value {
    let start = unix_nanos(batch.started);
    let now = unix_nanos(now);
    let mut metrics: Vec<Value> = Vec::new();
    let mut names: Vec<&str> = batch.counters.keys().map(|(n, _)| *n).collect();
    names.dedup();
    for name in names {
        let points: Vec<Value> = batch
            .counters
            .iter()
            .filter(|((n, _), _)| *n == name)
            .map(|((_, attrs), count)| {
                json!({
                    "attributes": attributes(attrs),
                    "startTimeUnixNano": start,
                    "timeUnixNano": now,
                    "asInt": count.to_string(),
                })
            })
            .collect();
        metrics.push(json!({
            "name": name,
            "unit": "1",
            "sum": {
                "aggregationTemporality": DELTA,
                "isMonotonic": true,
                "dataPoints": points,
            },
        }));
    }
    let mut names: Vec<&str> = batch.durations.keys().map(|(n, _)| *n).collect();
    names.dedup();
    for name in names {
        let points: Vec<Value> = batch
            .durations
            .iter()
            .filter(|((n, _), _)| *n == name)
            .map(|((_, attrs), values)| histogram_point(attrs, values, &start, &now))
            .collect();
        metrics.push(json!({
            "name": name,
            "unit": "ms",
            "histogram": { "aggregationTemporality": DELTA, "dataPoints": points },
        }));
    }
    json!({
        "resourceMetrics": [{
            "resource": resource,
            "scopeMetrics": [{ "scope": scope(), "metrics": metrics }],
        }]
    })
}

fn histogram_point(attrs: &Attributes, values: &[f64], start: &str, now: &str) -> Value {
    let mut buckets = vec![0u64; BOUNDS_MS.len() + 1];
    for v in values {
        let i = BOUNDS_MS
            .iter()
            .position(|b| v <= b)
            .unwrap_or(BOUNDS_MS.len());
        buckets[i] += 1;
    }
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    json!({
        "attributes": attributes(attrs),
        "startTimeUnixNano": start,
        "timeUnixNano": now,
        "count": values.len().to_string(),
        "sum": values.iter().sum::<f64>(),
        "min": min,
        "max": max,
        "bucketCounts": buckets.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
        "explicitBounds": BOUNDS_MS,
    })
}
