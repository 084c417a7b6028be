//! Clinics and their services as the portal lists them.

use super::super::state::AppState;
use crate::error::AppResult;
use crate::model::{ClinicOption, ServiceOption};
use sqlx::Row;

/// Every clinic with its active services (public information).
pub async fn clinic_options(state: &AppState) -> AppResult<Vec<ClinicOption>> {
    let rows = sqlx::query(
        "SELECT c.id, c.name, c.time_zone, s.id, s.name, s.duration_minutes, c.slug \
         FROM clinic c LEFT JOIN service s ON s.clinic_id = c.id AND s.active = 1 \
         ORDER BY c.name, s.name",
    )
    .fetch_all(&state.db.pool)
    .await?;
    let mut out: Vec<ClinicOption> = Vec::new();
    for r in rows {
        let id: i64 = r.get(0);
        if out.last().map(|c| c.id) != Some(id) {
            out.push(ClinicOption {
                id,
                slug: r.get(6),
                name: r.get(1),
                time_zone: r.get(2),
                services: Vec::new(),
            });
        }
        if let Some(sid) = r.get::<Option<i64>, _>(3) {
            if let Some(c) = out.last_mut() {
                c.services.push(ServiceOption {
                    id: sid,
                    name: r.get(4),
                    duration_minutes: r.get(5),
                });
            }
        }
    }
    Ok(out)
}
