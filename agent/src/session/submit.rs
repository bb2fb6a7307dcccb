//! The one submission path: a `submit_route` call's waypoints go to the safety checker and to
//! the digital twin, and the two verdicts decide what the model is answered and whether the run
//! goes on. A route is accepted only when both pass; the twin can only add refusals.
//!
//! The tool itself ([`breadcrumb_tools::api::submit_route`]) only validates the waypoints and
//! hands them over as an [`Effect::Submit`](breadcrumb_tools::api::Effect); everything the
//! model reads about a submission (the verdict's compact JSON, the revision instructions) is
//! written here, once.

use breadcrumb_tools::api::check_route::CheckRouteResult;
use breadcrumb_tools::api::Toolbox;
use breadcrumb_tools::checker::{Pt, Verdict};
use breadcrumb_tools::twin::TwinRun;
use serde_json::json;

use super::RunStatus;

/// What the loop does after a judged submission.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// The run ends: accepted, or rejected with no revision left; the reason in a sentence.
    End(RunStatus, String),
    /// The route failed or could not be checked and revisions are left: the model is told
    /// this text after the turn's tool results, and goes on.
    Revise(String),
}

/// A judged submission.
#[derive(Debug, Clone)]
pub(crate) struct Judged {
    /// The checker's verdict (`None`: the route could not be checked).
    pub verdict: Option<Verdict>,
    /// The twin's drive of the route (`None` when the checker could not check it).
    pub twin: Option<TwinRun>,
    /// The model-facing result of the `submit_route` call (an error when there is no
    /// verdict: the route could not be checked).
    pub content: String,
    /// Whether the run goes on.
    pub outcome: Outcome,
}

/// Judges submission number `submit` (from 1) of a run that allows `max_revisions`.
pub(crate) fn judge(toolbox: &Toolbox, points: &[Pt], submit: u32, max_revisions: u32) -> Judged {
    let checked = toolbox.checker().check(toolbox.mission(), points);
    let twin = checked.is_ok().then(|| toolbox.twin(points));
    let (pass, content, problem) = if let (Ok(v), Some(t)) = (&checked, &twin) {
        let compact = CheckRouteResult::from_verdict(v).with_twin(&t.verdict);
        let accepted = v.pass && t.verdict.pass;
        let content = json!({"submitted": true, "accepted": accepted, "verdict": compact});
        let mut why = Vec::new();
        if !v.pass {
            why.push(format!(
                    "the safety checker found {} violation(s) (rule, segment, place, measured                      value, limit)",
                    v.violation_count()
                ));
        }
        if !t.verdict.pass {
            why.push(format!(
                    "the digital twin, driving the rover over the terrain, found {} violation(s)                      (under `twin`: rule, command, segment, place, measured value, limit)",
                    t.verdict.violation_count()
                ));
        }
        let problem = format!(
                "The submitted route was rejected: {}, listed in the submit_route result. Revise                  the route to fix each one, check it with check_route, and submit again.",
                why.join(", and ")
            );
        (accepted, content.to_string(), problem)
    } else {
        let e = checked.as_ref().err().map_or_else(String::new, ToString::to_string);
        let content = json!({"submitted": true, "accepted": false, "error": e});
        let problem = format!("The route could not be checked: {e}. Submit a corrected route.");
        (false, content.to_string(), problem)
    };
    let revisions_used = submit.saturating_sub(1);
    let outcome = if pass {
        Outcome::End(RunStatus::Accepted, format!("route accepted on submission {submit}"))
    } else if revisions_used >= max_revisions {
        let why = format!(
            "rejected: {submit} submitted route(s) failed the safety check or the digital twin \
             ({max_revisions} revision(s) allowed)"
        );
        Outcome::End(RunStatus::Rejected, why)
    } else {
        let left = max_revisions - revisions_used;
        Outcome::Revise(format!("{problem} Revisions left: {left}."))
    };
    Judged { verdict: checked.ok(), twin, content, outcome }
}

/// The result of a `submit_route` call followed by another one in the same turn: only the
/// last is judged.
pub(crate) fn ignored() -> String {
    json!({"error": "ignored", "summary": "only the last submit_route of a turn is checked"})
        .to_string()
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use breadcrumb_tools::terrain::{LoadedSol, Sol};

    use crate::provider::baseline::Baseline;

    use super::*;

    fn fixtures() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
    }

    /// The plains-01 sol with its rover profile replaced by `profile` (TOML text).
    fn sol_with_profile(dir: &Path, profile: &str) -> LoadedSol {
        let mut sol = Sol::load(&fixtures().join("sols/plains-01.toml")).unwrap();
        let rover = dir.join("rover.toml");
        std::fs::write(&rover, profile).unwrap();
        sol.rover_path = rover;
        sol
    }

    /// The baseline planner's route for the sol: one the checker passes.
    fn planned(toolbox: &Toolbox) -> Vec<Pt> {
        let route = Baseline::plan_with(toolbox).waypoints().unwrap().to_vec();
        assert!(toolbox.checker().check(toolbox.mission(), &route).unwrap().pass);
        route
    }

    #[test]
    fn a_route_the_checker_passes_is_refused_when_the_twin_refuses_it() {
        let dir = tempfile::tempdir().unwrap();
        let text = std::fs::read_to_string(fixtures().join("rovers/perseverance.toml")).unwrap();
        // The same rover with a 60 s drive window: no real drive fits, whatever the checker says.
        let short = text.replace("drive_window_s = 15840.0", "drive_window_s = 60.0");
        assert_ne!(short, text);
        let toolbox = Toolbox::open(&sol_with_profile(dir.path(), &short)).unwrap();
        let route = planned(&toolbox);
        let j = judge(&toolbox, &route, 1, 2);
        assert!(j.verdict.as_ref().unwrap().pass, "the checker passes it");
        let twin = j.twin.as_ref().unwrap();
        assert_eq!(twin.verdict.failed_rules(), ["drive_time"]);
        let Outcome::Revise(why) = &j.outcome else { panic!("{:?}", j.outcome) };
        assert!(why.contains("digital twin") && !why.contains("safety checker found"), "{why}");
        let content: serde_json::Value = serde_json::from_str(&j.content).unwrap();
        assert_eq!(content["accepted"], false);
        assert_eq!(content["verdict"]["twin"]["violations"][0]["rule"], "drive_time");
        // With no revision left the run ends rejected.
        let last = judge(&toolbox, &route, 3, 2);
        assert!(matches!(last.outcome, Outcome::End(RunStatus::Rejected, _)), "{:?}", last.outcome);

        // The real profile: both gates pass and the route is accepted.
        let toolbox = Toolbox::open(&sol_with_profile(dir.path(), &text)).unwrap();
        let j = judge(&toolbox, &route, 1, 2);
        assert!(j.twin.as_ref().unwrap().verdict.pass);
        assert!(matches!(j.outcome, Outcome::End(RunStatus::Accepted, _)), "{:?}", j.outcome);
    }

    #[test]
    fn a_profile_without_kinematics_fails_closed() {
        let dir = tempfile::tempdir().unwrap();
        let text = std::fs::read_to_string(fixtures().join("rovers/perseverance.toml")).unwrap();
        let cut = text.find("[kinematics]").unwrap();
        let end = text.find("[sources]").unwrap();
        let bare = format!("{}{}", &text[..cut], &text[end..]);
        let toolbox = Toolbox::open(&sol_with_profile(dir.path(), &bare)).unwrap();
        let route = planned(&toolbox);
        let j = judge(&toolbox, &route, 1, 2);
        assert_eq!(j.twin.as_ref().unwrap().verdict.failed_rules(), ["drivable"]);
        assert!(matches!(j.outcome, Outcome::Revise(_)), "{:?}", j.outcome);
    }
}
