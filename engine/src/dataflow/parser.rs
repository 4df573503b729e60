//! The script parser: statements, the parameters block, split outputs. Expressions,
//! arguments and types are parsed in `expr/parse.rs` with the same vocabulary (`peek`,
//! `eat`, `expect`, `parse_*`).
//!
//! After an error the parser skips to the end of the statement (past `~> name`) and goes
//! on, so one run reports every broken statement.

use super::ast::*;
use super::lexer::{lex, Tok, Token};
use super::source::{Problem, Span};

/// Parses a whole script. The tree holds every statement that parsed; problems hold the
/// others, each with its place.
pub fn parse_script(text: &str) -> (Script, Vec<Problem>) {
    let (tokens, problems) = lex(text, 0);
    let mut p = Parser::new(tokens, problems);
    let script = p.parse_script();
    (script, p.problems)
}

/// Parses one expression (for `mdflow eval` and tests).
pub fn parse_expression(text: &str) -> Result<Expr, Vec<Problem>> {
    let (tokens, problems) = lex(text, 0);
    let mut p = Parser::new(tokens, problems);
    let expr = p.parse_expr();
    if p.problems.is_empty() && !p.at_eof() {
        let found = p.peek().describe();
        p.error_here(
            format!("expected the end of the expression, found {found}"),
            "",
        );
    }
    match expr {
        Ok(e) if p.problems.is_empty() => Ok(e),
        _ => Err(p.problems),
    }
}

/// A parse failure already recorded in the parser's problems.
pub(crate) struct Failed;

/// Result of a `parse_*` step.
pub(crate) type PResult<T> = Result<T, Failed>;

pub(crate) struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    pub(crate) problems: Vec<Problem>,
}

impl Parser {
    pub(crate) fn new(tokens: Vec<Token>, problems: Vec<Problem>) -> Parser {
        Parser {
            tokens,
            pos: 0,
            problems,
        }
    }

    pub(crate) fn peek(&self) -> &Tok {
        &self.tokens[self.pos].tok
    }

    pub(crate) fn peek_at(&self, n: usize) -> &Tok {
        &self.tokens[(self.pos + n).min(self.tokens.len() - 1)].tok
    }

    pub(crate) fn span(&self) -> Span {
        self.tokens[self.pos].span
    }

    /// The span of the token before the current one.
    pub(crate) fn prev_span(&self) -> Span {
        self.tokens[self.pos.saturating_sub(1)].span
    }

    pub(crate) fn at_eof(&self) -> bool {
        matches!(self.peek(), Tok::Eof)
    }

    pub(crate) fn bump(&mut self) -> Token {
        let t = self.tokens[self.pos].clone();
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
        t
    }

    pub(crate) fn is(&self, punct: &str) -> bool {
        matches!(self.peek(), Tok::Punct(p) if *p == punct)
    }

    pub(crate) fn eat(&mut self, punct: &str) -> bool {
        if self.is(punct) {
            self.bump();
            true
        } else {
            false
        }
    }

    pub(crate) fn expect(&mut self, punct: &str, context: &str) -> PResult<Span> {
        if self.is(punct) {
            Ok(self.bump().span)
        } else {
            let found = self.peek().describe();
            Err(self.error_here(format!("expected `{punct}` {context}, found {found}"), ""))
        }
    }

    pub(crate) fn error_here(&mut self, message: String, help: &str) -> Failed {
        let span = self.span();
        self.problems.push(Problem::new(span, message).help(help));
        Failed
    }

    /// A name: an identifier or a braced name.
    pub(crate) fn parse_name(&mut self, what: &str) -> PResult<Name> {
        let span = self.span();
        match self.peek().clone() {
            Tok::Ident(text) | Tok::Braced(text) => {
                self.bump();
                Ok(Name { text, span })
            }
            other => {
                Err(self.error_here(format!("expected {what}, found {}", other.describe()), ""))
            }
        }
    }

    fn parse_script(&mut self) -> Script {
        let mut script = Script {
            parameters: Vec::new(),
            statements: Vec::new(),
        };
        if matches!(self.peek(), Tok::Ident(w) if w == "parameters")
            && matches!(self.peek_at(1), Tok::Braced(_))
        {
            self.parse_parameters(&mut script);
        }
        while !self.at_eof() {
            let start = self.pos;
            match self.parse_statement() {
                Ok(s) => script.statements.push(s),
                Err(Failed) => self.recover(start),
            }
        }
        script
    }

    /// `parameters{ a as string ('x'), b as integer }`: the lexer reads the braces as a
    /// braced name, so the block is lexed again on its own.
    fn parse_parameters(&mut self, script: &mut Script) {
        self.bump();
        let block = self.bump();
        let Tok::Braced(inner) = block.tok else {
            return;
        };
        let (tokens, problems) = lex(&inner, block.span.start + 1);
        let mut inner_parser = Parser::new(tokens, problems);
        while !inner_parser.at_eof() {
            match inner_parser.parse_param() {
                Ok(p) => script.parameters.push(p),
                Err(Failed) => break,
            }
            if !inner_parser.eat(",") && !inner_parser.at_eof() {
                let found = inner_parser.peek().describe();
                inner_parser.error_here(
                    format!("expected `,` between parameters, found {found}"),
                    "separate parameters with commas: `a as string, b as integer`",
                );
                break;
            }
        }
        self.problems.append(&mut inner_parser.problems);
    }

    fn parse_param(&mut self) -> PResult<ParamDecl> {
        let name = self.parse_name("a parameter name")?;
        if !matches!(self.peek(), Tok::Ident(w) if w == "as") {
            let found = self.peek().describe();
            return Err(self.error_here(
                format!("expected `as` after the parameter name, found {found}"),
                "declare parameters as `name as type (default)`",
            ));
        }
        self.bump();
        let ty = self.parse_type()?;
        let default = if self.eat("(") {
            let e = self.parse_expr()?;
            self.expect(")", "after the default value")?;
            Some(e)
        } else {
            None
        };
        Ok(ParamDecl { name, ty, default })
    }

    fn parse_statement(&mut self) -> PResult<Statement> {
        let start = self.span();

        // Inputs, then the kind: in `a, b join(...)` the kind is the word before `(`.
        let mut inputs = Vec::new();
        let kind = loop {
            let stream = self.parse_name("a stream name or a transformation")?;
            if self.is("(") {
                break stream;
            }
            let output = if self.eat("@") {
                Some(self.parse_name("a split output name after `@`")?)
            } else {
                None
            };
            inputs.push(StreamRef { stream, output });
            if !self.eat(",") {
                match self.peek().clone() {
                    Tok::Ident(_) if matches!(self.peek_at(1), Tok::Punct("(")) => {
                        break self.parse_name("a transformation")?;
                    }
                    other => {
                        return Err(self.error_here(
                            format!(
                                "expected a transformation such as `select(...)` after the \
                                 input streams, found {}",
                                other.describe()
                            ),
                            "write `input kind(arguments) ~> name`",
                        ))
                    }
                }
            }
        };
        self.expect("(", "after the transformation name")?;
        let args = self.parse_args(")")?;
        let arrow = self.span();
        if !self.eat("~>") {
            let found = self.peek().describe();
            return Err(self.error_here(
                format!(
                    "expected `~>` and the step's name after `{}(...)`, found {found}",
                    kind.text
                ),
                "name every step: `... ~> StepName`",
            ));
        }
        let _ = arrow;
        let name = self.parse_name("the step's name after `~>`")?;
        let mut split = Vec::new();
        if self.eat("@") {
            self.expect("(", "before the split's output names")?;
            loop {
                split.push(self.parse_name("an output name")?);
                if !self.eat(",") {
                    break;
                }
            }
            self.expect(")", "after the split's output names")?;
        }
        Ok(Statement {
            inputs,
            kind,
            args,
            output: Output { name, split },
            span: start.to(self.prev_span()),
        })
    }

    /// Skips past the end of a broken statement: the next `~> name` (and its split
    /// outputs), always moving at least one token.
    fn recover(&mut self, start: usize) {
        if self.pos == start {
            self.bump();
        }
        while !self.at_eof() {
            if self.eat("~>") {
                self.bump();
                if self.eat("@") && self.eat("(") {
                    while !self.at_eof() && !self.eat(")") {
                        self.bump();
                    }
                }
                return;
            }
            self.bump();
        }
    }
}
