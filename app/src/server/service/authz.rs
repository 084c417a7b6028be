//! Who may do what, decided from the caller's memberships.

use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::model::Me;

pub fn roles_in(me: &Me, clinic_id: i64) -> impl Iterator<Item = Role> + '_ {
    me.memberships
        .iter()
        .filter(move |m| m.clinic_id == clinic_id)
        .map(|m| m.role)
}

/// The caller's clinics (id, name) where they hold a role matching `pick`,
/// sorted, each once: the clinic choices of the staff pages.
pub fn clinics_where(me: &Me, pick: impl Fn(Role) -> bool) -> Vec<(i64, String)> {
    let mut out: Vec<(i64, String)> = me
        .memberships
        .iter()
        .filter(|m| pick(m.role))
        .map(|m| (m.clinic_id, m.clinic_name.clone()))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Whether `user_id` holds `role` in the clinic (checked in the database,
/// for users other than the caller).
#[tracing::instrument(skip_all, fields(clinic_id = clinic_id))]
pub async fn holds_role(
    conn: &mut sqlx::AnyConnection,
    user_id: i64,
    clinic_id: i64,
    role: Role,
) -> AppResult<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM membership WHERE user_id = $1 AND clinic_id = $2 AND role = $3",
    )
    .bind(user_id)
    .bind(clinic_id)
    .bind(role.as_str())
    .fetch_one(conn)
    .await?;
    Ok(n > 0)
}

/// The caller must be on the staff of the clinic.
pub fn require_staff(me: &Me, clinic_id: i64) -> AppResult<()> {
    if roles_in(me, clinic_id).any(Role::is_staff) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "You are not on the staff of this clinic.",
        ))
    }
}

/// The caller must hold one of `roles` in the clinic.
pub fn require_role(me: &Me, clinic_id: i64, roles: &[Role]) -> AppResult<()> {
    if roles_in(me, clinic_id).any(|r| roles.contains(&r)) {
        Ok(())
    } else {
        let names: Vec<&str> = roles.iter().map(|r| r.label()).collect();
        Err(AppError::forbidden(format!(
            "Only a clinic {} can do this.",
            names.join(" or ").to_lowercase()
        )))
    }
}

/// Whether the caller may act for `provider_id` in the clinic: the provider
/// themself, or an admin/scheduler of that clinic. Returns the on-behalf-of
/// id to audit (None when acting for oneself).
pub fn act_for_provider(me: &Me, clinic_id: i64, provider_id: i64) -> AppResult<Option<i64>> {
    if provider_id == me.user_id && roles_in(me, clinic_id).any(|r| r == Role::Provider) {
        Ok(None)
    } else if roles_in(me, clinic_id).any(Role::acts_for_providers) {
        Ok(Some(provider_id))
    } else {
        Err(AppError::forbidden(
            "You can only act for yourself; an admin or scheduler can act for other providers.",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Membership;

    fn me(id: i64, ms: &[(i64, Role)]) -> Me {
        Me {
            user_id: id,
            name: "x".into(),
            email: "x@x.test".into(),
            memberships: ms
                .iter()
                .map(|(c, r)| Membership {
                    clinic_id: *c,
                    clinic_name: "C".into(),
                    role: *r,
                })
                .collect(),
        }
    }

    #[test]
    fn staff_is_per_clinic() {
        let sched = me(1, &[(1, Role::Scheduler)]);
        assert!(require_staff(&sched, 1).is_ok());
        assert!(matches!(
            require_staff(&sched, 2),
            Err(AppError::Forbidden(_))
        ));
        let patient = me(2, &[(1, Role::Patient)]);
        assert!(require_staff(&patient, 1).is_err());
    }

    #[test]
    fn on_behalf_of_rules() {
        let dr = me(5, &[(1, Role::Provider)]);
        assert_eq!(act_for_provider(&dr, 1, 5).unwrap(), None);
        assert!(
            act_for_provider(&dr, 1, 6).is_err(),
            "a provider cannot act for a colleague"
        );
        assert!(
            act_for_provider(&dr, 2, 5).is_err(),
            "nor in another clinic"
        );
        let admin = me(9, &[(1, Role::Admin)]);
        assert_eq!(act_for_provider(&admin, 1, 5).unwrap(), Some(5));
        assert!(act_for_provider(&admin, 2, 5).is_err());
    }

    #[test]
    fn role_requirement_names_the_roles() {
        let dr = me(5, &[(1, Role::Provider)]);
        let err = require_role(&dr, 1, &[Role::Admin]).unwrap_err();
        assert_eq!(err.message(), "Only a clinic admin can do this.");
        assert!(require_role(&dr, 1, &[Role::Provider, Role::Admin]).is_ok());
    }
}
