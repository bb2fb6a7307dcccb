//! An independent brute-force oracle, and a proptest over 10 000+ random routes: the checker
//! never passes a route the oracle fails (rule by rule), and its conservatism (routes it fails
//! that the oracle passes) is printed.
//!
//! The oracle shares nothing with the checker but the DEM grid it reads: its own motion
//! sampling (2 cm steps along segments, 0.5° steps in turns), its own cell selection, plane fit
//! (3 x 3 normal equations solved by Cramer's rule, about the pose centre), step measure,
//! point-in-polygon and distances. It is written to be obviously right, not fast.

use std::collections::BTreeSet;

use breadcrumb_tools::checker::{Checker, Mission, Pt, Verdict};
use breadcrumb_tools::geometry::{polygon_from_ring, polyline_length};
use breadcrumb_tools::terrain::{Grid, Hazard, HazardClass, RoverProfile};
use geo::Polygon;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use super::common::{fixture_sites, perseverance, rough_site, TestSite};
use crate::realdata;

/// Sampling step along segments, metres (the checker's walk averages ~0.17 m on a 1 m DEM).
const DENSE_STEP_M: f64 = 0.02;
/// Sampling step in turns, degrees.
const DENSE_TURN_DEG: f64 = 0.5;

/// What the oracle found.
#[derive(Debug, Default, Clone)]
pub struct OracleVerdict {
    pub failed: BTreeSet<&'static str>,
    pub max_tilt: Option<f64>,
    pub max_step: Option<f64>,
    pub max_belly: Option<f64>,
}

/// A case: the route and everything it is judged against.
#[derive(Debug, Clone)]
pub struct Case {
    pub route: Vec<Pt>,
    pub start: Pt,
    pub start_heading: Option<f64>,
    pub goal: Pt,
    pub goal_tol: f64,
    pub keep_in: Option<Vec<Pt>>,
    pub keep_out: Vec<Vec<Pt>>,
    pub budget: f64,
    pub profile: RoverProfile,
}

fn z_at(g: &Grid, col: i64, row: i64) -> Option<f64> {
    if col < 0 || row < 0 || col >= g.width as i64 || row >= g.height as i64 {
        return None;
    }
    let v = g.data[row as usize * g.width + col as usize];
    if v.is_nan() {
        None
    } else {
        Some(f64::from(v))
    }
}

/// Terrain under one pose: `None` when unknown, else (tilt°, step m, belly m).
fn ground(g: &Grid, x: f64, y: f64, heading: f64, hl: f64, hw: f64) -> Option<(f64, f64, f64)> {
    let t = g.transform;
    let (s, c) = heading.to_radians().sin_cos();
    let reach = hl.hypot(hw) + t.dx.abs();
    let col_a = ((x - reach - t.x0) / t.dx).floor() as i64;
    let col_b = ((x + reach - t.x0) / t.dx).ceil() as i64;
    let row_a = ((y + reach - t.y0) / t.dy).floor() as i64;
    let row_b = ((y - reach - t.y0) / t.dy).ceil() as i64;
    // (col, row, east, north, z)
    let mut cells: Vec<(i64, i64, f64, f64, f64)> = Vec::new();
    for row in row_a..=row_b {
        for col in col_a..=col_b {
            let e = t.x0 + (col as f64 + 0.5) * t.dx - x;
            let n = t.y0 + (row as f64 + 0.5) * t.dy - y;
            let along = e * s + n * c;
            let across = e * c - n * s;
            if along.abs() <= hl + 1e-9 && across.abs() <= hw + 1e-9 {
                cells.push((col, row, e, n, z_at(g, col, row)?));
            }
        }
    }
    if cells.len() < 3 {
        return None;
    }
    // Least squares z = a + b e + c n: normal equations, Cramer's rule.
    let (mut s1, mut se, mut sn, mut see, mut sen, mut snn, mut sz, mut sez, mut snz) =
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for &(_, _, e, n, z) in &cells {
        s1 += 1.0;
        se += e;
        sn += n;
        see += e * e;
        sen += e * n;
        snn += n * n;
        sz += z;
        sez += e * z;
        snz += n * z;
    }
    let det3 = |m: [[f64; 3]; 3]| {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let m = [[s1, se, sn], [se, see, sen], [sn, sen, snn]];
    let d = det3(m);
    if d.abs() < 1e-9 {
        return None;
    }
    let a = det3([[sz, se, sn], [sez, see, sen], [snz, sen, snn]]) / d;
    let b = det3([[s1, sz, sn], [se, sez, sen], [sn, snz, snn]]) / d;
    let cc = det3([[s1, se, sz], [se, see, sez], [sn, sen, snz]]) / d;
    let tilt = b.hypot(cc).atan().to_degrees();
    let belly = cells.iter().map(|&(_, _, e, n, z)| z - (a + b * e + cc * n)).fold(0.0, f64::max);
    let mut step = 0.0f64;
    for &(col, row, ..) in &cells {
        // Each adjacent pair once: the neighbour east, north, north-east and north-west.
        for (dc, dr) in [(1, 0), (0, -1), (1, -1), (-1, -1)] {
            if !cells.iter().any(|&(c, r, ..)| (c, r) == (col + dc, row + dr)) {
                continue;
            }
            let zk = |k: i64| z_at(g, col + k * dc, row + k * dr);
            let mut diffs: Vec<f64> = Vec::new();
            for (p, q) in [(-2, -1), (-1, 0), (1, 2), (2, 3)] {
                if let (Some(zp), Some(zq)) = (zk(p), zk(q)) {
                    diffs.push(zq - zp);
                }
            }
            diffs.sort_by(|u, v| u.partial_cmp(v).unwrap());
            let median = match diffs.len() {
                0 => 0.0,
                n if n % 2 == 1 => diffs[n / 2],
                n => diffs[n / 2 - 1].midpoint(diffs[n / 2]),
            };
            step = step.max((zk(1).unwrap() - zk(0).unwrap() - median).abs());
        }
    }
    Some((tilt, step, belly))
}

fn in_ring(p: Pt, ring: &[Pt]) -> bool {
    let mut inside = false;
    for i in 0..ring.len() {
        let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
        if (a.1 > p.1) != (b.1 > p.1) && p.0 < a.0 + (p.1 - a.1) / (b.1 - a.1) * (b.0 - a.0) {
            inside = !inside;
        }
    }
    inside
}

fn dist_to_edges(p: Pt, ring: &[Pt]) -> f64 {
    let mut best = f64::INFINITY;
    for i in 0..ring.len() {
        let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let l2 = dx * dx + dy * dy;
        let t = if l2 == 0.0 {
            0.0
        } else {
            (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / l2).clamp(0.0, 1.0)
        };
        best = best.min((p.0 - a.0 - t * dx).hypot(p.1 - a.1 - t * dy));
    }
    best
}

/// Distance from a point to a polygon (0 inside).
fn dist_to_polygon(p: Pt, ring: &[Pt]) -> f64 {
    if in_ring(p, ring) {
        0.0
    } else {
        dist_to_edges(p, ring)
    }
}

fn ring_of(p: &Polygon<f64>) -> Vec<Pt> {
    let mut v: Vec<Pt> = p.exterior().coords().map(|c| (c.x, c.y)).collect();
    if v.len() > 1 && v.first() == v.last() {
        v.pop();
    }
    v
}

/// The rover's poses, sampled densely: `(x, y, heading)`.
fn poses(route: &[Pt], start_heading: Option<f64>) -> Vec<(f64, f64, f64)> {
    let mut out = Vec::new();
    let mut heading = start_heading;
    let mut moved = false;
    for w in route.windows(2) {
        let (a, b) = (w[0], w[1]);
        let len = (b.0 - a.0).hypot(b.1 - a.1);
        if len == 0.0 {
            continue;
        }
        let h = (b.0 - a.0).atan2(b.1 - a.1).to_degrees();
        if let Some(prev) = heading {
            let mut d = (h - prev).rem_euclid(360.0);
            if d > 180.0 {
                d -= 360.0;
            }
            let n = (d.abs() / DENSE_TURN_DEG).ceil() as usize;
            for k in 0..=n {
                out.push((a.0, a.1, prev + d * k as f64 / n.max(1) as f64));
            }
        }
        let n = (len / DENSE_STEP_M).ceil() as usize;
        for k in 0..=n {
            let t = k as f64 / n as f64;
            out.push((a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1), h));
        }
        heading = Some(h);
        moved = true;
    }
    if !moved {
        out.push((route[0].0, route[0].1, start_heading.unwrap_or(0.0)));
    }
    out
}

/// The oracle's judgement of `case` over `site`.
pub fn judge(site: &TestSite, case: &Case) -> OracleVerdict {
    let p = &case.profile;
    let mut v = OracleVerdict::default();
    let r = &case.route;
    let dist = |a: Pt, b: Pt| (b.0 - a.0).hypot(b.1 - a.1);
    if dist(r[0], case.start) > p.margins.start_tolerance_m {
        v.failed.insert("start");
    }
    if dist(r[r.len() - 1], case.goal) > case.goal_tol {
        v.failed.insert("goal");
    }
    let mut total = 0.0;
    for w in r.windows(2) {
        let d = dist(w[0], w[1]);
        total += d;
        if d > p.limits.max_waypoint_spacing_m {
            v.failed.insert("spacing");
        }
    }
    if total > case.budget {
        v.failed.insert("budget");
    }
    let (hl, hw) = (p.footprint.half_length_m, p.footprint.half_width_m);
    let buffer = hw + p.margins.hazard_margin_m;
    // Only hazards whose bounding box comes within the buffer of the route's can matter.
    let bbox = |pts: &[Pt]| {
        pts.iter()
            .fold((f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY), |b, p| {
                (b.0.min(p.0), b.1.min(p.1), b.2.max(p.0), b.3.max(p.1))
            })
    };
    let rb = bbox(r);
    let near = |ring: &Vec<Pt>| {
        let hb = bbox(ring);
        hb.0 < rb.2 + buffer && hb.2 > rb.0 - buffer && hb.1 < rb.3 + buffer && hb.3 > rb.1 - buffer
    };
    let blocking: Vec<Vec<Pt>> = site
        .hazards
        .iter()
        .filter(|h| h.class != HazardClass::Outcrop)
        .flat_map(|h| h.shape.0.iter().map(ring_of))
        .filter(near)
        .collect();
    for (x, y, heading) in poses(r, case.start_heading) {
        match ground(&site.dem, x, y, heading, hl, hw) {
            None => {
                v.failed.insert("valid_data");
            }
            Some((tilt, step, belly)) => {
                v.max_tilt = Some(v.max_tilt.map_or(tilt, |m: f64| m.max(tilt)));
                v.max_step = Some(v.max_step.map_or(step, |m: f64| m.max(step)));
                v.max_belly = Some(v.max_belly.map_or(belly, |m: f64| m.max(belly)));
                if tilt > p.limits.max_tilt_deg {
                    v.failed.insert("tilt");
                }
                if step > p.limits.max_step_m {
                    v.failed.insert("step");
                }
                if belly > p.limits.max_belly_obstacle_m {
                    v.failed.insert("clearance");
                }
            }
        }
        if case.keep_out.iter().any(|k| dist_to_polygon((x, y), k) < buffer) {
            v.failed.insert("keep_out");
        }
        if blocking.iter().any(|k| dist_to_polygon((x, y), k) < buffer) {
            v.failed.insert("hazards");
        }
        if let Some(k) = &case.keep_in {
            if !in_ring((x, y), k) || dist_to_edges((x, y), k) < hw {
                v.failed.insert("keep_in");
            }
        }
    }
    v
}

fn to_polygon(ring: &[Pt]) -> Polygon<f64> {
    polygon_from_ring(&ring.iter().map(|p| [p.0, p.1]).collect::<Vec<_>>())
}

/// The checker's verdict on `case`.
pub fn checker_verdict(site: &TestSite, hazards: &[Hazard], case: &Case) -> Verdict {
    let mission = Mission {
        label: "case".into(),
        start: case.start,
        start_heading_deg: case.start_heading,
        goal: case.goal,
        goal_tolerance_m: case.goal_tol,
        keep_in: case.keep_in.as_deref().map(to_polygon),
        keep_out: case.keep_out.iter().map(|k| ("zone".to_owned(), to_polygon(k))).collect(),
        drive_budget_m: case.budget,
    };
    Checker::new(&site.dem, hazards, &case.profile).check(&mission, &case.route).unwrap()
}

/// Random routes with random limits, so that every rule both passes and fails often (each
/// perturbation breaks its rule in roughly one case in eight).
fn case_strategy(sites: usize, extent: f64) -> impl Strategy<Value = (usize, Case)> {
    let legs =
        prop::collection::vec((0.0..12.0f64, 0.0..360.0f64, prop::bool::weighted(0.05)), 0..4);
    (
        0..sites,
        (8.0..extent - 8.0, 8.0..extent - 8.0),
        legs,
        prop::option::of(0.0..360.0f64),
        (8.0..35.0f64, 0.1..0.8f64, 0.1..0.9f64, 0.0..1.0f64),
        (
            prop::option::weighted(0.5, (0.0..8.0f64, 0.0..8.0f64)),
            prop::option::weighted(0.3, (0.0..1.0f64, 1.0..8.0f64, -6.0..6.0f64)),
        ),
        (0.0..1.15f64, 0.0..1.15f64, 0.9..2.0f64),
    )
        .prop_map(move |(site, start, legs, start_heading, limits, zones, ends)| {
            let mut p = perseverance();
            (
                p.limits.max_tilt_deg,
                p.limits.max_step_m,
                p.limits.max_belly_obstacle_m,
                p.margins.hazard_margin_m,
            ) = limits;
            p.limits.hard_tilt_deg = 89.0;
            p.limits.max_waypoint_spacing_m = 10.0;
            let mut route = vec![start];
            for (len, h, dup) in legs {
                let last = *route.last().unwrap();
                let len = if dup { 0.0 } else { len };
                let next =
                    (last.0 + len * h.to_radians().sin(), last.1 + len * h.to_radians().cos());
                route.push((next.0.clamp(1.0, extent - 1.0), next.1.clamp(1.0, extent - 1.0)));
            }
            let (xmin, ymin, xmax, ymax) = route.iter().fold(
                (f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY),
                |(a, b, c, d), p| (a.min(p.0), b.min(p.1), c.max(p.0), d.max(p.1)),
            );
            let keep_in = zones.0.map(|(mx, my)| {
                vec![
                    (xmin - mx, ymin - my),
                    (xmax + mx, ymin - my),
                    (xmax + mx, ymax + my),
                    (xmin - mx, ymax + my),
                ]
            });
            let keep_out = zones
                .1
                .map(|(f, side, off)| {
                    let n = route.len() - 1;
                    let i = ((f * n as f64) as usize).min(n);
                    let c = (route[i].0 + off, route[i].1 - off / 2.0);
                    vec![vec![
                        (c.0, c.1),
                        (c.0 + side, c.1),
                        (c.0 + side, c.1 + side),
                        (c.0, c.1 + side),
                    ]]
                })
                .unwrap_or_default();
            let total = polyline_length(&route);
            let (so, go, bf) = ends;
            let last = *route.last().unwrap();
            let case = Case {
                start: (route[0].0 + so, route[0].1),
                start_heading,
                goal: (last.0, last.1 + go),
                goal_tol: 1.0,
                keep_in,
                keep_out,
                budget: (total * bf).max(1.0),
                profile: p,
                route,
            };
            (site, case)
        })
}

/// Moves a case drawn in a site-local frame (south-west corner at 0, 0) onto the site's map.
fn shifted(site: &TestSite, mut case: Case) -> Case {
    let t = site.dem.transform;
    let (ox, oy) = (t.x0, t.y0 + site.dem.height as f64 * t.dy);
    let shift = |p: Pt| (p.0 + ox, p.1 + oy);
    case.route = case.route.iter().map(|&p| shift(p)).collect();
    case.start = shift(case.start);
    case.goal = shift(case.goal);
    case.keep_in = case.keep_in.map(|k| k.into_iter().map(shift).collect());
    case.keep_out = case.keep_out.into_iter().map(|k| k.into_iter().map(shift).collect()).collect();
    case
}

/// One case's outcome.
struct Outcome {
    checker_failed: BTreeSet<String>,
    oracle_failed: BTreeSet<&'static str>,
    /// Checker maximum minus oracle maximum: tilt, step, belly.
    excess: [Option<f64>; 3],
}

/// The test sites: two built in code, the committed fixture sites, and the real Gale DEM.
fn sites() -> Vec<TestSite> {
    let mut sites: Vec<TestSite> = vec![rough_site(11), rough_site(12)];
    sites.extend(fixture_sites());
    let gale = breadcrumb_tools::terrain::Bundle::open(realdata("gale-marias-pass")).unwrap();
    sites.push(TestSite {
        dem: gale.dem.read_all().unwrap(),
        hazards: Vec::new(),
        name: "gale-marias-pass".into(),
    });
    sites
}

#[test]
fn the_checker_never_passes_a_route_the_oracle_fails() {
    use rayon::prelude::*;
    let sites = sites();
    let extent = sites
        .iter()
        .map(|s| (s.dem.width.min(s.dem.height) as f64) * s.dem.transform.dx.abs())
        .fold(200.0, f64::min);
    // Cases come from a proptest strategy with a fixed seed; they are judged in parallel
    // (the comparison is the slow part), and any disagreement is reported with its case.
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[42; 32]),
    );
    let strategy = case_strategy(sites.len(), extent);
    let cases: Vec<(usize, Case)> = (0..10_000)
        .map(|_| {
            let (si, case) = strategy.new_tree(&mut runner).unwrap().current();
            (si, shifted(&sites[si], case))
        })
        .collect();
    let outcomes: Vec<Outcome> = cases
        .par_iter()
        .map(|(si, case)| {
            let site = &sites[*si];
            let oracle = judge(site, case);
            let verdict = checker_verdict(site, &site.hazards, case);
            let s = &verdict.summary;
            let excess = [
                (s.max_tilt_deg, oracle.max_tilt),
                (s.max_step_m, oracle.max_step),
                (s.max_belly_obstacle_m, oracle.max_belly),
            ]
            .map(|(m, o)| m.zip(o).map(|(m, o)| m - o));
            let checker_failed = verdict.failed_rules().into_iter().map(str::to_owned).collect();
            Outcome { checker_failed, oracle_failed: oracle.failed, excess }
        })
        .collect();
    let mut both_pass = 0;
    let mut both_fail = 0;
    let mut checker_only = 0;
    let mut extra = std::collections::BTreeMap::<String, usize>::default();
    let mut excess = [0.0f64; 3];
    for ((si, case), o) in cases.iter().zip(&outcomes) {
        for rule in &o.oracle_failed {
            assert!(
                o.checker_failed.contains(*rule),
                "the oracle fails `{rule}` but the checker does not, on {}: {case:?}",
                sites[*si].name
            );
        }
        for (k, e) in o.excess.iter().enumerate() {
            if let Some(e) = e {
                assert!(
                    *e >= -1e-9,
                    "the checker's maximum {k} is below the oracle's by {e}: {case:?}"
                );
                excess[k] = excess[k].max(*e);
            }
        }
        for r in &o.checker_failed {
            if !o.oracle_failed.contains(r.as_str()) {
                *extra.entry(r.clone()).or_default() += 1;
            }
        }
        match (o.checker_failed.is_empty(), o.oracle_failed.is_empty()) {
            (true, true) => both_pass += 1,
            (false, false) => both_fail += 1,
            (false, true) => checker_only += 1,
            (true, false) => unreachable!("asserted above"),
        }
    }
    let names: Vec<&str> = sites.iter().map(|s| s.name.as_str()).collect();
    println!("oracle comparison: {} routes on {} sites {names:?}", cases.len(), sites.len());
    println!("  both pass {both_pass}, both fail {both_fail}, checker-only fail {checker_only}, oracle-only fail 0");
    println!(
        "  conservatism: {checker_only} of {} oracle-passing routes failed by the checker ({:.2}%)",
        both_pass + checker_only,
        100.0 * f64::from(checker_only) / f64::from((both_pass + checker_only).max(1))
    );
    println!("  rule failures the oracle did not find (per rule, over all routes): {extra:?}");
    println!(
        "  largest excess of the checker's maxima over the oracle's: tilt {:.3}°, step {:.3} m, belly {:.3} m",
        excess[0], excess[1], excess[2]
    );
    assert!(both_pass > 1000 && both_fail > 1000, "cases must exercise both outcomes");
}
