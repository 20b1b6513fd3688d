//! End to end on one machine: everything real except the Kubernetes control plane (the
//! loopback API server in kubelet mode stands in for it). See [`site`] for what runs, and
//! the scenario modules for what is checked:
//!
//! 1. [`web_form`]: the web form in headless Chromium → a raw image that boots, its download
//!    checked, the mail and the `link_queue` message;
//! 2. [`kubectl_apply`]: `kubectl apply -f` of the example vmdk manifest, `kubectl wait`;
//! 3. [`amqp_legacy`]: a pika client on `kickstarter_queue` hears back on `link_queue`;
//! 4. [`post_failure`]: a failing `%post` → Failed, `error_queue`, a failure mail, the 2010
//!    line at the end of the log;
//! 5. and 6. [`queue`]: three jobs with two slots, one cancelled from the web (its VM gone
//!    within 10 s), the operator killed mid-build and started again.
//!
//! The builds are real, under TCG here, so scenarios that share nothing run side by side, two
//! VMs at a time as `--max-running 2` allows: 1 to 4 are submitted together (3 and 4 wait in
//! the queue until 1 and 2 free their slots), then 5 and 6 share one queue of three jobs.
//! After each run of the selection nothing may be left behind ([`leaks`]). A table of where
//! each job's time went ends the run ([`timing`]).
//!
//! A test without libtest (`harness = false`): `scripts/e2e` runs it with its options,
//! `cargo test --workspace` runs all of it (CI). Environment:
//! `IMG_E2E_SCENARIOS` (`1,3`: only these; default all), `IMG_E2E_REPEAT` (run the selection
//! this many times on the same site, checking for leaks after each), `IMG_BASE_DIR` (the base
//! disk, built by `scripts/lib.sh base_disk`). Without a base disk, RabbitMQ, Chromium or the
//! test virtualenv it skips with a message, unless `IMG_REQUIRE_VM` or `CI` is set.

mod amqp_legacy;
mod http;
mod jobs;
mod kickstarts;
mod kubectl_apply;
mod leaks;
mod post_failure;
mod queue;
mod site;
mod timing;
mod web_form;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use img_tests::browser::Browser;
use img_tests::services::python;
use img_tests::services::rabbitmq::RabbitMq;

use crate::site::Site;
use crate::timing::{Row, table};

/// What to run.
struct Plan {
    scenarios: BTreeSet<u32>,
    repeat: u32,
}

impl Plan {
    fn from_env() -> anyhow::Result<Plan> {
        let scenarios = match std::env::var("IMG_E2E_SCENARIOS") {
            Ok(list) if !list.trim().is_empty() => list
                .split(',')
                .map(|s| match s.trim().parse::<u32>() {
                    Ok(n @ 1..=6) => Ok(n),
                    _ => bail!("IMG_E2E_SCENARIOS: {s:?} is not a scenario (1 to 6)"),
                })
                .collect::<anyhow::Result<_>>()?,
            _ => (1..=6).collect(),
        };
        let repeat = match std::env::var("IMG_E2E_REPEAT") {
            Ok(n) => n
                .parse()
                .ok()
                .filter(|n| *n >= 1)
                .with_context(|| format!("IMG_E2E_REPEAT: {n:?} is not a count"))?,
            Err(_) => 1,
        };
        Ok(Plan { scenarios, repeat })
    }

    fn has(&self, n: u32) -> bool {
        self.scenarios.contains(&n)
    }
}

/// Whether libtest-style arguments select this test: `--list` lists it; a name filter
/// that does not match it skips it (so `cargo test --workspace some_name` does not start
/// an hour of builds).
fn selected(args: &[String]) -> Option<bool> {
    const NAME: &str = "end_to_end";
    const WITH_VALUE: [&str; 6] = [
        "--test-threads",
        "--skip",
        "--format",
        "--color",
        "--logfile",
        "-Z",
    ];
    let mut filters = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--list" {
            println!("{NAME}: test");
            return None;
        }
        if WITH_VALUE.contains(&a.as_str()) {
            it.next();
        } else if !a.starts_with('-') {
            filters.push(a);
        }
    }
    Some(filters.is_empty() || filters.iter().any(|f| NAME.contains(f.as_str())))
}

/// The base disk, or why this machine cannot run the test.
fn ready() -> Result<PathBuf, String> {
    let mut missing = Vec::new();
    let base = std::env::var_os("IMG_BASE_DIR")
        .map(PathBuf::from)
        .filter(|d| d.join("base.qcow2").is_file());
    if base.is_none() {
        missing.push("a base disk (IMG_BASE_DIR)");
    }
    if python::python().is_err() {
        missing.push("the test virtualenv (IMG_TEST_PYTHON)");
    }
    if !RabbitMq::available() {
        missing.push("RabbitMQ");
    }
    if !Browser::available() {
        missing.push("chromium and chromium-driver");
    }
    match base {
        Some(base) if missing.is_empty() => Ok(base),
        _ => Err(missing.join(", ")),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match selected(&args) {
        None => return ExitCode::SUCCESS,
        Some(false) => {
            println!("end_to_end: filtered out");
            return ExitCode::SUCCESS;
        }
        Some(true) => {}
    }
    let base = match ready() {
        Ok(base) => base,
        Err(missing) => {
            let required =
                std::env::var_os("IMG_REQUIRE_VM").is_some() || img_tests::services::required();
            eprintln!("end_to_end: missing {missing}; scripts/test installs and builds them");
            return if required {
                ExitCode::FAILURE
            } else {
                println!("end_to_end: skipped");
                ExitCode::SUCCESS
            };
        }
    };
    let plan = match Plan::from_env() {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("end_to_end: {e}");
            return ExitCode::FAILURE;
        }
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .try_init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match runtime.block_on(run(&base, &plan)) {
        Ok(()) => {
            println!("end_to_end: ok");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("end_to_end: FAILED: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(base: &std::path::Path, plan: &Plan) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let site = Site::start(base).await.context("starting the site")?;
    eprintln!(
        "e2e: the site runs in {} (frontend {}, operator admin {}, broker {}, mail port {})",
        site.dir.path().display(),
        site.web_url,
        site.admin,
        site.broker.url(),
        site.smtp.port()
    );
    let browser = Browser::start().await.context("starting Chromium")?;
    let mut rows = Vec::new();
    // Stopped by Ctrl-C or SIGTERM, it still stops everything it started.
    let result = tokio::select! {
        r = rounds(&site, &browser, plan, &mut rows) => r,
        signal = interrupted() => Err(anyhow::anyhow!("interrupted by {signal}")),
    };
    println!(
        "\nWhere the time went (seconds; status times have one-second resolution; whole run {:.0} s):\n{}",
        started.elapsed().as_secs_f64(),
        table(&rows)
    );
    browser.close().await;
    site.stop(result.is_err());
    result
}

/// Waits for SIGINT or SIGTERM; its name.
async fn interrupted() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = int.recv() => "SIGINT",
        _ = term.recv() => "SIGTERM",
    }
}

/// The selected scenarios, `plan.repeat` times, with a leak check after each time.
async fn rounds(
    site: &Site,
    browser: &Browser,
    plan: &Plan,
    rows: &mut Vec<Row>,
) -> anyhow::Result<()> {
    for rep in 1..=plan.repeat {
        if plan.repeat > 1 {
            eprintln!("e2e: ---- run {rep} of {}", plan.repeat);
        }
        let first_row = rows.len();
        // 3 and 4 queue behind 1 and 2 and start as soon as a slot is free, while 1 and 2
        // are still being checked (downloads, the boot, mails).
        let (legacy_id, failing_user) = (format!("e2e-legacy-{rep}"), format!("e2e-failing-{rep}"));
        let (one, two, three, four) = tokio::join!(
            maybe(plan.has(1), web_form::run(site, browser, rep)),
            maybe(plan.has(2), kubectl_apply::run(site, rep)),
            maybe(
                plan.has(3),
                after(QUEUE_BEHIND, amqp_legacy::run(site, &legacy_id))
            ),
            maybe(
                plan.has(4),
                after(QUEUE_BEHIND, post_failure::run(site, &failing_user))
            ),
        );
        collect(
            rows,
            [
                ("scenario 1", one),
                ("scenario 2", two),
                ("scenario 3", three),
                ("scenario 4", four),
            ],
        )?;
        if plan.has(5) || plan.has(6) {
            let queued = queue::run(site, browser, &rep.to_string(), plan.has(6))
                .await
                .context("scenarios 5 and 6")?;
            rows.extend(queued);
        }
        leaks::check(site)
            .await
            .with_context(|| format!("after run {rep}"))?;
        // This run's rows; the whole table comes at the end.
        eprintln!(
            "e2e: run {rep}: nothing left behind\n{}",
            table(&rows[first_row..])
        );
    }
    Ok(())
}

/// How long scenarios 3 and 4 wait before submitting, so 1 and 2 take the two slots.
const QUEUE_BEHIND: std::time::Duration = std::time::Duration::from_secs(15);

/// `run` after `wait`.
async fn after<T>(wait: std::time::Duration, run: impl Future<Output = T>) -> T {
    tokio::time::sleep(wait).await;
    run.await
}

/// `run` when `wanted`.
async fn maybe<T>(
    wanted: bool,
    run: impl Future<Output = anyhow::Result<T>>,
) -> Option<anyhow::Result<T>> {
    if wanted { Some(run.await) } else { None }
}

/// Keeps the rows of the scenarios that passed; the first failure, if any.
fn collect<const N: usize>(
    rows: &mut Vec<Row>,
    results: [(&'static str, Option<anyhow::Result<Row>>); N],
) -> anyhow::Result<()> {
    let mut failure = None;
    for (what, result) in results {
        match result {
            Some(Ok(row)) => rows.push(row),
            Some(Err(e)) => {
                eprintln!("e2e: {what} FAILED: {e:#}");
                failure.get_or_insert(e.context(what));
            }
            None => {}
        }
    }
    failure.map_or(Ok(()), Err)
}
