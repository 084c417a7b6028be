-- One un-revoked API client per name in a clinic. The service checks this
-- before inserting, but on PostgreSQL two admins creating the same name at
-- the same instant both passed the check; this index lets only one insert
-- through (service::api_clients::create maps the refusal to the check's
-- message). Names are compared as the service stores them: trimmed, exact.
-- A revoked client frees its name, hence the partial index.
CREATE UNIQUE INDEX api_client_active_name ON api_client (clinic_id, name)
    WHERE revoked_at IS NULL;
