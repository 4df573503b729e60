//! Synthetic tenant generation throughput: every Message_v1 row of a tenant, generated on
//! all cores and discarded, so the figure is the generator's and not the disk's.
//!
//! `cargo bench --bench generate` (release profile). Size with MDFLOW_BENCH_USERS and
//! MDFLOW_BENCH_MESSAGES_PER_USER (default 50,000 users × 200 = 10 million messages);
//! MDFLOW_BENCH_REPEAT repeats (default 3) and the median is reported.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use chrono::{NaiveDate, TimeZone, Utc};
use mdflow_connectors::catalog::Catalog;
use mdflow_connectors::tenant::synthetic::{SyntheticConfig, SyntheticTenant};
use mdflow_connectors::tenant::{DateWindow, ExtractRequest, TenantBackend};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let users = env_or("MDFLOW_BENCH_USERS", 50_000) as u32;
    let per_user = env_or("MDFLOW_BENCH_MESSAGES_PER_USER", 200) as u32;
    let repeat = env_or("MDFLOW_BENCH_REPEAT", 3).max(1);
    let from = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    let config = SyntheticConfig {
        users,
        messages_per_user: per_user,
        seed: 1,
        from,
        to,
    };
    let tenant = SyntheticTenant::new(config).expect("valid configuration");
    let table = Catalog::builtin().table("Message_v1").unwrap();
    let window = DateWindow {
        column: Some("receivedDateTime".into()),
        start: Utc.from_utc_datetime(&from.and_hms_opt(0, 0, 0).unwrap()),
        end: Utc.from_utc_datetime(&to.and_hms_opt(0, 0, 0).unwrap()),
    };
    let owners: Vec<String> = tenant.users().unwrap().into_iter().map(|u| u.id).collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());

    let mut runs = Vec::new();
    for _ in 0..repeat {
        let next = AtomicUsize::new(0);
        let (rows, bytes) = (AtomicU64::new(0), AtomicU64::new(0));
        let started = Instant::now();
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(owner) = owners.get(i) else { break };
                    let request = ExtractRequest {
                        table,
                        owner,
                        window: Some(window.clone()),
                    };
                    tenant
                        .extract(&request, &mut |page| {
                            rows.fetch_add(page.matches('\n').count() as u64, Ordering::Relaxed);
                            bytes.fetch_add(page.len() as u64, Ordering::Relaxed);
                            Ok(())
                        })
                        .unwrap();
                });
            }
        });
        let seconds = started.elapsed().as_secs_f64();
        let (rows, bytes) = (rows.into_inner(), bytes.into_inner());
        println!(
            "run: {rows} messages, {:.2} GB in {seconds:.1}s: {:.0} messages/s, {:.0} MB/s",
            bytes as f64 / 1e9,
            rows as f64 / seconds,
            bytes as f64 / 1e6 / seconds
        );
        runs.push((seconds, rows, bytes));
    }
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (seconds, rows, bytes) = runs[runs.len() / 2];
    println!(
        "median of {repeat}: {users} users × {per_user}: {rows} messages in {seconds:.1}s on \
         {threads} threads ({:.0} messages/s, {:.0} MB/s)",
        rows as f64 / seconds,
        bytes as f64 / 1e6 / seconds
    );
}
