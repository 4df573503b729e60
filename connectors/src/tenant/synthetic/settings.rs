//! Per-mailbox settings rows: MailboxSettings_v0 and MailFolder_v0.

use rand::Rng;

use super::mail::{Folder, Mailbox, FOLDERS};
use super::messages::folder_id;
use super::rows::{push_instant, rng, stream, JsonOut};
use super::words::TIME_ZONES;
use super::Pager;
use crate::tenant::TenantError;

/// The mailbox's settings: time zone, language, working hours, automatic replies.
pub(super) fn write_settings(
    mb: &Mailbox<'_>,
    pager: &mut Pager<'_, '_>,
) -> Result<(), TenantError> {
    let seed = mb.dir.seed;
    let mut r = rng(seed, &[stream::MAILBOX, mb.account.into(), 2]);
    let zone = TIME_ZONES[r.random_range(0..TIME_ZONES.len())];
    let away = r.random_bool(0.1);
    let (start, end) = mb.config.range_secs();
    let leave = r.random_range(start..end);
    pager.row(|o, env| {
        o.str(
            "archiveFolder",
            &folder_id(seed, mb.account, Folder::Archive),
        );
        o.str("timeZone", zone);
        o.key("automaticRepliesSetting");
        o.begin_obj();
        let status = if away { "scheduled" } else { "disabled" };
        o.str(
            "status",
            &format!("microsoft.graph.automaticRepliesStatus'{status}'"),
        );
        o.str(
            "externalAudience",
            "microsoft.graph.externalAudienceScope'all'",
        );
        let reply = if away {
            "I am out of the office and will reply when I am back."
        } else {
            ""
        };
        o.str("internalReplyMessage", reply);
        o.str("externalReplyMessage", reply);
        for (key, at) in [
            ("scheduledStartDateTime", leave),
            ("scheduledEndDateTime", leave + 7 * super::rows::DAY),
        ] {
            o.key(key);
            o.begin_obj();
            let mut text = String::new();
            push_instant(&mut text, at);
            text.push_str(".0000000");
            o.str("dateTime", &text);
            o.str("timeZone", "UTC");
            o.end_obj();
        }
        o.end_obj();
        o.key("language");
        o.begin_obj();
        o.str("locale", "en-US");
        o.str("displayName", "English (United States)");
        o.end_obj();
        o.key("workingHours");
        o.begin_obj();
        o.strs(
            "daysOfWeek",
            &["monday", "tuesday", "wednesday", "thursday", "friday"],
        );
        o.str("startTime", "08:00:00.0000000");
        o.str("endTime", "17:00:00.0000000");
        o.key("timeZone");
        o.begin_obj();
        o.str("name", zone);
        o.end_obj();
        o.end_obj();
        o.str(
            "delegateMeetingMessageDeliveryOptions",
            "sendToDelegateOnly",
        );
        o.str("dateFormat", "M/d/yyyy");
        o.str("timeFormat", "h:mm tt");
        o.envelope(env, "#microsoft.graph.mailboxSettings");
    })
}

/// One row per folder, with item counts that match the message rows of the mailbox.
pub(super) fn write_folders(
    mb: &Mailbox<'_>,
    pager: &mut Pager<'_, '_>,
) -> Result<(), TenantError> {
    let mut total = [0i64; FOLDERS.len()];
    let mut unread = [0i64; FOLDERS.len()];
    mb.for_each(|item| -> Result<(), TenantError> {
        let f = FOLDERS.iter().position(|&f| f == item.folder).unwrap_or(0);
        total[f] += 1;
        unread[f] += i64::from(!item.is_read);
        Ok(())
    })?;
    let root = folder_id(mb.dir.seed, mb.account, Folder::Inbox).replace("AAMkAD", "AAMkAR");
    for (n, &folder) in FOLDERS.iter().enumerate() {
        pager.row(|o: &mut JsonOut<'_>, env| {
            o.str("id", &folder_id(mb.dir.seed, mb.account, folder));
            o.str("displayName", folder.display_name());
            o.str("parentFolderId", &root);
            o.int("childFolderCount", 0);
            o.int("unreadItemCount", unread[n]);
            o.int("totalItemCount", total[n]);
            o.envelope(env, "#microsoft.graph.mailFolder");
        })?;
    }
    Ok(())
}
