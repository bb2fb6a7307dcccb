//! `hazard_lookup`: mapped hazards, keep-out zones and DEM-derived hazards (steep or stepped
//! ground) near a point or a segment.

use geo::{Area, Centroid};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::args::{bounded, echo_into, query_points, r2, PointM};
use super::{Tool, ToolCallError, ToolOutput, Toolbox};
use crate::analysis::slope_grid;
use crate::checker::rules::hazards::blocks;
use crate::checker::walk::pair_step;
use crate::checker::Pt;
use crate::geometry::{point_segment_distance, segment_to_polygon};
use crate::terrain::Grid;
use rstar::primitives::GeomWithData;

/// Hazards near a point, or near the straight segment from (x_m, y_m) to (to_x_m, to_y_m):
/// mapped hazards (rocks, boulder fields, sand ripples, outcrops, scarps, craters) with their
/// distance and size, keep-out zones, and places where the DEM itself is too steep or has a
/// step too high for the rover. The safety checker requires the rover's centre path to keep
/// `buffer_m` (half the rover width plus a margin) from every blocking hazard and keep-out zone.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HazardLookupArgs {
    /// Map x (east) of the point, or of the segment's start, metres (or give `at` instead).
    #[serde(default)]
    pub x_m: Option<f64>,
    /// Map y (north) of the point, or of the segment's start, metres (or give `at` instead).
    #[serde(default)]
    pub y_m: Option<f64>,
    /// The point, or the segment's start, as a pixel of a tile you were shown or a candidate
    /// ({"tile": .., "u": .., "v": ..} or {"tile": .., "candidate": n}), instead of x_m/y_m.
    #[serde(default)]
    #[schemars(with = "PointM")]
    pub at: Option<PointM>,
    /// Map x of the segment's end, metres (omit for a point).
    #[serde(default)]
    pub to_x_m: Option<f64>,
    /// Map y of the segment's end, metres (omit for a point).
    #[serde(default)]
    pub to_y_m: Option<f64>,
    /// The segment's end as a pixel of a tile or a candidate, instead of to_x_m/to_y_m.
    #[serde(default)]
    #[schemars(with = "PointM")]
    pub to: Option<PointM>,
    /// Search radius around the point or segment, metres (default 25, at most 100).
    #[serde(default)]
    pub radius_m: Option<f64>,
}

/// A mapped hazard near the query (one outline: a rock, a field, a crater; features made of
/// several outlines are listed outline by outline).
#[derive(Debug, Clone, Serialize)]
pub struct MappedHazard {
    /// Its class (`rock`, `boulder_field`, `sand_ripple`, `outcrop`, `scarp`, `crater`,
    /// `unknown`).
    pub class: &'static str,
    /// Its identifier in the site's hazard map.
    pub id: usize,
    /// Distance from the point or segment to its outline, metres (0 inside).
    pub distance_m: f64,
    /// Where on the query that distance is reached: map x, metres.
    pub nearest_x_m: f64,
    /// Where on the query that distance is reached: map y, metres.
    pub nearest_y_m: f64,
    /// Area of this outline, square metres.
    pub area_m2: f64,
    /// Centroid of this outline, map x, metres.
    pub centroid_x_m: f64,
    /// Centroid of this outline, map y, metres.
    pub centroid_y_m: f64,
    /// Whether the checker treats it as an obstacle (to be kept `buffer_m` away).
    pub blocking: bool,
}

/// A keep-out zone near the query.
#[derive(Debug, Clone, Serialize)]
pub struct KeepOutNear {
    /// Its name.
    pub name: String,
    /// Distance from the point or segment, metres (0 inside).
    pub distance_m: f64,
}

/// A DEM cell near the query that is too steep or too stepped.
#[derive(Debug, Clone, Serialize)]
pub struct TerrainHazard {
    /// `steep` (Horn slope over the tilt limit) or `step` (a step over the step limit).
    pub kind: &'static str,
    /// Map x of the cell centre, metres.
    pub x_m: f64,
    /// Map y of the cell centre, metres.
    pub y_m: f64,
    /// The slope (degrees) or step (metres) measured.
    pub value: f64,
    /// The limit it exceeds.
    pub limit: f64,
    /// Distance from the point or segment, metres.
    pub distance_m: f64,
}

/// The answer.
#[derive(Debug, Clone, Serialize)]
pub struct HazardLookupResult {
    /// The radius searched, metres.
    pub radius_m: f64,
    /// The clearance the checker demands from blocking hazards and keep-outs, metres.
    pub buffer_m: f64,
    /// Mapped hazards within the radius, nearest first (at most 30).
    pub mapped: Vec<MappedHazard>,
    /// How many mapped hazard outlines were within the radius in all.
    pub mapped_total: usize,
    /// Keep-out zones within the radius, nearest first.
    pub keep_out: Vec<KeepOutNear>,
    /// DEM cells over a limit within the radius, nearest first, at most one per 5 m square
    /// (its worst cell), at most 30.
    pub terrain: Vec<TerrainHazard>,
    /// How many 5 m squares hold such a cell in all.
    pub terrain_total: usize,
}

/// The `hazard_lookup` tool.
pub struct HazardLookup;

/// Entries listed per kind.
const MAX_LISTED: usize = 30;
/// The four pair directions (east, south, south-east, south-west), as the checker's walk.
const DIRS: [(i64, i64); 4] = [(1, 0), (0, 1), (1, 1), (1, -1)];
/// Side of the squares DEM hazards are grouped in, metres.
const BIN_M: f64 = 5.0;

impl Tool for HazardLookup {
    const NAME: &'static str = "hazard_lookup";
    type Args = HazardLookupArgs;

    fn run(toolbox: &Toolbox, a: HazardLookupArgs) -> Result<ToolOutput, ToolCallError> {
        let (start, to) =
            query_points(toolbox, a.x_m, a.y_m, a.at.as_ref(), a.to_x_m, a.to_y_m, a.to.as_ref())?;
        let end = to.unwrap_or(start);
        if (end.0 - start.0).hypot(end.1 - start.1) > 500.0 {
            return Err(ToolCallError::InvalidArguments {
                field: Some("to_x_m/to_y_m".into()),
                message: "segment longer than 500 m; look up shorter stretches".into(),
            });
        }
        let radius = bounded("radius_m", a.radius_m, 25.0, 100.0)?;
        let (index, owner) = toolbox.hazard_parts();
        let hazards = &toolbox.bundle().hazards;
        let mut mapped: Vec<MappedHazard> = index
            .near(start, end, radius)
            .into_iter()
            .filter_map(|hit| {
                let h = hazards.get(*owner.get(hit.zone)?)?;
                let poly = &index.zones()[hit.zone].polygon;
                let c = poly.centroid()?;
                let at = hit.nearest.point(start, end);
                Some(MappedHazard {
                    class: h.class.as_str(),
                    id: h.index,
                    distance_m: r2(hit.nearest.distance),
                    nearest_x_m: r2(at.0),
                    nearest_y_m: r2(at.1),
                    area_m2: r2(poly.unsigned_area()),
                    centroid_x_m: r2(c.x()),
                    centroid_y_m: r2(c.y()),
                    blocking: blocks(h.class),
                })
            })
            .collect();
        mapped.sort_by(|x, y| x.distance_m.total_cmp(&y.distance_m).then(x.id.cmp(&y.id)));
        let mapped_total = mapped.len();
        mapped.truncate(MAX_LISTED);
        let mut keep_out: Vec<KeepOutNear> = toolbox
            .mission()
            .keep_out
            .iter()
            .map(|(name, poly)| KeepOutNear {
                name: name.clone(),
                distance_m: r2(segment_to_polygon(start, end, poly).distance),
            })
            .filter(|k| k.distance_m <= radius)
            .collect();
        keep_out.sort_by(|x, y| x.distance_m.total_cmp(&y.distance_m));
        let (terrain, terrain_total) = terrain_hazards(toolbox, start, end, radius)?;
        let mut out = ToolOutput::json(&HazardLookupResult {
            radius_m: radius,
            buffer_m: r2(toolbox.profile().hazard_buffer_m()),
            mapped,
            mapped_total,
            keep_out,
            terrain,
            terrain_total,
        })?;
        let given: Vec<&PointM> = [a.at.as_ref(), a.to.as_ref()].into_iter().flatten().collect();
        let resolved: Vec<_> = std::iter::once(start).chain(to).collect();
        echo_into(&mut out, &given, &resolved);
        Ok(out)
    }
}

/// A DEM cell over a limit: what, how much, against which limit.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Flagged {
    kind: &'static str,
    value: f64,
    limit: f64,
}

/// Whether cell `(c, r)` of `grid` is over the checker's tilt limit (by its Horn slope) or, if
/// not, holds the top of a step over the step limit.
fn classify(
    grid: &Grid,
    slope: &Grid,
    c: i64,
    r: i64,
    limits: &crate::terrain::rover::Limits,
) -> Option<Flagged> {
    let at = |c: i64, r: i64| grid.get(c, r).map(f64::from);
    if let Some(s) = slope.get(c, r).map(f64::from) {
        if s > limits.max_tilt_deg {
            return Some(Flagged { kind: "steep", value: s, limit: limits.max_tilt_deg });
        }
    }
    // A step belongs to the higher cell of its pair (the top of the ledge or the rock), so one
    // rock is reported once, where it is.
    let here = at(c, r);
    let step = DIRS
        .iter()
        .flat_map(|&(dc, dr)| [(dc, dr), (-dc, -dr)])
        .filter(|&(dc, dr)| at(c + dc, r + dr) <= here)
        .map(|(dc, dr)| {
            let z: [Option<f64>; 6] =
                std::array::from_fn(|k| at(c + (k as i64 - 2) * dc, r + (k as i64 - 2) * dr));
            pair_step(&z)
        })
        .filter(|v| !v.is_nan())
        .fold(0.0, f64::max);
    (step > limits.max_step_m).then_some(Flagged {
        kind: "step",
        value: step,
        limit: limits.max_step_m,
    })
}

/// A flagged cell in the index: its centre, its global `(row, col)` and what it is.
type FlaggedCell = GeomWithData<[f64; 2], ((i64, i64), Flagged)>;

/// Every flagged DEM cell of a sol's area, computed once per toolbox: a query inside the area
/// then visits only the few flagged cells near it instead of classifying every cell within
/// its radius again (about 11,000 cells for a 50 m radius at 1 m). Queries reaching outside
/// the area classify cells as before; both ways give the same answer (tested).
pub struct TerrainHazardIndex {
    /// The map rectangle covered `(xmin, ymin, xmax, ymax)`: every cell whose centre lies in
    /// it was classified.
    area: (f64, f64, f64, f64),
    /// Flagged cells by centre, with their global `(row, col)` (the order a window scan meets
    /// them in, which decides ties within a bin).
    cells: rstar::RTree<FlaggedCell>,
}

impl std::fmt::Debug for TerrainHazardIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TerrainHazardIndex")
            .field("area", &self.area)
            .field("cells", &self.cells.size())
            .finish()
    }
}

/// Most cells an index covers (a 2 km square at 1 m); a larger sol area is not indexed.
const MAX_INDEX_CELLS: usize = 4_000_000;

impl TerrainHazardIndex {
    /// Classifies every cell of `area` (map rectangle), or `None` when the area is too large
    /// or off the DEM.
    pub fn build(toolbox: &Toolbox, area: (f64, f64, f64, f64)) -> Option<TerrainHazardIndex> {
        let dem = &toolbox.bundle().dem;
        let limits = &toolbox.profile().limits;
        let t = dem.transform();
        let cells = ((area.2 - area.0) / t.dx.abs()) * ((area.3 - area.1) / t.dy.abs());
        #[allow(clippy::cast_precision_loss)]
        if !(cells.is_finite() && cells <= MAX_INDEX_CELLS as f64) {
            return None;
        }
        let grid = dem.window_around(area.0, area.1, area.2, area.3, 3).ok()?;
        let slope = slope_grid(&grid);
        let mut flagged = Vec::new();
        for r in 0..grid.height as i64 {
            for c in 0..grid.width as i64 {
                let (x, y) = grid.transform.cell_center(c, r);
                if x < area.0 || x > area.2 || y < area.1 || y > area.3 {
                    continue;
                }
                if let Some(f) = classify(&grid, &slope, c, r, limits) {
                    flagged.push(GeomWithData::new([x, y], (global_cell(t, x, y), f)));
                }
            }
        }
        Some(TerrainHazardIndex { area, cells: rstar::RTree::bulk_load(flagged) })
    }

    /// The index for the toolbox's sol over [`Toolbox::sol_area`] (the keep-in's bounds, or
    /// the start-goal rectangle with 150 m around it, grown by the largest radius, 100 m, and
    /// clipped to the DEM).
    #[must_use]
    pub fn for_sol(toolbox: &Toolbox) -> Option<TerrainHazardIndex> {
        TerrainHazardIndex::build(toolbox, toolbox.sol_area()?)
    }

    /// Whether every cell within `radius` of `a -> b` was classified.
    fn covers(&self, a: Pt, b: Pt, radius: f64) -> bool {
        a.0.min(b.0) - radius >= self.area.0
            && a.1.min(b.1) - radius >= self.area.1
            && a.0.max(b.0) + radius <= self.area.2
            && a.1.max(b.1) + radius <= self.area.3
    }

    /// Flagged cells within `radius` of `a -> b`, in scan order.
    fn near(&self, a: Pt, b: Pt, radius: f64) -> Vec<(Pt, f64, Flagged)> {
        let envelope = rstar::AABB::from_corners(
            [a.0.min(b.0) - radius, a.1.min(b.1) - radius],
            [a.0.max(b.0) + radius, a.1.max(b.1) + radius],
        );
        let mut hits: Vec<((i64, i64), Pt, f64, Flagged)> = self
            .cells
            .locate_in_envelope(&envelope)
            .filter_map(|g| {
                let p = (g.geom()[0], g.geom()[1]);
                let d = point_segment_distance(p, a, b);
                (d <= radius).then_some((g.data.0, p, d, g.data.1))
            })
            .collect();
        hits.sort_by_key(|h| h.0);
        hits.into_iter().map(|(_, p, d, f)| (p, d, f)).collect()
    }
}

/// The DEM's own `(row, col)` of the cell centred at `(x, y)`.
fn global_cell(t: crate::terrain::GeoTransform, x: f64, y: f64) -> (i64, i64) {
    let (col, row) = t.to_cell(x, y);
    #[allow(clippy::cast_possible_truncation)]
    (row.floor() as i64, col.floor() as i64)
}

/// Steep and stepped DEM cells within `radius` of `a -> b`, the worst per [`BIN_M`] square:
/// from the toolbox's index when it covers the query, else by classifying the cells around.
fn terrain_hazards(
    toolbox: &Toolbox,
    a: Pt,
    b: Pt,
    radius: f64,
) -> Result<(Vec<TerrainHazard>, usize), ToolCallError> {
    let found = match toolbox.terrain_hazard_index() {
        Some(index) if index.covers(a, b, radius) => index.near(a, b, radius),
        _ => scan(toolbox, a, b, radius)?,
    };
    Ok(bin(found))
}

/// Classifies every cell within `radius` of `a -> b`, in scan order.
fn scan(
    toolbox: &Toolbox,
    a: Pt,
    b: Pt,
    radius: f64,
) -> Result<Vec<(Pt, f64, Flagged)>, ToolCallError> {
    let dem = &toolbox.bundle().dem;
    let limits = &toolbox.profile().limits;
    let grid = dem.window_around(
        a.0.min(b.0) - radius,
        a.1.min(b.1) - radius,
        a.0.max(b.0) + radius,
        a.1.max(b.1) + radius,
        3,
    )?;
    let slope = slope_grid(&grid);
    let mut found = Vec::new();
    for r in 0..grid.height as i64 {
        for c in 0..grid.width as i64 {
            let (x, y) = grid.transform.cell_center(c, r);
            let d = point_segment_distance((x, y), a, b);
            if d > radius {
                continue;
            }
            if let Some(f) = classify(&grid, &slope, c, r, limits) {
                found.push(((x, y), d, f));
            }
        }
    }
    Ok(found)
}

/// The worst flagged cell per [`BIN_M`] square (the first met on a tie), nearest first, at
/// most [`MAX_LISTED`], and how many squares there were.
fn bin(found: Vec<(Pt, f64, Flagged)>) -> (Vec<TerrainHazard>, usize) {
    let mut bins: std::collections::BTreeMap<(i64, i64), TerrainHazard> =
        std::collections::BTreeMap::new();
    for ((x, y), d, Flagged { kind, value, limit }) in found {
        let key = ((x / BIN_M).floor() as i64, (y / BIN_M).floor() as i64);
        let ratio = value / limit;
        let entry = TerrainHazard {
            kind,
            x_m: r2(x),
            y_m: r2(y),
            value: r2(value),
            limit,
            distance_m: r2(d),
        };
        bins.entry(key)
            .and_modify(|e| {
                if ratio > e.value / e.limit {
                    *e = entry.clone();
                }
            })
            .or_insert(entry);
    }
    let mut list: Vec<TerrainHazard> = bins.into_values().collect();
    list.sort_by(|x, y| {
        x.distance_m
            .total_cmp(&y.distance_m)
            .then(x.x_m.total_cmp(&y.x_m))
            .then(x.y_m.total_cmp(&y.y_m))
    });
    let total = list.len();
    list.truncate(MAX_LISTED);
    (list, total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn toolbox(sol: &str) -> Toolbox {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../fixtures/sols/{sol}.toml"));
        Toolbox::open(&crate::terrain::Sol::load(&path).unwrap()).unwrap()
    }

    /// The index answers exactly what classifying every cell around the query answers, ties
    /// within a bin included, for points and segments all over the area.
    #[test]
    fn the_index_answers_as_the_scan_does() {
        for sol in ["crater-field-01", "ripple-slope-01"] {
            let tb = toolbox(sol);
            let index = tb.terrain_hazard_index().expect("the sol's area is indexed");
            assert!(index.cells.size() > 50, "{sol}: {} flagged cells", index.cells.size());
            let (x0, y0, x1, y1) = index.area;
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
            let (mut covered, mut flagged) = (0, 0);
            for _ in 0..60 {
                let a = (rng.gen_range(x0..x1), rng.gen_range(y0..y1));
                let b = if rng.gen_bool(0.5) {
                    a
                } else {
                    (a.0 + rng.gen_range(-60.0..60.0), a.1 + rng.gen_range(-60.0..60.0))
                };
                let radius = rng.gen_range(25.0..=100.0);
                let slow = bin(scan(&tb, a, b, radius).unwrap());
                if index.covers(a, b, radius) {
                    covered += 1;
                    let fast = bin(index.near(a, b, radius));
                    flagged += slow.1;
                    assert_eq!(
                        serde_json::to_string(&fast).unwrap(),
                        serde_json::to_string(&slow).unwrap(),
                        "{sol}: {a:?} -> {b:?} r {radius}"
                    );
                }
                // Through the tool, whichever path it takes, the answer is the scan's.
                let args = serde_json::json!({"x_m": a.0, "y_m": a.1, "to_x_m": b.0,
                                              "to_y_m": b.1, "radius_m": radius});
                if let Ok(out) = tb.call("hazard_lookup", &args) {
                    assert_eq!(out.result["terrain_total"], serde_json::json!(slow.1));
                }
            }
            assert!(covered >= 10 && flagged > 0, "{sol}: {covered} covered, {flagged} flagged");
        }
    }
}
