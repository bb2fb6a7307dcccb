//! `breadcrumb models`: list the models of `models.toml`, their prices and whether their API
//! keys are in the environment (never the keys).

use std::fmt::Write as _;
use std::path::PathBuf;

use breadcrumb_agent::models::{KeyState, ModelEntry, ModelRegistry};
use clap::Args;

use super::ExitStatus;

/// List the models a run can use: name, provider, model id, prices (USD per million tokens) and
/// whether each one's API key variable is set.
///
/// Example: breadcrumb models --file models.toml
#[derive(Debug, Args)]
pub struct ModelsArgs {
    /// The models registry.
    #[arg(long, value_name = "models.toml", default_value = "models.toml")]
    file: PathBuf,
}

pub fn run(args: &ModelsArgs) -> anyhow::Result<ExitStatus> {
    let registry = ModelRegistry::load(&args.file)?;
    out!("{}", table(registry.entries()))?;
    Ok(ExitStatus::Success)
}

/// The registry as an aligned text table.
fn table(entries: &[ModelEntry]) -> String {
    let header = ["NAME", "PROVIDER", "MODEL", "IN $/MTOK", "OUT $/MTOK", "IMAGES", "API KEY"];
    let rows: Vec<[String; 7]> = entries
        .iter()
        .map(|e| {
            let key = match (&e.api_key_env, e.key_state()) {
                (Some(var), KeyState::Set) => format!("{var} set"),
                (Some(var), _) => format!("{var} NOT SET"),
                (None, _) => "not needed".to_owned(),
            };
            [
                e.name.clone(),
                e.provider.to_string(),
                e.model.clone(),
                format!("{:.2}", e.input_usd_per_mtok),
                format!("{:.2}", e.output_usd_per_mtok),
                format!("{:?}", e.image_tokens).to_lowercase(),
                key,
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[&str]| {
        let mut text = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            // Prices right-aligned so the decimal points line up.
            let _ = if i == 3 || i == 4 {
                write!(text, "{cell:>w$}  ")
            } else {
                write!(text, "{cell:<w$}  ")
            };
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&header);
    for row in &rows {
        line(&row.each_ref().map(String::as_str));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn table_lists_every_entry_without_keys() {
        let text = r#"
[models.local]
provider = "openai"
base_url = "http://127.0.0.1:11434/v1"
model = "qwen2.5vl:7b"
input_usd_per_mtok = 0.0
output_usd_per_mtok = 0.0

[models.claude]
provider = "anthropic"
api_key_env = "BREADCRUMB_CLI_TEST_UNSET_KEY"
model = "claude-sonnet-4-5"
input_usd_per_mtok = 3.0
output_usd_per_mtok = 15.0
image_tokens = "anthropic"
"#;
        let registry = ModelRegistry::parse(text, Path::new("models.toml")).unwrap();
        let table = table(registry.entries());
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("NAME    PROVIDER   MODEL"), "{table}");
        assert!(lines[1].contains("claude-sonnet-4-5") && lines[1].contains("15.00"), "{table}");
        assert!(lines[1].ends_with("BREADCRUMB_CLI_TEST_UNSET_KEY NOT SET"), "{table}");
        let cells: Vec<&str> = lines[2].split_whitespace().collect();
        assert_eq!(
            cells,
            ["local", "openai", "qwen2.5vl:7b", "0.00", "0.00", "none", "not", "needed"]
        );
    }
}
