//! The `--fail-on` gate: rules such as `accepted_rate:-0.05,cost_ratio:+0.1` that turn a
//! comparison into a CI check, parsed here and checked against the comparison's deltas.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::metrics::Metric;
use super::CompareError;

/// A `--fail-on` rule: fail when the delta `B − A` of `metric` falls below a negative
/// `threshold` or rises above a positive one. Written `metric:-0.05` or `metric:+0.1`; the sign
/// is required, because it is what says which way is a regression.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// The metric whose delta is checked.
    pub metric: Metric,
    /// Negative: the lowest delta allowed; positive: the highest.
    pub threshold: f64,
    /// Whether the threshold was written with `-` (so `-0` means "any drop fails").
    pub below: bool,
}

/// Deltas this close to a threshold count as on it, so `0.95 − 1.0` does not trip `-0.05`.
const RULE_EPS: f64 = 1e-9;

impl Rule {
    /// Whether `delta` breaks the rule.
    #[must_use]
    pub fn trips(&self, delta: f64) -> bool {
        if self.below {
            delta < self.threshold - RULE_EPS
        } else {
            delta > self.threshold + RULE_EPS
        }
    }

    /// Parses comma-separated rules (`accepted_rate:-0.05,cost_ratio:+0.1`); empty items are
    /// skipped so trailing commas in CI files do no harm.
    pub fn parse_list(text: &str) -> Result<Vec<Rule>, CompareError> {
        text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::parse).collect()
    }
}

impl FromStr for Rule {
    type Err = CompareError;

    fn from_str(text: &str) -> Result<Rule, CompareError> {
        let bad =
            |message: &str| CompareError::Rule { rule: text.to_owned(), message: message.into() };
        let Some((name, threshold)) = text.trim().rsplit_once(':') else {
            return Err(bad("write it as metric:-threshold or metric:+threshold"));
        };
        let metric: Metric = name.trim().parse().map_err(|()| bad("unknown metric"))?;
        let threshold = threshold.trim();
        let below =
            match threshold.chars().next() {
                Some('-') => true,
                Some('+') => false,
                _ => return Err(bad(
                    "the threshold needs a sign: -X fails when the delta falls below -X, +X when \
                     it rises above +X",
                )),
            };
        let value: f64 = threshold.parse().map_err(|_| bad("the threshold is not a number"))?;
        if !value.is_finite() {
            return Err(bad("the threshold must be finite"));
        }
        Ok(Rule { metric, threshold: value, below })
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.below { '-' } else { '+' };
        write!(f, "{}:{sign}{}", self.metric, self.threshold.abs())
    }
}

/// A rule checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleOutcome {
    /// The rule as it reads (`accepted_rate:-0.05`).
    pub rule: String,
    /// The rule.
    pub parsed: Rule,
    /// The metric's delta (`None` when no pair has values: the rule is not checked).
    pub delta: Option<f64>,
    /// Whether it tripped.
    pub tripped: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_and_trip() {
        let rules = Rule::parse_list("accepted_rate:-0.05, cost_ratio:+0.1,").unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0], Rule { metric: Metric::AcceptedRate, threshold: -0.05, below: true });
        assert_eq!(rules[1].to_string(), "cost_ratio:+0.1");
        assert_eq!(rules[0].to_string(), "accepted_rate:-0.05");
        // A drop of exactly 5 points does not trip "drops more than 5 points", even in floats.
        assert!(!rules[0].trips(0.95 - 1.0));
        assert!(rules[0].trips(-0.0501));
        assert!(!rules[0].trips(0.3));
        assert!(rules[1].trips(0.11) && !rules[1].trips(0.1) && !rules[1].trips(-1.0));
        // -0 and +0: any drop, any rise.
        let z: Rule = "turns:-0".parse().unwrap();
        assert!(z.trips(-0.5) && !z.trips(0.0) && !z.trips(0.5));
        let z: Rule = "turns:+0".parse().unwrap();
        assert!(z.trips(0.5) && !z.trips(0.0) && !z.trips(-0.5));

        for (bad, why) in [
            ("accepted:-0.05", "unknown metric"),
            ("accepted_rate:0.05", "needs a sign"),
            ("accepted_rate:-x", "not a number"),
            ("accepted_rate", "metric:-threshold"),
            ("cost_ratio:+inf", "finite"),
        ] {
            let e = Rule::parse_list(&format!("turns:+1,{bad}")).unwrap_err().to_string();
            assert!(e.contains(&format!("`{bad}`")) && e.contains(why), "{bad}: {e}");
            assert!(e.contains("accepted_first_submit_rate") && e.contains("revisions"), "{e}");
        }
    }
}
