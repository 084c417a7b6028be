-- The audit trail page (issue 16, part 4) lists a clinic's entries newest
-- first, paged by id: without this index every page scanned the whole table.
CREATE INDEX audit_clinic ON audit (clinic_id, id);
