use serde_json::json;

use super::*;

fn ctx() -> ExprContext {
    let mut ctx = ExprContext {
        run_id: "run-1".into(),
        pipeline: "CopyMail".into(),
        now: parse_timestamp("2024-06-15T10:30:00Z").unwrap(),
        ..ExprContext::default()
    };
    ctx.parameters.insert("days".into(), json!(7));
    ctx.parameters
        .insert("start".into(), json!("2024-01-01T00:00:00Z"));
    ctx.parameters.insert("folder".into(), json!("mail"));
    ctx.dataset_parameters
        .insert("table".into(), json!("Message_v1"));
    ctx
}

fn eval(v: serde_json::Value) -> serde_json::Value {
    evaluate(&v, &ctx()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn literals_escapes_and_interpolation() {
    assert_eq!(eval(json!("plain")), json!("plain"));
    assert_eq!(eval(json!("@@home")), json!("@home"));
    assert_eq!(eval(json!("@pipeline().parameters.days")), json!(7));
    assert_eq!(
        eval(json!(
            "out/@{pipeline().parameters.folder}/@{pipeline().RunId}"
        )),
        json!("out/mail/run-1")
    );
    assert_eq!(eval(json!("@{pipeline().parameters.days}")), json!("7"));
    assert_eq!(eval(json!("a@@b @{'x'}")), json!("a@b x"));
    assert_eq!(
        eval(json!({"value": "@dataset().table", "type": "Expression"})),
        json!("Message_v1")
    );
    assert_eq!(
        eval(json!({"a": ["@pipeline().Pipeline", 1]})),
        json!({"a": ["CopyMail", 1]})
    );
}

#[test]
fn dates() {
    assert_eq!(
        eval(json!("@utcnow()")),
        json!("2024-06-15T10:30:00.0000000Z")
    );
    assert_eq!(eval(json!("@utcnow('yyyy/MM/dd')")), json!("2024/06/15"));
    assert_eq!(
        eval(json!("@adddays(pipeline().parameters.start, pipeline().parameters.days, 'yyyy-MM-ddTHH:mm:ssZ')")),
        json!("2024-01-08T00:00:00Z")
    );
    assert_eq!(
        eval(json!("@addHours('2024-01-01T00:00:00Z', -1, 's')")),
        json!("2023-12-31T23:00:00")
    );
    assert_eq!(
        eval(json!("@startOfDay(utcnow(), 'yyyy-MM-ddTHH:mm:ssZ')")),
        json!("2024-06-15T00:00:00Z")
    );
    assert_eq!(
        eval(json!("@getPastTime(1, 'Month', 'yyyy-MM-dd')")),
        json!("2024-05-15")
    );
    assert_eq!(
        eval(json!("@getFutureTime(2, 'Day', 'yyyy-MM-dd')")),
        json!("2024-06-17")
    );
    assert_eq!(
        eval(json!("@formatDateTime(pipeline().TriggerTime, 'yyyy')")),
        json!("2024")
    );
}

#[test]
fn strings_logic_and_collections() {
    assert_eq!(eval(json!("@concat('a', 1, true)")), json!("a1true"));
    assert_eq!(
        eval(json!("@toUpper(substring('message', 0, 3))")),
        json!("MES")
    );
    assert_eq!(
        eval(json!("@replace(trim('  a-b '), '-', '_')")),
        json!("a_b")
    );
    assert_eq!(
        eval(json!(
            "@if(equals(pipeline().parameters.days, 7), 'week', 'other')"
        )),
        json!("week")
    );
    assert_eq!(
        eval(json!("@and(not(false), or(false, true))")),
        json!(true)
    );
    assert_eq!(eval(json!("@coalesce(null, 'x')")), json!("x"));
    assert_eq!(eval(json!("@json('[\"g1\",\"g2\"]')")), json!(["g1", "g2"]));
    assert_eq!(eval(json!("@join(split('a,b', ','), ';')")), json!("a;b"));
    assert_eq!(eval(json!("@length(split('a,b,c', ','))")), json!(3));
    assert_eq!(eval(json!("@int('42')")), json!(42));
    assert_eq!(eval(json!("@bool('true')")), json!(true));
    assert_eq!(
        eval(json!("@string(pipeline().parameters['days'])")),
        json!("7")
    );
    assert_eq!(eval(json!("@json('{\"a\":{\"b\":2}}').a.b")), json!(2));
    assert_eq!(
        eval(json!("@if(true, 'x', pipeline().parameters.missing)")),
        json!("x")
    );
}

#[test]
fn errors_name_the_problem_and_the_place() {
    let err = evaluate(&json!("@pipeline().parameters.nope"), &ctx()).unwrap_err();
    assert!(
        err.message
            .contains("pipeline parameter `nope` is not defined"),
        "{err}"
    );
    assert!(err.message.contains("days"), "{err}");
    let err = evaluate(&json!("@adddays('yesterday', 1)"), &ctx()).unwrap_err();
    assert!(
        err.message
            .contains("expected an ISO 8601 timestamp as argument 1"),
        "{err}"
    );
    let err = evaluate(&json!("@concatt('a')"), &ctx()).unwrap_err();
    assert!(err.message.contains("unknown function `concatt`"), "{err}");
    let err = evaluate(&json!("@substring('abc', 2, 5)"), &ctx()).unwrap_err();
    assert!(err.to_string().contains("at character 1"), "{err}");
    let err = evaluate(&json!("x @{'a'"), &ctx()).unwrap_err();
    assert!(err.message.contains("never closed"), "{err}");
    assert!(err.caret().ends_with("  ^"), "{}", err.caret());
}

#[test]
fn check_finds_broken_expressions_without_evaluating() {
    let v = json!({"a": "@pipeline().parameters.unknownButFine", "b": ["@concat('x'"], "c": "@utcnow(1, 2)"});
    let found = check(&v);
    let pointers: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(pointers, ["/b/0", "/c"]);
    assert!(is_dynamic(&json!({"x": "@{a()}"})));
    assert!(!is_dynamic(&json!("@@literal")));
}
