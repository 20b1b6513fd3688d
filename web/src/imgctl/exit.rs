//! Exit codes a script can rely on, and the failures that lead to them: a message, the
//! problems at fields the server named (kickstart lines), and how they print (text or JSON).

use serde::{Deserialize, Serialize};

/// The exit codes of `imgctl` (`--help` and the README list them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Exit {
    /// 0: success (for `wait`: the job Succeeded).
    Success,
    /// 1: the job Failed.
    JobFailed,
    /// 2: usage error or bad input (an invalid id, a refused submission: 400, 409, 413, 422,
    /// a local file that cannot be read or written).
    Usage,
    /// 3: the job was Cancelled.
    JobCancelled,
    /// 4: not found (404: no such job, artifact or file).
    NotFound,
    /// 5: server or network error (connection refused, 5xx, timeouts, an answer that makes
    /// no sense).
    Server,
    /// 6: unauthorized or forbidden (401, 403).
    Denied,
    /// 7: `wait --timeout` expired before the job ended.
    Timeout,
    /// 8: a download's size or SHA-256 does not match the job's status.
    Checksum,
}

/// The exit code table as `--help` shows it.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success (wait, submit --wait: the job Succeeded)
  1  the job Failed
  2  usage error or bad input: invalid id, submission refused (400/409/413/422, each
     problem printed as FIELD[:LINE]: MESSAGE, e.g. kickstart:12: unknown command),
     a local file that cannot be read or written
  3  the job was Cancelled
  4  not found (404: no such job or artifact)
  5  server or network error (connection refused, 5xx, timeouts)
  6  unauthorized or forbidden (401/403)
  7  wait --timeout expired
  8  download size or sha256 mismatch

Environment:
  IMG_SERVER  the frontend's base URL (--server)
  IMG_USER    the user name sent as X-Forwarded-User (--user)";

impl Exit {
    /// The process exit code.
    pub fn code(self) -> i32 {
        match self {
            Exit::Success => 0,
            Exit::JobFailed => 1,
            Exit::Usage => 2,
            Exit::JobCancelled => 3,
            Exit::NotFound => 4,
            Exit::Server => 5,
            Exit::Denied => 6,
            Exit::Timeout => 7,
            Exit::Checksum => 8,
        }
    }

    /// The exit code for an HTTP error status.
    pub fn from_status(status: u16) -> Exit {
        match status {
            400 | 409 | 413 | 422 => Exit::Usage,
            401 | 403 => Exit::Denied,
            404 | 410 => Exit::NotFound,
            // 408 is the server's own request timeout; anything else unexpected is the
            // server's (or a proxy's) doing.
            _ => Exit::Server,
        }
    }

    /// The exit code for a job that ended in `phase`; `None` while it has not ended.
    pub fn of_phase(phase: &str) -> Option<Exit> {
        match phase {
            "Succeeded" => Some(Exit::Success),
            "Failed" => Some(Exit::JobFailed),
            "Cancelled" => Some(Exit::JobCancelled),
            _ => None,
        }
    }
}

/// A problem the server found at a field of a submission (the API's `FieldError`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldProblem {
    /// `kickstart`, `platform`, `overlay`, `imageType`, `email`, `namespace`; empty: the
    /// request as a whole.
    #[serde(default)]
    pub field: String,
    /// 1-based kickstart line.
    #[serde(default)]
    pub line: Option<u32>,
    /// What is wrong.
    pub message: String,
}

impl FieldProblem {
    /// `field:line: message`, `field: message` or `message`.
    pub fn to_text(&self) -> String {
        let message = clean(&self.message);
        match (self.field.as_str(), self.line) {
            ("", _) => message,
            (field, Some(line)) => format!("{}:{line}: {message}", clean(field)),
            (field, None) => format!("{}: {message}", clean(field)),
        }
    }
}

/// Why a command did not succeed: its exit code, a message and the problems by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The exit code.
    pub exit: Exit,
    /// What went wrong.
    pub error: String,
    /// The problems at fields (a refused submission), possibly none.
    pub errors: Vec<FieldProblem>,
}

impl Failure {
    /// A failure with `exit` and a message.
    pub fn new(exit: Exit, error: impl Into<String>) -> Failure {
        Failure {
            exit,
            error: error.into(),
            errors: Vec::new(),
        }
    }

    /// A usage error or bad input (2).
    pub fn usage(error: impl Into<String>) -> Failure {
        Failure::new(Exit::Usage, error)
    }

    /// A server or network error (5).
    pub fn server(error: impl Into<String>) -> Failure {
        Failure::new(Exit::Server, error)
    }

    /// The field problems worth printing after the message: the server repeats a plain
    /// error as one problem without a field, which need not be printed twice.
    fn extra_problems(&self) -> impl Iterator<Item = &FieldProblem> {
        self.errors
            .iter()
            .filter(|p| !(p.field.is_empty() && p.line.is_none() && p.message == self.error))
    }

    /// The text for standard error: `imgctl: <error>`, then one line per problem
    /// (`kickstart:12: unknown command`).
    pub fn to_text(&self) -> String {
        let mut text = format!("imgctl: {}\n", clean(&self.error));
        for p in self.extra_problems() {
            text.push_str(&p.to_text());
            text.push('\n');
        }
        text
    }

    /// The JSON for standard error, as the API writes errors: `{"error", "errors"}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "error": self.error, "errors": self.errors })
    }
}

/// `s` safe to print on a terminal: control characters (escape sequences, carriage returns
/// from a hostile kickstart or server) are shown escaped, tabs kept.
pub fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() && c != '\t' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_exit_codes() {
        let cases = [
            (400, 2),
            (409, 2),
            (413, 2),
            (422, 2),
            (401, 6),
            (403, 6),
            (404, 4),
            (408, 5),
            (500, 5),
            (502, 5),
            (503, 5),
        ];
        for (status, code) in cases {
            assert_eq!(Exit::from_status(status).code(), code, "{status}");
        }
        assert_eq!(Exit::of_phase("Succeeded"), Some(Exit::Success));
        assert_eq!(Exit::of_phase("Failed").map(Exit::code), Some(1));
        assert_eq!(Exit::of_phase("Cancelled").map(Exit::code), Some(3));
        assert_eq!(Exit::of_phase("Running"), None);
        assert_eq!(Exit::Timeout.code(), 7);
        assert_eq!(Exit::Checksum.code(), 8);
    }

    #[test]
    fn every_code_is_in_the_help() {
        for exit in [
            Exit::Success,
            Exit::JobFailed,
            Exit::Usage,
            Exit::JobCancelled,
            Exit::NotFound,
            Exit::Server,
            Exit::Denied,
            Exit::Timeout,
            Exit::Checksum,
        ] {
            assert!(
                EXIT_CODES_HELP.contains(&format!("\n  {}  ", exit.code())),
                "{exit:?}"
            );
        }
    }

    #[test]
    fn problems_print_with_field_and_line() {
        let f = Failure {
            exit: Exit::Usage,
            error: "the submission has 3 problem(s)".into(),
            errors: vec![
                FieldProblem {
                    field: "kickstart".into(),
                    line: Some(12),
                    message: "unknown command \"frobnicate\"".into(),
                },
                FieldProblem {
                    field: "imageType".into(),
                    line: None,
                    message: "unknown image type floppy".into(),
                },
                FieldProblem {
                    field: String::new(),
                    line: None,
                    message: "and this\x1b[31m".into(),
                },
            ],
        };
        assert_eq!(
            f.to_text(),
            "imgctl: the submission has 3 problem(s)\n\
             kickstart:12: unknown command \"frobnicate\"\n\
             imageType: unknown image type floppy\n\
             and this\\u{1b}[31m\n"
        );
        let json = f.to_json();
        assert_eq!(json["errors"][0]["line"], 12);
        assert_eq!(json["errors"][1]["line"], serde_json::Value::Null);
        assert_eq!(json["error"], "the submission has 3 problem(s)");
    }

    #[test]
    fn a_plain_error_is_not_repeated() {
        let f = Failure {
            exit: Exit::NotFound,
            error: "no job default/nope".into(),
            errors: vec![FieldProblem {
                field: String::new(),
                line: None,
                message: "no job default/nope".into(),
            }],
        };
        assert_eq!(f.to_text(), "imgctl: no job default/nope\n");
        assert_eq!(f.to_json()["errors"].as_array().map(Vec::len), Some(1));
    }
}
