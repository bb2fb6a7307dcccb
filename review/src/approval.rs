//! Approval: the record of a review, written beside the run.
//!
//! `plan.reviewed.json` is a plan file (`breadcrumb check --sol SOL plan.reviewed.json` reads
//! it): the reviewed waypoints and the original plan's provenance, plus a `review` object with
//! the reviewer, their note, the time, every edit with its time, the original waypoints, and
//! both verdicts of the approved route. The reviewed drive sequence goes to
//! `sequence.reviewed.xml`, not `sequence.xml`: the run dossier's own `sequence.xml` is what
//! `breadcrumb verify` checks the dossier against (the proposed plan's twin drive), and
//! overwriting it with the edited route's would make a verified dossier fail verification.
//!
//! Each file is written to a temporary name in the same directory and renamed, so a reader
//! (or a Ctrl-C) never sees half a file; the server finishes an approval it has started
//! before it stops.

use std::path::{Path, PathBuf};

use breadcrumb_tools::checker::plan::Provenance;
use breadcrumb_tools::checker::Verdict;
use breadcrumb_tools::twin::TwinVerdict;
use serde::Serialize;

use crate::error::{Result, ReviewError};
use crate::session::{now, Approved, HistoryEntry, Point, Review};

/// The reviewed plan's file name.
pub const PLAN_FILE: &str = "plan.reviewed.json";

/// The reviewed drive sequence's file name (see the module's doc for why not `sequence.xml`).
pub const SEQUENCE_FILE: &str = "sequence.reviewed.xml";

/// Longest reviewer name and note accepted, characters.
pub const MAX_TEXT: usize = 4000;

/// `plan.reviewed.json`.
#[derive(Debug, Serialize)]
pub struct ReviewedPlan<'a> {
    /// The approved route, first waypoint at the start.
    pub waypoints: Vec<Point>,
    /// The original plan's provenance, unchanged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<&'a Provenance>,
    /// The review.
    pub review: ReviewRecord<'a>,
}

/// The `review` object of `plan.reviewed.json`.
#[derive(Debug, Serialize)]
pub struct ReviewRecord<'a> {
    /// Who approved.
    pub reviewer: &'a str,
    /// Their note.
    pub note: &'a str,
    /// When, RFC 3339 UTC.
    pub approved_at: String,
    /// The plan file reviewed.
    pub plan: String,
    /// The state's version approved.
    pub version: u64,
    /// The waypoints as proposed.
    pub original_waypoints: Vec<Point>,
    /// Every edit, with its time (undos and redos included).
    pub edits: &'a [HistoryEntry],
    /// The checker's verdict on the approved route.
    pub verdict: &'a Verdict,
    /// The twin's verdict on the approved route.
    pub twin_verdict: &'a TwinVerdict,
}

/// Approves the current state for `reviewer` with `note`: refuses with a
/// [`ReviewError::BadRequest`] when either is empty, with a [`ReviewError::Conflict`] when a
/// gate fails or `version` is given and is not the current one; otherwise writes
/// `plan.reviewed.json` and `sequence.reviewed.xml` into the review's output directory.
/// The state stays locked throughout, so no edit slips in between the check and the write.
pub fn approve(
    review: &Review,
    reviewer: &str,
    note: &str,
    version: Option<u64>,
) -> Result<Approved> {
    let (reviewer, note) = (reviewer.trim(), note.trim());
    if reviewer.is_empty() || note.is_empty() {
        return Err(ReviewError::BadRequest(
            "an approval needs the reviewer's name and a note".into(),
        ));
    }
    if reviewer.chars().count() > MAX_TEXT || note.chars().count() > MAX_TEXT {
        return Err(ReviewError::BadRequest(format!(
            "the reviewer's name and the note are limited to {MAX_TEXT} characters"
        )));
    }
    let mut st = review.lock();
    if let Some(v) = version {
        if v != st.version {
            return Err(ReviewError::Conflict(format!(
                "the plan changed while you looked: you approved version {v}, the current one \
                 is {}; look again and approve that",
                st.version
            )));
        }
    }
    let e = &st.evaluation;
    if !e.pass {
        let mut failed: Vec<String> =
            e.verdict.failed_rules().iter().map(|r| format!("checker {r}")).collect();
        failed.extend(e.twin.failed_rules().iter().map(|r| format!("twin {r}")));
        return Err(ReviewError::Conflict(format!(
            "cannot approve: the route fails {} (both gates must pass)",
            failed.join(", ")
        )));
    }
    let Some(xml) = e.sequence_xml.as_deref() else {
        return Err(ReviewError::Conflict("cannot approve: the twin made no sequence".into()));
    };
    let ctx = &review.ctx;
    let record = ReviewedPlan {
        waypoints: st.waypoints.iter().map(|&(x, y)| Point { x, y }).collect(),
        provenance: ctx.provenance(),
        review: ReviewRecord {
            reviewer,
            note,
            approved_at: now(),
            plan: ctx.plan_path.display().to_string(),
            version: st.version,
            original_waypoints: ctx
                .original
                .points()
                .iter()
                .map(|&(x, y)| Point { x, y })
                .collect(),
            edits: &st.history,
            verdict: &e.verdict,
            twin_verdict: &e.twin,
        },
    };
    let mut json = serde_json::to_string_pretty(&record)
        .map_err(|err| ReviewError::BadRequest(format!("cannot write the record: {err}")))?;
    json.push('\n');
    let time = record.review.approved_at.clone();
    let plan_path = ctx.out_dir.join(PLAN_FILE);
    let seq_path = ctx.out_dir.join(SEQUENCE_FILE);
    write_atomic(&seq_path, xml.as_bytes())?;
    write_atomic(&plan_path, json.as_bytes())?;
    let approved = Approved {
        reviewer: reviewer.to_owned(),
        time,
        version: st.version,
        files: vec![plan_path, seq_path],
    };
    st.version += 1;
    st.approved = Some(approved.clone());
    Ok(approved)
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp: PathBuf = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| ReviewError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        ReviewError::io(path, e)
    })
}

/// The reviewed route as GeoJSON: a LineString of the current waypoints and a numbered Point
/// for each, properties naming the sol, the version and whether both gates pass.
#[must_use]
pub fn route_geojson(review: &Review) -> String {
    let st = review.lock();
    let sol = &review.ctx.sol.sol.id;
    let line: Vec<[f64; 2]> = st.waypoints.iter().map(|&(x, y)| [x, y]).collect();
    let mut features = vec![serde_json::json!({
        "type": "Feature",
        "properties": {
            "sol": sol, "kind": "reviewed route", "version": st.version,
            "pass": st.evaluation.pass,
            "approved_by": st.approved.as_ref().map(|a| a.reviewer.clone()),
        },
        "geometry": {"type": "LineString", "coordinates": line},
    })];
    for (i, &(x, y)) in st.waypoints.iter().enumerate() {
        features.push(serde_json::json!({
            "type": "Feature",
            "properties": {"sol": sol, "kind": "waypoint", "index": i},
            "geometry": {"type": "Point", "coordinates": [x, y]},
        }));
    }
    let fc = serde_json::json!({"type": "FeatureCollection", "features": features});
    let mut s = serde_json::to_string_pretty(&fc).unwrap_or_default();
    s.push('\n');
    s
}
