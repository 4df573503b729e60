//! The `graph` tenant back-end: Office 365 rows read through Microsoft Graph v1.0 with an
//! app registration's client credentials, shaped as the catalog's MGDC rows.
//!
//! Graph and the identity provider are reached at configurable hosts (national clouds, the
//! tenant emulator in tests). Requests follow Graph's throttling rules; see
//! `docs/graph.md`.

mod auth;
mod client;
mod pages;
mod retry;
pub(crate) mod shape;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Url;
use serde_json::Value;

use self::auth::TokenSource;
use self::client::{Fetched, GraphClient};
use self::pages::RowPager;
use self::retry::RetryPolicy;
use crate::catalog::{DateFilter, Scope, Table};
use crate::columnar::scan;
use crate::tenant::odata::Query;
use crate::tenant::{DirectoryUser, ExtractRequest, Page, TenantBackend, TenantError};

pub use self::client::PER_MAILBOX as MAILBOX_CONCURRENCY;

/// The name tenant errors use for this back-end.
const BACKEND: &str = "graph";

/// Microsoft Graph's global endpoint.
pub const DEFAULT_GRAPH_ENDPOINT: &str = "https://graph.microsoft.com";
/// Microsoft Entra ID's global authority.
pub const DEFAULT_AUTHORITY_HOST: &str = "https://login.microsoftonline.com";

/// A client secret. It prints as `<redacted>`; only the token request reads it.
#[derive(Clone)]
pub struct ClientSecret(String);

impl ClientSecret {
    /// Wraps a secret's text.
    pub fn new(text: impl Into<String>) -> Self {
        ClientSecret(text.into())
    }

    fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// How to reach a tenant through Graph.
#[derive(Debug, Clone)]
pub struct GraphConfig {
    /// The Microsoft 365 tenant; rows carry it as `ptenant`.
    pub tenant_id: String,
    /// The app registration's tenant, where tokens are asked for.
    pub authority_tenant_id: String,
    /// The app's client id.
    pub client_id: String,
    /// The app's client secret.
    pub client_secret: ClientSecret,
    /// Graph's scheme and host, such as `https://graph.microsoft.com`.
    pub graph_endpoint: String,
    /// The identity provider's scheme and host, such as `https://login.microsoftonline.com`.
    pub authority_host: String,
    /// Requests in flight over all mailboxes.
    pub max_concurrent_requests: usize,
    /// Retries of a request before it fails.
    pub max_retries: u32,
    /// The first back-off; each retry doubles it, up to 30 seconds.
    pub retry_base_delay: Duration,
    /// How long one request may take.
    pub request_timeout: Duration,
    /// `$top` of mail, calendar and contact pages (1 to 1000).
    pub page_size: u32,
}

impl GraphConfig {
    /// Settings for a tenant whose app registration lives in the same tenant, against the
    /// global cloud, with default limits.
    pub fn new(tenant_id: &str, client_id: &str, client_secret: ClientSecret) -> Self {
        GraphConfig {
            tenant_id: tenant_id.to_owned(),
            authority_tenant_id: tenant_id.to_owned(),
            client_id: client_id.to_owned(),
            client_secret,
            graph_endpoint: DEFAULT_GRAPH_ENDPOINT.to_owned(),
            authority_host: DEFAULT_AUTHORITY_HOST.to_owned(),
            max_concurrent_requests: 16,
            max_retries: 6,
            retry_base_delay: Duration::from_millis(500),
            request_timeout: Duration::from_secs(100),
            page_size: 100,
        }
    }
}

/// Which Graph endpoint holds a table, and how it answers.
#[derive(Debug, Clone, Copy)]
enum Endpoint {
    /// A collection under `/users/{id}/`.
    UserCollection(&'static str),
    /// A single object under `/users/{id}/` (`""` is the user itself).
    UserObject(&'static str),
    /// The calendar view, bounded by the window.
    CalendarView,
    /// A single object under `/groups/{id}/`.
    GroupObject(&'static str),
    /// A collection under `/groups/{id}/`.
    GroupCollection(&'static str),
}

fn endpoint(table: &Table) -> Option<(Endpoint, &'static str)> {
    use Endpoint::*;
    Some(match table.short_name() {
        "Message_v1" => (UserCollection("messages"), "#microsoft.graph.message"),
        "Inbox_v1" => (
            UserCollection("mailFolders/inbox/messages"),
            "#microsoft.graph.message",
        ),
        "SentItem_v1" | "SentItems_v1" => (
            UserCollection("mailFolders/sentitems/messages"),
            "#microsoft.graph.message",
        ),
        "MailFolder_v0" => (UserCollection("mailFolders"), "#microsoft.graph.mailFolder"),
        "Event_v1" => (UserCollection("events"), "#microsoft.graph.event"),
        "CalendarView_v0" => (CalendarView, "#microsoft.graph.event"),
        "Contact_v1" => (UserCollection("contacts"), "#microsoft.graph.contact"),
        "DirectReport_v0" => (UserCollection("directReports"), "#microsoft.graph.user"),
        "User_v1" => (UserObject(""), "#microsoft.graph.user"),
        "Manager_v0" => (UserObject("manager"), "#microsoft.graph.user"),
        "MailboxSettings_v0" => (
            UserObject("mailboxSettings"),
            "#microsoft.graph.mailboxSettings",
        ),
        "GroupDetails_v0" => (GroupObject(""), "#microsoft.graph.group"),
        "GroupMembers_v0" => (GroupCollection("members"), "#microsoft.graph.user"),
        _ => return None,
    })
}

/// The properties scoping reads of every user.
const USER_SELECT: &str = "id,userPrincipalName,mail,displayName,department,jobTitle,\
officeLocation,country,usageLocation,accountEnabled,userType,assignedPlans";

/// Directory pages hold up to 999 objects.
const DIRECTORY_TOP: &str = "999";

/// Valid users in [`TenantBackend::users`] order, and each one's position by lower-cased id.
type UserIndex = (Vec<DirectoryUser>, HashMap<String, usize>);

/// A tenant read through Microsoft Graph.
pub struct GraphTenant {
    config: GraphConfig,
    graph: Url,
    client: GraphClient,
    /// Valid users, read once, with their position for ordering.
    users: Mutex<Option<Arc<UserIndex>>>,
}

impl std::fmt::Debug for GraphTenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphTenant")
            .field("tenant_id", &self.config.tenant_id)
            .field("graph", &self.graph.as_str())
            .finish()
    }
}

/// Checks an endpoint URL: HTTPS, or plain HTTP on loopback only (the emulator).
fn endpoint_url(what: &str, text: &str) -> Result<Url, TenantError> {
    let url = Url::parse(text.trim_end_matches('/'))
        .map_err(|e| TenantError::Setting(format!("{what} `{text}` is not a URL: {e}")))?;
    let loopback = matches!(
        url.host_str(),
        Some("127.0.0.1" | "localhost" | "[::1]" | "::1")
    );
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(TenantError::Setting(format!(
            "{what} `{text}` must use https (plain http is accepted on 127.0.0.1 and \
             localhost only, for the tenant emulator)"
        ))),
    }
}

impl GraphTenant {
    /// Checks the settings and prepares the HTTP client; nothing is sent until the first
    /// question.
    pub fn new(config: GraphConfig) -> Result<Self, TenantError> {
        let graph = endpoint_url("graphEndpoint", &config.graph_endpoint)?;
        let authority = endpoint_url("authorityHost", &config.authority_host)?;
        if !(1..=1000).contains(&config.page_size) {
            return Err(TenantError::Setting(format!(
                "the page size {} is not between 1 and 1000",
                config.page_size
            )));
        }
        let http = reqwest::blocking::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(config.request_timeout.min(Duration::from_secs(30)))
            .user_agent(concat!("mdflow/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| TenantError::Setting(format!("the HTTP client cannot start: {e}")))?;
        let token_url = format!(
            "{}/{}/oauth2/v2.0/token",
            authority.as_str().trim_end_matches('/'),
            config.authority_tenant_id
        );
        let scope = format!("{}/.default", graph.as_str().trim_end_matches('/'));
        let tokens = TokenSource::new(
            token_url,
            config.client_id.clone(),
            config.client_secret.clone(),
            scope,
        );
        let policy = RetryPolicy {
            max_retries: config.max_retries,
            base_delay: config.retry_base_delay,
            max_delay: Duration::from_secs(30),
        };
        let client = GraphClient::new(http, tokens, policy, config.max_concurrent_requests);
        Ok(GraphTenant {
            config,
            graph,
            client,
            users: Mutex::new(None),
        })
    }

    /// `{graph}/v1.0/{path}` with query parameters.
    fn url(&self, path: &[&str], params: &[(&str, &str)]) -> Url {
        let mut url = self.graph.clone();
        {
            let mut segments = url.path_segments_mut().expect("an http(s) URL has a path");
            segments.pop_if_empty().push("v1.0");
            for part in path {
                segments.extend(part.split('/'));
            }
        }
        if !params.is_empty() {
            let mut query = url.query_pairs_mut();
            for (k, v) in params {
                query.append_pair(k, v);
            }
        }
        url
    }

    /// Follows a collection's pages from `first`, calling `on_item` with the JSON text of
    /// each object as Graph wrote it. Returns Graph's message when there is no collection.
    fn each_page(
        &self,
        first: Url,
        mailbox: Option<&str>,
        on_item: &mut dyn FnMut(&str) -> Result<(), TenantError>,
    ) -> Result<Option<String>, TenantError> {
        let mut next = Some(first);
        while let Some(url) = next.take() {
            let body = match self.client.get(&url, mailbox)? {
                Fetched::Found(body) => body,
                Fetched::NotFound(message) => return Ok(Some(message)),
            };
            let no_list = || {
                TenantError::Service(format!(
                    "GET {}: the answer has no `value` list",
                    url.path()
                ))
            };
            let mut items = None;
            for (name, value) in scan::members(&body).map_err(|_| no_list())? {
                match name.as_ref() {
                    "value" => items = Some(value),
                    "@odata.nextLink" => {
                        let link: Option<String> = serde_json::from_str(value).map_err(|e| {
                            TenantError::Service(format!(
                                "Graph gave a next link that is not text: {e}"
                            ))
                        })?;
                        next = link.map(|link| self.next_link(&link)).transpose()?;
                    }
                    _ => {}
                }
            }
            let items = items.ok_or_else(no_list)?;
            for item in scan::items(items).map_err(|_| no_list())? {
                on_item(item)?;
            }
        }
        Ok(None)
    }

    /// [`GraphTenant::each_page`] for directory objects, decoded.
    fn each_object(
        &self,
        first: Url,
        mailbox: Option<&str>,
        on_item: &mut dyn FnMut(Value) -> Result<(), TenantError>,
    ) -> Result<Option<String>, TenantError> {
        self.each_page(first, mailbox, &mut |text| {
            let object = serde_json::from_str(text).map_err(|e| {
                TenantError::Service(format!("Graph answered an object that cannot be read: {e}"))
            })?;
            on_item(object)
        })
    }

    /// A next link, used as given, as long as it stays on the Graph host: the token must
    /// not travel anywhere else.
    fn next_link(&self, link: &str) -> Result<Url, TenantError> {
        let url = Url::parse(link).map_err(|e| {
            TenantError::Service(format!("Graph gave a next link that is not a URL: {e}"))
        })?;
        if url.origin() != self.graph.origin() {
            return Err(TenantError::Service(format!(
                "Graph gave a next link to another host ({}); it is not followed",
                url.host_str().unwrap_or_default()
            )));
        }
        Ok(url)
    }

    fn valid_users(&self) -> Result<Arc<UserIndex>, TenantError> {
        let mut cached = self.users.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(users) = cached.as_ref() {
            return Ok(users.clone());
        }
        let url = self.url(
            &["users"],
            &[("$select", USER_SELECT), ("$top", DIRECTORY_TOP)],
        );
        let mut users = Vec::new();
        self.each_object(url, None, &mut |user| {
            if is_valid(&user) {
                users.push(directory_user(&user)?);
            }
            Ok(())
        })?;
        let positions = users
            .iter()
            .enumerate()
            .map(|(i, u)| (u.id.to_ascii_lowercase(), i))
            .collect();
        let users = Arc::new((users, positions));
        *cached = Some(users.clone());
        Ok(users)
    }

    /// Valid user ids among Graph objects, in [`TenantBackend::users`] order.
    fn in_user_order(&self, ids: Vec<String>) -> Result<Vec<String>, TenantError> {
        let users = self.valid_users()?;
        let mut found: Vec<usize> = ids
            .iter()
            .filter_map(|id| users.1.get(&id.to_ascii_lowercase()).copied())
            .collect();
        found.sort_unstable();
        found.dedup();
        Ok(found.into_iter().map(|i| users.0[i].id.clone()).collect())
    }
}

/// An enabled member with an enabled Exchange plan.
fn is_valid(user: &Value) -> bool {
    let enabled = user["accountEnabled"].as_bool() == Some(true);
    let member = user["userType"]
        .as_str()
        .is_none_or(|t| t.eq_ignore_ascii_case("Member"));
    let exchange = user["assignedPlans"].as_array().is_some_and(|plans| {
        plans.iter().any(|p| {
            p["service"]
                .as_str()
                .is_some_and(|s| s.eq_ignore_ascii_case("exchange"))
                && p["capabilityStatus"].as_str() == Some("Enabled")
        })
    });
    enabled && member && exchange
}

fn directory_user(user: &Value) -> Result<DirectoryUser, TenantError> {
    let text = |key: &str| user[key].as_str().map(str::to_owned);
    Ok(DirectoryUser {
        id: text("id")
            .ok_or_else(|| TenantError::Service("Graph listed a user without an id".into()))?,
        user_principal_name: text("userPrincipalName").unwrap_or_default(),
        mail: text("mail").unwrap_or_default(),
        display_name: text("displayName").unwrap_or_default(),
        department: text("department"),
        job_title: text("jobTitle"),
        office_location: text("officeLocation"),
        country: text("country"),
        usage_location: text("usageLocation"),
    })
}

impl TenantBackend for GraphTenant {
    fn tenant_id(&self) -> &str {
        &self.config.tenant_id
    }

    fn users(&self) -> Result<Vec<DirectoryUser>, TenantError> {
        Ok(self.valid_users()?.0.clone())
    }

    fn group_members(&self, group_id: &str) -> Result<Vec<String>, TenantError> {
        let url = self.url(
            &["groups", group_id, "transitiveMembers"],
            &[("$select", "id"), ("$top", DIRECTORY_TOP)],
        );
        let mut ids = Vec::new();
        let missing = self.each_object(url, None, &mut |member| {
            let is_user = member["@odata.type"]
                .as_str()
                .is_none_or(|t| t.eq_ignore_ascii_case("#microsoft.graph.user"));
            if let (true, Some(id)) = (is_user, member["id"].as_str()) {
                ids.push(id.to_owned());
            }
            Ok(())
        })?;
        if missing.is_some() {
            return Err(TenantError::UnknownGroup(group_id.to_owned()));
        }
        self.in_user_order(ids)
    }

    fn groups(&self) -> Result<Vec<String>, TenantError> {
        let url = self.url(&["groups"], &[("$select", "id"), ("$top", DIRECTORY_TOP)]);
        let mut ids = Vec::new();
        self.each_object(url, None, &mut |group| {
            if let Some(id) = group["id"].as_str() {
                ids.push(id.to_owned());
            }
            Ok(())
        })?;
        Ok(ids)
    }

    fn scoped_users(&self, uri: &str) -> Result<Vec<DirectoryUser>, TenantError> {
        // The query goes to this tenant's Graph endpoint whatever host the URI names.
        let (path, query) = uri.split_once('?').unwrap_or(("", uri));
        if !path.is_empty()
            && !path
                .trim_end_matches('/')
                .to_ascii_lowercase()
                .ends_with("/users")
        {
            return Err(TenantError::BadUserScope(format!(
                "expected a users query such as \
                 https://graph.microsoft.com/v1.0/users?$filter=department eq 'Finance', \
                 found the path `{path}`"
            )));
        }
        let query = Query::parse(query).map_err(TenantError::BadUserScope)?;
        if query.get("filter").is_none() {
            // Same message as the local evaluation gives.
            crate::tenant::scope::parse_user_scope(uri)?;
        }
        let mut params: Vec<(&str, &str)> = query
            .params
            .iter()
            .filter(|(k, _)| !["$select", "$top", "$skiptoken"].contains(&k.as_str()))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        params.push(("$select", "id"));
        params.push(("$top", DIRECTORY_TOP));
        let url = self.url(&["users"], &params);
        let mut ids = Vec::new();
        let result = self.each_object(url, None, &mut |user| {
            if let Some(id) = user["id"].as_str() {
                ids.push(id.to_owned());
            }
            Ok(())
        });
        match result {
            Ok(_) => {}
            Err(TenantError::Service(message)) if message.contains("400 Bad Request") => {
                return Err(TenantError::BadUserScope(message))
            }
            Err(e) => return Err(e),
        }
        let users = self.valid_users()?;
        let picked = self.in_user_order(ids)?;
        Ok(picked
            .iter()
            .filter_map(|id| users.1.get(&id.to_ascii_lowercase()))
            .map(|&i| users.0[i].clone())
            .collect())
    }

    fn extract(
        &self,
        request: &ExtractRequest<'_>,
        on_page: &mut dyn FnMut(Page) -> Result<(), TenantError>,
    ) -> Result<(), TenantError> {
        self.extract_columns(request, None, on_page)
    }

    fn extract_columns(
        &self,
        request: &ExtractRequest<'_>,
        columns: Option<&[String]>,
        on_page: &mut dyn FnMut(Page) -> Result<(), TenantError>,
    ) -> Result<(), TenantError> {
        let table = request.table;
        let owner = request.owner;
        let (endpoint, default_type) =
            endpoint(table).ok_or_else(|| TenantError::UnsupportedTable {
                table: table.name.clone(),
                backend: BACKEND,
            })?;
        let group_scoped = table.scope == Scope::Group;
        // MGDC delivers nothing for owners that are not valid users; neither does this.
        if !group_scoped
            && !self
                .valid_users()?
                .1
                .contains_key(&owner.to_ascii_lowercase())
        {
            return Ok(());
        }

        let catalog: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        let wanted: Vec<&str> = match columns {
            Some(cols) => cols.iter().map(String::as_str).collect(),
            None => catalog.clone(),
        };
        let select: Vec<&str> = wanted
            .iter()
            .filter(|c| !shape::is_envelope(c) && !shape::is_expanded(c))
            .map(|c| shape::graph_name(c))
            .collect();
        let select = select.join(",");
        let expand: Vec<&str> = wanted
            .iter()
            .copied()
            .filter(|c| shape::is_expanded(c))
            .collect();
        let expand = expand.join(",");
        let top = self.config.page_size.to_string();
        let mut params: Vec<(&str, String)> = Vec::new();
        if !select.is_empty() {
            params.push(("$select", select));
        }
        if !expand.is_empty() {
            params.push(("$expand", expand));
        }
        let window = request.window.as_ref();
        let instant = |t: &chrono::DateTime<chrono::Utc>| {
            t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
        };
        match (endpoint, table.date_filter, window) {
            (Endpoint::CalendarView, _, Some(w)) => {
                params.push(("startDateTime", instant(&w.start)));
                params.push(("endDateTime", instant(&w.end)));
            }
            (Endpoint::CalendarView, _, None) => {
                return Err(TenantError::Setting(format!(
                    "{} needs a startTime and an endTime through Graph",
                    table.name
                )))
            }
            (_, DateFilter::Column, Some(w)) => {
                if let Some(column) = &w.column {
                    params.push((
                        "$filter",
                        format!(
                            "{column} ge {} and {column} lt {}",
                            instant(&w.start),
                            instant(&w.end)
                        ),
                    ));
                }
            }
            _ => {}
        }

        let mut pager = RowPager::new(owner, &self.config.tenant_id, catalog, on_page);
        pager.selected = columns;
        pager.default_type = default_type;
        pager.group_scoped = group_scoped;
        let mailbox = (!group_scoped).then_some(owner);
        let (root, path, collection) = match endpoint {
            Endpoint::UserCollection(p) => ("users", p, true),
            Endpoint::CalendarView => ("users", "calendarView", true),
            Endpoint::UserObject(p) => ("users", p, false),
            Endpoint::GroupObject(p) => ("groups", p, false),
            Endpoint::GroupCollection(p) => ("groups", p, true),
        };
        if collection {
            params.push(("$top", top));
        }
        let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let segments: Vec<&str> = [root, owner, path]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect();
        let url = self.url(&segments, &params);

        let not_found = if collection {
            self.each_page(url.clone(), mailbox, &mut |item| pager.push(item))?
        } else {
            match self.client.get(&url, mailbox)? {
                Fetched::Found(object) => {
                    pager.push(&object)?;
                    None
                }
                Fetched::NotFound(message) => Some(message),
            }
        };
        match not_found {
            None => {}
            Some(_) if group_scoped => return Err(TenantError::UnknownGroup(owner.to_owned())),
            // A user without a manager: Graph answers 404, MGDC has no row.
            Some(_) if matches!(endpoint, Endpoint::UserObject("manager")) => {}
            Some(message) => {
                return Err(TenantError::Service(format!(
                    "GET {}: {message}",
                    url.path()
                )))
            }
        }
        pager.finish()
    }
}
