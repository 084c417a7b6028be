-- API clients (issue 16, part 1): a clinic admin gives an integrator a
-- bearer token for the FHIR API, scoped to 'read' or 'read_write'. As with
-- sessions, feeds and reminder links, only a SHA-256 of the token is stored
-- (server::auth::token_hash, unpadded base64url), so a copy of the database
-- lets nobody call the API; the token is shown once, when it is made.
-- Revoking sets revoked_at (the row stays, for the list and the audit trail).
CREATE TABLE api_client (
    id INTEGER PRIMARY KEY,
    clinic_id BIGINT NOT NULL REFERENCES clinic(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    scope TEXT NOT NULL CHECK (scope IN ('read', 'read_write')),
    token_hash TEXT NOT NULL UNIQUE,
    created_by BIGINT REFERENCES app_user(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);
-- A clinic's clients, for its admins' list.
CREATE INDEX api_client_clinic ON api_client (clinic_id, id);
