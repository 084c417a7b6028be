//! Fuzz test (issue 13, item 5): arbitrary and boundary bodies sent to every
//! server function through the whole router (middleware included), without
//! a socket, as every kind of caller.
//!
//! For each request: no panic, no 5xx (nor an `internal` error hidden
//! behind a no-JS form redirect), and when the answer is an error (4xx), a
//! fingerprint of the database is exactly what it was before (no appointment,
//! request, availability, settings, user, membership, outbox or audit row
//! written or changed). A success may change data; the next case starts from
//! the new state, so the fuzz walks through states the demo data alone never
//! reaches.
//!
//! The generator is deterministic (a fixed seed), so a failure reproduces.
//! `SLOTWISE_FUZZ_CASES` and `SLOTWISE_FUZZ_SEED` run more or other cases;
//! every failure is listed (endpoint, caller, body, status, server log)
//! before the test fails. SQLite always; PostgreSQL too when
//! `SLOTWISE_TEST_PG_URL` is set (as the CI does).
//!
//! Runs on a current-thread runtime, like `router.rs` (see its note).

mod common;

use app::server::demo::DEMO_PASSWORD;
use app::server::service::accounts::{register_patient, Registration};
use axum::body::Body;
use axum::http::{header, Request};
use axum::Router;
use common::{demo_app, web, Backend, TestApp};
use futures::FutureExt;
use http_body_util::BodyExt;
use serde_json::{json, Map, Value};
use sqlx::{AnyPool, Row as _};
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Generated requests per run (per database), after the regressions and
/// the sweep: about 45 s in all on SQLite in a debug build on two cores.
const DEFAULT_CASES: usize = 2500;
const DEFAULT_SEED: u64 = 0x5107_0513;

// ---------------------------------------------------------------------------
// The server functions and their arguments.
// ---------------------------------------------------------------------------

/// Where a real id comes from (the current data, refreshed after changes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Pool {
    Clinic,
    Service,
    Provider,
    Patient,
    User,
    Appointment,
    Request,
    /// A patient's cancel or reschedule request.
    ChangeRequest,
    Slot,
    TimeOff,
    Outbox,
    /// A clinic's API client (issue 16).
    ApiClient,
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    /// An i64 id.
    Id(Pool),
    /// An optional i64 id (left out or blank: "the first", "any" or "mine").
    OptId(Pool),
    /// A list of ids (`name[0]`, `name[1]`, ...).
    Ids(Pool),
    /// A u8 weekday, 0 = Monday.
    Weekday,
    /// A usize index.
    Index,
    /// An i64 page number.
    Page,
    /// Unix seconds.
    Unix,
    /// A list of unix seconds (`name[0]`, ...).
    Unixes,
    /// YYYY-MM-DD.
    Date,
    /// HH:MM.
    Time,
    /// HH:MM or blank.
    OptTime,
    /// YYYY-MM-DDTHH:MM:SS, or blank.
    LocalDateTime,
    /// A weekly repeat (`name[interval_weeks]`, `name[end][count]` or
    /// `name[end][until]`), or none.
    Repeat,
    Text,
    /// A pre-request form question's label.
    Label,
    Choice(&'static [&'static str]),
    /// A checkbox: absent, "on", or anything.
    Check,
    Bool,
    /// A number of minutes as text.
    Minutes,
    /// A number of hours as text.
    Hours,
    /// An amount of money as text.
    Money,
    Url,
    Slug,
    /// An email to log in with (never a caller's: failures lock accounts).
    LoginEmail,
    /// An email to register.
    NewEmail,
    Password,
    Name,
    /// A path to go to after login.
    Next,
    /// Notification choices (`name[i][event]`, `name[i][channel]`).
    Choices,
    /// `answers[i]` for a request's form questions.
    Answers,
}

use Kind::*;

const CANCEL_REASONS: &[&str] = &[
    "pat",
    "unwell",
    "pat-lt",
    "prov",
    "prov-hosp",
    "oth-weath",
    "oth-fin",
    "oth-err",
    "other",
];
const EVENTS: &[&str] = &[
    "appointment_created",
    "appointment_cancelled",
    "appointment_rescheduled",
    "invited",
    "invitee_declined",
    "request_received",
    "request_answered",
    "change_request_received",
    "proposal_made",
    "proposal_answered",
];

struct Endpoint {
    name: &'static str,
    args: &'static [(&'static str, Kind)],
}

const fn ep(name: &'static str, args: &'static [(&'static str, Kind)]) -> Endpoint {
    Endpoint { name, args }
}

/// Every `#[server(prefix = "/api", endpoint = ...)]` in `app/src/api`.
const ENDPOINTS: &[Endpoint] = &[
    // api/mod.rs
    ep("me", &[]),
    ep("demo_logins", &[]),
    ep(
        "login",
        &[
            ("email", LoginEmail),
            ("password", Password),
            ("next", Next),
        ],
    ),
    ep("logout", &[]),
    ep(
        "register",
        &[
            ("name", Name),
            ("email", NewEmail),
            ("password", Password),
            ("clinic_id", Id(Pool::Clinic)),
            ("next", Next),
        ],
    ),
    ep("clinics", &[]),
    ep("pending_counts", &[]),
    ep(
        "bookings",
        &[
            (
                "status",
                Choice(&[
                    "upcoming",
                    "active",
                    "tentative",
                    "past",
                    "cancelled",
                    "noshow",
                ]),
            ),
            ("from", Date),
            ("to", Date),
            ("search", Text),
            ("page", Page),
        ],
    ),
    ep(
        "cancel_appointment",
        &[
            ("id", Id(Pool::Appointment)),
            ("scope", Choice(&["this", "series"])),
            ("reason", Choice(CANCEL_REASONS)),
            ("note", Text),
            ("message", Text),
        ],
    ),
    ep(
        "mark_no_show",
        &[
            ("id", Id(Pool::Appointment)),
            ("kind", Choice(&["fta", "dna"])),
        ],
    ),
    ep("decline_invitation", &[("id", Id(Pool::Appointment))]),
    ep(
        "answer_invitation",
        &[
            ("id", Id(Pool::Appointment)),
            ("answer", Choice(&["accept", "decline"])),
            ("scope", Choice(&["this", "series"])),
        ],
    ),
    // api/dashboard.rs
    ep("dashboard", &[]),
    ep(
        "schedule",
        &[
            ("clinic_id", OptId(Pool::Clinic)),
            ("mode", Choice(&["week", "day"])),
            ("date", Date),
            ("providers", Ids(Pool::Provider)),
        ],
    ),
    ep("create_options", &[("clinic_id", OptId(Pool::Clinic))]),
    ep(
        "create_appointment",
        &[
            ("form[clinic_id]", Id(Pool::Clinic)),
            ("form[provider_id]", Id(Pool::Provider)),
            ("form[patient_id]", Id(Pool::Patient)),
            ("form[service_id]", Id(Pool::Service)),
            ("form[date]", Date),
            ("form[start]", Time),
            ("form[end]", OptTime),
            ("form[location]", Text),
            ("form[invited]", Ids(Pool::Provider)),
            ("form[repeat]", Repeat),
        ],
    ),
    ep(
        "reschedule_appointment",
        &[
            ("id", Id(Pool::Appointment)),
            ("date", Date),
            ("start", Time),
            ("location", Text),
            ("scope", Choice(&["this", "future"])),
        ],
    ),
    // api/changes.rs
    ep(
        "cancel_my_appointment",
        &[
            ("appointment_id", Id(Pool::Appointment)),
            ("reason", Text),
            ("send_anyway", Check),
        ],
    ),
    ep(
        "reschedule_times",
        &[("appointment_id", Id(Pool::Appointment))],
    ),
    ep(
        "reschedule_my_appointment",
        &[
            ("appointment_id", Id(Pool::Appointment)),
            ("start", Unix),
            ("note", Text),
            ("send_anyway", Check),
        ],
    ),
    ep(
        "answer_proposal",
        &[
            ("appointment_id", Id(Pool::Appointment)),
            ("answer", Choice(&["approve", "cancel"])),
        ],
    ),
    ep("change_requests", &[]),
    ep(
        "answer_change_request",
        &[
            ("request_id", Id(Pool::ChangeRequest)),
            (
                "answer",
                Choice(&["approve", "deny", "propose", "cancel", "update"]),
            ),
            ("reason", Text),
            ("message", Text),
            ("start", LocalDateTime),
        ],
    ),
    // api/requests.rs
    ep("booking_page", &[("slug", Slug)]),
    ep(
        "free_slots",
        &[
            ("clinic_id", Id(Pool::Clinic)),
            ("service_id", Id(Pool::Service)),
            ("provider_id", OptId(Pool::Provider)),
        ],
    ),
    ep(
        "request_session",
        &[
            ("clinic_id", Id(Pool::Clinic)),
            ("service_id", Id(Pool::Service)),
            ("mode", Choice(&["now", "scheduled"])),
            ("provider_id", OptId(Pool::Provider)),
            ("times", Unixes),
            ("answers", Answers),
            ("note", Text),
        ],
    ),
    ep("my_requests", &[]),
    ep("withdraw_request", &[("request_id", Id(Pool::Request))]),
    ep("dispatch_board", &[("clinic_id", OptId(Pool::Clinic))]),
    ep("assign_options", &[("request_id", Id(Pool::Request))]),
    ep(
        "accept_request",
        &[
            ("request_id", Id(Pool::Request)),
            ("provider_id", Id(Pool::Provider)),
            ("start", Unix),
            ("response", Text),
        ],
    ),
    ep(
        "decline_request",
        &[("request_id", Id(Pool::Request)), ("response", Text)],
    ),
    ep("my_appointments", &[]),
    // api/notifications.rs
    ep("notification_settings", &[("user_id", OptId(Pool::User))]),
    ep(
        "save_notification_settings",
        &[("user_id", Id(Pool::User)), ("choices", Choices)],
    ),
    ep(
        "outbox",
        &[
            ("clinic_id", OptId(Pool::Clinic)),
            ("status", Choice(&["pending", "sent", "failed", "all"])),
        ],
    ),
    ep("retry_message", &[("id", Id(Pool::Outbox))]),
    ep("mailbox", &[]),
    ep("calendar_feed_status", &[]),
    ep("create_calendar_feed", &[]),
    ep("revoke_calendar_feed", &[]),
    ep("calendar_feed_names", &[]),
    ep("set_calendar_feed_names", &[("on", Bool)]),
    // api/clinic_settings.rs
    ep("clinic_settings", &[("clinic_id", OptId(Pool::Clinic))]),
    ep(
        "save_service",
        &[
            ("clinic_id", Id(Pool::Clinic)),
            ("service_id", Id(Pool::Service)),
            ("name", Text),
            ("description", Text),
            ("duration_minutes", Minutes),
            ("payment_required", Check),
            ("price", Money),
        ],
    ),
    ep(
        "set_service_active",
        &[("service_id", Id(Pool::Service)), ("active", Bool)],
    ),
    ep(
        "save_groups",
        &[
            ("clinic_id", Id(Pool::Clinic)),
            ("patient_group_name", Text),
            ("host_group_name", Text),
        ],
    ),
    ep(
        "add_question",
        &[
            ("clinic_id", Id(Pool::Clinic)),
            ("label", Text),
            ("kind", Choice(&["text", "choice"])),
            ("options", Text),
            ("required", Check),
        ],
    ),
    ep(
        "edit_question",
        &[
            ("clinic_id", Id(Pool::Clinic)),
            ("op", Choice(&["remove", "up"])),
            ("index", Index),
            ("label", Label),
        ],
    ),
    ep(
        "save_policy",
        &[
            ("clinic_id", Id(Pool::Clinic)),
            ("cancel_hours", Hours),
            ("reschedule_hours", Hours),
            ("needs_approval", Check),
            ("fee", Money),
            // Days, but the same numbers are worth throwing at it.
            ("horizon_days", Hours),
        ],
    ),
    ep(
        "save_pms",
        &[
            ("clinic_id", Id(Pool::Clinic)),
            (
                "connector",
                Choice(&["none", "auto_cancel", "manual_cancel"]),
            ),
            ("url", Url),
            ("secret", Text),
        ],
    ),
    // api/availability.rs
    ep(
        "availability",
        &[
            ("clinic_id", OptId(Pool::Clinic)),
            ("provider_id", OptId(Pool::Provider)),
        ],
    ),
    ep(
        "add_slot",
        &[
            ("clinic_id", Id(Pool::Clinic)),
            ("provider_id", Id(Pool::Provider)),
            ("weekday", Weekday),
            ("start", Time),
            ("end", Time),
        ],
    ),
    ep(
        "remove_availability",
        &[
            ("what", Choice(&["slot", "time_off"])),
            ("id", Id(Pool::Slot)),
        ],
    ),
    ep(
        "add_time_off",
        &[
            ("clinic_id", Id(Pool::Clinic)),
            ("provider_id", Id(Pool::Provider)),
            ("from_date", Date),
            ("from_time", Time),
            ("to_date", Date),
            ("to_time", Time),
            ("reason", Text),
        ],
    ),
    ep(
        "set_available_now",
        &[
            ("clinic_id", Id(Pool::Clinic)),
            ("provider_id", Id(Pool::Provider)),
            ("on", Bool),
        ],
    ),
    // API clients (issue 16, part 1): clinic admins only.
    ep("api_clients", &[("clinic_id", OptId(Pool::Clinic))]),
    ep(
        "create_api_client",
        &[
            ("clinic_id", Id(Pool::Clinic)),
            ("name", Name),
            ("scope", Choice(&["read", "read_write"])),
        ],
    ),
    ep("revoke_api_client", &[("id", Id(Pool::ApiClient))]),
];

/// The callers: anonymous, a stale cookie, each staff role of Northside,
/// Harbour's staff (another clinic), patients of both clinics, and a
/// patient of Harbour only (`cat@`, registered before the run).
const ROLES: &[&str] = &[
    "anonymous",
    "stale-cookie",
    "admin@northside.test",
    "scheduler@northside.test",
    "dr.lee@northside.test",
    "dr.patel@northside.test",
    "admin@harbour.test",
    "dr.nguyen@harbour.test",
    "ann@patients.test",
    "ben@patients.test",
    "cat@patients.test",
];

/// The callers a server function is meant for, chosen half the time so
/// that enough requests get past the permission checks into the logic.
fn intended(endpoint: &str) -> &'static [&'static str] {
    const PATIENTS: &[&str] = &[
        "ann@patients.test",
        "ben@patients.test",
        "cat@patients.test",
    ];
    const ADMINS: &[&str] = &["admin@northside.test", "admin@harbour.test"];
    const STAFF: &[&str] = &[
        "admin@northside.test",
        "scheduler@northside.test",
        "dr.lee@northside.test",
        "dr.patel@northside.test",
        "admin@harbour.test",
        "dr.nguyen@harbour.test",
    ];
    match endpoint {
        "cancel_my_appointment"
        | "reschedule_times"
        | "reschedule_my_appointment"
        | "answer_proposal"
        | "request_session"
        | "my_requests"
        | "withdraw_request"
        | "my_appointments" => PATIENTS,
        "clinic_settings" | "save_service" | "set_service_active" | "save_groups"
        | "add_question" | "edit_question" | "save_policy" | "save_pms" | "outbox"
        | "retry_message" | "api_clients" | "create_api_client" | "revoke_api_client" => ADMINS,
        "me"
        | "demo_logins"
        | "login"
        | "logout"
        | "register"
        | "clinics"
        | "booking_page"
        | "free_slots"
        | "pending_counts"
        | "notification_settings"
        | "save_notification_settings"
        | "mailbox"
        | "calendar_feed_status"
        | "create_calendar_feed"
        | "revoke_calendar_feed"
        | "calendar_feed_names"
        | "set_calendar_feed_names" => ROLES,
        _ => STAFF,
    }
}

/// Inputs the fuzz found that failed once, replayed first on every run:
/// (endpoint, caller, as a no-JS form post, content type, body).
const REGRESSIONS: &[(&str, &str, bool, &str, &[u8])] = &[
    // A form body that is not UTF-8 was answered 503 ("network": the
    // server's own request decoding error mapped as if the client could not
    // reach the server), on every server function and for every caller.
    ("me", "anonymous", false, web::FORM, b"\xff"),
    ("demo_logins", "anonymous", false, web::FORM, b"a=\xc3\x28"),
    (
        "login",
        "anonymous",
        false,
        web::FORM,
        b"email=\xff&password=x&next=",
    ),
    (
        "cancel_appointment",
        "admin@northside.test",
        false,
        web::FORM,
        b"id=1&scope=this&reason=pat&note=\xff&message=",
    ),
    // ...and behind a no-JS form post's redirect (303, the same error).
    (
        "create_appointment",
        "scheduler@northside.test",
        true,
        web::FORM,
        b"\xff",
    ),
    // A NUL character in a text argument: PostgreSQL refuses it in a TEXT
    // value ("invalid byte sequence for encoding UTF8: 0x00"), answered 500
    // (SQLite stores it). Clinic 1 is Northside.
    ("booking_page", "anonymous", false, web::FORM, b"slug=a%00b"),
    (
        "login",
        "anonymous",
        false,
        web::FORM,
        b"email=a%00b&password=slotwise-demo&next=",
    ),
    (
        "save_groups",
        "admin@northside.test",
        false,
        web::FORM,
        b"clinic_id=1&patient_group_name=a%00b&host_group_name=Providers",
    ),
    (
        "save_service",
        "admin@northside.test",
        false,
        web::FORM,
        b"clinic_id=1&service_id=0&name=a%00b&description=&duration_minutes=30&price=",
    ),
];

// ---------------------------------------------------------------------------
// Deterministic generator.
// ---------------------------------------------------------------------------

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    /// True `pct` percent of the time.
    fn chance(&mut self, pct: u64) -> bool {
        self.next() % 100 < pct
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
}

/// Strings that break things, for any argument.
fn boundary_string(rng: &mut Rng) -> String {
    const FIXED: &[&str] = &[
        "",
        " ",
        "\t\r\n",
        "\0",
        "a\0b",
        "%00",
        "%",
        "%zz",
        "+",
        "&",
        "=",
        "[]",
        "{}",
        "null",
        "undefined",
        "true",
        "'; DROP TABLE appointment; --",
        "\" OR 1=1 --",
        "1; DELETE FROM audit",
        "<script>alert(1)</script>",
        "../../etc/passwd",
        "Zoë Ñúñez ✓ 🦀 日本語",
        "\u{202E}evil\u{200B}\u{FEFF}",
        "\u{10FFFF}",
        "e\u{301}\u{301}\u{301}",
        "0",
        "-0",
        "-1",
        "1",
        "1.5",
        "1e309",
        "-1e309",
        "NaN",
        "inf",
        "0x10",
        "+1",
        " 1 ",
        "١٢",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "-9223372036854775809",
        "4294967295",
        "4294967296",
        "18446744073709551615",
        "18446744073709551616",
        "99999999999999999999999999999",
    ];
    match rng.below(12) {
        0 => "a".repeat(10_000),
        1 => "é".repeat(*rng.pick(&[255, 256, 1000, 5_000])),
        2 => "🦀".repeat(*rng.pick(&[64, 65, 2_500])),
        3 => "x".repeat(*rng.pick(&[80, 81, 120, 121, 254, 255, 256, 257, 2_000])),
        _ => rng.pick(FIXED).to_string(),
    }
}

fn boundary_number(rng: &mut Rng) -> String {
    const NUMS: &[&str] = &[
        "0",
        "-1",
        "1",
        "2",
        "-0",
        "9223372036854775807",
        "-9223372036854775808",
        "9223372036854775808",
        "4294967295",
        "4294967296",
        "18446744073709551615",
        "255",
        "256",
        "1e309",
        "NaN",
        "1.0",
        "",
        " 1",
        "abc",
    ];
    if rng.chance(75) {
        rng.pick(NUMS).to_string()
    } else {
        boundary_string(rng)
    }
}

/// A real row a generated id can point at.
struct Row {
    id: i64,
    /// The clinic it belongs to (0: none).
    clinic: i64,
    /// The users it is "theirs" for: a patient's appointment, a provider's
    /// slot, a requester's request, a member's own user id...
    owners: Vec<i64>,
}

/// Who is calling, so plausible ids are often theirs or their clinic's
/// (otherwise nearly every request ends in "not found" or "forbidden").
#[derive(Clone, Default)]
struct Focus {
    me: Option<i64>,
    clinic: i64,
}

/// The data the generator draws real values from.
#[derive(Default)]
struct Pools {
    rows: HashMap<Pool, Vec<Row>>,
    /// Appointment starts and requested times (unix seconds).
    times: Vec<i64>,
    /// Free slots offered to patients (unix seconds), read once.
    free: Vec<i64>,
    labels: Vec<String>,
    /// Each clinic's pre-request questions: (clinic, index, label).
    questions: Vec<(i64, usize, String)>,
    /// The times each request asked for.
    requested: HashMap<i64, Vec<i64>>,
    focus: Focus,
}

impl Pools {
    fn id(&self, rng: &mut Rng, pool: Pool) -> i64 {
        let pool = match pool {
            // Either list: `remove_availability` takes both.
            Pool::Slot if rng.chance(50) => Pool::TimeOff,
            p => p,
        };
        let rows = &self.rows[&pool];
        let f = &self.focus;
        let mine: Vec<&Row> = rows
            .iter()
            .filter(|r| f.me.is_some_and(|me| r.owners.contains(&me)))
            .collect();
        let here: Vec<&Row> = rows.iter().filter(|r| r.clinic == f.clinic).collect();
        let r = rng.below(100);
        let from = if r < 40 && !mine.is_empty() {
            mine
        } else if r < 85 && !here.is_empty() {
            here
        } else {
            rows.iter().collect()
        };
        if from.is_empty() {
            0
        } else {
            rng.pick(&from).id
        }
    }
}

fn plausible_date(rng: &mut Rng) -> String {
    // Around "now" (2026-03-04), into the DST change in New York (03-08).
    let d = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
        + chrono::Duration::days(rng.range(-3, 45));
    d.format("%Y-%m-%d").to_string()
}

fn plausible_time(rng: &mut Rng) -> String {
    format!("{:02}:{:02}", rng.range(7, 18), rng.pick(&[0, 15, 30, 45]))
}

fn boundary_date(rng: &mut Rng) -> String {
    const DATES: &[&str] = &[
        "0000-01-01",
        "1999-12-31",
        "2000-01-01",
        "2100-12-31",
        "2101-01-01",
        "9999-12-31",
        "262142-12-31",
        "+262143-01-01",
        "-0001-01-01",
        "2026-02-30",
        "2026-02-29",
        "2028-02-29",
        "2026-13-01",
        "2026-00-10",
        "2026-3-8",
        "2026-03-08",
        "2026-11-01",
        "2026-04-05",
        "2026-10-04",
        "2026-03-04",
        "08/03/2026",
        "2026-03-08T02:30",
        "20260308",
    ];
    if rng.chance(80) {
        rng.pick(DATES).to_string()
    } else {
        boundary_string(rng)
    }
}

fn boundary_time(rng: &mut Rng) -> String {
    const TIMES: &[&str] = &[
        "24:00", "23:59", "00:00", "99:99", "-1:00", "02:30", "01:30", "2:30", "02:30:00", "12:60",
        "12:5", "noon", "23:45", "00:15", "12:00 PM",
    ];
    if rng.chance(80) {
        rng.pick(TIMES).to_string()
    } else {
        boundary_string(rng)
    }
}

fn plausible_unix(rng: &mut Rng, pools: &Pools) -> i64 {
    if !pools.free.is_empty() && rng.chance(50) {
        *rng.pick(&pools.free)
    } else if !pools.times.is_empty() && rng.chance(60) {
        *rng.pick(&pools.times) + 900 * rng.range(-8, 8)
    } else {
        // Quarter hours in the next weeks.
        common::t0().timestamp() + 900 * rng.range(-96, 96 * 30)
    }
}

fn boundary_unix(rng: &mut Rng) -> String {
    const UNIX: &[&str] = &[
        "0",
        "-1",
        "1",
        "253402300799",
        "253402300800",
        "8210266876799",
        "-62135596800",
        "-8334632851200",
        "9223372036854775807",
        "-9223372036854775808",
        "1772636400",
        "1772636401",
    ];
    if rng.chance(75) {
        rng.pick(UNIX).to_string()
    } else {
        boundary_number(rng)
    }
}

/// One argument's (key, value) pairs; none when it is left out.
fn gen_arg(
    rng: &mut Rng,
    good: bool,
    name: &str,
    kind: Kind,
    pools: &Pools,
    fresh: &mut u64,
) -> Vec<(String, String)> {
    let v = match kind {
        Id(p) => {
            if good {
                pools.id(rng, p).to_string()
            } else if rng.chance(30) {
                "0".into()
            } else {
                boundary_number(rng)
            }
        }
        OptId(p) => {
            if good && rng.chance(25) {
                if rng.chance(50) {
                    return Vec::new();
                }
                String::new()
            } else if good {
                pools.id(rng, p).to_string()
            } else if rng.chance(30) {
                "0".into()
            } else {
                boundary_number(rng)
            }
        }
        Ids(p) => {
            let values: Vec<String> = if good {
                (0..rng.below(4))
                    .map(|_| pools.id(rng, p).to_string())
                    .collect()
            } else {
                let a = pools.id(rng, p).to_string();
                let b = boundary_number(rng);
                match rng.below(5) {
                    0 => vec![a, b],
                    1 => vec![b, a.clone(), a],
                    2 => (0..500).map(|i| i.to_string()).collect(),
                    // Flat, as the comma-joined list it once was.
                    3 => return vec![(name.to_string(), format!("{a},{a}"))],
                    _ => vec![b],
                }
            };
            return list(rng, good, name, values);
        }
        Weekday => {
            if good {
                rng.range(0, 6).to_string()
            } else {
                rng.pick(&["7", "255", "256", "-1", "6"]).to_string()
            }
        }
        Index => {
            if good {
                rng.range(0, 3).to_string()
            } else {
                rng.pick(&[
                    "18446744073709551615",
                    "18446744073709551616",
                    "-1",
                    "9223372036854775807",
                    "4294967296",
                ])
                .to_string()
            }
        }
        Page => {
            if good {
                rng.range(0, 3).to_string()
            } else {
                boundary_number(rng)
            }
        }
        Unix => {
            if good {
                plausible_unix(rng, pools).to_string()
            } else {
                boundary_unix(rng)
            }
        }
        Unixes => {
            let n = rng.range(1, 4);
            let values = (0..n)
                .map(|_| {
                    if good || rng.chance(50) {
                        plausible_unix(rng, pools).to_string()
                    } else {
                        boundary_unix(rng)
                    }
                })
                .collect();
            return list(rng, good, name, values);
        }
        Date => {
            if good {
                plausible_date(rng)
            } else {
                boundary_date(rng)
            }
        }
        Time => {
            if good {
                plausible_time(rng)
            } else {
                boundary_time(rng)
            }
        }
        OptTime => {
            if good {
                if rng.chance(50) {
                    String::new()
                } else {
                    plausible_time(rng)
                }
            } else {
                boundary_time(rng)
            }
        }
        LocalDateTime => {
            if good {
                if rng.chance(20) {
                    String::new()
                } else {
                    format!("{}T{}:00", plausible_date(rng), plausible_time(rng))
                }
            } else if rng.chance(60) {
                format!("{}T{}", boundary_date(rng), boundary_time(rng))
            } else {
                rng.pick(&[
                    "2026-03-08T02:30:00",
                    "2026-11-01T01:30:00",
                    "2026-03-05T10:00",
                    "2026-03-05T23:59:60",
                    "2026-03-05 10:00",
                    "2026-03-05T10:00:00Z",
                    "T",
                ])
                .to_string()
            }
        }
        Text => {
            if good {
                rng.pick(&["", "Room 2", "Running late", "Please call first", "a,b,c"])
                    .to_string()
            } else {
                boundary_string(rng)
            }
        }
        Label => {
            if good && !pools.labels.is_empty() {
                rng.pick(&pools.labels).clone()
            } else {
                boundary_string(rng)
            }
        }
        Choice(options) => {
            if good || rng.chance(40) {
                rng.pick(options).to_string()
            } else if rng.chance(50) {
                let o = rng.pick(options);
                rng.pick(&[
                    o.to_uppercase(),
                    format!(" {o} "),
                    format!("{o}\0"),
                    o.repeat(2),
                ])
                .clone()
            } else {
                boundary_string(rng)
            }
        }
        Check => {
            if rng.chance(40) {
                return Vec::new();
            }
            if good {
                "on".into()
            } else {
                rng.pick(&["", "false", "off", "0", "on", "true"])
                    .to_string()
            }
        }
        Bool => {
            if good {
                rng.pick(&["true", "false"]).to_string()
            } else {
                rng.pick(&["on", "1", "0", "", "yes", "TRUE", "null", "2"])
                    .to_string()
            }
        }
        Minutes => {
            if good {
                rng.pick(&["15", "30", "45", "60", " 20 "]).to_string()
            } else {
                rng.pick(&[
                    "0",
                    "-5",
                    "1440",
                    "1441",
                    "100000",
                    "30.5",
                    "9223372036854775807",
                    "-9223372036854775808",
                    "",
                ])
                .to_string()
            }
        }
        Hours => {
            if good {
                rng.pick(&["0", "12", "24", "48"]).to_string()
            } else {
                rng.pick(&[
                    "-1",
                    "9223372036854775807",
                    "-9223372036854775808",
                    "153722867280912931",
                    "-153722867280912931",
                    "1e3",
                    "8761",
                    "",
                ])
                .to_string()
            }
        }
        Money => {
            if good {
                rng.pick(&["0", "10", "12.50", "", "49.99"]).to_string()
            } else {
                rng.pick(&[
                    "-1",
                    "0.001",
                    "99999999999999999",
                    "92233720368547758.07",
                    "92233720368547758.08",
                    "1e309",
                    "NaN",
                    "$10",
                    "10,50",
                    "10.",
                    ".5",
                    "-0.00",
                    "1.2.3",
                ])
                .to_string()
            }
        }
        Url => {
            if good {
                rng.pick(&["https://pms.example.test/hook", ""]).to_string()
            } else {
                rng.pick(&[
                    "http://localhost:1/x",
                    "http://169.254.169.254/latest",
                    "file:///etc/passwd",
                    "javascript:alert(1)",
                    "https://",
                    "ftp://x.test",
                    "https://a b.test",
                ])
                .to_string()
            }
        }
        Slug => {
            if good {
                rng.pick(&["northside", "harbour", " harbour ", "HARBOUR"])
                    .to_string()
            } else {
                boundary_string(rng)
            }
        }
        LoginEmail => {
            if good {
                rng.pick(&[
                    "dr.kim@northside.test",
                    "DR.KIM@northside.test ",
                    "nobody@patients.test",
                ])
                .to_string()
            } else {
                boundary_string(rng)
            }
        }
        NewEmail => {
            if good {
                *fresh += 1;
                format!("fuzz{fresh}@patients.test")
            } else if rng.chance(50) {
                rng.pick(&[
                    "ann@patients.test",
                    "ANN@patients.test",
                    "a@b",
                    "@patients.test",
                    "x@.",
                    "fuzz@patients.test\0",
                ])
                .to_string()
            } else {
                boundary_string(rng)
            }
        }
        Password => {
            if good {
                rng.pick(&[DEMO_PASSWORD, "another-long-password"])
                    .to_string()
            } else {
                rng.pick(&[
                    "".to_string(),
                    "short".into(),
                    "x".repeat(256),
                    "x".repeat(257),
                    "é".repeat(200),
                    "\0".repeat(12),
                ])
                .clone()
            }
        }
        Name => {
            if good {
                "Fuzz Person".into()
            } else {
                boundary_string(rng)
            }
        }
        Next => rng
            .pick(&[
                "",
                "/schedule",
                "//evil.test",
                "https://evil.test",
                "/\\evil",
                "/portal?x=1",
            ])
            .to_string(),
        Choices => {
            let n = rng.below(4);
            let mut out = Vec::new();
            for i in 0..n {
                let (event, channel) = if good {
                    (
                        rng.pick(EVENTS).to_string(),
                        rng.pick(&["email", "sms"]).to_string(),
                    )
                } else {
                    (
                        rng.pick(&["invited", "birthday", "", "INVITED"])
                            .to_string(),
                        rng.pick(&["email", "fax", ""]).to_string(),
                    )
                };
                out.push((format!("{name}[{i}][event]"), event));
                if good || rng.chance(70) {
                    out.push((format!("{name}[{i}][channel]"), channel));
                }
            }
            if !good && rng.chance(30) {
                // Flat, as the "event:channel" list it once was.
                out.push((name.to_string(), "invited:email".into()));
            }
            return out;
        }
        Repeat => {
            if good && rng.chance(50) {
                return Vec::new();
            }
            let every = if good {
                rng.range(1, 4).to_string()
            } else {
                rng.pick(&["0", "53", "4294967296", "-1", "", "x"])
                    .to_string()
            };
            let mut out = vec![(format!("{name}[interval_weeks]"), every)];
            let end = if rng.chance(50) {
                let n = if good {
                    rng.range(1, 12).to_string()
                } else {
                    rng.pick(&["0", "105", "1000", "4294967296", "-1"])
                        .to_string()
                };
                (format!("{name}[end][count]"), n)
            } else {
                let d = if good {
                    plausible_date(rng)
                } else {
                    boundary_date(rng)
                };
                (format!("{name}[end][until]"), d)
            };
            if good || rng.chance(70) {
                out.push(end);
            }
            if !good && rng.chance(20) {
                out.push((format!("{name}[end][weekly]"), "1".into()));
            }
            return out;
        }
        Answers => {
            let n = rng.below(4);
            return (0..n)
                .map(|i| {
                    let key = if good || rng.chance(50) {
                        format!("{name}[{i}]")
                    } else {
                        rng.pick(&[
                            format!("{name}[]"),
                            format!("{name}[-1]"),
                            format!("{name}[99999999999]"),
                            format!("{name}[x]"),
                            name.to_string(),
                        ])
                        .clone()
                    };
                    let v = if good {
                        rng.pick(&["A sore throat", "Yes", "No", ""]).to_string()
                    } else {
                        boundary_string(rng)
                    };
                    (key, v)
                })
                .collect();
        }
    };
    vec![(name.to_string(), v)]
}

/// A list argument as serde_qs reads it: `name[0]=a&name[1]=b`, sometimes
/// (when not `good`) with unindexed or odd keys.
fn list(rng: &mut Rng, good: bool, name: &str, values: Vec<String>) -> Vec<(String, String)> {
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let key = if good || rng.chance(50) {
                format!("{name}[{i}]")
            } else {
                rng.pick(&[
                    format!("{name}[]"),
                    format!("{name}[-1]"),
                    format!("{name}[99999999999]"),
                    format!("{name}[x]"),
                    name.to_string(),
                ])
                .clone()
            };
            (key, v)
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Building the request.
// ---------------------------------------------------------------------------

const FORM: &str = web::FORM;

/// Percent-encoding as a browser does (the same as `web::form`).
fn encode(s: &str) -> String {
    web::form(&[("", s)])[1..].to_string()
}

/// A value shortened for the report.
fn short(s: &str) -> String {
    let n = s.chars().count();
    if n <= 48 {
        format!("{s:?}")
    } else {
        let head: String = s.chars().take(12).collect();
        format!("{head:?}…({n} chars)")
    }
}

fn show_pairs(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", short(v)))
        .collect::<Vec<_>>()
        .join(" & ")
}

/// The JSON a confused client might send for the same arguments.
fn to_json(rng: &mut Rng, pairs: &[(String, String)]) -> Value {
    let mut top = Map::new();
    for (k, v) in pairs {
        let val = if rng.chance(70) {
            if let Ok(n) = v.parse::<i64>() {
                json!(n)
            } else if let Ok(b) = v.parse::<bool>() {
                json!(b)
            } else {
                json!(v)
            }
        } else {
            rng.pick(&[
                Value::Null,
                json!(true),
                json!(1.5),
                json!(1e308),
                json!(-1),
                json!(u64::MAX),
                json!(i64::MIN),
                json!([]),
                json!({}),
                json!([1, 2]),
                json!({"a": 1}),
                json!(v),
            ])
            .clone()
        };
        match k.split_once('[') {
            Some((outer, rest)) => {
                let inner = rest.trim_end_matches(']');
                let slot = top.entry(outer.to_string()).or_insert_with(|| {
                    if inner.parse::<usize>().is_ok() {
                        json!([])
                    } else {
                        json!({})
                    }
                });
                match slot {
                    Value::Array(a) => a.push(val),
                    Value::Object(o) => {
                        o.insert(inner.to_string(), val);
                    }
                    _ => {}
                }
            }
            None => {
                top.insert(k.clone(), val);
            }
        }
    }
    Value::Object(top)
}

struct Built {
    content_type: Option<String>,
    body: Vec<u8>,
    /// The body as the report shows it.
    shown: String,
    /// Extra headers: a no-JS form post, a foreign origin.
    html: bool,
    cross_site: bool,
}

/// How many of a case's arguments are plausible values.
#[derive(Clone, Copy)]
enum Plan {
    AllGood,
    /// All but the one at this index.
    OneBad(usize),
    /// Each bad with this chance in percent.
    Mixed(u64),
}

/// The arguments of a case, and whether they are all plausible.
fn gen_args(
    rng: &mut Rng,
    ep: &Endpoint,
    pools: &Pools,
    fresh: &mut u64,
    all_good: bool,
) -> (Vec<(String, String)>, bool) {
    let plan = match rng.below(10) {
        _ if all_good => Plan::AllGood,
        0..=3 => Plan::AllGood,
        4..=6 => Plan::OneBad(rng.below(ep.args.len())),
        7..=8 => Plan::Mixed(30),
        _ => Plan::Mixed(80),
    };
    let pairs: Vec<(String, String)> = ep
        .args
        .iter()
        .enumerate()
        .flat_map(|(i, (name, kind))| {
            let good = match plan {
                Plan::AllGood => true,
                Plan::OneBad(j) => i != j,
                Plan::Mixed(pct) => !rng.chance(pct),
            };
            gen_arg(rng, good, name, *kind, pools, fresh)
        })
        .collect();
    (pairs, matches!(plan, Plan::AllGood))
}

fn plain_form(pairs: &[(String, String)], how: &str) -> Built {
    let body = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    Built {
        content_type: Some(FORM.into()),
        body: body.into_bytes(),
        shown: format!("{how}{}", show_pairs(pairs)),
        html: false,
        cross_site: false,
    }
}

/// The request body for the arguments: mostly a good form, else a form
/// with keys left out, repeated or added, not encoded, JSON, garbage...
fn encode_case(rng: &mut Rng, mut pairs: Vec<(String, String)>) -> Built {
    let html = rng.chance(8);
    let cross_site = rng.chance(3);
    let form = |pairs: &[(String, String)], how: &str| Built {
        html,
        cross_site,
        ..plain_form(pairs, how)
    };
    match rng.below(100) {
        // The arguments, well formed.
        0..=49 => form(&pairs, ""),
        // Some left out.
        50..=59 => {
            if !pairs.is_empty() {
                let n = 1 + rng.below(pairs.len());
                for _ in 0..n {
                    let i = rng.below(pairs.len());
                    pairs.remove(i);
                    if pairs.is_empty() {
                        break;
                    }
                }
            }
            form(&pairs, "[missing some] ")
        }
        // One given twice.
        60..=67 => {
            if !pairs.is_empty() {
                let i = rng.below(pairs.len());
                let (k, v) = pairs[i].clone();
                let other = if rng.chance(50) {
                    v
                } else {
                    boundary_number(rng)
                };
                pairs.push((k, other));
            }
            form(&pairs, "[duplicated] ")
        }
        // Unknown and oddly nested keys.
        68..=72 => {
            let junk = rng.pick(&[
                ("extra", "1"),
                ("id[]", "1"),
                ("form[x][y]", "1"),
                ("form", "1"),
                ("__proto__", "x"),
                ("", "1"),
                ("a[", "1"),
            ]);
            pairs.push((junk.0.into(), junk.1.into()));
            form(&pairs, "[extra key] ")
        }
        // Not percent-encoded at all.
        73..=77 => {
            let body = pairs
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&");
            Built {
                content_type: Some(FORM.into()),
                shown: format!("[raw] {}", short(&body)),
                body: body.into_bytes(),
                html,
                cross_site,
            }
        }
        // JSON instead of a form.
        78..=87 => {
            let v = if rng.chance(85) {
                to_json(rng, &pairs)
            } else {
                rng.pick(&[json!([]), Value::Null, json!("x"), json!(1)])
                    .clone()
            };
            let mut body = v.to_string().into_bytes();
            if rng.chance(10) {
                // Cut short, maybe inside a character.
                body.truncate(body.len() / 2);
            }
            Built {
                content_type: Some("application/json".into()),
                shown: format!("[json] {}", short(&String::from_utf8_lossy(&body))),
                body,
                html,
                cross_site,
            }
        }
        // Garbage bytes, an empty body, an odd content type, too big.
        88..=91 => {
            let body: Vec<u8> = match rng.below(6) {
                0 => (0..rng.below(300)).map(|_| rng.next() as u8).collect(),
                1 => b"a=%ff%fe&b=%C3%28&c=%".to_vec(),
                2 => b"=&=&&==".to_vec(),
                3 => b"id=1&id[]=2&id[x]=3".to_vec(),
                4 => vec![0u8; 64],
                _ => Vec::new(),
            };
            Built {
                content_type: Some(FORM.into()),
                shown: format!("[bytes] {}", short(&String::from_utf8_lossy(&body))),
                body,
                html,
                cross_site,
            }
        }
        92..=95 => {
            let mut b = form(&pairs, "");
            let ct = rng.pick(&[
                None,
                Some("text/plain"),
                Some("multipart/form-data; boundary=x"),
                Some("application/x-www-form-urlencoded; charset=iso-8859-1"),
                Some("application/cbor"),
            ]);
            b.content_type = ct.map(str::to_string);
            b.shown = format!("[content-type {ct:?}] {}", b.shown);
            b
        }
        96..=97 => Built {
            content_type: Some(FORM.into()),
            body: Vec::new(),
            shown: "[empty body]".into(),
            html,
            cross_site,
        },
        _ => {
            let mut body = b"note=".to_vec();
            body.resize(70 * 1024, b'x');
            Built {
                content_type: Some(FORM.into()),
                body,
                shown: "[70 KiB body]".into(),
                html,
                cross_site,
            }
        }
    }
}

fn request(path: &str, b: &Built, token: Option<&str>) -> Request<Body> {
    let mut r = Request::post(path).header(header::CONTENT_LENGTH, b.body.len());
    if let Some(ct) = &b.content_type {
        r = r.header(header::CONTENT_TYPE, ct);
    }
    if let Some(t) = token {
        r = r.header(header::COOKIE, web::cookie(t));
    }
    if b.html {
        r = r
            .header(header::ACCEPT, web::BROWSER_ACCEPT)
            .header(header::REFERER, "http://localhost/schedule");
    }
    if b.cross_site {
        r = r.header(header::ORIGIN, "https://evil.test");
    }
    r.body(Body::from(b.body.clone())).expect("request")
}

// ---------------------------------------------------------------------------
// The database fingerprint.
// ---------------------------------------------------------------------------

/// Every table a server function may write, in a stable order. Left out:
/// `user_session` rows (a request touches `last_seen_at`; the count is kept)
/// and `attempt_throttle` (a refused login counts, by design).
const TABLES: &[(&str, &str)] = &[
    ("clinic", "SELECT * FROM clinic ORDER BY id"),
    ("app_user", "SELECT * FROM app_user ORDER BY id"),
    (
        "membership",
        "SELECT * FROM membership ORDER BY user_id, clinic_id, role",
    ),
    ("service", "SELECT * FROM service ORDER BY id"),
    (
        "availability_rule",
        "SELECT * FROM availability_rule ORDER BY id",
    ),
    (
        "availability_exception",
        "SELECT * FROM availability_exception ORDER BY id",
    ),
    (
        "on_demand",
        "SELECT * FROM on_demand ORDER BY provider_id, clinic_id",
    ),
    ("series", "SELECT * FROM series ORDER BY id"),
    ("appointment", "SELECT * FROM appointment ORDER BY id"),
    (
        "participant",
        "SELECT * FROM participant ORDER BY appointment_id, provider_id",
    ),
    ("request", "SELECT * FROM request ORDER BY id"),
    (
        "notification_preference",
        "SELECT * FROM notification_preference ORDER BY user_id, event, channel",
    ),
    ("outbox", "SELECT * FROM outbox ORDER BY id"),
    ("audit", "SELECT * FROM audit ORDER BY id"),
    ("ics_sequence", "SELECT * FROM ics_sequence ORDER BY uid"),
    (
        "calendar_feed",
        "SELECT * FROM calendar_feed ORDER BY user_id",
    ),
    ("api_client", "SELECT * FROM api_client ORDER BY id"),
    ("user_session (count)", "SELECT COUNT(*) FROM user_session"),
];

/// Per table: (rows, hash of every column of every row).
type Fingerprint = Vec<(usize, u64)>;

async fn fingerprint(pool: &AnyPool) -> Fingerprint {
    let mut out = Vec::with_capacity(TABLES.len());
    for (name, sql) in TABLES {
        let rows = sqlx::query(sql)
            .fetch_all(pool)
            .await
            .unwrap_or_else(|e| panic!("fingerprint {name}: {e}"));
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for row in &rows {
            for i in 0..row.len() {
                if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
                    v.hash(&mut h);
                } else if let Ok(v) = row.try_get::<Option<String>, _>(i) {
                    v.hash(&mut h);
                } else if let Ok(v) = row.try_get::<Option<f64>, _>(i) {
                    v.map(f64::to_bits).hash(&mut h);
                } else if let Ok(v) = row.try_get::<Option<bool>, _>(i) {
                    v.hash(&mut h);
                } else {
                    panic!("fingerprint {name}: column {i} has a type this test cannot read");
                }
            }
            0xFFu8.hash(&mut h);
        }
        out.push((rows.len(), h.finish()));
    }
    out
}

fn diff(before: &Fingerprint, after: &Fingerprint) -> String {
    TABLES
        .iter()
        .zip(before.iter().zip(after))
        .filter(|(_, (b, a))| b != a)
        .map(|((name, _), (b, a))| {
            if b.0 == a.0 {
                format!("{name} (a row changed)")
            } else {
                format!("{name} ({} -> {} rows)", b.0, a.0)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

async fn ids(pool: &AnyPool, sql: &str) -> Vec<i64> {
    sqlx::query_scalar(sql)
        .fetch_all(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn rows(pool: &AnyPool, sql: &str) -> Vec<Row> {
    let found: Vec<(i64, Option<i64>, Option<i64>)> = sqlx::query_as(sql)
        .fetch_all(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    found
        .into_iter()
        .map(|(id, clinic, owner)| Row {
            id,
            clinic: clinic.unwrap_or(0),
            owners: owner.into_iter().collect(),
        })
        .collect()
}

async fn load_pools(pool: &AnyPool) -> Pools {
    let mut p = Pools::default();
    for (k, sql) in [
        (Pool::Clinic, "SELECT id, id, NULL FROM clinic"),
        (Pool::Service, "SELECT id, clinic_id, NULL FROM service"),
        (
            Pool::Provider,
            "SELECT user_id, clinic_id, user_id FROM membership WHERE role = 'provider'",
        ),
        (
            Pool::Patient,
            "SELECT user_id, clinic_id, user_id FROM membership WHERE role = 'patient'",
        ),
        (
            Pool::User,
            "SELECT user_id, clinic_id, user_id FROM membership",
        ),
        (
            Pool::Appointment,
            "SELECT id, clinic_id, patient_id FROM appointment",
        ),
        (
            Pool::Request,
            "SELECT id, clinic_id, requester_id FROM request",
        ),
        (
            Pool::ChangeRequest,
            "SELECT id, clinic_id, requester_id FROM request WHERE kind <> 'new_session'",
        ),
        (
            Pool::Slot,
            "SELECT id, clinic_id, provider_id FROM availability_rule",
        ),
        (
            Pool::TimeOff,
            "SELECT id, clinic_id, provider_id FROM availability_exception",
        ),
        (
            Pool::Outbox,
            "SELECT id, clinic_id, recipient_user_id FROM outbox",
        ),
        (
            Pool::ApiClient,
            "SELECT id, clinic_id, created_by FROM api_client",
        ),
    ] {
        p.rows.insert(k, rows(pool, sql).await);
    }
    // An appointment is also its host's and its invited providers'.
    let others: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT id, host_provider_id FROM appointment \
         UNION ALL SELECT appointment_id, provider_id FROM participant",
    )
    .fetch_all(pool)
    .await
    .expect("appointment providers");
    let by_id: HashMap<i64, usize> = p.rows[&Pool::Appointment]
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id, i))
        .collect();
    let appts = p.rows.get_mut(&Pool::Appointment).expect("appointments");
    for (id, provider) in others {
        if let Some(&i) = by_id.get(&id) {
            appts[i].owners.push(provider);
        }
    }
    p.times = ids(pool, "SELECT starts_at FROM appointment").await;
    let requested: Vec<(i64, String)> = sqlx::query_as("SELECT id, requested_times FROM request")
        .fetch_all(pool)
        .await
        .expect("requested times");
    for (id, r) in requested {
        if let Ok(ts) = serde_json::from_str::<Vec<i64>>(&r) {
            p.times.extend(&ts);
            p.requested.insert(id, ts);
        }
    }
    let forms: Vec<(i64, String)> = sqlx::query_as("SELECT id, pre_request_form FROM clinic")
        .fetch_all(pool)
        .await
        .expect("forms");
    fn labels(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Array(a) => a.iter().for_each(|x| labels(x, out)),
            Value::Object(o) => {
                for (k, x) in o {
                    match x {
                        Value::String(s) if k == "label" => out.push(s.clone()),
                        _ => labels(x, out),
                    }
                }
            }
            _ => {}
        }
    }
    for (clinic, f) in forms {
        if let Ok(v) = serde_json::from_str::<Value>(&f) {
            labels(&v, &mut p.labels);
            for (i, q) in v.as_array().into_iter().flatten().enumerate() {
                if let Some(l) = q.get("label").and_then(Value::as_str) {
                    p.questions.push((clinic, i, l.to_string()));
                }
            }
        }
    }
    p
}

fn arg<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn set_arg(pairs: &mut [(String, String)], key: &str, value: String) {
    if let Some(p) = pairs.iter_mut().find(|(k, _)| k == key) {
        p.1 = value;
    }
}

/// Makes plausible arguments agree with each other where one only works
/// with the other (a request's own times, a question's index and label).
fn cohere(rng: &mut Rng, ep: &Endpoint, pairs: &mut [(String, String)], pools: &Pools) {
    match ep.name {
        "accept_request" => {
            let id = arg(pairs, "request_id").and_then(|v| v.parse::<i64>().ok());
            // A Now request has no time: blank is none.
            let start = match id.and_then(|id| pools.requested.get(&id)) {
                Some(ts) if !ts.is_empty() => rng.pick(ts).to_string(),
                _ => String::new(),
            };
            set_arg(pairs, "start", start);
        }
        "edit_question" => {
            let clinic = arg(pairs, "clinic_id").and_then(|v| v.parse::<i64>().ok());
            let here: Vec<&(i64, usize, String)> = pools
                .questions
                .iter()
                .filter(|q| Some(q.0) == clinic)
                .collect();
            if !here.is_empty() {
                let (_, i, label) = rng.pick(&here);
                set_arg(pairs, "index", i.to_string());
                set_arg(pairs, "label", label.clone());
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------
// Server log capture (this thread only: the runtime is current-thread).
// ---------------------------------------------------------------------------

#[derive(Clone, Default)]
struct LogBuf(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogBuf {
    fn take(&self) -> String {
        let bytes = std::mem::take(&mut *self.0.lock().unwrap());
        String::from_utf8_lossy(&bytes).trim().to_string()
    }
}

// ---------------------------------------------------------------------------
// The run.
// ---------------------------------------------------------------------------

struct Failure {
    endpoint: &'static str,
    role: String,
    body: String,
    status: String,
    what: String,
    log: String,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn read_body(resp: axum::response::Response) -> String {
    match tokio::time::timeout(Duration::from_secs(30), resp.into_body().collect()).await {
        Ok(Ok(b)) => String::from_utf8_lossy(&b.to_bytes()).into_owned(),
        Ok(Err(e)) => format!("<body failed: {e}>"),
        Err(_) => "<no body within 30 s>".into(),
    }
}

/// Whether an error answer is the server's fault: a 5xx, or an `internal`
/// error that a no-JS form post turned into a redirect.
fn server_fault(status: u16, body: &str, location: &str) -> bool {
    if status >= 500 {
        return true;
    }
    let kind = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("kind").and_then(Value::as_str).map(str::to_string));
    matches!(kind.as_deref(), Some("internal" | "network"))
        || location.contains("internal")
        || location.contains("network")
}

/// The times `reschedule_times` offers the caller for the appointment.
async fn offered_times(
    router: &Router,
    token: Option<&str>,
    pairs: &[(String, String)],
) -> Vec<i64> {
    let Some(id) = arg(pairs, "appointment_id") else {
        return Vec::new();
    };
    let body = web::form(&[("appointment_id", id)]);
    let resp = web::send(router, web::post("/api/reschedule_times", &body, token)).await;
    if !resp.status().is_success() {
        return Vec::new();
    }
    let v: Value = serde_json::from_str(&read_body(resp).await).unwrap_or_default();
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|day| day.get("slots").and_then(Value::as_array))
        .flatten()
        .filter_map(|slot| slot.get("start").and_then(Value::as_i64))
        .collect()
}

async fn fuzz(backend: Backend) {
    let logs = LogBuf::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer({
            let logs = logs.clone();
            move || logs.clone()
        })
        .with_ansi(false)
        .with_env_filter("warn")
        .finish();
    let _logging = tracing::subscriber::set_default(subscriber);

    let cases: usize = env_or("SLOTWISE_FUZZ_CASES", DEFAULT_CASES);
    let seed: u64 = env_or("SLOTWISE_FUZZ_SEED", DEFAULT_SEED);
    // For a closer look: only these endpoints (comma-separated), and each
    // request printed.
    let only_list = std::env::var("SLOTWISE_FUZZ_ONLY").unwrap_or_default();
    let only: Vec<&str> = only_list.split(',').filter(|s| !s.is_empty()).collect();
    let verbose = std::env::var("SLOTWISE_FUZZ_VERBOSE").is_ok();
    let endpoints: Vec<&Endpoint> = ENDPOINTS
        .iter()
        .filter(|e| only.is_empty() || only.contains(&e.name))
        .collect();
    let t: TestApp = demo_app(backend).await;
    let db = t.state.db.pool.clone();
    let harbour = t.id("SELECT id FROM clinic WHERE slug = 'harbour'").await;
    register_patient(
        &t.state,
        Registration {
            name: "Cat Carter".into(),
            email: "cat@patients.test".into(),
            password: DEMO_PASSWORD.into(),
            clinic_id: harbour,
        },
        "fuzz-setup",
        "fuzz",
    )
    .await
    .expect("register a Harbour-only patient");
    let mut tokens: HashMap<&str, String> = HashMap::new();
    for role in ROLES.iter().copied().filter(|r| r.contains('@')) {
        tokens.insert(role, t.session(role).await.0);
    }
    tokens.insert("stale-cookie", "not-a-session-token".repeat(3));
    let router: Router = server::router(t.state.clone());
    // Who each caller is and where they belong, for plausible ids.
    let members: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT u.email, u.id, m.clinic_id FROM membership m JOIN app_user u ON u.id = m.user_id",
    )
    .fetch_all(&db)
    .await
    .expect("members");
    let clinics: Vec<i64> = ids(&db, "SELECT id FROM clinic ORDER BY id").await;
    let focus_of = |rng: &mut Rng, role: &str| {
        let mine: Vec<&(String, i64, i64)> = members.iter().filter(|m| m.0 == role).collect();
        let me = mine.first().map(|m| m.1);
        let clinic = if !mine.is_empty() && rng.chance(85) {
            rng.pick(&mine).2
        } else {
            *rng.pick(&clinics)
        };
        Focus { me, clinic }
    };
    // Free slots, as the booking page offers them.
    let services: Vec<(i64, i64)> = sqlx::query_as("SELECT id, clinic_id FROM service")
        .fetch_all(&db)
        .await
        .expect("services");
    let mut free = Vec::new();
    for (service, clinic) in services {
        if let Ok(days) =
            app::server::service::requests::free_slots(&t.state, clinic, service, None).await
        {
            free.extend(days.iter().flat_map(|d| d.slots.iter().map(|s| s.start)));
        }
    }
    assert!(!free.is_empty(), "the demo data offers free slots");

    // The fingerprint sees a write (or every check below would pass).
    let north = t.id("SELECT id FROM clinic WHERE slug = 'northside'").await;
    let unchanged = fingerprint(&db).await;
    let body = web::form(&[
        ("clinic_id", &north.to_string()),
        ("patient_group_name", "Clients"),
        ("host_group_name", "Clinicians"),
    ]);
    let token = tokens["admin@northside.test"].as_str();
    let resp = web::send(&router, web::post("/api/save_groups", &body, Some(token))).await;
    assert_eq!(resp.status(), 200, "save_groups: {}", read_body(resp).await);
    assert_ne!(
        fingerprint(&db).await,
        unchanged,
        "the fingerprint missed a write"
    );

    let mut rng = Rng(seed);
    let mut fresh = 0u64;
    let mut histogram: BTreeMap<u16, usize> = BTreeMap::new();
    let mut succeeded: BTreeMap<&str, usize> = BTreeMap::new();
    let mut failures: Vec<Failure> = Vec::new();
    let mut before = fingerprint(&db).await;
    let mut pools = load_pools(&db).await;
    pools.free = free.clone();
    let mut dirty = false;
    let started = Instant::now();

    // The sweep: each argument of each server function in turn set to each
    // of these, the others plausible, as a caller it is meant for.
    let sweep_values = [
        "a\0b".to_string(),
        "x".repeat(10_000),
        "'; DROP TABLE appointment; --".into(),
        "Zoë ✓ 🦀 \u{202E}".into(),
        " ".into(),
        "-9223372036854775808".into(),
    ];
    let sweep: Vec<(&Endpoint, &str, &String)> = endpoints
        .iter()
        .flat_map(|e| e.args.iter().map(move |(name, _)| (*e, *name)))
        .flat_map(|(e, name)| sweep_values.iter().map(move |v| (e, name, v)))
        .collect();

    let replays = REGRESSIONS.len();
    let swept = replays + sweep.len();
    for case in 0..swept + cases {
        if dirty {
            before = fingerprint(&db).await;
            pools = Pools {
                free: free.clone(),
                ..load_pools(&db).await
            };
            dirty = false;
        }
        // The case: a regression, or a new one from the generator.
        let (ep, role, built) = if case < replays {
            let (name, role, html, ct, body) = REGRESSIONS[case];
            let ep = ENDPOINTS
                .iter()
                .find(|e| e.name == name)
                .expect("regression endpoint");
            let built = Built {
                content_type: Some(ct.to_string()),
                body: body.to_vec(),
                shown: format!("[regression] {}", short(&String::from_utf8_lossy(body))),
                html,
                cross_site: false,
            };
            (ep, role, built)
        } else if case < swept {
            let (ep, name, value) = sweep[case - replays];
            let role = *rng.pick(intended(ep.name));
            pools.focus = focus_of(&mut rng, role);
            let (mut pairs, _) = gen_args(&mut rng, ep, &pools, &mut fresh, true);
            cohere(&mut rng, ep, &mut pairs, &pools);
            pairs.retain(|(k, _)| k != name && !k.starts_with(&format!("{name}[")));
            let key = if name == "answers" {
                "answers[0]".to_string()
            } else {
                name.to_string()
            };
            pairs.push((key, value.clone()));
            (ep, role, plain_form(&pairs, "[sweep] "))
        } else {
            let ep = *rng.pick(&endpoints);
            let role = if rng.chance(50) {
                *rng.pick(intended(ep.name))
            } else {
                *rng.pick(ROLES)
            };
            pools.focus = focus_of(&mut rng, role);
            let (mut pairs, plausible) = gen_args(&mut rng, ep, &pools, &mut fresh, false);
            if plausible {
                cohere(&mut rng, ep, &mut pairs, &pools);
                if ep.name == "reschedule_my_appointment" {
                    // One of the times the portal offers for it.
                    let token = tokens.get(role).map(String::as_str);
                    let offered = offered_times(&router, token, &pairs).await;
                    if !offered.is_empty() {
                        set_arg(&mut pairs, "start", rng.pick(&offered).to_string());
                    }
                }
            }
            (ep, role, encode_case(&mut rng, pairs))
        };
        let mut token = tokens.get(role).cloned();
        if ep.name == "logout" && role.contains('@') {
            // A logout ends the caller's session: spend a fresh one.
            token = Some(t.session(role).await.0);
            before = fingerprint(&db).await;
        }
        let req = request(&format!("/api/{}", ep.name), &built, token.as_deref());
        logs.take();
        let sent = AssertUnwindSafe(web::send(&router, req))
            .catch_unwind()
            .await;
        let resp = match sent {
            Ok(r) => r,
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(Failure {
                    endpoint: ep.name,
                    role: role.into(),
                    body: built.shown,
                    status: "panic".into(),
                    what: format!("panicked: {msg}"),
                    log: logs.take(),
                });
                *histogram.entry(0).or_default() += 1;
                dirty = true;
                continue;
            }
        };
        let status = resp.status().as_u16();
        *histogram.entry(status).or_default() += 1;
        let refused = resp.headers().contains_key("serverfnerror");
        let location = web::header_str(&resp, "location").unwrap_or("").to_string();
        let body = read_body(resp).await;
        let is_error = status >= 400 || refused;
        if verbose {
            eprintln!(
                "{} as {role}: {status}{} {}\n  -> {}",
                ep.name,
                if refused { " (refused)" } else { "" },
                built.shown,
                short(&body)
            );
        }
        let log = logs.take();
        if is_error && server_fault(status, &body, &location) {
            failures.push(Failure {
                endpoint: ep.name,
                role: role.into(),
                body: built.shown.clone(),
                status: status.to_string(),
                what: format!("server error: {}", short(&body)),
                log: log.clone(),
            });
        }
        if is_error {
            let after = fingerprint(&db).await;
            if after != before {
                failures.push(Failure {
                    endpoint: ep.name,
                    role: role.into(),
                    body: built.shown,
                    status: status.to_string(),
                    what: format!(
                        "data changed on an error answer: {}; answer {}",
                        diff(&before, &after),
                        short(&body)
                    ),
                    log,
                });
                before = after;
                dirty = true;
            }
        } else {
            *succeeded.entry(ep.name).or_default() += 1;
            dirty = true;
        }
    }
    let elapsed = started.elapsed();

    eprintln!(
        "fuzz ({backend:?}): {} requests ({replays} regressions, {} swept, {cases} generated, \
         seed {seed:#x}) in {:.1} s",
        swept + cases,
        sweep.len(),
        elapsed.as_secs_f64()
    );
    eprintln!(
        "fuzz ({backend:?}): statuses {}",
        histogram
            .iter()
            .map(|(s, n)| format!(
                "{}: {n}",
                if *s == 0 {
                    "panic".into()
                } else {
                    s.to_string()
                }
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let never: Vec<&str> = ENDPOINTS
        .iter()
        .map(|e| e.name)
        .filter(|n| !succeeded.contains_key(n))
        .collect();
    eprintln!(
        "fuzz ({backend:?}): {} of {} server functions answered a success at least once; never: {never:?}",
        ENDPOINTS.len() - never.len(),
        ENDPOINTS.len(),
    );
    // Every failure, then a summary by kind.
    let mut kinds: BTreeMap<(String, String), Vec<&Failure>> = BTreeMap::new();
    for f in &failures {
        eprintln!(
            "FAILURE {} as {}: status {}: {}\n  body: {}\n  log: {}",
            f.endpoint,
            f.role,
            f.status,
            f.what,
            f.body,
            if f.log.is_empty() { "-" } else { &f.log }
        );
        kinds
            .entry((f.status.clone(), f.what.clone()))
            .or_default()
            .push(f);
    }
    for ((status, what), fs) in &kinds {
        let mut endpoints: Vec<&str> = fs.iter().map(|f| f.endpoint).collect();
        endpoints.sort();
        endpoints.dedup();
        eprintln!(
            "SUMMARY {} × status {status}: {what}\n  endpoints: {}",
            fs.len(),
            endpoints.join(", ")
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {} fuzzed requests failed (listed above)",
        failures.len(),
        swept + cases
    );
}

#[tokio::test]
async fn fuzz_every_server_function_sqlite() {
    fuzz(Backend::Sqlite).await;
}

#[tokio::test]
async fn fuzz_every_server_function_postgres() {
    if std::env::var("SLOTWISE_TEST_PG_URL").is_err() {
        eprintln!("SLOTWISE_TEST_PG_URL is not set: the PostgreSQL fuzz run is skipped");
        return;
    }
    fuzz(Backend::Postgres).await;
}
