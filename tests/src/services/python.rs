//! The independent clients in `tests/python/`, run with the test virtualenv's Python
//! (`IMG_TEST_PYTHON`, made by `scripts/lib.sh`'s `python_venv`): pika plays the 2010 AMQP
//! clients, so the operator's messages are read by something that is not lapin.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};
use serde::Deserialize;

use super::repo_root;

/// The virtualenv's Python.
pub fn python() -> anyhow::Result<PathBuf> {
    std::env::var_os("IMG_TEST_PYTHON")
        .map(PathBuf::from)
        .context("IMG_TEST_PYTHON is not set (scripts/test sets it to the test virtualenv)")
}

/// A message taken from a queue by pika.
#[derive(Debug, Clone, Deserialize)]
pub struct Taken {
    /// The body, as text.
    pub body: String,
    /// Its headers (byte strings as text).
    #[serde(default)]
    pub headers: serde_json::Map<String, serde_json::Value>,
    /// Its `message_id` property.
    pub message_id: Option<String>,
    /// Its `content_type` property.
    pub content_type: Option<String>,
}

impl Taken {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

fn client() -> anyhow::Result<Command> {
    let mut command = Command::new(python()?);
    command.arg(repo_root().join("tests/python/amqp_client.py"));
    Ok(command)
}

/// Publishes each of `bodies` (a line of text each; `@FILE` for a file's bytes) to `exchange`
/// with `routing_key`, with publisher confirms.
pub fn publish(
    url: &str,
    exchange: &str,
    routing_key: &str,
    bodies: &[String],
) -> anyhow::Result<()> {
    let mut child = client()?
        .args(["publish", url, exchange, routing_key])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting amqp_client.py")?;
    {
        let mut stdin = child.stdin.take().context("no stdin")?;
        for body in bodies {
            if body.contains('\n') {
                bail!("a body to publish must be one line (use @FILE): {body:?}");
            }
            writeln!(stdin, "{body}")?;
        }
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!(
            "amqp_client.py publish failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// Takes up to `count` messages from `queue`, waiting at most `timeout_secs` in all.
pub fn take(url: &str, queue: &str, count: usize, timeout_secs: f64) -> anyhow::Result<Vec<Taken>> {
    let out = client()?
        .args([
            "take",
            url,
            queue,
            &count.to_string(),
            &timeout_secs.to_string(),
        ])
        .output()
        .context("running amqp_client.py")?;
    if !out.status.success() {
        bail!(
            "amqp_client.py take failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).with_context(|| format!("reading {l:?}")))
        .collect()
}
