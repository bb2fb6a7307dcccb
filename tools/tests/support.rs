//! Helpers shared by the integration tests of `breadcrumb-tools` and `breadcrumb-sites` (the
//! sites tests include this file by path, so both crates check against the same helpers).

use std::path::{Path, PathBuf};

use breadcrumb_tools::checker::{check_sol, Plan};
use breadcrumb_tools::planner::PlannedRoute;
use breadcrumb_tools::terrain::LoadedSol;

/// A directory of `../shared/realdata/`. Tests that need real Mars data fail loudly when it is
/// missing: they never skip.
#[must_use]
pub fn realdata(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/realdata").join(name);
    assert!(
        dir.is_dir(),
        "real Mars data missing: {} (clone the project beside shared/, as CI does)",
        dir.display()
    );
    dir
}

/// Writes a HiRISE-DTM-like PDS3 `.IMG` (attached label, PC_REAL samples, equirectangular map
/// projection), the format HiRISE DTEEC products come in.
pub fn write_pds3(path: &Path, width: usize, height: usize, value: impl Fn(usize, usize) -> f32) {
    let rec = width * 4;
    let label = |lr: usize| {
        format!(
            "PDS_VERSION_ID = PDS3\r\nRECORD_TYPE = FIXED_LENGTH\r\nRECORD_BYTES = {rec}\r\n\
             FILE_RECORDS = {fr}\r\nLABEL_RECORDS = {lr}\r\n^IMAGE = {im}\r\n\
             OBJECT = IMAGE\r\n  LINES = {height}\r\n  LINE_SAMPLES = {width}\r\n\
             SAMPLE_TYPE = PC_REAL\r\n  SAMPLE_BITS = 32\r\n  BANDS = 1\r\n\
             MISSING_CONSTANT = 16#FF7FFFFB#\r\nEND_OBJECT = IMAGE\r\n\
             OBJECT = IMAGE_MAP_PROJECTION\r\n  MAP_PROJECTION_TYPE = \"EQUIRECTANGULAR\"\r\n\
             A_AXIS_RADIUS = 3396.19 <KM>\r\n  B_AXIS_RADIUS = 3396.19 <KM>\r\n\
             C_AXIS_RADIUS = 3396.19 <KM>\r\n  CENTER_LATITUDE = 0.0 <DEG>\r\n\
             CENTER_LONGITUDE = 0.0 <DEG>\r\n  MAP_SCALE = 1.0 <METERS/PIXEL>\r\n\
             LINE_PROJECTION_OFFSET = 1000.0 <PIXEL>\r\n\
             SAMPLE_PROJECTION_OFFSET = -5000.0 <PIXEL>\r\n\
             END_OBJECT = IMAGE_MAP_PROJECTION\r\nEND\r\n",
            fr = lr + height,
            im = lr + 1
        )
    };
    let mut lr = 1;
    while label(lr).len() > lr * rec {
        lr += 1;
    }
    let mut bytes = label(lr).into_bytes();
    bytes.resize(lr * rec, b' ');
    for r in 0..height {
        for c in 0..width {
            bytes.extend_from_slice(&value(c, r).to_le_bytes());
        }
    }
    std::fs::write(path, bytes).unwrap();
}

/// Asserts a planned route is what the planner promises: it starts at the rover, ends within
/// the goal tolerance, respects the waypoint spacing, and an independent `check_sol` passes it.
pub fn assert_sound(l: &LoadedSol, r: &PlannedRoute) {
    let s = &l.sol;
    assert!(r.verdict.pass, "{}: {}", s.id, r.verdict.to_json());
    let first = r.waypoints[0];
    assert_eq!(first, (s.start.x, s.start.y), "{}", s.id);
    let last = r.waypoints[r.waypoints.len() - 1];
    assert!((last.0 - s.goal.x).hypot(last.1 - s.goal.y) <= s.goal.tolerance_m, "{}", s.id);
    for w in r.waypoints.windows(2) {
        assert!((w[1].0 - w[0].0).hypot(w[1].1 - w[0].1) <= 100.0 + 1e-9, "{}: spacing", s.id);
    }
    assert!(r.length_m <= s.drive_budget_m && r.cost.is_finite() && r.cost >= r.length_m);
    let again = check_sol(l, &Plan::from_points(&r.waypoints)).unwrap();
    assert!(again.pass, "{}: {}", s.id, again.to_json());
}
