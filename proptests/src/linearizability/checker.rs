//! A generic linearizability checker: Wing and Gong's search with Lowe's
//! memoization (the algorithm of Porcupine and Knossos' `wgl`).
//!
//! A history is a set of [`Entry`]s, each an operation with its observed
//! result and its real-time interval `[invoke, ret]`. It is linearizable if
//! some total order of the entries (a) respects real time, i.e. puts `a`
//! before `b` whenever `a` returned before `b` was invoked, and (b) is
//! accepted step by step by the sequential [`Model`], each step producing the
//! observed result.
//!
//! The search is a depth-first search over the entries that may come next:
//! those invoked before every other pending entry returned. A configuration
//! is the set of entries already linearized plus the model state reached;
//! configurations already explored are remembered and never explored again,
//! which is what makes the search practical on histories of a few hundred
//! operations.

use std::collections::HashSet;
use std::hash::Hash;

/// A sequential specification, as the checker sees it.
pub trait Model {
    /// The model's state. Compared and hashed to remember explored
    /// configurations.
    type State: Clone + Eq + Hash;
    /// An operation together with its observed result.
    type Op;

    /// The state before any operation.
    fn init(&self) -> Self::State;

    /// Applies `op` to `state`: the next state if the model can produce the
    /// observed result from `state`, `None` if it cannot.
    fn step(&self, state: &Self::State, op: &Self::Op) -> Option<Self::State>;
}

/// One operation of a history, with its observed result and real-time interval.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry<O> {
    /// When the operation was invoked (any monotonic unit, e.g. nanoseconds).
    pub invoke: u64,
    /// When it returned; at least `invoke`.
    pub ret: u64,
    /// The operation and its result.
    pub op: O,
}

/// The checker's verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A valid linearization exists; here it is, as entry indexes in order.
    Linearizable(Vec<usize>),
    /// None exists. The longest linearizable prefix found is given, as entry
    /// indexes in order: the entries outside it are where to look.
    NotLinearizable {
        /// The longest prefix of a linearization that the search reached.
        longest_prefix: Vec<usize>,
    },
    /// The search explored `limit` configurations without an answer.
    Inconclusive {
        /// The configuration budget that was exhausted.
        limit: usize,
    },
}

impl Verdict {
    /// Whether the verdict is [`Verdict::Linearizable`].
    pub fn is_linearizable(&self) -> bool {
        matches!(self, Verdict::Linearizable(_))
    }
}

/// A set of entry indexes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Bits(Vec<u64>);

impl Bits {
    fn new(n: usize) -> Self {
        Bits(vec![0; n.div_ceil(64)])
    }
    fn get(&self, i: usize) -> bool {
        self.0[i / 64] & (1 << (i % 64)) != 0
    }
    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }
}

struct Frame<S> {
    done: Bits,
    state: S,
    /// The entry linearized to reach this frame.
    via: Option<usize>,
    candidates: Vec<usize>,
    next: usize,
}

/// Checks `history` against `model`, exploring at most `limit`
/// configurations.
pub fn check<M: Model>(model: &M, history: &[Entry<M::Op>], limit: usize) -> Verdict {
    let n = history.len();
    if n == 0 {
        return Verdict::Linearizable(Vec::new());
    }
    // Entries by invocation time: the candidates are a prefix of the pending ones.
    let mut by_invoke: Vec<usize> = (0..n).collect();
    by_invoke.sort_by_key(|&i| (history[i].invoke, history[i].ret));
    let candidates = |done: &Bits| -> Vec<usize> {
        let horizon = (0..n)
            .filter(|&i| !done.get(i))
            .map(|i| history[i].ret)
            .min()
            .unwrap_or(u64::MAX);
        by_invoke
            .iter()
            .copied()
            .filter(|&i| !done.get(i))
            .take_while(|&i| history[i].invoke <= horizon)
            .collect()
    };

    let root = Bits::new(n);
    let mut seen: HashSet<(Bits, M::State)> = HashSet::new();
    let mut stack = vec![Frame {
        candidates: candidates(&root),
        done: root,
        state: model.init(),
        via: None,
        next: 0,
    }];
    let mut longest: Vec<usize> = Vec::new();
    while let Some(frame) = stack.last_mut() {
        let Some(&entry) = frame.candidates.get(frame.next) else {
            stack.pop();
            continue;
        };
        frame.next += 1;
        let Some(state) = model.step(&frame.state, &history[entry].op) else {
            continue;
        };
        let mut done = frame.done.clone();
        done.set(entry);
        if stack.len() == n {
            let mut order: Vec<usize> = stack.iter().filter_map(|f| f.via).collect();
            order.push(entry);
            return Verdict::Linearizable(order);
        }
        if !seen.insert((done.clone(), state.clone())) {
            continue;
        }
        if seen.len() > limit {
            return Verdict::Inconclusive { limit };
        }
        if stack.len() > longest.len() {
            longest = stack.iter().filter_map(|f| f.via).collect();
            longest.push(entry);
        }
        stack.push(Frame {
            candidates: candidates(&done),
            done,
            state,
            via: Some(entry),
            next: 0,
        });
    }
    Verdict::NotLinearizable {
        longest_prefix: longest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A read/write register holding an integer.
    struct Register;

    #[derive(Debug)]
    enum RegOp {
        Write(u32),
        Read(u32),
    }

    impl Model for Register {
        type State = u32;
        type Op = RegOp;
        fn init(&self) -> u32 {
            0
        }
        fn step(&self, state: &u32, op: &RegOp) -> Option<u32> {
            match *op {
                RegOp::Write(v) => Some(v),
                RegOp::Read(v) => (v == *state).then_some(v),
            }
        }
    }

    fn e(invoke: u64, ret: u64, op: RegOp) -> Entry<RegOp> {
        Entry { invoke, ret, op }
    }

    #[test]
    fn overlapping_write_explains_a_read() {
        // w(1) overlaps both reads: r->0 then r->1 is fine.
        let h = [
            e(0, 10, RegOp::Write(1)),
            e(1, 2, RegOp::Read(0)),
            e(3, 4, RegOp::Read(1)),
        ];
        assert!(check(&Register, &h, 1000).is_linearizable());
    }

    #[test]
    fn stale_read_after_a_completed_write_is_caught() {
        let h = [e(0, 1, RegOp::Write(1)), e(2, 3, RegOp::Read(0))];
        assert_eq!(
            check(&Register, &h, 1000),
            Verdict::NotLinearizable {
                longest_prefix: vec![0]
            }
        );
    }

    #[test]
    fn reads_may_not_go_back_in_time() {
        // Both writes overlap both reads, but r->2 then r->1 needs w(2) before
        // w(1) and w(1) before w(2)... unless w(1) comes between: 0:w2 1:r2 2:w1 3:r1.
        let ok = [
            e(0, 10, RegOp::Write(1)),
            e(0, 10, RegOp::Write(2)),
            e(1, 2, RegOp::Read(2)),
            e(3, 4, RegOp::Read(1)),
        ];
        assert!(check(&Register, &ok, 1000).is_linearizable());
        // With w(1) finished before w(2) started, a read of 2 then 1 is impossible.
        let bad = [
            e(0, 1, RegOp::Write(1)),
            e(2, 10, RegOp::Write(2)),
            e(3, 4, RegOp::Read(2)),
            e(5, 6, RegOp::Read(1)),
        ];
        assert!(!check(&Register, &bad, 1000).is_linearizable());
    }

    #[test]
    fn budget_is_reported() {
        let h: Vec<_> = (0..12).map(|i| e(0, 100, RegOp::Write(i))).collect();
        let mut h = h;
        h.push(e(200, 201, RegOp::Read(99)));
        assert_eq!(
            check(&Register, &h, 50),
            Verdict::Inconclusive { limit: 50 }
        );
    }
}
