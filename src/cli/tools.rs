//! `breadcrumb tools`: the tools a model can call, by hand — print their JSON Schemas, or run
//! one call exactly as the agent loop would, to debug what a model asked and what it got.

use std::path::PathBuf;

use anyhow::Context;
use breadcrumb_tools::api::{specs, Toolbox};
use breadcrumb_tools::terrain::Sol;
use clap::{Args, Subcommand};

use super::ExitStatus;

/// The model's tools: their schemas, and calling one by hand.
#[derive(Debug, Subcommand)]
pub enum ToolsCommand {
    /// Print every tool's name, description and argument JSON Schema (a JSON array, the form
    /// the providers receive).
    Schema(SchemaArgs),
    /// Run one tool call against a sol, as the agent loop would, and print the JSON result the
    /// model would receive (exit 1 with the structured error when the call fails).
    ///
    /// Example: breadcrumb tools call slope_query --sol fixtures/sols/plains-01.toml
    /// '{"x_m": -110, "y_m": 1090554, "to_x_m": -90, "to_y_m": 1090570}'
    Call(CallArgs),
}

/// Arguments of `tools schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Only this tool.
    #[arg(value_name = "NAME")]
    name: Option<String>,
}

/// Arguments of `tools call`.
#[derive(Debug, Args)]
pub struct CallArgs {
    /// Tool name (see `breadcrumb tools schema`).
    #[arg(value_name = "NAME")]
    name: String,
    /// The sol whose terrain, rover and mission the tool answers about.
    #[arg(long, value_name = "SOL.toml")]
    sol: PathBuf,
    /// The arguments as a JSON object (as a model would send them); `-` reads stdin.
    #[arg(value_name = "ARGS_JSON", default_value = "{}")]
    args: String,
    /// Directory to write returned images into (`<tool>-<n>.png`); default: the current
    /// directory.
    #[arg(long, value_name = "DIR")]
    images_dir: Option<PathBuf>,
}

pub fn run(cmd: ToolsCommand) -> anyhow::Result<ExitStatus> {
    match cmd {
        ToolsCommand::Schema(a) => schema(&a),
        ToolsCommand::Call(a) => call(&a),
    }
}

fn schema(a: &SchemaArgs) -> anyhow::Result<ExitStatus> {
    let mut all = specs();
    if let Some(name) = &a.name {
        all.retain(|s| s.name == name);
        if all.is_empty() {
            let names: Vec<_> = specs().iter().map(|s| s.name).collect();
            anyhow::bail!("no tool named `{name}`; the tools are: {}", names.join(", "));
        }
    }
    outln!("{}", serde_json::to_string_pretty(&all)?)?;
    Ok(ExitStatus::Success)
}

fn call(a: &CallArgs) -> anyhow::Result<ExitStatus> {
    let sol = Sol::load(&a.sol)?;
    let toolbox = Toolbox::open(&sol)?;
    let text = if a.args == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading arguments from stdin")?
    } else {
        a.args.clone()
    };
    match toolbox.call_str(&a.name, &text) {
        Ok(out) => {
            outln!("{}", serde_json::to_string_pretty(&out.result)?)?;
            let dir = a.images_dir.clone().unwrap_or_else(|| PathBuf::from("."));
            for (i, img) in out.images.iter().enumerate() {
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
                let path = dir.join(format!("{}-{}.png", a.name, i + 1));
                std::fs::write(&path, &img.png)
                    .with_context(|| format!("writing {}", path.display()))?;
                eprintln!("image {}x{} written to {}", img.width, img.height, path.display());
            }
            Ok(ExitStatus::Success)
        }
        Err(e) => {
            outln!("{}", serde_json::to_string_pretty(&e.to_json())?)?;
            eprintln!("tool error: {e}");
            Ok(ExitStatus::Failure)
        }
    }
}
