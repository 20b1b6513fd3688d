//! A headless Chromium driven over WebDriver, for browser tests of the web frontend.
//!
//! [`Browser::start`] runs Debian's `chromedriver` on a free loopback port (in its own process
//! group, logging to a file in a temporary directory) and opens a [`fantoccini`] session with
//! a headless Chromium whose profile lives in the same directory. [`Browser::screenshot`]
//! saves PNGs where a failed test can be looked at afterwards (see [`artifacts_dir`]).
//! Dropping the [`Browser`], on any path including a panic, kills chromedriver's whole process
//! group and Chromium's crash handlers (which start their own session), so no chromedriver or
//! Chromium process outlives the test.
//!
//! `scripts/test` installs the packages (`browser_tools` in `scripts/lib.sh`) and sets
//! `IMG_REQUIRE_BROWSER=1`; elsewhere tests call [`Browser::available`] and skip without them.
//!
//! Environment: `IMG_CHROMEDRIVER` (default `/usr/bin/chromedriver`), `IMG_CHROMIUM` (default
//! `/usr/bin/chromium`), `IMG_TEST_ARTIFACTS` (where screenshots go) and
//! `IMG_REQUIRE_BROWSER=1` (a missing browser fails instead of skipping).

use std::fs::File;
use std::net::Ipv4Addr;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow};
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use nix::errno::Errno;
use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::services::free_port;
pub use crate::services::processes_naming;

/// How long chromedriver may take to answer on `/status`.
const DRIVER_READY_TIMEOUT: Duration = Duration::from_secs(20);
/// How long creating the WebDriver session (starting Chromium) may take.
const SESSION_TIMEOUT: Duration = Duration::from_secs(60);
/// How much of chromedriver's log an error message quotes.
const LOG_TAIL_LINES: usize = 30;

/// The chromedriver binary: `$IMG_CHROMEDRIVER`, else Debian's `/usr/bin/chromedriver`.
pub fn chromedriver_binary() -> PathBuf {
    binary("IMG_CHROMEDRIVER", "/usr/bin/chromedriver")
}

/// The Chromium binary chromedriver starts: `$IMG_CHROMIUM`, else Debian's `/usr/bin/chromium`.
pub fn chromium_binary() -> PathBuf {
    binary("IMG_CHROMIUM", "/usr/bin/chromium")
}

fn binary(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from(default), PathBuf::from)
}

/// Where [`Browser::screenshot`] writes: `$IMG_TEST_ARTIFACTS` if set, else
/// `<target dir>/test-artifacts/browser`, the target directory being `$CARGO_TARGET_DIR`
/// (relative to the workspace root if relative) or the workspace's `target/`.
pub fn artifacts_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("IMG_TEST_ARTIFACTS").filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or_else(|| Path::new("."));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .filter(|v| !v.is_empty())
        .map_or_else(|| workspace.join("target"), |t| workspace.join(t));
    target.join("test-artifacts").join("browser")
}

/// A headless Chromium session behind its own chromedriver. Use the WebDriver client through
/// [`Browser::client`] (or directly: `Browser` dereferences to [`Client`]); finish with
/// [`Browser::close`]. Dropping it without closing kills chromedriver and Chromium.
pub struct Browser {
    // Declared before `driver`: the client's handle goes first, then the processes.
    client: Client,
    driver: Driver,
}

impl Browser {
    /// Whether the browser tests can run: true when chromedriver and Chromium are installed.
    /// Otherwise prints a skip message naming what is missing and returns false, or panics
    /// if `IMG_REQUIRE_BROWSER=1` (as `scripts/test` sets).
    pub fn available() -> bool {
        let missing: Vec<String> = [chromedriver_binary(), chromium_binary()]
            .iter()
            .filter(|bin| !bin.is_file())
            .map(|bin| bin.display().to_string())
            .collect();
        if missing.is_empty() {
            return true;
        }
        let why = format!(
            "{} not found: install Debian's chromium and chromium-driver (scripts/test does), \
             or set IMG_CHROMIUM and IMG_CHROMEDRIVER",
            missing.join(" and ")
        );
        assert!(
            std::env::var("IMG_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "IMG_REQUIRE_BROWSER=1 but {why}"
        );
        eprintln!("skipping the browser test: {why}");
        false
    }

    /// Starts chromedriver on a free loopback port, waits until it answers on `/status`, and
    /// opens a session with a headless Chromium (1280×1024, no sandbox, so it runs as root).
    /// Errors name the binaries and quote chromedriver's log; its directory is then kept.
    pub async fn start() -> anyhow::Result<Browser> {
        let driver_bin = chromedriver_binary();
        let chromium = chromium_binary();
        let dir = tempfile::Builder::new()
            .prefix("img-browser-")
            .tempdir()
            .context("creating a temporary directory for the browser")?;
        let log = dir.path().join("chromedriver.log");
        let out = File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let err = out.try_clone().context("duplicating the log file")?;
        let port = free_port()?;
        // Chromium writes to $HOME and the XDG directories (crash reports, dconf, NSS): keep
        // that in the temporary directory too.
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).with_context(|| format!("creating {}", home.display()))?;
        let child = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            // Its own process group, which Chromium and its helpers inherit: killing the
            // group leaves nothing behind.
            .process_group(0)
            .spawn()
            .with_context(|| {
                format!(
                    "starting {} (install Debian's chromium-driver or set IMG_CHROMEDRIVER)",
                    driver_bin.display()
                )
            })?;
        let mut driver = Driver {
            child,
            root: dir.path().to_path_buf(),
            dir: Some(dir),
            log,
            bin: driver_bin,
        };
        driver.wait_ready(port).await?;

        let args = [
            "--headless=new".to_owned(),
            // Chromium's sandbox refuses to run as root, which scripts/test is.
            "--no-sandbox".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-gpu".to_owned(),
            "--window-size=1280,1024".to_owned(),
            format!("--user-data-dir={}", driver.profile_dir().display()),
        ];
        let capabilities = serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium.to_string_lossy(),
                "args": args,
            },
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object literal")
        };
        let url = format!("http://127.0.0.1:{port}");
        let session = tokio::time::timeout(
            SESSION_TIMEOUT,
            ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities)
                .connect(&url),
        )
        .await;
        let client = match session {
            Ok(Ok(client)) => client,
            Ok(Err(e)) => {
                return Err(driver.fail(&format!(
                    "could not start a session with {}: {e}",
                    chromium.display()
                )));
            }
            Err(_) => {
                return Err(driver.fail(&format!(
                    "no session with {} after {SESSION_TIMEOUT:?}",
                    chromium.display()
                )));
            }
        };
        Ok(Browser { client, driver })
    }

    /// The WebDriver client of this session.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// chromedriver's process group (its pid), which Chromium and its helpers share (not its
    /// crash handlers: see [`processes_naming`]); it is empty once the browser is gone.
    pub fn process_group(&self) -> u32 {
        self.driver.child.id()
    }

    /// chromedriver's log file (in [`Browser::dir`]).
    pub fn driver_log(&self) -> &Path {
        &self.driver.log
    }

    /// The temporary directory holding chromedriver's log, Chromium's profile and the `HOME`
    /// they run with; removed with the browser. Every process of the browser names it on its
    /// command line.
    pub fn dir(&self) -> &Path {
        &self.driver.root
    }

    /// Saves a screenshot of the current window as `<name>.png` in [`artifacts_dir`] (made if
    /// missing; characters other than letters, digits, `-`, `_` and `.` become `_`) and
    /// returns its path.
    pub async fn screenshot(&self, name: &str) -> anyhow::Result<PathBuf> {
        let png = self
            .client
            .screenshot()
            .await
            .context("taking a screenshot")?;
        let dir = artifacts_dir();
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let file: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = dir.join(format!("{file}.png"));
        std::fs::write(&path, png).with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }

    /// Ends the WebDriver session (Chromium quits) and kills chromedriver's process group.
    /// A failure to end the session is printed, not returned: the processes die either way.
    pub async fn close(self) {
        if let Err(e) = self.client.clone().close().await {
            eprintln!("closing the WebDriver session: {e}");
        }
        // Dropping `self` kills what is left.
    }
}

impl std::ops::Deref for Browser {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

/// The chromedriver process and its directory (log and Chromium profile). Dropping it kills
/// the process group and reaps chromedriver, then removes the directory.
struct Driver {
    child: Child,
    /// The temporary directory's path.
    root: PathBuf,
    /// `None` once kept for a failure's log.
    dir: Option<tempfile::TempDir>,
    log: PathBuf,
    bin: PathBuf,
}

impl Driver {
    fn profile_dir(&self) -> PathBuf {
        self.root.join("profile")
    }

    /// Polls `/status` until it answers 200, chromedriver exits, or the timeout passes.
    async fn wait_ready(&mut self, port: u16) -> anyhow::Result<()> {
        let deadline = Instant::now() + DRIVER_READY_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(self.fail(&format!("it exited ({status}) before answering")));
            }
            if status_ok(port).await {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(self.fail(&format!(
                    "it did not answer on http://127.0.0.1:{port}/status within {DRIVER_READY_TIMEOUT:?}"
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Kills the processes, keeps the directory so the log can be read, and makes an error
    /// naming chromedriver and its log and quoting the log's end.
    fn fail(&mut self, what: &str) -> anyhow::Error {
        self.kill();
        if let Some(dir) = self.dir.take() {
            let _kept = dir.keep();
        }
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n");
        anyhow!(
            "chromedriver {}: {what}; its log is {}:\n{tail}",
            self.bin.display(),
            self.log.display()
        )
    }

    /// SIGKILL to chromedriver's process group (chromedriver, Chromium and its helpers) and
    /// to Chromium's crash handlers, which leave the group (they start their own session),
    /// then reaps chromedriver. The group id is chromedriver's pid, which the kernel does not
    /// hand out again while chromedriver is unreaped or any member of its group lives.
    fn kill(&mut self) {
        if let Ok(pid) = i32::try_from(self.child.id()) {
            match killpg(Pid::from_raw(pid), Signal::SIGKILL) {
                Ok(()) | Err(Errno::ESRCH) => {}
                Err(e) => eprintln!("killing chromedriver's process group {pid}: {e}"),
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        for pid in processes_naming(&self.root) {
            let _ = kill(pid, Signal::SIGKILL);
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Whether `GET /status` on the port answers 200 (HTTP/1.1 by hand: no HTTP client needed).
async fn status_ok(port: u16) -> bool {
    let ask = async {
        let mut stream = tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).await?;
        stream
            .write_all(
                format!(
                    "GET /status HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
                )
                .as_bytes(),
            )
            .await?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await?;
        std::io::Result::Ok(head)
    };
    match tokio::time::timeout(Duration::from_secs(2), ask).await {
        Ok(Ok(head)) => head.starts_with(b"HTTP/1.1 200") || head.starts_with(b"HTTP/1.0 200"),
        _ => false,
    }
}
