//! `breadcrumb eval compare`: two runs, or two cells, compared attempt by attempt, with
//! significance, per-sol deltas and `--fail-on` rules for CI. Loads the sides, calls the pure
//! [`compare`], prints tables or JSON; exit 1 when a rule trips.

use std::fmt::Write;
use std::path::PathBuf;

use anyhow::bail;
use breadcrumb_evals::compare::campaign::{compare_campaigns, CampaignComparison};
use breadcrumb_evals::compare::{
    compare, load_sides, CompareOptions, Comparison, ContinuousDelta, Rule, SideInfo, Sides,
};
use breadcrumb_evals::store::Store;
use clap::Args;

use super::ExitStatus;

/// Compare B against A, attempt by attempt: did the new prompt or model make plans better or
/// worse, and at what cost?
///
/// A side is a run id (`eval list` shows them) or one cell of a run, RUN:model:prompt. Attempts
/// pair by (sol, repeat) when each side holds one cell (two models, two prompts, or one cell in
/// two runs), and by (sol, model, prompt, repeat) when both are whole runs with the same cells.
///
/// Rates (accepted_rate, accepted_first_submit_rate, expectation_met_rate) are tested with
/// McNemar's exact test on the discordant pairs ("A only" / "B only"); the other metrics by the
/// mean paired delta B − A with a seeded paired bootstrap (10,000 resamples: 95% interval and
/// p-value, the same every time).
///
/// Campaign runs (`eval campaign`) compare campaign by campaign: reached (McNemar), sols
/// used, the length and cost ratios against the reference, km, drive hours, the first-submit
/// rate, tokens and USD (paired bootstrap), each with a verdict that says when there are too
/// few campaigns to tell (the bootstrap needs 5 pairs; McNemar 6 differing campaigns). A sol
/// run against a campaign run is an error. --fail-on gates sol runs only.
///
/// Exit 0 when no --fail-on rule trips, 1 when one does, 2 on errors.
///
/// Example: breadcrumb eval compare eval-20250101T000000Z-1a2b eval-20250102T000000Z-3c4d
///
/// Example: breadcrumb eval compare RUN:reference:v1 RUN:noisy:v1 --fail-on
/// accepted_rate:-0.05,cost_ratio:+0.1
///
/// Example: breadcrumb eval compare camp1:reference:v1 camp1:noisy:v1
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The baseline: RUN or RUN:model:prompt.
    a: String,
    /// The candidate, compared against A (deltas are B − A): RUN or RUN:model:prompt.
    b: String,
    /// The run store.
    #[arg(long, value_name = "PATH", default_value = "runs/breadcrumb.db")]
    db: PathBuf,
    /// Comma-separated rules metric:±threshold (the flag may repeat). metric:-X fails when the
    /// delta B − A falls below -X (accepted_rate:-0.05: acceptance drops more than 5 points);
    /// metric:+X fails when it rises above +X (cost_ratio:+0.1). Metrics: accepted_rate,
    /// accepted_first_submit_rate, expectation_met_rate, cost_ratio, goal_error_m, frechet_m,
    /// route_length_m, turns, tool_calls, input_tokens, output_tokens, cost_usd, wall_s,
    /// revisions.
    #[arg(long, value_name = "RULES")]
    fail_on: Vec<String>,
    /// Print the comparison as JSON (the same exit codes).
    #[arg(long)]
    json: bool,
}

pub fn run(a: &CompareArgs) -> anyhow::Result<ExitStatus> {
    // Rules first: a typo in a CI gate is reported before any store is read.
    let mut rules = Vec::new();
    for text in &a.fail_on {
        rules.extend(Rule::parse_list(text)?);
    }
    if !a.db.is_file() {
        bail!("{}: no run store here (run `breadcrumb eval run` or pass --db)", a.db.display());
    }
    let store = Store::open(&a.db)?;
    let (side_a, side_b) = match load_sides(&store, &a.a, &a.b)? {
        Sides::Sol(x, y) => (x, y),
        Sides::Campaign(x, y) => {
            if !rules.is_empty() {
                bail!("--fail-on gates sol runs; `{}` and `{}` are campaign runs", a.a, a.b);
            }
            let c = compare_campaigns(&x, &y, &CompareOptions::default())?;
            if a.json {
                outln!("{}", serde_json::to_string_pretty(&c)?)?;
            } else {
                out!("{}", render_campaigns(&c))?;
            }
            return Ok(ExitStatus::Success);
        }
    };
    let c = compare(&side_a, &side_b, &rules, &CompareOptions::default())?;
    if a.json {
        outln!("{}", serde_json::to_string_pretty(&c)?)?;
    } else {
        out!("{}", render(&c))?;
    }
    Ok(if c.failed() { ExitStatus::Failure } else { ExitStatus::Success })
}

/// A number with about four significant digits, without exponents for everyday magnitudes.
fn num(x: f64) -> String {
    let digits = match x.abs() {
        a if a >= 1000.0 || a == 0.0 => 0,
        a if a >= 100.0 => 1,
        a if a >= 10.0 => 2,
        a if a >= 1.0 => 3,
        _ => 4,
    };
    format!("{x:.digits$}")
}

fn opt(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), num)
}

fn signed(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |x| if x >= 0.0 { format!("+{}", num(x)) } else { num(x) })
}

fn rate(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |x| format!("{x:.3}"))
}

fn p_value(p: Option<f64>) -> String {
    match p {
        None => "-".into(),
        Some(p) if p < 0.001 => "<0.001".into(),
        Some(p) => format!("{p:.3}"),
    }
}

fn ci(d: &ContinuousDelta) -> String {
    d.ci.map_or_else(
        || "-".into(),
        |[lo, hi]| format!("[{}, {}]", signed(Some(lo)), signed(Some(hi))),
    )
}

/// The two sides (what each is, its cells, how many of its runs (`label.1`) and how many went
/// unpaired; `label.0` says what kind of run it is) and how they were paired.
fn write_sides(
    s: &mut String,
    sides: [&SideInfo; 2],
    label: (&str, &str),
    pairs: u32,
    pairing: &dyn std::fmt::Display,
) {
    for (name, side) in ["A", "B"].into_iter().zip(sides) {
        let cells: Vec<String> = side.cells.iter().map(ToString::to_string).collect();
        let _ = writeln!(
            s,
            "{name}: {} ({}cells {}): {} {}, {} unpaired",
            side.spec,
            label.0,
            cells.join(", "),
            side.attempts,
            label.1,
            side.unpaired
        );
    }
    let _ = writeln!(s, "{pairs} pairs, paired {pairing}");
    let _ = writeln!(s);
}

/// The tables: sides and pairing, one line per metric, one per sol, then the rules' verdict.
fn render(c: &Comparison) -> String {
    let mut s = String::new();
    write_sides(&mut s, [&c.a, &c.b], ("", "attempt(s)"), c.pairs, &c.pairing);
    let _ = writeln!(
        s,
        "{:<27} {:>5} {:>10} {:>10} {:>10}  {:<24} {:>7}",
        "metric", "n", "A", "B", "B - A", "95% CI / discordant", "p"
    );
    for d in &c.binary {
        let _ = writeln!(
            s,
            "{:<27} {:>5} {:>10} {:>10} {:>10}  {:<24} {:>7}",
            d.metric.name(),
            d.n,
            rate(d.a_rate),
            rate(d.b_rate),
            d.delta.map_or_else(|| "-".into(), |x| format!("{x:+.3}")),
            format!("A only {}, B only {}", d.only_a, d.only_b),
            p_value(d.p_value)
        );
    }
    for d in &c.continuous {
        let _ = writeln!(
            s,
            "{:<27} {:>5} {:>10} {:>10} {:>10}  {:<24} {:>7}",
            d.metric.name(),
            d.n,
            opt(d.a_mean),
            opt(d.b_mean),
            signed(d.delta),
            ci(d),
            p_value(d.p_value)
        );
    }
    let _ = writeln!(
        s,
        "(rates over pairs, McNemar exact p; means over pairs where both have a value, paired \
         bootstrap of {} resamples, seed {:#x})",
        c.options.resamples, c.options.seed
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "{:<28} {:>5} {:>10} {:>10} {:>8} {:>12} {:>12} {:>8}",
        "sol",
        "pairs",
        "accepted A",
        "accepted B",
        "B - A",
        "cost ratio A",
        "cost ratio B",
        "B - A"
    );
    for d in &c.per_sol {
        let _ = writeln!(
            s,
            "{:<28} {:>5} {:>10.3} {:>10.3} {:>+8.3} {:>12} {:>12} {:>8}",
            d.sol,
            d.pairs,
            d.a_accepted_rate,
            d.b_accepted_rate,
            d.accepted_delta,
            opt(d.a_median_cost_ratio),
            opt(d.b_median_cost_ratio),
            signed(d.cost_ratio_delta)
        );
    }
    let _ = writeln!(s, "(acceptance rates and median cost ratios over each sol's pairs)");
    if !c.rules.is_empty() {
        let _ = writeln!(s);
        for r in &c.rules {
            let verdict = match (r.delta, r.tripped) {
                (None, _) => "not checked: no pair has this metric on both sides".to_owned(),
                (Some(d), true) => format!("TRIPPED: delta {}", signed(Some(d))),
                (Some(d), false) => format!("ok: delta {}", signed(Some(d))),
            };
            let _ = writeln!(s, "fail-on {}: {verdict}", r.rule);
        }
        let tripped: Vec<&str> =
            c.rules.iter().filter(|r| r.tripped).map(|r| r.rule.as_str()).collect();
        if tripped.is_empty() {
            let _ = writeln!(s, "PASS: no --fail-on rule tripped");
        } else {
            let _ = writeln!(s, "FAIL: {} tripped", tripped.join(", "));
        }
    }
    s
}

/// The campaign tables: sides and pairing, one line per metric with its verdict, one per
/// campaign.
fn render_campaigns(c: &CampaignComparison) -> String {
    let mut s = String::new();
    write_sides(&mut s, [&c.a, &c.b], ("campaign run, ", "campaign(s)"), c.pairs, &c.pairing);
    let _ = writeln!(
        s,
        "{:<18} {:>3} {:>10} {:>10} {:>10}  {:<24} {:>7}  verdict",
        "metric", "n", "A", "B", "B - A", "95% CI / discordant", "p"
    );
    let r = &c.reached;
    let _ = writeln!(
        s,
        "{:<18} {:>3} {:>10} {:>10} {:>+10.3}  {:<24} {:>7}  {}",
        "reached",
        r.n,
        rate(Some(r.a_rate)),
        rate(Some(r.b_rate)),
        r.delta,
        format!("A only {}, B only {}", r.only_a, r.only_b),
        p_value(Some(r.p_value)),
        r.verdict
    );
    for d in &c.continuous {
        let ci = d.ci.map_or_else(
            || "-".into(),
            |[lo, hi]| format!("[{}, {}]", signed(Some(lo)), signed(Some(hi))),
        );
        let _ = writeln!(
            s,
            "{:<18} {:>3} {:>10} {:>10} {:>10}  {:<24} {:>7}  {}",
            d.metric.name(),
            d.n,
            opt(d.a_mean),
            opt(d.b_mean),
            signed(d.delta),
            ci,
            p_value(d.p_value),
            d.verdict
        );
    }
    let _ = writeln!(
        s,
        "(reached: McNemar exact p; means over campaigns where both have a value, paired \
         bootstrap of {} resamples, seed {:#x}, no verdict under {} pairs)",
        c.options.resamples,
        c.options.seed,
        breadcrumb_evals::compare::campaign::MIN_PAIRS
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "{:<24} {:>9} {:>7} {:>13} {:>15} {:>15} {:>13} {:>13}",
        "campaign",
        "reached",
        "sols",
        "sols ×ref",
        "length ×ref",
        "cost ×ref",
        "first submit",
        "USD"
    );
    let yn = |b: bool| if b { "yes" } else { "no" };
    let ab = |x: String, y: String| format!("{x}/{y}");
    for p in &c.per_campaign {
        let name =
            p.cell.as_ref().map_or_else(|| p.campaign.clone(), |c| format!("{} {c}", p.campaign));
        let _ = writeln!(
            s,
            "{:<24} {:>9} {:>7} {:>13} {:>15} {:>15} {:>13} {:>13}",
            name,
            ab(yn(p.a.reached).into(), yn(p.b.reached).into()),
            ab(p.a.sols.to_string(), p.b.sols.to_string()),
            ab(opt(p.a.sols_ratio), opt(p.b.sols_ratio)),
            ab(opt(p.a.length_ratio), opt(p.b.length_ratio)),
            ab(opt(p.a.cost_ratio), opt(p.b.cost_ratio)),
            ab(rate(Some(p.a.first_submit_rate)), rate(Some(p.b.first_submit_rate))),
            ab(num(p.a.cost_usd), num(p.b.cost_usd)),
        );
    }
    let _ = writeln!(s, "(each column A/B; ratios are against the reference policy's campaign)");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use breadcrumb_evals::campaign::CampaignScore;
    use breadcrumb_evals::compare::campaign::CampaignSide;
    use breadcrumb_evals::store::StoredCampaign;

    fn campaign(run: &str, id: &str, model: &str, i: u32, worse: bool) -> StoredCampaign {
        let x = f64::from(i);
        let (sols, km) = if worse { (10 + i % 3, 2.2 + 0.03 * x) } else { (9, 2.0 + 0.01 * x) };
        let score: CampaignScore = serde_json::from_value(serde_json::json!({
            "campaign": id, "model": model, "prompt": "v1", "reached": !(worse && i < 2),
            "state": "reached", "reason": "", "sols": sols, "reference_sols": 9,
            "sols_ratio": f64::from(sols) / 9.0, "km": km, "length_ratio": km / 2.0,
            "drive_hours": km * 13.0, "cost_ratio": km / 2.0,
            "first_submit_rate": if worse { 0.5 } else { 1.0 }, "tokens": 0, "cost_usd": 0.0,
            "wall_s": 60.0, "dir": "d"
        }))
        .unwrap();
        StoredCampaign { run_id: run.into(), score, sols: vec![] }
    }

    /// Six campaigns: B uses more sols and drives further on every one, and misses two goals.
    #[test]
    fn campaign_tables() {
        let side = |run: &str, model: &str, worse: bool| CampaignSide {
            spec: format!("{run}:{model}:v1"),
            run_id: run.into(),
            cell: None,
            campaigns: (0..6).map(|i| campaign(run, &format!("c{i}"), model, i, worse)).collect(),
        };
        let c = compare_campaigns(
            &side("r", "reference", false),
            &side("r", "noisy", true),
            &CompareOptions::default(),
        )
        .unwrap();
        insta::assert_snapshot!(render_campaigns(&c));
    }

    #[test]
    fn numbers_keep_about_four_digits() {
        assert_eq!(num(0.0), "0");
        assert_eq!(num(1.015_87), "1.016");
        assert_eq!(num(0.012_345), "0.0123");
        assert_eq!(num(123_456.7), "123457");
        assert_eq!(signed(Some(0.5)), "+0.5000");
        assert_eq!(signed(Some(-2.0)), "-2.000");
        assert_eq!(p_value(Some(0.000_2)), "<0.001");
    }
}
