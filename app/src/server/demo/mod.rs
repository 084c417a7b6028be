//! Demo data: loaded into an empty database when the server runs in demo
//! mode, so a new user can log in and see a working clinic straight away.
//! Every demo account's password is `slotwise-demo`. What is loaded is
//! data (`data`); this module only writes it.

mod data;

use super::auth::hash_password;
use super::state::AppState;
use crate::domain::notify::{Channel, NotifyEvent};
use crate::domain::recurrence::{resolve_local, End, Weekly};
use crate::error::AppResult;
use crate::model::DemoLogin;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use sqlx::AnyConnection;
use std::collections::HashMap;

pub const DEMO_PASSWORD: &str = "slotwise-demo";

/// The accounts the login page lists in demo mode.
pub fn demo_logins() -> Vec<DemoLogin> {
    data::PEOPLE
        .iter()
        .map(|p| DemoLogin {
            email: p.email.into(),
            description: p.login.into(),
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
    for _ in data::PEOPLE {
        hashes.push(hash_password(DEMO_PASSWORD.into()).await?.0);
    }
    let now = state.clock.now();
    let _turn = state.db.write_turn().await;
    let mut tx = state.db.begin_write().await?;
    let t = now.timestamp();
    let s = Seeder {
        conn: &mut tx,
        t,
        ids: HashMap::new(),
    };
    s.run(now, hashes).await?;
    // Reminders, as a booking made through the app would have (the
    // Bookings list shows them, the timers send them when due).
    let booked: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT id, clinic_id, starts_at FROM appointment WHERE status IN ('booked', 'pending') AND starts_at > $1",
    )
    .bind(t)
    .fetch_all(&mut *tx)
    .await?;
    for (id, clinic_id, starts_at) in booked {
        crate::server::service::reminders::schedule(&mut tx, id, clinic_id, starts_at, t).await?;
    }
    tx.commit().await?;
    tracing::info!("demo data loaded");
    Ok(true)
}

struct Seeder<'c> {
    conn: &'c mut AnyConnection,
    t: i64,
    /// Each key of the data (a clinic, person or service) and its new id.
    ids: HashMap<&'static str, i64>,
}

/// A local wall-clock time in a zone, as unix seconds.
fn local(tz: Tz, day: NaiveDate, (h, m): (u32, u32)) -> i64 {
    let naive = day.and_time(NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default());
    resolve_local(&tz, naive)
        .map(|d| d.timestamp())
        .unwrap_or_default()
}

/// A clinic's zone and today, which the data's days count from.
#[derive(Clone, Copy)]
struct Calendar {
    tz: Tz,
    today: NaiveDate,
}

impl Calendar {
    fn at(self, day: i64, time: (u32, u32)) -> i64 {
        local(self.tz, self.today + Duration::days(day), time)
    }
}

/// One appointment row to write.
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
    /// The id given to a key of the data. Keys are checked by the demo
    /// test; an unknown key is a mistake in `data`.
    fn id(&self, key: &str) -> i64 {
        self.ids.get(key).copied().unwrap_or_else(|| {
            tracing::error!(key, "unknown key in the demo data");
            0
        })
    }

    fn calendar(&self, clinic: &str, now: DateTime<Utc>) -> Calendar {
        let tz: Tz = data::CLINICS
            .iter()
            .find(|c| c.key == clinic)
            .and_then(|c| c.time_zone.parse().ok())
            .unwrap_or(chrono_tz::UTC);
        Calendar {
            tz,
            today: now.with_timezone(&tz).date_naive(),
        }
    }

    fn minutes(service: &str) -> i64 {
        data::SERVICES
            .iter()
            .find(|s| s.key == service)
            .map_or(30, |s| s.minutes)
    }

    async fn run(mut self, now: DateTime<Utc>, hashes: Vec<String>) -> Result<(), sqlx::Error> {
        for c in data::CLINICS {
            let id = self.clinic(c).await?;
            self.ids.insert(c.key, id);
        }
        for (p, hash) in data::PEOPLE.iter().zip(&hashes) {
            let id = self.user(p, hash).await?;
            self.ids.insert(p.key, id);
        }
        for p in data::PEOPLE {
            for (clinic, role) in p.roles {
                self.member(self.id(p.key), self.id(clinic), role.as_str())
                    .await?;
            }
        }
        for s in data::SERVICES {
            let id = self.service(s).await?;
            self.ids.insert(s.key, id);
        }
        for h in data::HOURS {
            self.hours(h).await?;
        }

        let mut n = 0;
        let mut bookings = Vec::new();
        for b in data::BOOKINGS {
            n += 1;
            let at = self.calendar(b.clinic, now).at(b.day, b.at);
            let a = Appt {
                clinic: self.id(b.clinic),
                service: self.id(b.service),
                minutes: Self::minutes(b.service),
                host: self.id(b.host),
                patient: self.id(b.patient),
                start: at,
                status: b.status,
                invited: b.invited.iter().map(|k| self.id(k)).collect(),
                series: None,
            };
            bookings.push(self.appointment(a, n).await?);
        }
        for s in data::SERIES {
            n = self.series(s, now, n).await?;
        }
        for r in data::REQUESTS {
            let cal = self.calendar(r.clinic, now);
            let times: Vec<i64> = r.times.iter().map(|(d, t)| cal.at(*d, *t)).collect();
            let appointment = r.booking.and_then(|i| bookings.get(i).copied());
            self.request(r, &times, appointment).await?;
        }
        let mut prefs: Vec<(i64, NotifyEvent, Channel)> = Vec::new();
        for p in data::PROVIDERS_HEAR_EVERYTHING {
            prefs.extend(NotifyEvent::ALL.map(|e| (self.id(p), e, Channel::Email)));
        }
        prefs.extend(
            data::PREFERENCES
                .iter()
                .map(|(p, e, c)| (self.id(p), *e, *c)),
        );
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

    async fn clinic(&mut self, c: &data::Clinic) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "INSERT INTO clinic (slug, name, time_zone, phone, late_cancel_fee_cents, pre_request_form, created_at, \
             address, cancel_reason_required, date_style) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             RETURNING id",
        )
        .bind(c.slug)
        .bind(c.name)
        .bind(c.time_zone)
        .bind(c.phone)
        .bind(c.late_cancel_fee_cents)
        .bind(data::PRE_REQUEST_FORM)
        .bind(self.t)
        .bind(c.address)
        .bind(i64::from(c.cancel_reason_required))
        .bind(c.date_style)
        .fetch_one(&mut *self.conn)
        .await
    }

    async fn user(&mut self, p: &data::Person, hash: &str) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "INSERT INTO app_user (email, name, mobile, time_zone, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(p.email)
        .bind(p.name)
        .bind(p.mobile)
        .bind(p.time_zone)
        .bind(hash)
        .bind(self.t)
        .fetch_one(&mut *self.conn)
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

    async fn service(&mut self, s: &data::Service) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "INSERT INTO service (clinic_id, name, description, duration_minutes, payment_required, price_cents, modality) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(self.id(s.clinic))
        .bind(s.name)
        .bind(s.description)
        .bind(s.minutes)
        .bind(i64::from(s.price_cents > 0))
        .bind(s.price_cents)
        .bind(s.modality.as_str())
        .fetch_one(&mut *self.conn)
        .await
    }

    async fn hours(&mut self, h: &data::Hours) -> Result<(), sqlx::Error> {
        let (provider, clinic) = (self.id(h.provider), self.id(h.clinic));
        for d in h.weekdays {
            sqlx::query(
                "INSERT INTO availability_rule (provider_id, clinic_id, weekday, start_minute, end_minute) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(provider)
            .bind(clinic)
            .bind(*d)
            .bind(h.from_hour * 60)
            .bind(h.to_hour * 60)
            .execute(&mut *self.conn)
            .await?;
        }
        sqlx::query("INSERT INTO on_demand (provider_id, clinic_id, available_now, updated_at) VALUES ($1, $2, $3, $4)")
            .bind(provider)
            .bind(clinic)
            .bind(i64::from(h.now))
            .bind(self.t)
            .execute(&mut *self.conn)
            .await?;
        Ok(())
    }

    /// Writes a weekly series and its meetings (numbered from `n + 1`);
    /// returns the last number used.
    async fn series(
        &mut self,
        s: &data::Series,
        now: DateTime<Utc>,
        mut n: i64,
    ) -> Result<i64, sqlx::Error> {
        let cal = self.calendar(s.clinic, now);
        let first = cal.today + Duration::days(s.first_day);
        let rule = Weekly {
            interval_weeks: 1,
            end: End::Count(s.weeks),
        };
        let first_local =
            first.and_time(NaiveTime::from_hms_opt(s.at.0, s.at.1, 0).unwrap_or_default());
        let series: i64 = sqlx::query_scalar(
            "INSERT INTO series (clinic_id, host_provider_id, rrule, dtstart_local, time_zone, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(self.id(s.clinic))
        .bind(self.id(s.host))
        .bind(rule.rrule())
        .bind(first_local.format("%Y%m%dT%H%M%S").to_string())
        .bind(cal.tz.name())
        .bind(self.t)
        .fetch_one(&mut *self.conn)
        .await?;
        let minutes = Self::minutes(s.service);
        for start in rule.expand(&cal.tz, first_local) {
            let start = start.timestamp();
            n += 1;
            let a = Appt {
                clinic: self.id(s.clinic),
                service: self.id(s.service),
                minutes,
                host: self.id(s.host),
                patient: self.id(s.patient),
                start,
                status: if start + minutes * 60 < now.timestamp() {
                    "fulfilled"
                } else {
                    "booked"
                },
                invited: vec![],
                series: Some(series),
            };
            self.appointment(a, n).await?;
        }
        Ok(n)
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
        // An in-person or phone appointment has no join link, meeting ID,
        // passcode or "Video" location.
        sqlx::query(
            "UPDATE appointment SET video_url = '', meeting_id = '', passcode = '', location = '' \
             WHERE id = $1 AND service_id IN (SELECT id FROM service WHERE modality <> 'video')",
        )
        .bind(id)
        .execute(&mut *self.conn)
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

    async fn request(
        &mut self,
        r: &data::Request,
        times: &[i64],
        appointment: Option<i64>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO request (clinic_id, kind, status, requester_id, service_id, mode, target_provider_id, \
             requested_times, form_answers, note, appointment_id, created_at) \
             VALUES ($1, $2, 'pending', $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(self.id(r.clinic))
        .bind(r.kind)
        .bind(self.id(r.requester))
        .bind(self.id(r.service))
        .bind(r.mode)
        .bind(r.target.map(|k| self.id(k)))
        .bind(serde_json::to_string(times).unwrap_or_else(|_| "[]".into()))
        .bind(data::FORM_ANSWERS)
        .bind(r.note)
        .bind(appointment)
        .bind(self.t - r.age_minutes * 60)
        .execute(&mut *self.conn)
        .await
        .map(|_| ())
    }
}
