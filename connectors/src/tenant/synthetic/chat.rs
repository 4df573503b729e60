//! TeamChat_v1: Teams chat messages as the mailbox keeps them, in PascalCase.

use rand::Rng;

use super::mail::{Addr, Mailbox, NEIGHBOURHOOD};
use super::messages::email_address;
use super::rows::{hash, item_id, push_b64, rng, stream, Case, JsonOut};
use super::words::CHAT_LINES;
use super::{Pager, Window};
use crate::tenant::TenantError;

const CHAT_HEAD: &str = "<html><head>\r\n<meta http-equiv=\"Content-Type\" \
content=\"text/html; charset=utf-8\"></head>";

pub(super) fn write(
    mb: &Mailbox<'_>,
    window: &Window,
    pager: &mut Pager<'_, '_>,
) -> Result<(), TenantError> {
    let dir = mb.dir;
    let seed = dir.seed;
    let me = mb.account;
    let accounts = dir.people.len() as u32;
    let count = (mb.config.messages_per_user / 2).max(1);
    let folder = item_id(seed, me.into(), &[stream::CHAT, u64::MAX]);
    let (start, end) = mb.config.range_secs();
    for k in 0..count {
        let mut r = rng(seed, &[stream::CHAT, me.into(), k.into()]);
        let peer = if accounts > 1 {
            (me + r.random_range(1..=NEIGHBOURHOOD.min(accounts - 1))) % accounts
        } else {
            me
        };
        let (from, to) = if r.random_bool(0.5) {
            (me, peer)
        } else {
            (peer, me)
        };
        let sent = r.random_range(start..end - 60);
        let (received, modified) = (sent + 1, sent + 2);
        if !window.keeps(&[
            ("ReceivedDateTime", Some(received)),
            ("SentDateTime", Some(sent)),
            ("CreatedDateTime", Some(received)),
            ("LastModifiedDateTime", Some(modified)),
        ]) {
            continue;
        }
        let line = CHAT_LINES[r.random_range(0..CHAT_LINES.len())];
        // A chat between two people is one conversation, whichever of them holds it.
        let pair = hash(
            seed,
            &[stream::CHAT, me.min(peer).into(), me.max(peer).into()],
        );
        let mut conversation = String::from("AAQkAD");
        push_b64(&mut conversation, &pair.to_le_bytes());
        let mut index = String::new();
        push_b64(&mut index, &hash(pair, &[k.into()]).to_be_bytes());
        let id = item_id(seed, me.into(), &[stream::CHAT, k.into()]);
        pager.row(|o: &mut JsonOut<'_>, env| {
            o.str("Id", &id);
            o.datetime("CreatedDateTime", received);
            o.datetime("LastModifiedDateTime", modified);
            o.str(
                "ChangeKey",
                &format!("CQAAABYAAAB{:016x}", hash(pair, &[k.into(), 1])),
            );
            o.strs("Categories", &[]);
            o.datetime("ReceivedDateTime", received);
            o.datetime("SentDateTime", sent);
            o.bool("HasAttachments", false);
            o.str(
                "InternetMessageId",
                &(sent * 1000 + i64::from(k % 1000)).to_string(),
            );
            o.str("Subject", "");
            o.str("BodyPreview", line);
            o.str("Importance", "Normal");
            o.str("ParentFolderId", &folder);
            o.str("ConversationId", &conversation);
            o.str("ConversationIndex", &index);
            o.bool("IsRead", from == me || r.random_bool(0.8));
            o.bool("IsDraft", false);
            o.key("Body");
            o.begin_obj();
            o.str("ContentType", "Microsoft.OutlookServices.BodyType'HTML'");
            let html = format!("{CHAT_HEAD}<body><div>{line}</div></body></html>");
            o.str("Content", &html);
            o.end_obj();
            for key in ["Sender", "From"] {
                o.key(key);
                email_address(o, dir, Case::Pascal, Addr::Account(from));
            }
            o.key("ToRecipients");
            o.begin_list();
            email_address(o, dir, Case::Pascal, Addr::Account(to));
            o.end_list();
            o.key("ReplyTo");
            o.begin_list();
            o.end_list();
            o.key("Flag");
            o.begin_obj();
            o.str(
                "FlagStatus",
                "Microsoft.OutlookServices.FollowupFlagStatus'NotFlagged'",
            );
            o.end_obj();
            o.key("Attachments");
            o.begin_list();
            o.end_list();
            o.envelope(env, "#Microsoft.OutlookServices.Message");
        })?;
    }
    Ok(())
}
