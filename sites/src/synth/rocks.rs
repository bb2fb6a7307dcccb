//! Rocks: the Golombek size-frequency model, sampled bin by bin, and their shapes.
//!
//! Model (ROVER.md 3a \[G1, G2\]): the fraction of ground covered by rocks of diameter >= D is
//! F(D) = k exp(-q D) with q = 1.79 + 0.152 / k, k the total rock cover. Sampling: a diameter bin
//! \[D1, D2\] over area A holds A (F(D1) - F(D2)) / (pi Dmid^2 / 4) rocks, the fractional part
//! decided by the RNG. Height h = ratio D with ratio uniform in the configured range (0.25-0.5).
//!
//! Shape: a half-ellipsoid of diameter D and height h sitting on the terrain, area-averaged over
//! each ortho pixel (3x3 sub-samples) so that sub-pixel rocks add their true volume instead of
//! vanishing between pixel centres.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::canvas::Canvas;
use super::geometry::Point;
use super::rng::hash_unit;

/// Width of a diameter bin, m.
const BIN_WIDTH: f64 = 0.05;

/// A rock on the site.
#[derive(Debug, Clone, PartialEq)]
pub struct Rock {
    /// Centre, site-local m.
    pub x: f64,
    /// Centre, site-local m.
    pub y: f64,
    /// Diameter, m.
    pub diameter: f64,
    /// Height above the surrounding ground, m.
    pub height: f64,
    /// Where it came from (background, boulder field, ejecta, talus).
    pub source: RockSource,
}

/// Which population a rock belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RockSource {
    /// Background cover.
    Background,
    /// Inside boulder field `i` (listed in hazards as the field, not one by one).
    BoulderField(usize),
    /// Ejecta block of crater `i` (index in the painted crater list).
    Ejecta(usize),
    /// Talus below scarp `i`.
    Talus(usize),
}

impl RockSource {
    /// The population's name in `hazards.geojson`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            RockSource::Background => "background",
            RockSource::BoulderField(_) => "boulder_field",
            RockSource::Ejecta(_) => "ejecta",
            RockSource::Talus(_) => "talus",
        }
    }
}

/// Golombek's q for rock cover `k` (ROVER.md 3a).
#[must_use]
pub fn golombek_q(k: f64) -> f64 {
    1.79 + 0.152 / k
}

/// Cumulative fractional area F(D) = k exp(-q D) covered by rocks of diameter >= `d`.
#[must_use]
pub fn cumulative_area(k: f64, d: f64) -> f64 {
    if k <= 0.0 {
        return 0.0;
    }
    k * (-golombek_q(k) * d).exp()
}

/// Size law and shape range shared by one sampling call.
#[derive(Debug, Clone, Copy)]
pub struct RockLaw {
    /// Rock cover k.
    pub k: f64,
    /// Smallest diameter, m.
    pub d_min: f64,
    /// Largest diameter, m.
    pub d_max: f64,
    /// Height/diameter ratio range.
    pub ratio: (f64, f64),
}

/// Draws rocks for `area` m² bin by bin; `place` draws a centre in the region (returning `None`
/// rejects the rock: sand, off-site, a boulder field the background must not double-count).
pub fn sample(
    rng: &mut ChaCha8Rng,
    law: RockLaw,
    area: f64,
    source: RockSource,
    mut place: impl FnMut(&mut ChaCha8Rng) -> Option<Point>,
) -> Vec<Rock> {
    let mut rocks = Vec::new();
    if law.k <= 0.0 || area <= 0.0 || law.d_max <= law.d_min {
        return rocks;
    }
    let bins = ((law.d_max - law.d_min) / BIN_WIDTH).ceil().max(1.0) as usize;
    let width = (law.d_max - law.d_min) / bins as f64;
    for b in 0..bins {
        let d1 = law.d_min + b as f64 * width;
        let d2 = d1 + width;
        let mid = f64::midpoint(d1, d2);
        let n = area * (cumulative_area(law.k, d1) - cumulative_area(law.k, d2))
            / (std::f64::consts::PI * mid * mid / 4.0);
        let count = n.floor() as usize + usize::from(rng.gen_range(0.0..1.0) < n.fract());
        for _ in 0..count {
            let d = rng.gen_range(d1..d2);
            let ratio = if law.ratio.1 > law.ratio.0 {
                rng.gen_range(law.ratio.0..law.ratio.1)
            } else {
                law.ratio.0
            };
            if let Some([x, y]) = place(rng) {
                rocks.push(Rock { x, y, diameter: d, height: ratio * d, source });
            }
        }
    }
    rocks
}

/// Adds a rock to the canvas: height into `z` (area-averaged half-ellipsoid) and its brighter
/// albedo weighted by the pixel fraction it covers. `seed` varies the albedo from rock to rock.
pub fn paint(canvas: &mut Canvas, rock: &Rock, seed: u64) {
    let r = rock.diameter / 2.0;
    let Some(w) = canvas.window(rock.x - r, rock.y - r, rock.x + r, rock.y + r) else {
        return;
    };
    let albedo = 0.56 + 0.2 * hash_unit(seed, rock.x.to_bits(), rock.y.to_bits());
    let sub: &[f64] = if r > 2.0 * canvas.cell { &[0.0] } else { &[-1.0 / 3.0, 0.0, 1.0 / 3.0] };
    let n_sub = (sub.len() * sub.len()) as f64;
    let r2 = r * r;
    for row in w.r0..w.r1 {
        for col in w.c0..w.c1 {
            let [cx, cy] = canvas.centre(col, row);
            let mut height = 0.0;
            let mut cover = 0.0;
            for oy in sub {
                for ox in sub {
                    let dx = cx + ox * canvas.cell - rock.x;
                    let dy = cy + oy * canvas.cell - rock.y;
                    let t = 1.0 - (dx * dx + dy * dy) / r2;
                    if t > 0.0 {
                        height += rock.height * t.sqrt();
                        cover += 1.0;
                    }
                }
            }
            if cover > 0.0 {
                let i = canvas.idx(col, row);
                canvas.z[i] += (height / n_sub) as f32;
                let a = f64::from(canvas.albedo[i]);
                canvas.albedo[i] = (a + (albedo - a) * cover / n_sub) as f32;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn sampler_reproduces_cumulative_area() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let side = 400.0;
        for k in [0.05, 0.2] {
            let law = RockLaw { k, d_min: 0.3, d_max: 4.0, ratio: (0.25, 0.5) };
            let rocks = sample(&mut rng, law, side * side, RockSource::Background, |r| {
                Some([r.gen_range(0.0..side), r.gen_range(0.0..side)])
            });
            for d in [0.3, 0.6, 1.0, 1.5] {
                let covered: f64 = rocks
                    .iter()
                    .filter(|r| r.diameter >= d)
                    .map(|r| std::f64::consts::PI * r.diameter * r.diameter / 4.0)
                    .sum();
                let got = covered / (side * side);
                let want = cumulative_area(k, d) - cumulative_area(k, 4.0);
                // Counting noise: about 1/sqrt(rocks) relative, rocks ~ area F / disc area.
                let rocks_expected = want * side * side / (std::f64::consts::PI * d * d / 4.0);
                let tol = 0.03 + 3.0 / rocks_expected.sqrt();
                assert!((got / want - 1.0).abs() < tol, "k {k} F({d}) = {got}, want {want}");
            }
            assert!(rocks
                .iter()
                .all(|r| r.height >= 0.25 * r.diameter - 1e-12
                    && r.height <= 0.5 * r.diameter + 1e-12));
        }
    }

    #[test]
    fn rock_volume_is_preserved_when_painted() {
        let mut c = Canvas::new(40, 0.5, 0.5);
        for (x, d) in [(5.1, 0.4), (12.3, 1.2), (15.0, 3.0)] {
            let rock =
                Rock { x, y: 10.2, diameter: d, height: 0.4 * d, source: RockSource::Background };
            let before: f64 = c.z.iter().map(|&v| f64::from(v)).sum();
            paint(&mut c, &rock, 1);
            let after: f64 = c.z.iter().map(|&v| f64::from(v)).sum();
            let volume = (after - before) * 0.25;
            // Half-ellipsoid: (2/3) pi r^2 h.
            let want = 2.0 / 3.0 * std::f64::consts::PI * (d / 2.0) * (d / 2.0) * 0.4 * d;
            assert!((volume / want - 1.0).abs() < 0.3, "D {d}: {volume} vs {want}");
        }
    }
}
