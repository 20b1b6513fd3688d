//! The one error type of the template side of the crate: every problem names the file and,
//! where there is one, the line and column it concerns.

use std::fmt;

use crate::yaml::Mark;

/// What went wrong while loading, merging or rendering kickstarter templates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The file the problem is in (as the user named it).
    pub file: String,
    /// Where in the file; line 0 when the problem concerns the file as a whole.
    pub mark: Mark,
    /// What is wrong, in words that name the key, item or section concerned.
    pub message: String,
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error about `file` at `mark`.
    pub fn new(file: impl Into<String>, mark: Mark, message: impl Into<String>) -> Self {
        Error {
            file: file.into(),
            mark,
            message: message.into(),
        }
    }

    /// An error about a whole file (or a file that could not be read).
    pub fn file(file: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(file, Mark::default(), message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mark.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.mark.line, self.mark.col, self.message
            )
        }
    }
}

impl std::error::Error for Error {}
