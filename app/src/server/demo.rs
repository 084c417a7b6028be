//! Demo data: loaded into an empty database when the server runs in demo
//! mode, so a new user can log in and see a working clinic straight away.
//! Every demo account's password is `slotwise-demo`.

use super::auth::hash_password;
use super::state::AppState;
use crate::domain::recurrence::{resolve_local, End, Weekly};
use crate::error::AppResult;
use crate::model::DemoLogin;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use sqlx::AnyConnection;

pub const DEMO_PASSWORD: &str = "slotwise-demo";

/// The accounts the login page lists in demo mode.
pub fn demo_logins() -> Vec<DemoLogin> {
    [
        ("admin@northside.test", "Admin, Northside Telehealth"),
        (
            "scheduler@northside.test",
            "Scheduler, Northside Telehealth",
        ),
        ("dr.lee@northside.test", "Provider, Northside Telehealth"),
        ("dr.patel@northside.test", "Provider, Northside Telehealth"),
        ("dr.kim@northside.test", "Provider, Northside Telehealth"),
        ("admin@harbour.test", "Admin, Harbour Dental"),
        ("dr.nguyen@harbour.test", "Provider, Harbour Dental"),
        ("ann@patients.test", "Patient"),
        ("ben@patients.test", "Patient"),
    ]
    .into_iter()
    .map(|(e, d)| DemoLogin {
        email: e.into(),
        description: d.into(),
    })
    .collect()
}

/// Loads the demo data if the database has no clinic yet. Returns whether it did.
pub async fn seed_if_empty(state: &AppState) -> AppResult<bool> {
    let clinics: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM clinic")
        .fetch_one(&state.db.pool)
        .await?;
    if clinics > 0 {
        return Ok(false);
    }
    // Hash before the transaction: hashing is slow and needs no lock.
    let mut hashes = Vec::new();
    for _ in 0..9 {
        hashes.push(hash_password(DEMO_PASSWORD.into()).await?.0);
    }
    let now = state.clock.now();
    let _turn = state.db.write_turn().await;
    let mut tx = state.db.begin_write().await?;
    let t = now.timestamp();
    let s = Seeder { conn: &mut tx, t };
    s.run(now, hashes).await?;
    tx.commit().await?;
    tracing::info!("demo data loaded");
    Ok(true)
}

struct Seeder<'c> {
    conn: &'c mut AnyConnection,
    t: i64,
}

/// A local wall-clock time in a zone, as unix seconds.
fn local(tz: Tz, day: NaiveDate, h: u32, m: u32) -> i64 {
    let naive = day.and_time(NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default());
    resolve_local(&tz, naive)
        .map(|d| d.timestamp())
        .unwrap_or_default()
}

struct Appt {
    clinic: i64,
    service: i64,
    minutes: i64,
    host: i64,
    patient: i64,
    start: i64,
    status: &'static str,
    invited: Vec<i64>,
    series: Option<i64>,
}

impl Seeder<'_> {
    async fn id(&mut self, sql: &str, binds: &[&str]) -> Result<i64, sqlx::Error> {
        let mut q = sqlx::query_scalar::<_, i64>(sql);
        for b in binds {
            q = q.bind(b.to_string());
        }
        q.bind(self.t).fetch_one(&mut *self.conn).await
    }

    async fn clinic(
        &mut self,
        slug: &str,
        name: &str,
        tz: &str,
        phone: &str,
        fee: i64,
    ) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "INSERT INTO clinic (slug, name, time_zone, phone, late_cancel_fee_cents, pre_request_form, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(slug)
        .bind(name)
        .bind(tz)
        .bind(phone)
        .bind(fee)
        .bind(r#"[{"label":"What would you like to discuss?","kind":"text","required":true},{"label":"Is this your first visit?","kind":"choice","options":["Yes","No"],"required":false}]"#)
        .bind(self.t)
        .fetch_one(&mut *self.conn)
        .await
    }

    async fn user(
        &mut self,
        email: &str,
        name: &str,
        mobile: &str,
        tz: &str,
        hash: &str,
    ) -> Result<i64, sqlx::Error> {
        self.id(
            "INSERT INTO app_user (email, name, mobile, time_zone, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            &[email, name, mobile, tz, hash],
        )
        .await
    }

    async fn member(&mut self, user: i64, clinic: i64, role: &str) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO membership (user_id, clinic_id, role, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(user)
        .bind(clinic)
        .bind(role)
        .bind(self.t)
        .execute(&mut *self.conn)
        .await
        .map(|_| ())
    }

    async fn service(
        &mut self,
        clinic: i64,
        name: &str,
        desc: &str,
        minutes: i64,
        price: i64,
    ) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "INSERT INTO service (clinic_id, name, description, duration_minutes, payment_required, price_cents) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(clinic)
        .bind(name)
        .bind(desc)
        .bind(minutes)
        .bind(i64::from(price > 0))
        .bind(price)
        .fetch_one(&mut *self.conn)
        .await
    }

    async fn weekly(
        &mut self,
        provider: i64,
        clinic: i64,
        days: &[i64],
        from_h: i64,
        to_h: i64,
    ) -> Result<(), sqlx::Error> {
        for d in days {
            sqlx::query(
                "INSERT INTO availability_rule (provider_id, clinic_id, weekday, start_minute, end_minute) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(provider)
            .bind(clinic)
            .bind(*d)
            .bind(from_h * 60)
            .bind(to_h * 60)
            .execute(&mut *self.conn)
            .await?;
        }
        sqlx::query("INSERT INTO on_demand (provider_id, clinic_id, available_now, updated_at) VALUES ($1, $2, $3, $4)")
            .bind(provider)
            .bind(clinic)
            .bind(0i64)
            .bind(self.t)
            .execute(&mut *self.conn)
            .await?;
        Ok(())
    }

    async fn appointment(&mut self, a: Appt, n: i64) -> Result<i64, sqlx::Error> {
        let meeting = format!("{}", 840_000_000 + a.start % 100_000 * 7 + n);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO appointment (clinic_id, service_id, host_provider_id, patient_id, starts_at, ends_at, \
             status, video_url, meeting_id, passcode, location, series_id, original_start, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) RETURNING id",
        )
        .bind(a.clinic)
        .bind(a.service)
        .bind(a.host)
        .bind(a.patient)
        .bind(a.start)
        .bind(a.start + a.minutes * 60)
        .bind(a.status)
        .bind(format!("https://meet.slotwise.test/j/{meeting}"))
        .bind(meeting.clone())
        .bind(format!("{:06}", (a.start / 60 + n * 7919) % 1_000_000))
        .bind("Video")
        .bind(a.series)
        .bind(a.series.map(|_| a.start))
        .bind(self.t)
        .fetch_one(&mut *self.conn)
        .await?;
        if a.status == "cancelled" {
            sqlx::query(
                "UPDATE appointment SET cancel_reason_code = 'pat', cancel_text = 'Patient is unwell', \
                 cancelled_by = host_provider_id, cancelled_at = $1 WHERE id = $2",
            )
            .bind(self.t)
            .bind(id)
            .execute(&mut *self.conn)
            .await?;
        }
        for p in a.invited {
            sqlx::query("INSERT INTO participant (appointment_id, provider_id, status) VALUES ($1, $2, 'needs-action')")
                .bind(id)
                .bind(p)
                .execute(&mut *self.conn)
                .await?;
        }
        Ok(id)
    }

    #[allow(clippy::too_many_arguments)]
    async fn request(
        &mut self,
        clinic: i64,
        kind: &str,
        requester: i64,
        service: i64,
        mode: Option<&str>,
        target: Option<i64>,
        times: &[i64],
        note: &str,
        appointment: Option<i64>,
        age_minutes: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO request (clinic_id, kind, status, requester_id, service_id, mode, target_provider_id, \
             requested_times, form_answers, note, appointment_id, created_at) \
             VALUES ($1, $2, 'pending', $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(clinic)
        .bind(kind)
        .bind(requester)
        .bind(service)
        .bind(mode)
        .bind(target)
        .bind(serde_json::to_string(times).unwrap_or_else(|_| "[]".into()))
        .bind(r#"[{"label":"What would you like to discuss?","answer":"A follow-up on my last visit"}]"#)
        .bind(note)
        .bind(appointment)
        .bind(self.t - age_minutes * 60)
        .execute(&mut *self.conn)
        .await
        .map(|_| ())
    }

    async fn run(mut self, now: DateTime<Utc>, h: Vec<String>) -> Result<(), sqlx::Error> {
        let ny: Tz = chrono_tz::America::New_York;
        let syd: Tz = chrono_tz::Australia::Sydney;
        let north = self
            .clinic(
                "northside",
                "Northside Telehealth",
                "America/New_York",
                "+1 212 555 0100",
                5000,
            )
            .await?;
        let harbour = self
            .clinic(
                "harbour",
                "Harbour Dental",
                "Australia/Sydney",
                "+61 2 5550 0100",
                4000,
            )
            .await?;

        let admin_n = self
            .user(
                "admin@northside.test",
                "Alex Morgan",
                "+12125550101",
                "America/New_York",
                &h[0],
            )
            .await?;
        let sched = self
            .user(
                "scheduler@northside.test",
                "Sam Rivera",
                "+12125550102",
                "America/New_York",
                &h[1],
            )
            .await?;
        let lee = self
            .user(
                "dr.lee@northside.test",
                "Dr. Jordan Lee",
                "+12125550103",
                "America/New_York",
                &h[2],
            )
            .await?;
        let patel = self
            .user(
                "dr.patel@northside.test",
                "Dr. Priya Patel",
                "+12125550104",
                "America/New_York",
                &h[3],
            )
            .await?;
        let kim = self
            .user(
                "dr.kim@northside.test",
                "Dr. Min-jun Kim",
                "+12125550105",
                "America/New_York",
                &h[4],
            )
            .await?;
        let admin_h = self
            .user(
                "admin@harbour.test",
                "Harper Quinn",
                "+61255500101",
                "Australia/Sydney",
                &h[5],
            )
            .await?;
        let nguyen = self
            .user(
                "dr.nguyen@harbour.test",
                "Dr. Linh Nguyen",
                "+61255500102",
                "Australia/Sydney",
                &h[6],
            )
            .await?;
        let ann = self
            .user(
                "ann@patients.test",
                "Ann Archer",
                "+12125550199",
                "America/New_York",
                &h[7],
            )
            .await?;
        let ben = self
            .user(
                "ben@patients.test",
                "Ben Brooks",
                "+61255500199",
                "Australia/Sydney",
                &h[8],
            )
            .await?;

        self.member(admin_n, north, "admin").await?;
        self.member(sched, north, "scheduler").await?;
        for p in [lee, patel, kim] {
            self.member(p, north, "provider").await?;
        }
        self.member(admin_h, harbour, "admin").await?;
        self.member(nguyen, harbour, "provider").await?;
        for p in [ann, ben] {
            self.member(p, north, "patient").await?;
            self.member(p, harbour, "patient").await?;
        }

        let video = self
            .service(
                north,
                "Video consultation",
                "A 30-minute video visit with a clinician.",
                30,
                0,
            )
            .await?;
        let follow = self
            .service(
                north,
                "Follow-up",
                "A short check-in after a previous visit.",
                15,
                0,
            )
            .await?;
        let assess = self
            .service(
                north,
                "Initial assessment",
                "A full first assessment.",
                60,
                12000,
            )
            .await?;
        let checkup = self
            .service(harbour, "Check-up", "Routine dental check-up.", 30, 8000)
            .await?;
        let clean = self
            .service(harbour, "Cleaning", "Scale and clean.", 45, 11000)
            .await?;
        let _emerg = self
            .service(
                harbour,
                "Emergency visit",
                "Same-day care for dental pain.",
                30,
                15000,
            )
            .await?;

        self.weekly(lee, north, &[0, 1, 2, 3, 4], 9, 17).await?;
        self.weekly(patel, north, &[0, 1, 2, 3, 4], 9, 17).await?;
        self.weekly(kim, north, &[0, 2, 4], 12, 18).await?;
        // Dr Kim takes on-demand sessions, so Northside offers "Now".
        sqlx::query(
            "UPDATE on_demand SET available_now = 1 WHERE provider_id = $1 AND clinic_id = $2",
        )
        .bind(kim)
        .bind(north)
        .execute(&mut *self.conn)
        .await?;
        self.weekly(nguyen, harbour, &[0, 1, 2, 3, 4], 8, 16)
            .await?;

        let today_ny = now.with_timezone(&ny).date_naive();
        let today_syd = now.with_timezone(&syd).date_naive();
        let d = |base: NaiveDate, off: i64| base + Duration::days(off);
        let mut n = 0;
        let add = |v: &mut Vec<Appt>, a: Appt| v.push(a);
        let mut appts = Vec::new();
        let ap = |clinic, service, minutes, host, patient, start, status, invited: Vec<i64>| Appt {
            clinic,
            service,
            minutes,
            host,
            patient,
            start,
            status,
            invited,
            series: None,
        };
        add(
            &mut appts,
            ap(
                north,
                video,
                30,
                lee,
                ann,
                local(ny, d(today_ny, -2), 10, 0),
                "fulfilled",
                vec![],
            ),
        );
        add(
            &mut appts,
            ap(
                north,
                follow,
                15,
                patel,
                ben,
                local(ny, d(today_ny, -1), 14, 0),
                "booked",
                vec![],
            ),
        );
        add(
            &mut appts,
            ap(
                north,
                video,
                30,
                kim,
                ann,
                local(ny, d(today_ny, -1), 12, 30),
                "cancelled",
                vec![],
            ),
        );
        add(
            &mut appts,
            ap(
                north,
                assess,
                60,
                lee,
                ben,
                local(ny, today_ny, 15, 0),
                "booked",
                vec![patel],
            ),
        );
        add(
            &mut appts,
            ap(
                north,
                video,
                30,
                patel,
                ann,
                local(ny, d(today_ny, 1), 9, 30),
                "booked",
                vec![],
            ),
        );
        add(
            &mut appts,
            ap(
                north,
                video,
                30,
                lee,
                ann,
                local(ny, d(today_ny, 1), 13, 0),
                "booked",
                vec![kim],
            ),
        );
        add(
            &mut appts,
            ap(
                north,
                follow,
                15,
                lee,
                ben,
                local(ny, d(today_ny, 2), 16, 0),
                "pending",
                vec![],
            ),
        );
        add(
            &mut appts,
            ap(
                north,
                video,
                30,
                kim,
                ben,
                local(ny, d(today_ny, 3), 14, 0),
                "booked",
                vec![lee],
            ),
        );
        add(
            &mut appts,
            ap(
                harbour,
                checkup,
                30,
                nguyen,
                ben,
                local(syd, d(today_syd, -1), 9, 0),
                "fulfilled",
                vec![],
            ),
        );
        add(
            &mut appts,
            ap(
                harbour,
                clean,
                45,
                nguyen,
                ann,
                local(syd, d(today_syd, 1), 10, 0),
                "booked",
                vec![],
            ),
        );
        add(
            &mut appts,
            ap(
                harbour,
                checkup,
                30,
                nguyen,
                ben,
                local(syd, d(today_syd, 2), 11, 30),
                "booked",
                vec![],
            ),
        );
        let mut ids = Vec::new();
        for a in appts {
            n += 1;
            ids.push(self.appointment(a, n).await?);
        }

        // A weekly series: Dr. Kim sees Ann at 17:00 New York time, starting
        // two weeks ago, eight weeks in all. Occurrences keep local time.
        let first = d(today_ny, -14);
        let rule = Weekly {
            interval_weeks: 1,
            end: End::Count(8),
        };
        let series: i64 = sqlx::query_scalar(
            "INSERT INTO series (clinic_id, host_provider_id, rrule, dtstart_local, time_zone, created_at) \
             VALUES ($1, $2, $3, $4, 'America/New_York', $5) RETURNING id",
        )
        .bind(north)
        .bind(kim)
        .bind(rule.rrule())
        .bind(format!("{}T170000", first.format("%Y%m%d")))
        .bind(self.t)
        .fetch_one(&mut *self.conn)
        .await?;
        let first_local = first.and_time(NaiveTime::from_hms_opt(17, 0, 0).unwrap_or_default());
        for start in rule.expand(&ny, first_local) {
            let start = start.timestamp();
            let status = if start + 1800 < now.timestamp() {
                "fulfilled"
            } else {
                "booked"
            };
            n += 1;
            self.appointment(
                Appt {
                    clinic: north,
                    service: video,
                    minutes: 30,
                    host: kim,
                    patient: ann,
                    start,
                    status,
                    invited: vec![],
                    series: Some(series),
                },
                n,
            )
            .await?;
        }

        // Pending requests: a Now request, two Scheduled ones, and a
        // patient's reschedule request.
        self.request(
            north,
            "new_session",
            ann,
            video,
            Some("now"),
            None,
            &[],
            "I have had a sore throat for three days.",
            None,
            3,
        )
        .await?;
        self.request(
            north,
            "new_session",
            ben,
            follow,
            Some("scheduled"),
            Some(lee),
            &[
                local(ny, d(today_ny, 1), 15, 0),
                local(ny, d(today_ny, 2), 11, 0),
            ],
            "Following up on my blood test results.",
            None,
            42,
        )
        .await?;
        self.request(
            harbour,
            "new_session",
            ann,
            checkup,
            Some("scheduled"),
            None,
            &[local(syd, d(today_syd, 3), 9, 0)],
            "Tooth sensitivity on the left side.",
            None,
            15,
        )
        .await?;
        self.request(
            north,
            "reschedule",
            ann,
            video,
            None,
            Some(patel),
            &[local(ny, d(today_ny, 2), 10, 0)],
            "Could we move this to the morning?",
            Some(ids[4]),
            60,
        )
        .await?;
        // Notification settings: every provider hears about everything by
        // email; Dr. Lee also wants a text when a meeting is cancelled or a
        // request arrives; the scheduler hears about incoming requests.
        use crate::domain::notify::{Channel, NotifyEvent};
        let mut prefs: Vec<(i64, NotifyEvent, Channel)> = Vec::new();
        for p in [lee, patel, kim, nguyen] {
            prefs.extend(NotifyEvent::ALL.map(|e| (p, e, Channel::Email)));
        }
        prefs.push((lee, NotifyEvent::AppointmentCancelled, Channel::Sms));
        prefs.push((lee, NotifyEvent::RequestReceived, Channel::Sms));
        prefs.push((sched, NotifyEvent::RequestReceived, Channel::Email));
        prefs.push((sched, NotifyEvent::ChangeRequestReceived, Channel::Email));
        for (user, event, channel) in prefs {
            sqlx::query(
                "INSERT INTO notification_preference (user_id, event, channel) VALUES ($1, $2, $3)",
            )
            .bind(user)
            .bind(event.as_str())
            .bind(channel.as_str())
            .execute(&mut *self.conn)
            .await?;
        }
        Ok(())
    }
}
