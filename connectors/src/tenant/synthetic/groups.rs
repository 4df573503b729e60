//! Groups: built with the directory, and their GroupDetails_v0 and GroupMembers_v0 rows.

use rand::Rng;

use super::directory::{Directory, Group};
use super::rows::{guid, rng, stream, JsonOut, DAY};
use super::words::{DEPARTMENTS, PROJECTS};
use super::Pager;
use crate::tenant::TenantError;

/// About one group per eight valid users, at least two, so nesting can be shown.
pub(super) fn build(dir: &Directory, created_before: i64) -> Vec<Group> {
    let count = (dir.valid.len() / 8).max(2) as u32;
    let accounts = dir.people.len() as u32;
    let mut r = rng(dir.seed, &[stream::GROUPS]);
    let mut groups = Vec::with_capacity(count as usize);
    for g in 0..count {
        // Members come from a stretch of neighbouring accounts, like a team would; the
        // stretch may hold guests and disabled accounts, which group_members drops.
        let size = r.random_range(3..16).min(accounts);
        let anchor = r.random_range(0..accounts);
        let mut members: Vec<u32> = (0..size).map(|k| (anchor + k * 2) % accounts).collect();
        members.sort_unstable();
        members.dedup();

        // Nest only into later groups, so the membership graph cannot cycle.
        let mut subgroups = Vec::new();
        if g + 1 < count && r.random_bool(0.25) {
            subgroups.push(r.random_range(g + 1..count));
        }

        let name = if (g as usize) < DEPARTMENTS.len() {
            format!("{} Team", DEPARTMENTS[g as usize].0)
        } else {
            format!("{} {}", PROJECTS[g as usize % PROJECTS.len()], g)
        };
        groups.push(Group {
            id: guid(dir.seed, &[stream::GROUPS, u64::from(g)]),
            name,
            unified: r.random_bool(0.7),
            members,
            subgroups,
            created: created_before - r.random_range(10..900) * DAY,
        });
    }
    groups
}

/// The group's own row.
pub(super) fn write_details(
    dir: &Directory,
    g: u32,
    pager: &mut Pager<'_, '_>,
) -> Result<(), TenantError> {
    let group = &dir.groups[g as usize];
    let nickname: String = group
        .name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let mail = format!("{nickname}@{}", dir.domain);
    pager.row(|o: &mut JsonOut<'_>, env| {
        o.str("id", &group.id);
        o.null("deletedDateTime");
        o.null("classification");
        o.datetime("createdDateTime", group.created);
        o.str("description", &format!("Members of {}", group.name));
        o.str("displayName", &group.name);
        o.null("expirationDateTime");
        o.strs("groupTypes", if group.unified { &["Unified"] } else { &[] });
        o.bool("isAssignableToRole", false);
        o.opt_str("mail", group.unified.then_some(mail.as_str()));
        o.bool("mailEnabled", group.unified);
        o.str("mailNickname", &nickname);
        o.null("membershipRule");
        o.null("membershipRuleProcessingState");
        o.null("onPremisesDomainName");
        o.null("onPremisesLastSyncDateTime");
        o.null("onPremisesSyncEnabled");
        o.null("preferredDataLocation");
        o.null("preferredLanguage");
        let proxy = format!("SMTP:{mail}");
        let proxies = [proxy.as_str()];
        o.strs("proxyAddresses", if group.unified { &proxies } else { &[] });
        o.datetime("renewedDateTime", group.created);
        o.strs("resourceProvisioningOptions", &[]);
        o.bool("securityEnabled", !group.unified);
        o.str(
            "securityIdentifier",
            &format!("S-1-12-1-{}", group.created.unsigned_abs()),
        );
        o.null("theme");
        o.str(
            "visibility",
            if group.unified { "Private" } else { "Public" },
        );
        o.str("pObjectId", &group.id);
        o.envelope(env, "#microsoft.graph.group");
    })
}

/// One row per direct member: users (whatever their state, as the directory lists them)
/// and nested groups.
pub(super) fn write_members(
    dir: &Directory,
    g: u32,
    pager: &mut Pager<'_, '_>,
) -> Result<(), TenantError> {
    let group = &dir.groups[g as usize];
    for &m in &group.members {
        let (id, upn, name) = (dir.id(m), dir.user_principal_name(m), dir.display_name(m));
        pager.row(|o, env| {
            o.str("id", &id);
            o.str("userPrincipalName", &upn);
            o.str("displayName", &name);
            o.str("pObjectId", &group.id);
            o.envelope(env, "#microsoft.graph.user");
        })?;
    }
    for &s in &group.subgroups {
        let sub = &dir.groups[s as usize];
        pager.row(|o, env| {
            o.str("id", &sub.id);
            o.null("userPrincipalName");
            o.str("displayName", &sub.name);
            o.str("pObjectId", &group.id);
            o.envelope(env, "#microsoft.graph.group");
        })?;
    }
    Ok(())
}
