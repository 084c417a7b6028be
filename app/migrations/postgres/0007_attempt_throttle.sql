-- Attempt limits shared by every instance and kept across restarts
-- (issue 13): per key ("login-account:<email>", "login-address:<ip>",
-- "register-address:<ip>") the attempts counted in the current window,
-- finished failures and reservations still in progress alike.
CREATE TABLE attempt_throttle (
    key TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    used BIGINT NOT NULL
);
