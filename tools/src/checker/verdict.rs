//! The verdict: pass or fail, the versions that produced it, a summary, one line per rule, and
//! the violations in a stable order. Serialised as JSON with every float rounded to fixed
//! decimals (coordinates to the millimetre, measured values and limits to 1e-4), so that the
//! same inputs give byte-identical files on any machine and with any number of threads.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Version of the rule set: bumped whenever a rule's meaning, limit source or measure changes,
/// so that verdicts from different rule sets are never compared as equals.
pub const RULE_SET_VERSION: &str = "1";

/// Version of the checker code (the `breadcrumb-tools` crate).
pub const CHECKER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// At most this many violations of one rule are listed (the first ones in walk order); the
/// count in [`RuleSummary::violations`] is always complete.
pub const MAX_LISTED_PER_RULE: usize = 100;

/// One broken rule at one place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Violation {
    /// The rule's stable ID (`tilt`, `keep_out`, ...).
    pub rule: String,
    /// Segment index (waypoint `i` to `i + 1`); `null` for a plan that never moves.
    pub segment: Option<usize>,
    /// Map x of the worst place on that segment, metres.
    #[serde(serialize_with = "mm", deserialize_with = "nullable")]
    pub x: f64,
    /// Map y of the worst place on that segment, metres.
    #[serde(serialize_with = "mm", deserialize_with = "nullable")]
    pub y: f64,
    /// The measured value there (`null` if not finite).
    #[serde(serialize_with = "fine", deserialize_with = "nullable")]
    pub measured: f64,
    /// The limit it broke.
    #[serde(serialize_with = "fine", deserialize_with = "nullable")]
    pub limit: f64,
    /// Unit of `measured` and `limit` (`m`, `deg`, `cells`).
    pub unit: String,
    /// A sentence for people and models.
    pub message: String,
}

/// How one rule fared over the whole plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleSummary {
    /// The rule's stable ID.
    pub rule: String,
    /// Unit of `worst` and `limit`.
    pub unit: String,
    /// The limit enforced.
    #[serde(serialize_with = "fine", deserialize_with = "nullable")]
    pub limit: f64,
    /// The worst value measured over the plan (largest tilt, smallest clearance, ...); `null`
    /// when the rule had nothing to measure (no hazard nearby, terrain not walked).
    #[serde(serialize_with = "fine_opt")]
    pub worst: Option<f64>,
    /// Number of violations (segments where the rule broke).
    pub violations: usize,
}

/// Numbers about the plan as a whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Waypoints in the plan.
    pub waypoints: usize,
    /// Segments (waypoints - 1).
    pub segments: usize,
    /// Length along the waypoints, metres.
    #[serde(serialize_with = "fine", deserialize_with = "nullable")]
    pub length_m: f64,
    /// The drive budget, metres.
    #[serde(serialize_with = "fine", deserialize_with = "nullable")]
    pub drive_budget_m: f64,
    /// Whether the terrain was walked. It is skipped only for plans far over the drive budget,
    /// which fail on `budget` whatever the terrain.
    pub terrain_walked: bool,
    /// Why the terrain was not walked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terrain_note: Option<String>,
    /// Footprint poses evaluated (every distinct set of cells under the rover).
    pub poses_evaluated: usize,
    /// Largest tilt seen, degrees.
    #[serde(serialize_with = "fine_opt")]
    pub max_tilt_deg: Option<f64>,
    /// Largest step seen, metres.
    #[serde(serialize_with = "fine_opt")]
    pub max_step_m: Option<f64>,
    /// Largest height of ground above the wheel plane seen, metres.
    #[serde(serialize_with = "fine_opt")]
    pub max_belly_obstacle_m: Option<f64>,
    /// Smallest distance from the centre path to a blocking mapped hazard, metres (`null`
    /// when none is within 50 m).
    #[serde(serialize_with = "fine_opt")]
    pub min_hazard_clearance_m: Option<f64>,
    /// Smallest distance from the centre path to a keep-out zone, metres (`null` when none is
    /// within 50 m).
    #[serde(serialize_with = "fine_opt")]
    pub min_keep_out_clearance_m: Option<f64>,
    /// Smallest distance from the centre path to the keep-in boundary, metres, negative
    /// outside (`null` without a keep-in polygon).
    #[serde(serialize_with = "fine_opt")]
    pub min_keep_in_margin_m: Option<f64>,
}

/// The checker's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// True when no rule is broken.
    pub pass: bool,
    /// [`RULE_SET_VERSION`].
    pub rule_set_version: String,
    /// [`CHECKER_VERSION`].
    pub checker_version: String,
    /// The sol (or route) checked.
    pub sol: String,
    /// The rover profile's name.
    pub rover: String,
    /// Numbers about the plan.
    pub summary: Summary,
    /// One line per rule, in rule order.
    pub rules: Vec<RuleSummary>,
    /// Violations in rule order, then segment order (at most [`MAX_LISTED_PER_RULE`] per rule).
    pub violations: Vec<Violation>,
}

impl Verdict {
    /// Pretty JSON with a trailing newline; byte-identical for identical inputs.
    #[must_use]
    pub fn to_json(&self) -> String {
        // Serialising plain structs of strings, integers and rounded floats cannot fail.
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Total number of violations (listed or not).
    #[must_use]
    pub fn violation_count(&self) -> usize {
        self.rules.iter().map(|r| r.violations).sum()
    }

    /// IDs of the rules that broke, in rule order.
    #[must_use]
    pub fn failed_rules(&self) -> Vec<&str> {
        self.rules.iter().filter(|r| r.violations > 0).map(|r| r.rule.as_str()).collect()
    }
}

/// `v` rounded to `decimals`, with -0 as 0; `None` when not finite.
#[must_use]
pub fn round(v: f64, decimals: i32) -> Option<f64> {
    if !v.is_finite() {
        return None;
    }
    let scale = 10f64.powi(decimals);
    let r = (v * scale).round() / scale;
    // Values too large to scale stay as they are.
    let r = if r.is_finite() { r } else { v };
    Some(if r == 0.0 { 0.0 } else { r })
}

fn write<S: Serializer>(v: Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.serialize_f64(v),
        None => s.serialize_none(),
    }
}

#[expect(clippy::trivially_copy_pass_by_ref, reason = "serde's serialize_with passes &T")]
pub(crate) fn mm<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    write(round(*v, 3), s)
}

#[expect(clippy::trivially_copy_pass_by_ref, reason = "serde's serialize_with passes &T")]
pub(crate) fn fine<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    write(round(*v, 4), s)
}

#[expect(clippy::ref_option, reason = "serde's serialize_with passes &Option")]
pub(crate) fn fine_opt<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    write(v.and_then(|v| round(v, 4)), s)
}

pub(crate) fn nullable<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_fixed_and_total() {
        assert_eq!(round(0.123_456_7, 4), Some(0.1235));
        assert_eq!(round(-0.000_01, 4), Some(0.0));
        assert!(round(-0.000_01, 4).unwrap().is_sign_positive());
        assert_eq!(round(f64::NAN, 4), None);
        assert_eq!(round(f64::INFINITY, 3), None);
        assert_eq!(round(1e300, 4), Some(1e300));
        assert_eq!(round(8_142_406.123_456, 3), Some(8_142_406.123));
    }

    #[test]
    fn violations_round_trip_with_nulls() {
        let v = Violation {
            rule: "budget".into(),
            segment: None,
            x: 1.000_04,
            y: f64::INFINITY,
            measured: f64::NAN,
            limit: 300.0,
            unit: "m".into(),
            message: "m".into(),
        };
        let s = serde_json::to_string(&v).unwrap();
        assert_eq!(
            s,
            r#"{"rule":"budget","segment":null,"x":1.0,"y":null,"measured":null,"limit":300.0,"unit":"m","message":"m"}"#
        );
        let back: Violation = serde_json::from_str(&s).unwrap();
        assert!(back.y.is_nan() && back.measured.is_nan());
    }
}
