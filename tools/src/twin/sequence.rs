//! The drive sequence: what a rover would run for a plan. For every waypoint after the first,
//! a turn in place to the bearing of the next leg (skipped when already facing it within
//! 1e-9 degrees) and a straight drive of the leg's length, each with its expected end pose and
//! the keep-in corridor half-width AutoNav may use around the leg. Written as `sequence.xml`
//! (our open format, standing in for JPL's non-public Rover Markup Language; schema in
//! `tools/schema/sequence.xsd`) and as JSON.

use serde::{Deserialize, Serialize};

/// A pose on the map: position and heading (clockwise from north).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Pose {
    /// Map x, metres east.
    pub x: f64,
    /// Map y, metres north.
    pub y: f64,
    /// Heading, degrees clockwise from north in `[0, 360)`.
    pub heading_deg: f64,
}

/// What one command does.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CommandKind {
    /// Turn in place to an absolute heading.
    Turn {
        /// Target heading, degrees clockwise from north.
        heading_deg: f64,
        /// Signed turn, degrees (positive clockwise), at most 180 in size.
        delta_deg: f64,
    },
    /// Drive straight ahead.
    Drive {
        /// Distance, metres.
        distance_m: f64,
    },
}

/// One command of the sequence.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Command {
    /// Position in the sequence, from 0.
    pub index: usize,
    /// The plan segment (waypoint `segment` to `segment + 1`) it serves.
    pub segment: usize,
    /// The command.
    #[serde(flatten)]
    pub kind: CommandKind,
    /// Where the rover is expected to be when the command ends.
    pub end: Pose,
    /// Half-width of the keep-in corridor around the leg, metres.
    pub keep_in_half_width_m: f64,
}

/// The compiled plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sequence {
    /// Format version of `sequence.xml` / JSON.
    pub version: String,
    /// Pose before the first command.
    pub start: Pose,
    /// Commands in order.
    pub commands: Vec<Command>,
}

/// Why a plan cannot be compiled.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SequenceError {
    /// The plan has no waypoints.
    #[error("the plan has no waypoints")]
    Empty,
    /// A waypoint or the start heading is not a finite number.
    #[error("waypoint {index} is not a finite position ({x}, {y})")]
    NotFinite {
        /// Waypoint index.
        index: usize,
        /// Its x.
        x: f64,
        /// Its y.
        y: f64,
    },
}

/// Bearing of `b` from `a`, degrees clockwise from north in `[0, 360)`.
fn bearing(a: (f64, f64), b: (f64, f64)) -> f64 {
    let h = (b.0 - a.0).atan2(b.1 - a.1).to_degrees();
    let h = h.rem_euclid(360.0);
    if h >= 360.0 {
        0.0
    } else {
        h
    }
}

/// Compiles waypoints (map metres) into a sequence. The rover starts at the first waypoint
/// facing `start_heading_deg` (or along the first leg when `None` or not finite); zero-length
/// legs give no commands.
pub fn compile(
    points: &[(f64, f64)],
    start_heading_deg: Option<f64>,
    keep_in_half_width_m: f64,
) -> Result<Sequence, SequenceError> {
    let first = *points.first().ok_or(SequenceError::Empty)?;
    for (index, &(x, y)) in points.iter().enumerate() {
        if !(x.is_finite() && y.is_finite()) {
            return Err(SequenceError::NotFinite { index, x, y });
        }
    }
    let first_leg = points.windows(2).find(|w| w[0] != w[1]).map(|w| bearing(w[0], w[1]));
    let heading = start_heading_deg
        .filter(|h| h.is_finite())
        .map(|h| h.rem_euclid(360.0))
        .or(first_leg)
        .unwrap_or(0.0);
    let start = Pose { x: first.0, y: first.1, heading_deg: heading };
    let mut pose = start;
    let mut commands = Vec::new();
    for (segment, w) in points.windows(2).enumerate() {
        let d = (w[1].0 - w[0].0).hypot(w[1].1 - w[0].1);
        if d <= 0.0 {
            continue;
        }
        let target = bearing(w[0], w[1]);
        let delta = (target - pose.heading_deg + 540.0).rem_euclid(360.0) - 180.0;
        if delta.abs() > 1e-9 {
            pose.heading_deg = target;
            commands.push(Command {
                index: commands.len(),
                segment,
                kind: CommandKind::Turn { heading_deg: target, delta_deg: delta },
                end: pose,
                keep_in_half_width_m,
            });
        }
        pose = Pose { x: w[1].0, y: w[1].1, heading_deg: pose.heading_deg };
        commands.push(Command {
            index: commands.len(),
            segment,
            kind: CommandKind::Drive { distance_m: d },
            end: pose,
            keep_in_half_width_m,
        });
    }
    Ok(Sequence { version: "1".into(), start, commands })
}

impl Sequence {
    /// Pretty JSON with a trailing newline.
    #[must_use]
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// `sequence.xml`, valid against `tools/schema/sequence.xsd` (numbers to the millimetre
    /// and 1e-6 degree, so the file is byte-identical for identical plans).
    #[must_use]
    pub fn to_xml(&self) -> String {
        let pose = |tag: &str, p: &Pose| {
            format!(
                "<{tag} x=\"{:.3}\" y=\"{:.3}\" heading_deg=\"{:.6}\"/>",
                p.x, p.y, p.heading_deg
            )
        };
        let mut lines = vec![
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>".to_owned(),
            format!("<sequence version=\"{}\">", self.version),
            format!("  {}", pose("start", &self.start)),
        ];
        for c in &self.commands {
            let (tag, attr) = match c.kind {
                CommandKind::Turn { heading_deg, delta_deg } => (
                    "turn",
                    format!("heading_deg=\"{heading_deg:.6}\" delta_deg=\"{delta_deg:.6}\""),
                ),
                CommandKind::Drive { distance_m } => {
                    ("drive", format!("distance_m=\"{distance_m:.3}\""))
                }
            };
            lines.push(format!(
                "  <{tag} index=\"{}\" segment=\"{}\" {attr} keep_in_half_width_m=\"{:.3}\">\n    {}\n  </{tag}>",
                c.index,
                c.segment,
                c.keep_in_half_width_m,
                pose("end", &c.end)
            ));
        }
        lines.push("</sequence>\n".to_owned());
        lines.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turns_then_drives() {
        let s = compile(&[(0.0, 0.0), (0.0, 10.0), (10.0, 10.0)], Some(90.0), 2.0).unwrap();
        let kinds: Vec<_> = s.commands.iter().map(|c| c.kind).collect();
        assert_eq!(
            kinds,
            vec![
                CommandKind::Turn { heading_deg: 0.0, delta_deg: -90.0 },
                CommandKind::Drive { distance_m: 10.0 },
                CommandKind::Turn { heading_deg: 90.0, delta_deg: 90.0 },
                CommandKind::Drive { distance_m: 10.0 },
            ]
        );
        assert_eq!(s.commands[3].end, Pose { x: 10.0, y: 10.0, heading_deg: 90.0 });
    }

    #[test]
    fn bad_plans_are_errors() {
        assert_eq!(compile(&[], None, 1.0), Err(SequenceError::Empty));
        assert!(matches!(
            compile(&[(0.0, 0.0), (f64::NAN, 1.0)], None, 1.0),
            Err(SequenceError::NotFinite { index: 1, .. })
        ));
    }
}
