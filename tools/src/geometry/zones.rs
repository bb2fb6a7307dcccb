//! An index of polygons (mapped hazards, keep-out zones) by an R-tree of their bounding boxes:
//! the checker's zone rules, the hazard lookup tool and the cost grid all ask "which zones lie
//! within this distance of that segment", and answer it with the exact geometry of
//! [`super::polygon`].

use geo::Polygon;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use super::polygon::{bounds, segment_to_polygon, Nearest};
use super::Pt;

/// One polygon of a zone index.
#[derive(Debug, Clone)]
pub struct Zone {
    /// What it is, for messages (`rock #3`, `keep-out "crater rim"`).
    pub label: String,
    /// The outline, map metres.
    pub polygon: Polygon<f64>,
}

/// Polygons with an R-tree of their bounding boxes.
#[derive(Debug)]
pub struct ZoneIndex {
    zones: Vec<Zone>,
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
}

/// A zone near a stretch of the route.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ZoneHit {
    /// Index of the zone.
    pub zone: usize,
    /// Distance from the stretch and where it is reached.
    pub nearest: Nearest,
}

impl ZoneIndex {
    /// Indexes `zones` (order is kept: it is the tie-break between equally close zones).
    #[must_use]
    pub fn new(zones: Vec<Zone>) -> Self {
        let items = zones
            .iter()
            .enumerate()
            .map(|(i, z)| {
                let (x0, y0, x1, y1) = bounds(&z.polygon);
                GeomWithData::new(Rectangle::from_corners([x0, y0], [x1, y1]), i)
            })
            .collect();
        ZoneIndex { zones, tree: RTree::bulk_load(items) }
    }

    /// The zones.
    #[must_use]
    pub fn zones(&self) -> &[Zone] {
        &self.zones
    }

    /// Whether there are no zones.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.zones.is_empty()
    }

    /// Every zone within `radius` of segment `a -> b`, by zone index.
    #[must_use]
    pub fn near(&self, a: Pt, b: Pt, radius: f64) -> Vec<ZoneHit> {
        if self.zones.is_empty() {
            return Vec::new();
        }
        let env = AABB::from_corners(
            [a.0.min(b.0) - radius, a.1.min(b.1) - radius],
            [a.0.max(b.0) + radius, a.1.max(b.1) + radius],
        );
        let mut hits: Vec<ZoneHit> = self
            .tree
            .locate_in_envelope_intersecting(&env)
            .filter_map(|item| {
                let nearest = segment_to_polygon(a, b, &self.zones[item.data].polygon);
                (nearest.distance <= radius).then_some(ZoneHit { zone: item.data, nearest })
            })
            .collect();
        hits.sort_by_key(|h| h.zone);
        hits
    }
}
