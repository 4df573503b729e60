//! Message rows: Message_v0 (PascalCase), Message_v1, Inbox_v1 and SentItem_v1 (Message_v1's
//! columns for one folder, without the internet headers).

use super::content::{content, name_and_address, Content};
use super::directory::Directory;
use super::mail::{Addr, Folder, Item, Mailbox};
use super::rows::{hash, item_id, push_instant, stream, Case, JsonOut};
use super::{Pager, Window};
use crate::tenant::TenantError;

/// The message tables, which differ in key case, folder and a few columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MessageTable {
    V0,
    V1,
    Inbox,
    SentItems,
}

impl MessageTable {
    fn case(self) -> Case {
        if self == MessageTable::V0 {
            Case::Pascal
        } else {
            Case::Camel
        }
    }

    fn keeps(self, folder: Folder) -> bool {
        match self {
            MessageTable::Inbox => folder == Folder::Inbox,
            MessageTable::SentItems => folder == Folder::SentItems,
            _ => true,
        }
    }
}

/// The id of a folder in a mailbox.
pub(super) fn folder_id(seed: u64, account: u32, folder: Folder) -> String {
    item_id(seed, account.into(), &[stream::MAILBOX, folder.tag()])
}

/// Writes the rows of one mailbox for a message table.
pub(super) fn write(
    mailbox: &Mailbox<'_>,
    table: MessageTable,
    window: &Window,
    pager: &mut Pager<'_, '_>,
) -> Result<(), TenantError> {
    mailbox.for_each(|item| {
        if !table.keeps(item.folder) || !window.keeps_message(&item) {
            return Ok(());
        }
        let c = content(mailbox.dir, &item.header);
        pager.row(|o, env| write_row(o, mailbox, table, &item, &c, env))
    })
}

fn write_row(
    o: &mut JsonOut<'_>,
    mailbox: &Mailbox<'_>,
    table: MessageTable,
    item: &Item,
    c: &Content,
    env: &super::rows::Envelope<'_>,
) {
    let dir = mailbox.dir;
    let seed = dir.seed;
    let case = table.case();
    let k = |camel: &'static str| -> &'static str {
        if case == Case::Camel {
            camel
        } else {
            pascal(camel)
        }
    };
    let key = item.header.origin.key();
    let copy = hash(
        seed,
        &[stream::COPY, mailbox.account.into(), key[0], key[1], key[2]],
    );
    let id = item_id(
        seed,
        mailbox.account.into(),
        &[stream::COPY, key[0], key[1], key[2]],
    );

    o.str(k("id"), &id);
    o.datetime(k("createdDateTime"), item.created);
    o.datetime(k("lastModifiedDateTime"), item.modified);
    o.str(k("changeKey"), &format!("CQAAABYAAAD{:016x}", copy));
    let category: &[&str] = match copy % 12 {
        0 => &["Red category"],
        1 => &["Blue category"],
        _ => &[],
    };
    o.strs(k("categories"), category);
    o.datetime(k("receivedDateTime"), item.received);
    match item.header.sent {
        Some(sent) => o.datetime(k("sentDateTime"), sent),
        None => o.null(k("sentDateTime")),
    }
    let has_files = c.attachments.iter().any(|a| !a.inline);
    o.bool(k("hasAttachments"), has_files);
    o.str(k("internetMessageId"), &c.internet_message_id);
    o.str(k("subject"), &c.subject);
    if table != MessageTable::V0 {
        o.str("bodyPreview", &c.preview);
    }
    let importance = if case == Case::Pascal {
        capitalised(c.importance)
    } else {
        c.importance
    };
    o.str(k("importance"), importance);
    o.str(
        k("parentFolderId"),
        &folder_id(seed, mailbox.account, item.folder),
    );
    o.str(k("conversationId"), &c.conversation_id);
    if table != MessageTable::V0 {
        o.str("conversationIndex", &c.conversation_index);
    }
    o.null(k("isDeliveryReceiptRequested"));
    o.bool(k("isReadReceiptRequested"), copy >> 40 & 15 == 0);
    o.bool(k("isRead"), item.is_read);
    o.bool(k("isDraft"), item.header.sent.is_none());
    let mut link = String::from("https://outlook.office365.com/owa/?ItemID=");
    for ch in id.chars() {
        match ch {
            '+' => link.push_str("%2B"),
            '/' => link.push_str("%2F"),
            '=' => link.push_str("%3D"),
            _ => link.push(ch),
        }
    }
    link.push_str("&exvsurl=1&viewmodel=ReadMessageItem");
    o.str(k("webLink"), &link);

    // Addresses.
    for name in ["sender", "from"] {
        o.key(k(name));
        email_address(o, dir, case, item.header.from);
    }
    let lists = [
        ("toRecipients", &item.header.to),
        ("ccRecipients", &item.header.cc),
        ("bccRecipients", &item.header.bcc),
    ];
    for (name, list) in lists {
        // Only the sender's copy knows the blind copies.
        let list: &[Addr] = if name == "bccRecipients" && item.folder != Folder::SentItems {
            &[]
        } else {
            list
        };
        o.key(k(name));
        o.begin_list();
        for &a in list {
            email_address(o, dir, case, a);
        }
        o.end_list();
    }
    o.key(k("replyTo"));
    o.begin_list();
    o.end_list();

    // Bodies.
    let body_type = match case {
        Case::Camel => "microsoft.graph.bodyType'html'",
        Case::Pascal => "Microsoft.OutlookServices.BodyType'HTML'",
    };
    let bodies: &[(&str, &str)] = if table == MessageTable::V0 {
        &[("UniqueBody", &c.unique_body)]
    } else {
        &[("uniqueBody", &c.unique_body), ("body", &c.body)]
    };
    for &(name, text) in bodies {
        o.key(name);
        o.begin_obj();
        o.str(case.pick("contentType", "ContentType"), body_type);
        o.str(case.pick("content", "Content"), text);
        o.end_obj();
    }

    if table != MessageTable::V0 {
        o.str(
            "inferenceClassification",
            if copy & 3 == 0 { "other" } else { "focused" },
        );
        o.key("flag");
        o.begin_obj();
        let flagged = copy >> 20 & 15 == 0;
        let status = if flagged { "flagged" } else { "notFlagged" };
        o.str(
            "flagStatus",
            &format!("microsoft.graph.followupFlagStatus'{status}'"),
        );
        o.end_obj();
    }
    if table == MessageTable::V1 {
        o.key("internetMessageHeaders");
        o.begin_list();
        if item.folder != Folder::SentItems && item.header.sent.is_some() {
            internet_headers(o, dir, item, c);
        }
        o.end_list();
    }

    o.key(k("attachments"));
    o.begin_list();
    for a in &c.attachments {
        o.begin_obj();
        let mut aid = id.clone();
        aid.push_str(&format!("{:x}", a.id_key));
        o.str(k("id"), &aid);
        o.datetime(k("lastModifiedDateTime"), item.created);
        o.str(k("name"), &a.name);
        o.str(k("contentType"), a.content_type);
        o.int(k("size"), a.size);
        o.bool(k("isInline"), a.inline);
        if table != MessageTable::V0 {
            if a.inline {
                o.str(
                    "contentId",
                    &format!("{:032X}", u128::from(a.id_key) << 64 | 7),
                );
            } else {
                o.null("contentId");
            }
            o.null("contentLocation");
            // Attachment bytes would dwarf the bodies; MGDC leaves them out too when
            // asked for metadata only.
            o.null("contentBytes");
        }
        if table == MessageTable::V0 {
            o.str("ODataType", "#Microsoft.OutlookServices.FileAttachment");
        } else {
            o.str("ODataType", "#microsoft.graph.fileAttachment");
        }
        o.end_obj();
    }
    o.end_list();

    let odata = match case {
        Case::Camel => "#microsoft.graph.message",
        Case::Pascal => "#Microsoft.OutlookServices.Message",
    };
    o.envelope(env, odata);
}

/// `{"emailAddress": {"name": ..., "address": ...}}` in the table's case.
pub(super) fn email_address(o: &mut JsonOut<'_>, dir: &Directory, case: Case, addr: Addr) {
    let (name, address) = name_and_address(dir, addr);
    o.begin_obj();
    o.key(case.pick("emailAddress", "EmailAddress"));
    o.address(case, &name, &address);
    o.end_obj();
}

fn internet_headers(o: &mut JsonOut<'_>, dir: &Directory, item: &Item, c: &Content) {
    let (_, from) = name_and_address(dir, item.header.from);
    let hop = |o: &mut JsonOut<'_>, name: &str, value: &str| {
        o.begin_obj();
        o.str("name", name);
        o.str("value", value);
        o.end_obj();
    };
    let mut date = String::new();
    push_instant(&mut date, item.received);
    let received = format!(
        "from DM6PR11MB4545.namprd11.prod.outlook.com by \
         BN6PR11MB3220.namprd11.prod.outlook.com with HTTPS; {date} +0000"
    );
    hop(o, "Received", &received);
    hop(
        o,
        "Authentication-Results",
        "spf=pass; dkim=pass; dmarc=pass action=none",
    );
    hop(o, "From", &from);
    hop(o, "Subject", &c.subject);
    hop(o, "Message-ID", &c.internet_message_id);
    hop(o, "Content-Type", "text/html; charset=\"utf-8\"");
    hop(o, "MIME-Version", "1.0");
    hop(o, "X-MS-Exchange-Organization-SCL", "1");
}

fn capitalised(s: &'static str) -> &'static str {
    match s {
        "low" => "Low",
        "high" => "High",
        _ => "Normal",
    }
}

/// The PascalCase spelling of a camelCase key used by message tables.
fn pascal(camel: &'static str) -> &'static str {
    match camel {
        "id" => "Id",
        "createdDateTime" => "CreatedDateTime",
        "lastModifiedDateTime" => "LastModifiedDateTime",
        "changeKey" => "ChangeKey",
        "categories" => "Categories",
        "receivedDateTime" => "ReceivedDateTime",
        "sentDateTime" => "SentDateTime",
        "hasAttachments" => "HasAttachments",
        "internetMessageId" => "InternetMessageId",
        "subject" => "Subject",
        "importance" => "Importance",
        "parentFolderId" => "ParentFolderId",
        "conversationId" => "ConversationId",
        "isDeliveryReceiptRequested" => "IsDeliveryReceiptRequested",
        "isReadReceiptRequested" => "IsReadReceiptRequested",
        "isRead" => "IsRead",
        "isDraft" => "IsDraft",
        "webLink" => "WebLink",
        "sender" => "Sender",
        "from" => "From",
        "toRecipients" => "ToRecipients",
        "ccRecipients" => "CcRecipients",
        "bccRecipients" => "BccRecipients",
        "replyTo" => "ReplyTo",
        "attachments" => "Attachments",
        "name" => "Name",
        "contentType" => "ContentType",
        "size" => "Size",
        "isInline" => "IsInline",
        other => other,
    }
}
