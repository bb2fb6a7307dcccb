//! `breadcrumb site ...`: synthesise a site, write a slope map, summarise a bundle.

use std::path::PathBuf;

use breadcrumb_tools::terrain::{Bundle, HazardClass};
use clap::{Args, Subcommand};

use super::ExitStatus;

#[derive(Debug, Subcommand)]
pub enum SiteCommand {
    /// Summarise a terrain bundle: grid, CRS, extent, layers, hazards by class.
    ///
    /// Example: breadcrumb site info fixtures/sites/plains
    Info(InfoArgs),
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Bundle directory.
    dir: PathBuf,
    /// Print as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: SiteCommand) -> anyhow::Result<ExitStatus> {
    match cmd {
        SiteCommand::Info(a) => info(&a),
    }
}

fn info(a: &InfoArgs) -> anyhow::Result<ExitStatus> {
    let bundle = Bundle::open(&a.dir)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&bundle_json(&bundle))?);
    } else {
        print_bundle(&bundle);
    }
    Ok(ExitStatus::Success)
}

fn hazard_counts(bundle: &Bundle) -> Vec<(HazardClass, usize)> {
    HazardClass::ALL
        .into_iter()
        .map(|c| (c, bundle.hazards.iter().filter(|h| h.class == c).count()))
        .filter(|(_, n)| *n > 0)
        .collect()
}

fn bundle_json(bundle: &Bundle) -> serde_json::Value {
    let (w, h) = bundle.dem.size();
    let (rx, ry) = bundle.dem.transform().resolution();
    let (xmin, ymin, xmax, ymax) = bundle.dem.extent();
    let hazards: serde_json::Map<String, serde_json::Value> =
        hazard_counts(bundle).into_iter().map(|(c, n)| (c.as_str().to_owned(), n.into())).collect();
    serde_json::json!({
        "name": bundle.name(),
        "dir": bundle.dir,
        "dem": {"path": bundle.dem.path(), "width": w, "height": h, "res_m": [rx, ry],
                "extent_m": [xmin, ymin, xmax, ymax], "crs": crs_name(bundle.dem.crs_wkt())},
        "ortho": bundle.ortho.as_ref().map(|o| {
            let (w, h) = o.size();
            let (rx, _) = o.transform().resolution();
            serde_json::json!({"path": o.path(), "width": w, "height": h, "res_m": rx})
        }),
        "hazards": hazards,
    })
}

fn crs_name(wkt: &str) -> String {
    if wkt.is_empty() {
        return "none (local frame)".into();
    }
    // The WKT's first quoted string is the CRS name.
    wkt.split('"').nth(1).unwrap_or("unnamed").to_owned()
}

fn print_bundle(bundle: &Bundle) {
    let (w, h) = bundle.dem.size();
    let (rx, ry) = bundle.dem.transform().resolution();
    let (xmin, ymin, xmax, ymax) = bundle.dem.extent();
    println!("bundle   {} ({})", bundle.name(), bundle.dir.display());
    println!("dem      {w} x {h} cells at {rx} x {ry} m, CRS {}", crs_name(bundle.dem.crs_wkt()));
    println!("extent   x {xmin:.1} .. {xmax:.1}, y {ymin:.1} .. {ymax:.1} (map metres)");
    match &bundle.ortho {
        Some(o) => {
            let (ow, oh) = o.size();
            println!("ortho    {ow} x {oh} px at {} m", o.transform().resolution().0);
        }
        None => println!("ortho    none"),
    }
    let counts = hazard_counts(bundle);
    if counts.is_empty() {
        println!("hazards  none mapped");
    } else {
        let parts: Vec<String> =
            counts.iter().map(|(c, n)| format!("{n} {}", c.as_str())).collect();
        println!("hazards  {}", parts.join(", "));
    }
}
