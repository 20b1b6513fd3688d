//! `imgctl`, the command-line client of the frontend's JSON API (the 2010 `client.py`, grown
//! up): submit kickstarts or template platforms with overlays, list, follow the log, wait for
//! the end with an exit code a script can use, download the images with their checksums
//! checked (resuming partial downloads), cancel, retry, delete and clear.
//!
//! The library is what the `imgctl` binary runs: [`Cli`] is its command line (clap), and
//! [`run`] executes a parsed one against writers for standard output and error, returning
//! the exit code ([`exit::Exit`]), so tests run it in-process and read what it printed.
//! [`run_args`] also parses, as the binary does.
//!
//! ```text
//! imgctl submit netbook.ks --type raw --email me@example.org     # prints default/job-x7k2p
//! imgctl submit --platform MINIMAL --overlay 'less,-nano' --type raw --wait
//! imgctl logs -f default/job-x7k2p
//! imgctl wait job-x7k2p --timeout 3600 && imgctl download job-x7k2p -o out/
//! ```

pub mod client;
pub mod download;
pub mod exit;
pub mod id;
pub mod output;

use std::io::{Read as _, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::builder::PossibleValuesParser;
use clap::{Args, Parser, Subcommand, ValueEnum};
use reqwest::Method;
use serde_json::json;

use crate::imgctl::client::{Choices, Client, JobPage, Preview, read};
use crate::imgctl::exit::{EXIT_CODES_HELP, Exit, Failure, FieldProblem, clean};
use crate::imgctl::id::{DEFAULT_NAMESPACE, JobId};
use crate::submit::{MAX_KICKSTART, NewJob};

/// The server `imgctl` talks to unless `--server` or `IMG_SERVER` says otherwise.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";
/// How often `wait` and `logs -f` ask again.
pub const POLL: Duration = Duration::from_millis(500);
/// How many server or network errors in a row `wait` and `logs -f` ride out (a restarting
/// frontend) before they give up with exit code 5.
pub const RETRIES: u32 = 5;
/// How long `wait` and `logs -f` take "not found" for "not there yet": the frontend lists
/// jobs from a watch, which learns of a job just submitted a moment after it was created.
pub const NOT_FOUND_GRACE: Duration = Duration::from_secs(5);

const PHASES: [&str; 6] = [
    "Pending",
    "Queued",
    "Running",
    "Succeeded",
    "Failed",
    "Cancelled",
];

/// How results are printed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// For people: ids, tables, reports; errors as `imgctl: message` and `field:line: problem`.
    #[default]
    Text,
    /// For programs: the API's JSON on standard output; errors as `{"error", "errors"}` on
    /// standard error.
    Json,
}

/// The command line of `imgctl`.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "imgctl",
    version,
    about = "The command-line client of the IMG web frontend: submit image builds, follow \
             them, download their images.",
    long_about = "The command-line client of the IMG web frontend's JSON API: submit image \
                  builds (a kickstart file, or a platform of the server's kickstarter template \
                  with an overlay), list them, follow their logs, wait for them, download their \
                  images (checked against their sha256, resuming partial downloads), cancel, \
                  retry, delete and clear them.\n\n\
                  A job ID is NAMESPACE/NAME, or NAME in the namespace --namespace names \
                  (default: default).",
    after_help = EXIT_CODES_HELP
)]
pub struct Cli {
    /// The web frontend's base URL.
    #[arg(long, env = "IMG_SERVER", default_value = DEFAULT_SERVER, global = true)]
    pub server: String,
    /// The user name, sent as the X-Forwarded-User header. Only meaningful when the frontend
    /// trusts that header (img-web --auth-proxy-header X-Forwarded-User) and imgctl reaches
    /// it directly, e.g. on a trusted loopback; an authenticating proxy in front sets the
    /// header itself and ignores this one.
    #[arg(long, env = "IMG_USER", global = true)]
    pub user: Option<String>,
    /// How to print results and errors.
    #[arg(long, value_enum, default_value_t = Output::Text, global = true)]
    pub output: Output,
    /// The namespace: of a bare job NAME (default: default), of new jobs (default: the
    /// server's), and the only one `list` shows.
    #[arg(long, short = 'n', global = true)]
    pub namespace: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Submit a build: a kickstart file, or --platform with an --overlay. Prints the job ID.
    Submit(SubmitArgs),
    /// List jobs: running, then queued in order, then pending, then finished newest first.
    List(ListArgs),
    /// Show a job: phase, reason and message, stages, artifacts.
    Status {
        /// The job: NAMESPACE/NAME or NAME.
        id: String,
    },
    /// Print a job's build log (-f: follow it until the job ends).
    Logs {
        /// The job: NAMESPACE/NAME or NAME.
        id: String,
        /// Keep printing new lines until the job has ended.
        #[arg(short = 'f', long)]
        follow: bool,
    },
    /// Wait until a job ends; the exit code says how (0 Succeeded, 1 Failed, 3 Cancelled).
    Wait {
        /// The job: NAMESPACE/NAME or NAME.
        id: String,
        /// Give up (exit code 7) after this many seconds.
        #[arg(long, value_name = "SECONDS")]
        timeout: Option<u64>,
    },
    /// Download a job's images (or one --file) into a directory, checking size and sha256.
    Download {
        /// The job: NAMESPACE/NAME or NAME.
        id: String,
        /// Only this artifact (any of the job's, not only images).
        #[arg(long, value_name = "NAME")]
        file: Option<String>,
        /// The directory to write to (made if missing).
        #[arg(
            short = 'o',
            long = "output-dir",
            value_name = "DIR",
            default_value = "."
        )]
        dir: PathBuf,
    },
    /// Stop a job that has not ended.
    Cancel {
        /// The job: NAMESPACE/NAME or NAME.
        id: String,
    },
    /// Submit a new job with the same inputs as this one. Prints the new job's ID.
    Retry {
        /// The job: NAMESPACE/NAME or NAME.
        id: String,
    },
    /// Delete a job and its files.
    Delete {
        /// The job: NAMESPACE/NAME or NAME.
        id: String,
    },
    /// Delete your finished, unpinned jobs (an admin's: everyone's). Prints what went.
    Clear,
    /// Show the platforms of the server's template and the image types.
    Choices,
}

/// `imgctl submit`.
#[derive(Debug, Clone, Args)]
pub struct SubmitArgs {
    /// The kickstart file ('-': standard input).
    #[arg(
        value_name = "FILE.ks",
        required_unless_present = "platform",
        conflicts_with = "platform"
    )]
    pub file: Option<PathBuf>,
    /// A platform of the server's kickstarter template (see `imgctl choices`).
    #[arg(long)]
    pub platform: Option<String>,
    /// The kickstarter template ConfigMap to take --platform from (default: the server's).
    #[arg(long, requires = "platform", conflicts_with = "file")]
    pub template: Option<String>,
    /// Packages and groups to add to the platform: "gcc,@Group,-removed-pkg".
    #[arg(long, requires = "platform", conflicts_with = "file")]
    pub overlay: Option<String>,
    /// The image type (livecd, liveusb, loop, raw, nand, mrstnand, vdi, vmdk, qcow2, fs);
    /// default: the kickstart's magic line.
    #[arg(long = "type", value_name = "TYPE")]
    pub image_type: Option<String>,
    /// An address to tell when the build ends (repeat for more).
    #[arg(long, value_name = "ADDRESS")]
    pub email: Vec<String>,
    /// Only check the submission and print the kickstart it would build.
    #[arg(long, conflicts_with = "wait")]
    pub preview: bool,
    /// Then wait for the job to end, as `imgctl wait` does.
    #[arg(long)]
    pub wait: bool,
    /// With --wait: give up (exit code 7) after this many seconds.
    #[arg(long, value_name = "SECONDS", requires = "wait")]
    pub timeout: Option<u64>,
}

/// `imgctl list`.
#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Only jobs in this phase.
    #[arg(long, ignore_case = true, value_parser = PossibleValuesParser::new(PHASES))]
    pub phase: Option<String>,
    /// Only jobs of this image type.
    #[arg(long = "type", value_name = "TYPE")]
    pub image_type: Option<String>,
    /// Only jobs of this submitter.
    #[arg(long)]
    pub submitter: Option<String>,
    /// Only my jobs (the --user's, with an authenticating proxy).
    #[arg(long)]
    pub mine: bool,
    /// The page (1-based).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub page: Option<u32>,
    /// Jobs per page (at most 500).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=500))]
    pub per_page: Option<u32>,
}

/// Parses `args` (the program name first) and runs them, as the binary does: a usage error
/// prints clap's message to `err` and returns 2; `--help` and `--version` print to `out`
/// and return 0.
pub async fn run_args<I, T>(
    args: I,
    out: &mut (dyn Write + Send),
    err: &mut (dyn Write + Send),
) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    match Cli::try_parse_from(args) {
        Ok(cli) => run(cli, out, err).await,
        Err(e) => {
            let text = e.render().to_string();
            let to: &mut (dyn Write + Send) = if e.use_stderr() { err } else { out };
            let _ = to.write_all(text.as_bytes());
            let _ = to.flush();
            e.exit_code()
        }
    }
}

/// Runs `cli`, printing results to `out` and errors to `err`; the exit code.
pub async fn run(cli: Cli, out: &mut (dyn Write + Send), err: &mut (dyn Write + Send)) -> i32 {
    let json = cli.output == Output::Json;
    let result = match Client::new(&cli.server, cli.user.as_deref()) {
        Ok(client) => {
            let mut ctx = Ctx {
                client,
                json,
                namespace: cli.namespace,
                out: &mut *out,
                err: &mut *err,
            };
            execute(&mut ctx, cli.command).await
        }
        Err(f) => Err(f),
    };
    let _ = out.flush();
    match result {
        Ok(exit) => exit.code(),
        Err(failure) => {
            report(&failure, json, err);
            failure.exit.code()
        }
    }
}

/// Prints `failure` to `err` as text or JSON. A closed standard output (`imgctl logs -f |
/// head`) is no failure worth a message.
fn report(failure: &Failure, json: bool, err: &mut (dyn Write + Send)) {
    if failure.exit == Exit::Success {
        return;
    }
    let text = if json {
        format!("{}\n", failure.to_json())
    } else {
        failure.to_text()
    };
    let _ = err.write_all(text.as_bytes());
    let _ = err.flush();
}

/// What every command works with.
struct Ctx<'a> {
    client: Client,
    json: bool,
    namespace: Option<String>,
    out: &'a mut (dyn Write + Send),
    err: &'a mut (dyn Write + Send),
}

/// A failed write to standard output: a closed pipe ends the command quietly (exit 0).
fn written(e: std::io::Error) -> Failure {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Failure::new(Exit::Success, "")
    } else {
        Failure::usage(format!("cannot write the output: {e}"))
    }
}

impl Ctx<'_> {
    fn id(&self, id: &str) -> Result<JobId, Failure> {
        JobId::parse(id, self.namespace.as_deref().unwrap_or(DEFAULT_NAMESPACE))
    }

    /// Prints `text` (a line end added when missing) to standard output.
    fn print(&mut self, text: &str) -> Result<(), Failure> {
        self.out.write_all(text.as_bytes()).map_err(written)?;
        if !text.is_empty() && !text.ends_with('\n') {
            self.out.write_all(b"\n").map_err(written)?;
        }
        self.out.flush().map_err(written)
    }

    /// Prints `value` as pretty JSON to standard output.
    fn print_json(&mut self, value: &serde_json::Value) -> Result<(), Failure> {
        let text = serde_json::to_string_pretty(value)
            .map_err(|e| Failure::server(format!("cannot print the answer: {e}")))?;
        self.print(&text)
    }

    /// A note for people on standard error (progress, warnings); text mode only.
    fn note(&mut self, text: &str) {
        if !self.json {
            let _ = writeln!(self.err, "{text}");
            let _ = self.err.flush();
        }
    }
}

async fn execute(ctx: &mut Ctx<'_>, command: Command) -> Result<Exit, Failure> {
    match command {
        Command::Submit(args) => submit(ctx, args).await,
        Command::List(args) => list(ctx, args).await,
        Command::Status { id } => status(ctx, &id).await,
        Command::Logs { id, follow } => logs(ctx, &id, follow).await,
        Command::Wait { id, timeout } => {
            let id = ctx.id(&id)?;
            wait(ctx, &id, timeout).await
        }
        Command::Download { id, file, dir } => fetch(ctx, &id, file.as_deref(), &dir).await,
        Command::Cancel { id } => change(ctx, &id, Method::POST, "cancel").await,
        Command::Delete { id } => change(ctx, &id, Method::DELETE, "delete").await,
        Command::Retry { id } => retry(ctx, &id).await,
        Command::Clear => clear(ctx).await,
        Command::Choices => choices(ctx).await,
    }
}

/// The kickstart in `path` (`-`: standard input): at most the server's limit, UTF-8 (or the
/// line that is not, as the server would name it).
fn read_kickstart(path: &Path) -> Result<String, Failure> {
    let limit = MAX_KICKSTART as u64 + 1;
    let mut bytes = Vec::new();
    let read = if path == Path::new("-") {
        std::io::stdin().take(limit).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(limit).read_to_end(&mut bytes))
    };
    read.map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
    if bytes.len() > MAX_KICKSTART {
        return Err(Failure::usage(format!(
            "{} is larger than {MAX_KICKSTART} bytes, the most the server takes",
            path.display()
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        Failure {
            exit: Exit::Usage,
            error: format!("{} is not UTF-8 text", path.display()),
            errors: vec![FieldProblem {
                field: "kickstart".into(),
                line: u32::try_from(line).ok(),
                message: "invalid UTF-8".into(),
            }],
        }
    })
}

/// An id the server sent, checked like the user's.
fn server_id(summary: &client::JobSummary) -> Result<JobId, Failure> {
    JobId::parse(&summary.id(), DEFAULT_NAMESPACE).map_err(|e| {
        Failure::server(format!(
            "the server answered with a bad job id: {}",
            e.error
        ))
    })
}

async fn submit(ctx: &mut Ctx<'_>, args: SubmitArgs) -> Result<Exit, Failure> {
    let kickstart = args.file.as_deref().map(read_kickstart).transpose()?;
    let new = NewJob {
        namespace: ctx.namespace.clone(),
        kickstart,
        platform: args.platform,
        template: args.template,
        overlay: args.overlay,
        image_type: args.image_type,
        email: args.email,
    };
    let body = serde_json::to_value(&new)
        .map_err(|e| Failure::usage(format!("cannot encode the submission: {e}")))?;
    if args.preview {
        let value = ctx.client.post_json("/api/v1/preview", Some(&body)).await?;
        if ctx.json {
            ctx.print_json(&value)?;
        } else {
            let preview: Preview = read(&value, "a preview")?;
            for warning in &preview.warnings {
                ctx.note(&format!("warning: {}", clean(warning)));
            }
            ctx.print(&preview.kickstart)?;
        }
        return Ok(Exit::Success);
    }
    let value = ctx.client.post_json("/api/v1/jobs", Some(&body)).await?;
    let detail: client::JobDetail = read(&value, "a job")?;
    let id = server_id(&detail.summary)?;
    if args.wait {
        if !ctx.json {
            ctx.print(&id.to_string())?;
        }
        return wait(ctx, &id, args.timeout).await;
    }
    if ctx.json {
        ctx.print_json(&value)?;
    } else {
        ctx.print(&id.to_string())?;
    }
    Ok(Exit::Success)
}

async fn list(ctx: &mut Ctx<'_>, args: ListArgs) -> Result<Exit, Failure> {
    let mut query: Vec<(&str, String)> = Vec::new();
    let optional = [
        ("phase", args.phase),
        ("type", args.image_type),
        ("submitter", args.submitter),
        ("namespace", ctx.namespace.clone()),
        ("page", args.page.map(|p| p.to_string())),
        ("perPage", args.per_page.map(|p| p.to_string())),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            query.push((key, value));
        }
    }
    if args.mine {
        query.push(("mine", "true".into()));
    }
    let value = ctx.client.get_json("/api/v1/jobs", &query).await?;
    if ctx.json {
        ctx.print_json(&value)?;
        return Ok(Exit::Success);
    }
    let page: JobPage = read(&value, "a page of jobs")?;
    if page.items.is_empty() {
        ctx.note(if page.total == 0 {
            "no jobs"
        } else {
            "no jobs on this page"
        });
        return Ok(Exit::Success);
    }
    ctx.print(&output::table(&page.items))?;
    let shown = (page.page.saturating_sub(1)) * page.per_page + page.items.len();
    if shown < page.total {
        let next = page.page + 1;
        ctx.note(&format!(
            "{} of {} jobs shown; --page {next} for more",
            page.items.len(),
            page.total
        ));
    }
    Ok(Exit::Success)
}

async fn status(ctx: &mut Ctx<'_>, id: &str) -> Result<Exit, Failure> {
    let id = ctx.id(id)?;
    let (value, detail) = ctx.client.job(&id).await?;
    if ctx.json {
        ctx.print_json(&value)?;
    } else {
        let text = output::status(&detail, ctx.client.base());
        ctx.print(&text)?;
    }
    Ok(Exit::Success)
}

async fn logs(ctx: &mut Ctx<'_>, id: &str, follow: bool) -> Result<Exit, Failure> {
    let id = ctx.id(id)?;
    let started = tokio::time::Instant::now();
    let mut offset = 0u64;
    let mut failures = 0;
    let mut seen = false;
    loop {
        let chunk = match ctx.client.log(&id, offset).await {
            Ok(chunk) => chunk,
            Err(f) if follow && f.exit == Exit::Server && failures < RETRIES => {
                failures += 1;
                tokio::time::sleep(POLL * failures).await;
                continue;
            }
            Err(f)
                if follow
                    && !seen
                    && f.exit == Exit::NotFound
                    && started.elapsed() < NOT_FOUND_GRACE =>
            {
                tokio::time::sleep(POLL / 5).await;
                continue;
            }
            Err(f) => return Err(f),
        };
        failures = 0;
        seen = true;
        let full = chunk.bytes.len() >= crate::logs::CHUNK;
        if ctx.json {
            if !chunk.bytes.is_empty() || chunk.finished {
                let line = json!({
                    "offset": offset,
                    "next": chunk.next,
                    "text": String::from_utf8_lossy(&chunk.bytes),
                    "finished": chunk.finished,
                });
                ctx.print(&line.to_string())?;
            }
        } else if !chunk.bytes.is_empty() {
            ctx.out.write_all(&chunk.bytes).map_err(written)?;
            ctx.out.flush().map_err(written)?;
        }
        if chunk.next < offset {
            return Err(Failure::server(format!(
                "the log's next offset {} is before {offset}",
                chunk.next
            )));
        }
        offset = chunk.next;
        if chunk.finished || (!follow && !full) {
            return Ok(Exit::Success);
        }
        if !full {
            tokio::time::sleep(POLL).await;
        }
    }
}

/// Polls `id` until it ends; its outcome as the exit code.
async fn wait(ctx: &mut Ctx<'_>, id: &JobId, timeout: Option<u64>) -> Result<Exit, Failure> {
    let started = tokio::time::Instant::now();
    let deadline = timeout.map(|s| started + Duration::from_secs(s));
    let mut last = String::new();
    let mut failures = 0;
    let mut seen = false;
    loop {
        match ctx.client.job(id).await {
            Ok((value, detail)) => {
                failures = 0;
                seen = true;
                let summary = &detail.summary;
                if summary.finished {
                    let exit = Exit::of_phase(&summary.phase).ok_or_else(|| {
                        Failure::server(format!(
                            "{id} has ended in a phase imgctl does not know: {}",
                            clean(&summary.phase)
                        ))
                    })?;
                    if ctx.json {
                        ctx.print_json(&value)?;
                    } else {
                        ctx.print(&output::outcome_line(&detail))?;
                    }
                    return Ok(exit);
                }
                let now = match summary.queue_position {
                    Some(p) => format!("{} (position {p})", summary.phase),
                    None => summary.phase.clone(),
                };
                if now != last {
                    ctx.note(&format!("{id}: {}", clean(&now)));
                    last = now;
                }
            }
            Err(f) if f.exit == Exit::Server && failures < RETRIES => {
                failures += 1;
                ctx.note(&format!("imgctl: {} (trying again)", clean(&f.error)));
            }
            Err(f) if !seen && f.exit == Exit::NotFound && started.elapsed() < NOT_FOUND_GRACE => {
                tokio::time::sleep(POLL / 5).await;
                continue;
            }
            Err(f) => return Err(f),
        }
        let mut pause = POLL * (failures + 1);
        if let Some(deadline) = deadline {
            let now = tokio::time::Instant::now();
            if now >= deadline {
                let still = if last.is_empty() {
                    "not ended".into()
                } else {
                    format!("still {last}")
                };
                return Err(Failure::new(
                    Exit::Timeout,
                    format!(
                        "{id} is {still} after {} s (--timeout)",
                        timeout.unwrap_or_default()
                    ),
                ));
            }
            pause = pause.min(deadline - now);
        }
        tokio::time::sleep(pause).await;
    }
}

async fn fetch(
    ctx: &mut Ctx<'_>,
    id: &str,
    file: Option<&str>,
    dir: &Path,
) -> Result<Exit, Failure> {
    let id = ctx.id(id)?;
    if let Some(file) = file {
        download::check_name(file).map_err(|why| Failure::usage(format!("--file: {why}")))?;
    }
    let (_, detail) = ctx.client.job(&id).await?;
    let chosen = download::choose(&id, &detail.summary.phase, &detail.links.artifacts, file)?;
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::usage(format!("cannot make {}: {e}", dir.display())))?;
    let mut fetched = Vec::new();
    for artifact in chosen {
        let got = download::fetch(&ctx.client, &id, artifact, dir).await?;
        if !ctx.json {
            let how = if got.up_to_date {
                " (already there)".to_owned()
            } else if got.resumed_from > 0 {
                format!(" (resumed from byte {})", got.resumed_from)
            } else {
                String::new()
            };
            ctx.print(&format!(
                "{}  {} bytes  sha256 {} OK{how}",
                got.path.display(),
                got.size,
                got.sha256
            ))?;
        }
        fetched.push(got);
    }
    if ctx.json {
        let value = json!({ "job": id.to_string(), "files": fetched });
        ctx.print_json(&value)?;
    }
    Ok(Exit::Success)
}

async fn change(
    ctx: &mut Ctx<'_>,
    id: &str,
    method: Method,
    action: &str,
) -> Result<Exit, Failure> {
    let id = ctx.id(id)?;
    let path = if action == "delete" {
        id.api_path()
    } else {
        format!("{}/{action}", id.api_path())
    };
    ctx.client.call(method, &path).await?;
    if ctx.json {
        ctx.print_json(&json!({ "id": id.to_string(), "action": action, "accepted": true }))?;
    } else {
        let what = if action == "delete" {
            "deleting"
        } else {
            "cancel requested"
        };
        ctx.print(&format!("{id}: {what}"))?;
    }
    Ok(Exit::Success)
}

async fn retry(ctx: &mut Ctx<'_>, id: &str) -> Result<Exit, Failure> {
    let id = ctx.id(id)?;
    let value = ctx
        .client
        .post_json(&format!("{}/retry", id.api_path()), None)
        .await?;
    let detail: client::JobDetail = read(&value, "a job")?;
    let new = server_id(&detail.summary)?;
    if ctx.json {
        ctx.print_json(&value)?;
    } else {
        ctx.print(&new.to_string())?;
    }
    Ok(Exit::Success)
}

async fn clear(ctx: &mut Ctx<'_>) -> Result<Exit, Failure> {
    let value = ctx.client.post_json("/api/v1/clear", None).await?;
    if ctx.json {
        ctx.print_json(&value)?;
        return Ok(Exit::Success);
    }
    let removed: Vec<String> = value
        .get("removed")
        .map(|r| read(r, "a list of removed jobs"))
        .transpose()?
        .unwrap_or_default();
    if removed.is_empty() {
        ctx.note("nothing to clear");
    }
    for id in removed {
        ctx.print(&clean(&id))?;
    }
    Ok(Exit::Success)
}

async fn choices(ctx: &mut Ctx<'_>) -> Result<Exit, Failure> {
    let value = ctx.client.get_json("/api/v1/choices", &[]).await?;
    if ctx.json {
        ctx.print_json(&value)?;
        return Ok(Exit::Success);
    }
    let c: Choices = read(&value, "the choices")?;
    let mut text = format!("template:    {}\nplatforms:\n", clean(&c.template));
    for p in &c.platforms {
        text.push_str(&format!("  {}\n", clean(p)));
    }
    text.push_str(&format!(
        "image types: {}\n",
        clean(&c.image_types.join(" "))
    ));
    ctx.print(&text)?;
    Ok(Exit::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_parses() {
        let cli = Cli::try_parse_from([
            "imgctl",
            "submit",
            "a.ks",
            "--type",
            "raw",
            "--email",
            "a@x.org",
            "--email",
            "b@x.org",
            "--server",
            "http://h:1",
            "-n",
            "team",
        ])
        .expect("submit");
        assert_eq!(cli.server, "http://h:1");
        assert_eq!(cli.namespace.as_deref(), Some("team"));
        let Command::Submit(s) = cli.command else {
            panic!("not submit")
        };
        assert_eq!(s.email, ["a@x.org", "b@x.org"]);
        assert!(
            Cli::try_parse_from(["imgctl", "submit", "--platform", "P", "--overlay", "gcc"])
                .is_ok()
        );
        for bad in [
            &["imgctl", "submit"][..],
            &["imgctl", "submit", "a.ks", "--platform", "P"],
            &["imgctl", "submit", "a.ks", "--overlay", "gcc"],
            &["imgctl", "submit", "a.ks", "--preview", "--wait"],
            &["imgctl", "list", "--per-page", "501"],
            &["imgctl", "list", "--phase", "Sleeping"],
            &["imgctl", "status"],
            &["imgctl", "--output", "yaml", "list"],
        ] {
            let e = Cli::try_parse_from(bad).expect_err(&bad.join(" "));
            assert_eq!(e.exit_code(), 2, "{bad:?}");
        }
        let cli = Cli::try_parse_from(["imgctl", "list", "--phase", "running", "--output", "json"])
            .expect("case-insensitive phase, global --output");
        assert_eq!(cli.output, Output::Json);
    }

    #[tokio::test]
    async fn usage_errors_exit_2_before_any_request() {
        let mut out = Vec::new();
        let mut err = Vec::new();
        // Port 1 would refuse the connection (5): a bad id is caught first.
        let code = run_args(
            ["imgctl", "--server", "http://127.0.0.1:1", "status", "../x"],
            &mut out,
            &mut err,
        )
        .await;
        assert_eq!(code, 2);
        let text = String::from_utf8(err).expect("utf-8");
        assert!(
            text.starts_with("imgctl: \"../x\" is not a job id"),
            "{text}"
        );

        let mut err = Vec::new();
        let code = run_args(
            [
                "imgctl", "--server", "nope", "--output", "json", "status", "x",
            ],
            &mut out,
            &mut err,
        )
        .await;
        assert_eq!(code, 2);
        let value: serde_json::Value = serde_json::from_slice(&err).expect("JSON error");
        assert!(
            value["error"]
                .as_str()
                .is_some_and(|e| e.contains("--server")),
            "{value}"
        );
        assert!(value["errors"].is_array());

        let mut help = Vec::new();
        assert_eq!(run_args(["imgctl", "--help"], &mut help, &mut err).await, 0);
        let help = String::from_utf8(help).expect("utf-8");
        assert!(
            help.contains("Exit codes:") && help.contains("IMG_SERVER"),
            "{help}"
        );
    }

    #[test]
    fn kickstarts_must_be_utf8_and_small() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ok = dir.path().join("ok.ks");
        std::fs::write(&ok, "lang C\n").expect("write");
        assert_eq!(read_kickstart(&ok).expect("reads"), "lang C\n");
        let bad = dir.path().join("bad.ks");
        std::fs::write(&bad, b"lang C\n%packages\nvim\xff\n%end\n").expect("write");
        let e = read_kickstart(&bad).expect_err("latin-1");
        assert_eq!(e.exit, Exit::Usage);
        assert_eq!(e.errors[0].to_text(), "kickstart:3: invalid UTF-8");
        let big = dir.path().join("big.ks");
        std::fs::write(&big, vec![b'#'; MAX_KICKSTART + 1]).expect("write");
        assert_eq!(read_kickstart(&big).expect_err("too big").exit, Exit::Usage);
        let e = read_kickstart(&dir.path().join("absent.ks")).expect_err("absent");
        assert_eq!(e.exit, Exit::Usage);
    }
}
