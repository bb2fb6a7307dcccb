//! The one submission path: a `submit_route` call's waypoints go to the safety checker, and
//! the verdict decides what the model is answered and whether the run goes on.
//!
//! The tool itself ([`breadcrumb_tools::api::submit_route`]) only validates the waypoints and
//! hands them over as an [`Effect::Submit`](breadcrumb_tools::api::Effect); everything the
//! model reads about a submission (the verdict's compact JSON, the revision instructions) is
//! written here, once.

use breadcrumb_tools::api::check_route::CheckRouteResult;
use breadcrumb_tools::api::Toolbox;
use breadcrumb_tools::checker::{Pt, Verdict};
use serde_json::json;

use super::RunStatus;

/// What the loop does after a judged submission.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// The run ends: accepted, or rejected with no revision left; the reason in a sentence.
    End(RunStatus, String),
    /// The route failed or could not be checked and revisions are left: the model is told
    /// (the follow-up text) and goes on.
    Revise,
}

/// A judged submission.
#[derive(Debug, Clone)]
pub(crate) struct Judged {
    /// The checker's verdict (`None`: the route could not be checked).
    pub verdict: Option<Verdict>,
    /// The model-facing result of the `submit_route` call.
    pub content: String,
    /// Whether that result is an error (the route could not be checked).
    pub is_error: bool,
    /// What the model is told after the turn's tool results, when it may revise.
    pub follow_up: Option<String>,
    /// Whether the run goes on.
    pub outcome: Outcome,
}

/// Judges submission number `submit` (from 1) of a run that allows `max_revisions`.
pub(crate) fn judge(toolbox: &Toolbox, points: &[Pt], submit: u32, max_revisions: u32) -> Judged {
    let checked = toolbox.checker().check(toolbox.mission(), points);
    let (pass, content, is_error, problem) = match &checked {
        Ok(v) => {
            let compact = CheckRouteResult::from_verdict(v);
            let content = json!({"submitted": true, "accepted": v.pass, "verdict": compact});
            let problem = format!(
                "The safety checker rejected the submitted route: {} violation(s), listed in the \
                 submit_route result (rule, segment, place, measured value, limit). Revise the \
                 route to fix each one, check it with check_route, and submit again.",
                v.violation_count()
            );
            (v.pass, content.to_string(), false, problem)
        }
        Err(e) => {
            let content = json!({"submitted": true, "accepted": false, "error": e.to_string()});
            let problem = format!("The route could not be checked: {e}. Submit a corrected route.");
            (false, content.to_string(), true, problem)
        }
    };
    let revisions_used = submit.saturating_sub(1);
    let (outcome, follow_up) = if pass {
        (Outcome::End(RunStatus::Accepted, format!("route accepted on submission {submit}")), None)
    } else if revisions_used >= max_revisions {
        let why = format!(
            "rejected: {submit} submitted route(s) failed the safety check ({max_revisions} \
             revision(s) allowed)"
        );
        (Outcome::End(RunStatus::Rejected, why), None)
    } else {
        let left = max_revisions - revisions_used;
        (Outcome::Revise, Some(format!("{problem} Revisions left: {left}.")))
    };
    Judged { verdict: checked.ok(), content, is_error, follow_up, outcome }
}

/// The result of a `submit_route` call followed by another one in the same turn: only the
/// last is judged.
pub(crate) fn ignored() -> String {
    json!({"error": "ignored", "summary": "only the last submit_route of a turn is checked"})
        .to_string()
}
