//! `userScopeFilterUri`: a Microsoft Graph users query whose `$filter` picks the mailboxes a
//! copy extracts, such as
//! `https://graph.microsoft.com/v1.0/users?$filter=Department eq 'Finance'`.
//!
//! The supported subset of OData: `eq` and `ne` against a string literal or `null`,
//! `in ('a', 'b')`, `startswith(prop, 'x')` and `endswith(prop, 'x')`, joined by `and`,
//! `or`, `not` and parentheses. Properties are those of [`DirectoryUser::property`], names
//! ignore case, and so do string comparisons, as Graph's do for directory properties.

use super::odata::Query;
use super::{DirectoryUser, TenantError};

/// Properties a filter may name, as Graph spells them.
const PROPERTIES: [&str; 9] = [
    "id",
    "userPrincipalName",
    "mail",
    "displayName",
    "department",
    "jobTitle",
    "officeLocation",
    "country",
    "usageLocation",
];

/// A parsed user filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFilter {
    expr: Expr,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    /// `prop eq 'v'`, or `prop eq null` when the value is `None`.
    Eq(&'static str, Option<String>),
    In(&'static str, Vec<String>),
    StartsWith(&'static str, String),
    EndsWith(&'static str, String),
}

impl UserFilter {
    /// Whether a user passes the filter.
    pub fn matches(&self, user: &DirectoryUser) -> bool {
        self.expr.eval(user)
    }
}

impl Expr {
    fn eval(&self, user: &DirectoryUser) -> bool {
        let lower = |p: &str| user.property(p).map(str::to_lowercase);
        match self {
            Expr::And(a, b) => a.eval(user) && b.eval(user),
            Expr::Or(a, b) => a.eval(user) || b.eval(user),
            Expr::Not(a) => !a.eval(user),
            Expr::Eq(p, None) => user.property(p).is_none(),
            Expr::Eq(p, Some(v)) => lower(p).is_some_and(|x| x == v.to_lowercase()),
            Expr::In(p, vs) => lower(p).is_some_and(|x| vs.iter().any(|v| x == v.to_lowercase())),
            Expr::StartsWith(p, v) => lower(p).is_some_and(|x| x.starts_with(&v.to_lowercase())),
            Expr::EndsWith(p, v) => lower(p).is_some_and(|x| x.ends_with(&v.to_lowercase())),
        }
    }
}

/// Parses a `userScopeFilterUri`: the URL (encoded or not) of a Graph users query with a
/// `$filter` parameter.
pub fn parse_user_scope(uri: &str) -> Result<UserFilter, TenantError> {
    let filter = filter_param(uri)?;
    let tokens = tokenize(&filter).map_err(|(msg, at)| bad(&filter, &msg, at))?;
    let mut parser = Parser {
        filter: &filter,
        tokens,
        pos: 0,
    };
    let expr = parser.parse_or()?;
    if let Some(t) = parser.peek() {
        let found = t.kind.describe();
        let at = t.at;
        return Err(bad(
            &filter,
            &format!("expected `and`, `or` or the end, found {found}"),
            at,
        ));
    }
    Ok(UserFilter { expr })
}

/// Finds and decodes the `$filter` parameter, with the same query parsing the emulator uses
/// (a `&` inside a quoted literal of an unencoded URI does not end the parameter).
fn filter_param(uri: &str) -> Result<String, TenantError> {
    let query = uri.split_once('?').map_or(uri, |(_, q)| q);
    let query = Query::parse(query).map_err(TenantError::BadUserScope)?;
    match query.get("$filter") {
        Some(value) if value.trim().is_empty() => Err(TenantError::BadUserScope(
            "the $filter parameter is empty".into(),
        )),
        Some(value) => Ok(value.to_owned()),
        None => Err(TenantError::BadUserScope(format!(
            "expected a $filter query parameter in `{uri}`, such as \
             https://graph.microsoft.com/v1.0/users?$filter=department eq 'Finance'"
        ))),
    }
}

/// An error pointing at a byte offset of the filter, with a caret under it.
fn bad(filter: &str, message: &str, at: usize) -> TenantError {
    let column = filter[..at.min(filter.len())].chars().count();
    TenantError::BadUserScope(format!(
        "{message} at column {} of $filter\n  {filter}\n  {}^",
        column + 1,
        " ".repeat(column)
    ))
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum TokenKind {
    Word(String),
    Str(String),
    LParen,
    RParen,
    Comma,
}

impl TokenKind {
    fn describe(&self) -> String {
        match self {
            TokenKind::Word(w) => format!("`{w}`"),
            TokenKind::Str(s) => format!("the string '{s}'"),
            TokenKind::LParen => "`(`".into(),
            TokenKind::RParen => "`)`".into(),
            TokenKind::Comma => "`,`".into(),
        }
    }
}

#[derive(Debug, Clone)]
struct Token {
    kind: TokenKind,
    at: usize,
}

fn tokenize(text: &str) -> Result<Vec<Token>, (String, usize)> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(at, c)) = chars.peek() {
        let kind = match c {
            c if c.is_whitespace() => {
                chars.next();
                continue;
            }
            '(' | ')' | ',' => {
                chars.next();
                match c {
                    '(' => TokenKind::LParen,
                    ')' => TokenKind::RParen,
                    _ => TokenKind::Comma,
                }
            }
            '\'' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        // `''` inside a literal is one quote.
                        Some((_, '\'')) if chars.peek().is_some_and(|&(_, c)| c == '\'') => {
                            chars.next();
                            s.push('\'');
                        }
                        Some((_, '\'')) => break,
                        Some((_, c)) => s.push(c),
                        None => return Err(("expected a closing `'`".into(), text.len())),
                    }
                }
                TokenKind::Str(s)
            }
            c if c.is_alphanumeric() || c == '_' || c == '$' => {
                let mut w = String::new();
                while let Some(&(_, c)) = chars.peek() {
                    if c.is_alphanumeric() || c == '_' || c == '.' || c == '$' {
                        w.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                TokenKind::Word(w)
            }
            other => return Err((format!("unexpected character `{other}`"), at)),
        };
        tokens.push(Token { kind, at });
    }
    Ok(tokens)
}

struct Parser<'a> {
    filter: &'a str,
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn here(&self) -> usize {
        self.peek().map_or(self.filter.len(), |t| t.at)
    }

    fn found(&self) -> String {
        self.peek()
            .map_or_else(|| "the end".into(), |t| t.kind.describe())
    }

    fn error(&self, expected: &str) -> TenantError {
        bad(
            self.filter,
            &format!("expected {expected}, found {}", self.found()),
            self.here(),
        )
    }

    /// Consumes a keyword (any case) if it comes next.
    fn eat_word(&mut self, word: &str) -> bool {
        let hit = matches!(self.peek(), Some(Token { kind: TokenKind::Word(w), .. })
            if w.eq_ignore_ascii_case(word));
        self.pos += usize::from(hit);
        hit
    }

    fn expect(&mut self, kind: TokenKind) -> Result<(), TenantError> {
        if self.peek().map(|t| &t.kind) == Some(&kind) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(&kind.describe()))
        }
    }

    fn parse_or(&mut self) -> Result<Expr, TenantError> {
        let mut left = self.parse_and()?;
        while self.eat_word("or") {
            left = Expr::Or(Box::new(left), Box::new(self.parse_and()?));
        }
        Ok(left)
    }

    fn parse_and(&mut self) -> Result<Expr, TenantError> {
        let mut left = self.parse_unary()?;
        while self.eat_word("and") {
            left = Expr::And(Box::new(left), Box::new(self.parse_unary()?));
        }
        Ok(left)
    }

    fn parse_unary(&mut self) -> Result<Expr, TenantError> {
        if self.eat_word("not") {
            return Ok(Expr::Not(Box::new(self.parse_unary()?)));
        }
        if self.peek().map(|t| &t.kind) == Some(&TokenKind::LParen) {
            self.pos += 1;
            let inner = self.parse_or()?;
            self.expect(TokenKind::RParen)?;
            return Ok(inner);
        }
        for (name, make) in [
            (
                "startswith",
                Expr::StartsWith as fn(&'static str, String) -> Expr,
            ),
            ("endswith", Expr::EndsWith),
        ] {
            if self.eat_word(name) {
                self.expect(TokenKind::LParen)?;
                let prop = self.parse_property()?;
                self.expect(TokenKind::Comma)?;
                let value = self.parse_string()?;
                self.expect(TokenKind::RParen)?;
                return Ok(make(prop, value));
            }
        }
        self.parse_comparison()
    }

    fn parse_comparison(&mut self) -> Result<Expr, TenantError> {
        let prop = self.parse_property()?;
        if self.eat_word("eq") {
            Ok(Expr::Eq(prop, self.parse_value()?))
        } else if self.eat_word("ne") {
            Ok(Expr::Not(Box::new(Expr::Eq(prop, self.parse_value()?))))
        } else if self.eat_word("in") {
            self.expect(TokenKind::LParen)?;
            let mut values = vec![self.parse_string()?];
            while self.peek().map(|t| &t.kind) == Some(&TokenKind::Comma) {
                self.pos += 1;
                values.push(self.parse_string()?);
            }
            self.expect(TokenKind::RParen)?;
            Ok(Expr::In(prop, values))
        } else {
            Err(self.error("`eq`, `ne` or `in`"))
        }
    }

    fn parse_property(&mut self) -> Result<&'static str, TenantError> {
        if let Some(Token {
            kind: TokenKind::Word(w),
            at,
        }) = self.peek()
        {
            let at = *at;
            let known = PROPERTIES.iter().find(|p| p.eq_ignore_ascii_case(w));
            return match known {
                Some(p) => {
                    self.pos += 1;
                    Ok(p)
                }
                None => {
                    let list = PROPERTIES.join(", ");
                    let msg = format!("expected a user property ({list}), found `{w}`");
                    Err(bad(self.filter, &msg, at))
                }
            };
        }
        Err(self.error("a user property"))
    }

    fn parse_string(&mut self) -> Result<String, TenantError> {
        if let Some(Token {
            kind: TokenKind::Str(s),
            ..
        }) = self.peek()
        {
            let s = s.clone();
            self.pos += 1;
            return Ok(s);
        }
        Err(self.error("a quoted string such as 'Finance'"))
    }

    fn parse_value(&mut self) -> Result<Option<String>, TenantError> {
        if self.eat_word("null") {
            Ok(None)
        } else {
            self.parse_string().map(Some)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(department: &str, country: Option<&str>) -> DirectoryUser {
        DirectoryUser {
            id: "1".into(),
            user_principal_name: "AdeleV@contoso.com".into(),
            mail: "AdeleV@contoso.com".into(),
            display_name: "Adele Vance".into(),
            department: Some(department.into()),
            job_title: Some("Accountant".into()),
            office_location: None,
            country: country.map(str::to_owned),
            usage_location: Some("US".into()),
        }
    }

    fn matches(uri: &str, u: &DirectoryUser) -> bool {
        parse_user_scope(uri)
            .unwrap_or_else(|e| panic!("{uri}: {e}"))
            .matches(u)
    }

    const BASE: &str = "https://graph.microsoft.com/v1.0/users?$filter=";

    #[test]
    fn plain_and_encoded_equality() {
        let finance = user("Finance", Some("United States"));
        assert!(matches(&format!("{BASE}Department eq 'Finance'"), &finance));
        assert!(matches(&format!("{BASE}department eq 'finance'"), &finance));
        assert!(!matches(
            &format!("{BASE}Department ne 'Finance'"),
            &finance
        ));
        let encoded =
            "https://graph.microsoft.com/v1.0/users?%24filter=Department%20eq%20%27Finance%27";
        assert!(matches(encoded, &finance));
        assert!(matches(
            &format!("{BASE}Department+eq+'Finance'&$top=999"),
            &finance
        ));
    }

    #[test]
    fn boolean_operators_functions_and_in() {
        let u = user("Sales & Marketing", None);
        assert!(matches(
            &format!("{BASE}department eq 'Sales & Marketing'"),
            &u
        ));
        let uri = format!(
            "{BASE}(department eq 'Finance' or startswith(department,'sales')) and country eq null"
        );
        assert!(matches(&uri, &u));
        assert!(matches(&format!("{BASE}usageLocation in ('GB', 'US')"), &u));
        assert!(!matches(
            &format!("{BASE}not (usageLocation in ('US'))"),
            &u
        ));
        assert!(matches(&format!("{BASE}endswith(mail,'@contoso.com')"), &u));
        // `and` binds tighter than `or`.
        assert!(matches(
            &format!("{BASE}jobTitle eq 'Accountant' or id eq '2' and id eq '3'"),
            &u
        ));
    }

    #[test]
    fn doubled_quotes_escape_a_quote() {
        let u = user("Women's Health", None);
        assert!(matches(
            &format!("{BASE}department eq 'Women''s Health'"),
            &u
        ));
    }

    #[test]
    fn errors_say_what_was_expected_and_where() {
        let err = parse_user_scope(&format!("{BASE}department eq Finance")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("expected a quoted string"), "{text}");
        assert!(text.contains("found `Finance` at column 15"), "{text}");
        assert!(text.contains("\n                ^"), "{text}");

        let err = parse_user_scope(&format!("{BASE}salary eq '1'"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("expected a user property") && err.contains("`salary`"),
            "{err}"
        );
        let err = parse_user_scope(&format!("{BASE}(department eq 'x'"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("expected `)`, found the end"), "{err}");
        let err = parse_user_scope(&format!("{BASE}department eq 'x"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("closing `'`"), "{err}");
        let err = parse_user_scope("https://graph.microsoft.com/v1.0/users").unwrap_err();
        assert!(err.to_string().contains("expected a $filter"), "{err}");
        let err = parse_user_scope(&format!("{BASE}department eq 'x' department")).unwrap_err();
        assert!(
            err.to_string().contains("expected `and`, `or` or the end"),
            "{err}"
        );
    }
}
