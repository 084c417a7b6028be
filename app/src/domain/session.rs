//! When a login session is still good.
//!
//! A session dies after `idle` without activity or `absolute` after login,
//! whichever comes first. Activity is recorded at most once per
//! `touch_every` so a busy page does not turn every read into a write.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionPolicy {
    pub idle_secs: i64,
    pub absolute_secs: i64,
    pub touch_every_secs: i64,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle_secs: 30 * 60,
            absolute_secs: 12 * 60 * 60,
            touch_every_secs: 60,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionCheck {
    /// Valid; `touch` says whether to record activity now.
    Valid {
        touch: bool,
    },
    IdleExpired,
    AbsoluteExpired,
}

impl SessionPolicy {
    /// A policy whose activity is recorded often enough to keep an active
    /// session alive: every tenth of the idle limit, at most once a minute
    /// (a fixed minute never extended a session with a 1-minute idle limit).
    pub fn new(idle_secs: i64, absolute_secs: i64) -> Self {
        Self {
            idle_secs,
            absolute_secs,
            touch_every_secs: (idle_secs / 10).clamp(1, 60),
        }
    }

    /// All times are unix seconds.
    pub fn check(&self, created_at: i64, last_seen_at: i64, now: i64) -> SessionCheck {
        if now >= created_at + self.absolute_secs {
            SessionCheck::AbsoluteExpired
        } else if now >= last_seen_at + self.idle_secs {
            SessionCheck::IdleExpired
        } else {
            SessionCheck::Valid {
                touch: now - last_seen_at >= self.touch_every_secs,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: SessionPolicy = SessionPolicy {
        idle_secs: 1800,
        absolute_secs: 43200,
        touch_every_secs: 60,
    };

    #[test]
    fn idle_boundary_is_exclusive() {
        assert_eq!(P.check(0, 0, 1799), SessionCheck::Valid { touch: true });
        assert_eq!(P.check(0, 0, 1800), SessionCheck::IdleExpired);
    }

    #[test]
    fn absolute_lifetime_wins_over_activity() {
        assert_eq!(
            P.check(0, 43199, 43199),
            SessionCheck::Valid { touch: false }
        );
        assert_eq!(P.check(0, 43199, 43200), SessionCheck::AbsoluteExpired);
    }

    #[test]
    fn activity_extends_even_a_one_minute_session() {
        let p = SessionPolicy::new(60, 3600);
        assert_eq!(p.touch_every_secs, 6);
        // Active every 30 s: each check records activity, so it never idles out.
        let mut last_seen = 0;
        for now in (30..600).step_by(30) {
            match p.check(0, last_seen, now) {
                SessionCheck::Valid { touch: true } => last_seen = now,
                other => panic!("at {now}: {other:?}"),
            }
        }
        assert_eq!(SessionPolicy::new(30 * 60, 43200).touch_every_secs, 60);
        assert_eq!(SessionPolicy::new(5, 43200).touch_every_secs, 1);
    }

    #[test]
    fn touch_is_throttled() {
        assert_eq!(P.check(0, 100, 159), SessionCheck::Valid { touch: false });
        assert_eq!(P.check(0, 100, 160), SessionCheck::Valid { touch: true });
    }
}
