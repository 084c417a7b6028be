-- Proposals expire (issue 15, point 3). Per clinic: how many hours a
-- patient has to answer a time the clinic proposed (Tentative), and what
-- happens when nobody answers: 'restore' (back to the original time if it
-- is still free and to come, else cancelled) or 'cancel'.
ALTER TABLE clinic ADD COLUMN proposal_expiry_hours BIGINT NOT NULL DEFAULT 48
    CHECK (proposal_expiry_hours BETWEEN 1 AND 336);
ALTER TABLE clinic ADD COLUMN proposal_on_expiry TEXT NOT NULL DEFAULT 'restore'
    CHECK (proposal_on_expiry IN ('restore', 'cancel'));

-- An open proposal on its appointment: the time it was moved from, when
-- the proposal expires and who proposed it. All NULL when none is open
-- (service::proposals sets and clears them with every change).
ALTER TABLE appointment ADD COLUMN proposal_from_starts_at BIGINT;
ALTER TABLE appointment ADD COLUMN proposal_from_ends_at BIGINT;
ALTER TABLE appointment ADD COLUMN proposal_deadline BIGINT;
ALTER TABLE appointment ADD COLUMN proposed_by BIGINT REFERENCES app_user(id);
-- When its last proposal expired (its deadline), until the next change: a
-- patient answering late is told it expired rather than "already answered".
ALTER TABLE appointment ADD COLUMN proposal_expired_at BIGINT;

-- The timers look for open proposals past their deadline on every poll:
-- only open ones are indexed, so the search costs the same however many
-- appointments a clinic has.
CREATE INDEX appointment_proposal_deadline ON appointment (proposal_deadline)
    WHERE proposal_deadline IS NOT NULL;
