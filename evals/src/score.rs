//! Scores: per attempt (from a [`RunReport`] and what is known of the sol) and per matrix cell
//! (rates with 95% Wilson intervals, medians and quartiles from [`crate::stats`]). Pure
//! functions, no I/O.

use std::collections::BTreeMap;

use breadcrumb_agent::session::{RunReport, RunStatus};
use breadcrumb_tools::geometry::{distance as dist, polyline_length, Pt};
use geo::{FrechetDistance, LineString};
use serde::{Deserialize, Serialize};

use crate::perception::PerceptionScores;
use crate::stats::{median, quartiles, wilson, Quartiles, Rate};
use crate::suite::Expect;

/// What scoring an attempt needs besides its report.
#[derive(Debug, Clone, Default)]
pub struct ScoreInputs {
    /// The sol's goal.
    pub goal: Pt,
    /// The expected outcome, if the suite says.
    pub expect: Option<Expect>,
    /// The baseline planner's optimal cost (none when it found no safe route).
    pub baseline_cost: Option<f64>,
    /// The cost of the attempt's last route under the cost model (`CostGrid::path_cost`).
    pub route_cost: Option<f64>,
    /// The reference route, if there is one.
    pub reference: Option<Vec<Pt>>,
    /// The site's ground truth for perception (`None`: not scored).
    pub truth: Option<std::sync::Arc<Vec<breadcrumb_tools::terrain::Hazard>>>,
    /// The baseline classifier over the sol's area scored against the truth, when it ran.
    pub classifier: Option<std::sync::Arc<crate::perception::ClassifierScores>>,
}

/// Every score of one attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptScores {
    /// `accepted`, `rejected` or `error`.
    pub status: String,
    /// A route passed the checker.
    pub accepted: bool,
    /// The first submitted route passed.
    pub accepted_first_submit: bool,
    /// Whether the outcome matched the suite's expectation (`None` without one).
    pub expectation_met: Option<bool>,
    /// Routes submitted.
    pub submits: u32,
    /// Submissions after the first.
    pub revisions: u32,
    /// Distance from the last route's end to the goal, metres.
    pub goal_error_m: Option<f64>,
    /// Length of the last route, metres.
    pub route_length_m: Option<f64>,
    /// Its cost under the cost model (none when infeasible or no route).
    pub cost: Option<f64>,
    /// `cost / baseline optimum`.
    pub cost_ratio: Option<f64>,
    /// Largest tilt the checker saw, degrees.
    pub max_tilt_deg: Option<f64>,
    /// Smallest clearance to a blocking hazard, metres.
    pub min_hazard_clearance_m: Option<f64>,
    /// Discrete Fréchet distance to the reference route (both densified to 1 m), metres.
    pub frechet_m: Option<f64>,
    /// Whether the digital twin passed the last route (`None`: not driven, or a store older
    /// than the twin).
    #[serde(default)]
    pub twin_pass: Option<bool>,
    /// The twin's margins on the last route: smallest belly clearance (its lower bound), m.
    #[serde(default)]
    pub twin_min_clearance_m: Option<f64>,
    /// Largest bogie angle, degrees.
    #[serde(default)]
    pub twin_max_bogie_deg: Option<f64>,
    /// Largest differential (rocker) angle, degrees.
    #[serde(default)]
    pub twin_max_rocker_deg: Option<f64>,
    /// Largest wheel drop between poses, metres.
    #[serde(default)]
    pub twin_max_wheel_drop_m: Option<f64>,
    /// Drive time at the profile's speed and turn rate, seconds.
    #[serde(default)]
    pub twin_drive_s: Option<f64>,
    /// The model's marks and the baseline classifier scored against the site's ground truth
    /// (`None`: the sol has no ground truth, or a store older than perception).
    #[serde(default)]
    pub perception: Option<PerceptionScores>,
    /// Model turns.
    pub turns: u32,
    /// Tool calls.
    pub tool_calls: u32,
    /// Tool calls by tool.
    pub tool_calls_by_tool: BTreeMap<String, u32>,
    /// Input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Image tokens.
    pub image_tokens: u64,
    /// USD spent.
    pub cost_usd: f64,
    /// Retried requests.
    pub retries: u32,
    /// Wall time, seconds.
    pub wall_s: f64,
    /// Why it was not accepted (`None` when accepted).
    pub failure_reason: Option<String>,
}

fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite())
}

/// Scores one attempt.
#[must_use]
pub fn score_attempt(report: &RunReport, inputs: &ScoreInputs) -> AttemptScores {
    let accepted = report.status == RunStatus::Accepted;
    let route = report.waypoints.as_deref().filter(|w| !w.is_empty());
    let summary = report.verdict.as_ref().map(|v| &v.summary);
    let cost = finite(route.and(inputs.route_cost));
    let t = &report.totals;
    let twin = report.twin.as_ref();
    let twin_worst = |rule: &str| twin.and_then(|v| v.worst(rule));
    AttemptScores {
        status: report.status.as_str().to_owned(),
        accepted,
        accepted_first_submit: report.accepted_first_submit,
        expectation_met: inputs.expect.map(|e| (e == Expect::Accepted) == accepted),
        submits: report.submits,
        revisions: report.submits.saturating_sub(1),
        goal_error_m: route.and_then(|w| w.last()).map(|p| dist(*p, inputs.goal)),
        route_length_m: route.map(polyline_length),
        cost,
        cost_ratio: finite(cost.zip(inputs.baseline_cost.filter(|b| *b > 0.0)).map(|(c, b)| c / b)),
        max_tilt_deg: summary.and_then(|s| s.max_tilt_deg),
        min_hazard_clearance_m: summary.and_then(|s| s.min_hazard_clearance_m),
        frechet_m: route
            .zip(inputs.reference.as_deref())
            .and_then(|(a, b)| frechet(&densify(a, 1.0), &densify(b, 1.0))),
        twin_pass: twin.map(|v| v.pass),
        twin_min_clearance_m: twin_worst("belly_clearance"),
        twin_max_bogie_deg: twin_worst("bogie"),
        twin_max_rocker_deg: twin_worst("differential"),
        twin_max_wheel_drop_m: twin_worst("wheel_drop"),
        twin_drive_s: twin.map(|v| v.summary.duration_s).filter(|d| d.is_finite()),
        perception: perception_scores(report, inputs, route),
        turns: t.turns,
        tool_calls: t.tool_calls,
        tool_calls_by_tool: report.tool_calls_by_tool.clone(),
        input_tokens: t.input_tokens,
        output_tokens: t.output_tokens,
        image_tokens: t.image_tokens,
        cost_usd: t.cost_usd,
        retries: t.retries,
        wall_s: report.elapsed_s,
        failure_reason: (!accepted).then(|| report.reason.clone()),
    }
}

/// The attempt's perception against the sol's ground truth, when it has one.
fn perception_scores(
    report: &RunReport,
    inputs: &ScoreInputs,
    route: Option<&[Pt]>,
) -> Option<PerceptionScores> {
    let truth = inputs.truth.as_deref()?;
    let marks: Vec<_> =
        report.marks.iter().enumerate().filter_map(|(i, m)| m.to_hazard(i)).collect();
    let mut p = crate::perception::score_attempt(truth, &marks, route);
    if let Some(c) = inputs.classifier.as_deref() {
        p.classifier_by_class.clone_from(&c.by_class);
        p.classifier_blocking_area_iou = c.blocking_area_iou;
    }
    Some(p)
}

/// The polyline with points added so that no two consecutive ones are more than `step` apart.
#[must_use]
pub fn densify(points: &[Pt], step: f64) -> Vec<Pt> {
    let mut out = Vec::with_capacity(points.len());
    if let Some(first) = points.first() {
        out.push(*first);
    }
    for w in points.windows(2) {
        let n = if step > 0.0 { (dist(w[0], w[1]) / step).ceil().max(1.0) as usize } else { 1 };
        for i in 1..=n {
            let f = i as f64 / n as f64;
            out.push((w[0].0 + f * (w[1].0 - w[0].0), w[0].1 + f * (w[1].1 - w[0].1)));
        }
    }
    out
}

/// Discrete Fréchet distance between two point sequences (Eiter & Mannila); `None` when either
/// is empty. geo's [`FrechetDistance`] is the same recurrence over the same Euclidean distances
/// and gives the very same numbers (tested below against the hand-made cases and a two-row
/// implementation); it keeps the whole `a.len() x b.len()` table, 8 MB for two 1 km routes
/// densified to 1 m, which is fine at drive scale.
#[must_use]
pub fn frechet(a: &[Pt], b: &[Pt]) -> Option<f64> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let line = |p: &[Pt]| LineString::from(p.to_vec());
    Some(line(a).frechet_distance(&line(b)))
}

/// How widely a cell's continuous scores spread: their quartiles.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Spreads {
    /// Cost ratio to the baseline optimum.
    pub cost_ratio: Option<Quartiles>,
    /// Goal error, metres.
    pub goal_error_m: Option<Quartiles>,
    /// Fréchet distance to the reference route, metres.
    pub frechet_m: Option<Quartiles>,
    /// Turns.
    pub turns: Option<Quartiles>,
    /// Tool calls.
    pub tool_calls: Option<Quartiles>,
    /// Wall time, seconds.
    pub wall_s: Option<Quartiles>,
    /// USD per attempt.
    pub cost_usd: Option<Quartiles>,
}

/// The summary of one matrix cell (one model, one prompt, over every sol and repeat).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellSummary {
    /// Attempts scored.
    pub attempts: u32,
    /// Accepted attempts.
    pub accepted: Rate,
    /// Accepted on the first submission.
    pub accepted_first_submit: Rate,
    /// Outcome matched the suite's expectation (over attempts that have one).
    pub expectation_met: Rate,
    /// Median cost ratio to the baseline optimum.
    pub median_cost_ratio: Option<f64>,
    /// Median goal error, metres.
    pub median_goal_error_m: Option<f64>,
    /// Median Fréchet distance to the reference route, metres.
    pub median_frechet_m: Option<f64>,
    /// Median turns.
    pub median_turns: Option<f64>,
    /// Median tool calls.
    pub median_tool_calls: Option<f64>,
    /// Median wall time, seconds.
    pub median_wall_s: Option<f64>,
    /// Total USD.
    pub total_usd: f64,
    /// Quartiles of the continuous scores (summaries stored before they existed read empty).
    #[serde(default)]
    pub spreads: Spreads,
    /// Perception over the attempts scored against ground truth (`None` when none were).
    #[serde(default)]
    pub perception: Option<CellPerception>,
}

/// A cell's perception: medians over its attempts with ground truth.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CellPerception {
    /// Attempts scored.
    pub attempts: u32,
    /// Median marks made.
    pub median_marks: Option<f64>,
    /// Median area IoU of blocking marks against blocking truth.
    pub median_mark_blocking_iou: Option<f64>,
    /// Median share of the route within 5 m of true blocking hazards.
    pub median_route_near_hazard_share: Option<f64>,
    /// Per class: median area IoU of the model's marks (attempts with that class in the truth
    /// or the marks).
    pub mark_class_iou: BTreeMap<String, f64>,
    /// Per class: median object recall of the model's marks.
    pub mark_class_recall: BTreeMap<String, f64>,
    /// Per class: median object precision of the model's marks.
    pub mark_class_precision: BTreeMap<String, f64>,
    /// The baseline classifier: median blocking area IoU over the cell's sols.
    pub classifier_blocking_iou: Option<f64>,
    /// The baseline classifier per class: median area IoU.
    pub classifier_class_iou: BTreeMap<String, f64>,
}

/// Per class, the median of `f` over the class scores of `lists`.
fn class_medians(
    lists: &[&Vec<crate::perception::ClassScore>],
    f: impl Fn(&crate::perception::ClassScore) -> Option<f64>,
) -> BTreeMap<String, f64> {
    let mut by: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for list in lists {
        for c in *list {
            if let Some(v) = f(c).filter(|v| v.is_finite()) {
                by.entry(c.class.as_str().to_owned()).or_default().push(v);
            }
        }
    }
    by.into_iter().filter_map(|(k, v)| median(v).map(|m| (k, m))).collect()
}

/// Summarises the perception of a cell's attempts.
#[must_use]
pub fn summarize_perception(attempts: &[AttemptScores]) -> Option<CellPerception> {
    let ps: Vec<&PerceptionScores> =
        attempts.iter().filter_map(|a| a.perception.as_ref()).collect();
    if ps.is_empty() {
        return None;
    }
    let marks: Vec<&Vec<_>> = ps.iter().map(|p| &p.marks_by_class).collect();
    let classifier: Vec<&Vec<_>> = ps.iter().map(|p| &p.classifier_by_class).collect();
    Some(CellPerception {
        attempts: u32::try_from(ps.len()).unwrap_or(u32::MAX),
        median_marks: median(ps.iter().map(|p| f64::from(p.marks))),
        median_mark_blocking_iou: median(ps.iter().filter_map(|p| p.blocking_area_iou)),
        median_route_near_hazard_share: median(ps.iter().filter_map(|p| p.route_near_hazard_share)),
        mark_class_iou: class_medians(&marks, |c| c.area_iou),
        mark_class_recall: class_medians(&marks, |c| c.recall),
        mark_class_precision: class_medians(&marks, |c| c.precision),
        classifier_blocking_iou: median(ps.iter().filter_map(|p| p.classifier_blocking_area_iou)),
        classifier_class_iou: class_medians(&classifier, |c| c.area_iou),
    })
}

/// Summarises a cell's attempts.
#[must_use]
pub fn summarize(attempts: &[AttemptScores]) -> CellSummary {
    let count = |f: &dyn Fn(&AttemptScores) -> bool| {
        u32::try_from(attempts.iter().filter(|a| f(a)).count()).unwrap_or(u32::MAX)
    };
    let n = u32::try_from(attempts.len()).unwrap_or(u32::MAX);
    let with_expect = count(&|a| a.expectation_met.is_some());
    CellSummary {
        attempts: n,
        accepted: wilson(count(&|a| a.accepted), n),
        accepted_first_submit: wilson(count(&|a| a.accepted_first_submit), n),
        expectation_met: wilson(count(&|a| a.expectation_met == Some(true)), with_expect),
        median_cost_ratio: median(attempts.iter().filter_map(|a| a.cost_ratio)),
        median_goal_error_m: median(attempts.iter().filter_map(|a| a.goal_error_m)),
        median_frechet_m: median(attempts.iter().filter_map(|a| a.frechet_m)),
        median_turns: median(attempts.iter().map(|a| f64::from(a.turns))),
        median_tool_calls: median(attempts.iter().map(|a| f64::from(a.tool_calls))),
        median_wall_s: median(attempts.iter().map(|a| a.wall_s)),
        total_usd: attempts.iter().map(|a| a.cost_usd).sum(),
        spreads: Spreads {
            cost_ratio: quartiles(attempts.iter().filter_map(|a| a.cost_ratio)),
            goal_error_m: quartiles(attempts.iter().filter_map(|a| a.goal_error_m)),
            frechet_m: quartiles(attempts.iter().filter_map(|a| a.frechet_m)),
            turns: quartiles(attempts.iter().map(|a| f64::from(a.turns))),
            tool_calls: quartiles(attempts.iter().map(|a| f64::from(a.tool_calls))),
            wall_s: quartiles(attempts.iter().map(|a| a.wall_s)),
            cost_usd: quartiles(attempts.iter().map(|a| a.cost_usd)),
        },
        perception: summarize_perception(attempts),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frechet_known_cases() {
        let a = [(0.0, 0.0), (1.0, 0.0), (2.0, 0.0)];
        assert_eq!(frechet(&a, &a), Some(0.0));
        // A parallel line 1 apart.
        let b = [(0.0, 1.0), (1.0, 1.0), (2.0, 1.0)];
        assert_eq!(frechet(&a, &b), Some(1.0));
        // Reversed direction: the ends must be paired, start with start.
        let r: Vec<Pt> = a.iter().rev().copied().collect();
        assert_eq!(frechet(&a, &r), Some(2.0));
        // A detour of 3 in the middle.
        let c = [(0.0, 0.0), (1.0, 3.0), (2.0, 0.0)];
        assert_eq!(frechet(&a, &c), Some(3.0));
        // Symmetric, and a single point vs a line is the farthest vertex.
        assert_eq!(frechet(&c, &a), Some(3.0));
        assert_eq!(frechet(&[(0.0, 0.0)], &a), Some(2.0));
        assert_eq!(frechet(&[], &a), None);
    }

    /// The two-row discrete Fréchet this crate used before geo's: the oracle geo must match.
    fn two_row_frechet(a: &[Pt], b: &[Pt]) -> f64 {
        let m = b.len();
        let mut prev = vec![0.0f64; m];
        let mut cur = vec![0.0f64; m];
        for (i, p) in a.iter().enumerate() {
            for (j, q) in b.iter().enumerate() {
                let d = dist(*p, *q);
                cur[j] = match (i, j) {
                    (0, 0) => d,
                    (0, _) => cur[j - 1].max(d),
                    (_, 0) => prev[0].max(d),
                    _ => prev[j].min(prev[j - 1]).min(cur[j - 1]).max(d),
                };
            }
            std::mem::swap(&mut prev, &mut cur);
        }
        prev[m - 1]
    }

    #[test]
    fn geo_frechet_gives_the_same_numbers_as_the_two_row_recurrence() {
        // Deterministic wiggly routes in map coordinates of millions of metres, densified as
        // scoring does, of different lengths in both orders.
        let route = |n: usize, k: u64| -> Vec<Pt> {
            (0..n)
                .map(|i| {
                    let h = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15 ^ k) >> 40;
                    (8_142_406.0 + 7.0 * i as f64, -276_455.0 + (h % 1000) as f64 / 50.0)
                })
                .collect()
        };
        for (n, m, k) in [(2, 2, 1), (5, 9, 2), (12, 7, 3), (30, 31, 4)] {
            let (a, b) = (densify(&route(n, k), 1.0), densify(&route(m, k + 10), 1.0));
            assert_eq!(frechet(&a, &b), Some(two_row_frechet(&a, &b)), "{n} x {m}");
            assert_eq!(frechet(&b, &a), Some(two_row_frechet(&b, &a)), "{m} x {n}");
        }
        let a = [(0.0, 0.0), (1.0, 0.0), (2.0, 0.0)];
        let c = [(0.0, 0.0), (1.0, 3.0), (2.0, 0.0)];
        assert_eq!(frechet(&a, &c), Some(two_row_frechet(&a, &c)));
    }

    #[test]
    fn densify_keeps_ends_and_bounds_steps() {
        let d = densify(&[(0.0, 0.0), (10.0, 0.0), (10.0, 2.5)], 1.0);
        assert_eq!(d.first(), Some(&(0.0, 0.0)));
        assert_eq!(d.last(), Some(&(10.0, 2.5)));
        assert_eq!(d.len(), 1 + 10 + 3);
        assert!(d.windows(2).all(|w| dist(w[0], w[1]) <= 1.0 + 1e-9));
        assert!((polyline_length(&d) - 12.5).abs() < 1e-9);
    }

    #[test]
    fn summary_counts_rates_and_medians() {
        let mut a = AttemptScores {
            status: "accepted".into(),
            accepted: true,
            accepted_first_submit: true,
            expectation_met: Some(true),
            submits: 1,
            revisions: 0,
            goal_error_m: Some(0.5),
            route_length_m: Some(100.0),
            cost: Some(110.0),
            cost_ratio: Some(1.1),
            max_tilt_deg: Some(5.0),
            min_hazard_clearance_m: Some(3.0),
            frechet_m: None,
            twin_pass: Some(true),
            twin_min_clearance_m: Some(0.3),
            twin_max_bogie_deg: Some(4.0),
            twin_max_rocker_deg: Some(2.0),
            twin_max_wheel_drop_m: Some(0.02),
            twin_drive_s: Some(4600.0),
            perception: None,
            turns: 3,
            tool_calls: 4,
            tool_calls_by_tool: BTreeMap::new(),
            input_tokens: 0,
            output_tokens: 0,
            image_tokens: 0,
            cost_usd: 0.01,
            retries: 0,
            wall_s: 2.0,
            failure_reason: None,
        };
        let b = AttemptScores {
            status: "rejected".into(),
            accepted: false,
            accepted_first_submit: false,
            expectation_met: Some(false),
            cost_ratio: None,
            turns: 5,
            ..a.clone()
        };
        a.cost_ratio = Some(1.3);
        let s = summarize(&[a, b]);
        assert_eq!((s.attempts, s.accepted.k, s.accepted.n), (2, 1, 2));
        assert_eq!(s.median_cost_ratio, Some(1.3));
        assert_eq!(s.median_turns, Some(4.0));
        assert!((s.total_usd - 0.02).abs() < 1e-12);
    }
}
