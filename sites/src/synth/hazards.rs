//! Ground truth: the generated hazards as GeoJSON polygons in map metres.
//!
//! Why: the bundle's `hazards.geojson` is what a mapped-hazard layer would be on Mars (the
//! JPL demo's model marked bedrock, outcrops, boulder fields and sand ripples, ROVER.md 5 \[A1\]);
//! for a synthetic site it is exact, so evals can score what a planner (or a model's marks, or
//! a terrain classifier) noticed, class by class. Classes follow ARCHITECTURE.md: rock,
//! boulder_field, sand_ripple, outcrop, scarp, crater. Every feature the generator paints that
//! belongs to one of them is listed, and whether it blocks the rover follows from its class
//! (the checker's `hazards` rule), so a class is only given where the physics is that class's:
//! - **scarp**: each scarp's steep face, along the foot line and on over the end tapers as far
//!   as the step is still `hazards.rock_min_height_m` high (the step limit, ROVER.md 2).
//! - **outcrop**: the bedrock band on the upper side, over the same length.
//! - **crater**: craters fresh and wide enough to have steep walls, as their rim-crest circle
//!   (the inner wall and the rim crest are inside it; the outer flank is gentle and the DEM
//!   shows it).
//! - **sand_ripple**: ripple fields (their outline); and the sand fill of degraded craters
//!   (`origin = "crater_fill"`), the disc where the fill `craters::paint_fill` paints (dark
//!   sand, damped roughness, no rocks) has at least half its full weight, for craters at least
//!   `hazards.crater_min_diameter_m` wide degraded enough to be at least half filled.
//!   Sand is sand: it sinks wheels whether or not it is rippled (ROVER.md 3c).
//! - **boulder_field**: placed boulder fields (`origin = "placed"`); blocky ejecta blankets of
//!   fresh craters (`origin = "crater_ejecta"`); talus aprons below scarps (`origin =
//!   "scarp_talus"`). A blanket or apron is a field only where it holds at least
//!   [`FIELD_MIN_ROCKS`] rocks at least `hazards.rock_min_height_m` tall (over the step limit);
//!   otherwise its tall rocks are listed one by one.
//! - **rock**: every other rock at least `hazards.rock_min_height_m` tall (background, ejecta
//!   beyond a blanket, talus outside a listed apron); shorter rocks are not hazards.
//!
//! Coordinates are rounded to 0.01 m, rings closed and counter-clockwise (RFC 7946), features
//! in a fixed order: scarps, outcrops, craters, ripple fields, crater fills, placed boulder
//! fields, ejecta blankets, talus aprons, rocks, each in generation order.

use geojson::{feature::Id, Feature, FeatureCollection, Geometry, JsonObject, Value};
use serde_json::json;

use super::canvas::smoothstep;
use super::craters::{self, Crater};
use super::geometry::{circle_polygon, Point};
use super::params::SynthParams;
use super::ripples::bedform;
use super::rocks::{Rock, RockSource};
use super::scarps;

/// Everything the hazard layer is built from.
#[derive(Debug)]
pub struct HazardInputs<'a> {
    /// The site parameters (hand-placed features and selection thresholds).
    pub params: &'a SynthParams,
    /// Every crater painted (random then placed).
    pub craters: &'a [Crater],
    /// Every rock painted.
    pub rocks: &'a [Rock],
    /// Map coordinates of the site's south-west corner.
    pub origin: (f64, f64),
}

/// Radius of a listed ejecta blanket, in crater radii (block cover k falls as r^-3, so a rim
/// cover of 0.4 is still a "rock field" k of 0.1 here).
const EJECTA_BLANKET_RHO: f64 = 1.6;

/// Rocks over the step limit an ejecta blanket or a talus apron needs before it is listed as a
/// boulder field.
pub const FIELD_MIN_ROCKS: usize = 6;

/// Fill weight (0..1, as `craters::paint_fill` paints it) at the edge of a listed crater fill.
const FILL_MIN_COVER: f64 = 0.5;

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// A closed, counter-clockwise ring in map metres rounded to 0.01 m.
fn ring(poly: &[Point], origin: (f64, f64)) -> Vec<Vec<f64>> {
    let mut pts: Vec<Vec<f64>> =
        poly.iter().map(|p| vec![round2(origin.0 + p[0]), round2(origin.1 + p[1])]).collect();
    pts.dedup();
    let mut twice = 0.0;
    for i in 0..pts.len() {
        let (a, b) = (&pts[i], &pts[(i + 1) % pts.len()]);
        twice += a[0] * b[1] - b[0] * a[1];
    }
    if twice < 0.0 {
        pts.reverse();
    }
    if let Some(first) = pts.first().cloned() {
        if pts.last() != Some(&first) {
            pts.push(first);
        }
    }
    pts
}

fn feature(id: String, poly: &[Point], origin: (f64, f64), props: serde_json::Value) -> Feature {
    let properties: JsonObject = match props {
        serde_json::Value::Object(m) => m,
        _ => JsonObject::new(),
    };
    Feature {
        bbox: None,
        geometry: Some(Geometry::new(Value::Polygon(vec![ring(poly, origin)]))),
        id: Some(Id::String(id)),
        properties: Some(properties),
        foreign_members: None,
    }
}

/// Whether a circle overlaps the site square `[0, extent]^2`.
fn circle_meets_site(x: f64, y: f64, r: f64, extent: f64) -> bool {
    let dx = x - x.clamp(0.0, extent);
    let dy = y - y.clamp(0.0, extent);
    dx * dx + dy * dy <= r * r
}

/// Steepest inner-wall slope of a crater's profile, degrees (sampled numerically).
fn wall_slope_deg(c: &Crater) -> f64 {
    let r = c.radius();
    let mut best = 0.0f64;
    for i in 0..60 {
        let rho = 0.4 + f64::from(i) * 0.01;
        let s = (c.height(rho + 0.01) - c.height(rho)) / (0.01 * r);
        best = best.max(s.abs());
    }
    best.atan().to_degrees()
}

/// The radius, in rim radii, out to which a crater of freshness `freshness` has a fill weight
/// of at least [`FILL_MIN_COVER`] as `craters::paint_fill` paints it (weight
/// `strength * (1 - smoothstep(0.45, 0.85, rho))`); `None` when nowhere.
fn fill_rho(freshness: f64) -> Option<f64> {
    let strength = craters::fill_strength(freshness);
    if strength < FILL_MIN_COVER {
        return None;
    }
    // Cover falls monotonically from `strength` at rho 0.45 to 0 at 0.85: bisect.
    let cover = |rho: f64| strength * (1.0 - smoothstep(0.45, 0.85, rho));
    let (mut lo, mut hi) = (0.45, 0.85);
    for _ in 0..50 {
        let mid = f64::midpoint(lo, hi);
        if cover(mid) >= FILL_MIN_COVER {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(lo)
}

/// Builds the hazard collection.
#[must_use]
pub fn collect(inp: &HazardInputs<'_>) -> FeatureCollection {
    let p = inp.params;
    let h = &p.hazards;
    let o = inp.origin;
    let extent = p.extent_m();
    let mut out = Vec::new();

    for (i, s) in p.scarps.iter().enumerate() {
        let slope = (s.height_m / s.face_width_m).atan().to_degrees();
        out.push(feature(
            format!("scarp-{i}"),
            &scarps::listed_face_polygon(s, h.rock_min_height_m),
            o,
            json!({
                "class": "scarp",
                "height_m": round2(s.height_m),
                "max_slope_deg": round2(slope),
            }),
        ));
    }
    for (i, s) in p.scarps.iter().enumerate() {
        let poly = scarps::listed_outcrop_polygon(s, h.rock_min_height_m);
        if poly.len() >= 3 {
            out.push(feature(
                format!("outcrop-{i}"),
                &poly,
                o,
                json!({"class": "outcrop", "width_m": round2(s.outcrop_width_m)}),
            ));
        }
    }
    for (i, c) in inp.craters.iter().enumerate() {
        let r = c.radius();
        let listed = c.diameter >= h.crater_min_diameter_m
            && c.diameter <= h.crater_max_diameter_m
            && c.freshness >= h.crater_min_freshness
            && circle_meets_site(c.x, c.y, r, extent);
        if !listed {
            continue;
        }
        out.push(feature(
            format!("crater-{i}"),
            &circle_polygon(c.x, c.y, r, h.circle_vertices.max(16)),
            o,
            json!({
                "class": "crater",
                "diameter_m": round2(c.diameter),
                "depth_m": round2(c.depth),
                "rim_height_m": round2(c.rim),
                "freshness": round2(c.freshness),
                "wall_slope_deg": round2(wall_slope_deg(c)),
                "source": if c.placed { "placed" } else { "random" },
            }),
        ));
    }
    for (i, f) in p.ripple_fields.iter().enumerate() {
        out.push(feature(
            format!("sand_ripple-{i}"),
            &f.polygon,
            o,
            json!({
                "class": "sand_ripple",
                "bedform": bedform(f.wavelength_m),
                "wavelength_m": round2(f.wavelength_m),
                "height_m": round2(f.height_m),
                "wind_azimuth_deg": round2(f.wind_azimuth_deg),
            }),
        ));
    }
    for (i, c) in inp.craters.iter().enumerate() {
        let Some(rho) = fill_rho(c.freshness) else {
            continue;
        };
        let r = rho * c.radius();
        if c.diameter < h.crater_min_diameter_m || !circle_meets_site(c.x, c.y, r, extent) {
            continue;
        }
        out.push(feature(
            format!("crater_fill-{i}"),
            &circle_polygon(c.x, c.y, r, h.circle_vertices.max(16)),
            o,
            json!({
                "class": "sand_ripple",
                "origin": "crater_fill",
                "bedform": "sand_sheet",
                "crater_diameter_m": round2(c.diameter),
                "freshness": round2(c.freshness),
                "fill_diameter_m": round2(2.0 * r),
            }),
        ));
    }
    // Rocks by source, in list order, in one pass: a kilometre-scale site has tens of thousands
    // of craters and millions of rocks, too many to filter the whole list per crater.
    let mut in_field: Vec<Vec<&Rock>> = vec![Vec::new(); p.boulder_fields.len()];
    let mut of_crater: Vec<Vec<&Rock>> = vec![Vec::new(); inp.craters.len()];
    let mut of_scarp: Vec<Vec<&Rock>> = vec![Vec::new(); p.scarps.len()];
    for r in inp.rocks {
        let group = match r.source {
            RockSource::BoulderField(i) => in_field.get_mut(i),
            RockSource::Ejecta(i) => of_crater.get_mut(i),
            RockSource::Talus(i) => of_scarp.get_mut(i),
            RockSource::Background => None,
        };
        if let Some(g) = group {
            g.push(r);
        }
    }
    for (i, b) in p.boulder_fields.iter().enumerate() {
        let inside = &in_field[i];
        let max_h = inside.iter().map(|r| r.height).fold(0.0, f64::max);
        let dangerous = inside.iter().filter(|r| r.height >= h.rock_min_height_m).count();
        out.push(feature(
            format!("boulder_field-{i}"),
            &b.polygon,
            o,
            json!({
                "class": "boulder_field",
                "origin": "placed",
                "rock_cover_k": round3(b.k),
                "rocks": inside.len(),
                "rocks_over_threshold": dangerous,
                "max_height_m": round2(max_h),
            }),
        ));
    }
    // Blocky ejecta blankets: where a fresh crater threw many tall blocks, the blanket out to
    // EJECTA_BLANKET_RHO radii is one boulder field (its rocks are not listed one by one).
    let mut blanket = vec![false; inp.craters.len()];
    for (ci, c) in inp.craters.iter().enumerate() {
        let reach = EJECTA_BLANKET_RHO * c.radius();
        let tall: Vec<&Rock> = of_crater[ci]
            .iter()
            .copied()
            .filter(|r| r.height >= h.rock_min_height_m && (r.x - c.x).hypot(r.y - c.y) <= reach)
            .collect();
        if tall.len() < FIELD_MIN_ROCKS {
            continue;
        }
        blanket[ci] = true;
        let max_h = tall.iter().map(|r| r.height).fold(0.0, f64::max);
        out.push(feature(
            format!("ejecta-{ci}"),
            &circle_polygon(c.x, c.y, reach, h.circle_vertices.max(24)),
            o,
            json!({
                "class": "boulder_field",
                "origin": "crater_ejecta",
                "crater_diameter_m": round2(c.diameter),
                "rocks_over_threshold": tall.len(),
                "max_height_m": round2(max_h),
            }),
        ));
    }
    // Talus aprons: the band below a scarp's face where its shed blocks lie, one boulder field
    // when enough of them are over the step limit (its rocks are then not listed one by one).
    let mut apron = vec![false; p.scarps.len()];
    for (si, s) in p.scarps.iter().enumerate() {
        let tall: Vec<&Rock> =
            of_scarp[si].iter().copied().filter(|r| r.height >= h.rock_min_height_m).collect();
        if tall.len() < FIELD_MIN_ROCKS {
            continue;
        }
        apron[si] = true;
        let all = of_scarp[si].len();
        let max_h = tall.iter().map(|r| r.height).fold(0.0, f64::max);
        out.push(feature(
            format!("talus-{si}"),
            &scarps::talus_polygon(s),
            o,
            json!({
                "class": "boulder_field",
                "origin": "scarp_talus",
                "rock_cover_k": round3(s.talus_k),
                "rocks": all,
                "rocks_over_threshold": tall.len(),
                "max_height_m": round2(max_h),
            }),
        ));
    }
    for (i, r) in inp.rocks.iter().enumerate() {
        if matches!(r.source, RockSource::BoulderField(_)) || r.height < h.rock_min_height_m {
            continue;
        }
        if matches!(r.source, RockSource::Talus(si) if apron[si]) {
            continue;
        }
        if let RockSource::Ejecta(ci) = r.source {
            let c = &inp.craters[ci];
            if blanket[ci] && (r.x - c.x).hypot(r.y - c.y) <= EJECTA_BLANKET_RHO * c.radius() {
                continue;
            }
        }
        let source = r.source.name();
        out.push(feature(
            format!("rock-{i}"),
            &circle_polygon(r.x, r.y, r.diameter / 2.0, h.circle_vertices),
            o,
            json!({
                "class": "rock",
                "diameter_m": round2(r.diameter),
                "height_m": round2(r.height),
                "source": source,
            }),
        ));
    }
    FeatureCollection { bbox: None, features: out, foreign_members: None }
}

/// Serialises the collection deterministically: one feature per line, keys in a fixed order.
#[must_use]
pub fn to_json(fc: &FeatureCollection) -> String {
    let mut s = String::from("{\"type\":\"FeatureCollection\",\"features\":[\n");
    for (i, f) in fc.features.iter().enumerate() {
        // Serialising plain JSON values and strings cannot fail.
        s.push_str(&serde_json::to_string(f).unwrap_or_default());
        s.push_str(if i + 1 < fc.features.len() { ",\n" } else { "\n" });
    }
    s.push_str("]}\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rings_are_closed_ccw_and_rounded() {
        let poly = vec![[0.0, 0.0], [0.0, 10.0], [10.0, 10.0], [10.0, 0.0]]; // clockwise
        let r = ring(&poly, (1000.004, 2000.0));
        assert_eq!(r.first(), r.last());
        assert_eq!(r.len(), 5);
        assert!(r.contains(&vec![1000.0, 2000.0]));
        assert!(r.contains(&vec![1010.0, 2010.0]));
        let mut twice = 0.0;
        for w in r.windows(2) {
            twice += w[0][0] * w[1][1] - w[1][0] * w[0][1];
        }
        assert!(twice > 0.0);
    }

    #[test]
    fn json_is_one_feature_per_line() {
        let f = feature(
            "rock-1".into(),
            &circle_polygon(5.0, 5.0, 0.5, 12),
            (0.0, 0.0),
            json!({"class": "rock"}),
        );
        let fc =
            FeatureCollection { bbox: None, features: vec![f.clone(), f], foreign_members: None };
        let s = to_json(&fc);
        assert_eq!(s.lines().count(), 4);
        let back: geojson::GeoJson = s.parse().unwrap();
        assert!(
            matches!(back, geojson::GeoJson::FeatureCollection(ref c) if c.features.len() == 2)
        );
    }
}
