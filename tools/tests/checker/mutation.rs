//! A mutation corpus: passing routes (the 22 real Gale drives and random passing routes on the
//! fixture sites) with one waypoint pushed into a hazard, onto a steep slope, past the spacing
//! limit, or outside the keep-in. Every mutant must fail, naming the rule that was broken.

use breadcrumb_tools::analysis::footprint::Footprint;
use breadcrumb_tools::analysis::tilt::tilt_on;
use breadcrumb_tools::checker::plan::load_routes;
use breadcrumb_tools::checker::rules::hazards::blocks;
use breadcrumb_tools::checker::{Checker, Mission, Pt, Verdict};
use breadcrumb_tools::terrain::{Bundle, Hazard, HazardClass, RoverProfile};
use geo::InteriorPoint;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::common::{fixture_sites, hazard, perseverance, square, TestSite};
use crate::realdata;

/// Places where the rover is over its tilt limit whatever its heading (footprint tilt more
/// than 2° over the limit at every heading in 15° steps), sampled every 3 m.
fn steep_spots(site: &TestSite, p: &RoverProfile) -> Vec<Pt> {
    let g = &site.dem;
    let t = g.transform;
    let (w, h) = (g.width as f64 * t.dx.abs(), g.height as f64 * t.dy.abs());
    let (x0, y0) = (t.x0, t.y0 + g.height as f64 * t.dy);
    let mut out = Vec::new();
    let mut y = 5.0;
    while y < h - 5.0 {
        let mut x = 5.0;
        while x < w - 5.0 {
            let steep = (0..12).all(|k| {
                let fp = Footprint::new(
                    x0 + x,
                    y0 + y,
                    f64::from(k) * 15.0,
                    p.footprint.half_length_m,
                    p.footprint.half_width_m,
                )
                .unwrap();
                tilt_on(g, &fp).is_some_and(|t| t.tilt_deg > p.limits.max_tilt_deg + 2.0)
            });
            if steep {
                out.push((x0 + x, y0 + y));
            }
            x += 3.0;
        }
        y += 3.0;
    }
    out
}

fn nearest(spots: &[Pt], p: Pt) -> Option<Pt> {
    spots.iter().copied().min_by(|a, b| {
        let d = |q: &Pt| (q.0 - p.0).hypot(q.1 - p.1);
        d(a).total_cmp(&d(b))
    })
}

/// Random passing routes on a site: 3-5 waypoints, legs of 8-30 m.
fn passing_routes(site: &TestSite, p: &RoverProfile, want: usize, seed: u64) -> Vec<Vec<Pt>> {
    let checker = Checker::new(&site.dem, &site.hazards, p);
    let t = site.dem.transform;
    let (w, h) = (site.dem.width as f64 * t.dx.abs(), site.dem.height as f64 * t.dy.abs());
    let (x0, y0) = (t.x0, t.y0 + site.dem.height as f64 * t.dy);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::new();
    for _ in 0..4000 {
        if out.len() == want {
            break;
        }
        let mut pts =
            vec![(x0 + rng.gen_range(20.0..w - 20.0), y0 + rng.gen_range(20.0..h - 20.0))];
        let mut heading: f64 = rng.gen_range(0.0..360.0);
        for _ in 0..rng.gen_range(2..5) {
            heading += rng.gen_range(-60.0..60.0);
            let len = rng.gen_range(8.0..30.0);
            let last = *pts.last().unwrap();
            pts.push((
                last.0 + len * heading.to_radians().sin(),
                last.1 + len * heading.to_radians().cos(),
            ));
        }
        if checker.check(&Mission::for_route(&pts, p), &pts).unwrap().pass {
            out.push(pts);
        }
    }
    out
}

struct Tally {
    kind: &'static str,
    tried: usize,
    caught: usize,
}

fn expect_rule(t: &mut Tally, v: &Verdict, rule: &str, what: &str) {
    t.tried += 1;
    assert!(!v.pass, "{what}: mutant passed: {}", v.to_json());
    assert!(
        v.failed_rules().contains(&rule),
        "{what}: expected `{rule}`, got {:?}",
        v.failed_rules()
    );
    t.caught += 1;
}

#[test]
fn every_mutant_of_a_passing_route_fails_on_the_right_rule() {
    let p = perseverance();
    let mut sites = fixture_sites();
    let gale_dir = realdata("gale-marias-pass");
    let gale = Bundle::open(&gale_dir).unwrap();
    sites.push(TestSite {
        dem: gale.dem.read_all().unwrap(),
        hazards: Vec::new(),
        name: "gale-marias-pass".into(),
    });
    let (drives, _) = load_routes(&gale_dir.join("drives.geojson")).unwrap();
    let mut tallies = [
        Tally { kind: "into a hazard", tried: 0, caught: 0 },
        Tally { kind: "onto a steep slope", tried: 0, caught: 0 },
        Tally { kind: "past the spacing limit", tried: 0, caught: 0 },
        Tally { kind: "outside the keep-in", tried: 0, caught: 0 },
    ];
    let mut originals = 0;
    for (si, site) in sites.iter().enumerate() {
        let routes: Vec<Vec<Pt>> = if site.name == "gale-marias-pass" {
            drives.iter().filter(|d| d.points.len() >= 2).map(|d| d.points.clone()).collect()
        } else {
            passing_routes(site, &p, 12, 100 + si as u64)
        };
        let spots = steep_spots(site, &p);
        println!("{}: {} passing routes, {} steep spots", site.name, routes.len(), spots.len());
        let mut rng = ChaCha8Rng::seed_from_u64(si as u64);
        for (ri, route) in routes.iter().enumerate() {
            let checker = Checker::new(&site.dem, &site.hazards, &p);
            let base = Mission::for_route(route, &p);
            assert!(
                checker.check(&base, route).unwrap().pass,
                "{} route {ri} must pass unmutated",
                site.name
            );
            originals += 1;
            let n = route.len();
            let i = rng.gen_range(1..n);
            let what = |k: &str| format!("{} route {ri}, waypoint {i} {k}", site.name);

            // Into a hazard: the nearest blocking mapped hazard, or a mapped rock placed 6 m
            // beside the waypoint where the site has none.
            let mut hazards: Vec<Hazard> = site.hazards.clone();
            let target = hazards
                .iter()
                .filter(|h| blocks(h.class))
                .filter_map(|h| h.shape.interior_point().map(|c| (c.x(), c.y())))
                .min_by(|a, b| {
                    let d = |q: &Pt| (q.0 - route[i].0).hypot(q.1 - route[i].1);
                    d(a).total_cmp(&d(b))
                })
                .filter(|c| (c.0 - route[i].0).hypot(c.1 - route[i].1) < 60.0);
            let target = target.unwrap_or_else(|| {
                let c = (route[i].0 + 6.0, route[i].1);
                hazards.push(hazard(
                    hazards.len(),
                    HazardClass::Rock,
                    square(c.0 - 0.5, c.1 - 0.5, 1.0),
                ));
                c
            });
            let mut m = route.clone();
            m[i] = target;
            let v = Checker::new(&site.dem, &hazards, &p)
                .check(&Mission::for_route(&m, &p), &m)
                .unwrap();
            expect_rule(&mut tallies[0], &v, "hazards", &what("into a hazard"));

            // Onto a steep slope.
            if let Some(s) = nearest(&spots, route[i]) {
                let mut m = route.clone();
                m[i] = s;
                let v = checker.check(&Mission::for_route(&m, &p), &m).unwrap();
                expect_rule(&mut tallies[1], &v, "tilt", &what("onto a slope"));
            }

            // Past the spacing limit: the waypoint 0.5 m beyond the limit from its predecessor.
            let (a, b) = (route[i - 1], route[i]);
            let len = (b.0 - a.0).hypot(b.1 - a.1).max(1e-9);
            let far = p.limits.max_waypoint_spacing_m + 0.5;
            let mut m = route.clone();
            m[i] = (a.0 + (b.0 - a.0) / len * far, a.1 + (b.1 - a.1) / len * far);
            if len < 1e-6 {
                m[i] = (a.0 + far, a.1);
            }
            let v = checker.check(&Mission::for_route(&m, &p), &m).unwrap();
            expect_rule(&mut tallies[2], &v, "spacing", &what("past the spacing limit"));

            // Outside the keep-in: a keep-in 8 m around the route, the waypoint 4 m beyond it.
            let (xmin, ymin, xmax, ymax) = route.iter().fold(
                (f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY),
                |(a, b, c, d), q| (a.min(q.0), b.min(q.1), c.max(q.0), d.max(q.1)),
            );
            let mut mission = base.clone();
            mission.keep_in =
                Some(square(xmin - 8.0, ymin - 8.0, (xmax - xmin).max(ymax - ymin) + 16.0));
            assert!(
                checker.check(&mission, route).unwrap().pass,
                "{}: route {ri} inside its keep-in",
                site.name
            );
            let mut m = route.clone();
            m[i] = (xmin - 12.0, route[i].1);
            let mut mm = Mission::for_route(&m, &p);
            mm.keep_in = mission.keep_in.clone();
            let v = checker.check(&mm, &m).unwrap();
            expect_rule(&mut tallies[3], &v, "keep_in", &what("outside the keep-in"));
        }
    }
    println!("mutation corpus over {originals} passing routes:");
    for t in &tallies {
        println!("  {:<24} {} of {} mutants fail on the right rule", t.kind, t.caught, t.tried);
    }
    assert!(
        tallies.iter().all(|t| t.tried >= 40 && t.caught == t.tried),
        "every kind must be exercised"
    );
}
