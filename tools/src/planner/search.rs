//! A* over the cost grid's 16-connected graph ([`crate::cost::grid`]).
//!
//! Flat arrays over a copy of the grid padded with two rows and columns of infeasible cells
//! (so no move needs a bounds check), a 4-ary heap without decrease-key whose entries are in a
//! strict total order (so the states expanded and the route returned do not depend on the
//! queue's internals; see [`Heap`]), and a heuristic that is admissible and consistent: the
//! straight-line distance to the target disc times the cheapest per-metre cost of any
//! feasible cell. No move can cost less than its length times that, and the distance to a
//! disc is 1-Lipschitz, so the first target popped is reached at optimal cost.
//!
//! Memory: a whole-grid search without heading masks keeps 16 bytes a padded cell (its cost,
//! `g` and parent in one record); other searches 4 bytes a cell of the frame searched (the
//! padded costs; 5 with heading masks) and 9 bytes a state (`g` and the parent). Plus 16 bytes
//! an open-set entry.

use crate::checker::Pt;
use crate::cost::grid::{move_weight, CostGrid, MOVES};
use crate::cost::Constraints;

/// Where the search may end: any feasible cell whose centre lies within `radius_m` of
/// `point`, plus `cells` given explicitly.
#[derive(Debug, Clone)]
pub struct Target {
    /// Centre of the target disc, map metres.
    pub point: Pt,
    /// Radius of the target disc, metres (0: only `cells`).
    pub radius_m: f64,
    /// Cells that end the search, sorted.
    cells: Vec<usize>,
}

impl Target {
    /// Just cell `i`.
    #[must_use]
    pub fn cell(grid: &CostGrid, i: usize) -> Self {
        Target { point: grid.centre(i), radius_m: 0.0, cells: vec![i] }
    }

    /// Every cell whose centre lies within `radius_m` of `point`, and the cell containing
    /// `point` itself (whatever their feasibility: the search only ever reaches feasible ones).
    #[must_use]
    pub fn disc(grid: &CostGrid, point: Pt, radius_m: f64) -> Self {
        let t = grid.transform();
        let (dx, dy) = t.resolution();
        let (u, v) = t.to_cell(point.0, point.1);
        let (rc, rr) = ((radius_m / dx).ceil() as i64 + 1, (radius_m / dy).ceil() as i64 + 1);
        let mut cells = Vec::new();
        if u.is_finite() && v.is_finite() {
            let (cu, cv) = (u.floor() as i64, v.floor() as i64);
            for r in cv - rr..=cv + rr {
                for c in cu - rc..=cu + rc {
                    let Some(i) = grid.index(c, r) else { continue };
                    let p = grid.centre(i);
                    if (p.0 - point.0).hypot(p.1 - point.1) <= radius_m || (c == cu && r == cv) {
                        cells.push(i);
                    }
                }
            }
        }
        cells.sort_unstable();
        Target { point, radius_m, cells }
    }

    /// The cells that end the search.
    #[must_use]
    pub fn cells(&self) -> &[usize] {
        &self.cells
    }
}

/// A route found by the search.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResult {
    /// Cells from the start to the target reached, grid indices.
    pub path: Vec<usize>,
    /// Its cost (the sum of its moves' costs).
    pub cost: f64,
    /// Cells expanded (taken off the open set).
    pub expanded: usize,
}

const PAD: usize = 2;

/// An open-set entry: the state `node` with `f = g + h` when it was pushed.
///
/// The open set orders entries by `f`, then `h` (deeper first on a tie), then `node`: a
/// strict total order over states, so the order in which states are expanded, and hence the
/// route among equal-cost ones, does not depend on how the queue is built. `h` is not stored
/// (it is a function of the state's cell, recomputed on the rare exact tie of `f`), which
/// keeps an entry at 16 bytes: four children of the 4-ary heap fill one cache line.
#[derive(Debug, Clone, Copy)]
struct Entry {
    f: f64,
    node: u32,
}

/// A 4-ary min-heap of entries without decrease-key ("lazy deletion").
///
/// A state whose `g` improves is pushed again rather than moved; its older entries pop later
/// (their `f` is no smaller, and on an exact tie they are the same key) and are skipped since
/// the state is closed by then. The states expanded, and their order, are those of a heap
/// with decrease-key under the same total order, but no slot index per state has to be kept
/// up to date on every sift (the last profile put 30% of the search in the indexed binary
/// heap, much of it writing those slots), and a 4-ary heap is half as deep as a binary one.
/// The price is the repeated entries: the open set holds at most one entry per improvement
/// of a state (a few per state in practice).
struct Heap {
    items: Vec<Entry>,
}

impl Heap {
    /// Adds `e`; `before` is the strict order of entries.
    #[inline]
    fn push(&mut self, e: Entry, before: impl Fn(&Entry, &Entry) -> bool) {
        let mut i = self.items.len();
        self.items.push(e);
        while i > 0 {
            let p = (i - 1) / 4;
            if !before(&e, &self.items[p]) {
                break;
            }
            self.items[i] = self.items[p];
            i = p;
        }
        self.items[i] = e;
    }

    /// Takes the first entry in `before`'s order.
    #[inline]
    fn pop(&mut self, before: impl Fn(&Entry, &Entry) -> bool) -> Option<Entry> {
        let top = *self.items.first()?;
        let last = self.items.pop()?;
        let n = self.items.len();
        if n > 0 {
            let mut i = 0;
            loop {
                let first = 4 * i + 1;
                if first >= n {
                    break;
                }
                let mut c = first;
                for j in first + 1..(first + 4).min(n) {
                    if before(&self.items[j], &self.items[c]) {
                        c = j;
                    }
                }
                if !before(&self.items[c], &last) {
                    break;
                }
                self.items[i] = self.items[c];
                i = c;
            }
            self.items[i] = last;
        }
        Some(top)
    }
}

/// A padded cell of a [`run_states`] search with `PACKED` states: its per-metre cost (infinite:
/// not to be entered), its state's `g` (negated once closed) and parent move.
#[derive(Clone, Copy)]
struct Rec {
    g: f64,
    cost: f32,
    parent: u8,
}

impl Rec {
    const UNSEEN: Rec = Rec { g: f64::INFINITY, cost: f32::INFINITY, parent: u8::MAX };
}

/// One move in padded-index terms.
#[derive(Clone, Copy)]
struct PMove {
    to: isize,
    /// Column and row offsets (the heuristic of the cell entered, from the one left).
    dc: isize,
    dr: isize,
    via: [isize; 2],
    len: f64,
    via_costs: bool,
    /// Axis bit of the move (heading masks).
    bit: u8,
}

/// Every first move allowed.
pub const ALL_MOVES: u16 = u16::MAX;

/// The cheapest route from cell `start` to any cell of `target` on `grid`'s 16-connected
/// graph, ignoring the constraints in `relaxed`; `None` when no target is reachable (or the
/// start is infeasible). See [`astar_from`].
#[must_use]
pub fn astar(
    grid: &CostGrid,
    start: usize,
    target: &Target,
    relaxed: Constraints,
) -> Option<SearchResult> {
    astar_from(grid, start, ALL_MOVES, target, relaxed)
}

/// [`astar`] with the first move limited to the moves whose bit is set in `first_moves`
/// (bit `k` for [`MOVES`]`[k]`: the planner leaves out headings the rover cannot turn to
/// from its start heading).
///
/// On a grid with heading masks ([`CostGrid::has_axes`]) the search state is a cell and the
/// move that entered it (17 states a cell, the 17th for the start): a move must leave its
/// cell and enter the next along an axis the rover may face on both (the cells a knight move
/// crosses need only be feasible: between centres the checker's verification is the judge), and changing direction at a cell
/// turns the rover in place through every axis between the two headings
/// ([`crate::cost::Headings::sweep`]), each of which must be allowed there. On a grid
/// without masks the state is the cell alone.
#[must_use]
pub fn astar_from(
    grid: &CostGrid,
    start: usize,
    first_moves: u16,
    target: &Target,
    relaxed: Constraints,
) -> Option<SearchResult> {
    let frame = Frame { col0: 0, row0: 0, width: grid.width(), height: grid.height() };
    let pw = frame.width + 2 * PAD;
    let cells = pw * (frame.height + 2 * PAD);
    run(grid, &frame, None, &Dense(cells), start, first_moves, target, relaxed)
}

/// The cells a search may use: a rectangle of the grid (`col0`, `row0`, `width` x `height`)
/// and which of its cells are in (row-major over the rectangle). The strategic planner's
/// corridor around a coarse route.
///
/// Memory of a search within a region: 9 bytes per cell of the rectangle (costs, heading
/// masks, slot numbers) plus 9 bytes per search state of the cells inside and the open set (17 states a cell on a grid with heading masks), so a thin corridor across a large
/// grid costs little more than its own cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    /// Left column of the rectangle.
    pub col0: usize,
    /// Top row of the rectangle.
    pub row0: usize,
    /// Columns of the rectangle.
    pub width: usize,
    /// Rows of the rectangle.
    pub height: usize,
    /// Whether each cell of the rectangle is in, row-major.
    pub inside: Vec<bool>,
}

impl Region {
    /// Every cell of `grid` whose `(col, row)` `keep` accepts, within the smallest rectangle
    /// holding them all (`None` when there is none).
    #[must_use]
    pub fn from_fn(grid: &CostGrid, keep: impl Fn(usize, usize) -> bool) -> Option<Self> {
        let (w, h) = (grid.width(), grid.height());
        let (mut c0, mut r0, mut c1, mut r1) = (usize::MAX, usize::MAX, 0, 0);
        for r in 0..h {
            for c in 0..w {
                if keep(c, r) {
                    (c0, r0, c1, r1) = (c0.min(c), r0.min(r), c1.max(c), r1.max(r));
                }
            }
        }
        if c0 == usize::MAX {
            return None;
        }
        let (width, height) = (c1 + 1 - c0, r1 + 1 - r0);
        let mut inside = vec![false; width * height];
        for r in 0..height {
            for c in 0..width {
                inside[r * width + c] = keep(c0 + c, r0 + r);
            }
        }
        Some(Region { col0: c0, row0: r0, width, height, inside })
    }

    /// Whether grid cell `(col, row)` is in.
    #[must_use]
    pub fn contains(&self, col: usize, row: usize) -> bool {
        col >= self.col0
            && row >= self.row0
            && col < self.col0 + self.width
            && row < self.row0 + self.height
            && self.inside[(row - self.row0) * self.width + col - self.col0]
    }

    /// Number of cells in.
    #[must_use]
    pub fn count(&self) -> usize {
        self.inside.iter().filter(|&&b| b).count()
    }
}

/// [`astar_from`] using only the cells of `region` (the others count as infeasible): the
/// same graph, costs and heading rules, so a route found is a route of the whole grid, and
/// the cheapest one among those within the region. `None` also when the start or every
/// target cell lies outside the region.
#[must_use]
pub fn astar_within(
    grid: &CostGrid,
    start: usize,
    first_moves: u16,
    target: &Target,
    relaxed: Constraints,
    region: &Region,
) -> Option<SearchResult> {
    if region.col0 + region.width > grid.width() || region.row0 + region.height > grid.height() {
        return None;
    }
    let frame =
        Frame { col0: region.col0, row0: region.row0, width: region.width, height: region.height };
    let pw = frame.width + 2 * PAD;
    let cells = pw * (frame.height + 2 * PAD);
    // Slot numbers for the cells inside, in padded-frame order.
    let mut slot = vec![u32::MAX; cells];
    let mut cell = Vec::with_capacity(region.count());
    for r in 0..region.height {
        for c in 0..region.width {
            if region.inside[r * region.width + c] {
                let p = (r + PAD) * pw + c + PAD;
                slot[p] = u32::try_from(cell.len()).ok()?;
                cell.push(p as u32);
            }
        }
    }
    let slots = Sparse { slot, cell };
    run(grid, &frame, Some(region), &slots, start, first_moves, target, relaxed)
}

/// The rectangle of the grid a search runs over.
struct Frame {
    col0: usize,
    row0: usize,
    width: usize,
    height: usize,
}

/// Numbers the padded cells the search may reach, so that per-state arrays need only cover
/// them: every padded cell ([`Dense`], the whole-grid search) or the cells of a region
/// ([`Sparse`]). Only ever asked about cells the search can enter (finite cost).
trait Slots {
    /// Whether every padded cell is its own slot.
    const DENSE: bool;
    /// Number of slots.
    fn len(&self) -> usize;
    /// The slot of padded cell `p`.
    fn slot(&self, p: usize) -> usize;
    /// The padded cell of slot `s`.
    fn cell(&self, s: usize) -> usize;
}

struct Dense(usize);

impl Slots for Dense {
    const DENSE: bool = true;
    #[inline]
    fn len(&self) -> usize {
        self.0
    }
    #[inline]
    fn slot(&self, p: usize) -> usize {
        p
    }
    #[inline]
    fn cell(&self, s: usize) -> usize {
        s
    }
}

struct Sparse {
    slot: Vec<u32>,
    cell: Vec<u32>,
}

impl Slots for Sparse {
    const DENSE: bool = false;
    #[inline]
    fn len(&self) -> usize {
        self.cell.len()
    }
    #[inline]
    fn slot(&self, p: usize) -> usize {
        self.slot[p] as usize
    }
    #[inline]
    fn cell(&self, s: usize) -> usize {
        self.cell[s] as usize
    }
}

/// The search itself, over `frame` (cells outside `region`, when given, count as infeasible).
#[allow(clippy::too_many_arguments)]
fn run<S: Slots>(
    grid: &CostGrid,
    frame: &Frame,
    region: Option<&Region>,
    slots: &S,
    start: usize,
    first_moves: u16,
    target: &Target,
    relaxed: Constraints,
) -> Option<SearchResult> {
    // One copy of the loop per kind of state, so that the one without heading masks carries
    // no test of them and divides by no run-time number of directions.
    let (f, r, s) = (frame, region, slots);
    if grid.has_axes() {
        run_states::<S, true, false>(grid, f, r, s, start, first_moves, target, relaxed)
    } else if S::DENSE {
        run_states::<S, false, true>(grid, f, r, s, start, first_moves, target, relaxed)
    } else {
        run_states::<S, false, false>(grid, f, r, s, start, first_moves, target, relaxed)
    }
}

/// [`run`] with states of a cell and its entering move (`TURNS`, 17 a cell) or of a cell alone.
/// `PACKED` (cells alone, every padded cell a state: the whole-grid search without heading
/// masks) keeps a cell's cost, `g` and parent in one [`Rec`], so a neighbour's feasibility,
/// cost and `g` come from one cache line instead of two arrays: the last profile had most of
/// the search's time in cache misses on those reads.
///
/// Per state the search keeps only `g` (8 bytes) and its parent (1 byte); a state is closed by
/// negating its `g`. Every `g` is at least 0, so a closed state's is at most -0.0 and no
/// relaxation `ng < g` can reopen it: the test that a neighbour is closed is the comparison
/// the relaxation makes anyway, on the one array it reads.
#[allow(clippy::too_many_arguments)]
fn run_states<S: Slots, const TURNS: bool, const PACKED: bool>(
    grid: &CostGrid,
    frame: &Frame,
    region: Option<&Region>,
    slots: &S,
    start: usize,
    first_moves: u16,
    target: &Target,
    relaxed: Constraints,
) -> Option<SearchResult> {
    let w = grid.width();
    let (fw, fh) = (frame.width, frame.height);
    if start >= grid.len() || !grid.passable(start, relaxed) || target.cells.is_empty() {
        return None;
    }
    let (sc, sr) = grid.col_row(start);
    if sc < frame.col0 || sr < frame.row0 || sc >= frame.col0 + fw || sr >= frame.row0 + fh {
        return None;
    }
    if region.is_some_and(|g| !g.contains(sc, sr)) {
        return None;
    }
    let dirs: usize = if TURNS { 17 } else { 1 };
    let start_dir: usize = if TURNS { 16 } else { 0 };
    let pw = fw + 2 * PAD;
    let ph = fh + 2 * PAD;
    let cells = pw * ph;
    let states = slots.len().checked_mul(dirs)?;
    // State numbers are u32 in the open set (and stay clear of the top two values, as before).
    if states >= (u32::MAX - 1) as usize {
        return None;
    }
    let mut pc = if PACKED { Vec::new() } else { vec![f32::INFINITY; cells] };
    let mut rec = if PACKED { vec![Rec::UNSEEN; cells] } else { Vec::new() };
    let mut pm = if TURNS { vec![0u8; cells] } else { Vec::new() };
    let (costs, blocked) = (grid.costs(), grid.blocked());
    for r in 0..fh {
        let base = (r + PAD) * pw + PAD;
        for c in 0..fw {
            if region.is_some_and(|g| !g.inside[r * fw + c]) {
                continue;
            }
            let i = (r + frame.row0) * w + c + frame.col0;
            if blocked[i].without(relaxed).is_empty() {
                let axes = grid.axes(i, relaxed);
                if axes != 0 {
                    if PACKED {
                        rec[base + c].cost = costs[i];
                    } else {
                        pc[base + c] = costs[i];
                    }
                    if TURNS {
                        pm[base + c] = axes;
                    }
                }
            }
        }
    }
    let hd = grid.headings();
    let moves: Vec<PMove> = MOVES
        .iter()
        .enumerate()
        .map(|(k, m)| {
            let off = |dc: i32, dr: i32| dr as isize * pw as isize + dc as isize;
            PMove {
                to: off(m.dc, m.dr),
                dc: m.dc as isize,
                dr: m.dr as isize,
                via: [off(m.via[0].0, m.via[0].1), off(m.via[1].0, m.via[1].1)],
                len: grid.move_length(m),
                via_costs: m.via_costs,
                bit: 1 << hd.axis_of[k],
            }
        })
        .collect();
    let cmin = grid.min_cost(relaxed).unwrap_or(0.0);
    let t = grid.transform();
    let (dx, dy) = t.resolution();
    let (gu, gv) = t.to_cell(target.point.0, target.point.1);
    let radius = target.radius_m;
    let (oc, or) = (frame.col0 as f64 - PAD as f64 + 0.5, frame.row0 as f64 - PAD as f64 + 0.5);
    // The heuristic of padded column `c`, row `r`; the neighbour's column and row come from
    // the expanded cell's and the move's, not from a division per neighbour.
    let heuristic = |c: isize, r: isize| -> f64 {
        let (c, r) = (c as f64 + oc, r as f64 + or);
        // sqrt, not hypot: libm's overflow-safe `hypot` is several times slower, and
        // distances on a grid cannot overflow.
        let (ex, ey) = ((c - gu) * dx, (r - gv) * dy);
        let d = (ex * ex + ey * ey).sqrt() - radius;
        if d > 0.0 {
            d * cmin
        } else {
            0.0
        }
    };
    let cell_of = |st: usize| if TURNS { slots.cell(st / dirs) } else { slots.cell(st) };
    let h_of = |node: u32| {
        let p = cell_of(node as usize);
        heuristic((p % pw) as isize, (p / pw) as isize)
    };
    // f, then h (deeper first), then the state: `h` is recomputed only on an exact tie of f.
    let before = |a: &Entry, b: &Entry| {
        a.f < b.f
            || (a.f == b.f && {
                let (ha, hb) = (h_of(a.node), h_of(b.node));
                ha < hb || (ha == hb && a.node < b.node)
            })
    };
    let to_padded = |i: usize| (i / w - frame.row0 + PAD) * pw + i % w - frame.col0 + PAD;
    let to_grid = |p: usize| (p / pw - PAD + frame.row0) * w + p % pw - PAD + frame.col0;
    // The target's cells within the frame, as padded cells (sorted, as `to_padded` keeps the
    // row-major order): no conversion per expanded cell.
    let goals: Vec<usize> = target
        .cells
        .iter()
        .filter(|&&i| {
            let (c, r) = grid.col_row(i);
            c >= frame.col0 && r >= frame.row0 && c < frame.col0 + fw && r < frame.row0 + fh
        })
        .map(|&i| to_padded(i))
        .collect();

    // g of every state, negated once closed (see above).
    let mut g = if PACKED { Vec::new() } else { vec![f64::INFINITY; states] };
    // Without turns: the move that reached the state; with turns (the move is the state's
    // own direction): the direction of the state it came from.
    let mut parent = if PACKED { Vec::new() } else { vec![u8::MAX; states] };
    let mut heap = Heap { items: Vec::with_capacity(1024) };
    let sp = to_padded(start);
    let s = slots.slot(sp) * dirs + start_dir;
    if PACKED {
        rec[s].g = 0.0;
    } else {
        g[s] = 0.0;
    }
    let hs = heuristic((sp % pw) as isize, (sp / pw) as isize);
    heap.push(Entry { f: hs, node: s as u32 }, before);
    let mut expanded = 0usize;
    while let Some(e) = heap.pop(before) {
        let st = e.node as usize;
        let gu_ = if PACKED { rec[st].g } else { g[st] };
        if gu_.is_sign_negative() {
            // Closed: an entry left from before the state's g improved.
            continue;
        }
        if PACKED {
            rec[st].g = -gu_;
        } else {
            g[st] = -gu_;
        }
        let u = cell_of(st);
        let din = if TURNS { st % dirs } else { 0 };
        expanded += 1;
        if goals.binary_search(&u).is_ok() {
            let mut path = vec![to_grid(u)];
            let mut cur = st;
            while cur != s {
                let p = cell_of(cur);
                let k = if TURNS {
                    cur % dirs
                } else if PACKED {
                    rec[cur].parent as usize
                } else {
                    parent[cur] as usize
                };
                let prev = (p as isize - moves[k].to) as usize;
                let ps = slots.slot(prev);
                cur = if TURNS { ps * dirs + parent[cur] as usize } else { ps };
                path.push(to_grid(prev));
            }
            path.reverse();
            return Some(SearchResult { path, cost: gu_, expanded });
        }
        let cu = if PACKED { rec[u].cost } else { pc[u] };
        let mu = if TURNS { pm[u] } else { u8::MAX };
        let (uc, ur) = ((u % pw) as isize, (u / pw) as isize);
        let allowed = if st == s { first_moves } else { ALL_MOVES };
        for (k, m) in moves.iter().enumerate() {
            if allowed & (1 << k) == 0 {
                continue;
            }
            if TURNS && st != s && din != k {
                let need = hd.sweep[din][k];
                if mu & need != need {
                    continue;
                }
            }
            let v = (u as isize + m.to) as usize;
            let cv = if PACKED { rec[v].cost } else { pc[v] };
            if cv == f32::INFINITY {
                continue;
            }
            let ia = (u as isize + m.via[0]) as usize;
            let ib = (u as isize + m.via[1]) as usize;
            let (a, b) = if PACKED { (rec[ia].cost, rec[ib].cost) } else { (pc[ia], pc[ib]) };
            if a == f32::INFINITY || b == f32::INFINITY {
                continue;
            }
            if TURNS {
                let bit = m.bit;
                if mu & bit == 0 || pm[v] & bit == 0 {
                    continue;
                }
            }
            let vs = slots.slot(v);
            let ns = if TURNS { vs * dirs + k } else { vs };
            let step = if m.via_costs {
                move_weight(m.len, &[cu, a, b, cv])
            } else {
                move_weight(m.len, &[cu, cv])
            };
            let ng = gu_ + step;
            // Also false for a closed state (its g is negated).
            if ng < if PACKED { rec[ns].g } else { g[ns] } {
                if PACKED {
                    rec[ns].g = ng;
                    rec[ns].parent = k as u8;
                } else {
                    g[ns] = ng;
                    parent[ns] = if TURNS { din as u8 } else { k as u8 };
                }
                let hv = heuristic(uc + m.dc, ur + m.dr);
                heap.push(Entry { f: ng + hv, node: ns as u32 }, before);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terrain::GeoTransform;

    fn grid(w: usize, h: usize, costs: &[f32]) -> CostGrid {
        CostGrid::from_costs(w, h, GeoTransform { x0: 0.0, y0: h as f64, dx: 1.0, dy: -1.0 }, costs)
            .unwrap()
    }

    #[test]
    fn straight_and_knight_routes_on_uniform_ground() {
        let g = grid(10, 10, &[1.0; 100]);
        let r = astar(&g, 0, &Target::cell(&g, 9), Constraints::NONE).unwrap();
        assert!((r.cost - 9.0).abs() < 1e-12, "{r:?}");
        let r = astar(&g, 0, &Target::cell(&g, 2 + 10), Constraints::NONE).unwrap();
        assert_eq!(r.path, vec![0, 12], "one knight move");
        assert!((r.cost - 5f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn walls_are_walked_around_or_unreachable() {
        let inf = f32::INFINITY;
        let mut c = vec![1.0; 25];
        for r in 0..4 {
            c[r * 5 + 2] = inf;
        }
        let g = grid(5, 5, &c);
        let r = astar(&g, 0, &Target::cell(&g, 4), Constraints::NONE).unwrap();
        assert!(r.path.iter().all(|&i| i % 5 != 2 || i / 5 == 4), "{:?}", r.path);
        c[22] = inf;
        let g = grid(5, 5, &c);
        assert!(astar(&g, 0, &Target::cell(&g, 4), Constraints::NONE).is_none());
        let relax = Constraints::only(crate::cost::Constraint::Impassable);
        assert!(astar(&g, 0, &Target::cell(&g, 4), relax).is_some());
    }

    #[test]
    fn a_disc_target_stops_at_its_edge() {
        let g = grid(20, 1, &[1.0; 20]);
        let t = Target::disc(&g, (19.5, 0.5), 3.0);
        assert_eq!(t.cells(), &[16, 17, 18, 19]);
        let r = astar(&g, 0, &t, Constraints::NONE).unwrap();
        assert_eq!(*r.path.last().unwrap(), 16);
    }

    #[test]
    fn a_region_search_finds_the_whole_grid_route_when_it_holds_it() {
        let mut c = vec![1.0f32; 400];
        for r in 3..17 {
            c[r * 20 + 10] = f32::INFINITY;
        }
        let g = grid(20, 20, &c);
        let (s, e) = (5 * 20 + 2, 14 * 20 + 17);
        let full = astar(&g, s, &Target::cell(&g, e), Constraints::NONE).unwrap();
        let on: Vec<usize> = full.path.clone();
        let near = |c: usize, r: usize| {
            on.iter().any(|&i| {
                let (pc, pr) = g.col_row(i);
                pc.abs_diff(c) <= 2 && pr.abs_diff(r) <= 2
            })
        };
        let region = Region::from_fn(&g, near).unwrap();
        assert!(region.count() < 400);
        let t = Target::cell(&g, e);
        let within = astar_within(&g, s, ALL_MOVES, &t, Constraints::NONE, &region).unwrap();
        assert_eq!(within.path, full.path);
        assert!((within.cost - full.cost).abs() < 1e-12);
        assert!(within.expanded <= full.expanded);
        // A region around the straight line only: the wall is in the way.
        let line = Region::from_fn(&g, |c, r| r.abs_diff(5 + (c * 9) / 15) <= 1).unwrap();
        assert!(astar_within(&g, s, ALL_MOVES, &t, Constraints::NONE, &line).is_none());
    }
}
