//! A hazard a model says it sees, validated before it may become a constraint.
//!
//! A model's mark is untrusted input, like every tool argument: it may name an unknown class,
//! draw a ring that crosses itself, lie off the map, or cover the whole site. [`validate`]
//! turns a [`MarkInput`] into a [`Mark`] (a simple polygon in map metres with its class,
//! confidence and reason) or a [`MarkError`] that says what to fix; it never panics.
//!
//! A mark can only add a constraint. Its class decides whether it blocks (the checker's own
//! [`crate::checker::rules::hazards::blocks`]); a circle becomes the polygon circumscribed
//! about it, so the keep-out covers at least the circle the model drew.

use geo::{Area, LineString, Polygon};
use serde::{Deserialize, Serialize};

use crate::checker::rules::hazards::blocks;
use crate::geometry::Pt;
use crate::terrain::{Hazard, HazardClass};

/// Fewest vertices of a polygon mark.
pub const MIN_VERTICES: usize = 3;
/// Most vertices of a polygon mark (an outline drawn by eye needs tens, not thousands).
pub const MAX_VERTICES: usize = 64;
/// Smallest mark, square metres (a 10 cm square: smaller than any rock a rover cares about).
pub const MIN_AREA_M2: f64 = 0.01;
/// Largest mark, square metres (a 500 m square: larger than any ripple field a sol drives
/// around, and small enough that one mark cannot wall off a whole site by accident).
pub const MAX_AREA_M2: f64 = 250_000.0;
/// Vertices of the polygon a circle mark becomes.
pub const CIRCLE_VERTICES: usize = 32;
/// Longest reason, characters.
pub const MAX_REASON_CHARS: usize = 300;

/// The classes a model may mark: the mapped-hazard classes plus `bedrock`, which is firm
/// ground (scored like `outcrop`, never blocking).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarkClass {
    /// A single rock too tall to climb.
    Rock,
    /// A dense rock population.
    BoulderField,
    /// Sand ripples or megaripples.
    SandRipple,
    /// Exposed, often sharp, bedrock.
    Outcrop,
    /// A steep step or cliff.
    Scarp,
    /// A crater.
    Crater,
    /// Flat-lying bedrock (firm ground).
    Bedrock,
    /// Something the model sees but cannot classify (blocks: the worst case).
    Unknown,
}

impl MarkClass {
    /// Every class, in a stable order.
    pub const ALL: [MarkClass; 8] = [
        MarkClass::Rock,
        MarkClass::BoulderField,
        MarkClass::SandRipple,
        MarkClass::Outcrop,
        MarkClass::Scarp,
        MarkClass::Crater,
        MarkClass::Bedrock,
        MarkClass::Unknown,
    ];

    /// The snake_case name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            MarkClass::Bedrock => "bedrock",
            other => other.hazard_class().as_str(),
        }
    }

    /// Parses a class name.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        MarkClass::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// The mapped-hazard class it is enforced and scored as (`bedrock` as `outcrop`).
    #[must_use]
    pub fn hazard_class(self) -> HazardClass {
        match self {
            MarkClass::Rock => HazardClass::Rock,
            MarkClass::BoulderField => HazardClass::BoulderField,
            MarkClass::SandRipple => HazardClass::SandRipple,
            MarkClass::Outcrop | MarkClass::Bedrock => HazardClass::Outcrop,
            MarkClass::Scarp => HazardClass::Scarp,
            MarkClass::Crater => HazardClass::Crater,
            MarkClass::Unknown => HazardClass::Unknown,
        }
    }

    /// Whether a mark of this class becomes a keep-out.
    #[must_use]
    pub fn blocks(self) -> bool {
        blocks(self.hazard_class())
    }
}

/// The outline a model draws, map metres.
#[derive(Debug, Clone, PartialEq)]
pub enum MarkShape {
    /// A ring of vertices (closed or not).
    Polygon(Vec<Pt>),
    /// A circle.
    Circle {
        /// Its centre.
        centre: Pt,
        /// Its radius, metres.
        radius_m: f64,
    },
}

/// A mark as the model gave it (class still a name, numbers unchecked).
#[derive(Debug, Clone, PartialEq)]
pub struct MarkInput {
    /// Class name.
    pub class: String,
    /// The outline.
    pub shape: MarkShape,
    /// How sure the model is, 0 to 1.
    pub confidence: f64,
    /// Why, in a few words.
    pub reason: String,
}

/// A validated mark: a simple polygon on the map.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    /// Its class.
    pub class: MarkClass,
    /// Its outline (closed ring, no self-intersection, every vertex on the map).
    pub polygon: Polygon<f64>,
    /// Confidence, 0 to 1.
    pub confidence: f64,
    /// The model's reason.
    pub reason: String,
}

impl Mark {
    /// As a mapped hazard (feature `index`), with class, confidence and reason as properties,
    /// for the checker's index and for `hazards.model.geojson`.
    #[must_use]
    pub fn to_hazard(&self, index: usize) -> Hazard {
        let mut properties = serde_json::Map::new();
        properties.insert("class".into(), self.class.hazard_class().as_str().into());
        properties.insert("marked_class".into(), self.class.as_str().into());
        properties.insert("confidence".into(), self.confidence.into());
        properties.insert("reason".into(), self.reason.clone().into());
        Hazard {
            index,
            class: self.class.hazard_class(),
            shape: geo::MultiPolygon::new(vec![self.polygon.clone()]),
            properties,
        }
    }
}

/// Why a mark was refused: each says what is wrong so the model can fix it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MarkError {
    /// The class is not one a mark may have.
    #[error("unknown class {given:?}; expected one of {}", expected_classes())]
    UnknownClass {
        /// What was given.
        given: String,
    },
    /// A coordinate or the radius is not a finite number.
    #[error("coordinates and radius must be finite numbers")]
    NotFinite,
    /// Too few or too many vertices.
    #[error(
        "a polygon mark needs {MIN_VERTICES} to {MAX_VERTICES} distinct vertices, got {count}"
    )]
    VertexCount {
        /// Distinct vertices given.
        count: usize,
    },
    /// Two edges of the ring cross or touch.
    #[error("the outline crosses itself: edge {first} meets edge {second}; draw a simple ring")]
    SelfIntersecting {
        /// One edge (from vertex `first` to the next).
        first: usize,
        /// The other.
        second: usize,
    },
    /// A vertex is off the DEM.
    #[error("vertex {vertex} ({x_m:.2}, {y_m:.2}) is off the map (extent {extent:?})")]
    OffMap {
        /// Which vertex (for a circle, of its polygon).
        vertex: usize,
        /// Its x.
        x_m: f64,
        /// Its y.
        y_m: f64,
        /// The DEM's `[xmin, ymin, xmax, ymax]`.
        extent: [f64; 4],
    },
    /// Implausibly small or large.
    #[error("area {area_m2:.3} m^2 is outside {MIN_AREA_M2} to {MAX_AREA_M2} m^2")]
    Size {
        /// The outline's area.
        area_m2: f64,
    },
    /// Confidence outside 0..=1.
    #[error("confidence must be between 0 and 1, got {given}")]
    Confidence {
        /// What was given.
        given: f64,
    },
    /// The reason is empty or too long.
    #[error("give a reason of 1 to {MAX_REASON_CHARS} characters")]
    Reason,
}

fn expected_classes() -> String {
    MarkClass::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
}

/// Validates a mark against the map `extent` `(xmin, ymin, xmax, ymax)`.
pub fn validate(input: &MarkInput, extent: (f64, f64, f64, f64)) -> Result<Mark, MarkError> {
    let class = MarkClass::parse(&input.class)
        .ok_or_else(|| MarkError::UnknownClass { given: input.class.chars().take(40).collect() })?;
    if !(input.confidence.is_finite() && (0.0..=1.0).contains(&input.confidence)) {
        return Err(MarkError::Confidence { given: input.confidence });
    }
    let reason = input.reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(MarkError::Reason);
    }
    let ring = match &input.shape {
        MarkShape::Polygon(points) => distinct_ring(points)?,
        MarkShape::Circle { centre, radius_m } => circle_ring(*centre, *radius_m)?,
    };
    if ring.iter().any(|p| !(p.0.is_finite() && p.1.is_finite())) {
        return Err(MarkError::NotFinite);
    }
    let (xmin, ymin, xmax, ymax) = extent;
    if let Some((vertex, p)) = ring
        .iter()
        .enumerate()
        .find(|(_, p)| !(p.0 >= xmin && p.0 <= xmax && p.1 >= ymin && p.1 <= ymax))
    {
        return Err(MarkError::OffMap {
            vertex,
            x_m: p.0,
            y_m: p.1,
            extent: [xmin, ymin, xmax, ymax],
        });
    }
    if let Some((first, second)) = self_intersection(&ring) {
        return Err(MarkError::SelfIntersecting { first, second });
    }
    let mut closed = ring.clone();
    closed.push(ring[0]);
    let polygon = Polygon::new(LineString::from(closed), vec![]);
    let area_m2 = polygon.unsigned_area();
    if !(MIN_AREA_M2..=MAX_AREA_M2).contains(&area_m2) {
        return Err(MarkError::Size { area_m2 });
    }
    Ok(Mark { class, polygon, confidence: input.confidence, reason: reason.to_owned() })
}

/// The ring's vertices without a closing repeat or consecutive duplicates.
fn distinct_ring(points: &[Pt]) -> Result<Vec<Pt>, MarkError> {
    if points.len() > MAX_VERTICES + 1 {
        return Err(MarkError::VertexCount { count: points.len() });
    }
    if points.iter().any(|p| !(p.0.is_finite() && p.1.is_finite())) {
        return Err(MarkError::NotFinite);
    }
    let mut ring: Vec<Pt> = Vec::with_capacity(points.len());
    for &p in points {
        if ring.last() != Some(&p) {
            ring.push(p);
        }
    }
    while ring.len() > 1 && ring.first() == ring.last() {
        ring.pop();
    }
    if !(MIN_VERTICES..=MAX_VERTICES).contains(&ring.len()) {
        return Err(MarkError::VertexCount { count: ring.len() });
    }
    Ok(ring)
}

/// The polygon circumscribed about a circle (it contains the whole circle).
fn circle_ring(centre: Pt, radius_m: f64) -> Result<Vec<Pt>, MarkError> {
    if !(centre.0.is_finite() && centre.1.is_finite() && radius_m.is_finite()) {
        return Err(MarkError::NotFinite);
    }
    if radius_m <= 0.0 {
        return Err(MarkError::Size { area_m2: 0.0 });
    }
    let n = CIRCLE_VERTICES as f64;
    let r = radius_m / (std::f64::consts::PI / n).cos();
    Ok((0..CIRCLE_VERTICES)
        .map(|k| {
            let a = std::f64::consts::TAU * k as f64 / n;
            (centre.0 + r * a.cos(), centre.1 + r * a.sin())
        })
        .collect())
}

/// The first pair of edges `(i, j)`, `i < j`, of the closed ring that meet other than at the
/// vertex two neighbouring edges share. Computed relative to the first vertex so map
/// coordinates of millions of metres keep their precision.
fn self_intersection(ring: &[Pt]) -> Option<(usize, usize)> {
    let o = ring[0];
    let rel: Vec<Pt> = ring.iter().map(|p| (p.0 - o.0, p.1 - o.1)).collect();
    let n = rel.len();
    let edge = |i: usize| (rel[i], rel[(i + 1) % n]);
    for i in 0..n {
        for j in i + 1..n {
            let adjacent = j == i + 1 || (i == 0 && j == n - 1);
            let (a, b) = edge(i);
            let (c, d) = edge(j);
            if adjacent {
                // Neighbours share one vertex; they overlap only if they fold back on each other.
                let shared_then = if j == i + 1 { (a, d) } else { (b, c) };
                let s = if j == i + 1 { b } else { a };
                if cross(s, shared_then.0, shared_then.1) == 0.0
                    && dot(sub(shared_then.0, s), sub(shared_then.1, s)) > 0.0
                {
                    return Some((i, j));
                }
            } else if segments_meet(a, b, c, d) {
                return Some((i, j));
            }
        }
    }
    None
}

fn sub(a: Pt, b: Pt) -> Pt {
    (a.0 - b.0, a.1 - b.1)
}

fn dot(a: Pt, b: Pt) -> f64 {
    a.0 * b.0 + a.1 * b.1
}

/// Orientation of `c` against `a -> b` (positive: left).
fn cross(a: Pt, b: Pt, c: Pt) -> f64 {
    (b.0 - a.0) * (c.1 - a.1) - (b.1 - a.1) * (c.0 - a.0)
}

fn on_segment(a: Pt, b: Pt, p: Pt) -> bool {
    p.0 >= a.0.min(b.0) && p.0 <= a.0.max(b.0) && p.1 >= a.1.min(b.1) && p.1 <= a.1.max(b.1)
}

/// Whether closed segments `a-b` and `c-d` share a point.
fn segments_meet(a: Pt, b: Pt, c: Pt, d: Pt) -> bool {
    let (d1, d2) = (cross(c, d, a), cross(c, d, b));
    let (d3, d4) = (cross(a, b, c), cross(a, b, d));
    if ((d1 > 0.0 && d2 < 0.0) || (d1 < 0.0 && d2 > 0.0))
        && ((d3 > 0.0 && d4 < 0.0) || (d3 < 0.0 && d4 > 0.0))
    {
        return true;
    }
    (d1 == 0.0 && on_segment(c, d, a))
        || (d2 == 0.0 && on_segment(c, d, b))
        || (d3 == 0.0 && on_segment(a, b, c))
        || (d4 == 0.0 && on_segment(a, b, d))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAP: (f64, f64, f64, f64) = (8_142_406.0, -276_792.0, 8_142_754.0, -276_455.0);

    fn poly(class: &str, pts: &[Pt]) -> MarkInput {
        MarkInput {
            class: class.into(),
            shape: MarkShape::Polygon(pts.to_vec()),
            confidence: 0.8,
            reason: "dark rippled sand".into(),
        }
    }

    fn at(dx: f64, dy: f64) -> Pt {
        (8_142_500.0 + dx, -276_600.0 + dy)
    }

    #[test]
    fn a_simple_square_is_a_mark_and_blocks_by_class() {
        let sq = [at(0.0, 0.0), at(10.0, 0.0), at(10.0, 10.0), at(0.0, 10.0), at(0.0, 0.0)];
        let m = validate(&poly("sand_ripple", &sq), MAP).unwrap();
        assert!((m.polygon.unsigned_area() - 100.0).abs() < 1e-6);
        assert!(m.class.blocks());
        let h = m.to_hazard(3);
        assert_eq!(
            (h.index, h.class, h.properties["reason"].as_str()),
            (3, HazardClass::SandRipple, Some("dark rippled sand"))
        );
        let bedrock = validate(&poly("bedrock", &sq), MAP).unwrap();
        assert!(!bedrock.class.blocks());
        assert_eq!(bedrock.to_hazard(0).class, HazardClass::Outcrop);
    }

    #[test]
    fn a_circle_becomes_a_polygon_containing_it() {
        let input = MarkInput {
            class: "rock".into(),
            shape: MarkShape::Circle { centre: at(0.0, 0.0), radius_m: 2.0 },
            confidence: 1.0,
            reason: "a boulder".into(),
        };
        let m = validate(&input, MAP).unwrap();
        let area = m.polygon.unsigned_area();
        assert!(
            (std::f64::consts::PI * 4.0..std::f64::consts::PI * 4.0 * 1.02).contains(&area),
            "{area}"
        );
    }

    #[test]
    fn bad_marks_are_structured_errors() {
        let sq = [at(0.0, 0.0), at(10.0, 0.0), at(10.0, 10.0), at(0.0, 10.0)];
        assert!(matches!(validate(&poly("lava", &sq), MAP), Err(MarkError::UnknownClass { .. })));
        let bow = [at(0.0, 0.0), at(10.0, 10.0), at(10.0, 0.0), at(0.0, 10.0)];
        assert_eq!(
            validate(&poly("rock", &bow), MAP),
            Err(MarkError::SelfIntersecting { first: 0, second: 2 })
        );
        let spike = [at(0.0, 0.0), at(10.0, 0.0), at(5.0, 0.0), at(5.0, 5.0)];
        assert!(matches!(
            validate(&poly("rock", &spike), MAP),
            Err(MarkError::SelfIntersecting { .. })
        ));
        let off = [at(0.0, 0.0), at(1000.0, 0.0), at(0.0, 10.0)];
        assert!(matches!(
            validate(&poly("rock", &off), MAP),
            Err(MarkError::OffMap { vertex: 1, .. })
        ));
        let two = [at(0.0, 0.0), at(1.0, 0.0), at(0.0, 0.0)];
        assert_eq!(validate(&poly("rock", &two), MAP), Err(MarkError::VertexCount { count: 2 }));
        let nan = [at(0.0, 0.0), (f64::NAN, 0.0), at(0.0, 10.0)];
        assert_eq!(validate(&poly("rock", &nan), MAP), Err(MarkError::NotFinite));
        let tiny = [at(0.0, 0.0), at(0.01, 0.0), at(0.0, 0.01)];
        assert!(matches!(validate(&poly("rock", &tiny), MAP), Err(MarkError::Size { .. })));
        // 600 m square (360,000 m^2) on a map large enough to hold it.
        let big_map = (8_000_000.0, -400_000.0, 8_300_000.0, -200_000.0);
        let huge = [at(-300.0, -300.0), at(300.0, -300.0), at(300.0, 300.0), at(-300.0, 300.0)];
        assert!(matches!(validate(&poly("rock", &huge), big_map), Err(MarkError::Size { .. })));
        let mut unsure = poly("rock", &sq);
        unsure.confidence = 1.5;
        assert!(matches!(validate(&unsure, MAP), Err(MarkError::Confidence { .. })));
        let mut silent = poly("rock", &sq);
        silent.reason = "  ".into();
        assert_eq!(validate(&silent, MAP), Err(MarkError::Reason));
        let many: Vec<Pt> = (0..200).map(|k| at(f64::from(k).cos(), f64::from(k).sin())).collect();
        assert!(matches!(validate(&poly("rock", &many), MAP), Err(MarkError::VertexCount { .. })));
    }

    /// An independent rule: a quadrilateral with random vertices (general position, so no
    /// collinear fold-backs) is simple exactly when neither pair of opposite edges crosses,
    /// decided by a strict sign test that shares no code with `self_intersection`.
    #[test]
    fn self_intersection_agrees_with_the_quad_diagonal_rule() {
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((seed >> 33) as f64 / f64::from(1u32 << 31)) * 20.0
        };
        for _ in 0..2000 {
            let q: Vec<Pt> = (0..4).map(|_| (next(), next())).collect();
            let crosses_02 = strict_cross(q[0], q[1], q[2], q[3]);
            let crosses_13 = strict_cross(q[1], q[2], q[3], q[0]);
            let fast = self_intersection(&q).is_some();
            assert_eq!(fast, crosses_02 || crosses_13, "{q:?}");
        }
    }

    fn strict_cross(a: Pt, b: Pt, c: Pt, d: Pt) -> bool {
        let s =
            |p: Pt, q: Pt, r: Pt| ((q.0 - p.0) * (r.1 - p.1) - (q.1 - p.1) * (r.0 - p.0)).signum();
        s(a, b, c) != s(a, b, d) && s(c, d, a) != s(c, d, b)
    }
}
