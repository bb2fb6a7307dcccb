//! Synthetic sites as committed: every bundle under `fixtures/sites/` is what the generator
//! makes from its own `bundle.toml`, byte for byte, and names its CRS.

use std::path::PathBuf;

use breadcrumb_sites::synth::{generate, write_site, SynthParams};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

#[test]
fn fixture_sites_regenerate_byte_for_byte_from_their_bundle_toml() {
    for entry in std::fs::read_dir(fixtures().join("sites")).unwrap() {
        let dir = entry.unwrap().path();
        let params = SynthParams::load(&dir.join("bundle.toml")).unwrap();
        let out = tempfile::tempdir().unwrap();
        write_site(&generate(&params).unwrap(), &params, out.path()).unwrap();
        for f in ["dem.tif", "ortho.tif", "hazards.geojson", "bundle.toml"] {
            let same =
                std::fs::read(dir.join(f)).unwrap() == std::fs::read(out.path().join(f)).unwrap();
            assert!(same, "{}: {f} differs from a fresh generation", dir.display());
        }
    }
}

/// A synthetic site says what its ground is, as the real Gale DEM does: `gdalinfo` and
/// `site info` read "Mars2000 Equidistant Cylindrical", never "unknown", in every raster.
#[test]
fn fixture_sites_name_their_crs_in_every_raster() {
    use breadcrumb_tools::terrain::Dem;
    for entry in std::fs::read_dir(fixtures().join("sites")).unwrap() {
        let dir = entry.unwrap().path();
        for f in ["dem.tif", "ortho.tif"] {
            let dem = Dem::open(dir.join(f)).unwrap();
            let wkt = dem.crs_wkt();
            // GDAL may hand back WKT1 (`PROJCS[`) or WKT2 (`PROJCRS[`); the name is what counts.
            let name = wkt.strip_prefix("PROJCRS[\"").or_else(|| wkt.strip_prefix("PROJCS[\""));
            assert!(
                name.is_some_and(|n| n.starts_with("Mars2000 Equidistant Cylindrical clon")),
                "{}: {wkt}",
                dir.join(f).display()
            );
            assert!(wkt.contains("GCS_Mars_2000_Sphere") && !wkt.contains("unknown"), "{wkt}");
        }
    }
}
