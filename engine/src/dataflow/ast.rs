//! The syntax tree of a data flow script, with a span on every node.
//!
//! The tree keeps what was written, not what it means: statements in their order,
//! arguments as written (positional expressions, `name = value` assignments, `name: value`
//! options, `name as type` declarations, and clauses such as `output(...)`, which are
//! calls whose arguments are themselves arguments).

use super::source::Span;

/// A whole script.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    /// The `parameters{...}` block, in order.
    pub parameters: Vec<ParamDecl>,
    /// Every statement, in the order written.
    pub statements: Vec<Statement>,
}

/// One data flow parameter: `name as type (default)`.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamDecl {
    /// Its name, read as `$name`.
    pub name: Name,
    /// Its declared type.
    pub ty: TypeExpr,
    /// Its default value, an expression.
    pub default: Option<Expr>,
}

/// A name and where it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Name {
    /// The name, braces removed.
    pub text: String,
    /// Where.
    pub span: Span,
}

/// One statement: `in1, in2 kind(args) ~> output`. A source has no inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The input streams.
    pub inputs: Vec<StreamRef>,
    /// The transformation kind: `source`, `select`, `join`, ...
    pub kind: Name,
    /// Its arguments.
    pub args: Vec<Arg>,
    /// The name (or names, for a split) of its output.
    pub output: Output,
    /// The whole statement.
    pub span: Span,
}

/// A stream a statement reads: `name`, or one output of a split, `Split@name`.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamRef {
    /// The statement's name.
    pub stream: Name,
    /// The split output, for `Split@name`.
    pub output: Option<Name>,
}

impl StreamRef {
    /// The stream's name as the graph knows it: `name` or `Split@name`.
    pub fn key(&self) -> String {
        match &self.output {
            Some(o) => format!("{}@{}", self.stream.text, o.text),
            None => self.stream.text.clone(),
        }
    }
}

/// The output of a statement: `~> name`, or for a split `~> name@(a, b, c)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// The statement's name.
    pub name: Name,
    /// The split's output names, in order.
    pub split: Vec<Name>,
}

/// One argument of a transformation or clause.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// A positional expression: `a == b`, `groupBy(x)`, `asc(x, true)`.
    Positional(Expr),
    /// An assignment: `total = sum(x)`; the target may itself be an expression in column
    /// patterns (`$$ + '_x' = $$`).
    Assign(Expr, Expr),
    /// An option: `joinType: 'inner'`.
    Opt(Name, Expr),
    /// A declaration: `id as string` in `output(...)`.
    Declare(Expr, TypeExpr),
}

/// A type in `output(...)`, `input(...)`, a parameter or a type assertion.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeExpr {
    /// `string`, `integer`, `decimal(10, 2)`, ...
    Named(Name, Vec<i64>),
    /// `(a as string, b as (c as integer))`.
    Struct(Vec<(Expr, TypeExpr)>, Span),
    /// `string[]`.
    Array(Box<TypeExpr>),
}

/// An expression with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where.
    pub span: Span,
}

/// Kinds of expression.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A literal value.
    Lit(Lit),
    /// `"text {expr} text"`.
    Interp(Vec<InterpPart>),
    /// A column: plain `name`, braced `{a name}`, or `Stream@column`.
    Column {
        /// `Stream@` prefix.
        stream: Option<String>,
        /// The column's name.
        name: String,
        /// Written in braces.
        braced: bool,
    },
    /// `$name`, `$$` (as `$`), `$1` (as `1`).
    Dollar(String),
    /// `#item`, `#index`, `#acc`, `#key`, `#value`, `#item1`, ...
    Hash(String),
    /// `:local`.
    Local(String),
    /// `!x`, `-x`.
    Unary(UnOp, Box<Expr>),
    /// `a + b`, ...
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `f(args)`, a clause, or a cache function `cache#lookup(args)`.
    Call(Name, Vec<Arg>),
    /// `a[i]`.
    Index(Box<Expr>, Box<Expr>),
    /// `a.b`.
    Field(Box<Expr>, Name),
    /// `expr ? type`.
    Assert(Box<Expr>, TypeExpr),
    /// `[a, b]`.
    Array(Vec<Expr>),
    /// `['k' -> 'v']`.
    Map(Vec<(Expr, Expr)>),
    /// `@(name = value, ...)`.
    Struct(Vec<(Name, Expr)>),
}

/// A literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    /// `'text'`.
    Str(String),
    /// `` `regex` ``.
    Regex(String),
    /// `10` (an integer) or `10L` (a long, `true`).
    Int(i64, bool),
    /// `8.2` (a double) or `8.2f` (a float, `true`).
    Float(f64, bool),
    /// `true`, `false`.
    Bool(bool),
    /// `null`.
    Null,
}

/// A piece of an interpolated string.
#[derive(Debug, Clone, PartialEq)]
pub enum InterpPart {
    /// Text as written.
    Text(String),
    /// `{expr}`.
    Expr(Expr),
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    /// `!`
    Not,
    /// `-`
    Neg,
}

/// Binary operators, loosest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `||`
    Or,
    /// `&&`
    And,
    /// `|` (bitwise)
    BitOr,
    /// `^` (xor)
    Xor,
    /// `&` (bitwise)
    BitAnd,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<=>` (equal ignoring case)
    EqIgnoreCase,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        use BinOp::*;
        match self {
            Or => "||",
            And => "&&",
            BitOr => "|",
            Xor => "^",
            BitAnd => "&",
            Eq => "==",
            Ne => "!=",
            EqIgnoreCase => "<=>",
            Lt => "<",
            Le => "<=",
            Gt => ">",
            Ge => ">=",
            Add => "+",
            Sub => "-",
            Mul => "*",
            Div => "/",
            Rem => "%",
        }
    }

    /// Binding strength: higher binds tighter (C-like, inferred).
    pub fn precedence(self) -> u8 {
        use BinOp::*;
        match self {
            Or => 1,
            And => 2,
            BitOr => 3,
            Xor => 4,
            BitAnd => 5,
            Eq | Ne | EqIgnoreCase => 6,
            Lt | Le | Gt | Ge => 7,
            Add | Sub => 8,
            Mul | Div | Rem => 9,
        }
    }

    /// The operator a punctuation token stands for.
    pub fn from_punct(p: &str) -> Option<BinOp> {
        use BinOp::*;
        Some(match p {
            "||" => Or,
            "&&" => And,
            "|" => BitOr,
            "^" => Xor,
            "&" => BitAnd,
            "==" => Eq,
            "!=" => Ne,
            "<=>" => EqIgnoreCase,
            "<" => Lt,
            "<=" => Le,
            ">" => Gt,
            ">=" => Ge,
            "+" => Add,
            "-" => Sub,
            "*" => Mul,
            "/" => Div,
            "%" => Rem,
            _ => return None,
        })
    }
}

impl Expr {
    /// An expression of `kind` at `span`.
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        Expr { kind, span }
    }

    /// The name, when the expression is a plain or braced column without a stream.
    pub fn as_name(&self) -> Option<&str> {
        match &self.kind {
            ExprKind::Column {
                stream: None, name, ..
            } => Some(name),
            _ => None,
        }
    }

    /// The call's name and arguments, when the expression is a call.
    pub fn as_call(&self) -> Option<(&str, &[Arg])> {
        match &self.kind {
            ExprKind::Call(name, args) => Some((name.text.as_str(), args)),
            _ => None,
        }
    }
}

impl Expr {
    /// A reference to the column `name`, as `{name}` would write it (any name is allowed).
    pub fn column(name: &str, span: Span) -> Expr {
        Expr::new(
            ExprKind::Column {
                stream: None,
                name: name.to_owned(),
                braced: true,
            },
            span,
        )
    }

    /// Calls `f` on this expression and every expression inside it, outermost first.
    pub fn visit_mut(&mut self, f: &mut dyn FnMut(&mut Expr)) {
        f(self);
        match &mut self.kind {
            ExprKind::Lit(_)
            | ExprKind::Column { .. }
            | ExprKind::Dollar(_)
            | ExprKind::Hash(_)
            | ExprKind::Local(_) => {}
            ExprKind::Interp(parts) => {
                for p in parts {
                    if let InterpPart::Expr(e) = p {
                        e.visit_mut(f);
                    }
                }
            }
            ExprKind::Unary(_, x) | ExprKind::Assert(x, _) | ExprKind::Field(x, _) => {
                x.visit_mut(f)
            }
            ExprKind::Binary(_, l, r) | ExprKind::Index(l, r) => {
                l.visit_mut(f);
                r.visit_mut(f);
            }
            ExprKind::Call(_, args) => {
                for a in args {
                    a.visit_mut(f);
                }
            }
            ExprKind::Array(items) => {
                for x in items {
                    x.visit_mut(f);
                }
            }
            ExprKind::Map(pairs) => {
                for (k, v) in pairs {
                    k.visit_mut(f);
                    v.visit_mut(f);
                }
            }
            ExprKind::Struct(fields) => {
                for (_, v) in fields {
                    v.visit_mut(f);
                }
            }
        }
    }
}

impl Arg {
    /// Calls `f` on every expression of the argument (see [`Expr::visit_mut`]).
    pub fn visit_mut(&mut self, f: &mut dyn FnMut(&mut Expr)) {
        match self {
            Arg::Positional(e) | Arg::Opt(_, e) | Arg::Declare(e, _) => e.visit_mut(f),
            Arg::Assign(target, e) => {
                target.visit_mut(f);
                e.visit_mut(f);
            }
        }
    }
}

impl Statement {
    /// The option `name: value`, by name, ignoring case.
    pub fn option(&self, name: &str) -> Option<&Expr> {
        option(&self.args, name)
    }

    /// Whether the statement is a cache sink (`sink(store: 'cache', ...)`), whose rows
    /// stay in memory for other steps' `Name#lookup(...)` instead of going to a dataset.
    pub fn is_cache_sink(&self) -> bool {
        self.kind.text.eq_ignore_ascii_case("sink")
            && matches!(
                self.option("store").map(|e| &e.kind),
                Some(ExprKind::Lit(Lit::Str(s))) if s.eq_ignore_ascii_case("cache")
            )
    }

    /// The cache sinks whose functions (`Cache#lookup(...)`) the statement's expressions
    /// call, each once, where first called: the statement runs after those sinks.
    pub fn caches_read(&self) -> Vec<Name> {
        let mut args = self.args.clone();
        let mut names: Vec<Name> = Vec::new();
        for a in &mut args {
            a.visit_mut(&mut |e| {
                if let ExprKind::Call(n, _) = &e.kind {
                    if let Some((cache, _)) = n.text.split_once('#') {
                        if !names.iter().any(|k| k.text.eq_ignore_ascii_case(cache)) {
                            names.push(Name {
                                text: cache.to_owned(),
                                span: n.span,
                            });
                        }
                    }
                }
            });
        }
        names
    }

    /// Whether any expression of the statement calls `function` (ignoring case).
    pub fn calls(&self, function: &str) -> bool {
        let mut args = self.args.clone();
        let mut found = false;
        for a in &mut args {
            a.visit_mut(&mut |e| {
                if let ExprKind::Call(n, _) = &e.kind {
                    found |= n.text.eq_ignore_ascii_case(function);
                }
            });
        }
        found
    }

    /// The first clause `name(...)` among the positional arguments.
    pub fn clause(&self, name: &str) -> Option<&[Arg]> {
        clause(&self.args, name)
    }
}

/// The option `name: value` among `args`, ignoring case.
pub fn option<'a>(args: &'a [Arg], name: &str) -> Option<&'a Expr> {
    args.iter().find_map(|a| match a {
        Arg::Opt(n, v) if n.text.eq_ignore_ascii_case(name) => Some(v),
        _ => None,
    })
}

/// The first clause `name(...)` among the positional arguments of `args`.
pub fn clause<'a>(args: &'a [Arg], name: &str) -> Option<&'a [Arg]> {
    args.iter().find_map(|a| match a {
        Arg::Positional(e) => match e.as_call() {
            Some((n, inner)) if n.eq_ignore_ascii_case(name) => Some(inner),
            _ => None,
        },
        _ => None,
    })
}
