//! Micro-benchmarks of the three inner loops a large mailbox extract spends its time in,
//! on `BasicDataSet_v0.Message_v1` rows of the synthetic tenant:
//!
//! - `decode`: JSON Lines into columns with `RowDecoder`, every column and then without the
//!   body columns (`body`, `uniqueBody`, `bodyPreview`), in MB of input per second;
//! - `evaluate`: data flow expressions, parsed and compiled once, evaluated over 100,000
//!   decoded rows, in rows per second;
//! - `encode`: a decoded frame back to JSON Lines with `encode_frame`, in MB of output per
//!   second.
//!
//! `cargo bench --bench micro` (release profile); divan's options follow `--`, such as
//! `cargo bench --bench micro -- decode` to run one group. Rows are generated once, before
//! anything is timed. Polars is held to one thread so that every figure is per core, like
//! the decoder and encoder, which run on the calling thread.

use std::sync::LazyLock;

use chrono::{NaiveDate, TimeZone, Utc};
use divan::counter::{BytesCount, ItemsCount};
use divan::Bencher;
use mdflow_connectors::catalog::{Catalog, Table};
use mdflow_connectors::columnar::{encode_frame, Layout, RowDecoder};
use mdflow_connectors::tenant::synthetic::{SyntheticConfig, SyntheticTenant};
use mdflow_connectors::tenant::{DateWindow, ExtractRequest, TenantBackend};
use mdflow_engine::dataflow::expr::{compile, DfType, Scope};
use mdflow_engine::dataflow::parse_expression;
use polars::prelude::{col, DataFrame, IntoLazy};

/// Rows in the decoding and encoding input: about 19 MB of JSON, enough that a sample
/// takes tens of milliseconds and per-call overhead does not show.
const SAMPLE_ROWS: usize = 2_000;

/// Rows the expressions run over: large enough that Polars' planning is noise.
const FRAME_ROWS: usize = 100_000;

/// The columns carrying message text, the ones an extract for metadata leaves out.
const BODY_COLUMNS: [&str; 3] = ["body", "uniqueBody", "bodyPreview"];

/// Expressions a mailbox flow typically derives or filters on: a string function, the
/// sender's domain (nested field, search and substring), an array size and a date filter.
const EXPRESSIONS: [&str; 4] = [
    "lower(subject)",
    "substring(sender.emailAddress.address, instr(sender.emailAddress.address, '@') + 1)",
    "size(toRecipients)",
    "receivedDateTime >= toTimestamp('2024-07-01 00:00:00')",
];

fn main() {
    // Before anything starts Polars' thread pool, which reads this once.
    std::env::set_var("POLARS_MAX_THREADS", "1");
    divan::main();
}

fn message_table() -> &'static Table {
    Catalog::builtin()
        .table("BasicDataSet_v0.Message_v1")
        .expect("Message_v1 is in the catalog")
}

/// Feeds Message_v1 pages of the synthetic tenant to `on_page`, mailbox by mailbox, until
/// it has seen at least `rows` rows. Whole mailboxes, so callers trim the excess.
fn message_pages(rows: usize, mut on_page: impl FnMut(&str)) {
    let from = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    let tenant = SyntheticTenant::new(SyntheticConfig {
        // Comfortably more mailboxes than needed, since the generation stops early.
        users: (rows / 100 + 10) as u32,
        messages_per_user: 200,
        seed: 1,
        from,
        to,
    })
    .expect("valid configuration");
    let window = DateWindow {
        column: Some("receivedDateTime".into()),
        start: Utc.from_utc_datetime(&from.and_hms_opt(0, 0, 0).unwrap()),
        end: Utc.from_utc_datetime(&to.and_hms_opt(0, 0, 0).unwrap()),
    };
    let mut seen = 0;
    for user in tenant.users().unwrap() {
        let request = ExtractRequest {
            table: message_table(),
            owner: &user.id,
            window: Some(window.clone()),
        };
        tenant
            .extract(&request, &mut |page| {
                seen += page.lines().count();
                on_page(&page);
                Ok(())
            })
            .unwrap();
        if seen >= rows {
            return;
        }
    }
    panic!("the tenant holds fewer than {rows} messages");
}

/// `SAMPLE_ROWS` rows of JSON Lines, the input of the decoding benchmarks.
static SAMPLE: LazyLock<String> = LazyLock::new(|| {
    let mut text = String::new();
    message_pages(SAMPLE_ROWS, |page| text.push_str(page));
    text.lines()
        .take(SAMPLE_ROWS)
        .flat_map(|line| [line, "\n"])
        .collect()
});

/// The sample decoded with every column, the input of the encoding benchmark.
static SAMPLE_FRAME: LazyLock<DataFrame> = LazyLock::new(|| decode_sample(None));

/// `FRAME_ROWS` rows with only the columns the expressions read: a select touches no
/// other column, and leaving the bodies out keeps this frame small in memory.
static EXPRESSION_FRAME: LazyLock<DataFrame> = LazyLock::new(|| {
    let columns: Vec<String> = ["subject", "sender", "toRecipients", "receivedDateTime"]
        .map(String::from)
        .into();
    let mut decoder = RowDecoder::new(message_table(), Some(&columns)).unwrap();
    message_pages(FRAME_ROWS, |page| {
        decoder.push_lines(page, 1).unwrap();
    });
    let frame = decoder.finish().unwrap().head(Some(FRAME_ROWS));
    // The decoder gives instants in UTC, but the compiler's timestamps (`toTimestamp`) have
    // no zone and Polars refuses to compare the two. Same instants, same kernel: only the
    // zone is dropped, so that the comparison can be measured at all.
    frame
        .lazy()
        .with_column(col("receivedDateTime").cast(DfType::Timestamp.to_polars()))
        .collect()
        .unwrap()
});

fn decode_sample(projection: Option<&[String]>) -> DataFrame {
    let mut decoder = RowDecoder::new(message_table(), projection).unwrap();
    decoder.push_lines(&SAMPLE, 1).unwrap();
    decoder.finish().unwrap()
}

mod decode {
    use super::*;

    /// Throughput is counted on the whole input in both cases: skipping the bodies still
    /// means scanning past them, and that is the cost being compared.
    #[divan::bench]
    fn all_columns(bencher: Bencher) {
        bencher
            .counter(BytesCount::of_str(&*SAMPLE))
            // The frame is returned so that divan drops it outside the timed part.
            .bench(|| decode_sample(None));
    }

    #[divan::bench]
    fn without_bodies(bencher: Bencher) {
        let columns: Vec<String> = message_table()
            .columns
            .iter()
            .map(|c| c.name.clone())
            .filter(|name| !BODY_COLUMNS.contains(&name.as_str()))
            .collect();
        bencher
            .counter(BytesCount::of_str(&*SAMPLE))
            .bench(|| decode_sample(Some(&columns)));
    }
}

/// Parsing and compiling happen once, as in a run; only the evaluation is timed.
#[divan::bench(args = EXPRESSIONS, sample_count = 30)]
fn evaluate(bencher: Bencher, text: &str) {
    let frame = &*EXPRESSION_FRAME;
    let scope = Scope {
        schema: (**frame.schema()).clone(),
        ..Scope::default()
    };
    let parsed = parse_expression(text).unwrap_or_else(|p| panic!("{text}: {p:?}"));
    let typed = compile(&parsed, &scope).unwrap_or_else(|p| panic!("{text}: {p:?}"));
    bencher.counter(ItemsCount::new(frame.height())).bench(|| {
        // Cloning a frame only clones its column handles.
        frame
            .clone()
            .lazy()
            .select([typed.expr.clone().alias("value")])
            .collect()
            .unwrap()
    });
}

#[divan::bench]
fn encode(bencher: Bencher) {
    let frame = &*SAMPLE_FRAME;
    let mut out = Vec::new();
    encode_frame(frame, None, Layout::Lines, &mut out).unwrap();
    // The buffer is reused, as a sink reuses its own, so growing it is not measured.
    bencher.counter(BytesCount::new(out.len())).bench_local(|| {
        out.clear();
        encode_frame(frame, None, Layout::Lines, &mut out).unwrap();
    });
}
