//! Faults injected by the tenant emulator (throttling, server errors, dropped connections,
//! cut-off answers, latency, expiring tokens) must not change what an extraction through
//! the `graph` back-end delivers: exactly the fault-free rows, or a clear failure naming
//! the last error once the retries run out.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use mdflow_connectors::catalog::{Catalog, Table};
use mdflow_connectors::tenant::emulator::{Emulator, EmulatorConfig, FaultConfig, FaultKind};
use mdflow_connectors::tenant::graph::{ClientSecret, GraphConfig, GraphTenant};
use mdflow_connectors::tenant::synthetic::{SyntheticConfig, SyntheticTenant};
use mdflow_connectors::tenant::{DateWindow, ExtractRequest, TenantBackend, TenantError};

const CLIENT: &str = "faults-client";
const SECRET: &str = "faults-secret";

fn tenant_config() -> SyntheticConfig {
    SyntheticConfig {
        users: 8,
        messages_per_user: 12,
        seed: 5,
        ..SyntheticConfig::default()
    }
}

fn emulator(faults: FaultConfig, token_lifetime: Duration) -> Emulator {
    let mut config = EmulatorConfig::new(tenant_config(), CLIENT, SECRET);
    config.faults = faults;
    config.token_lifetime = token_lifetime;
    Emulator::start(config).expect("starts")
}

fn backend(emulator: &Emulator, max_retries: u32) -> GraphTenant {
    let mut config = GraphConfig::new(emulator.tenant_id(), CLIENT, ClientSecret::new(SECRET));
    config.graph_endpoint = emulator.url();
    config.authority_host = emulator.url();
    config.retry_base_delay = Duration::from_millis(2);
    config.max_retries = max_retries;
    config.request_timeout = Duration::from_secs(10);
    config.page_size = 5;
    GraphTenant::new(config).expect("valid settings")
}

/// Every mailbox's rows of a table, in mailbox order.
fn extract_all(tenant: &dyn TenantBackend, table: &Table) -> Result<String, TenantError> {
    let window = DateWindow {
        column: Some("receivedDateTime".into()),
        start: Utc.with_ymd_and_hms(2024, 2, 1, 0, 0, 0).unwrap(),
        end: Utc.with_ymd_and_hms(2024, 11, 1, 0, 0, 0).unwrap(),
    };
    let mut out = String::new();
    for user in tenant.users()? {
        let request = ExtractRequest {
            table,
            owner: &user.id,
            window: Some(window.clone()),
        };
        tenant.extract(&request, &mut |page| {
            out.push_str(&page);
            Ok(())
        })?;
    }
    Ok(out)
}

#[test]
fn extraction_under_heavy_faults_gives_exactly_the_fault_free_rows() {
    let table = Catalog::builtin().table("Message_v1").unwrap();
    let expected = extract_all(&SyntheticTenant::new(tenant_config()).unwrap(), table).unwrap();
    assert!(expected.lines().count() > 30);
    for seed in 1..=4 {
        let emulator = emulator(
            FaultConfig {
                rate: 0.35,
                seed,
                retry_after_secs: 0,
                ..FaultConfig::default()
            },
            Duration::from_secs(3600),
        );
        let graph = backend(&emulator, 12);
        let actual = extract_all(&graph, table).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert!(
            actual == expected,
            "seed {seed}: rows differ from the fault-free rows"
        );
        let stats = emulator.stats();
        assert!(
            stats.faults > 5,
            "seed {seed}: only {} faults",
            stats.faults
        );
        assert_eq!(stats.concurrency_throttled, 0);
    }
}

#[test]
fn each_fault_kind_alone_is_survived() {
    let table = Catalog::builtin().table("Inbox_v1").unwrap();
    let expected = extract_all(&SyntheticTenant::new(tenant_config()).unwrap(), table).unwrap();
    for kind in FaultKind::ALL {
        let emulator = emulator(
            FaultConfig {
                rate: 0.5,
                seed: 9,
                kinds: vec![kind],
                retry_after_secs: 0,
                ..FaultConfig::default()
            },
            Duration::from_secs(3600),
        );
        let actual = extract_all(&backend(&emulator, 15), table)
            .unwrap_or_else(|e| panic!("{}: {e}", kind.name()));
        assert!(actual == expected, "{}: rows differ", kind.name());
        assert!(
            emulator.stats().faults > 0,
            "{}: no fault injected",
            kind.name()
        );
    }
}

#[test]
fn retries_are_bounded_and_the_failure_names_the_last_error() {
    let emulator = emulator(
        FaultConfig {
            rate: 1.0,
            seed: 1,
            kinds: vec![FaultKind::Unavailable],
            retry_after_secs: 0,
            ..FaultConfig::default()
        },
        Duration::from_secs(3600),
    );
    let graph = backend(&emulator, 3);
    let error = graph.users().unwrap_err().to_string();
    assert!(error.contains("failed after 3 retries"), "{error}");
    assert!(error.contains("503"), "{error}");
    assert!(!error.contains(SECRET));
    assert_eq!(emulator.stats().requests, 4);
}

#[test]
fn expiring_tokens_are_renewed_before_graph_refuses_them() {
    let emulator = emulator(FaultConfig::default(), Duration::from_secs(1));
    let graph = backend(&emulator, 2);
    let table = Catalog::builtin().table("Contact_v1").unwrap();
    let first = extract_all(&graph, table).unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    let second = extract_all(&graph, table).unwrap();
    assert_eq!(first, second);
    let stats = emulator.stats();
    assert!(stats.tokens_issued >= 2, "{stats:?}");
    assert_eq!(stats.unauthorized, 0, "{stats:?}");
}

#[test]
fn wrong_credentials_fail_without_retrying_or_showing_the_secret() {
    let emulator = emulator(FaultConfig::default(), Duration::from_secs(3600));
    let mut config = GraphConfig::new(
        emulator.tenant_id(),
        CLIENT,
        ClientSecret::new("not-the-secret"),
    );
    config.graph_endpoint = emulator.url();
    config.authority_host = emulator.url();
    let error = GraphTenant::new(config).unwrap().users().unwrap_err();
    let text = error.to_string();
    assert!(matches!(error, TenantError::Authentication(_)), "{text}");
    assert!(text.contains("invalid_client"), "{text}");
    assert!(!text.contains("not-the-secret"), "{text}");
}

#[test]
fn parallel_extraction_of_one_mailbox_stays_within_its_concurrency_limit() {
    let emulator = emulator(
        FaultConfig {
            latency: Duration::from_millis(30),
            ..FaultConfig::default()
        },
        Duration::from_secs(3600),
    );
    let graph = backend(&emulator, 0);
    let table = Catalog::builtin().table("Message_v1").unwrap();
    let owner = graph.users().unwrap()[0].id.clone();
    std::thread::scope(|s| {
        for _ in 0..10 {
            s.spawn(|| {
                let request = ExtractRequest {
                    table,
                    owner: &owner,
                    window: None,
                };
                graph.extract(&request, &mut |_| Ok(())).unwrap();
            });
        }
    });
    assert_eq!(emulator.stats().concurrency_throttled, 0);
}
