-- An appointment has at most one pending patient change request (cancel or
-- reschedule): a double click or two tabs cannot queue two.
CREATE UNIQUE INDEX request_one_pending_change ON request (appointment_id)
    WHERE status = 'pending' AND kind IN ('cancel', 'reschedule');
