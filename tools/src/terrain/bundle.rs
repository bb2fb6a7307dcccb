//! Terrain bundles: a directory with `dem.tif` and optionally `ortho.tif`, `hazards.geojson` and
//! `bundle.toml`. `bundle.toml` may name other files (`dem = "DTEEC_....IMG"`), so a HiRISE PDS3
//! DTM can be used as it comes.
//!
//! It may also name its rasters by GDAL virtual path, `dem = "/vsicurl/https://host/dem.tif"`
//! (or `/vsis3/bucket/key.tif`, the same code path in GDAL), the way a mission mosaic on object
//! storage is read: nothing is downloaded, windows and coarse tiles fetch only the byte ranges
//! they need (a COG's overviews for coarse ones, see [`Dem::read_decimated`]). Such a raster is
//! not a file under the directory, so the bundle's hash identifies it by its path and what the
//! server says of it, not by its bytes (see the agent's `BundleManifest`). Hazards stay a local
//! file.

use std::path::{Path, PathBuf};

use gdal::spatial_ref::SpatialRef;

use super::dem::Dem;
use super::hazards::{load_hazards, Hazard};
use crate::error::{Result, ToolsError};

/// An opened terrain bundle.
#[derive(Debug)]
pub struct Bundle {
    /// The bundle directory.
    pub dir: PathBuf,
    /// `bundle.toml` as read (empty when the bundle has none).
    pub manifest: toml::Table,
    /// The elevation model.
    pub dem: Dem,
    /// The orbital image, if any (same CRS as the DEM, possibly finer).
    pub ortho: Option<Dem>,
    /// Mapped hazards (empty when the bundle has none).
    pub hazards: Vec<Hazard>,
}

impl Bundle {
    /// Opens a bundle directory, checking every layer it has.
    pub fn open(dir: impl AsRef<Path>) -> Result<Bundle> {
        let dir = dir.as_ref().to_path_buf();
        if !dir.is_dir() {
            return Err(if dir.exists() {
                ToolsError::Invalid {
                    path: dir,
                    reason: "a terrain bundle must be a directory".into(),
                }
            } else {
                ToolsError::Missing { path: dir }
            });
        }
        let manifest_path = dir.join("bundle.toml");
        let manifest = if manifest_path.exists() {
            let text = std::fs::read_to_string(&manifest_path)
                .map_err(|e| ToolsError::io(&manifest_path, e))?;
            toml::from_str::<toml::Table>(&text).map_err(|e| ToolsError::Invalid {
                path: manifest_path.clone(),
                reason: super::toml_error(&text, &e),
            })?
        } else {
            toml::Table::new()
        };
        let named = |key: &str, default: &str| -> Result<PathBuf> {
            match manifest.get(key) {
                None => Ok(dir.join(default)),
                Some(toml::Value::String(s)) => Ok(dir.join(s)),
                Some(other) => Err(ToolsError::Invalid {
                    path: manifest_path.clone(),
                    reason: format!("`{key}` must be a file name string, got {other}"),
                }),
            }
        };
        let dem_path = named("dem", "dem.tif")?;
        let dem = Dem::open(&dem_path)?;
        let ortho_path = named("ortho", "ortho.tif")?;
        let ortho = if ortho_path.exists() || is_virtual(&ortho_path) {
            let ortho = Dem::open(&ortho_path)?;
            check_same_crs(&dem, &ortho)?;
            Some(ortho)
        } else if manifest.contains_key("ortho") {
            return Err(ToolsError::Missing { path: ortho_path });
        } else {
            None
        };
        let hazards_path = named("hazards", "hazards.geojson")?;
        let hazards = if hazards_path.exists() || manifest.contains_key("hazards") {
            load_hazards(&hazards_path)?
        } else {
            Vec::new()
        };
        Ok(Bundle { dir, manifest, dem, ortho, hazards })
    }

    /// The bundle's name from `bundle.toml`, or its directory name.
    #[must_use]
    pub fn name(&self) -> String {
        self.manifest.get("name").and_then(toml::Value::as_str).map_or_else(
            || self.dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            str::to_owned,
        )
    }
}

/// True for GDAL virtual paths (`/vsicurl/...`, `/vsis3/...`), which name no local file to
/// check for: GDAL opens them or says why not.
#[must_use]
pub fn is_virtual(path: &Path) -> bool {
    path.to_string_lossy().starts_with("/vsi")
}

/// The rasters `bundle.toml` in `dir` names by GDAL virtual path, as `(key, path)` sorted by
/// key (`dem`, `ortho`): the layers whose bytes are not under the directory. Empty for a
/// bundle without `bundle.toml` or whose rasters are all local.
pub fn virtual_rasters(dir: &Path) -> Result<Vec<(String, String)>> {
    let path = dir.join("bundle.toml");
    if !path.exists() {
        return Ok(Vec::new());
    }
    let text = std::fs::read_to_string(&path).map_err(|e| ToolsError::io(&path, e))?;
    let manifest = toml::from_str::<toml::Table>(&text).map_err(|e| ToolsError::Invalid {
        path: path.clone(),
        reason: super::toml_error(&text, &e),
    })?;
    Ok(["dem", "ortho"]
        .into_iter()
        .filter_map(|k| {
            let v = manifest.get(k)?.as_str()?;
            is_virtual(Path::new(v)).then(|| (k.to_owned(), v.to_owned()))
        })
        .collect())
}

/// What identifies a raster that is not a local file (a `/vsicurl/` or `/vsis3/` COG) in a
/// bundle's hash: SHA-256 of a text naming its GDAL path, size, placement, CRS, no-data, and
/// the offset and compressed size of every block of every band and overview, as
/// `layout-sha256:<hex>`.
///
/// Why not the bytes: hashing a mission mosaic means downloading all of it, which is what
/// reading overviews over HTTP avoids. Why not size and ETag: the gdal crate exposes no
/// `VSIStatL` nor HTTP headers, and this crate forbids `unsafe`. What this catches: a replaced
/// or re-encoded raster (new blocks move and change size), a new overview, another CRS,
/// placement or no-data. What it cannot: a block rewritten in place to the same compressed
/// size, which only a content hash would; the `layout-` prefix says so wherever the value is
/// shown. It reads only the TIFF header and block index (kilobytes for a COG, whose index
/// lies at its start). A raster GDAL gives no block index for (not a GeoTIFF) is refused.
pub fn raster_identity(path: &str) -> Result<String> {
    use gdal::Metadata;
    use sha2::{Digest, Sha256};
    use std::fmt::Write as _;

    let p = Path::new(path);
    let ds = gdal::Dataset::open(p).map_err(|e| ToolsError::raster(p, &e))?;
    if ds.driver().short_name() != "GTiff" {
        return Err(ToolsError::Invalid {
            path: p.to_path_buf(),
            reason: "a remote raster must be a GeoTIFF (a COG), whose block index identifies \
                     it without downloading it"
                .into(),
        });
    }
    let (w, h) = ds.raster_size();
    let mut text = format!("{path}\nsize {w} {h}\n");
    let gt = ds.geo_transform().map_err(|e| ToolsError::raster(p, &e))?;
    let _ = writeln!(text, "transform {gt:?}\ncrs {}", ds.projection());
    for b in 1..=ds.raster_count() {
        let band = ds.rasterband(b).map_err(|e| ToolsError::raster(p, &e))?;
        let _ = writeln!(text, "band {b} {:?} nodata {:?}", band.band_type(), band.no_data_value());
        let n = band.overview_count().map_err(|e| ToolsError::raster(p, &e))?;
        let mut levels = vec![band];
        for i in 0..n.max(0) as usize {
            let first = &levels[0];
            levels.push(first.overview(i).map_err(|e| ToolsError::raster(p, &e))?);
        }
        for (level, band) in levels.iter().enumerate() {
            let (bw, bh) = band.block_size();
            let (lw, lh) = band.size();
            let _ = writeln!(text, "level {level} {lw} {lh} blocks {bw} {bh}");
            for by in 0..lh.div_ceil(bh.max(1)) {
                for bx in 0..lw.div_ceil(bw.max(1)) {
                    let (Some(off), Some(size)) = (
                        band.metadata_item(&format!("BLOCK_OFFSET_{bx}_{by}"), "TIFF"),
                        band.metadata_item(&format!("BLOCK_SIZE_{bx}_{by}"), "TIFF"),
                    ) else {
                        // A sparse block (none stored, read as no-data) has no offset.
                        text.push_str("-\n");
                        continue;
                    };
                    let _ = writeln!(text, "{off} {size}");
                }
            }
        }
    }
    Ok(format!("layout-sha256:{:x}", Sha256::digest(text.as_bytes())))
}

/// Both rasters must be in the same CRS (or both have none).
fn check_same_crs(dem: &Dem, other: &Dem) -> Result<()> {
    let same = match (dem.crs_wkt().is_empty(), other.crs_wkt().is_empty()) {
        (true, true) => true,
        (false, false) => {
            match (SpatialRef::from_wkt(dem.crs_wkt()), SpatialRef::from_wkt(other.crs_wkt())) {
                // OSRIsSame also compares datum and ellipsoid *names*, which differ between
                // tools for the same Mars sphere ("Mars_2000_(Sphere)" vs "unknown"), so two
                // layers whose PROJ definitions agree are the same CRS for our purposes.
                (Ok(a), Ok(b)) => same_crs(&a, &b),
                _ => false,
            }
        }
        _ => false,
    };
    if same {
        Ok(())
    } else {
        Err(ToolsError::CrsMismatch {
            dem: dem.path().to_path_buf(),
            other: other.path().to_path_buf(),
        })
    }
}

/// Whether two CRSs are the same for our purposes: GDAL says so, or they have the same PROJ
/// definition (tools name the same Mars sphere differently, "Mars_2000_(Sphere)" vs
/// "unknown", which GDAL's comparison alone calls different). Import copies a layer as-is
/// exactly when `Bundle::open` will accept it, because both ask this.
#[must_use]
pub fn same_crs(a: &SpatialRef, b: &SpatialRef) -> bool {
    a == b || matches!((a.to_proj4(), b.to_proj4()), (Ok(pa), Ok(pb)) if pa == pb)
}
