//! Extraction through the tenant emulator: every `BasicDataSet_v0.Message_v1` row of many
//! mailboxes, read by the `graph` back-end over real loopback HTTP from an emulator that
//! answers every Graph request a set latency after it comes in and refuses a fifth
//! concurrent request for one mailbox. Rows are counted and discarded.
//!
//! `cargo bench --bench extract` (release profile). Settings, with their defaults:
//!
//! - MDFLOW_BENCH_LATENCY_MS (50): the latency L of every Graph request;
//! - MDFLOW_BENCH_MAILBOXES (200): the mailboxes M extracted;
//! - MDFLOW_BENCH_MESSAGES_PER_MAILBOX (500): roughly how many messages each one holds;
//! - MDFLOW_BENCH_PAGE_SIZE (100): `$top`, the page size P;
//! - MDFLOW_BENCH_CONCURRENCY (16, the back-end's default `max_concurrent_requests`): C;
//! - MDFLOW_BENCH_WORKERS (2·C): mailboxes extracted at once by the caller (see below);
//! - MDFLOW_BENCH_COPY_MAILBOXES (40): the mailboxes read with the Copy activity's worker
//!   count, min(cores, 8);
//! - MDFLOW_BENCH_SEQUENTIAL_MAILBOXES (10): the mailboxes the one-page-at-a-time client reads;
//! - MDFLOW_BENCH_REPEAT (3): repeats; the median is reported;
//! - MDFLOW_BENCH_COLUMNS (`all`): the columns asked for, as a copy's `outputColumns`: `all`,
//!   `headers` (the seven of `benches/copy-factory`'s CopyMailHeaders) or a comma list.
//!
//! The ceiling. A page takes at least L, whoever asks for it. The back-end keeps at most C
//! requests in flight over all mailboxes, and the emulator (like Graph) allows at most four
//! per mailbox, so at most min(C, 4·M) pages of P messages are in flight at any time:
//!
//!     ceiling = min(C, 4·M) · P / L  messages/s
//!
//! The back-end follows a mailbox's pages one after the other (each page's next link comes
//! with the page), so a mailbox has at most one page in flight and the bound is
//! min(C, workers, M) · P / L; with M ≥ C and workers ≥ C, both are C · P / L. A mailbox's
//! last page holds fewer than P messages, so the ceiling is quoted for full pages and is
//! slightly optimistic. The peer is the same back-end with `max_concurrent_requests` = 1
//! and one caller thread: one page at a time, P / L messages/s at best.
//!
//! The back-end frees a request's slot once the answer is read, and a mailbox asks for its
//! next page only after the page is shaped into rows; with exactly C mailboxes open, a slot
//! idles while its mailbox shapes a page. Twice as many open mailboxes as slots lets another
//! mailbox take it at once, so 2·C is the default. The Copy activity opens min(cores, 8)
//! mailboxes at once whatever C is; its row shows what that gives (a subset of the mailboxes,
//! since the rate does not depend on how many there are once they outnumber the workers).
//!
//! Every run's row count is checked against the in-process synthetic tenant's; a mismatch
//! stops the benchmark.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone, Utc};
use mdflow_connectors::catalog::{Catalog, Table};
use mdflow_connectors::tenant::emulator::{Emulator, EmulatorConfig, FaultConfig};
use mdflow_connectors::tenant::graph::{ClientSecret, GraphConfig, GraphTenant};
use mdflow_connectors::tenant::synthetic::{SyntheticConfig, SyntheticTenant};
use mdflow_connectors::tenant::{DateWindow, ExtractRequest, TenantBackend};

const CLIENT: &str = "bench-client";
const SECRET: &str = "bench-secret";

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// One timed extraction.
#[derive(Clone, Copy)]
struct Run {
    seconds: f64,
    rows: u64,
    bytes: u64,
    requests: u64,
    throttled: u64,
}

struct Bench<'a> {
    emulator: &'a Emulator,
    table: &'a Table,
    window: DateWindow,
    page_size: u32,
    /// The copy's `outputColumns`; `None` for all.
    columns: Option<Vec<String>>,
    /// Messages per mailbox, from the in-process synthetic tenant.
    expected: HashMap<String, u64>,
}

impl Bench<'_> {
    fn backend(&self, concurrency: usize) -> GraphTenant {
        let url = self.emulator.url();
        let mut config =
            GraphConfig::new(self.emulator.tenant_id(), CLIENT, ClientSecret::new(SECRET));
        config.graph_endpoint = url.clone();
        config.authority_host = url;
        config.max_concurrent_requests = concurrency;
        config.page_size = self.page_size;
        config.request_timeout = Duration::from_secs(60);
        GraphTenant::new(config).expect("valid settings")
    }

    /// Extracts `owners` with `workers` caller threads through a fresh back-end. The token
    /// and the directory are read before the clock starts.
    fn run(&self, owners: &[String], concurrency: usize, workers: usize) -> Run {
        let tenant = self.backend(concurrency);
        let valid = tenant.users().expect("the directory is readable").len();
        assert!(valid >= owners.len());
        let before = self.emulator.stats();
        let next = AtomicUsize::new(0);
        let (rows, bytes) = (AtomicU64::new(0), AtomicU64::new(0));
        let started = Instant::now();
        std::thread::scope(|scope| {
            for _ in 0..workers.clamp(1, owners.len().max(1)) {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(owner) = owners.get(i) else { break };
                    let request = ExtractRequest {
                        table: self.table,
                        owner,
                        window: Some(self.window.clone()),
                    };
                    let mut mine = 0u64;
                    tenant
                        .extract_columns(&request, self.columns.as_deref(), &mut |page| {
                            mine += page.matches('\n').count() as u64;
                            bytes.fetch_add(page.len() as u64, Ordering::Relaxed);
                            Ok(())
                        })
                        .unwrap_or_else(|e| panic!("mailbox {owner}: {e}"));
                    let want = self.expected[owner];
                    assert_eq!(
                        mine, want,
                        "mailbox {owner}: {mine} rows extracted, {want} expected"
                    );
                    rows.fetch_add(mine, Ordering::Relaxed);
                });
            }
        });
        let seconds = started.elapsed().as_secs_f64();
        let after = self.emulator.stats();
        let rows = rows.into_inner();
        let want: u64 = owners.iter().map(|o| self.expected[o]).sum();
        assert_eq!(rows, want, "{rows} rows extracted, {want} expected");
        Run {
            seconds,
            rows,
            bytes: bytes.into_inner(),
            requests: after.requests - before.requests,
            throttled: after.concurrency_throttled - before.concurrency_throttled,
        }
    }

    /// Runs `repeat` times, prints each run and returns the median by time.
    fn measure(
        &self,
        label: &str,
        owners: &[String],
        concurrency: usize,
        workers: usize,
        repeat: u64,
        latency: Duration,
    ) -> Run {
        let mut runs = Vec::new();
        for i in 1..=repeat {
            let run = self.run(owners, concurrency, workers);
            println!(
                "{label} run {i}: {} messages, {:.0} MB in {:.2}s: {:.0} messages/s, \
                 {} requests ({:.1} in flight on average), {} throttled",
                run.rows,
                run.bytes as f64 / 1e6,
                run.seconds,
                run.rows as f64 / run.seconds,
                run.requests,
                run.requests as f64 * latency.as_secs_f64() / run.seconds,
                run.throttled,
            );
            runs.push(run);
        }
        runs.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
        runs[runs.len() / 2]
    }
}

fn main() {
    let latency = Duration::from_millis(env_or("MDFLOW_BENCH_LATENCY_MS", 50).max(1));
    let mailboxes = env_or("MDFLOW_BENCH_MAILBOXES", 200).max(1) as u32;
    let per_mailbox = env_or("MDFLOW_BENCH_MESSAGES_PER_MAILBOX", 500) as u32;
    let page_size = env_or("MDFLOW_BENCH_PAGE_SIZE", 100).clamp(1, 1000) as u32;
    let concurrency = env_or("MDFLOW_BENCH_CONCURRENCY", 16).max(1) as usize;
    let workers = env_or("MDFLOW_BENCH_WORKERS", 2 * concurrency as u64).max(1) as usize;
    let copy_mailboxes = env_or("MDFLOW_BENCH_COPY_MAILBOXES", 40).clamp(1, mailboxes as u64);
    let sequential = env_or("MDFLOW_BENCH_SEQUENTIAL_MAILBOXES", 10).clamp(1, mailboxes as u64);
    let repeat = env_or("MDFLOW_BENCH_REPEAT", 3).max(1);
    let columns = std::env::var("MDFLOW_BENCH_COLUMNS").unwrap_or_else(|_| "all".into());
    let columns: Option<Vec<String>> = match columns.trim() {
        "" | "all" => None,
        "headers" => Some(
            [
                "id",
                "receivedDateTime",
                "sender",
                "toRecipients",
                "subject",
                "importance",
                "puser",
            ]
            .into_iter()
            .map(str::to_owned)
            .collect(),
        ),
        list => Some(list.split(',').map(|c| c.trim().to_owned()).collect()),
    };

    let from = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    let tenant = SyntheticConfig {
        users: mailboxes,
        messages_per_user: per_mailbox,
        seed: 1,
        from,
        to,
    };
    let table = Catalog::builtin().table("Message_v1").unwrap();
    let window = DateWindow {
        column: Some("receivedDateTime".into()),
        start: Utc.from_utc_datetime(&from.and_hms_opt(0, 0, 0).unwrap()),
        end: Utc.from_utc_datetime(&to.and_hms_opt(0, 0, 0).unwrap()),
    };

    // The expected rows, from the same tenant in process.
    let local = SyntheticTenant::new(tenant.clone()).expect("valid configuration");
    let owners: Vec<String> = local.users().unwrap().into_iter().map(|u| u.id).collect();
    let mut expected = HashMap::new();
    for owner in &owners {
        let request = ExtractRequest {
            table,
            owner,
            window: Some(window.clone()),
        };
        let mut n = 0u64;
        local
            .extract(&request, &mut |page| {
                n += page.matches('\n').count() as u64;
                Ok(())
            })
            .unwrap();
        expected.insert(owner.clone(), n);
    }
    drop(local);

    let mut config = EmulatorConfig::new(tenant, CLIENT, SECRET);
    config.faults = FaultConfig {
        latency,
        ..FaultConfig::default()
    };
    let emulator = Emulator::start(config).expect("the emulator starts");
    let bench = Bench {
        emulator: &emulator,
        table,
        window,
        page_size,
        columns: columns.clone(),
        expected,
    };

    let m = owners.len();
    let total: u64 = owners.iter().map(|o| bench.expected[o]).sum();
    let pages: u64 = owners
        .iter()
        .map(|o| bench.expected[o].div_ceil(page_size as u64).max(1))
        .sum();
    let l = latency.as_secs_f64();
    let ceiling = concurrency.min(4 * m) as f64 * page_size as f64 / l;
    let one_page = page_size as f64 / l;
    println!(
        "{m} mailboxes, {total} messages in {pages} pages of up to {page_size}; latency {} ms; \
         concurrency {concurrency}, {workers} mailboxes at once; columns: {}",
        latency.as_millis(),
        columns.as_ref().map_or("all".into(), |c| c.join(",")),
    );
    println!(
        "ceiling min({concurrency}, 4×{m}) × {page_size} / {l}s = {ceiling:.0} messages/s; \
         one page at a time: {one_page:.0} messages/s at best"
    );

    // The emulator generates each mailbox on its first request and keeps it; a warm-up
    // pass keeps generation out of the timed runs.
    let warm = bench.run(&owners, concurrency, workers);
    println!(
        "warm-up: {} messages in {:.2}s (generation included)",
        warm.rows, warm.seconds
    );

    let fast = bench.measure("mdflow", &owners, concurrency, workers, repeat, latency);
    // The Copy activity extracts min(cores, 8) mailboxes at once.
    let copy_workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 8);
    let copy_subset = &owners[..(copy_mailboxes as usize).min(m)];
    let copy = bench.measure(
        "copy activity's workers",
        copy_subset,
        concurrency,
        copy_workers,
        repeat,
        latency,
    );
    let subset = &owners[..(sequential as usize).min(m)];
    let slow = bench.measure("one page at a time", subset, 1, 1, repeat, latency);

    let rate = |r: &Run| r.rows as f64 / r.seconds;
    let (fast_rate, slow_rate) = (rate(&fast), rate(&slow));
    println!();
    println!("median of {repeat}:");
    println!("| client | mailboxes | messages | s | messages/s | % of ceiling | ratio |");
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| mdflow, C = {concurrency}, {workers} mailboxes at once | {m} | {} | {:.2} | {fast_rate:.0} | {:.1} | {:.1} |",
        fast.rows,
        fast.seconds,
        100.0 * fast_rate / ceiling,
        fast_rate / slow_rate
    );
    let copy_rate = rate(&copy);
    println!(
        "| mdflow, {copy_workers} mailboxes at once (the Copy activity's workers) | {} | {} | \
         {:.2} | {copy_rate:.0} | {:.1} | {:.1} |",
        copy_subset.len(),
        copy.rows,
        copy.seconds,
        100.0 * copy_rate / ceiling,
        copy_rate / slow_rate
    );
    println!(
        "| one page at a time | {} | {} | {:.2} | {slow_rate:.0} | {:.1} | 1.0 |",
        subset.len(),
        slow.rows,
        slow.seconds,
        100.0 * slow_rate / ceiling
    );
    println!(
        "targets: ≥ 90% of the ceiling ({}), ≥ 10× the one-page client ({})",
        if fast_rate >= 0.9 * ceiling {
            "met"
        } else {
            "NOT met"
        },
        if fast_rate >= 10.0 * slow_rate {
            "met"
        } else {
            "NOT met"
        },
    );
}
