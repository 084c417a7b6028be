-- Holds made through the FHIR API's Appointment/$hold (issue 16): a time
-- of one provider reserved for a few minutes while an integrator finishes
-- booking it. A hold blocks every booking path until it expires
-- (expires_at, judged on the app's clock: every booking checks it under
-- the provider's lock, the free-slot engine leaves it out) or until its
-- $book turns it into an appointment (the row is deleted then). Expired
-- rows are deleted by the timers; until then they are ignored by time.
CREATE TABLE fhir_hold (
    id BIGSERIAL PRIMARY KEY,
    clinic_id BIGINT NOT NULL REFERENCES clinic(id) ON DELETE CASCADE,
    service_id BIGINT NOT NULL REFERENCES service(id) ON DELETE CASCADE,
    provider_id BIGINT NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
    patient_id BIGINT NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    -- Who may book it: the user of a session, or an API client.
    held_by_user BIGINT REFERENCES app_user(id) ON DELETE CASCADE,
    held_by_client BIGINT,
    created_at BIGINT NOT NULL,
    CHECK (starts_at < ends_at AND ends_at - starts_at <= 43200),
    CHECK ((held_by_user IS NULL) <> (held_by_client IS NULL))
);
-- Overlap searches per provider, bounded like the appointments' (12 h).
CREATE INDEX fhir_hold_provider ON fhir_hold (provider_id, starts_at);
CREATE INDEX fhir_hold_expiry ON fhir_hold (expires_at);
