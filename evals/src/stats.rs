//! The statistics of evals, pure functions: rates with 95% Wilson score intervals, medians and
//! quartiles of a cell's scores, and the paired tests of a comparison (McNemar's exact test,
//! a seeded bootstrap of the mean delta).

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// A rate with its 95% Wilson score interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    /// Successes.
    pub k: u32,
    /// Trials.
    pub n: u32,
    /// `k / n` (0 when `n` is 0).
    pub p: f64,
    /// Lower end of the 95% interval.
    pub lo: f64,
    /// Upper end of the 95% interval.
    pub hi: f64,
}

/// `k` successes in `n` trials with the 95% Wilson score interval (`[0, 1]` when `n` is 0).
#[must_use]
pub fn wilson(k: u32, n: u32) -> Rate {
    if n == 0 {
        return Rate { k, n, p: 0.0, lo: 0.0, hi: 1.0 };
    }
    let z = 1.959_963_984_540_054_f64;
    let (kf, nf) = (f64::from(k.min(n)), f64::from(n));
    let p = kf / nf;
    let z2 = z * z;
    let denom = 1.0 + z2 / nf;
    let centre = (p + z2 / (2.0 * nf)) / denom;
    let half = z / denom * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt();
    Rate { k, n, p, lo: (centre - half).max(0.0), hi: (centre + half).min(1.0) }
}

/// The median of the finite values (`None` when there are none).
#[must_use]
pub fn median(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 { v[n / 2] } else { f64::midpoint(v[n / 2 - 1], v[n / 2]) })
}

/// The middle half of some values: quartiles by linear interpolation between order statistics
/// (the usual "type 7" definition), the median between them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Quartiles {
    /// First quartile.
    pub p25: f64,
    /// Median.
    pub median: f64,
    /// Third quartile.
    pub p75: f64,
}

/// The quartiles of the finite `values`, `None` when there are none.
#[must_use]
pub fn quartiles(values: impl IntoIterator<Item = f64>) -> Option<Quartiles> {
    let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let at = |q: f64| quantile(&v, q);
    Some(Quartiles { p25: at(0.25), median: at(0.5), p75: at(0.75) })
}

/// A bootstrap of a mean.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bootstrap {
    /// 95% percentile interval.
    pub ci: [f64; 2],
    /// Two-sided p-value of "the mean is 0".
    pub p_value: f64,
}

/// Paired bootstrap of the mean of `deltas`: `resamples` resamples with replacement give the 95%
/// percentile interval, and the same resamples, shifted to a zero mean (the null hypothesis),
/// give the two-sided p-value `(1 + #{|m* − m̄| ≥ |m̄|}) / (resamples + 1)` (never 0: a finite
/// number of resamples cannot prove more). `None` under two values (no spread to resample)
/// or without resamples.
#[must_use]
pub fn bootstrap_mean(deltas: &[f64], resamples: u32, rng: &mut ChaCha8Rng) -> Option<Bootstrap> {
    let n = deltas.len();
    if n < 2 || resamples == 0 {
        return None;
    }
    let observed = deltas.iter().sum::<f64>() / n as f64;
    let mut means: Vec<f64> = (0..resamples)
        .map(|_| (0..n).map(|_| deltas[rng.gen_range(0..n)]).sum::<f64>() / n as f64)
        .collect();
    // Resampled means within rounding of the observed one count as "as extreme" only when the
    // observed mean is itself 0, so identical sides give p = 1 and constant shifts do not.
    let tol = 1e-12 * observed.abs().max(1.0);
    let extreme = means.iter().filter(|m| (*m - observed).abs() >= observed.abs() - tol).count();
    means.sort_by(f64::total_cmp);
    Some(Bootstrap {
        ci: [quantile(&means, 0.025), quantile(&means, 0.975)],
        p_value: (1.0 + extreme as f64) / (f64::from(resamples) + 1.0),
    })
}

/// The `q` quantile of sorted values (at least one), interpolating linearly between ranks: the
/// usual "type 7" definition, as R and numpy. The quartiles and the bootstrap interval both use it.
#[must_use]
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - pos.floor())
}

/// Two-sided exact McNemar p-value: of the `only_a + only_b` discordant pairs, how likely a split
/// at least this uneven is when either side is equally likely to win each one (a two-sided
/// binomial test at p = ½), capped at 1.
///
/// ```
/// use breadcrumb_evals::stats::mcnemar_exact;
/// assert!((mcnemar_exact(10, 2) - 0.038_574_218_75).abs() < 1e-12);
/// assert_eq!(mcnemar_exact(4, 4), 1.0);
/// ```
#[must_use]
pub fn mcnemar_exact(only_a: u32, only_b: u32) -> f64 {
    let n = only_a + only_b;
    if n == 0 {
        return 1.0;
    }
    (2.0 * binomial_half_cdf(n, only_a.min(only_b))).min(1.0)
}

/// `P(X ≤ k)` for `X ~ Binomial(n, ½)`, summing `C(n, i) / 2ⁿ` with the binomial coefficients
/// built up in log space, so thousands of pairs neither overflow nor lose the small terms.
fn binomial_half_cdf(n: u32, k: u32) -> f64 {
    let ln_2n = f64::from(n) * std::f64::consts::LN_2;
    let mut ln_c = 0.0f64;
    let mut sum = 0.0f64;
    for i in 0..=k.min(n) {
        if i > 0 {
            ln_c += f64::from(n - i + 1).ln() - f64::from(i).ln();
        }
        sum += (ln_c - ln_2n).exp();
    }
    sum.min(1.0)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn quartiles_interpolate_between_order_statistics() {
        // 1..=5: quartiles 2, 3, 4 exactly; 1..=4: 1.75, 2.5, 3.25 (type 7, as R and numpy).
        let q = quartiles([5.0, 1.0, 3.0, 2.0, 4.0]).unwrap();
        assert_eq!((q.p25, q.median, q.p75), (2.0, 3.0, 4.0));
        let q = quartiles([4.0, 1.0, 3.0, 2.0, f64::NAN]).unwrap();
        assert_eq!((q.p25, q.median, q.p75), (1.75, 2.5, 3.25));
        assert_eq!(q.median, median([1.0, 2.0, 3.0, 4.0]).unwrap());
        let one = quartiles([7.0]).unwrap();
        assert_eq!((one.p25, one.median, one.p75), (7.0, 7.0, 7.0));
        assert!(quartiles([f64::INFINITY]).is_none());
    }

    #[test]
    fn wilson_matches_known_values() {
        // 8 of 10: the textbook interval is [0.490, 0.943].
        let r = wilson(8, 10);
        assert!((r.p - 0.8).abs() < 1e-12);
        assert!((r.lo - 0.4902).abs() < 1e-3, "{r:?}");
        assert!((r.hi - 0.9433).abs() < 1e-3, "{r:?}");
        // 0 of 10 and 10 of 10 stay inside [0, 1] and are not degenerate.
        let z = wilson(0, 10);
        assert_eq!(z.lo, 0.0);
        assert!((z.hi - 0.2775).abs() < 1e-3, "{z:?}");
        let all = wilson(10, 10);
        assert!((all.lo - 0.7225).abs() < 1e-3 && (all.hi - 1.0).abs() < 1e-12, "{all:?}");
        assert_eq!(wilson(0, 0), Rate { k: 0, n: 0, p: 0.0, lo: 0.0, hi: 1.0 });
    }

    #[test]
    fn median_of_the_finite_values() {
        assert_eq!(median([3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median([4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median([f64::NAN]), None);
    }

    #[test]
    fn mcnemar_matches_exact_binomial_values() {
        // Reference values are exact sums of C(n, i) / 2^n (Python `fractions`).
        for (b, c, p) in [
            (10, 2, 0.038_574_218_75),
            (2, 10, 0.038_574_218_75),
            (0, 5, 0.0625),
            (25, 40, 0.081_681_533_941_540_05),
            (400, 500, 0.000_956_444_136_918_946_1),
        ] {
            let got = mcnemar_exact(b, c);
            assert!((got - p).abs() <= 1e-9 * p, "b={b} c={c}: {got} vs {p}");
        }
        for (b, c) in [(0, 0), (1, 0), (3, 3), (6, 5), (1000, 1000)] {
            assert_eq!(mcnemar_exact(b, c), 1.0, "b={b} c={c}");
        }
        // Far in the tail it is tiny but positive, never NaN.
        let tail = mcnemar_exact(0, 3000);
        assert!((0.0..1e-300).contains(&tail), "{tail}");
        assert!(mcnemar_exact(1, 3000) < 1e-300);
    }

    #[test]
    fn bootstrap_is_deterministic_and_finds_a_clear_shift() {
        // A: a spread of values; B: A shifted by +1 with a little noise of its own.
        let a: Vec<f64> = (0..40).map(|i| f64::from((i * 37) % 23) / 4.0).collect();
        let b: Vec<f64> = a
            .iter()
            .zip(0..40)
            .map(|(x, i)| x + 1.0 + f64::from((i * 11) % 7 - 3) / 10.0)
            .collect();
        let deltas: Vec<f64> = b.iter().zip(&a).map(|(y, x)| y - x).collect();
        let run = |seed: u64| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            bootstrap_mean(&deltas, 2000, &mut rng).unwrap()
        };
        let (x, y) = (run(7), run(7));
        assert_eq!(x, y, "same seed, same answer");
        let mean = deltas.iter().sum::<f64>() / 40.0;
        assert!(x.ci[0] < mean && mean < x.ci[1], "{x:?} around {mean}");
        assert!(x.ci[0] > 0.8 && x.ci[1] < 1.2, "{x:?}");
        assert!((x.p_value - 1.0 / 2001.0).abs() < 1e-12, "no resample reaches 0: {x:?}");
        assert_ne!(run(8).ci, x.ci, "another seed resamples differently");

        // No shift: symmetric deltas around 0 give a wide interval over 0 and a large p.
        let zero: Vec<f64> = (0..40).map(|i| f64::from(i % 9) - 4.0).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let z = bootstrap_mean(&zero, 2000, &mut rng).unwrap();
        assert!(z.ci[0] < 0.0 && z.ci[1] > 0.0, "{z:?}");
        assert!(z.p_value > 0.5, "{z:?}");

        // Identical sides: every delta 0, p = 1.
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let same = bootstrap_mean(&[0.0; 10], 500, &mut rng).unwrap();
        assert_eq!((same.ci, same.p_value), ([0.0, 0.0], 1.0));
        assert!(bootstrap_mean(&[1.0], 500, &mut rng).is_none(), "one pair has no spread");
    }
}
