//! Propagation to the clinic's practice-management system: each change to
//! an appointment becomes an outbox message (channel `pms`) in the same
//! transaction; the worker POSTs it, signed, to the clinic's endpoint, in
//! order per appointment, and records the appointment's sync state
//! (`pending`, `synced`, `failed`).

use super::super::change::{Change, OutboxMessage};
use crate::domain::pms::{PmsAction, PmsConnector};
use crate::error::AppResult;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use sqlx::Row;

/// Queues `action` on `appointment_id` for the clinic's PMS, when its
/// connector takes it.
pub async fn sync(change: &mut Change, appointment_id: i64, action: PmsAction) -> AppResult<()> {
    // Most clinics have no PMS: ask the clinic first, and read the
    // appointment in full only for one whose connector takes this action.
    let connector: Option<String> = sqlx::query_scalar(
        "SELECT c.pms_connector FROM appointment a JOIN clinic c ON c.id = a.clinic_id WHERE a.id = $1",
    )
    .bind(appointment_id)
    .fetch_optional(change.conn())
    .await?;
    let connector = PmsConnector::parse(connector.as_deref().unwrap_or("")).unwrap_or_default();
    if !connector.propagates(action) {
        return Ok(());
    }
    let r = sqlx::query(
        "SELECT c.id, c.pms_connector, c.pms_url, a.status, a.starts_at, a.ends_at, \
         a.host_provider_id, h.name, h.email, a.patient_id, p.name, p.email, s.name, \
         a.cancel_reason_code, a.noshow_kind, a.version, a.series_id, a.location \
         FROM appointment a JOIN clinic c ON c.id = a.clinic_id \
         JOIN app_user h ON h.id = a.host_provider_id JOIN app_user p ON p.id = a.patient_id \
         JOIN service s ON s.id = a.service_id WHERE a.id = $1",
    )
    .bind(appointment_id)
    .fetch_one(change.conn())
    .await?;
    let version: i64 = r.get(15);
    let iso = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .map(|t| t.to_rfc3339())
            .unwrap_or_default()
    };
    // FHIR-shaped, so a PMS that speaks FHIR maps it without a table.
    let body = json!({
        "event": format!("appointment.{}", action.as_str()),
        "appointment": {
            "resourceType": "Appointment",
            "id": appointment_id.to_string(),
            "version": version,
            "status": r.get::<String, _>(3),
            "start": iso(r.get(4)),
            "end": iso(r.get(5)),
            "serviceType": r.get::<String, _>(12),
            "location": r.get::<String, _>(17),
            "cancelationReason": r.get::<Option<String>, _>(13),
            "noShowKind": r.get::<Option<String>, _>(14),
            "series": r.get::<Option<i64>, _>(16),
            "participant": [
                { "type": "practitioner", "id": r.get::<i64, _>(6), "name": r.get::<String, _>(7), "email": r.get::<String, _>(8) },
                { "type": "patient", "id": r.get::<i64, _>(9), "name": r.get::<String, _>(10), "email": r.get::<String, _>(11) },
            ],
        },
    });
    change
        .outbox(OutboxMessage {
            recipient_user_id: None,
            recipient: r.get(2),
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
            clinic_id: Some(r.get(0)),
            appointment_id: Some(appointment_id),
        })
        .await?;
    sqlx::query("UPDATE appointment SET pms_sync_state = 'pending' WHERE id = $1")
        .bind(appointment_id)
        .execute(change.conn())
        .await?;
    Ok(())
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
