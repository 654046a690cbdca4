//! The dominant point of the point-set targets (seed 002) and the hops of the
//! generator's mass between points: the two-point analysis counts them as a sign of
//! oscillation instead of a split, the four-point one as the "chase" between points.

/// A point *dominates* a log step when it holds at least this fraction of the samples.
/// 0.4 is the lower end of the two-point split band (0.5 − the split tolerance 0.1),
/// so a dominant point holds at least a split's share; for four points it is above the
/// top of the uniform band (0.25 + 0.1), so a dominant point means the mass is
/// concentrated, not spread.
pub const DOMINANT: f64 = 0.4;

/// Changes of the dominant point along per-point mass series `m[k][i]` (point k, log
/// step i). At a step without a dominant point the last one is kept (a pass through
/// the uniform state is not a hop); when two points hold ≥ [`DOMINANT`] at once (only
/// possible near a two-point split) the first counts.
#[must_use]
pub fn dominant_switches(m: &[Vec<f64>]) -> usize {
    let len = m.iter().map(Vec::len).min().unwrap_or(0);
    let mut prev: Option<usize> = None;
    let mut switches = 0;
    for i in 0..len {
        if let Some(k) = m.iter().position(|mk| mk[i] >= DOMINANT) {
            if prev.is_some_and(|p| p != k) {
                switches += 1;
            }
            prev = Some(k);
        }
    }
    switches
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two points, the mass at point 0 given by `left`, the rest at point 1.
    fn two(left: &[f64]) -> Vec<Vec<f64>> {
        vec![left.to_vec(), left.iter().map(|l| 1.0 - l).collect()]
    }

    #[test]
    fn hops_count_changes_of_the_dominant_point() {
        // 0 → 1 → 0 → 1: three hops.
        assert_eq!(dominant_switches(&two(&[0.9, 0.1, 0.9, 0.1])), 3);
        // Staying on one point: none.
        assert_eq!(dominant_switches(&two(&[0.9, 0.8, 0.95])), 0);
        // Four points visited in turn, with non-dominant (spread) steps between.
        let m = vec![
            vec![0.7, 0.25, 0.1, 0.1, 0.1],
            vec![0.1, 0.25, 0.7, 0.1, 0.1],
            vec![0.1, 0.25, 0.1, 0.7, 0.1],
            vec![0.1, 0.25, 0.1, 0.1, 0.7],
        ];
        assert_eq!(dominant_switches(&m), 3);
        // Leaving and coming back through a spread step is no hop.
        let m = vec![vec![0.7, 0.25, 0.7], vec![0.1, 0.25, 0.1]];
        assert_eq!(dominant_switches(&m), 0);
    }

    #[test]
    fn the_dominance_threshold_is_inclusive_and_sharp() {
        // Point 1 reaches exactly DOMINANT: a hop; just below: none.
        let at = vec![vec![0.6, 0.3], vec![0.3, DOMINANT]];
        assert_eq!(dominant_switches(&at), 1);
        let below = vec![vec![0.6, 0.3], vec![0.3, DOMINANT - 1e-9]];
        assert_eq!(dominant_switches(&below), 0);
        // Both points ≥ DOMINANT (a near-split): the first one counts, so a split
        // after a collapse on point 0 is no hop, after one on point 1 it is one.
        assert_eq!(dominant_switches(&two(&[0.9, 0.5])), 0);
        assert_eq!(dominant_switches(&two(&[0.1, 0.5])), 1);
        assert_eq!(dominant_switches(&[]), 0);
    }
}
