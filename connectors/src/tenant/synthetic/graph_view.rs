//! The directory as Microsoft Graph lists it, for the tenant emulator: every account
//! (guests, disabled and unlicensed ones included), group listings and transitive
//! membership. Extraction never needs these; scoping through Graph does.

use super::people::write_user;
use super::rows::{Envelope, JsonOut};
use super::SyntheticTenant;
use crate::tenant::DirectoryUser;

impl SyntheticTenant {
    /// How many accounts the directory holds, valid or not.
    pub(crate) fn account_count(&self) -> u32 {
        self.dir.people.len() as u32
    }

    /// The account index of an object id, valid or not.
    pub(crate) fn account_index(&self, id: &str) -> Option<u32> {
        self.dir.index_of(id)
    }

    /// The scoping view of any account, valid or not.
    pub(crate) fn account(&self, i: u32) -> DirectoryUser {
        self.dir.directory_user(i)
    }

    /// An account as a user object, ending in the MGDC envelope like every row.
    pub(crate) fn account_row(&self, i: u32) -> String {
        let id = self.dir.id(i);
        let env = Envelope {
            owner: &id,
            tenant: &self.tenant_id,
            datarow: 0,
            userrow: 0,
            pagerow: 0,
        };
        let mut buf = String::new();
        let mut out = JsonOut::new(&mut buf);
        out.begin_obj();
        write_user(&mut out, &env, &self.dir, i, false);
        out.end_obj();
        buf
    }

    /// Every group's id and display name, in directory order.
    pub(crate) fn group_names(&self) -> Vec<(String, String)> {
        self.dir
            .groups
            .iter()
            .map(|g| (g.id.clone(), g.name.clone()))
            .collect()
    }

    /// A group's members through nested groups: account indices (any state) in account
    /// order, then the nested groups' indices in directory order. `None` for an unknown id.
    pub(crate) fn transitive_members(&self, group_id: &str) -> Option<(Vec<u32>, Vec<u32>)> {
        let first = self.dir.group_index_of(group_id)?;
        let mut seen = vec![false; self.dir.groups.len()];
        let mut stack = vec![first];
        let (mut accounts, mut groups) = (Vec::new(), Vec::new());
        while let Some(g) = stack.pop() {
            if std::mem::replace(&mut seen[g as usize], true) {
                continue;
            }
            if g != first {
                groups.push(g);
            }
            let group = &self.dir.groups[g as usize];
            accounts.extend_from_slice(&group.members);
            stack.extend(&group.subgroups);
        }
        accounts.sort_unstable();
        accounts.dedup();
        groups.sort_unstable();
        Some((accounts, groups))
    }
}
