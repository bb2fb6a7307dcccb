//! Separable filters on row-major `f32` rasters: running minimum and maximum (grey-scale
//! erosion and dilation with a square, van Herk / Gil-Werman: three comparisons a cell
//! whatever the window) and running box means. Each pass handles rows in parallel; the result
//! of a cell never depends on how rows are split among threads.

use rayon::prelude::*;

/// Running extreme over `[i - k, i + k]` of a line (`max`: maximum, else minimum). Cells off the
/// line count as the identity (minus or plus infinity), so the window shrinks at the ends.
fn running_extreme_line(src: &[f32], k: usize, max: bool, out: &mut [f32]) {
    let n = src.len();
    if k == 0 || n == 0 {
        out.copy_from_slice(src);
        return;
    }
    let id = if max { f32::NEG_INFINITY } else { f32::INFINITY };
    let op = |a: f32, b: f32| if max { a.max(b) } else { a.min(b) };
    let w = 2 * k + 1;
    // Padded line: k identities on each side, then up to a whole block.
    let len = (n + 2 * k).div_ceil(w) * w;
    let at = |i: usize| if i >= k && i - k < n { src[i - k] } else { id };
    let mut g = vec![id; len];
    let mut h = vec![id; len];
    for b in (0..len).step_by(w) {
        g[b] = at(b);
        for i in b + 1..b + w {
            g[i] = op(g[i - 1], at(i));
        }
        h[b + w - 1] = at(b + w - 1);
        for i in (b..b + w - 1).rev() {
            h[i] = op(h[i + 1], at(i));
        }
    }
    // Output i covers padded [i, i + 2k].
    for (i, o) in out.iter_mut().enumerate() {
        *o = op(h[i], g[i + 2 * k]);
    }
}

/// Running extreme over the `(2k + 1)²` square around every cell of a `w`-wide raster; no-data
/// (NaN) cells are ignored (they count as the identity).
pub(crate) fn square_extreme(data: &[f32], w: usize, k: usize, max: bool) -> Vec<f32> {
    let h = data.len() / w.max(1);
    let id = if max { f32::NEG_INFINITY } else { f32::INFINITY };
    let clean: Vec<f32> = data.iter().map(|&v| if v.is_nan() { id } else { v }).collect();
    let mut rows = vec![0f32; data.len()];
    rows.par_chunks_mut(w.max(1)).zip(clean.par_chunks(w.max(1))).for_each(|(o, s)| {
        running_extreme_line(s, k, max, o);
    });
    columns(&rows, w, h, |col, out| running_extreme_line(col, k, max, out))
}

/// Mean of the valid (non-NaN) cells in the `(2k + 1)²` square around every cell, and the
/// number of valid cells it averaged (NaN where there are none).
pub(crate) fn box_mean(data: &[f32], w: usize, k: usize) -> (Vec<f32>, Vec<f32>) {
    let h = data.len() / w.max(1);
    let valid: Vec<f32> = data.iter().map(|v| if v.is_nan() { 0.0 } else { 1.0 }).collect();
    let vals: Vec<f32> = data.iter().map(|&v| if v.is_nan() { 0.0 } else { v }).collect();
    let sum = box_sum(&vals, w, h, k);
    let count = box_sum(&valid, w, h, k);
    let mean =
        sum.iter().zip(&count).map(|(&s, &c)| if c > 0.5 { s / c } else { f32::NAN }).collect();
    (mean, count)
}

/// [`box_mean`] of several channels that are no-data at the same cells (the count of valid
/// cells is summed once for all of them).
pub(crate) fn box_means_shared(channels: &[&[f32]], w: usize, k: usize) -> Vec<Vec<f32>> {
    let Some(first) = channels.first() else { return Vec::new() };
    let h = first.len() / w.max(1);
    let valid: Vec<f32> = first.iter().map(|v| if v.is_nan() { 0.0 } else { 1.0 }).collect();
    let count = box_sum(&valid, w, h, k);
    channels
        .iter()
        .map(|ch| {
            let vals: Vec<f32> = ch.iter().map(|&v| if v.is_nan() { 0.0 } else { v }).collect();
            let sum = box_sum(&vals, w, h, k);
            sum.iter().zip(&count).map(|(&s, &c)| if c > 0.5 { s / c } else { f32::NAN }).collect()
        })
        .collect()
}

/// Sum over the `(2k + 1)²` square around every cell (cells off the raster count 0), with f64
/// accumulators so long rows lose nothing.
pub(crate) fn box_sum(data: &[f32], w: usize, h: usize, k: usize) -> Vec<f32> {
    let mut rows = vec![0f32; data.len()];
    rows.par_chunks_mut(w.max(1)).zip(data.par_chunks(w.max(1))).for_each(|(o, s)| {
        running_sum_line(s, k, o);
    });
    column_sums(&rows, w, h, k)
}

/// The vertical half of [`box_sum`]: [`running_sum_line`] down every column, swept row by row
/// with one f64 accumulator per column (the same additions in the same order as walking each
/// column, so the same bits), in parallel over blocks of columns. Reading whole rows keeps the
/// memory access sequential, where gathering columns ([`columns`]) costs a transpose each way.
fn column_sums(data: &[f32], w: usize, h: usize, k: usize) -> Vec<f32> {
    column_blocks(w, h, 512, |c0, c1| {
        let bw = c1 - c0;
        let row = |r: usize| &data[r * w + c0..r * w + c1];
        let mut acc = vec![0f64; bw];
        for r in 0..=k.min(h - 1) {
            for (a, &v) in acc.iter_mut().zip(row(r)) {
                *a += f64::from(v);
            }
        }
        let mut res = vec![0f32; bw * h];
        for r in 0..h {
            for (o, &a) in res[r * bw..(r + 1) * bw].iter_mut().zip(&acc) {
                *o = a as f32;
            }
            if r + k + 1 < h {
                for (a, &v) in acc.iter_mut().zip(row(r + k + 1)) {
                    *a += f64::from(v);
                }
            }
            if r >= k {
                for (a, &v) in acc.iter_mut().zip(row(r - k)) {
                    *a -= f64::from(v);
                }
            }
        }
        res
    })
}

/// A `w x h` raster made in parallel blocks of at most `block` columns: `f(c0, c1)` returns
/// columns `c0 .. c1` of every row, row-major (`c1 - c0` wide), and they are put in place.
fn column_blocks(
    w: usize,
    h: usize,
    block: usize,
    f: impl Fn(usize, usize) -> Vec<f32> + Sync,
) -> Vec<f32> {
    let mut out = vec![0f32; w * h];
    if w == 0 || h == 0 {
        return out;
    }
    let blocks: Vec<(usize, Vec<f32>)> = (0..w.div_ceil(block))
        .into_par_iter()
        .map(|b| {
            let c0 = b * block;
            (c0, f(c0, (c0 + block).min(w)))
        })
        .collect();
    for (c0, res) in blocks {
        let bw = res.len() / h;
        for (r, chunk) in res.chunks_exact(bw).enumerate() {
            out[r * w + c0..r * w + c0 + bw].copy_from_slice(chunk);
        }
    }
    out
}

fn running_sum_line(src: &[f32], k: usize, out: &mut [f32]) {
    let n = src.len();
    let mut acc = 0f64;
    // Window of out[0] is [0, k].
    for &v in src.iter().take(k + 1) {
        acc += f64::from(v);
    }
    for i in 0..n {
        out[i] = acc as f32;
        if i + k + 1 < n {
            acc += f64::from(src[i + k + 1]);
        }
        if i >= k {
            acc -= f64::from(src[i - k]);
        }
    }
}

/// Applies `f` to every column (gathered into a contiguous line) in parallel, in blocks of
/// columns so each block reads the raster row by row.
fn columns(data: &[f32], w: usize, h: usize, f: impl Fn(&[f32], &mut [f32]) + Sync) -> Vec<f32> {
    column_blocks(w, h, 32, |c0, c1| {
        let bw = c1 - c0;
        // Column-major block: column j of the block at [j * h, (j + 1) * h).
        let mut cols = vec![0f32; bw * h];
        for r in 0..h {
            for j in 0..bw {
                cols[j * h + r] = data[r * w + c0 + j];
            }
        }
        let mut res = vec![0f32; bw * h];
        for j in 0..bw {
            f(&cols[j * h..(j + 1) * h], &mut res[j * h..(j + 1) * h]);
        }
        // Back to row-major for `column_blocks`.
        for r in 0..h {
            for j in 0..bw {
                cols[r * bw + j] = res[j * h + r];
            }
        }
        cols
    })
}

/// Depth of every cell below the lowest of the highest ground met along 8 rays (the 4 axes
/// and the 4 diagonals) of `reach` cells from it, clipped at 0: how far a cell lies inside a
/// *closed* hollow. A crater's floor has its rim on every side; a valley or a slope has some
/// ray that runs downhill, so its depth is 0. No-data and cells off the raster are never rims.
/// O(cells) whatever `reach`: each ray direction is a one-sided running maximum along lines.
pub(crate) fn enclosed_depth(z: &[f32], w: usize, reach: usize) -> Vec<f32> {
    let h = z.len() / w.max(1);
    let clean: Vec<f32> =
        z.iter().map(|&v| if v.is_nan() { f32::NEG_INFINITY } else { v }).collect();
    // Lowest ray maximum so far, per cell.
    let mut rim = vec![f32::INFINITY; z.len()];
    let diag_reach = ((reach as f64) / std::f64::consts::SQRT_2).round().max(1.0) as usize;
    let mut lines: Vec<(Vec<usize>, usize)> = Vec::new();
    for r in 0..h {
        lines.push(((r * w..(r + 1) * w).collect(), reach));
    }
    for c in 0..w {
        lines.push(((0..h).map(|r| r * w + c).collect(), reach));
    }
    // Diagonals down-right (c - r constant) and down-left (c + r constant).
    for d in 0..w + h - 1 {
        let c0 = d as i64 - (h as i64 - 1);
        let line: Vec<usize> = (0..h as i64)
            .filter_map(|r| {
                let c = c0 + r;
                (c >= 0 && (c as usize) < w).then(|| r as usize * w + c as usize)
            })
            .collect();
        lines.push((line, diag_reach));
        let line: Vec<usize> = (0..h as i64)
            .filter_map(|r| {
                let c = d as i64 - r;
                (c >= 0 && (c as usize) < w).then(|| r as usize * w + c as usize)
            })
            .collect();
        lines.push((line, diag_reach));
    }
    // Each line gives, per cell, the lower of its two rays' maxima.
    let per_line: Vec<Vec<f32>> = lines
        .par_iter()
        .map(|(idx, k)| {
            let vals: Vec<f32> = idx.iter().map(|&i| clean[i]).collect();
            two_sided_ray_min(&vals, *k)
        })
        .collect();
    for ((idx, _), best) in lines.iter().zip(per_line) {
        for (&i, b) in idx.iter().zip(best) {
            rim[i] = rim[i].min(b);
        }
    }
    z.iter()
        .zip(&rim)
        .map(|(&v, &m)| {
            if v.is_nan() {
                f32::NAN
            } else if m.is_finite() {
                (m - v).max(0.0)
            } else {
                0.0
            }
        })
        .collect()
}

/// Per cell of a line: the lower of max(line[i+1 ..= i+k]) and max(line[i-k ..= i-1]); minus
/// infinity where a ray has no cell.
fn two_sided_ray_min(line: &[f32], k: usize) -> Vec<f32> {
    let n = line.len();
    // m[j] = max(line[j .. j + k]) (clipped), by van Herk's blocks of length k.
    let mut m = vec![f32::NEG_INFINITY; n];
    if k > 0 && n > 0 {
        let len = n.div_ceil(k) * k + k;
        let at = |i: usize| if i < n { line[i] } else { f32::NEG_INFINITY };
        let mut g = vec![f32::NEG_INFINITY; len];
        let mut hh = vec![f32::NEG_INFINITY; len];
        for b in (0..len).step_by(k) {
            g[b] = at(b);
            for i in b + 1..b + k {
                g[i] = g[i - 1].max(at(i));
            }
            hh[b + k - 1] = at(b + k - 1);
            for i in (b..b + k - 1).rev() {
                hh[i] = hh[i + 1].max(at(i));
            }
        }
        for (j, mj) in m.iter_mut().enumerate() {
            *mj = hh[j].max(g[j + k - 1]);
        }
    }
    (0..n)
        .map(|i| {
            let fwd = if i + 1 < n { m[i + 1] } else { f32::NEG_INFINITY };
            // Backward ray [i - k, i - 1]: m[i - k] when i >= k, else the prefix [0, i - 1].
            let bwd = if i >= k { m[i - k] } else { bwd_prefix(line, i) };
            fwd.min(bwd)
        })
        .collect()
}

fn bwd_prefix(line: &[f32], i: usize) -> f32 {
    line[..i].iter().copied().fold(f32::NEG_INFINITY, f32::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_extreme(data: &[f32], w: usize, k: usize, max: bool) -> Vec<f32> {
        let h = data.len() / w;
        let mut out = vec![0f32; data.len()];
        for r in 0..h {
            for c in 0..w {
                let mut best = if max { f32::NEG_INFINITY } else { f32::INFINITY };
                for rr in r.saturating_sub(k)..(r + k + 1).min(h) {
                    for cc in c.saturating_sub(k)..(c + k + 1).min(w) {
                        let v = data[rr * w + cc];
                        if !v.is_nan() {
                            best = if max { best.max(v) } else { best.min(v) };
                        }
                    }
                }
                out[r * w + c] = best;
            }
        }
        out
    }

    #[test]
    fn van_herk_matches_the_naive_filter() {
        let (w, h) = (37, 23);
        let mut data: Vec<f32> = (0..w * h).map(|i| ((i * 7919) % 101) as f32 - 50.0).collect();
        data[5] = f32::NAN;
        data[300] = f32::NAN;
        for k in [0, 1, 2, 5, 30] {
            for max in [false, true] {
                assert_eq!(square_extreme(&data, w, k, max), naive_extreme(&data, w, k, max));
            }
        }
    }

    #[test]
    fn enclosed_depth_fills_bowls_not_valleys_or_slopes() {
        let (w, h) = (41, 41);
        // A bowl 2 m deep, radius 10, on a plane tilted 0.1 m/cell.
        let bowl: Vec<f32> = (0..w * h)
            .map(|i| {
                let (c, r) = ((i % w) as f32 - 20.0, (i / w) as f32 - 20.0);
                let d = (c * c + r * r).sqrt();
                0.1 * c + if d < 10.0 { -2.0 * (1.0 - d * d / 100.0) } else { 0.0 }
            })
            .collect();
        let depth = enclosed_depth(&bowl, w, 15);
        // The spill point is the rim downhill (west): 2 m - 10 cells x 0.1 m.
        assert!((depth[20 * w + 20] - 1.0).abs() < 1e-5, "{}", depth[20 * w + 20]);
        assert_eq!(depth[2 * w + 2], 0.0, "the plane outside is not a hollow");
        // A valley along the rows: open to both ends, no depth.
        let valley: Vec<f32> = (0..w * h).map(|i| ((i % w) as f32 - 20.0).abs() * 0.3).collect();
        assert!(enclosed_depth(&valley, w, 15).iter().all(|&d| d < 1e-6));
        // A naive check of the ray rule on a small random raster.
        let z: Vec<f32> = (0..12 * 9).map(|i| ((i * 7919) % 23) as f32).collect();
        let got = enclosed_depth(&z, 12, 3);
        for r in 0..9i64 {
            for c in 0..12i64 {
                let mut rim = f32::INFINITY;
                for (dc, dr, k) in [
                    (1, 0, 3),
                    (-1, 0, 3),
                    (0, 1, 3),
                    (0, -1, 3),
                    (1, 1, 2),
                    (-1, -1, 2),
                    (1, -1, 2),
                    (-1, 1, 2),
                ] {
                    let mut m = f32::NEG_INFINITY;
                    for s in 1..=k {
                        let (cc, rr) = (c + dc * s, r + dr * s);
                        if (0..12).contains(&cc) && (0..9).contains(&rr) {
                            m = m.max(z[(rr * 12 + cc) as usize]);
                        }
                    }
                    rim = rim.min(m);
                }
                let v = z[(r * 12 + c) as usize];
                let want = if rim.is_finite() { (rim - v).max(0.0) } else { 0.0 };
                assert_eq!(got[(r * 12 + c) as usize], want, "{c} {r}");
            }
        }
    }

    #[test]
    fn column_sums_give_the_bits_of_a_walk_down_each_column() {
        // Widths across the block size, heights shorter and longer than the window.
        for (w, h) in [(1, 1), (3, 2), (37, 23), (600, 7), (1030, 40)] {
            let data: Vec<f32> =
                (0..w * h).map(|i| ((i * 7919) % 1013) as f32 * 0.013 - 6.5).collect();
            for k in [0, 1, 4, 30] {
                let want = columns(&data, w, h, |col, out| running_sum_line(col, k, out));
                let got = column_sums(&data, w, h, k);
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&got), bits(&want), "{w} x {h}, k {k}");
            }
        }
    }

    #[test]
    fn box_mean_ignores_nodata_and_shrinks_at_edges() {
        let (w, h) = (5, 4);
        let mut data = vec![2.0f32; w * h];
        data[0] = f32::NAN;
        let (mean, count) = box_mean(&data, w, 1);
        assert!(mean.iter().all(|&m| (m - 2.0).abs() < 1e-6));
        assert_eq!(count[0], 3.0);
        assert_eq!(count[w + 1], 8.0);
        assert_eq!(count[2 * w + 2], 9.0);
        let all_nan = vec![f32::NAN; 4];
        assert!(box_mean(&all_nan, 2, 1).0.iter().all(|m| m.is_nan()));
    }
}
