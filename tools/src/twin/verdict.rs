//! The twin's verdict: the driven telemetry against the rover's limits, in the checker's shape
//! (rule, command, location, measured, limit), with each limit's source.
//!
//! Refusing rules ("gates") use the rover's state on the DEM's surface, and belly clearance
//! its ACE lower bound. Nominal pitch and roll, and the ACE bounds of the other channels, only
//! caution: on 1 m posts the bounds on articulation exceed the limits on slopes real rovers
//! drove safely (docs/twin.md gives the figures), and a gate that refuses real drives is
//! miscalibrated. Cautions are counted and reported, never turned into passes or refusals.
//!
//! Deterministic: one pass over the poses in order, no threads, numbers rounded when written.

use serde::{Deserialize, Serialize};

use super::drive::{Sample, Telemetry, MAX_POSES};
use super::sequence::Sequence;
use crate::checker::verdict::{fine, fine_opt, mm, nullable};
use crate::terrain::rover::Kinematics;

/// Version of the twin's rules; bump when a rule or its measurement changes.
pub const TWIN_VERSION: &str = "1";
/// At most this many violations (and cautions) are listed per rule; counts stay complete.
pub const MAX_LISTED_PER_RULE: usize = 100;

/// One limit broken (or cautioned) by one command, at its worst pose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TwinViolation {
    /// The rule's stable ID.
    pub rule: String,
    /// Index of the command in the sequence (`null` for the start pose or the whole drive).
    pub command: Option<usize>,
    /// Plan segment the command serves.
    pub segment: Option<usize>,
    /// Map x of the worst pose, metres.
    #[serde(serialize_with = "mm", deserialize_with = "nullable")]
    pub x: f64,
    /// Map y of the worst pose, metres.
    #[serde(serialize_with = "mm", deserialize_with = "nullable")]
    pub y: f64,
    /// Distance driven at the worst pose, metres.
    #[serde(serialize_with = "mm", deserialize_with = "nullable")]
    pub distance_m: f64,
    /// The measured value there.
    #[serde(serialize_with = "fine", deserialize_with = "nullable")]
    pub measured: f64,
    /// The limit.
    #[serde(serialize_with = "fine", deserialize_with = "nullable")]
    pub limit: f64,
    /// Unit of `measured` and `limit`.
    pub unit: String,
    /// A sentence for people and models.
    pub message: String,
}

/// How one rule fared over the drive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TwinRule {
    /// Stable ID.
    pub rule: String,
    /// What is measured.
    pub what: String,
    /// Unit of `worst`, `worst_bound` and `limit`.
    pub unit: String,
    /// The limit.
    #[serde(serialize_with = "fine", deserialize_with = "nullable")]
    pub limit: f64,
    /// Where the limit comes from.
    pub source: String,
    /// True when breaking it refuses the plan; false when it only cautions.
    pub gate: bool,
    /// Worst value over the drive (`null` when nothing was measured).
    #[serde(serialize_with = "fine_opt")]
    pub worst: Option<f64>,
    /// Worst ACE bound over the drive, where the rule has one.
    #[serde(serialize_with = "fine_opt")]
    pub worst_bound: Option<f64>,
    /// Commands where the value broke the limit.
    pub violations: usize,
    /// Poses where the bound broke the limit (the value itself may not have).
    pub bound_exceeded: usize,
}

/// Numbers about the drive as a whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TwinSummary {
    /// Commands in the sequence.
    pub commands: usize,
    /// Poses driven.
    pub poses: usize,
    /// Poses over unknown ground (no state).
    pub poses_unknown: usize,
    /// Distance the sequence drives, metres.
    #[serde(serialize_with = "fine", deserialize_with = "nullable")]
    pub distance_m: f64,
    /// Time it takes, seconds.
    #[serde(serialize_with = "fine", deserialize_with = "nullable")]
    pub duration_s: f64,
    /// The sol's drive window, seconds.
    #[serde(serialize_with = "fine", deserialize_with = "nullable")]
    pub drive_window_s: f64,
    /// Telemetry values compared against a limit.
    pub values_checked: usize,
    /// Distinct limits they were compared against.
    pub limits_checked: usize,
}

/// The twin's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TwinVerdict {
    /// True when no gating rule is broken.
    pub pass: bool,
    /// [`TWIN_VERSION`].
    pub twin_version: String,
    /// The sol (or route) driven.
    pub sol: String,
    /// The rover profile's name.
    pub rover: String,
    /// Numbers about the drive.
    pub summary: TwinSummary,
    /// One line per rule, gates first.
    pub rules: Vec<TwinRule>,
    /// Gating rules broken, in rule order then command order.
    pub violations: Vec<TwinViolation>,
    /// Cautions (non-gating rules broken by the value), in the same order.
    pub cautions: Vec<TwinViolation>,
}

impl TwinVerdict {
    /// Pretty JSON with a trailing newline; byte-identical for identical inputs.
    #[must_use]
    pub fn to_json(&self) -> String {
        // Plain structs of strings, integers and rounded floats: serialising cannot fail.
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// IDs of the gating rules that broke, in rule order.
    #[must_use]
    pub fn failed_rules(&self) -> Vec<&str> {
        self.rules.iter().filter(|r| r.gate && r.violations > 0).map(|r| r.rule.as_str()).collect()
    }

    /// The worst value `rule` measured over the drive (`None`: no such rule, or nothing
    /// measured).
    #[must_use]
    pub fn worst(&self, rule: &str) -> Option<f64> {
        self.rules.iter().find(|r| r.rule == rule).and_then(|r| r.worst)
    }

    /// Total gating violations (listed or not).
    #[must_use]
    pub fn violation_count(&self) -> usize {
        self.rules.iter().filter(|r| r.gate).map(|r| r.violations).sum()
    }

    /// The verdict of a plan that could not be driven at all (no kinematic profile, or no
    /// sequence): it fails on `drivable` with `why`.
    #[must_use]
    pub fn undrivable(sol: &str, rover: &str, why: &str) -> Self {
        TwinVerdict {
            pass: false,
            twin_version: TWIN_VERSION.into(),
            sol: sol.into(),
            rover: rover.into(),
            summary: TwinSummary {
                commands: 0,
                poses: 0,
                poses_unknown: 0,
                distance_m: 0.0,
                duration_s: 0.0,
                drive_window_s: f64::NAN,
                values_checked: 0,
                limits_checked: 1,
            },
            rules: vec![TwinRule {
                rule: "drivable".into(),
                what: "the plan can be driven in the twin".into(),
                unit: String::new(),
                limit: f64::NAN,
                source: "twin".into(),
                gate: true,
                worst: None,
                worst_bound: None,
                violations: 1,
                bound_exceeded: 0,
            }],
            violations: vec![TwinViolation {
                rule: "drivable".into(),
                command: None,
                segment: None,
                x: f64::NAN,
                y: f64::NAN,
                distance_m: 0.0,
                measured: f64::NAN,
                limit: f64::NAN,
                unit: String::new(),
                message: format!("the twin cannot drive this plan: {why}"),
            }],
            cautions: Vec::new(),
        }
    }
}

/// Which way a value breaks its limit.
#[derive(Clone, Copy, PartialEq)]
enum Sense {
    /// Larger is worse.
    Max,
    /// Smaller is worse.
    Min,
}

/// One rule's definition: how to read its value (and bound) from a pose.
struct Rule {
    id: &'static str,
    what: &'static str,
    unit: &'static str,
    limit: f64,
    source: &'static str,
    gate: bool,
    sense: Sense,
    value: fn(&Sample) -> Option<f64>,
    bound: Option<fn(&Sample) -> Option<f64>>,
}

fn rules(k: &Kinematics) -> Vec<Rule> {
    let l = &k.limits;
    vec![
        Rule {
            id: "chassis_tilt",
            what: "tilt of the chassis from vertical",
            unit: "deg",
            limit: l.max_tilt_deg,
            source: "N3 (drivers avoid > 30 deg) less 5 deg for DEM error, the checker's max_tilt (ROVER.md 2)",
            gate: true,
            sense: Sense::Max,
            value: |s| s.state.map(|p| p.tilt_deg),
            bound: Some(|s| s.state.map(|p| p.bounds.tilt_max_deg)),
        },
        Rule {
            id: "bogie",
            what: "bogie articulation relative to its rocker",
            unit: "deg",
            limit: l.max_bogie_deg,
            source: "Rankin et al. via a secondary note (unverified), ROVER.md 6",
            gate: true,
            sense: Sense::Max,
            value: |s| s.state.map(|p| p.bogie_deg[0].abs().max(p.bogie_deg[1].abs())),
            bound: Some(|s| {
                s.state.map(|p| {
                    let b = p.bounds.bogie_deg;
                    b.iter().flatten().fold(0.0_f64, |m, v| m.max(v.abs()))
                })
            }),
        },
        Rule {
            id: "differential",
            what: "differential angle (rocker relative to the body)",
            unit: "deg",
            limit: l.max_differential_deg,
            source: "Rankin et al. via a secondary note (unverified), ROVER.md 6",
            gate: true,
            sense: Sense::Max,
            value: |s| s.state.map(|p| p.differential_deg.abs()),
            bound: Some(|s| {
                s.state.map(|p| {
                    let d = p.bounds.differential_deg;
                    d[0].abs().max(d[1].abs())
                })
            }),
        },
        Rule {
            id: "wheel_drop",
            what: "largest drop or climb of a wheel between consecutive poses",
            unit: "m",
            limit: l.max_wheel_drop_m,
            source: "N7: AutoNav's wheel-drop limit (ROVER.md 2)",
            gate: true,
            sense: Sense::Max,
            value: |s| s.state.map(|_| s.wheel_dz_m.iter().fold(0.0_f64, |m, v| m.max(v.abs()))),
            bound: Some(|s| s.state.map(|_| s.wheel_dz_bound_m)),
        },
        Rule {
            id: "belly_clearance",
            what: "lower bound on belly-pan clearance to the ground under it",
            unit: "m",
            limit: l.min_belly_clearance_m,
            source: "(ours) the checker's 0.10 m margin under the belly (ROVER.md 2)",
            gate: true,
            sense: Sense::Min,
            value: |s| s.state.map(|p| p.bounds.clearance_min_m),
            bound: None,
        },
        Rule {
            id: "pitch_nominal",
            what: "chassis pitch against the nominal limit",
            unit: "deg",
            limit: l.nominal_pitch_deg,
            source: "Rankin et al. via a secondary note (unverified), nominal; real drives reached 21 deg (U1)",
            gate: false,
            sense: Sense::Max,
            value: |s| s.state.map(|p| p.pitch_deg.abs()),
            bound: Some(|s| {
                s.state.map(|p| p.bounds.pitch_deg[0].abs().max(p.bounds.pitch_deg[1].abs()))
            }),
        },
        Rule {
            id: "roll_nominal",
            what: "chassis roll against the nominal limit",
            unit: "deg",
            limit: l.nominal_roll_deg,
            source: "Rankin et al. via a secondary note (unverified), nominal; real drives reached 21 deg (U1)",
            gate: false,
            sense: Sense::Max,
            value: |s| s.state.map(|p| p.roll_deg.abs()),
            bound: Some(|s| {
                s.state.map(|p| p.bounds.roll_deg[0].abs().max(p.bounds.roll_deg[1].abs()))
            }),
        },
    ]
}

/// Worst value of one rule over one command so far.
#[derive(Clone, Copy)]
struct Worst {
    value: f64,
    sample: usize,
}

fn breaks(sense: Sense, v: f64, limit: f64) -> bool {
    match sense {
        Sense::Max => v > limit,
        Sense::Min => v < limit,
    }
}

fn worse(sense: Sense, v: f64, than: f64) -> bool {
    match sense {
        Sense::Max => v > than,
        Sense::Min => v < than,
    }
}

/// Judges a driven sequence. `sol` and `rover` label the verdict.
#[must_use]
pub fn judge(k: &Kinematics, seq: &Sequence, t: &Telemetry, sol: &str, rover: &str) -> TwinVerdict {
    let defs = rules(k);
    let mut out_rules = Vec::new();
    let mut violations = Vec::new();
    let mut cautions = Vec::new();
    let mut values_checked = 0usize;
    let command_of = |s: &Sample| s.command;
    for r in &defs {
        let mut worst: Option<f64> = None;
        let mut worst_bound: Option<f64> = None;
        let mut bound_exceeded = 0usize;
        // Worst breaking pose per command, in command order (samples are in command order).
        let mut per_command: Vec<(Option<usize>, Worst)> = Vec::new();
        for (i, s) in t.samples.iter().enumerate() {
            let Some(v) = (r.value)(s) else { continue };
            values_checked += 1;
            if worst.is_none_or(|w| worse(r.sense, v, w)) {
                worst = Some(v);
            }
            if let Some(b) = r.bound.and_then(|f| f(s)) {
                values_checked += 1;
                if worst_bound.is_none_or(|w| worse(r.sense, b, w)) {
                    worst_bound = Some(b);
                }
                if breaks(r.sense, b, r.limit) {
                    bound_exceeded += 1;
                }
            }
            if breaks(r.sense, v, r.limit) {
                match per_command.last_mut() {
                    Some((c, w)) if *c == command_of(s) => {
                        if worse(r.sense, v, w.value) {
                            *w = Worst { value: v, sample: i };
                        }
                    }
                    _ => per_command.push((command_of(s), Worst { value: v, sample: i })),
                }
            }
        }
        let list = if r.gate { &mut violations } else { &mut cautions };
        for (c, w) in per_command.iter().take(MAX_LISTED_PER_RULE) {
            let s = &t.samples[w.sample];
            list.push(TwinViolation {
                rule: r.id.into(),
                command: *c,
                segment: s.segment,
                x: s.pose.x,
                y: s.pose.y,
                distance_m: s.distance_m,
                measured: w.value,
                limit: r.limit,
                unit: r.unit.into(),
                message: message(r, seq, s, w.value),
            });
        }
        out_rules.push(TwinRule {
            rule: r.id.into(),
            what: r.what.into(),
            unit: r.unit.into(),
            limit: r.limit,
            source: r.source.into(),
            gate: r.gate,
            worst,
            worst_bound,
            violations: per_command.len(),
            bound_exceeded,
        });
    }
    // Unknown ground: every pose must have a state.
    let unknown: Vec<usize> =
        (0..t.samples.len()).filter(|&i| t.samples[i].state.is_none()).collect();
    values_checked += t.samples.len();
    let mut unknown_commands: Vec<(Option<usize>, usize, usize)> = Vec::new();
    for &i in &unknown {
        let c = t.samples[i].command;
        match unknown_commands.last_mut() {
            Some((lc, _, n)) if *lc == c => *n += 1,
            _ => unknown_commands.push((c, i, 1)),
        }
    }
    for &(c, i, n) in unknown_commands.iter().take(MAX_LISTED_PER_RULE) {
        let s = &t.samples[i];
        violations.push(TwinViolation {
            rule: "known_ground".into(),
            command: c,
            segment: s.segment,
            x: s.pose.x,
            y: s.pose.y,
            distance_m: s.distance_m,
            measured: n as f64,
            limit: 0.0,
            unit: "poses".into(),
            message: format!(
                "{}: {n} pose(s) from ({:.1}, {:.1}) put a wheel or the belly over ground the DEM \
                 does not cover (off the map or no-data)",
                command_label(seq, c),
                s.pose.x,
                s.pose.y
            ),
        });
    }
    out_rules.push(TwinRule {
        rule: "known_ground".into(),
        what: "poses with every wheel and the belly over DEM data".into(),
        unit: "poses".into(),
        limit: 0.0,
        source: "(ours) unknown ground is never assumed safe".into(),
        gate: true,
        worst: Some(unknown.len() as f64),
        worst_bound: None,
        violations: unknown_commands.len(),
        bound_exceeded: 0,
    });
    // Drive time against the window.
    let window = k.drive_window_s;
    values_checked += 1;
    let late = t.duration_s > window;
    if late {
        let end = t.samples.last();
        violations.push(TwinViolation {
            rule: "drive_time".into(),
            command: None,
            segment: None,
            x: end.map_or(f64::NAN, |s| s.pose.x),
            y: end.map_or(f64::NAN, |s| s.pose.y),
            distance_m: t.distance_m,
            measured: t.duration_s,
            limit: window,
            unit: "s".into(),
            message: format!(
                "the drive takes {:.0} s ({:.1} h for {:.1} m at {} m/h plus turns at {} deg/s), \
                 over the sol's {:.0} s drive window: shorten the plan",
                t.duration_s,
                t.duration_s / 3600.0,
                t.distance_m,
                k.drive_speed_m_per_h,
                k.turn_rate_deg_per_s,
                window
            ),
        });
    }
    out_rules.push(TwinRule {
        rule: "drive_time".into(),
        what: "time the drive takes at the profile's speed and turn rate".into(),
        unit: "s".into(),
        limit: window,
        source: "(ours) N9: the 411.7 m record drive's 4 h 24 min; R2 speed; docs/twin.md".into(),
        gate: true,
        worst: Some(t.duration_s),
        worst_bound: None,
        violations: usize::from(late),
        bound_exceeded: 0,
    });
    // A sequence too long to drive.
    values_checked += 1;
    if t.truncated {
        violations.push(TwinViolation {
            rule: "sequence_length".into(),
            command: None,
            segment: None,
            x: f64::NAN,
            y: f64::NAN,
            distance_m: t.distance_m,
            measured: t.samples.len() as f64,
            limit: MAX_POSES as f64,
            unit: "poses".into(),
            message: format!(
                "the plan needs more than {MAX_POSES} poses ({:.0} m); the twin drove the first \
                 {MAX_POSES} and stopped",
                t.distance_m
            ),
        });
    }
    out_rules.push(TwinRule {
        rule: "sequence_length".into(),
        what: "poses the twin drives".into(),
        unit: "poses".into(),
        limit: MAX_POSES as f64,
        source: "(ours) bounded work per plan".into(),
        gate: true,
        worst: Some(t.samples.len() as f64),
        worst_bound: None,
        violations: usize::from(t.truncated),
        bound_exceeded: 0,
    });
    // Gates first, then cautions; within each, definition order.
    out_rules.sort_by_key(|r| !r.gate);
    let order = |id: &str| out_rules.iter().position(|r| r.rule == id).unwrap_or(usize::MAX);
    violations.sort_by_key(|v| order(&v.rule));
    let limits_checked = out_rules.len();
    TwinVerdict {
        pass: violations.is_empty(),
        twin_version: TWIN_VERSION.into(),
        sol: sol.into(),
        rover: rover.into(),
        summary: TwinSummary {
            commands: seq.commands.len(),
            poses: t.samples.len(),
            poses_unknown: unknown.len(),
            distance_m: t.distance_m,
            duration_s: t.duration_s,
            drive_window_s: window,
            values_checked,
            limits_checked,
        },
        rules: out_rules,
        violations,
        cautions,
    }
}

/// "command 3 (turn to 87.0 deg, segment 1)" or "the start pose".
fn command_label(seq: &Sequence, c: Option<usize>) -> String {
    use super::sequence::CommandKind;
    match c.and_then(|i| seq.commands.get(i)) {
        None => "the start pose".into(),
        Some(cmd) => match cmd.kind {
            CommandKind::Turn { heading_deg, .. } => format!(
                "command {} (turn in place to {heading_deg:.1} deg, segment {})",
                cmd.index, cmd.segment
            ),
            CommandKind::Drive { distance_m } => {
                format!("command {} (drive {distance_m:.1} m, segment {})", cmd.index, cmd.segment)
            }
        },
    }
}

fn message(r: &Rule, seq: &Sequence, s: &Sample, v: f64) -> String {
    let (word, cmp) = match r.sense {
        Sense::Max => ("over", "limit"),
        Sense::Min => ("under", "minimum"),
    };
    let kind = if r.gate { "" } else { " (a caution, not a refusal)" };
    format!(
        "{}: {} {v:.3} {} at ({:.1}, {:.1}), {:.1} m into the drive, {word} the {} {} {}{kind}",
        command_label(seq, s.command),
        r.what,
        r.unit,
        s.pose.x,
        s.pose.y,
        s.distance_m,
        r.limit,
        r.unit,
        cmp
    )
}
