//! One conformance suite for tenant back-ends: the same scoping and extraction cases run
//! against the synthetic tenant in process and against the tenant emulator over HTTP on
//! loopback (through the `graph` back-end), and must give identical answers, byte for byte.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use mdflow_connectors::catalog::{Catalog, DateFilter, Scope, Table};
use mdflow_connectors::tenant::emulator::{Emulator, EmulatorConfig};
use mdflow_connectors::tenant::graph::{ClientSecret, GraphConfig, GraphTenant};
use mdflow_connectors::tenant::synthetic::{SyntheticConfig, SyntheticTenant, SUPPORTED_TABLES};
use mdflow_connectors::tenant::{DateWindow, ExtractRequest, TenantBackend, TenantError};

const CLIENT: &str = "11111111-2222-4333-8444-555555555555";
const SECRET: &str = "conformance-secret";

fn tenant_config() -> SyntheticConfig {
    SyntheticConfig {
        users: 14,
        messages_per_user: 10,
        seed: 11,
        ..SyntheticConfig::default()
    }
}

/// The emulator and a `graph` back-end pointed at it.
fn graph_backend(emulator: &Emulator) -> GraphTenant {
    let mut config = GraphConfig::new(emulator.tenant_id(), CLIENT, ClientSecret::new(SECRET));
    config.graph_endpoint = emulator.url();
    config.authority_host = emulator.url();
    config.retry_base_delay = Duration::from_millis(5);
    config.page_size = 7;
    GraphTenant::new(config).expect("valid settings")
}

fn start_emulator() -> Emulator {
    Emulator::start(EmulatorConfig::new(tenant_config(), CLIENT, SECRET)).expect("starts")
}

/// Every page of one extraction, concatenated.
fn extract(
    tenant: &dyn TenantBackend,
    table: &Table,
    owner: &str,
    window: Option<DateWindow>,
    columns: Option<&[String]>,
) -> Result<String, TenantError> {
    let request = ExtractRequest {
        table,
        owner,
        window,
    };
    let mut out = String::new();
    tenant.extract_columns(&request, columns, &mut |page| {
        out.push_str(&page);
        Ok(())
    })?;
    Ok(out)
}

fn window_of(table: &Table) -> Option<DateWindow> {
    let at = |m| Utc.with_ymd_and_hms(2024, m, 1, 0, 0, 0).unwrap();
    match table.date_filter {
        DateFilter::None => None,
        DateFilter::Window => Some(DateWindow {
            column: None,
            start: at(2),
            end: at(5),
        }),
        DateFilter::Column => Some(DateWindow {
            column: table.filter_columns.first().cloned(),
            start: at(3),
            end: at(9),
        }),
    }
}

/// Where two extractions first differ, for a readable failure.
fn assert_same(what: &str, expected: &str, actual: &str) {
    if expected == actual {
        return;
    }
    for (n, (e, a)) in expected.lines().zip(actual.lines()).enumerate() {
        assert_eq!(e, a, "{what}: row {n} differs");
    }
    assert_eq!(
        expected.lines().count(),
        actual.lines().count(),
        "{what}: row counts differ"
    );
    panic!("{what}: the texts differ in line endings");
}

/// Keeps the given columns and the envelope of each row.
fn project(rows: &str, columns: &[String]) -> String {
    let envelope = [
        "pObjectId",
        "ODataType",
        "puser",
        "ptenant",
        "pAdditionalInfo",
        "datarow",
        "userrow",
        "pagerow",
        "rowinformation",
    ];
    rows.lines()
        .map(|line| {
            let row: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(line).unwrap();
            let kept: serde_json::Map<_, _> = row
                .into_iter()
                .filter(|(k, _)| envelope.contains(&k.as_str()) || columns.iter().any(|c| c == k))
                .collect();
            serde_json::to_string(&kept).unwrap() + "\n"
        })
        .collect()
}

#[test]
fn scoping_is_the_same_in_process_and_over_http() {
    let synthetic = SyntheticTenant::new(tenant_config()).unwrap();
    let emulator = start_emulator();
    let graph = graph_backend(&emulator);

    assert_eq!(graph.tenant_id(), synthetic.tenant_id());
    let users = synthetic.users().unwrap();
    assert_eq!(graph.users().unwrap(), users);
    let groups = synthetic.groups().unwrap();
    assert_eq!(graph.groups().unwrap(), groups);
    for group in &groups {
        assert_eq!(
            graph.group_members(group).unwrap(),
            synthetic.group_members(group).unwrap(),
            "members of {group}"
        );
    }
    assert!(matches!(
        graph.group_members("00000000-0000-4000-8000-000000000000"),
        Err(TenantError::UnknownGroup(_))
    ));

    let department = users[3].department.clone().unwrap();
    let filters = [
        format!("https://graph.microsoft.com/v1.0/users?$filter=department eq '{department}'"),
        "https://graph.microsoft.com/v1.0/users?$filter=startswith(displayName,'a') or \
         country eq 'United States'"
            .to_owned(),
        format!(
            "https://graph.microsoft.com/v1.0/users?%24filter=not%20(department%20eq%20%27{}%27)",
            department.replace(' ', "%20")
        ),
    ];
    for uri in &filters {
        let expected = synthetic.scoped_users(uri).unwrap();
        assert!(!expected.is_empty() || uri.contains("startswith"), "{uri}");
        assert_eq!(graph.scoped_users(uri).unwrap(), expected, "{uri}");
    }
    let bad = "https://graph.microsoft.com/v1.0/users?$filter=accountEnabled eq true";
    assert!(matches!(
        graph.scoped_users(bad),
        Err(TenantError::BadUserScope(_))
    ));
}

#[test]
fn every_table_extracts_the_same_rows_in_process_and_over_http() {
    let synthetic = SyntheticTenant::new(tenant_config()).unwrap();
    let emulator = start_emulator();
    let graph = graph_backend(&emulator);
    let catalog = Catalog::builtin();
    let users = synthetic.users().unwrap();
    let groups = synthetic.groups().unwrap();

    for name in SUPPORTED_TABLES {
        let table = catalog.table(name).unwrap();
        if matches!(name, "Message_v0" | "TeamChat_v1") {
            let result = extract(&graph, table, &users[0].id, window_of(table), None);
            assert!(
                matches!(result, Err(TenantError::UnsupportedTable { .. })),
                "{name} has no Graph endpoint"
            );
            continue;
        }
        let owners: Vec<&str> = match table.scope {
            Scope::Group => groups.iter().map(String::as_str).collect(),
            _ => users.iter().map(|u| u.id.as_str()).collect(),
        };
        let mut rows = 0;
        for owner in owners {
            let window = window_of(table);
            let expected = extract(&synthetic, table, owner, window.clone(), None).unwrap();
            let actual = extract(&graph, table, owner, window, None).unwrap();
            assert_same(&format!("{name} of {owner}"), &expected, &actual);
            rows += expected.lines().count();
        }
        assert!(rows > 0, "{name} gave no rows at all");
    }
}

#[test]
fn selected_columns_and_unwindowed_tables_agree() {
    let synthetic = SyntheticTenant::new(tenant_config()).unwrap();
    let emulator = start_emulator();
    let graph = graph_backend(&emulator);
    let catalog = Catalog::builtin();
    let users = synthetic.users().unwrap();
    let cases: [(&str, &[&str]); 4] = [
        (
            "Message_v1",
            &["id", "subject", "receivedDateTime", "sender"],
        ),
        ("Event_v1", &["id", "start", "attachments"]),
        ("CalendarView_v0", &["id", "vseriesMasterId", "subject"]),
        ("User_v1", &["id", "aboutMe", "assignedPlans"]),
    ];
    for (name, columns) in cases {
        let table = catalog.table(name).unwrap();
        let columns: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
        for user in users.iter().take(5) {
            let window = window_of(table);
            let all = extract(&synthetic, table, &user.id, window.clone(), None).unwrap();
            let actual = extract(&graph, table, &user.id, window, Some(&columns)).unwrap();
            assert_same(
                &format!("{name} {columns:?} of {}", user.id),
                &project(&all, &columns),
                &actual,
            );
        }
    }

    // A date-filtered table without a window gives everything from both.
    let table = catalog.table("Inbox_v1").unwrap();
    for user in users.iter().take(3) {
        let expected = extract(&synthetic, table, &user.id, None, None).unwrap();
        let actual = extract(&graph, table, &user.id, None, None).unwrap();
        assert_same("Inbox_v1 without a window", &expected, &actual);
    }
}
