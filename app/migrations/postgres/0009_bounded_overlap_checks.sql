-- Twin of ../sqlite/0009. PostgreSQL's exclusion constraint (0002) is a
-- GiST index and needs no bound; the length rule is stated here too, so
-- the application's overlap searches (bounded by it) hold on both
-- databases. NOT VALID: enforced for every new or changed row.
ALTER TABLE appointment ADD CONSTRAINT appointment_at_most_12_hours
    CHECK (ends_at - starts_at <= 43200) NOT VALID;
