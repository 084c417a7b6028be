//! Clinics and their services as the portal lists them.

use super::super::state::AppState;
use crate::error::AppResult;
use crate::model::{ClinicOption, ServiceOption};

/// A clinic with one of its active services (none: the service columns are
/// NULL).
#[derive(sqlx::FromRow)]
struct ClinicServiceRow {
    id: i64,
    slug: String,
    name: String,
    time_zone: String,
    service_id: Option<i64>,
    service_name: Option<String>,
    duration_minutes: Option<i64>,
}

/// Every clinic with its active services (public information).
#[tracing::instrument(skip_all)]
pub async fn clinic_options(state: &AppState) -> AppResult<Vec<ClinicOption>> {
    let rows = sqlx::query_as::<_, ClinicServiceRow>(
        "SELECT c.id, c.slug, c.name, c.time_zone, s.id AS service_id, s.name AS service_name, \
         s.duration_minutes \
         FROM clinic c LEFT JOIN service s ON s.clinic_id = c.id AND s.active = 1 \
         ORDER BY c.name, s.name",
    )
    .fetch_all(&state.db.pool)
    .await?;
    let mut out: Vec<ClinicOption> = Vec::new();
    for r in rows {
        if out.last().map(|c| c.id) != Some(r.id) {
            out.push(ClinicOption {
                id: r.id,
                slug: r.slug,
                name: r.name,
                time_zone: r.time_zone,
                services: Vec::new(),
            });
        }
        if let (Some(id), Some(name), Some(duration_minutes)) =
            (r.service_id, r.service_name, r.duration_minutes)
        {
            if let Some(c) = out.last_mut() {
                c.services.push(ServiceOption {
                    id,
                    name,
                    duration_minutes,
                });
            }
        }
    }
    Ok(out)
}
