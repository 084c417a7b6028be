//! Propagation to the clinic's practice-management system: each change to
//! an appointment becomes an outbox message (channel `pms`) in the same
//! transaction; the worker POSTs it, signed, to the clinic's endpoint, in
//! order per appointment, and records the appointment's sync state
//! (`pending`, `synced`, `failed`).

use super::super::change::{Change, OutboxMessage};
use crate::domain::appointment::AppointmentStatus;
use crate::domain::pms::{fhir_appointment, PmsAction, PmsAppointment, PmsConnector};
use crate::error::AppResult;
use crate::server::db::known;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

/// Queues `action` on `appointment_id` for the clinic's PMS, when its
/// connector takes it.
pub async fn sync(change: &mut Change, appointment_id: i64, action: PmsAction) -> AppResult<()> {
    // Most clinics have no PMS: ask the clinic first, and read the
    // appointment in full only for one whose connector takes this action.
    let clinic: Option<(String, String)> = sqlx::query_as(
        "SELECT c.pms_connector, c.pms_url FROM appointment a JOIN clinic c ON c.id = a.clinic_id WHERE a.id = $1",
    )
    .bind(appointment_id)
    .fetch_optional(change.conn())
    .await?;
    let Some((connector, pms_url)) = clinic else {
        // No such appointment: nothing to tell the PMS about.
        return Ok(());
    };
    // "none" is stored for no PMS (NOT NULL, default 'none'); anything
    // unknown is an error rather than a PMS quietly left uninformed.
    let connector = known(
        PmsConnector::parse(&connector),
        "clinic.pms_connector",
        &connector,
    )?;
    if !connector.propagates(action) {
        return Ok(());
    }
    let r = sqlx::query_as::<_, AppointmentRow>(&format!("{APPOINTMENT_SELECT} WHERE a.id = $1"))
        .bind(appointment_id)
        .fetch_one(change.conn())
        .await?;
    let clinic_id = r.clinic_id;
    let appointment = r.appointment()?;
    let version = appointment.version;
    // What happened, and the appointment as a valid FHIR R4 resource, so a
    // PMS that speaks FHIR maps it without a table.
    let body = json!({
        "event": format!("appointment.{}", action.as_str()),
        "appointment": fhir_appointment(&appointment, change.now),
    });
    change
        .outbox(OutboxMessage {
            recipient_user_id: None,
            recipient: pms_url,
            channel: "pms",
            event: format!("pms_{}", action.as_str()),
            subject: format!("Appointment {appointment_id} {}", action.as_str()),
            body_text: body.to_string(),
            body_html: String::new(),
            attachment: None,
            attachment_extra: None,
            idempotency_key: format!(
                "pms/appointment-{appointment_id}/v{version}/{}",
                action.as_str()
            ),
            clinic_id: Some(clinic_id),
            appointment_id: Some(appointment_id),
        })
        .await?;
    sqlx::query("UPDATE appointment SET pms_sync_state = 'pending' WHERE id = $1")
        .bind(appointment_id)
        .execute(change.conn())
        .await?;
    Ok(())
}

/// An appointment as FHIR describes it (to the PMS, and by the FHIR API),
/// as stored: `APPOINTMENT_SELECT`, then the caller's `WHERE` on `a`.
pub(crate) const APPOINTMENT_SELECT: &str =
    "SELECT a.id, a.clinic_id, a.service_id, a.status, a.starts_at, a.ends_at, a.host_provider_id, \
     h.name AS host_name, a.patient_id, p.name AS patient_name, s.name AS service_name, \
     a.cancel_reason_code, a.noshow_kind, a.version, a.series_id, a.location \
     FROM appointment a JOIN app_user h ON h.id = a.host_provider_id \
     JOIN app_user p ON p.id = a.patient_id JOIN service s ON s.id = a.service_id";

#[derive(sqlx::FromRow)]
pub(crate) struct AppointmentRow {
    pub id: i64,
    pub clinic_id: i64,
    pub service_id: i64,
    status: String,
    starts_at: i64,
    ends_at: i64,
    host_provider_id: i64,
    host_name: String,
    patient_id: i64,
    patient_name: String,
    service_name: String,
    cancel_reason_code: Option<String>,
    noshow_kind: Option<String>,
    version: i64,
    series_id: Option<i64>,
    location: String,
}

impl AppointmentRow {
    pub(crate) fn appointment(self) -> AppResult<PmsAppointment> {
        let status = known(
            AppointmentStatus::parse(&self.status),
            "appointment.status",
            &self.status,
        )?;
        Ok(PmsAppointment {
            id: self.id,
            version: self.version,
            status,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            service_name: self.service_name,
            location: self.location,
            cancel_reason_code: self.cancel_reason_code,
            noshow_kind: self.noshow_kind,
            series_id: self.series_id,
            host_provider_id: self.host_provider_id,
            host_name: self.host_name,
            patient_id: self.patient_id,
            patient_name: self.patient_name,
        })
    }
}

/// The `X-Slotwise-Signature` of a request: HMAC-SHA256 over
/// "<timestamp>.<body>" with the clinic's secret, hex-encoded. The PMS
/// recomputes it, and refuses stale timestamps to stop replays.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(format!("{timestamp}.{body}").as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Computed independently (Python's hmac module).
        assert_eq!(
            signature("secret-secret-16", 1_700_000_000, "{}"),
            "1e90ede544640b565decc9712e3b08cbaee207bc3a885da19d18e2f314d94e17"
        );
        let a = signature("secret-secret-16", 1_700_000_000, "{}");
        assert_ne!(a, signature("secret-secret-16", 1_700_000_001, "{}"));
        assert_ne!(a, signature("secret-secret-17", 1_700_000_000, "{}"));
    }
}
