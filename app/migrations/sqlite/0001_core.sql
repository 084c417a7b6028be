-- SQLite twin of ../postgres/0001_core.sql: keep the two in step (same tables,
-- columns and constraints; only id columns and the audit trigger differ).
-- Core schema (DESIGN.md §2). Times are unix seconds (BIGINT) and flags are
-- 0/1 BIGINTs so the same queries and decoding work on SQLite and PostgreSQL
-- through sqlx's Any driver. Statuses use FHIR R4 codes.

CREATE TABLE clinic (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    phone TEXT NOT NULL DEFAULT '',
    patient_group_name TEXT NOT NULL DEFAULT 'Patients',
    host_group_name TEXT NOT NULL DEFAULT 'Providers',
    pre_request_form TEXT NOT NULL DEFAULT '[]',
    late_cancel_window_minutes BIGINT NOT NULL DEFAULT 1440,
    late_reschedule_window_minutes BIGINT NOT NULL DEFAULT 1440,
    late_change_needs_approval BIGINT NOT NULL DEFAULT 0 CHECK (late_change_needs_approval IN (0, 1)),
    late_cancel_fee_cents BIGINT NOT NULL DEFAULT 0,
    pms_connector TEXT NOT NULL DEFAULT 'none'
        CHECK (pms_connector IN ('none', 'auto_cancel', 'manual_cancel')),
    created_at BIGINT NOT NULL
);

CREATE TABLE app_user (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    mobile TEXT NOT NULL DEFAULT '',
    time_zone TEXT NOT NULL DEFAULT 'UTC',
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE membership (
    user_id BIGINT NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
    clinic_id BIGINT NOT NULL REFERENCES clinic(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'scheduler', 'provider', 'patient')),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, clinic_id, role)
);
CREATE INDEX membership_clinic ON membership (clinic_id, role);

-- Server-side login sessions. Only a SHA-256 of the cookie token is stored.
CREATE TABLE user_session (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX user_session_user ON user_session (user_id);

CREATE TABLE service (
    id INTEGER PRIMARY KEY,
    clinic_id BIGINT NOT NULL REFERENCES clinic(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    duration_minutes BIGINT NOT NULL CHECK (duration_minutes > 0),
    payment_required BIGINT NOT NULL DEFAULT 0 CHECK (payment_required IN (0, 1)),
    price_cents BIGINT NOT NULL DEFAULT 0,
    active BIGINT NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    UNIQUE (clinic_id, name)
);

-- Weekly availability in the clinic's zone: weekday 0 = Monday; minutes from midnight.
CREATE TABLE availability_rule (
    id INTEGER PRIMARY KEY,
    provider_id BIGINT NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
    clinic_id BIGINT NOT NULL REFERENCES clinic(id) ON DELETE CASCADE,
    weekday BIGINT NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    start_minute BIGINT NOT NULL CHECK (start_minute BETWEEN 0 AND 1439),
    end_minute BIGINT NOT NULL CHECK (end_minute BETWEEN 1 AND 1440),
    CHECK (start_minute < end_minute)
);
CREATE INDEX availability_rule_provider ON availability_rule (provider_id, clinic_id);

CREATE TABLE availability_exception (
    id INTEGER PRIMARY KEY,
    provider_id BIGINT NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
    clinic_id BIGINT NOT NULL REFERENCES clinic(id) ON DELETE CASCADE,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    CHECK (starts_at < ends_at)
);

-- The on-demand "Available now" toggle.
CREATE TABLE on_demand (
    provider_id BIGINT NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
    clinic_id BIGINT NOT NULL REFERENCES clinic(id) ON DELETE CASCADE,
    available_now BIGINT NOT NULL DEFAULT 0 CHECK (available_now IN (0, 1)),
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (provider_id, clinic_id)
);

CREATE TABLE series (
    id INTEGER PRIMARY KEY,
    clinic_id BIGINT NOT NULL REFERENCES clinic(id) ON DELETE CASCADE,
    host_provider_id BIGINT NOT NULL REFERENCES app_user(id),
    rrule TEXT NOT NULL,
    -- first occurrence as local date-time in the clinic's zone (RFC 5545 DTSTART)
    dtstart_local TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE appointment (
    id INTEGER PRIMARY KEY,
    clinic_id BIGINT NOT NULL REFERENCES clinic(id),
    service_id BIGINT NOT NULL REFERENCES service(id),
    host_provider_id BIGINT NOT NULL REFERENCES app_user(id),
    patient_id BIGINT NOT NULL REFERENCES app_user(id),
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    status TEXT NOT NULL
        CHECK (status IN ('proposed', 'pending', 'booked', 'fulfilled', 'cancelled', 'noshow')),
    video_url TEXT NOT NULL DEFAULT '',
    meeting_id TEXT NOT NULL DEFAULT '',
    passcode TEXT NOT NULL DEFAULT '',
    location TEXT NOT NULL DEFAULT '',
    series_id BIGINT REFERENCES series(id),
    original_start BIGINT,
    version BIGINT NOT NULL DEFAULT 1,
    cancel_reason_code TEXT,
    cancel_text TEXT CHECK (cancel_text IS NULL OR length(cancel_text) <= 255),
    cancel_message TEXT,
    cancelled_by BIGINT REFERENCES app_user(id),
    cancelled_on_behalf_of BIGINT REFERENCES app_user(id),
    cancelled_at BIGINT,
    cancel_late BIGINT NOT NULL DEFAULT 0 CHECK (cancel_late IN (0, 1)),
    cancel_fee_cents BIGINT NOT NULL DEFAULT 0,
    noshow_kind TEXT CHECK (noshow_kind IS NULL OR noshow_kind IN ('fta', 'dna')),
    pms_sync_state TEXT NOT NULL DEFAULT 'none',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CHECK (starts_at < ends_at)
);
CREATE INDEX appointment_host_time ON appointment (host_provider_id, starts_at);
CREATE INDEX appointment_clinic_time ON appointment (clinic_id, starts_at);
CREATE INDEX appointment_patient ON appointment (patient_id, starts_at);
CREATE INDEX appointment_series ON appointment (series_id);

CREATE TABLE participant (
    appointment_id BIGINT NOT NULL REFERENCES appointment(id) ON DELETE CASCADE,
    provider_id BIGINT NOT NULL REFERENCES app_user(id),
    status TEXT NOT NULL DEFAULT 'needs-action'
        CHECK (status IN ('needs-action', 'accepted', 'declined')),
    PRIMARY KEY (appointment_id, provider_id)
);
CREATE INDEX participant_provider ON participant (provider_id);

CREATE TABLE request (
    id INTEGER PRIMARY KEY,
    clinic_id BIGINT NOT NULL REFERENCES clinic(id),
    kind TEXT NOT NULL CHECK (kind IN ('new_session', 'reschedule', 'cancel')),
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'accepted', 'declined', 'withdrawn')),
    requester_id BIGINT NOT NULL REFERENCES app_user(id),
    service_id BIGINT REFERENCES service(id),
    mode TEXT CHECK (mode IS NULL OR mode IN ('now', 'scheduled')),
    target_provider_id BIGINT REFERENCES app_user(id),
    -- JSON array of requested start times (unix seconds)
    requested_times TEXT NOT NULL DEFAULT '[]',
    form_answers TEXT NOT NULL DEFAULT '[]',
    note TEXT NOT NULL DEFAULT '',
    appointment_id BIGINT REFERENCES appointment(id),
    within_policy_window BIGINT NOT NULL DEFAULT 0 CHECK (within_policy_window IN (0, 1)),
    response TEXT,
    responder_id BIGINT REFERENCES app_user(id),
    responded_at BIGINT,
    result_appointment_id BIGINT REFERENCES appointment(id),
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL
);
CREATE INDEX request_queue ON request (clinic_id, status, kind, created_at);
CREATE INDEX request_requester ON request (requester_id, created_at);
-- A patient has at most one pending Now request per clinic.
CREATE UNIQUE INDEX request_one_pending_now ON request (requester_id, clinic_id)
    WHERE kind = 'new_session' AND mode = 'now' AND status = 'pending';

CREATE TABLE notification_preference (
    user_id BIGINT NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    PRIMARY KEY (user_id, event, channel)
);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    recipient_user_id BIGINT REFERENCES app_user(id),
    recipient TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'pms')),
    event TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    body_text TEXT NOT NULL DEFAULT '',
    body_html TEXT NOT NULL DEFAULT '',
    attachment TEXT,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

-- Append-only record of every state change.
CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at BIGINT NOT NULL,
    actor_id BIGINT REFERENCES app_user(id),
    on_behalf_of_id BIGINT REFERENCES app_user(id),
    clinic_id BIGINT REFERENCES clinic(id),
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id BIGINT NOT NULL,
    before_json TEXT,
    after_json TEXT
);
CREATE INDEX audit_entity ON audit (entity, entity_id);

-- The audit log is append-only: refuse edits and deletions outright.
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit entries cannot be changed');
END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit entries cannot be changed');
END;
