//! Paired comparisons of two models run on the same folds and seeds: the mean difference, a 95 %
//! bootstrap confidence interval and a sign-flip permutation p-value. Plain numbers in, plain
//! numbers out: no tensors, no runs (the experiment pairs the runs, `train::experiment::summarise`).
//! Also the quantiles graph scores read their null intervals from.
//!
//! Written here rather than taken from a crate: the two procedures are a few lines each, and the
//! statistics crates on crates.io (`statrs`, `hypors`) have neither a paired sign-flip test nor a
//! seeded bootstrap.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

/// Sample sizes up to this are tested exactly (all 2^n sign assignments, ≈ 10^6 sums); larger
/// ones by [`SIGN_FLIP_DRAWS`] random assignments.
const EXACT_SIGN_FLIP_MAX: usize = 20;
const SIGN_FLIP_DRAWS: usize = 20_000;
/// Bootstrap resamples behind a confidence interval.
const BOOTSTRAP_DRAWS: usize = 10_000;
/// The random draws are seeded, so the same runs give the same interval and p-value everywhere
/// (CLI, page, a re-read JSON).
const STATS_SEED: u64 = 0x5EED_57A7;

/// A model against a baseline on the same units (folds × seeds): `model − baseline` in the
/// metric's own units (so for MSE, negative is better; for accuracy, positive).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Paired {
    /// What the model is compared with: a model's name, or "persistence".
    pub baseline: String,
    /// Paired units (fold × seed) where both have a finite value.
    pub n: usize,
    /// Mean paired difference, model − baseline.
    pub diff: f64,
    /// 95 % percentile-bootstrap interval of the mean difference (resampling the units).
    pub ci: [f64; 2],
    /// Two-sided sign-flip permutation p-value of the mean difference (exact up to 20 units).
    pub p: f64,
}

impl Paired {
    /// `diffs` (model − baseline per unit; non-finite ones are dropped) compared with zero;
    /// `None` without a finite difference.
    pub fn of(baseline: &str, diffs: &[f64]) -> Option<Paired> {
        let d: Vec<f64> = diffs.iter().copied().filter(|v| v.is_finite()).collect();
        if d.is_empty() {
            return None;
        }
        Some(Paired { baseline: baseline.to_string(), n: d.len(), diff: mean(&d), ci: bootstrap_ci(&d, 0.95), p: sign_flip_p(&d) })
    }

    /// E.g. `−0.0040 [−0.0070, −0.0010], p = 0.03` (the sign as a true minus).
    pub fn text(&self) -> String {
        format!("{} [{}, {}], {}", signed(self.diff), signed(self.ci[0]), signed(self.ci[1]), p_text(self.p))
    }
}

fn signed(v: f64) -> String {
    let s = format!("{v:+.4}");
    s.replacen('-', "−", 1)
}

/// `p = 0.03` (two decimals; three below 0.01), and `p < 0.001` below that.
pub fn p_text(p: f64) -> String {
    if p < 0.001 {
        "p < 0.001".into()
    } else if p < 0.01 {
        format!("p = {p:.3}")
    } else {
        format!("p = {p:.2}")
    }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Two-sided p-value of a paired sign-flip permutation test: under the null that each unit's
/// difference is as likely positive as negative, the share of sign assignments whose |sum| is
/// at least the observed one. Exact (all 2^n assignments, the observed one included) for
/// n ≤ 20; otherwise `(1 + hits) / (1 + draws)` over random assignments. One unit gives 1.
pub fn sign_flip_p(diffs: &[f64]) -> f64 {
    let n = diffs.len();
    if n == 0 {
        return 1.0;
    }
    let observed = diffs.iter().sum::<f64>().abs();
    // sums equal up to rounding count as ties (at least as extreme)
    let bar = observed - 1e-9 * (1.0 + diffs.iter().map(|d| d.abs()).sum::<f64>());
    if n <= EXACT_SIGN_FLIP_MAX {
        // walk the assignments in Gray-code order: each differs from the last in one sign
        let mut signs = vec![1.0; n];
        let mut sum: f64 = diffs.iter().sum();
        let mut hits = usize::from(sum.abs() >= bar);
        let total = 1usize << n;
        for k in 1..total {
            let flip = k.trailing_zeros() as usize;
            sum -= 2.0 * signs[flip] * diffs[flip];
            signs[flip] = -signs[flip];
            hits += usize::from(sum.abs() >= bar);
        }
        return hits as f64 / total as f64;
    }
    let mut rng = StdRng::seed_from_u64(STATS_SEED);
    let mut bits = 0u64;
    let mut hits = 0;
    for _ in 0..SIGN_FLIP_DRAWS {
        let mut sum = 0.0;
        for (i, &d) in diffs.iter().enumerate() {
            if i % 64 == 0 {
                bits = rng.random();
            }
            sum += if bits >> (i % 64) & 1 == 1 { d } else { -d };
        }
        hits += usize::from(sum.abs() >= bar);
    }
    (1 + hits) as f64 / (1 + SIGN_FLIP_DRAWS) as f64
}

/// Percentile-bootstrap interval (`level`, e.g. 0.95) of the mean of `values`: resample the
/// values with replacement, take the mean, read the interval's quantiles off the resampled
/// means (linear interpolation between order statistics). With few values it is narrower than
/// the truth (simulated with normal values: 84 % coverage at 5 values, 91 % at 10, where 95 % is asked); the README says so.
pub fn bootstrap_ci(values: &[f64], level: f64) -> [f64; 2] {
    let n = values.len();
    if n == 0 {
        return [f64::NAN, f64::NAN];
    }
    if values.iter().all(|&v| v == values[0]) {
        return [values[0], values[0]];
    }
    let mut rng = StdRng::seed_from_u64(STATS_SEED);
    let mut means: Vec<f64> = (0..BOOTSTRAP_DRAWS).map(|_| (0..n).map(|_| values[rng.random_range(0..n)]).sum::<f64>() / n as f64).collect();
    let tail = (1.0 - level) / 2.0;
    // the page recomputes this as runs arrive: select the order statistics, not a full sort
    [selected_quantile(&mut means, tail), selected_quantile(&mut means, 1.0 - tail)]
}

/// [`quantile`] of unsorted values, reordering them (two selections instead of a sort).
fn selected_quantile(values: &mut [f64], q: f64) -> f64 {
    let at = q.clamp(0.0, 1.0) * (values.len() - 1) as f64;
    let lo = at.floor() as usize;
    let (_, &mut below, above) = values.select_nth_unstable_by(lo, f64::total_cmp);
    let next = above.iter().copied().min_by(f64::total_cmp).unwrap_or(below);
    below + (at - lo as f64) * (next - below)
}

/// The `q` quantile of sorted values, interpolating between order statistics (R's type 7).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    let at = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
    sorted[lo] + (at - lo as f64) * (sorted[hi] - sorted[lo])
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_distr::{Distribution, Normal};

    #[test]
    fn sign_flip_matches_hand_counts() {
        // ±1 ±2 ±3: sums 6, 0, 2, −4, 4, −2, 0, −6; |sum| ≥ |1 − 2 + 3| = 2 in 6 of 8
        assert_eq!(sign_flip_p(&[1.0, -2.0, 3.0]), 0.75);
        // only all-plus and all-minus reach |sum| = 6
        assert_eq!(sign_flip_p(&[1.0, 2.0, 3.0]), 0.25);
        // five units that agree: 2 of 32, the smallest p five folds can give
        assert_eq!(sign_flip_p(&[0.3; 5]), 2.0 / 32.0);
        // a sum of zero is matched by every assignment
        assert_eq!(sign_flip_p(&[1.0, -1.0]), 1.0);
        assert_eq!(sign_flip_p(&[0.5]), 1.0);
        // ties up to rounding count: 0.1 + 0.2 − 0.3 is not exactly 0 in floating point
        assert_eq!(sign_flip_p(&[0.1, 0.2, -0.3]), 1.0);
    }

    #[test]
    fn bootstrap_matches_hand_cases() {
        // means of resamples of {0, 1}: 0 (¼), ½ (½), 1 (¼); the 2.5 % and 97.5 % points are 0 and 1
        assert_eq!(bootstrap_ci(&[0.0, 1.0], 0.95), [0.0, 1.0]);
        assert_eq!(bootstrap_ci(&[0.3; 4], 0.95), [0.3, 0.3]);
        // a 0 % interval is the median of the resampled means: ½
        let mid = bootstrap_ci(&[0.0, 1.0], 0.0);
        assert_eq!(mid, [0.5, 0.5]);
        // many values from N(2, 1): the interval is about mean ± 1.96/√n
        let normal = Normal::new(2.0, 1.0).expect("valid normal");
        let mut rng = StdRng::seed_from_u64(1);
        let v: Vec<f64> = (0..400).map(|_| normal.sample(&mut rng)).collect();
        let [lo, hi] = bootstrap_ci(&v, 0.95);
        let m = mean(&v);
        assert!((m - lo - 0.098).abs() < 0.015 && (hi - m - 0.098).abs() < 0.015, "interval [{lo}, {hi}] around {m}");
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.5), 2.5);
        // selecting gives the sorted quantiles
        let mut shuffled = [4.0, 1.0, 3.0, 2.0, 7.5];
        for q in [0.0, 0.025, 0.3, 0.5, 0.975, 1.0] {
            assert_eq!(selected_quantile(&mut shuffled, q), quantile(&[1.0, 2.0, 3.0, 4.0, 7.5], q), "q = {q}");
        }
    }

    /// Under the null (differences symmetric about zero) p-values are uniform: 5 % of them fall
    /// at or below 0.05, half below one half; with a real shift they are small.
    #[test]
    fn null_p_values_are_uniform_and_a_shift_is_found() {
        let normal = Normal::new(0.0, 1.0).expect("valid normal");
        let mut rng = StdRng::seed_from_u64(7);
        for n in [10usize, 24] {
            let trials = if n > EXACT_SIGN_FLIP_MAX { 200 } else { 2000 };
            let ps: Vec<f64> = (0..trials).map(|_| sign_flip_p(&(0..n).map(|_| normal.sample(&mut rng)).collect::<Vec<_>>())).collect();
            let share = |x: f64| ps.iter().filter(|&&p| p <= x).count() as f64 / trials as f64;
            let sd = |x: f64| (x * (1.0 - x) / trials as f64).sqrt();
            for x in [0.05, 0.2, 0.5, 0.8] {
                assert!((share(x) - x).abs() < 4.0 * sd(x) + 0.005, "n = {n}: {:.3} of null p-values ≤ {x}", share(x));
            }
        }
        let shifted: Vec<f64> = (0..12).map(|_| 1.5 + normal.sample(&mut rng)).collect();
        assert!(sign_flip_p(&shifted) < 0.01);
        let p = Paired::of("MLP", &shifted).expect("finite");
        assert!(p.ci[0] > 0.0 && p.ci[0] < p.diff && p.diff < p.ci[1], "{p:?}");
    }

    #[test]
    fn paired_drops_non_finite_and_reads_well() {
        let p = Paired::of("MLP", &[-0.004, f64::NAN, -0.004, -0.004]).expect("finite values");
        assert_eq!((p.n, p.ci, p.p), (3, [-0.004, -0.004], 0.25));
        assert_eq!(p.text(), "−0.0040 [−0.0040, −0.0040], p = 0.25");
        assert_eq!(Paired::of("MLP", &[f64::NAN]), None);
        assert_eq!(p_text(0.0004), "p < 0.001");
        assert_eq!((p_text(0.0312), p_text(0.0062)), ("p = 0.03".to_string(), "p = 0.006".to_string()));
    }
}
