//! Expressions, arguments and types: the part of the parser shared by scripts and
//! `mdflow eval`. Precedence climbing over C-like levels (see [`BinOp::precedence`]).

use crate::dataflow::ast::*;
use crate::dataflow::lexer::{lex, Tok};
use crate::dataflow::parser::{Failed, PResult, Parser};
use crate::dataflow::source::Span;

impl Parser {
    /// Arguments up to the closing punctuation `close`, which is consumed.
    pub(crate) fn parse_args(&mut self, close: &str) -> PResult<Vec<Arg>> {
        let mut args = Vec::new();
        if self.eat(close) {
            return Ok(args);
        }
        loop {
            args.push(self.parse_arg()?);
            if self.eat(close) {
                return Ok(args);
            }
            if !self.eat(",") {
                let found = self.peek().describe();
                return Err(self.error_here(
                    format!("expected `,` or `{close}` after an argument, found {found}"),
                    "separate arguments with commas and close every parenthesis",
                ));
            }
        }
    }

    /// `name: value`, `target = value`, `name as type`, or an expression.
    fn parse_arg(&mut self) -> PResult<Arg> {
        if matches!(self.peek(), Tok::Ident(_) | Tok::Braced(_))
            && matches!(self.peek_at(1), Tok::Punct(":"))
        {
            let name = self.parse_name("an option name")?;
            self.bump();
            let value = self.parse_expr()?;
            return Ok(Arg::Opt(name, value));
        }
        let expr = self.parse_expr()?;
        if self.eat("=") {
            let value = self.parse_expr()?;
            return Ok(Arg::Assign(expr, value));
        }
        if matches!(self.peek(), Tok::Ident(w) if w == "as") {
            self.bump();
            let ty = self.parse_type()?;
            return Ok(Arg::Declare(expr, ty));
        }
        Ok(Arg::Positional(expr))
    }

    /// `string`, `decimal(10,2)`, `(a as string, b as integer)`, `string[]`.
    pub(crate) fn parse_type(&mut self) -> PResult<TypeExpr> {
        let start = self.span();
        let mut ty = if self.eat("(") {
            let mut fields = Vec::new();
            loop {
                let name = self.parse_primary()?;
                if !matches!(self.peek(), Tok::Ident(w) if w == "as") {
                    let found = self.peek().describe();
                    return Err(self.error_here(
                        format!("expected `as` and a type after a field name, found {found}"),
                        "declare fields as `name as type`",
                    ));
                }
                self.bump();
                fields.push((name, self.parse_type()?));
                if !self.eat(",") {
                    break;
                }
            }
            self.expect(")", "after the fields of a structure type")?;
            TypeExpr::Struct(fields, start.to(self.prev_span()))
        } else {
            let name = self.parse_name("a type such as `string` or `integer`")?;
            let mut params = Vec::new();
            // Only decimal takes numbers: in `integer (0)` the parenthesis is a default.
            if name.text.eq_ignore_ascii_case("decimal") && self.eat("(") {
                loop {
                    match self.peek().clone() {
                        Tok::Int(v, _) => {
                            self.bump();
                            params.push(v);
                        }
                        other => {
                            return Err(self.error_here(
                                format!(
                                    "expected a number in the type, found {}",
                                    other.describe()
                                ),
                                "write `decimal(precision, scale)`",
                            ))
                        }
                    }
                    if !self.eat(",") {
                        break;
                    }
                }
                self.expect(")", "after the type's numbers")?;
            }
            TypeExpr::Named(name, params)
        };
        while self.is("[") && matches!(self.peek_at(1), Tok::Punct("]")) {
            self.bump();
            self.bump();
            ty = TypeExpr::Array(Box::new(ty));
        }
        Ok(ty)
    }

    /// A whole expression.
    pub(crate) fn parse_expr(&mut self) -> PResult<Expr> {
        self.parse_binary(1)
    }

    fn parse_binary(&mut self, min: u8) -> PResult<Expr> {
        let mut left = self.parse_unary()?;
        while let Some(op) = self.peek_binary(min) {
            self.bump();
            let right = self.parse_binary(op.precedence() + 1)?;
            let span = left.span.to(right.span);
            left = Expr::new(ExprKind::Binary(op, Box::new(left), Box::new(right)), span);
        }
        Ok(left)
    }

    /// The binary operator ahead, when it binds at least as tightly as `min`.
    fn peek_binary(&self, min: u8) -> Option<BinOp> {
        match self.peek() {
            Tok::Punct(p) => BinOp::from_punct(p).filter(|op| op.precedence() >= min),
            _ => None,
        }
    }

    fn parse_unary(&mut self) -> PResult<Expr> {
        let start = self.span();
        let op = if self.eat("!") {
            UnOp::Not
        } else if self.eat("-") {
            UnOp::Neg
        } else {
            return self.parse_postfix();
        };
        let inner = self.parse_unary()?;
        // A minus before a number is part of the number.
        if let (UnOp::Neg, ExprKind::Lit(Lit::Int(v, long))) = (op, &inner.kind) {
            return Ok(Expr::new(
                ExprKind::Lit(Lit::Int(-v, *long)),
                start.to(inner.span),
            ));
        }
        if let (UnOp::Neg, ExprKind::Lit(Lit::Float(v, f))) = (op, &inner.kind) {
            return Ok(Expr::new(
                ExprKind::Lit(Lit::Float(-v, *f)),
                start.to(inner.span),
            ));
        }
        let span = start.to(inner.span);
        Ok(Expr::new(ExprKind::Unary(op, Box::new(inner)), span))
    }

    fn parse_postfix(&mut self) -> PResult<Expr> {
        let mut e = self.parse_primary()?;
        loop {
            if self.eat("[") {
                let index = self.parse_expr()?;
                self.expect("]", "after the index")?;
                let span = e.span.to(self.prev_span());
                e = Expr::new(ExprKind::Index(Box::new(e), Box::new(index)), span);
            } else if self.is("?") {
                self.bump();
                let ty = self.parse_type()?;
                let span = e.span.to(self.prev_span());
                e = Expr::new(ExprKind::Assert(Box::new(e), ty), span);
            } else if matches!(self.peek(), Tok::Punct(".")) {
                self.bump();
                let field = self.parse_name("a field name after `.`")?;
                let span = e.span.to(field.span);
                e = Expr::new(ExprKind::Field(Box::new(e), field), span);
            } else {
                return Ok(e);
            }
        }
    }

    pub(crate) fn parse_primary(&mut self) -> PResult<Expr> {
        let start = self.span();
        let lit = |l| Ok(Expr::new(ExprKind::Lit(l), start));
        match self.peek().clone() {
            Tok::Str(s) => {
                self.bump();
                lit(Lit::Str(s))
            }
            Tok::Regex(s) => {
                self.bump();
                lit(Lit::Regex(s))
            }
            Tok::Int(v, long) => {
                self.bump();
                lit(Lit::Int(v, long))
            }
            Tok::Float(v, f) => {
                self.bump();
                lit(Lit::Float(v, f))
            }
            Tok::Interp(raw, offset) => {
                self.bump();
                let parts = self.parse_interpolation(&raw, offset)?;
                Ok(Expr::new(ExprKind::Interp(parts), start))
            }
            Tok::Dollar(name) => {
                self.bump();
                Ok(Expr::new(ExprKind::Dollar(name), start))
            }
            Tok::Hash(name) => {
                self.bump();
                Ok(Expr::new(ExprKind::Hash(name), start))
            }
            Tok::Braced(name) => {
                self.bump();
                self.column_after(None, name, true, start)
            }
            Tok::Punct(":") if matches!(self.peek_at(1), Tok::Ident(_)) => {
                self.bump();
                let name = self.parse_name("a local name")?;
                Ok(Expr::new(ExprKind::Local(name.text), start.to(name.span)))
            }
            Tok::Punct("(") => {
                self.bump();
                let inner = self.parse_expr()?;
                self.expect(")", "to close the parenthesis")?;
                Ok(inner)
            }
            Tok::Punct("[") => {
                self.bump();
                self.parse_array_or_map(start)
            }
            Tok::Punct("@") if matches!(self.peek_at(1), Tok::Punct("(")) => {
                self.bump();
                self.bump();
                let mut fields = Vec::new();
                if !self.eat(")") {
                    loop {
                        let name = self.parse_name("a field name")?;
                        self.expect("=", "after the field name")?;
                        fields.push((name, self.parse_expr()?));
                        if self.eat(")") {
                            break;
                        }
                        self.expect(",", "between fields")?;
                    }
                }
                Ok(Expr::new(
                    ExprKind::Struct(fields),
                    start.to(self.prev_span()),
                ))
            }
            Tok::Ident(word) => {
                self.bump();
                match word.as_str() {
                    "true" | "false" if !self.is("(") => {
                        return lit(Lit::Bool(word == "true"));
                    }
                    "null" | "NULL" if !self.is("(") => return lit(Lit::Null),
                    _ => {}
                }
                if self.eat("(") {
                    let args = self.parse_args(")")?;
                    let name = Name {
                        text: word,
                        span: start,
                    };
                    return Ok(Expr::new(
                        ExprKind::Call(name, args),
                        start.to(self.prev_span()),
                    ));
                }
                // A cache sink's function: `cache#lookup(...)`.
                if let Tok::Hash(func) = self.peek().clone() {
                    if self.span().start == start.end {
                        self.bump();
                        self.expect("(", "after the cache function")?;
                        let args = self.parse_args(")")?;
                        let name = Name {
                            text: format!("{word}#{func}"),
                            span: start,
                        };
                        return Ok(Expr::new(
                            ExprKind::Call(name, args),
                            start.to(self.prev_span()),
                        ));
                    }
                }
                self.column_after(None, word, false, start)
            }
            other => Err(self.error_here(
                format!("expected an expression, found {}", other.describe()),
                "write a column, a literal, a function call or a parenthesised expression",
            )),
        }
    }

    /// A column name just read; `Stream@column` when `@` follows.
    fn column_after(
        &mut self,
        stream: Option<String>,
        name: String,
        braced: bool,
        start: Span,
    ) -> PResult<Expr> {
        if stream.is_none()
            && self.is("@")
            && matches!(self.peek_at(1), Tok::Ident(_) | Tok::Braced(_))
        {
            self.bump();
            let (column, braced) = match self.bump().tok {
                Tok::Braced(c) => (c, true),
                Tok::Ident(c) => (c, false),
                _ => unreachable!("checked above"),
            };
            return Ok(Expr::new(
                ExprKind::Column {
                    stream: Some(name),
                    name: column,
                    braced,
                },
                start.to(self.prev_span()),
            ));
        }
        Ok(Expr::new(
            ExprKind::Column {
                stream,
                name,
                braced,
            },
            start,
        ))
    }

    fn parse_array_or_map(&mut self, start: Span) -> PResult<Expr> {
        if self.eat("]") {
            return Ok(Expr::new(
                ExprKind::Array(Vec::new()),
                start.to(self.prev_span()),
            ));
        }
        let first = self.parse_expr()?;
        if self.eat("->") {
            let mut pairs = vec![(first, self.parse_expr()?)];
            while self.eat(",") {
                let k = self.parse_expr()?;
                self.expect("->", "between a key and its value")?;
                pairs.push((k, self.parse_expr()?));
            }
            self.expect("]", "to close the map")?;
            return Ok(Expr::new(ExprKind::Map(pairs), start.to(self.prev_span())));
        }
        let mut items = vec![first];
        while self.eat(",") {
            items.push(self.parse_expr()?);
        }
        self.expect("]", "to close the array")?;
        Ok(Expr::new(
            ExprKind::Array(items),
            start.to(self.prev_span()),
        ))
    }

    /// `"text {expr} text"`: text and parsed `{...}` pieces.
    fn parse_interpolation(&mut self, raw: &str, offset: usize) -> PResult<Vec<InterpPart>> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut chars = raw.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, n)) = chars.next() {
                        text.push(match n {
                            'n' => '\n',
                            't' => '\t',
                            other => other,
                        });
                    }
                }
                '{' => {
                    let mut depth = 1;
                    let mut end = None;
                    for (j, d) in chars.by_ref() {
                        match d {
                            '{' => depth += 1,
                            '}' => {
                                depth -= 1;
                                if depth == 0 {
                                    end = Some(j);
                                    break;
                                }
                            }
                            _ => {}
                        }
                    }
                    let Some(end) = end else {
                        let span = Span::new(offset + i, offset + raw.len());
                        self.problems.push(
                            crate::dataflow::source::Problem::new(
                                span,
                                "`{` in the string is never closed",
                            )
                            .help("close the interpolation with `}`, or write `\\{` for a brace"),
                        );
                        return Err(Failed);
                    };
                    if !text.is_empty() {
                        parts.push(InterpPart::Text(std::mem::take(&mut text)));
                    }
                    let (tokens, problems) = lex(&raw[i + 1..end], offset + i + 1);
                    let mut inner = Parser::new(tokens, problems);
                    let e = inner.parse_expr();
                    if inner.problems.is_empty() && !inner.at_eof() {
                        let found = inner.peek().describe();
                        inner.error_here(format!("expected `}}`, found {found}"), "");
                    }
                    let failed = !inner.problems.is_empty();
                    self.problems.append(&mut inner.problems);
                    match e {
                        Ok(e) if !failed => parts.push(InterpPart::Expr(e)),
                        _ => return Err(Failed),
                    }
                }
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            parts.push(InterpPart::Text(text));
        }
        Ok(parts)
    }
}
