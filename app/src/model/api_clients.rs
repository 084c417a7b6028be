//! The API clients page: a clinic's FHIR API clients, as its admins see them.
//! Never carries a token or its hash; a new token crosses the wire once, in
//! `NewApiClient`.

pub use crate::domain::api_client::ApiScope;
use serde::{Deserialize, Serialize};

/// One API client of a clinic. Times are unix seconds, with the clinic's
/// words for them beside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiClientRow {
    pub id: i64,
    pub clinic_id: i64,
    pub name: String,
    pub scope: ApiScope,
    /// Who made it (None once their account is gone).
    pub created_by: Option<String>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// "Mon, Nov 30, 2026, 3:00 PM", in the clinic's zone and style.
    pub created: String,
    /// "Never" when it has not been used.
    pub last_used: String,
    /// Empty while it is active.
    pub revoked: String,
}

impl ApiClientRow {
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }
}

/// The page's data: the clinic shown, the clinics the caller administers
/// (to choose from) and that clinic's clients, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiClientsPage {
    pub clinic_id: i64,
    pub clinics: Vec<(i64, String)>,
    pub clients: Vec<ApiClientRow>,
}

/// A client just made, with its token: the only time it is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiClient {
    pub id: i64,
    pub name: String,
    pub scope: ApiScope,
    pub token: String,
}
