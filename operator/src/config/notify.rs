//! Settings of the notification side: the AMQP bridge (the 2010 queues, both directions), the
//! mail server, and how failed notifications are retried.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

/// The AMQP bridge. Without `--amqp-url` there is none.
#[derive(Debug, Clone, Args)]
pub struct AmqpConfig {
    /// The broker, as an AMQP URI (`amqp://user:password@host:5672/%2f`, or `amqps://` for
    /// TLS). Absent: no AMQP bridge. Keep it in a Secret: it carries the password.
    #[arg(long = "amqp-url", env = "IMG_AMQP_URL", hide_env_values = true)]
    pub url: Option<String>,

    /// Consume `kickstarter_queue` and `image_queue` and turn their messages into ImageJobs
    /// (the results are always published). `--amqp-ingress=false` turns ingress off.
    #[arg(
        long = "amqp-ingress",
        env = "IMG_AMQP_INGRESS",
        default_value_t = true,
        action = clap::ArgAction::Set
    )]
    pub ingress: bool,

    /// The namespace where jobs that arrive over AMQP are created.
    #[arg(
        long = "amqp-ingress-namespace",
        env = "IMG_AMQP_INGRESS_NAMESPACE",
        default_value = "default"
    )]
    pub ingress_namespace: String,

    /// A template ConfigMap (in the ingress namespace) whose `repos.yaml` and companion files
    /// complete the kickstarter configurations that arrive on `kickstarter_queue`. Absent: those
    /// of the example template built into IMG.
    #[arg(long = "amqp-template-configmap", env = "IMG_AMQP_TEMPLATE_CONFIGMAP")]
    pub template_config_map: Option<String>,

    /// How many ingress messages are worked on at once (the consumers' prefetch).
    #[arg(
        long = "amqp-prefetch",
        env = "IMG_AMQP_PREFETCH",
        default_value_t = 32
    )]
    pub prefetch: u16,

    /// Ingress messages larger than this many bytes are refused to the dead-letter queue (an
    /// ImageJob, like any Kubernetes object, must stay well under etcd's 1.5 MiB).
    #[arg(
        long = "amqp-max-message-bytes",
        env = "IMG_AMQP_MAX_MESSAGE_BYTES",
        default_value_t = 1024 * 1024
    )]
    pub max_message_bytes: usize,

    /// Where refused ingress messages go, with the reason in the `x-img-reason` header.
    #[arg(
        long = "amqp-dead-letter-queue",
        env = "IMG_AMQP_DEAD_LETTER_QUEUE",
        default_value = "img_dead_letter_queue"
    )]
    pub dead_letter_queue: String,

    /// The longest wait between reconnection attempts when the broker is away, in seconds.
    #[arg(
        long = "amqp-reconnect-max-seconds",
        env = "IMG_AMQP_RECONNECT_MAX_SECONDS",
        default_value_t = 30
    )]
    pub reconnect_max_seconds: u64,
}

impl AmqpConfig {
    /// The longest reconnection delay.
    pub fn reconnect_max(&self) -> Duration {
        Duration::from_secs(self.reconnect_max_seconds.max(1))
    }
}

/// How the connection to the mail server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SmtpTls {
    /// Plain SMTP (a relay on the same host or a trusted network only).
    None,
    /// SMTP upgraded with STARTTLS, which must succeed (submission, port 587).
    Starttls,
    /// SMTP inside TLS from the first byte (SMTPS, port 465).
    Tls,
}

impl SmtpTls {
    /// The usual port for this mode.
    pub fn default_port(self) -> u16 {
        match self {
            SmtpTls::None => 25,
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
        }
    }
}

/// The mail server. Without `--smtp-host` no e-mail is sent.
#[derive(Debug, Clone, Args)]
pub struct SmtpConfig {
    /// The mail server's host name. Absent: no e-mail.
    #[arg(long = "smtp-host", env = "IMG_SMTP_HOST")]
    pub host: Option<String>,

    /// Its port (default: 25, 587 or 465 by --smtp-tls).
    #[arg(long = "smtp-port", env = "IMG_SMTP_PORT")]
    pub port: Option<u16>,

    /// none, starttls or tls.
    #[arg(
        long = "smtp-tls",
        env = "IMG_SMTP_TLS",
        value_enum,
        default_value = "starttls"
    )]
    pub tls: SmtpTls,

    /// A PEM file of CA certificates to trust besides the system's (a private mail server).
    #[arg(long = "smtp-ca-file", env = "IMG_SMTP_CA_FILE")]
    pub ca_file: Option<PathBuf>,

    /// The user name to log in with (from a Secret). Absent: no login.
    #[arg(long = "smtp-username", env = "IMG_SMTP_USERNAME")]
    pub username: Option<String>,

    /// The password (from a Secret).
    #[arg(
        long = "smtp-password",
        env = "IMG_SMTP_PASSWORD",
        hide_env_values = true
    )]
    pub password: Option<String>,

    /// The sender of IMG's mail (`IMG <img@example.org>`).
    #[arg(
        long = "mail-from",
        env = "IMG_MAIL_FROM",
        default_value = "IMG <img@localhost>"
    )]
    pub from: String,

    /// How long one delivery attempt may take, in seconds.
    #[arg(
        id = "smtp_timeout_seconds",
        long = "smtp-timeout-seconds",
        env = "IMG_SMTP_TIMEOUT_SECONDS",
        default_value_t = 30
    )]
    pub timeout_seconds: u64,

    /// Give up on a job's e-mail after this many failed attempts.
    #[arg(
        long = "smtp-max-attempts",
        env = "IMG_SMTP_MAX_ATTEMPTS",
        default_value_t = 10
    )]
    pub max_attempts: u32,
}

impl SmtpConfig {
    /// The port in effect.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or_else(|| self.tls.default_port())
    }
}

/// When notifications are sent and retried.
#[derive(Debug, Clone, Args)]
pub struct NotifyConfig {
    /// The first delay before a failed notification is tried again, in milliseconds; it
    /// doubles with each failure up to --notify-backoff-max-seconds.
    #[arg(
        long = "notify-backoff-ms",
        env = "IMG_NOTIFY_BACKOFF_MS",
        default_value_t = 5000
    )]
    pub backoff_ms: u64,

    /// The longest delay between two attempts, in seconds.
    #[arg(
        long = "notify-backoff-max-seconds",
        env = "IMG_NOTIFY_BACKOFF_MAX_SECONDS",
        default_value_t = 600
    )]
    pub backoff_max_seconds: u64,

    /// Jobs that ended longer ago than this (in seconds) are not notified about any more: an
    /// operator that starts with notifications newly configured does not mail about old jobs.
    #[arg(
        long = "notify-max-age-seconds",
        env = "IMG_NOTIFY_MAX_AGE_SECONDS",
        default_value_t = 24 * 3600
    )]
    pub max_age_seconds: u64,

    /// How long a job past its ttlSecondsAfterFinished is kept for notifications still being
    /// retried, in seconds (then it is deleted anyway).
    #[arg(
        long = "notify-ttl-grace-seconds",
        env = "IMG_NOTIFY_TTL_GRACE_SECONDS",
        default_value_t = 3600
    )]
    pub ttl_grace_seconds: u64,
}

impl NotifyConfig {
    /// The delay before attempt `failures + 1`, after `failures` failed attempts (at least one).
    pub fn backoff(&self, failures: u32) -> Duration {
        let first = Duration::from_millis(self.backoff_ms.max(1));
        let max = Duration::from_secs(self.backoff_max_seconds.max(1));
        first
            .saturating_mul(1 << failures.saturating_sub(1).min(20))
            .min(max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_limit() {
        let n = NotifyConfig {
            backoff_ms: 1000,
            backoff_max_seconds: 10,
            max_age_seconds: 0,
            ttl_grace_seconds: 0,
        };
        let secs: Vec<u64> = (1..=6).map(|f| n.backoff(f).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 10, 10]);
        assert_eq!(n.backoff(u32::MAX).as_secs(), 10);
    }
}
