//! The model-facing tool API: what a vision-language model may ask about the terrain, as typed
//! tools with JSON Schemas.
//!
//! Each tool is a module with one argument type (`serde` + `schemars::JsonSchema`; its doc
//! comment is the tool's description and its fields' doc comments are what the model reads
//! about each argument) and one result type. [`Toolbox`] holds one sol's terrain and dispatches
//! a call given the tool's name and raw JSON arguments. Every failure is a structured
//! [`ToolCallError`] the model can act on (which field is wrong, which point is off the map),
//! never a panic: a model's arguments are untrusted input.
//!
//! Units are in field names (`x_m`, `max_tilt_deg`) so a model never has to guess them.

mod args;
pub mod candidates;
pub mod check_route;
pub mod elevation_profile;
mod error;
pub mod hazard_lookup;
pub mod mark_hazards;
pub mod path_cost;
pub mod slope_query;
pub mod submit_route;
pub mod view_tile;

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Serialize;

pub use self::args::{finite_waypoints, resolve_point, waypoints_on_map, PointM, ResolvedPoint};
pub use self::candidates::Candidate;
pub use self::error::ToolCallError;
use crate::checker::{Checker, Mission, Pt};
use crate::cost::{build_cost_grid, CostGrid};
use crate::error::Result;
use crate::geometry::{Zone, ZoneIndex};
use crate::perception::classify::{classify, ClassMap};
use crate::perception::Mark;
use crate::terrain::{Bundle, Hazard, LoadedSol, RoverProfile};
use crate::tiles::Frame;

/// Most tiles a toolbox remembers for pointing (the oldest is forgotten first). A run shows
/// tens; evals share a toolbox between attempts, so this is generous, and a frame is small.
pub const MAX_SHOWN_TILES: usize = 4096;

/// The tiles shown, by id: their exact footprints, and their candidates once computed.
#[derive(Debug, Default)]
struct ShownTiles {
    /// Ids in the order first shown.
    order: VecDeque<String>,
    /// Footprint and candidates by id.
    tiles: HashMap<String, (Frame, Option<Vec<Candidate>>)>,
}

/// A tool's name, description and argument schema, as every provider wants them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolSpec {
    /// The name the model calls it by.
    pub name: &'static str,
    /// What it does and when to use it (the argument type's doc comment).
    pub description: String,
    /// JSON Schema (draft 2020-12, subschemas inlined) of the arguments object.
    pub input_schema: serde_json::Value,
}

/// An image a tool returns (the model sees it; the JSON result describes it), encoded twice:
/// lossless for files people look at, and as the smaller JPEG models are sent.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolImage {
    /// PNG bytes (run directories, `tools call --out`).
    pub png: Vec<u8>,
    /// The same pixels as JPEG at [`crate::tiles::MODEL_JPEG_QUALITY`] (what a model is sent).
    pub jpeg: Vec<u8>,
    /// Pixel width.
    pub width: u32,
    /// Pixel height.
    pub height: u32,
}

/// What a successful call returns.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutput {
    /// The compact JSON result.
    pub result: serde_json::Value,
    /// Images for the model (only `view_tile` makes them).
    pub images: Vec<ToolImage>,
    /// What the call asks of the loop besides its answer (`submit_route`'s submission).
    pub effect: Option<Effect>,
}

/// What a tool call asks the loop to do, typed: the tools only validate and describe, the
/// loop acts (runs the real safety check on a submission, with its revision budget).
///
/// Not `non_exhaustive` on purpose: a new effect must be handled by the loop, and the
/// compiler says where.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// `submit_route`: the model's answer. The loop ends the turn, checks the waypoints and
    /// answers the call with the verdict (the tool's own result is only the receipt).
    Submit {
        /// The route, validated finite.
        waypoints: Vec<Pt>,
    },
    /// `mark_hazards`: marks were added to the run (the toolbox enforces them already); the
    /// loop records them in the transcript.
    Marked {
        /// The marks this call made, as recorded.
        marks: Vec<crate::perception::MarkRecord>,
    },
}

impl ToolOutput {
    /// A plain JSON result.
    pub fn json(result: &impl Serialize) -> std::result::Result<Self, ToolCallError> {
        let result = serde_json::to_value(result)
            .map_err(|e| ToolCallError::Failed { message: format!("result encoding: {e}") })?;
        Ok(ToolOutput { result, images: Vec::new(), effect: None })
    }
}

/// One tool: its name, argument type and what it does with them.
pub trait Tool {
    /// The name the model calls it by.
    const NAME: &'static str;
    /// The arguments (the doc comment of this type is the tool's description).
    type Args: DeserializeOwned + JsonSchema;
    /// Runs the tool.
    fn run(toolbox: &Toolbox, args: Self::Args) -> std::result::Result<ToolOutput, ToolCallError>;
}

/// A registered tool, type-erased.
struct Entry {
    name: &'static str,
    spec: fn() -> ToolSpec,
    call: fn(&Toolbox, &serde_json::Value) -> std::result::Result<ToolOutput, ToolCallError>,
}

fn entry<T: Tool>() -> Entry {
    Entry { name: T::NAME, spec: spec_of::<T>, call: call_of::<T> }
}

fn spec_of<T: Tool>() -> ToolSpec {
    spec_for::<T::Args>(T::NAME)
}

/// The spec of a tool named `name` whose arguments are `A`: the schema as every tool's (draft
/// 2020-12, subschemas inlined), the type's doc comment as the description. Also used for the
/// campaign's own tool ([`crate::campaign::waypoints`]), which is not in the per-sol registry.
pub(crate) fn spec_for<A: JsonSchema>(name: &'static str) -> ToolSpec {
    let settings = schemars::generate::SchemaSettings::draft2020_12().with(|s| {
        s.inline_subschemas = true;
        s.meta_schema = None;
    });
    let schema = settings.into_generator().into_root_schema_for::<A>();
    let mut value = schema.to_value();
    let description = match value.as_object_mut() {
        Some(obj) => {
            obj.remove("title");
            obj.remove("description").and_then(|d| d.as_str().map(str::to_owned))
        }
        None => None,
    };
    ToolSpec { name, description: description.unwrap_or_default(), input_schema: value }
}

fn call_of<T: Tool>(
    toolbox: &Toolbox,
    raw: &serde_json::Value,
) -> std::result::Result<ToolOutput, ToolCallError> {
    let args: T::Args = serde_path_to_error::deserialize(raw).map_err(|e| {
        let field = e.path().to_string();
        ToolCallError::InvalidArguments {
            field: if field == "." { None } else { Some(field) },
            message: e.into_inner().to_string(),
        }
    })?;
    T::run(toolbox, args)
}

fn registry() -> &'static [Entry] {
    static REGISTRY: OnceLock<Vec<Entry>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        vec![
            entry::<view_tile::ViewTile>(),
            entry::<slope_query::SlopeQuery>(),
            entry::<hazard_lookup::HazardLookup>(),
            entry::<path_cost::PathCostTool>(),
            entry::<elevation_profile::ElevationProfile>(),
            entry::<mark_hazards::MarkHazards>(),
            entry::<check_route::CheckRoute>(),
            entry::<submit_route::SubmitRoute>(),
        ]
    })
}

/// Every tool's spec, in a fixed order (for prompts and `breadcrumb tools schema`).
#[must_use]
pub fn specs() -> Vec<ToolSpec> {
    registry().iter().map(|e| (e.spec)()).collect()
}

/// The names of every tool, in the same order as [`specs`].
#[must_use]
pub fn names() -> Vec<&'static str> {
    registry().iter().map(|e| e.name).collect()
}

/// One sol's terrain, rover and mission, ready to answer one run's tool calls. Shared by the
/// run's concurrent calls (`Sync`): the DEM reads go through its own locked tile cache.
///
/// What a run adds (the model's hazard marks, the twin's last drive) belongs to that run
/// alone; the site's heavy parts (terrain, indexes, cost grid) are reference-counted, so
/// [`Toolbox::fresh`] opens the next run over the same site at no cost and with no marks.
pub struct Toolbox {
    sol: LoadedSol,
    bundle: Arc<Bundle>,
    profile: RoverProfile,
    mission: Mission,
    /// Built on the first `path_cost` call (a second or so on a large corridor), then shared.
    cost: Arc<OnceLock<std::result::Result<Arc<CostGrid>, String>>>,
    /// Pixel side of `view_tile` images (`None`: the tiles' default, 1024).
    tile_px: Option<u32>,
    /// The site's blocking hazards the checker tests against, indexed once when the toolbox
    /// opens (not on every `check_route` or submission: the R-tree of a large site takes a
    /// while).
    blocking_hazards: Arc<ZoneIndex>,
    /// Every mapped hazard polygon (one per part of a multi-polygon feature) in an R-tree, with
    /// the index of the feature it belongs to: `hazard_lookup` asks it for what is near.
    hazard_parts: Arc<(ZoneIndex, Vec<usize>)>,
    /// The DEM cells over a limit in the sol's area, classified on the first `hazard_lookup`
    /// (tens of milliseconds) so later lookups only visit the flagged cells near them.
    terrain_hazards: Arc<OnceLock<Option<hazard_lookup::TerrainHazardIndex>>>,
    /// This run's hazard marks and what they add to the checker and the cost grid.
    marks: RwLock<MarkState>,
    /// The baseline classifier's map of the sol's area, made on the first `view_tile` of the
    /// classes layer (`None` when it could not be made), then shared by every run over the site.
    class_map: Arc<OnceLock<Option<ClassMap>>>,
    /// The twin's last drive and the waypoints it drove: a model usually dry-runs a route with
    /// `check_route` and then submits the very same one, which need not be driven twice (the
    /// twin is deterministic, so the cached run is the run).
    last_twin: Mutex<Option<(Vec<Pt>, crate::twin::TwinRun)>>,
    /// Every tile shown (by `view_tile` or [`Toolbox::register_tile`]), so a point can be given
    /// as a pixel of one of them; bounded by [`MAX_SHOWN_TILES`].
    shown: Mutex<ShownTiles>,
}

/// A run's marks, and the indexes they make: the site's blocking hazards plus the blocking
/// marks (for the checker), and the cost grid with the marks as keep-outs (built on demand).
struct MarkState {
    marks: Vec<Mark>,
    index: Arc<ZoneIndex>,
    grid: Option<Arc<CostGrid>>,
}

impl std::fmt::Debug for Toolbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Toolbox").field("sol", &self.sol.sol.id).finish_non_exhaustive()
    }
}

/// A terrain bundle opened once, with the hazard indexes every sol over it shares. A campaign
/// opens one and hands it to each sol's toolbox ([`Toolbox::on_site`]) rather than re-opening
/// the bundle and re-indexing its hazards every sol: on a 67 km² site that is 8.6 MB of
/// GeoJSON parsed and two R-trees built, 25 times over.
#[derive(Clone)]
pub struct Site {
    dir: PathBuf,
    bundle: Arc<Bundle>,
    blocking_hazards: Arc<ZoneIndex>,
    hazard_parts: Arc<(ZoneIndex, Vec<usize>)>,
}

impl std::fmt::Debug for Site {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Site").field("dir", &self.dir).finish_non_exhaustive()
    }
}

impl Site {
    /// Opens the bundle in `dir` and indexes its hazards.
    pub fn open(dir: &Path) -> Result<Site> {
        let bundle = Bundle::open(dir)?;
        Ok(Site {
            dir: dir.to_path_buf(),
            blocking_hazards: Arc::new(crate::checker::blocking_hazards(&bundle.hazards)),
            hazard_parts: Arc::new(index_hazards(&bundle.hazards)),
            bundle: Arc::new(bundle),
        })
    }

    /// The bundle.
    #[must_use]
    pub fn bundle(&self) -> &Bundle {
        &self.bundle
    }

    /// The site's hazards that block the rover, as the checker tests them.
    #[must_use]
    pub fn blocking_hazards(&self) -> &ZoneIndex {
        &self.blocking_hazards
    }

    /// Whether `dir` names this site's bundle directory (compared canonically where both
    /// exist, so `./site` and `/abs/site` agree).
    fn is_at(&self, dir: &Path) -> bool {
        match (self.dir.canonicalize(), dir.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => self.dir == dir,
        }
    }
}

impl Toolbox {
    /// Opens the sol's bundle and rover profile.
    pub fn open(sol: &LoadedSol) -> Result<Toolbox> {
        Self::on_site(sol, &Site::open(&sol.bundle_dir)?)
    }

    /// A toolbox for `sol` over an already opened `site`, which must be the sol's own bundle:
    /// the terrain and the hazard indexes are shared; everything of the sol's own area (the
    /// cost grid, the classifier's map, the terrain-hazard index) starts afresh.
    pub fn on_site(sol: &LoadedSol, site: &Site) -> Result<Toolbox> {
        if !site.is_at(&sol.bundle_dir) {
            return Err(crate::error::ToolsError::Argument(format!(
                "sol {}: its bundle {} is not the open site {}",
                sol.sol.id,
                sol.bundle_dir.display(),
                site.dir.display()
            )));
        }
        let profile = RoverProfile::load(&sol.rover_path)?;
        Ok(Toolbox {
            mission: Mission::from_sol(&sol.sol),
            sol: sol.clone(),
            profile,
            cost: Arc::new(OnceLock::new()),
            tile_px: None,
            hazard_parts: Arc::clone(&site.hazard_parts),
            marks: RwLock::new(MarkState {
                marks: Vec::new(),
                index: Arc::clone(&site.blocking_hazards),
                grid: None,
            }),
            blocking_hazards: Arc::clone(&site.blocking_hazards),
            terrain_hazards: Arc::new(OnceLock::new()),
            class_map: Arc::new(OnceLock::new()),
            last_twin: Mutex::new(None),
            shown: Mutex::new(ShownTiles::default()),
            bundle: Arc::clone(&site.bundle),
        })
    }

    /// A toolbox for a new run over the same site: it shares the terrain, the indexes and the
    /// cost grid (built once for every run), and starts with no marks and no cached drive.
    #[must_use]
    pub fn fresh(&self) -> Toolbox {
        Toolbox {
            sol: self.sol.clone(),
            bundle: Arc::clone(&self.bundle),
            profile: self.profile.clone(),
            mission: self.mission.clone(),
            cost: Arc::clone(&self.cost),
            tile_px: self.tile_px,
            blocking_hazards: Arc::clone(&self.blocking_hazards),
            hazard_parts: Arc::clone(&self.hazard_parts),
            terrain_hazards: Arc::clone(&self.terrain_hazards),
            class_map: Arc::clone(&self.class_map),
            marks: RwLock::new(MarkState {
                marks: Vec::new(),
                index: Arc::clone(&self.blocking_hazards),
                grid: None,
            }),
            last_twin: Mutex::new(None),
            shown: Mutex::new(ShownTiles::default()),
        }
    }

    /// The same toolbox drawing `view_tile` images `px` pixels a side (256 to 2048), for
    /// models whose image budget is smaller or larger than the default.
    #[must_use]
    pub fn with_tile_px(mut self, px: u32) -> Self {
        self.tile_px = Some(px.clamp(256, 2048));
        self
    }

    /// Pixel side of `view_tile` images, when set.
    #[must_use]
    pub fn tile_px(&self) -> Option<u32> {
        self.tile_px
    }

    /// The sol.
    #[must_use]
    pub fn sol(&self) -> &LoadedSol {
        &self.sol
    }

    /// The terrain bundle.
    #[must_use]
    pub fn bundle(&self) -> &Bundle {
        &self.bundle
    }

    /// The rover profile.
    #[must_use]
    pub fn profile(&self) -> &RoverProfile {
        &self.profile
    }

    /// The sol's mission (start, goal, zones, budget) as the checker sees it.
    #[must_use]
    pub fn mission(&self) -> &Mission {
        &self.mission
    }

    /// A safety checker over this site, on the hazard index built when the toolbox opened
    /// plus this run's blocking marks (so making one per check costs nothing). Marks made
    /// later do not change a checker already made.
    #[must_use]
    pub fn checker(&self) -> Checker<'_> {
        Checker::with_counted_index(&self.bundle.dem, self.hazard_index(), &self.profile)
    }

    /// The blocking hazards a check tests against now: the site's, then this run's blocking
    /// marks in the order they were made.
    #[must_use]
    pub fn hazard_index(&self) -> Arc<ZoneIndex> {
        match self.marks.read() {
            Ok(state) => Arc::clone(&state.index),
            // A poisoned lock means a mark call panicked mid-update; fail closed: no checker
            // may run without the marks, so refuse every point.
            Err(poisoned) => Arc::clone(&poisoned.into_inner().index),
        }
    }

    /// How many marks this run has made.
    #[must_use]
    pub fn marks_made(&self) -> usize {
        match self.marks.read() {
            Ok(state) => state.marks.len(),
            Err(poisoned) => poisoned.into_inner().marks.len(),
        }
    }

    /// This run's marks, in the order they were made (mark `i` has id `m{i+1}`).
    #[must_use]
    pub fn marks(&self) -> Vec<Mark> {
        match self.marks.read() {
            Ok(state) => state.marks.clone(),
            Err(poisoned) => poisoned.into_inner().marks.clone(),
        }
    }

    /// This run's marks as recorded (ids, classes, outlines), in the order they were made.
    #[must_use]
    pub fn mark_records(&self) -> Vec<crate::perception::MarkRecord> {
        self.marks()
            .iter()
            .enumerate()
            .map(|(i, m)| crate::perception::MarkRecord::of(i, m))
            .collect()
    }

    /// Adds `new` marks to this run, all or none, and returns the index of the first (mark `i`
    /// has id [`mark_id`]`(i)`). Blocking marks join
    /// the checker's index (labelled `"<class> mark m<k>"`) and the cost grid's keep-outs;
    /// non-blocking ones are only recorded. Nothing is ever removed.
    pub fn add_marks(&self, new: Vec<Mark>) -> std::result::Result<usize, ToolCallError> {
        let mut state = match self.marks.write() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        if state.marks.len() + new.len() > mark_hazards::MAX_MARKS_PER_RUN {
            return Err(ToolCallError::InvalidArguments {
                field: Some("marks".into()),
                message: format!(
                    "a run may make at most {} marks; {} made already, {} more given",
                    mark_hazards::MAX_MARKS_PER_RUN,
                    state.marks.len(),
                    new.len()
                ),
            });
        }
        let first = state.marks.len();
        let added_blocking = new.iter().any(|m| m.class.blocks());
        state.marks.extend(new);
        if added_blocking {
            state.index = Arc::new(crate::perception::marks_file::index_with_marks(
                &self.blocking_hazards,
                &state.marks,
            ));
            state.grid = None;
        }
        Ok(first)
    }

    /// Drives `points` in the digital twin from the sol's start heading, over a DEM window
    /// around them: the second gate beside [`Toolbox::checker`].
    /// The last route driven is kept, so the same waypoints again (bit for bit) cost a copy.
    #[must_use]
    pub fn twin(&self, points: &[Pt]) -> crate::twin::TwinRun {
        let same = |p: &[Pt]| {
            p.len() == points.len()
                && p.iter()
                    .zip(points)
                    .all(|(a, b)| a.0.to_bits() == b.0.to_bits() && a.1.to_bits() == b.1.to_bits())
        };
        // A poisoned lock only means another call panicked mid-drive: drive afresh.
        if let Ok(guard) = self.last_twin.lock() {
            if let Some((_, run)) = guard.as_ref().filter(|(p, _)| same(p)) {
                return run.clone();
            }
        }
        let run = crate::twin::run_on_dem(
            &self.profile,
            &self.bundle.dem,
            points,
            self.mission.start_heading_deg,
            &self.mission.label,
        );
        if let Ok(mut guard) = self.last_twin.lock() {
            *guard = Some((points.to_vec(), run.clone()));
        }
        run
    }

    /// The planner's cost grid over the sol's area with this run's blocking marks as
    /// keep-outs: the site's grid is built once for every run, and a copy with the marks is
    /// made when marks change.
    pub fn cost_grid(&self) -> std::result::Result<Arc<CostGrid>, ToolCallError> {
        let site = self.site_cost_grid()?;
        let mut state = match self.marks.write() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        if !state.marks.iter().any(|m| m.class.blocks()) {
            return Ok(site);
        }
        if let Some(g) = &state.grid {
            return Ok(Arc::clone(g));
        }
        let zones = crate::perception::marks_file::blocking_zones(&state.marks);
        let polygons: Vec<&geo::Polygon<f64>> = zones.iter().map(|z| &z.polygon).collect();
        let grid = Arc::new(site.with_keep_outs(&polygons));
        state.grid = Some(Arc::clone(&grid));
        Ok(grid)
    }

    /// The planner's cost grid over the sol's area from the site alone (no marks), built once
    /// and shared by every run over the site: what evals price routes on, so that routes of
    /// runs with different marks compare on one cost model.
    pub fn site_cost_grid(&self) -> std::result::Result<Arc<CostGrid>, ToolCallError> {
        self.cost
            .get_or_init(|| {
                build_cost_grid(
                    &self.bundle.dem,
                    &self.bundle.hazards,
                    &self.mission,
                    &self.profile,
                )
                .map(Arc::new)
                .map_err(|e| e.to_string())
            })
            .as_ref()
            .map(Arc::clone)
            .map_err(|e| ToolCallError::Failed { message: format!("cost model: {e}") })
    }

    /// Calls tool `name` with raw JSON `args` (an object). Unknown tools, arguments that do
    /// not match the schema, points off the map and no-data ground are errors the model can
    /// read; nothing panics.
    pub fn call(
        &self,
        name: &str,
        args: &serde_json::Value,
    ) -> std::result::Result<ToolOutput, ToolCallError> {
        let Some(e) = registry().iter().find(|e| e.name == name) else {
            return Err(ToolCallError::UnknownTool {
                name: name.chars().take(80).collect(),
                known: names().iter().map(|s| (*s).to_owned()).collect(),
            });
        };
        (e.call)(self, args)
    }

    /// Like [`Toolbox::call`] with the arguments as JSON text (as providers deliver them).
    pub fn call_str(
        &self,
        name: &str,
        args_json: &str,
    ) -> std::result::Result<ToolOutput, ToolCallError> {
        let text = if args_json.trim().is_empty() { "{}" } else { args_json };
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| ToolCallError::InvalidArguments {
                field: None,
                message: format!("arguments are not valid JSON: {e}"),
            })?;
        self.call(name, &value)
    }

    /// The index of DEM cells over a limit in the sol's area, built on first use (`None` when
    /// the area is too large to index; lookups then classify cells as they go).
    #[must_use]
    pub fn terrain_hazard_index(&self) -> Option<&hazard_lookup::TerrainHazardIndex> {
        self.terrain_hazards
            .get_or_init(|| hazard_lookup::TerrainHazardIndex::for_sol(self))
            .as_ref()
    }

    /// The sol's area ([`Mission::sol_area`] over the DEM). `None` when that is empty.
    #[must_use]
    pub fn sol_area(&self) -> Option<(f64, f64, f64, f64)> {
        self.mission.sol_area(self.extent())
    }

    /// The baseline classifier's map of [`Toolbox::sol_area`], made on first use and kept
    /// (`None` when the area is empty or classification failed).
    #[must_use]
    pub fn class_map(&self) -> Option<&ClassMap> {
        self.class_map
            .get_or_init(|| self.sol_area().and_then(|area| classify(&self.bundle, area).ok()))
            .as_ref()
    }

    /// Mapped hazard polygons in an R-tree, and for each the index of its feature in
    /// [`Bundle::hazards`].
    #[must_use]
    pub fn hazard_parts(&self) -> (&ZoneIndex, &[usize]) {
        (&self.hazard_parts.0, &self.hazard_parts.1)
    }

    /// Remembers a tile shown to the model (its exact footprint) and returns its id
    /// ([`Frame::tile_id`]), so that later calls may give points as pixels of it. `view_tile`
    /// registers every tile it draws; call this for any other image of the map a model is
    /// shown. Registering the same footprint again returns the same id.
    pub fn register_tile(&self, frame: Frame) -> String {
        let id = frame.tile_id();
        // A poisoned lock only means another call panicked while registering: carry on.
        let mut shown = self.shown.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !shown.tiles.contains_key(&id) {
            if shown.order.len() >= MAX_SHOWN_TILES {
                if let Some(old) = shown.order.pop_front() {
                    shown.tiles.remove(&old);
                }
            }
            shown.order.push_back(id.clone());
            shown.tiles.insert(id.clone(), (frame, None));
        }
        id
    }

    /// The footprint of shown tile `id`; an unknown id is an error naming `field` and the
    /// latest tiles shown.
    pub fn shown_tile(&self, field: &str, id: &str) -> std::result::Result<Frame, ToolCallError> {
        let shown = self.shown.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        shown.tiles.get(id).map(|t| t.0).ok_or_else(|| ToolCallError::UnknownTile {
            field: field.to_owned(),
            tile: id.chars().take(40).collect(),
            recent: shown.order.iter().rev().take(8).cloned().collect(),
        })
    }

    /// The Set-of-Mark candidates of shown tile `id` ([`candidates::candidates_for`]),
    /// computed on first use and kept.
    pub fn tile_candidates(
        &self,
        field: &str,
        id: &str,
    ) -> std::result::Result<Vec<Candidate>, ToolCallError> {
        let frame = self.shown_tile(field, id)?;
        {
            let shown = self.shown.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some((_, Some(c))) = shown.tiles.get(id) {
                return Ok(c.clone());
            }
        }
        let found = candidates::candidates_for(self, &frame)?;
        let mut shown = self.shown.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(t) = shown.tiles.get_mut(id) {
            t.1 = Some(found.clone());
        }
        Ok(found)
    }

    /// The DEM's extent `(xmin, ymin, xmax, ymax)`, map metres.
    #[must_use]
    pub fn extent(&self) -> (f64, f64, f64, f64) {
        self.bundle.dem.extent()
    }
}

/// The id of mark `i` (from 0): `m1`, `m2`, ...
#[must_use]
pub fn mark_id(i: usize) -> String {
    format!("m{}", i + 1)
}

/// One R-tree entry per polygon of every mapped hazard, with its feature's index.
fn index_hazards(hazards: &[Hazard]) -> (ZoneIndex, Vec<usize>) {
    let mut zones = Vec::new();
    let mut owner = Vec::new();
    for (i, h) in hazards.iter().enumerate() {
        for p in &h.shape.0 {
            zones.push(Zone {
                label: format!("{} #{}", h.class.as_str(), h.index),
                polygon: p.clone(),
            });
            owner.push(i);
        }
    }
    (ZoneIndex::new(zones), owner)
}
