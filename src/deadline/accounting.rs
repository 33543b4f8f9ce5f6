//! Frame accounting: received, published, dropped by reason (a fixed table indexed by
//! [`drop_index`], so counting never grows a map) and in flight, all lock-free atomics.
//!
//! `in_flight` is counted on its own (incremented on receipt, decremented on the frame's single
//! final outcome), so the identity `received = published + Σ dropped + in_flight` is a real
//! check: a frame counted twice or never breaks it. Read while the pipeline runs, a snapshot may
//! be off by the frames changing state during the read; after shutdown it is exact.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use crate::error::{BadInputKind, DropReason, Stage};

const BAD_INPUT_KINDS: [BadInputKind; 10] = [
    BadInputKind::MalformedMessage,
    BadInputKind::UnknownEncoding,
    BadInputKind::ZeroDimension,
    BadInputKind::TooLarge,
    BadInputKind::StepTooSmall,
    BadInputKind::DataTooShort,
    BadInputKind::CorruptCompressed,
    BadInputKind::TruncatedCompressed,
    BadInputKind::DecodedTooLarge,
    BadInputKind::NonFiniteOutput,
];

const STAGED: usize = Stage::COUNT;
const BASE_PREDICTED: usize = 2;
const BASE_MISSED: usize = BASE_PREDICTED + STAGED;
const BASE_BAD_INPUT: usize = BASE_MISSED + STAGED;
const BASE_ENGINE: usize = BASE_BAD_INPUT + BAD_INPUT_KINDS.len();
const BASE_POOL: usize = BASE_ENGINE + 2;

/// Number of distinct drop reasons (each stage and input kind separately).
pub const DROP_SLOTS: usize = BASE_POOL + STAGED;

/// The table slot of a drop reason.
pub const fn drop_index(reason: DropReason) -> usize {
    match reason {
        DropReason::StaleOnArrival => 0,
        DropReason::Superseded => 1,
        DropReason::PredictedMiss { stage } => BASE_PREDICTED + stage.index(),
        DropReason::MissedAt { stage } => BASE_MISSED + stage.index(),
        DropReason::BadInput { kind } => BASE_BAD_INPUT + kind as usize,
        DropReason::EngineError => BASE_ENGINE,
        DropReason::ClockSkew => BASE_ENGINE + 1,
        DropReason::PoolExhausted { stage } => BASE_POOL + stage.index(),
    }
}

/// The drop reason in table slot `index`.
pub fn drop_reason_at(index: usize) -> Option<DropReason> {
    let staged = |base: usize| Stage::ALL.get(index.wrapping_sub(base)).copied();
    Some(match index {
        0 => DropReason::StaleOnArrival,
        1 => DropReason::Superseded,
        i if i < BASE_MISSED => DropReason::PredictedMiss {
            stage: staged(BASE_PREDICTED)?,
        },
        i if i < BASE_BAD_INPUT => DropReason::MissedAt {
            stage: staged(BASE_MISSED)?,
        },
        i if i < BASE_ENGINE => DropReason::BadInput {
            kind: *BAD_INPUT_KINDS.get(i - BASE_BAD_INPUT)?,
        },
        i if i == BASE_ENGINE => DropReason::EngineError,
        i if i == BASE_ENGINE + 1 => DropReason::ClockSkew,
        i if i < DROP_SLOTS => DropReason::PoolExhausted {
            stage: staged(BASE_POOL)?,
        },
        _ => return None,
    })
}

/// Drop counts by reason: a plain, `Copy` table.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct DropCounts {
    counts: [u64; DROP_SLOTS],
}

impl Default for DropCounts {
    fn default() -> Self {
        Self {
            counts: [0; DROP_SLOTS],
        }
    }
}

impl DropCounts {
    pub fn get(&self, reason: DropReason) -> u64 {
        self.counts[drop_index(reason)]
    }

    pub fn add(&mut self, reason: DropReason, n: u64) {
        self.counts[drop_index(reason)] += n;
    }

    /// Sum over all reasons.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Sum over the reasons with this [`DropReason::name`] (e.g. all `missed_at` stages).
    pub fn total_named(&self, name: &str) -> u64 {
        self.iter()
            .filter(|(r, _)| r.name() == name)
            .map(|(_, n)| n)
            .sum()
    }

    /// The non-zero counts, in table order.
    pub fn iter(&self) -> impl Iterator<Item = (DropReason, u64)> + '_ {
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .filter_map(|(i, n)| drop_reason_at(i).map(|r| (r, *n)))
    }
}

impl Serialize for DropCounts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        for (reason, n) in self.iter() {
            map.serialize_entry(&reason.to_string(), &n)?;
        }
        map.end()
    }
}

/// Live, lock-free frame counters.
#[derive(Debug)]
pub struct Accounting {
    received: AtomicU64,
    published: AtomicU64,
    in_flight: AtomicU64,
    dropped: [AtomicU64; DROP_SLOTS],
}

impl Default for Accounting {
    fn default() -> Self {
        Self {
            received: AtomicU64::new(0),
            published: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            dropped: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

impl Accounting {
    pub fn new() -> Self {
        Self::default()
    }

    /// A frame entered the pipeline.
    pub fn received(&self) {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.received.fetch_add(1, Ordering::SeqCst);
    }

    /// A frame in flight was published.
    pub fn published(&self) {
        self.published.fetch_add(1, Ordering::SeqCst);
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
    }

    /// A frame in flight was dropped.
    pub fn dropped(&self, reason: DropReason) {
        self.dropped[drop_index(reason)].fetch_add(1, Ordering::SeqCst);
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
    }

    pub fn snapshot(&self) -> AccountingSnapshot {
        let mut dropped = DropCounts::default();
        for (slot, counter) in dropped.counts.iter_mut().zip(&self.dropped) {
            *slot = counter.load(Ordering::SeqCst);
        }
        AccountingSnapshot {
            received: self.received.load(Ordering::SeqCst),
            published: self.published.load(Ordering::SeqCst),
            in_flight: self.in_flight.load(Ordering::SeqCst),
            dropped,
        }
    }
}

/// The counters at one moment.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AccountingSnapshot {
    pub received: u64,
    pub published: u64,
    pub in_flight: u64,
    pub dropped: DropCounts,
}

impl AccountingSnapshot {
    /// Add `other`'s counts (e.g. to total several cameras).
    pub fn add(&mut self, other: &AccountingSnapshot) {
        self.received += other.received;
        self.published += other.published;
        self.in_flight += other.in_flight;
        for (mine, theirs) in self.dropped.counts.iter_mut().zip(other.dropped.counts) {
            *mine += theirs;
        }
    }

    /// `received = published + Σ dropped + in_flight`.
    pub fn balances(&self) -> bool {
        self.received
            == self
                .published
                .saturating_add(self.dropped.total())
                .saturating_add(self.in_flight)
    }

    /// Frames that missed their deadline (stale, predicted or missed at a stage).
    pub fn deadline_misses(&self) -> u64 {
        self.dropped
            .iter()
            .filter(|(r, _)| r.is_deadline_miss())
            .map(|(_, n)| n)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_reason() -> Vec<DropReason> {
        let mut all = vec![
            DropReason::StaleOnArrival,
            DropReason::Superseded,
            DropReason::EngineError,
            DropReason::ClockSkew,
        ];
        for stage in Stage::ALL {
            all.push(DropReason::PredictedMiss { stage });
            all.push(DropReason::MissedAt { stage });
            all.push(DropReason::PoolExhausted { stage });
        }
        all.extend(BAD_INPUT_KINDS.map(|kind| DropReason::BadInput { kind }));
        all
    }

    #[test]
    fn every_reason_has_its_own_slot_and_round_trips() {
        let all = every_reason();
        assert_eq!(all.len(), DROP_SLOTS);
        let mut seen = [false; DROP_SLOTS];
        for r in all {
            let i = drop_index(r);
            assert!(!seen[i], "{r} shares slot {i}");
            seen[i] = true;
            assert_eq!(drop_reason_at(i), Some(r));
        }
        assert_eq!(drop_reason_at(DROP_SLOTS), None);
    }

    #[test]
    fn identity_holds_and_detects_a_lost_frame() {
        let acc = Accounting::new();
        for _ in 0..5 {
            acc.received();
        }
        acc.published();
        acc.dropped(DropReason::Superseded);
        acc.dropped(DropReason::MissedAt {
            stage: Stage::Infer,
        });
        let s = acc.snapshot();
        assert_eq!((s.received, s.published, s.in_flight), (5, 1, 2));
        assert_eq!(s.dropped.total(), 2);
        assert_eq!(s.deadline_misses(), 1);
        assert!(s.balances());
        let mut broken = s;
        broken.in_flight = 1;
        assert!(!broken.balances());
    }

    #[test]
    fn drop_counts_serialise_by_reason() {
        let mut d = DropCounts::default();
        d.add(
            DropReason::PredictedMiss {
                stage: Stage::Infer,
            },
            3,
        );
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, r#"{"predicted_miss:infer":3}"#);
        assert_eq!(d.total_named("predicted_miss"), 3);
    }
}
