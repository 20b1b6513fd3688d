//! The Pod printer's READY / STATUS / RESTARTS logic.
//!
//! Reproduces what `kubectl get pods` shows (the server computes it):
//! * READY counts ready running containers (plus started, ready sidecar
//!   init containers) out of all containers (plus sidecars).
//! * STATUS starts from the phase (or `status.reason`), becomes
//!   `Init:<reason>` / `Init:N/M` while init containers run, then the
//!   waiting or terminated reason of the first container that has one
//!   (`ContainerCreating`, `CrashLoopBackOff`, `Completed`, `Error`, or
//!   `ExitCode:N` / `Signal:N` when the runtime gave no reason), and
//!   `Terminating` / `Unknown` for pods being deleted.
//! * RESTARTS sums restart counts and appends how long ago the last
//!   restart finished (`3 (5m ago)`).

use super::duration::{age, parse_rfc3339};
use jiff::Timestamp;
use serde_json::{Value, json};

/// Summary of a Pod's containers as the Pod printer computes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PodSummary {
    pub(super) ready: usize,
    pub(super) total: usize,
    pub(super) status: String,
    pub(super) restarts: String,
}

fn text<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

fn list<'a>(value: &'a Value, pointer: &str) -> &'a [Value] {
    value
        .pointer(pointer)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// Present and not null, like a non-nil pointer in the Go types.
fn has(value: &Value, pointer: &str) -> bool {
    value.pointer(pointer).is_some_and(|v| !v.is_null())
}

fn int(value: &Value, pointer: &str) -> i64 {
    value.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

/// Whether the first condition of `type_` has status `True`.
fn condition_true(pod: &Value, type_: &str) -> bool {
    list(pod, "/status/conditions")
        .iter()
        .find(|c| text(c, "/type") == type_)
        .is_some_and(|c| text(c, "/status") == "True")
}

/// Keeps the latest `lastState.terminated.finishedAt`.
fn note_restart(latest: &mut Option<Timestamp>, status: &Value) {
    if let Some(finished) = parse_rfc3339(text(status, "/lastState/terminated/finishedAt"))
        && latest.is_none_or(|l| l < finished)
    {
        *latest = Some(finished);
    }
}

/// `Init:<reason>`, `Init:Signal:N` or `Init:ExitCode:N` (or without the
/// `Init:` prefix for regular containers) for a terminated container.
fn terminated_reason(status: &Value, prefix: &str) -> String {
    let reason = text(status, "/state/terminated/reason");
    if !reason.is_empty() {
        return format!("{prefix}{reason}");
    }
    let signal = int(status, "/state/terminated/signal");
    if signal != 0 {
        format!("{prefix}Signal:{signal}")
    } else {
        format!(
            "{prefix}ExitCode:{}",
            int(status, "/state/terminated/exitCode")
        )
    }
}

/// Computes READY, STATUS and RESTARTS for `pod`.
pub(super) fn summarize(pod: &Value, now: Timestamp) -> PodSummary {
    let phase = text(pod, "/status/phase");
    let mut status = match text(pod, "/status/reason") {
        "" => phase.to_owned(),
        reason => reason.to_owned(),
    };
    if list(pod, "/status/conditions")
        .iter()
        .any(|c| text(c, "/type") == "PodScheduled" && text(c, "/reason") == "SchedulingGated")
    {
        status = "SchedulingGated".to_owned();
    }

    let init_specs = list(pod, "/spec/initContainers");
    // Init containers with restartPolicy Always are sidecars: they count
    // as regular containers for READY.
    let is_sidecar = |name: &str| {
        init_specs
            .iter()
            .any(|c| text(c, "/name") == name && text(c, "/restartPolicy") == "Always")
    };
    let mut total = list(pod, "/spec/containers").len();
    total += init_specs
        .iter()
        .filter(|c| text(c, "/restartPolicy") == "Always")
        .count();
    let mut ready = 0;
    let mut restarts = 0;
    let mut last_restart = None;
    let mut sidecar_restarts = 0;
    let mut last_sidecar_restart = None;
    let mut initializing = false;

    for (i, cs) in list(pod, "/status/initContainerStatuses")
        .iter()
        .enumerate()
    {
        restarts += int(cs, "/restartCount");
        note_restart(&mut last_restart, cs);
        let sidecar = is_sidecar(text(cs, "/name"));
        if sidecar {
            sidecar_restarts += int(cs, "/restartCount");
            note_restart(&mut last_sidecar_restart, cs);
        }
        if has(cs, "/state/terminated") && int(cs, "/state/terminated/exitCode") == 0 {
            continue;
        }
        if sidecar && cs.get("started").and_then(Value::as_bool) == Some(true) {
            if cs.get("ready").and_then(Value::as_bool) == Some(true) {
                ready += 1;
            }
            continue;
        }
        let waiting = text(cs, "/state/waiting/reason");
        status = if has(cs, "/state/terminated") {
            terminated_reason(cs, "Init:")
        } else if has(cs, "/state/waiting") && !waiting.is_empty() && waiting != "PodInitializing" {
            format!("Init:{waiting}")
        } else {
            format!("Init:{i}/{}", init_specs.len())
        };
        initializing = true;
        break;
    }

    if !initializing || condition_true(pod, "Initialized") {
        restarts = sidecar_restarts;
        last_restart = last_sidecar_restart;
        let mut has_running = false;
        // Iterated backwards so the first container's state wins.
        for cs in list(pod, "/status/containerStatuses").iter().rev() {
            restarts += int(cs, "/restartCount");
            note_restart(&mut last_restart, cs);
            let waiting = text(cs, "/state/waiting/reason");
            if has(cs, "/state/waiting") && !waiting.is_empty() {
                status = waiting.to_owned();
            } else if has(cs, "/state/terminated") {
                status = terminated_reason(cs, "");
            } else if cs.get("ready").and_then(Value::as_bool) == Some(true)
                && has(cs, "/state/running")
            {
                has_running = true;
                ready += 1;
            }
        }
        // A pod whose main container completed while another still runs is
        // shown as Running (or NotReady) rather than Completed.
        if status == "Completed" && has_running {
            let ready_condition = list(pod, "/status/conditions")
                .iter()
                .any(|c| text(c, "/type") == "Ready" && text(c, "/status") == "True");
            status = if ready_condition {
                "Running".to_owned()
            } else {
                "NotReady".to_owned()
            };
        }
    }

    if has(pod, "/metadata/deletionTimestamp") {
        if text(pod, "/status/reason") == "NodeLost" {
            status = "Unknown".to_owned();
        } else if phase != "Failed" && phase != "Succeeded" {
            status = "Terminating".to_owned();
        }
    }

    let restarts = match last_restart {
        Some(when) if restarts != 0 => format!("{restarts} ({} ago)", age(when, now)),
        _ => restarts.to_string(),
    };
    PodSummary {
        ready,
        total,
        status,
        restarts,
    }
}

/// `-o wide` cells: IP, node, nominated node, readiness gates.
pub(super) fn ip(pod: &Value) -> String {
    let ip = match text(pod, "/status/podIPs/0/ip") {
        // v1 objects may only carry the singular field; conversion would
        // have filled podIPs from it.
        "" => text(pod, "/status/podIP"),
        ip => ip,
    };
    or_none(ip)
}

/// `<none>` for an empty string.
pub(super) fn or_none(s: &str) -> String {
    if s.is_empty() {
        "<none>".to_owned()
    } else {
        s.to_owned()
    }
}

/// `true/total` over `spec.readinessGates`, or `<none>`.
pub(super) fn readiness_gates(pod: &Value) -> String {
    let gates = list(pod, "/spec/readinessGates");
    if gates.is_empty() {
        return "<none>".to_owned();
    }
    let satisfied = gates
        .iter()
        .filter(|gate| condition_true(pod, text(gate, "/conditionType")))
        .count();
    format!("{satisfied}/{}", gates.len())
}

/// Row conditions the Pod printer attaches to finished pods.
pub(super) fn row_conditions(pod: &Value) -> Option<Vec<Value>> {
    let (reason, message) = match text(pod, "/status/phase") {
        "Succeeded" => ("Succeeded", "The pod has completed successfully."),
        "Failed" => ("Failed", "The pod failed."),
        _ => return None,
    };
    Some(vec![json!({
        "type": "Completed",
        "status": "True",
        "reason": reason,
        "message": message,
    })])
}
