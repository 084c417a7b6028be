//! The public booking page: a clinic's active services, its providers (and
//! who is available now), its form, and the free slots up to its horizon.

use super::{active_service, require_provider_of};
use crate::error::{AppError, AppResult};
use crate::model::{BookingPageInfo, Me, PublicProvider, PublicService, SlotDay, TimeChoice};
use crate::server::service::availability::{self, clinic_clock, clinic_providers, free_slots_of};
use crate::server::service::clinic_settings::{policy, questions};
use crate::server::state::AppState;
use crate::server::zones;
use chrono::{DateTime, Utc};

/// A clinic's booking page (public; `me` only says whether to offer
/// submitting or logging in).
#[tracing::instrument(skip_all)]
pub async fn booking_page(
    state: &AppState,
    me: Option<&Me>,
    slug: &str,
) -> AppResult<BookingPageInfo> {
    let mut conn = state.db.pool.acquire().await?;
    let c = sqlx::query_as::<_, PublicClinicRow>(
        "SELECT id, name, time_zone, phone, host_group_name FROM clinic WHERE slug = $1",
    )
    .bind(slug)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| AppError::not_found("There is no clinic at this address."))?;
    let clinic_id = c.id;
    let services = sqlx::query_as::<_, PublicServiceRow>(
        "SELECT id, name, description, duration_minutes, payment_required, price_cents FROM service \
         WHERE clinic_id = $1 AND active = 1 ORDER BY name",
    )
    .bind(clinic_id)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| PublicService {
        id: r.id,
        name: r.name,
        description: r.description,
        duration_minutes: r.duration_minutes,
        payment_required: r.payment_required == 1,
        price_cents: r.price_cents,
    })
    .collect();
    let now_ids = availability::available_now(&mut conn, clinic_id).await?;
    let providers: Vec<PublicProvider> = clinic_providers(&mut conn, clinic_id)
        .await?
        .into_iter()
        .map(|(id, name)| PublicProvider {
            id,
            name,
            available_now: now_ids.contains(&id),
        })
        .collect();
    Ok(BookingPageInfo {
        clinic_id,
        slug: slug.to_string(),
        name: c.name,
        time_zone: c.time_zone,
        phone: c.phone,
        host_group: c.host_group_name,
        services,
        available_now: !now_ids.is_empty(),
        providers,
        questions: questions(&mut conn, clinic_id).await?,
        logged_in: me.is_some(),
    })
}

/// A clinic as its public booking page shows it.
#[derive(sqlx::FromRow)]
struct PublicClinicRow {
    id: i64,
    name: String,
    time_zone: String,
    phone: String,
    host_group_name: String,
}

/// An active service on a booking page (`payment_required` stored as 0/1).
#[derive(sqlx::FromRow)]
struct PublicServiceRow {
    id: i64,
    name: String,
    description: String,
    duration_minutes: i64,
    payment_required: i64,
    price_cents: i64,
}

/// Free slots for a service up to the clinic's booking horizon, by local day: one
/// provider's, or (`provider_id` 0) any provider's.
#[tracing::instrument(skip_all, fields(clinic_id = clinic_id))]
pub async fn free_slots(
    state: &AppState,
    clinic_id: i64,
    service_id: i64,
    provider_id: Option<i64>,
) -> AppResult<Vec<SlotDay>> {
    let mut conn = state.db.pool.acquire().await?;
    let clock = clinic_clock(&mut conn, clinic_id).await?;
    let tz = clock.tz;
    let (_, minutes) = active_service(&mut conn, clinic_id, service_id).await?;
    let providers: Vec<i64> = if let Some(provider_id) = provider_id {
        require_provider_of(&mut conn, clinic_id, provider_id).await?;
        vec![provider_id]
    } else {
        clinic_providers(&mut conn, clinic_id)
            .await?
            .into_iter()
            .map(|p| p.0)
            .collect()
    };
    let now = state.clock.now().timestamp();
    let days = policy(&mut conn, clinic_id).await?.booking_horizon_days;
    let all = free_slots_of(
        &mut conn,
        clinic_id,
        &providers,
        tz,
        minutes as u32,
        days,
        now,
    )
    .await?;
    Ok(slot_days(&all, clock))
}

/// Slot starts grouped by local day, each labelled with its local time.
pub(in crate::server::service) fn slot_days(all: &[i64], clock: zones::Clock) -> Vec<SlotDay> {
    let mut days: Vec<SlotDay> = Vec::new();
    for &s in all {
        let label = day_label(s, clock);
        if days.last().map(|d| &d.label) != Some(&label) {
            days.push(SlotDay {
                label: label.clone(),
                slots: Vec::new(),
            });
        }
        if let Some(d) = days.last_mut() {
            d.slots.push(TimeChoice {
                start: s,
                label: clock.time(s),
            });
        }
    }
    days
}

fn day_label(ts: i64, clock: zones::Clock) -> String {
    DateTime::<Utc>::from_timestamp(ts, 0)
        .map(|t| clock.style.date(&t.with_timezone(&clock.tz), false))
        .unwrap_or_default()
}
