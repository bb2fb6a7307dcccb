//! Campaign runs in the store: one `campaigns` row per (run, campaign, model, prompt) with the
//! scores [`crate::campaign`] computes, and one `campaign_sols` row per sol of it.
//!
//! A campaign and its sols are written in one transaction when the campaign is scored, so a run
//! killed mid-campaign leaves no row of that campaign (nothing half-written is read as done),
//! and the run's `finished_at` stays NULL until every planned campaign is in. Writing a campaign
//! already stored replaces it and its sols in that same transaction: `eval campaign` run again
//! under the same `--run-id` resumes each campaign from its directory and scores it anew.

use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::{now, Store};
use crate::campaign::CampaignScore;
use crate::error::{EvalError, Result};

/// One sol of a stored campaign: what the report's sol tables show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignSol {
    /// 1-based.
    pub number: usize,
    /// The sol's id (its dossier's name under the campaign's `sols/`).
    pub id: String,
    /// `accepted`, `rejected`, `unsafe_stop` or `error`.
    pub status: String,
    /// Why it ended so, in a sentence.
    pub reason: String,
    /// Metres driven (accepted sols).
    pub length_m: Option<f64>,
    /// The twin's drive time, seconds.
    pub drive_s: Option<f64>,
    /// Routes submitted.
    pub submits: u32,
    /// The first route submitted was accepted.
    pub accepted_first_submit: bool,
    /// Whether the end pose passed the safe-stop rules (accepted sols).
    pub end_safe: Option<bool>,
    /// Input plus output tokens.
    pub tokens: u64,
    /// USD spent.
    pub cost_usd: f64,
    /// Wall time of the sol's loop, seconds.
    pub wall_s: f64,
    /// Earlier attempts at this sol the loop refused.
    pub retries: usize,
}

/// A campaign as stored: its scores and its sols, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredCampaign {
    /// The run it belongs to.
    pub run_id: String,
    /// Its scores (campaign id, model, prompt, reached, ratios, ...).
    pub score: CampaignScore,
    /// Its sols.
    pub sols: Vec<CampaignSol>,
}

impl Store {
    /// Commits one scored campaign of run `run_id` with its sols, in one transaction, replacing
    /// the same campaign (id, model, prompt) stored before.
    pub fn put_campaign(
        &self,
        run_id: &str,
        s: &CampaignScore,
        sols: &[CampaignSol],
    ) -> Result<()> {
        let scores = serde_json::to_string(s).unwrap_or_default();
        self.with(|c| {
            let tx = c.transaction()?;
            let key = params![run_id, s.campaign, s.model, s.prompt];
            tx.execute(
                "DELETE FROM campaign_sols
                 WHERE run_id = ?1 AND campaign = ?2 AND model = ?3 AND prompt = ?4",
                key,
            )?;
            tx.execute(
                "DELETE FROM campaigns
                 WHERE run_id = ?1 AND campaign = ?2 AND model = ?3 AND prompt = ?4",
                key,
            )?;
            tx.execute(
                "INSERT INTO campaigns (run_id, campaign, model, prompt, reached, state, sols,
                    reference_sols, sols_ratio, km, length_ratio, drive_hours, cost_ratio,
                    first_submit_rate, tokens, cost_usd, wall_s, scores, dir, finished_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                         ?17, ?18, ?19, ?20)",
                params![
                    run_id,
                    s.campaign,
                    s.model,
                    s.prompt,
                    s.reached,
                    s.state,
                    s.sols,
                    s.reference_sols,
                    s.sols_ratio,
                    s.km,
                    s.length_ratio,
                    s.drive_hours,
                    s.cost_ratio,
                    s.first_submit_rate,
                    s.tokens,
                    s.cost_usd,
                    s.wall_s,
                    scores,
                    s.dir.display().to_string(),
                    now(),
                ],
            )?;
            for sol in sols {
                tx.execute(
                    "INSERT INTO campaign_sols (run_id, campaign, model, prompt, number, sol,
                        status, length_m, drive_s, submits, accepted_first_submit, tokens,
                        cost_usd, record)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                    params![
                        run_id,
                        s.campaign,
                        s.model,
                        s.prompt,
                        sol.number,
                        sol.id,
                        sol.status,
                        sol.length_m,
                        sol.drive_s,
                        sol.submits,
                        sol.accepted_first_submit,
                        sol.tokens,
                        sol.cost_usd,
                        serde_json::to_string(sol).unwrap_or_default(),
                    ],
                )?;
            }
            tx.commit()
        })
    }

    /// Every stored campaign of run `run_id`, in (campaign, model, prompt) order, each with its
    /// sols in order.
    pub fn campaigns(&self, run_id: &str) -> Result<Vec<StoredCampaign>> {
        let rows: Vec<(String, String, String, String)> = self.with(|c| {
            let mut st = c.prepare(
                "SELECT campaign, model, prompt, scores FROM campaigns WHERE run_id = ?1
                 ORDER BY campaign, model, prompt",
            )?;
            let rows = st
                .query_map(params![run_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
            rows.collect()
        })?;
        let bad = |what: &str, e: serde_json::Error| EvalError::Store {
            path: self.path.clone(),
            message: format!("stored {what} do not parse: {e}"),
        };
        let mut out = Vec::with_capacity(rows.len());
        for (campaign, model, prompt, scores) in rows {
            let score: CampaignScore =
                serde_json::from_str(&scores).map_err(|e| bad("campaign scores", e))?;
            let sols: Vec<String> = self.with(|c| {
                let mut st = c.prepare(
                    "SELECT record FROM campaign_sols
                     WHERE run_id = ?1 AND campaign = ?2 AND model = ?3 AND prompt = ?4
                     ORDER BY number",
                )?;
                let rows = st.query_map(params![run_id, campaign, model, prompt], |r| r.get(0))?;
                rows.collect()
            })?;
            let sols = sols
                .iter()
                .map(|s| serde_json::from_str(s).map_err(|e| bad("campaign sols", e)))
                .collect::<Result<Vec<CampaignSol>>>()?;
            out.push(StoredCampaign { run_id: run_id.to_owned(), score, sols });
        }
        Ok(out)
    }

    /// Marks campaign run `run_id` finished when it holds `planned` campaigns; returns how many
    /// it holds.
    pub fn finish_campaign_run(&self, run_id: &str, planned: u32) -> Result<u32> {
        self.with(|c| {
            let n: u32 = c.query_row(
                "SELECT COUNT(*) FROM campaigns WHERE run_id = ?1",
                params![run_id],
                |r| r.get(0),
            )?;
            if n >= planned {
                c.execute(
                    "UPDATE runs SET finished_at = ?2 WHERE id = ?1 AND finished_at IS NULL",
                    params![run_id, now()],
                )?;
            }
            Ok(n)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::testutil::{run, score, sol};
    use crate::store::{RunKind, RunOptions};

    #[test]
    fn campaigns_are_stored_with_their_sols_and_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("b.db")).unwrap();
        store.create_run(&run("c1")).unwrap();
        assert_eq!(store.run("c1").unwrap().unwrap().kind, RunKind::Campaign);
        store
            .put_campaign("c1", &score("b-2km", "reference", true, 2.1), &[sol(1), sol(2)])
            .unwrap();
        assert_eq!(store.finish_campaign_run("c1", 2).unwrap(), 1);
        assert!(store.run("c1").unwrap().unwrap().finished_at.is_none(), "one of two: not done");
        store.put_campaign("c1", &score("a-4km", "reference", false, 1.0), &[sol(1)]).unwrap();
        // Again, as a resumed run scores it: replaced, sols and all, never doubled.
        store.put_campaign("c1", &score("b-2km", "reference", true, 2.2), &[sol(1)]).unwrap();
        let got = store.campaigns("c1").unwrap();
        let ids: Vec<&str> = got.iter().map(|c| c.score.campaign.as_str()).collect();
        assert_eq!(ids, ["a-4km", "b-2km"]);
        assert_eq!((got[1].score.km, got[1].sols.len()), (2.2, 1));
        assert_eq!(got[0].sols[0], sol(1));
        assert_eq!(store.finish_campaign_run("c1", 2).unwrap(), 2);
        assert!(store.run("c1").unwrap().unwrap().finished_at.is_some());
        // `eval list` counts campaigns and the goals reached.
        let list = store.list().unwrap();
        assert_eq!((list[0].done, list[0].accepted), (2, 1));
        assert!(store.campaigns("nope").unwrap().is_empty());
    }

    #[test]
    fn a_campaign_that_fails_to_store_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("b.db")).unwrap();
        store.create_run(&run("c1")).unwrap();
        store.put_campaign("c1", &score("x", "reference", true, 2.0), &[sol(1)]).unwrap();
        // The second sol 1 breaks its key after the campaign row and a sol are written: the
        // transaction rolls back whole, and the campaign stored before stays as it was.
        let e = store.put_campaign("c1", &score("x", "reference", false, 9.0), &[sol(1), sol(1)]);
        assert!(e.is_err());
        let got = store.campaigns("c1").unwrap();
        assert_eq!((got.len(), got[0].score.km, got[0].sols.len()), (1, 2.0, 1));
        let e = store.put_campaign("c1", &score("y", "reference", true, 2.0), &[sol(2), sol(2)]);
        assert!(e.is_err());
        assert_eq!(store.campaigns("c1").unwrap().len(), 1, "no half-written campaign y");
        assert_eq!(store.finish_campaign_run("c1", 2).unwrap(), 1);
        assert!(store.run("c1").unwrap().unwrap().finished_at.is_none());
    }

    #[test]
    fn a_store_from_before_campaign_runs_gains_them_and_keeps_its_runs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            // The `runs` table as the first stores made it: no options, no kind.
            let c = rusqlite::Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE runs (id TEXT PRIMARY KEY, suite TEXT NOT NULL,
                    suite_path TEXT NOT NULL, models TEXT NOT NULL, prompts TEXT NOT NULL,
                    repeats INTEGER NOT NULL, planned INTEGER NOT NULL, runs_dir TEXT NOT NULL,
                    started_at TEXT NOT NULL, finished_at TEXT, evals_version TEXT NOT NULL);
                 INSERT INTO runs VALUES ('old', 's', 's.toml', 'a', 'v1', 1, 1, 'runs',
                    '2025-01-01T00:00:00Z', NULL, '0.1');",
            )
            .unwrap();
        }
        let store = Store::open(&path).unwrap();
        let old = store.run("old").unwrap().unwrap();
        assert_eq!((old.kind, old.options), (RunKind::Sol, RunOptions::default()));
        store.create_run(&run("c1")).unwrap();
        store.put_campaign("c1", &score("x", "reference", true, 2.0), &[sol(1)]).unwrap();
        assert_eq!(store.campaigns("c1").unwrap().len(), 1);
        assert_eq!(store.list().unwrap().len(), 2);
    }
}
