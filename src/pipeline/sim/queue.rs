//! The simulation's event queue: completions and timers ordered by virtual time, ties by the
//! order they were scheduled, so a run is the same every time.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::deadline::MonoTime;

/// Something that happens at a virtual instant.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Event {
    /// Camera `c`'s ingest finished its frame.
    IngestDone(usize),
    /// Camera `c`'s preprocessing finished its frame.
    PreprocessDone(usize),
    /// The engine run finished.
    EngineDone,
    /// The row stage finished its row.
    RowDone,
    /// The publish stage finished its send.
    PublishDone,
    /// A held batch or a pending timeout is due: decide again.
    EngineTimer,
    /// The watchdogs run.
    Tick,
}

/// Events by (time, scheduling order).
#[derive(Debug, Default)]
pub(crate) struct EventQueue {
    heap: BinaryHeap<Reverse<(u64, u64, Event)>>,
    scheduled: u64,
}

impl EventQueue {
    pub(crate) fn schedule(&mut self, at: MonoTime, event: Event) {
        self.scheduled += 1;
        self.heap
            .push(Reverse((at.as_nanos(), self.scheduled, event)));
    }

    /// When the next event happens.
    pub(crate) fn next_time(&self) -> Option<MonoTime> {
        self.heap
            .peek()
            .map(|Reverse((t, _, _))| MonoTime::from_nanos(*t))
    }

    pub(crate) fn pop(&mut self) -> Option<(MonoTime, Event)> {
        self.heap
            .pop()
            .map(|Reverse((t, _, e))| (MonoTime::from_nanos(t), e))
    }
}

/// A small deterministic generator (SplitMix64) for the cost draws.
#[derive(Clone, Debug)]
pub(crate) struct Draws(u64);

impl Draws {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// A uniform draw in [0, 1).
    pub(crate) fn next_unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_come_out_by_time_then_scheduling_order() {
        let mut q = EventQueue::default();
        q.schedule(MonoTime::from_nanos(20), Event::Tick);
        q.schedule(MonoTime::from_nanos(10), Event::RowDone);
        q.schedule(MonoTime::from_nanos(10), Event::EngineDone);
        assert_eq!(q.next_time(), Some(MonoTime::from_nanos(10)));
        assert_eq!(q.pop().map(|e| e.1), Some(Event::RowDone));
        assert_eq!(q.pop().map(|e| e.1), Some(Event::EngineDone));
        assert_eq!(q.pop().map(|e| e.1), Some(Event::Tick));
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn draws_are_uniform_and_repeatable() {
        let mut a = Draws::new(7);
        let mut b = Draws::new(7);
        let xs: Vec<f64> = (0..1000).map(|_| a.next_unit()).collect();
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
        assert_eq!(xs, (0..1000).map(|_| b.next_unit()).collect::<Vec<_>>());
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!((mean - 0.5).abs() < 0.05, "{mean}");
    }
}
