//! Contact_v1: a handful of personal contacts per mailbox, colleagues and outsiders.

use rand::Rng;

use super::content::name_and_address;
use super::mail::{Addr, Mailbox};
use super::rows::{item_id, rng, stream, JsonOut};
use super::words::{OFFICES, PROJECTS};
use super::Pager;
use crate::tenant::TenantError;

pub(super) fn write(mb: &Mailbox<'_>, pager: &mut Pager<'_, '_>) -> Result<(), TenantError> {
    let dir = mb.dir;
    let seed = dir.seed;
    let mut r = rng(seed, &[stream::CONTACT, mb.account.into()]);
    let count = r.random_range(3..13u32);
    let accounts = dir.people.len() as u32;
    let folder = item_id(seed, mb.account.into(), &[stream::CONTACT, u64::MAX]);
    let (start, end) = mb.config.range_secs();
    for n in 0..count {
        let colleague = r.random_bool(0.5);
        let addr = if colleague {
            Addr::Account((mb.account + 1 + r.random_range(0..accounts)) % accounts)
        } else {
            Addr::External(r.random::<u64>())
        };
        let (name, address) = name_and_address(dir, addr);
        let created = r.random_range(start..end);
        let modified = created + r.random_range(0..86_400 * 30).min(end - created - 1);
        let office = &OFFICES[r.random_range(0..OFFICES.len())];
        let company = if colleague {
            "Contoso"
        } else {
            PROJECTS[n as usize % PROJECTS.len()]
        };
        let id = item_id(seed, mb.account.into(), &[stream::CONTACT, n.into()]);
        pager.row(|o: &mut JsonOut<'_>, env| {
            let (given, surname) = name.split_once(' ').unwrap_or((&name, ""));
            o.null("assistantName");
            o.null("birthday");
            o.key("businessAddress");
            o.begin_obj();
            o.str("street", office.street);
            o.str("city", office.city);
            o.str("state", office.state);
            o.str("countryOrRegion", office.country);
            o.str("postalCode", office.postal);
            o.end_obj();
            o.null("businessHomePage");
            o.strs(
                "businessPhones",
                &[&format!("{} {:04}", office.phone, n * 37 % 10_000)],
            );
            o.strs("categories", &[]);
            o.str("changeKey", &format!("EQAAABYAAAD{:08x}", created));
            o.strs("children", &[]);
            o.str("companyName", company);
            o.null("department");
            o.str("displayName", &name);
            o.key("emailAddresses");
            o.begin_list();
            o.begin_obj();
            o.str("name", &name);
            o.str("address", &address);
            o.end_obj();
            o.end_list();
            o.str("fileAs", &format!("{surname}, {given}"));
            o.null("generation");
            o.str("givenName", given);
            o.key("homeAddress");
            o.begin_obj();
            o.end_obj();
            o.strs("homePhones", &[]);
            o.str("id", &id);
            let im = [address.as_str()];
            o.strs("imAddresses", if colleague { &im } else { &[] });
            o.str(
                "initials",
                &format!("{}.{}.", &given[..1], surname.get(..1).unwrap_or("")),
            );
            o.null("jobTitle");
            o.datetime("lastModifiedDateTime", modified);
            o.datetime("createdDateTime", created);
            o.null("manager");
            o.null("middleName");
            o.null("mobilePhone");
            o.null("nickName");
            o.null("officeLocation");
            o.key("otherAddress");
            o.begin_obj();
            o.end_obj();
            o.str("parentFolderId", &folder);
            o.str("personalNotes", "");
            o.null("profession");
            o.null("spouseName");
            o.str("surname", surname);
            o.null("title");
            o.null("yomiCompanyName");
            o.null("yomiGivenName");
            o.null("yomiSurname");
            o.envelope(env, "#microsoft.graph.contact");
        })?;
    }
    Ok(())
}
