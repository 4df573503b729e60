//! Calendars: Event_v1 (the events a mailbox organises, series masters included) and
//! CalendarView_v0 (their occurrences inside the requested window).
//!
//! Both tables share one writer. The case of nested keys and the spelling of the series
//! master column are read from the catalog, because published CalendarView schemas
//! disagree on both.

use rand::Rng;

use super::content::name_and_address;
use super::mail::{Addr, Mailbox, NEIGHBOURHOOD};
use super::rows::{hash, item_id, push_instant, rng, stream, weekday, Case, JsonOut, DAY};
use super::words::{fill, MEETING_SUBJECTS, PROJECTS, ROOMS, SENTENCES, TIME_ZONES};
use super::{Pager, Window};
use crate::catalog::{FieldType, Table};
use crate::tenant::TenantError;

const WEEKDAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];

/// One organised event, before rendering.
struct Event {
    n: u32,
    id: String,
    subject: String,
    created: i64,
    modified: i64,
    start: i64,
    duration: i64,
    all_day: bool,
    online: bool,
    /// Weekly occurrences; `None` for a single instance, `Some(None)` for no end date.
    series: Option<Option<u32>>,
    zone: &'static str,
    room: &'static str,
    attendees: Vec<(Addr, u32)>,
    body: String,
}

fn event(mb: &Mailbox<'_>, n: u32) -> Event {
    let seed = mb.dir.seed;
    let mut r = rng(seed, &[stream::EVENT, mb.account.into(), n.into()]);
    let (start, end) = mb.config.range_secs();
    let created = r.random_range(start..(end - DAY).max(start + 1));
    let modified = (created + r.random_range(0..5 * DAY)).min(end - 1);
    let kind = r.random_range(0..10);
    let all_day = kind == 9;
    let day = (created / DAY) + r.random_range(1..21);
    let event_start = if all_day {
        day * DAY
    } else {
        day * DAY + r.random_range(8..17) * 3600
    };
    let accounts = mb.dir.people.len() as u32;
    let mut attendees = Vec::new();
    for _ in 0..r.random_range(1..6) {
        let addr = if accounts > 1 && r.random_bool(0.85) {
            let step = r.random_range(1..=NEIGHBOURHOOD.min(accounts - 1));
            Addr::Account((mb.account + step) % accounts)
        } else {
            Addr::External(r.random::<u64>())
        };
        if !attendees.iter().any(|(a, _)| *a == addr) {
            attendees.push((addr, r.random_range(0..4)));
        }
    }
    let project = PROJECTS[r.random_range(0..PROJECTS.len())];
    Event {
        n,
        id: item_id(seed, mb.account.into(), &[stream::EVENT, n.into()]),
        subject: fill(
            MEETING_SUBJECTS[r.random_range(0..MEETING_SUBJECTS.len())],
            project,
        ),
        created,
        modified,
        start: event_start,
        duration: if all_day {
            DAY
        } else {
            [1800, 3600, 3600, 5400][r.random_range(0..4)]
        },
        all_day,
        online: !all_day && r.random_bool(0.4),
        series: (6..=8)
            .contains(&kind)
            .then(|| r.random_bool(0.6).then(|| r.random_range(4..20))),
        zone: TIME_ZONES[r.random_range(0..TIME_ZONES.len())],
        room: ROOMS[r.random_range(0..ROOMS.len())],
        attendees,
        body: SENTENCES[r.random_range(0..SENTENCES.len())].to_owned(),
    }
}

fn event_count(mb: &Mailbox<'_>) -> u32 {
    (mb.config.messages_per_user / 4).max(2)
}

/// Event_v1 rows: singles and series masters, filtered on their own date columns.
pub(super) fn write_events(
    mb: &Mailbox<'_>,
    table: &Table,
    window: &Window,
    pager: &mut Pager<'_, '_>,
) -> Result<(), TenantError> {
    for n in 0..event_count(mb) {
        let e = event(mb, n);
        let dates = [
            ("createdDateTime", Some(e.created)),
            ("lastModifiedDateTime", Some(e.modified)),
        ];
        if window.keeps(&dates) {
            pager.row(|o, env| {
                write_event(o, mb, &e, Shape::of(table), None);
                o.envelope(env, "#microsoft.graph.event");
            })?;
        }
    }
    Ok(())
}

/// CalendarView_v0 rows: every occurrence whose start lies in the window.
pub(super) fn write_view(
    mb: &Mailbox<'_>,
    table: &Table,
    window: &Window,
    pager: &mut Pager<'_, '_>,
) -> Result<(), TenantError> {
    for n in 0..event_count(mb) {
        let e = event(mb, n);
        let starts: Box<dyn Iterator<Item = i64>> = match e.series {
            None => Box::new(std::iter::once(e.start)),
            Some(Some(count)) => Box::new((0..i64::from(count)).map(|w| e.start + w * 7 * DAY)),
            // No end date: the window is the only bound (at most 1825 days, so finite).
            Some(None) => {
                let last = window.end_secs().min(e.start + 1900 * DAY);
                Box::new(
                    (0..)
                        .map(|w| e.start + w * 7 * DAY)
                        .take_while(move |&s| s < last),
                )
            }
        };
        for (i, start) in starts.enumerate() {
            if window.contains(start) {
                pager.row(|o, env| {
                    write_event(o, mb, &e, Shape::of(table), Some((i as u64, start)));
                    o.envelope(env, "#microsoft.graph.event");
                })?;
            }
        }
    }
    Ok(())
}

/// How a calendar table spells what differs between schema versions.
#[derive(Clone, Copy)]
struct Shape {
    /// Case of nested keys (`body.contentType` or `body.ContentType`).
    case: Case,
    /// The series master column: `seriesMasterId`, or `vseriesMasterId` in CalendarView_v0.
    master: &'static str,
}

impl Shape {
    fn of(table: &Table) -> Shape {
        let pascal = table.columns.iter().any(|c| match (&*c.name, &c.ty) {
            ("body", FieldType::Struct(fields)) => fields
                .first()
                .is_some_and(|f| f.name.starts_with(char::is_uppercase)),
            _ => false,
        });
        let master = if table.columns.iter().any(|c| c.name == "vseriesMasterId") {
            "vseriesMasterId"
        } else {
            "seriesMasterId"
        };
        Shape {
            case: if pascal { Case::Pascal } else { Case::Camel },
            master,
        }
    }
}

/// The columns of an event; `occurrence` is the index and start of a calendar-view
/// occurrence.
fn write_event(
    o: &mut JsonOut<'_>,
    mb: &Mailbox<'_>,
    e: &Event,
    shape: Shape,
    occurrence: Option<(u64, i64)>,
) {
    let case = shape.case;
    let seed = mb.dir.seed;
    let p = |camel: &'static str, pascal: &'static str| case.pick(camel, pascal);
    let is_occurrence = occurrence.is_some() && e.series.is_some();
    let id = match occurrence {
        Some((i, _)) if e.series.is_some() => {
            item_id(seed, mb.account.into(), &[stream::EVENT, e.n.into(), i + 1])
        }
        _ => e.id.clone(),
    };
    let start = occurrence.map_or(e.start, |(_, s)| s);

    o.str("id", &id);
    o.bool("allowNewTimeProposals", true);
    o.datetime("createdDateTime", e.created);
    o.datetime("lastModifiedDateTime", e.modified);
    o.str("changeKey", &format!("w2/SJ+HxY0isu3HN{:08x}", e.modified));
    o.strs("categories", &[]);
    o.str("originalStartTimeZone", e.zone);
    o.str("originalEndTimeZone", e.zone);
    o.key("responseStatus");
    o.begin_obj();
    o.str(
        p("response", "Response"),
        "microsoft.graph.responseType'organizer'",
    );
    o.str(p("time", "Time"), "0001-01-01T00:00:00Z");
    o.end_obj();
    let uid = hash(seed, &[stream::EVENT, mb.account.into(), e.n.into(), 99]);
    o.str(
        "iCalUId",
        &format!("040000008200E00074C5B7101A82E00800000000{uid:016X}"),
    );
    o.bool("isOnlineMeeting", e.online);
    o.int(
        "reminderMinutesBeforeStart",
        if e.all_day { 1080 } else { 15 },
    );
    o.bool("isReminderOn", !e.all_day);
    o.bool("hasAttachments", false);
    o.str("subject", &e.subject);
    o.key("body");
    o.begin_obj();
    o.str(
        p("contentType", "ContentType"),
        "microsoft.graph.bodyType'html'",
    );
    o.str(
        p("content", "Content"),
        &format!("<html><body><div>{}</div></body></html>", e.body),
    );
    o.end_obj();
    o.str("bodyPreview", &e.body);
    o.str("importance", "normal");
    o.str("sensitivity", "normal");
    for (key, at) in [("start", start), ("end", start + e.duration)] {
        o.key(key);
        o.begin_obj();
        let mut text = String::new();
        push_instant(&mut text, at);
        text.push_str(".0000000");
        o.str(p("dateTime", "DateTime"), &text);
        o.str(p("timeZone", "TimeZone"), "UTC");
        o.end_obj();
    }
    o.key("location");
    write_location(o, case, e.room, false);
    o.key("locations");
    o.begin_list();
    write_location(o, case, e.room, true);
    o.end_list();
    o.bool("isAllDay", e.all_day);
    o.bool("isCancelled", false);
    o.bool("isOrganizer", true);
    o.key("onlineMeeting");
    let join = format!(
        "https://teams.microsoft.com/l/meetup-join/19%3ameeting_{}%40thread.v2/0",
        &e.id[10..30]
    );
    if e.online {
        o.begin_obj();
        o.str("joinUrl", &join);
        o.str(
            "conferenceId",
            &format!("{}", seed.wrapping_add(u64::from(e.n)) % 1_000_000_000),
        );
        o.null("tollNumber");
        o.end_obj();
    } else {
        o.v_raw("null");
    }
    o.str(
        "onlineMeetingProvider",
        if e.online {
            "teamsForBusiness"
        } else {
            "unknown"
        },
    );
    o.opt_str("onlineMeetingUrl", e.online.then_some(join.as_str()));
    o.key("recurrence");
    match e.series {
        Some(count) if !is_occurrence => write_recurrence(o, e, count),
        _ => o.v_raw("null"),
    }
    o.bool("responseRequested", true);
    o.str("showAs", if e.all_day { "free" } else { "busy" });
    o.null("transactionId");
    let kind = match (e.series.is_some(), is_occurrence) {
        (false, _) => "singleInstance",
        (true, false) => "seriesMaster",
        (true, true) => "occurrence",
    };
    o.str("type", kind);
    o.key("attendees");
    o.begin_list();
    for &(addr, response) in &e.attendees {
        let (name, address) = name_and_address(mb.dir, addr);
        let response = ["none", "accepted", "tentativelyAccepted", "declined"][response as usize];
        o.begin_obj();
        o.str(p("type", "Type"), "microsoft.graph.attendeeType'required'");
        o.key(p("status", "Status"));
        o.begin_obj();
        o.str(
            p("response", "Response"),
            &format!("microsoft.graph.responseType'{response}'"),
        );
        o.str(p("time", "Time"), "0001-01-01T00:00:00Z");
        o.end_obj();
        o.key(p("emailAddress", "EmailAddress"));
        o.address(case, &name, &address);
        o.end_obj();
    }
    o.end_list();
    o.key("organizer");
    o.begin_obj();
    o.key(p("emailAddress", "EmailAddress"));
    o.address(
        case,
        &mb.dir.display_name(mb.account),
        &mb.dir.mail(mb.account),
    );
    o.end_obj();
    o.str(
        "webLink",
        &format!("https://outlook.office365.com/owa/?itemid={id}&exvsurl=1&path=/calendar/item"),
    );
    o.strs("attachments", &[]);
    let master = is_occurrence.then_some(e.id.as_str());
    o.opt_str(shape.master, master);
    match occurrence {
        Some((_, s)) if is_occurrence => o.datetime("originalStart", s),
        _ => o.null("originalStart"),
    }
}

fn write_location(o: &mut JsonOut<'_>, case: Case, room: &str, in_list: bool) {
    let p = |camel: &'static str, pascal: &'static str| case.pick(camel, pascal);
    o.begin_obj();
    o.str(p("displayName", "DisplayName"), room);
    // The PascalCase CalendarView schema lists the kind and unique id only in `locations`.
    if case == Case::Camel || in_list {
        o.str(
            p("locationType", "LocationType"),
            "microsoft.graph.locationType'conferenceRoom'",
        );
        o.str(p("uniqueId", "UniqueId"), room);
        let id_type = "microsoft.graph.locationUniqueIdType'private'";
        o.str(p("uniqueIdType", "UniqueIdType"), id_type);
    }
    if in_list {
        o.null(p("locationEmailAddress", "LocationEmailAddress"));
        o.null(p("locationUri", "LocationUri"));
    }
    o.end_obj();
}

fn write_recurrence(o: &mut JsonOut<'_>, e: &Event, count: Option<u32>) {
    let day = WEEKDAYS[weekday(e.start.div_euclid(DAY)) as usize];
    o.begin_obj();
    o.key("pattern");
    o.begin_obj();
    o.str("type", "microsoft.graph.recurrencePatternType'weekly'");
    o.int("interval", 1);
    o.int("month", 0);
    o.int("dayOfMonth", 0);
    o.strs(
        "daysOfWeek",
        &[&format!("microsoft.graph.dayOfWeek'{day}'")],
    );
    o.str("firstDayOfWeek", "microsoft.graph.dayOfWeek'sunday'");
    o.str("index", "microsoft.graph.weekIndex'first'");
    o.end_obj();
    o.key("range");
    o.begin_obj();
    let kind = if count.is_some() { "numbered" } else { "noEnd" };
    o.str(
        "type",
        &format!("microsoft.graph.recurrenceRangeType'{kind}'"),
    );
    o.datetime("startDate", e.start - e.start.rem_euclid(DAY));
    o.str("endDate", "0001-01-01T00:00:00Z");
    o.str("recurrenceTimeZone", e.zone);
    o.int("numberOfOccurrences", i64::from(count.unwrap_or(0)));
    o.end_obj();
    o.end_obj();
}
