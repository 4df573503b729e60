//! Script text with where it came from, spans into it, and problems rendered with the line
//! and a caret under the place.

use std::fmt;
use std::path::PathBuf;

/// A byte range of the script text.
///
/// Spans never take part in equality: two trees are equal when they say the same thing,
/// wherever it was written. This is what lets a printed and re-parsed script compare equal
/// to the original.
#[derive(Debug, Clone, Copy, Default, Eq)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl PartialEq for Span {
    fn eq(&self, _: &Span) -> bool {
        true
    }
}

impl Span {
    /// A span from `start` to `end`.
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// A script and its origin: a `.dfs` file, or the `script`/`scriptLines` of a resource.
#[derive(Debug, Clone)]
pub struct SourceText {
    /// The file it was read from.
    pub file: PathBuf,
    /// How to name the place inside the file: empty for a bare script, `script` or
    /// `scriptLines` for a resource.
    pub within: String,
    /// The script, lines joined with `\n`.
    pub text: String,
}

impl SourceText {
    /// Script text that stands alone (a `.dfs` file, or a command-line expression).
    pub fn new(file: impl Into<PathBuf>, text: impl Into<String>) -> SourceText {
        SourceText {
            file: file.into(),
            within: String::new(),
            text: text.into(),
        }
    }

    /// The 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..floor_char(&self.text, offset)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[line_start..].chars().count() + 1)
    }

    /// The text of a 1-based line.
    pub fn line(&self, line: usize) -> &str {
        self.text.split('\n').nth(line - 1).unwrap_or("")
    }
}

fn floor_char(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// One problem in a script: where, what, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where.
    pub span: Span,
    /// What is wrong, such as "expected `)`, found `,`".
    pub message: String,
    /// How to fix it; may be empty.
    pub help: String,
    /// A warning: the script runs, but probably not as meant.
    pub warning: bool,
}

impl Problem {
    /// A problem without a fix.
    pub fn new(span: Span, message: impl Into<String>) -> Problem {
        Problem {
            span,
            message: message.into(),
            help: String::new(),
            warning: false,
        }
    }

    /// Marks the problem as a warning.
    pub fn warning(mut self) -> Problem {
        self.warning = true;
        self
    }

    /// Adds how to fix it.
    pub fn help(mut self, help: impl Into<String>) -> Problem {
        self.help = help.into();
        self
    }

    /// Renders the problem against its text: file, line and column, the line, a caret.
    pub fn render(&self, source: &SourceText) -> Rendered {
        let (line, column) = source.line_col(self.span.start);
        let text = source.line(line).replace('\t', " ");
        let (_, end_column) = source.line_col(self.span.end.max(self.span.start + 1));
        let width = if source.line_col(self.span.end).0 == line {
            end_column.saturating_sub(column).max(1)
        } else {
            1
        };
        Rendered {
            location: match source.within.as_str() {
                "" => format!("{}:{line}:{column}", source.file.display()),
                within => format!(
                    "{} ({within} line {line}, column {column})",
                    source.file.display()
                ),
            },
            message: self.message.clone(),
            line_number: line,
            line: text,
            caret: format!("{}{}", " ".repeat(column - 1), "^".repeat(width)),
            help: self.help.clone(),
            warning: self.warning,
        }
    }
}

/// A problem laid out for people.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// `file:line:column`.
    pub location: String,
    /// What is wrong.
    pub message: String,
    /// The 1-based line number.
    pub line_number: usize,
    /// The line's text.
    pub line: String,
    /// Spaces and carets under the place.
    pub caret: String,
    /// How to fix it.
    pub help: String,
    /// A warning rather than an error.
    pub warning: bool,
}

impl fmt::Display for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let gutter = self.line_number.to_string().len();
        let pad = " ".repeat(gutter);
        let level = if self.warning { "warning" } else { "error" };
        writeln!(f, "{level}: {}", self.message)?;
        writeln!(f, "{pad}--> {}", self.location)?;
        writeln!(f, "{pad} |")?;
        writeln!(f, "{} | {}", self.line_number, self.line)?;
        write!(f, "{pad} | {}", self.caret)?;
        if !self.help.is_empty() {
            write!(f, "\n{pad} = help: {}", self.help)?;
        }
        Ok(())
    }
}
