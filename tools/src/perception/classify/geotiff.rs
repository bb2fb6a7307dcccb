//! `classes.tif`: a class map as a one-band byte GeoTIFF that QGIS and `gdalinfo` read as a
//! paletted, named classification.
//!
//! - Pixel values are [`Class`] codes; 0 (no data) is the band's no-data value.
//! - A GDAL colour table gives each class its [`Class::rgba`] colour, so QGIS shows the classes
//!   with no styling (no-data transparent through the no-data value; a TIFF colour map has no
//!   alpha).
//! - Class names: GDAL keeps a GeoTIFF band's category names in the PAM sidecar
//!   (`classes.tif.aux.xml`, `<CategoryNames>`), and the `gdal` crate has no safe call to set
//!   them, so the sidecar is written here, exactly as GDAL would write it. The names are also in
//!   the band's metadata inside the TIFF (`CLASS_<code>=<name>`), so the file alone still says
//!   what each code means.
//!
//! Both files are written beside their final names and renamed into place, and hold no
//! timestamps: the same map gives byte-identical files.

use std::path::{Path, PathBuf};

use gdal::raster::{Buffer, ColorEntry, ColorTable, PaletteInterpretation, RasterCreationOptions};
use gdal::spatial_ref::SpatialRef;
use gdal::{DriverManager, Metadata};

use super::{Class, ClassMap};
use crate::error::{Result, ToolsError};

fn hidden(path: &Path, suffix: &str) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}{suffix}.partial"))
}

/// The PAM sidecar's text: category names indexed by code.
fn aux_xml() -> String {
    let mut s = String::from("<PAMDataset>\n  <PAMRasterBand band=\"1\">\n    <CategoryNames>\n");
    for c in Class::ALL {
        s.push_str("      <Category>");
        s.push_str(c.name());
        s.push_str("</Category>\n");
    }
    s.push_str("    </CategoryNames>\n  </PAMRasterBand>\n</PAMDataset>\n");
    s
}

/// Writes `map` to `path` (GeoTIFF, DEFLATE, tiled) with `crs_wkt` (empty: none), its colour
/// table and class names, and `path.aux.xml` beside it; atomically (a failure leaves neither).
pub fn write_geotiff(map: &ClassMap, path: &Path, crs_wkt: &str) -> Result<()> {
    let (w, h) = (map.width, map.height);
    if w == 0 || h == 0 || map.codes.len() != w * h {
        return Err(ToolsError::Argument(format!(
            "class map {w}x{h} does not match its {} codes",
            map.codes.len()
        )));
    }
    let tmp = hidden(path, "");
    let written = (|| -> std::result::Result<(), gdal::errors::GdalError> {
        let driver = DriverManager::get_driver_by_name("GTiff")?;
        let options = RasterCreationOptions::from_iter([
            "TILED=YES",
            "BLOCKXSIZE=256",
            "BLOCKYSIZE=256",
            "COMPRESS=DEFLATE",
        ]);
        let mut ds = driver.create_with_band_type_with_options::<u8, _>(&tmp, w, h, 1, &options)?;
        ds.set_geo_transform(&map.transform.to_gdal())?;
        if !crs_wkt.is_empty() {
            ds.set_spatial_ref(&SpatialRef::from_wkt(crs_wkt)?)?;
        }
        {
            let mut band = ds.rasterband(1)?;
            band.set_no_data_value(Some(0.0))?;
            let mut table = ColorTable::new(PaletteInterpretation::Rgba);
            for c in Class::ALL {
                let [r, g, b, a] = c.rgba();
                table.set_color_entry(
                    u16::from(c.code()),
                    &ColorEntry::rgba(i16::from(r), i16::from(g), i16::from(b), i16::from(a)),
                );
            }
            band.set_color_table(&table);
            band.set_description("terrain class")?;
            for c in Class::ALL {
                band.set_metadata_item(&format!("CLASS_{}", c.code()), c.name(), "")?;
            }
            let mut buf = Buffer::new((w, h), map.codes.clone());
            band.write((0, 0), (w, h), &mut buf)?;
        }
        ds.close()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        let _ = std::fs::remove_file(hidden(&tmp, ".aux.xml"));
        return Err(ToolsError::write(path, e));
    }
    // GDAL writes no sidecar of its own here (everything above lives in the TIFF); drop any.
    let _ = std::fs::remove_file(format!("{}.aux.xml", tmp.display()));
    let aux = PathBuf::from(format!("{}.aux.xml", path.display()));
    let aux_tmp = hidden(&aux, "");
    let renamed = std::fs::write(&aux_tmp, aux_xml())
        .and_then(|()| std::fs::rename(&tmp, path))
        .and_then(|()| std::fs::rename(&aux_tmp, &aux));
    renamed.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        let _ = std::fs::remove_file(&aux_tmp);
        ToolsError::io(path, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terrain::GeoTransform;

    #[test]
    fn colour_table_categories_and_pixels_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let t = GeoTransform { x0: 10.0, y0: 20.0, dx: 1.0, dy: -1.0 };
        let codes: Vec<u8> = (0..12).map(|i| (i % 9) as u8).collect();
        let map = ClassMap { transform: t, width: 4, height: 3, codes: codes.clone() };
        let path = dir.path().join("classes.tif");
        map.write_geotiff(&path, "").unwrap();
        let ds = gdal::Dataset::open(&path).unwrap();
        let band = ds.rasterband(1).unwrap();
        let back = band.read_as::<u8>((0, 0), (4, 3), (4, 3), None).unwrap();
        assert_eq!(back.data(), &codes[..]);
        let table = band.color_table().expect("a colour table");
        let sand = table.entry_as_rgb(4).unwrap();
        let [r, g, b, _] = Class::SandRipple.rgba();
        assert_eq!((sand.r, sand.g, sand.b), (i16::from(r), i16::from(g), i16::from(b)));
        assert_eq!(band.no_data_value(), Some(0.0));
        assert_eq!(band.metadata_item("CLASS_4", "").as_deref(), Some("sand_ripple"));
        let aux = std::fs::read_to_string(dir.path().join("classes.tif.aux.xml")).unwrap();
        assert!(aux.contains("<Category>sand_ripple</Category>"));
        let files = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(files, 2, "classes.tif and its sidecar, no temporary left");
    }
}
