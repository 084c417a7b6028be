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
    fn touch_is_throttled() {
        assert_eq!(P.check(0, 100, 159), SessionCheck::Valid { touch: false });
        assert_eq!(P.check(0, 100, 160), SessionCheck::Valid { touch: true });
    }
}
