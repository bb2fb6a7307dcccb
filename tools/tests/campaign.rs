//! The campaign's deterministic pieces on terrain made in the test: the strategic route on the
//! coarse grid (through the gap of a wall, refused when the wall is whole, off-map ends named),
//! and the safe-stop judge (tilt, hazards, unknown ground) with its nearest-first search.

use std::path::Path;

use breadcrumb_tools::campaign::{coarse_route, SafeStopRules, StopJudge};
use breadcrumb_tools::checker::blocking_hazards;
use breadcrumb_tools::terrain::raster_io::write_f32_geotiff;
use breadcrumb_tools::terrain::{Bundle, GeoTransform, Grid, RoverProfile};
use breadcrumb_tools::ToolsError;

fn profile() -> RoverProfile {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/rovers/perseverance.toml");
    RoverProfile::load(&p).unwrap()
}

/// A 600 x 600 m bundle of 1 m cells, origin (0, 0) south-west: flat, with a 6 m high ridge
/// (45° flanks) along y = 300 whose gap, when `gap` is set, spans x 440..480; and a sand
/// patch (a mapped blocking hazard) at x 100..140, y 100..140.
fn bundle(dir: &Path, gap: bool) -> Bundle {
    let n = 600;
    let t = GeoTransform { x0: 0.0, y0: n as f64, dx: 1.0, dy: -1.0 };
    let g = Grid::from_fn(n, n, t, |x, y| {
        let d = (y - 300.0).abs();
        let ridge = (6.0 - d).max(0.0);
        if gap && (440.0..480.0).contains(&x) {
            0.0
        } else {
            ridge as f32
        }
    });
    write_f32_geotiff(&dir.join("dem.tif"), &g, "", -32767.0).unwrap();
    std::fs::write(dir.join("bundle.toml"), "name = \"wall\"\n").unwrap();
    std::fs::write(
        dir.join("hazards.geojson"),
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"class":"sand_ripple"},
            "geometry":{"type":"Polygon","coordinates":[[[100,100],[140,100],[140,140],[100,140],[100,100]]]}}]}"#,
    )
    .unwrap();
    Bundle::open(dir).unwrap()
}

#[test]
fn the_strategic_route_finds_the_gap_and_a_whole_wall_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let b = bundle(dir.path(), true);
    let p = profile();
    let r = coarse_route(&b, &p, (60.0, 60.0), (60.0, 540.0), 5.0, 8.0, &[]).unwrap();
    assert_eq!(r.route.first(), Some(&(60.0, 60.0)));
    assert_eq!(r.route.last(), Some(&(60.0, 540.0)));
    // It crosses y = 300 only in the gap.
    let crossing = r.route.windows(2).find(|w| (w[0].1 - 300.0) * (w[1].1 - 300.0) <= 0.0).unwrap();
    let x = 0.5 * (crossing[0].0 + crossing[1].0);
    assert!((436.0..484.0).contains(&x), "crosses the ridge at x {x}: {:?}", r.route);
    assert!(r.length_m > 2.0 * 400f64.hypot(240.0), "{}", r.length_m);
    // The sand patch is kept out of: no route vertex within it.
    assert!(
        r.route.iter().all(|q| !(96.0..144.0).contains(&q.0) || !(96.0..144.0).contains(&q.1)),
        "{:?}",
        r.route
    );
    // The same ends avoiding the gap: no route, and the refusal names the tilt wall.
    let e = coarse_route(&b, &p, (60.0, 60.0), (60.0, 540.0), 5.0, 8.0, &[((460.0, 300.0), 30.0)])
        .unwrap_err();
    assert!(matches!(e, ToolsError::NoStrategicRoute { .. }), "{e}");
    let dir2 = tempfile::tempdir().unwrap();
    let whole = bundle(dir2.path(), false);
    let e = coarse_route(&whole, &p, (60.0, 60.0), (60.0, 540.0), 5.0, 8.0, &[]).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, ToolsError::NoStrategicRoute { .. }) && msg.contains("tilt"), "{msg}");
    let e = coarse_route(&b, &p, (60.0, 60.0), (60.0, 900.0), 5.0, 8.0, &[]).unwrap_err();
    assert!(matches!(e, ToolsError::OffMap { .. }) && e.to_string().contains("goal"), "{e}");
}

#[test]
fn safe_stops_need_low_tilt_known_ground_and_room_from_hazards() {
    let dir = tempfile::tempdir().unwrap();
    let b = bundle(dir.path(), true);
    let p = profile();
    let hazards = blocking_hazards(&b.hazards);
    let judge = StopJudge {
        source: &b.dem,
        hazards: &hazards,
        profile: &p,
        rules: SafeStopRules::for_profile(&p),
    };
    let flat = judge.judge((300.5, 200.5)).unwrap();
    assert!(flat.safe, "{flat:?}");
    assert!(flat.max_tilt_deg.unwrap() < 0.1);
    // On the ridge's 45° flank.
    let steep = judge.judge((300.5, 297.5)).unwrap();
    assert!(!steep.safe && steep.failures.iter().any(|f| f.contains("tilts")), "{steep:?}");
    // Beside the sand patch (1 m from its edge).
    let sand = judge.judge((141.0, 120.0)).unwrap();
    assert!(!sand.safe && sand.failures.iter().any(|f| f.contains("hazard")), "{sand:?}");
    // Half off the map: unknown ground.
    let edge = judge.judge((0.5, 200.0)).unwrap();
    assert!(!edge.safe && edge.max_tilt_deg.is_none(), "{edge:?}");
    // The nearest safe candidate to a point on the flank lies off the flank, the same each time,
    // and the `allowed` filter is honoured.
    let a = judge.find_near((300.5, 298.5), 20.0, 2.0, |_| true).unwrap().unwrap();
    let again = judge.find_near((300.5, 298.5), 20.0, 2.0, |_| true).unwrap().unwrap();
    assert_eq!(a, again);
    assert!(a.safe && (a.at.1 - 300.0).abs() > 6.0, "{a:?}");
    let south = judge.find_near((300.5, 298.5), 20.0, 2.0, |q| q.1 < 300.0).unwrap().unwrap();
    assert!(south.at.1 < 294.0, "{south:?}");
    assert!(judge.find_near((300.5, 300.5), 2.0, 1.0, |_| true).unwrap().is_none());
}
