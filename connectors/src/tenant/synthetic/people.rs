//! Directory rows: User_v1 (the mailbox's own user), Manager_v0 and DirectReport_v0.

use super::directory::{Directory, Kind};
use super::mail::Mailbox;
use super::rows::{Envelope, JsonOut, DAY};
use super::words::PROJECTS;
use super::Pager;
use crate::tenant::TenantError;

/// Public SKU and plan ids of Microsoft 365 E3 and Exchange Online, as real rows carry them.
const SKU_E3: &str = "6fd2c87f-b296-42f0-b197-1e91e994b900";
const SKU_POWER_BI: &str = "a403ebcc-fae0-4ca2-8c8c-7a907fd6c235";
const PLAN_EXCHANGE: &str = "efb0351d-3b08-4503-993d-383af8de41e3";

/// The owner's own row.
pub(super) fn write_self(mb: &Mailbox<'_>, pager: &mut Pager<'_, '_>) -> Result<(), TenantError> {
    pager.row(|o, env| write_user(o, env, mb.dir, mb.account, true))
}

/// The owner's manager, whatever the state of the manager's account.
pub(super) fn write_manager(
    mb: &Mailbox<'_>,
    pager: &mut Pager<'_, '_>,
) -> Result<(), TenantError> {
    match mb.dir.manager(mb.account) {
        Some(m) => pager.row(|o, env| write_user(o, env, mb.dir, m, false)),
        None => Ok(()),
    }
}

/// The owner's direct reports.
pub(super) fn write_reports(
    mb: &Mailbox<'_>,
    pager: &mut Pager<'_, '_>,
) -> Result<(), TenantError> {
    for r in mb.dir.reports(mb.account) {
        pager.row(|o, env| write_user(o, env, mb.dir, r, false))?;
    }
    Ok(())
}

/// A user object; `full` adds the profile columns only User_v1 has.
pub(super) fn write_user(
    o: &mut JsonOut<'_>,
    env: &Envelope<'_>,
    dir: &Directory,
    i: u32,
    full: bool,
) {
    let p = &dir.people[i as usize];
    let office = dir.office(i);
    let name = dir.display_name(i);
    let (given, surname) = name.split_once(' ').unwrap_or((&name, ""));
    let mail = dir.mail(i);
    let nickname = mail.split('@').next().unwrap_or_default().to_owned();

    if full {
        o.str(
            "aboutMe",
            &format!("I work on {}.", PROJECTS[i as usize % PROJECTS.len()]),
        );
        o.null("birthday");
        o.str("hireDate", "0001-01-01T00:00:00Z");
        o.strs("interests", &[]);
        let site = mail.replace(['@', '.'], "_").to_ascii_lowercase();
        let host = dir.domain.split('.').next().unwrap_or_default();
        o.str(
            "mySite",
            &format!("https://{host}-my.sharepoint.com/personal/{site}/"),
        );
        o.strs(
            "pastProjects",
            &[PROJECTS[(i as usize + 3) % PROJECTS.len()]],
        );
        o.str("preferredName", "");
        o.strs("responsibilities", &[]);
        o.strs("schools", &[]);
        o.strs("skills", &[]);
    }
    o.bool("accountEnabled", p.kind != Kind::Disabled);
    o.null("ageGroup");
    match office {
        Some(off) => o.strs(
            "businessPhones",
            &[&format!("{} {:04}", off.phone, i % 10_000)],
        ),
        None => o.strs("businessPhones", &[]),
    }
    o.opt_str("city", office.map(|o| o.city));
    o.null("companyName");
    o.null("consentProvidedForMinor");
    o.opt_str("country", office.map(|o| o.country));
    o.datetime("createdDateTime", p.created);
    o.opt_str("department", dir.department(i));
    o.str("displayName", &name);
    o.str("givenName", given);
    o.str("id", &dir.id(i));
    o.strs("imAddresses", &[&mail]);
    o.opt_str("jobTitle", dir.job_title(i));
    o.null("legalAgeGroupClassification");
    o.str("mail", &mail);
    o.str("mailNickname", &nickname);
    o.null("mobilePhone");
    o.opt_str("officeLocation", dir.office_location(i).as_deref());
    o.null("onPremisesImmutableId");
    o.null("onPremisesLastSyncDateTime");
    o.null("onPremisesSecurityIdentifier");
    o.null("onPremisesSyncEnabled");
    o.null("passwordPolicies");
    o.opt_str("postalCode", office.map(|o| o.postal));
    o.str("preferredLanguage", "en-US");
    o.strs("proxyAddresses", &[&format!("SMTP:{mail}")]);
    o.opt_str("state", office.map(|o| o.state).filter(|s| !s.is_empty()));
    o.opt_str("streetAddress", office.map(|o| o.street));
    o.str("surname", surname);
    o.opt_str("usageLocation", office.map(|o| o.usage));
    o.str("userPrincipalName", &dir.user_principal_name(i));
    o.str(
        "userType",
        if p.kind == Kind::Guest {
            "Guest"
        } else {
            "Member"
        },
    );

    // Licences: what makes a member valid or not for extraction.
    o.key("assignedLicenses");
    o.begin_list();
    let skus: &[&str] = match p.kind {
        Kind::Member | Kind::Disabled => &[SKU_E3],
        Kind::Unlicensed => &[SKU_POWER_BI],
        Kind::Guest => &[],
    };
    for sku in skus {
        o.begin_obj();
        o.strs("disabledPlans", &[]);
        o.str("skuId", sku);
        o.end_obj();
    }
    o.end_list();
    let exchange = matches!(p.kind, Kind::Member | Kind::Disabled);
    o.key("assignedPlans");
    o.begin_list();
    if exchange {
        o.begin_obj();
        o.datetime("assignedDateTime", p.created + DAY);
        o.str("capabilityStatus", "Enabled");
        o.str("service", "exchange");
        o.str("servicePlanId", PLAN_EXCHANGE);
        o.end_obj();
    }
    o.end_list();
    o.key("provisionedPlans");
    o.begin_list();
    if exchange {
        o.begin_obj();
        o.str("capabilityStatus", "Enabled");
        o.str("provisioningStatus", "Success");
        o.str("service", "exchange");
        o.end_obj();
    }
    o.end_list();
    o.envelope(env, "#microsoft.graph.user");
}
