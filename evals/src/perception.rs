//! Perception scores: how well a set of mapped hazards (a model's marks, or a terrain
//! classifier's polygons) agrees with a site's ground truth.
//!
//! Per class: object precision and recall, an object counting as found when a predicted and a
//! true outline of that class overlap with intersection-over-union of at least
//! [`OBJECT_IOU`] (matched one to one, best overlaps first), and the area IoU of everything of
//! that class. For a route: the share of its length within a distance of ground-truth hazards
//! that block the rover.
//!
//! Areas are measured by rasterising the outlines at cell centres on a grid of `cell_m`
//! (0.25 m is a quarter of a DEM post), not by polygon boolean operations: a score must be total
//! on whatever a model draws (self-touching, degenerate or overlapping outlines), and a count
//! of cells is exact on the grid, deterministic and needs no robust-predicate library. The
//! error of the raster against the exact area is at most the outline's length times one cell.

use breadcrumb_tools::checker::rules::hazards::blocks;
use breadcrumb_tools::geometry::{segment_to_polygon, Pt};
use breadcrumb_tools::terrain::{Hazard, HazardClass};
use geo::Polygon;
use serde::{Deserialize, Serialize};

/// Intersection-over-union at which a predicted outline counts as finding a true one.
pub const OBJECT_IOU: f64 = 0.3;

/// Distance from a blocking ground-truth hazard within which route length is counted, metres.
pub const NEAR_HAZARD_M: f64 = 5.0;

/// Grid cell for area measures, metres.
pub const CELL_M: f64 = 0.25;

/// Most raster cells one area measure uses; a larger extent is measured on coarser cells
/// (so a mark the size of a continent costs a bounded time, and still scores near zero).
const MAX_CELLS: f64 = 4.0e6;

/// One class's agreement with the ground truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassScore {
    /// The class.
    pub class: HazardClass,
    /// Ground-truth objects of this class.
    pub truth_objects: usize,
    /// Predicted objects of this class.
    pub predicted_objects: usize,
    /// One-to-one matches at IoU >= [`OBJECT_IOU`].
    pub matched: usize,
    /// `matched / predicted_objects` (`None` when nothing of the class was predicted).
    pub precision: Option<f64>,
    /// `matched / truth_objects` (`None` when the truth has none of the class).
    pub recall: Option<f64>,
    /// Area IoU of the union of predictions against the union of truth (`None` when both are
    /// empty).
    pub area_iou: Option<f64>,
}

/// Scores `predicted` against `truth`, one entry per class present in either, in
/// [`HazardClass::ALL`] order.
#[must_use]
pub fn score(truth: &[Hazard], predicted: &[Hazard]) -> Vec<ClassScore> {
    HazardClass::ALL
        .into_iter()
        .filter_map(|class| {
            let t: Vec<&Hazard> = truth.iter().filter(|h| h.class == class).collect();
            let p: Vec<&Hazard> = predicted.iter().filter(|h| h.class == class).collect();
            (!t.is_empty() || !p.is_empty()).then(|| class_score(class, &t, &p))
        })
        .collect()
}

fn class_score(class: HazardClass, truth: &[&Hazard], predicted: &[&Hazard]) -> ClassScore {
    let parts = |hs: &[&Hazard]| -> Vec<Polygon<f64>> {
        hs.iter().flat_map(|h| h.shape.0.iter().cloned()).collect()
    };
    let matched = match_objects(truth, predicted);
    let ratio = |n: usize, d: usize| (d > 0).then(|| n as f64 / d as f64);
    ClassScore {
        class,
        truth_objects: truth.len(),
        predicted_objects: predicted.len(),
        matched,
        precision: ratio(matched, predicted.len()),
        recall: ratio(matched, truth.len()),
        area_iou: area_iou(&parts(truth), &parts(predicted)),
    }
}

/// Greedy one-to-one matching, best IoU first (ties: lower truth index, then lower
/// prediction index, so the count is deterministic).
fn match_objects(truth: &[&Hazard], predicted: &[&Hazard]) -> usize {
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for (i, t) in truth.iter().enumerate() {
        for (j, p) in predicted.iter().enumerate() {
            // Outlines whose boxes do not meet have IoU 0: skip rasterising the box around two
            // far-apart rocks (up to the whole cell budget per pair).
            if !boxes_meet(&t.shape.0, &p.shape.0) {
                continue;
            }
            if let Some(iou) = area_iou(&t.shape.0, &p.shape.0) {
                if iou >= OBJECT_IOU {
                    pairs.push((iou, i, j));
                }
            }
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let (mut used_t, mut used_p) = (vec![false; truth.len()], vec![false; predicted.len()]);
    let mut n = 0;
    for (_, i, j) in pairs {
        if !used_t[i] && !used_p[j] {
            used_t[i] = true;
            used_p[j] = true;
            n += 1;
        }
    }
    n
}

/// Area IoU of the union of `a` against the union of `b`, measured on a grid of [`CELL_M`]
/// (coarser when the extent would exceed [`MAX_CELLS`]). `None` when both cover nothing.
#[must_use]
pub fn area_iou(a: &[Polygon<f64>], b: &[Polygon<f64>]) -> Option<f64> {
    let (xmin, ymin, xmax, ymax) = extent(a.iter().chain(b))?;
    let (w, h) = (xmax - xmin, ymax - ymin);
    let cell = CELL_M.max((w * h / MAX_CELLS).sqrt());
    let (nx, ny) = ((w / cell).ceil().max(1.0) as usize, (h / cell).ceil().max(1.0) as usize);
    let grid = Raster { xmin, ymin, cell, nx, ny };
    let (ra, rb) = (grid.cover(a), grid.cover(b));
    let inter = ra.iter().zip(&rb).filter(|(x, y)| **x && **y).count();
    let union = ra.iter().zip(&rb).filter(|(x, y)| **x || **y).count();
    (union > 0).then(|| inter as f64 / union as f64)
}

/// The grid areas are counted on: cell centres at `(xmin + (col + ½) cell, ymin + (row + ½)
/// cell)`.
struct Raster {
    xmin: f64,
    ymin: f64,
    cell: f64,
    nx: usize,
    ny: usize,
}

impl Raster {
    /// Which cell centres `polys` cover (inside, by the even-odd rule over every ring, so
    /// holes are holes). Each polygon is filled row by row between its edge crossings (a scan
    /// line), so a cell costs a store and a row costs its crossings: an outline of hundreds of
    /// vertices over a large box fills in milliseconds.
    fn cover(&self, polys: &[Polygon<f64>]) -> Vec<bool> {
        let mut out = vec![false; self.nx * self.ny];
        let mut xs: Vec<f64> = Vec::new();
        for poly in polys {
            let Some((_, y0, _, y1)) = extent(std::iter::once(poly)) else { continue };
            let edges: Vec<((f64, f64), (f64, f64))> = std::iter::once(poly.exterior())
                .chain(poly.interiors())
                .flat_map(|ring| ring.lines().map(|l| ((l.start.x, l.start.y), (l.end.x, l.end.y))))
                .filter(|(a, b)| {
                    a.0.is_finite() && a.1.is_finite() && b.0.is_finite() && b.1.is_finite()
                })
                .collect();
            let row = |y: f64| ((y - self.ymin) / self.cell - 0.5).clamp(0.0, self.ny as f64 - 1.0);
            for r in (row(y0).floor() as usize)..=(row(y1).ceil() as usize) {
                let y = self.ymin + (r as f64 + 0.5) * self.cell;
                xs.clear();
                for &(a, b) in &edges {
                    if (a.1 <= y) != (b.1 <= y) {
                        xs.push(a.0 + (y - a.1) * (b.0 - a.0) / (b.1 - a.1));
                    }
                }
                xs.sort_by(f64::total_cmp);
                for pair in xs.chunks_exact(2) {
                    let first = ((pair[0] - self.xmin) / self.cell - 0.5).ceil().max(0.0);
                    let last = ((pair[1] - self.xmin) / self.cell - 0.5).floor();
                    if last < first || first >= self.nx as f64 {
                        continue;
                    }
                    let last = last.min(self.nx as f64 - 1.0) as usize;
                    for c in (first as usize)..=last {
                        out[r * self.nx + c] = true;
                    }
                }
            }
        }
        out
    }
}

/// A box `(xmin, ymin, xmax, ymax)`, map metres.
type Bounds = (f64, f64, f64, f64);

/// Share of the route's length (`0..=1`) within `within_m` of a ground-truth hazard of a
/// blocking class (`None` for a route of no length). Measured on pieces of at most 0.25 m.
#[must_use]
pub fn route_share_near_blocking(route: &[Pt], truth: &[Hazard], within_m: f64) -> Option<f64> {
    // Each blocking polygon with its bounds grown by `within_m`: most are far from a given
    // piece of route and are passed over on their box alone.
    let blocking: Vec<(&Polygon<f64>, Bounds)> = truth
        .iter()
        .filter(|h| blocks(h.class))
        .flat_map(|h| h.shape.0.iter())
        .filter_map(|p| {
            extent(std::iter::once(p))
                .map(|(a, b, c, d)| (p, (a - within_m, b - within_m, c + within_m, d + within_m)))
        })
        .collect();
    let (mut near, mut total) = (0.0, 0.0);
    for w in route.windows(2) {
        let (a, b) = (w[0], w[1]);
        let len = (b.0 - a.0).hypot(b.1 - a.1);
        if !len.is_finite() || len == 0.0 {
            continue;
        }
        let pieces = (len / CELL_M).ceil().min(1.0e6) as usize;
        let step = len / pieces as f64;
        for k in 0..pieces {
            let t = (k as f64 + 0.5) / pieces as f64;
            let p = (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1));
            let near_one = blocking.iter().any(|(poly, b)| {
                p.0 >= b.0
                    && p.0 <= b.2
                    && p.1 >= b.1
                    && p.1 <= b.3
                    && segment_to_polygon(p, p, poly).distance <= within_m
            });
            if near_one {
                near += step;
            }
        }
        total += len;
    }
    (total > 0.0).then(|| near / total)
}

/// What one attempt's perception scored against the site's ground truth: the model's marks
/// per class, the union of its blocking marks against the union of the blocking truth, and how
/// much of its route ran near true blocking hazards.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PerceptionScores {
    /// Marks the model made.
    pub marks: u32,
    /// Of which blocking.
    pub blocking_marks: u32,
    /// The marks per class (classes in the truth or the marks).
    pub marks_by_class: Vec<ClassScore>,
    /// Area IoU of all blocking marks against all blocking truth (`None` when both are empty).
    pub blocking_area_iou: Option<f64>,
    /// Share of the last route's length within [`NEAR_HAZARD_M`] of true blocking hazards.
    pub route_near_hazard_share: Option<f64>,
    /// The baseline terrain classifier over the sol's area, per class (the same for every
    /// attempt at the sol: the yardstick the model's marks are read against).
    #[serde(default)]
    pub classifier_by_class: Vec<ClassScore>,
    /// The classifier's blocking classes against the blocking truth, area IoU.
    #[serde(default)]
    pub classifier_blocking_area_iou: Option<f64>,
}

/// Scores `marks` (as hazards) and the last `route` against `truth`.
#[must_use]
pub fn score_attempt(truth: &[Hazard], marks: &[Hazard], route: Option<&[Pt]>) -> PerceptionScores {
    PerceptionScores {
        marks: u32::try_from(marks.len()).unwrap_or(u32::MAX),
        blocking_marks: u32::try_from(marks.iter().filter(|h| blocks(h.class)).count())
            .unwrap_or(u32::MAX),
        marks_by_class: score(truth, marks),
        blocking_area_iou: blocking_area_iou(truth, marks),
        route_near_hazard_share: route
            .and_then(|r| route_share_near_blocking(r, truth, NEAR_HAZARD_M)),
        classifier_by_class: Vec::new(),
        classifier_blocking_area_iou: None,
    }
}

/// The baseline classifier scored against a sol's ground truth, once per sol (the same for
/// every attempt at it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClassifierScores {
    /// Per class.
    pub by_class: Vec<ClassScore>,
    /// Blocking classes against blocking truth, area IoU.
    pub blocking_area_iou: Option<f64>,
}

/// Scores the classifier's outlines `predicted` against `truth`.
#[must_use]
pub fn score_classifier(truth: &[Hazard], predicted: &[Hazard]) -> ClassifierScores {
    ClassifierScores {
        by_class: score(truth, predicted),
        blocking_area_iou: blocking_area_iou(truth, predicted),
    }
}

/// Area IoU of the union of `predicted`'s blocking outlines against `truth`'s.
#[must_use]
pub fn blocking_area_iou(truth: &[Hazard], predicted: &[Hazard]) -> Option<f64> {
    let parts = |hs: &[Hazard]| -> Vec<Polygon<f64>> {
        hs.iter().filter(|h| blocks(h.class)).flat_map(|h| h.shape.0.iter().cloned()).collect()
    };
    area_iou(&parts(truth), &parts(predicted))
}

/// Whether the bounds of `a` and of `b` overlap (so their IoU can be above 0).
fn boxes_meet(a: &[Polygon<f64>], b: &[Polygon<f64>]) -> bool {
    match (extent(a.iter()), extent(b.iter())) {
        (Some(a), Some(b)) => a.0 <= b.2 && b.0 <= a.2 && a.1 <= b.3 && b.1 <= a.3,
        _ => false,
    }
}

/// The bounds of every finite vertex of `polys`, `None` when there is none or no area.
fn extent<'a>(polys: impl Iterator<Item = &'a Polygon<f64>>) -> Option<(f64, f64, f64, f64)> {
    let mut e = (f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY);
    for c in polys.flat_map(|p| p.exterior().coords()) {
        if c.x.is_finite() && c.y.is_finite() {
            e = (e.0.min(c.x), e.1.min(c.y), e.2.max(c.x), e.3.max(c.y));
        }
    }
    (e.2 > e.0 && e.3 > e.1).then_some(e)
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use breadcrumb_tools::checker::plan::load_routes;
    use breadcrumb_tools::terrain::hazards::load_hazards;
    use breadcrumb_tools::terrain::Dem;
    use geo::{LineString, MultiPolygon};

    use super::*;

    fn square(class: HazardClass, x: f64, y: f64, side: f64) -> Hazard {
        let ring = vec![(x, y), (x + side, y), (x + side, y + side), (x, y + side), (x, y)];
        Hazard {
            index: 0,
            class,
            shape: MultiPolygon::new(vec![Polygon::new(LineString::from(ring), vec![])]),
            properties: serde_json::Map::new(),
        }
    }

    /// The scan-line fill covers exactly the cell centres the polygon contains (checked
    /// against the point-to-polygon distance of the checker's geometry), holes included.
    #[test]
    fn scan_line_cover_agrees_with_point_in_polygon() {
        let outer = LineString::from(vec![
            (0.3, 0.1),
            (9.7, 1.3),
            (6.1, 4.4),
            (9.9, 9.2),
            (4.2, 7.7),
            (0.6, 9.9),
            (2.2, 5.0),
            (0.3, 0.1),
        ]);
        let hole = LineString::from(vec![(3.0, 2.0), (5.0, 2.2), (4.1, 3.9), (3.0, 2.0)]);
        let poly = Polygon::new(outer, vec![hole]);
        let grid = Raster { xmin: -1.0, ymin: -1.0, cell: 0.25, nx: 48, ny: 48 };
        let got = grid.cover(std::slice::from_ref(&poly));
        let mut differ = 0;
        for r in 0..grid.ny {
            for c in 0..grid.nx {
                let p = (-1.0 + (c as f64 + 0.5) * 0.25, -1.0 + (r as f64 + 0.5) * 0.25);
                let inside = segment_to_polygon(p, p, &poly).distance == 0.0;
                differ += usize::from(inside != got[r * grid.nx + c]);
            }
        }
        assert_eq!(differ, 0);
        assert!(got.iter().filter(|b| **b).count() > 500);
    }

    #[test]
    fn identical_sets_score_one() {
        let t = vec![
            square(HazardClass::Rock, 0.0, 0.0, 4.0),
            square(HazardClass::Rock, 20.0, 0.0, 2.0),
        ];
        let s = score(&t, &t);
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].precision, s[0].recall, s[0].area_iou), (Some(1.0), Some(1.0), Some(1.0)));
    }

    #[test]
    fn a_shifted_square_matches_above_the_iou_threshold_only() {
        // Side 10, shifted 5: 50 / 150 = 1/3 (matched). Shifted 6: 40 / 160 = 1/4 (not).
        let t = vec![square(HazardClass::SandRipple, 0.0, 0.0, 10.0)];
        let half = score(&t, &[square(HazardClass::SandRipple, 5.0, 0.0, 10.0)]);
        assert!((half[0].area_iou.unwrap() - 1.0 / 3.0).abs() < 1e-9, "{half:?}");
        assert_eq!((half[0].matched, half[0].recall), (1, Some(1.0)));
        let off = score(&t, &[square(HazardClass::SandRipple, 6.0, 0.0, 10.0)]);
        assert!((off[0].area_iou.unwrap() - 0.25).abs() < 1e-9, "{off:?}");
        assert_eq!((off[0].matched, off[0].precision, off[0].recall), (0, Some(0.0), Some(0.0)));
    }

    #[test]
    fn classes_are_scored_apart_and_missing_sides_are_none() {
        let t = vec![square(HazardClass::Rock, 0.0, 0.0, 4.0)];
        let p = vec![square(HazardClass::Crater, 0.0, 0.0, 4.0)];
        let s = score(&t, &p);
        let rock = s.iter().find(|c| c.class == HazardClass::Rock).unwrap();
        let crater = s.iter().find(|c| c.class == HazardClass::Crater).unwrap();
        assert_eq!((rock.precision, rock.recall, rock.area_iou), (None, Some(0.0), Some(0.0)));
        assert_eq!((crater.precision, crater.recall), (Some(0.0), None));
        assert!(score(&[], &[]).is_empty());
    }

    #[test]
    fn matching_is_one_to_one() {
        let t = vec![square(HazardClass::Rock, 0.0, 0.0, 4.0)];
        let p = vec![
            square(HazardClass::Rock, 0.0, 0.0, 4.0),
            square(HazardClass::Rock, 0.0, 0.0, 4.0),
        ];
        let s = score(&t, &p);
        assert_eq!((s[0].matched, s[0].precision, s[0].recall), (1, Some(0.5), Some(1.0)));
    }

    #[test]
    fn degenerate_and_huge_outlines_score_without_panicking() {
        let nan = square(HazardClass::Rock, f64::NAN, 0.0, 1.0);
        let flat = square(HazardClass::Rock, 0.0, 0.0, 0.0);
        let huge = square(HazardClass::Rock, -1.0e7, -1.0e7, 2.0e7);
        let t = vec![square(HazardClass::Rock, 0.0, 0.0, 4.0)];
        for p in [nan, flat, huge] {
            let s = score(&t, &[p]);
            assert!(s[0].area_iou.unwrap() < 1e-6, "{s:?}");
        }
    }

    #[test]
    fn route_share_counts_length_within_the_distance_of_blocking_truth() {
        // A 100 m route along y = 0; a rock square spanning x 10..20 at y 3..6 is within 5 m of
        // x in [10 - 4, 20 + 4] (distance sqrt(dx^2 + 9) <= 5), i.e. 18 m: 0.18 of the route.
        let route = [(0.0, 0.0), (100.0, 0.0)];
        let rock = square(HazardClass::Rock, 10.0, 3.0, 10.0);
        let share = route_share_near_blocking(&route, &[rock], NEAR_HAZARD_M).unwrap();
        assert!((share - 0.18).abs() <= 0.005, "{share}");
        // Outcrop does not block: nothing is near.
        let outcrop = square(HazardClass::Outcrop, 10.0, 3.0, 10.0);
        assert_eq!(route_share_near_blocking(&route, &[outcrop], NEAR_HAZARD_M), Some(0.0));
        assert_eq!(route_share_near_blocking(&[(1.0, 1.0)], &[], NEAR_HAZARD_M), None);
    }

    fn repo() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    /// The Gale label drawn by eye parses as hazards, lies on the DEM, and agrees with the
    /// people who drove there: no real Curiosity drive enters the sand it outlines.
    #[test]
    fn gale_label_by_eye_lies_on_the_dem_and_no_real_drive_enters_its_sand() {
        let label = load_hazards(&repo().join("fixtures/labels/gale-marias-pass.geojson")).unwrap();
        let site = repo().join("../shared/realdata/gale-marias-pass");
        let dem = Dem::open(site.join("dem.tif")).expect("../shared/realdata beside the repo");
        let (xmin, ymin, xmax, ymax) = dem.extent();
        assert!(label.iter().any(|h| h.class == HazardClass::SandRipple));
        assert!(label.iter().any(|h| h.class == HazardClass::Outcrop));
        for c in label.iter().flat_map(|h| h.shape.0.iter()).flat_map(|p| p.exterior().coords()) {
            assert!((xmin..=xmax).contains(&c.x) && (ymin..=ymax).contains(&c.y), "{c:?}");
        }
        let (drives, _) = load_routes(&site.join("drives.geojson")).unwrap();
        assert_eq!(drives.len(), 22);
        let sand: Vec<Hazard> =
            label.iter().filter(|h| h.class == HazardClass::SandRipple).cloned().collect();
        for d in &drives {
            let share = route_share_near_blocking(&d.points, &sand, 0.0).unwrap();
            assert_eq!(share, 0.0, "drive {} enters the labelled sand", d.label());
        }
    }
}
