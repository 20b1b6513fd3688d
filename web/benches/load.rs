//! Load benchmark of the queue page and the JSON job list over 10,000 jobs: requests per
//! second and latency percentiles at 100 concurrent clients, against the target "p99 under
//! 50 ms".
//!
//! `cargo bench -p img-web --bench load [-- FILTER]` (FILTER: run only the scenarios whose
//! request contains it). Environment: `IMG_BENCH_SECONDS` (measured seconds per scenario,
//! default 5), `IMG_BENCH_WARMUP` (warm-up seconds, default 1), `IMG_BENCH_CLIENTS` (default
//! 100), `IMG_BENCH_JOBS` (default 10,000), `IMG_BENCH_CHURN` (watch events per second that
//! change a Running job during the run, default 0: the store stays as built).
//!
//! The server (`img_web::app::router` under `axum::serve`) and the load generator run in the
//! same multi-threaded tokio runtime, so they share the machine's cores. Each client owns one
//! keep-alive HTTP/1.1 connection and runs a closed loop: send, read the whole body, record
//! the latency, repeat. A closed loop does not correct for coordinated omission: a slow
//! response delays the client's next request instead of counting the wait.

// A benchmark binary: a setup that cannot work (no socket, a broken store) should stop it
// loudly rather than be handled.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt as _, Empty};
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, StatusCode, header};
use hyper_util::rt::TokioIo;
use img_crd::{
    Artifact, ImageJob, ImageJobSpec, ImageJobStatus, ImageType, KickstartRecord, LogRecord, Phase,
    Source, Stage, StageOutcome, StageRecord, TemplateSource,
};
use img_web::app::{AppState, router};
use img_web::auth::AuthMode;
use img_web::settings::Settings;
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::runtime::reflector;
use kube::runtime::reflector::store::Writer;
use kube::runtime::watcher::Event;

/// The requests measured, in order.
const SCENARIOS: [&str; 4] = [
    "/api/v1/jobs",
    "/api/v1/jobs?phase=Succeeded&page=40",
    "/queue/",
    "/queue/?type=raw&mine=true",
];

/// The target of the issue: p99 under this many milliseconds.
const TARGET_P99_MS: f64 = 50.0;

/// The header an authenticating proxy names the user in (the clients take turns being the
/// submitters, so `mine=true` finds jobs).
const USER_HEADER: &str = "x-forwarded-user";

/// Who submits jobs.
const SUBMITTERS: [&str; 16] = [
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
    "niaj", "olivia", "peggy", "rupert", "sybil",
];

/// Namespaces, with weights.
const NAMESPACES: [(&str, u32); 6] = [
    ("default", 30),
    ("team-netbook", 25),
    ("team-handset", 20),
    ("team-ivi", 12),
    ("qa", 8),
    ("release", 5),
];

/// Image types, with weights.
const TYPES: [(ImageType, u32); 10] = [
    (ImageType::Raw, 30),
    (ImageType::Livecd, 15),
    (ImageType::Liveusb, 10),
    (ImageType::Loop, 10),
    (ImageType::Qcow2, 10),
    (ImageType::Fs, 8),
    (ImageType::Vdi, 5),
    (ImageType::Vmdk, 5),
    (ImageType::Nand, 4),
    (ImageType::Mrstnand, 3),
];

/// Template platforms.
const PLATFORMS: [&str; 4] = ["NETBOOK", "HANDSET", "IVI", "CORE"];

/// A kickstart as people submit them (each job holds its own copy, as the store would).
const KICKSTART: &str = "# -*-mic2-options-*- -f raw --save-kernel -*-mic2-options-*-
lang en_US.UTF-8
keyboard us
timezone --utc America/Los_Angeles
part / --size 3000 --ondisk sda --fstype=ext3
rootpw meego
xconfig --startxonboot
bootloader --timeout=0 --append=\"quiet\"
desktop --autologinuser=meego
user --name meego  --groups audio,video --password meego
repo --name=core --baseurl=http://repo.meego.com/MeeGo/releases/1.1/core/repos/ia32/packages/ --save --debuginfo --source --gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-meego
repo --name=netbook --baseurl=http://repo.meego.com/MeeGo/releases/1.1/netbook/repos/ia32/packages/ --save --debuginfo --source --gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-meego
repo --name=non-oss --baseurl=http://repo.meego.com/MeeGo/releases/1.1/non-oss/repos/ia32/packages/ --save --debuginfo --source --gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-meego
%packages
@MeeGo Core
@MeeGo Netbook Desktop
@X for Netbooks
@MeeGo Compliance
@MeeGo X Window System
@Virtual Machine Support
@Printing
@Games
kernel-netbook
chromium
gcc
%end
%post
# save a little bit of space at least...
rm -f /boot/initrd*
# make sure there aren't core files lying around
rm -f /core*
# Prelink can reduce boot time
if [ -x /usr/sbin/prelink ]; then
    /usr/sbin/prelink -aRqm
fi
# open serial line console for embedded system
echo \"s0:235:respawn:/sbin/agetty -L 115200 ttyS0 vt100\" >> /etc/inittab
%end
%post --nochroot
if [ -n \"$IMG_NAME\" ]; then
    echo \"BUILD: $IMG_NAME\" >> $INSTALL_ROOT/etc/meego-release
fi
%end
";

/// SplitMix64: deterministic, so every run benchmarks the same jobs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo).max(1)
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.range(0, 100) < percent
    }

    fn pick<T: Copy>(&mut self, weighted: &[(T, u32)]) -> T {
        let total: u64 = weighted.iter().map(|(_, w)| u64::from(*w)).sum();
        let mut at = self.range(0, total);
        for (t, w) in weighted {
            if at < u64::from(*w) {
                return *t;
            }
            at -= u64::from(*w);
        }
        weighted[weighted.len() - 1].0
    }

    fn hex(&mut self, chars: usize) -> String {
        let mut s = String::with_capacity(chars);
        while s.len() < chars {
            s.push_str(&format!("{:016x}", self.next()));
        }
        s.truncate(chars);
        s
    }

    fn uid(&mut self) -> String {
        let h = self.hex(32);
        format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
    }
}

fn ago(now: Timestamp, seconds: u64) -> Timestamp {
    now - SignedDuration::from_secs(i64::try_from(seconds).expect("seconds"))
}

fn after(t: Timestamp, seconds: u64) -> Timestamp {
    t + SignedDuration::from_secs(i64::try_from(seconds).expect("seconds"))
}

fn condition(kind: &str, status: &str, reason: &str, at: Timestamp, message: &str) -> Condition {
    Condition {
        last_transition_time: Time(at),
        message: message.to_owned(),
        observed_generation: Some(1),
        reason: reason.to_owned(),
        status: status.to_owned(),
        type_: kind.to_owned(),
    }
}

/// The job numbered `i` of `n`: a few Running, 200 Queued, some Pending, the rest finished.
fn job(rng: &mut Rng, i: usize, now: Timestamp) -> ImageJob {
    let (phase, position) = match i {
        0..4 => (Phase::Running, None),
        4..204 => (Phase::Queued, Some(u32::try_from(i - 3).expect("position"))),
        204..219 => (Phase::Pending, None),
        _ => match rng.range(0, 100) {
            0..75 => (Phase::Succeeded, None),
            75..93 => (Phase::Failed, None),
            _ => (Phase::Cancelled, None),
        },
    };
    let created = match (phase, position) {
        (Phase::Running, _) => ago(now, rng.range(600, 5400)),
        // The head of the queue waited longest.
        (Phase::Queued, Some(p)) => ago(now, (201 - u64::from(p)) * 40 + rng.range(0, 30)),
        (Phase::Pending, _) => ago(now, rng.range(0, 120)),
        // Six weeks of history.
        _ => ago(now, rng.range(7200, 42 * 86400)),
    };
    let namespace = rng.pick(&NAMESPACES);
    let image_type = rng.pick(&TYPES);
    let short = namespace.trim_start_matches("team-");
    let name = format!("{short}-{image_type}-{i:05}");
    let template = rng.chance(40);
    let source = if template {
        Source {
            template: Some(TemplateSource {
                platform: PLATFORMS[rng.range(0, PLATFORMS.len() as u64) as usize].to_owned(),
                overlay: rng
                    .chance(50)
                    .then(|| "gcc,@MeeGo Netbook Desktop,-google-chrome".to_owned()),
                ..Default::default()
            }),
            ..Default::default()
        }
    } else {
        Source {
            kickstart: Some(KICKSTART.to_owned()),
            ..Default::default()
        }
    };
    let mut j = ImageJob::new(
        &name,
        ImageJobSpec {
            image_type: rng.chance(70).then_some(image_type),
            source,
            pinned: rng.chance(2),
            ttl_seconds_after_finished: rng.chance(30).then_some(7 * 86400),
            ..Default::default()
        },
    );
    let uid = rng.uid();
    let m = &mut j.metadata;
    m.namespace = Some(namespace.to_owned());
    m.uid = Some(uid.clone());
    m.resource_version = Some(rng.range(100_000, 9_000_000).to_string());
    m.generation = Some(1);
    m.creation_timestamp = Some(Time(created));
    m.finalizers = Some(vec![img_crd::labels::FINALIZER.to_owned()]);
    // Jobs made with kubectl have no submitter.
    if rng.chance(95) {
        let who = SUBMITTERS[rng.range(0, SUBMITTERS.len() as u64) as usize];
        m.annotations = Some(BTreeMap::from([(
            img_web::view::SUBMITTER.to_owned(),
            who.to_owned(),
        )]));
    }

    let mut status = ImageJobStatus {
        phase: Some(phase),
        observed_generation: Some(1),
        queue_position: position,
        ..Default::default()
    };
    if phase == Phase::Pending {
        j.status = rng.chance(50).then_some(status);
        return j;
    }
    let checked = after(created, rng.range(1, 5));
    status.image_type = Some(image_type);
    status.legacy_id = Some(uid);
    status.kickstart = Some(KickstartRecord {
        sha256: rng.hex(64),
        bytes: KICKSTART.len() as u64,
        configuration: template.then(|| format!("{name}.ks")),
        text: None,
    });
    status.queued_time = Some(Time(checked));
    status.conditions.push(condition(
        "Accepted",
        "True",
        "Valid",
        checked,
        "the kickstart is valid",
    ));
    // Stages: how far the build got.
    let stages_run = match phase {
        Phase::Running => rng.range(1, 5) as usize,
        Phase::Succeeded => 6,
        Phase::Failed => rng.range(0, 7) as usize,
        Phase::Cancelled => rng.range(0, 4) as usize,
        _ => 0,
    };
    let finished = phase != Phase::Running && phase != Phase::Queued;
    // When the last thing happened.
    let mut at = checked;
    if stages_run > 0 {
        let started = after(checked, rng.range(0, 3600));
        status.start_time = Some(Time(started));
        status.runner_pod = Some(format!("{name}-runner"));
        status.log = Some(LogRecord {
            path: format!("{namespace}/{name}/build.log"),
            url: Some(format!("/images/{namespace}/{name}/build.log")),
        });
        status.conditions.push(condition(
            "Running",
            if finished { "False" } else { "True" },
            "RunnerStarted",
            started,
            "the runner started",
        ));
        at = started;
        for (k, stage) in Stage::ALL.iter().take(stages_run).enumerate() {
            let took = match stage {
                Stage::Build => rng.range(600, 3000),
                Stage::Boot => rng.range(20, 90),
                _ => rng.range(1, 30),
            };
            let last = k + 1 == stages_run;
            let outcome = match (phase, last) {
                (Phase::Running, true) => None,
                (Phase::Failed | Phase::Cancelled, true) => Some(StageOutcome::Failed),
                _ if *stage == Stage::Kickstarter && !template => Some(StageOutcome::Skipped),
                _ => Some(StageOutcome::Succeeded),
            };
            status.stages.push(StageRecord {
                name: *stage,
                started_at: Some(Time(at)),
                finished_at: outcome.map(|_| Time(after(at, took))),
                outcome,
                message: (outcome == Some(StageOutcome::Failed))
                    .then(|| "mic exited with status 1: see the log".to_owned()),
            });
            at = after(at, took);
        }
        if finished {
            status.completion_time = Some(Time(at));
        }
    } else if finished {
        status.completion_time = Some(Time(at));
    }
    match phase {
        Phase::Succeeded => {
            let ext = match image_type {
                ImageType::Livecd | ImageType::Liveusb => "iso",
                ImageType::Fs => "tar.gz",
                ImageType::Qcow2 => "qcow2",
                ImageType::Vdi => "vdi",
                ImageType::Vmdk => "vmdk",
                _ => "raw",
            };
            let mut files = vec![format!("{name}-sda.{ext}"), format!("{name}.ks")];
            if rng.chance(50) {
                files.push(format!("{name}.packages"));
            }
            for file in files {
                status.artifacts.push(Artifact {
                    url: Some(format!("/images/{namespace}/{name}/{file}")),
                    name: file,
                    size: rng.range(1_000, 4_000_000_000),
                    sha256: rng.hex(64),
                });
            }
            status.conditions.push(condition(
                "Succeeded",
                "True",
                "ImageBuilt",
                at,
                "the image was built",
            ));
        }
        Phase::Failed => {
            let reason = if stages_run == 0 {
                "InvalidKickstart"
            } else {
                "BuildFailed"
            };
            status.reason = Some(reason.to_owned());
            status.message = Some(if stages_run == 0 {
                "line 12: unknown command \"xconfig2\"".to_owned()
            } else {
                "mic exited with status 1: see the log".to_owned()
            });
            status
                .conditions
                .push(condition("Failed", "True", reason, at, "the build failed"));
        }
        Phase::Cancelled => {
            status.reason = Some("Cancelled".to_owned());
            status.message = Some("spec.cancel was set".to_owned());
        }
        _ => {}
    }
    j.status = Some(status);
    j
}

/// The jobs, and how many there are of each phase.
fn jobs(n: usize) -> (Vec<ImageJob>, BTreeMap<&'static str, usize>) {
    let mut rng = Rng(0x1_2010_0001);
    let now = Timestamp::now();
    let jobs: Vec<ImageJob> = (0..n).map(|i| job(&mut rng, i, now)).collect();
    let mut phases = BTreeMap::new();
    for j in &jobs {
        let phase = j
            .status
            .as_ref()
            .and_then(|s| s.phase)
            .unwrap_or(Phase::Pending);
        *phases.entry(phase.as_str()).or_default() += 1;
    }
    (jobs, phases)
}

/// The state over `jobs`, and the writer of its store.
fn state(jobs: Vec<ImageJob>) -> (AppState, Writer<ImageJob>) {
    let (reader, mut writer) = reflector::store();
    for j in jobs {
        writer.apply_watcher_event(&Event::Apply(j));
    }
    // No API server: the list and the queue page only read the store.
    let config = kube::Config::new("http://127.0.0.1:9".parse().expect("URL"));
    let settings = Settings {
        auth: AuthMode::Proxy {
            header: header::HeaderName::from_static(USER_HEADER),
            admins: Default::default(),
        },
        ..Settings::local("default")
    };
    let state = AppState::new(
        std::env::temp_dir(),
        reader,
        kube::Client::try_from(config).expect("client"),
        settings,
    );
    (state, writer)
}

/// Watch events at `per_second`, as the operator's status updates arrive: a Running job
/// changes, and the frontend hears of it (each event makes the cached sorted list stale).
async fn churn(mut writer: Writer<ImageJob>, mut running: Vec<ImageJob>, per_second: f64) {
    if running.is_empty() {
        return;
    }
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / per_second));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut version = 10_000_000_u64;
    loop {
        tick.tick().await;
        version += 1;
        let at = usize::try_from(version).unwrap_or(0) % running.len();
        let job = &mut running[at];
        job.metadata.resource_version = Some(version.to_string());
        writer.apply_watcher_event(&Event::Apply(job.clone()));
        img_web::store::jobs_changed();
    }
}

/// One keep-alive HTTP/1.1 connection.
async fn connect(
    addr: SocketAddr,
) -> Result<SendRequest<Empty<Bytes>>, Box<dyn std::error::Error + Send + Sync>> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        // The connection ends when the client drops its sender.
        let _ = conn.await;
    });
    Ok(sender)
}

/// What one client saw.
struct Tally {
    latency: Histogram<u64>,
    errors: u64,
    bytes: u64,
    last: Option<Instant>,
}

fn histogram() -> Histogram<u64> {
    // 1 µs to 60 s, three significant figures.
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("histogram")
}

/// A closed loop of GET `path` as `user` until `end`, recording what starts after `warm`.
async fn client(
    addr: SocketAddr,
    path: &'static str,
    user: &'static str,
    warm: Instant,
    end: Instant,
) -> Tally {
    let mut tally = Tally {
        latency: histogram(),
        errors: 0,
        bytes: 0,
        last: None,
    };
    let mut conn: Option<SendRequest<Empty<Bytes>>> = None;
    while Instant::now() < end {
        let sender = match &mut conn {
            Some(s) => s,
            None => match connect(addr).await {
                Ok(s) => conn.insert(s),
                Err(_) => {
                    tally.errors += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        if sender.ready().await.is_err() {
            tally.errors += 1;
            conn = None;
            continue;
        }
        let request = Request::get(path)
            .header(header::HOST, "127.0.0.1")
            .header(USER_HEADER, user)
            .body(Empty::new())
            .expect("request");
        let started = Instant::now();
        let result = async {
            let response = sender.send_request(request).await?;
            let status = response.status();
            let body = response.into_body().collect().await?.to_bytes();
            Ok::<_, hyper::Error>((status, body.len()))
        }
        .await;
        let done = Instant::now();
        let measured = started >= warm;
        match result {
            Ok((StatusCode::OK, len)) => {
                if measured {
                    let us = u64::try_from((done - started).as_micros()).unwrap_or(u64::MAX);
                    tally.latency.saturating_record(us.max(1));
                    tally.bytes += len as u64;
                    tally.last = Some(done);
                }
            }
            Ok(_) => tally.errors += u64::from(measured),
            Err(_) => {
                tally.errors += u64::from(measured);
                conn = None;
            }
        }
    }
    tally
}

/// The figures of one scenario.
struct Figures {
    requests: u64,
    per_second: f64,
    p50: f64,
    p99: f64,
    p999: f64,
    max: f64,
    errors: u64,
    body: u64,
}

async fn run(
    addr: SocketAddr,
    path: &'static str,
    clients: usize,
    warmup: Duration,
    measure: Duration,
) -> Figures {
    let start = Instant::now();
    let warm = start + warmup;
    let end = warm + measure;
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            tokio::spawn(client(
                addr,
                path,
                SUBMITTERS[c % SUBMITTERS.len()],
                warm,
                end,
            ))
        })
        .collect();
    let mut latency = histogram();
    let mut errors = 0;
    let mut bytes = 0;
    let mut last = end;
    for t in tasks {
        let tally = t.await.expect("client task");
        latency.add(&tally.latency).expect("same bounds");
        errors += tally.errors;
        bytes += tally.bytes;
        last = last.max(tally.last.unwrap_or(end));
    }
    let requests = latency.len();
    let ms = |us: u64| us as f64 / 1000.0;
    Figures {
        requests,
        per_second: requests as f64 / (last - warm).as_secs_f64(),
        p50: ms(latency.value_at_quantile(0.50)),
        p99: ms(latency.value_at_quantile(0.99)),
        p999: ms(latency.value_at_quantile(0.999)),
        max: ms(latency.max()),
        errors,
        body: bytes.checked_div(requests).unwrap_or(0),
    }
}

/// A `/proc/self/status` figure in MiB.
fn proc_status_mib(key: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix(key)?
                    .trim()
                    .strip_suffix("kB")?
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
        })
        .map_or_else(
            || "unknown".to_owned(),
            |kb| format!("{:.1} MiB", kb as f64 / 1024.0),
        )
}

fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        Err(_) => default,
    }
}

fn main() {
    let seconds: f64 = env_number("IMG_BENCH_SECONDS", 5.0);
    let warmup: f64 = env_number("IMG_BENCH_WARMUP", 1.0);
    let clients: usize = env_number("IMG_BENCH_CLIENTS", 100);
    let n: usize = env_number("IMG_BENCH_JOBS", 10_000);
    let churn_rate: f64 = env_number("IMG_BENCH_CHURN", 0.0);
    assert!(clients > 0, "IMG_BENCH_CLIENTS must be at least 1");
    // `cargo bench` passes `--bench`; anything else filters the scenarios.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let scenarios: Vec<&'static str> = SCENARIOS
        .into_iter()
        .filter(|s| filters.is_empty() || filters.iter().any(|f| s.contains(f.as_str())))
        .collect();

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let workers = runtime.metrics().num_workers();
    let built = Instant::now();
    let (jobs, phases) = jobs(n);
    // The kube client spawns its worker on the runtime.
    let running: Vec<ImageJob> = jobs
        .iter()
        .filter(|j| j.status.as_ref().and_then(|s| s.phase) == Some(Phase::Running))
        .cloned()
        .collect();
    let (state, writer) = {
        let _runtime = runtime.enter();
        state(jobs)
    };
    let built = built.elapsed();

    println!("img-web load benchmark");
    let phases: Vec<String> = phases.iter().map(|(p, n)| format!("{n} {p}")).collect();
    println!(
        "  store: {n} ImageJobs ({}), built in {:.2} s, RSS now {}",
        phases.join(", "),
        built.as_secs_f64(),
        proc_status_mib("VmRSS:")
    );
    println!(
        "  {clients} clients, one keep-alive HTTP/1.1 connection each; {warmup} s warm-up, then {seconds} s measured per scenario"
    );
    if churn_rate > 0.0 {
        println!(
            "  store changes: {churn_rate} watch events/s (a Running job's status; each makes the cached sorted list stale)"
        );
    } else {
        println!(
            "  store changes: none (lists come from the cached sorted list; IMG_BENCH_CHURN=N adds N watch events/s)"
        );
    }
    println!(
        "  closed loop: each client waits for its response before the next request (no coordinated-omission correction)"
    );
    println!(
        "  server and load generator share one tokio runtime: {workers} worker threads on {cores} cores"
    );
    println!();

    let results = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        tokio::spawn(async move {
            axum::serve(listener, router(state)).await.expect("serve");
        });
        if churn_rate > 0.0 {
            tokio::spawn(churn(writer, running, churn_rate));
        }
        println!(
            "{:<40} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7} {:>9}",
            "request",
            "requests",
            "req/s",
            "p50 ms",
            "p99 ms",
            "p99.9 ms",
            "max ms",
            "errors",
            "body B"
        );
        let mut results = Vec::new();
        for path in scenarios {
            let f = run(
                addr,
                path,
                clients,
                Duration::from_secs_f64(warmup),
                Duration::from_secs_f64(seconds),
            )
            .await;
            println!(
                "{:<40} {:>9} {:>9.1} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>7} {:>9}",
                format!("GET {path}"),
                f.requests,
                f.per_second,
                f.p50,
                f.p99,
                f.p999,
                f.max,
                f.errors,
                f.body
            );
            results.push((path, f));
        }
        results
    });

    println!();
    println!("target: p99 < {TARGET_P99_MS} ms at {clients} clients");
    for (path, f) in &results {
        let pass = f.p99 < TARGET_P99_MS && f.errors == 0 && f.requests > 0;
        println!(
            "{:<40} {} (p99 {:.2} ms, {} errors)",
            format!("GET {path}"),
            if pass { "PASS" } else { "FAIL" },
            f.p99,
            f.errors
        );
    }
    println!();
    println!("peak RSS (VmHWM): {}", proc_status_mib("VmHWM:"));
}
