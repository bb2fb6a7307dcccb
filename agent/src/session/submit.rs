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
    /// this text after the turn's tool results, and goes on.
    Revise(String),
}

/// A judged submission.
#[derive(Debug, Clone)]
pub(crate) struct Judged {
    /// The checker's verdict (`None`: the route could not be checked).
    pub verdict: Option<Verdict>,
    /// The model-facing result of the `submit_route` call (an error when there is no
    /// verdict: the route could not be checked).
    pub content: String,
    /// Whether the run goes on.
    pub outcome: Outcome,
}

/// Judges submission number `submit` (from 1) of a run that allows `max_revisions`.
pub(crate) fn judge(toolbox: &Toolbox, points: &[Pt], submit: u32, max_revisions: u32) -> Judged {
    let checked = toolbox.checker().check(toolbox.mission(), points);
    let (pass, content, problem) = match &checked {
        Ok(v) => {
            let compact = CheckRouteResult::from_verdict(v);
            let content = json!({"submitted": true, "accepted": v.pass, "verdict": compact});
            let problem = format!(
                "The safety checker rejected the submitted route: {} violation(s), listed in the \
                 submit_route result (rule, segment, place, measured value, limit). Revise the \
                 route to fix each one, check it with check_route, and submit again.",
                v.violation_count()
            );
            (v.pass, content.to_string(), problem)
        }
        Err(e) => {
            let content = json!({"submitted": true, "accepted": false, "error": e.to_string()});
            let problem = format!("The route could not be checked: {e}. Submit a corrected route.");
            (false, content.to_string(), problem)
        }
    };
    let revisions_used = submit.saturating_sub(1);
    let outcome = if pass {
        Outcome::End(RunStatus::Accepted, format!("route accepted on submission {submit}"))
    } else if revisions_used >= max_revisions {
        let why = format!(
            "rejected: {submit} submitted route(s) failed the safety check ({max_revisions} \
             revision(s) allowed)"
        );
        Outcome::End(RunStatus::Rejected, why)
    } else {
        let left = max_revisions - revisions_used;
        Outcome::Revise(format!("{problem} Revisions left: {left}."))
    };
    Judged { verdict: checked.ok(), content, outcome }
}

/// The result of a `submit_route` call followed by another one in the same turn: only the
/// last is judged.
pub(crate) fn ignored() -> String {
    json!({"error": "ignored", "summary": "only the last submit_route of a turn is checked"})
        .to_string()
}
