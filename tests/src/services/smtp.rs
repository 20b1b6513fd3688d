//! A real SMTP server (aiosmtpd, `tests/python/smtp_server.py`) on a loopback port that
//! delivers into a Maildir the test reads. It can require STARTTLS with a self-signed
//! certificate made here with `openssl`, and AUTH; it can be stopped and started again on the
//! same port (a mail server that is down for a while).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, bail};
use nix::sys::signal::Signal;

use super::python::python;
use super::{Process, free_port, repo_root};

/// How the server is set up.
#[derive(Debug, Clone, Default)]
pub struct SmtpOptions {
    /// Offer and require STARTTLS with a certificate for 127.0.0.1 and `localhost`.
    pub starttls: bool,
    /// Speak TLS from the first byte (SMTPS) with that certificate instead.
    pub implicit_tls: bool,
    /// Require AUTH with this user and password.
    pub login: Option<(String, String)>,
}

/// A running (or stopped) mail server.
pub struct SmtpServer {
    dir: tempfile::TempDir,
    port: u16,
    options: SmtpOptions,
    process: Option<Process>,
    starts: u32,
}

impl SmtpServer {
    /// Starts a server with `options` on a free port.
    pub fn start(options: SmtpOptions) -> anyhow::Result<SmtpServer> {
        let dir = tempfile::Builder::new().prefix("img-smtp-").tempdir()?;
        let mut server = SmtpServer {
            port: free_port()?,
            dir,
            options,
            process: None,
            starts: 0,
        };
        if server.options.starttls || server.options.implicit_tls {
            server.make_certificate()?;
        }
        server.start_again()?;
        Ok(server)
    }

    /// A CA and a server certificate it signed for 127.0.0.1 and `localhost` (a certificate
    /// that is its own CA is refused by rustls as an end entity).
    fn make_certificate(&self) -> anyhow::Result<()> {
        let dir = self.dir.path();
        let ext = dir.join("server.ext");
        std::fs::write(
            &ext,
            "basicConstraints=critical,CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
        )?;
        let openssl = |args: &[&str]| -> anyhow::Result<()> {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(dir)
                .output()
                .context("running openssl")?;
            if !out.status.success() {
                bail!(
                    "openssl {args:?} failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            Ok(())
        };
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=IMG test CA",
            "-keyout",
            "ca-key.pem",
            "-out",
            "ca.pem",
        ])?;
        openssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "key.pem",
            "-out",
            "server.csr",
        ])?;
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca-key.pem",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "cert.pem",
        ])
    }

    /// The CA that signed the server's certificate (PEM), for the client to trust.
    pub fn ca_certificate(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The server's certificate (PEM).
    fn certificate(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }

    fn key(&self) -> PathBuf {
        self.dir.path().join("key.pem")
    }

    /// Starts it again (after [`SmtpServer::stop`]) on the same port.
    pub fn start_again(&mut self) -> anyhow::Result<()> {
        self.starts += 1;
        let mut command = Command::new(python()?);
        command
            .arg(repo_root().join("tests/python/smtp_server.py"))
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", self.port))
            .arg("--maildir")
            .arg(self.maildir());
        if self.options.starttls || self.options.implicit_tls {
            command
                .arg("--tls-cert")
                .arg(self.certificate())
                .arg("--tls-key")
                .arg(self.key());
        }
        if self.options.implicit_tls {
            command.arg("--smtps");
        }
        if let Some((user, password)) = &self.options.login {
            command
                .arg("--user")
                .arg(user)
                .arg("--password")
                .arg(password);
        }
        let log = self.dir.path().join(format!("server-{}.log", self.starts));
        let mut process = Process::spawn("smtp_server.py", command, &log)?;
        process.wait_listening(self.port, Duration::from_secs(30))?;
        self.process = Some(process);
        Ok(())
    }

    /// Stops it (mail sent meanwhile is refused at the TCP level).
    pub fn stop(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.kill(Signal::SIGTERM, Duration::from_secs(10));
        }
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    fn maildir(&self) -> PathBuf {
        self.dir.path().join("Maildir")
    }

    /// The messages delivered so far, oldest first, as text (headers and body, the body as
    /// sent: see [`decoded`]).
    pub fn messages(&self) -> Vec<String> {
        read_maildir(&self.maildir().join("new"))
    }
}

/// `message` (headers and body) with a quoted-printable body decoded, so a test can look
/// for a long link that the transfer encoding folded (`=` at the end of a line) or escaped.
pub fn decoded(message: &str) -> String {
    let quoted = message
        .lines()
        .take_while(|l| !l.is_empty())
        .any(|l| l.eq_ignore_ascii_case("Content-Transfer-Encoding: quoted-printable"));
    if !quoted {
        return message.to_owned();
    }
    let joined = message.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'=')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Every file in `dir`, ordered by modification time, as text.
fn read_maildir(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .flatten()
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    files.sort();
    files
        .into_iter()
        .filter_map(|(_, path)| std::fs::read_to_string(path).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::decoded;

    #[test]
    fn a_quoted_printable_body_is_unfolded_and_unescaped() {
        let sent = "Subject: x\nContent-Transfer-Encoding: quoted-printable\n\n\
                    Download: http://127.0.0.1:1/images/default/job-a/job-a-2026120=\n\
                    61347-sda.raw\nSize =3D 3 =E2=80=94 ok\n";
        let got = decoded(sent);
        assert!(
            got.contains(
                "Download: http://127.0.0.1:1/images/default/job-a/job-a-202612061347-sda.raw\n"
            ),
            "{got}"
        );
        assert!(got.contains("Size = 3 \u{2014} ok"), "{got}");
        let plain = "Subject: x\n\nA=3D stays\n";
        assert_eq!(decoded(plain), plain);
    }
}
