//! The audit trail on both databases: each filter (dates, actor, patient,
//! appointment, action) returns exactly the entries it should, newest
//! first and paged; the CSV download has its header and escapes what a
//! spreadsheet would misread; only the clinic's own admins see it; a
//! patient's record holds their own appointments and requests only.

mod common;

use app::domain::request::RequestMode;
use app::error::AppError;
use app::model::{AuditFilter, Me};
use app::server::change::{Audit, Change};
use app::server::service::appointments::{create, NewAppointment};
use app::server::service::audit;
use app::server::service::requests::{self, NewRequest};
use axum::http::{header, StatusCode};
use chrono::{Duration, NaiveDate, TimeZone};
use chrono_tz::America::New_York;
use common::web::{get, send, text};
use common::{demo_app, Backend, TestApp};
use serde_json::json;

struct Ctx {
    t: TestApp,
    north: i64,
    harbour: i64,
    ann: i64,
    ben: i64,
    admin: Me,
    sched: Me,
    /// The Northside entries the test made, oldest first.
    e: Entries,
    a1: i64,
    a2: i64,
}

/// The ids of the entries made, in order.
#[derive(Debug, Clone, Copy)]
struct Entries {
    /// Day 1: the scheduler books Ann (A1) for Dr Patel.
    sched_books_ann: i64,
    /// Day 2: the admin books Ben (A2) for Dr Lee; Ann asks for a session.
    admin_books_ben: i64,
    ann_requests: i64,
    /// Day 3: Ann cancels A1; Ben asks for a session.
    ann_cancels: i64,
    ben_requests: i64,
}

async fn last_audit_id(t: &TestApp) -> i64 {
    t.count("SELECT COALESCE(MAX(id), 0) FROM audit").await
}

fn ny(d: u32, h: u32) -> i64 {
    New_York
        .with_ymd_and_hms(2026, 3, d, h, 0, 0)
        .single()
        .unwrap()
        .timestamp()
}

fn booking(c: (i64, i64, i64, i64), day: u32) -> NewAppointment {
    let (clinic, provider, patient, service) = c;
    NewAppointment {
        clinic_id: clinic,
        provider_id: provider,
        patient_id: patient,
        service_id: service,
        start_local: NaiveDate::from_ymd_opt(2026, 3, day)
            .unwrap()
            .and_hms_opt(11, 0, 0)
            .unwrap(),
        end_local: None,
        location: "Video".into(),
        invited: vec![],
        recurrence: None,
    }
}

async fn ask(t: &TestApp, who: &Me, north: i64, video: i64, lee: i64, at: i64) -> i64 {
    let new = NewRequest {
        clinic_id: north,
        service_id: video,
        mode: RequestMode::Scheduled,
        provider_id: Some(lee),
        times: vec![at],
        answers: vec!["A rash".into(), "No".into()],
        note: "Please call first".into(),
    };
    requests::create(&t.state, who, new).await.unwrap();
    last_audit_id(t).await
}

async fn ctx(b: Backend) -> Ctx {
    let t = demo_app(b).await;
    let north = t.id("SELECT id FROM clinic WHERE slug = 'northside'").await;
    let harbour = t.id("SELECT id FROM clinic WHERE slug = 'harbour'").await;
    let user = |e: &str| format!("SELECT id FROM app_user WHERE email = '{e}'");
    let (ann, ben) = (
        t.id(&user("ann@patients.test")).await,
        t.id(&user("ben@patients.test")).await,
    );
    let patel = t.id(&user("dr.patel@northside.test")).await;
    let lee = t.id(&user("dr.lee@northside.test")).await;
    let video = t
        .id("SELECT id FROM service WHERE name = 'Video consultation'")
        .await;
    let admin = t.me("admin@northside.test").await;
    let sched = t.me("scheduler@northside.test").await;
    let (ann_me, ben_me) = (
        t.me("ann@patients.test").await,
        t.me("ben@patients.test").await,
    );

    // Day 1.
    let a1 = create(&t.state, &sched, booking((north, patel, ann, video), 10))
        .await
        .unwrap()
        .ids[0];
    let sched_books_ann = last_audit_id(&t).await;
    // Day 2.
    t.clock.advance(Duration::days(1));
    let a2 = create(&t.state, &admin, booking((north, lee, ben, video), 11))
        .await
        .unwrap()
        .ids[0];
    let admin_books_ben = last_audit_id(&t).await;
    let ann_requests = ask(&t, &ann_me, north, video, lee, ny(16, 9)).await;
    // Day 3: written as the app writes every entry, with text a
    // spreadsheet would misread.
    t.clock.advance(Duration::days(1));
    let mut change = Change::begin(&t.state).await.unwrap();
    change
        .audit(Audit {
            actor_id: Some(ann),
            on_behalf_of_id: None,
            clinic_id: Some(north),
            action: "appointment.cancel",
            entity: "appointment",
            entity_id: a1,
            before: Some(json!({ "status": "booked", "note": "" })),
            after: Some(json!({ "status": "cancelled", "note": "=1+2, \"sorry\"\nsee you" })),
        })
        .await
        .unwrap();
    change.commit().await.unwrap();
    let ann_cancels = last_audit_id(&t).await;
    let ben_requests = ask(&t, &ben_me, north, video, lee, ny(16, 10)).await;
    // Another clinic's entry, the same day.
    let mut change = Change::begin(&t.state).await.unwrap();
    change
        .audit(Audit {
            actor_id: Some(t.id(&user("admin@harbour.test")).await),
            on_behalf_of_id: None,
            clinic_id: Some(harbour),
            action: "clinic.policy",
            entity: "clinic",
            entity_id: harbour,
            before: None,
            after: Some(json!({ "late_cancel_window_minutes": 60 })),
        })
        .await
        .unwrap();
    change.commit().await.unwrap();
    Ctx {
        t,
        north,
        harbour,
        ann,
        ben,
        admin,
        sched,
        e: Entries {
            sched_books_ann,
            admin_books_ben,
            ann_requests,
            ann_cancels,
            ben_requests,
        },
        a1,
        a2,
    }
}

impl Ctx {
    /// The ids a filter finds (all pages), as the admin sees them.
    async fn ids(&self, f: AuditFilter) -> Vec<i64> {
        let page = audit::page(&self.t.state, &self.admin, f).await.unwrap();
        assert!(page.next_before.is_none(), "one page expected");
        page.rows.iter().map(|r| r.id).collect()
    }

    fn filter(&self) -> AuditFilter {
        AuditFilter {
            clinic_id: Some(self.north),
            ..AuditFilter::default()
        }
    }
}

async fn filters_find_exactly_their_entries(b: Backend) {
    let c = ctx(b).await;
    let e = c.e;
    // Everything of Northside's, newest first; Harbour's entry is not there.
    let all = c.ids(c.filter()).await;
    let expected: Vec<i64> = sqlx::query_scalar(&format!(
        "SELECT id FROM audit WHERE clinic_id = {} ORDER BY id DESC",
        c.north
    ))
    .fetch_all(&c.t.state.db.pool)
    .await
    .unwrap();
    assert_eq!(all, expected);
    assert_eq!(
        &all[..5],
        &[
            e.ben_requests,
            e.ann_cancels,
            e.ann_requests,
            e.admin_books_ben,
            e.sched_books_ann
        ]
    );
    let day = |d: u32| NaiveDate::from_ymd_opt(2026, 3, d);
    // Dates are Northside's days: the test's days start at 10:00 there.
    let f = |from, to| AuditFilter {
        from,
        to,
        ..c.filter()
    };
    assert_eq!(
        c.ids(f(day(5), day(5))).await,
        vec![e.ann_requests, e.admin_books_ben]
    );
    assert_eq!(
        c.ids(f(day(5), None)).await,
        vec![
            e.ben_requests,
            e.ann_cancels,
            e.ann_requests,
            e.admin_books_ben
        ]
    );
    assert_eq!(c.ids(f(None, day(4))).await, vec![e.sched_books_ann]);
    assert!(c.ids(f(day(7), None)).await.is_empty());
    // Actor: part of a name or email.
    let actor = |a: &str| AuditFilter {
        actor: a.into(),
        ..c.filter()
    };
    assert_eq!(
        c.ids(actor("scheduler@northside")).await,
        vec![e.sched_books_ann]
    );
    assert_eq!(
        c.ids(actor("ANN@patients")).await,
        vec![e.ann_cancels, e.ann_requests]
    );
    assert!(c.ids(actor("nobody-like-this")).await.is_empty());
    // Patient: their appointments and their requests, whoever acted.
    let patient = |p: &str| AuditFilter {
        patient: p.into(),
        ..c.filter()
    };
    assert_eq!(
        c.ids(patient("ann@patients.test")).await,
        vec![e.ann_cancels, e.ann_requests, e.sched_books_ann]
    );
    assert_eq!(
        c.ids(patient("ben@")).await,
        vec![e.ben_requests, e.admin_books_ben]
    );
    // Staff are not patients.
    assert!(c.ids(patient("northside.test")).await.is_empty());
    // Appointment.
    let appt = |a: i64| AuditFilter {
        appointment_id: Some(a),
        ..c.filter()
    };
    assert_eq!(
        c.ids(appt(c.a1)).await,
        vec![e.ann_cancels, e.sched_books_ann]
    );
    assert_eq!(c.ids(appt(c.a2)).await, vec![e.admin_books_ben]);
    // Action, and filters together.
    let action = |a: &str| AuditFilter {
        action: a.into(),
        ..c.filter()
    };
    assert_eq!(
        c.ids(action("appointment.cancel")).await,
        vec![e.ann_cancels]
    );
    assert_eq!(
        c.ids(AuditFilter {
            patient: "ann".into(),
            ..action("appointment.create")
        })
        .await,
        vec![e.sched_books_ann]
    );
    // The page lists the clinic's actions, and shows a change in words.
    let page = audit::page(&c.t.state, &c.admin, action("appointment.cancel"))
        .await
        .unwrap();
    assert!(page
        .actions
        .iter()
        .any(|(code, label)| code == "appointment.cancel" && label == "Appointment: cancel"));
    let row = &page.rows[0];
    assert!(row.actor.starts_with("Ann") && row.actor.contains("<ann@patients.test>"));
    let status = row.changes.iter().find(|f| f.field == "Status").unwrap();
    assert_eq!(
        (status.from.as_str(), status.to.as_str()),
        ("booked", "cancelled")
    );
    // In Northside's style and zone: the third day at 10:00 AM.
    assert_eq!(row.at, "Fri, Mar 6, 2026, 10:00 AM");
}
both_dbs!(filters, filters_find_exactly_their_entries);

async fn bad_filters_are_refused(b: Backend) {
    let c = ctx(b).await;
    let refused = |f: AuditFilter| {
        let (state, admin) = (c.t.state.clone(), c.admin.clone());
        async move { audit::page(&state, &admin, f).await.unwrap_err() }
    };
    let day = |d: u32| NaiveDate::from_ymd_opt(2026, 3, d);
    for f in [
        AuditFilter {
            from: day(6),
            to: day(5),
            ..c.filter()
        },
        AuditFilter {
            from: NaiveDate::from_ymd_opt(1900, 1, 1),
            ..c.filter()
        },
        AuditFilter {
            actor: "x".repeat(101),
            ..c.filter()
        },
        AuditFilter {
            appointment_id: Some(0),
            ..c.filter()
        },
        AuditFilter {
            before: Some(-4),
            ..c.filter()
        },
    ] {
        assert!(
            matches!(refused(f.clone()).await, AppError::Validation(_)),
            "{f:?}"
        );
    }
}
both_dbs!(bad_filters, bad_filters_are_refused);

async fn pages_run_newest_first_without_gaps(b: Backend) {
    let c = ctx(b).await;
    // Enough entries for three pages.
    for i in 0..120 {
        let mut change = Change::begin(&c.t.state).await.unwrap();
        change
            .audit(Audit {
                actor_id: Some(c.admin.user_id),
                on_behalf_of_id: None,
                clinic_id: Some(c.north),
                action: "clinic.groups",
                entity: "clinic",
                entity_id: c.north,
                before: Some(json!({ "n": i })),
                after: Some(json!({ "n": i + 1 })),
            })
            .await
            .unwrap();
        change.commit().await.unwrap();
    }
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let f = AuditFilter {
            action: "clinic.groups".into(),
            before,
            ..c.filter()
        };
        let page = audit::page(&c.t.state, &c.admin, f).await.unwrap();
        assert!(page.rows.len() as i64 <= app::model::AUDIT_PAGE_SIZE);
        seen.extend(page.rows.iter().map(|r| r.id));
        match page.next_before {
            Some(n) => before = Some(n),
            None => break,
        }
    }
    assert_eq!(seen.len(), 120);
    assert!(
        seen.windows(2).all(|w| w[0] > w[1]),
        "newest first, each once"
    );
}
both_dbs!(paging, pages_run_newest_first_without_gaps);

/// Parses RFC 4180 CSV (quoted cells, doubled quotes, CRLF rows).
fn parse_csv(s: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut cell) = (Vec::new(), Vec::new(), String::new());
    let mut chars = s.chars().peekable();
    let mut quoted = false;
    while let Some(ch) = chars.next() {
        if quoted {
            match ch {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    cell.push('"');
                }
                '"' => quoted = false,
                c => cell.push(c),
            }
            continue;
        }
        match ch {
            '"' if cell.is_empty() => quoted = true,
            ',' => row.push(std::mem::take(&mut cell)),
            '\r' => {
                assert_eq!(chars.next(), Some('\n'), "rows end with CRLF");
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            '\n' => panic!("a bare LF outside quotes"),
            c => cell.push(c),
        }
    }
    assert!(
        !quoted && row.is_empty() && cell.is_empty(),
        "the last row ends with CRLF"
    );
    rows
}

async fn the_csv_is_the_filter_escaped(b: Backend) {
    let c = ctx(b).await;
    // A name a spreadsheet would run as a formula, with a comma and quotes.
    sqlx::query("UPDATE app_user SET name = $1 WHERE id = $2")
        .bind("=HYPERLINK(\"http://x.test\",\"y\")")
        .bind(c.sched.user_id)
        .execute(&c.t.state.db.pool)
        .await
        .unwrap();
    let router = server::router(c.t.state.clone());
    let (token, _) = c.t.session("admin@northside.test").await;
    let url = format!(
        "/export/audit.csv?clinic_id={}&from=2026-03-04&to=2026-03-06",
        c.north
    );
    let resp = send(&router, get(&url, Some(&token))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()[header::CONTENT_TYPE],
        "text/csv; charset=utf-8"
    );
    assert_eq!(
        resp.headers()[header::CONTENT_DISPOSITION],
        "attachment; filename=\"audit-northside-2026-03-06.csv\""
    );
    let body = text(resp).await;
    let rows = parse_csv(&body);
    assert_eq!(
        rows[0],
        [
            "id",
            "time",
            "actor",
            "on behalf of",
            "action",
            "entity",
            "entity id",
            "changes"
        ]
    );
    let ids: Vec<i64> = rows[1..].iter().map(|r| r[0].parse().unwrap()).collect();
    let e = c.e;
    assert_eq!(
        ids,
        [
            e.ben_requests,
            e.ann_cancels,
            e.ann_requests,
            e.admin_books_ben,
            e.sched_books_ann
        ]
    );
    assert!(
        rows.iter().all(|r| r.len() == 8),
        "every row has every column"
    );
    let by_id = |id: i64| rows.iter().find(|r| r[0] == id.to_string()).unwrap();
    // The formula is text: prefixed, and quoted for its comma and quotes.
    let booked = by_id(e.sched_books_ann);
    assert_eq!(
        booked[2],
        "'=HYPERLINK(\"http://x.test\",\"y\") <scheduler@northside.test>"
    );
    assert!(body
        .contains("\"'=HYPERLINK(\"\"http://x.test\"\",\"\"y\"\") <scheduler@northside.test>\""));
    assert!(
        booked[3].ends_with(" <dr.patel@northside.test>"),
        "{booked:?}"
    );
    assert_eq!(booked[4], "appointment.create");
    // People by name, not by number.
    assert!(
        booked[7].contains("Host: — → Dr. Priya Patel"),
        "{booked:?}"
    );
    assert!(booked[7].contains("Patient: — → Ann Archer"), "{booked:?}");
    // The change with a comma, quotes and a line break survives whole.
    let cancel = by_id(e.ann_cancels);
    assert_eq!(
        cancel[7],
        "Note: — → =1+2, \"sorry\"\nsee you; Status: booked → cancelled"
    );
    assert_eq!(cancel[1], "Fri, Mar 6, 2026, 10:00 AM");
    // A filter narrows the download too.
    let url = format!(
        "/export/audit.csv?clinic_id={}&action=appointment.cancel",
        c.north
    );
    let rows = parse_csv(&text(send(&router, get(&url, Some(&token))).await).await);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][0], e.ann_cancels.to_string());
    // A value that is not a date is refused, not guessed.
    let resp = send(
        &router,
        get("/export/audit.csv?from=tomorrow", Some(&token)),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(text(resp).await, "Enter dates as YYYY-MM-DD.");
}
both_dbs!(csv, the_csv_is_the_filter_escaped);

async fn only_the_clinics_admins_see_it(b: Backend) {
    let c = ctx(b).await;
    let router = server::router(c.t.state.clone());
    let north = format!("/export/audit.csv?clinic_id={}", c.north);
    for email in [
        "scheduler@northside.test",
        "dr.lee@northside.test",
        "ann@patients.test",
        "admin@harbour.test",
    ] {
        let (token, s) = c.t.session(email).await;
        let resp = send(&router, get(&north, Some(&token))).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{email}");
        assert!(
            !text(resp).await.contains("appointment."),
            "{email}: no data"
        );
        let err = audit::page(&c.t.state, &s.me, c.filter())
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::Forbidden(_)), "{email}: {err:?}");
    }
    let resp = send(&router, get(&north, None)).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    // Harbour's admin sees Harbour's trail only.
    let harbour = c.t.me("admin@harbour.test").await;
    let page = audit::page(&c.t.state, &harbour, AuditFilter::default())
        .await
        .unwrap();
    assert_eq!(page.clinic_id, c.harbour);
    assert_eq!(page.rows.len(), 1);
    assert_eq!(page.rows[0].action, "clinic.policy");
    // Through the server function as well.
    let (token, _) = c.t.session("scheduler@northside.test").await;
    let resp = send(&router, common::web::post("/api/audit", "", Some(&token))).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let (token, _) = c.t.session("admin@northside.test").await;
    let body = common::web::form(&[("actor", "scheduler@"), ("clinic_id", &c.north.to_string())]);
    let resp = send(
        &router,
        common::web::post("/api/audit", &body, Some(&token)),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let v = common::web::json(resp).await;
    assert_eq!(v["rows"].as_array().unwrap().len(), 1);
    assert_eq!(v["rows"][0]["id"], c.e.sched_books_ann);
}
both_dbs!(admins_only, only_the_clinics_admins_see_it);

async fn a_patients_record_is_their_own(b: Backend) {
    let c = ctx(b).await;
    let router = server::router(c.t.state.clone());
    let (token, _) = c.t.session("ann@patients.test").await;
    let resp = send(&router, get("/export/my-record.csv", Some(&token))).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()[header::CONTENT_TYPE],
        "text/csv; charset=utf-8"
    );
    assert!(resp.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename="));
    let rows = parse_csv(&text(resp).await);
    assert_eq!(rows[0][..3], ["record", "number", "clinic"]);
    let mut got: Vec<(String, i64)> = rows[1..]
        .iter()
        .map(|r| (r[0].clone(), r[1].parse().unwrap()))
        .collect();
    got.sort();
    let mine = |sql: String| {
        let pool = c.t.state.db.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(&sql)
                .fetch_all(&pool)
                .await
                .unwrap()
        }
    };
    let mut want: Vec<(String, i64)> = mine(format!(
        "SELECT id FROM appointment WHERE patient_id = {}",
        c.ann
    ))
    .await
    .into_iter()
    .map(|id| ("appointment".to_string(), id))
    .chain(
        mine(format!(
            "SELECT id FROM request WHERE requester_id = {}",
            c.ann
        ))
        .await
        .into_iter()
        .map(|id| ("request".to_string(), id)),
    )
    .collect();
    want.sort();
    assert_eq!(got, want);
    assert!(got.contains(&("appointment".into(), c.a1)));
    assert!(
        !got.contains(&("appointment".into(), c.a2)),
        "Ben's appointment"
    );
    // Nothing of Ben's by any number: his appointments and requests are not there.
    let bens = mine(format!(
        "SELECT id FROM appointment WHERE patient_id = {}",
        c.ben
    ))
    .await;
    assert!(!bens.is_empty());
    assert!(bens
        .iter()
        .all(|id| !got.contains(&("appointment".into(), *id))));
    let body_rows = rows[1..]
        .iter()
        .map(|r| r.join(","))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!body_rows.contains("Ben"), "no name of Ben's");
    // The cancelled appointment is there, in Northside's style.
    let a1 = rows
        .iter()
        .find(|r| r[0] == "appointment" && r[1] == c.a1.to_string())
        .unwrap();
    assert_eq!(a1[5], "Tue, Mar 10, 2026, 11:00 AM");
    // Not logged in: nothing.
    let resp = send(&router, get("/export/my-record.csv", None)).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}
both_dbs!(patient_record, a_patients_record_is_their_own);
