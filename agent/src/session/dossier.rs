//! The plan dossier a run leaves beside its transcript: `plan.json` (waypoints + provenance),
//! `plan.geojson`, `verdict.json` and `overlay.png` (route and violations over the ortho image
//! and the slope map).

use std::io::Read;
use std::path::Path;

use breadcrumb_tools::api::Toolbox;
use breadcrumb_tools::checker::plan::Provenance;
use breadcrumb_tools::checker::{Plan, Pt, Verdict, CHECKER_VERSION};
use breadcrumb_tools::render::{render_overlay_with, RenderOptions};
use breadcrumb_tools::terrain::LoadedSol;
use geojson::{Feature, FeatureCollection, Geometry, Value as GeoValue};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::prompt::PromptSet;
use crate::transcript::{RunWriter, TranscriptError};

/// Who made the plan.
pub(super) struct Source<'a> {
    pub model: &'a str,
    pub provider: &'a str,
    pub model_id: &'a str,
    pub prompt: &'a PromptSet,
}

/// `sha256:<hex>` over every file of a terrain bundle directory (names and bytes, sorted by
/// name), so a plan names exactly the terrain it was checked on. Streams the files: a 2 GB
/// mosaic costs a couple of seconds, not memory.
pub fn bundle_hash(dir: &Path) -> std::io::Result<String> {
    let mut names: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name())
        .collect();
    names.sort();
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    for name in names {
        let bytes = name.to_string_lossy();
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes.as_bytes());
        let mut f = std::fs::File::open(dir.join(&name))?;
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
    }
    Ok(format!("sha256:{:x}", h.finalize()))
}

/// Now as RFC 3339 UTC to the second (`2026-11-24T08:15:02Z`).
pub(super) fn rfc3339_now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// The plan as GeoJSON: the route as a LineString and each waypoint as a numbered Point.
#[must_use]
pub fn plan_geojson(points: &[Pt], pass: bool) -> String {
    let mut features = vec![Feature {
        geometry: Some(Geometry::new(GeoValue::LineString(
            points.iter().map(|p| vec![p.0, p.1]).collect(),
        ))),
        properties: json!({"kind": "route", "pass": pass}).as_object().cloned(),
        ..Feature::default()
    }];
    for (i, p) in points.iter().enumerate() {
        features.push(Feature {
            geometry: Some(Geometry::new(GeoValue::Point(vec![p.0, p.1]))),
            properties: json!({"kind": "waypoint", "index": i}).as_object().cloned(),
            ..Feature::default()
        });
    }
    FeatureCollection { features, bbox: None, foreign_members: None }.to_string()
}

/// Writes the dossier of the last submitted route.
pub(super) fn write(
    w: &RunWriter,
    sol: &LoadedSol,
    toolbox: &Toolbox,
    points: &[Pt],
    verdict: &Verdict,
    src: &Source<'_>,
) -> Result<(), TranscriptError> {
    let mut plan = Plan::from_points(points);
    let mut extra = serde_json::Map::new();
    extra.insert("run_id".into(), w.run_id().into());
    extra.insert("model_id".into(), src.model_id.into());
    extra.insert("tools_version".into(), crate::tools_version().into());
    extra.insert("accepted".into(), verdict.pass.into());
    plan.provenance = Some(Provenance {
        sol: Some(sol.sol.id.clone()),
        bundle_hash: bundle_hash(&sol.bundle_dir).ok(),
        rover: Some(toolbox.profile().name.clone()),
        model: Some(src.model.to_owned()),
        provider: Some(src.provider.to_owned()),
        prompt: Some(src.prompt.manifest.name.clone()),
        prompt_hash: Some(src.prompt.hash.clone()),
        checker_version: Some(CHECKER_VERSION.to_owned()),
        created: Some(rfc3339_now()),
        extra,
    });
    let text = serde_json::to_string_pretty(&plan).unwrap_or_default() + "\n";
    w.file("plan.json", text.as_bytes())?;
    w.file("plan.geojson", plan_geojson(points, verdict.pass).as_bytes())?;
    w.file("verdict.json", verdict.to_json().as_bytes())?;
    match render_overlay_with(
        toolbox.bundle(),
        &sol.sol,
        points,
        Some(verdict),
        &RenderOptions::default(),
    ) {
        Ok(png) => {
            w.file("overlay.png", &png)?;
        }
        Err(e) => tracing::warn!("overlay not rendered: {e}"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_rfc3339_and_geojson_is_valid() {
        let d = rfc3339_now();
        assert_eq!(d.len(), 20);
        assert!(d.starts_with("20") && d.ends_with('Z') && d.as_bytes()[10] == b'T', "{d}");
        let g: geojson::GeoJson = plan_geojson(&[(0.0, 1.0), (2.0, 3.0)], true).parse().unwrap();
        let geojson::GeoJson::FeatureCollection(fc) = g else { panic!("not a collection") };
        assert_eq!(fc.features.len(), 3);
    }
}
