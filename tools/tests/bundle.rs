//! Terrain bundles: the real Gale bundle, other GDAL formats (a HiRISE-style PDS3 `.IMG`), and
//! the errors a user sees for broken bundles.

use std::path::{Path, PathBuf};

use breadcrumb_tools::terrain::raster_io::{write_f32_geotiff, write_u8_geotiff};
use breadcrumb_tools::terrain::{Bundle, Dem, GeoTransform, Grid};

use crate::realdata;
use crate::support::write_pds3;

#[test]
fn gale_bundle_opens_with_a_finer_ortho_in_the_same_crs() {
    let b = Bundle::open(realdata("gale-marias-pass")).unwrap();
    assert_eq!(b.dem.size(), (348, 337));
    assert_eq!(
        b.dem.transform(),
        GeoTransform { x0: 8_142_406.0, y0: -276_455.0, dx: 1.0, dy: -1.0 }
    );
    let ortho = b.ortho.as_ref().expect("gale has an ortho");
    assert_eq!(ortho.size(), (696, 674));
    assert_eq!(ortho.transform().resolution(), (0.5, 0.5));
    assert!(b.hazards.is_empty());
    // A cell read through the tile cache equals the same cell read whole by GDAL.
    let all = b.dem.read_all().unwrap();
    assert_eq!(all.valid_count(), 348 * 337, "the Gale DEM has no no-data cells");
    assert_eq!(b.dem.cell(200, 100).unwrap(), all.get(200, 100));
    // The ortho's no-data strip (0) on the west edge is unknown, not black.
    assert_eq!(ortho.cell(0, 300).unwrap(), None);
}

#[test]
fn steep_crop_in_a_local_frame_opens() {
    let dem = Dem::open(realdata("hirise-steep-crop").join("dem.tif")).unwrap();
    assert_eq!(dem.size(), (70, 120));
    assert!(dem.crs_wkt().is_empty());
    let (xmin, ymin, xmax, ymax) = dem.extent();
    assert!((xmin - 0.0).abs() < 1e-9 && (ymin - 0.0).abs() < 1e-6);
    assert!((xmax - 70.7).abs() < 1e-6 && (ymax - 121.2).abs() < 1e-6);
}

#[test]
fn a_pds3_dtm_named_in_bundle_toml_is_read_with_its_nodata() {
    let dir = tempfile::tempdir().unwrap();
    let missing = f32::from_bits(0xFF7F_FFFB);
    write_pds3(&dir.path().join("DTEEC_TEST.IMG"), 40, 30, |c, r| {
        if (c, r) == (3, 4) {
            missing
        } else {
            r as f32 * 0.5 + c as f32 * 0.1
        }
    });
    std::fs::write(dir.path().join("bundle.toml"), "name = \"pds\"\ndem = \"DTEEC_TEST.IMG\"\n")
        .unwrap();
    let b = Bundle::open(dir.path()).unwrap();
    assert_eq!(b.name(), "pds");
    assert_eq!(b.dem.size(), (40, 30));
    assert_eq!(b.dem.transform().resolution(), (1.0, 1.0));
    assert!(b.dem.crs_wkt().contains("Equirectangular"), "{}", b.dem.crs_wkt());
    assert_eq!(b.dem.cell(7, 9).unwrap(), Some(9.0 * 0.5 + 0.7));
    assert_eq!(b.dem.cell(3, 4).unwrap(), None, "MISSING_CONSTANT is unknown terrain");
}

fn gale_crs() -> String {
    Dem::open(realdata("gale-marias-pass").join("dem.tif")).unwrap().crs_wkt().to_owned()
}

fn small_bundle(dir: &Path, dem_crs: &str, ortho_crs: &str) -> PathBuf {
    let t = GeoTransform { x0: 0.0, y0: 100.0, dx: 1.0, dy: -1.0 };
    let g = Grid::from_fn(20, 20, t, |x, y| (x * 0.1 + y * 0.05) as f32);
    write_f32_geotiff(&dir.join("dem.tif"), &g, dem_crs, -32767.0).unwrap();
    let ot = GeoTransform { dx: 0.5, dy: -0.5, ..t };
    write_u8_geotiff(&dir.join("ortho.tif"), 40, 40, ot, ortho_crs, vec![128; 1600]).unwrap();
    dir.to_path_buf()
}

#[test]
fn mismatched_crs_names_the_layer() {
    let dir = tempfile::tempdir().unwrap();
    let other = breadcrumb_tools::terrain::raster_io::wkt_from_proj4(
        "+proj=eqc +lat_ts=18.4 +lon_0=77.4 +R=3396190 +units=m +no_defs",
    )
    .unwrap();
    small_bundle(dir.path(), &gale_crs(), &other);
    let e = Bundle::open(dir.path()).unwrap_err().to_string();
    assert!(e.contains("ortho.tif") && e.contains("CRS differs"), "{e}");
    // The same CRS on both layers opens.
    let dir2 = tempfile::tempdir().unwrap();
    small_bundle(dir2.path(), &other, &other);
    Bundle::open(dir2.path()).unwrap();
}

#[test]
fn broken_bundles_say_which_file_and_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let e = Bundle::open(dir.path()).unwrap_err().to_string();
    assert!(e.contains("dem.tif") && e.contains("no such file"), "{e}");

    std::fs::write(dir.path().join("dem.tif"), b"this is not a raster").unwrap();
    let e = Bundle::open(dir.path()).unwrap_err().to_string();
    assert!(e.contains("dem.tif") && e.contains("cannot read raster"), "{e}");

    // A raster with no geotransform cannot be placed on the map.
    let path = dir.path().join("dem.tif");
    std::fs::remove_file(&path).unwrap();
    {
        let driver = gdal::DriverManager::get_driver_by_name("GTiff").unwrap();
        let ds = driver.create_with_band_type::<f32, _>(&path, 8, 8, 1).unwrap();
        ds.close().unwrap();
    }
    let e = Bundle::open(dir.path()).unwrap_err().to_string();
    assert!(e.contains("dem.tif") && e.contains("no geotransform"), "{e}");

    let dir = tempfile::tempdir().unwrap();
    small_bundle(dir.path(), "", "");
    std::fs::write(dir.path().join("hazards.geojson"), "{\"type\": \"FeatureCollection\", ")
        .unwrap();
    let e = Bundle::open(dir.path()).unwrap_err().to_string();
    assert!(e.contains("hazards.geojson") && e.contains("not GeoJSON"), "{e}");

    std::fs::remove_file(dir.path().join("hazards.geojson")).unwrap();
    std::fs::write(dir.path().join("bundle.toml"), "name = 3\northo = \"missing.tif\"\n").unwrap();
    let e = Bundle::open(dir.path()).unwrap_err().to_string();
    assert!(e.contains("missing.tif") && e.contains("no such file"), "{e}");
}
