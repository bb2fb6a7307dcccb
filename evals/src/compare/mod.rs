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
//!
//! Campaign runs (`eval campaign`) compare campaign by campaign ([`campaign`]); [`load_sides`]
//! loads either kind and refuses a sol run against a campaign run.

pub mod campaign;
mod gate;
mod metrics;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use self::campaign::CampaignSide;
pub use self::gate::{Rule, RuleOutcome};
use self::metrics::{binary_delta, continuous_delta, per_sol};
pub use self::metrics::{BinaryDelta, ContinuousDelta, Metric, MetricKind, SolDelta};
use crate::error::EvalError;
use crate::score::AttemptScores;
use crate::store::{RunKind, RunRecord, Store, StoredAttempt};

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
    /// One side is a sol run and the other a campaign run: their scores do not pair.
    #[error(
        "`{a}` is a {a_kind} run and `{b}` is a {b_kind} run: compare sol runs with sol runs and \
         campaign runs with campaign runs"
    )]
    MixedKinds {
        /// A as given.
        a: String,
        /// A's kind.
        a_kind: RunKind,
        /// B as given.
        b: String,
        /// B's kind.
        b_kind: RunKind,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] EvalError),
}

/// The run `spec` names and the cell it picks (`model:prompt`), if any: the whole spec is tried
/// as a run id first, then every split at a colon, so run ids and model names may hold colons.
fn resolve(store: &Store, spec: &str) -> Result<(RunRecord, Option<String>), CompareError> {
    if let Some(run) = store.run(spec)? {
        return Ok((run, None));
    }
    for (i, _) in spec.match_indices(':') {
        if let Some(run) = store.run(&spec[..i])? {
            return Ok((run, Some(spec[i + 1..].to_owned())));
        }
    }
    Err(CompareError::UnknownRun { run: spec.to_owned(), db: store.path().to_path_buf() })
}

/// Two sides loaded, of the same kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Sides {
    /// Two sol runs or cells: [`compare`].
    Sol(Side, Side),
    /// Two campaign runs or cells: [`campaign::compare_campaigns`].
    Campaign(CampaignSide, CampaignSide),
}

/// Loads sides `a` and `b` from the store, each a run id or `RUN:model:prompt`; a sol run
/// against a campaign run is [`CompareError::MixedKinds`].
pub fn load_sides(store: &Store, a: &str, b: &str) -> Result<Sides, CompareError> {
    let (ka, kb) = (resolve(store, a)?.0.kind, resolve(store, b)?.0.kind);
    match (ka, kb) {
        (RunKind::Sol, RunKind::Sol) => {
            Ok(Sides::Sol(Side::load(store, a)?, Side::load(store, b)?))
        }
        (RunKind::Campaign, RunKind::Campaign) => {
            Ok(Sides::Campaign(CampaignSide::load(store, a)?, CampaignSide::load(store, b)?))
        }
        _ => Err(CompareError::MixedKinds {
            a: a.to_owned(),
            a_kind: ka,
            b: b.to_owned(),
            b_kind: kb,
        }),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::mcnemar_exact;
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
    fn rules_are_checked_against_the_deltas() {
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
}
