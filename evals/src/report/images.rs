//! The report's pictures, each inlined once. Transcripts name their images by SHA-256 and every
//! attempt of a sol is shown the same overview tile, so keying by hash stores that tile once for
//! the whole report instead of once per attempt. Tiles are 1024 px PNGs of a few MB each; they
//! are re-encoded as JPEGs at most [`TILE_PX`] a side, which keeps a report of a hundred
//! attempts at a few MB. Decoding and encoding run in parallel once every image is known.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::RgbImage;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

/// Longest side of a transcript tile in the report, pixels.
pub const TILE_PX: u32 = 512;
/// JPEG quality of inlined images (tiles are photos with thin labels; 80 keeps both legible).
const QUALITY: u8 = 80;

enum Source {
    /// A PNG (or other image) file, as a transcript stored it.
    File(PathBuf),
    /// A picture made for the report (a sol's panel background), kept at its size.
    Pixels(RgbImage),
    /// A chart file (the twin's telemetry plot): shrunk less than a tile, so its text stays
    /// readable.
    Chart(PathBuf),
}

/// Longest side of a chart in the report, pixels.
pub const CHART_PX: u32 = 1000;

/// Images by key, added while the page is built and encoded at the end.
#[derive(Default)]
pub struct ImageBank {
    sources: BTreeMap<String, Source>,
    /// How often each key was asked for (what dedup saved).
    uses: usize,
}

/// Whether `s` is a lowercase hex SHA-256, as transcripts name their images. Anything else is
/// refused: the name becomes a file path, and a transcript is not trusted to name files.
#[must_use]
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl ImageBank {
    /// An empty bank.
    #[must_use]
    pub fn new() -> Self {
        ImageBank::default()
    }

    /// The transcript image `hash` of the attempt directory `dir` (`dir/images/<hash>.png`). The
    /// same hash from another attempt is the same picture and is stored once. `None` when the
    /// name is not a hash.
    pub fn transcript_image(&mut self, dir: &Path, hash: &str) -> Option<String> {
        if !is_sha256_hex(hash) {
            return None;
        }
        self.uses += 1;
        self.sources
            .entry(hash.to_owned())
            .or_insert_with(|| Source::File(dir.join("images").join(format!("{hash}.png"))));
        Some(hash.to_owned())
    }

    /// The chart file `path` (e.g. an attempt's `twin.png`), keyed by the SHA-256 of its path;
    /// `None` when there is no such file.
    pub fn chart(&mut self, path: &Path) -> Option<String> {
        if !path.is_file() {
            return None;
        }
        let key = format!("{:x}", Sha256::digest(path.to_string_lossy().as_bytes()));
        self.uses += 1;
        self.sources.entry(key.clone()).or_insert_with(|| Source::Chart(path.to_path_buf()));
        Some(key)
    }

    /// A picture made for the report, keyed by the SHA-256 of its size and pixels.
    pub fn pixels(&mut self, img: RgbImage) -> String {
        let mut h = Sha256::new();
        h.update(img.width().to_le_bytes());
        h.update(img.height().to_le_bytes());
        h.update(img.as_raw());
        let key = format!("{:x}", h.finalize());
        self.uses += 1;
        self.sources.entry(key.clone()).or_insert(Source::Pixels(img));
        key
    }

    /// Distinct images held.
    #[must_use]
    pub fn len(&self) -> usize {
        self.sources.len()
    }

    /// Whether the bank holds no image.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    /// Times an image was asked for (at least [`ImageBank::len`]).
    #[must_use]
    pub fn uses(&self) -> usize {
        self.uses
    }

    /// Encodes every image as a `data:image/jpeg;base64,...` URL, in parallel. Images that
    /// cannot be read come back in the second value with the reason, and are left out (the page
    /// shows a placeholder for them).
    #[must_use]
    pub fn encode(self) -> (BTreeMap<String, String>, Vec<String>) {
        let results: Vec<(String, Result<String, String>)> = self
            .sources
            .into_par_iter()
            .map(|(key, src)| {
                let url = match src {
                    Source::File(path) => image::open(&path)
                        .map_err(|e| format!("{}: {e}", path.display()))
                        .and_then(|img| data_url(&shrink(img.to_rgb8(), TILE_PX))),
                    Source::Pixels(img) => data_url(&img),
                    Source::Chart(path) => image::open(&path)
                        .map_err(|e| format!("{}: {e}", path.display()))
                        .and_then(|img| data_url(&shrink(img.to_rgb8(), CHART_PX))),
                };
                (key, url)
            })
            .collect();
        let mut urls = BTreeMap::new();
        let mut problems = Vec::new();
        for (key, r) in results {
            match r {
                Ok(url) => {
                    urls.insert(key, url);
                }
                Err(e) => problems.push(format!("image not shown: {e}")),
            }
        }
        (urls, problems)
    }
}

/// `img` scaled down (never up) so that its longer side is at most `max_px`.
#[must_use]
pub fn shrink(img: RgbImage, max_px: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    let long = w.max(h);
    if long <= max_px || long == 0 {
        return img;
    }
    let f = f64::from(max_px) / f64::from(long);
    let (nw, nh) =
        (((f64::from(w) * f).round() as u32).max(1), ((f64::from(h) * f).round() as u32).max(1));
    image::imageops::resize(&img, nw, nh, FilterType::Triangle)
}

/// A JPEG data URL of `img`.
fn data_url(img: &RgbImage) -> Result<String, String> {
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, QUALITY)
        .encode_image(img)
        .map_err(|e| format!("JPEG encoding failed: {e}"))?;
    Ok(format!("data:image/jpeg;base64,{}", base64::engine::general_purpose::STANDARD.encode(jpeg)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_png(dir: &Path, w: u32, h: u32, shade: u8) -> String {
        let img =
            RgbImage::from_fn(w, h, |x, y| image::Rgb([shade, (x % 256) as u8, (y % 256) as u8]));
        let mut png = Vec::new();
        image::codecs::png::PngEncoder::new(&mut png)
            .write_image(img.as_raw(), w, h, image::ExtendedColorType::Rgb8)
            .unwrap();
        let hash = format!("{:x}", Sha256::digest(&png));
        std::fs::create_dir_all(dir.join("images")).unwrap();
        std::fs::write(dir.join("images").join(format!("{hash}.png")), &png).unwrap();
        hash
    }

    use image::ImageEncoder as _;

    #[test]
    fn one_image_per_hash_across_attempts() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        let shared_a = write_png(&a, 1024, 768, 10);
        let shared_b = write_png(&b, 1024, 768, 10);
        assert_eq!(shared_a, shared_b, "same pixels, same hash");
        let other = write_png(&b, 300, 200, 200);

        let mut bank = ImageBank::new();
        let k1 = bank.transcript_image(&a, &shared_a).unwrap();
        let k2 = bank.transcript_image(&b, &shared_b).unwrap();
        let k3 = bank.transcript_image(&b, &other).unwrap();
        assert_eq!(k1, k2);
        assert_ne!(k1, k3);
        let bg = RgbImage::from_pixel(64, 64, image::Rgb([1, 2, 3]));
        let k4 = bank.pixels(bg.clone());
        assert_eq!(bank.pixels(bg), k4);
        assert_eq!((bank.len(), bank.uses()), (3, 5));

        let (urls, problems) = bank.encode();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(urls.len(), 3);
        // The big tile was shrunk to TILE_PX and re-encoded as JPEG.
        let b64 = urls[&k1].strip_prefix("data:image/jpeg;base64,").unwrap();
        let jpeg = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
        let img = image::load_from_memory(&jpeg).unwrap();
        assert_eq!((img.width(), img.height()), (TILE_PX, 384));
        // A small one keeps its size.
        let b64 = urls[&k3].strip_prefix("data:image/jpeg;base64,").unwrap();
        let img = image::load_from_memory(
            &base64::engine::general_purpose::STANDARD.decode(b64).unwrap(),
        )
        .unwrap();
        assert_eq!((img.width(), img.height()), (300, 200));
    }

    #[test]
    fn names_that_are_not_hashes_are_refused_and_missing_files_reported() {
        let tmp = tempfile::tempdir().unwrap();
        let mut bank = ImageBank::new();
        assert!(bank.transcript_image(tmp.path(), "../../etc/passwd").is_none());
        assert!(bank.transcript_image(tmp.path(), &"A".repeat(64)).is_none());
        assert!(bank.is_empty());
        let missing = "0".repeat(64);
        assert!(bank.transcript_image(tmp.path(), &missing).is_some());
        let (urls, problems) = bank.encode();
        assert!(urls.is_empty());
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains(&missing), "{problems:?}");
    }
}
