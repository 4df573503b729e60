//! The normal form of a script: one statement per line group, arguments on one line when
//! they fit in 90 characters and one per line (tab-indented) otherwise, the fewest
//! parentheses that keep the meaning. Parsing the printed text gives the same tree.

use std::fmt::Write;

use super::ast::*;

/// Widest single-line argument list.
const WIDTH: usize = 90;

/// Prints a whole script in normal form.
pub fn print_script(script: &Script) -> String {
    let mut out = String::new();
    if !script.parameters.is_empty() {
        out.push_str("parameters{\n");
        let params: Vec<String> = script
            .parameters
            .iter()
            .map(|p| {
                let mut s = format!("\t{} as {}", name(&p.name.text), print_type(&p.ty));
                if let Some(d) = &p.default {
                    let _ = write!(s, " ({})", print_expr(d));
                }
                s
            })
            .collect();
        out.push_str(&params.join(",\n"));
        out.push_str("\n}\n");
    }
    for s in &script.statements {
        out.push_str(&print_statement(s));
        out.push('\n');
    }
    out
}

/// Prints one statement.
pub fn print_statement(s: &Statement) -> String {
    let mut out = String::new();
    if !s.inputs.is_empty() {
        let inputs: Vec<String> = s
            .inputs
            .iter()
            .map(|i| match &i.output {
                Some(o) => format!("{}@{}", name(&i.stream.text), name(&o.text)),
                None => name(&i.stream.text),
            })
            .collect();
        out.push_str(&inputs.join(", "));
        out.push(' ');
    }
    out.push_str(&s.kind.text);
    out.push('(');
    let args: Vec<String> = s.args.iter().map(print_arg).collect();
    let one_line = args.join(", ");
    if one_line.len() <= WIDTH && !one_line.contains('\n') {
        out.push_str(&one_line);
    } else {
        out.push_str("\n\t");
        let indented: Vec<String> = args.iter().map(|a| a.replace('\n', "\n\t")).collect();
        out.push_str(&indented.join(",\n\t"));
    }
    out.push_str(") ~> ");
    out.push_str(&name(&s.output.name.text));
    if !s.output.split.is_empty() {
        let names: Vec<String> = s.output.split.iter().map(|n| name(&n.text)).collect();
        let _ = write!(out, "@({})", names.join(", "));
    }
    out
}

/// A name as written: bare when it is an identifier, else in braces.
fn name(text: &str) -> String {
    let ident = text
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && text.chars().all(|c| c.is_alphanumeric() || c == '_');
    if ident {
        text.to_owned()
    } else {
        format!("{{{text}}}")
    }
}

/// Prints one argument.
pub fn print_arg(a: &Arg) -> String {
    match a {
        Arg::Positional(e) => print_expr(e),
        Arg::Assign(t, v) => format!("{} = {}", print_expr(t), print_expr(v)),
        Arg::Opt(n, v) => format!("{}: {}", name(&n.text), print_expr(v)),
        Arg::Declare(e, t) => format!("{} as {}", print_expr(e), print_type(t)),
    }
}

/// Prints a type.
pub fn print_type(t: &TypeExpr) -> String {
    match t {
        TypeExpr::Named(n, params) if params.is_empty() => n.text.clone(),
        TypeExpr::Named(n, params) => {
            let p: Vec<String> = params.iter().map(i64::to_string).collect();
            format!("{}({})", n.text, p.join(","))
        }
        TypeExpr::Struct(fields, _) => {
            let f: Vec<String> = fields
                .iter()
                .map(|(n, t)| format!("{} as {}", print_expr(n), print_type(t)))
                .collect();
            format!("({})", f.join(", "))
        }
        TypeExpr::Array(inner) => format!("{}[]", print_type(inner)),
    }
}

/// A string literal: single quotes, backslash escapes.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A double in literal syntax: always with a decimal point or exponent.
pub fn double(v: f64) -> String {
    let s = format!("{v:?}");
    if s.contains(['.', 'e', 'E', 'N', 'i']) {
        s
    } else {
        format!("{s}.0")
    }
}

/// Prints an expression with the fewest parentheses.
pub fn print_expr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Lit(l) => match l {
            Lit::Str(s) => quote(s),
            Lit::Regex(s) => format!("`{s}`"),
            Lit::Int(v, false) => v.to_string(),
            Lit::Int(v, true) => format!("{v}L"),
            Lit::Float(v, false) => double(*v),
            Lit::Float(v, true) => format!("{}f", double(*v)),
            Lit::Bool(b) => b.to_string(),
            Lit::Null => "null".into(),
        },
        ExprKind::Interp(parts) => {
            let mut out = String::from("\"");
            for p in parts {
                match p {
                    InterpPart::Text(t) => {
                        for c in t.chars() {
                            match c {
                                '"' | '{' | '}' | '\\' => {
                                    out.push('\\');
                                    out.push(c);
                                }
                                '\n' => out.push_str("\\n"),
                                c => out.push(c),
                            }
                        }
                    }
                    InterpPart::Expr(e) => {
                        let _ = write!(out, "{{{}}}", print_expr(e));
                    }
                }
            }
            out.push('"');
            out
        }
        ExprKind::Column {
            stream,
            name: n,
            braced,
        } => {
            let col = if *braced { format!("{{{n}}}") } else { name(n) };
            match stream {
                Some(s) => format!("{}@{col}", name(s)),
                None => col,
            }
        }
        ExprKind::Dollar(n) => format!("${n}"),
        ExprKind::Hash(n) => format!("#{n}"),
        ExprKind::Local(n) => format!(":{n}"),
        ExprKind::Unary(op, inner) => {
            let sym = match op {
                UnOp::Not => "!",
                UnOp::Neg => "-",
            };
            let needs = matches!(inner.kind, ExprKind::Binary(..))
                || matches!(inner.kind, ExprKind::Lit(Lit::Int(..) | Lit::Float(..)));
            if needs {
                format!("{sym}({})", print_expr(inner))
            } else {
                format!("{sym}{}", print_expr(inner))
            }
        }
        ExprKind::Binary(op, l, r) => {
            let p = op.precedence();
            let side = |e: &Expr, right: bool| {
                let s = print_expr(e);
                match &e.kind {
                    ExprKind::Binary(inner, ..)
                        if inner.precedence() < p || (right && inner.precedence() == p) =>
                    {
                        format!("({s})")
                    }
                    _ => s,
                }
            };
            format!("{} {} {}", side(l, false), op.symbol(), side(r, true))
        }
        ExprKind::Call(n, args) => {
            let a: Vec<String> = args.iter().map(print_arg).collect();
            format!("{}({})", n.text, a.join(", "))
        }
        ExprKind::Index(a, i) => format!("{}[{}]", postfix_base(a), print_expr(i)),
        ExprKind::Field(a, f) => format!("{}.{}", postfix_base(a), name(&f.text)),
        ExprKind::Assert(a, t) => format!("{} ? {}", postfix_base(a), print_type(t)),
        ExprKind::Array(items) => {
            let a: Vec<String> = items.iter().map(print_expr).collect();
            format!("[{}]", a.join(", "))
        }
        ExprKind::Map(pairs) => {
            let a: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{} -> {}", print_expr(k), print_expr(v)))
                .collect();
            format!("[{}]", a.join(", "))
        }
        ExprKind::Struct(fields) => {
            let a: Vec<String> = fields
                .iter()
                .map(|(n, v)| format!("{} = {}", name(&n.text), print_expr(v)))
                .collect();
            format!("@({})", a.join(", "))
        }
    }
}

/// The operand of `[ ]`, `.` or `?`, parenthesised unless it binds tighter.
fn postfix_base(e: &Expr) -> String {
    match e.kind {
        ExprKind::Binary(..) | ExprKind::Unary(..) => format!("({})", print_expr(e)),
        ExprKind::Lit(Lit::Int(v, _)) if v < 0 => format!("({})", print_expr(e)),
        ExprKind::Lit(Lit::Float(v, _)) if v < 0.0 => format!("({})", print_expr(e)),
        _ => print_expr(e),
    }
}
