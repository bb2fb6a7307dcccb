//! A seeded synthetic DEM for planner tests and benches (the tools crate cannot use
//! `breadcrumb-sites`' synthesis, which sits above it): rolling relief, craters with raised
//! rims whose walls pass the tilt limit, and scattered rocks taller than the step limit.
//! The planner bench includes this file by path.

use breadcrumb_tools::checker::Pt;
use breadcrumb_tools::cost::{Constraints, CostGrid};
use breadcrumb_tools::terrain::{GeoTransform, Grid};

/// splitmix64: a tiny, well-mixed, seeded stream.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// An `n x n` DEM of 1 m cells (origin at map (0, 0), north up) from `seed`.
#[must_use]
pub fn synthetic_dem(n: usize, seed: u64) -> Grid {
    let mut rng = Rng(seed);
    let waves: Vec<(f64, f64, f64, f64)> = (0..4)
        .map(|_| {
            let len = 80.0 + 300.0 * rng.next();
            let dir = std::f64::consts::TAU * rng.next();
            (dir.cos() / len, dir.sin() / len, std::f64::consts::TAU * rng.next(), 0.012 * len)
        })
        .collect();
    let area = (n * n) as f64;
    // Craters: one per 20 000 m², 8-50 m radius, depth a fifth of the radius.
    let craters: Vec<(f64, f64, f64)> = (0..(area / 20_000.0).ceil() as usize)
        .map(|_| (rng.next() * n as f64, rng.next() * n as f64, 8.0 + 42.0 * rng.next()))
        .collect();
    // Rocks: one per 150 m², 0.4-0.9 m radius, 0.2-0.8 m high.
    let rocks: Vec<(f64, f64, f64, f64)> = (0..(area / 150.0) as usize)
        .map(|_| {
            (
                rng.next() * n as f64,
                rng.next() * n as f64,
                0.4 + 0.5 * rng.next(),
                0.2 + 0.6 * rng.next(),
            )
        })
        .collect();
    let mut z = vec![0f32; n * n];
    for r in 0..n {
        for c in 0..n {
            let (x, y) = (c as f64 + 0.5, r as f64 + 0.5);
            let mut h = 0.0;
            for &(kx, ky, ph, amp) in &waves {
                h += amp * (std::f64::consts::TAU * (kx * x + ky * y) + ph).sin();
            }
            z[r * n + c] = h as f32;
        }
    }
    let mut stamp = |cx: f64, cy: f64, reach: f64, f: &dyn Fn(f64) -> f64| {
        let (c0, c1) =
            ((cx - reach).floor().max(0.0) as usize, ((cx + reach).ceil() as usize).min(n));
        let (r0, r1) =
            ((cy - reach).floor().max(0.0) as usize, ((cy + reach).ceil() as usize).min(n));
        for r in r0..r1 {
            for c in c0..c1 {
                let d = (c as f64 + 0.5 - cx).hypot(r as f64 + 0.5 - cy);
                if d < reach {
                    z[r * n + c] += f(d) as f32;
                }
            }
        }
    };
    for &(cx, cy, rad) in &craters {
        let depth = 0.2 * rad;
        stamp(cx, cy, 1.6 * rad, &|d| {
            let t = d / rad;
            if t < 1.0 {
                depth * (t * t - 1.0) + 0.15 * depth
            } else {
                0.15 * depth * (-(t - 1.0) * 5.0).exp()
            }
        });
    }
    for &(cx, cy, rad, hgt) in &rocks {
        stamp(cx, cy, rad, &|d| hgt * (1.0 - (d / rad).powi(2)).sqrt());
    }
    let t = GeoTransform { x0: 0.0, y0: n as f64, dx: 1.0, dy: -1.0 };
    Grid { width: n, height: n, transform: t, data: z }
}

/// The centre of the feasible cell (passable, with some heading allowed) nearest `p`, found
/// spiralling out ring by ring up to `reach` cells; panics when there is none.
#[must_use]
pub fn feasible_near(g: &CostGrid, p: Pt, reach: i64) -> Pt {
    let (c, r) = g.col_row(g.cell_at(p).expect("on the site"));
    for rad in 0..reach {
        for dr in -rad..=rad {
            for dc in -rad..=rad {
                if dr.abs().max(dc.abs()) != rad {
                    continue;
                }
                if let Some(i) = g.index(c as i64 + dc, r as i64 + dr) {
                    if g.passable(i, Constraints::NONE) && g.axes(i, Constraints::NONE) != 0 {
                        return g.centre(i);
                    }
                }
            }
        }
    }
    panic!("no feasible cell near {p:?}")
}
