//! What a run is held to and how it ends: its budgets (turns, tokens, cost, wall clock), the
//! running totals checked against them before every turn, and its final status.
//!
//! Below both the loop ([`crate::session`]) and its record ([`crate::transcript`]), which
//! both speak of these, so neither has to import the other for them.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::provider::Usage;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// A submitted route passed the safety checker.
    Accepted,
    /// No route passed: revisions or a budget ran out, or the model gave up.
    Rejected,
    /// The provider failed for good (bad key, retries exhausted).
    Error,
}

impl RunStatus {
    /// As written in `status.json`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Accepted => "accepted",
            RunStatus::Rejected => "rejected",
            RunStatus::Error => "error",
        }
    }
}

/// Limits of one run. Hitting one ends the run cleanly with the reason.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Budgets {
    /// Most model turns.
    pub max_turns: u32,
    /// Most input + output tokens over the run.
    pub max_tokens: Option<u64>,
    /// Most USD over the run.
    pub max_cost_usd: Option<f64>,
    /// Wall-clock limit of the run.
    #[serde(serialize_with = "secs", deserialize_with = "from_secs")]
    pub deadline: Option<Duration>,
}

#[allow(clippy::ref_option)] // serde's `serialize_with` passes `&Option<T>`
fn secs<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_f64(d.as_secs_f64()),
        None => s.serialize_none(),
    }
}

/// Reads back what [`secs`] wrote (a negative or non-finite number is no deadline).
fn from_secs<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.and_then(|s| Duration::try_from_secs_f64(s).ok()))
}

impl Default for Budgets {
    fn default() -> Self {
        Budgets {
            max_turns: 30,
            max_tokens: Some(2_000_000),
            max_cost_usd: Some(5.0),
            deadline: Some(Duration::from_secs(15 * 60)),
        }
    }
}

/// Running totals of a run. Every field defaults to zero when read back, so totals recorded
/// before a field existed still load.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Totals {
    /// Model turns taken.
    pub turns: u32,
    /// Tool calls executed.
    pub tool_calls: u32,
    /// Input tokens (images and cached tokens included).
    pub input_tokens: u64,
    /// Of `input_tokens`, those read from the prompt cache.
    pub cached_input_tokens: u64,
    /// Of `input_tokens`, those written to the prompt cache.
    pub cache_write_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Image tokens (reported by the server, or estimated).
    pub image_tokens: u64,
    /// USD spent.
    pub cost_usd: f64,
    /// Retried requests.
    pub retries: u32,
}

impl Totals {
    /// Adds one turn's usage and cost.
    pub fn add(&mut self, usage: &Usage, image_tokens: u64, cost_usd: f64) {
        self.input_tokens += usage.input_tokens;
        self.cached_input_tokens += usage.cached_input_tokens;
        self.cache_write_tokens += usage.cache_write_tokens;
        self.output_tokens += usage.output_tokens;
        self.image_tokens += image_tokens;
        self.cost_usd += cost_usd;
    }
}

impl Budgets {
    /// The reason to stop before the next turn, if any budget is spent.
    #[must_use]
    pub fn exhausted(&self, t: &Totals, started: Instant) -> Option<String> {
        if t.turns >= self.max_turns {
            return Some(format!("turn budget reached ({} turns)", self.max_turns));
        }
        if let Some(max) = self.max_tokens {
            let used = t.input_tokens + t.output_tokens;
            if used >= max {
                return Some(format!("token budget reached ({used} of {max} tokens)"));
            }
        }
        if let Some(max) = self.max_cost_usd {
            if t.cost_usd >= max {
                return Some(format!("cost budget reached (${:.4} of ${max:.2})", t.cost_usd));
            }
        }
        if let Some(d) = self.deadline {
            if started.elapsed() >= d {
                return Some(format!("wall-clock deadline reached ({:.0} s)", d.as_secs_f64()));
            }
        }
        None
    }

    /// Time left before the deadline (`None`: no deadline).
    #[must_use]
    pub fn remaining(&self, started: Instant) -> Option<Duration> {
        self.deadline.map(|d| d.saturating_sub(started.elapsed()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_budget_stops_with_its_reason() {
        let b = Budgets {
            max_turns: 2,
            max_tokens: Some(100),
            max_cost_usd: Some(0.5),
            deadline: Some(Duration::from_secs(60)),
        };
        let now = Instant::now();
        let mut t = Totals::default();
        assert_eq!(b.exhausted(&t, now), None);
        t.turns = 2;
        assert!(b.exhausted(&t, now).unwrap().contains("turn budget"));
        t.turns = 1;
        t.input_tokens = 90;
        t.output_tokens = 10;
        assert!(b.exhausted(&t, now).unwrap().contains("token budget"));
        t.input_tokens = 0;
        t.cost_usd = 0.6;
        assert!(b.exhausted(&t, now).unwrap().contains("cost budget"));
        t.cost_usd = 0.0;
        let b = Budgets { deadline: Some(Duration::ZERO), ..b };
        assert!(b.exhausted(&t, now).unwrap().contains("deadline"));
    }
}
