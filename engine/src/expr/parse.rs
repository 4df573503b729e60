//! Parser of the pipeline expression language: the text after `@` (or inside `@{...}`)
//! becomes an [`Ast`] whose nodes carry the byte offset they start at, so that errors can
//! point into the expression.

use super::ExprError;

/// One node of a parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Ast {
    /// `'text'`, with `''` standing for one quote.
    Str(String),
    /// A whole number.
    Int(i64),
    /// A number with a fraction.
    Float(f64),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// `name(args...)`.
    Call {
        name: String,
        args: Vec<Ast>,
        at: usize,
    },
    /// `target.name`.
    Member {
        target: Box<Ast>,
        name: String,
        at: usize,
    },
    /// `target[index]`.
    Index {
        target: Box<Ast>,
        index: Box<Ast>,
        at: usize,
    },
}

/// Parses one whole expression (without its leading `@`).
pub(crate) fn parse(text: &str) -> Result<Ast, ExprError> {
    let mut parser = Parser { text, pos: 0 };
    let ast = parser.parse_expr()?;
    parser.skip_ws();
    if parser.pos < text.len() {
        return Err(parser.error(format!(
            "expected the end of the expression, found `{}`",
            parser.rest_preview()
        )));
    }
    Ok(ast)
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, message: String) -> ExprError {
        ExprError::new(message, self.text, self.pos)
    }

    fn rest_preview(&self) -> String {
        self.text[self.pos..].chars().take(12).collect()
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += self.peek().map_or(0, char::len_utf8);
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char, what: &str) -> Result<(), ExprError> {
        if self.eat(c) {
            return Ok(());
        }
        let found = match self.peek() {
            Some(_) => format!("`{}`", self.rest_preview()),
            None => "the end of the expression".to_owned(),
        };
        Err(self.error(format!("expected `{c}` {what}, found {found}")))
    }

    fn parse_expr(&mut self) -> Result<Ast, ExprError> {
        let mut node = self.parse_primary()?;

        // Postfix property access and indexing bind to whatever came before them.
        loop {
            self.skip_ws();
            let at = self.pos;
            if self.eat('.') {
                self.skip_ws();
                let name = self.ident()?;
                node = Ast::Member {
                    target: Box::new(node),
                    name,
                    at,
                };
            } else if self.eat('[') {
                let index = self.parse_expr()?;
                self.expect(']', "to close the index")?;
                node = Ast::Index {
                    target: Box::new(node),
                    index: Box::new(index),
                    at,
                };
            } else if self.peek() == Some('?') {
                // `?.` (null-safe access) behaves like `.` here: missing members are null.
                self.pos += 1;
            } else {
                return Ok(node);
            }
        }
    }

    fn parse_primary(&mut self) -> Result<Ast, ExprError> {
        self.skip_ws();
        let at = self.pos;
        match self.peek() {
            Some('\'') => self.string(),
            Some(c) if c.is_ascii_digit() || c == '-' => self.number(),
            Some(c) if c.is_alphabetic() || c == '_' => {
                let name = self.ident()?;
                match name.as_str() {
                    "true" => return Ok(Ast::Bool(true)),
                    "false" => return Ok(Ast::Bool(false)),
                    "null" => return Ok(Ast::Null),
                    _ => {}
                }
                self.expect('(', &format!("after the function name `{name}`"))?;
                let mut args = Vec::new();
                if !self.eat(')') {
                    loop {
                        args.push(self.parse_expr()?);
                        if self.eat(')') {
                            break;
                        }
                        self.expect(',', &format!("or `)` in the arguments of `{name}`"))?;
                    }
                }
                Ok(Ast::Call { name, args, at })
            }
            Some(_) => Err(self.error(format!(
                "expected a function call, a 'string' or a number, found `{}`",
                self.rest_preview()
            ))),
            None => Err(self.error("expected an expression, found nothing".to_owned())),
        }
    }

    fn ident(&mut self) -> Result<String, ExprError> {
        let rest = &self.text[self.pos..];
        let len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
            .unwrap_or(rest.len());
        if len == 0 {
            return Err(self.error(format!("expected a name, found `{}`", self.rest_preview())));
        }
        self.pos += len;
        Ok(rest[..len].to_owned())
    }

    fn string(&mut self) -> Result<Ast, ExprError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                self.pos = start;
                return Err(self.error("this string is never closed with `'`".to_owned()));
            };
            self.pos += c.len_utf8();
            if c == '\'' {
                // Two quotes in a row are one quote inside the string.
                if self.peek() == Some('\'') {
                    self.pos += 1;
                    out.push('\'');
                } else {
                    return Ok(Ast::Str(out));
                }
            } else {
                out.push(c);
            }
        }
    }

    fn number(&mut self) -> Result<Ast, ExprError> {
        let start = self.pos;
        let rest = &self.text[start..];
        let len = rest
            .char_indices()
            .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || (i == 0 && c == '-')))
            .map_or(rest.len(), |(i, _)| i);
        let token = &rest[..len];
        if let Ok(n) = token.parse::<i64>() {
            self.pos += len;
            return Ok(Ast::Int(n));
        }
        if let Ok(n) = token.parse::<f64>() {
            self.pos += len;
            return Ok(Ast::Float(n));
        }
        Err(self.error(format!("expected a number, found `{token}`")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_calls_members_and_indexes() {
        let ast = parse("concat(pipeline().parameters.x, 'a''b', 3)").unwrap();
        let Ast::Call { name, args, .. } = ast else {
            panic!("not a call")
        };
        assert_eq!(name, "concat");
        assert_eq!(args.len(), 3);
        assert_eq!(args[1], Ast::Str("a'b".into()));
        assert_eq!(args[2], Ast::Int(3));
        assert!(matches!(
            parse("pipeline().parameters['x']").unwrap(),
            Ast::Index { .. }
        ));
    }

    #[test]
    fn errors_say_what_was_expected_and_where() {
        let err = parse("concat('a' 'b')").unwrap_err();
        assert!(err.message.contains("expected `,` or `)`"), "{err}");
        assert_eq!(err.offset, 11);
        let err = parse("concat('a").unwrap_err();
        assert!(err.message.contains("never closed"), "{err}");
        assert!(parse("utcnow() x")
            .unwrap_err()
            .message
            .contains("end of the expression"));
    }
}
