//! One timer queue for every session: a binary heap of deadlines with lazy removal.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

/// Deadlines by session slot. A session re-arms by pushing its new deadline; the old
/// entry stays in the heap and is skipped when it comes up, because the slot's armed
/// deadline (kept by the caller) no longer matches it.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<(Instant, usize, u32)>>,
}

impl Timers {
    /// Arms `(slot, generation)` for `at`.
    pub(crate) fn push(&mut self, at: Instant, slot: usize, generation: u32) {
        self.heap.push(Reverse((at, slot, generation)));
    }

    /// The earliest deadline in the heap (possibly stale: waking early is harmless).
    pub(crate) fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _, _))| *at)
    }

    /// Takes the next entry due at `now`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<(Instant, usize, u32)> {
        match self.heap.peek() {
            Some(Reverse((at, _, _))) if *at <= now => self.heap.pop().map(|Reverse(e)| e),
            _ => None,
        }
    }

    /// How many entries, stale ones included.
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }

    /// Replaces the heap with exactly the live deadlines, when stale entries pile up
    /// (every byte received moves a session's keepalive deadline).
    pub(crate) fn rebuild(&mut self, live: impl Iterator<Item = (Instant, usize, u32)>) {
        self.heap = live.map(Reverse).collect();
    }
}
