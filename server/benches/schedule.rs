//! Schedule and dispatch benchmarks (run: `cargo bench -p server --bench schedule`).
//!
//! Seeds a fresh database with one clinic (America/New_York) of 50 providers
//! and 4,000 patients and about 100,000 appointments: a year of history and
//! three weeks ahead of a fixed "now", each provider seeing 7 or 8 patients
//! per weekday in non-overlapping 30-minute slots between 08:00 and 17:00
//! local time (about 8% cancelled, 3% no-shows, 3% with an invited
//! provider). Then, through the service layer as the clinic's admin and with
//! the app's clock fixed at that "now", it times
//!
//! 1. the Schedule Week view with every provider shown
//!    (`service::schedule::view`), for random weeks of the year;
//! 2. the Bookings patient-name search (`service::bookings::list`) on the
//!    Upcoming and on the Past tab, for random 3–4 letter fragments of
//!    surnames;
//! 3. the public booking page's free slots for "any provider" (all 50, up
//!    to the clinic's booking horizon, 90 days by default, of weekday
//!    08:00–17:00 availability minus their bookings) and
//!    for one provider (`service::requests::free_slots`);
//! 4. the Dispatch board with 100 pending requests and the Assign dialog
//!    (every provider's availability and Possible Conflicting Sessions at
//!    up to three requested times) (`dispatch_board`, `assign_options`);
//!
//! one query at a time after a warm-up, and prints count, p50 and p99 of each
//! against the target of p99 under 20 ms.
//!
//! Runs on SQLite, then on PostgreSQL when `SLOTWISE_TEST_PG_URL` names a
//! server's maintenance database (`postgres://user:pass@host:port/postgres`,
//! as `server/scripts/postgres.sh` prints), e.g.
//! `SLOTWISE_TEST_PG_URL="$(bash server/scripts/postgres.sh)" cargo bench -p server --bench schedule`;
//! a database is created there for the run and dropped afterwards.
//! PostgreSQL gets a `VACUUM ANALYZE` after seeding, as autovacuum would give
//! it in production; SQLite gets nothing, as the app never runs `ANALYZE`.
//!
//! Figures are printed; nothing here asserts a time.

use app::domain::recurrence::resolve_local;
use app::domain::role::Role;
use app::model::{BookingStatusFilter, Me, Membership, ScheduleMode};
use app::server::clock::ManualClock;
use app::server::config::Config;
use app::server::db::{DbKind, Tx};
use app::server::service::bookings::{self, BookingQuery};
use app::server::service::requests;
use app::server::service::schedule::{self, ScheduleQuery};
use app::server::state::AppState;
use app::server::zones;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use std::time::Instant;

const PROVIDERS: usize = 50;
const PATIENTS: usize = 4_000;
/// Days of history before "now", and days booked ahead of it.
const DAYS_BACK: i64 = 365;
const DAYS_AHEAD: i64 = 21;
/// 30-minute slots from 08:00 to 17:00.
const SLOTS: usize = 18;
const SLOT_SECS: i64 = 30 * 60;
const DAY_SECS: i64 = 24 * 60 * 60;
/// Shares of appointments cancelled, missed (of past ones) and with an
/// invited provider (of non-cancelled ones, before finding a free one).
const CANCELLED: f64 = 0.08;
const NOSHOW: f64 = 0.03;
const INVITED: f64 = 0.03;
const ROWS_PER_INSERT: usize = 500;
/// Pending session requests on the Dispatch board.
const REQUESTS: usize = 100;
const WARMUP: usize = 20;
const RUNS: usize = 300;
const TARGET_P99_MS: f64 = 20.0;
const SEED: u64 = 0x5107_3153_2026;

const TIME_ZONE: &str = "America/New_York";
const CLINIC_ID: i64 = 1;
const CLINIC_NAME: &str = "Riverside Family Practice";
const SERVICE_ID: i64 = 1;
const ADMIN_ID: i64 = 1;
const ADMIN_NAME: &str = "Bench Admin";
const ADMIN_EMAIL: &str = "admin@bench.test";

const CANCEL_REASONS: [&str; 6] = ["pat", "unwell", "pat-lt", "prov", "oth-weath", "other"];
const ANSWERS: [&str; 4] = ["accepted", "accepted", "needs-action", "declined"];

const FIRST_NAMES: [&str; 60] = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Christopher",
    "Lisa",
    "Daniel",
    "Nancy",
    "Matthew",
    "Betty",
    "Anthony",
    "Sandra",
    "Mark",
    "Margaret",
    "Donald",
    "Ashley",
    "Steven",
    "Kimberly",
    "Andrew",
    "Emily",
    "Paul",
    "Donna",
    "Joshua",
    "Michelle",
    "Kenneth",
    "Carol",
    "Kevin",
    "Amanda",
    "Brian",
    "Melissa",
    "George",
    "Deborah",
    "Timothy",
    "Stephanie",
    "Wei",
    "Priya",
    "Mohammed",
    "Aisha",
    "Carlos",
    "Sofia",
    "Hiroshi",
    "Yuki",
    "Olga",
    "Kwame",
];

const SURNAMES: [&str; 85] = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Gomez",
    "Phillips",
    "Evans",
    "Turner",
    "Diaz",
    "Parker",
    "Cruz",
    "Edwards",
    "Collins",
    "Reyes",
    "Stewart",
    "Morris",
    "Morales",
    "Murphy",
    "Cook",
    "Rogers",
    "Gutierrez",
    "Ortiz",
    "Morgan",
    "Cooper",
    "Peterson",
    "Bailey",
    "Reed",
    "Kelly",
    "Howard",
    "O'Brien",
    "Kowalski",
    "Okafor",
    "Patel",
    "Chen",
    "Yamamoto",
    "Schmidt",
    "Ivanova",
    "Mensah",
    "Fitzgerald-Hayes",
];

/// SplitMix64: small and deterministic, which is all test data needs.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0; the modulo bias is irrelevant here).
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

struct Appt {
    /// Index into `Data::providers`.
    host: usize,
    /// Index into `Data::patients`.
    patient: usize,
    start: i64,
    status: &'static str,
    /// Reason code and time, when cancelled.
    cancelled: Option<(&'static str, i64)>,
    noshow: Option<&'static str>,
    /// An invited provider (index) and their answer.
    invitee: Option<(usize, &'static str)>,
}

struct Data {
    now: DateTime<Utc>,
    /// The date of "now" in the clinic's zone.
    today: NaiveDate,
    providers: Vec<String>,
    patients: Vec<String>,
    /// In start order; an appointment's id is its index + 1.
    appointments: Vec<Appt>,
    /// Pending session requests, as SQL value rows (id = index + 1).
    requests: Vec<String>,
}

/// The fixed "now": Wednesday 2026-03-04 15:00 UTC (10:00 in the clinic),
/// as in the integration tests.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 4, 15, 0, 0).unwrap()
}

fn provider_id(i: usize) -> i64 {
    ADMIN_ID + 1 + i as i64
}

fn patient_id(i: usize) -> i64 {
    ADMIN_ID + 1 + (PROVIDERS + i) as i64
}

fn person(rng: &mut Rng) -> String {
    let first = FIRST_NAMES[rng.below(FIRST_NAMES.len())];
    let last = SURNAMES[rng.below(SURNAMES.len())];
    format!("{first} {last}")
}

/// 3 or 4 consecutive letters of a surname, lower case, as a user types them.
fn fragment(rng: &mut Rng) -> String {
    let name: Vec<char> = SURNAMES[rng.below(SURNAMES.len())]
        .to_lowercase()
        .chars()
        .collect();
    let len = (3 + rng.below(2)).min(name.len());
    let at = rng.below(name.len() - len + 1);
    name[at..at + len].iter().collect()
}

/// One appointment of `host` at `start`, without an invitee.
fn appointment(rng: &mut Rng, host: usize, start: i64, now: i64) -> Appt {
    let mut a = Appt {
        host,
        patient: rng.below(PATIENTS),
        start,
        status: "booked",
        cancelled: None,
        noshow: None,
        invitee: None,
    };
    let past = start + SLOT_SECS <= now;
    let roll = rng.unit();
    if roll < CANCELLED {
        let at = (start - DAY_SECS * (1 + rng.below(6) as i64)).min(now);
        a.status = "cancelled";
        a.cancelled = Some((CANCEL_REASONS[rng.below(CANCEL_REASONS.len())], at));
    } else if past && roll < CANCELLED + NOSHOW {
        a.status = "noshow";
        a.noshow = Some(if rng.chance(0.7) { "fta" } else { "dna" });
    } else if past && !rng.chance(0.05) {
        // A few past appointments are never closed and stay booked.
        a.status = "fulfilled";
    }
    a
}

fn generate(now: DateTime<Utc>) -> Data {
    let mut rng = Rng(SEED);
    let providers = (0..PROVIDERS)
        .map(|_| format!("Dr. {}", person(&mut rng)))
        .collect();
    let patients = (0..PATIENTS).map(|_| person(&mut rng)).collect();
    let tz = zones::parse(TIME_ZONE);
    let today = now.with_timezone(&tz).date_naive();
    let now_ts = now.timestamp();
    let mut appointments = Vec::new();
    for offset in -DAYS_BACK..DAYS_AHEAD {
        let day = today + Duration::days(offset);
        if day.weekday().num_days_from_monday() >= 5 {
            continue;
        }
        let opening = day.and_time(NaiveTime::from_hms_opt(8, 0, 0).expect("08:00"));
        let starts: Vec<i64> = (0..SLOTS as i64)
            .map(|s| {
                resolve_local(&tz, opening + Duration::minutes(30 * s))
                    .expect("office hours exist in the zone")
                    .timestamp()
            })
            .collect();
        // The slots each provider hosts today; `taken` also gains the slots
        // they are invited to, so no one is in two places at once.
        let mut taken = vec![[false; SLOTS]; PROVIDERS];
        for slots in &mut taken {
            let mut order: [usize; SLOTS] = std::array::from_fn(|i| i);
            rng.shuffle(&mut order);
            for &s in &order[..7 + rng.below(2)] {
                slots[s] = true;
            }
        }
        let hosting = taken.clone();
        for (host, slots) in hosting.iter().enumerate() {
            for slot in (0..SLOTS).filter(|&s| slots[s]) {
                let mut a = appointment(&mut rng, host, starts[slot], now_ts);
                if a.status != "cancelled" && rng.chance(INVITED) {
                    for _ in 0..3 {
                        let q = rng.below(PROVIDERS);
                        if !taken[q][slot] {
                            taken[q][slot] = true;
                            a.invitee = Some((q, ANSWERS[rng.below(ANSWERS.len())]));
                            break;
                        }
                    }
                }
                appointments.push(a);
            }
        }
    }
    appointments.sort_by_key(|a| (a.start, a.host));
    // Pending Scheduled requests, half to a provider and half to the host
    // group, each with one to three half-hour times in the next two weeks,
    // waiting up to two hours.
    let requests = (0..REQUESTS)
        .map(|_| {
            let times: Vec<String> = (0..1 + rng.below(3))
                .map(|_| (now_ts + (1 + rng.below(14 * 48)) as i64 * SLOT_SECS).to_string())
                .collect();
            let target = if rng.chance(0.5) {
                provider_id(rng.below(PROVIDERS)).to_string()
            } else {
                "NULL".into()
            };
            format!(
                "({CLINIC_ID}, 'new_session', 'pending', {}, {SERVICE_ID}, 'scheduled', {target}, '[{}]', 'bench', {})",
                patient_id(rng.below(PATIENTS)),
                times.join(","),
                now_ts - rng.below(7200) as i64
            )
        })
        .collect();
    Data {
        now,
        today,
        providers,
        patients,
        appointments,
        requests,
    }
}

/// A SQL string literal.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn appointment_row(id: i64, a: &Appt, now: i64) -> String {
    let created = (a.start - 14 * DAY_SECS).min(now);
    let (reason, by, at, updated) = match a.cancelled {
        Some((code, at)) => (quote(code), ADMIN_ID.to_string(), at.to_string(), at),
        None => ("NULL".into(), "NULL".into(), "NULL".into(), created),
    };
    let noshow = a.noshow.map_or_else(|| "NULL".to_string(), quote);
    format!(
        "({id}, {CLINIC_ID}, {SERVICE_ID}, {}, {}, {}, {}, '{}', 'Room {}', {reason}, {by}, {at}, {noshow}, {created}, {updated})",
        provider_id(a.host),
        patient_id(a.patient),
        a.start,
        a.start + SLOT_SECS,
        a.status,
        a.host % 12 + 1
    )
}

/// `head VALUES row, row, ...`, `ROWS_PER_INSERT` rows a statement.
async fn insert(tx: &mut Tx, head: &str, rows: &[String]) {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let sql = format!("{head} VALUES {}", chunk.join(", "));
        sqlx::query(&sql)
            .execute(&mut **tx)
            .await
            .unwrap_or_else(|e| panic!("{head}: {e}"));
    }
}

/// Writes `data` into the (freshly migrated) database in one transaction,
/// with explicit ids.
async fn seed(state: &AppState, data: &Data) {
    let now = data.now.timestamp();
    let created = now - 400 * DAY_SECS;
    let mut tx = state.db.pool.begin().await.expect("begin");
    insert(
        &mut tx,
        "INSERT INTO clinic (id, slug, name, time_zone, created_at)",
        &[format!(
            "({CLINIC_ID}, 'riverside', {}, {}, {created})",
            quote(CLINIC_NAME),
            quote(TIME_ZONE)
        )],
    )
    .await;
    insert(
        &mut tx,
        "INSERT INTO service (id, clinic_id, name, duration_minutes)",
        &[format!("({SERVICE_ID}, {CLINIC_ID}, 'Consultation', 30)")],
    )
    .await;
    let mut users = vec![format!(
        "({ADMIN_ID}, {}, {}, 'x', {created})",
        quote(ADMIN_EMAIL),
        quote(ADMIN_NAME)
    )];
    let mut members = vec![format!("({ADMIN_ID}, {CLINIC_ID}, 'admin', {created})")];
    for (i, name) in data.providers.iter().enumerate() {
        let id = provider_id(i);
        users.push(format!(
            "({id}, 'provider{i}@bench.test', {}, 'x', {created})",
            quote(name)
        ));
        members.push(format!("({id}, {CLINIC_ID}, 'provider', {created})"));
    }
    for (i, name) in data.patients.iter().enumerate() {
        let id = patient_id(i);
        users.push(format!(
            "({id}, 'patient{i}@bench.test', {}, 'x', {created})",
            quote(name)
        ));
        members.push(format!("({id}, {CLINIC_ID}, 'patient', {created})"));
    }
    insert(
        &mut tx,
        "INSERT INTO app_user (id, email, name, password_hash, created_at)",
        &users,
    )
    .await;
    insert(
        &mut tx,
        "INSERT INTO membership (user_id, clinic_id, role, created_at)",
        &members,
    )
    .await;
    // Newest first: SQLite's double-booking trigger looks through the host's
    // earlier appointments, so with none there yet each check is one probe.
    let appointments: Vec<String> = data
        .appointments
        .iter()
        .enumerate()
        .rev()
        .map(|(i, a)| appointment_row(i as i64 + 1, a, now))
        .collect();
    insert(
        &mut tx,
        "INSERT INTO appointment (id, clinic_id, service_id, host_provider_id, patient_id, \
         starts_at, ends_at, status, location, cancel_reason_code, cancelled_by, cancelled_at, \
         noshow_kind, created_at, updated_at)",
        &appointments,
    )
    .await;
    let participants: Vec<String> = data
        .appointments
        .iter()
        .enumerate()
        .filter_map(|(i, a)| {
            a.invitee
                .map(|(p, answer)| format!("({}, {}, '{answer}')", i + 1, provider_id(p)))
        })
        .collect();
    insert(
        &mut tx,
        "INSERT INTO participant (appointment_id, provider_id, status)",
        &participants,
    )
    .await;
    // Every provider works 08:00–17:00 Monday to Friday (the hours their
    // appointments fill), and the Dispatch board has its pending requests.
    let mut rules = Vec::new();
    for p in 0..data.providers.len() {
        for weekday in 0..5 {
            rules.push(format!(
                "({}, {CLINIC_ID}, {weekday}, 480, 1020)",
                provider_id(p)
            ));
        }
    }
    insert(
        &mut tx,
        "INSERT INTO availability_rule (provider_id, clinic_id, weekday, start_minute, end_minute)",
        &rules,
    )
    .await;
    insert(
        &mut tx,
        "INSERT INTO request (clinic_id, kind, status, requester_id, service_id, mode, target_provider_id, \
         requested_times, note, created_at)",
        &data.requests,
    )
    .await;
    tx.commit().await.expect("commit");

    if state.db.kind == DbKind::Postgres {
        let pool = &state.db.pool;
        // Explicit ids leave the sequences behind.
        for table in ["clinic", "app_user", "service", "appointment", "request"] {
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
            ))
            .execute(pool)
            .await
            .unwrap_or_else(|e| panic!("setval {table}: {e}"));
        }
        if let Err(e) = sqlx::query("VACUUM ANALYZE").execute(pool).await {
            println!("  (VACUUM ANALYZE failed: {e}; running ANALYZE)");
            sqlx::query("ANALYZE").execute(pool).await.expect("ANALYZE");
        }
    }
}

/// The clinic's admin, as a session would resolve them.
fn admin() -> Me {
    Me {
        user_id: ADMIN_ID,
        name: ADMIN_NAME.to_string(),
        email: ADMIN_EMAIL.to_string(),
        memberships: vec![Membership {
            clinic_id: CLINIC_ID,
            clinic_name: CLINIC_NAME.to_string(),
            role: Role::Admin,
        }],
    }
}

#[path = "support/stats.rs"]
mod stats;
use stats::percentile;

fn verdict(p99: f64) -> &'static str {
    if p99 < TARGET_P99_MS {
        "yes"
    } else {
        "NO"
    }
}

struct Outcome {
    backend: &'static str,
    query: &'static str,
    n: usize,
    p50: f64,
    p99: f64,
}

fn summarise(backend: &'static str, query: &'static str, mut ms: Vec<f64>, note: &str) -> Outcome {
    ms.sort_by(f64::total_cmp);
    let (p50, p99) = (percentile(&ms, 0.50), percentile(&ms, 0.99));
    println!(
        "  {query:<27} n={}  p50 {p50:>7.2} ms  p99 {p99:>7.2} ms  max {:>7.2} ms  \
         p99 < {TARGET_P99_MS} ms: {}  ({note})",
        ms.len(),
        ms.last().copied().unwrap_or(f64::NAN),
        verdict(p99)
    );
    Outcome {
        backend,
        query,
        n: ms.len(),
        p50,
        p99,
    }
}

/// Week views of random weeks; returns the timings (ms) and the mean number
/// of appointments a week showed.
async fn time_week_view(
    state: &AppState,
    me: &Me,
    data: &Data,
    rng: &mut Rng,
) -> (Vec<f64>, usize) {
    let mut ms = Vec::with_capacity(RUNS);
    let mut items = 0;
    for i in 0..WARMUP + RUNS {
        let offset = rng.below((DAYS_BACK + DAYS_AHEAD) as usize) as i64 - DAYS_BACK;
        let q = ScheduleQuery {
            clinic_id: Some(CLINIC_ID),
            mode: ScheduleMode::Week,
            date: Some(data.today + Duration::days(offset)),
            providers: Vec::new(),
        };
        let t = Instant::now();
        let view = schedule::view(state, me, q).await.expect("Week view");
        let elapsed = t.elapsed().as_secs_f64() * 1e3;
        if i >= WARMUP {
            ms.push(elapsed);
            items += view.columns.iter().map(|c| c.items.len()).sum::<usize>();
        }
    }
    (ms, items / RUNS)
}

/// Bookings searches for random surname fragments on one tab; returns the
/// timings (ms) and the mean number of matching appointments.
async fn time_search(
    state: &AppState,
    me: &Me,
    status: BookingStatusFilter,
    rng: &mut Rng,
) -> (Vec<f64>, i64) {
    let mut ms = Vec::with_capacity(RUNS);
    let mut total = 0;
    for i in 0..WARMUP + RUNS {
        let q = BookingQuery {
            status,
            from: None,
            to: None,
            search: fragment(rng),
            page: 0,
        };
        let t = Instant::now();
        let page = bookings::list(state, me, q).await.expect("Bookings search");
        let elapsed = t.elapsed().as_secs_f64() * 1e3;
        if i >= WARMUP {
            ms.push(elapsed);
            total += page.total;
        }
    }
    (ms, total / RUNS as i64)
}

/// Times `f` RUNS times after WARMUP calls; returns the timings (ms) and
/// the mean of the sizes `f` reports.
async fn time_calls<F, Fut>(mut f: F) -> (Vec<f64>, usize)
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    let mut ms = Vec::with_capacity(RUNS);
    let mut total = 0;
    for i in 0..WARMUP + RUNS {
        let t = Instant::now();
        let size = f(i).await;
        let elapsed = t.elapsed().as_secs_f64() * 1e3;
        if i >= WARMUP {
            ms.push(elapsed);
            total += size;
        }
    }
    (ms, total / RUNS)
}

/// The booking page's free slots, the Dispatch board and the Assign dialog.
async fn time_dispatch(backend: &'static str, state: &AppState, me: &Me, out: &mut Vec<Outcome>) {
    let (ms, n) = time_calls(|_| async {
        let days = requests::free_slots(state, CLINIC_ID, SERVICE_ID, None)
            .await
            .expect("free slots");
        days.iter().map(|d| d.slots.len()).sum()
    })
    .await;
    assert!(n > 0, "no free slots: seeding went wrong");
    out.push(summarise(
        backend,
        "Free slots, any provider",
        ms,
        &format!("{PROVIDERS} providers, 90 days, {n} slot times"),
    ));
    let (ms, n) = time_calls(|i| async move {
        let days = requests::free_slots(
            state,
            CLINIC_ID,
            SERVICE_ID,
            Some(provider_id(i % PROVIDERS)),
        )
        .await
        .expect("free slots");
        days.iter().map(|d| d.slots.len()).sum()
    })
    .await;
    out.push(summarise(
        backend,
        "Free slots, one provider",
        ms,
        &format!("{n} slots on average"),
    ));
    let (ms, n) = time_calls(|_| async {
        requests::dispatch_board(state, me, None)
            .await
            .expect("board")
            .rows
            .len()
    })
    .await;
    assert_eq!(n, REQUESTS, "the board shows every pending request");
    out.push(summarise(
        backend,
        "Dispatch board",
        ms,
        &format!("{n} pending requests"),
    ));
    let (ms, n) = time_calls(|i| async move {
        let o = requests::assign_options(state, me, (i % REQUESTS) as i64 + 1)
            .await
            .expect("assign options");
        o.providers.iter().filter(|p| p.available).count()
    })
    .await;
    out.push(summarise(
        backend,
        "Assign dialog",
        ms,
        &format!("{PROVIDERS} providers, {n} available on average"),
    ));
}

/// Seeds a fresh database at `url` and times the queries on it.
async fn run(backend: &'static str, url: String, data: &Data) -> Vec<Outcome> {
    let config = Config {
        database_url: url,
        ..Config::default()
    };
    let options = leptos::config::LeptosOptions::builder()
        .output_name("slotwise")
        .build();
    let state = AppState::new(config, ManualClock::new(data.now), options)
        .await
        .expect("app state");
    let t = Instant::now();
    seed(&state, data).await;
    let seeded = t.elapsed().as_secs_f64();
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM appointment")
        .fetch_one(&state.db.pool)
        .await
        .expect("count");
    println!("\n[{backend}] seeded {count} appointments in {seeded:.2} s");

    let me = admin();
    // The same queries, in the same order, on every backend.
    let mut rng = Rng(SEED ^ 0xBE4C);
    let mut out = Vec::new();
    let (ms, items) = time_week_view(&state, &me, data, &mut rng).await;
    assert!(
        items > 0,
        "the Week view showed nothing: seeding went wrong"
    );
    out.push(summarise(
        backend,
        "Week view, all providers",
        ms,
        &format!("{items} appointments a week on average"),
    ));
    for (query, status) in [
        ("Bookings search, Upcoming", BookingStatusFilter::Upcoming),
        ("Bookings search, Past", BookingStatusFilter::Past),
    ] {
        let (ms, total) = time_search(&state, &me, status, &mut rng).await;
        assert!(total > 0, "{query} found nothing: seeding went wrong");
        out.push(summarise(
            backend,
            query,
            ms,
            &format!("{total} matches on average"),
        ));
    }
    time_dispatch(backend, &state, &me, &mut out).await;
    state.db.pool.close().await;
    out
}

/// Creates an empty database on the server at `admin`; returns its name and URL.
async fn create_pg_database(admin: &str) -> (String, String) {
    use sqlx::Connection;
    let name = format!("slotwise_bench_{}", std::process::id());
    let mut conn = sqlx::PgConnection::connect(admin)
        .await
        .expect("connect to PostgreSQL");
    // A leftover of an earlier run that died with the same process id.
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create the benchmark database");
    let _ = conn.close().await;
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin);
    let url = format!("{base}/{name}");
    (name, url)
}

async fn drop_pg_database(admin: &str, name: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(admin)
        .await
        .expect("connect to PostgreSQL");
    // FORCE (PostgreSQL 13+) also ends the app's event-listener connection.
    if let Err(e) = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await
    {
        println!("  (could not drop the benchmark database {name}: {e})");
    }
    let _ = conn.close().await;
}

fn num_cpus() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

#[tokio::main]
async fn main() {
    // Database errors the service layer logs explain a failed query; the
    // event listener's complaints when its database is dropped do not.
    let _ = tracing_subscriber::fmt()
        .with_env_filter("warn,app::server::events=off")
        .try_init();
    println!(
        "Slotwise schedule benchmarks (release build, {} cores)",
        num_cpus()
    );
    let t = Instant::now();
    let data = generate(now());
    let count = |status: &str| {
        data.appointments
            .iter()
            .filter(|a| a.status == status)
            .count()
    };
    let invited = data
        .appointments
        .iter()
        .filter(|a| a.invitee.is_some())
        .count();
    println!(
        "data: 1 clinic ({TIME_ZONE}), {PROVIDERS} providers, {PATIENTS} patients, {} appointments \
         from {} to {} ({} cancelled, {} no-shows, {invited} with an invited provider); \
         now = {}; generated in {:.2} s",
        data.appointments.len(),
        data.today - Duration::days(DAYS_BACK),
        data.today + Duration::days(DAYS_AHEAD - 1),
        count("cancelled"),
        count("noshow"),
        data.now,
        t.elapsed().as_secs_f64()
    );
    println!(
        "each query: {WARMUP} warm-up runs, then {RUNS} timed runs, one at a time, as the clinic's admin"
    );

    let mut results = Vec::new();
    let dir = std::env::temp_dir().join(format!("slotwise-bench-schedule-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let url = format!("sqlite://{}", dir.join("bench.db").display());
    results.extend(run("SQLite", url, &data).await);
    if std::env::var_os("KEEPDB").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        eprintln!("kept {}", dir.display());
    }

    match std::env::var("SLOTWISE_TEST_PG_URL") {
        Ok(admin) if !admin.trim().is_empty() => {
            let (name, url) = create_pg_database(&admin).await;
            results.extend(run("PostgreSQL", url, &data).await);
            if std::env::var_os("KEEPDB").is_none() {
                drop_pg_database(&admin, &name).await;
            } else {
                eprintln!("kept {name}");
            }
        }
        _ => println!(
            "\n[PostgreSQL] skipped: SLOTWISE_TEST_PG_URL is not set (set it to \
             postgres://user:pass@host:port/postgres, e.g. \
             SLOTWISE_TEST_PG_URL=\"$(bash server/scripts/postgres.sh)\")"
        ),
    }

    println!("\nSummary (target: p99 under {TARGET_P99_MS} ms)");
    println!("  backend     query                          n     p50 ms     p99 ms  p99 < target");
    for o in &results {
        println!(
            "  {:<11} {:<27} {:>4} {:>10.2} {:>10.2}  {}",
            o.backend,
            o.query,
            o.n,
            o.p50,
            o.p99,
            verdict(o.p99)
        );
    }
}
