//! Complementary suppression in a two-way table with margins.
//!
//! A grid has `rows × cols` interior cells, a margin row (index `rows`: the column totals)
//! and a margin column (index `cols`: the row totals), and their corner (the grand total).
//! Every line (a row, or a column, margin included) relates its cells: the margin cell is
//! the sum of the others. Flip the sign of the margin row's and column's cells and each line
//! sums to zero: the relations are the incidence matrix of the bipartite graph whose
//! vertices are the `rows + 1` rows and `cols + 1` columns and whose edges are the cells.
//!
//! Given the published cells, the unknown ones (withheld or never shown) satisfy the line
//! relations. An unknown cell's value is then determined exactly when its edge is a *bridge*
//! of the graph of unknown cells (no cycle through it): along a cycle, adding +t and −t in
//! turn keeps every line's sum, so a cell on a cycle can take any value; a bridge separates
//! the graph, and the sum over one side's lines pins it down.
//!
//! [`Grid::suppress`] withholds every sensitive shown cell, then, while a sensitive unknown
//! cell is a bridge, withholds the cheapest chain of shown cells that closes a cycle through
//! it (a shortest path between its row and column over the other cells, unknown cells free,
//! shown cells at their weight + 1, so small interior cells are preferred to margins). It
//! ends when no sensitive cell can be computed; in the worst case every shown cell is
//! withheld.
//!
//! Must never: use a cell everyone knows anyway ([`Cell::Known`]: a row an output leaves
//! out because nobody was there) as a complement, or leave a sensitive cell that is a bridge.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// One cell of a [`Grid`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    /// Known without the output (nobody there: the output leaves its row out).
    Known,
    /// Shown by the output unless withheld. `weight`: the people it describes (the cost of
    /// withholding it as a complement).
    Shown { sensitive: bool, weight: u64 },
    /// Never shown (an interior the output publishes only through margins); when sensitive,
    /// it must not be computable from what is shown either.
    Hidden { sensitive: bool },
}

impl Cell {
    fn sensitive(self) -> bool {
        matches!(
            self,
            Cell::Shown {
                sensitive: true,
                ..
            } | Cell::Hidden { sensitive: true }
        )
    }
}

/// A two-way table with margins (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grid {
    rows: usize,
    cols: usize,
    cells: Vec<Cell>,
}

impl Grid {
    /// A grid of `rows × cols` interior cells plus margins, every cell [`Cell::Known`].
    pub fn new(rows: usize, cols: usize) -> Grid {
        Grid {
            rows,
            cols,
            cells: vec![Cell::Known; (rows + 1) * (cols + 1)],
        }
    }

    /// Index of the margin row.
    pub fn margin_row(&self) -> usize {
        self.rows
    }

    /// Index of the margin column.
    pub fn margin_col(&self) -> usize {
        self.cols
    }

    fn index(&self, row: usize, col: usize) -> usize {
        assert!(
            row <= self.rows && col <= self.cols,
            "cell outside the grid"
        );
        row * (self.cols + 1) + col
    }

    pub fn set(&mut self, row: usize, col: usize, cell: Cell) {
        let i = self.index(row, col);
        self.cells[i] = cell;
    }

    pub fn get(&self, row: usize, col: usize) -> Cell {
        self.cells[self.index(row, col)]
    }

    fn endpoints(&self, i: usize) -> (usize, usize) {
        let (r, c) = (i / (self.cols + 1), i % (self.cols + 1));
        // Vertices: rows first, then columns.
        (r, self.rows + 1 + c)
    }

    fn vertices(&self) -> usize {
        self.rows + 1 + self.cols + 1
    }

    /// Which cells to withhold (row-major, margins included): every sensitive shown cell
    /// and the complements that keep every sensitive cell from being computed.
    pub fn suppress(&self) -> Withheld {
        let mut withheld: Vec<bool> = self
            .cells
            .iter()
            .map(|c| {
                matches!(
                    c,
                    Cell::Shown {
                        sensitive: true,
                        ..
                    }
                )
            })
            .collect();
        if !self.cells.iter().any(|c| c.sensitive()) {
            return Withheld {
                cols: self.cols,
                withheld,
            };
        }
        loop {
            let unknown = self.unknown(&withheld);
            let bridges = self.bridges(&unknown);
            let Some(target) =
                (0..self.cells.len()).find(|&i| bridges[i] && self.cells[i].sensitive())
            else {
                break;
            };
            match self.cheapest_cycle(target, &unknown) {
                Some(path) => {
                    for i in path {
                        withheld[i] = true;
                    }
                }
                None => {
                    // No chain of shown cells closes a cycle: withhold everything shown.
                    for (w, c) in withheld.iter_mut().zip(&self.cells) {
                        *w |= matches!(c, Cell::Shown { .. });
                    }
                    break;
                }
            }
        }
        Withheld {
            cols: self.cols,
            withheld,
        }
    }

    /// Unknown to a reader: never shown, or withheld.
    fn unknown(&self, withheld: &[bool]) -> Vec<bool> {
        self.cells
            .iter()
            .zip(withheld)
            .map(|(c, &w)| w || matches!(c, Cell::Hidden { .. }))
            .collect()
    }

    /// The unknown cells whose values the shown ones determine: bridges of the graph of
    /// unknown cells (Tarjan's low-link, iterative).
    pub fn determined(&self, withheld: &Withheld) -> Vec<bool> {
        self.bridges(&self.unknown(&withheld.withheld))
    }

    fn bridges(&self, unknown: &[bool]) -> Vec<bool> {
        let n = self.vertices();
        let mut adjacency: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
        for (i, _) in unknown.iter().enumerate().filter(|(_, &u)| u) {
            let (a, b) = self.endpoints(i);
            adjacency[a].push((b, i));
            adjacency[b].push((a, i));
        }
        let mut bridge = vec![false; unknown.len()];
        let mut order = vec![usize::MAX; n];
        let mut low = vec![0usize; n];
        let mut counter = 0;
        for root in 0..n {
            if order[root] != usize::MAX {
                continue;
            }
            // (vertex, edge it was reached by, next neighbour to look at)
            let mut stack: Vec<(usize, usize, usize)> = vec![(root, usize::MAX, 0)];
            order[root] = counter;
            low[root] = counter;
            counter += 1;
            while let Some(&mut (v, via, ref mut next)) = stack.last_mut() {
                if *next < adjacency[v].len() {
                    let (w, edge) = adjacency[v][*next];
                    *next += 1;
                    if edge == via {
                        continue;
                    }
                    if order[w] == usize::MAX {
                        order[w] = counter;
                        low[w] = counter;
                        counter += 1;
                        stack.push((w, edge, 0));
                    } else {
                        low[v] = low[v].min(order[w]);
                    }
                } else {
                    stack.pop();
                    if let Some(&(parent, _, _)) = stack.last() {
                        low[parent] = low[parent].min(low[v]);
                        if low[v] > order[parent] {
                            bridge[via] = true;
                        }
                    }
                }
            }
        }
        bridge
    }

    /// The shown, not yet withheld cells of the cheapest cycle through `target`: a shortest
    /// path from its row to its column avoiding it (unknown cells cost 0, shown cells their
    /// weight + 1, known cells are impassable). Ties go to the lower vertex, then cell index.
    fn cheapest_cycle(&self, target: usize, unknown: &[bool]) -> Option<Vec<usize>> {
        let n = self.vertices();
        let (from, to) = self.endpoints(target);
        let cost = |i: usize| -> Option<u128> {
            if i == target {
                return None;
            }
            match self.cells[i] {
                _ if unknown[i] => Some(0),
                Cell::Known => None,
                Cell::Shown { weight, .. } => Some(u128::from(weight) + 1),
                Cell::Hidden { .. } => Some(0),
            }
        };
        let mut dist = vec![u128::MAX; n];
        let mut came_by = vec![usize::MAX; n];
        let mut heap = BinaryHeap::new();
        dist[from] = 0;
        heap.push(Reverse((0u128, from)));
        while let Some(Reverse((d, v))) = heap.pop() {
            if d > dist[v] {
                continue;
            }
            if v == to {
                break;
            }
            // A row's edges go to every column and a column's to every row.
            let edges: Vec<(usize, usize)> = if v <= self.rows {
                (0..=self.cols)
                    .map(|c| (self.rows + 1 + c, self.index(v, c)))
                    .collect()
            } else {
                let c = v - self.rows - 1;
                (0..=self.rows).map(|r| (r, self.index(r, c))).collect()
            };
            for (w, i) in edges {
                let Some(c) = cost(i) else { continue };
                let nd = d + c;
                if nd < dist[w] {
                    dist[w] = nd;
                    came_by[w] = i;
                    heap.push(Reverse((nd, w)));
                }
            }
        }
        if dist[to] == u128::MAX {
            return None;
        }
        let mut path = Vec::new();
        let mut v = to;
        while v != from {
            let i = came_by[v];
            if !unknown[i] {
                path.push(i);
            }
            let (a, b) = self.endpoints(i);
            v = if a == v { b } else { a };
        }
        Some(path)
    }
}

/// Suppression in one line: `parts` and their `total` (a table by year with a horizon
/// total, arms with all arms, …). Returns the withheld flags of the parts, then of the total.
/// Without a total, pass [`Cell::Known`] only if the total is known to readers otherwise,
/// else `Cell::Hidden { sensitive: false }`.
pub fn suppress_line(parts: &[Cell], total: Cell) -> Vec<bool> {
    // A grid of one row; its margin row repeats it, hidden, so the only relation that binds
    // the shown cells is the row's own sum.
    let n = parts.len();
    let mut g = Grid::new(1, n);
    for (c, &cell) in parts.iter().chain([&total]).enumerate() {
        g.set(0, c, cell);
        g.set(1, c, Cell::Hidden { sensitive: false });
    }
    let w = g.suppress();
    (0..=n).map(|c| w.get(0, c)).collect()
}

/// What [`Grid::suppress`] withholds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Withheld {
    cols: usize,
    withheld: Vec<bool>,
}

impl Withheld {
    pub fn get(&self, row: usize, col: usize) -> bool {
        self.withheld[row * (self.cols + 1) + col]
    }

    /// Cells withheld.
    pub fn count(&self) -> usize {
        self.withheld.iter().filter(|&&w| w).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn shown(weight: u64, k: u64) -> Cell {
        Cell::Shown {
            sensitive: weight > 0 && weight < k,
            weight,
        }
    }

    /// A sex × band table from interior counts: margins are the sums.
    fn table(interior: &[Vec<u64>], k: u64) -> Grid {
        let rows = interior.len();
        let cols = interior[0].len();
        let mut g = Grid::new(rows, cols);
        let mut col_sum = vec![0; cols + 1];
        for (r, row) in interior.iter().enumerate() {
            let total: u64 = row.iter().sum();
            for (c, &v) in row.iter().enumerate() {
                g.set(r, c, shown(v, k));
                col_sum[c] += v;
            }
            g.set(r, cols, shown(total, k));
            col_sum[cols] += total;
        }
        for (c, &v) in col_sum.iter().enumerate() {
            g.set(rows, c, shown(v, k));
        }
        g
    }

    /// Is unknown cell `target` determined by the line relations? Exact rank test over the
    /// rationals (Gaussian elimination on small integers, an independent check of the graph
    /// argument): the unit vector of the cell lies in the row space of the relations
    /// restricted to the unknown cells.
    fn determined_by_algebra(g: &Grid, unknown: &[bool], target: usize) -> bool {
        let (rows, cols) = (g.rows, g.cols);
        let unknowns: Vec<usize> = (0..unknown.len()).filter(|&i| unknown[i]).collect();
        let col_of = |i: usize| unknowns.iter().position(|&u| u == i);
        let mut matrix: Vec<Vec<f64>> = Vec::new();
        // Row lines: sum of interior minus the margin cell.
        for r in 0..=rows {
            let mut eq = vec![0.0; unknowns.len()];
            for c in 0..=cols {
                if let Some(j) = col_of(r * (cols + 1) + c) {
                    eq[j] = if c == cols { -1.0 } else { 1.0 };
                }
            }
            matrix.push(eq);
        }
        for c in 0..=cols {
            let mut eq = vec![0.0; unknowns.len()];
            for r in 0..=rows {
                if let Some(j) = col_of(r * (cols + 1) + c) {
                    eq[j] = if r == rows { -1.0 } else { 1.0 };
                }
            }
            matrix.push(eq);
        }
        let rank = |m: &mut Vec<Vec<f64>>| -> usize {
            let width = m.first().map_or(0, |r| r.len());
            let mut rank = 0;
            for col in 0..width {
                let Some(p) =
                    (rank..m.len()).max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))
                else {
                    break;
                };
                if m[p][col].abs() < 1e-9 {
                    continue;
                }
                m.swap(rank, p);
                let pivot = m[rank].clone();
                for (r, row) in m.iter_mut().enumerate() {
                    if r != rank {
                        let f = row[col] / pivot[col];
                        for (x, p) in row.iter_mut().zip(&pivot).skip(col) {
                            *x -= f * p;
                        }
                    }
                }
                rank += 1;
            }
            rank
        };
        let base = rank(&mut matrix.clone());
        let mut with_unit = matrix;
        let mut unit = vec![0.0; unknowns.len()];
        unit[col_of(target).expect("target is unknown")] = 1.0;
        with_unit.push(unit);
        rank(&mut with_unit) == base
    }

    #[test]
    fn a_lone_small_cell_gets_complements_in_its_row_and_column() {
        // Two sexes × three bands; one cell of 4 people, k = 10.
        let g = table(&[vec![50, 4, 60], vec![40, 30, 70]], 10);
        let w = g.suppress();
        assert!(w.get(0, 1));
        // Its row and column each hold another withheld cell, and nothing is computable.
        assert!((0..=3).filter(|&c| w.get(0, c)).count() >= 2);
        assert!((0..=2).filter(|&r| w.get(r, 1)).count() >= 2);
        let det = g.determined(&w);
        assert!(!det[1]);
        // The cheapest complements are interior cells, not the margins.
        assert!(!w.get(2, 3));
    }

    #[test]
    fn nothing_is_withheld_without_a_sensitive_cell() {
        let g = table(&[vec![50, 40], vec![30, 20]], 10);
        assert_eq!(g.suppress().count(), 0);
    }

    #[test]
    fn hidden_interiors_protect_margins_that_have_more_than_one_year() {
        // Years × bands with only margins shown (compare tables): one small band margin.
        let mut g = Grid::new(3, 2);
        for r in 0..3 {
            for c in 0..2 {
                g.set(r, c, Cell::Hidden { sensitive: false });
            }
            g.set(r, 2, shown(100, 10));
        }
        g.set(3, 0, shown(295, 10));
        g.set(3, 1, shown(5, 10));
        g.set(3, 2, shown(300, 10));
        let w = g.suppress();
        // The band margin of 5 and one more cell of its line (the other band or the total).
        assert!(w.get(3, 1));
        assert!(w.get(3, 0) || w.get(3, 2));
        assert!(!g.determined(&w)[g.index(3, 1)]);
    }

    #[test]
    fn one_line_needs_two_withheld_cells() {
        let parts = [shown(40, 10), shown(3, 10), shown(25, 10), shown(30, 10)];
        let w = suppress_line(&parts, shown(98, 10));
        assert!(w[1]);
        // The next smallest part is the complement, not the total.
        assert_eq!(w, [false, true, true, false, false]);
        let w = suppress_line(&parts[..1], shown(40, 10));
        assert_eq!(w, [false, false]);
    }

    fn arbitrary_grid() -> impl Strategy<Value = (Grid, u64)> {
        (1usize..4, 1usize..6, 3u64..12).prop_flat_map(|(rows, cols, k)| {
            let n = (rows + 1) * (cols + 1);
            (
                Just((rows, cols, k)),
                proptest::collection::vec((0u8..10, 0u64..40), n),
            )
                .prop_map(|((rows, cols, k), spec)| {
                    let mut g = Grid::new(rows, cols);
                    for (i, (kind, w)) in spec.into_iter().enumerate() {
                        let (r, c) = (i / (cols + 1), i % (cols + 1));
                        let cell = match kind {
                            0 => Cell::Known,
                            1 => Cell::Hidden {
                                sensitive: w > 0 && w < k,
                            },
                            _ => shown(w, k),
                        };
                        g.set(r, c, cell);
                    }
                    (g, k)
                })
        })
    }

    proptest! {
        /// No withheld or hidden sensitive value can be recovered by subtraction from the
        /// published margins and cells (checked by linear algebra, independently of the
        /// bridge argument), and every sensitive shown cell is withheld.
        #[test]
        fn no_suppressed_value_is_recoverable_from_published_margins((g, _k) in arbitrary_grid()) {
            let w = g.suppress();
            let unknown = g.unknown(&w.withheld);
            for (i, cell) in g.cells.iter().enumerate() {
                if matches!(cell, Cell::Shown { sensitive: true, .. }) {
                    prop_assert!(w.withheld[i], "sensitive cell {i} shown");
                }
                if cell.sensitive() && unknown[i] {
                    // A sensitive cell that only known cells pin down cannot be protected
                    // by withholding; the grid then withholds everything shown.
                    let everything = g.cells.iter().enumerate().all(|(j, c)| !matches!(c, Cell::Shown { .. }) || w.withheld[j]);
                    prop_assert!(
                        !determined_by_algebra(&g, &unknown, i) || everything,
                        "cell {i} recoverable: {:?}", g
                    );
                    prop_assert_eq!(determined_by_algebra(&g, &unknown, i), g.determined(&w)[i]);
                }
                if !matches!(cell, Cell::Shown { .. }) {
                    prop_assert!(!w.withheld[i]);
                }
            }
        }
    }
}
