//! A sliding-window counter for login attempts.
//!
//! Pure: the caller passes "now" (from the injectable clock) so tests can
//! walk through the window without sleeping.

use std::collections::{HashMap, VecDeque};

#[derive(Debug, Clone)]
pub struct SlidingWindow {
    max: usize,
    window_secs: i64,
    hits: HashMap<String, VecDeque<i64>>,
}

impl SlidingWindow {
    pub fn new(max: usize, window_secs: i64) -> Self {
        Self {
            max,
            window_secs,
            hits: HashMap::new(),
        }
    }

    fn prune(&mut self, key: &str, now: i64) {
        if let Some(q) = self.hits.get_mut(key) {
            while q.front().is_some_and(|t| *t <= now - self.window_secs) {
                q.pop_front();
            }
            if q.is_empty() {
                self.hits.remove(key);
            }
        }
    }

    /// Seconds until another attempt is allowed, or `None` if it is allowed now.
    pub fn blocked_for(&mut self, key: &str, now: i64) -> Option<i64> {
        self.prune(key, now);
        let q = self.hits.get(key)?;
        if q.len() >= self.max {
            q.front().map(|first| first + self.window_secs - now)
        } else {
            None
        }
    }

    pub fn record(&mut self, key: &str, now: i64) {
        self.prune(key, now);
        self.hits.entry(key.to_string()).or_default().push_back(now);
        // Keep memory bounded when a key is hammered.
        if let Some(q) = self.hits.get_mut(key) {
            while q.len() > self.max {
                q.pop_front();
            }
        }
    }

    pub fn clear(&mut self, key: &str) {
        self.hits.remove(key);
    }

    /// Drops every key whose window has passed (called now and then).
    pub fn sweep(&mut self, now: i64) {
        let w = self.window_secs;
        self.hits
            .retain(|_, q| q.back().is_some_and(|t| *t > now - w));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_max_and_reopens_after_window() {
        let mut w = SlidingWindow::new(3, 60);
        for t in 0..3 {
            assert_eq!(w.blocked_for("k", t), None);
            w.record("k", t);
        }
        assert_eq!(w.blocked_for("k", 10), Some(50));
        assert_eq!(w.blocked_for("other", 10), None, "keys are independent");
        assert_eq!(w.blocked_for("k", 59), Some(1));
        assert_eq!(
            w.blocked_for("k", 60),
            None,
            "the first hit left the window"
        );
    }

    #[test]
    fn clear_and_sweep() {
        let mut w = SlidingWindow::new(1, 60);
        w.record("a", 0);
        w.record("b", 30);
        assert!(w.blocked_for("a", 1).is_some());
        w.clear("a");
        assert!(w.blocked_for("a", 1).is_none());
        w.sweep(95);
        assert!(w.hits.is_empty());
    }
}
