//! Campaign runs compared: two campaign runs (or two models of one), campaign by campaign.
//!
//! A side is a campaign run or one cell (`RUN:model:prompt`) of it, as for sol runs. Campaigns
//! pair by campaign id when each side holds one cell, and by (campaign, model, prompt) when both
//! are whole runs with the same cells. Reaching the goal is compared with McNemar's exact test
//! on the discordant pairs; sols used, the length and cost ratios against the reference, km,
//! drive hours, the first-submit rate, tokens, USD and wall time by the mean paired delta with
//! the seeded bootstrap ([`crate::stats`]).
//!
//! Suites hold few campaigns (`campaign-ci` one, `campaign` three), so every metric carries a
//! verdict that says when the pairs are too few to tell anything: the bootstrap needs
//! [`MIN_PAIRS`] pairs, and McNemar's test cannot reach p < 0.05 with under six discordant
//! pairs whichever way they split. Sides equal on every campaign are said to be equal, at any n.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{count, join, Cell, CompareError, CompareOptions, SideInfo};
use crate::campaign::CampaignScore;
use crate::stats::{bootstrap_mean, mcnemar_exact};
use crate::store::{RunKind, Store, StoredCampaign};

/// Fewest pairs the bootstrap gives a verdict on. Under five campaigns a percentile interval
/// is drawn from a handful of distinct resamples (four pairs have 35) and is far too narrow.
pub const MIN_PAIRS: u32 = 5;

/// The significance level verdicts are stated at.
const ALPHA: f64 = 0.05;

/// What is compared between two campaigns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignMetric {
    /// The goal was reached (binary).
    Reached,
    /// Sols used.
    Sols,
    /// Sols used over the reference's.
    SolsRatio,
    /// Km driven over the reference's.
    LengthRatio,
    /// Twin drive hours over the reference's.
    CostRatio,
    /// Km driven.
    Km,
    /// Twin drive hours.
    DriveHours,
    /// Share of sols accepted on their first submission.
    FirstSubmitRate,
    /// Tokens spent.
    Tokens,
    /// USD spent.
    CostUsd,
    /// Wall time, seconds.
    WallS,
}

impl CampaignMetric {
    /// Every metric, the binary one first, in the order tables print them.
    pub const ALL: [CampaignMetric; 11] = [
        CampaignMetric::Reached,
        CampaignMetric::Sols,
        CampaignMetric::SolsRatio,
        CampaignMetric::LengthRatio,
        CampaignMetric::CostRatio,
        CampaignMetric::Km,
        CampaignMetric::DriveHours,
        CampaignMetric::FirstSubmitRate,
        CampaignMetric::Tokens,
        CampaignMetric::CostUsd,
        CampaignMetric::WallS,
    ];

    /// The name in tables and JSON.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            CampaignMetric::Reached => "reached",
            CampaignMetric::Sols => "sols",
            CampaignMetric::SolsRatio => "sols_ratio",
            CampaignMetric::LengthRatio => "length_ratio",
            CampaignMetric::CostRatio => "cost_ratio",
            CampaignMetric::Km => "km",
            CampaignMetric::DriveHours => "drive_hours",
            CampaignMetric::FirstSubmitRate => "first_submit_rate",
            CampaignMetric::Tokens => "tokens",
            CampaignMetric::CostUsd => "cost_usd",
            CampaignMetric::WallS => "wall_s",
        }
    }

    /// A continuous metric's value (`None` for `reached`, an absent ratio, or not finite).
    #[must_use]
    pub fn value(self, s: &CampaignScore) -> Option<f64> {
        let v = match self {
            CampaignMetric::Reached => None,
            CampaignMetric::Sols => Some(s.sols as f64),
            CampaignMetric::SolsRatio => s.sols_ratio,
            CampaignMetric::LengthRatio => s.length_ratio,
            CampaignMetric::CostRatio => s.cost_ratio,
            CampaignMetric::Km => Some(s.km),
            CampaignMetric::DriveHours => Some(s.drive_hours),
            CampaignMetric::FirstSubmitRate => Some(s.first_submit_rate),
            CampaignMetric::Tokens => Some(s.tokens as f64),
            CampaignMetric::CostUsd => Some(s.cost_usd),
            CampaignMetric::WallS => Some(s.wall_s),
        };
        v.filter(|x| x.is_finite())
    }
}

impl fmt::Display for CampaignMetric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One side: a campaign run, or one cell of it, with its stored campaigns.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignSide {
    /// As the user wrote it.
    pub spec: String,
    /// The run.
    pub run_id: String,
    /// The cell picked, or `None` for the whole run.
    pub cell: Option<Cell>,
    /// Its campaigns (only the cell's when a cell is picked).
    pub campaigns: Vec<StoredCampaign>,
}

fn cell_of(c: &StoredCampaign) -> Cell {
    Cell { model: c.score.model.clone(), prompt: c.score.prompt.clone() }
}

impl CampaignSide {
    /// Loads `spec` (a campaign run's id, or `RUN:model:prompt`) from the store.
    pub fn load(store: &Store, spec: &str) -> Result<CampaignSide, CompareError> {
        let (run, cell) = super::resolve(store, spec)?;
        let campaigns = store.campaigns(&run.id)?;
        let Some(cell) = cell else {
            return Ok(CampaignSide {
                spec: spec.to_owned(),
                run_id: run.id,
                cell: None,
                campaigns,
            });
        };
        let mut cells: BTreeSet<Cell> = run
            .models
            .iter()
            .flat_map(|m| run.prompts.iter().map(|p| Cell { model: m.clone(), prompt: p.clone() }))
            .collect();
        cells.extend(campaigns.iter().map(cell_of));
        let Some(picked) = cells.iter().find(|c| c.to_string() == cell).cloned() else {
            return Err(CompareError::UnknownCell { run: run.id, cell, cells: join(&cells) });
        };
        Ok(CampaignSide {
            spec: spec.to_owned(),
            run_id: run.id,
            campaigns: campaigns.into_iter().filter(|c| cell_of(c) == picked).collect(),
            cell: Some(picked),
        })
    }

    /// The cells its campaigns belong to.
    #[must_use]
    pub fn cells(&self) -> BTreeSet<Cell> {
        self.campaigns.iter().map(cell_of).collect()
    }
}

/// How campaigns were paired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum CampaignPairing {
    /// By campaign id, A's one cell against B's.
    AcrossCells {
        /// A's cell.
        a: Cell,
        /// B's cell.
        b: Cell,
    },
    /// By (campaign, model, prompt), cell against the same cell.
    PerCell {
        /// The cells both runs hold.
        cells: Vec<Cell>,
    },
}

impl fmt::Display for CampaignPairing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CampaignPairing::AcrossCells { a, b } => write!(f, "by campaign, {a} vs {b}"),
            CampaignPairing::PerCell { cells } => {
                write!(f, "by (campaign, model, prompt) over cells {}", join(cells))
            }
        }
    }
}

/// Reaching the goal compared: rates over the pairs and McNemar's exact test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReachedDelta {
    /// Pairs.
    pub n: u32,
    /// A's share reached.
    pub a_rate: f64,
    /// B's share reached.
    pub b_rate: f64,
    /// `b_rate − a_rate`.
    pub delta: f64,
    /// Both reached.
    pub both: u32,
    /// Only A reached.
    pub only_a: u32,
    /// Only B reached.
    pub only_b: u32,
    /// Neither reached.
    pub neither: u32,
    /// Two-sided exact McNemar p-value.
    pub p_value: f64,
    /// What can be said, in words.
    pub verdict: String,
}

/// A continuous metric compared: the mean paired delta, with a bootstrap interval when the
/// pairs are enough.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignDelta {
    /// Which metric.
    pub metric: CampaignMetric,
    /// Pairs where both sides have a value.
    pub n: u32,
    /// A's mean over those pairs.
    pub a_mean: Option<f64>,
    /// B's mean.
    pub b_mean: Option<f64>,
    /// Mean of `B − A`.
    pub delta: Option<f64>,
    /// 95% bootstrap interval of the mean delta (`None` under [`MIN_PAIRS`] pairs).
    pub ci: Option<[f64; 2]>,
    /// Two-sided bootstrap p-value (`None` under [`MIN_PAIRS`] pairs).
    pub p_value: Option<f64>,
    /// What can be said, in words.
    pub verdict: String,
}

/// One side of one pair, as the per-campaign table shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignFigures {
    /// Reached the goal.
    pub reached: bool,
    /// Sols used.
    pub sols: usize,
    /// Sols over the reference's.
    pub sols_ratio: Option<f64>,
    /// Km over the reference's.
    pub length_ratio: Option<f64>,
    /// Drive hours over the reference's.
    pub cost_ratio: Option<f64>,
    /// First-submit acceptance.
    pub first_submit_rate: f64,
    /// USD.
    pub cost_usd: f64,
}

impl From<&CampaignScore> for CampaignFigures {
    fn from(s: &CampaignScore) -> Self {
        CampaignFigures {
            reached: s.reached,
            sols: s.sols,
            sols_ratio: s.sols_ratio,
            length_ratio: s.length_ratio,
            cost_ratio: s.cost_ratio,
            first_submit_rate: s.first_submit_rate,
            cost_usd: s.cost_usd,
        }
    }
}

/// One pair: the same campaign on both sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignPair {
    /// The campaign's id.
    pub campaign: String,
    /// The cell, when pairing cell by cell.
    pub cell: Option<Cell>,
    /// A's figures.
    pub a: CampaignFigures,
    /// B's figures.
    pub b: CampaignFigures,
}

/// Two campaign sides compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignComparison {
    /// Always [`RunKind::Campaign`], so JSON readers can tell it from a sol comparison.
    pub kind: RunKind,
    /// The baseline side (its `attempts` count campaigns).
    pub a: SideInfo,
    /// The candidate; deltas are `B − A`.
    pub b: SideInfo,
    /// How campaigns were paired.
    pub pairing: CampaignPairing,
    /// Pairs.
    pub pairs: u32,
    /// Bootstrap settings used.
    pub options: CompareOptions,
    /// The goal reached.
    pub reached: ReachedDelta,
    /// The other metrics, in [`CampaignMetric::ALL`] order.
    pub continuous: Vec<CampaignDelta>,
    /// Each pair, in campaign order.
    pub per_campaign: Vec<CampaignPair>,
}

/// Compares campaign side `b` against `a`. Pure and deterministic for given `options`.
pub fn compare_campaigns(
    a: &CampaignSide,
    b: &CampaignSide,
    options: &CompareOptions,
) -> Result<CampaignComparison, CompareError> {
    for (name, side) in [("A", a), ("B", b)] {
        if side.campaigns.is_empty() {
            return Err(CompareError::NothingPairs(format!(
                "{name} `{}` holds no scored campaigns; nothing to compare",
                side.spec
            )));
        }
    }
    let (ca, cb) = (a.cells(), b.cells());
    let single = |cells: &BTreeSet<Cell>| cells.first().filter(|_| cells.len() == 1).cloned();
    let pairing = if let (Some(x), Some(y)) = (single(&ca), single(&cb)) {
        CampaignPairing::AcrossCells { a: x, b: y }
    } else if a.cell.is_none() && b.cell.is_none() && ca == cb {
        CampaignPairing::PerCell { cells: ca.iter().cloned().collect() }
    } else {
        return Err(CompareError::Ambiguous(format!(
            "cannot pair A `{}` (cells {}) with B `{}` (cells {}): compare whole campaign runs \
             only when they hold the same cells; otherwise pick one cell per side as \
             RUN:model:prompt",
            a.spec,
            join(&ca),
            b.spec,
            join(&cb)
        )));
    };
    let per_cell = matches!(pairing, CampaignPairing::PerCell { .. });
    let key = |c: &StoredCampaign| (c.score.campaign.clone(), per_cell.then(|| cell_of(c)));
    let by_key: BTreeMap<_, &StoredCampaign> = b.campaigns.iter().map(|c| (key(c), c)).collect();
    let pairs: Vec<(&CampaignScore, &CampaignScore, Option<Cell>)> = a
        .campaigns
        .iter()
        .filter_map(|x| {
            let (k, cell) = key(x);
            by_key.get(&(k, cell.clone())).map(|y| (&x.score, &y.score, cell))
        })
        .collect();
    if pairs.is_empty() {
        let ids = |s: &CampaignSide| {
            join(s.campaigns.iter().map(|c| c.score.campaign.as_str()).collect::<BTreeSet<_>>())
        };
        return Err(CompareError::NothingPairs(format!(
            "no campaign of A `{}` pairs with one of B `{}` ({pairing}): A has {}, B has {}",
            a.spec,
            b.spec,
            ids(a),
            ids(b)
        )));
    }
    let n = count(pairs.len());
    let info = |s: &CampaignSide, cells: &BTreeSet<Cell>| SideInfo {
        spec: s.spec.clone(),
        run_id: s.run_id.clone(),
        cells: cells.iter().cloned().collect(),
        attempts: count(s.campaigns.len()),
        unpaired: count(s.campaigns.len()).saturating_sub(n),
    };
    let scores: Vec<(&CampaignScore, &CampaignScore)> = pairs.iter().map(|p| (p.0, p.1)).collect();
    let continuous = CampaignMetric::ALL
        .into_iter()
        .enumerate()
        .skip(1)
        .map(|(i, m)| continuous(m, &scores, options, i as u64))
        .collect();
    Ok(CampaignComparison {
        kind: RunKind::Campaign,
        a: info(a, &ca),
        b: info(b, &cb),
        pairs: n,
        options: *options,
        reached: reached(&scores),
        continuous,
        per_campaign: pairs
            .iter()
            .map(|(x, y, cell)| CampaignPair {
                campaign: x.campaign.clone(),
                cell: cell.clone(),
                a: CampaignFigures::from(*x),
                b: CampaignFigures::from(*y),
            })
            .collect(),
        pairing,
    })
}

fn reached(pairs: &[(&CampaignScore, &CampaignScore)]) -> ReachedDelta {
    let (mut both, mut only_a, mut only_b, mut neither) = (0u32, 0u32, 0u32, 0u32);
    for (a, b) in pairs {
        match (a.reached, b.reached) {
            (true, true) => both += 1,
            (true, false) => only_a += 1,
            (false, true) => only_b += 1,
            (false, false) => neither += 1,
        }
    }
    let n = count(pairs.len());
    let rate = |k: u32| f64::from(k) / f64::from(n.max(1));
    let (a_rate, b_rate) = (rate(both + only_a), rate(both + only_b));
    let p_value = mcnemar_exact(only_a, only_b);
    let discordant = only_a + only_b;
    let verdict = if discordant == 0 {
        format!("the same on all {n} campaign(s)")
    } else if mcnemar_exact(0, discordant) > ALPHA {
        format!(
            "{discordant} campaign(s) differ: too few for a verdict (McNemar's test needs at \
             least 6 differing campaigns to reach p < 0.05)"
        )
    } else if p_value < ALPHA {
        format!("B reaches the goal {} often ({})", more(b_rate - a_rate), p_text(p_value))
    } else {
        format!("no significant difference ({})", p_text(p_value))
    };
    ReachedDelta {
        n,
        a_rate,
        b_rate,
        delta: b_rate - a_rate,
        both,
        only_a,
        only_b,
        neither,
        p_value,
        verdict,
    }
}

/// `p = 0.123`, or `p < 0.001` where three decimals would print 0.
fn p_text(p: f64) -> String {
    if p < 0.001 {
        "p < 0.001".into()
    } else {
        format!("p = {p:.3}")
    }
}

fn more(delta: f64) -> &'static str {
    if delta > 0.0 {
        "more"
    } else {
        "less"
    }
}

fn continuous(
    metric: CampaignMetric,
    pairs: &[(&CampaignScore, &CampaignScore)],
    options: &CompareOptions,
    stream: u64,
) -> CampaignDelta {
    let values: Vec<(f64, f64)> =
        pairs.iter().filter_map(|(a, b)| metric.value(a).zip(metric.value(b))).collect();
    let n = count(values.len());
    let mean = |f: &dyn Fn(&(f64, f64)) -> f64| {
        (!values.is_empty()).then(|| values.iter().map(f).sum::<f64>() / values.len() as f64)
    };
    let deltas: Vec<f64> = values.iter().map(|(x, y)| y - x).collect();
    let boot = (n >= MIN_PAIRS)
        .then(|| {
            let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
            rng.set_stream(stream);
            bootstrap_mean(&deltas, options.resamples, &mut rng)
        })
        .flatten();
    let delta = mean(&|v| v.1 - v.0);
    let verdict = if n == 0 {
        "no pair has it on both sides".to_owned()
    } else if deltas.iter().all(|d| *d == 0.0) {
        format!("the same on all {n} campaign(s)")
    } else if let Some(b) = boot {
        if b.p_value < ALPHA {
            let way = if delta > Some(0.0) { "higher" } else { "lower" };
            format!("B {way} ({})", p_text(b.p_value))
        } else {
            format!("no significant difference ({})", p_text(b.p_value))
        }
    } else {
        format!("n = {n}: too few campaigns for a verdict (the bootstrap needs {MIN_PAIRS})")
    };
    CampaignDelta {
        metric,
        n,
        a_mean: mean(&|v| v.0),
        b_mean: mean(&|v| v.1),
        delta,
        ci: boot.map(|b| b.ci),
        p_value: boot.map(|b| b.p_value),
        verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::testutil::{run, score, sol};
    use crate::compare::{load_sides, Sides};
    use crate::store::RunRecord;

    fn stored(run_id: &str, s: CampaignScore) -> StoredCampaign {
        StoredCampaign { run_id: run_id.into(), score: s, sols: vec![sol(1)] }
    }

    fn side(run_id: &str, campaigns: Vec<StoredCampaign>) -> CampaignSide {
        CampaignSide { spec: run_id.into(), run_id: run_id.into(), cell: None, campaigns }
    }

    #[test]
    fn one_campaign_each_says_the_sides_are_equal_or_that_n_is_too_small() {
        let a = side("a", vec![stored("a", score("x", "reference", true, 2.0))]);
        let c = compare_campaigns(&a, &a.clone(), &CompareOptions::default()).unwrap();
        assert_eq!(c.pairs, 1);
        assert_eq!(c.reached.verdict, "the same on all 1 campaign(s)");
        assert!(c.continuous.iter().all(|d| d.verdict == "the same on all 1 campaign(s)"));

        // B drives 10% more and misses the goal: a delta, but no verdict on one campaign.
        let b = side("b", vec![stored("b", score("x", "reference", false, 2.2))]);
        let c = compare_campaigns(&a, &b, &CompareOptions::default()).unwrap();
        assert_eq!((c.reached.only_a, c.reached.delta), (1, -1.0));
        assert!(c.reached.verdict.contains("too few for a verdict"), "{}", c.reached.verdict);
        let len = c.continuous.iter().find(|d| d.metric == CampaignMetric::LengthRatio).unwrap();
        assert!((len.delta.unwrap() - 0.1).abs() < 1e-12);
        assert_eq!((len.ci, len.p_value), (None, None));
        assert!(len.verdict.starts_with("n = 1: too few campaigns"), "{}", len.verdict);
        assert_eq!(c.per_campaign[0].campaign, "x");
        assert!(c.per_campaign[0].a.reached && !c.per_campaign[0].b.reached);
    }

    #[test]
    fn enough_campaigns_give_a_verdict() {
        // Eight campaigns; B drives 5-12% more on every one and reaches the same goals.
        let ids: Vec<String> = (0..8).map(|i| format!("c{i}")).collect();
        let a: Vec<StoredCampaign> =
            ids.iter().map(|id| stored("a", score(id, "reference", true, 2.0))).collect();
        let b: Vec<StoredCampaign> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| stored("b", score(id, "noisy", true, 2.1 + 0.02 * i as f64)))
            .collect();
        let c =
            compare_campaigns(&side("a", a), &side("b", b), &CompareOptions::default()).unwrap();
        assert!(matches!(&c.pairing, CampaignPairing::AcrossCells { a, b }
            if a.model == "reference" && b.model == "noisy"));
        assert_eq!(c.pairs, 8);
        let km = c.continuous.iter().find(|d| d.metric == CampaignMetric::Km).unwrap();
        assert!(km.p_value.unwrap() < 0.05 && km.ci.unwrap()[0] > 0.0, "{km:?}");
        assert!(km.verdict.starts_with("B higher"), "{}", km.verdict);
        let sols = c.continuous.iter().find(|d| d.metric == CampaignMetric::Sols).unwrap();
        assert_eq!(sols.verdict, "the same on all 8 campaign(s)");
    }

    #[test]
    fn sides_load_from_the_store_and_kinds_do_not_mix() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("b.db")).unwrap();
        let mut two = run("c1");
        two.models = vec!["reference".into(), "noisy".into()];
        store.create_run(&two).unwrap();
        for m in ["reference", "noisy"] {
            store.put_campaign("c1", &score("x", m, true, 2.0), &[sol(1)]).unwrap();
        }
        let sol_run = RunRecord { id: "s1".into(), kind: RunKind::Sol, ..run("s1") };
        store.create_run(&sol_run).unwrap();

        let Sides::Campaign(a, b) = load_sides(&store, "c1:reference:v1", "c1:noisy:v1").unwrap()
        else {
            panic!("campaign sides expected")
        };
        let c = compare_campaigns(&a, &b, &CompareOptions::default()).unwrap();
        assert_eq!((c.pairs, c.a.unpaired, c.b.unpaired), (1, 0, 0));
        // The whole run against itself pairs cell by cell.
        let Sides::Campaign(a, b) = load_sides(&store, "c1", "c1").unwrap() else { panic!() };
        let c = compare_campaigns(&a, &b, &CompareOptions::default()).unwrap();
        assert!(matches!(&c.pairing, CampaignPairing::PerCell { cells } if cells.len() == 2));
        // The whole run against one of its cells is ambiguous.
        let Sides::Campaign(a, b) = load_sides(&store, "c1", "c1:noisy:v1").unwrap() else {
            panic!()
        };
        let e = compare_campaigns(&a, &b, &CompareOptions::default()).unwrap_err().to_string();
        assert!(e.contains("noisy:v1, reference:v1"), "{e}");

        let e = load_sides(&store, "s1", "c1").unwrap_err();
        assert!(matches!(e, CompareError::MixedKinds { .. }), "{e}");
        let msg = e.to_string();
        assert!(
            msg.contains("`s1` is a sol run") && msg.contains("`c1` is a campaign run"),
            "{msg}"
        );
        let e = load_sides(&store, "c1:gpt:v1", "c1").unwrap_err().to_string();
        assert!(e.contains("no cell `gpt:v1`"), "{e}");
    }
}
