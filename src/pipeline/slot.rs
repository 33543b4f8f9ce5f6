//! A bounded, lock-free hand-over slot with eviction (`ArrayQueue::force_push`) and a parked
//! consumer: the latest-wins slot in front of preprocessing (capacity 1) and the ingress queue
//! in front of ingest. The evicted (oldest) item is handed back to the producer to be counted.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crossbeam::queue::ArrayQueue;
use crossbeam::sync::{Parker, Unparker};

/// How long a parked consumer sleeps before re-checking (a guard; wake-ups are explicit).
const PARK_GUARD: Duration = Duration::from_millis(20);

pub(crate) struct Slot<T> {
    queue: ArrayQueue<T>,
    unparker: Unparker,
    closed: AtomicBool,
}

impl<T> Slot<T> {
    /// A slot holding at most `capacity` items (≥ 1) and the parker of its single consumer.
    pub(crate) fn new(capacity: usize) -> (Self, Parker) {
        let parker = Parker::new();
        let slot = Self::with_unparker(capacity, parker.unparker().clone());
        (slot, parker)
    }

    /// A slot whose consumer already has a parker (one consumer reading several slots, like
    /// the engine thread reading every camera's ready slot).
    pub(crate) fn with_unparker(capacity: usize, unparker: Unparker) -> Self {
        Self {
            queue: ArrayQueue::new(capacity.max(1)),
            unparker,
            closed: AtomicBool::new(false),
        }
    }

    /// The next item if there is one, without waiting.
    pub(crate) fn try_take(&self) -> Option<T> {
        self.queue.pop()
    }

    /// True once closed and drained: nothing more will come out.
    pub(crate) fn is_finished(&self) -> bool {
        self.closed.load(Ordering::SeqCst) && self.queue.is_empty()
    }

    /// Put `item` in; when full, the oldest item is evicted and returned. Never blocks.
    pub(crate) fn offer(&self, item: T) -> Option<T> {
        let evicted = self.queue.force_push(item);
        self.unparker.unpark();
        evicted
    }

    /// No more items will be offered; the consumer drains what is left, then stops.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.unparker.unpark();
    }

    /// Items waiting now.
    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    /// The next item, waiting for one; `None` once closed and drained.
    pub(crate) fn take(&self, parker: &Parker) -> Option<T> {
        loop {
            if let Some(item) = self.queue.pop() {
                return Some(item);
            }
            if self.closed.load(Ordering::SeqCst) {
                return self.queue.pop();
            }
            parker.park_timeout(PARK_GUARD);
        }
    }
}

/// Closes a slot when dropped — also when the producing thread unwinds — so its consumer
/// never waits forever.
pub(crate) struct CloseOnDrop<'a, T>(pub(crate) &'a Slot<T>);

impl<T> Drop for CloseOnDrop<'_, T> {
    fn drop(&mut self) {
        self.0.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_one_keeps_the_latest_and_returns_the_evicted() {
        let (slot, parker) = Slot::new(1);
        assert_eq!(slot.offer(1), None);
        assert_eq!(slot.offer(2), Some(1));
        assert_eq!(slot.len(), 1);
        assert_eq!(slot.take(&parker), Some(2));
        slot.close();
        assert_eq!(slot.take(&parker), None);
    }

    #[test]
    fn a_parked_consumer_wakes_for_items_and_drains_before_stopping() {
        let (slot, parker) = Slot::new(4);
        let slot = &slot;
        std::thread::scope(|s| {
            let consumer = s.spawn(move || {
                let mut got = Vec::new();
                while let Some(x) = slot.take(&parker) {
                    got.push(x);
                }
                got
            });
            for i in 0..3 {
                slot.offer(i);
                std::thread::yield_now();
            }
            slot.close();
            let got = consumer.join().unwrap();
            assert_eq!(got, vec![0, 1, 2]);
        });
    }
}
