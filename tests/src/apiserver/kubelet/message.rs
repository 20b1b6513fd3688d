//! Termination messages, read and limited the way the real kubelet does it.
//!
//! - The file at `terminationMessagePath` is read from its **end**: at most its last 4096
//!   bytes (`MaxContainerTerminationMessageLength`, read with `tail.ReadAtMost`).
//! - With `terminationMessagePolicy: FallbackToLogsOnError`, a container that exited non-zero
//!   and left the file empty (or missing) gets the tail of its log instead: the last 80 lines
//!   (a final line without a newline not counted as one, as in `tail.FindTailLineStartIndex`),
//!   of which the last 2048 bytes are kept (`MaxContainerTerminationMessageLogLines`,
//!   `MaxContainerTerminationMessageLogLength`). Only the log of that run of the container
//!   counts, as a restarted container writes a new log file on a real node.
//! - The status manager then keeps the **first** 12 KiB / (number of containers, init and
//!   ephemeral included) bytes of every terminated state's message
//!   (`MaxPodTerminationMessageLogLength`, `normalizeStatus`), so one Pod's messages total at
//!   most 12 KiB.
//!
//! The real kubelet works on bytes and its JSON encoder turns invalid UTF-8 into U+FFFD; here
//! a character cut in two by either limit becomes U+FFFD the same way.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use serde_json::Value;

/// The most of a termination message file that is read (its last bytes).
pub(super) const MAX_FILE_BYTES: u64 = 4096;
/// The most log lines a fallback message is taken from.
const MAX_LOG_LINES: usize = 80;
/// The most bytes of those lines kept (their last bytes).
const MAX_LOG_BYTES: u64 = 2048;
/// What all the messages of one Pod share.
const MAX_POD_BYTES: usize = 12 * 1024;

/// The last `max` bytes of the file at `path` that come after byte `from` (nothing when the
/// file is missing).
fn tail(path: &Path, from: u64, max: u64) -> Vec<u8> {
    let Ok(mut file) = std::fs::File::open(path) else {
        return Vec::new();
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let start = len.saturating_sub(max).max(from);
    let mut out = Vec::new();
    if file.seek(SeekFrom::Start(start)).is_ok() {
        // A process still writing cannot make the read exceed the limit.
        let _ = file.take(max).read_to_end(&mut out);
    }
    out
}

/// The last [`MAX_LOG_LINES`] lines of `log` (already no longer than [`MAX_LOG_BYTES`]):
/// everything after the 81st newline from the end.
fn last_lines(log: &[u8]) -> &[u8] {
    let mut newlines = log
        .iter()
        .enumerate()
        .rev()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i);
    match newlines.nth(MAX_LOG_LINES) {
        Some(cut) => &log[cut + 1..],
        None => log,
    }
}

/// The message of a container that exited with `exit`: its termination message file, or with
/// `fallback_to_logs` and a failure and an empty file, the tail of its log from `log_start`.
pub(super) fn read(
    termination_log: &Path,
    log: &Path,
    log_start: u64,
    fallback_to_logs: bool,
    exit: i32,
) -> String {
    let message = tail(termination_log, 0, MAX_FILE_BYTES);
    if message.is_empty() && fallback_to_logs && exit != 0 {
        let log = tail(log, log_start, MAX_LOG_BYTES);
        return String::from_utf8_lossy(last_lines(&log)).into_owned();
    }
    String::from_utf8_lossy(&message).into_owned()
}

/// How many bytes each terminated state's message of a Pod with `spec` may keep.
pub(super) fn per_container_limit(spec: &Value) -> usize {
    let containers: usize = ["containers", "initContainers", "ephemeralContainers"]
        .iter()
        .map(|k| spec[*k].as_array().map_or(0, Vec::len))
        .sum();
    MAX_POD_BYTES / containers.max(1)
}

/// The first `limit` bytes of `message`.
pub(super) fn cut(message: &str, limit: usize) -> String {
    match message.as_bytes().get(..limit) {
        Some(head) => String::from_utf8_lossy(head).into_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_read_from_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("termination-log");
        let text: String = (0..1024).map(|i| format!("{i:09}\n")).collect();
        std::fs::write(&file, &text).unwrap();
        let message = read(&file, &dir.path().join("log"), 0, false, 1);
        assert_eq!(message.len(), 4096);
        assert_eq!(message, text[text.len() - 4096..]);
        assert_eq!(read(&dir.path().join("missing"), &file, 0, false, 1), "");
    }

    #[test]
    fn the_log_fallback_keeps_80_lines_and_2048_bytes_of_this_run() {
        let dir = tempfile::tempdir().unwrap();
        let (empty, log) = (dir.path().join("empty"), dir.path().join("log"));
        std::fs::write(&empty, "").unwrap();
        let earlier = "from an earlier run\n";
        let lines: String = (0..100).map(|i| format!("line {i:03}\n")).collect();
        std::fs::write(&log, format!("{earlier}{lines}")).unwrap();
        let start = earlier.len() as u64;
        let expected: String = (20..100).map(|i| format!("line {i:03}\n")).collect();
        assert_eq!(read(&empty, &log, start, true, 2), expected);
        // Success, or the policy not asked for: no fallback.
        assert_eq!(read(&empty, &log, start, true, 0), "");
        assert_eq!(read(&empty, &log, start, false, 2), "");
        // A last line without a newline is not counted as one.
        std::fs::write(&log, format!("{lines}partial")).unwrap();
        assert_eq!(read(&empty, &log, 0, true, 2), format!("{expected}partial"));
        // Long lines: the last 2048 bytes.
        let long: String = (0..100).map(|i| format!("{i:029}\n")).collect();
        std::fs::write(&log, &long).unwrap();
        assert_eq!(read(&empty, &log, 0, true, 2), long[long.len() - 2048..]);
        // Only this run's output counts.
        std::fs::write(&log, earlier).unwrap();
        assert_eq!(read(&empty, &log, earlier.len() as u64, true, 2), "");
    }

    #[test]
    fn a_pod_shares_12_kib_between_its_containers() {
        let spec = serde_json::json!({"containers": [{}, {}], "initContainers": [{}, {}]});
        assert_eq!(per_container_limit(&spec), 3072);
        assert_eq!(per_container_limit(&serde_json::json!({})), 12 * 1024);
        assert_eq!(cut("abcdef", 4), "abcd");
        assert_eq!(cut("ab", 4), "ab");
        assert_eq!(cut("aé", 2), "a\u{fffd}");
    }
}
