//! From a class map to polygons: connected patches (4-connected cells of one class), each
//! traced along its cell edges into an exterior ring and its holes, then simplified.
//!
//! Why trace cell edges ourselves: `geo` has no raster polygonisation, the `gdal` crate does
//! not wrap `GDALPolygonize`, and imageproc's `find_contours` follows pixel *centres*, so a
//! one-cell rock would have no area and every outline would be half a cell inside its cells.
//! Tracing cell edges gives rings whose area is exactly the cells' area. Where two cells of a
//! patch touch only at a corner the trace turns back into the cell it came from (4-connected
//! patches), so rings never touch themselves.
//!
//! Simplification is `geo`'s Visvalingam-Whyatt with topology preserved
//! ([`geo::SimplifyVwPreserve`]): it removes the one-cell stair steps of slanted edges (triangles
//! of half a cell) without making rings cross. An outline moves by at most about half a cell,
//! far inside the checker's hazard buffer (half the rover's width plus 0.5 m).

use std::collections::HashMap;

use geo::{Coord, LineString, MultiPolygon, Polygon, SimplifyVwPreserve};
use rayon::prelude::*;

use super::{min_area_m2, Class, ClassMap};
use crate::terrain::Hazard;

/// How [`ClassMap::to_hazards_with`] turns patches into polygons.
#[derive(Debug, Clone, PartialEq)]
pub struct PolygonOptions {
    /// Patches smaller than this are left out, square metres (`None`: each class's own minimum,
    /// [`min_area_m2`]).
    pub min_area_m2: Option<f64>,
    /// Visvalingam-Whyatt area threshold in cells (0 keeps every cell corner). The default,
    /// 0.6, removes single stair steps.
    pub simplify_cells: f64,
}

impl Default for PolygonOptions {
    fn default() -> Self {
        PolygonOptions { min_area_m2: None, simplify_cells: 0.6 }
    }
}

/// One connected patch: its class and its cells (row-major indices, in scan order).
struct Patch {
    class: Class,
    cells: Vec<usize>,
}

/// The 4-connected cells from `start` for which `same` holds (marked in `seen`, `start`
/// first, then in the order found), using `stack` as scratch space.
fn flood(
    map: &ClassMap,
    start: usize,
    seen: &mut [bool],
    stack: &mut Vec<usize>,
    same: impl Fn(u8) -> bool,
) -> Vec<usize> {
    let (w, h) = (map.width, map.height);
    seen[start] = true;
    let mut cells = vec![start];
    stack.push(start);
    while let Some(i) = stack.pop() {
        let (c, r) = (i % w, i / w);
        let mut visit = |j: usize| {
            if !seen[j] && same(map.codes[j]) {
                seen[j] = true;
                cells.push(j);
                stack.push(j);
            }
        };
        if c > 0 {
            visit(i - 1);
        }
        if c + 1 < w {
            visit(i + 1);
        }
        if r > 0 {
            visit(i - w);
        }
        if r + 1 < h {
            visit(i + w);
        }
    }
    cells
}

/// Every 4-connected patch of a hazard class, in scan order of their first cell.
fn patches(map: &ClassMap) -> Vec<Patch> {
    let mut seen = vec![false; map.codes.len()];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    for start in 0..map.codes.len() {
        if seen[start] {
            continue;
        }
        let code = map.codes[start];
        let class = Class::from_code(code).unwrap_or(Class::Unknown);
        if class.hazard().is_none() {
            seen[start] = true;
            continue;
        }
        let mut cells = flood(map, start, &mut seen, &mut stack, |c| c == code);
        cells.sort_unstable();
        out.push(Patch { class, cells });
    }
    out
}

/// Decides every patch of sand evidence (4-connected cells coded `dark` or `rippled`): a ripple
/// field when at least `share` of its cells are rippled, else ground.
pub(super) fn resolve_sand(map: &mut ClassMap, dark: u8, rippled: u8, share: f64) {
    let is_sand = |v: u8| v == dark || v == rippled;
    let mut seen = vec![false; map.codes.len()];
    let mut stack = Vec::new();
    for start in 0..map.codes.len() {
        if seen[start] || !is_sand(map.codes[start]) {
            continue;
        }
        let cells = flood(map, start, &mut seen, &mut stack, is_sand);
        let n_rippled = cells.iter().filter(|&&i| map.codes[i] == rippled).count();
        let class = if n_rippled as f64 >= share * cells.len() as f64 {
            Class::SandRipple
        } else {
            Class::Ground
        };
        for i in cells {
            map.codes[i] = class.code();
        }
    }
}

/// Turns patches smaller than their class's [`min_area_m2`] into ground.
pub(super) fn drop_small_patches(map: &mut ClassMap) {
    let cell = map.cell_area_m2();
    for p in patches(map) {
        if (p.cells.len() as f64) * cell < min_area_m2(p.class) {
            for i in p.cells {
                map.codes[i] = Class::Ground.code();
            }
        }
    }
}

/// The rings (in cell-corner coordinates, closed, collinear corners removed) of one patch.
fn trace(map: &ClassMap, cells: &[usize]) -> Vec<Vec<(i64, i64)>> {
    let w = map.width;
    let inside = |c: i64, r: i64, code: u8| {
        c >= 0
            && r >= 0
            && (c as usize) < w
            && (r as usize) < map.height
            && map.codes[r as usize * w + c as usize] == code
    };
    let code = map.codes[cells[0]];
    // Directed boundary edges, the patch on the left of the walk on screen (rows down).
    let mut out_edges: HashMap<(i64, i64), Vec<(i64, i64)>> = HashMap::new();
    let mut starts = Vec::new();
    for &i in cells {
        let (c, r) = ((i % w) as i64, (i / w) as i64);
        let mut edge = |a: (i64, i64), b: (i64, i64)| {
            out_edges.entry(a).or_default().push(b);
            starts.push(a);
        };
        if !inside(c - 1, r, code) {
            edge((c, r), (c, r + 1));
        }
        if !inside(c, r + 1, code) {
            edge((c, r + 1), (c + 1, r + 1));
        }
        if !inside(c + 1, r, code) {
            edge((c + 1, r + 1), (c + 1, r));
        }
        if !inside(c, r - 1, code) {
            edge((c + 1, r), (c, r));
        }
    }
    let mut rings = Vec::new();
    for s in starts {
        let Some(first) = out_edges.get_mut(&s).and_then(Vec::pop) else { continue };
        let mut ring = vec![s];
        let (mut prev, mut cur) = (s, first);
        while cur != s {
            ring.push(cur);
            let d = (cur.0 - prev.0, cur.1 - prev.1);
            let Some(outs) = out_edges.get_mut(&cur) else { break };
            // At a corner where the patch touches itself diagonally, turn left (on screen),
            // back into the cell the walk came along.
            let left = (cur.0 + d.1, cur.1 - d.0);
            let pick = outs.iter().position(|&n| n == left).unwrap_or(0);
            if outs.is_empty() {
                break;
            }
            let next = outs.swap_remove(pick);
            prev = cur;
            cur = next;
        }
        ring.push(s);
        rings.push(drop_collinear(&ring));
    }
    rings
}

/// Removes corners where the ring goes straight on (the ring stays closed).
fn drop_collinear(ring: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let n = ring.len() - 1; // closed: last == first
    if n < 3 {
        return ring.to_vec();
    }
    let mut out: Vec<(i64, i64)> = (0..n)
        .filter(|&i| {
            let (a, b, c) = (ring[(i + n - 1) % n], ring[i], ring[(i + 1) % n]);
            (b.0 - a.0) * (c.1 - b.1) - (b.1 - a.1) * (c.0 - b.0) != 0
        })
        .map(|i| ring[i])
        .collect();
    if let Some(&f) = out.first() {
        out.push(f);
    }
    out
}

/// Twice the signed area of a closed ring (positive counter-clockwise in map axes).
fn twice_area(ls: &LineString<f64>) -> f64 {
    ls.0.windows(2).map(|p| p[0].x * p[1].y - p[1].x * p[0].y).sum()
}

/// The polygon of one patch in map metres: exterior counter-clockwise, holes clockwise.
fn polygon(map: &ClassMap, cells: &[usize], simplify_cells: f64) -> Option<Polygon<f64>> {
    let t = map.transform;
    let to_map =
        |(c, r): (i64, i64)| Coord { x: t.x0 + c as f64 * t.dx, y: t.y0 + r as f64 * t.dy };
    let mut rings: Vec<(f64, LineString<f64>)> = trace(map, cells)
        .into_iter()
        .filter(|r| r.len() >= 4)
        .map(|r| {
            let ls = LineString::new(r.into_iter().map(to_map).collect());
            (twice_area(&ls), ls)
        })
        .collect();
    // The exterior encloses the most area; every other ring is a hole.
    let outer = (0..rings.len()).max_by(|&a, &b| rings[a].0.abs().total_cmp(&rings[b].0.abs()))?;
    let (area, mut exterior) = rings.swap_remove(outer);
    if area < 0.0 {
        exterior.0.reverse();
    }
    let holes = rings
        .into_iter()
        .map(|(a, mut ls)| {
            if a > 0.0 {
                ls.0.reverse();
            }
            ls
        })
        .collect();
    let poly = Polygon::new(exterior, holes);
    let eps = simplify_cells * map.cell_area_m2();
    // Small outlines (a rock's square) keep their corners.
    if eps > 0.0 && poly.exterior().0.len() > 8 {
        Some(poly.simplify_vw_preserve(&eps))
    } else {
        Some(poly)
    }
}

/// See [`ClassMap::to_hazards_with`].
pub(super) fn to_hazards(map: &ClassMap, options: &PolygonOptions) -> Vec<Hazard> {
    let cell = map.cell_area_m2();
    // Each patch's trace and simplification is its own (most of the time of a large map), and
    // rayon's collect keeps the patches' order: the same bytes on any thread count.
    let mut found: Vec<(Class, usize, Polygon<f64>, f64)> = patches(map)
        .into_par_iter()
        .filter_map(|p| {
            let area = p.cells.len() as f64 * cell;
            let min = options.min_area_m2.unwrap_or_else(|| min_area_m2(p.class));
            if area < min {
                return None;
            }
            let poly = polygon(map, &p.cells, options.simplify_cells)?;
            Some((p.class, p.cells[0], poly, area))
        })
        .collect();
    // Class order, then scan order: the same map always lists the same polygons in the same order.
    found.sort_by_key(|(c, first, _, _)| (*c, *first));
    found
        .into_iter()
        .enumerate()
        .filter_map(|(index, (class, _, poly, area))| {
            let hazard_class = class.hazard()?;
            let mut properties = serde_json::Map::new();
            properties.insert("class".into(), hazard_class.as_str().into());
            properties.insert("area_m2".into(), ((area * 100.0).round() / 100.0).into());
            properties.insert("source".into(), "classifier".into());
            Some(Hazard {
                index,
                class: hazard_class,
                shape: MultiPolygon::new(vec![poly]),
                properties,
            })
        })
        .collect()
}

/// Hazards as a GeoJSON FeatureCollection, one feature a line, coordinates rounded to the
/// centimetre, so the same hazards always give the same bytes (and QGIS opens it as is).
#[must_use]
pub fn hazards_geojson(hazards: &[Hazard]) -> String {
    let round = |v: f64| (v * 100.0).round() / 100.0;
    let ring = |ls: &LineString<f64>| -> Vec<Vec<f64>> {
        ls.0.iter().map(|c| vec![round(c.x), round(c.y)]).collect()
    };
    let mut s = String::from("{\"type\":\"FeatureCollection\",\"features\":[\n");
    for (i, h) in hazards.iter().enumerate() {
        let polys: Vec<Vec<Vec<Vec<f64>>>> = h
            .shape
            .0
            .iter()
            .map(|p| std::iter::once(p.exterior()).chain(p.interiors()).map(ring).collect())
            .collect();
        let geometry = if polys.len() == 1 {
            serde_json::json!({"type": "Polygon", "coordinates": polys[0]})
        } else {
            serde_json::json!({"type": "MultiPolygon", "coordinates": polys})
        };
        let feature = serde_json::json!({
            "type": "Feature",
            "properties": h.properties,
            "geometry": geometry,
        });
        s.push_str(&feature.to_string());
        s.push_str(if i + 1 < hazards.len() { ",\n" } else { "\n" });
    }
    s.push_str("]}\n");
    s
}

#[cfg(test)]
mod tests {
    use geo::Area;

    use super::*;
    use crate::terrain::GeoTransform;

    fn map(rows: &[&str]) -> ClassMap {
        let t = GeoTransform { x0: 100.0, y0: 50.0, dx: 1.0, dy: -1.0 };
        let (w, h) = (rows[0].len(), rows.len());
        let codes = rows
            .iter()
            .flat_map(|r| {
                r.bytes().map(|b| {
                    if b == b'#' {
                        4
                    } else if b == b'r' {
                        2
                    } else {
                        1
                    }
                })
            })
            .collect();
        ClassMap { transform: t, width: w, height: h, codes }
    }

    #[test]
    fn rings_enclose_exactly_the_cells_with_holes_and_diagonal_touches() {
        let m = map(&[
            "#####....", //
            "#...#..r.", //
            "#####r...", //
            "......#..", //
            ".......#.", //
        ]);
        let opts = PolygonOptions { min_area_m2: Some(0.0), simplify_cells: 0.0 };
        let hz = m.to_hazards_with(&opts);
        let sand: Vec<&Hazard> =
            hz.iter().filter(|h| h.class == crate::terrain::HazardClass::SandRipple).collect();
        // The ring with a hole, and two single cells touching at a corner (4-connected: apart).
        assert_eq!(sand.len(), 3);
        let ring = &sand[0].shape.0[0];
        assert_eq!(ring.interiors().len(), 1);
        assert!((ring.unsigned_area() - 12.0).abs() < 1e-9);
        assert!(ring.signed_area() > 0.0, "exterior counter-clockwise");
        assert!((sand[1].shape.unsigned_area() - 1.0).abs() < 1e-9);
        assert_eq!(sand[0].properties["area_m2"], 12.0);
        assert_eq!(sand[0].properties["source"], "classifier");
        let rocks = hz.iter().filter(|h| h.class == crate::terrain::HazardClass::Rock).count();
        assert_eq!(rocks, 2);
        // Same map, same bytes.
        assert_eq!(hazards_geojson(&hz), hazards_geojson(&m.to_hazards_with(&opts)));
    }

    #[test]
    fn small_patches_become_ground_but_rocks_stay() {
        let mut m = map(&["##..r", "##...", "....."]);
        drop_small_patches(&mut m);
        assert_eq!(m.get(0, 0), Class::Ground);
        assert_eq!(m.get(4, 0), Class::Rock);
    }

    #[test]
    fn simplification_straightens_stairs_and_keeps_area_close() {
        // A 40-cell staircase triangle.
        let rows: Vec<String> =
            (0..20).map(|r| (0..20).map(|c| if c <= r { '#' } else { '.' }).collect()).collect();
        let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
        let m = map(&refs);
        let exact =
            m.to_hazards_with(&PolygonOptions { min_area_m2: Some(0.0), simplify_cells: 0.0 });
        let simple =
            m.to_hazards_with(&PolygonOptions { min_area_m2: Some(0.0), ..Default::default() });
        let (a, b) = (&exact[0].shape.0[0], &simple[0].shape.0[0]);
        assert!(b.exterior().0.len() < a.exterior().0.len() / 2, "{}", b.exterior().0.len());
        assert!((a.unsigned_area() - b.unsigned_area()).abs() < 12.0);
    }
}
