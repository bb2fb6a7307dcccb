//! `mark_hazards`: the model marks what it sees (rocks, ripple fields, outcrops, ...) as
//! outlines on the map. Each mark of a blocking class becomes a keep-out that the safety
//! checker enforces, with the usual hazard buffer, for the rest of the run; nothing a model
//! marks can relax a rule or remove a mapped hazard. The marks are recorded in the transcript,
//! drawn on later tiles, and written to the run's `hazards.model.geojson`.
//!
//! A call is all or nothing: if any mark is invalid (unknown class, a ring that crosses
//! itself, a vertex off the map, an absurd size), none is added and the error names the mark
//! (`marks[2].polygon`) and what to fix.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::args::{echo_into, r2, resolve_point, PointM};
use super::{Effect, Tool, ToolCallError, ToolOutput, Toolbox};
use crate::perception::{validate, MarkInput, MarkRecord, MarkShape};

/// Most marks one call may make.
pub const MAX_MARKS_PER_CALL: usize = 50;
/// Most marks one run may make (a site has tens of hazards worth marking, not thousands).
pub const MAX_MARKS_PER_RUN: usize = 300;

/// Marks hazards you see on the tiles, before you route: rocks, boulder fields, sand ripples,
/// outcrops, scarps, crater rims. Each mark is an outline (a polygon of 3 to 64 vertices, or a
/// circle) in map metres with a class, your confidence and a short reason. Marks of the classes
/// rock, boulder_field, sand_ripple, scarp, crater and unknown become keep-outs for the rest of
/// this run: the safety checker refuses any route passing closer than the hazard buffer (half
/// the rover width plus margin) to them, exactly as for mapped hazards. outcrop and bedrock
/// marks are recorded (firm ground, not refused). Marks only add constraints; they cannot be
/// removed, so outline what you see tightly. They are drawn on later tiles in violet.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkHazardsArgs {
    /// The hazards, 1 to 50 per call.
    pub marks: Vec<MarkArg>,
}

/// One hazard you see.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkArg {
    /// What it is: rock, boulder_field, sand_ripple, outcrop, scarp, crater, bedrock or
    /// unknown (something hazardous you cannot classify; it blocks).
    pub class: String,
    /// Its outline, 3 to 64 vertices in order around it (not crossing itself), in map metres
    /// or as pixels of a tile you were shown. Give this or `circle`.
    #[serde(default)]
    pub polygon: Option<Vec<PointM>>,
    /// A circle around it (a rock, a small crater). Give this or `polygon`.
    #[serde(default)]
    pub circle: Option<CircleArg>,
    /// How sure you are, 0 to 1.
    pub confidence: f64,
    /// What you saw, in a few words (at most 300 characters).
    pub reason: String,
}

/// A circle on the map.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CircleArg {
    /// Its centre.
    pub centre: PointM,
    /// Its radius, metres.
    pub radius_m: f64,
}

/// One mark as made.
#[derive(Debug, Clone, Serialize)]
pub struct Marked {
    /// The mark's id in this run (`m1`, `m2`, ...): violations name it.
    pub id: String,
    /// The class it is enforced as.
    pub class: String,
    /// Whether routes must keep the hazard buffer from it.
    pub blocks: bool,
    /// Its area, square metres.
    pub area_m2: f64,
    /// Vertices of its outline (a circle becomes 32).
    pub vertices: usize,
}

/// What `mark_hazards` answers.
#[derive(Debug, Clone, Serialize)]
pub struct MarkHazardsResult {
    /// The marks made by this call.
    pub marked: Vec<Marked>,
    /// Marks made in this run so far.
    pub total_marks: usize,
    /// How far a route must stay from a blocking mark, metres.
    pub buffer_m: f64,
}

/// The `mark_hazards` tool.
pub struct MarkHazards;

impl Tool for MarkHazards {
    const NAME: &'static str = "mark_hazards";
    type Args = MarkHazardsArgs;

    fn run(toolbox: &Toolbox, a: MarkHazardsArgs) -> Result<ToolOutput, ToolCallError> {
        if a.marks.is_empty() || a.marks.len() > MAX_MARKS_PER_CALL {
            return Err(ToolCallError::InvalidArguments {
                field: Some("marks".into()),
                message: format!("expected 1 to {MAX_MARKS_PER_CALL} marks, got {}", a.marks.len()),
            });
        }
        let extent = toolbox.extent();
        let mut made = Vec::with_capacity(a.marks.len());
        let (mut given, mut resolved): (Vec<&PointM>, Vec<crate::geometry::Pt>) = (vec![], vec![]);
        for (i, m) in a.marks.iter().enumerate() {
            let (shape, field) = match (&m.polygon, &m.circle) {
                (Some(p), None) => {
                    let mut ring = Vec::with_capacity(p.len());
                    for (k, v) in p.iter().enumerate() {
                        let at = resolve_point(toolbox, &format!("marks[{i}].polygon[{k}]"), v)?;
                        given.push(v);
                        resolved.push(at);
                        ring.push(at);
                    }
                    (MarkShape::Polygon(ring), "polygon")
                }
                (None, Some(c)) => {
                    let at =
                        resolve_point(toolbox, &format!("marks[{i}].circle.centre"), &c.centre)?;
                    given.push(&c.centre);
                    resolved.push(at);
                    (MarkShape::Circle { centre: at, radius_m: c.radius_m }, "circle")
                }
                _ => {
                    return Err(ToolCallError::InvalidArguments {
                        field: Some(format!("marks[{i}]")),
                        message: "give exactly one of `polygon` and `circle`".into(),
                    })
                }
            };
            let input = MarkInput {
                class: m.class.clone(),
                shape,
                confidence: m.confidence,
                reason: m.reason.clone(),
            };
            let mark = validate(&input, extent).map_err(|e| {
                let at = match e {
                    crate::perception::MarkError::UnknownClass { .. } => "class",
                    crate::perception::MarkError::Confidence { .. } => "confidence",
                    crate::perception::MarkError::Reason => "reason",
                    _ => field,
                };
                ToolCallError::InvalidArguments {
                    field: Some(format!("marks[{i}].{at}")),
                    message: e.to_string(),
                }
            })?;
            made.push(mark);
        }
        let first = toolbox.add_marks(made.clone())?;
        let records: Vec<MarkRecord> =
            made.iter().enumerate().map(|(k, m)| MarkRecord::of(first + k, m)).collect();
        let result = MarkHazardsResult {
            marked: records
                .iter()
                .map(|r| Marked {
                    id: r.id.clone(),
                    class: r.class.clone(),
                    blocks: r.blocks,
                    area_m2: r2(r.area_m2),
                    vertices: r.ring.len().saturating_sub(1),
                })
                .collect(),
            total_marks: first + records.len(),
            buffer_m: r2(toolbox.profile().hazard_buffer_m()),
        };
        let mut out = ToolOutput::json(&result)?;
        echo_into(&mut out, &given, &resolved);
        out.effect = Some(Effect::Marked { marks: records });
        Ok(out)
    }
}
