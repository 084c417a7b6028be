//! Issue 16, point 5, on both databases through the router: the Bookings
//! list as CSV for the filter on screen (header, filter honoured, cells
//! escaped and never formulas, times as the clinic writes them, other
//! clinics' bookings and non-staff refused), and the provider's calendar
//! feed (its name, a refresh interval, patient names only after opting in).

mod common;

use app::server::service::appointments::{create, NewAppointment};
use app::server::service::bookings::{list, BookingQuery};
use app::server::service::calendar_feed;
use axum::http::StatusCode;
use axum::Router;
use chrono::NaiveDate;
use common::web::{self, form, get, post, send};
use common::{demo_app, Backend, TestApp};
use std::collections::BTreeSet;

const HEADER: &str = "Booking,Clinic,When,Date,Start,Minutes,Time zone,Patient,Practitioner,\
                      Service,Status,Cancellation reason,Where,PMS sync";

/// RFC 4180 records (quoted cells with doubled quotes, CRLF line ends).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut cell) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    rows
}

struct Ctx {
    t: TestApp,
    router: Router,
}

impl Ctx {
    async fn token(&self, email: &str) -> String {
        self.t.session(email).await.0
    }

    /// GET the CSV as `email`: (status, body).
    async fn csv(&self, email: Option<&str>, query: &str) -> (StatusCode, String, String) {
        let token = match email {
            Some(e) => Some(self.token(e).await),
            None => None,
        };
        let resp = send(
            &self.router,
            get(&format!("/export/bookings.csv?{query}"), token.as_deref()),
        )
        .await;
        let status = resp.status();
        let disposition = web::header_str(&resp, "content-disposition")
            .unwrap_or("")
            .to_string();
        if status == StatusCode::OK {
            assert_eq!(
                web::header_str(&resp, "content-type"),
                Some("text/csv; charset=utf-8")
            );
        }
        (status, web::text(resp).await, disposition)
    }

    /// Every id the Bookings list shows `email` for `q`, all pages.
    async fn listed(&self, email: &str, q: BookingQuery) -> BTreeSet<String> {
        let me = self.t.me(email).await;
        let mut ids = BTreeSet::new();
        for page in 0.. {
            let p = list(&self.t.state, &me, BookingQuery { page, ..q.clone() })
                .await
                .unwrap();
            ids.extend(p.rows.iter().map(|r| r.id.to_string()));
            if (page + 1) * p.page_size >= p.total {
                break;
            }
        }
        ids
    }
}

async fn ctx(b: Backend) -> Ctx {
    let t = demo_app(b).await;
    let router = server::router(t.state.clone());
    Ctx { t, router }
}

async fn the_bookings_csv_is_the_filtered_list(b: Backend) {
    let c = ctx(b).await;
    let sched = "scheduler@northside.test";
    // A patient whose name a spreadsheet would run as a formula, with a
    // comma and quotes in it; booked at a known time.
    let ann =
        c.t.id("SELECT id FROM app_user WHERE email = 'ann@patients.test'")
            .await;
    let evil = "=HYPERLINK(\"http://x.test\",\"Ann\"), Jr";
    sqlx::query("UPDATE app_user SET name = $1 WHERE id = $2")
        .bind(evil)
        .bind(ann)
        .execute(&c.t.state.db.pool)
        .await
        .unwrap();
    let north =
        c.t.id("SELECT id FROM clinic WHERE slug = 'northside'")
            .await;
    let patel =
        c.t.id("SELECT id FROM app_user WHERE email = 'dr.patel@northside.test'")
            .await;
    let video =
        c.t.id("SELECT id FROM service WHERE name = 'Video consultation'")
            .await;
    let me = c.t.me(sched).await;
    let book = |day: u32, hour: u32| {
        let me = me.clone();
        let state = c.t.state.clone();
        async move {
            let new = NewAppointment {
                clinic_id: north,
                provider_id: patel,
                patient_id: ann,
                service_id: video,
                start_local: NaiveDate::from_ymd_opt(2026, 3, day)
                    .unwrap()
                    .and_hms_opt(hour, 0, 0)
                    .unwrap(),
                end_local: None,
                location: "Room 2".into(),
                invited: vec![],
                recurrence: None,
            };
            create(&state, &me, new).await.unwrap().ids[0]
        }
    };
    let booked = book(11, 13).await;
    // Enough bookings for the list to have more than one page.
    for hour in 8..16 {
        book(20, hour).await;
    }

    // Everything: the same bookings as the list, all pages of it.
    let (status, text, disposition) = c.csv(Some(sched), "status=all").await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(
        disposition.starts_with("attachment; filename=\"bookings-all-2026-03-04.csv"),
        "{disposition}"
    );
    let rows = parse_csv(&text);
    assert_eq!(rows[0].join(","), HEADER);
    assert!(text.ends_with("\r\n"));
    let ids: BTreeSet<String> = rows[1..].iter().map(|r| r[0].clone()).collect();
    let all = BookingQuery {
        status: app::model::BookingStatusFilter::All,
        ..BookingQuery::default()
    };
    assert_eq!(ids, c.listed(sched, all.clone()).await);
    assert!(ids.len() > 20, "more than one page: {}", ids.len());

    // The new booking's row: escaped, no formula, times as Northside writes them.
    let row = rows[1..]
        .iter()
        .find(|r| r[0] == booked.to_string())
        .expect("the new booking");
    assert_eq!(row[7], format!("'{evil}"), "a formula is shown as text");
    assert!(text.contains("\"'=HYPERLINK(\"\"http://x.test\"\",\"\"Ann\"\"), Jr\""));
    assert_eq!(row[1], "Northside Telehealth");
    assert_eq!(row[3], "2026-03-11");
    assert_eq!(row[4], "1:00 PM", "US style, New York time");
    assert_eq!(row[5], "30");
    assert_eq!(row[6], "America/New_York");
    assert!(row[2].starts_with("Wed, Mar 11, 2026"), "{}", row[2]);
    assert_eq!(row[10], "Upcoming", "as the list says it");

    // The filter is honoured: status, dates and name, as the list reads them.
    let (_, text, _) = c.csv(Some(sched), "status=cancelled").await;
    let rows = parse_csv(&text);
    assert!(rows.len() > 1, "the demo has cancelled bookings");
    assert!(rows[1..].iter().all(|r| r[10] == "Cancelled"), "{text}");
    let (_, text, _) = c
        .csv(
            Some(sched),
            "status=all&from=2026-03-11&to=2026-03-11&search=hyperlink",
        )
        .await;
    let rows = parse_csv(&text);
    assert!(rows.iter().any(|r| r[0] == booked.to_string()), "{text}");
    assert!(
        rows[1..]
            .iter()
            .all(|r| r[3] == "2026-03-11" && r[7] == format!("'{evil}")),
        "{text}"
    );
    let one_day = BookingQuery {
        from: NaiveDate::from_ymd_opt(2026, 3, 11),
        to: NaiveDate::from_ymd_opt(2026, 3, 11),
        search: "hyperlink".into(),
        ..all.clone()
    };
    let ids: BTreeSet<String> = rows[1..].iter().map(|r| r[0].clone()).collect();
    assert_eq!(ids, c.listed(sched, one_day).await);
    let q = BookingQuery {
        search: "ben".into(),
        ..all.clone()
    };
    let (_, text, _) = c.csv(Some(sched), "status=all&search=Ben").await;
    let ids: BTreeSet<String> = parse_csv(&text)[1..].iter().map(|r| r[0].clone()).collect();
    assert!(!ids.is_empty());
    assert_eq!(ids, c.listed(sched, q).await);

    // Another clinic's staff get their own clinic only; non-staff nothing.
    let (status, text, _) = c.csv(Some("admin@harbour.test"), "status=all").await;
    assert_eq!(status, StatusCode::OK);
    let rows = parse_csv(&text);
    assert!(rows.len() > 1);
    assert!(rows[1..].iter().all(|r| r[1] == "Harbour Dental"), "{text}");
    assert!(!rows.iter().any(|r| r[0] == booked.to_string()));
    let (status, text, _) = c.csv(Some("ann@patients.test"), "status=all").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{text}");
    assert_eq!(text, "Only clinic staff see the Bookings list.");
    let (status, _, _) = c.csv(None, "status=all").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Bad input: a 400 that says what to fix.
    for (query, says) in [
        ("status=someday", "Choose a status from the list."),
        ("status=all&from=11/03/2026", "Enter dates as YYYY-MM-DD."),
        (
            "status=all&from=2026-03-12&to=2026-03-11",
            "The end of the date range is before its start.",
        ),
    ] {
        let (status, text, _) = c.csv(Some(sched), query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(text, says);
    }
}
both_dbs!(bookings_csv, the_bookings_csv_is_the_filtered_list);

/// The SUMMARY lines of a feed, unfolded.
fn summaries(ics: &str) -> Vec<String> {
    ics.replace("\r\n ", "")
        .split("\r\n")
        .filter_map(|l| l.strip_prefix("SUMMARY:").map(str::to_string))
        .collect()
}

async fn the_feed_names_itself_and_keeps_patients_private(b: Backend) {
    let c = ctx(b).await;
    let lee = c.t.me("dr.lee@northside.test").await;
    let path = calendar_feed::create(&c.t.state, &lee).await.unwrap();
    let feed = || async {
        let resp = send(&c.router, get(&path, None)).await;
        assert_eq!(resp.status(), StatusCode::OK);
        web::text(resp).await.replace("\r\n ", "")
    };
    let ics = feed().await;
    let name: String = sqlx::query_scalar("SELECT name FROM app_user WHERE id = $1")
        .bind(lee.user_id)
        .fetch_one(&c.t.state.db.pool)
        .await
        .unwrap();
    assert!(
        ics.contains(&format!(
            "\r\nX-WR-CALNAME:{name} — Northside Telehealth\r\n"
        )),
        "{ics}"
    );
    assert!(ics.contains("\r\nREFRESH-INTERVAL;VALUE=DURATION:PT15M\r\n"));
    assert!(ics.contains("\r\nX-PUBLISHED-TTL:PT15M\r\n"));

    // Lee's patients in the feed's window: none of their names shows.
    let now = c.t.state.now();
    let patients: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT p.name FROM appointment a JOIN app_user p ON p.id = a.patient_id \
         WHERE a.host_provider_id = $1 AND a.status <> 'cancelled' AND a.starts_at >= $2",
    )
    .bind(lee.user_id)
    .bind(now - 90 * 86_400)
    .fetch_all(&c.t.state.db.pool)
    .await
    .unwrap();
    assert!(!patients.is_empty());
    let titles = summaries(&ics);
    assert!(!titles.is_empty());
    assert!(
        titles.iter().all(|t| t.starts_with("Appointment — ")),
        "{titles:?}"
    );
    for p in &patients {
        assert!(!ics.contains(p.as_str()), "{p} is in the feed");
    }

    // Only providers may opt in; Lee does, through the server function.
    let ann = c.token("ann@patients.test").await;
    let resp = send(
        &c.router,
        post(
            "/api/set_calendar_feed_names",
            &form(&[("on", "true")]),
            Some(&ann),
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(feed().await, ics, "nothing changed");
    let token = c.token("dr.lee@northside.test").await;
    let resp = send(
        &c.router,
        post(
            "/api/set_calendar_feed_names",
            &form(&[("on", "true")]),
            Some(&token),
        ),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = send(
        &c.router,
        post("/api/calendar_feed_names", "", Some(&token)),
    )
    .await;
    assert_eq!(web::json(resp).await, serde_json::json!(true));
    let named = feed().await;
    let titles = summaries(&named);
    assert!(
        patients
            .iter()
            .any(|p| titles.iter().any(|t| t.contains(p.as_str()))),
        "{titles:?}"
    );
    assert!(!titles.iter().any(|t| t.starts_with("Appointment — ")));
    // And opts out again.
    calendar_feed::set_patient_names(&c.t.state, &lee, false)
        .await
        .unwrap();
    assert!(summaries(&feed().await)
        .iter()
        .all(|t| t.starts_with("Appointment — ")));
}
both_dbs!(
    calendar_feed_privacy,
    the_feed_names_itself_and_keeps_patients_private
);
