//! The completion e-mail (the 2010 "email about completion"): what it says, and the mail
//! server it goes through. Addresses are parsed as single mailboxes and header values are
//! encoded by lettre, so nothing from a job can add a header.

use std::fmt::Write as _;
use std::time::Duration;

use img_crd::{ImageJob, ImageJobStatus, Phase};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::ResourceExt;
use lettre::message::{Mailbox, Message, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::plan::{failure_text, image_url, legacy_id, log_url};
use crate::config::{SmtpConfig, SmtpTls};

/// Why mail cannot be set up or sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// A setting is wrong.
    #[error("{0}")]
    Config(String),
    /// No recipient is a valid address: the mail can never be sent.
    #[error("no valid recipient: {0}")]
    NoRecipient(String),
    /// The message could not be built.
    #[error("cannot build the message: {0}")]
    Build(#[from] lettre::error::Error),
    /// The server refused or could not be reached.
    #[error("{0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    /// The whole delivery took longer than allowed.
    #[error("the mail server did not finish within {0:?}")]
    Timeout(std::time::Duration),
}

impl MailError {
    /// Whether trying again cannot help (a permanent 5xx refusal, or no valid recipient).
    pub fn is_permanent(&self) -> bool {
        match self {
            MailError::Smtp(e) => e.is_permanent(),
            MailError::NoRecipient(_) | MailError::Build(_) => true,
            MailError::Config(_) | MailError::Timeout(_) => false,
        }
    }
}

/// The mail server, with a pool of connections.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// The mailer `config` describes, or `None` when no mail server is configured.
    pub fn new(config: &SmtpConfig) -> Result<Option<Mailer>, MailError> {
        let Some(host) = config.host.as_deref() else {
            return Ok(None);
        };
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| MailError::Config(format!("--mail-from {:?}: {e}", config.from)))?;
        let tls = |host: &str| -> Result<TlsParameters, MailError> {
            let mut builder = TlsParameters::builder(host.to_owned());
            if let Some(file) = &config.ca_file {
                let pem = std::fs::read(file).map_err(|e| {
                    MailError::Config(format!("--smtp-ca-file {}: {e}", file.display()))
                })?;
                for cert in split_pem(&pem) {
                    let cert = Certificate::from_pem(cert.as_bytes()).map_err(|e| {
                        MailError::Config(format!("--smtp-ca-file {}: {e}", file.display()))
                    })?;
                    builder = builder.add_root_certificate(cert);
                }
            }
            Ok(builder.build_rustls()?)
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(config.port())
            .timeout(Some(Duration::from_secs(config.timeout_seconds.max(1))));
        builder = match config.tls {
            SmtpTls::None => builder,
            SmtpTls::Starttls => builder.tls(Tls::Required(tls(host)?)),
            SmtpTls::Tls => builder.tls(Tls::Wrapper(tls(host)?)),
        };
        if let Some(user) = &config.username {
            let password = config.password.clone().unwrap_or_default();
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        Ok(Some(Mailer {
            transport: builder.build(),
            from,
        }))
    }

    /// The sender.
    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    /// Sends `message`.
    pub async fn send(&self, message: Message) -> Result<(), MailError> {
        self.transport.send(message).await?;
        Ok(())
    }
}

/// The PEM certificates in `pem`, one string each.
fn split_pem(pem: &[u8]) -> Vec<String> {
    const END: &str = "-----END CERTIFICATE-----";
    let text = String::from_utf8_lossy(pem);
    text.split_inclusive(END)
        .filter(|c| c.contains(END))
        .map(|c| c.trim().to_owned())
        .collect()
}

/// Whole seconds between two times, if both are known.
fn seconds(from: Option<&Time>, to: Option<&Time>) -> Option<i64> {
    Some(to?.0.duration_since(from?.0).as_secs().max(0))
}

/// `1 h 2 min 3 s`.
fn human(secs: i64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s} s"),
        (0, _) => format!("{m} min {s} s"),
        _ => format!("{h} h {m} min {s} s"),
    }
}

/// The subject: `[IMG] <namespace>/<name> (<type>): <phase>`. Control characters are
/// replaced; lettre encodes the rest.
pub fn subject(job: &ImageJob) -> String {
    let status = job.status.clone().unwrap_or_default();
    let kind = status.image_type.map_or("image", |t| t.as_str());
    let phase = status.phase.map_or("ended", Phase::as_str);
    let text = format!(
        "[IMG] {}/{} ({kind}): {phase}",
        job.namespace().unwrap_or_default(),
        job.name_any()
    );
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The text of the mail: result, links, the 2010 id, and how long each part took.
pub fn body(job: &ImageJob, public_url: Option<&str>) -> String {
    let status: ImageJobStatus = job.status.clone().unwrap_or_default();
    let mut text = String::new();
    let name = format!("{}/{}", job.namespace().unwrap_or_default(), job.name_any());
    let kind = status.image_type.map_or("image", |t| t.as_str());
    let _ = match status.phase {
        Some(Phase::Succeeded) => writeln!(text, "Your {kind} image {name} is ready."),
        Some(Phase::Cancelled) => writeln!(text, "Your {kind} image job {name} was cancelled."),
        _ => writeln!(text, "Your {kind} image job {name} failed."),
    };
    text.push('\n');
    if status.phase == Some(Phase::Succeeded) {
        if let Some(url) = image_url(job, public_url) {
            let _ = writeln!(text, "Download: {url}");
        }
        for a in &status.artifacts {
            let _ = writeln!(text, "  {}  {} bytes  sha256 {}", a.name, a.size, a.sha256);
        }
    } else {
        let _ = writeln!(text, "Error: {}", failure_text(&status));
    }
    let _ = writeln!(text, "Log: {}", log_url(job, public_url));
    text.push('\n');
    let _ = writeln!(text, "Job id: {}", legacy_id(job));
    let _ = writeln!(text, "Image type: {kind}");
    if let Some(ks) = &status.kickstart {
        if let Some(conf) = &ks.configuration {
            let _ = writeln!(text, "Configuration: {conf}");
        }
        let _ = writeln!(text, "Kickstart sha256: {}", ks.sha256);
    }
    let created = job.metadata.creation_timestamp.as_ref();
    let queued = status.queued_time.as_ref().or(created);
    if let Some(s) = seconds(queued, status.start_time.as_ref()) {
        let _ = writeln!(text, "Waited in the queue: {}", human(s));
    }
    if let Some(s) = seconds(status.start_time.as_ref(), status.completion_time.as_ref()) {
        let _ = writeln!(text, "Build took: {}", human(s));
    }
    for stage in &status.stages {
        if let Some(s) = seconds(stage.started_at.as_ref(), stage.finished_at.as_ref()) {
            let _ = writeln!(text, "  {:<12} {}", stage.name.as_str(), human(s));
        }
    }
    text.push_str("\n-- \nIMG, the image build service\n");
    text
}

/// The completion mail of `job` to its `spec.notify.email` addresses. Addresses that are not
/// one plain mailbox each are left out (admission refuses them; this is the second lock).
pub fn compose(
    job: &ImageJob,
    from: &Mailbox,
    public_url: Option<&str>,
) -> Result<Message, MailError> {
    let mut builder = Message::builder()
        .from(from.clone())
        .subject(subject(job))
        .header(ContentType::TEXT_PLAIN);
    let mut any = false;
    let mut refused = Vec::new();
    for address in &job.spec.notify.email {
        let clean = img_crd::Notify::is_address(address);
        match address.parse::<Mailbox>() {
            Ok(mailbox) if clean && mailbox.name.is_none() => {
                builder = builder.to(mailbox);
                any = true;
            }
            _ => refused.push(format!("{address:?}")),
        }
    }
    if !any {
        return Err(MailError::NoRecipient(refused.join(", ")));
    }
    Ok(builder.body(body(job, public_url))?)
}

#[cfg(test)]
#[path = "email_tests.rs"]
mod tests;
