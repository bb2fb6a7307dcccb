//! The plan dossier a run leaves beside its transcript: `plan.json` (waypoints + provenance),
//! `plan.geojson`, `verdict.json`, `overlay.png` (route, violations and the twin's wheel tracks
//! over the ortho image and the slope map), the digital twin's `twin.json` (its verdict),
//! `sequence.xml` / `sequence.json` (the drive sequence), `telemetry.csv`, `tracks.geojson` and
//! `twin.png` (its telemetry plot), `hazards.model.geojson` (the hazards the model marked, which
//! were keep-outs of the run's checks; an empty collection when it marked none), and what a
//! re-check needs: `sol.toml` and `rover.toml`, copies of the sol and the rover profile the run
//! used.
//!
//! # A dossier verifies itself
//!
//! `plan.json`'s provenance carries three hashes, all `sha256:<lowercase hex>`:
//!
//! - `bundle_hash`, the terrain bundle: SHA-256 of its `sha256sum` manifest, one line
//!   `<hex>  <path>\n` per file (the hex of the file's SHA-256, two spaces, its path relative to
//!   the bundle directory with `/` separators), every file under the directory (symlinks
//!   followed), lines sorted bytewise by path. So, for ordinary file names,
//!   `cd BUNDLE && find -L . -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 sha256sum |
//!   sha256sum` prints the same hex. The manifest itself goes beside it as `bundle_files`
//!   (path → `sha256:<hex>`), so a changed bundle names the file that changed.
//!
//!   A raster that `bundle.toml` names by GDAL virtual path (`/vsicurl/https://...`,
//!   `/vsis3/...`: a mission mosaic read over HTTP) is no file under the directory. It adds one
//!   line keyed by that path, whose value is `layout-sha256:<hex>`
//!   ([`breadcrumb_tools::terrain::bundle::raster_identity`]): a hash of its size, placement,
//!   CRS and block index, read from its header, not of its bytes, which would mean downloading
//!   the mosaic. The prefix says so in `bundle_files`; such a bundle's hash is no longer what
//!   `sha256sum` alone prints, and a block rewritten in place to the same compressed size
//!   would go unnoticed. A remote raster that cannot be reached or is not a GeoTIFF makes the
//!   bundle unhashable, with the reason, rather than hashed without it.
//! - `rover_hash`: SHA-256 of the rover profile file's bytes (`rover.toml` is a verbatim copy).
//! - `sol_hash`: SHA-256 of the sol's content, its compact JSON (`serde_json`, fields in the
//!   order of [`Sol`]) without `bundle` and `rover`: those are locations, and what they locate
//!   has its own hash. Comments, formatting and moving the files do not change it, and the copy
//!   `sol.toml` (whose `bundle` is rewritten to the bundle's absolute path, and `rover` to
//!   `rover.toml` beside it, so the copy loads from the dossier alone) has the hash of the
//!   original.
//!
//! - `marks_sha256` (under the provenance's extra fields): SHA-256 of `hazards.model.geojson`.
//!
//! [`recheck`] reads a dossier, refuses it when a copy or the bundle no longer has its hash,
//! runs the safety checker again (with the run's marks) and returns both verdicts for a byte-for-byte comparison
//! (`breadcrumb verify`).

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use breadcrumb_tools::api::Toolbox;
use breadcrumb_tools::checker::plan::Provenance;
use breadcrumb_tools::checker::{check_sol_with_marks, Plan, Pt, Verdict, CHECKER_VERSION};
use breadcrumb_tools::perception::{marks_file, Mark};
use breadcrumb_tools::render::{render_overlay_twin, RenderOptions, TwinOverlay};
use breadcrumb_tools::terrain::{LoadedSol, Sol};
use breadcrumb_tools::twin::plot::plot_png;
use breadcrumb_tools::twin::telemetry::wheel_tracks;
use breadcrumb_tools::twin::TwinRun;
use breadcrumb_tools::ToolsError;
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

/// The dossier's copy of the sol.
pub const SOL_FILE: &str = "sol.toml";
/// The twin's verdict in a dossier.
pub const TWIN_FILE: &str = breadcrumb_tools::twin::VERDICT_FILE;
/// The twin's telemetry plot in a dossier.
pub const TWIN_PLOT_FILE: &str = "twin.png";
/// The dossier's copy of the rover profile.
pub const ROVER_FILE: &str = "rover.toml";

/// Most directory levels a bundle may nest (a guard against symlink loops).
const MAX_DEPTH: usize = 16;

/// An I/O error that names the path it happened on.
fn io_at(path: &Path, e: &std::io::Error) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// `sha256:<hex>` of a file's bytes, streamed (a 2 GB mosaic costs seconds, not memory).
pub fn file_sha256(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path).map_err(|e| io_at(path, &e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(|e| io_at(path, &e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(format!("sha256:{:x}", h.finalize()))
}

/// A file's identity for [`cached_file_sha256`]: device, inode, size, and modification and
/// change times to the nanosecond.
type Stamp = (u64, u64, u64, i64, i64, i64, i64);

fn stamp(meta: &std::fs::Metadata) -> Stamp {
    use std::os::unix::fs::MetadataExt;
    (
        meta.dev(),
        meta.ino(),
        meta.size(),
        meta.mtime(),
        meta.mtime_nsec(),
        meta.ctime(),
        meta.ctime_nsec(),
    )
}

/// Files younger than this (by change time) are never served from the cache: the kernel's
/// file times tick in milliseconds, so a file rewritten to the same size within one tick of
/// being hashed would keep its stamp (git's "racy clean" problem).
const RACY_S: i64 = 2;

/// Hashes this process has made, by path, with the stamp of the file they were made from.
static HASHED: std::sync::Mutex<BTreeMap<PathBuf, (Stamp, String)>> =
    std::sync::Mutex::new(BTreeMap::new());

/// [`file_sha256`], remembered for the life of the process while the file's [`Stamp`] stays the
/// same. A campaign writes one dossier per sol over the same bundle and hashes it twice per
/// sol (at the start, and again at the end to catch a bundle changed during the run): on a
/// 67 km² site that was 780 MB read per sol. A file that was written to, renamed over or
/// touched has another stamp (its change time moves, and no user can set that back) and is
/// read again, so the dossier still names a file changed during a run.
pub fn cached_file_sha256(path: &Path) -> std::io::Result<String> {
    cached_sha256_with(path, RACY_S)
}

fn cached_sha256_with(path: &Path, racy_s: i64) -> std::io::Result<String> {
    let before = stamp(&std::fs::metadata(path).map_err(|e| io_at(path, &e))?);
    let key = path.to_path_buf();
    if let Some((st, sum)) =
        HASHED.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&key)
    {
        if *st == before {
            return Ok(sum.clone());
        }
    }
    let sum = file_sha256(path)?;
    let after = stamp(&std::fs::metadata(path).map_err(|e| io_at(path, &e))?);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    // Only a file that did not change while it was read, and is not racy, is remembered.
    if after == before && now - after.5 > racy_s {
        HASHED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key, (after, sum.clone()));
    }
    Ok(sum)
}

/// `sha256:<hex>` of `bytes`.
#[must_use]
pub fn bytes_sha256(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// The files of a terrain bundle and the hash of each (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BundleManifest {
    /// Relative path (`/`-separated) → `sha256:<hex>` of the file's bytes, sorted by path.
    pub files: BTreeMap<String, String>,
}

/// One difference between a recorded bundle manifest and the bundle as it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// The file, relative to the bundle.
    pub path: String,
    /// Its hash when recorded (`None`: the file is new).
    pub recorded: Option<String>,
    /// Its hash now (`None`: the file is gone).
    pub now: Option<String>,
}

impl fmt::Display for FileChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.recorded, &self.now) {
            (Some(a), Some(b)) => write!(f, "{} was {a}, is now {b}", self.path),
            (Some(a), None) => write!(f, "{} (was {a}) is gone", self.path),
            (None, Some(b)) => write!(f, "{} ({b}) is new", self.path),
            (None, None) => write!(f, "{}", self.path),
        }
    }
}

/// The changes, `; `-separated, for one-line messages.
#[must_use]
pub fn describe_changes(changes: &[FileChange]) -> String {
    changes.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

impl BundleManifest {
    /// Hashes every file under `dir`, and identifies every raster its `bundle.toml` names by
    /// GDAL virtual path (see the module docs for which files and how).
    pub fn of(dir: &Path) -> std::io::Result<BundleManifest> {
        let mut files = BTreeMap::new();
        collect(dir, "", 0, &mut files)?;
        let remote = breadcrumb_tools::terrain::bundle::virtual_rasters(dir)
            .map_err(std::io::Error::other)?;
        for (key, path) in remote {
            let id = breadcrumb_tools::terrain::bundle::raster_identity(&path).map_err(|e| {
                std::io::Error::other(format!("the bundle's `{key}` cannot be identified: {e}"))
            })?;
            files.insert(path, id);
        }
        Ok(BundleManifest { files })
    }

    /// The bundle hash: `sha256:` + SHA-256 of the `sha256sum` manifest text.
    #[must_use]
    pub fn hash(&self) -> String {
        let mut h = Sha256::new();
        for (path, sum) in &self.files {
            h.update(sum.strip_prefix("sha256:").unwrap_or(sum).as_bytes());
            h.update(b"  ");
            h.update(path.as_bytes());
            h.update(b"\n");
        }
        format!("sha256:{:x}", h.finalize())
    }

    /// What differs from `self` (as recorded) in `now`, by path.
    #[must_use]
    pub fn changes(&self, now: &BundleManifest) -> Vec<FileChange> {
        let mut paths: Vec<&String> = self.files.keys().chain(now.files.keys()).collect();
        paths.sort();
        paths.dedup();
        paths
            .into_iter()
            .filter_map(|p| {
                let (a, b) = (self.files.get(p), now.files.get(p));
                (a != b).then(|| FileChange {
                    path: p.clone(),
                    recorded: a.cloned(),
                    now: b.cloned(),
                })
            })
            .collect()
    }
}

fn collect(
    dir: &Path,
    prefix: &str,
    depth: usize,
    out: &mut BTreeMap<String, String>,
) -> std::io::Result<()> {
    if depth > MAX_DEPTH {
        return Err(std::io::Error::other(format!(
            "{}: more than {MAX_DEPTH} directory levels (a symlink loop?)",
            dir.display()
        )));
    }
    for entry in std::fs::read_dir(dir).map_err(|e| io_at(dir, &e))? {
        let entry = entry.map_err(|e| io_at(dir, &e))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
        // `metadata` follows symlinks: a linked file counts with the bytes it points at.
        let meta = std::fs::metadata(&path).map_err(|e| io_at(&path, &e))?;
        if meta.is_dir() {
            collect(&path, &rel, depth + 1, out)?;
        } else if meta.is_file() {
            out.insert(rel, cached_file_sha256(&path)?);
        }
    }
    Ok(())
}

/// The bundle hash of directory `dir` (see the module docs), so a plan names exactly the
/// terrain it was checked on.
pub fn bundle_hash(dir: &Path) -> std::io::Result<String> {
    Ok(BundleManifest::of(dir)?.hash())
}

/// The sol's content hash (see the module docs): its compact JSON without `bundle` and `rover`.
#[must_use]
pub fn sol_hash(sol: &Sol) -> String {
    let mut v = serde_json::to_value(sol).unwrap_or_default();
    if let Some(m) = v.as_object_mut() {
        m.remove("bundle");
        m.remove("rover");
    }
    bytes_sha256(v.to_string().as_bytes())
}

/// Records in `prov` the hashes that name a plan's inputs: the sol's content, the terrain
/// bundle (with its files' manifest) and the rover profile's bytes. The one place both a run's
/// dossier and `breadcrumb plan` stamp them, so `check` and `verify` read the same fields.
/// A `None` input (it could not be read) leaves its fields empty.
pub fn record_inputs(
    prov: &mut Provenance,
    sol: &Sol,
    manifest: Option<BundleManifest>,
    rover: Option<&[u8]>,
) {
    prov.sol_hash = Some(sol_hash(sol));
    prov.bundle_hash = manifest.as_ref().map(BundleManifest::hash);
    prov.bundle_files = manifest.map(|m| m.files);
    prov.rover_hash = rover.map(bytes_sha256);
}

/// The dossier's `sol.toml`: the sol with `bundle` made absolute and `rover` pointing at the
/// copied profile beside it, under a comment naming the original. `None` (with a warning) when
/// the bundle path has no UTF-8 form TOML can hold.
fn sol_copy(sol: &LoadedSol) -> Option<String> {
    let bundle = std::fs::canonicalize(&sol.bundle_dir)
        .or_else(|_| std::path::absolute(&sol.bundle_dir))
        .unwrap_or_else(|_| sol.bundle_dir.clone());
    let mut copy = sol.sol.clone();
    copy.bundle = bundle;
    copy.rover = PathBuf::from(ROVER_FILE);
    match toml::to_string(&copy) {
        Ok(body) => Some(format!(
            "# The sol of this run, copied from {} for `breadcrumb verify`: `bundle` is the\n\
             # absolute path of the terrain it was planned on, `rover` the profile copied beside it.\n\
             {body}",
            sol.path.display()
        )),
        Err(e) => {
            tracing::warn!("{SOL_FILE} not written to the dossier: {e}");
            None
        }
    }
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
    twin: &TwinRun,
    src: &Source<'_>,
) -> Result<(), TranscriptError> {
    let accepted = verdict.pass && twin.verdict.pass;
    let mut plan = Plan::from_points(points);
    let mut extra = serde_json::Map::new();
    extra.insert("run_id".into(), w.run_id().into());
    extra.insert("model_id".into(), src.model_id.into());
    extra.insert("tools_version".into(), crate::tools_version().into());
    extra.insert("accepted".into(), accepted.into());
    // The run's hazard marks were keep-outs of its checks: `verify` re-checks with them, and
    // refuses a marks file that no longer has this hash.
    let marks = marks_file::to_geojson(&toolbox.marks());
    extra.insert(MARKS_HASH_FIELD.into(), bytes_sha256(marks.as_bytes()).into());
    let manifest = BundleManifest::of(&sol.bundle_dir)
        .inspect_err(|e| tracing::warn!("terrain bundle not hashed: {e}"))
        .ok();
    let rover = std::fs::read(&sol.rover_path)
        .inspect_err(|e| {
            tracing::warn!("{}: rover profile not copied: {e}", sol.rover_path.display());
        })
        .ok();
    let mut provenance = Provenance {
        sol: Some(sol.sol.id.clone()),
        rover: Some(toolbox.profile().name.clone()),
        model: Some(src.model.to_owned()),
        provider: Some(src.provider.to_owned()),
        prompt: Some(src.prompt.manifest.name.clone()),
        prompt_hash: Some(src.prompt.hash.clone()),
        checker_version: Some(CHECKER_VERSION.to_owned()),
        created: Some(rfc3339_now()),
        extra,
        ..Provenance::default()
    };
    record_inputs(&mut provenance, &sol.sol, manifest, rover.as_deref());
    plan.provenance = Some(provenance);
    let text = serde_json::to_string_pretty(&plan).unwrap_or_default() + "\n";
    w.file("plan.json", text.as_bytes())?;
    w.file("plan.geojson", plan_geojson(points, accepted).as_bytes())?;
    w.file("verdict.json", verdict.to_json().as_bytes())?;
    w.file(marks_file::FILE, marks.as_bytes())?;
    let kinematics = toolbox.profile().kinematics.as_ref();
    for (name, bytes) in twin.files(kinematics) {
        w.file(name, &bytes)?;
    }
    let tracks = kinematics.map(|k| wheel_tracks(k, &twin.telemetry)).unwrap_or_default();
    if let Some(k) = kinematics.filter(|_| twin.sequence.is_some()) {
        match plot_png(k, &twin.telemetry, &twin.verdict) {
            Ok(png) => {
                w.file(TWIN_PLOT_FILE, &png)?;
            }
            Err(e) => tracing::warn!("twin plot not rendered: {e}"),
        }
    }
    if let Some(copy) = sol_copy(sol) {
        w.file(SOL_FILE, copy.as_bytes())?;
    }
    if let Some(bytes) = &rover {
        w.file(ROVER_FILE, bytes)?;
    }
    let twin_overlay = TwinOverlay { verdict: &twin.verdict, tracks: &tracks };
    match render_overlay_twin(
        toolbox.bundle(),
        &sol.sol,
        points,
        Some(verdict),
        Some(&twin_overlay),
        &toolbox.mark_records(),
        &RenderOptions::default(),
    ) {
        Ok(png) => {
            w.file("overlay.png", &png)?;
        }
        Err(e) => tracing::warn!("overlay not rendered: {e}"),
    }
    Ok(())
}

/// Why a dossier could not be re-checked.
#[derive(Debug, thiserror::Error)]
pub enum DossierError {
    /// A file of the dossier cannot be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The plan predates self-verifying dossiers, or its provenance was edited.
    #[error("{}: provenance has no `{field}`, so the plan cannot be re-checked (dossiers made before `breadcrumb verify` lack it: propose the sol again)", path.display())]
    Unverifiable {
        /// The plan file.
        path: PathBuf,
        /// The missing provenance field.
        field: &'static str,
    },
    /// A copy in the dossier no longer has the hash the run recorded.
    #[error("{} changed since the run: provenance records {recorded}, the file is now {now}", path.display())]
    Changed {
        /// The copy.
        path: PathBuf,
        /// The hash in the provenance.
        recorded: String,
        /// The hash now.
        now: String,
    },
    /// The bundle the sol names is not there.
    #[error("terrain bundle {} is missing (the dossier's sol.toml names it; give --bundle DIR if it moved)", dir.display())]
    BundleMissing {
        /// Where the bundle should be.
        dir: PathBuf,
    },
    /// The bundle is not the one the plan was checked on.
    #[error("terrain bundle {} changed since the run: {} (bundle hash {recorded} recorded, {now} now)", dir.display(), describe_changes(changes))]
    BundleChanged {
        /// The bundle directory.
        dir: PathBuf,
        /// The files that differ.
        changes: Vec<FileChange>,
        /// The recorded bundle hash.
        recorded: String,
        /// The bundle hash now.
        now: String,
    },
    /// The dossier's plan, sol or rover cannot be loaded, or the checker failed.
    #[error(transparent)]
    Tools(#[from] ToolsError),
}

/// What re-checking a dossier found: both verdicts, and what they were checked against.
#[derive(Debug, Clone)]
pub struct Recheck {
    /// The sol's id.
    pub sol_id: String,
    /// The sol's content hash (as recorded, and found).
    pub sol_hash: String,
    /// The rover profile's name.
    pub rover: String,
    /// The rover profile's hash (as recorded, and found).
    pub rover_hash: String,
    /// The bundle re-checked against.
    pub bundle_dir: PathBuf,
    /// Its hash (as recorded, and found).
    pub bundle_hash: String,
    /// How many files it has.
    pub bundle_files: usize,
    /// The checker version that wrote `verdict.json`, when the plan says.
    pub checker_then: Option<String>,
    /// `verdict.json` as the run wrote it.
    pub recorded: String,
    /// The new verdict's JSON.
    pub now: String,
    /// Whether the new verdict passes.
    pub pass: bool,
    /// `twin.json` as the run wrote it (`None`: the dossier predates the twin).
    pub twin_recorded: Option<String>,
    /// The twin's new verdict JSON.
    pub twin_now: String,
    /// Whether the twin's new verdict passes.
    pub twin_pass: bool,
}

impl Recheck {
    /// Whether the new checker verdict is byte-identical to `verdict.json`, and the twin's to
    /// `twin.json` when the dossier has one.
    #[must_use]
    pub fn identical(&self) -> bool {
        self.recorded == self.now && self.twin_recorded.as_ref().is_none_or(|t| *t == self.twin_now)
    }
}

/// Provenance field (under `extra`) with the SHA-256 of the run's `hazards.model.geojson`.
pub const MARKS_HASH_FIELD: &str = "marks_sha256";

/// The run's marks from its `hazards.model.geojson`, after checking the file still has the
/// hash the plan recorded. A dossier from before marks has neither file nor hash: no marks.
/// A recorded hash with the file gone is a change, not "no marks": deleting the file must
/// not let a plan pass that its run refused.
fn read_marks(dir: &Path, prov: &Provenance) -> Result<Vec<Mark>, DossierError> {
    let path = dir.join(marks_file::FILE);
    let want = prov.extra.get(MARKS_HASH_FIELD).and_then(serde_json::Value::as_str);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && want.is_none() => {
            return Ok(Vec::new())
        }
        Err(source) => return Err(DossierError::Io { path, source }),
    };
    let now = bytes_sha256(text.as_bytes());
    match want {
        Some(w) if w == now => {}
        Some(w) => {
            return Err(DossierError::Changed { path, recorded: w.to_owned(), now });
        }
        None => {
            return Err(DossierError::Unverifiable {
                path: dir.join("plan.json"),
                field: MARKS_HASH_FIELD,
            })
        }
    }
    Ok(marks_file::from_geojson(&text)?)
}

fn required<'a>(
    v: Option<&'a String>,
    path: &Path,
    field: &'static str,
) -> Result<&'a String, DossierError> {
    v.ok_or_else(|| DossierError::Unverifiable { path: path.to_path_buf(), field })
}

/// Re-checks the plan of dossier `dir` from the dossier alone: its `plan.json`, `sol.toml`
/// and `rover.toml`, and the bundle the sol names (or `bundle`, when given). Refuses with
/// [`DossierError::Changed`], [`DossierError::BundleMissing`] or
/// [`DossierError::BundleChanged`] when a copy or the bundle lacks its recorded hash.
pub fn recheck(dir: &Path, bundle: Option<&Path>) -> Result<Recheck, DossierError> {
    let plan_path = dir.join("plan.json");
    let plan = Plan::load(&plan_path)?;
    let empty = Provenance::default();
    let prov = plan.provenance.as_ref().unwrap_or(&empty);
    let want_sol = required(prov.sol_hash.as_ref(), &plan_path, "sol_hash")?;
    let want_rover = required(prov.rover_hash.as_ref(), &plan_path, "rover_hash")?;
    let want_bundle = required(prov.bundle_hash.as_ref(), &plan_path, "bundle_hash")?;
    let recorded_files = BundleManifest {
        files: prov.bundle_files.clone().ok_or_else(|| DossierError::Unverifiable {
            path: plan_path.clone(),
            field: "bundle_files",
        })?,
    };

    let mut sol = Sol::load(&dir.join(SOL_FILE))?;
    let found = sol_hash(&sol.sol);
    if found != *want_sol {
        return Err(DossierError::Changed {
            path: sol.path.clone(),
            recorded: want_sol.clone(),
            now: found,
        });
    }
    let found = file_sha256(&sol.rover_path)
        .map_err(|source| DossierError::Io { path: sol.rover_path.clone(), source })?;
    if found != *want_rover {
        return Err(DossierError::Changed {
            path: sol.rover_path.clone(),
            recorded: want_rover.clone(),
            now: found,
        });
    }
    if let Some(b) = bundle {
        sol.bundle_dir = b.to_path_buf();
    }
    if !sol.bundle_dir.is_dir() {
        return Err(DossierError::BundleMissing { dir: sol.bundle_dir.clone() });
    }
    let manifest = BundleManifest::of(&sol.bundle_dir)
        .map_err(|source| DossierError::Io { path: sol.bundle_dir.clone(), source })?;
    let found = manifest.hash();
    if found != *want_bundle {
        return Err(DossierError::BundleChanged {
            dir: sol.bundle_dir.clone(),
            changes: recorded_files.changes(&manifest),
            recorded: want_bundle.clone(),
            now: found,
        });
    }

    let verdict_path = dir.join("verdict.json");
    let recorded = std::fs::read_to_string(&verdict_path)
        .map_err(|source| DossierError::Io { path: verdict_path, source })?;
    let profile = breadcrumb_tools::terrain::RoverProfile::load(&sol.rover_path)?;
    let bundle = breadcrumb_tools::terrain::Bundle::open(&sol.bundle_dir)?;
    let marks = read_marks(dir, prov)?;
    let verdict = check_sol_with_marks(&bundle, &profile, &sol.sol, &plan, &marks)?;
    let twin_path = dir.join(TWIN_FILE);
    let twin_recorded = match std::fs::read_to_string(&twin_path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => return Err(DossierError::Io { path: twin_path, source }),
    };
    let pts = plan.points();
    let twin = breadcrumb_tools::twin::run_on_dem(
        &profile,
        &bundle.dem,
        &pts,
        Some(sol.sol.start.heading_deg),
        &sol.sol.id,
    );
    Ok(Recheck {
        sol_id: sol.sol.id.clone(),
        sol_hash: want_sol.clone(),
        rover: verdict.rover.clone(),
        rover_hash: want_rover.clone(),
        bundle_dir: sol.bundle_dir,
        bundle_hash: found,
        bundle_files: manifest.files.len(),
        checker_then: prov.checker_version.clone(),
        recorded,
        now: verdict.to_json(),
        pass: verdict.pass,
        twin_recorded,
        twin_now: twin.verdict.to_json(),
        twin_pass: twin.verdict.pass,
    })
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

    #[test]
    fn a_remembered_hash_is_served_only_while_the_file_is_unchanged() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("dem.tif");
        std::fs::write(&f, "aaaa").unwrap();
        // With no racy window, the first hash is remembered at once.
        let first = cached_sha256_with(&f, -1).unwrap();
        assert_eq!(first, file_sha256(&f).unwrap());
        assert!(HASHED.lock().unwrap().get(&f).is_some_and(|(_, s)| *s == first));
        assert_eq!(cached_sha256_with(&f, -1).unwrap(), first);
        // Rewritten in place to the same size a clock tick later: its change time moves, so
        // the file is read again and the new bytes are hashed.
        std::thread::sleep(std::time::Duration::from_millis(50));
        std::fs::write(&f, "bbbb").unwrap();
        let second = cached_sha256_with(&f, -1).unwrap();
        assert_ne!(second, first);
        assert_eq!(second, file_sha256(&f).unwrap());
        // A file just written is racy: hashed but not remembered.
        let g = tmp.path().join("ortho.tif");
        std::fs::write(&g, "cccc").unwrap();
        assert_eq!(cached_file_sha256(&g).unwrap(), file_sha256(&g).unwrap());
        assert!(HASHED.lock().unwrap().get(&g).is_none());
    }

    #[test]
    fn the_bundle_hash_is_the_sha256sum_manifest_hash() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        std::fs::create_dir(d.join("a")).unwrap();
        std::fs::write(d.join("b.txt"), "bee\n").unwrap();
        std::fs::write(d.join("dem.tif"), "x").unwrap();
        std::fs::write(d.join("a/c.bin"), [0u8, 1, 2]).unwrap();
        std::fs::write(d.join("B.toml"), "z").unwrap();
        let m = BundleManifest::of(d).unwrap();
        let paths: Vec<&str> = m.files.keys().map(String::as_str).collect();
        assert_eq!(paths, ["B.toml", "a/c.bin", "b.txt", "dem.tif"], "bytewise order");
        // Computed by coreutils, not by this code: `cd DIR && find -L . -type f -printf '%P\0'
        // | LC_ALL=C sort -z | xargs -0 sha256sum` (and `| sha256sum` for the bundle hash).
        assert_eq!(
            m.files["dem.tif"],
            "sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
        );
        assert_eq!(
            m.hash(),
            "sha256:13d1ee5780c7d5e39f600ee11bcd547d198869ec660dbc9e6862ee9c3b76f1a4"
        );
        assert_eq!(bundle_hash(d).unwrap(), m.hash());

        // One byte changed, a file added, one removed: each is named with both hashes.
        std::fs::write(d.join("dem.tif"), "y").unwrap();
        std::fs::write(d.join("new.geojson"), "{}").unwrap();
        std::fs::remove_file(d.join("b.txt")).unwrap();
        let now = BundleManifest::of(d).unwrap();
        assert_ne!(now.hash(), m.hash());
        let changes = m.changes(&now);
        let named: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(named, ["b.txt", "dem.tif", "new.geojson"]);
        let text = describe_changes(&changes);
        assert!(
            text.contains(&format!(
                "dem.tif was {}, is now {}",
                m.files["dem.tif"], now.files["dem.tif"]
            )),
            "{text}"
        );
        assert!(text.contains("b.txt (was sha256:") && text.contains("is gone"), "{text}");
        assert!(text.contains("new.geojson (sha256:") && text.contains("is new"), "{text}");
        assert!(BundleManifest::of(&d.join("nope")).unwrap_err().to_string().contains("nope"));
    }

    #[test]
    fn a_remote_raster_is_identified_by_its_layout_and_named_when_it_changes() {
        use breadcrumb_tools::terrain::raster_io::write_f32_geotiff;
        use breadcrumb_tools::terrain::{GeoTransform, Grid};
        let tmp = tempfile::tempdir().unwrap();
        let (bundle, store) = (tmp.path().join("bundle"), tmp.path().join("store"));
        std::fs::create_dir(&bundle).unwrap();
        std::fs::create_dir(&store).unwrap();
        let t = GeoTransform { x0: 0.0, y0: 300.0, dx: 1.0, dy: -1.0 };
        let write = |k: f64| {
            let g = Grid::from_fn(300, 300, t, |x, y| (k * (x * 0.37).sin() * y) as f32);
            write_f32_geotiff(&store.join("dem.tif"), &g, "", -32767.0).unwrap();
        };
        write(1.0);
        // A GDAL virtual path that needs no server (`/vsisubfile/` of the whole file), standing
        // in for `/vsicurl/`: the same code path names and identifies it.
        let remote = format!("/vsisubfile/0_0,{}", store.join("dem.tif").display());
        std::fs::write(bundle.join("bundle.toml"), format!("dem = \"{remote}\"\n")).unwrap();
        let m = BundleManifest::of(&bundle).unwrap();
        let paths: Vec<&str> = m.files.keys().map(String::as_str).collect();
        assert_eq!(paths, [remote.as_str(), "bundle.toml"]);
        assert!(m.files[&remote].starts_with("layout-sha256:"), "{}", m.files[&remote]);
        assert_eq!(BundleManifest::of(&bundle).unwrap(), m, "the same raster, the same hash");
        // Other values, other compressed blocks: the raster is named as changed.
        write(2.0);
        let now = BundleManifest::of(&bundle).unwrap();
        let named: Vec<String> = m.changes(&now).into_iter().map(|c| c.path).collect();
        assert_eq!(named, [remote]);
        // A raster that cannot be reached leaves the bundle unhashed, saying which.
        let gone = "/vsicurl/http://127.0.0.1:1/nope.tif";
        std::fs::write(bundle.join("bundle.toml"), format!("dem = \"{gone}\"\n")).unwrap();
        let e = BundleManifest::of(&bundle).unwrap_err().to_string();
        assert!(e.contains("`dem` cannot be identified") && e.contains("nope.tif"), "{e}");
    }

    #[test]
    fn the_sol_copy_resolves_the_same_bundle_and_keeps_the_sol_hash() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/sols/plains-02-keepout.toml");
        let sol = Sol::load(&path).unwrap();
        let copy = sol_copy(&sol).unwrap();
        assert!(copy.starts_with("# The sol of this run, copied from"), "{copy}");
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join(SOL_FILE), &copy).unwrap();
        let again = Sol::load(&tmp.path().join(SOL_FILE)).unwrap();
        assert_eq!(
            std::fs::canonicalize(&again.bundle_dir).unwrap(),
            std::fs::canonicalize(&sol.bundle_dir).unwrap()
        );
        assert_eq!(again.rover_path, tmp.path().join(ROVER_FILE));
        assert_eq!(sol_hash(&again.sol), sol_hash(&sol.sol));
        assert!(sol_hash(&sol.sol).starts_with("sha256:"));
        // Every number and zone survived the round trip; a changed goal is a changed sol.
        let mut moved = again.sol.clone();
        moved.bundle = sol.sol.bundle.clone();
        moved.rover = sol.sol.rover.clone();
        assert_eq!(moved, sol.sol);
        moved.goal.x += 0.001;
        assert_ne!(sol_hash(&moved), sol_hash(&sol.sol));
    }
}
