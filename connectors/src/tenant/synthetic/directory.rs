//! The directory: accounts, the management tree and groups. It is the only part of the
//! tenant held in memory, and it is kept compact (indices into the vocabulary instead of
//! strings) so that half a million accounts fit in a few tens of megabytes.

use std::collections::HashMap;

use rand::seq::SliceRandom;
use rand::Rng;

use super::rows::{guid, rng, stream, DAY};
use super::words::{Office, DEPARTMENTS, EXECUTIVE, EXTERNAL_DOMAINS, GIVEN, OFFICES, SURNAMES};
use crate::tenant::DirectoryUser;

/// How many direct reports a manager has; the tree is implicit in member ranks, so reports
/// and managers are computed, not stored.
const FANOUT: u32 = 6;

/// Marks "no value" in the compact `u32` fields.
pub(super) const NONE: u32 = u32::MAX;

/// What kind of account a directory entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// An enabled member with an Exchange licence: the only kind that is extracted.
    Member,
    /// An external guest (`userType` Guest).
    Guest,
    /// A member whose account is disabled.
    Disabled,
    /// An enabled member without an Exchange licence.
    Unlicensed,
}

/// One account, compactly.
#[derive(Debug, Clone)]
pub(super) struct Person {
    pub(super) kind: Kind,
    pub(super) given: u16,
    pub(super) surname: u16,
    /// Index into `DEPARTMENTS`, or `NONE` for the executive team and guests.
    pub(super) dept: u32,
    /// Index into `OFFICES`.
    pub(super) office: u32,
    /// Position in the management tree, `NONE` for guests.
    pub(super) rank: u32,
    /// Depth in the management tree (0 for the chief executive).
    pub(super) depth: u32,
    /// Creation instant, seconds since the epoch.
    pub(super) created: i64,
}

/// One group: direct user members and nested groups.
#[derive(Debug, Clone)]
pub(super) struct Group {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) unified: bool,
    pub(super) members: Vec<u32>,
    pub(super) subgroups: Vec<u32>,
    pub(super) created: i64,
}

/// Every account and group of the tenant.
#[derive(Debug)]
pub(super) struct Directory {
    pub(super) seed: u64,
    pub(super) domain: String,
    pub(super) people: Vec<Person>,
    /// Account index of each tree rank (all non-guest accounts, in index order).
    pub(super) ranked: Vec<u32>,
    /// Account indices of valid users, in index order.
    pub(super) valid: Vec<u32>,
    pub(super) groups: Vec<Group>,
    by_id: HashMap<String, u32>,
    group_by_id: HashMap<String, u32>,
}

impl Directory {
    /// Builds the directory for `users` valid mailboxes; about 5% each of guests, disabled
    /// and unlicensed accounts are added on top.
    pub(super) fn build(seed: u64, users: u32, created_before: i64) -> Directory {
        let mut r = rng(seed, &[stream::DIRECTORY]);
        let extra = ((u64::from(users) * 5 + 42) / 85) as usize;
        let mut kinds = vec![Kind::Member; users as usize];
        kinds.extend(std::iter::repeat_n(Kind::Guest, extra));
        kinds.extend(std::iter::repeat_n(Kind::Disabled, extra));
        kinds.extend(std::iter::repeat_n(Kind::Unlicensed, extra));
        kinds.shuffle(&mut r);

        let mut people = Vec::with_capacity(kinds.len());
        let mut ranked = Vec::new();
        let mut valid = Vec::with_capacity(users as usize);
        for (i, kind) in kinds.into_iter().enumerate() {
            let rank = if kind == Kind::Guest {
                NONE
            } else {
                ranked.len() as u32
            };
            let (dept, office, depth) = if rank == NONE {
                (NONE, r.random_range(0..OFFICES.len() as u32), 0)
            } else if rank == 0 {
                (NONE, 0, 0)
            } else {
                // Teams sit with their manager most of the time.
                let boss: &Person = &people[ranked[boss_rank(rank) as usize] as usize];
                let dept = if rank <= DEPARTMENTS.len() as u32 {
                    (rank - 1) % DEPARTMENTS.len() as u32
                } else {
                    boss.dept
                };
                let office = if r.random_bool(0.8) {
                    boss.office
                } else {
                    r.random_range(0..OFFICES.len() as u32)
                };
                (dept, office, boss.depth + 1)
            };
            if rank != NONE {
                ranked.push(i as u32);
            }
            if kind == Kind::Member {
                valid.push(i as u32);
            }
            people.push(Person {
                kind,
                given: r.random_range(0..GIVEN.len() as u16),
                surname: r.random_range(0..SURNAMES.len() as u16),
                dept,
                office,
                rank,
                depth,
                created: created_before - r.random_range(30 * DAY..2000 * DAY),
            });
        }

        let mut dir = Directory {
            seed,
            domain: format!("contoso-{seed}.onmicrosoft.com"),
            people,
            ranked,
            valid,
            groups: Vec::new(),
            by_id: HashMap::new(),
            group_by_id: HashMap::new(),
        };
        dir.by_id = (0..dir.people.len() as u32)
            .map(|i| (dir.id(i), i))
            .collect();
        dir.groups = super::groups::build(&dir, created_before);
        dir.group_by_id = dir
            .groups
            .iter()
            .enumerate()
            .map(|(i, g)| (g.id.clone(), i as u32))
            .collect();
        dir
    }

    /// The object id of an account.
    pub(super) fn id(&self, i: u32) -> String {
        guid(self.seed, &[stream::DIRECTORY, u64::from(i)])
    }

    /// The account index of an object id.
    pub(super) fn index_of(&self, id: &str) -> Option<u32> {
        self.by_id.get(id).copied()
    }

    /// The group index of a group id.
    pub(super) fn group_index_of(&self, id: &str) -> Option<u32> {
        self.group_by_id.get(id).copied()
    }

    pub(super) fn is_valid(&self, i: u32) -> bool {
        self.people[i as usize].kind == Kind::Member
    }

    pub(super) fn display_name(&self, i: u32) -> String {
        let p = &self.people[i as usize];
        format!(
            "{} {}",
            GIVEN[p.given as usize], SURNAMES[p.surname as usize]
        )
    }

    /// The mail nickname: unique because it carries the account index.
    pub(super) fn nickname(&self, i: u32) -> String {
        let p = &self.people[i as usize];
        let initial = &SURNAMES[p.surname as usize][..1];
        format!("{}{}{}", GIVEN[p.given as usize], initial, i)
    }

    /// The primary SMTP address; guests keep their home address.
    pub(super) fn mail(&self, i: u32) -> String {
        let p = &self.people[i as usize];
        if p.kind == Kind::Guest {
            let domain = EXTERNAL_DOMAINS[i as usize % EXTERNAL_DOMAINS.len()];
            let given = GIVEN[p.given as usize].to_ascii_lowercase();
            let surname = SURNAMES[p.surname as usize].to_ascii_lowercase();
            format!("{given}.{surname}{i}@{domain}")
        } else {
            format!("{}@{}", self.nickname(i), self.domain)
        }
    }

    pub(super) fn user_principal_name(&self, i: u32) -> String {
        if self.people[i as usize].kind == Kind::Guest {
            format!("{}#EXT#@{}", self.mail(i).replace('@', "_"), self.domain)
        } else {
            self.mail(i)
        }
    }

    pub(super) fn department(&self, i: u32) -> Option<&'static str> {
        let p = &self.people[i as usize];
        match (p.kind, p.dept) {
            (Kind::Guest, _) => None,
            (_, NONE) => Some(EXECUTIVE),
            (_, d) => Some(DEPARTMENTS[d as usize].0),
        }
    }

    pub(super) fn job_title(&self, i: u32) -> Option<&'static str> {
        let p = &self.people[i as usize];
        if p.kind == Kind::Guest {
            return None;
        }
        Some(match p.depth {
            0 => "Chief Executive Officer",
            1 => "Vice President",
            _ if !self.reports(i).is_empty() => {
                if p.depth == 2 {
                    "Director"
                } else {
                    "Manager"
                }
            }
            _ => {
                let titles = DEPARTMENTS[p.dept as usize].1;
                titles[(p.given as usize + i as usize) % titles.len()]
            }
        })
    }

    /// The office tuple of an account (guests have none).
    pub(super) fn office(&self, i: u32) -> Option<&'static Office> {
        let p = &self.people[i as usize];
        (p.kind != Kind::Guest).then(|| &OFFICES[p.office as usize])
    }

    pub(super) fn office_location(&self, i: u32) -> Option<String> {
        self.office(i)
            .map(|o| format!("{}/{}", o.city, 1000 + i % 3000))
    }

    /// The manager's account index, if any.
    pub(super) fn manager(&self, i: u32) -> Option<u32> {
        let rank = self.people[i as usize].rank;
        (rank != NONE && rank > 0).then(|| self.ranked[boss_rank(rank) as usize])
    }

    /// The direct reports' account indices.
    pub(super) fn reports(&self, i: u32) -> Vec<u32> {
        let rank = self.people[i as usize].rank;
        if rank == NONE {
            return Vec::new();
        }
        report_ranks(rank, self.ranked.len() as u32)
            .map(|r| self.ranked[r as usize])
            .collect()
    }

    /// The scoping view of an account.
    pub(super) fn directory_user(&self, i: u32) -> DirectoryUser {
        let office = self.office(i);
        DirectoryUser {
            id: self.id(i),
            user_principal_name: self.user_principal_name(i),
            mail: self.mail(i),
            display_name: self.display_name(i),
            department: self.department(i).map(str::to_owned),
            job_title: self.job_title(i).map(str::to_owned),
            office_location: self.office_location(i),
            country: office.map(|o| o.country.to_owned()),
            usage_location: office.map(|o| o.usage.to_owned()),
        }
    }

    /// Valid users of a group, through nested groups, in account order.
    pub(super) fn group_members(&self, g: u32) -> Vec<u32> {
        let mut seen = vec![false; self.groups.len()];
        let mut stack = vec![g];
        let mut out = Vec::new();
        while let Some(g) = stack.pop() {
            if std::mem::replace(&mut seen[g as usize], true) {
                continue;
            }
            let group = &self.groups[g as usize];
            out.extend(group.members.iter().copied().filter(|&m| self.is_valid(m)));
            stack.extend(&group.subgroups);
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// The management tree is filled level by level: the chief executive, one head per
/// department, then `FANOUT` reports per manager. Within a level, reports are dealt to the
/// managers of the level above in turn, so a partly filled last level spreads evenly over
/// every department instead of landing under the first managers.
fn level_of(rank: u32) -> (u32, u32) {
    let (mut start, mut size) = (0u32, 1u32);
    loop {
        if rank < start.saturating_add(size) {
            return (start, size);
        }
        start = start.saturating_add(size);
        size = if start == 1 {
            DEPARTMENTS.len() as u32
        } else {
            size.saturating_mul(FANOUT)
        };
    }
}

/// The rank of the manager of `rank` (which must not be 0).
fn boss_rank(rank: u32) -> u32 {
    let (start, _) = level_of(rank);
    if start == 1 {
        return 0;
    }
    let (parent_start, parent_size) = level_of(start - 1);
    parent_start + (rank - start) % parent_size
}

/// The ranks that report to `rank`, among `total` ranked accounts.
fn report_ranks(rank: u32, total: u32) -> impl Iterator<Item = u32> {
    let (start, size) = level_of(rank);
    let child_start = start.saturating_add(size);
    let per_manager = if start == 0 {
        DEPARTMENTS.len() as u32
    } else {
        FANOUT
    };
    (0..per_manager)
        .map(move |m| {
            child_start
                .saturating_add(rank - start)
                .saturating_add(m.saturating_mul(size))
        })
        .filter(move |r| *r < total)
}

#[cfg(test)]
mod tree_tests {
    use super::*;

    #[test]
    fn reports_and_bosses_agree() {
        let total = 2_000;
        for rank in 1..total {
            let boss = boss_rank(rank);
            assert!(report_ranks(boss, total).any(|r| r == rank), "rank {rank}");
        }
        let heads: Vec<u32> = report_ranks(0, total).collect();
        assert_eq!(heads.len(), DEPARTMENTS.len());
    }
}
