//! `breadcrumb tiles`: render the tiles a model would see for a sol, as PNG files with a JSON
//! sidecar each (footprint, metres per pixel, token estimate).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use breadcrumb_tools::checker::Plan;
use breadcrumb_tools::terrain::{Bundle, Sol};
use breadcrumb_tools::tiles::{
    corridor_overview, render_tile, Layer, Overlays, TileRequest, DEFAULT_PX,
};
use clap::Args;

use super::ExitStatus;

/// Render map tiles for a sol: what the model sees when it calls `view_tile`.
///
/// Without --centre: the corridor overview (a square over start and goal with a margin, as in
/// the first prompt) in every layer, or only in --layer. With --centre X,Y and --size-m M: that
/// square. Each tile is a PNG with labelled grid lines in map metres, a scale bar, a north
/// arrow, the start, goal and zones, and beside it a JSON file with its exact footprint
/// (min/max x/y in map metres), metres per pixel, pixel size and estimated image tokens.
///
/// Example: breadcrumb tiles --sol fixtures/sols/plains-01.toml -o /tmp/tiles
///
/// Example: breadcrumb tiles --sol fixtures/sols/plains-01.toml --centre -60,1090600 --size-m 50
/// --layer slope --px 768
#[derive(Debug, Args)]
pub struct TilesArgs {
    /// Sol TOML (names the terrain bundle; its start, goal and zones are drawn).
    #[arg(long, value_name = "SOL.toml")]
    sol: PathBuf,
    /// Directory to write the PNG and JSON files to (created if missing).
    #[arg(short, long, value_name = "DIR", default_value = "tiles")]
    out: PathBuf,
    /// Centre of the tile, map metres: X,Y (east, north). Needs --size-m.
    #[arg(long, value_name = "X,Y", value_parser = parse_point, allow_hyphen_values = true)]
    centre: Option<(f64, f64)>,
    /// Side of the square tile on the ground, metres. Needs --centre.
    #[arg(long, value_name = "M")]
    size_m: Option<f64>,
    /// Layer: ortho (the image), slope (colour ramp), hazards (mapped hazards) or classes (the
    /// baseline classifier's terrain classes). Default: all four.
    #[arg(long, value_name = "LAYER", value_parser = parse_layer)]
    layer: Option<Layer>,
    /// Side of the image, pixels (256 to 2048).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_PX)]
    px: u32,
    /// A plan JSON whose waypoints are drawn as a numbered draft route.
    #[arg(long, value_name = "PLAN.json")]
    route: Option<PathBuf>,
}

fn parse_point(s: &str) -> Result<(f64, f64), String> {
    let (x, y) = s.split_once(',').ok_or_else(|| format!("expected X,Y, got {s:?}"))?;
    let num = |v: &str| v.trim().parse::<f64>().map_err(|e| format!("{v:?}: {e}"));
    Ok((num(x)?, num(y)?))
}

fn parse_layer(s: &str) -> Result<Layer, String> {
    s.parse().map_err(|e: breadcrumb_tools::ToolsError| e.to_string())
}

pub fn run(a: &TilesArgs) -> anyhow::Result<ExitStatus> {
    let sol = Sol::load(&a.sol)?;
    let bundle = Bundle::open(&sol.bundle_dir)
        .with_context(|| format!("opening the terrain bundle of sol {}", sol.sol.id))?;
    let route = match &a.route {
        Some(p) => Plan::load(p)?.points(),
        None => Vec::new(),
    };
    let (base, name) = match (a.centre, a.size_m) {
        (None, None) => (corridor_overview(&sol.sol), "overview".to_owned()),
        (Some((x, y)), Some(m)) => {
            (TileRequest::new(x, y, m, Layer::Ortho), format!("{}_{}_{}m", fmt(x), fmt(y), fmt(m)))
        }
        _ => bail!("--centre and --size-m go together (see `breadcrumb tiles --help`)"),
    };
    let layers = a.layer.map_or(Layer::ALL.to_vec(), |l| vec![l]);
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let overlays = Overlays::sol(&sol.sol).with_route(&route);
    for layer in layers {
        let request = base.with_layer(layer).with_px(a.px);
        let tile = render_tile(&bundle, &request, &overlays)?;
        let stem = format!("{}-{name}-{layer}", sol.sol.id);
        let png = a.out.join(format!("{stem}.png"));
        let json = a.out.join(format!("{stem}.json"));
        write(&png, &tile.png)?;
        let mut text = serde_json::to_string_pretty(&tile.info)?;
        text.push('\n');
        write(&json, text.as_bytes())?;
        let i = &tile.info;
        outln!(
            "{}  x {}..{} y {}..{}  {:.3} m/px  {}x{} px  grid {} m  ~{} tokens (Anthropic), ~{} (OpenAI high)",
            png.display(),
            fmt(i.frame.min_x_m),
            fmt(i.frame.max_x_m),
            fmt(i.frame.min_y_m),
            fmt(i.frame.max_y_m),
            i.frame.m_per_px,
            i.frame.width_px,
            i.frame.height_px,
            fmt(i.grid_interval_m),
            i.tokens.anthropic,
            i.tokens.openai_high,
        )?;
    }
    Ok(ExitStatus::Success)
}

/// A number without trailing zeros (`120`, `12.5`).
fn fmt(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}
