//! Evaluation of a parsed expression against an [`ExprContext`].

use serde_json::{Map, Value};

use super::functions;
use super::parse::Ast;
use super::{ExprContext, ExprError, ExprErrorKind};

/// Evaluates `ast`, parsed from `text`, to a JSON value.
pub(crate) fn eval(ast: &Ast, text: &str, ctx: &ExprContext) -> Result<Value, ExprError> {
    let err = |message: String, at: usize| {
        ExprError::new(message, text, at).with_kind(ExprErrorKind::Evaluation)
    };
    match ast {
        Ast::Str(s) => Ok(Value::String(s.clone())),
        Ast::Int(n) => Ok(Value::from(*n)),
        Ast::Float(n) => Ok(Value::from(*n)),
        Ast::Bool(b) => Ok(Value::Bool(*b)),
        Ast::Null => Ok(Value::Null),
        Ast::Member { target, name, at } => {
            let target_value = eval(target, text, ctx)?;
            member(&target_value, name, target).map_err(|m| err(m, *at))
        }
        Ast::Index { target, index, at } => {
            let target_value = eval(target, text, ctx)?;
            let index_value = eval(index, text, ctx)?;
            match (&target_value, &index_value) {
                (Value::Object(_), Value::String(key)) => {
                    member(&target_value, key, target).map_err(|m| err(m, *at))
                }
                (Value::Array(items), Value::Number(n)) => n
                    .as_u64()
                    .and_then(|i| items.get(i as usize))
                    .cloned()
                    .ok_or_else(|| {
                        err(
                            format!("index {n} is outside an array of {}", items.len()),
                            *at,
                        )
                    }),
                _ => Err(err(
                    format!(
                        "expected an object with a 'key' or an array with a number index, \
                         found {} indexed by {}",
                        functions::kind(&target_value),
                        functions::kind(&index_value)
                    ),
                    *at,
                )),
            }
        }
        Ast::Call { name, args, at } => call(name, args, *at, text, ctx),
    }
}

fn call(
    name: &str,
    args: &[Ast],
    at: usize,
    text: &str,
    ctx: &ExprContext,
) -> Result<Value, ExprError> {
    let err =
        |message: String| ExprError::new(message, text, at).with_kind(ExprErrorKind::Evaluation);
    functions::check_arity(name, args.len())
        .map_err(|m| ExprError::new(m, text, at).with_kind(ExprErrorKind::Unsupported))?;
    match name.to_ascii_lowercase().as_str() {
        "pipeline" => return Ok(pipeline_object(ctx)),
        "dataset" => return Ok(Value::Object(to_map(&ctx.dataset_parameters))),
        "linkedservice" => return Ok(Value::Object(to_map(&ctx.linked_service_parameters))),
        "activity" | "variables" | "item" | "trigger" => {
            return Err(ExprError::new(
                format!("`{name}()` is not supported yet when mdflow resolves copy definitions"),
                text,
                at,
            )
            .with_kind(ExprErrorKind::Unsupported));
        }
        "if" => {
            // Only the chosen branch is evaluated, so the other may refer to missing values.
            let condition = eval(&args[0], text, ctx)?;
            let Value::Bool(choice) = condition else {
                return Err(err(format!(
                    "expected a boolean condition in `if`, found {}",
                    functions::kind(&condition)
                )));
            };
            return eval(&args[if choice { 1 } else { 2 }], text, ctx);
        }
        _ => {}
    }
    let values = args
        .iter()
        .map(|a| eval(a, text, ctx))
        .collect::<Result<Vec<_>, _>>()?;
    functions::call(name, &values, ctx).map_err(|m| err(format!("{name}: {m}")))
}

fn to_map(values: &std::collections::BTreeMap<String, Value>) -> Map<String, Value> {
    values.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn pipeline_object(ctx: &ExprContext) -> Value {
    let now = super::time::format_dotnet(&ctx.now, "").unwrap_or_default();
    serde_json::json!({
        "parameters": Value::Object(to_map(&ctx.parameters)),
        "RunId": ctx.run_id,
        "GroupId": ctx.run_id,
        "Pipeline": ctx.pipeline,
        "DataFactory": "mdflow",
        "TriggerTime": now,
        "TriggerType": "Manual",
        "TriggerName": "Manual",
        "TriggerId": ctx.run_id,
    })
}

/// Reads a property: the exact key first, then ignoring case as ADF does.
fn member(target: &Value, name: &str, target_ast: &Ast) -> Result<Value, String> {
    let Value::Object(map) = target else {
        return Err(format!(
            "expected an object before `.{name}`, found {}",
            functions::kind(target)
        ));
    };
    if let Some(v) = map.get(name).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }) {
        return Ok(v.clone());
    }
    let known: Vec<&str> = map.keys().map(String::as_str).collect();
    let known = if known.is_empty() {
        "none".to_owned()
    } else {
        known.join(", ")
    };
    let what = match target_ast {
        Ast::Member {
            name: parent,
            target,
            ..
        } if parent.eq_ignore_ascii_case("parameters") => match target.as_ref() {
            Ast::Call { name, .. } if name.eq_ignore_ascii_case("pipeline") => "pipeline parameter",
            _ => "parameter",
        },
        Ast::Call { name, .. } if name.eq_ignore_ascii_case("dataset") => "dataset parameter",
        Ast::Call { name, .. } if name.eq_ignore_ascii_case("linkedService") => {
            "linked service parameter"
        }
        _ => "property",
    };
    Err(format!("{what} `{name}` is not defined (defined: {known})"))
}
