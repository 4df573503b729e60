//! Which messages a mailbox holds, decided cheaply before any body is written.
//!
//! A message written inside the tenant is identified by its sender and its number in the
//! sender's stream. Its header (dates and recipients) comes from its own small generator, and
//! recipients inside the tenant are drawn from the sender's neighbourhood: the accounts at
//! most [`NEIGHBOURHOOD`] positions away. A mailbox therefore finds everything it received by
//! replaying the headers of its own neighbours only, without looking at any other sender, and
//! every mailbox can be generated alone and in parallel.

use rand::Rng;

use super::directory::Directory;
use super::rows::{hash, rng, stream};
use super::SyntheticConfig;

/// How far (in account positions) in-tenant recipients sit from their sender.
pub(super) const NEIGHBOURHOOD: u32 = 12;

/// A mail folder every mailbox has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Folder {
    Inbox,
    SentItems,
    Drafts,
    DeletedItems,
    Archive,
    JunkEmail,
}

/// Every folder, in the order MailFolder_v0 lists them.
pub(super) const FOLDERS: [Folder; 6] = [
    Folder::Inbox,
    Folder::SentItems,
    Folder::Drafts,
    Folder::DeletedItems,
    Folder::Archive,
    Folder::JunkEmail,
];

impl Folder {
    pub(super) fn display_name(self) -> &'static str {
        match self {
            Folder::Inbox => "Inbox",
            Folder::SentItems => "Sent Items",
            Folder::Drafts => "Drafts",
            Folder::DeletedItems => "Deleted Items",
            Folder::Archive => "Archive",
            Folder::JunkEmail => "Junk Email",
        }
    }

    pub(super) fn tag(self) -> u64 {
        self as u64 + 1
    }
}

/// An address on a message: an account of the tenant, or someone outside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Addr {
    Account(u32),
    External(u64),
}

/// Where a message comes from; it seeds everything the copies share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Origin {
    /// Number `k` of what account `sender` wrote inside the tenant.
    Internal { sender: u32, k: u32 },
    /// Number `k` of what reached `mailbox` from outside, or a draft it holds.
    Inbound { mailbox: u32, k: u32 },
}

impl Origin {
    /// Numbers that seed this message's generators.
    pub(super) fn key(self) -> [u64; 3] {
        match self {
            Origin::Internal { sender, k } => [1, u64::from(sender), u64::from(k)],
            Origin::Inbound { mailbox, k } => [2, u64::from(mailbox), u64::from(k)],
        }
    }
}

/// What all copies of one message share and what choosing its mailboxes needs.
#[derive(Debug, Clone)]
pub(super) struct Header {
    pub(super) origin: Origin,
    pub(super) from: Addr,
    /// `None` for drafts.
    pub(super) sent: Option<i64>,
    pub(super) to: Vec<Addr>,
    pub(super) cc: Vec<Addr>,
    pub(super) bcc: Vec<Addr>,
}

impl Header {
    fn addresses(&self) -> impl Iterator<Item = &Addr> {
        self.to.iter().chain(&self.cc).chain(&self.bcc)
    }

    fn delivers_to(&self, account: u32) -> bool {
        self.addresses().any(|a| *a == Addr::Account(account))
    }
}

/// One copy of a message in one mailbox.
#[derive(Debug, Clone)]
pub(super) struct Item {
    pub(super) header: Header,
    pub(super) folder: Folder,
    pub(super) received: i64,
    pub(super) created: i64,
    pub(super) modified: i64,
    pub(super) is_read: bool,
}

/// The messages of one mailbox.
pub(super) struct Mailbox<'a> {
    pub(super) dir: &'a Directory,
    pub(super) config: &'a SyntheticConfig,
    pub(super) account: u32,
}

impl Mailbox<'_> {
    fn span(&self) -> (i64, i64) {
        let (start, end) = self.config.range_secs();
        (start, end - 3600)
    }

    /// How many messages an account sends; about a fifth of its mailbox, so that sent
    /// items plus what neighbours send to it come close to `messages_per_user`.
    fn sent_count(&self, sender: u32) -> u32 {
        let base = (self.config.messages_per_user / 5).max(1);
        let mut r = rng(self.dir.seed, &[stream::MAILBOX, u64::from(sender)]);
        r.random_range(base.div_ceil(2)..=base + base / 2)
    }

    fn recipient(&self, r: &mut impl Rng, sender: u32) -> Addr {
        let accounts = self.dir.people.len() as u32;
        if accounts > 1 && r.random_bool(0.75) {
            let step = r.random_range(1..=NEIGHBOURHOOD.min(accounts - 1));
            let account = if r.random_bool(0.5) {
                (sender + step) % accounts
            } else {
                (sender + accounts - step) % accounts
            };
            Addr::Account(account)
        } else {
            Addr::External(r.random::<u64>())
        }
    }

    /// The header of an internal message; the only generator a receiver has to run.
    pub(super) fn internal_header(&self, sender: u32, k: u32) -> Header {
        let mut r = rng(
            self.dir.seed,
            &[stream::ENVELOPE, u64::from(sender), u64::from(k)],
        );
        let (start, end) = self.span();
        let sent = r.random_range(start..end);
        let n_to = [1, 1, 1, 2, 2, 3][r.random_range(0..6usize)];
        let n_cc = [0, 0, 0, 1, 2][r.random_range(0..5usize)];
        let n_bcc = usize::from(r.random_bool(0.1));
        let mut list = |n: usize| -> Vec<Addr> {
            let mut v: Vec<Addr> = Vec::with_capacity(n);
            for _ in 0..n {
                let a = self.recipient(&mut r, sender);
                if a != Addr::Account(sender) && !v.contains(&a) {
                    v.push(a);
                }
            }
            v
        };
        let (to, cc, bcc) = (list(n_to), list(n_cc), list(n_bcc));
        let to = if to.is_empty() {
            vec![Addr::External(hash(sender.into(), &[k.into()]))]
        } else {
            to
        };
        Header {
            origin: Origin::Internal { sender, k },
            from: Addr::Account(sender),
            sent: Some(sent),
            to,
            cc,
            bcc,
        }
    }

    /// Per-copy facts come from a hash, not a generator: cheap enough for folder counts.
    fn item(&self, header: Header, folder: Folder) -> Item {
        let key = header.origin.key();
        let h = hash(
            self.dir.seed,
            &[
                stream::COPY,
                u64::from(self.account),
                key[0],
                key[1],
                key[2],
            ],
        );
        let (_, end) = self.span();
        let sent = header.sent;
        let base = sent.unwrap_or_else(|| {
            let (start, end) = self.span();
            start + (h % (end - start) as u64) as i64
        });
        let received = if folder == Folder::SentItems || sent.is_none() {
            base
        } else {
            base + 1 + (h >> 8) as i64 % 40
        };
        let modified = (received + (h >> 16) as i64 % 7200).min(end + 3599);
        Item {
            header,
            folder,
            received,
            created: received,
            modified,
            is_read: folder == Folder::SentItems || folder == Folder::Drafts || (h >> 32) % 10 < 7,
        }
    }

    /// Calls `f` with every message of the mailbox: sent items, what neighbours sent to it,
    /// then mail from outside and drafts. Headers only; the caller renders what it keeps.
    pub(super) fn for_each<E>(&self, mut f: impl FnMut(Item) -> Result<(), E>) -> Result<(), E> {
        let me = self.account;
        let mut count = 0u32;
        for k in 0..self.sent_count(me) {
            f(self.item(self.internal_header(me, k), Folder::SentItems))?;
            count += 1;
        }

        // Distinct neighbours: in a small tenant the neighbourhood wraps around.
        let accounts = self.dir.people.len() as u32;
        let reach = NEIGHBOURHOOD.min(accounts.saturating_sub(1));
        let mut senders: Vec<u32> = (1..=reach)
            .flat_map(|d| [(me + d) % accounts, (me + accounts - d) % accounts])
            .filter(|&s| s != me && self.dir.is_valid(s))
            .collect();
        senders.sort_unstable();
        senders.dedup();
        for s in senders {
            for k in 0..self.sent_count(s) {
                let header = self.internal_header(s, k);
                if header.delivers_to(me) {
                    f(self.item(header, Folder::Inbox))?;
                    count += 1;
                }
            }
        }

        let inbound = self.config.messages_per_user.saturating_sub(count);
        for k in 0..inbound {
            let header = self.inbound_header(k);
            let mut r = rng(
                self.dir.seed,
                &[stream::INBOUND, u64::from(me), u64::from(k), 1],
            );
            let folder = if header.sent.is_none() {
                Folder::Drafts
            } else {
                match r.random_range(0..20) {
                    0..=11 => Folder::Inbox,
                    12..=14 => Folder::Archive,
                    15..=17 => Folder::DeletedItems,
                    _ => Folder::JunkEmail,
                }
            };
            f(self.item(header, folder))?;
        }
        Ok(())
    }

    /// Mail from outside the tenant (newsletters, customers), or now and then a draft.
    fn inbound_header(&self, k: u32) -> Header {
        let me = self.account;
        let mut r = rng(
            self.dir.seed,
            &[stream::INBOUND, u64::from(me), u64::from(k)],
        );
        let (start, end) = self.span();
        let origin = Origin::Inbound { mailbox: me, k };
        if r.random_bool(0.05) {
            let to = vec![self.recipient(&mut r, me)];
            return Header {
                origin,
                from: Addr::Account(me),
                sent: None,
                to,
                cc: Vec::new(),
                bcc: Vec::new(),
            };
        }
        let mut to = vec![Addr::Account(me)];
        if r.random_bool(0.3) {
            to.push(Addr::External(r.random::<u64>()));
        }
        Header {
            origin,
            from: Addr::External(r.random::<u64>()),
            sent: Some(r.random_range(start..end)),
            to,
            cc: Vec::new(),
            bcc: Vec::new(),
        }
    }
}
