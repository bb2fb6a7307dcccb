//! Sols from real drives: one LineString of a traverse GeoJSON (as NASA/JPL MMGIS publishes
//! them) becomes a planning problem whose answer is known to be drivable, because a rover drove
//! it.
//!
//! The drive gives the start (its first vertex, facing along its first segment), the goal (its
//! last vertex), the keep-in (a corridor around it, clipped to where the DEM has data), the
//! budget (the larger of the rover profile's and 1.5 times the drive) and the reference route
//! (its vertices). Drives in another CRS than the DEM's (lon/lat degrees, another projection)
//! are reprojected with GDAL first.

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use gdal::spatial_ref::{AxisMappingStrategy, SpatialRef};

use crate::corridor::{clip_to_valid, corridor, open_ring};
use breadcrumb_tools::checker::plan::{routes_from_geojson, RouteFeature};
use breadcrumb_tools::error::{Result, ToolsError};
use breadcrumb_tools::geometry::polyline_length;
use breadcrumb_tools::terrain::bundle::Bundle;
use breadcrumb_tools::terrain::rover::RoverProfile;
use breadcrumb_tools::terrain::sol::{Goal, Sol, Start};

/// Half-width of the keep-in corridor around the drive, metres: room to plan around what the
/// drivers went round, not so much that the problem stops being the drive's.
pub const DEFAULT_CORRIDOR_M: f64 = 25.0;
/// Goal tolerance, metres.
pub const DEFAULT_GOAL_TOLERANCE_M: f64 = 2.0;
/// The budget is at least this many times the drive's length (and the profile's budget).
pub const BUDGET_FACTOR: f64 = 1.5;

/// What to build a sol from.
#[derive(Debug, Clone, PartialEq)]
pub struct FromRouteOptions {
    /// Terrain bundle directory.
    pub site: PathBuf,
    /// GeoJSON file of drives (LineString features).
    pub route: PathBuf,
    /// Which drive: the feature whose `sol` property is this number when the features have
    /// `sol` properties, else the feature at this index (from 0).
    pub select: u64,
    /// Rover profile TOML.
    pub rover: PathBuf,
    /// Where the sol will be written: `bundle` and `rover` are written relative to its
    /// directory, which must exist.
    pub out: PathBuf,
    /// Half-width of the keep-in corridor, metres.
    pub corridor_m: f64,
    /// Goal tolerance, metres.
    pub goal_tolerance_m: f64,
    /// The sol's id (default `<site name>-sol-<N>`, or `-drive-<N>` when selected by index).
    pub id: Option<String>,
}

impl FromRouteOptions {
    /// Options with the default corridor and tolerance.
    #[must_use]
    pub fn new(
        site: impl Into<PathBuf>,
        route: impl Into<PathBuf>,
        select: u64,
        rover: impl Into<PathBuf>,
        out: impl Into<PathBuf>,
    ) -> Self {
        FromRouteOptions {
            site: site.into(),
            route: route.into(),
            select,
            rover: rover.into(),
            out: out.into(),
            corridor_m: DEFAULT_CORRIDOR_M,
            goal_tolerance_m: DEFAULT_GOAL_TOLERANCE_M,
            id: None,
        }
    }
}

/// A drive picked out of a route file, in the DEM's map metres.
#[derive(Debug, Clone, PartialEq)]
pub struct Drive {
    /// The feature's index in the file.
    pub index: usize,
    /// Its `sol` property, when the file has them.
    pub sol: Option<u64>,
    /// The feature's properties.
    pub properties: serde_json::Map<String, serde_json::Value>,
    /// Its vertices in the DEM's map metres.
    pub points: Vec<[f64; 2]>,
    /// How the vertices were brought into the DEM's CRS (empty when they already were in it).
    pub reprojected_from: String,
}

impl Drive {
    /// Length along the vertices, map metres.
    #[must_use]
    pub fn length_m(&self) -> f64 {
        polyline_length(&self.points)
    }
}

/// The `sol` property of a feature as a whole number.
fn sol_of(r: &RouteFeature) -> Option<u64> {
    match r.properties.get("sol")? {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Picks drive `n`: by `sol` property when any feature has one, else by index.
pub fn select_drive(routes: &[RouteFeature], n: u64, origin: &Path) -> Result<RouteFeature> {
    let invalid = |reason: String| ToolsError::Invalid { path: origin.to_path_buf(), reason };
    if routes.is_empty() {
        return Err(invalid("no LineString features (drives) in the file".into()));
    }
    if routes.iter().any(|r| sol_of(r).is_some()) {
        let hits: Vec<&RouteFeature> = routes.iter().filter(|r| sol_of(r) == Some(n)).collect();
        match hits.as_slice() {
            [one] => Ok((*one).clone()),
            [] => {
                let sols: Vec<String> =
                    routes.iter().filter_map(sol_of).map(|s| s.to_string()).collect();
                Err(invalid(format!(
                    "no drive with sol {n}; the drives' sols are {}",
                    sols.join(", ")
                )))
            }
            many => {
                let idx: Vec<String> = many.iter().map(|r| r.index.to_string()).collect();
                Err(invalid(format!(
                    "{} drives have sol {n} (features {}); join them into one LineString",
                    many.len(),
                    idx.join(", ")
                )))
            }
        }
    } else {
        let i = usize::try_from(n).unwrap_or(usize::MAX);
        routes.iter().find(|r| r.index == i).cloned().ok_or_else(|| {
            let ids: Vec<String> = routes.iter().map(|r| r.index.to_string()).collect();
            invalid(format!(
                "no LineString feature at index {n} (the features have no `sol` property, so \
                 N is a feature index: {})",
                ids.join(", ")
            ))
        })
    }
}

/// The `crs` member of a GeoJSON file (the 2008 GeoJSON spec's named CRS, which MMGIS and GDAL
/// write), if any.
fn named_crs(text: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    v.get("crs")?.get("properties")?.get("name")?.as_str().map(str::to_owned)
}

/// Brings `points` into the DEM's CRS (`dem_wkt`). A file naming its CRS is transformed from
/// it; a file naming none whose coordinates are all plausible degrees and whose first point is
/// not on the DEM is taken as longitude/latitude on the DEM's own body (as MMGIS traverses
/// are); anything else is taken to be in map metres already.
fn to_dem_crs(
    points: &[(f64, f64)],
    crs: Option<&str>,
    dem: &breadcrumb_tools::terrain::Dem,
    origin: &Path,
) -> Result<(Vec<[f64; 2]>, String)> {
    let as_is = || points.iter().map(|p| [p.0, p.1]).collect::<Vec<_>>();
    let dem_wkt = dem.crs_wkt();
    if dem_wkt.is_empty() {
        return Ok((as_is(), String::new()));
    }
    let invalid = |reason: String| ToolsError::Invalid { path: origin.to_path_buf(), reason };
    let mut dem_srs = SpatialRef::from_wkt(dem_wkt)
        .map_err(|e| invalid(format!("the DEM's CRS is unreadable: {e}")))?;
    dem_srs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    let mut from = if let Some(def) = crs {
        let srs = SpatialRef::from_definition(def)
            .map_err(|_| invalid(format!("unknown CRS {def:?} in the file's `crs` member")))?;
        if crate::import::source::same_crs(&srs, &dem_srs) {
            return Ok((as_is(), String::new()));
        }
        srs
    } else {
        let degrees = points.iter().all(|p| p.0.abs() <= 360.0 && p.1.abs() <= 90.0);
        let (xmin, ymin, xmax, ymax) = dem.extent();
        let on_dem = points
            .first()
            .is_some_and(|p| (xmin..=xmax).contains(&p.0) && (ymin..=ymax).contains(&p.1));
        if !degrees || on_dem {
            return Ok((as_is(), String::new()));
        }
        dem_srs.geog_cs().map_err(|e| invalid(format!("the DEM's CRS has no body: {e}")))?
    };
    from.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    let name = crate::import::source::crs_name(&from);
    let ct = crate::import::source::transform_between(&from, &dem_srs, origin)?;
    let mut xs: Vec<f64> = points.iter().map(|p| p.0).collect();
    let mut ys: Vec<f64> = points.iter().map(|p| p.1).collect();
    ct.transform_coords(&mut xs, &mut ys, &mut [])
        .map_err(|e| invalid(format!("the drive does not transform from {name:?}: {e}")))?;
    let out: Vec<[f64; 2]> = xs.into_iter().zip(ys).map(|(x, y)| [x, y]).collect();
    if out.iter().any(|p| !(p[0].is_finite() && p[1].is_finite())) {
        return Err(invalid(format!("the drive does not transform from {name:?}")));
    }
    Ok((out, name))
}

/// Reads drive `select` of `route` and brings it into `bundle`'s map metres.
pub fn load_drive(route: &Path, select: u64, bundle: &Bundle) -> Result<Drive> {
    let text = std::fs::read_to_string(route).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ToolsError::Missing { path: route.to_path_buf() },
        _ => ToolsError::io(route, e),
    })?;
    let (routes, _) = routes_from_geojson(&text, route)?;
    let feature = select_drive(&routes, select, route)?;
    let (points, reprojected_from) =
        to_dem_crs(&feature.points, named_crs(&text).as_deref(), &bundle.dem, route)?;
    Ok(Drive {
        index: feature.index,
        sol: sol_of(&feature),
        properties: feature.properties,
        points,
        reprojected_from,
    })
}

/// Heading (degrees clockwise from north) of the first segment longer than a millimetre.
fn first_heading(points: &[[f64; 2]]) -> Option<f64> {
    points.windows(2).find_map(|w| {
        let (dx, dy) = (w[1][0] - w[0][0], w[1][1] - w[0][1]);
        (dx.hypot(dy) > 1e-3).then(|| dx.atan2(dy).to_degrees().rem_euclid(360.0))
    })
}

/// `path` relative to directory `base` (both made absolute first), e.g. `../sites/gale`.
fn relative_to(path: &Path, base: &Path) -> Result<PathBuf> {
    let abs = |p: &Path| std::fs::canonicalize(p).map_err(|e| ToolsError::io(p, e));
    let (p, b) = (abs(path)?, abs(base)?);
    let pc: Vec<Component<'_>> = p.components().collect();
    let bc: Vec<Component<'_>> = b.components().collect();
    let common = pc.iter().zip(&bc).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..bc.len() {
        out.push("..");
    }
    for c in &pc[common..] {
        out.push(c.as_os_str());
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    Ok(out)
}

/// Rounds to `d` decimals (what the sol file shows).
fn round(v: f64, d: i32) -> f64 {
    let s = 10f64.powi(d);
    (v * s).round() / s
}

/// Builds the sol for one drive (see the module docs). The sol is not written; see
/// [`sol_to_toml`] and [`write_sol`].
pub fn sol_from_route(opts: &FromRouteOptions) -> Result<(Sol, Drive)> {
    for (name, v) in [("corridor", opts.corridor_m), ("goal tolerance", opts.goal_tolerance_m)] {
        if !(v.is_finite() && v > 0.0 && v <= 10_000.0) {
            return Err(ToolsError::Argument(format!(
                "{name} must be a positive number of metres, got {v}"
            )));
        }
    }
    let bundle = Bundle::open(&opts.site)?;
    let profile = RoverProfile::load(&opts.rover)?;
    let drive = load_drive(&opts.route, opts.select, &bundle)?;
    let what = match drive.sol {
        Some(s) => format!("sol {s}"),
        None => format!("feature {}", drive.index),
    };
    let points: Vec<[f64; 2]> =
        drive.points.iter().map(|p| [round(p[0], 3), round(p[1], 3)]).collect();
    let heading = first_heading(&points).ok_or_else(|| ToolsError::Invalid {
        path: opts.route.clone(),
        reason: format!("drive {what} has no length (all its vertices coincide)"),
    })?;
    let (first, last) = (points[0], points[points.len() - 1]);
    let keep_in = corridor(&points, opts.corridor_m)
        .ok_or_else(|| ToolsError::Argument("cannot build a corridor around the drive".into()))?;
    let keep_in = clip_to_valid(&bundle.dem, &keep_in, first)?;
    let ring: Vec<[f64; 2]> =
        open_ring(&keep_in).into_iter().map(|p| [round(p[0], 2), round(p[1], 2)]).collect();
    {
        use geo::Intersects;
        let poly = crate::corridor::polygon(&ring);
        if let Some((i, [x, y])) =
            points.iter().enumerate().find(|(_, [x, y])| !poly.intersects(&geo::Point::new(*x, *y)))
        {
            return Err(ToolsError::Invalid {
                path: opts.route.clone(),
                reason: format!(
                    "drive {what} leaves the DEM's valid data at vertex {i} ({x:.1}, {y:.1})"
                ),
            });
        }
    }
    let length = drive.length_m();
    let budget = round(profile.limits.drive_budget_m.max(BUDGET_FACTOR * length), 1);
    let sol_dir = match opts.out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !sol_dir.is_dir() {
        return Err(ToolsError::Invalid {
            path: sol_dir,
            reason: "directory does not exist; create it first (the sol is written into it)".into(),
        });
    }
    let id = match &opts.id {
        Some(id) => id.clone(),
        None => match drive.sol {
            Some(s) => format!("{}-sol-{s}", bundle.name()),
            None => format!("{}-drive-{}", bundle.name(), drive.index),
        },
    };
    let route_rel = relative_to(&opts.route, &sol_dir)?;
    let mut notes =
        format!("Real drive {what} (feature {} of {}", drive.index, route_rel.display());
    if let Some(src) = drive.properties.get("source").and_then(serde_json::Value::as_str) {
        let _ = write!(notes, "; {src}");
    }
    let _ = write!(
        notes,
        "), {length:.1} m along the path, {:.1} m start to goal.",
        (last[0] - first[0]).hypot(last[1] - first[1])
    );
    if !drive.reprojected_from.is_empty() {
        let _ = write!(
            notes,
            "\nVertices reprojected from {} to the DEM's CRS.",
            drive.reprojected_from
        );
    }
    let _ = write!(
        notes,
        "\nWritten by `breadcrumb sol from-route`: start and goal are the drive's ends, keep-in a \
         {:.0} m corridor around it clipped to the DEM's valid data, budget max(profile, {BUDGET_FACTOR} \
         x drive), reference route the drive as driven.",
        opts.corridor_m
    );
    let sol = Sol {
        id,
        bundle: relative_to(&opts.site, &sol_dir)?,
        rover: relative_to(&opts.rover, &sol_dir)?,
        drive_budget_m: budget,
        start: Start { x: first[0], y: first[1], heading_deg: round(heading, 2) },
        goal: Goal { x: last[0], y: last[1], tolerance_m: opts.goal_tolerance_m },
        keep_in: ring,
        keep_out: Vec::new(),
        reference_route: points,
        notes,
    };
    sol.validate().map_err(|reason| ToolsError::Invalid { path: opts.out.clone(), reason })?;
    Ok((sol, drive))
}

/// A TOML value.
fn v(s: impl Into<toml::Value>) -> String {
    s.into().to_string()
}

/// Points as a TOML array, four a line.
fn points_toml(points: &[[f64; 2]]) -> String {
    let items: Vec<String> = points.iter().map(|p| format!("[{}, {}]", v(p[0]), v(p[1]))).collect();
    let lines: Vec<String> = items.chunks(4).map(|c| format!("  {},", c.join(", "))).collect();
    format!("[\n{}\n]", lines.join("\n"))
}

/// The sol as TOML in the layout of `fixtures/sols/`: a comment, the scalars, the zones, then
/// `[start]` and `[goal]`.
#[must_use]
pub fn sol_to_toml(sol: &Sol) -> String {
    let mut s = String::new();
    let first = sol.notes.lines().next().unwrap_or_default();
    let _ = writeln!(s, "# {first}");
    let _ = writeln!(s, "id = {}", v(sol.id.as_str()));
    let _ = writeln!(s, "bundle = {}", v(sol.bundle.to_string_lossy().as_ref()));
    let _ = writeln!(s, "rover = {}", v(sol.rover.to_string_lossy().as_ref()));
    let _ = writeln!(s, "drive_budget_m = {}", v(sol.drive_budget_m));
    let _ = writeln!(s, "notes = {}", v(sol.notes.as_str()));
    let _ = writeln!(s, "keep_in = {}", points_toml(&sol.keep_in));
    if !sol.reference_route.is_empty() {
        let _ = writeln!(s, "reference_route = {}", points_toml(&sol.reference_route));
    }
    for k in &sol.keep_out {
        let _ = writeln!(
            s,
            "\n[[keep_out]]\nname = {}\npolygon = {}",
            v(k.name.as_str()),
            points_toml(&k.polygon)
        );
    }
    let _ = writeln!(
        s,
        "\n[start]\nx = {}\ny = {}\nheading_deg = {}",
        v(sol.start.x),
        v(sol.start.y),
        v(sol.start.heading_deg)
    );
    let _ = writeln!(
        s,
        "\n[goal]\nx = {}\ny = {}\ntolerance_m = {}",
        v(sol.goal.x),
        v(sol.goal.y),
        v(sol.goal.tolerance_m)
    );
    s
}

/// Writes `sol` to `path` (refusing to replace a file unless `force`), atomically: the text is
/// checked to read back as the same sol, written beside `path` and renamed into place.
pub fn write_sol(sol: &Sol, path: &Path, force: bool) -> Result<()> {
    if path.is_dir() {
        return Err(ToolsError::Invalid {
            path: path.to_path_buf(),
            reason: "is a directory; give the sol file name, e.g. sol.toml".into(),
        });
    }
    if path.exists() && !force {
        return Err(ToolsError::Invalid {
            path: path.to_path_buf(),
            reason: "already exists; pass --force to replace it".into(),
        });
    }
    let text = sol_to_toml(sol);
    let back = Sol::from_toml(&text, path)?;
    if &back != sol {
        return Err(ToolsError::write(path, "the sol does not read back as written"));
    }
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.partial"));
    std::fs::write(&tmp, text).map_err(|e| ToolsError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        ToolsError::io(path, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feature(index: usize, sol: Option<u64>) -> RouteFeature {
        let mut properties = serde_json::Map::new();
        if let Some(s) = sol {
            properties.insert("sol".into(), s.into());
        }
        RouteFeature { index, properties, points: vec![(0.0, 0.0), (1.0, 1.0)] }
    }

    #[test]
    fn drives_are_picked_by_sol_when_they_have_one_else_by_index() {
        let with = [feature(0, Some(962)), feature(1, Some(963))];
        assert_eq!(select_drive(&with, 963, Path::new("d.geojson")).unwrap().index, 1);
        let e = select_drive(&with, 1, Path::new("d.geojson")).unwrap_err().to_string();
        assert!(e.contains("no drive with sol 1") && e.contains("962, 963"), "{e}");
        let without = [feature(0, None), feature(1, None)];
        assert_eq!(select_drive(&without, 1, Path::new("d.geojson")).unwrap().index, 1);
        let e = select_drive(&without, 5, Path::new("d.geojson")).unwrap_err().to_string();
        assert!(e.contains("index 5"), "{e}");
        let dup = [feature(0, Some(7)), feature(3, Some(7))];
        let e = select_drive(&dup, 7, Path::new("d.geojson")).unwrap_err().to_string();
        assert!(e.contains("features 0, 3"), "{e}");
    }

    #[test]
    fn headings_are_clockwise_from_north_and_skip_repeated_vertices() {
        assert_eq!(first_heading(&[[0.0, 0.0], [0.0, 0.0], [1.0, 0.0]]), Some(90.0));
        assert_eq!(first_heading(&[[0.0, 0.0], [0.0, -1.0]]), Some(180.0));
        assert_eq!(first_heading(&[[0.0, 0.0], [-1.0, 1.0]]), Some(315.0));
        assert_eq!(first_heading(&[[2.0, 2.0], [2.0, 2.0]]), None);
    }

    #[test]
    fn relative_paths_climb_out_of_the_sol_directory() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("fixtures/sols");
        let b = dir.path().join("fixtures/sites/gale");
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        assert_eq!(relative_to(&b, &a).unwrap(), PathBuf::from("../sites/gale"));
        assert_eq!(relative_to(&a, &a).unwrap(), PathBuf::from("."));
    }
}
