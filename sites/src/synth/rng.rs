//! Deterministic randomness: one independent ChaCha8 stream per feature type, and hashed
//! gradient noise for smooth fields.
//!
//! Why streams: if every feature drew from one generator, adding a single rock would shift every
//! crater drawn after it. Each feature type instead seeds its own `ChaCha8Rng` from
//! `seed ^ STREAM_CONSTANT`, so changing the rock parameters leaves the craters byte-identical.
//!
//! Why hashed noise: smooth fields (roughness, albedo patches) are evaluated per pixel in
//! parallel; a pure function of `(seed, x, y)` gives the same value whatever the evaluation order.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Named random streams; the value is XOR-ed into the site seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Stream {
    /// Preset layout (where a preset places its hand features).
    Layout = 0x6c61_796f_7574_0001,
    /// Regional relief (undulation directions, phases).
    Relief = 0x7265_6c69_6566_0002,
    /// The random crater population.
    Craters = 0x6372_6174_6572_0003,
    /// Background rocks.
    Rocks = 0x726f_636b_7300_0004,
    /// Boulder-field rocks.
    BoulderFields = 0x626f_756c_6465_0005,
    /// Crater ejecta blocks.
    Ejecta = 0x656a_6563_7461_0006,
    /// Talus blocks at the foot of scarps.
    Talus = 0x7461_6c75_7300_0007,
    /// Noise seeds for roughness and albedo.
    Noise = 0x6e6f_6973_6500_0008,
    /// Image grain.
    Grain = 0x6772_6169_6e00_0009,
}

/// A fresh generator for `stream` of the site `seed`.
#[must_use]
pub fn stream(seed: u64, stream: Stream) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed ^ stream as u64)
}

/// A generator for the `index`-th item of a stream (e.g. the ejecta of crater 17), independent
/// of how many items came before it.
#[must_use]
pub fn substream(seed: u64, stream: Stream, index: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(splitmix64(seed ^ stream as u64 ^ splitmix64(index)))
}

/// SplitMix64 finaliser: a cheap, well-mixed 64-bit hash.
#[must_use]
pub fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A uniform value in `[0, 1)` hashed from `(seed, a, b)`.
#[must_use]
pub fn hash_unit(seed: u64, a: u64, b: u64) -> f64 {
    let h = splitmix64(seed ^ splitmix64(a ^ splitmix64(b)));
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// Sixteen unit gradient directions (Perlin's improved noise uses a small fixed set too).
const GRADIENTS: [(f64, f64); 16] = {
    // cos/sin of k * 22.5 deg + 11.25 deg, precomputed so that noise needs no trigonometry.
    [
        (0.980_785_280_403_230_4, 0.195_090_322_016_128_26),
        (0.831_469_612_302_545_2, 0.555_570_233_019_602_2),
        (0.555_570_233_019_602_2, 0.831_469_612_302_545_2),
        (0.195_090_322_016_128_26, 0.980_785_280_403_230_4),
        (-0.195_090_322_016_128_26, 0.980_785_280_403_230_4),
        (-0.555_570_233_019_602_2, 0.831_469_612_302_545_2),
        (-0.831_469_612_302_545_2, 0.555_570_233_019_602_2),
        (-0.980_785_280_403_230_4, 0.195_090_322_016_128_26),
        (-0.980_785_280_403_230_4, -0.195_090_322_016_128_26),
        (-0.831_469_612_302_545_2, -0.555_570_233_019_602_2),
        (-0.555_570_233_019_602_2, -0.831_469_612_302_545_2),
        (-0.195_090_322_016_128_26, -0.980_785_280_403_230_4),
        (0.195_090_322_016_128_26, -0.980_785_280_403_230_4),
        (0.555_570_233_019_602_2, -0.831_469_612_302_545_2),
        (0.831_469_612_302_545_2, -0.555_570_233_019_602_2),
        (0.980_785_280_403_230_4, -0.195_090_322_016_128_26),
    ]
};

/// Standard deviation of [`perlin`] over the plane (measured, see the test below); dividing by
/// it gives noise of unit RMS, so amplitudes in the parameters are RMS heights in metres.
pub const PERLIN_STD: f64 = 0.21;

/// 2-D gradient (Perlin) noise with unit lattice spacing, roughly in `[-0.7, 0.7]`, zero at
/// lattice points. A pure function of `(seed, x, y)`.
#[must_use]
pub fn perlin(seed: u64, x: f64, y: f64) -> f64 {
    let (fx, fy) = (floor(x), floor(y));
    let (ix, iy) = (fx as i64, fy as i64);
    perlin_with(&Corners::new(seed, ix, iy), x - fx, y - fy)
}

/// `x.floor()`, bit for bit, for `|x| < 2^63` (noise coordinates are far smaller), inline:
/// without SSE4.1 in the baseline target, `f64::floor` is a call into libm, and the noise makes
/// two per octave per pixel.
#[inline]
fn floor(x: f64) -> f64 {
    let t = x as i64 as f64;
    if t > x {
        t - 1.0
    } else if t == x {
        // Integral: x itself, which keeps the sign of -0.0 as floor does.
        x
    } else {
        t
    }
}

/// The gradients at the four corners of one lattice cell of [`perlin`].
#[derive(Debug, Clone, Copy)]
struct Corners {
    ix: i64,
    iy: i64,
    g: [(f64, f64); 4],
}

impl Corners {
    fn new(seed: u64, ix: i64, iy: i64) -> Self {
        let grad = |cx: i64, cy: i64| {
            let h = splitmix64(
                seed ^ (cx as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
                    ^ (cy as u64).wrapping_mul(0xc2b2_ae3d_27d4_eb4f),
            );
            GRADIENTS[(h >> 60) as usize]
        };
        Corners {
            ix,
            iy,
            g: [grad(ix, iy), grad(ix + 1, iy), grad(ix, iy + 1), grad(ix + 1, iy + 1)],
        }
    }
}

/// Perlin noise at offset `(tx, ty)` in the cell whose corner gradients are `c`.
#[inline]
fn perlin_with(c: &Corners, tx: f64, ty: f64) -> f64 {
    let dot = |(gx, gy): (f64, f64), dx: f64, dy: f64| gx * dx + gy * dy;
    let n00 = dot(c.g[0], tx, ty);
    let n10 = dot(c.g[1], tx - 1.0, ty);
    let n01 = dot(c.g[2], tx, ty - 1.0);
    let n11 = dot(c.g[3], tx - 1.0, ty - 1.0);
    let (u, v) = (fade(tx), fade(ty));
    let a = n00 + (n10 - n00) * u;
    let b = n01 + (n11 - n01) * u;
    a + (b - a) * v
}

fn fade(t: f64) -> f64 {
    t * t * t * (t * (t * 6.0 - 15.0) + 10.0)
}

/// Fractional Brownian motion: octaves of unit-RMS gradient noise from `wavelength_max` down to
/// `wavelength_min` (halving each octave), amplitude scaled by `2^(-hurst)` per octave, each
/// octave rotated and offset so no lattice direction dominates. Returns a value of roughly unit
/// RMS (the octave amplitudes are normalised).
#[derive(Debug, Clone)]
pub struct Fbm {
    octaves: Vec<Octave>,
}

#[derive(Debug, Clone)]
struct Octave {
    seed: u64,
    freq: f64,
    amp: f64,
    cos: f64,
    sin: f64,
    off_x: f64,
    off_y: f64,
}

impl Fbm {
    /// Builds the octave set (at most 16 octaves, down to `wavelength_min`).
    #[must_use]
    pub fn new(seed: u64, wavelength_max: f64, wavelength_min: f64, hurst: f64) -> Self {
        let wavelength_min = wavelength_min.max(wavelength_max / 1024.0);
        let mut octaves = Vec::new();
        let mut lambda = wavelength_max;
        let mut i = 0u64;
        while lambda >= wavelength_min * 0.999 && i < 16 {
            let s = splitmix64(seed ^ (0xf00d + i));
            let angle = hash_unit(s, 1, 0) * std::f64::consts::TAU;
            octaves.push(Octave {
                seed: s,
                freq: 1.0 / lambda,
                amp: 2f64.powf(-(i as f64) * hurst),
                cos: angle.cos(),
                sin: angle.sin(),
                off_x: hash_unit(s, 2, 0) * 1000.0,
                off_y: hash_unit(s, 3, 0) * 1000.0,
            });
            lambda /= 2.0;
            i += 1;
        }
        let norm = octaves.iter().map(|o| o.amp * o.amp).sum::<f64>().sqrt().max(1e-12);
        for o in &mut octaves {
            o.amp /= norm * PERLIN_STD;
        }
        Fbm { octaves }
    }

    /// The field at `(x, y)` metres; roughly unit RMS.
    #[must_use]
    pub fn at(&self, x: f64, y: f64) -> f64 {
        let mut sum = 0.0;
        for o in &self.octaves {
            let u = (o.cos * x - o.sin * y) * o.freq + o.off_x;
            let v = (o.sin * x + o.cos * y) * o.freq + o.off_y;
            sum += o.amp * perlin(o.seed, u, v);
        }
        sum
    }

    /// A sampler for many nearby points (a row of pixels): the same values as [`Fbm::at`], but
    /// each octave keeps the corner gradients of the last lattice cell it was evaluated in, so
    /// neighbouring pixels skip the four hashes (at half-metre pixels a cell of the coarsest
    /// octaves spans hundreds of them). Why: this noise is most of a large site's run time.
    #[must_use]
    pub fn sampler(&self) -> FbmSampler<'_> {
        FbmSampler { fbm: self, cells: vec![None; self.octaves.len()] }
    }
}

/// See [`Fbm::sampler`].
#[derive(Debug, Clone)]
pub struct FbmSampler<'a> {
    fbm: &'a Fbm,
    cells: Vec<Option<Corners>>,
}

impl FbmSampler<'_> {
    /// [`Fbm::at`], bit for bit.
    #[must_use]
    pub fn at(&mut self, x: f64, y: f64) -> f64 {
        let mut sum = 0.0;
        for (o, cell) in self.fbm.octaves.iter().zip(&mut self.cells) {
            let u = (o.cos * x - o.sin * y) * o.freq + o.off_x;
            let v = (o.sin * x + o.cos * y) * o.freq + o.off_y;
            let (fu, fv) = (floor(u), floor(v));
            let (iu, iv) = (fu as i64, fv as i64);
            let c = match cell {
                Some(c) if c.ix == iu && c.iy == iv => c,
                _ => cell.insert(Corners::new(o.seed, iu, iv)),
            };
            sum += o.amp * perlin_with(c, u - fu, v - fv);
        }
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_are_independent_and_repeatable() {
        let a: u64 = stream(7, Stream::Craters).gen();
        let b: u64 = stream(7, Stream::Rocks).gen();
        let c: u64 = stream(7, Stream::Craters).gen();
        assert_ne!(a, b);
        assert_eq!(a, c);
        let s1: u64 = substream(7, Stream::Ejecta, 1).gen();
        let s2: u64 = substream(7, Stream::Ejecta, 2).gen();
        assert_ne!(s1, s2);
    }

    #[test]
    fn perlin_std_matches_constant() {
        let mut sum2 = 0.0;
        let mut n = 0.0;
        for i in 0..200 {
            for j in 0..200 {
                let v = perlin(3, f64::from(i) * 0.173 + 0.05, f64::from(j) * 0.191 + 0.07);
                assert!(v.abs() < 1.0);
                sum2 += v * v;
                n += 1.0;
            }
        }
        let std = (sum2 / n).sqrt();
        assert!((std - PERLIN_STD).abs() < 0.03, "perlin std {std}");
    }

    #[test]
    fn floor_is_f64_floor() {
        for x in [
            0.0,
            -0.0,
            0.5,
            -0.5,
            -1.0,
            1.0,
            2.5,
            -2.5,
            1e15 + 0.5,
            -1e15 - 0.5,
            4_503_599_627_370_497.0,
        ] {
            assert_eq!(floor(x).to_bits(), x.floor().to_bits(), "{x}");
        }
    }

    #[test]
    fn the_sampler_gives_the_values_of_at() {
        let f = Fbm::new(5, 160.0, 1.0, 0.7);
        let mut s = f.sampler();
        for i in 0..3000 {
            let (x, y) = (f64::from(i) * 0.25 - 300.0, 17.3 - f64::from(i % 37) * 0.5);
            assert_eq!(s.at(x, y).to_bits(), f.at(x, y).to_bits(), "{x} {y}");
        }
    }

    #[test]
    fn fbm_is_roughly_unit_rms() {
        let f = Fbm::new(11, 20.0, 1.0, 0.8);
        let mut sum2 = 0.0;
        let mut n = 0.0;
        for i in 0..150 {
            for j in 0..150 {
                let v = f.at(f64::from(i) * 1.3, f64::from(j) * 1.3);
                sum2 += v * v;
                n += 1.0;
            }
        }
        let rms = (sum2 / n).sqrt();
        assert!((0.7..1.3).contains(&rms), "fbm rms {rms}");
    }
}
