//! Tests of the synthetic tenant: determinism, who is extracted, duplicates across
//! mailboxes, body sizes, conformance of every row to the catalog, windows and generation.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;

use super::*;
use crate::catalog::{Catalog, FieldType, NamedType};

fn small(seed: u64) -> SyntheticTenant {
    SyntheticTenant::new(SyntheticConfig {
        users: 40,
        messages_per_user: 12,
        seed,
        ..Default::default()
    })
    .unwrap()
}

fn table(name: &str) -> &'static Table {
    Catalog::builtin()
        .table(name)
        .unwrap_or_else(|| panic!("{name} not in the catalog"))
}

/// All text one owner's extraction delivers.
fn extract_text(
    t: &SyntheticTenant,
    name: &str,
    owner: &str,
    window: Option<DateWindow>,
) -> String {
    let request = ExtractRequest {
        table: table(name),
        owner,
        window,
    };
    let mut text = String::new();
    t.extract(&request, &mut |page| {
        assert!(page.ends_with('\n'));
        text.push_str(&page);
        Ok(())
    })
    .unwrap();
    text
}

fn rows(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).expect("each line is a JSON object"))
        .collect()
}

fn owners(t: &SyntheticTenant, name: &str) -> Vec<String> {
    if table(name).scope == Scope::Group {
        t.groups().unwrap()
    } else {
        t.users().unwrap().into_iter().map(|u| u.id).collect()
    }
}

/// Checks a value against a catalog type; `path` names the place in errors.
fn check(value: &Value, ty: &FieldType, path: &str) -> Result<(), String> {
    let ok = match (ty, value) {
        (_, Value::Null) | (FieldType::Json, _) => true,
        (FieldType::String, Value::String(_)) | (FieldType::Boolean, Value::Bool(_)) => true,
        (FieldType::Int32, Value::Number(n)) => {
            n.as_i64().is_some_and(|v| i32::try_from(v).is_ok())
        }
        (FieldType::Int64, Value::Number(n)) => n.is_i64(),
        (FieldType::Double, Value::Number(_)) => true,
        (FieldType::DateTime, Value::String(s)) => {
            DateTime::parse_from_rfc3339(s).is_ok() && s.ends_with('Z')
        }
        (FieldType::List(item), Value::Array(items)) => {
            for (i, v) in items.iter().enumerate() {
                check(v, item, &format!("{path}[{i}]"))?;
            }
            true
        }
        (FieldType::Struct(fields), Value::Object(map)) => {
            check_object(map, fields, path)?;
            true
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{path}: {value} is not a {ty}"))
    }
}

fn check_object(
    map: &serde_json::Map<String, Value>,
    fields: &[NamedType],
    path: &str,
) -> Result<(), String> {
    for (k, v) in map {
        let field = fields
            .iter()
            .find(|f| f.name == *k)
            .ok_or_else(|| format!("{path}.{k}: key not in the catalog"))?;
        check(v, &field.ty, &format!("{path}.{k}"))?;
    }
    Ok(())
}

#[test]
fn every_row_of_every_table_conforms_to_the_catalog() {
    let one = SyntheticConfig {
        users: 1,
        ..Default::default()
    };
    conforms(&small(3), true);
    // A one-user tenant has no neighbours, managers or reports, but must not break.
    conforms(&SyntheticTenant::new(one).unwrap(), false);
}

fn conforms(t: &SyntheticTenant, every_table_has_rows: bool) {
    for name in SUPPORTED_TABLES {
        let table = table(name);
        let mut count = 0;
        for owner in owners(t, name) {
            for row in rows(&extract_text(t, name, &owner, None)) {
                let map = row.as_object().expect("rows are objects");
                check_object(map, &table.columns, name).unwrap();
                for c in &table.columns {
                    assert!(map.contains_key(&c.name), "{name} row lacks {}", c.name);
                }
                assert_eq!(map["ptenant"], t.tenant_id());
                assert_eq!(map["puser"], owner.as_str());
                count += 1;
            }
        }
        assert!(
            count > 0 || !every_table_has_rows,
            "{name} delivered no rows"
        );
    }
}

#[test]
fn same_config_gives_same_bytes_and_another_seed_differs() {
    let (a, b, c) = (small(7), small(7), small(8));
    let owner = &owners(&a, "Message_v1")[3];
    let one = extract_text(&a, "Message_v1", owner, None);
    assert_eq!(one, extract_text(&b, "Message_v1", owner, None));
    assert_eq!(a.users().unwrap(), b.users().unwrap());
    let other_owner = &owners(&c, "Message_v1")[3];
    assert_ne!(one, extract_text(&c, "Message_v1", other_owner, None));
    assert_ne!(a.tenant_id(), c.tenant_id());
}

#[test]
fn invalid_accounts_are_never_users_nor_owners() {
    let t = small(5);
    let users = t.users().unwrap();
    let ids: HashSet<&str> = users.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(users.len(), 40);
    let invalid: Vec<u32> = (0..t.dir.people.len() as u32)
        .filter(|&i| !t.dir.is_valid(i))
        .collect();
    assert_eq!(
        invalid.len(),
        6,
        "two each of guests, disabled and unlicensed"
    );
    for i in invalid {
        let id = t.dir.id(i);
        assert!(!ids.contains(id.as_str()));
        assert_eq!(extract_text(&t, "Message_v1", &id, None), "");
    }
    for g in t.groups().unwrap() {
        for m in t.group_members(&g).unwrap() {
            assert!(
                ids.contains(m.as_str()),
                "group member {m} is not a valid user"
            );
        }
    }
}

#[test]
fn a_message_is_in_the_senders_sent_items_and_each_recipients_inbox() {
    let t = small(11);
    let users = t.users().unwrap();
    let by_mail: HashMap<String, String> = users
        .iter()
        .map(|u| (u.mail.to_ascii_lowercase(), u.id.clone()))
        .collect();

    // internetMessageId -> (sender copy, recipient mailboxes holding it, ids, folders)
    let mut sent: HashMap<String, Value> = HashMap::new();
    let mut inbox: HashMap<String, Vec<(String, String, String)>> = HashMap::new();
    let mut folders_seen = HashSet::new();
    for u in &users {
        for row in rows(&extract_text(&t, "Message_v1", &u.id, None)) {
            let imid = row["internetMessageId"].as_str().unwrap().to_owned();
            folders_seen.insert(row["parentFolderId"].as_str().unwrap().to_owned());
            let sender = row["from"]["emailAddress"]["address"].as_str().unwrap();
            if by_mail.get(&sender.to_ascii_lowercase()) == Some(&u.id)
                && row["sentDateTime"].is_string()
            {
                sent.insert(imid, row);
            } else {
                let id = row["id"].as_str().unwrap().to_owned();
                let folder = row["parentFolderId"].as_str().unwrap().to_owned();
                inbox
                    .entry(imid)
                    .or_default()
                    .push((u.id.clone(), id, folder));
            }
        }
    }
    assert!(
        folders_seen.len() > 2 * users.len(),
        "several folders per mailbox"
    );
    let mut checked = 0;
    for (imid, row) in &sent {
        let mut expected: Vec<String> = ["toRecipients", "ccRecipients", "bccRecipients"]
            .iter()
            .flat_map(|k| row[k].as_array().unwrap().clone())
            .filter_map(|r| {
                by_mail
                    .get(&r["emailAddress"]["address"].as_str()?.to_ascii_lowercase())
                    .cloned()
            })
            .collect();
        expected.sort();
        expected.dedup();
        let mut got: Vec<String> = inbox
            .get(imid)
            .map(|v| v.iter().map(|(o, _, _)| o.clone()).collect())
            .unwrap_or_default();
        got.sort();
        assert_eq!(got, expected, "copies of {imid}");
        if let Some(copies) = inbox.get(imid) {
            for (_, id, folder) in copies {
                assert_ne!(id, row["id"].as_str().unwrap());
                assert_ne!(folder, row["parentFolderId"].as_str().unwrap());
            }
            checked += copies.len();
        }
    }
    assert!(checked > 50, "only {checked} in-tenant copies were checked");
}

#[test]
fn body_sizes_range_from_one_kilobyte_to_large() {
    let t = SyntheticTenant::new(SyntheticConfig {
        users: 60,
        messages_per_user: 30,
        seed: 2,
        ..Default::default()
    })
    .unwrap();
    let mut sizes = Vec::new();
    for id in owners(&t, "Message_v1") {
        for row in rows(&extract_text(&t, "SentItem_v1", &id, None)) {
            sizes.push(row["body"]["content"].as_str().unwrap().len());
        }
    }
    sizes.sort_unstable();
    let (min, max) = (sizes[0], sizes[sizes.len() - 1]);
    assert!((1000..2000).contains(&min), "smallest body {min}");
    assert!(max > 30_000, "largest body {max}");
    assert!(
        sizes[sizes.len() / 2] < 6000,
        "median body {}",
        sizes[sizes.len() / 2]
    );
}

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
}

#[test]
fn windows_keep_rows_whose_column_is_inside() {
    let t = small(13);
    let owner = &owners(&t, "Message_v1")[0];
    let all = rows(&extract_text(&t, "Message_v1", owner, None));
    let window = DateWindow {
        column: Some("ReceivedDateTime".into()),
        start: at(2024, 3, 1),
        end: at(2024, 6, 1),
    };
    let kept = rows(&extract_text(&t, "Message_v1", owner, Some(window.clone())));
    let inside = |r: &Value| {
        let v: DateTime<Utc> = r["receivedDateTime"].as_str().unwrap().parse().unwrap();
        v >= window.start && v < window.end
    };
    assert!(!kept.is_empty() && kept.len() < all.len());
    assert!(kept.iter().all(inside));
    assert_eq!(kept.len(), all.iter().filter(|r| inside(r)).count());

    // Calendar views: the window bounds occurrence starts.
    let view = DateWindow {
        column: None,
        start: at(2024, 4, 1),
        end: at(2024, 5, 1),
    };
    let mut occurrences = 0;
    for o in owners(&t, "CalendarView_v0") {
        for row in rows(&extract_text(&t, "CalendarView_v0", &o, Some(view.clone()))) {
            let start = &row["start"];
            let start = start.get("dateTime").or(start.get("DateTime")).unwrap();
            let start = start.as_str().unwrap();
            assert!(start.starts_with("2024-04"), "occurrence starting {start}");
            occurrences += 1;
        }
    }
    assert!(occurrences > 0);
}

#[test]
fn directory_tables_follow_the_management_tree() {
    let t = small(17);
    let users = t.users().unwrap();
    let mut with_manager = 0;
    for u in &users {
        let me = rows(&extract_text(&t, "User_v1", &u.id, None));
        assert_eq!(me.len(), 1);
        assert_eq!(me[0]["id"], u.id.as_str());
        for m in rows(&extract_text(&t, "Manager_v0", &u.id, None)) {
            with_manager += 1;
            let manager = m["id"].as_str().unwrap();
            let reports = rows(&extract_text(&t, "DirectReport_v0", manager, None));
            // A disabled manager has no mailbox to extract from.
            if t.dir.is_valid(t.dir.index_of(manager).unwrap()) {
                assert!(reports.iter().any(|r| r["id"] == u.id.as_str()));
            }
        }
    }
    assert!(with_manager >= users.len() - 1);
}

#[test]
fn unsupported_tables_and_unknown_groups_are_errors() {
    let t = small(1);
    let owner = &owners(&t, "Message_v1")[0];
    let other = Catalog::builtin()
        .tables()
        .iter()
        .find(|x| !SUPPORTED_TABLES.contains(&x.short_name()) && x.scope == Scope::User)
        .unwrap();
    let request = ExtractRequest {
        table: other,
        owner,
        window: None,
    };
    let err = t.extract(&request, &mut |_| Ok(())).unwrap_err();
    assert!(matches!(err, TenantError::UnsupportedTable { .. }), "{err}");
    assert!(matches!(
        t.group_members("nope"),
        Err(TenantError::UnknownGroup(_))
    ));
    assert!(SyntheticTenant::new(SyntheticConfig {
        users: 0,
        ..Default::default()
    })
    .unwrap_err()
    .contains("users"));
}

#[test]
fn generate_writes_one_file_per_table() {
    let t = small(19);
    let dir = tempfile::tempdir().unwrap();
    let tables = [
        table("Message_v1"),
        table("GroupMembers_v0"),
        table("CalendarView_v0"),
    ];
    let summary = generate::generate_to_dir(&t, &tables, None, dir.path()).unwrap();
    assert_eq!(summary.tables.len(), 3);
    for s in &summary.tables {
        let text = std::fs::read_to_string(&s.path).unwrap();
        assert_eq!(text.len() as u64, s.bytes);
        assert_eq!(text.lines().count() as u64, s.rows);
        assert!(s.rows > 0);
    }
    let bad = dir.path().join("file");
    std::fs::write(&bad, "x").unwrap();
    let err = generate::generate_to_dir(&t, &tables, None, &bad).unwrap_err();
    assert!(err.to_string().contains("file"), "{err}");
}
