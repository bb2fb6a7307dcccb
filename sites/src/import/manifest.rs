//! `bundle.toml` of an imported bundle: where each layer came from and what was done to it.
//!
//! Deterministic on purpose (no date, no host): importing the same files twice gives the same
//! manifest, so a bundle's content hash changes only when its data does.

use std::fmt::Write as _;

use super::dem::DemImport;
use super::ortho::OrthoImport;
use super::source::SourceRaster;

/// Version of the import procedure, bumped when the same inputs would give different files.
pub const IMPORT_VERSION: &str = "import-1";

/// Where an input came from, as recorded in the manifest.
pub(crate) struct Origin {
    /// `path = "..."` (an absolute local path) or `url = "..."` (a `/vsicurl/` URL).
    pub key: &'static str,
    /// The path or URL.
    pub value: String,
}

impl Origin {
    /// The origin of `path` as given: URLs keep their address, local files become absolute so
    /// the manifest means the same wherever it is read from.
    pub fn of(path: &std::path::Path) -> Origin {
        let s = path.to_string_lossy();
        if let Some(url) = s.strip_prefix("/vsicurl/") {
            return Origin { key: "url", value: url.to_owned() };
        }
        if s.starts_with("/vsi") {
            return Origin { key: "path", value: s.into_owned() };
        }
        let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        Origin { key: "path", value: abs.to_string_lossy().into_owned() }
    }
}

/// A TOML string literal.
fn q(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// A TOML float (TOML has `nan` and `inf`; Rust's `{}` would write `NaN`).
fn f(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        }
    } else {
        toml::Value::Float(v).to_string()
    }
}

/// The inputs and results the manifest describes.
pub(crate) struct ManifestParts<'a> {
    pub name: &'a str,
    pub dem_src: &'a SourceRaster,
    pub dem: &'a DemImport,
    pub ortho: Option<(&'a SourceRaster, &'a OrthoImport)>,
    pub hazards: Option<(Origin, usize)>,
}

/// The text of `bundle.toml`.
pub(crate) fn render(p: &ManifestParts<'_>) -> String {
    let mut s = String::new();
    let dem = p.dem_src;
    let (rx, ry) = dem.transform.resolution();
    let _ = writeln!(s, "# Terrain bundle written by `breadcrumb site import` ({IMPORT_VERSION}).");
    let _ = writeln!(s, "name = {}", q(p.name));
    let _ = writeln!(s, "generator = \"breadcrumb site import\"");
    let _ = writeln!(s, "generator_version = {}", q(IMPORT_VERSION));
    let _ = writeln!(
        s,
        "provenance = {}",
        q("imported from the sources listed under [source]; see their own licences")
    );
    let _ = writeln!(s, "crs = {}", q(&dem.crs_name()));
    let _ = writeln!(s, "crs_proj4 = {}", q(&dem.proj4()));
    let _ = writeln!(s, "dem = \"dem.tif\"");
    if p.ortho.is_some() {
        let _ = writeln!(s, "ortho = \"ortho.tif\"");
    }
    if p.hazards.is_some() {
        let _ = writeln!(s, "hazards = \"hazards.geojson\"");
    }

    let origin = Origin::of(&dem.path);
    let _ = writeln!(s, "\n[source.dem]");
    let _ = writeln!(s, "{} = {}", origin.key, q(&origin.value));
    let _ = writeln!(s, "driver = {}", q(&dem.driver));
    let _ = writeln!(s, "data_type = {}", q(&p.dem.source_type));
    let _ = writeln!(s, "width = {}\nheight = {}", p.dem.size.0, p.dem.size.1);
    let _ = writeln!(s, "res_m = [{}, {}]", f(rx), f(ry));
    if let Some(nd) = p.dem.source_nodata {
        let _ = writeln!(s, "nodata = {}", f(nd));
    }

    if let Some((src, o)) = p.ortho {
        let origin = Origin::of(&src.path);
        let (srx, sry) = src.transform.resolution();
        let _ = writeln!(s, "\n[source.ortho]");
        let _ = writeln!(s, "{} = {}", origin.key, q(&origin.value));
        let _ = writeln!(s, "driver = {}", q(&src.driver));
        let _ = writeln!(s, "width = {}\nheight = {}", o.source_size.0, o.source_size.1);
        let _ = writeln!(s, "res = [{}, {}]", f(srx), f(sry));
        let _ = writeln!(s, "crs = {}", q(&src.crs_name()));
        let _ = writeln!(s, "crs_proj4 = {}", q(&o.source_proj4));
        if let Some(nd) = src.nodata {
            let _ = writeln!(s, "nodata = {}", f(nd));
        }
    }
    if let Some((origin, n)) = &p.hazards {
        let _ = writeln!(s, "\n[source.hazards]");
        let _ = writeln!(s, "{} = {}", origin.key, q(&origin.value));
        let _ = writeln!(s, "features = {n}");
    }

    let _ = writeln!(s, "\n[layers.dem]");
    let _ = writeln!(s, "file = \"dem.tif\"");
    let _ = writeln!(s, "format = \"GTiff Float32, tiled 256 x 256, ZSTD\"");
    let _ = writeln!(s, "width = {}\nheight = {}", p.dem.size.0, p.dem.size.1);
    let _ = writeln!(s, "nodata = {}", f(f64::from(p.dem.nodata)));
    if let Some((_, o)) = p.ortho {
        let (orx, ory) = o.transform.resolution();
        let _ = writeln!(s, "\n[layers.ortho]");
        let _ = writeln!(s, "file = \"ortho.tif\"");
        let _ = writeln!(s, "method = {}", q(o.method.as_str()));
        let _ = writeln!(s, "width = {}\nheight = {}", o.size.0, o.size.1);
        let _ = writeln!(s, "res_m = [{}, {}]", f(orx), f(ory));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_are_toml() {
        assert_eq!(f(-32767.0), "-32767.0");
        assert_eq!(f(f64::NAN), "nan");
        assert_eq!(f(0.5), "0.5");
        let v: toml::Table = toml::from_str(&format!("a = {}", f(f64::NEG_INFINITY))).unwrap();
        assert!(v["a"].as_float().unwrap().is_infinite());
    }
}
