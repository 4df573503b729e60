//! The synthetic tenant: a made-up Contoso organisation whose mailboxes, calendars,
//! contacts, chats and groups are generated on demand, deterministically from a seed.
//!
//! Only the directory (accounts and groups) is held in memory. Every mailbox is generated
//! alone from generators seeded by (seed, mailbox, item), so mailboxes can be extracted in
//! parallel and in any order and still give the same bytes, and a tenant of millions of
//! messages streams in constant memory. See `docs/synthetic-tenant.md`.

mod calendar;
mod chat;
mod contacts;
mod content;
mod directory;
pub mod generate;
mod graph_view;
mod groups;
mod mail;
mod messages;
mod people;
mod rows;
mod settings;
#[cfg(test)]
mod tests;
mod words;

use chrono::{NaiveDate, NaiveTime};

use self::directory::Directory;
use self::mail::{Item, Mailbox};
use self::messages::MessageTable;
use self::rows::{guid, Envelope, JsonOut};
use crate::catalog::{DateFilter, Scope, Table};
use crate::tenant::{
    DateWindow, DirectoryUser, ExtractRequest, Page, PageBuffer, TenantBackend, TenantError,
};

pub use self::generate::{generate_to_dir, GenerateError, GenerateSummary, TableSummary};

/// Every table the synthetic tenant holds, by short name.
pub const SUPPORTED_TABLES: [&str; 15] = [
    "Message_v0",
    "Message_v1",
    "Inbox_v1",
    "SentItem_v1",
    "Event_v1",
    "CalendarView_v0",
    "Contact_v1",
    "User_v1",
    "MailboxSettings_v0",
    "Manager_v0",
    "DirectReport_v0",
    "MailFolder_v0",
    "TeamChat_v1",
    "GroupDetails_v0",
    "GroupMembers_v0",
];

/// The name tenant errors use for this back-end.
const BACKEND: &str = "synthetic";

/// What the synthetic tenant holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntheticConfig {
    /// Valid mailboxes (enabled members with an Exchange licence). About 5% each of guests,
    /// disabled and unlicensed accounts are added on top; they are never extracted.
    pub users: u32,
    /// Roughly how many messages each mailbox holds, over all its folders.
    pub messages_per_user: u32,
    /// Everything generated follows from the seed: same seed and parameters, same bytes.
    pub seed: u64,
    /// First day of activity.
    pub from: NaiveDate,
    /// The day after the last day of activity: items fall in `[from, to)`.
    pub to: NaiveDate,
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        SyntheticConfig {
            users: 50,
            messages_per_user: 20,
            seed: 1,
            from: NaiveDate::from_ymd_opt(2024, 1, 1).expect("valid date"),
            to: NaiveDate::from_ymd_opt(2025, 1, 1).expect("valid date"),
        }
    }
}

impl SyntheticConfig {
    /// `[from, to)` in seconds since the epoch.
    fn range_secs(&self) -> (i64, i64) {
        let secs = |d: NaiveDate| d.and_time(NaiveTime::MIN).and_utc().timestamp();
        (secs(self.from), secs(self.to))
    }
}

/// A generated tenant; see the module documentation.
#[derive(Debug)]
pub struct SyntheticTenant {
    config: SyntheticConfig,
    tenant_id: String,
    dir: Directory,
}

impl SyntheticTenant {
    /// Builds the directory of a tenant. Fails, saying why, when the configuration cannot
    /// describe a tenant (no users, an empty or reversed date range, too many users).
    pub fn new(config: SyntheticConfig) -> Result<Self, String> {
        if config.users == 0 {
            return Err("the synthetic tenant needs at least one user (users = 0)".into());
        }
        if config.users > 50_000_000 {
            return Err(format!(
                "users = {} is more than the 50,000,000 supported",
                config.users
            ));
        }
        if config.from >= config.to {
            return Err(format!(
                "the date range is empty: from {} is not before to {}",
                config.from, config.to
            ));
        }
        let (_, end) = config.range_secs();
        let dir = Directory::build(config.seed, config.users, end);
        Ok(SyntheticTenant {
            tenant_id: guid(config.seed, &[0]),
            config,
            dir,
        })
    }

    /// The configuration the tenant was built from.
    pub fn config(&self) -> &SyntheticConfig {
        &self.config
    }

    /// The tenant's mail domain, `contoso-<seed>.onmicrosoft.com`.
    pub fn domain(&self) -> &str {
        &self.dir.domain
    }

    fn mailbox(&self, account: u32) -> Mailbox<'_> {
        Mailbox {
            dir: &self.dir,
            config: &self.config,
            account,
        }
    }
}

impl TenantBackend for SyntheticTenant {
    fn tenant_id(&self) -> &str {
        &self.tenant_id
    }

    fn users(&self) -> Result<Vec<DirectoryUser>, TenantError> {
        Ok(self
            .dir
            .valid
            .iter()
            .map(|&i| self.dir.directory_user(i))
            .collect())
    }

    fn group_members(&self, group_id: &str) -> Result<Vec<String>, TenantError> {
        let g = self
            .dir
            .group_index_of(group_id)
            .ok_or_else(|| TenantError::UnknownGroup(group_id.to_owned()))?;
        Ok(self
            .dir
            .group_members(g)
            .into_iter()
            .map(|i| self.dir.id(i))
            .collect())
    }

    fn groups(&self) -> Result<Vec<String>, TenantError> {
        Ok(self.dir.groups.iter().map(|g| g.id.clone()).collect())
    }

    fn extract(
        &self,
        request: &ExtractRequest<'_>,
        on_page: &mut dyn FnMut(Page) -> Result<(), TenantError>,
    ) -> Result<(), TenantError> {
        let table = request.table;
        let short = table.short_name();
        let unsupported = || TenantError::UnsupportedTable {
            table: table.name.clone(),
            backend: BACKEND,
        };
        let mut pager = Pager::new(request.owner, &self.tenant_id, on_page);

        if table.scope == Scope::Group {
            let g = self
                .dir
                .group_index_of(request.owner)
                .ok_or_else(|| TenantError::UnknownGroup(request.owner.to_owned()))?;
            match short {
                "GroupDetails_v0" => groups::write_details(&self.dir, g, &mut pager)?,
                "GroupMembers_v0" => groups::write_members(&self.dir, g, &mut pager)?,
                _ => return Err(unsupported()),
            }
            return pager.finish();
        }

        let window = self.window(table, request.window.as_ref());
        // MGDC returns nothing for owners that are not valid users; so does this tenant.
        let account = self
            .dir
            .index_of(request.owner)
            .filter(|&i| self.dir.is_valid(i));
        let mailbox = account.map(|a| self.mailbox(a));
        let message_table = match short {
            "Message_v0" => Some(MessageTable::V0),
            "Message_v1" => Some(MessageTable::V1),
            "Inbox_v1" => Some(MessageTable::Inbox),
            "SentItem_v1" | "SentItems_v1" => Some(MessageTable::SentItems),
            _ => None,
        };
        let supported = message_table.is_some()
            || matches!(
                short,
                "Event_v1"
                    | "CalendarView_v0"
                    | "Contact_v1"
                    | "User_v1"
                    | "MailboxSettings_v0"
                    | "Manager_v0"
                    | "DirectReport_v0"
                    | "MailFolder_v0"
                    | "TeamChat_v1"
            );
        if !supported {
            return Err(unsupported());
        }
        let Some(mb) = mailbox else {
            return pager.finish();
        };
        match (message_table, short) {
            (Some(t), _) => messages::write(&mb, t, &window, &mut pager)?,
            (None, "Event_v1") => calendar::write_events(&mb, table, &window, &mut pager)?,
            (None, "CalendarView_v0") => calendar::write_view(&mb, table, &window, &mut pager)?,
            (None, "Contact_v1") => contacts::write(&mb, &mut pager)?,
            (None, "User_v1") => people::write_self(&mb, &mut pager)?,
            (None, "Manager_v0") => people::write_manager(&mb, &mut pager)?,
            (None, "DirectReport_v0") => people::write_reports(&mb, &mut pager)?,
            (None, "MailboxSettings_v0") => settings::write_settings(&mb, &mut pager)?,
            (None, "MailFolder_v0") => settings::write_folders(&mb, &mut pager)?,
            (None, "TeamChat_v1") => chat::write(&mb, &window, &mut pager)?,
            _ => return Err(unsupported()),
        }
        pager.finish()
    }
}

impl SyntheticTenant {
    /// The effective window of a request: calendar views default to the tenant's whole
    /// range, tables without date filters ignore any window.
    fn window(&self, table: &Table, requested: Option<&DateWindow>) -> Window {
        let (start, end) = self.config.range_secs();
        match (table.date_filter, requested) {
            (DateFilter::None, _) => Window::all(),
            (DateFilter::Window, None) => Window {
                column: None,
                start: start * 1_000_000,
                end: (end + rows::DAY) * 1_000_000,
            },
            (_, None) => Window::all(),
            (_, Some(w)) => Window {
                column: w.column.as_deref().map(str::to_ascii_lowercase),
                start: w.start.timestamp_micros(),
                end: w.end.timestamp_micros(),
            },
        }
    }
}

/// The date window rows are tested against, in microseconds.
#[derive(Debug, Clone)]
struct Window {
    /// The lower-cased filter column; `None` bounds calendar occurrences, or nothing.
    column: Option<String>,
    start: i64,
    end: i64,
}

impl Window {
    fn all() -> Window {
        Window {
            column: None,
            start: i64::MIN,
            end: i64::MAX,
        }
    }

    /// Whether an instant (seconds) lies inside `[start, end)`.
    fn contains(&self, secs: i64) -> bool {
        let micros = secs.saturating_mul(1_000_000);
        micros >= self.start && micros < self.end
    }

    /// The end of the window in whole seconds (rounded up).
    fn end_secs(&self) -> i64 {
        self.end.div_euclid(1_000_000) + i64::from(self.end.rem_euclid(1_000_000) != 0)
    }

    /// Whether a row with these date columns is kept. A row without a value in the filter
    /// column (a draft's sent time) is outside every window, as with MGDC.
    fn keeps(&self, columns: &[(&str, Option<i64>)]) -> bool {
        let Some(column) = &self.column else {
            return true;
        };
        columns
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(column))
            .and_then(|(_, v)| *v)
            .is_some_and(|v| self.contains(v))
    }

    fn keeps_message(&self, item: &Item) -> bool {
        self.keeps(&[
            ("receivedDateTime", Some(item.received)),
            ("sentDateTime", item.header.sent),
            ("createdDateTime", Some(item.created)),
            ("lastModifiedDateTime", Some(item.modified)),
        ])
    }
}

/// Collects rows into pages and hands full pages to the consumer.
struct Pager<'a, 'f> {
    owner: &'a str,
    tenant: &'a str,
    page: PageBuffer<'f>,
}

impl<'a, 'f> Pager<'a, 'f> {
    fn new(
        owner: &'a str,
        tenant: &'a str,
        on_page: &'f mut dyn FnMut(Page) -> Result<(), TenantError>,
    ) -> Self {
        Pager {
            owner,
            tenant,
            page: PageBuffer::new(on_page),
        }
    }

    /// Writes one row; `write` fills the object, envelope included.
    fn row(
        &mut self,
        write: impl FnOnce(&mut JsonOut<'_>, &Envelope<'_>),
    ) -> Result<(), TenantError> {
        let env = Envelope {
            owner: self.owner,
            tenant: self.tenant,
            datarow: self.page.rows,
            userrow: self.page.rows,
            pagerow: self.page.page_rows,
        };
        let mut out = JsonOut::new(&mut self.page.text);
        out.begin_obj();
        write(&mut out, &env);
        out.end_obj();
        self.page.end_row()
    }

    fn finish(self) -> Result<(), TenantError> {
        self.page.finish()
    }
}
