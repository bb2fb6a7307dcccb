//! The twin's telemetry as files people and tools read: a CSV with one row per pose and one
//! column per channel (units in the header), and each wheel's track on the map as GeoJSON.
//!
//! Deterministic: fixed decimals (4 for metres and degrees, so 0.1 mm and 0.0001 deg, finer
//! than the DEM can say), no locale, no timestamps, so identical drives give identical bytes
//! and a diff of two files is a diff of two drives.

use std::fmt::Write as _;

use super::drive::{Sample, Telemetry};
use crate::terrain::rover::Kinematics;

/// Wheel names in the order of [`super::PoseState::wheel_z_m`] (left front, middle, rear, then
/// right): the `wheel` property of [`tracks_geojson`].
pub const WHEEL_NAMES: [&str; 6] =
    ["left_front", "left_middle", "left_rear", "right_front", "right_middle", "right_rear"];

/// Short wheel tags of the CSV columns, same order.
const WHEEL_TAGS: [&str; 6] = ["fl", "ml", "rl", "fr", "mr", "rr"];

/// Decimals of every real-valued column.
const DECIMALS: usize = 4;

/// The CSV header: every column name with its unit.
#[must_use]
pub fn csv_header() -> String {
    let mut cols: Vec<String> = [
        "pose",
        "command",
        "segment",
        "x_m",
        "y_m",
        "heading_deg",
        "distance_m",
        "time_s",
        "pitch_deg",
        "roll_deg",
        "tilt_deg",
        "height_m",
        "rocker_left_deg",
        "rocker_right_deg",
        "bogie_left_deg",
        "bogie_right_deg",
        "differential_deg",
    ]
    .iter()
    .map(|s| (*s).to_string())
    .collect();
    cols.extend(WHEEL_TAGS.iter().map(|w| format!("wheel_{w}_z_m")));
    cols.extend(WHEEL_TAGS.iter().map(|w| format!("wheel_{w}_dz_m")));
    cols.push("clearance_m".into());
    for name in ["pitch", "roll"] {
        cols.push(format!("{name}_lo_deg"));
        cols.push(format!("{name}_hi_deg"));
    }
    cols.push("tilt_max_deg".into());
    cols.push("differential_lo_deg".into());
    cols.push("differential_hi_deg".into());
    for side in ["left", "right"] {
        cols.push(format!("bogie_{side}_lo_deg"));
        cols.push(format!("bogie_{side}_hi_deg"));
    }
    for w in WHEEL_TAGS {
        cols.push(format!("wheel_{w}_z_lo_m"));
        cols.push(format!("wheel_{w}_z_hi_m"));
    }
    cols.push("clearance_min_m".into());
    cols.push("wheel_dz_bound_m".into());
    cols.join(",")
}

/// A number with [`DECIMALS`] decimals; empty when not finite (an unmeasured value is not a
/// number to plot), and never `-0.0000`, so a tiny negative rounding to zero reads as zero.
fn num(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    let s = format!("{v:.DECIMALS$}");
    if s.starts_with('-') && s[1..].bytes().all(|b| b == b'0' || b == b'.') {
        s[1..].to_string()
    } else {
        s
    }
}

fn opt_index(v: Option<usize>) -> String {
    v.map(|i| i.to_string()).unwrap_or_default()
}

/// Values of the state columns of one pose, in header order after `time_s` (all empty over
/// unknown ground). Wheel steps (`dz`) and their bound are empty too where there is no
/// previous pose with a state to step from: the drive records 0 there, which is "not
/// measured", not "flat".
fn state_cells(s: &Sample, has_previous: bool) -> Vec<String> {
    let n_state = 9 + 6 + 6 + 1 + 4 + 1 + 2 + 4 + 12 + 2;
    let Some(p) = s.state else {
        return vec![String::new(); n_state];
    };
    let b = &p.bounds;
    let mut c = vec![
        num(p.pitch_deg),
        num(p.roll_deg),
        num(p.tilt_deg),
        num(p.height_m),
        num(p.rocker_deg[0]),
        num(p.rocker_deg[1]),
        num(p.bogie_deg[0]),
        num(p.bogie_deg[1]),
        num(p.differential_deg),
    ];
    c.extend(p.wheel_z_m.iter().map(|&z| num(z)));
    let dz = |v: f64| if has_previous { num(v) } else { String::new() };
    c.extend(s.wheel_dz_m.iter().map(|&v| dz(v)));
    c.push(num(p.clearance_m));
    c.extend([num(b.pitch_deg[0]), num(b.pitch_deg[1]), num(b.roll_deg[0]), num(b.roll_deg[1])]);
    c.push(num(b.tilt_max_deg));
    c.extend([num(b.differential_deg[0]), num(b.differential_deg[1])]);
    for side in b.bogie_deg {
        c.extend([num(side[0]), num(side[1])]);
    }
    for w in b.wheel_z_m {
        c.extend([num(w[0]), num(w[1])]);
    }
    c.push(num(b.clearance_min_m));
    c.push(dz(s.wheel_dz_bound_m));
    debug_assert_eq!(c.len(), n_state);
    c
}

/// The telemetry as CSV: [`csv_header`], then one row per pose in driving order, `\n` line
/// ends and a trailing newline.
#[must_use]
pub fn to_csv(t: &Telemetry) -> String {
    let mut out = csv_header();
    out.push('\n');
    let mut previous_known = false;
    for (i, s) in t.samples.iter().enumerate() {
        let mut row = vec![
            i.to_string(),
            opt_index(s.command),
            opt_index(s.segment),
            num(s.pose.x),
            num(s.pose.y),
            num(s.pose.heading_deg),
            num(s.distance_m),
            num(s.time_s),
        ];
        row.extend(state_cells(s, previous_known));
        previous_known = s.state.is_some();
        // Writing to a String cannot fail.
        let _ = writeln!(out, "{}", row.join(","));
    }
    out
}

/// Each wheel's map position at every pose, in [`WHEEL_NAMES`] order: the wheel's nominal
/// body position (x forward, y left; the right side mirrors y) turned by the heading (forward
/// `(sin h, cos h)`, left `(-cos h, sin h)`, headings clockwise from north) about the pose.
/// Horizontal only: a tilted body brings its wheels in by a few centimetres (1 - cos 20 deg of
/// a 1.2 m arm is 7 cm), which a map track at DEM resolution does not show.
#[must_use]
pub fn wheel_tracks(k: &Kinematics, t: &Telemetry) -> [Vec<(f64, f64)>; 6] {
    let body: [(f64, f64); 6] = [
        (k.front_wheel[0], k.front_wheel[1]),
        (k.middle_wheel[0], k.middle_wheel[1]),
        (k.rear_wheel[0], k.rear_wheel[1]),
        (k.front_wheel[0], -k.front_wheel[1]),
        (k.middle_wheel[0], -k.middle_wheel[1]),
        (k.rear_wheel[0], -k.rear_wheel[1]),
    ];
    let mut out: [Vec<(f64, f64)>; 6] = Default::default();
    for s in &t.samples {
        let h = s.pose.heading_deg.to_radians();
        let (fwd, left) = ((h.sin(), h.cos()), (-h.cos(), h.sin()));
        for (track, &(bx, by)) in out.iter_mut().zip(&body) {
            track.push((s.pose.x + bx * fwd.0 + by * left.0, s.pose.y + bx * fwd.1 + by * left.1));
        }
    }
    out
}

/// Millimetres: coordinates of the tracks (finer says nothing and costs bytes).
fn mm(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// The wheel tracks as a GeoJSON FeatureCollection of six LineStrings in map coordinates (the
/// DEM's CRS, metres), each with a `wheel` property ([`WHEEL_NAMES`]) and its `index` in
/// [`super::PoseState::wheel_z_m`] order. A track of fewer than two poses is still written
/// (a LineString of one point repeated), so the collection always has six features.
#[must_use]
pub fn tracks_geojson(k: &Kinematics, t: &Telemetry) -> String {
    let tracks = wheel_tracks(k, t);
    let features = tracks
        .iter()
        .zip(WHEEL_NAMES)
        .enumerate()
        .map(|(i, (track, name))| {
            let mut line: Vec<Vec<f64>> = track.iter().map(|&(x, y)| vec![mm(x), mm(y)]).collect();
            if line.len() == 1 {
                line.push(line[0].clone());
            }
            let mut props = serde_json::Map::new();
            props.insert("wheel".into(), name.into());
            props.insert("index".into(), i.into());
            geojson::Feature {
                geometry: Some(geojson::Geometry::new(geojson::Value::LineString(line))),
                properties: Some(props),
                ..geojson::Feature::default()
            }
        })
        .collect();
    let fc = geojson::FeatureCollection { bbox: None, features, foreign_members: None };
    let mut s = fc.to_string();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terrain::{GeoTransform, Grid};
    use crate::twin::{compile, drive, Ground};

    use crate::twin::test_kinematics as kin;

    /// A 10 m drive north, then east, on a flat 100 m grid at height `z`.
    fn flat_drive(k: &Kinematics, z: f32, pts: &[(f64, f64)]) -> Telemetry {
        let g = Grid::filled(100, 100, z, GeoTransform { x0: 0.0, y0: 100.0, dx: 1.0, dy: -1.0 });
        let seq = compile(pts, Some(0.0), 2.35).unwrap();
        drive(k, &Ground { grid: &g }, &seq)
    }

    fn column(header: &str, name: &str) -> usize {
        header.split(',').position(|c| c == name).unwrap_or_else(|| panic!("no column {name}"))
    }

    #[test]
    fn the_csv_has_a_row_per_pose_units_in_every_column_and_the_clearance_of_flat_ground() {
        let k = kin();
        let t = flat_drive(&k, -3.0, &[(20.0, 20.0), (20.0, 30.0), (30.0, 30.0)]);
        let csv = to_csv(&t);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 1 + t.samples.len());
        let header = lines[0];
        let n = header.split(',').count();
        for c in header.split(',').skip(3) {
            assert!(c.ends_with("_m") || c.ends_with("_deg") || c.ends_with("_s"), "{c}");
        }
        assert!(lines.iter().all(|l| l.split(',').count() == n));
        // On flat ground the belly stands its profile height above the ground, the body at the
        // rocker pivot's height, and the last pose has driven both legs.
        let row: Vec<&str> = lines[50].split(',').collect();
        assert_eq!(row[column(header, "clearance_m")], num(k.belly_height_m));
        assert_eq!(row[column(header, "height_m")], num(-3.0 + k.rocker_pivot[2]));
        assert_eq!(row[column(header, "wheel_fl_dz_m")], "0.0000");
        let last: Vec<&str> = lines.last().unwrap().split(',').collect();
        assert_eq!(last[column(header, "distance_m")], "20.0000");
        assert_eq!(last[column(header, "heading_deg")], "90.0000");
        // The start pose has no command and nothing to step from.
        let first: Vec<&str> = lines[1].split(',').collect();
        assert_eq!((first[1], first[column(header, "wheel_fl_dz_m")]), ("", ""));
        assert_eq!(csv, to_csv(&t), "byte-identical");
    }

    #[test]
    fn poses_over_unknown_ground_leave_the_state_columns_empty() {
        let k = kin();
        let t = flat_drive(&k, 0.0, &[(50.0, 50.0), (50.0, 120.0)]);
        let csv = to_csv(&t);
        let header = csv.lines().next().unwrap();
        let last: Vec<&str> = csv.lines().last().unwrap().split(',').collect();
        let first_state = column(header, "pitch_deg");
        assert!(last[first_state..].iter().all(|c| c.is_empty()), "{last:?}");
        assert!(!last[column(header, "x_m")].is_empty());
    }

    #[test]
    fn tracks_of_a_straight_drive_north_are_straight_lines_offset_by_each_wheels_y() {
        let k = kin();
        let t = flat_drive(&k, 0.0, &[(20.0, 20.0), (20.0, 30.0)]);
        let tracks = wheel_tracks(&k, &t);
        let body = [k.front_wheel, k.middle_wheel, k.rear_wheel];
        for (i, track) in tracks.iter().enumerate() {
            assert_eq!(track.len(), t.samples.len());
            let w = body[i % 3];
            // Left is west when facing north.
            let x = if i < 3 { 20.0 - w[1] } else { 20.0 + w[1] };
            for (s, &(px, py)) in t.samples.iter().zip(track) {
                assert!((px - x).abs() < 1e-9, "wheel {i}: {px} vs {x}");
                assert!((py - (s.pose.y + w[0])).abs() < 1e-9, "wheel {i}");
            }
        }
        let gj: geojson::GeoJson = tracks_geojson(&k, &t).parse().unwrap();
        let geojson::GeoJson::FeatureCollection(fc) = gj else { panic!("not a collection") };
        let names: Vec<String> = fc
            .features
            .iter()
            .map(|f| f.property("wheel").and_then(|v| v.as_str()).unwrap().to_string())
            .collect();
        assert_eq!(names, WHEEL_NAMES);
    }

    #[test]
    fn numbers_are_fixed_and_never_negative_zero() {
        assert_eq!(num(-0.00001), "0.0000");
        assert_eq!(num(-1.5), "-1.5000");
        assert_eq!(num(f64::NAN), "");
        assert_eq!(num(f64::INFINITY), "");
    }
}
