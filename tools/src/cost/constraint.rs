//! Why a cell is off limits: one flag per checker rule the cost model enforces by footprint
//! inflation, plus the planner's own flags. The diagnosis of a refused sol relaxes them one at
//! a time, so each flag must be independent of the others.

use serde::{Serialize, Serializer};

/// One reason a cell can be infeasible. The first seven are named after the checker rule they
/// stand for (same IDs as in verdicts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Constraint {
    /// The rover would tilt over the limit (less the planner's margin) at some heading there.
    Tilt,
    /// A step over the limit lies within reach of the footprint.
    Step,
    /// Ground under the body would stand over the belly limit (less the margin).
    Clearance,
    /// Within the hazard buffer of a mapped hazard that blocks the rover.
    Hazards,
    /// Within the hazard buffer of one of the sol's keep-out zones.
    KeepOut,
    /// Closer to the keep-in boundary than half the rover width (or outside it).
    KeepIn,
    /// No-data or off-raster cells within reach of the footprint.
    ValidData,
    /// Near a place where the checker refused a route the cost model had judged safe.
    Checker,
    /// Infinite in a cost grid given directly (synthetic grids, tests).
    Impassable,
}

impl Constraint {
    /// Every constraint, in flag order.
    pub const ALL: [Constraint; 9] = [
        Constraint::Tilt,
        Constraint::Step,
        Constraint::Clearance,
        Constraint::Hazards,
        Constraint::KeepOut,
        Constraint::KeepIn,
        Constraint::ValidData,
        Constraint::Checker,
        Constraint::Impassable,
    ];

    /// Stable ID (the checker rule's ID where there is one).
    #[must_use]
    pub fn id(self) -> &'static str {
        match self {
            Constraint::Tilt => "tilt",
            Constraint::Step => "step",
            Constraint::Clearance => "clearance",
            Constraint::Hazards => "hazards",
            Constraint::KeepOut => "keep_out",
            Constraint::KeepIn => "keep_in",
            Constraint::ValidData => "valid_data",
            Constraint::Checker => "checker",
            Constraint::Impassable => "impassable",
        }
    }

    const fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl std::fmt::Display for Constraint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for Constraint {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

/// A set of [`Constraint`]s, as bit flags (two bytes a cell).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Constraints(u16);

impl Constraints {
    /// No constraint.
    pub const NONE: Constraints = Constraints(0);

    /// Every constraint.
    #[must_use]
    pub fn all() -> Self {
        Constraint::ALL.iter().fold(Constraints::NONE, |s, &c| s.with(c))
    }

    /// Just `c`.
    #[must_use]
    pub fn only(c: Constraint) -> Self {
        Constraints(c.bit())
    }

    /// This set with `c` added.
    #[must_use]
    pub const fn with(self, c: Constraint) -> Self {
        Constraints(self.0 | c.bit())
    }

    /// Adds `c`.
    pub fn insert(&mut self, c: Constraint) {
        self.0 |= c.bit();
    }

    /// Whether `c` is in the set.
    #[must_use]
    pub fn contains(self, c: Constraint) -> bool {
        self.0 & c.bit() != 0
    }

    /// Whether the set is empty (a feasible cell).
    #[must_use]
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Union.
    #[must_use]
    pub fn union(self, other: Constraints) -> Self {
        Constraints(self.0 | other.0)
    }

    /// Intersection.
    #[must_use]
    pub fn intersect(self, other: Constraints) -> Self {
        Constraints(self.0 & other.0)
    }

    /// The constraints of `self` that are not in `relaxed`.
    #[must_use]
    pub fn without(self, relaxed: Constraints) -> Self {
        Constraints(self.0 & !relaxed.0)
    }

    /// The members, in flag order.
    pub fn iter(self) -> impl Iterator<Item = Constraint> {
        Constraint::ALL.into_iter().filter(move |c| self.contains(*c))
    }
}

impl std::fmt::Display for Constraints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.iter().map(Constraint::id).collect();
        f.write_str(&ids.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_hold_what_is_put_in() {
        let s = Constraints::NONE.with(Constraint::Tilt).with(Constraint::KeepIn);
        assert!(s.contains(Constraint::Tilt) && s.contains(Constraint::KeepIn));
        assert!(!s.contains(Constraint::Step));
        assert_eq!(s.to_string(), "tilt, keep_in");
        assert!(s.without(s).is_empty());
        assert_eq!(
            s.without(Constraints::only(Constraint::Tilt)),
            Constraints::only(Constraint::KeepIn)
        );
        assert_eq!(Constraints::all().iter().count(), Constraint::ALL.len());
    }
}
