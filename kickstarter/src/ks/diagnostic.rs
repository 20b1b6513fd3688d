//! Problems found while reading a kickstart, with the file and line they
//! belong to, and the bounded collector the parser reports them to.

use std::fmt;

use serde::Serialize;

/// How bad a [`Diagnostic`] is.
///
/// Only errors make a kickstart unusable; warnings point at things that mic
/// accepts but that are probably not what the author meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The kickstart must not be queued for a build.
    Error,
    /// The kickstart is usable, but something looks wrong.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// One problem, located by file and 1-based line.
///
/// `line` is 0 when the problem concerns a whole file (for example a file
/// that is too large to be read at all).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Diagnostic {
    /// The display name of the file: the name given to [`crate::ks::parse`]
    /// or the one an [`crate::ks::IncludeResolver`] returned for an include.
    pub file: String,
    /// 1-based line number inside `file`, or 0 for the whole file.
    pub line: u32,
    /// Error or warning.
    pub severity: Severity,
    /// Human readable description, without the location.
    pub message: String,
}

impl Diagnostic {
    /// True for [`Severity::Error`].
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    /// Formats as `FILE:LINE: error: message` (compiler style, so editors can
    /// jump to it), or `FILE: error: message` for whole-file problems.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}: {}", self.file, self.severity, self.message)
        } else {
            write!(
                f,
                "{}:{}: {}: {}",
                self.file, self.line, self.severity, self.message
            )
        }
    }
}

/// Collects diagnostics up to a fixed number.
///
/// Hostile input could otherwise produce one diagnostic per line and turn a
/// small upload into a large response; once the cap is reached one final
/// error says so and the parser stops reading.
#[derive(Debug)]
pub(crate) struct Sink {
    list: Vec<Diagnostic>,
    max: usize,
    full: bool,
}

impl Sink {
    /// A sink that keeps at most `max` diagnostics (plus the final notice).
    pub(crate) fn new(max: usize) -> Self {
        Sink {
            list: Vec::new(),
            max: max.max(1),
            full: false,
        }
    }

    /// Records an error.
    pub(crate) fn error(&mut self, file: &str, line: u32, message: impl Into<String>) {
        self.push(file, line, Severity::Error, message.into());
    }

    /// Records a warning.
    pub(crate) fn warning(&mut self, file: &str, line: u32, message: impl Into<String>) {
        self.push(file, line, Severity::Warning, message.into());
    }

    fn push(&mut self, file: &str, line: u32, severity: Severity, message: String) {
        if self.full {
            return;
        }
        self.list.push(Diagnostic {
            file: file.to_string(),
            line,
            severity,
            message,
        });
        if self.list.len() >= self.max {
            self.full = true;
            self.list.push(Diagnostic {
                file: file.to_string(),
                line,
                severity: Severity::Error,
                message: format!(
                    "too many problems; stopped reading after {} of them",
                    self.max
                ),
            });
        }
    }

    /// True once the cap was reached; the parser stops reading then.
    pub(crate) fn is_full(&self) -> bool {
        self.full
    }

    /// The collected diagnostics, in the order they were found.
    pub(crate) fn into_vec(self) -> Vec<Diagnostic> {
        self.list
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_compiler_style() {
        let d = Diagnostic {
            file: "a.ks".into(),
            line: 7,
            severity: Severity::Error,
            message: "unknown command 'foo'".into(),
        };
        assert_eq!(d.to_string(), "a.ks:7: error: unknown command 'foo'");
        let whole = Diagnostic {
            line: 0,
            severity: Severity::Warning,
            ..d
        };
        assert_eq!(whole.to_string(), "a.ks: warning: unknown command 'foo'");
    }

    #[test]
    fn sink_stops_at_the_cap_with_a_final_error() {
        let mut sink = Sink::new(3);
        for line in 1..=10 {
            sink.warning("x.ks", line, "w");
        }
        assert!(sink.is_full());
        let list = sink.into_vec();
        assert_eq!(list.len(), 4);
        assert_eq!(
            list[3].message,
            "too many problems; stopped reading after 3 of them"
        );
        assert_eq!(list[3].severity, Severity::Error);
    }
}
