//! Clinic settings, edited by the clinic's admins: services, the patient
//! and host group names, and the pre-request form.

use super::super::db::{known, refused_by, Rule};
use super::super::state::AppState;
use super::{authz, Audit, Change};
use crate::domain::datetime_style::DateStyle;
use crate::domain::form::{self, Question};
use crate::domain::live::{topic, LiveEvent};
use crate::domain::modality::{clean_address, clean_call_phone, Modality};
use crate::domain::pms::PmsConnector;
use crate::domain::policy::{Policy, HORIZON_DAYS};
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::model::{ClinicSettings, Me, ServiceRow};
use serde_json::json;
use sqlx::{AnyConnection, Row};

/// The clinic's pre-request form.
#[tracing::instrument(skip_all, fields(clinic_id = clinic_id))]
pub async fn questions(conn: &mut AnyConnection, clinic_id: i64) -> AppResult<Vec<Question>> {
    let text: String = sqlx::query_scalar("SELECT pre_request_form FROM clinic WHERE id = $1")
        .bind(clinic_id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| AppError::not_found("That clinic does not exist."))?;
    serde_json::from_str(&text).map_err(|e| {
        tracing::error!(clinic_id, error = %e, "unreadable pre-request form");
        AppError::internal()
    })
}

#[tracing::instrument(skip_all, fields(user = me.user_id, clinic_id = clinic_id))]
pub async fn view(state: &AppState, me: &Me, clinic_id: i64) -> AppResult<ClinicSettings> {
    let clinics = authz::clinics_where(me, |r| r == Role::Admin);
    let clinic_id = match clinic_id {
        0 => clinics
            .first()
            .map(|c| c.0)
            .ok_or_else(|| AppError::forbidden("Only a clinic admin can change its settings."))?,
        id => id,
    };
    authz::require_role(me, clinic_id, &[Role::Admin])?;
    // Read with the rest, so the page's sections need no loads of their own:
    // a second Suspense on the page, or a resource created inside this one,
    // broke its hydration on the release build now and then.
    let proposals = super::proposals::settings(state, me, clinic_id).await?;
    let mut conn = state.db.pool.acquire().await?;
    let (waitlist_mode, waitlist_claim_minutes) =
        super::waitlist::settings(&mut conn, clinic_id).await?;
    let reminders = super::reminders::settings_in(&mut conn, clinic_id).await?;
    let c = sqlx::query_as::<_, ClinicRow>(
        "SELECT name, slug, time_zone, patient_group_name, host_group_name, pms_connector, pms_url, \
         pms_secret, address, call_phone, cancel_reason_required, date_style FROM clinic WHERE id = $1",
    )
    .bind(clinic_id)
    .fetch_one(&mut *conn)
    .await?;
    let services = sqlx::query_as::<_, ServiceSettingsRow>(
        "SELECT id, name, description, duration_minutes, payment_required, price_cents, active, \
         modality FROM service WHERE clinic_id = $1 ORDER BY active DESC, name",
    )
    .bind(clinic_id)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| {
        Ok(ServiceRow {
            modality: known(
                Modality::parse(&r.modality),
                "service.modality",
                &r.modality,
            )?,
            id: r.id,
            name: r.name,
            description: r.description,
            duration_minutes: r.duration_minutes,
            payment_required: r.payment_required == 1,
            price_cents: r.price_cents,
            active: r.active == 1,
        })
    })
    .collect::<AppResult<_>>()?;
    Ok(ClinicSettings {
        clinic_id,
        name: c.name,
        slug: c.slug,
        time_zone: c.time_zone,
        clinics,
        patient_group_name: c.patient_group_name,
        host_group_name: c.host_group_name,
        services,
        questions: questions(&mut conn, clinic_id).await?,
        policy: policy(&mut conn, clinic_id).await?,
        pms_connector: known(
            PmsConnector::parse(&c.pms_connector),
            "clinic.pms_connector",
            &c.pms_connector,
        )?,
        pms_url: c.pms_url,
        pms_secret_set: !c.pms_secret.is_empty(),
        address: c.address,
        call_phone: c.call_phone,
        cancel_reason_required: c.cancel_reason_required == 1,
        date_style: super::super::zones::style(&c.date_style)?
            .code()
            .to_string(),
        reminders,
        proposals,
        waitlist_mode,
        waitlist_claim_minutes,
    })
}

/// A clinic as its settings page shows it.
#[derive(sqlx::FromRow)]
struct ClinicRow {
    name: String,
    slug: String,
    time_zone: String,
    patient_group_name: String,
    host_group_name: String,
    pms_connector: String,
    pms_url: String,
    pms_secret: String,
    address: String,
    call_phone: String,
    cancel_reason_required: i64,
    date_style: String,
}

/// A service as its settings page shows it (flags stored as 0/1).
#[derive(sqlx::FromRow)]
struct ServiceSettingsRow {
    id: i64,
    name: String,
    description: String,
    duration_minutes: i64,
    payment_required: i64,
    price_cents: i64,
    active: i64,
    modality: String,
}

/// Saves the PMS connector. A blank secret keeps the one already set.
#[tracing::instrument(skip_all, fields(user = me.user_id, clinic_id = clinic_id))]
pub async fn save_pms(
    state: &AppState,
    me: &Me,
    clinic_id: i64,
    connector: PmsConnector,
    url: &str,
    secret: &str,
) -> AppResult<()> {
    authz::require_role(me, clinic_id, &[Role::Admin])?;
    let mut change = Change::begin(state).await?;
    let r = sqlx::query("SELECT pms_connector, pms_url, pms_secret FROM clinic WHERE id = $1")
        .bind(clinic_id)
        .fetch_one(change.conn())
        .await?;
    let (old_connector, old_url, old_secret): (String, String, String) = (
        r.get("pms_connector"),
        r.get("pms_url"),
        r.get("pms_secret"),
    );
    let secret = if secret.trim().is_empty() {
        old_secret
    } else {
        secret.trim().to_string()
    };
    let url = url.trim();
    crate::domain::pms::validate(connector, url, &secret).map_err(AppError::Validation)?;
    sqlx::query(
        "UPDATE clinic SET pms_connector = $1, pms_url = $2, pms_secret = $3 WHERE id = $4",
    )
    .bind(connector.as_str())
    .bind(url)
    .bind(&secret)
    .bind(clinic_id)
    .execute(change.conn())
    .await?;
    // Never the secret.
    change
        .audit_clinic(
            me.user_id,
            clinic_id,
            "clinic.pms",
            Some(json!({ "connector": old_connector, "url": old_url })),
            json!({ "connector": connector.as_str(), "url": url }),
        )
        .await?;
    emit_clinic(&mut change, clinic_id, "settings").await?;
    change.commit().await
}

/// The columns of `clinic` a [`Policy`] is read from (select them with
/// [`policy_from_row`], by name, beside any others).
pub const POLICY_COLUMNS: &str = "late_cancel_window_minutes, late_reschedule_window_minutes, \
     late_change_needs_approval, late_cancel_fee_cents, booking_horizon_days";

/// A [`Policy`] from a row that selected [`POLICY_COLUMNS`].
pub fn policy_from_row(r: &sqlx::any::AnyRow) -> Policy {
    Policy {
        cancel_window_minutes: r.get("late_cancel_window_minutes"),
        reschedule_window_minutes: r.get("late_reschedule_window_minutes"),
        needs_approval: r.get::<i64, _>("late_change_needs_approval") == 1,
        late_cancel_fee_cents: r.get("late_cancel_fee_cents"),
        // Saved through `Policy::validate`; a hand-edited row is read
        // within the same range, never wrapped (day arithmetic relies on it).
        booking_horizon_days: r.get::<i64, _>("booking_horizon_days").clamp(
            i64::from(*HORIZON_DAYS.start()),
            i64::from(*HORIZON_DAYS.end()),
        ) as u32,
    }
}

/// The clinic's cancellation policy and booking horizon.
#[tracing::instrument(skip_all, fields(clinic_id = clinic_id))]
pub async fn policy(conn: &mut AnyConnection, clinic_id: i64) -> AppResult<Policy> {
    let r = sqlx::query(&format!(
        "SELECT {POLICY_COLUMNS} FROM clinic WHERE id = $1"
    ))
    .bind(clinic_id)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| AppError::not_found("That clinic does not exist."))?;
    Ok(policy_from_row(&r))
}

/// Saves the cancellation policy.
#[tracing::instrument(skip_all, fields(user = me.user_id, clinic_id = clinic_id))]
pub async fn save_policy(state: &AppState, me: &Me, clinic_id: i64, p: Policy) -> AppResult<()> {
    authz::require_role(me, clinic_id, &[Role::Admin])?;
    p.validate().map_err(AppError::Validation)?;
    let mut change = Change::begin(state).await?;
    let before = policy(change.conn(), clinic_id).await?;
    sqlx::query(
        "UPDATE clinic SET late_cancel_window_minutes = $1, late_reschedule_window_minutes = $2, \
         late_change_needs_approval = $3, late_cancel_fee_cents = $4, booking_horizon_days = $6 \
         WHERE id = $5",
    )
    .bind(p.cancel_window_minutes)
    .bind(p.reschedule_window_minutes)
    .bind(i64::from(p.needs_approval))
    .bind(p.late_cancel_fee_cents)
    .bind(clinic_id)
    .bind(i64::from(p.booking_horizon_days))
    .execute(change.conn())
    .await?;
    change
        .audit_clinic(
            me.user_id,
            clinic_id,
            "clinic.policy",
            Some(json!(before)),
            json!(p),
        )
        .await?;
    emit_clinic(&mut change, clinic_id, "settings").await?;
    change.commit().await
}

/// A service as the admin typed it.
#[derive(Debug, Clone)]
pub struct ServiceForm {
    pub name: String,
    pub description: String,
    pub duration_minutes: i64,
    pub payment_required: bool,
    /// "45", "45.5", "45.50" (dollars); blank for none.
    pub price: String,
    pub modality: Modality,
}

/// "12.5" → 1250 cents.
pub fn parse_price(s: &str) -> Result<i64, String> {
    let s = s.trim().trim_start_matches('$');
    if s.is_empty() {
        return Ok(0);
    }
    let bad = || "Enter the price as an amount like 45 or 45.50.".to_string();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty()
        || whole.len() > 6
        || frac.len() > 2
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return Err(bad());
    }
    let cents = format!("{frac:0<2}").parse::<i64>().map_err(|_| bad())?;
    Ok(whole.parse::<i64>().map_err(|_| bad())? * 100 + cents)
}

fn check_service(f: &ServiceForm) -> AppResult<(String, String, i64)> {
    let name = f.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::validation(
            "Give the service a name of up to 100 characters.",
        ));
    }
    let description = f.description.trim().to_string();
    if description.chars().count() > 1000 {
        return Err(AppError::validation(
            "The description can be at most 1000 characters.",
        ));
    }
    if !(5..=480).contains(&f.duration_minutes) {
        return Err(AppError::validation(
            "The duration must be between 5 and 480 minutes.",
        ));
    }
    let price = parse_price(&f.price).map_err(AppError::Validation)?;
    if f.payment_required && price == 0 {
        return Err(AppError::validation(
            "A service that requires payment needs a price.",
        ));
    }
    Ok((name, description, price))
}

async fn emit_clinic(change: &mut Change, clinic_id: i64, action: &str) -> AppResult<()> {
    change
        .emit(LiveEvent {
            topic: topic::AVAILABILITY.into(),
            action: action.into(),
            entity_id: clinic_id,
            clinic_id: Some(clinic_id),
            user_ids: vec![],
            at_us: 0,
        })
        .await
}

#[track_caller]
fn name_taken(e: sqlx::Error) -> AppError {
    refused_by(e, Rule::UniqueServiceName, || {
        AppError::conflict("The clinic already has a service with that name.")
    })
}

/// Adds a service (`service_id` 0) or edits one.
#[tracing::instrument(skip_all, fields(user = me.user_id, clinic_id = clinic_id))]
pub async fn save_service(
    state: &AppState,
    me: &Me,
    clinic_id: i64,
    service_id: i64,
    f: ServiceForm,
) -> AppResult<i64> {
    authz::require_role(me, clinic_id, &[Role::Admin])?;
    let (name, description, price) = check_service(&f)?;
    let mut change = Change::begin(state).await?;
    let id = if service_id == 0 {
        sqlx::query_scalar(
            "INSERT INTO service (clinic_id, name, description, duration_minutes, payment_required, price_cents, active, modality) \
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7) RETURNING id",
        )
        .bind(clinic_id)
        .bind(&name)
        .bind(&description)
        .bind(f.duration_minutes)
        .bind(i64::from(f.payment_required))
        .bind(price)
        .bind(f.modality.as_str())
        .fetch_one(change.conn())
        .await
        .map_err(name_taken)?
    } else {
        let done = sqlx::query(
            "UPDATE service SET name = $1, description = $2, duration_minutes = $3, payment_required = $4, \
             price_cents = $5, modality = $8 WHERE id = $6 AND clinic_id = $7",
        )
        .bind(&name)
        .bind(&description)
        .bind(f.duration_minutes)
        .bind(i64::from(f.payment_required))
        .bind(price)
        .bind(service_id)
        .bind(clinic_id)
        .bind(f.modality.as_str())
        .execute(change.conn())
        .await
        .map_err(name_taken)?;
        if done.rows_affected() == 0 {
            return Err(AppError::not_found(
                "That service is not one of this clinic's.",
            ));
        }
        follow_modality(&mut change, service_id, f.modality).await?;
        service_id
    };
    change
        .audit(Audit {
            actor_id: Some(me.user_id),
            on_behalf_of_id: None,
            clinic_id: Some(clinic_id),
            action: if service_id == 0 { "service.create" } else { "service.update" },
            entity: "service",
            entity_id: id,
            before: None,
            after: Some(json!({ "name": name, "duration": f.duration_minutes, "payment_required": f.payment_required, "price_cents": price, "modality": f.modality.as_str() })),
        })
        .await?;
    emit_clinic(&mut change, clinic_id, "service").await?;
    change.commit().await?;
    Ok(id)
}

/// A service's appointments after its modality is saved: an in-person or
/// phone one keeps no join link or meeting credentials; a video one's
/// coming appointments that have none get theirs.
async fn follow_modality(change: &mut Change, service_id: i64, m: Modality) -> AppResult<()> {
    if !m.has_meeting_link() {
        sqlx::query(
            "UPDATE appointment SET video_url = '', meeting_id = '', passcode = '' \
             WHERE service_id = $1 AND video_url <> ''",
        )
        .bind(service_id)
        .execute(change.conn())
        .await?;
        return Ok(());
    }
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM appointment WHERE service_id = $1 AND video_url = '' AND ends_at > $2 \
         AND status NOT IN ('cancelled', 'noshow')",
    )
    .bind(service_id)
    .bind(change.now)
    .fetch_all(change.conn())
    .await?;
    for id in ids {
        let (url, meeting, passcode) = super::appointments::meeting_details();
        sqlx::query(
            "UPDATE appointment SET video_url = $1, meeting_id = $2, passcode = $3 WHERE id = $4",
        )
        .bind(url)
        .bind(meeting)
        .bind(passcode)
        .bind(id)
        .execute(change.conn())
        .await?;
    }
    Ok(())
}

/// Where and how the clinic's appointments take place, and its
/// cancellation-reason policy, as the admin typed them.
#[derive(Debug, Clone)]
pub struct VenueForm {
    pub address: String,
    pub call_phone: String,
    pub cancel_reason_required: bool,
}

/// Saves the clinic's address, the number for phone appointments and
/// whether cancelling needs a reason.
#[tracing::instrument(skip_all, fields(user = me.user_id, clinic_id = clinic_id))]
pub async fn save_venue(state: &AppState, me: &Me, clinic_id: i64, f: VenueForm) -> AppResult<()> {
    authz::require_role(me, clinic_id, &[Role::Admin])?;
    let address = clean_address(&f.address).map_err(AppError::Validation)?;
    let call_phone = clean_call_phone(&f.call_phone).map_err(AppError::Validation)?;
    let mut change = Change::begin(state).await?;
    sqlx::query(
        "UPDATE clinic SET address = $1, call_phone = $2, cancel_reason_required = $3 WHERE id = $4",
    )
    .bind(&address)
    .bind(&call_phone)
    .bind(i64::from(f.cancel_reason_required))
    .bind(clinic_id)
    .execute(change.conn())
    .await?;
    change
        .audit_clinic(
            me.user_id,
            clinic_id,
            "clinic.venue",
            None,
            json!({ "address": address, "call_phone": call_phone,
                "cancel_reason_required": f.cancel_reason_required }),
        )
        .await?;
    emit_clinic(&mut change, clinic_id, "settings").await?;
    change.commit().await
}

/// Saves how the clinic writes dates and times on its pages and in its
/// messages. `code` is what the form sent: anything but a known style is
/// refused before anything is written.
#[tracing::instrument(skip_all, fields(user = me.user_id, clinic_id = clinic_id))]
pub async fn save_date_style(
    state: &AppState,
    me: &Me,
    clinic_id: i64,
    code: &str,
) -> AppResult<()> {
    authz::require_role(me, clinic_id, &[Role::Admin])?;
    let style = DateStyle::parse(code.trim()).ok_or_else(|| {
        AppError::validation(
            "Choose a date and time style from the list: 24-hour, United States or Australia.",
        )
    })?;
    let mut change = Change::begin(state).await?;
    sqlx::query("UPDATE clinic SET date_style = $1 WHERE id = $2")
        .bind(style.code())
        .bind(clinic_id)
        .execute(change.conn())
        .await?;
    change
        .audit_clinic(
            me.user_id,
            clinic_id,
            "clinic.date_style",
            None,
            json!({ "date_style": style.code() }),
        )
        .await?;
    emit_clinic(&mut change, clinic_id, "settings").await?;
    change.commit().await
}

/// Stops or resumes offering a service. Existing appointments keep it.
#[tracing::instrument(skip_all, fields(user = me.user_id))]
pub async fn set_service_active(
    state: &AppState,
    me: &Me,
    service_id: i64,
    active: bool,
) -> AppResult<()> {
    let mut change = Change::begin(state).await?;
    let clinic_id: i64 = sqlx::query_scalar("SELECT clinic_id FROM service WHERE id = $1")
        .bind(service_id)
        .fetch_optional(change.conn())
        .await?
        .ok_or_else(|| AppError::not_found("That service does not exist."))?;
    authz::require_role(me, clinic_id, &[Role::Admin])?;
    sqlx::query("UPDATE service SET active = $1 WHERE id = $2")
        .bind(i64::from(active))
        .bind(service_id)
        .execute(change.conn())
        .await?;
    change
        .audit(Audit {
            actor_id: Some(me.user_id),
            on_behalf_of_id: None,
            clinic_id: Some(clinic_id),
            action: "service.active",
            entity: "service",
            entity_id: service_id,
            before: None,
            after: Some(json!({ "active": active })),
        })
        .await?;
    emit_clinic(&mut change, clinic_id, "service").await?;
    change.commit().await
}

/// Renames the patient and host groups.
#[tracing::instrument(skip_all, fields(user = me.user_id, clinic_id = clinic_id))]
pub async fn save_groups(
    state: &AppState,
    me: &Me,
    clinic_id: i64,
    patients: &str,
    hosts: &str,
) -> AppResult<()> {
    authz::require_role(me, clinic_id, &[Role::Admin])?;
    let (patients, hosts) = (patients.trim(), hosts.trim());
    for (n, what) in [(patients, "patient group"), (hosts, "host group")] {
        if n.is_empty() || n.chars().count() > 60 {
            return Err(AppError::validation(format!(
                "Give the {what} a name of up to 60 characters."
            )));
        }
    }
    let mut change = Change::begin(state).await?;
    sqlx::query("UPDATE clinic SET patient_group_name = $1, host_group_name = $2 WHERE id = $3")
        .bind(patients)
        .bind(hosts)
        .bind(clinic_id)
        .execute(change.conn())
        .await?;
    change
        .audit_clinic(
            me.user_id,
            clinic_id,
            "clinic.groups",
            None,
            json!({ "patient_group_name": patients, "host_group_name": hosts }),
        )
        .await?;
    emit_clinic(&mut change, clinic_id, "settings").await?;
    change.commit().await
}

/// An edit of the pre-request form.
#[derive(Debug, Clone)]
pub enum FormEdit {
    Add(Question),
    /// Removes the question at this position, if it still has this label
    /// (so two admins editing at once cannot remove the wrong one).
    Remove {
        index: usize,
        label: String,
    },
    /// Moves the question at this position up by one.
    MoveUp {
        index: usize,
        label: String,
    },
}

#[tracing::instrument(skip_all, fields(user = me.user_id, clinic_id = clinic_id))]
pub async fn edit_form(state: &AppState, me: &Me, clinic_id: i64, edit: FormEdit) -> AppResult<()> {
    authz::require_role(me, clinic_id, &[Role::Admin])?;
    let mut change = Change::begin(state).await?;
    let mut qs = questions(change.conn(), clinic_id).await?;
    let stale = || {
        AppError::conflict(
            "The form was changed by someone else. Reload to see the latest version.",
        )
    };
    match &edit {
        FormEdit::Add(q) => {
            if qs.len() >= form::MAX_QUESTIONS {
                return Err(AppError::validation(format!(
                    "A form can have at most {} questions.",
                    form::MAX_QUESTIONS
                )));
            }
            if qs.iter().any(|x| x.label == q.label) {
                return Err(AppError::validation("The form already asks that question."));
            }
            qs.push(q.clone());
        }
        FormEdit::Remove { index, label } => {
            if qs.get(*index).map(|q| &q.label) != Some(label) {
                return Err(stale());
            }
            qs.remove(*index);
        }
        FormEdit::MoveUp { index, label } => {
            if *index == 0 || qs.get(*index).map(|q| &q.label) != Some(label) {
                return Err(stale());
            }
            qs.swap(*index - 1, *index);
        }
    }
    let text = serde_json::to_string(&qs).map_err(|_| AppError::internal())?;
    sqlx::query("UPDATE clinic SET pre_request_form = $1 WHERE id = $2")
        .bind(&text)
        .bind(clinic_id)
        .execute(change.conn())
        .await?;
    change
        .audit_clinic(
            me.user_id,
            clinic_id,
            "clinic.form",
            None,
            json!({ "questions": qs }),
        )
        .await?;
    emit_clinic(&mut change, clinic_id, "settings").await?;
    change.commit().await
}

#[cfg(test)]
mod tests {
    use super::parse_price;

    #[test]
    fn prices_parse_to_cents() {
        assert_eq!(parse_price("45"), Ok(4500));
        assert_eq!(parse_price("$45.5"), Ok(4550));
        assert_eq!(parse_price("0.05"), Ok(5));
        assert_eq!(parse_price(""), Ok(0));
        assert!(parse_price("4,50").is_err());
        assert!(parse_price("-3").is_err());
        assert!(parse_price("1.234").is_err());
        assert!(parse_price(".5").is_err());
    }
}
