-- The database backs up the rule that a provider is never double-booked:
-- two non-cancelled appointments of one host provider never overlap.
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE appointment ADD CONSTRAINT appointment_no_double_booking
    EXCLUDE USING gist (host_provider_id WITH =, int8range(starts_at, ends_at) WITH &&)
    WHERE (status <> 'cancelled');
