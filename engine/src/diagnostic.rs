//! Problems found in a factory, each located by file and JSON pointer and paired with a fix.

use std::fmt;
use std::path::PathBuf;

/// How bad a problem is: errors stop a run, warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Something works differently from what the author may expect.
    Warning,
    /// The factory cannot run as written.
    Error,
}

/// One problem in a factory.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The file the problem is in.
    pub file: PathBuf,
    /// Where in the file: a JSON pointer such as `/properties/activities/0/typeProperties`,
    /// or `line L, column C` for malformed JSON.
    pub pointer: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub fix: String,
}

impl Diagnostic {
    /// An error at a place in a file.
    pub fn error(
        file: impl Into<PathBuf>,
        pointer: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Error,
            file: file.into(),
            pointer: pointer.into(),
            message: message.into(),
            fix: fix.into(),
        }
    }

    /// A warning at a place in a file.
    pub fn warning(
        file: impl Into<PathBuf>,
        pointer: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(file, pointer, message, fix)
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{level}: {}: {}\n  at {}\n  fix: {}",
            self.file.display(),
            self.message,
            if self.pointer.is_empty() {
                "/"
            } else {
                &self.pointer
            },
            self.fix
        )
    }
}
