//! What a comparison measures: the metrics (binary ones compared by McNemar's exact test,
//! continuous ones by the mean paired delta with a seeded bootstrap) and their deltas over the
//! pairs, overall and per sol.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{count, join, CompareOptions, Pair};
use crate::score::AttemptScores;
use crate::stats::{bootstrap_mean, mcnemar_exact, median};

/// Binary metrics are rates compared by McNemar's test; continuous ones are mean paired deltas
/// with a bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// A yes/no per attempt.
    Binary,
    /// A number per attempt (possibly absent).
    Continuous,
}

/// What is compared. The serialised and `--fail-on` names are [`Metric::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// A route passed the checker.
    AcceptedRate,
    /// The first submitted route passed.
    AcceptedFirstSubmitRate,
    /// The outcome matched the suite's expectation (pairs where both sides have one).
    ExpectationMetRate,
    /// Route cost over the baseline optimum.
    CostRatio,
    /// Distance from the route's end to the goal, metres.
    GoalErrorM,
    /// Fréchet distance to the reference route, metres.
    FrechetM,
    /// Route length, metres.
    RouteLengthM,
    /// Model turns.
    Turns,
    /// Tool calls.
    ToolCalls,
    /// Input tokens.
    InputTokens,
    /// Output tokens.
    OutputTokens,
    /// USD spent.
    CostUsd,
    /// Wall time, seconds.
    WallS,
    /// Submissions after the first.
    Revisions,
    /// Hazards the model marked.
    MarksMade,
    /// Area IoU of the model's blocking marks against the blocking ground truth.
    MarkBlockingIou,
    /// Share of the route's length within 5 m of true blocking hazards.
    RouteNearHazardShare,
}

impl Metric {
    /// Every metric, binary ones first, in the order tables print them.
    pub const ALL: [Metric; 17] = [
        Metric::AcceptedRate,
        Metric::AcceptedFirstSubmitRate,
        Metric::ExpectationMetRate,
        Metric::CostRatio,
        Metric::GoalErrorM,
        Metric::FrechetM,
        Metric::RouteLengthM,
        Metric::Turns,
        Metric::ToolCalls,
        Metric::InputTokens,
        Metric::OutputTokens,
        Metric::CostUsd,
        Metric::WallS,
        Metric::Revisions,
        Metric::MarksMade,
        Metric::MarkBlockingIou,
        Metric::RouteNearHazardShare,
    ];

    /// The name used in tables, JSON and `--fail-on`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Metric::AcceptedRate => "accepted_rate",
            Metric::AcceptedFirstSubmitRate => "accepted_first_submit_rate",
            Metric::ExpectationMetRate => "expectation_met_rate",
            Metric::CostRatio => "cost_ratio",
            Metric::GoalErrorM => "goal_error_m",
            Metric::FrechetM => "frechet_m",
            Metric::RouteLengthM => "route_length_m",
            Metric::Turns => "turns",
            Metric::ToolCalls => "tool_calls",
            Metric::InputTokens => "input_tokens",
            Metric::OutputTokens => "output_tokens",
            Metric::CostUsd => "cost_usd",
            Metric::WallS => "wall_s",
            Metric::Revisions => "revisions",
            Metric::MarksMade => "marks_made",
            Metric::MarkBlockingIou => "mark_blocking_iou",
            Metric::RouteNearHazardShare => "route_near_hazard_share",
        }
    }

    /// Every metric's name, comma-separated (for error messages and help).
    #[must_use]
    pub fn known() -> String {
        join(Metric::ALL.iter().map(|m| m.name()))
    }

    /// Binary or continuous.
    #[must_use]
    pub fn kind(self) -> MetricKind {
        match self {
            Metric::AcceptedRate | Metric::AcceptedFirstSubmitRate | Metric::ExpectationMetRate => {
                MetricKind::Binary
            }
            _ => MetricKind::Continuous,
        }
    }

    /// A binary metric's value for one attempt (`None` for continuous metrics, or when the
    /// attempt has no expectation).
    #[must_use]
    pub fn flag(self, s: &AttemptScores) -> Option<bool> {
        match self {
            Metric::AcceptedRate => Some(s.accepted),
            Metric::AcceptedFirstSubmitRate => Some(s.accepted_first_submit),
            Metric::ExpectationMetRate => s.expectation_met,
            _ => None,
        }
    }

    /// A continuous metric's value for one attempt (`None` for binary metrics, when absent, or
    /// when not finite).
    #[must_use]
    pub fn value(self, s: &AttemptScores) -> Option<f64> {
        let v = match self {
            Metric::AcceptedRate | Metric::AcceptedFirstSubmitRate | Metric::ExpectationMetRate => {
                None
            }
            Metric::CostRatio => s.cost_ratio,
            Metric::GoalErrorM => s.goal_error_m,
            Metric::FrechetM => s.frechet_m,
            Metric::RouteLengthM => s.route_length_m,
            Metric::Turns => Some(f64::from(s.turns)),
            Metric::ToolCalls => Some(f64::from(s.tool_calls)),
            Metric::InputTokens => Some(s.input_tokens as f64),
            Metric::OutputTokens => Some(s.output_tokens as f64),
            Metric::CostUsd => Some(s.cost_usd),
            Metric::WallS => Some(s.wall_s),
            Metric::Revisions => Some(f64::from(s.revisions)),
            Metric::MarksMade => s.perception.as_ref().map(|p| f64::from(p.marks)),
            Metric::MarkBlockingIou => s.perception.as_ref().and_then(|p| p.blocking_area_iou),
            Metric::RouteNearHazardShare => {
                s.perception.as_ref().and_then(|p| p.route_near_hazard_share)
            }
        };
        v.filter(|x| x.is_finite())
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Metric {
    type Err = ();

    fn from_str(s: &str) -> Result<Metric, ()> {
        Metric::ALL.into_iter().find(|m| m.name() == s).ok_or(())
    }
}

/// A binary metric compared: rates over the pairs where both sides have a value, and McNemar's
/// exact test on the discordant pairs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinaryDelta {
    /// Which metric.
    pub metric: Metric,
    /// Pairs where both sides have a value.
    pub n: u32,
    /// A's rate over those pairs.
    pub a_rate: Option<f64>,
    /// B's rate over those pairs.
    pub b_rate: Option<f64>,
    /// `b_rate − a_rate`.
    pub delta: Option<f64>,
    /// Pairs where both are true.
    pub both: u32,
    /// Pairs true in A only (discordant).
    pub only_a: u32,
    /// Pairs true in B only (discordant).
    pub only_b: u32,
    /// Pairs where both are false.
    pub neither: u32,
    /// Two-sided exact McNemar p-value (`None` without pairs).
    pub p_value: Option<f64>,
}

/// A continuous metric compared: the mean paired delta over pairs where both sides have a value,
/// with a bootstrap interval and p-value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContinuousDelta {
    /// Which metric.
    pub metric: Metric,
    /// Pairs where both sides have a value.
    pub n: u32,
    /// A's mean over those pairs.
    pub a_mean: Option<f64>,
    /// B's mean over those pairs.
    pub b_mean: Option<f64>,
    /// Mean of `B − A`.
    pub delta: Option<f64>,
    /// 95% percentile bootstrap interval of the mean delta (`None` under two pairs).
    pub ci: Option<[f64; 2]>,
    /// Two-sided bootstrap p-value of "the mean delta is 0" (`None` under two pairs).
    pub p_value: Option<f64>,
}

/// One sol's pairs compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SolDelta {
    /// The sol.
    pub sol: String,
    /// Its pairs.
    pub pairs: u32,
    /// A's acceptance rate over them.
    pub a_accepted_rate: f64,
    /// B's acceptance rate over them.
    pub b_accepted_rate: f64,
    /// `b − a`.
    pub accepted_delta: f64,
    /// A's median cost ratio over them (`None` when no attempt has one).
    pub a_median_cost_ratio: Option<f64>,
    /// B's median cost ratio over them.
    pub b_median_cost_ratio: Option<f64>,
    /// `b − a` of the medians.
    pub cost_ratio_delta: Option<f64>,
}

pub(super) fn binary_delta(metric: Metric, pairs: &[Pair<'_>]) -> BinaryDelta {
    let (mut both, mut only_a, mut only_b, mut neither) = (0u32, 0u32, 0u32, 0u32);
    for p in pairs {
        match (metric.flag(p.a), metric.flag(p.b)) {
            (Some(true), Some(true)) => both += 1,
            (Some(true), Some(false)) => only_a += 1,
            (Some(false), Some(true)) => only_b += 1,
            (Some(false), Some(false)) => neither += 1,
            _ => {}
        }
    }
    let n = both + only_a + only_b + neither;
    let rate = |k: u32| (n > 0).then(|| f64::from(k) / f64::from(n));
    let (a_rate, b_rate) = (rate(both + only_a), rate(both + only_b));
    BinaryDelta {
        metric,
        n,
        a_rate,
        b_rate,
        delta: a_rate.zip(b_rate).map(|(x, y)| y - x),
        both,
        only_a,
        only_b,
        neither,
        p_value: (n > 0).then(|| mcnemar_exact(only_a, only_b)),
    }
}

pub(super) fn continuous_delta(
    metric: Metric,
    pairs: &[Pair<'_>],
    options: &CompareOptions,
    stream: u64,
) -> ContinuousDelta {
    let values: Vec<(f64, f64)> =
        pairs.iter().filter_map(|p| metric.value(p.a).zip(metric.value(p.b))).collect();
    let mean = |f: &dyn Fn(&(f64, f64)) -> f64| {
        (!values.is_empty()).then(|| values.iter().map(f).sum::<f64>() / values.len() as f64)
    };
    let deltas: Vec<f64> = values.iter().map(|(x, y)| y - x).collect();
    // One stream per metric: a metric's interval does not depend on which others are computed.
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    rng.set_stream(stream);
    let boot = bootstrap_mean(&deltas, options.resamples, &mut rng);
    ContinuousDelta {
        metric,
        n: count(values.len()),
        a_mean: mean(&|v| v.0),
        b_mean: mean(&|v| v.1),
        delta: mean(&|v| v.1 - v.0),
        ci: boot.map(|b| b.ci),
        p_value: boot.map(|b| b.p_value),
    }
}

pub(super) fn per_sol(pairs: &[Pair<'_>]) -> Vec<SolDelta> {
    let mut by_sol: BTreeMap<&str, Vec<&Pair<'_>>> = BTreeMap::new();
    for p in pairs {
        by_sol.entry(p.sol).or_default().push(p);
    }
    by_sol
        .into_iter()
        .map(|(sol, ps)| {
            let n = ps.len() as f64;
            let rate =
                |f: &dyn Fn(&Pair<'_>) -> bool| ps.iter().filter(|p| f(p)).count() as f64 / n;
            let (ra, rb) = (rate(&|p| p.a.accepted), rate(&|p| p.b.accepted));
            let ma = median(ps.iter().filter_map(|p| p.a.cost_ratio));
            let mb = median(ps.iter().filter_map(|p| p.b.cost_ratio));
            SolDelta {
                sol: sol.to_owned(),
                pairs: count(ps.len()),
                a_accepted_rate: ra,
                b_accepted_rate: rb,
                accepted_delta: rb - ra,
                a_median_cost_ratio: ma,
                b_median_cost_ratio: mb,
                cost_ratio_delta: ma.zip(mb).map(|(x, y)| y - x),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_round_trip() {
        for m in Metric::ALL {
            assert_eq!(m.name().parse::<Metric>(), Ok(m));
            assert_eq!(serde_json::to_value(m).unwrap(), m.name());
        }
        assert_eq!(Metric::ALL.iter().filter(|m| m.kind() == MetricKind::Binary).count(), 3);
    }
}
