-- The waitlist (issue 15, point 2). A patient waits for a service
-- (optionally one provider) within a range of the clinic's local dates and
-- at preferred times of day; when a matching time frees up it is offered
-- to them ('in_turn': one patient at a time, in order of joining, each with
-- the claim window; 'all_at_once': every waiting patient, first to claim
-- wins). A claim books through the same no-double-booking guard as any
-- booking.
ALTER TABLE clinic ADD COLUMN waitlist_mode TEXT NOT NULL DEFAULT 'in_turn'
    CHECK (waitlist_mode IN ('in_turn', 'all_at_once'));
ALTER TABLE clinic ADD COLUMN waitlist_claim_minutes BIGINT NOT NULL DEFAULT 30
    CHECK (waitlist_claim_minutes BETWEEN 5 AND 1440);

CREATE TABLE waitlist_entry (
    id BIGSERIAL PRIMARY KEY,
    clinic_id BIGINT NOT NULL REFERENCES clinic(id) ON DELETE CASCADE,
    patient_id BIGINT NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
    service_id BIGINT NOT NULL REFERENCES service(id) ON DELETE CASCADE,
    -- NULL: any of the clinic's providers.
    provider_id BIGINT REFERENCES app_user(id) ON DELETE CASCADE,
    -- The clinic's local dates, 'YYYY-MM-DD', both included.
    date_from TEXT NOT NULL,
    date_to TEXT NOT NULL,
    -- Preferred times of day (starts before 12:00, 12:00-17:00, from 17:00).
    morning BIGINT NOT NULL CHECK (morning IN (0, 1)),
    afternoon BIGINT NOT NULL CHECK (afternoon IN (0, 1)),
    evening BIGINT NOT NULL CHECK (evening IN (0, 1)),
    status TEXT NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'booked', 'removed')),
    created_at BIGINT NOT NULL,
    closed_at BIGINT,
    CHECK (morning + afternoon + evening >= 1),
    CHECK (date_from <= date_to)
);
-- A patient waits once for the same clinic, service and provider (or any).
CREATE UNIQUE INDEX waitlist_entry_once
    ON waitlist_entry (clinic_id, patient_id, service_id, COALESCE(provider_id, 0))
    WHERE status = 'waiting';
-- The queue of a clinic's service, in order of joining.
CREATE INDEX waitlist_entry_queue ON waitlist_entry (clinic_id, service_id, status, created_at);
CREATE INDEX waitlist_entry_patient ON waitlist_entry (patient_id, status);

CREATE TABLE waitlist_offer (
    id BIGSERIAL PRIMARY KEY,
    entry_id BIGINT NOT NULL REFERENCES waitlist_entry(id) ON DELETE CASCADE,
    clinic_id BIGINT NOT NULL REFERENCES clinic(id) ON DELETE CASCADE,
    patient_id BIGINT NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
    -- The freed time.
    provider_id BIGINT NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
    service_id BIGINT NOT NULL REFERENCES service(id) ON DELETE CASCADE,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    offered_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'claimed', 'expired', 'taken', 'withdrawn')),
    -- The appointment a claim booked.
    appointment_id BIGINT REFERENCES appointment(id) ON DELETE SET NULL,
    closed_at BIGINT,
    -- One offer of one time per entry: moving on never offers it twice.
    UNIQUE (entry_id, provider_id, starts_at)
);
-- The timers find offers whose window ended.
CREATE INDEX waitlist_offer_due ON waitlist_offer (status, expires_at);
-- Every offer of one time (the others are 'taken' when one is claimed).
CREATE INDEX waitlist_offer_time ON waitlist_offer (provider_id, starts_at, status);
CREATE INDEX waitlist_offer_patient ON waitlist_offer (patient_id, status);
