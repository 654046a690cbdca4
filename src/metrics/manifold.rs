//! k-nearest-neighbour manifold metrics: precision and recall for generative models
//! (Kynkäänniemi et al. 2019) and density and coverage (Naeem et al. 2020).
//!
//! Both estimate the support of a point set X as the union of balls B(x, NN_k(x)) around
//! its points, where NN_k(x) is the distance from x to its k-th nearest neighbour among the
//! other points of X. With real (target) points R, generated points G, radii r_i for R and
//! s_j for G:
//!
//! - precision = (1/|G|) Σ_j 1[∃ i: ‖g_j − r_i‖ ≤ r_i]  (how much of G lies on R's manifold);
//! - recall    = (1/|R|) Σ_i 1[∃ j: ‖r_i − g_j‖ ≤ s_j]  (how much of R lies on G's manifold);
//! - density   = 1/(k|G|) Σ_j Σ_i 1[‖g_j − r_i‖ < r_i]  (how many real balls hold each fake;
//!   its expectation is 1 when G and R have the same distribution, and it can exceed 1);
//! - coverage  = (1/|R|) Σ_i 1[min_j ‖r_i − g_j‖ < r_i]  (the share of real balls that hold
//!   at least one fake).
//!
//! Where the references differ, each metric follows its own authors' code, which is what their
//! published numbers use:
//! - the radius NN_k excludes the point itself. Both codes take the (k+1)-th smallest distance
//!   of a row that includes the point's own zero distance; that is the k-th smallest distance to
//!   the other points, duplicates included (`kynkaat/improved-precision-and-recall-metric`,
//!   `precision_recall.py`, `ManifoldEstimator`: `np.partition(D, seq)[:, nhood_sizes]`;
//!   `clovaai/generative-evaluation-prdc`, `prdc/prdc.py`: `get_kth_value(d, k + 1)`);
//! - precision and recall test `≤` (Kynkäänniemi's `distance_batch <= self.D`), density and
//!   coverage test strict `<` (Naeem's `distance_real_fake < radii`). The two differ only on
//!   exact ties, which continuous samples hit with probability 0;
//! - distances are compared squared (monotone, so the same decisions; the Kynkäänniemi code
//!   also compares squared distances).
//!
//! Neighbours are exact (brute force, O(nm·d) per pass, four passes). Rows are processed in
//! parallel with rayon, but every row's result is a boolean, an integer count or a radius that
//! does not depend on which thread computed it, and integer totals are order-free; so the
//! results are bit-identical for any number of threads (tested).

use rayon::prelude::*;
use serde::Serialize;

use super::points::{Points, sq_dist};
use crate::error::{Error, Result};

/// Default neighbourhood size k = 3: Kynkäänniemi et al.'s default (`nhood_sizes=[3]` in
/// their code). Naeem et al. 2020 use k = 5 in their experiments; we use one k for all four
/// metrics and keep 3.
pub const DEFAULT_K: usize = 3;

/// The four k-NN manifold metrics of generated points against target points.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ManifoldScores {
    /// Neighbourhood size used for the radii.
    pub k: usize,
    /// Precision (Kynkäänniemi et al. 2019): share of generated points inside some target
    /// point's k-NN ball (`≤`). In [0, 1].
    pub precision: f64,
    /// Recall (Kynkäänniemi et al. 2019): share of target points inside some generated point's
    /// k-NN ball (`≤`). In [0, 1].
    pub recall: f64,
    /// Density (Naeem et al. 2020): mean over generated points of the number of target k-NN
    /// balls holding it (`<`), divided by k. ≥ 0, ≈ 1 for matching distributions.
    pub density: f64,
    /// Coverage (Naeem et al. 2020): share of target points whose k-NN ball (`<`) holds at
    /// least one generated point. In [0, 1].
    pub coverage: f64,
}

/// Checks that every point of a set of `n` has k neighbours among the others: 1 ≤ k < n.
pub(crate) fn check_k(key: &str, n: usize, k: usize) -> Result<()> {
    if k == 0 {
        return Err(Error::param("k", "k = 0: the k-NN radius needs k ≥ 1"));
    }
    if k >= n {
        return Err(Error::param(
            "k",
            format!(
                "k = {k} needs at least k + 1 = {} points in each set (a point's k-th nearest \
                 neighbour among the others), but `{key}` has {n}",
                k + 1
            ),
        ));
    }
    Ok(())
}

/// Largest k for which the k-th smallest distance of a row is kept by insertion into a
/// sorted list of k (O(n) per row in practice, since most distances exceed the current k-th);
/// above it a full row is partitioned (`select_nth_unstable`, O(n) per row, but it fills an
/// n-vector first). Both give the same value: the k-th smallest of a multiset is unique.
const INSERTION_MAX_K: usize = 32;

/// Squared distance from every point of `p` to its k-th nearest neighbour among the other
/// points (duplicates count as neighbours at distance 0). Needs 1 ≤ k < n (checked by the
/// callers through [`check_k`]).
pub(crate) fn knn_radii_sq(p: &Points, k: usize) -> Vec<f64> {
    let others = |i: usize| {
        let xi = p.row(i);
        (0..p.n)
            .filter(move |&j| j != i)
            .map(move |j| sq_dist(xi, p.row(j)))
    };
    if k <= INSERTION_MAX_K {
        (0..p.n)
            .into_par_iter()
            .map(|i| {
                let mut best = [f64::INFINITY; INSERTION_MAX_K];
                let best = &mut best[..k];
                for d2 in others(i) {
                    if d2 < best[k - 1] {
                        // Insert d2 into the sorted list, dropping the largest.
                        let mut at = k - 1;
                        while at > 0 && best[at - 1] > d2 {
                            best[at] = best[at - 1];
                            at -= 1;
                        }
                        best[at] = d2;
                    }
                }
                best[k - 1]
            })
            .collect()
    } else {
        (0..p.n)
            .into_par_iter()
            .map_init(
                || Vec::with_capacity(p.n),
                |buf, i| {
                    buf.clear();
                    buf.extend(others(i));
                    let (_, kth, _) = buf.select_nth_unstable_by(k - 1, f64::total_cmp);
                    *kth
                },
            )
            .collect()
    }
}

/// Distances from every point of `p` to its k-th nearest neighbour among the other points of
/// `p` (the radii of the k-NN manifold estimate), for points given as rows of `x`.
///
/// # Errors
/// [`Error::Param`] for an empty or non-finite set (key `points`) or k outside 1 ≤ k < n
/// (key `k`).
pub fn knn_radii(x: &nalgebra::DMatrix<f64>, k: usize) -> Result<Vec<f64>> {
    let p = Points::from_matrix("points", x)?;
    check_k("points", p.n, k)?;
    Ok(knn_radii_sq(&p, k).into_iter().map(f64::sqrt).collect())
}

/// Precision, recall, density and coverage of generated points `samples` against `target`
/// (rows = points), with k-NN radii (see the module docs for the definitions and their
/// sources).
///
/// # Errors
/// [`Error::Param`] for an empty or non-finite set (key `samples` or `target`), or k outside
/// 1 ≤ k < n for either set (key `k`); [`Error::Dimension`] when the sets differ in dimension.
pub fn manifold_scores(
    samples: &nalgebra::DMatrix<f64>,
    target: &nalgebra::DMatrix<f64>,
    k: usize,
) -> Result<ManifoldScores> {
    let g = Points::from_matrix("samples", samples)?;
    let r = Points::from_matrix("target", target)?;
    if g.d != r.d {
        return Err(Error::Dimension {
            what: "target points".into(),
            got: r.d,
            expected: g.d,
        });
    }
    check_k("samples", g.n, k)?;
    check_k("target", r.n, k)?;
    Ok(manifold_scores_points(&g, &r, k))
}

/// [`manifold_scores`] on validated point sets of one dimension with 1 ≤ k < n.
pub(crate) fn manifold_scores_points(g: &Points, r: &Points, k: usize) -> ManifoldScores {
    let rad_r = knn_radii_sq(r, k);
    let rad_g = knn_radii_sq(g, k);
    // Pass over generated points: on R's manifold (≤) and the number of real balls (<).
    let per_fake: Vec<(bool, usize)> = (0..g.n)
        .into_par_iter()
        .map(|j| {
            let gj = g.row(j);
            let mut inside = false;
            let mut count = 0usize;
            for (i, ri) in rad_r.iter().enumerate() {
                let d2 = sq_dist(gj, r.row(i));
                inside |= d2 <= *ri;
                count += usize::from(d2 < *ri);
            }
            (inside, count)
        })
        .collect();
    // Pass over real points: on G's manifold (≤), and nearest fake inside the own ball (<).
    let per_real: Vec<(bool, bool)> = (0..r.n)
        .into_par_iter()
        .map(|i| {
            let ri = r.row(i);
            let mut inside = false;
            let mut nearest = f64::INFINITY;
            for (j, sj) in rad_g.iter().enumerate() {
                let d2 = sq_dist(ri, g.row(j));
                inside |= d2 <= *sj;
                nearest = nearest.min(d2);
            }
            (inside, nearest < rad_r[i])
        })
        .collect();
    let (gn, rn) = (g.n as f64, r.n as f64);
    let precise = per_fake.iter().filter(|(a, _)| *a).count();
    let balls: usize = per_fake.iter().map(|(_, c)| c).sum();
    let recalled = per_real.iter().filter(|(a, _)| *a).count();
    let covered = per_real.iter().filter(|(_, c)| *c).count();
    ManifoldScores {
        k,
        precision: precise as f64 / gn,
        recall: recalled as f64 / rn,
        density: balls as f64 / (k as f64 * gn),
        coverage: covered as f64 / rn,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasets::Dataset;
    use crate::linalg::rng;
    use nalgebra::DMatrix;

    /// Points on the x axis from their abscissae (the exact examples are 1-D in a 2-D space).
    fn on_axis(xs: &[f64]) -> DMatrix<f64> {
        DMatrix::from_fn(xs.len(), 2, |i, j| if j == 0 { xs[i] } else { 0.0 })
    }

    #[test]
    fn identical_sets_have_full_precision_recall_and_coverage() {
        let x: DMatrix<f64> = Dataset::Grid25.build().unwrap().sample(&mut rng(3, 0), 500);
        let s = manifold_scores(&x, &x, 3).unwrap();
        // Every point is its own neighbour at distance 0 ≤ (and <) its positive radius.
        assert_eq!((s.precision, s.recall, s.coverage), (1.0, 1.0, 1.0));
        assert!(
            s.density >= 1.0 / 3.0,
            "each point lies in at least its own ball"
        );
    }

    #[test]
    fn far_apart_sets_score_zero() {
        let x: DMatrix<f64> = Dataset::Ring8.build().unwrap().sample(&mut rng(4, 0), 300);
        let y = x.map(|v| v + 100.0);
        let s = manifold_scores(&x, &y, 3).unwrap();
        assert_eq!(
            (s.precision, s.recall, s.density, s.coverage),
            (0.0, 0.0, 0.0, 0.0)
        );
    }

    #[test]
    fn hand_counted_example_with_ties() {
        // k = 1. Target R = {0, 1, 3, 7}: radii (distance to the nearest other point)
        // 0 → 1, 1 → 1, 3 → 2, 7 → 4.
        // Samples G = {−1, 2, 5, 20}: radii −1 → 3, 2 → 3, 5 → 3, 20 → 15.
        // precision (≤ r_i): −1: |−1−0| = 1 ≤ 1 yes (a tie); 2: |2−1| = 1 ≤ 1 yes;
        //   5: |5−3| = 2 ≤ 2 yes (tie), |5−7| = 2 ≤ 4 yes; 20: 13 > 4 no  → 3/4.
        // recall (≤ s_j): 0: |0−(−1)| = 1 ≤ 3 yes; 1: yes; 3: |3−2| = 1 ≤ 3 yes;
        //   7: |7−5| = 2 ≤ 3 yes                                          → 4/4.
        // density (< r_i), balls holding each sample: −1: 0 (1 < 1 no), 1 (2 < 1 no),
        //   3 (4 < 2 no), 7 (8 < 4 no) → 0; 2: 0 (2 < 1 no), 1 (1 < 1 no), 3 (1 < 2 yes),
        //   7 (5 < 4 no) → 1; 5: 3 (2 < 2 no), 7 (2 < 4 yes) → 1; 20: 0 → (0+1+1+0)/4 = 1/2.
        // coverage (nearest sample < r_i): 0: 1 < 1 no; 1: 1 < 1 no; 3: 1 < 2 yes;
        //   7: 2 < 4 yes                                                  → 2/4.
        let r = on_axis(&[0.0, 1.0, 3.0, 7.0]);
        let g = on_axis(&[-1.0, 2.0, 5.0, 20.0]);
        let s = manifold_scores(&g, &r, 1).unwrap();
        assert_eq!(
            (s.precision, s.recall, s.density, s.coverage),
            (0.75, 1.0, 0.5, 0.5)
        );
        assert_eq!(knn_radii(&r, 1).unwrap(), vec![1.0, 1.0, 2.0, 4.0]);
        assert_eq!(knn_radii(&r, 3).unwrap(), vec![7.0, 6.0, 4.0, 7.0]);
        // A duplicate is a neighbour at distance 0.
        assert_eq!(
            knn_radii(&on_axis(&[0.0, 0.0, 5.0]), 1).unwrap(),
            vec![0.0, 0.0, 5.0]
        );
    }

    /// Tolerance on the mean density and coverage of two independent 2000-point draws of the
    /// same distribution: both are means of 2000 indicators or counts whose standard
    /// deviations are ≈ 0.33/√2000 ≈ 0.0074 (coverage) and ≈ 0.02 (density, counts of ≈ k
    /// correlated balls); 0.05 is more than five of either.
    const SAME_DISTRIBUTION_TOL: f64 = 0.05;

    #[test]
    fn same_distribution_matches_naeems_expectations() {
        // Naeem et al. 2020 (their analytic expectations for identical distributions):
        // E[density] = 1, and E[coverage] = 1 − C(N−1, k)/C(N+M−1, k): a real point's ball
        // misses every fake iff its k nearest among the N−1 other reals and M fakes are all
        // real. With N = M = 2000 and k = 3 that is 1 − Π_{i<3} (1999−i)/(3999−i) ≈ 0.8752.
        let d = Dataset::Grid25.build().unwrap();
        let (n, k) = (2000usize, 3usize);
        let a: DMatrix<f64> = d.sample(&mut rng(5, 0), n);
        let b: DMatrix<f64> = d.sample(&mut rng(5, 1), n);
        let s = manifold_scores(&a, &b, k).unwrap();
        let miss: f64 = (0..k)
            .map(|i| (n - 1 - i) as f64 / (2 * n - 1 - i) as f64)
            .product();
        assert!(
            (s.coverage - (1.0 - miss)).abs() < SAME_DISTRIBUTION_TOL,
            "{s:?}"
        );
        assert!((s.density - 1.0).abs() < SAME_DISTRIBUTION_TOL, "{s:?}");
        // Precision and recall have no closed form here; in 2-D with k = 3 nearly every point
        // falls in a neighbour's ball (a sanity bound, not a definition check).
        assert!(s.precision > 0.8 && s.recall > 0.8, "{s:?}");
    }

    #[test]
    fn insertion_and_partition_radii_agree() {
        // The same k-th smallest distance from both code paths, on either side of the
        // threshold (exact: both return one of the computed distances).
        let x: DMatrix<f64> = Dataset::Grid25.build().unwrap().sample(&mut rng(8, 0), 200);
        let p = Points::from_matrix("x", &x).unwrap();
        for k in [1, 3, INSERTION_MAX_K, INSERTION_MAX_K + 1, 150] {
            let fast = knn_radii_sq(&p, k);
            let slow: Vec<f64> = (0..p.n)
                .map(|i| {
                    let mut d: Vec<f64> = (0..p.n)
                        .filter(|&j| j != i)
                        .map(|j| sq_dist(p.row(i), p.row(j)))
                        .collect();
                    d.sort_by(f64::total_cmp);
                    d[k - 1]
                })
                .collect();
            assert_eq!(fast, slow, "k = {k}");
        }
    }

    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        let d = Dataset::Ring8.build().unwrap();
        let a: DMatrix<f64> = d.sample(&mut rng(6, 0), 700);
        let b: DMatrix<f64> = d.sample(&mut rng(6, 1), 600);
        let run = |t: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .unwrap()
                .install(|| manifold_scores(&a, &b, 3).unwrap())
        };
        let (one, two, four) = (run(1), run(2), run(4));
        assert_eq!(one, two);
        assert_eq!(one, four);
    }

    #[test]
    fn bad_inputs_are_refused_with_their_key() {
        let x = on_axis(&[0.0, 1.0, 2.0]);
        let e = manifold_scores(&x, &x, 3).unwrap_err().to_string();
        assert!(
            e.contains("`k`") && e.contains("k = 3") && e.contains("has 3"),
            "{e}"
        );
        assert!(manifold_scores(&x, &x, 0).is_err());
        let e = manifold_scores(&x, &DMatrix::zeros(3, 3), 1)
            .unwrap_err()
            .to_string();
        assert!(e.contains("3 coordinates, expected 2"), "{e}");
        let e = manifold_scores(&DMatrix::zeros(0, 2), &x, 1)
            .unwrap_err()
            .to_string();
        assert!(e.contains("samples") && e.contains("empty"), "{e}");
        let mut bad = x.clone();
        bad[(1, 0)] = f64::NAN;
        let e = manifold_scores(&x, &bad, 1).unwrap_err().to_string();
        assert!(e.contains("target") && e.contains("point 1"), "{e}");
    }
}
