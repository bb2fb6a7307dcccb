//! The imported DEM: band 1 of any GDAL raster rewritten as a tiled, compressed Float32
//! GeoTIFF, streamed in strips so that a 1.8 GB HiRISE mosaic never has to fit in memory.

use std::path::Path;

use super::source::SourceRaster;
use breadcrumb_tools::error::Result;
use breadcrumb_tools::terrain::raster_io::{RowReader, StripWriter, STRIP_ROWS};

/// The no-data value written when the source DEM has none or one Float32 cannot hold: the one
/// the rest of breadcrumb writes (real Mars elevations lie between about -8200 and +21 300 m).
pub const FALLBACK_NODATA: f32 = -32767.0;

/// What was written for the DEM.
#[derive(Debug, Clone, PartialEq)]
pub struct DemImport {
    /// Columns and rows (the source's).
    pub size: (usize, usize),
    /// The source band's data type name (`Float32`, `Int16`, ...).
    pub source_type: String,
    /// The source's no-data value, if it had one.
    pub source_nodata: Option<f64>,
    /// The no-data value of the written `dem.tif`.
    pub nodata: f32,
}

/// The Float32 no-data value that stands for `source`'s: the same value when Float32 holds it
/// exactly (so HiRISE's -3.4028226550889045e38 stays itself), else [`FALLBACK_NODATA`].
#[must_use]
pub fn output_nodata(source: Option<f64>) -> f32 {
    match source {
        Some(v) if v.is_nan() || f64::from(v as f32) == v => v as f32,
        _ => FALLBACK_NODATA,
    }
}

/// Copies band 1 of `src` into `dst` (grid, placement and CRS unchanged). No-data cells of the
/// source, NaN and infinities become the output's no-data value.
pub(crate) fn write_dem(src: &SourceRaster, dst: &Path) -> Result<DemImport> {
    let mut reader = RowReader::open(&src.path)?;
    let (width, height) = reader.size();
    let nodata = output_nodata(src.nodata);
    let mut writer =
        StripWriter::create(dst, width, height, src.transform, &src.dataset.projection(), nodata)?;
    let mut rows = Vec::new();
    for row0 in (0..height).step_by(STRIP_ROWS) {
        let n = STRIP_ROWS.min(height - row0);
        rows.resize(width * n, 0.0);
        reader.read_rows(row0, &mut rows)?;
        rows = writer.write_rows_owned(row0, rows)?;
        reader.release_cache()?;
    }
    writer.finish()?;
    let source_type =
        src.dataset.rasterband(1).map_or_else(|_| "unknown".into(), |b| b.band_type().name());
    Ok(DemImport { size: (width, height), source_type, source_nodata: src.nodata, nodata })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodata_is_kept_when_float32_holds_it() {
        assert_eq!(output_nodata(Some(-32767.0)), -32767.0);
        let hirise = f64::from(f32::from_bits(0xFF7F_FFFB));
        assert_eq!(f64::from(output_nodata(Some(hirise))), hirise);
        assert!(output_nodata(Some(f64::NAN)).is_nan());
        assert_eq!(output_nodata(Some(-1e300)), FALLBACK_NODATA);
        assert_eq!(output_nodata(None), FALLBACK_NODATA);
    }
}
