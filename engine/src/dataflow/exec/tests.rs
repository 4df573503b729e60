//! Whole flows on small frames: a script, input rows, expected output rows.

use std::collections::HashMap;

use polars::prelude::*;

use super::{run, ExecError};
use crate::dataflow::expr::value::column_values;
use crate::dataflow::expr::Value;
use crate::dataflow::parse_script;

pub(super) fn flow(
    script: &str,
    sources: &[(&str, DataFrame)],
) -> Result<super::FlowOutput, ExecError> {
    let (script, problems) = parse_script(script);
    assert!(problems.is_empty(), "{problems:?}");
    let sources: HashMap<String, DataFrame> = sources
        .iter()
        .map(|(n, f)| (n.to_string(), f.clone()))
        .collect();
    run(&script, &HashMap::new(), &sources)
}

fn messages() -> DataFrame {
    df!(
        "id" => ["m1", "m2", "m3", "m4"],
        "sender" => ["a@contoso.com", "b@CONTOSO.com", "c@fabrikam.com", "d@contoso.com"],
        "size" => [10i32, 20, 30, 40],
        "puser" => ["u1", "u2", "u1", "u9"]
    )
    .unwrap()
}

fn users() -> DataFrame {
    df!("uid" => ["u1", "u2", "u3"], "department" => ["Finance", "Legal", "Sales"]).unwrap()
}

#[test]
fn derive_filter_aggregate_sort() {
    let out = flow(
        "source(format: 'json') ~> M
         M derive(domain = lower(substringIndex(sender, '@', -1))) ~> D
         D filter(size > 10) ~> F
         F aggregate(groupBy(domain), messages = count(), bytes = sum(size)) ~> A
         A sort(desc(messages, false)) ~> S
         S sink(format: 'json') ~> Out",
        &[("M", messages())],
    )
    .unwrap();
    let frame = &out.sinks["Out"];
    let expected = df!(
        "domain" => ["contoso.com", "fabrikam.com"],
        "messages" => [2i64, 1],
        "bytes" => [60i32, 30]
    )
    .unwrap();
    assert!(frame.equals_missing(&expected), "{frame}");
    assert_eq!(out.rows_read["M"], 4);
}

#[test]
fn join_select_and_exists() {
    let out = flow(
        "source() ~> M
         source() ~> U
         M, U join(puser == uid, joinType: 'left') ~> J
         J select(mapColumn(id, dept = department)) ~> S
         S sink() ~> Joined
         M, U exists(M@puser == U@uid, negate: true) ~> Orphans
         Orphans sink() ~> O",
        &[("M", messages()), ("U", users())],
    )
    .unwrap();
    let joined = &out.sinks["Joined"];
    let expected = df!(
        "id" => ["m1", "m2", "m3", "m4"],
        "dept" => [Some("Finance"), Some("Legal"), Some("Finance"), None]
    )
    .unwrap();
    assert!(joined.equals_missing(&expected), "{joined}");
    let orphans = &out.sinks["O"];
    assert_eq!(
        orphans.column("id").unwrap().str().unwrap().get(0),
        Some("m4")
    );
    assert_eq!(orphans.height(), 1);
}

#[test]
fn split_first_match_and_union() {
    let out = flow(
        "source() ~> M
         M split(size >= 30, size >= 20, disjoint: false) ~> S@(big, mid, small)
         S@big, S@small union(byName: true) ~> U
         U sink() ~> Out
         S@mid sink() ~> Mid",
        &[("M", messages())],
    )
    .unwrap();
    let ids = |f: &DataFrame| -> Vec<String> {
        f.column("id")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .flatten()
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(ids(&out.sinks["Out"]), ["m3", "m4", "m1"]);
    assert_eq!(ids(&out.sinks["Mid"]), ["m2"]);
}

#[test]
fn unsupported_kinds_name_the_step() {
    let err = flow(
        "source() ~> M
         M call(output(x as string)) ~> W
         W sink() ~> Out",
        &[("M", messages())],
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("step `W`") && text.contains("not supported"),
        "{text}"
    );
}

#[test]
fn cache_lookups_read_a_cache_sink_written_anywhere_in_the_script() {
    // The reader comes first in the script; the graph runs the cache sink before it.
    let out = flow(
        "M derive(dept = Depts#lookup(puser).department,
                  known = !isNull(Depts#lookup(puser)),
                  all = size(Depts#outputs()),
                  first = Depts#output().department) ~> D
         D sink() ~> Out
         source() ~> M
         source() ~> U
         U sink(store: 'cache', format: 'inline', keys: ['uid']) ~> Depts",
        &[("M", messages()), ("U", users())],
    )
    .unwrap();
    let expected = df!(
        "id" => ["m1", "m2", "m3", "m4"],
        "dept" => [Some("Finance"), Some("Legal"), Some("Finance"), None],
        "known" => [true, true, true, false],
        "all" => [3i32, 3, 3, 3],
        "first" => ["Finance"; 4]
    )
    .unwrap();
    let frame = out.sinks["Out"]
        .select(["id", "dept", "known", "all", "first"])
        .unwrap();
    assert!(frame.equals_missing(&expected), "{frame}");
    assert!(
        !out.sinks.contains_key("Depts"),
        "a cache sink writes no dataset"
    );
}

#[test]
fn cache_lookups_match_numbers_of_any_type_and_keep_the_first_row_of_a_key() {
    let codes = df!("code" => [1i64, 2, 1], "label" => ["one", "two", "uno"]).unwrap();
    let rows = df!("n" => [1i32, 2, 3]).unwrap();
    let out = flow(
        "source() ~> C
         C sink(store: 'cache', keys: ['code']) ~> Codes
         source() ~> R
         R derive(label = Codes#lookup(n).label,
                  labels = map(Codes#mlookup(n), #item.label)) ~> D
         D sink() ~> Out",
        &[("C", codes), ("R", rows)],
    )
    .unwrap();
    let labels = out.sinks["Out"].column("label").unwrap().clone();
    let labels: Vec<Option<&str>> = labels.str().unwrap().iter().collect();
    assert_eq!(labels, [Some("one"), Some("two"), None]);
    // mlookup gives every matching row, in the cache's order; none is an empty array.
    let all = column_values(out.sinks["Out"].column("labels").unwrap());
    let text =
        |items: &[&str]| Value::Array(items.iter().map(|s| Value::Str(s.to_string())).collect());
    assert_eq!(all, [text(&["one", "uno"]), text(&["two"]), text(&[])]);
}

#[test]
fn cache_mistakes_are_reported_with_the_fix() {
    let unknown = flow(
        "source() ~> M
         M derive(d = Nope#lookup(puser)) ~> D
         D sink() ~> Out",
        &[("M", messages())],
    )
    .unwrap_err();
    assert!(
        matches!(&unknown, ExecError::Script(p) if p[0].message.contains("no cache sink is named `Nope`")),
        "{unknown:?}"
    );
    let keyless = flow(
        "source() ~> M
         source() ~> U
         U sink(store: 'cache') ~> Depts
         M derive(d = Depts#lookup(puser)) ~> D
         D sink() ~> Out",
        &[("M", messages()), ("U", users())],
    )
    .unwrap_err();
    let text = format!("{keyless:?}");
    assert!(
        text.contains("declares no keys") && text.contains("keys: ['column']"),
        "{text}"
    );
    let wrong_key = flow(
        "source() ~> U
         U sink(store: 'cache', keys: ['id']) ~> Depts",
        &[("U", users())],
    )
    .unwrap_err();
    let text = format!("{wrong_key:?}");
    assert!(
        text.contains("key `id` is not a column") && text.contains("uid, department"),
        "{text}"
    );
}

#[test]
fn ntile_splits_each_partition_into_even_buckets() {
    let frame = df!(
        "p" => ["a", "a", "a", "a", "a", "b", "b"],
        "v" => [1i32, 2, 3, 4, 5, 1, 2]
    )
    .unwrap();
    let out = flow(
        "source() ~> M
         M window(over(p), asc(v, true), t = nTile(2), q = nTile(4)) ~> W
         W sort(asc(p, true), asc(v, true)) ~> S
         S sink() ~> Out",
        &[("M", frame)],
    )
    .unwrap();
    let column = |name: &str| -> Vec<Option<i32>> {
        out.sinks["Out"]
            .column(name)
            .unwrap()
            .i32()
            .unwrap()
            .iter()
            .collect()
    };
    // Five rows in two buckets: 3 + 2; in four: 2 + 1 + 1 + 1; two rows in four: 1, 2.
    assert_eq!(column("t"), [1, 1, 1, 2, 2, 1, 2].map(Some));
    assert_eq!(column("q"), [1, 1, 2, 3, 4, 1, 2].map(Some));
}

#[test]
fn select_skip_duplicate_options_keep_the_first_mapping() {
    let out = flow(
        "source() ~> M
         M select(mapColumn(id, ident = id, size, size = puser),
             skipDuplicateMapInputs: true, skipDuplicateMapOutputs: true) ~> S
         S sink() ~> Out",
        &[("M", messages())],
    )
    .unwrap();
    let frame = &out.sinks["Out"];
    let names: Vec<&str> = frame
        .get_column_names()
        .iter()
        .map(|n| n.as_str())
        .collect();
    assert_eq!(names, ["id", "size"]);
    assert_eq!(frame.column("size").unwrap().dtype(), &DataType::Int32);
}

#[test]
fn functions_with_literal_arguments_keep_an_empty_frame_empty() {
    // A batch whose rows are all filtered out reaches the derive with no rows; the
    // literals must not broadcast into a one-row column.
    let out = flow(
        "source(format: 'json') ~> M
         M filter(size > 1000) ~> None
         None derive(domain = substringIndex(sender, '@', -1)) ~> D
         D sink(format: 'json') ~> Out",
        &[("M", messages())],
    )
    .unwrap();
    assert_eq!(out.sinks["Out"].height(), 0);
}

#[test]
fn batches_of_a_source_give_the_rows_of_the_whole_source() {
    use super::Batched;
    let text = "source(format: 'json') ~> M
         M derive(domain = lower(substringIndex(sender, '@', -1))) ~> D
         D filter(size > 10) ~> F
         F split(domain == 'contoso.com', disjoint: false) ~> Split@(contoso, other)
         Split@contoso sink(format: 'json') ~> Streamed
         Split@other sink(format: 'parquet') ~> Gathered
         F aggregate(groupBy(domain), messages = count()) ~> A
         A sink(format: 'json') ~> Totals
         D aggregate(rows = count()) ~> C
         C sink(format: 'json') ~> Count";
    let (script, problems) = parse_script(text);
    assert!(problems.is_empty(), "{problems:?}");
    let whole = flow(text, &[("M", messages())]).unwrap();

    let batched = Batched::plan(&script, &HashMap::new(), "M", &|sink| sink != "Gathered").unwrap();
    assert_eq!(batched.streamed_sinks(), ["Streamed"]);
    let all = messages();
    let (mut streamed, mut gathered): (Vec<DataFrame>, HashMap<String, Vec<DataFrame>>) =
        Default::default();
    for offset in 0..all.height() {
        let out = batched.run_batch(all.slice(offset as i64, 1)).unwrap();
        streamed.push(out.sinks.sinks["Streamed"].clone());
        for (key, frame) in out.frontier {
            gathered.entry(key).or_default().push(frame);
        }
    }
    let concat = |frames: Vec<DataFrame>| {
        let mut frames = frames.into_iter();
        let mut all = frames.next().unwrap();
        for f in frames {
            all.vstack_mut(&f).unwrap();
        }
        all
    };
    let gathered: HashMap<String, DataFrame> =
        gathered.into_iter().map(|(k, v)| (k, concat(v))).collect();
    assert_eq!(
        gathered.keys().collect::<std::collections::BTreeSet<_>>(),
        ["d", "f", "split@other"]
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .iter()
            .collect()
    );
    let rest = batched
        .finish(&HashMap::new(), gathered, all.height())
        .unwrap();
    assert!(concat(streamed).equals_missing(&whole.sinks["Streamed"]));
    assert!(rest.sinks["Gathered"].equals_missing(&whole.sinks["Gathered"]));
    assert!(rest.sinks["Totals"].equals_missing(&whole.sinks["Totals"]));
    assert!(rest.sinks["Count"].equals_missing(&whole.sinks["Count"]));
    assert!(!rest.sinks.contains_key("Streamed"));
    assert_eq!(rest.rows_read["M"], 4);
}

#[test]
fn size_counts_array_items_and_gives_minus_one_for_null() {
    let lists: ListChunked = [
        Some(Series::new("".into(), ["a", "b"])),
        None,
        Some(Series::new("".into(), Vec::<&str>::new())),
    ]
    .into_iter()
    .collect();
    let frame = DataFrame::new(3, vec![lists.with_name("to".into()).into_column()]).unwrap();
    let out = flow(
        "source(format: 'json') ~> M
         M derive(n = size(to)) ~> D
         D sink(format: 'json') ~> Out",
        &[("M", frame)],
    )
    .unwrap();
    let n: Vec<Option<i32>> = out.sinks["Out"]
        .column("n")
        .unwrap()
        .i32()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(n, [Some(2), Some(-1), Some(0)]);
}

#[test]
fn zoned_timestamps_from_decoded_sources_compare_with_timestamp_literals() {
    // The columnar decoder gives UTC-zoned timestamps; data flow timestamps carry no zone.
    let micros = [1_719_792_000_000_000i64, 1_704_067_200_000_000]; // 2024-07-01, 2024-01-01
    let t = Series::new("t".into(), micros)
        .cast(&DataType::Datetime(
            TimeUnit::Microseconds,
            Some(TimeZone::UTC),
        ))
        .unwrap();
    let frame = DataFrame::new(2, vec![t.into_column()]).unwrap();
    let out = flow(
        "source(output(t as timestamp)) ~> M
         M filter(t >= toTimestamp('2024-06-30 00:00:00')) ~> F
         F derive(y = year(t), later = addDays(t, 1)) ~> D
         D sink(format: 'json') ~> Out",
        &[("M", frame.clone())],
    )
    .unwrap();
    assert_eq!(out.sinks["Out"].height(), 1);
    let undeclared = flow(
        "source() ~> M
         M filter(t < toTimestamp('2024-06-30 00:00:00') && t < '2024-06-30T00:00:00Z') ~> F
         F sink(format: 'json') ~> Out",
        &[("M", frame)],
    )
    .unwrap();
    assert_eq!(undeclared.sinks["Out"].height(), 1);
}

#[test]
fn timestamps_decoded_from_json_compare_with_timestamp_literals() {
    use mdflow_connectors::catalog::{FieldType, NamedType};
    let mut decoder = mdflow_connectors::columnar::RowDecoder::from_fields(&[NamedType {
        name: "t".into(),
        ty: FieldType::DateTime,
    }]);
    decoder
        .push_lines(
            "{\"t\": \"2024-07-01T00:00:00Z\"}\n{\"t\": \"2024-01-01T00:00:00Z\"}",
            1,
        )
        .unwrap();
    let frame = decoder.finish().unwrap();
    for script in [
        "source() ~> M
         M filter(t >= toTimestamp('2024-06-30 00:00:00')) ~> F
         F sink(format: 'json') ~> Out",
        "source(output(t as timestamp)) ~> M
         M filter(t >= toTimestamp('2024-06-30 00:00:00')) ~> F
         F sink(format: 'json') ~> Out",
    ] {
        let out = flow(script, &[("M", frame.clone())]).unwrap();
        assert_eq!(out.sinks["Out"].height(), 1, "{script}");
    }
}

#[test]
fn row_state_functions_read_the_alter_row_mark() {
    let out = flow(
        "source(format: 'json') ~> M
         M derive(before = isInsert()) ~> B
         B alterRow(deleteIf(size > 30), updateIf(puser == 'u2')) ~> A
         A derive(ins = isInsert(), upd = isUpdate(), del = isDelete(), ups = isUpsert()) ~> D
         D sink(format: 'json') ~> Out",
        &[("M", messages())],
    )
    .unwrap();
    let frame = &out.sinks["Out"];
    let column = |name: &str| -> Vec<Option<bool>> {
        frame.column(name).unwrap().bool().unwrap().iter().collect()
    };
    assert_eq!(column("before"), [Some(true); 4]);
    assert_eq!(
        column("ins"),
        [Some(true), Some(false), Some(true), Some(false)]
    );
    assert_eq!(
        column("upd"),
        [Some(false), Some(true), Some(false), Some(false)]
    );
    assert_eq!(
        column("del"),
        [Some(false), Some(false), Some(false), Some(true)]
    );
    assert_eq!(column("ups"), [Some(false); 4]);
    assert_eq!(
        out.row_marks["Out"],
        ["insert", "update", "insert", "delete"]
    );
}

#[test]
fn unsupported_window_functions_name_the_step() {
    let err = flow(
        "source() ~> M
         M window(over(puser), asc(size, true), t = variance(size)) ~> W
         W sink() ~> Out",
        &[("M", messages())],
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("step `W`") && text.contains("variance"),
        "{text}"
    );
}
