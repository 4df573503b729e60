//! The Graph v1.0 routes: the directory (users, groups, transitive members) and, per user,
//! the mail, calendar, contact, settings and org-chart endpoints, each backed by one
//! synthetic table. Rows lose their MGDC envelope and gain `@odata.type`; collections are
//! paged with `$top` and `@odata.nextLink`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use serde_json::{Map, Value};

use super::server::{graph_error, Shared};
use crate::catalog::Catalog;
use crate::tenant::graph::shape;
use crate::tenant::odata::{date_filter, Query};
use crate::tenant::scope::parse_user_scope;
use crate::tenant::{DateWindow, ExtractRequest, TenantBackend, TenantError};

/// An answer before it is sent.
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) body: String,
}

impl Reply {
    pub(crate) fn error(status: StatusCode, code: &str, message: &str) -> Reply {
        Reply {
            status,
            body: graph_error(code, message),
        }
    }

    fn bad_request(message: &str) -> Reply {
        Reply::error(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    fn not_found(what: &str) -> Reply {
        Reply::error(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            &format!("Resource '{what}' does not exist or one of its queried reference-property objects are not present."),
        )
    }
}

/// Graph objects of recently asked (table, owner, window) triples, and of collections also
/// per `$select`/`$expand`, so that paging through a mailbox generates and projects it once
/// rather than once per page.
#[derive(Default)]
pub(crate) struct RowCache {
    entries: Mutex<HashMap<String, Arc<Vec<String>>>>,
}

const CACHE_ENTRIES: usize = 256;

/// Page sizes: (default, maximum), as Graph has them.
const MAIL_PAGE: (usize, usize) = (10, 1000);
const DIRECTORY_PAGE: (usize, usize) = (100, 999);

/// What every route reads: the emulator, the request's path (for next links) and query.
struct Ctx<'a> {
    shared: &'a Shared,
    path: &'a str,
    query: &'a Query,
}

/// Answers one Graph request; `segments` is the decoded path, `v1.0` first.
pub(crate) fn route(shared: &Shared, path: &str, segments: &[String], query: &Query) -> Reply {
    let cx = &Ctx {
        shared,
        path,
        query,
    };
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    let lower: Vec<String> = s.iter().map(|x| x.to_ascii_lowercase()).collect();
    let l: Vec<&str> = lower.iter().map(String::as_str).collect();
    let result = match (&l[1..], &s[1..]) {
        (["users"], _) => list_users(cx),
        (["groups"], _) => list_groups(cx),
        (["groups", _, "transitivemembers"], [_, id, _]) => transitive_members(cx, id),
        (["groups", _], [_, id]) => single(cx, "GroupDetails_v0", id),
        (["groups", _, "members"], [_, id, _]) => {
            collection(cx, "GroupMembers_v0", id, None, DIRECTORY_PAGE)
        }
        (["users", _], [_, id]) => user(cx, id),
        (["users", _, rest @ ..], [_, id, ..]) => per_user(cx, id, rest),
        _ => Err(Reply::error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            &format!("Resource not found for the segment '{}'", s.join("/")),
        )),
    };
    result.unwrap_or_else(|reply| reply)
}

fn per_user(cx: &Ctx<'_>, id: &str, rest: &[&str]) -> Result<Reply, Reply> {
    if cx.shared.tenant.account_index(id).is_none() {
        return Err(Reply::not_found(id));
    }
    let window = || -> Result<Option<DateWindow>, Reply> {
        match cx.query.get("filter") {
            None => Ok(None),
            Some(filter) => {
                let (column, start, end) =
                    date_filter(filter).map_err(|e| Reply::bad_request(&e))?;
                Ok(Some(DateWindow {
                    column: Some(column),
                    start,
                    end,
                }))
            }
        }
    };
    match rest {
        ["messages"] => collection(cx, "Message_v1", id, window()?, MAIL_PAGE),
        ["mailfolders", "inbox", "messages"] => {
            collection(cx, "Inbox_v1", id, window()?, MAIL_PAGE)
        }
        ["mailfolders", "sentitems", "messages"] => {
            collection(cx, "SentItem_v1", id, window()?, MAIL_PAGE)
        }
        ["mailfolders"] => collection(cx, "MailFolder_v0", id, None, MAIL_PAGE),
        ["events"] => collection(cx, "Event_v1", id, window()?, MAIL_PAGE),
        ["calendarview"] => {
            let instant = |name: &str| -> Result<chrono::DateTime<chrono::Utc>, Reply> {
                let text = cx.query.get(name).ok_or_else(|| {
                    Reply::error(
                        StatusCode::BAD_REQUEST,
                        "ErrorInvalidParameter",
                        &format!("This request requires a time window specified by the query string parameters StartDateTime and EndDateTime; {name} is missing."),
                    )
                })?;
                chrono::DateTime::parse_from_rfc3339(text)
                    .map(|t| t.with_timezone(&chrono::Utc))
                    .map_err(|_| {
                        Reply::bad_request(&format!("Invalid {name} '{text}': expected ISO 8601"))
                    })
            };
            let window = DateWindow {
                column: None,
                start: instant("startDateTime")?,
                end: instant("endDateTime")?,
            };
            collection(cx, "CalendarView_v0", id, Some(window), MAIL_PAGE)
        }
        ["contacts"] => collection(cx, "Contact_v1", id, None, MAIL_PAGE),
        ["directreports"] => collection(cx, "DirectReport_v0", id, None, DIRECTORY_PAGE),
        ["mailboxsettings"] => single(cx, "MailboxSettings_v0", id),
        ["manager"] => single(cx, "Manager_v0", id),
        _ => Err(Reply::bad_request(&format!(
            "Resource not found for the segment '{}'",
            rest.join("/")
        ))),
    }
}

/// `/users/{id}`: the User_v1 row of a valid mailbox, or the directory object of any other
/// account.
fn user(cx: &Ctx<'_>, id: &str) -> Result<Reply, Reply> {
    let i = cx
        .shared
        .tenant
        .account_index(id)
        .ok_or_else(|| Reply::not_found(id))?;
    let rows = rows_of(cx, "User_v1", id, None)?;
    let object = match rows.first() {
        Some(row) => row.clone(),
        None => graph_object(&cx.shared.tenant.account_row(i), &[]),
    };
    Ok(ok(object_body(cx, &object)))
}

/// A single object: the table's first row, or 404.
fn single(cx: &Ctx<'_>, table: &str, id: &str) -> Result<Reply, Reply> {
    let rows = rows_of(cx, table, id, None)?;
    let row = rows.first().ok_or_else(|| Reply::not_found(id))?;
    Ok(ok(object_body(cx, row)))
}

fn collection(
    cx: &Ctx<'_>,
    table: &str,
    owner: &str,
    window: Option<DateWindow>,
    page: (usize, usize),
) -> Result<Reply, Reply> {
    let rows = cached_rows(cx, table, owner, window, true)?;
    let (top, skip) = paging(cx.query, page)?;
    let slice = rows.get(skip..).unwrap_or_default();
    let slice = &slice[..top.min(slice.len())];
    let more = skip + top < rows.len();
    Ok(ok(page_body(cx, slice, more, skip + top)))
}

fn list_users(cx: &Ctx<'_>) -> Result<Reply, Reply> {
    let filter = match cx.query.get("filter") {
        Some(f) => Some(
            parse_user_scope(&format!("?$filter={}", crate::tenant::odata::encode(f)))
                .map_err(|e| Reply::bad_request(&e.to_string()))?,
        ),
        None => None,
    };
    let picked: Vec<u32> = (0..cx.shared.tenant.account_count())
        .filter(|&i| {
            filter
                .as_ref()
                .is_none_or(|f| f.matches(&cx.shared.tenant.account(i)))
        })
        .collect();
    let (top, skip) = paging(cx.query, DIRECTORY_PAGE)?;
    let objects: Vec<String> = picked
        .iter()
        .skip(skip)
        .take(top)
        .map(|&i| graph_object(&cx.shared.tenant.account_row(i), &[]))
        .collect();
    Ok(ok(collection_body(
        cx,
        &objects,
        skip + top < picked.len(),
        skip + top,
    )))
}

fn list_groups(cx: &Ctx<'_>) -> Result<Reply, Reply> {
    let all: Vec<String> = cx
        .shared
        .tenant
        .group_names()
        .into_iter()
        .map(|(id, name)| group_object(&id, &name))
        .collect();
    page_of(cx, &all, DIRECTORY_PAGE)
}

fn transitive_members(cx: &Ctx<'_>, id: &str) -> Result<Reply, Reply> {
    let (accounts, groups) = cx
        .shared
        .tenant
        .transitive_members(id)
        .ok_or_else(|| Reply::not_found(id))?;
    let names = cx.shared.tenant.group_names();
    let mut objects: Vec<String> = accounts
        .iter()
        .map(|&i| graph_object(&cx.shared.tenant.account_row(i), &[]))
        .collect();
    objects.extend(groups.iter().map(|&g| {
        let (id, name) = &names[g as usize];
        group_object(id, name)
    }));
    page_of(cx, &objects, DIRECTORY_PAGE)
}

fn group_object(id: &str, name: &str) -> String {
    serde_json::json!({"@odata.type": "#microsoft.graph.group", "id": id, "displayName": name})
        .to_string()
}

fn paging(query: &Query, page: (usize, usize)) -> Result<(usize, usize), Reply> {
    let top = query
        .top(page.0, page.1)
        .map_err(|e| Reply::bad_request(&e))?;
    let skip = query.skip().map_err(|e| Reply::bad_request(&e))?;
    Ok((top, skip))
}

fn page_of(cx: &Ctx<'_>, rows: &[String], page: (usize, usize)) -> Result<Reply, Reply> {
    let (top, skip) = paging(cx.query, page)?;
    let slice: Vec<String> = rows.iter().skip(skip).take(top).cloned().collect();
    let more = skip + top < rows.len();
    Ok(ok(collection_body(cx, &slice, more, skip + top)))
}

fn ok(body: String) -> Reply {
    Reply {
        status: StatusCode::OK,
        body,
    }
}

/// `{"@odata.context", "value": [...], "@odata.nextLink"}` with `$select` applied.
fn collection_body(cx: &Ctx<'_>, objects: &[String], more: bool, next: usize) -> String {
    let projected: Vec<String> = objects.iter().map(|o| project(o, cx.query)).collect();
    page_body(cx, &projected, more, next)
}

/// A collection page of objects already projected.
fn page_body(cx: &Ctx<'_>, objects: &[String], more: bool, next: usize) -> String {
    let size: usize = objects.iter().map(|o| o.len() + 1).sum();
    let mut body = String::with_capacity(size + 256);
    body.push_str(&format!(
        "{{\"@odata.context\":\"{}/v1.0/$metadata#collection\",\"value\":[",
        cx.shared.base
    ));
    for (n, object) in objects.iter().enumerate() {
        if n > 0 {
            body.push(',');
        }
        body.push_str(object);
    }
    body.push(']');
    if more {
        let rest = cx.query.without_skip();
        let sep = if rest.is_empty() { "" } else { "&" };
        let link = format!("{}{}?{rest}{sep}$skiptoken={next}", cx.shared.base, cx.path);
        body.push_str(",\"@odata.nextLink\":");
        body.push_str(&Value::String(link).to_string());
    }
    body.push('}');
    body
}

fn object_body(cx: &Ctx<'_>, object: &str) -> String {
    let projected = project(object, cx.query);
    let context = format!(
        "{{\"@odata.context\":\"{}/v1.0/$metadata#entity\"",
        cx.shared.base
    );
    match projected.strip_prefix('{') {
        Some("}") => format!("{context}}}"),
        Some(rest) => format!("{context},{rest}"),
        None => projected,
    }
}

/// Keeps `@odata.*`, the selected properties (all when there is no `$select`) and
/// navigation properties only when expanded.
fn project(object: &str, query: &Query) -> String {
    let select = query.select();
    if select.is_none() && shape::EXPANDED.iter().all(|e| query.expands(e)) {
        return object.to_owned();
    }
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(object) else {
        return object.to_owned();
    };
    let kept: Map<String, Value> = map
        .into_iter()
        .filter(|(key, _)| {
            if key.starts_with("@odata.") {
                return true;
            }
            if shape::is_expanded(key) {
                return query.expands(key);
            }
            select
                .as_ref()
                .is_none_or(|s| s.iter().any(|p| p.eq_ignore_ascii_case(key)))
        })
        .collect();
    Value::Object(kept).to_string()
}

/// The Graph objects of one table for one owner, from the cache or generated.
fn rows_of(
    cx: &Ctx<'_>,
    table_name: &str,
    owner: &str,
    window: Option<DateWindow>,
) -> Result<Arc<Vec<String>>, Reply> {
    cached_rows(cx, table_name, owner, window, false)
}

/// The Graph objects of one table for one owner, from the cache or generated; `projected`
/// applies the request's `$select` and `$expand` before caching, so that paging through a
/// mailbox projects each object once rather than on every page.
fn cached_rows(
    cx: &Ctx<'_>,
    table_name: &str,
    owner: &str,
    window: Option<DateWindow>,
    projected: bool,
) -> Result<Arc<Vec<String>>, Reply> {
    let projection = if projected {
        let expanded: Vec<bool> = shape::EXPANDED
            .iter()
            .map(|e| cx.query.expands(e))
            .collect();
        format!("|{:?}|{expanded:?}", cx.query.select())
    } else {
        String::new()
    };
    let key = format!("{table_name}|{owner}|{window:?}{projection}");
    if let Some(rows) = cx
        .shared
        .cache
        .entries
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&key)
    {
        return Ok(rows.clone());
    }
    let table = Catalog::builtin()
        .table(table_name)
        .expect("the emulator's tables are in the catalog");
    let columns: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    let mut rows = Vec::new();
    let request = ExtractRequest {
        table,
        owner,
        window,
    };
    let extracted = cx.shared.tenant.extract(&request, &mut |page| {
        rows.extend(page.lines().map(|line| graph_object(line, &columns)));
        Ok(())
    });
    match extracted {
        Ok(()) => {}
        Err(TenantError::UnknownGroup(id)) => return Err(Reply::not_found(&id)),
        Err(e) => {
            return Err(Reply::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                &e.to_string(),
            ))
        }
    }
    if projected {
        rows = rows.iter().map(|o| project(o, cx.query)).collect();
    }
    let rows = Arc::new(rows);
    let mut cache = cx
        .shared
        .cache
        .entries
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if cache.len() >= CACHE_ENTRIES {
        cache.clear();
    }
    cache.insert(key, rows.clone());
    Ok(rows)
}

/// A synthetic row as Graph would send it: no envelope, `@odata.type` first, catalog
/// names that Graph spells differently renamed.
fn graph_object(row: &str, columns: &[&str]) -> String {
    let Ok(Value::Object(mut map)) = serde_json::from_str::<Value>(row) else {
        return row.to_owned();
    };
    let odata_type = map.remove("ODataType");
    let mut out = Map::new();
    if let Some(t) = odata_type {
        out.insert("@odata.type".into(), t);
    }
    for (key, value) in map {
        if shape::is_envelope(&key) {
            continue;
        }
        let graph = if columns.iter().any(|c| c.eq_ignore_ascii_case(&key)) {
            shape::graph_name(&key).to_owned()
        } else {
            key
        };
        out.insert(graph, value);
    }
    Value::Object(out).to_string()
}
