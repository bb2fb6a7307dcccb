//! What a turn costs: USD from token counts, and image tokens estimated before sending.

use serde::{Deserialize, Serialize};

use super::Usage;

/// A model's list prices.
///
/// Cache prices left `None` are charged at the input price (no discount assumed);
/// [`crate::models::ModelEntry::prices`] fills in each provider's usual ratios.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Prices {
    /// USD per million input tokens (images included) not served from or written to a cache.
    pub input_usd_per_mtok: f64,
    /// USD per million output tokens.
    pub output_usd_per_mtok: f64,
    /// USD per million input tokens read from the prompt cache.
    #[serde(default)]
    pub cached_input_usd_per_mtok: Option<f64>,
    /// USD per million input tokens written to the prompt cache (Anthropic).
    #[serde(default)]
    pub cache_write_usd_per_mtok: Option<f64>,
}

impl Prices {
    /// USD for a turn's usage. Image tokens are part of the input count on every API, so they
    /// are not added again; cache reads and writes are parts of it too, priced at their own
    /// rates, and the rest of the input at the input price.
    ///
    /// ```
    /// use breadcrumb_agent::provider::Prices;
    /// use breadcrumb_agent::provider::Usage;
    /// let prices = Prices {
    ///     input_usd_per_mtok: 3.0,
    ///     output_usd_per_mtok: 15.0,
    ///     cached_input_usd_per_mtok: Some(0.3),
    ///     cache_write_usd_per_mtok: Some(3.75),
    /// };
    /// let usage = Usage { input_tokens: 10_000, output_tokens: 1_000, ..Usage::default() };
    /// assert!((prices.cost_usd(&usage) - 0.045).abs() < 1e-12);
    /// // 2,000 of the 10,000 written to the cache, 6,000 read from it.
    /// let cached = Usage { cache_write_tokens: 2_000, cached_input_tokens: 6_000, ..usage };
    /// let usd = (2_000.0 * 3.0 + 2_000.0 * 3.75 + 6_000.0 * 0.3 + 1_000.0 * 15.0) / 1e6;
    /// assert!((prices.cost_usd(&cached) - usd).abs() < 1e-12);
    /// ```
    #[must_use]
    pub fn cost_usd(&self, usage: &Usage) -> f64 {
        let read = usage.cached_input_tokens.min(usage.input_tokens);
        let written = usage.cache_write_tokens.min(usage.input_tokens - read);
        let plain = usage.input_tokens - read - written;
        (plain as f64 * self.input_usd_per_mtok
            + read as f64 * self.cached_input_usd_per_mtok.unwrap_or(self.input_usd_per_mtok)
            + written as f64 * self.cache_write_usd_per_mtok.unwrap_or(self.input_usd_per_mtok)
            + usage.output_tokens as f64 * self.output_usd_per_mtok)
            / 1_000_000.0
    }
}

/// How a provider counts an image's tokens (for budgets before a turn is sent).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageTokenRule {
    /// Anthropic: long edge scaled to at most 1568 px, then width × height / 750, about 1600 at
    /// most.
    Anthropic,
    /// OpenAI GPT-4o at `detail: high`: fit in 2048 × 2048, short side scaled to 768, then 170
    /// per 512-px tile plus 85.
    #[serde(rename = "openai")]
    OpenAi,
    /// Unknown or free (local models, the reference policy): count nothing.
    #[default]
    None,
}

impl ImageTokenRule {
    /// Estimated input tokens of one `width` × `height` pixel image.
    ///
    /// ```
    /// use breadcrumb_agent::provider::ImageTokenRule;
    /// assert_eq!(ImageTokenRule::OpenAi.estimate(1024, 1024), 765);
    /// assert_eq!(ImageTokenRule::Anthropic.estimate(1000, 1000), 1334);
    /// ```
    #[must_use]
    pub fn estimate(self, width: u32, height: u32) -> u64 {
        let (w, h) = (f64::from(width.max(1)), f64::from(height.max(1)));
        match self {
            ImageTokenRule::None => 0,
            ImageTokenRule::Anthropic => {
                let scale = (1568.0 / w.max(h)).min(1.0);
                let tokens = ((w * scale) * (h * scale) / 750.0).ceil() as u64;
                tokens.min(1600)
            }
            // The tiles' own estimate (what `view_tile` tells the model a zoom costs).
            ImageTokenRule::OpenAi => u64::from(
                breadcrumb_tools::tiles::tokens::openai_high_tokens(width.max(1), height.max(1)),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_rules() {
        assert_eq!(ImageTokenRule::None.estimate(4000, 4000), 0);
        // 2048 x 4096 -> 1024 x 2048 -> 768 x 1536: 2 x 3 tiles.
        assert_eq!(ImageTokenRule::OpenAi.estimate(2048, 4096), 85 + 170 * 6);
        assert_eq!(ImageTokenRule::OpenAi.estimate(512, 512), 255);
        assert_eq!(ImageTokenRule::Anthropic.estimate(200, 200), 54);
        assert_eq!(ImageTokenRule::Anthropic.estimate(3000, 3000), 1600);
    }

    #[test]
    fn cost_of_nothing_is_nothing() {
        let prices =
            Prices { input_usd_per_mtok: 2.5, output_usd_per_mtok: 10.0, ..Prices::default() };
        assert_eq!(prices.cost_usd(&Usage::default()), 0.0);
        let usage = Usage {
            input_tokens: 1_000_000,
            output_tokens: 1_000_000,
            image_tokens: Some(5),
            ..Usage::default()
        };
        assert_eq!(prices.cost_usd(&usage), 12.5);
        // No cache prices: cached tokens cost the input price.
        assert_eq!(prices.cost_usd(&Usage { cached_input_tokens: 400_000, ..usage }), 12.5);
    }

    #[test]
    fn cache_reads_and_writes_are_priced_apart() {
        let prices = Prices {
            input_usd_per_mtok: 2.5,
            output_usd_per_mtok: 10.0,
            cached_input_usd_per_mtok: Some(1.25),
            cache_write_usd_per_mtok: None,
        };
        let usage =
            Usage { input_tokens: 1_000_000, cached_input_tokens: 600_000, ..Usage::default() };
        assert!((prices.cost_usd(&usage) - (0.4 * 2.5 + 0.6 * 1.25)).abs() < 1e-12);
        let anthropic = Prices {
            input_usd_per_mtok: 3.0,
            output_usd_per_mtok: 15.0,
            cached_input_usd_per_mtok: Some(0.3),
            cache_write_usd_per_mtok: Some(3.75),
        };
        let usage = Usage {
            input_tokens: 1_000_000,
            cached_input_tokens: 500_000,
            cache_write_tokens: 250_000,
            ..Usage::default()
        };
        let usd = 0.25 * 3.0 + 0.5 * 0.3 + 0.25 * 3.75;
        assert!((anthropic.cost_usd(&usage) - usd).abs() < 1e-12);
        // Inconsistent counts (cache parts above the total) never charge a negative remainder.
        let odd =
            Usage { input_tokens: 100, cached_input_tokens: 80, cache_write_tokens: 80, ..usage };
        let usd = (80.0 * 0.3 + 20.0 * 3.75) / 1e6;
        assert!((anthropic.cost_usd(&odd) - usd).abs() < 1e-15);
    }
}
