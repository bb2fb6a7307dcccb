//! The HTML report of a campaign run (`eval campaign`): one self-contained page, like a sol
//! run's, from the store's `campaigns` and `campaign_sols` rows.
//!
//! - a header (run, suite, models, prompt, campaigns done of planned, dates);
//! - per (model, prompt) over all campaigns: goals reached, sols used against the reference's,
//!   median length and cost ratios, first-submit acceptance pooled over every sol, tokens, USD;
//! - per campaign, a section: what the campaign is (from the suite file, when it still loads),
//!   a table of each model's scores, each model's `overview.png` inlined (and linked at full
//!   size), and each model's sols, one row per sol.
//!
//! Files that cannot be read (a moved campaign directory, a suite file gone) are said on the
//! page instead of failing the report.

use std::path::Path;

use minijinja::context;
use serde::Serialize;

use super::images::ImageBank;
use super::page::{environment, script_json, STYLE};
use super::{ReportError, ReportStats};
use crate::campaign::{CampaignCase, CampaignSuite};
use crate::stats::median;
use crate::store::{CampaignSol, RunKind, RunRecord, Store, StoredCampaign};

const TEMPLATE: &str = include_str!("campaign.html");

/// The run, as the header shows it.
#[derive(Debug, Clone, Serialize)]
struct Header {
    id: String,
    suite: String,
    suite_path: String,
    description: String,
    models: String,
    prompts: String,
    done: usize,
    planned: u32,
    started_at: String,
    finished_at: String,
    generated_at: String,
}

/// One (model, prompt) over every campaign.
#[derive(Debug, Clone, Serialize)]
struct Totals {
    model: String,
    prompt: String,
    campaigns: usize,
    reached: String,
    sols: String,
    length_ratio: String,
    cost_ratio: String,
    first_submit: String,
    tokens: u64,
    usd: String,
}

/// One model's scores on one campaign, formatted.
#[derive(Debug, Clone, Serialize)]
struct ScoreRow {
    model: String,
    prompt: String,
    reached: bool,
    state: String,
    reason: String,
    sols: String,
    sols_ratio: String,
    km: String,
    length_ratio: String,
    drive_hours: String,
    cost_ratio: String,
    first_submit: String,
    tokens: u64,
    usd: String,
    wall_s: String,
}

/// One model's overview picture of one campaign.
#[derive(Debug, Clone, Serialize)]
struct Overview {
    model: String,
    prompt: String,
    /// Image key, when the file is there.
    img: Option<String>,
    /// The file, as a `file://` link to the full-size picture.
    href: String,
    path: String,
}

/// One sol, formatted.
#[derive(Debug, Clone, Serialize)]
struct SolRow {
    number: usize,
    id: String,
    status: String,
    length_m: String,
    drive_min: String,
    submits: u32,
    first_submit: bool,
    end_safe: String,
    retries: usize,
    tokens: u64,
    usd: String,
    wall_s: String,
    reason: String,
}

/// One model's sols on one campaign.
#[derive(Debug, Clone, Serialize)]
struct SolTable {
    model: String,
    prompt: String,
    dir: String,
    rows: Vec<SolRow>,
}

/// One campaign's section.
#[derive(Debug, Clone, Serialize)]
struct Section {
    id: String,
    about: String,
    scores: Vec<ScoreRow>,
    overviews: Vec<Overview>,
    sols: Vec<SolTable>,
}

/// Everything the page shows.
#[derive(Debug, Clone, Serialize)]
struct CampaignPage {
    run: Header,
    notes: Vec<String>,
    totals: Vec<Totals>,
    sections: Vec<Section>,
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.filter(|x| x.is_finite()).map_or_else(|| "-".into(), |x| format!("{x:.digits$}"))
}

fn percent(x: f64) -> String {
    format!("{:.0}%", 100.0 * x)
}

/// What the suite says the campaign is: its site, ends, distance, rover and sol limit.
fn about(case: &CampaignCase) -> String {
    let s = &case.synth;
    let d = (case.goal[0] - case.start[0]).hypot(case.goal[1] - case.start[1]);
    format!(
        "synthetic {} site (seed {}, {} cells of {} m a side); start ({:.0}, {:.0}), goal \
         ({:.0}, {:.0}): {:.2} km apart; rover {}; at most {} sols",
        s.preset,
        s.seed,
        s.size,
        s.res,
        case.start[0],
        case.start[1],
        case.goal[0],
        case.goal[1],
        d / 1000.0,
        case.rover,
        case.max_sols
    )
}

fn score_row(c: &StoredCampaign) -> ScoreRow {
    let s = &c.score;
    ScoreRow {
        model: s.model.clone(),
        prompt: s.prompt.clone(),
        reached: s.reached,
        state: s.state.clone(),
        reason: s.reason.clone(),
        sols: format!("{} (ref {})", s.sols, s.reference_sols),
        sols_ratio: opt(s.sols_ratio, 2),
        km: format!("{:.2}", s.km),
        length_ratio: opt(s.length_ratio, 3),
        drive_hours: format!("{:.2}", s.drive_hours),
        cost_ratio: opt(s.cost_ratio, 3),
        first_submit: percent(s.first_submit_rate),
        tokens: s.tokens,
        usd: format!("{:.4}", s.cost_usd),
        wall_s: format!("{:.1}", s.wall_s),
    }
}

fn sol_row(s: &CampaignSol) -> SolRow {
    SolRow {
        number: s.number,
        id: s.id.clone(),
        status: s.status.clone(),
        length_m: opt(s.length_m, 1),
        drive_min: opt(s.drive_s.map(|x| x / 60.0), 1),
        submits: s.submits,
        first_submit: s.accepted_first_submit,
        end_safe: match s.end_safe {
            Some(true) => "safe".into(),
            Some(false) => "unsafe".into(),
            None => "-".into(),
        },
        retries: s.retries,
        tokens: s.tokens,
        usd: format!("{:.4}", s.cost_usd),
        wall_s: format!("{:.1}", s.wall_s),
        reason: s.reason.clone(),
    }
}

fn totals(model: &str, prompt: &str, cs: &[&StoredCampaign]) -> Totals {
    let reached = cs.iter().filter(|c| c.score.reached).count();
    let sols: usize = cs.iter().map(|c| c.score.sols).sum();
    let ref_sols: usize = cs.iter().map(|c| c.score.reference_sols).sum();
    let all_sols: Vec<&CampaignSol> = cs.iter().flat_map(|c| &c.sols).collect();
    let first = all_sols.iter().filter(|s| s.accepted_first_submit).count();
    Totals {
        model: model.to_owned(),
        prompt: prompt.to_owned(),
        campaigns: cs.len(),
        reached: format!("{reached}/{}", cs.len()),
        sols: format!("{sols} (ref {ref_sols})"),
        length_ratio: opt(median(cs.iter().filter_map(|c| c.score.length_ratio)), 3),
        cost_ratio: opt(median(cs.iter().filter_map(|c| c.score.cost_ratio)), 3),
        first_submit: if all_sols.is_empty() {
            "-".into()
        } else {
            format!(
                "{} ({first}/{} sols)",
                percent(first as f64 / all_sols.len() as f64),
                all_sols.len()
            )
        },
        tokens: cs.iter().map(|c| c.score.tokens).sum(),
        usd: format!("{:.4}", cs.iter().map(|c| c.score.cost_usd).sum::<f64>()),
    }
}

/// Builds the page of campaign run `run`. Returns the HTML and what it holds.
pub(super) fn render(store: &Store, run: &RunRecord) -> Result<(String, ReportStats), ReportError> {
    let campaigns = store.campaigns(&run.id)?;
    let mut notes = Vec::new();
    let suite = match CampaignSuite::find(Path::new(""), &run.suite_path) {
        Ok(s) => Some(s),
        Err(e) => {
            notes.push(format!(
                "the suite could not be loaded, so campaigns are not described: {e}"
            ));
            None
        }
    };
    // Campaigns in suite order, then any the suite no longer lists.
    let mut ids: Vec<String> =
        suite.iter().flat_map(|s| s.campaign.iter().map(|c| c.id.clone())).collect();
    for c in &campaigns {
        if !ids.contains(&c.score.campaign) {
            ids.push(c.score.campaign.clone());
        }
    }
    ids.retain(|id| campaigns.iter().any(|c| &c.score.campaign == id));
    // Cells in the run's order.
    let cells: Vec<(String, String)> = run
        .models
        .iter()
        .flat_map(|m| run.prompts.iter().map(move |p| (m.clone(), p.clone())))
        .collect();
    let order = |c: &&StoredCampaign| {
        cells.iter().position(|(m, p)| *m == c.score.model && *p == c.score.prompt)
    };

    let mut bank = ImageBank::new();
    let mut sections = Vec::new();
    for id in &ids {
        let mut these: Vec<&StoredCampaign> =
            campaigns.iter().filter(|c| &c.score.campaign == id).collect();
        these.sort_by_key(order);
        let case = suite.as_ref().and_then(|s| s.campaign.iter().find(|c| &c.id == id));
        let mut overviews = Vec::new();
        for c in &these {
            let path = c.score.dir.join("overview.png");
            let img = bank.chart(&path);
            if img.is_none() {
                notes.push(format!(
                    "campaign {id}, {}: no overview at {}",
                    c.score.model,
                    path.display()
                ));
            }
            overviews.push(Overview {
                model: c.score.model.clone(),
                prompt: c.score.prompt.clone(),
                img,
                href: format!(
                    "file://{}",
                    std::path::absolute(&path).unwrap_or(path.clone()).display()
                ),
                path: path.display().to_string(),
            });
        }
        sections.push(Section {
            id: id.clone(),
            about: case.map(about).unwrap_or_default(),
            scores: these.iter().map(|c| score_row(c)).collect(),
            overviews,
            sols: these
                .iter()
                .map(|c| SolTable {
                    model: c.score.model.clone(),
                    prompt: c.score.prompt.clone(),
                    dir: c.score.dir.display().to_string(),
                    rows: c.sols.iter().map(sol_row).collect(),
                })
                .collect(),
        });
    }
    let totals: Vec<Totals> = cells
        .iter()
        .filter_map(|(m, p)| {
            let cs: Vec<&StoredCampaign> =
                campaigns.iter().filter(|c| c.score.model == *m && c.score.prompt == *p).collect();
            (!cs.is_empty()).then(|| totals(m, p, &cs))
        })
        .collect();

    let image_count = bank.len();
    let (urls, image_problems) = bank.encode();
    notes.extend(image_problems);
    let sols: usize = campaigns.iter().map(|c| c.sols.len()).sum();
    let page = CampaignPage {
        run: Header {
            id: run.id.clone(),
            suite: run.suite.clone(),
            suite_path: run.suite_path.clone(),
            description: suite.as_ref().map(|s| s.description.clone()).unwrap_or_default(),
            models: run.models.join(", "),
            prompts: run.prompts.join(", "),
            done: campaigns.len(),
            planned: run.planned,
            started_at: run.started_at.clone(),
            finished_at: run.finished_at.clone().unwrap_or_else(|| "not finished".into()),
            generated_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now())
                .to_string(),
        },
        notes,
        totals,
        sections,
    };
    let html = environment("campaign.html", TEMPLATE)
        .and_then(|env| {
            env.get_template("campaign.html")?.render(context! {
                page => page, images_json => script_json(&urls), style => STYLE
            })
        })
        .map_err(|e| ReportError::Template(format!("{e:#}")))?;
    let stats = ReportStats {
        kind: RunKind::Campaign,
        attempts: campaigns.len(),
        routes: 0,
        images: image_count,
        bytes: html.len() as u64,
        sols,
    };
    Ok((html, stats))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::testutil::{run, score, sol};

    /// A tiny PNG where an overview would be.
    fn overview(dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        image::RgbImage::from_pixel(40, 30, image::Rgb([200, 120, 40]))
            .save(dir.join("overview.png"))
            .unwrap();
    }

    #[test]
    fn a_campaign_run_renders_its_scores_sols_and_overviews() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(&tmp.path().join("b.db")).unwrap();
        let mut r = run("c1");
        r.models = vec!["reference".into(), "noisy".into()];
        r.planned = 4;
        store.create_run(&r).unwrap();
        let mut a = score("mixed-2km", "reference", true, 2.0);
        a.dir = tmp.path().join("mixed-2km/reference-v1");
        overview(&a.dir);
        let mut b = score("mixed-2km", "noisy", false, 1.1);
        b.dir = tmp.path().join("mixed-2km/noisy-v1");
        b.reason = "sol 3: <b>no safe stop</b>".into();
        b.first_submit_rate = 0.5;
        let mut bad = sol(3);
        bad.status = "rejected".into();
        bad.accepted_first_submit = false;
        bad.end_safe = None;
        store.put_campaign("c1", &a, &[sol(1), sol(2)]).unwrap();
        store.put_campaign("c1", &b, &[sol(1), sol(2), bad]).unwrap();

        let (html, stats) = render(&store, &store.run("c1").unwrap().unwrap()).unwrap();
        assert_eq!(
            (stats.kind, stats.attempts, stats.sols, stats.images),
            (RunKind::Campaign, 2, 5, 1)
        );
        assert!(html.contains("<h2 id=\"campaign-mixed-2km\">"), "one section per campaign");
        // The run's model order, the reference first; scores and the sols of both.
        let (ra, rb) =
            (html.find("<td>reference</td>").unwrap(), html.find("<td>noisy</td>").unwrap());
        assert!(ra < rb);
        assert!(html.contains("2 done of 4 planned"));
        // (minijinja writes `/` as `&#x2f;`.)
        assert!(html.contains(">1&#x2f;1<") && html.contains(">0&#x2f;1<"), "goals reached");
        assert!(html.contains("67% (2&#x2f;3 sols)"), "first submit pooled over the noisy sols");
        assert_eq!(html.matches("<tr class=\"sol ").count(), 5);
        assert!(html.contains("<tr class=\"sol rejected\">"));
        // The overview is inlined once and linked; the missing one is said.
        assert_eq!(html.matches("class=\"overview\" data-img=").count(), 1);
        assert!(html.contains("data:image/jpeg;base64,"));
        assert!(html.contains("no overview at"), "the noisy campaign has none");
        // Text from files is escaped.
        assert!(!html.contains("<b>no safe stop</b>") && html.contains("&lt;b&gt;no safe stop"));
        assert!(html.contains("the suite could not be loaded"));
    }
}
