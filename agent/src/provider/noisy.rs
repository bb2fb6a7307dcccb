//! The `noisy` provider: an offline, seeded policy that is **not a language model**, made to
//! give evals real differences to measure with no key and no network.
//!
//! It takes the baseline planner's route (as [`crate::provider::reference`] does), perturbs its waypoints
//! with seeded noise and now and then inserts a rule-breaking waypoint (one outside the keep-in
//! polygon), and submits it without a dry run. When the checker rejects it, it submits again with
//! less noise, up to [`NoisyConfig::max_submits`] times. Where the planner finds no safe route it
//! sometimes submits the straight line anyway (an overconfident model), and otherwise refuses.
//!
//! Its decisions are a pure function of the seed, the sol and the conversation so far (how many
//! routes it has submitted), so a run is reproducible per seed.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use breadcrumb_tools::checker::Pt;
use breadcrumb_tools::terrain::LoadedSol;
use rand::{Rng, SeedableRng};
use serde_json::json;

pub use crate::provider::baseline::Baseline;
use crate::provider::{
    Content, ModelRequest, ModelResponse, Provider, ProviderError, ProviderKind, Role, ToolCall,
};

/// Says what this provider is, in every turn's text.
pub const DISCLAIMER: &str =
    "[noisy policy: seeded perturbations of the baseline planner's route, not a language model]";

/// The knobs of the noisy policy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoisyConfig {
    /// Seed of every random choice.
    pub seed: u64,
    /// Radius of the jitter of interior waypoints on the first submission, metres (halved on
    /// each later one).
    pub jitter_m: f64,
    /// Radius of the jitter of the last waypoint (the goal) on the first submission, metres.
    pub goal_jitter_m: f64,
    /// Chance that the first submission carries a rule-breaking waypoint (halved on each later
    /// one); also the chance of submitting the straight line where there is no safe route.
    pub break_rate: f64,
    /// Most routes it submits before giving up.
    pub max_submits: u32,
}

impl Default for NoisyConfig {
    fn default() -> Self {
        NoisyConfig { seed: 0, jitter_m: 1.5, goal_jitter_m: 0.5, break_rate: 0.3, max_submits: 4 }
    }
}

/// The noisy policy for one sol.
#[derive(Debug)]
pub struct NoisyProvider {
    sol: LoadedSol,
    cfg: NoisyConfig,
    baseline: Arc<OnceLock<Baseline>>,
}

impl NoisyProvider {
    /// The policy for `sol`; the planner runs on its first turn, once.
    #[must_use]
    pub fn new(sol: &LoadedSol, cfg: NoisyConfig) -> Self {
        NoisyProvider { sol: sol.clone(), cfg, baseline: Arc::new(OnceLock::new()) }
    }

    /// The policy for `sol` starting from a baseline already planned (evals plan each sol once).
    #[must_use]
    pub fn with_baseline(sol: &LoadedSol, cfg: NoisyConfig, baseline: Baseline) -> Self {
        let cell = OnceLock::new();
        let _ = cell.set(baseline);
        NoisyProvider { sol: sol.clone(), cfg, baseline: Arc::new(cell) }
    }

    async fn baseline(&self) -> Result<Baseline, ProviderError> {
        if let Some(b) = self.baseline.get() {
            return Ok(b.clone());
        }
        let (sol, cell) = (self.sol.clone(), Arc::clone(&self.baseline));
        tokio::task::spawn_blocking(move || cell.get_or_init(|| Baseline::plan(&sol)).clone())
            .await
            .map_err(|e| ProviderError::BadResponse {
                provider: ProviderKind::Noisy,
                endpoint: "local".into(),
                detail: format!("planner task failed: {e}"),
            })
    }

    /// The route of submission `k` (1-based) from the baseline `route`.
    #[must_use]
    pub fn perturbed(&self, route: &[Pt], k: u32) -> Vec<Pt> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(
            self.cfg.seed ^ u64::from(k).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        let decay = 0.5f64.powi(k.saturating_sub(1) as i32);
        let mut out: Vec<Pt> = route.to_vec();
        let n = out.len();
        for (i, p) in out.iter_mut().enumerate().skip(1) {
            let r = if i + 1 == n { self.cfg.goal_jitter_m } else { self.cfg.jitter_m } * decay;
            let (dx, dy) = in_disc(&mut rng, r);
            *p = (p.0 + dx, p.1 + dy);
        }
        if n >= 2 && rng.gen_bool((self.cfg.break_rate * decay).clamp(0.0, 1.0)) {
            let i = rng.gen_range(0..n - 1);
            let mid =
                (f64::midpoint(out[i].0, out[i + 1].0), f64::midpoint(out[i].1, out[i + 1].1));
            out.insert(i + 1, self.outside_keep_in(mid));
        }
        out
    }

    /// A point 5 m beyond the keep-in polygon's bounding box, on the side nearest to `p`.
    fn outside_keep_in(&self, p: Pt) -> Pt {
        let k = &self.sol.sol.keep_in;
        if k.is_empty() {
            return (p.0 + 500.0, p.1);
        }
        let fold =
            |f: fn(f64, f64) -> f64, i: usize, init: f64| k.iter().map(|q| q[i]).fold(init, f);
        let (x0, x1) = (fold(f64::min, 0, f64::INFINITY), fold(f64::max, 0, f64::NEG_INFINITY));
        let (y0, y1) = (fold(f64::min, 1, f64::INFINITY), fold(f64::max, 1, f64::NEG_INFINITY));
        let sides = [
            (p.0 - x0, (x0 - 5.0, p.1)),
            (x1 - p.0, (x1 + 5.0, p.1)),
            (p.1 - y0, (p.0, y0 - 5.0)),
            (y1 - p.1, (p.0, y1 + 5.0)),
        ];
        sides.iter().min_by(|a, b| a.0.total_cmp(&b.0)).map_or(p, |s| s.1)
    }
}

/// A uniform point in the disc of radius `r`.
fn in_disc(rng: &mut impl Rng, r: f64) -> (f64, f64) {
    if r <= 0.0 {
        return (0.0, 0.0);
    }
    let a = rng.gen_range(0.0..std::f64::consts::TAU);
    let d = r * rng.gen_range(0.0f64..1.0).sqrt();
    (d * a.cos(), d * a.sin())
}

/// Routes submitted so far in the conversation.
fn submits_so_far(request: &ModelRequest) -> u32 {
    let n = request
        .messages
        .iter()
        .filter(|m| m.role == Role::Assistant)
        .flat_map(|m| m.content.iter())
        .filter(|c| matches!(c, Content::ToolCall(tc) if tc.name == "submit_route"))
        .count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn submit(turn: usize, route: &[Pt], rationale: &str) -> ToolCall {
    let waypoints: serde_json::Value =
        route.iter().map(|p| json!({"x_m": p.0, "y_m": p.1})).collect();
    ToolCall {
        id: format!("noisy_{turn}_0"),
        name: "submit_route".into(),
        arguments: json!({"waypoints": waypoints, "rationale": rationale}),
    }
}

#[async_trait::async_trait]
impl Provider for NoisyProvider {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Noisy
    }

    fn model(&self) -> &'static str {
        "noisy"
    }

    async fn complete(&self, request: &ModelRequest) -> Result<ModelResponse, ProviderError> {
        let started = Instant::now();
        let turn = crate::provider::baseline::assistant_turns(request);
        let k = submits_so_far(request) + 1;
        let (text, tool_calls) = match self.baseline().await? {
            _ if k > self.cfg.max_submits => {
                (format!("{} routes rejected; I give up.", k - 1), vec![])
            }
            Baseline::Route { waypoints, .. } => {
                let r = self.perturbed(&waypoints, k);
                (
                    format!("Submitting route {k} ({} waypoints) without a dry run.", r.len()),
                    vec![submit(turn, &r, "the planner's route, roughly")],
                )
            }
            Baseline::NoRoute(reason) => {
                let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(self.cfg.seed);
                if k == 1 && rng.gen_bool(self.cfg.break_rate.clamp(0.0, 1.0)) {
                    let s = &self.sol.sol;
                    let line = [(s.start.x, s.start.y), (s.goal.x, s.goal.y)];
                    (
                        "The planner found nothing; trying the straight line.".to_owned(),
                        vec![submit(turn, &line, "straight to the goal")],
                    )
                } else {
                    (format!("No safe route: {reason}"), vec![])
                }
            }
        };
        Ok(crate::provider::baseline::offline_reply(
            "noisy", DISCLAIMER, &text, tool_calls, started,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sol() -> LoadedSol {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures/sols/plains-01.toml");
        breadcrumb_tools::terrain::Sol::load(&path).expect("fixture sol")
    }

    #[test]
    fn perturbation_is_deterministic_keeps_the_start_and_shrinks() {
        let sol = sol();
        let route = vec![(-109.0, 1_090_554.0), (0.0, 1_090_600.0), (90.0, 1_090_714.0)];
        let cfg = NoisyConfig { seed: 7, break_rate: 0.0, ..NoisyConfig::default() };
        let p = NoisyProvider::new(&sol, cfg);
        let a = p.perturbed(&route, 1);
        assert_eq!(a, p.perturbed(&route, 1));
        assert_eq!(a[0], route[0]);
        assert_eq!(a.len(), 3);
        let off = |r: &[Pt]| (r[1].0 - route[1].0).hypot(r[1].1 - route[1].1);
        assert!(off(&a) <= 1.5 + 1e-9);
        assert!(off(&p.perturbed(&route, 3)) <= 1.5 / 4.0 + 1e-9);
        let other = NoisyProvider::new(&sol, NoisyConfig { seed: 8, ..cfg });
        assert_ne!(a, other.perturbed(&route, 1));
    }

    #[test]
    fn a_rule_breaking_waypoint_lies_outside_the_keep_in() {
        let sol = sol();
        let route = vec![(-109.0, 1_090_554.0), (0.0, 1_090_600.0), (90.0, 1_090_714.0)];
        let cfg = NoisyConfig { seed: 1, break_rate: 1.0, ..NoisyConfig::default() };
        let r = NoisyProvider::new(&sol, cfg).perturbed(&route, 1);
        assert_eq!(r.len(), 4);
        assert!(r.iter().any(|p| p.0.abs() > 152.0 || !(1_090_502.0..=1_090_806.0).contains(&p.1)));
    }
}
