//! Splits script and expression text into tokens, each with its span. Whitespace and
//! comments (`/* ... */` and `// ...`) separate tokens and are otherwise dropped.

use super::source::{Problem, Span};

/// A token's kind and value.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A name: `source`, `joinType`, `toString`, `true`.
    Ident(String),
    /// A name in braces, `{Rotten Tomato}`, without the braces.
    Braced(String),
    /// An integer; `true` when it has the `L` suffix of a long.
    Int(i64, bool),
    /// A decimal number; `true` when it has the `f` suffix of a float.
    Float(f64, bool),
    /// A single-quoted string, escapes resolved.
    Str(String),
    /// A double-quoted, interpolated string: the raw text between the quotes, and the
    /// byte offset of that text (interpolations are parsed from it).
    Interp(String, usize),
    /// A backquoted regular expression, as written.
    Regex(String),
    /// `$name`, `$$` (as `$`) or `$1` (as `1`).
    Dollar(String),
    /// `#item`, `#index`, `#acc`, ... (and the function after a cache name, `#lookup`).
    Hash(String),
    /// Punctuation and operators.
    Punct(&'static str),
    /// The end of the text.
    Eof,
}

impl Tok {
    /// How the token is named in "expected X, found Y".
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Braced(s) => format!("`{{{s}}}`"),
            Tok::Int(..) | Tok::Float(..) => "a number".into(),
            Tok::Str(_) | Tok::Interp(..) => "a string".into(),
            Tok::Regex(_) => "a regular expression".into(),
            Tok::Dollar(s) => format!("`${s}`"),
            Tok::Hash(s) => format!("`#{s}`"),
            Tok::Punct(p) => format!("`{p}`"),
            Tok::Eof => "the end of the script".into(),
        }
    }
}

/// A token and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// What it is.
    pub tok: Tok,
    /// Where it is.
    pub span: Span,
}

/// Longest first, so that `<=>` wins over `<=` and `~>` over `~`.
const PUNCTS: &[&str] = &[
    "<=>", "~>", "->", "==", "!=", "<=", ">=", "&&", "||", "(", ")", "[", "]", ",", "@", "=", "<",
    ">", "+", "-", "*", "/", "%", "!", "^", "&", "|", "?", ":", ".",
];

/// Tokens of `text`, each span shifted by `base`; problems for characters that start no
/// token. The last token is always [`Tok::Eof`].
pub fn lex(text: &str, base: usize) -> (Vec<Token>, Vec<Problem>) {
    let mut lexer = Lexer {
        text,
        pos: 0,
        base,
        tokens: Vec::new(),
        problems: Vec::new(),
    };
    lexer.run();
    (lexer.tokens, lexer.problems)
}

struct Lexer<'a> {
    text: &'a str,
    pos: usize,
    base: usize,
    tokens: Vec<Token>,
    problems: Vec<Problem>,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.text[self.pos..].chars().nth(n)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn span(&self, start: usize) -> Span {
        Span::new(self.base + start, self.base + self.pos)
    }

    fn push(&mut self, tok: Tok, start: usize) {
        let span = self.span(start);
        self.tokens.push(Token { tok, span });
    }

    fn problem(&mut self, start: usize, message: impl Into<String>, help: &str) {
        let span = self.span(start);
        self.problems.push(Problem::new(span, message).help(help));
    }

    fn run(&mut self) {
        while let Some(c) = self.peek() {
            let start = self.pos;
            if c.is_whitespace() {
                self.bump();
            } else if self.text[self.pos..].starts_with("/*") {
                match self.text[self.pos + 2..].find("*/") {
                    Some(end) => self.pos += end + 4,
                    None => {
                        self.pos = self.text.len();
                        self.problem(start, "the comment is never closed", "end it with `*/`");
                    }
                }
            } else if self.text[self.pos..].starts_with("//") {
                let end = self.text[self.pos..]
                    .find('\n')
                    .unwrap_or(self.text.len() - self.pos);
                self.pos += end;
            } else if c.is_ascii_digit() {
                self.number(start);
            } else if c.is_alphabetic() || c == '_' {
                let name = self.word();
                self.push(Tok::Ident(name), start);
            } else {
                self.other(c, start);
            }
        }
        let end = self.text.len();
        self.tokens.push(Token {
            tok: Tok::Eof,
            span: Span::new(self.base + end, self.base + end),
        });
    }

    fn word(&mut self) -> String {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            self.bump();
        }
        self.text[start..self.pos].to_owned()
    }

    fn other(&mut self, c: char, start: usize) {
        match c {
            '\'' => {
                self.bump();
                let s = self.quoted('\'', start);
                self.push(Tok::Str(s), start);
            }
            '"' => {
                self.bump();
                let inner = self.pos;
                let _ = self.quoted('"', start);
                let raw_end = self.pos.saturating_sub(1).max(inner);
                let raw = self.text[inner..raw_end].to_owned();
                self.push(Tok::Interp(raw, self.base + inner), start);
            }
            '`' => {
                self.bump();
                let inner = self.pos;
                match self.text[inner..].find('`') {
                    Some(end) => {
                        self.pos = inner + end + 1;
                        self.push(Tok::Regex(self.text[inner..inner + end].to_owned()), start);
                    }
                    None => {
                        self.pos = self.text.len();
                        self.problem(
                            start,
                            "the regular expression is never closed",
                            "end it with a backquote",
                        );
                    }
                }
            }
            '{' if matches!(self.tokens.last(), Some(Token { tok: Tok::Ident(w), .. }) if w == "parameters") =>
            {
                // The parameters block: up to the matching brace, skipping strings.
                self.bump();
                let inner = self.pos;
                let (mut depth, mut quote) = (1, None);
                while let Some(c) = self.bump() {
                    match (quote, c) {
                        (Some(q), c) if c == q => quote = None,
                        (Some(_), '\\') => {
                            self.bump();
                        }
                        (Some(_), _) => {}
                        (None, '\'' | '"' | '`') => quote = Some(c),
                        (None, '{') => depth += 1,
                        (None, '}') => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                if depth > 0 {
                    self.problem(
                        start,
                        "the parameters block is never closed",
                        "end it with `}`",
                    );
                    return;
                }
                let body = self.text[inner..self.pos - 1].to_owned();
                self.push(Tok::Braced(body), start);
            }
            '{' => {
                self.bump();
                match self.text[self.pos..].find('}') {
                    Some(end) => {
                        let name = self.text[self.pos..self.pos + end].to_owned();
                        self.pos += end + 1;
                        self.push(Tok::Braced(name), start);
                    }
                    None => {
                        self.pos = self.text.len();
                        self.problem(
                            start,
                            "the name in braces is never closed",
                            "end it with `}`",
                        );
                    }
                }
            }
            '$' => {
                self.bump();
                let name = match self.peek() {
                    Some('$') => {
                        self.bump();
                        "$".to_owned()
                    }
                    Some(c) if c.is_alphanumeric() || c == '_' => self.word(),
                    _ => {
                        self.problem(
                            start,
                            "`$` must be followed by a parameter name",
                            "write `$name`, `$$` or `$1`",
                        );
                        return;
                    }
                };
                self.push(Tok::Dollar(name), start);
            }
            '#' => {
                self.bump();
                if self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    let name = self.word();
                    self.push(Tok::Hash(name), start);
                } else {
                    self.problem(
                        start,
                        "`#` must be followed by a name",
                        "write `#item`, `#index`, `#acc`, ...",
                    );
                }
            }
            _ => {
                let rest = &self.text[self.pos..];
                match PUNCTS
                    .iter()
                    .filter(|p| rest.starts_with(**p))
                    .max_by_key(|p| p.len())
                {
                    Some(p) => {
                        self.pos += p.len();
                        self.push(Tok::Punct(p), start);
                    }
                    None => {
                        self.bump();
                        self.problem(
                            start,
                            format!("unexpected character `{c}`"),
                            "remove it, or quote it inside a string",
                        );
                    }
                }
            }
        }
    }

    /// Reads up to the closing quote (already past the opening one), resolving escapes.
    fn quoted(&mut self, quote: char, start: usize) -> String {
        let mut out = String::new();
        loop {
            match self.bump() {
                None => {
                    self.problem(
                        start,
                        "the string is never closed",
                        &format!("end it with {quote}"),
                    );
                    return out;
                }
                Some(c) if c == quote => return out,
                Some('\\') => match self.bump() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('r') => out.push('\r'),
                    Some(other) => out.push(other),
                    None => {}
                },
                Some(c) => out.push(c),
            }
        }
    }

    fn number(&mut self, start: usize) {
        if self.text[self.pos..].starts_with("0x") || self.text[self.pos..].starts_with("0X") {
            self.pos += 2;
            let digits = self.word();
            let (digits, long) = match digits.strip_suffix(['L', 'l']) {
                Some(d) => (d.to_owned(), true),
                None => (digits, false),
            };
            match i64::from_str_radix(&digits, 16) {
                Ok(v) => self.push(Tok::Int(v, long), start),
                Err(_) => self.problem(
                    start,
                    "not a hexadecimal number",
                    "write 0x followed by 0-9 and a-f",
                ),
            }
            return;
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
        }
        let mut float = false;
        if self.peek() == Some('.') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            float = true;
            self.bump();
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.bump();
            }
        }
        if matches!(self.peek(), Some('e' | 'E'))
            && (self.peek_at(1).is_some_and(|c| c.is_ascii_digit())
                || (matches!(self.peek_at(1), Some('-' | '+'))
                    && self.peek_at(2).is_some_and(|c| c.is_ascii_digit())))
        {
            float = true;
            self.bump();
            self.bump();
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.bump();
            }
        }
        let digits = &self.text[start..self.pos];
        let suffix = match self.peek() {
            Some(c @ ('L' | 'l' | 'f' | 'F' | 'd' | 'D'))
                if !self.peek_at(1).is_some_and(|n| n.is_alphanumeric()) =>
            {
                self.bump();
                Some(c.to_ascii_lowercase())
            }
            _ => None,
        };
        let tok = match suffix {
            Some('l') if !float => digits.parse().map(|v| Tok::Int(v, true)).ok(),
            Some('f') => digits.parse().map(|v| Tok::Float(v, true)).ok(),
            Some('d') => digits.parse().map(|v| Tok::Float(v, false)).ok(),
            _ if float => digits.parse().map(|v| Tok::Float(v, false)).ok(),
            _ => match digits.parse::<i64>() {
                // Integers too wide for an integer are longs, as in Spark.
                Ok(v) => Some(Tok::Int(v, i32::try_from(v).is_err())),
                Err(_) => digits.parse().map(|v| Tok::Float(v, false)).ok(),
            },
        };
        match tok {
            Some(tok) => self.push(tok, start),
            None => self.problem(
                start,
                "not a number",
                "write digits, optionally with `.`, `e`, `L` or `f`",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(text: &str) -> Vec<Tok> {
        let (tokens, problems) = lex(text, 0);
        assert!(problems.is_empty(), "{problems:?}");
        tokens.into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn literals_and_operators() {
        assert_eq!(
            toks("'a\\'b' 1L 0xf4 8.2 2f <=> ~> {a b} $$ $1 #item"),
            vec![
                Tok::Str("a'b".into()),
                Tok::Int(1, true),
                Tok::Int(0xf4, false),
                Tok::Float(8.2, false),
                Tok::Float(2.0, true),
                Tok::Punct("<=>"),
                Tok::Punct("~>"),
                Tok::Braced("a b".into()),
                Tok::Dollar("$".into()),
                Tok::Dollar("1".into()),
                Tok::Hash("item".into()),
                Tok::Eof,
            ]
        );
    }

    #[test]
    fn unclosed_string_is_a_problem() {
        let (_, problems) = lex("'abc", 0);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.contains("never closed"));
    }
}
