//! Laying out the Schedule grid: which days a view covers, which hours the
//! grid shows, and how overlapping appointments share a column.

use chrono::{Datelike, Duration, NaiveDate};

/// The Monday of the week holding `d` (weeks run Monday to Sunday).
pub fn week_start(d: NaiveDate) -> NaiveDate {
    d - Duration::days(i64::from(d.weekday().num_days_from_monday()))
}

/// The hours the grid shows: 07:00–19:00, widened to fit every item.
/// Items are (start, end) in minutes from midnight.
pub fn grid_hours(items: impl IntoIterator<Item = (i64, i64)>) -> (u32, u32) {
    let (mut first, mut last) = (7 * 60, 19 * 60);
    for (s, e) in items {
        first = first.min(s);
        last = last.max(e);
    }
    let first = (first.clamp(0, 24 * 60) / 60) as u32;
    let last = ((last.clamp(0, 24 * 60) + 59) / 60) as u32;
    (first, last.max(first + 1))
}

/// Side-by-side lanes for items in one column: each item gets a lane, and
/// every item in a cluster of mutually overlapping items gets the cluster's
/// lane count, so they split the column width between them. Items are
/// (start, end), half-open; the result is in the same order.
pub fn assign_lanes(items: &[(i64, i64)]) -> Vec<(u32, u32)> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|&i| (items[i].0, items[i].1));
    let mut out = vec![(0u32, 1u32); items.len()];
    let mut cluster: Vec<usize> = Vec::new();
    let mut lane_ends: Vec<i64> = Vec::new();
    let mut cluster_end = i64::MIN;
    let close = |cluster: &mut Vec<usize>, lanes: usize, out: &mut Vec<(u32, u32)>| {
        for &i in cluster.iter() {
            out[i].1 = lanes as u32;
        }
        cluster.clear();
    };
    for i in order {
        let (s, e) = items[i];
        if s >= cluster_end && !cluster.is_empty() {
            close(&mut cluster, lane_ends.len(), &mut out);
            lane_ends.clear();
        }
        let lane = match lane_ends.iter().position(|&end| end <= s) {
            Some(l) => {
                lane_ends[l] = e;
                l
            }
            None => {
                lane_ends.push(e);
                lane_ends.len() - 1
            }
        };
        out[i].0 = lane as u32;
        cluster.push(i);
        cluster_end = if cluster.len() == 1 {
            e
        } else {
            cluster_end.max(e)
        };
    }
    close(&mut cluster, lane_ends.len(), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday() {
        let wed = NaiveDate::from_ymd_opt(2026, 3, 4).unwrap();
        let mon = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        assert_eq!(week_start(wed), mon);
        assert_eq!(week_start(mon), mon);
        let sun = NaiveDate::from_ymd_opt(2026, 3, 8).unwrap();
        assert_eq!(week_start(sun), mon);
    }

    #[test]
    fn grid_widens_to_fit_items() {
        assert_eq!(grid_hours([]), (7, 19));
        assert_eq!(grid_hours([(9 * 60, 10 * 60)]), (7, 19));
        assert_eq!(grid_hours([(6 * 60 + 30, 7 * 60 + 30)]), (6, 19));
        assert_eq!(grid_hours([(20 * 60, 20 * 60 + 15)]), (7, 21));
        assert_eq!(grid_hours([(23 * 60, 24 * 60)]), (7, 24));
    }

    #[test]
    fn separate_items_keep_the_full_width() {
        // Back-to-back is not an overlap.
        let l = assign_lanes(&[(60, 90), (90, 120), (200, 230)]);
        assert_eq!(l, vec![(0, 1), (0, 1), (0, 1)]);
    }

    #[test]
    fn overlapping_items_share_the_column() {
        // 9:00-10:00 and 9:30-10:30 overlap; 10:00-11:00 can reuse lane 0.
        let l = assign_lanes(&[(540, 600), (570, 630), (600, 660), (700, 720)]);
        assert_eq!(l, vec![(0, 2), (1, 2), (0, 2), (0, 1)]);
    }

    #[test]
    fn lanes_are_given_in_input_order() {
        let l = assign_lanes(&[(570, 630), (540, 600)]);
        assert_eq!(l, vec![(1, 2), (0, 2)]);
    }

    #[test]
    fn three_way_overlap_needs_three_lanes() {
        let l = assign_lanes(&[(0, 100), (10, 50), (20, 60)]);
        assert_eq!(l, vec![(0, 3), (1, 3), (2, 3)]);
    }
}
