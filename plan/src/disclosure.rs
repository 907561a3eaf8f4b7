//! Disclosure control of every cell that counts people: the one function every people-count
//! table of a plan goes through ([`suppress`]), in the terminal, the CSV and Parquet files and
//! the HTML report alike.
//!
//! Rule (docs/planning.md, "Disclosure control"): a count that rounds to 1 … k−1 people
//! (k = the threshold, 10 by default; the same for a difference between two options) is
//! suppressed (primary suppression); then, within every group of cells that add up (a total
//! and its parts: residents = robust + prefrail + frail, certified = the seven levels, new
//! certifications = the seven levels, a band's residents = men + women), a group with exactly
//! one hidden cell hides one more, the smallest visible non-zero part (or the total), so the
//! hidden one cannot be recovered by subtraction (complementary suppression); repeated until
//! no group has a single hidden cell. Zero is shown: it reveals no one.
//!
//! Must never: let a suppressed value reach an output (callers write `None` / `*` for a
//! hidden cell and its interval).

/// Cells that add up within one row: (the total's index, its parts' indices).
pub type Group = (usize, Vec<usize>);

/// Whether `v` (people, possibly fractional) is below the threshold once rounded.
pub fn below(v: f64, k: u64) -> bool {
    let r = v.abs().round();
    r >= 1.0 && r < k as f64
}

/// The cells of one row of people counts to hide: `row[i]` is a count (`None`: not a count
/// of people, never hidden), `groups` the sums within the row, `k` the threshold.
pub fn suppress(row: &[Option<f64>], groups: &[Group], k: u64) -> Vec<bool> {
    let mut hidden: Vec<bool> = row.iter().map(|v| v.is_some_and(|x| below(x, k))).collect();
    loop {
        let mut changed = false;
        for (total, parts) in groups {
            let cells: Vec<usize> = std::iter::once(*total)
                .chain(parts.iter().copied())
                .filter(|&i| row.get(i).is_some_and(|v| v.is_some()))
                .collect();
            let n_hidden = cells.iter().filter(|&&i| hidden[i]).count();
            if n_hidden != 1 {
                continue;
            }
            // The smallest visible non-zero part, else the total.
            let pick = parts
                .iter()
                .copied()
                .filter(|&i| !hidden[i])
                .filter_map(|i| row.get(i).copied().flatten().map(|v| (i, v.abs())))
                .filter(|&(_, v)| v.round() >= 1.0)
                .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)))
                .map(|(i, _)| i)
                .or_else(|| (!hidden[*total]).then_some(*total));
            if let Some(i) = pick {
                hidden[i] = true;
                changed = true;
            }
        }
        if !changed {
            return hidden;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_counts_and_their_complements_are_hidden() {
        // total = a + b + c; b is 4 (below 10): hide b, then the smallest other part (c).
        let row = vec![Some(100.0), Some(60.0), Some(4.0), Some(36.0), None];
        let groups = vec![(0, vec![1, 2, 3])];
        assert_eq!(
            suppress(&row, &groups, 10),
            vec![false, false, true, true, false]
        );
        // Two small parts protect each other.
        let row = vec![Some(100.0), Some(92.0), Some(4.0), Some(4.0)];
        assert_eq!(suppress(&row, &groups, 10), vec![false, false, true, true]);
        // Zero and ten are shown; 9.4 rounds to 9 and is hidden.
        assert!(!below(0.0, 10) && !below(9.5, 10) && below(9.4, 10) && below(-3.0, 10));
        // A small total with large parts is impossible; a hidden total hides a part.
        let row = vec![Some(5.0), Some(0.0), Some(5.0), Some(0.0)];
        let h = suppress(&row, &groups, 10);
        assert!(h[0] && h[2], "{h:?}");
    }

    #[test]
    fn no_group_is_left_with_a_single_hidden_cell() {
        let groups = vec![(0, vec![1, 2, 3, 4]), (5, vec![6, 7])];
        for seed in 0..500u64 {
            let mut row: Vec<Option<f64>> = (0..8)
                .map(|i| Some(((seed * 7919 + i * 104_729) % 23) as f64))
                .collect();
            // Totals are the sums of their parts, as in every plan table.
            for (t, parts) in &groups {
                row[*t] = Some(parts.iter().map(|&i| row[i].unwrap()).sum());
            }
            let h = suppress(&row, &groups, 10);
            for (t, parts) in &groups {
                let n = std::iter::once(t).chain(parts).filter(|&&i| h[i]).count();
                assert_ne!(n, 1, "row {row:?} hidden {h:?}");
            }
            for (i, v) in row.iter().enumerate() {
                if below(v.unwrap(), 10) {
                    assert!(h[i]);
                }
            }
        }
    }
}
