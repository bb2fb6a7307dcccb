//! A sol that no attempt along the strategic route can drive, and the detour planned at full
//! resolution that gets the campaign past it. The site is made here: 400 m square, flat, with a
//! wall of 1 m rocks every 4 m along y = 200 from the west edge to x = 158. Two rocks per 8 m
//! cell: the coarse grid (which blocks a cell at three) sees a way straight through, the fine
//! planner (which keeps the rover's hazard buffer from every rock) sees a wall whose only way
//! round, east of x = 160, lies outside every sol's corridor. Reference policy, no model.

use std::path::Path;

use breadcrumb_agent::campaign::{Campaign, CampaignSpec};
use breadcrumb_agent::models::ModelRegistry;
use breadcrumb_tools::terrain::raster_io::write_f32_geotiff;
use breadcrumb_tools::terrain::{GeoTransform, Grid};

use super::{loop_settings, root};

/// The rock-wall site (see the module docs) in `dir`.
fn site(dir: &Path) {
    let n = 400;
    let t = GeoTransform { x0: 0.0, y0: n as f64, dx: 1.0, dy: -1.0 };
    let g = Grid::from_fn(n, n, t, |_, _| 0.0);
    write_f32_geotiff(&dir.join("dem.tif"), &g, "", -32767.0).unwrap();
    std::fs::write(dir.join("bundle.toml"), "name = \"rock wall\"\n").unwrap();
    let rocks: Vec<String> = (0..40)
        .map(|i| {
            let x = 2.0 + 4.0 * f64::from(i);
            format!(
                r#"{{"type":"Feature","properties":{{"class":"rock"}},"geometry":{{"type":"Polygon","coordinates":[[[{a},199.5],[{b},199.5],[{b},200.5],[{a},200.5],[{a},199.5]]]}}}}"#,
                a = x - 0.5,
                b = x + 0.5
            )
        })
        .collect();
    std::fs::write(
        dir.join("hazards.geojson"),
        format!(r#"{{"type":"FeatureCollection","features":[{}]}}"#, rocks.join(",")),
    )
    .unwrap();
}

#[tokio::test]
async fn a_sol_walled_off_by_rocks_the_coarse_grid_cannot_see_is_passed_by_a_fine_detour() {
    let tmp = tempfile::tempdir().unwrap();
    let site_dir = tmp.path().join("site");
    std::fs::create_dir(&site_dir).unwrap();
    site(&site_dir);
    let registry = ModelRegistry::load(&root().join("models.toml")).unwrap();
    let entry = registry.get("reference").unwrap().clone();
    let spec = CampaignSpec {
        site: site_dir,
        rover: root().join("fixtures/rovers/perseverance.toml"),
        start: [100.0, 150.0, 0.0],
        goal: [100.0, 250.0],
        goal_tolerance_m: 5.0,
        sol_budget_m: 100.0,
        model: "reference".into(),
        prompt: "v1".into(),
        coarse_cell_m: 8.0,
        corridor_m: 20.0,
        advance: 0.75,
        max_sols: 8,
    };
    let settings = loop_settings(entry);
    let dir = tmp.path().join("c");
    let mut c = Campaign::open(&dir, spec).unwrap();
    // The coarse route goes straight through the wall.
    let first = c.record().strategic.route.clone();
    assert!(first.iter().all(|p| p.0 < 130.0), "{first:?}");
    let r = c.run(&settings).await.unwrap().clone();
    assert!(r.summary.reached, "{}: {:#?}", r.summary.reason, r.sols);
    // The route was replaced by one passing east of the wall's end, and every accepted sol's
    // route crossed y = 200 only there, clear of the rocks.
    assert!(!r.earlier_strategic.is_empty());
    // Its head is the fine planner's (vertices on 1 m cell centres, x.5), not a coarse re-plan
    // (8 m cell centres, whole metres).
    let head = r.strategic.route[1];
    assert!((head.0.fract() - 0.5).abs() < 1e-9, "{:?}", r.strategic.route);
    assert!(r.strategic.route.iter().any(|p| p.0 > 158.0), "{:?}", r.strategic.route);
    let refused = r.sols.iter().flat_map(|s| &s.earlier_attempts).count();
    assert!(refused >= 3, "the attempts along the coarse route were refused first: {r:#?}");
    let mut crossed = false;
    for s in &r.sols {
        assert!(s.checker_pass == Some(true) && s.twin_pass == Some(true), "{s:#?}");
        for w in s.waypoints.windows(2) {
            if (w[0].1 - 200.0) * (w[1].1 - 200.0) <= 0.0 {
                let x = w[0].0 + (w[1].0 - w[0].0) * (200.0 - w[0].1) / (w[1].1 - w[0].1);
                assert!(x > 158.0 + 1.85, "sol {} crosses the wall at x {x}", s.number);
                crossed = true;
            }
        }
    }
    assert!(crossed, "no sol crossed y = 200: {r:#?}");
}
