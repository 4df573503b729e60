//! What every copy of a message shares: subject, thread, importance, HTML body and
//! attachments. Generated from the message's origin alone, so each mailbox renders the same
//! content for its copy without talking to any other.

use rand::Rng;

use super::directory::Directory;
use super::mail::{Addr, Header, Origin};
use super::rows::{hash, push_b64, rng, stream};
use super::words::{
    fill, ATTACHMENTS, EXTERNAL_DOMAINS, GIVEN, GREETINGS, PROJECTS, SENTENCES, SIGN_OFFS,
    SUBJECTS, SURNAMES,
};

/// Body sizes are log-normal around this median (bytes), clamped to [`MIN_BODY`, `MAX_BODY`].
const MEDIAN_BODY: f64 = 3000.0;
const SIGMA_BODY: f64 = 1.1;
const MIN_BODY: usize = 1000;
const MAX_BODY: usize = 160_000;

/// Messages in a thread: consecutive messages of one sender share a conversation.
const THREAD_LEN: u32 = 4;

/// An attachment's metadata (bytes are not generated).
pub(super) struct Attachment {
    pub(super) id_key: u64,
    pub(super) name: String,
    pub(super) content_type: &'static str,
    pub(super) size: i64,
    pub(super) inline: bool,
}

/// The shared content of one message.
pub(super) struct Content {
    pub(super) subject: String,
    /// `low`, `normal` or `high`.
    pub(super) importance: &'static str,
    pub(super) conversation_id: String,
    pub(super) conversation_index: String,
    pub(super) internet_message_id: String,
    pub(super) body: String,
    pub(super) unique_body: String,
    pub(super) preview: String,
    pub(super) attachments: Vec<Attachment>,
}

/// A display name and address for any address on a message.
pub(super) fn name_and_address(dir: &Directory, addr: Addr) -> (String, String) {
    match addr {
        Addr::Account(i) => (dir.display_name(i), dir.mail(i)),
        Addr::External(h) => {
            let given = GIVEN[(h % GIVEN.len() as u64) as usize];
            let surname = SURNAMES[(h >> 16) as usize % SURNAMES.len()];
            let domain = EXTERNAL_DOMAINS[(h >> 32) as usize % EXTERNAL_DOMAINS.len()];
            let address = format!(
                "{}.{}@{domain}",
                given.to_ascii_lowercase(),
                surname.to_ascii_lowercase()
            );
            (format!("{given} {surname}"), address)
        }
    }
}

/// A log-normal size from two uniforms (Box-Muller), so most bodies are a few kilobytes and
/// a long tail reaches a hundred.
fn body_size(r: &mut impl Rng) -> usize {
    let u1: f64 = r.random_range(f64::EPSILON..1.0);
    let u2: f64 = r.random();
    let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    ((MEDIAN_BODY.ln() + SIGMA_BODY * z).exp() as usize).clamp(MIN_BODY, MAX_BODY)
}

/// Generates the content of a message.
pub(super) fn content(dir: &Directory, header: &Header) -> Content {
    let key = header.origin.key();
    let seed = dir.seed;
    let mut r = rng(seed, &[stream::CONTENT, key[0], key[1], key[2]]);

    // Thread: the conversation and the reply depth inside it.
    let (thread, depth) = match header.origin {
        Origin::Internal { sender, k } => (
            hash(
                seed,
                &[stream::CONTENT, 1, sender.into(), (k / THREAD_LEN).into()],
            ),
            k % THREAD_LEN,
        ),
        Origin::Inbound { mailbox, k } => (
            hash(seed, &[stream::CONTENT, 2, mailbox.into(), k.into()]),
            0,
        ),
    };
    let mut tr = rng(seed, &[stream::CONTENT, 3, thread]);
    let project = PROJECTS[tr.random_range(0..PROJECTS.len())];
    let topic = fill(SUBJECTS[tr.random_range(0..SUBJECTS.len())], project);
    let subject = if depth == 0 {
        topic
    } else {
        format!("RE: {topic}")
    };
    let mut conversation = Vec::with_capacity(48);
    conversation.extend_from_slice(b"\0\x10\0");
    conversation.extend_from_slice(&thread.to_le_bytes());
    conversation.extend_from_slice(&mix_bytes(thread));
    let mut conversation_id = String::from("AAQkAD");
    push_b64(&mut conversation_id, &conversation);
    let mut index = vec![1u8];
    index.extend_from_slice(&thread.to_be_bytes()[..5]);
    index.extend_from_slice(&mix_bytes(thread)[..16]);
    for d in 0..depth {
        index.extend_from_slice(&hash(thread, &[d.into()]).to_be_bytes()[..5]);
    }
    let mut conversation_index = String::new();
    push_b64(&mut conversation_index, &index);

    let importance = match r.random_range(0..20) {
        0 => "low",
        1 | 2 => "high",
        _ => "normal",
    };
    let mid = hash(seed, &[stream::CONTENT, 4, key[0], key[1], key[2]]);
    let internet_message_id = format!(
        "<{:016x}{:08x}@{}PR{:02}MB{:04}.namprd{:02}.prod.outlook.com>",
        mid,
        mid >> 32,
        ["BN", "CY", "DM", "SN", "MW"][(mid % 5) as usize],
        (mid >> 8) % 20,
        (mid >> 16) % 10_000,
        (mid >> 24) % 20
    );

    // Body: greeting, paragraphs up to the drawn size, sign-off.
    let target = body_size(&mut r);
    let (to_name, _) = name_and_address(dir, header.to[0]);
    let (from_name, _) = name_and_address(dir, header.from);
    let first_name = to_name.split(' ').next().unwrap_or_default();
    let greeting = format!(
        "{} {first_name},",
        GREETINGS[r.random_range(0..GREETINGS.len())]
    );
    let mut body = String::with_capacity(target + 600);
    body.push_str(HTML_HEAD);
    body.push_str(DIV);
    body.push_str(&greeting);
    body.push_str("</div>\r\n");
    let mut preview = greeting.clone();
    let mut first_para = String::new();
    while body.len() < target {
        body.push_str(DIV);
        let start = body.len();
        for _ in 0..r.random_range(2..6) {
            body.push_str(SENTENCES[r.random_range(0..SENTENCES.len())]);
            body.push(' ');
        }
        if first_para.is_empty() {
            first_para = body[start..].to_owned();
        }
        if preview.len() < 255 {
            preview.push(' ');
            preview.push_str(body[start..].trim_end());
        }
        body.push_str("</div>\r\n");
    }
    let sign_off = SIGN_OFFS[r.random_range(0..SIGN_OFFS.len())];
    body.push_str(&format!(
        "{DIV}{sign_off},<br>{from_name}</div>\r\n</body></html>"
    ));
    truncate_chars(&mut preview, 255);
    let unique_body = format!("<html><body>{DIV}{first_para}</div></body></html>");

    // Attachments: a fifth of messages carry one to three.
    let mut attachments = Vec::new();
    if r.random_bool(0.2) {
        for a in 0..r.random_range(1..=3) {
            let (name, content_type) = ATTACHMENTS[r.random_range(0..ATTACHMENTS.len())];
            let z: f64 = r.random_range(0.0..1.0);
            attachments.push(Attachment {
                id_key: hash(mid, &[a]),
                name: name.to_owned(),
                content_type,
                size: (2000.0 * (z * 8.0).exp()) as i64,
                inline: content_type.starts_with("image/") && r.random_bool(0.5),
            });
        }
    }

    Content {
        subject,
        importance,
        conversation_id,
        conversation_index,
        internet_message_id,
        body,
        unique_body,
        preview,
        attachments,
    }
}

const HTML_HEAD: &str = "<html><head>\r\n<meta http-equiv=\"Content-Type\" \
content=\"text/html; charset=utf-8\">\r\n<style type=\"text/css\" style=\"display:none\">\
P {margin-top:0;margin-bottom:0;}</style>\r\n</head>\r\n<body dir=\"ltr\">\r\n";

const DIV: &str = "<div style=\"font-family: Calibri, Arial, Helvetica, sans-serif; \
font-size: 12pt; color: rgb(0, 0, 0);\">";

fn mix_bytes(v: u64) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&hash(v, &[1]).to_le_bytes());
    out[8..].copy_from_slice(&hash(v, &[2]).to_le_bytes());
    out
}

fn truncate_chars(s: &mut String, max: usize) {
    if let Some((i, _)) = s.char_indices().nth(max) {
        s.truncate(i);
    }
}
