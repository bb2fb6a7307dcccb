//! What the page shows, as plain data, and the template that lays it out (`report.html`, with
//! its CSS and script inline, so the file opens anywhere with no network).
//!
//! The template escapes every value (minijinja's HTML auto-escaping): model text, tool results
//! and even sol ids come from files a run wrote and are shown as text, never markup. The one
//! value passed through unescaped is the image map, a JSON document made safe to sit inside a
//! `<script>` element by [`script_json`].

use std::collections::BTreeMap;

use minijinja::{context, AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

use super::transcript::Step;

const TEMPLATE: &str = include_str!("report.html");
/// The styles both pages share, passed to each as `style` (our own file, so not escaped).
pub(super) const STYLE: &str = include_str!("style.css");

/// The template environment: every page escapes HTML and refuses undefined values.
pub(super) fn environment(
    name: &'static str,
    template: &'static str,
) -> Result<Environment<'static>, minijinja::Error> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.add_template(name, template)?;
    Ok(env)
}

/// The run, as the header shows it.
#[derive(Debug, Clone, Serialize)]
pub struct RunView {
    /// Run id.
    pub id: String,
    /// Suite name.
    pub suite: String,
    /// Suite file.
    pub suite_path: String,
    /// Models, comma-separated.
    pub models: String,
    /// Prompt versions, comma-separated.
    pub prompts: String,
    /// Repeats.
    pub repeats: u32,
    /// Attempts stored.
    pub done: usize,
    /// Attempts planned.
    pub planned: u32,
    /// Start (RFC 3339).
    pub started_at: String,
    /// End, or a note that the run is incomplete.
    pub finished_at: String,
    /// When the report was made.
    pub generated_at: String,
}

/// A rate with its interval, in percent for the bar and as text.
#[derive(Debug, Clone, Serialize)]
pub struct RateView {
    /// `3/5 60% [23–88]`.
    pub text: String,
    /// Point estimate, percent.
    pub p: f64,
    /// Interval, percent.
    pub lo: f64,
    /// Interval, percent.
    pub hi: f64,
}

/// One (model, prompt) cell of the matrix summary.
#[derive(Debug, Clone, Serialize)]
pub struct CellView {
    /// Model name.
    pub model: String,
    /// Prompt version.
    pub prompt: String,
    /// Attempts stored.
    pub attempts: u32,
    /// Accepted, accepted on first submission, outcome as expected.
    pub rates: Vec<RateView>,
    /// Medians and the total cost, formatted, in the order of the header.
    pub values: Vec<String>,
}

/// A polyline drawn on a panel.
#[derive(Debug, Clone, Serialize)]
pub struct RouteView {
    /// SVG `points`, panel pixels.
    pub points: String,
    /// The last waypoint, panel pixels.
    pub end: (f64, f64),
    /// Whether the checker passed it.
    pub accepted: bool,
    /// Identity, for the data attributes and the link to the transcript.
    pub sol: String,
    /// Model.
    pub model: String,
    /// Prompt.
    pub prompt: String,
    /// Repeat.
    pub repeat: u32,
    /// Anchor of the attempt's transcript.
    pub anchor: String,
    /// Tooltip.
    pub title: String,
}

/// A checker violation placed on a panel.
#[derive(Debug, Clone, Serialize)]
pub struct MarkView {
    /// Panel pixels.
    pub x: f64,
    /// Panel pixels.
    pub y: f64,
    /// Tooltip: rule, repeat, message.
    pub title: String,
}

/// An outline drawn on a panel: a model's mark or a ground-truth hazard.
#[derive(Debug, Clone, Serialize)]
pub struct PolyView {
    /// SVG `points`, panel pixels.
    pub points: String,
    /// Whether it blocks the rover (drawn filled).
    pub blocks: bool,
    /// Tooltip: id, class, confidence, reason.
    pub title: String,
}

/// One panel: one (model, prompt) cell on one sol.
#[derive(Debug, Clone, Serialize)]
pub struct PanelView {
    /// Model.
    pub model: String,
    /// Prompt.
    pub prompt: String,
    /// `2/3 accepted, 1 without a route`.
    pub caption: String,
    /// Routes, one per attempt that submitted one.
    pub routes: Vec<RouteView>,
    /// Violations of those routes.
    pub violations: Vec<MarkView>,
    /// The hazards the cell's models marked.
    pub marks: Vec<PolyView>,
}

/// A sol's row of small multiples.
#[derive(Debug, Clone, Serialize)]
pub struct SolView {
    /// Sol id.
    pub id: String,
    /// What the suite expects, if it says.
    pub expect: String,
    /// What the panels show, e.g. `350 m square, ortho image`.
    pub scale: String,
    /// Panel side, pixels (the SVG viewBox).
    pub px: u32,
    /// Background image key, if the terrain could be drawn.
    pub bg: Option<String>,
    /// Start, panel pixels.
    pub start: Option<(f64, f64)>,
    /// Goal and its tolerance radius, panel pixels.
    pub goal: Option<(f64, f64, f64)>,
    /// The reference route (SVG points), if the suite has one.
    pub reference: Option<String>,
    /// One panel per (model, prompt).
    pub panels: Vec<PanelView>,
    /// The ground truth perception is scored against, drawn in its own panel first.
    pub truth: Vec<PolyView>,
}

/// A column of the attempts table.
#[derive(Debug, Clone, Serialize)]
pub struct Column {
    /// Header.
    pub name: &'static str,
    /// Sorted as numbers.
    pub numeric: bool,
}

/// A table cell: what is shown and what it sorts by.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    /// Shown.
    pub text: String,
    /// Sort key (empty sorts last).
    pub v: String,
    /// The whole text when `text` is shortened (a tooltip), else empty.
    pub full: String,
}

/// A row of the attempts table.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Anchor of the attempt's transcript.
    pub anchor: String,
    /// `accepted`, `rejected` or `error` (a CSS class).
    pub status: String,
    /// Cells, in column order.
    pub cells: Vec<Cell>,
}

/// One attempt's transcript.
#[derive(Debug, Clone, Serialize)]
pub struct AttemptView {
    /// Anchor.
    pub anchor: String,
    /// `sol · model · prompt · r0`.
    pub title: String,
    /// Status (a CSS class).
    pub status: String,
    /// Why it ended.
    pub reason: String,
    /// Where its files are.
    pub dir: String,
    /// What could not be read.
    pub problems: Vec<String>,
    /// Image key of the digital twin's telemetry plot of the last route, when the run has one.
    pub twin_plot: Option<String>,
    /// The steps.
    pub steps: Vec<Step>,
}

/// Everything the page shows.
#[derive(Debug, Clone, Serialize)]
pub struct Page {
    /// The run.
    pub run: RunView,
    /// Things that could not be read or drawn.
    pub notes: Vec<String>,
    /// Headers of the cells' values.
    pub cell_headers: Vec<&'static str>,
    /// The matrix summary.
    pub cells: Vec<CellView>,
    /// Small multiples.
    pub sols: Vec<SolView>,
    /// Attempts table header.
    pub columns: Vec<Column>,
    /// Attempts table.
    pub rows: Vec<Row>,
    /// Transcripts.
    pub attempts: Vec<AttemptView>,
    /// Routes the page draws.
    pub routes: usize,
}

/// JSON that can sit inside a `<script>` element: `<`, `>` and `&` are written as `\u003c`,
/// `\u003e` and `\u0026` (so no `</script>` or `<!--` can appear), and the line separators
/// U+2028/U+2029 escaped for old JavaScript parsers. Still the same JSON to `JSON.parse`.
#[must_use]
pub fn script_json(value: &impl Serialize) -> String {
    let raw = serde_json::to_string(value).unwrap_or_else(|_| "{}".into());
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// Renders the page. `images` maps image keys to data URLs.
pub fn render(page: &Page, images: &BTreeMap<String, String>) -> Result<String, minijinja::Error> {
    environment("report.html", TEMPLATE)?
        .get_template("report.html")?
        .render(context! { page => page, images_json => script_json(images), style => STYLE })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_with(text: &str, sol: &str) -> Page {
        let step = Step {
            kind: "model",
            label: "model, turn 1".into(),
            text: Some(text.into()),
            code: Some(format!("{{\"note\": \"{text}\"}}")),
            items: vec![text.into()],
            ..Step::default()
        };
        Page {
            run: RunView {
                id: "r<1>".into(),
                suite: "s".into(),
                suite_path: "s.toml".into(),
                models: "m".into(),
                prompts: "v1".into(),
                repeats: 1,
                done: 1,
                planned: 1,
                started_at: "t0".into(),
                finished_at: "t1".into(),
                generated_at: "t2".into(),
            },
            notes: vec![text.into()],
            cell_headers: vec![],
            cells: vec![],
            sols: vec![SolView {
                id: sol.into(),
                expect: String::new(),
                scale: String::new(),
                px: 100,
                bg: None,
                start: Some((1.0, 2.0)),
                goal: Some((3.0, 4.0, 5.0)),
                reference: None,
                truth: vec![],
                panels: vec![PanelView {
                    model: "m".into(),
                    prompt: "v1".into(),
                    caption: String::new(),
                    routes: vec![RouteView {
                        points: "0.0,0.0 10.0,10.0".into(),
                        end: (10.0, 10.0),
                        accepted: true,
                        sol: sol.into(),
                        model: "m".into(),
                        prompt: "v1".into(),
                        repeat: 0,
                        anchor: "a-0".into(),
                        title: text.into(),
                    }],
                    violations: vec![],
                    marks: vec![],
                }],
            }],
            columns: vec![],
            rows: vec![],
            attempts: vec![AttemptView {
                anchor: "a-0".into(),
                title: sol.into(),
                status: "accepted".into(),
                reason: text.into(),
                dir: String::new(),
                problems: vec![],
                twin_plot: None,
                steps: vec![step],
            }],
            routes: 1,
        }
    }

    #[test]
    fn untrusted_text_is_escaped_everywhere() {
        let evil = "<script>alert('x')</script><img src=x onerror=alert(1)>";
        let sol = "sol\" onmouseover=\"alert(2)";
        let html = render(&page_with(evil, sol), &BTreeMap::new()).unwrap();
        assert!(!html.contains("<script>alert"), "raw script tag in the page");
        assert!(!html.contains("<img src=x"), "raw img tag in the page");
        assert!(!html.contains("\" onmouseover=\""), "attribute broken out of");
        assert!(html.contains("&lt;script&gt;alert("), "the text is still shown, escaped");
        assert!(html.contains("data-sol=\"sol&quot; onmouseover=&quot;alert(2)\""));
        // The page's own script is still there: one opening tag per script element.
        assert_eq!(html.matches("<script").count(), 2, "image map and page script only");
    }

    #[test]
    fn script_json_cannot_close_the_script_element() {
        let mut m = BTreeMap::new();
        m.insert("k".to_owned(), "</script><!-- & \u{2028}".to_owned());
        let s = script_json(&m);
        assert!(!s.contains('<') && !s.contains('>') && !s.contains('&'), "{s}");
        let back: BTreeMap<String, String> = serde_json::from_str(&s).unwrap();
        assert_eq!(back, m);
        let html = render(&page_with("x", "s"), &m).unwrap();
        assert!(html.contains("\\u003c/script\\u003e"));
        assert_eq!(html.matches("</script>").count(), 2);
    }
}
