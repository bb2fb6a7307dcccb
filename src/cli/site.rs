//! `breadcrumb site ...`: synthesise a site, import real terrain, write a slope map, summarise
//! a bundle.

use std::path::PathBuf;

use anyhow::{bail, Context};
use breadcrumb_sites::import::{import_bundle, ImportOptions};
use breadcrumb_sites::synth::{synthesize, SynthOptions, SynthParams, TRAVERSE_MIN_SIZE};
use breadcrumb_tools::analysis::slope::write_slope_raster;
use breadcrumb_tools::terrain::{Bundle, Dem, HazardClass};
use clap::{Args, Subcommand};

use super::ExitStatus;

#[derive(Debug, Subcommand)]
pub enum SiteCommand {
    /// Synthesise a Mars site: DEM, HiRISE-like ortho image, ground-truth hazards, bundle.toml.
    ///
    /// Craters follow a size-frequency power law with fresh simple-crater shapes, rocks the
    /// Golombek rock-abundance model, plus sand ripple fields, outcrop scarps and a regional
    /// slope (models and sources in ROVER.md). The same arguments always give byte-identical
    /// files.
    ///
    /// Example: breadcrumb site synth --seed 7 --size 512 --res 1.0 out/site
    Synth(SynthArgs),
    /// Write the slope map of a DEM (degrees, Horn's method as `gdaldem slope`) as a GeoTIFF.
    ///
    /// The output has the DEM's grid, CRS and a no-data value of -9999 (edge cells and cells
    /// next to no-data are no-data, as in `gdaldem slope`), ready to open in QGIS.
    ///
    /// Example: breadcrumb site slope out/site/dem.tif -o out/site/slope.tif
    Slope(SlopeArgs),
    /// Summarise a terrain bundle: grid, CRS, extent, layers, hazards by class.
    ///
    /// Example: breadcrumb site info fixtures/sites/plains
    Info(InfoArgs),
    /// Import real terrain into a bundle: a DEM, optionally an ortho image and mapped hazards.
    ///
    /// Reads any raster GDAL reads: GeoTIFF, a HiRISE PDS3 .IMG DTM, a JP2 image, a COG by URL
    /// (/vsicurl/https://...). The DEM must be in a projected CRS in metres; it is written as a
    /// tiled, compressed Float32 dem.tif keeping its grid and no-data value. An ortho in the
    /// DEM's CRS is copied; one in another CRS is warped into the DEM's CRS (bilinear) on a grid
    /// aligned with the DEM's cells at its own resolution, clipped to the DEM. Hazards are
    /// checked and copied. bundle.toml records every source. The bundle is written beside OUT
    /// and renamed into place when complete: a failure leaves nothing behind.
    ///
    /// Example: breadcrumb site import DTEEC_042252_1930_042753_1930_A01.IMG --ortho
    /// ESP_042252_1930_RED.JP2 fixtures/sites/marias-pass
    Import(ImportArgs),
    /// Map terrain classes with the baseline classifier: classes.tif and classes.geojson.
    ///
    /// Deterministic, no model, no network. Every DEM cell gets a class from the DEM (slope
    /// past the 25° tilt limit: scarp; bumps over the 0.35 m step limit: rock; dense bumps:
    /// boulder_field; closed hollows: crater) and the ortho image (dark ground whose texture
    /// shows ripples: sand_ripple; bright ground: outcrop). Writes OUT/classes.tif (one byte
    /// band in the DEM's grid and CRS, a colour table and class names: 0 nodata, 1 ground,
    /// 2 rock, 3 boulder_field, 4 sand_ripple, 5 outcrop, 6 scarp, 7 crater, 8 unknown) and
    /// OUT/classes.geojson (one simplified polygon per patch, with class, area_m2 and
    /// source), both written atomically, and prints the area of each class. It is a guess
    /// from orbital data, not ground truth: docs/perception.md says how it was tuned and how
    /// well it scores.
    ///
    /// Example: breadcrumb site classify ../shared/realdata/gale-marias-pass -o out/gale-classes
    Classify(ClassifyArgs),
}

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// Terrain bundle directory (dem.tif, optionally ortho.tif).
    #[arg(value_name = "BUNDLE")]
    bundle: PathBuf,
    /// Output directory (created if missing): classes.tif, classes.tif.aux.xml, classes.geojson.
    #[arg(short, long, value_name = "OUT_DIR")]
    out: PathBuf,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The DEM: a raster file or GDAL path (e.g. /vsicurl/https://host/dem.tif), elevations in
    /// metres, in a projected CRS in metres.
    #[arg(value_name = "DEM")]
    dem: PathBuf,
    /// An orbital image of the same ground (any CRS; warped into the DEM's when it differs).
    #[arg(long, value_name = "IMG")]
    ortho: Option<PathBuf>,
    /// Mapped hazards: GeoJSON polygons with a `class` property, in the DEM's map metres.
    #[arg(long, value_name = "GEOJSON")]
    hazards: Option<PathBuf>,
    /// The bundle's name in bundle.toml (default: OUT_DIR's name).
    #[arg(long)]
    name: Option<String>,
    /// Replace OUT_DIR if it exists and is not empty.
    #[arg(long)]
    force: bool,
    /// Output bundle directory.
    #[arg(value_name = "OUT_DIR")]
    out: PathBuf,
}

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Random seed; the same seed and options give byte-identical files.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// DEM width and height in cells (16 to 8192).
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u32).range(16..=8192))]
    size: u32,
    /// DEM cell size in metres (the ortho image is twice as fine).
    #[arg(long, default_value_t = 1.0, value_parser = positive_metres)]
    res: f64,
    /// Kind of site: mixed, plains, crater-field, ripple-slope, crater-rim, traverse (a
    /// kilometre-scale map of regions for multi-sol campaigns). Default: traverse from 4096
    /// cells up, mixed below.
    #[arg(long)]
    preset: Option<String>,
    /// Read all generator parameters from a TOML file (e.g. a bundle.toml's [params]) instead
    /// of a preset; --seed, --size and --res are then ignored.
    #[arg(long, value_name = "FILE")]
    params: Option<PathBuf>,
    /// Replace an existing bundle in OUT.
    #[arg(long)]
    force: bool,
    /// Output bundle directory (created if missing).
    out: PathBuf,
}

#[derive(Debug, Args)]
pub struct SlopeArgs {
    /// Input DEM (any raster GDAL reads: GeoTIFF, HiRISE PDS3 .IMG, ...).
    dem: PathBuf,
    /// Output GeoTIFF.
    #[arg(short, long, value_name = "OUT.tif")]
    out: PathBuf,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Bundle directory.
    dir: PathBuf,
    /// Print as JSON.
    #[arg(long)]
    json: bool,
}

fn positive_metres(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if v.is_finite() && v > 0.0 && v <= 1000.0 {
        Ok(v)
    } else {
        Err(format!("{s} must be a positive number of metres (at most 1000)"))
    }
}

pub fn run(cmd: SiteCommand) -> anyhow::Result<ExitStatus> {
    match cmd {
        SiteCommand::Synth(a) => synth(&a),
        SiteCommand::Slope(a) => slope(&a),
        SiteCommand::Info(a) => info(&a),
        SiteCommand::Import(a) => import(&a),
        SiteCommand::Classify(a) => classify(&a),
    }
}

fn classify(a: &ClassifyArgs) -> anyhow::Result<ExitStatus> {
    use breadcrumb_tools::perception::classify::{classify, hazards_geojson};
    if a.out.exists() && !a.out.is_dir() {
        bail!("{}: exists and is not a directory", a.out.display());
    }
    let started = std::time::Instant::now();
    let bundle = Bundle::open(&a.bundle)?;
    let map = classify(&bundle, bundle.dem.extent())?;
    tracing::debug!(secs = started.elapsed().as_secs_f64(), "classified");
    let hazards = map.to_hazards();
    tracing::debug!(secs = started.elapsed().as_secs_f64(), n = hazards.len(), "polygons traced");
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let tif = a.out.join("classes.tif");
    let geojson = a.out.join("classes.geojson");
    map.write_geotiff(&tif, bundle.dem.crs_wkt())?;
    super::plan::write_atomic_bytes(&geojson, hazards_geojson(&hazards).as_bytes())?;
    tracing::debug!(secs = started.elapsed().as_secs_f64(), "written");
    let areas: Vec<(String, f64, usize)> = map
        .areas_m2()
        .into_iter()
        .map(|(c, area)| {
            let n = hazards.iter().filter(|h| Some(h.class) == c.hazard()).count();
            (c.name().to_owned(), area, n)
        })
        .collect();
    if a.json {
        let classes: Vec<serde_json::Value> = areas
            .iter()
            .map(|(name, area, n)| serde_json::json!({"class": name, "area_m2": area, "polygons": n}))
            .collect();
        outln!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "bundle": bundle.dir, "classes_tif": tif, "classes_geojson": geojson,
                "width": map.width, "height": map.height, "classes": classes,
            }))?
        )?;
        return Ok(ExitStatus::Success);
    }
    let total: f64 = areas.iter().map(|(_, a, _)| a).sum();
    outln!(
        "classified {} ({} x {} cells) in {:.2} s -> {}",
        bundle.name(),
        map.width,
        map.height,
        started.elapsed().as_secs_f64(),
        a.out.display()
    )?;
    for (name, area, n) in &areas {
        let share = if total > 0.0 { 100.0 * area / total } else { 0.0 };
        let polys = if *n > 0 { format!("  {n} polygons") } else { String::new() };
        outln!("{name:<14} {area:>12.0} m2  {share:>5.1} %{polys}")?;
    }
    Ok(ExitStatus::Success)
}

fn import(a: &ImportArgs) -> anyhow::Result<ExitStatus> {
    let started = std::time::Instant::now();
    let report = import_bundle(&ImportOptions {
        dem: a.dem.clone(),
        ortho: a.ortho.clone(),
        hazards: a.hazards.clone(),
        out_dir: a.out.clone(),
        force: a.force,
        name: a.name.clone(),
    })?;
    let bundle = Bundle::open(&report.out_dir).context("re-reading the bundle just written")?;
    outln!(
        "imported {} in {:.2} s -> {}",
        a.dem.display(),
        started.elapsed().as_secs_f64(),
        report.out_dir.display()
    )?;
    print_bundle(&bundle)?;
    if let Some(o) = &report.ortho {
        outln!(
            "import   ortho {} from {} x {} px in {}",
            o.method.as_str(),
            o.source_size.0,
            o.source_size.1,
            o.source_proj4
        )?;
    }
    Ok(ExitStatus::Success)
}

fn synth(a: &SynthArgs) -> anyhow::Result<ExitStatus> {
    let params = if let Some(path) = &a.params {
        load_params(path)?
    } else {
        let size = a.size as usize;
        let preset = a.preset.as_deref().unwrap_or(if size >= TRAVERSE_MIN_SIZE {
            "traverse"
        } else {
            "mixed"
        });
        SynthParams::preset(preset, a.seed, size, a.res)?
    };
    if a.out.exists() && !a.out.is_dir() {
        bail!("{}: exists and is not a directory", a.out.display());
    }
    if a.out.join("dem.tif").exists() && !a.force {
        bail!("{}: already holds a bundle (dem.tif); pass --force to replace it", a.out.display());
    }
    let started = std::time::Instant::now();
    // Band by band straight into the files: an 8192-cell site never holds its rasters.
    synthesize(&params, &a.out, &SynthOptions::default())?;
    let bundle = Bundle::open(&a.out).context("re-reading the bundle just written")?;
    outln!(
        "synthesised {} site (seed {}) in {:.2} s -> {}",
        params.preset,
        params.seed,
        started.elapsed().as_secs_f64(),
        a.out.display()
    )?;
    print_bundle(&bundle)?;
    Ok(ExitStatus::Success)
}

/// Reads generator parameters from a synthetic bundle's `bundle.toml` (its `[params]`) or from
/// a bare parameter file.
fn load_params(path: &std::path::Path) -> anyhow::Result<SynthParams> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
    if let Ok(manifest) = breadcrumb_sites::synth::manifest::from_toml(&text) {
        return Ok(manifest.params);
    }
    toml::from_str::<SynthParams>(&text)
        .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.message().replace('\n', " ")))
}

fn slope(a: &SlopeArgs) -> anyhow::Result<ExitStatus> {
    if a.out.is_dir() {
        bail!("{}: is a directory; give the output file name, e.g. slope.tif", a.out.display());
    }
    if let Some(parent) = a.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !parent.is_dir() {
            bail!("{}: directory does not exist", parent.display());
        }
    }
    let dem = Dem::open(&a.dem)?;
    let summary = write_slope_raster(&dem, &a.out)?;
    if a.json {
        outln!("{}", serde_json::to_string_pretty(&summary)?)?;
    } else {
        let (w, h) = dem.size();
        outln!("slope of {} ({w} x {h} cells) -> {}", a.dem.display(), a.out.display())?;
        let deg = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.2}"));
        outln!(
            "valid cells {}; slope min {} / median {} / p99 {} / max {} deg",
            summary.valid_cells,
            deg(summary.min_deg),
            deg(summary.median_deg),
            deg(summary.p99_deg),
            deg(summary.max_deg)
        )?;
    }
    Ok(ExitStatus::Success)
}

fn info(a: &InfoArgs) -> anyhow::Result<ExitStatus> {
    let bundle = Bundle::open(&a.dir)?;
    if a.json {
        outln!("{}", serde_json::to_string_pretty(&bundle_json(&bundle))?)?;
    } else {
        print_bundle(&bundle)?;
    }
    Ok(ExitStatus::Success)
}

fn hazard_counts(bundle: &Bundle) -> Vec<(HazardClass, usize)> {
    HazardClass::ALL
        .into_iter()
        .map(|c| (c, bundle.hazards.iter().filter(|h| h.class == c).count()))
        .filter(|(_, n)| *n > 0)
        .collect()
}

fn bundle_json(bundle: &Bundle) -> serde_json::Value {
    let (w, h) = bundle.dem.size();
    let (rx, ry) = bundle.dem.transform().resolution();
    let (xmin, ymin, xmax, ymax) = bundle.dem.extent();
    let hazards: serde_json::Map<String, serde_json::Value> =
        hazard_counts(bundle).into_iter().map(|(c, n)| (c.as_str().to_owned(), n.into())).collect();
    serde_json::json!({
        "name": bundle.name(),
        "dir": bundle.dir,
        "dem": {"path": bundle.dem.path(), "width": w, "height": h, "res_m": [rx, ry],
                "extent_m": [xmin, ymin, xmax, ymax], "crs": crs_name(bundle.dem.crs_wkt())},
        "ortho": bundle.ortho.as_ref().map(|o| {
            let (w, h) = o.size();
            let (rx, _) = o.transform().resolution();
            serde_json::json!({"path": o.path(), "width": w, "height": h, "res_m": rx})
        }),
        "hazards": hazards,
    })
}

fn crs_name(wkt: &str) -> String {
    if wkt.is_empty() {
        return "none (local frame)".into();
    }
    // The WKT's first quoted string is the CRS name.
    wkt.split('"').nth(1).unwrap_or("unnamed").to_owned()
}

fn print_bundle(bundle: &Bundle) -> Result<(), super::out::StdoutError> {
    let (w, h) = bundle.dem.size();
    let (rx, ry) = bundle.dem.transform().resolution();
    let (xmin, ymin, xmax, ymax) = bundle.dem.extent();
    outln!("bundle   {} ({})", bundle.name(), bundle.dir.display())?;
    outln!("dem      {w} x {h} cells at {rx} x {ry} m, CRS {}", crs_name(bundle.dem.crs_wkt()))?;
    outln!("extent   x {xmin:.1} .. {xmax:.1}, y {ymin:.1} .. {ymax:.1} (map metres)")?;
    match &bundle.ortho {
        Some(o) => {
            let (ow, oh) = o.size();
            outln!("ortho    {ow} x {oh} px at {} m", o.transform().resolution().0)?;
        }
        None => outln!("ortho    none")?,
    }
    let counts = hazard_counts(bundle);
    if counts.is_empty() {
        outln!("hazards  none mapped")?;
    } else {
        let parts: Vec<String> =
            counts.iter().map(|(c, n)| format!("{n} {}", c.as_str())).collect();
        outln!("hazards  {}", parts.join(", "))?;
    }
    Ok(())
}
