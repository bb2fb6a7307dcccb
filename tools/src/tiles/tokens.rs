//! What an image costs in input tokens, estimated before it is sent, so the loop can budget
//! tiles and the model can be told what zooming costs.
//!
//! - **Anthropic** (Claude vision docs): an image whose long side exceeds 1568 px or whose area
//!   exceeds about 1.15 megapixels is first scaled down (aspect kept) to fit both limits; it
//!   then costs about `width × height / 750` tokens (rounded up here). A 1024² tile: 1,399.
//! - **OpenAI, `detail: high`** (GPT-4o family): the image is scaled to fit in 2048 × 2048,
//!   then so that its short side is at most 768 px; it costs 170 tokens per 512-px square
//!   needed to cover it, plus 85. A 1024² tile → 768² → 2 × 2 squares → 765.
//!
//! Both providers change these rules from time to time; they are estimates for budgeting, and
//! the usage a provider reports is what the run records.

use serde::Serialize;

/// Longest side Anthropic keeps, pixels.
pub const ANTHROPIC_MAX_SIDE: f64 = 1568.0;
/// Largest area Anthropic keeps, pixels (about 1.15 megapixels).
pub const ANTHROPIC_MAX_AREA: f64 = 1_150_000.0;
/// Pixels per token, Anthropic.
pub const ANTHROPIC_PX_PER_TOKEN: f64 = 750.0;

/// Estimated input tokens of one image for common providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TokenEstimate {
    /// Anthropic Claude: `w × h / 750` after their downscale.
    pub anthropic: u32,
    /// OpenAI at `detail: high`: `85 + 170 × 512-px tiles` after their downscale.
    pub openai_high: u32,
}

impl TokenEstimate {
    /// The estimate for a `width` × `height` pixel image.
    #[must_use]
    pub fn for_image(width: u32, height: u32) -> Self {
        TokenEstimate {
            anthropic: anthropic_tokens(width, height),
            openai_high: openai_high_tokens(width, height),
        }
    }
}

/// Anthropic's estimate: downscale to at most 1568 px long side and about 1.15 MP, then
/// `ceil(w × h / 750)`.
#[must_use]
pub fn anthropic_tokens(width: u32, height: u32) -> u32 {
    let (w, h) = (f64::from(width), f64::from(height));
    if w <= 0.0 || h <= 0.0 {
        return 0;
    }
    let scale = (ANTHROPIC_MAX_SIDE / w.max(h)).min((ANTHROPIC_MAX_AREA / (w * h)).sqrt()).min(1.0);
    let (w, h) = ((w * scale).floor().max(1.0), (h * scale).floor().max(1.0));
    (w * h / ANTHROPIC_PX_PER_TOKEN).ceil() as u32
}

/// OpenAI's `detail: high` estimate: fit in 2048², short side to at most 768, then
/// `85 + 170 × ceil(w/512) × ceil(h/512)`.
#[must_use]
pub fn openai_high_tokens(width: u32, height: u32) -> u32 {
    let (w, h) = (f64::from(width), f64::from(height));
    if w <= 0.0 || h <= 0.0 {
        return 0;
    }
    let fit = (2048.0 / w.max(h)).min(1.0);
    let (w, h) = (w * fit, h * fit);
    let short = (768.0 / w.min(h)).min(1.0);
    let (w, h) = (w * short, h * short);
    let tiles = (w / 512.0).ceil() * (h / 512.0).ceil();
    85 + 170 * tiles as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_examples() {
        // OpenAI's worked examples: 1024² → 768² → 4 tiles; 2048 × 4096 → 1024 × 2048 →
        // 768 × 1536 → 6 tiles; 512² stays → 1 tile.
        assert_eq!(openai_high_tokens(1024, 1024), 765);
        assert_eq!(openai_high_tokens(2048, 4096), 85 + 170 * 6);
        assert_eq!(openai_high_tokens(512, 512), 255);
        // Anthropic: 1000² → 1334 (1.0 MP, under both limits); 200² → 54.
        assert_eq!(anthropic_tokens(1000, 1000), 1334);
        assert_eq!(anthropic_tokens(200, 200), 54);
        assert_eq!(anthropic_tokens(1024, 1024), 1399);
        // 2048² is scaled to ~1072² by the area limit: about 1,533 tokens, never more than
        // 1.15 MP / 750.
        let big = anthropic_tokens(2048, 2048);
        assert!((1500..=1534).contains(&big), "{big}");
        assert_eq!(anthropic_tokens(0, 10), 0);
    }
}
