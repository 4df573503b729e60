//! Flowlets: reusable sub-flows, expanded into the flows that use them before a run.
//!
//! A `Flowlet` resource's script reads its inputs with `input(...)` statements (or
//! `source(...)`) and hands rows back with `output(...)` statements (or `sink(...)`).
//! A flow runs it with `in1[, in2] flowlet(name: 'Resource') ~> Step` (one output) or
//! `~> Step@(out1, out2)`. Expansion copies the flowlet's other statements into the flow
//! under the names `Step__inner`, wires its inputs to the streams the flow gives, and
//! points the flow's readers of `Step@out` at the flowlet statement that feeds `out`.
//! Running the expanded script is then ordinary execution: row-local flowlet steps stream
//! batch by batch like any others.

use super::ast::{ExprKind, Name, Script, Statement, StreamRef};

/// Nesting deeper than this is taken for a flowlet that uses itself.
const MAX_DEPTH: usize = 16;

/// Why a flowlet could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("step `{step}`: {message}")]
pub struct FlowletError {
    /// The flow's flowlet step.
    pub step: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// Whether a statement runs a flowlet.
pub fn is_flowlet(s: &Statement) -> bool {
    s.kind.text.eq_ignore_ascii_case("flowlet")
}

/// A flowlet's input statement (`input(...)` or `source(...)`).
fn is_input(s: &Statement) -> bool {
    let k = s.kind.text.as_str();
    k.eq_ignore_ascii_case("input") || k.eq_ignore_ascii_case("source")
}

/// A flowlet's output statement (`output(...)` or `sink(...)`).
fn is_output(s: &Statement) -> bool {
    let k = s.kind.text.as_str();
    k.eq_ignore_ascii_case("output") || k.eq_ignore_ascii_case("sink")
}

/// The flowlet resource a statement names: `name: 'Resource'`.
fn resource_name(s: &Statement) -> Result<String, FlowletError> {
    match s.option("name").map(|e| &e.kind) {
        Some(ExprKind::Lit(super::ast::Lit::Str(n))) => Ok(n.clone()),
        _ => Err(FlowletError {
            step: s.output.name.text.clone(),
            message: "a flowlet step names its flowlet: write flowlet(name: 'MyFlowlet')".into(),
        }),
    }
}

/// Replaces every flowlet step of `script` by the statements of its flowlet. `load` gives
/// a flowlet resource's parsed and checked script by name.
pub fn expand(
    script: Script,
    load: &dyn Fn(&str) -> Result<Script, String>,
) -> Result<Script, FlowletError> {
    expand_at(script, load, &mut Vec::new())
}

fn expand_at(
    mut script: Script,
    load: &dyn Fn(&str) -> Result<Script, String>,
    using: &mut Vec<String>,
) -> Result<Script, FlowletError> {
    while let Some(at) = script.statements.iter().position(is_flowlet) {
        let step = script.statements.remove(at);
        let fail = |message: String| FlowletError {
            step: step.output.name.text.clone(),
            message,
        };
        let resource = resource_name(&step)?;
        if using.len() >= MAX_DEPTH || using.iter().any(|u| u.eq_ignore_ascii_case(&resource)) {
            return Err(fail(format!(
                "flowlet `{resource}` uses itself (through {}); a flowlet cannot contain itself",
                using.join(" -> ")
            )));
        }
        let inner = load(&resource).map_err(&fail)?;
        using.push(resource.clone());
        let inner = expand_at(inner, load, using)?;
        using.pop();
        let mut body = Body::wire(&step, inner, &resource).map_err(&fail)?;
        for p in std::mem::take(&mut body.parameters) {
            if !script
                .parameters
                .iter()
                .any(|q| q.name.text.eq_ignore_ascii_case(&p.name.text))
            {
                script.parameters.push(p);
            }
        }
        let taken: Vec<String> = script
            .statements
            .iter()
            .map(|s| s.output.name.text.to_ascii_lowercase())
            .collect();
        if let Some(clash) = body
            .statements
            .iter()
            .find(|s| taken.contains(&s.output.name.text.to_ascii_lowercase()))
        {
            return Err(fail(format!(
                "the flowlet's step `{}` would take the name of a step of this flow; rename one",
                clash.output.name.text
            )));
        }
        for s in &mut script.statements {
            for r in &mut s.inputs {
                if let Some(to) = body.output_for(&step, r) {
                    *r = to.clone();
                }
            }
        }
        script.statements.splice(at..at, body.statements);
    }
    Ok(script)
}

/// A flowlet's statements, renamed for one use and wired to the using flow's streams.
struct Body {
    statements: Vec<Statement>,
    parameters: Vec<super::ast::ParamDecl>,
    /// Each output's name (as the flow reads it) and the stream that feeds it.
    outputs: Vec<(String, StreamRef)>,
}

impl Body {
    fn wire(step: &Statement, inner: Script, resource: &str) -> Result<Body, String> {
        let prefix = format!("{}__", step.output.name.text);
        let inputs: Vec<&Statement> = inner.statements.iter().filter(|s| is_input(s)).collect();
        if inputs.len() != step.inputs.len() {
            return Err(format!(
                "flowlet `{resource}` has {} ({}), and {} input streams are given; list one \
                 stream per input before `flowlet`",
                count(inputs.len(), "input"),
                names(&inputs),
                step.inputs.len()
            ));
        }
        let outputs: Vec<&Statement> = inner.statements.iter().filter(|s| is_output(s)).collect();
        let wanted: Vec<String> = if step.output.split.is_empty() {
            if outputs.len() != 1 {
                return Err(format!(
                    "flowlet `{resource}` has {} ({}); name them: ~> {}@({})",
                    count(outputs.len(), "output"),
                    names(&outputs),
                    step.output.name.text,
                    names(&outputs)
                ));
            }
            vec![String::new()]
        } else {
            step.output.split.iter().map(|n| n.text.clone()).collect()
        };
        // The flow names outputs by the flowlet's names, or all of them by position.
        let by_name = wanted.iter().all(|w| {
            outputs
                .iter()
                .any(|o| o.output.name.text.eq_ignore_ascii_case(w))
        });
        if !by_name && !step.output.split.is_empty() && wanted.len() != outputs.len() {
            return Err(format!(
                "flowlet `{resource}` has the outputs {}; name those, or as many, in ~> {}@(...)",
                names(&outputs),
                step.output.name.text
            ));
        }

        let rename = |r: &StreamRef| -> StreamRef {
            match inputs
                .iter()
                .position(|i| i.output.name.text.eq_ignore_ascii_case(&r.stream.text))
            {
                Some(k) => step.inputs[k].clone(),
                None => StreamRef {
                    stream: Name {
                        text: format!("{prefix}{}", r.stream.text),
                        span: r.stream.span,
                    },
                    output: r.output.clone(),
                },
            }
        };
        let mut mapped_outputs = Vec::new();
        for (k, w) in wanted.iter().enumerate() {
            let o = if by_name && !w.is_empty() {
                outputs
                    .iter()
                    .find(|o| o.output.name.text.eq_ignore_ascii_case(w))
            } else {
                outputs.get(k)
            };
            let feed = o.and_then(|o| o.inputs.first()).ok_or_else(|| {
                format!("flowlet `{resource}` has an output that reads no stream")
            })?;
            mapped_outputs.push((w.clone(), rename(feed)));
        }

        let mut statements = Vec::new();
        for s in inner
            .statements
            .iter()
            .filter(|s| !is_input(s) && !is_output(s))
        {
            let mut s = s.clone();
            for r in &mut s.inputs {
                *r = rename(r);
            }
            s.output.name.text = format!("{prefix}{}", s.output.name.text);
            for a in &mut s.args {
                a.visit_mut(&mut |e| {
                    if let ExprKind::Column {
                        stream: Some(stream),
                        ..
                    } = &mut e.kind
                    {
                        let as_ref = StreamRef {
                            stream: Name {
                                text: stream.clone(),
                                span: e.span,
                            },
                            output: None,
                        };
                        *stream = rename(&as_ref).stream.text;
                    }
                });
            }
            statements.push(s);
        }
        Ok(Body {
            statements,
            parameters: inner.parameters,
            outputs: mapped_outputs,
        })
    }

    /// The stream that replaces the flow's reference `r`, when it reads the flowlet step.
    fn output_for(&self, step: &Statement, r: &StreamRef) -> Option<&StreamRef> {
        if !r.stream.text.eq_ignore_ascii_case(&step.output.name.text) {
            return None;
        }
        let wanted = r.output.as_ref().map_or("", |o| o.text.as_str());
        self.outputs
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(wanted))
            .map(|(_, to)| to)
    }
}

fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

fn names(statements: &[&Statement]) -> String {
    statements
        .iter()
        .map(|s| s.output.name.text.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use polars::prelude::*;

    use super::expand;
    use crate::dataflow::{check, exec, printer};

    const CLEAN: &str = "
        input(output(sender as string, size as integer)) ~> In
        In derive(domain = lower(substringIndex(sender, '@', -1))) ~> D
        D filter(size > $minimum) ~> F
        F output() ~> Clean";

    const TWO_WAY: &str = "
        input() ~> Rows
        Rows split(size >= 30, disjoint: false) ~> S@(big, small)
        S@big output() ~> Big
        S@small output() ~> Small";

    fn load(name: &str) -> Result<crate::dataflow::ast::Script, String> {
        let text = match name {
            "Clean" => format!("parameters{{ minimum as integer (10) }}\n{CLEAN}"),
            "TwoWay" => TWO_WAY.to_owned(),
            "Loop" => "input() ~> I\nI flowlet(name: 'Loop') ~> L\nL output() ~> O".to_owned(),
            other => return Err(format!("no flowlet named `{other}`")),
        };
        let (script, problems) = check(&text);
        let errors: Vec<_> = problems.iter().filter(|p| !p.warning).collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
        Ok(script)
    }

    fn run(flow: &str) -> Result<exec::FlowOutput, String> {
        let (script, problems) = crate::dataflow::parse_script(flow);
        assert!(problems.is_empty(), "{problems:?}");
        let script = expand(script, &load).map_err(|e| e.to_string())?;
        // The expanded script prints and parses back, so `dataflow preview` can use it.
        let (reparsed, problems) = crate::dataflow::parse_script(&printer::print_script(&script));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            printer::print_script(&reparsed),
            printer::print_script(&script)
        );
        let rows = df!(
            "sender" => ["a@Contoso.com", "b@fabrikam.com", "c@contoso.com"],
            "size" => [5i32, 20, 40]
        )
        .unwrap();
        let sources = HashMap::from([("M".to_owned(), rows)]);
        exec::run(&script, &HashMap::new(), &sources).map_err(|e| e.to_string())
    }

    fn column(frame: &DataFrame, name: &str) -> Vec<String> {
        let c = frame.column(name).unwrap().cast(&DataType::String).unwrap();
        c.str()
            .unwrap()
            .iter()
            .flatten()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn a_flowlet_runs_in_place_with_its_parameters_defaults() {
        let out = run("source() ~> M
             M flowlet(name: 'Clean') ~> C
             C sink() ~> Out")
        .unwrap();
        let frame = &out.sinks["Out"];
        assert_eq!(column(frame, "domain"), ["fabrikam.com", "contoso.com"]);
        assert_eq!(column(frame, "size"), ["20", "40"]);
    }

    #[test]
    fn a_flowlet_with_several_outputs_is_read_by_name() {
        let out = run("source() ~> M
             M flowlet(name: 'TwoWay') ~> T@(Small, Big)
             T@Big sink() ~> Large
             T@Small sink() ~> Rest")
        .unwrap();
        assert_eq!(column(&out.sinks["Large"], "size"), ["40"]);
        assert_eq!(column(&out.sinks["Rest"], "size"), ["5", "20"]);
    }

    #[test]
    fn flowlet_mistakes_name_the_step_and_the_fix() {
        let err = run("source() ~> M
             M flowlet(name: 'TwoWay') ~> T
             T sink() ~> Out")
        .unwrap_err();
        assert!(
            err.contains("step `T`") && err.contains("~> T@(Big, Small)"),
            "{err}"
        );
        let err = run("source() ~> M
             M flowlet(name: 'Nope') ~> T
             T sink() ~> Out")
        .unwrap_err();
        assert!(err.contains("no flowlet named `Nope`"), "{err}");
        let err = run("source() ~> M
             M flowlet(name: 'Loop') ~> T
             T sink() ~> Out")
        .unwrap_err();
        assert!(err.contains("uses itself"), "{err}");
        let err = run("source() ~> M
             M, M flowlet(name: 'Clean') ~> T
             T sink() ~> Out")
        .unwrap_err();
        assert!(
            err.contains("has 1 input (In), and 2 input streams are given"),
            "{err}"
        );
    }
}
