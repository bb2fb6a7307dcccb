//! Pairwise comparison of two eval sides: did the new prompt or model make plans better or worse,
//! and at what cost?
//!
//! A **side** is a whole run or one cell (model × prompt) of a run ([`Side::load`]). Attempts are
//! compared **paired**: the same sol and repeat on both sides, so the sol-to-sol spread (some sols
//! are simply harder) cancels and far fewer attempts show a real change than two independent
//! samples would need. Pairing ([`Pairing`]):
//!
//! - both sides hold exactly one cell: by `(sol, repeat)`, across the two cells (two models, two
//!   prompts, or the same cell in two runs);
//! - both sides are whole runs with the same cells: by `(sol, model, prompt, repeat)`;
//! - anything else is ambiguous and refused, naming each side's cells.
//!
//! Metrics ([`Metric`]): the binary ones (accepted, accepted on the first submission, outcome as
//! expected) are tested with McNemar's exact test on the discordant pairs; the continuous ones
//! (cost ratio, goal error, tokens, USD, ...) by the mean paired delta `B − A` with a seeded
//! paired bootstrap, so the same stores always print the same intervals.
//!
//! `--fail-on` [`Rule`]s turn a comparison into a CI gate. [`compare`] is pure (attempts in, a
//! serialisable [`Comparison`] out); loading is [`Side::load`], printing is the CLI's.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::EvalError;
use crate::score::{median, AttemptScores};
use crate::store::{Store, StoredAttempt};

/// Why two sides cannot be compared, or a rule cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CompareError {
    /// No run of that id (nor `RUN:model:prompt` naming one) is in the store.
    #[error("no run `{run}` in {}; `breadcrumb eval list --db {}` lists the runs", db.display(), db.display())]
    UnknownRun {
        /// The side as given.
        run: String,
        /// The store.
        db: PathBuf,
    },
    /// The run exists but has no such cell.
    #[error("run `{run}` has no cell `{cell}`; its cells: {cells}")]
    UnknownCell {
        /// The run.
        run: String,
        /// `model:prompt` as given.
        cell: String,
        /// The run's cells, `model:prompt`, comma-separated.
        cells: String,
    },
    /// The sides hold cells that could pair several ways.
    #[error("{0}")]
    Ambiguous(String),
    /// No attempt of one side has a partner on the other.
    #[error("{0}")]
    NothingPairs(String),
    /// A `--fail-on` rule does not parse.
    #[error("--fail-on rule `{rule}`: {message}; known metrics: {}", Metric::known())]
    Rule {
        /// The rule as written.
        rule: String,
        /// What is wrong with it.
        message: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] EvalError),
}

/// One cell of a run: a model and a prompt version.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Cell {
    /// Model name.
    pub model: String,
    /// Prompt version.
    pub prompt: String,
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.model, self.prompt)
    }
}

/// One side of a comparison: a whole run, or one cell of it, with its stored attempts.
#[derive(Debug, Clone, PartialEq)]
pub struct Side {
    /// The side as the user wrote it (`RUN` or `RUN:model:prompt`).
    pub spec: String,
    /// The run.
    pub run_id: String,
    /// The cell picked, or `None` for the whole run.
    pub cell: Option<Cell>,
    /// Its attempts (only the cell's when a cell is picked).
    pub attempts: Vec<StoredAttempt>,
}

impl Side {
    /// Loads `spec` from the store: a run id, or `RUN:model:prompt` for one cell. The whole spec
    /// is tried as a run id first, then every split at a colon, so run ids and model names may
    /// themselves hold colons.
    pub fn load(store: &Store, spec: &str) -> Result<Side, CompareError> {
        if store.run(spec)?.is_some() {
            return Ok(Side {
                spec: spec.to_owned(),
                run_id: spec.to_owned(),
                cell: None,
                attempts: store.attempts(spec)?,
            });
        }
        for (i, _) in spec.match_indices(':') {
            let (run_id, cell) = (&spec[..i], &spec[i + 1..]);
            let Some(run) = store.run(run_id)? else { continue };
            let attempts = store.attempts(run_id)?;
            let mut cells: BTreeSet<Cell> = run
                .models
                .iter()
                .flat_map(|m| {
                    run.prompts.iter().map(|p| Cell { model: m.clone(), prompt: p.clone() })
                })
                .collect();
            cells.extend(attempts.iter().map(cell_of));
            let Some(picked) = cells.iter().find(|c| c.to_string() == cell).cloned() else {
                return Err(CompareError::UnknownCell {
                    run: run_id.to_owned(),
                    cell: cell.to_owned(),
                    cells: join(&cells),
                });
            };
            return Ok(Side {
                spec: spec.to_owned(),
                run_id: run_id.to_owned(),
                attempts: attempts.into_iter().filter(|a| cell_of(a) == picked).collect(),
                cell: Some(picked),
            });
        }
        Err(CompareError::UnknownRun { run: spec.to_owned(), db: store.path().to_path_buf() })
    }

    /// The cells its attempts belong to.
    #[must_use]
    pub fn cells(&self) -> BTreeSet<Cell> {
        self.attempts.iter().map(cell_of).collect()
    }
}

fn cell_of(a: &StoredAttempt) -> Cell {
    Cell { model: a.key.model.clone(), prompt: a.key.prompt.clone() }
}

fn join<T: fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    let v: Vec<String> = items.into_iter().map(|x| x.to_string()).collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

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
}

impl Metric {
    /// Every metric, binary ones first, in the order tables print them.
    pub const ALL: [Metric; 14] = [
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

/// How the bootstrap runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompareOptions {
    /// Bootstrap resamples per continuous metric.
    pub resamples: u32,
    /// Seed of the resampling; fixed by default so a comparison prints the same every time.
    pub seed: u64,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions { resamples: 10_000, seed: 0x6272_6561_6463_7275 }
    }
}

/// How attempts were paired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Pairing {
    /// By `(sol, repeat)`, the one cell of A against the one cell of B.
    AcrossCells {
        /// A's cell.
        a: Cell,
        /// B's cell.
        b: Cell,
    },
    /// By `(sol, model, prompt, repeat)`, cell against the same cell.
    PerCell {
        /// The cells both runs hold.
        cells: Vec<Cell>,
    },
}

impl fmt::Display for Pairing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pairing::AcrossCells { a, b } => write!(f, "by (sol, repeat), {a} vs {b}"),
            Pairing::PerCell { cells } => {
                write!(f, "by (sol, model, prompt, repeat) over cells {}", join(cells))
            }
        }
    }
}

/// A side as the comparison saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SideInfo {
    /// As given.
    pub spec: String,
    /// The run.
    pub run_id: String,
    /// Its cells.
    pub cells: Vec<Cell>,
    /// Its attempts.
    pub attempts: u32,
    /// Of those, without a partner on the other side.
    pub unpaired: u32,
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

/// The comparison of two sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The baseline side.
    pub a: SideInfo,
    /// The candidate side; deltas are `B − A`.
    pub b: SideInfo,
    /// How attempts were paired.
    pub pairing: Pairing,
    /// Pairs.
    pub pairs: u32,
    /// Bootstrap settings used.
    pub options: CompareOptions,
    /// Binary metrics, in [`Metric::ALL`] order.
    pub binary: Vec<BinaryDelta>,
    /// Continuous metrics, in [`Metric::ALL`] order.
    pub continuous: Vec<ContinuousDelta>,
    /// Per sol, in sol order.
    pub per_sol: Vec<SolDelta>,
    /// The `--fail-on` rules, in the order given.
    pub rules: Vec<RuleOutcome>,
}

impl Comparison {
    /// The delta `B − A` of a metric (rate difference or mean paired delta).
    #[must_use]
    pub fn delta(&self, metric: Metric) -> Option<f64> {
        match metric.kind() {
            MetricKind::Binary => self.binary.iter().find(|d| d.metric == metric)?.delta,
            MetricKind::Continuous => self.continuous.iter().find(|d| d.metric == metric)?.delta,
        }
    }

    /// Whether any rule tripped.
    #[must_use]
    pub fn failed(&self) -> bool {
        self.rules.iter().any(|r| r.tripped)
    }
}

struct Pair<'a> {
    sol: &'a str,
    a: &'a AttemptScores,
    b: &'a AttemptScores,
}

/// Compares `b` against `a`: pairs their attempts, computes every metric's delta `B − A` with
/// its significance, the per-sol deltas, and checks `rules`. Pure and deterministic for given
/// `options`.
pub fn compare(
    a: &Side,
    b: &Side,
    rules: &[Rule],
    options: &CompareOptions,
) -> Result<Comparison, CompareError> {
    let (ca, cb) = (a.cells(), b.cells());
    for (name, side) in [("A", a), ("B", b)] {
        if side.attempts.is_empty() {
            return Err(CompareError::NothingPairs(format!(
                "{name} `{}` holds no attempts; nothing to compare",
                side.spec
            )));
        }
    }
    let single = |cells: &BTreeSet<Cell>| cells.first().filter(|_| cells.len() == 1).cloned();
    let pairing = if let (Some(x), Some(y)) = (single(&ca), single(&cb)) {
        Pairing::AcrossCells { a: x, b: y }
    } else if a.cell.is_none() && b.cell.is_none() && ca == cb {
        Pairing::PerCell { cells: ca.iter().cloned().collect() }
    } else {
        let pick = |s: &Side, cells: &BTreeSet<Cell>| {
            cells.first().map_or_else(|| s.spec.clone(), |c| format!("{}:{c}", s.run_id))
        };
        return Err(CompareError::Ambiguous(format!(
            "cannot pair A `{}` (cells {}) with B `{}` (cells {}): compare whole runs only when \
             they hold the same cells; otherwise pick one cell per side as RUN:model:prompt, \
             e.g. `{}` `{}`",
            a.spec,
            join(&ca),
            b.spec,
            join(&cb),
            pick(a, &ca),
            pick(b, &cb)
        )));
    };
    let key = |s: &StoredAttempt| match pairing {
        Pairing::AcrossCells { .. } => (s.key.sol.clone(), None, s.key.repeat),
        Pairing::PerCell { .. } => (s.key.sol.clone(), Some(cell_of(s)), s.key.repeat),
    };
    let by_key: BTreeMap<_, &StoredAttempt> = b.attempts.iter().map(|s| (key(s), s)).collect();
    let mut pairs = Vec::new();
    let mut paired_b = BTreeSet::new();
    for x in &a.attempts {
        let k = key(x);
        if let Some(y) = by_key.get(&k) {
            pairs.push(Pair { sol: &x.key.sol, a: &x.scores, b: &y.scores });
            paired_b.insert(k);
        }
    }
    if pairs.is_empty() {
        let sols =
            |s: &Side| join(s.attempts.iter().map(|x| x.key.sol.as_str()).collect::<BTreeSet<_>>());
        return Err(CompareError::NothingPairs(format!(
            "no attempt of A `{}` pairs with one of B `{}` ({pairing}): A has sols {}, B has \
             sols {}",
            a.spec,
            b.spec,
            sols(a),
            sols(b)
        )));
    }
    let n_pairs = count(pairs.len());
    let info = |s: &Side, cells: &BTreeSet<Cell>, paired: u32| SideInfo {
        spec: s.spec.clone(),
        run_id: s.run_id.clone(),
        cells: cells.iter().cloned().collect(),
        attempts: count(s.attempts.len()),
        unpaired: count(s.attempts.len()).saturating_sub(paired),
    };
    let binary: Vec<BinaryDelta> = Metric::ALL
        .into_iter()
        .filter(|m| m.kind() == MetricKind::Binary)
        .map(|m| binary_delta(m, &pairs))
        .collect();
    let continuous: Vec<ContinuousDelta> = Metric::ALL
        .into_iter()
        .enumerate()
        .filter(|(_, m)| m.kind() == MetricKind::Continuous)
        .map(|(i, m)| continuous_delta(m, &pairs, options, i as u64))
        .collect();
    let mut out = Comparison {
        a: info(a, &ca, n_pairs),
        b: info(b, &cb, count(paired_b.len())),
        pairing,
        pairs: n_pairs,
        options: *options,
        binary,
        continuous,
        per_sol: per_sol(&pairs),
        rules: Vec::new(),
    };
    out.rules = rules
        .iter()
        .map(|r| {
            let delta = out.delta(r.metric);
            RuleOutcome {
                rule: r.to_string(),
                parsed: *r,
                delta,
                tripped: delta.is_some_and(|d| r.trips(d)),
            }
        })
        .collect();
    Ok(out)
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn binary_delta(metric: Metric, pairs: &[Pair<'_>]) -> BinaryDelta {
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

fn continuous_delta(
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

/// The `q` quantile of sorted values, interpolating linearly between ranks.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - pos.floor())
}

/// Two-sided exact McNemar p-value: of the `only_a + only_b` discordant pairs, how likely a split
/// at least this uneven is when either side is equally likely to win each one (a two-sided
/// binomial test at p = ½), capped at 1.
///
/// ```
/// use breadcrumb_evals::compare::mcnemar_exact;
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

fn per_sol(pairs: &[Pair<'_>]) -> Vec<SolDelta> {
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
    use crate::store::AttemptKey;

    fn scores(accepted: bool, first: bool, cost_ratio: Option<f64>) -> AttemptScores {
        serde_json::from_value(serde_json::json!({
            "status": if accepted { "accepted" } else { "rejected" }, "accepted": accepted,
            "accepted_first_submit": first, "expectation_met": accepted, "submits": 1,
            "revisions": u32::from(!first), "goal_error_m": 1.0, "route_length_m": 100.0,
            "cost": null, "cost_ratio": cost_ratio, "max_tilt_deg": null,
            "min_hazard_clearance_m": null, "frechet_m": null, "turns": 3, "tool_calls": 4,
            "tool_calls_by_tool": {}, "input_tokens": 1000, "output_tokens": 100,
            "image_tokens": 0, "cost_usd": 0.01, "retries": 0, "wall_s": 1.0,
            "failure_reason": null
        }))
        .unwrap()
    }

    fn attempt(run: &str, sol: &str, model: &str, repeat: u32, s: AttemptScores) -> StoredAttempt {
        StoredAttempt {
            key: AttemptKey {
                run_id: run.into(),
                sol: sol.into(),
                model: model.into(),
                prompt: "v1".into(),
                repeat,
            },
            scores: s,
            transcript: PathBuf::from("t.jsonl"),
        }
    }

    fn side(run: &str, cell: Option<&str>, attempts: Vec<StoredAttempt>) -> Side {
        let cell = cell.map(|m| Cell { model: m.into(), prompt: "v1".into() });
        let attempts = attempts
            .into_iter()
            .filter(|a| cell.as_ref().is_none_or(|c| *c == cell_of(a)))
            .collect();
        let spec = cell.as_ref().map_or_else(|| run.to_owned(), |c| format!("{run}:{c}"));
        Side { spec, run_id: run.into(), cell, attempts }
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

    #[test]
    fn pairs_two_cells_of_one_run_by_sol_and_repeat() {
        let mut all = Vec::new();
        for (sol, r) in [("s1", 0), ("s1", 1), ("s2", 0), ("s2", 1)] {
            all.push(attempt("r", sol, "ref", r, scores(true, true, Some(1.0))));
            // B fails its first submission on s2 and costs 10% more everywhere.
            all.push(attempt("r", sol, "new", r, scores(true, sol == "s1", Some(1.1))));
        }
        let (a, b) = (side("r", Some("ref"), all.clone()), side("r", Some("new"), all.clone()));
        let c = compare(&a, &b, &[], &CompareOptions::default()).unwrap();
        assert_eq!(c.pairs, 4);
        assert_eq!((c.a.unpaired, c.b.unpaired), (0, 0));
        assert!(
            matches!(&c.pairing, Pairing::AcrossCells { a, b } if a.model == "ref" && b.model == "new")
        );
        let first = &c.binary[1];
        assert_eq!(first.metric, Metric::AcceptedFirstSubmitRate);
        assert_eq!((first.both, first.only_a, first.only_b, first.neither), (2, 2, 0, 0));
        assert_eq!((first.a_rate, first.b_rate), (Some(1.0), Some(0.5)));
        assert_eq!(first.p_value, Some(mcnemar_exact(2, 0)));
        assert_eq!(c.delta(Metric::AcceptedRate), Some(0.0));
        let cost = c.delta(Metric::CostRatio).unwrap();
        assert!((cost - 0.1).abs() < 1e-12, "{cost}");
        assert_eq!(c.per_sol.len(), 2);
        assert_eq!(c.per_sol[1].sol, "s2");
        assert!((c.per_sol[1].cost_ratio_delta.unwrap() - 0.1).abs() < 1e-12);
        // Frechet is absent everywhere: no pairs, no delta, no interval.
        let fr = c.continuous.iter().find(|d| d.metric == Metric::FrechetM).unwrap();
        assert_eq!((fr.n, fr.delta, fr.ci), (0, None, None));
        // Pure and seeded: the same inputs give the same comparison, JSON included.
        let again = compare(&a, &b, &[], &CompareOptions::default()).unwrap();
        assert_eq!(serde_json::to_string(&c).unwrap(), serde_json::to_string(&again).unwrap());

        // The whole run holds two cells: ambiguous against one of its cells, with advice.
        let whole = side("r", None, all.clone());
        let e = compare(&whole, &b, &[], &CompareOptions::default()).unwrap_err().to_string();
        assert!(e.contains("new:v1, ref:v1") && e.contains("RUN:model:prompt"), "{e}");
        // ...but two whole runs with the same cells pair cell by cell.
        let other: Vec<StoredAttempt> = all
            .iter()
            .filter(|x| x.key.repeat == 0)
            .map(|x| StoredAttempt {
                key: AttemptKey { run_id: "q".into(), ..x.key.clone() },
                ..x.clone()
            })
            .collect();
        let c = compare(&whole, &side("q", None, other), &[], &CompareOptions::default()).unwrap();
        assert!(matches!(&c.pairing, Pairing::PerCell { cells } if cells.len() == 2));
        assert_eq!((c.pairs, c.a.unpaired, c.b.unpaired), (4, 4, 0));
        assert_eq!(c.delta(Metric::CostRatio), Some(0.0), "each cell meets itself");
    }

    #[test]
    fn refuses_when_nothing_pairs() {
        let a = side("a", None, vec![attempt("a", "s1", "m", 0, scores(true, true, None))]);
        let b = side("b", None, vec![attempt("b", "s2", "m", 0, scores(true, true, None))]);
        let e = compare(&a, &b, &[], &CompareOptions::default()).unwrap_err();
        assert!(matches!(e, CompareError::NothingPairs(_)), "{e}");
        let msg = e.to_string();
        assert!(msg.contains("A has sols s1") && msg.contains("B has sols s2"), "{msg}");
        let empty = side("c", None, Vec::new());
        let e = compare(&a, &empty, &[], &CompareOptions::default()).unwrap_err().to_string();
        assert!(e.contains("B `c` holds no attempts"), "{e}");
    }

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

        // Rules are checked against the comparison's deltas.
        let all: Vec<StoredAttempt> = (0..4)
            .flat_map(|r| {
                [
                    attempt("r", "s", "old", r, scores(true, true, Some(1.0))),
                    attempt("r", "s", "new", r, scores(r != 0, r > 1, Some(1.0))),
                ]
            })
            .collect();
        let rules = Rule::parse_list(
            "accepted_rate:-0.3,accepted_first_submit_rate:-0.3,cost_ratio:+0,frechet_m:+0",
        )
        .unwrap();
        let c = compare(
            &side("r", Some("old"), all.clone()),
            &side("r", Some("new"), all),
            &rules,
            &CompareOptions::default(),
        )
        .unwrap();
        let tripped: Vec<&str> =
            c.rules.iter().filter(|r| r.tripped).map(|r| r.rule.as_str()).collect();
        assert_eq!(tripped, ["accepted_first_submit_rate:-0.3"], "{:?}", c.rules);
        assert_eq!(c.rules[0].delta, Some(-0.25));
        assert_eq!(c.rules[3].delta, None, "no Fréchet values: not checked");
        assert!(c.failed());
    }

    #[test]
    fn metric_names_round_trip() {
        for m in Metric::ALL {
            assert_eq!(m.name().parse::<Metric>(), Ok(m));
            assert_eq!(serde_json::to_value(m).unwrap(), m.name());
        }
        assert_eq!(Metric::ALL.iter().filter(|m| m.kind() == MetricKind::Binary).count(), 3);
    }
}
