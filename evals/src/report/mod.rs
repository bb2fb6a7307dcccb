//! The HTML report of a run: one self-contained file (no network: styles, script and every image
//! inline) that shows how a run went.
//!
//! - a header (run, suite, models, prompts, repeats, progress, dates) and the matrix summary:
//!   per (model, prompt) cell the rates with 95% Wilson intervals and medians
//!   ([`crate::score::summarize`]);
//! - per sol, small multiples: one panel per cell over the sol's corridor ortho image, rendered
//!   once per sol, with every attempt's last submitted route drawn as an SVG polyline (accepted
//!   and rejected routes in different colours, checker violations as red crosses where the
//!   verdict places them). Each route is an element of class `route` with `data-sol`,
//!   `data-model`, `data-prompt` and `data-repeat`, and the page's script sets
//!   `data-routes-rendered` on `<body>` to the number of routes that really rendered;
//! - a sortable table of every attempt's scores;
//! - every attempt's transcript, step by step, with the tiles the model was shown.
//!
//! A campaign run (`eval campaign`) gets its own page ([`campaign`]): per campaign its scores,
//! each model's overview picture and its sols.
//!
//! Inputs are the store (the run and its attempts) and each attempt's directory
//! (`transcript.jsonl`, `plan.json`, `verdict.json`, `images/`); the terrain comes from the
//! run's suite file. Whatever cannot be read is said on the page instead of failing the report:
//! a report is most needed when a run went wrong.
//!
//! ```no_run
//! use breadcrumb_evals::report;
//! use breadcrumb_evals::store::Store;
//!
//! let store = Store::open("runs/breadcrumb.db".as_ref())?;
//! let stats = report::write(&store, "eval-20250101T000000Z-1a2b", "report.html".as_ref())?;
//! println!("{} attempts, {} routes, {} bytes", stats.attempts, stats.routes, stats.bytes);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod campaign;
pub mod geometry;
pub mod images;
pub mod page;
pub mod transcript;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use breadcrumb_agent::transcript::{Event, Record};
use breadcrumb_tools::checker::{Plan, Pt, Verdict};
use breadcrumb_tools::terrain::Bundle;
use breadcrumb_tools::tiles::{corridor_overview, render_image, Frame, Overlays};
use rayon::prelude::*;

use self::geometry::{len_px, panel_request, svg_points, to_px};
use self::images::ImageBank;
use self::page::{
    AttemptView, Cell, CellView, Column, MarkView, Page, PanelView, PolyView, RateView, RouteView,
    Row, RunView, SolView,
};
use crate::error::EvalError;
use crate::score::{summarize, AttemptScores};
use crate::stats::Rate;
use crate::store::{RunKind, RunRecord, Store, StoredAttempt};
use crate::suite::{Suite, SuiteSol};

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] EvalError),
    /// The run is not in the store.
    #[error("{path}: no run `{run}` in this store (see `breadcrumb eval list`)")]
    UnknownRun {
        /// The store.
        path: PathBuf,
        /// The run asked for.
        run: String,
    },
    /// The report file could not be written.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        error: std::io::Error,
    },
    /// The page template failed (a bug, not bad input).
    #[error("rendering the report page failed: {0}")]
    Template(String),
}

/// What a report holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportStats {
    /// The run's kind: what `attempts` counts.
    pub kind: RunKind,
    /// Attempts shown (campaigns, for a campaign run).
    pub attempts: usize,
    /// A campaign run's sols shown (0 for a sol run).
    pub sols: usize,
    /// Routes drawn (attempts that submitted a route).
    pub routes: usize,
    /// Distinct images inlined.
    pub images: usize,
    /// Size of the page, bytes.
    pub bytes: u64,
}

/// What one attempt left in its directory.
struct AttemptFiles {
    /// Position in the run's attempts; names its transcript's anchor.
    index: usize,
    stored: StoredAttempt,
    dir: PathBuf,
    /// The last submitted route (`plan.json`).
    route: Option<Vec<Pt>>,
    /// Its verdict (`verdict.json`).
    verdict: Option<Verdict>,
    events: Vec<Record>,
    problems: Vec<String>,
}

fn load_attempt((index, stored): (usize, StoredAttempt)) -> AttemptFiles {
    let dir = stored.transcript.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut problems = Vec::new();
    let events = match breadcrumb_agent::transcript::read_events(&stored.transcript) {
        Ok((events, torn)) => {
            if let Some(t) = torn {
                problems.push(format!("{}: torn line skipped ({t})", stored.transcript.display()));
            }
            events
        }
        Err(e) => {
            problems.push(e.to_string());
            Vec::new()
        }
    };
    // No plan.json means no route was submitted: not a problem, an outcome.
    let plan_path = dir.join("plan.json");
    let route = if plan_path.exists() {
        match Plan::load(&plan_path) {
            Ok(p) => Some(p.points()).filter(|p| !p.is_empty()),
            Err(e) => {
                problems.push(e.to_string());
                None
            }
        }
    } else {
        None
    };
    let verdict_path = dir.join("verdict.json");
    let verdict = if verdict_path.exists() {
        match std::fs::read_to_string(&verdict_path)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str::<Verdict>(&t).map_err(|e| e.to_string()))
        {
            Ok(v) => Some(v),
            Err(e) => {
                problems.push(format!("{}: {e}", verdict_path.display()));
                None
            }
        }
    } else {
        None
    };
    AttemptFiles { index, stored, dir, route, verdict, events, problems }
}

/// The id of an attempt's transcript element (what routes and table rows link to).
fn anchor(index: usize) -> String {
    format!("attempt-{index}")
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.filter(|x| x.is_finite()).map_or_else(|| "-".into(), |x| format!("{x:.digits$}"))
}

fn rate_view(r: &Rate) -> RateView {
    RateView {
        text: format!(
            "{}/{} {:.0}% [{:.0}–{:.0}]",
            r.k,
            r.n,
            r.p * 100.0,
            r.lo * 100.0,
            r.hi * 100.0
        ),
        p: (r.p * 1000.0).round() / 10.0,
        lo: (r.lo * 1000.0).round() / 10.0,
        hi: (r.hi * 1000.0).round() / 10.0,
    }
}

/// A median with its interquartile range below it when the values spread: `1.014 (1.00–1.03)`.
fn spread(q: Option<crate::stats::Quartiles>, digits: usize) -> String {
    match q {
        None => "-".into(),
        Some(q) if (q.p75 - q.p25).abs() < f64::EPSILON => format!("{:.digits$}", q.median),
        Some(q) => format!("{:.digits$} ({:.digits$}–{:.digits$})", q.median, q.p25, q.p75),
    }
}

fn cell_view(model: &str, prompt: &str, scores: &[AttemptScores]) -> CellView {
    let s = summarize(scores);
    CellView {
        model: model.to_owned(),
        prompt: prompt.to_owned(),
        attempts: s.attempts,
        rates: [&s.accepted, &s.accepted_first_submit, &s.expectation_met]
            .into_iter()
            .map(rate_view)
            .collect(),
        values: vec![
            spread(s.spreads.cost_ratio, 3),
            spread(s.spreads.goal_error_m, 2),
            spread(s.spreads.frechet_m, 1),
            spread(s.spreads.turns, 0),
            spread(s.spreads.tool_calls, 0),
            spread(s.spreads.wall_s, 1),
            format!("{:.4}", s.total_usd),
            opt(s.perception.as_ref().and_then(|p| p.median_marks), 0),
            opt(s.perception.as_ref().and_then(|p| p.median_mark_blocking_iou), 3),
            opt(s.perception.as_ref().and_then(|p| p.median_route_near_hazard_share), 3),
            opt(s.perception.as_ref().and_then(|p| p.classifier_blocking_iou), 3),
        ],
    }
}

const CELL_HEADERS: [&str; 11] = [
    "cost ratio",
    "goal error m",
    "Fréchet m",
    "turns",
    "tool calls",
    "wall s",
    "total USD",
    "marks",
    "mark IoU (blocking)",
    "route near true hazard",
    "classifier IoU (blocking)",
];

const COLUMNS: [(&str, bool); 29] = [
    ("sol", false),
    ("model", false),
    ("prompt", false),
    ("repeat", true),
    ("status", false),
    ("accepted", false),
    ("first submit", false),
    ("revisions", true),
    ("goal error m", true),
    ("length m", true),
    ("cost ratio", true),
    ("min clearance m", true),
    ("max tilt °", true),
    ("Fréchet m", true),
    ("twin", false),
    ("twin min belly m", true),
    ("twin max bogie °", true),
    ("twin max rocker °", true),
    ("twin max wheel drop m", true),
    ("twin drive s", true),
    ("marks", true),
    ("mark IoU", true),
    ("near true hazard", true),
    ("turns", true),
    ("tool calls", true),
    ("tokens", true),
    ("USD", true),
    ("wall s", true),
    ("failure reason", false),
];

/// Longest failure reason shown in the table, characters (the whole reason is its tooltip and
/// heads the attempt's transcript).
const REASON_CHARS: usize = 90;

fn text_cell(s: &str) -> Cell {
    Cell { text: s.to_owned(), v: s.to_owned(), full: String::new() }
}

fn short_cell(s: &str, max: usize) -> Cell {
    if s.chars().count() <= max {
        return text_cell(s);
    }
    let mut text: String = s.chars().take(max).collect();
    text.push('…');
    Cell { text, v: s.to_owned(), full: s.to_owned() }
}

fn num_cell(v: Option<f64>, digits: usize) -> Cell {
    match v.filter(|x| x.is_finite()) {
        Some(x) => Cell { text: format!("{x:.digits$}"), v: format!("{x}"), full: String::new() },
        None => Cell { text: "-".into(), v: String::new(), full: String::new() },
    }
}

fn yes_no(b: bool) -> Cell {
    text_cell(if b { "yes" } else { "no" })
}

fn row(a: &AttemptFiles, anchor: &str) -> Row {
    let (k, s) = (&a.stored.key, &a.stored.scores);
    let tokens = s.input_tokens + s.output_tokens;
    Row {
        anchor: anchor.to_owned(),
        status: s.status.clone(),
        cells: vec![
            text_cell(&k.sol),
            text_cell(&k.model),
            text_cell(&k.prompt),
            num_cell(Some(f64::from(k.repeat)), 0),
            text_cell(&s.status),
            yes_no(s.accepted),
            yes_no(s.accepted_first_submit),
            num_cell(Some(f64::from(s.revisions)), 0),
            num_cell(s.goal_error_m, 2),
            num_cell(s.route_length_m, 1),
            num_cell(s.cost_ratio, 3),
            num_cell(s.min_hazard_clearance_m, 2),
            num_cell(s.max_tilt_deg, 1),
            num_cell(s.frechet_m, 1),
            text_cell(match s.twin_pass {
                Some(true) => "pass",
                Some(false) => "fail",
                None => "-",
            }),
            num_cell(s.twin_min_clearance_m, 3),
            num_cell(s.twin_max_bogie_deg, 1),
            num_cell(s.twin_max_rocker_deg, 1),
            num_cell(s.twin_max_wheel_drop_m, 3),
            num_cell(s.twin_drive_s, 0),
            num_cell(s.perception.as_ref().map(|p| f64::from(p.marks)), 0),
            num_cell(s.perception.as_ref().and_then(|p| p.blocking_area_iou), 3),
            num_cell(s.perception.as_ref().and_then(|p| p.route_near_hazard_share), 3),
            num_cell(Some(f64::from(s.turns)), 0),
            num_cell(Some(f64::from(s.tool_calls)), 0),
            Cell {
                text: tokens.to_string(),
                v: tokens.to_string(),
                full: format!(
                    "input {} (image {}), output {}",
                    s.input_tokens, s.image_tokens, s.output_tokens
                ),
            },
            num_cell(Some(s.cost_usd), 4),
            num_cell(Some(s.wall_s), 1),
            short_cell(s.failure_reason.as_deref().unwrap_or(""), REASON_CHARS),
        ],
    }
}

/// Every map point a sol's panels must hold: routes and violation places.
fn sol_points(attempts: &[&AttemptFiles]) -> Vec<Pt> {
    let mut pts = Vec::new();
    for a in attempts {
        pts.extend(a.route.iter().flatten().copied());
        if let Some(v) = &a.verdict {
            pts.extend(v.violations.iter().map(|v| (v.x, v.y)));
        }
    }
    pts
}

/// A sol's panels' background: the ortho image of `request` with the sol's zones, start and
/// goal, rendered through the tools crate like the tiles the model saw.
fn render_background(
    entry: &SuiteSol,
    request: &breadcrumb_tools::tiles::TileRequest,
) -> Result<image::RgbImage, String> {
    let bundle = Bundle::open(&entry.sol.bundle_dir).map_err(|e| e.to_string())?;
    render_image(&bundle, request, &Overlays::sol(&entry.sol.sol))
        .map(|(img, _)| img)
        .map_err(|e| e.to_string())
}

/// One sol's row of panels, one per (model, prompt) of the run, in the run's order; routes and
/// violations placed through the same frame as the background, so they land on the terrain.
fn sol_view(
    id: &str,
    entry: Option<&SuiteSol>,
    attempts: &[&AttemptFiles],
    run: &RunRecord,
    background: Option<String>,
    request: Option<&breadcrumb_tools::tiles::TileRequest>,
) -> SolView {
    let frame = request.and_then(|r| r.frame().ok());
    let sol = entry.map(|e| &e.sol.sol);
    let mut panels = Vec::new();
    for m in &run.models {
        for p in &run.prompts {
            let cell: Vec<&&AttemptFiles> = attempts
                .iter()
                .filter(|a| &a.stored.key.model == m && &a.stored.key.prompt == p)
                .collect();
            let accepted = cell.iter().filter(|a| a.stored.scores.accepted).count();
            let no_route = cell.iter().filter(|a| a.route.is_none()).count();
            let mut routes = Vec::new();
            let mut violations = Vec::new();
            let mut marks = Vec::new();
            if let Some(f) = &frame {
                for a in &cell {
                    marks.extend(mark_views(f, a));
                }
                for a in &cell {
                    let Some(route) = &a.route else { continue };
                    let (k, s) = (&a.stored.key, &a.stored.scores);
                    let pass = a.verdict.as_ref().map_or(s.accepted, |v| v.pass);
                    let last = route.iter().rev().find(|p| p.0.is_finite() && p.1.is_finite());
                    routes.push(RouteView {
                        points: svg_points(f, route),
                        end: last.map_or((0.0, 0.0), |&p| to_px(f, p)),
                        accepted: pass,
                        sol: k.sol.clone(),
                        model: k.model.clone(),
                        prompt: k.prompt.clone(),
                        repeat: k.repeat,
                        anchor: anchor(a.index),
                        title: format!(
                            "r{}: {}, {} waypoints, {} m, goal error {} m, {}",
                            k.repeat,
                            s.status,
                            route.len(),
                            opt(s.route_length_m, 1),
                            opt(s.goal_error_m, 2),
                            s.failure_reason.as_deref().unwrap_or("accepted")
                        ),
                    });
                    for v in a.verdict.iter().flat_map(|v| &v.violations) {
                        if v.x.is_finite() && v.y.is_finite() {
                            let (x, y) = to_px(f, (v.x, v.y));
                            violations.push(MarkView {
                                x,
                                y,
                                title: format!("r{}: {}: {}", k.repeat, v.rule, v.message),
                            });
                        }
                    }
                }
            }
            let mut caption = format!("{accepted}/{} accepted", cell.len());
            if no_route > 0 {
                let _ = write!(caption, ", {no_route} without a route");
            }
            panels.push(PanelView {
                model: m.clone(),
                prompt: p.clone(),
                caption,
                routes,
                violations,
                marks,
            });
        }
    }
    let px = frame.map_or(geometry::PANEL_PX, |f| f.width_px);
    SolView {
        id: id.to_owned(),
        expect: entry.and_then(|e| e.expect).map(|e| e.as_str().to_owned()).unwrap_or_default(),
        scale: request.map_or_else(String::new, |r| {
            format!("{:.0} m square around ({:.1}, {:.1})", r.size_m, r.centre_x, r.centre_y)
        }),
        px,
        bg: background,
        start: frame.zip(sol).map(|(f, s)| to_px(&f, (s.start.x, s.start.y))),
        goal: frame.zip(sol).map(|(f, s)| {
            let (x, y) = to_px(&f, (s.goal.x, s.goal.y));
            (x, y, len_px(&f, s.goal.tolerance_m))
        }),
        reference: frame
            .zip(entry.and_then(|e| e.reference_route.as_deref()))
            .map(|(f, r)| svg_points(&f, r))
            .filter(|s| !s.is_empty()),
        panels,
        truth: frame.map(|f| truth_views(&f, entry)).unwrap_or_default(),
    }
}

/// The marks an attempt's model made (its transcript's `marks` events), as panel outlines.
fn mark_views(frame: &Frame, a: &AttemptFiles) -> Vec<PolyView> {
    let repeat = a.stored.key.repeat;
    a.events
        .iter()
        .filter_map(|r| match &r.event {
            Event::Marks { marks, .. } => Some(marks),
            _ => None,
        })
        .flatten()
        .map(|m| {
            let ring: Vec<Pt> = m.ring.iter().map(|p| (p[0], p[1])).collect();
            PolyView {
                points: svg_points(frame, &ring),
                blocks: m.blocks,
                title: format!(
                    "r{repeat}: {} {} (confidence {:.2}): {}",
                    m.id, m.marked_class, m.confidence, m.reason
                ),
            }
        })
        .collect()
}

/// The sol's ground truth (the suite's truth file, else the bundle's mapped hazards) as panel
/// outlines; empty when it has none or it does not load.
fn truth_views(frame: &Frame, entry: Option<&SuiteSol>) -> Vec<PolyView> {
    let Some(e) = entry else { return Vec::new() };
    let path = e.truth.clone().unwrap_or_else(|| e.sol.bundle_dir.join("hazards.geojson"));
    let Ok(hazards) = breadcrumb_tools::terrain::hazards::load_hazards(&path) else {
        return Vec::new();
    };
    hazards
        .iter()
        .flat_map(|h| h.shape.0.iter().map(move |p| (h, p)))
        .map(|(h, p)| {
            let ring: Vec<Pt> = p.exterior().points().map(|q| (q.x(), q.y())).collect();
            PolyView {
                points: svg_points(frame, &ring),
                blocks: breadcrumb_tools::checker::rules::hazards::blocks(h.class),
                title: format!("truth: {} #{}", h.class.as_str(), h.index),
            }
        })
        .filter(|v| !v.points.is_empty())
        .collect()
}

/// Builds the page of run `run_id`. Returns the HTML and what it holds.
pub fn render(store: &Store, run_id: &str) -> Result<(String, ReportStats), ReportError> {
    let run = store.run(run_id)?.ok_or_else(|| ReportError::UnknownRun {
        path: store.path().to_path_buf(),
        run: run_id.to_owned(),
    })?;
    if run.kind == RunKind::Campaign {
        return campaign::render(store, &run);
    }
    let attempts: Vec<AttemptFiles> =
        store.attempts(run_id)?.into_par_iter().enumerate().map(load_attempt).collect();
    let mut notes = Vec::new();
    let suite = match Suite::load(Path::new(&run.suite_path)) {
        Ok(s) => Some(s),
        Err(e) => {
            notes.push(format!("the suite could not be loaded, so panels have no terrain: {e}"));
            None
        }
    };

    // Sols in suite order, then any the suite no longer lists.
    let mut sol_ids: Vec<String> =
        suite.iter().flat_map(|s| s.sols.iter().map(|e| e.id().to_owned())).collect();
    let extra: BTreeSet<&str> = attempts
        .iter()
        .map(|a| a.stored.key.sol.as_str())
        .filter(|id| !sol_ids.iter().any(|s| s == id))
        .collect();
    sol_ids.extend(extra.into_iter().map(str::to_owned));
    sol_ids.retain(|id| attempts.iter().any(|a| &a.stored.key.sol == id));
    let entry_of = |id: &str| suite.as_ref().and_then(|s| s.sols.iter().find(|e| e.id() == id));

    // One background per sol, rendered in parallel.
    let per_sol: Vec<(String, Vec<&AttemptFiles>)> = sol_ids
        .iter()
        .map(|id| (id.clone(), attempts.iter().filter(|a| &a.stored.key.sol == id).collect()))
        .collect();
    let requests: Vec<Option<breadcrumb_tools::tiles::TileRequest>> = per_sol
        .iter()
        .map(|(id, atts)| {
            let overview = entry_of(id).map(|e| corridor_overview(&e.sol.sol));
            panel_request(overview.as_ref(), &sol_points(atts))
        })
        .collect();
    let backgrounds: Vec<Result<Option<image::RgbImage>, String>> = per_sol
        .par_iter()
        .zip(requests.par_iter())
        .map(|((id, _), req)| match (entry_of(id), req) {
            (Some(e), Some(r)) => render_background(e, r).map(Some),
            _ => Ok(None),
        })
        .collect();

    let mut bank = ImageBank::new();
    let mut sols = Vec::new();
    for (((id, atts), req), bg) in per_sol.iter().zip(&requests).zip(backgrounds) {
        let key = match bg {
            Ok(img) => img.map(|i| bank.pixels(i)),
            Err(e) => {
                notes.push(format!("sol {id}: the terrain could not be drawn: {e}"));
                None
            }
        };
        sols.push(sol_view(id, entry_of(id), atts, &run, key, req.as_ref()));
    }
    let routes: usize = sols.iter().flat_map(|s| &s.panels).map(|p| p.routes.len()).sum();

    let mut cells = Vec::new();
    for m in &run.models {
        for p in &run.prompts {
            let scores: Vec<AttemptScores> = attempts
                .iter()
                .filter(|a| &a.stored.key.model == m && &a.stored.key.prompt == p)
                .map(|a| a.stored.scores.clone())
                .collect();
            cells.push(cell_view(m, p, &scores));
        }
    }

    let mut rows = Vec::new();
    let mut views = Vec::new();
    for a in &attempts {
        let anchor = anchor(a.index);
        rows.push(row(a, &anchor));
        let k = &a.stored.key;
        views.push(AttemptView {
            anchor,
            title: format!("{} · {} · {} · r{}", k.sol, k.model, k.prompt, k.repeat),
            status: a.stored.scores.status.clone(),
            reason: a.stored.scores.failure_reason.clone().unwrap_or_else(|| {
                a.events
                    .iter()
                    .rev()
                    .find_map(|r| match &r.event {
                        Event::RunEnded { reason, .. } => Some(reason.as_str()),
                        _ => None,
                    })
                    .unwrap_or("accepted")
                    .to_owned()
            }),
            dir: a.dir.display().to_string(),
            problems: a.problems.clone(),
            twin_plot: bank.chart(&a.dir.join("twin.png")),
            steps: transcript::steps(&a.events, &a.dir, &mut bank),
        });
    }

    let image_count = bank.len();
    let (urls, image_problems) = bank.encode();
    notes.extend(image_problems);
    let page = Page {
        run: RunView {
            id: run.id.clone(),
            suite: run.suite.clone(),
            suite_path: run.suite_path.clone(),
            models: run.models.join(", "),
            prompts: run.prompts.join(", "),
            repeats: run.repeats,
            done: attempts.len(),
            planned: run.planned,
            started_at: run.started_at.clone(),
            finished_at: run.finished_at.clone().unwrap_or_else(|| "not finished".into()),
            generated_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now())
                .to_string(),
        },
        notes,
        cell_headers: CELL_HEADERS.to_vec(),
        cells,
        sols,
        columns: COLUMNS.iter().map(|&(name, numeric)| Column { name, numeric }).collect(),
        rows,
        attempts: views,
        routes,
    };
    let html = page::render(&page, &urls).map_err(|e| ReportError::Template(format!("{e:#}")))?;
    let stats = ReportStats {
        kind: RunKind::Sol,
        sols: 0,
        attempts: attempts.len(),
        routes,
        images: image_count,
        bytes: html.len() as u64,
    };
    Ok((html, stats))
}

/// Builds the page of run `run_id` and writes it to `out` atomically: into a temporary file in
/// the same directory, then renamed over `out`, so a failure never leaves half a report (the
/// temporary file is removed when anything fails). Creates `out`'s directory if needed.
pub fn write(store: &Store, run_id: &str, out: &Path) -> Result<ReportStats, ReportError> {
    let (html, stats) = render(store, run_id)?;
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |error| ReportError::Io { path, error }
    };
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".report-").suffix(".html.tmp");
    // A report is for sharing: readable by all like any file written normally, not the 0600 a
    // temporary file gets.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let mut tmp = builder.tempfile_in(&dir).map_err(io(&dir))?;
    std::io::Write::write_all(&mut tmp, html.as_bytes()).map_err(io(tmp.path()))?;
    tmp.as_file().sync_all().map_err(io(tmp.path()))?;
    tmp.persist(out).map_err(|e| ReportError::Io { path: out.to_path_buf(), error: e.error })?;
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scores(accepted: bool, reason: Option<&str>) -> AttemptScores {
        serde_json::from_value(json!({
            "status": if accepted { "accepted" } else { "rejected" }, "accepted": accepted,
            "accepted_first_submit": accepted, "expectation_met": null, "submits": 1,
            "revisions": 0, "goal_error_m": 1.0, "route_length_m": 20.0, "cost": null,
            "cost_ratio": null, "max_tilt_deg": 3.0, "min_hazard_clearance_m": 2.0,
            "frechet_m": null, "turns": 2, "tool_calls": 1, "tool_calls_by_tool": {},
            "input_tokens": 10, "output_tokens": 5, "image_tokens": 0, "cost_usd": 0.0,
            "retries": 0, "wall_s": 1.0, "failure_reason": reason
        }))
        .unwrap()
    }

    fn verdict(pass: bool, violation_at: Option<(f64, f64)>) -> serde_json::Value {
        json!({
            "pass": pass, "rule_set_version": "1", "checker_version": "0", "sol": "s1",
            "rover": "r",
            "summary": {"waypoints": 2, "segments": 1, "length_m": 20.0, "drive_budget_m": 100.0,
                        "terrain_walked": true, "poses_evaluated": 10, "max_tilt_deg": 3.0,
                        "max_step_m": null, "max_belly_obstacle_m": null,
                        "min_hazard_clearance_m": 2.0, "min_keep_out_clearance_m": null,
                        "min_keep_in_margin_m": null},
            "rules": [],
            "violations": violation_at.map(|(x, y)| vec![json!({"rule": "tilt", "segment": 0,
                "x": x, "y": y, "measured": 30.0, "limit": 25.0, "unit": "deg",
                "message": "too steep <b>here</b>"})]).unwrap_or_default()
        })
    }

    /// A store with one run of four attempts made by hand (no terrain: the suite file is
    /// missing): an accepted route, a rejected one with a violation, one without a route whose
    /// model wrote markup, and one whose files are gone.
    #[test]
    fn render_draws_routes_marks_violations_and_escapes_transcripts() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(&tmp.path().join("b.db")).unwrap();
        let run: RunRecord = serde_json::from_value(json!({
            "id": "r1", "suite": "s", "suite_path": tmp.path().join("gone.toml"),
            "models": ["m"], "prompts": ["v1"], "repeats": 4, "planned": 4, "runs_dir": "runs",
            "started_at": "2026-01-01T00:00:00Z", "finished_at": null
        }))
        .unwrap();
        store.create_run(&run).unwrap();
        let hostile = "<img src=x onerror=alert(1)> </script><script>alert(2)</script>";
        let route = [(100.0, 200.0), (110.0, 210.0), (120.0, 200.0)];
        for repeat in 0..4u32 {
            let dir = tmp.path().join(format!("runs/a{repeat}"));
            let key = crate::store::AttemptKey {
                run_id: "r1".into(),
                sol: "s1".into(),
                model: "m".into(),
                prompt: "v1".into(),
                repeat,
            };
            let accepted = repeat == 0;
            let reason = (!accepted).then_some("no");
            store
                .put_attempt(&key, &scores(accepted, reason), &dir.join("transcript.jsonl"))
                .unwrap();
            if repeat == 3 {
                continue;
            }
            std::fs::create_dir_all(&dir).unwrap();
            let events = [
                json!({"event": "run_started", "seq": 0, "t_ms": 0, "model": "m"}),
                json!({"event": "response", "seq": 1, "t_ms": 3, "turn": 1,
                       "response": {"text": hostile, "tool_calls": [], "usage": null,
                                    "stop_reason": "end_turn", "model": null,
                                    "latency": {"secs": 0, "nanos": 0}},
                       "usage_reported": false, "image_tokens": 0, "cost_usd": 0.0,
                       "latency_ms": 0.0}),
            ];
            let lines: Vec<String> = events.iter().map(ToString::to_string).collect();
            std::fs::write(dir.join("transcript.jsonl"), lines.join("\n") + "\n").unwrap();
            if repeat < 2 {
                let plan = serde_json::to_string(&Plan::from_points(&route)).unwrap();
                std::fs::write(dir.join("plan.json"), plan).unwrap();
                let v = verdict(accepted, (!accepted).then_some((110.0, 210.0)));
                std::fs::write(dir.join("verdict.json"), v.to_string()).unwrap();
            }
        }

        let (html, stats) = render(&store, "r1").unwrap();
        assert_eq!((stats.attempts, stats.routes), (4, 2));
        assert_eq!(html.matches("class=\"route accepted\"").count(), 1);
        assert_eq!(html.matches("class=\"route rejected\"").count(), 1);
        assert!(
            html.contains("data-sol=\"s1\" data-model=\"m\" data-prompt=\"v1\" data-repeat=\"1\"")
        );
        assert_eq!(html.matches("<g class=\"viol\"").count(), 1);
        assert!(
            html.contains("r1: tilt: too steep &lt;b&gt;here&lt;&#x2f;b&gt;"),
            "violation tooltip"
        );
        // The model's markup is shown as text, never parsed.
        assert!(!html.contains("<img src=x") && !html.contains("<script>alert"));
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
        // What could not be read is said, not fatal.
        assert!(html.contains("the suite could not be loaded"), "suite note");
        assert!(html.contains("runs&#x2f;a3&#x2f;transcript.jsonl"), "missing transcript named");
        assert!(html.contains("1&#x2f;4 accepted, 2 without a route"), "panel caption");
    }

    #[test]
    fn an_unknown_run_is_an_error_and_writes_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(&tmp.path().join("b.db")).unwrap();
        let out = tmp.path().join("report.html");
        let e = write(&store, "nope", &out).unwrap_err().to_string();
        assert!(e.contains("no run `nope`") && e.contains("b.db"), "{e}");
        assert!(!out.exists());
        let left: Vec<_> =
            std::fs::read_dir(tmp.path()).unwrap().flatten().map(|e| e.file_name()).collect();
        assert!(left.iter().all(|n| !n.to_string_lossy().contains("report")), "{left:?}");
    }
}
