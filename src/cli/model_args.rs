//! The flags that choose a model and bound its loop, shared by the commands that run one model
//! on sols (`propose`, `campaign`), flattened into each so they read and default the same.

use std::path::PathBuf;

use anyhow::bail;
use breadcrumb_agent::models::{ModelEntry, ModelRegistry};
use breadcrumb_agent::prompt::PromptSet;
use clap::Args;

/// The model, its prompt, and where both are defined.
#[derive(Debug, Args)]
pub struct ModelArgs {
    /// Model name from the models file (`breadcrumb models` lists them).
    #[arg(long, default_value = "reference")]
    pub model: String,
    /// Prompt version: a directory under --prompts-dir.
    #[arg(long, default_value = "v1")]
    pub prompt: String,
    /// The models file.
    #[arg(long, value_name = "FILE", default_value = "models.toml")]
    pub models: PathBuf,
    /// Where prompt versions live.
    #[arg(long, value_name = "DIR", default_value = "prompts")]
    pub prompts_dir: PathBuf,
}

impl ModelArgs {
    /// The model's entry in the models file, or an error that names the models it has.
    pub fn entry(&self) -> anyhow::Result<ModelEntry> {
        if !self.models.exists() {
            bail!(
                "{}: no such models file (the paths default to the repository's; run from its \
                 root, or give --models FILE and --prompts-dir DIR)",
                self.models.display()
            );
        }
        let registry = ModelRegistry::load(&self.models)?;
        let Some(entry) = registry.get(&self.model) else {
            let names: Vec<&str> = registry.entries().iter().map(|e| e.name.as_str()).collect();
            bail!(
                "{}: no model named `{}`; known: {}",
                self.models.display(),
                self.model,
                names.join(", ")
            );
        };
        Ok(entry.clone())
    }

    /// The prompt set.
    pub fn prompt_set(&self) -> anyhow::Result<PromptSet> {
        Ok(PromptSet::load_named(&self.prompts_dir, &self.prompt)?)
    }
}

/// How far the model's loop may go on one sol.
#[derive(Debug, Args)]
pub struct LoopArgs {
    /// Failed submissions the model may revise in a sol.
    #[arg(long, default_value_t = 3)]
    pub max_revisions: u32,
    /// Most model turns in a sol.
    #[arg(long, default_value_t = 30)]
    pub max_turns: u32,
    /// Most USD to spend on a sol.
    #[arg(long, default_value_t = 5.0)]
    pub max_cost_usd: f64,
    /// Pixel side of the tiles the model sees.
    #[arg(long, default_value_t = 1024)]
    pub tile_px: u32,
}
