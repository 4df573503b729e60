//! Tenant back-ends: where Office 365 rows come from.
//!
//! Every back-end answers the same questions: who the valid users are, who belongs to a
//! group, and what a table holds for one mailbox (or group) inside a date window. Rows are
//! delivered as pages of JSON Lines text, exactly as MGDC would write them, so the copy
//! activity decodes them with the catalog schema whatever the back-end.

pub mod emulator;
pub mod graph;
pub(crate) mod odata;
pub mod scope;
pub mod synthetic;

use chrono::{DateTime, Utc};

use crate::catalog::Table;

/// A directory entry as scoping sees it. Only valid users (enabled members with an
/// Exchange licence) are ever returned by [`TenantBackend::users`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryUser {
    /// The object id; rows carry it as `puser`.
    pub id: String,
    /// The sign-in name.
    pub user_principal_name: String,
    /// The primary SMTP address.
    pub mail: String,
    /// Display name.
    pub display_name: String,
    /// Department, when set.
    pub department: Option<String>,
    /// Job title, when set.
    pub job_title: Option<String>,
    /// Office location, when set.
    pub office_location: Option<String>,
    /// Country, when set.
    pub country: Option<String>,
    /// Usage location (two-letter country code), when set.
    pub usage_location: Option<String>,
}

impl DirectoryUser {
    /// A property by its Graph name, for `$filter` queries; names ignore case as Graph does.
    pub fn property(&self, name: &str) -> Option<&str> {
        match name.to_ascii_lowercase().as_str() {
            "id" => Some(&self.id),
            "userprincipalname" => Some(&self.user_principal_name),
            "mail" => Some(&self.mail),
            "displayname" => Some(&self.display_name),
            "department" => self.department.as_deref(),
            "jobtitle" => self.job_title.as_deref(),
            "officelocation" => self.office_location.as_deref(),
            "country" => self.country.as_deref(),
            "usagelocation" => self.usage_location.as_deref(),
            _ => None,
        }
    }
}

/// The inclusive-start, exclusive-end window a date filter keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateWindow {
    /// The filter column as the table spells it; `None` for calendar views, whose window
    /// bounds the occurrences instead.
    pub column: Option<String>,
    /// First instant kept.
    pub start: DateTime<Utc>,
    /// First instant no longer kept.
    pub end: DateTime<Utc>,
}

/// What to extract for one owner (a mailbox, or a group for group-scoped tables).
#[derive(Debug, Clone)]
pub struct ExtractRequest<'a> {
    /// The table.
    pub table: &'a Table,
    /// The user or group id.
    pub owner: &'a str,
    /// The date window, when the table is filtered.
    pub window: Option<DateWindow>,
}

/// Errors a tenant back-end reports.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TenantError {
    /// The back-end does not hold this table.
    #[error("table {table} is not available from the {backend} tenant")]
    UnsupportedTable {
        /// Table name.
        table: String,
        /// Back-end name.
        backend: &'static str,
    },
    /// A group id that the tenant does not know.
    #[error("group {0} does not exist in the tenant")]
    UnknownGroup(String),
    /// A `userScopeFilterUri` that cannot be used.
    #[error("userScopeFilterUri: {0}")]
    BadUserScope(String),
    /// The consumer of pages gave up (for example, the lake write failed).
    #[error("{0}")]
    Consumer(String),
    /// The tenant's identity provider refused the credentials, or could not be reached.
    #[error("authentication failed: {0}")]
    Authentication(String),
    /// The tenant's service refused or failed a request, after any retries.
    #[error("{0}")]
    Service(String),
    /// A back-end setting that cannot be used, such as an endpoint URL.
    #[error("{0}")]
    Setting(String),
}

/// One page of rows: JSON Lines text, one object per line, each ending in `\n`.
pub type Page = String;

/// A source of Office 365 rows.
pub trait TenantBackend: Send + Sync {
    /// The tenant id rows carry as `ptenant`.
    fn tenant_id(&self) -> &str;

    /// Every valid user, in a stable order.
    fn users(&self) -> Result<Vec<DirectoryUser>, TenantError>;

    /// The ids of the valid users that belong to a group, directly or through nested groups.
    fn group_members(&self, group_id: &str) -> Result<Vec<String>, TenantError>;

    /// The ids of all groups, for group-scoped tables.
    fn groups(&self) -> Result<Vec<String>, TenantError>;

    /// Streams the rows of one table for one owner, page by page. Rows outside the window
    /// are not delivered. Returning an error from `on_page` stops the extraction.
    fn extract(
        &self,
        request: &ExtractRequest<'_>,
        on_page: &mut dyn FnMut(Page) -> Result<(), TenantError>,
    ) -> Result<(), TenantError>;

    /// [`TenantBackend::extract`] when only some columns (catalog names) are needed. A
    /// back-end may then leave the other columns out of its rows (Graph's `$select`);
    /// rows keep their envelope. The default delivers every column.
    fn extract_columns(
        &self,
        request: &ExtractRequest<'_>,
        columns: Option<&[String]>,
        on_page: &mut dyn FnMut(Page) -> Result<(), TenantError>,
    ) -> Result<(), TenantError> {
        let _ = columns;
        self.extract(request, on_page)
    }

    /// The valid users a `userScopeFilterUri` picks, in the order of
    /// [`TenantBackend::users`]. The default evaluates the filter locally; the Graph
    /// back-end sends the query to Graph.
    fn scoped_users(&self, uri: &str) -> Result<Vec<DirectoryUser>, TenantError> {
        let filter = scope::parse_user_scope(uri)?;
        Ok(self
            .users()?
            .into_iter()
            .filter(|u| filter.matches(u))
            .collect())
    }
}

/// Rows per page, as the synthetic tenant and the graph back-end both cut them.
pub(crate) const PAGE_ROWS: u64 = 500;
/// A page is handed over early once it holds this much text.
pub(crate) const PAGE_BYTES: usize = 4 << 20;

/// Rows gathered into pages the same way by every back-end, so a table extracts to the same
/// bytes whichever back-end delivered it, with the row counters MGDC writes into each row.
pub(crate) struct PageBuffer<'f> {
    /// The page being filled: whole rows, each ending in `\n`, then the row being written.
    pub(crate) text: String,
    /// Rows ended so far for this owner.
    pub(crate) rows: u64,
    /// Rows ended so far in the current page.
    pub(crate) page_rows: u64,
    on_page: &'f mut dyn FnMut(Page) -> Result<(), TenantError>,
}

impl<'f> PageBuffer<'f> {
    /// An empty buffer handing full pages to `on_page`.
    pub(crate) fn new(on_page: &'f mut dyn FnMut(Page) -> Result<(), TenantError>) -> Self {
        PageBuffer {
            text: String::new(),
            rows: 0,
            page_rows: 0,
            on_page,
        }
    }

    /// Ends the row just written into `text`, handing the page over when it is full.
    pub(crate) fn end_row(&mut self) -> Result<(), TenantError> {
        self.text.push('\n');
        self.rows += 1;
        self.page_rows += 1;
        if self.page_rows >= PAGE_ROWS || self.text.len() >= PAGE_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), TenantError> {
        self.page_rows = 0;
        let page = std::mem::take(&mut self.text);
        (self.on_page)(page)
    }

    /// Hands over the last, partial page.
    pub(crate) fn finish(mut self) -> Result<(), TenantError> {
        if self.text.is_empty() {
            Ok(())
        } else {
            self.flush()
        }
    }
}
