//! Per-frame outcome events: every published and dropped frame is reported once, with the
//! same counts as the accounting, and the receiver can be drained after shutdown.

use std::sync::Arc;

#[path = "pipeline_support.rs"]
mod support;

use redline::deadline::{Outcome, SystemClock};
use redline::error::{BadInputKind, DropReason, FrameError};
use redline::frame::Lease;
use redline::pipeline::{FnStage, FrameMeta, Pipeline, StageSet};
use support::*;

#[test]
fn every_outcome_is_reported_once_and_matches_the_accounting() {
    let clock = Arc::new(SystemClock::new());
    let stages = StageSet::single(
        TestIngest::new(4),
        FnStage(|frame: Lease<Vec<u8>>, _: &FrameMeta| Ok(frame_id(&frame))),
        FnStage(|id: u64, _: &FrameMeta| {
            if id % 3 == 0 {
                Err(FrameError::Engine)
            } else {
                Ok(id)
            }
        }),
        FnStage(|id: u64, _: &FrameMeta| Ok(id)),
        FnStage(|_id: u64, _: &FrameMeta| Ok(())),
    );
    let pipeline = Pipeline::start(&settings(10_000.0), clock.clone(), stages).unwrap();
    let events = pipeline.frame_events();
    const N: u64 = 60;
    for id in 0..N {
        let mut m = message_now(&*clock, id);
        m.bad = id == 7;
        pipeline.submit(m);
        // Let each frame through before the next so none is superseded.
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let (summary, _) = pipeline.shutdown().unwrap();
    let events: Vec<_> = events.try_iter().collect();
    let a = summary.accounting;
    assert!(a.balances());
    assert_eq!(events.len() as u64, a.published + a.dropped.total());
    let published = events
        .iter()
        .filter(|e| matches!(e.outcome, Outcome::OnTime { .. }))
        .count() as u64;
    assert_eq!(published, a.published);
    let engine_errors = events
        .iter()
        .filter(|e| {
            matches!(
                e.outcome,
                Outcome::Dropped {
                    reason: DropReason::EngineError,
                    ..
                }
            )
        })
        .count() as u64;
    assert_eq!(engine_errors, a.dropped.get(DropReason::EngineError));
    assert!(engine_errors > 0);
    assert!(events.iter().any(|e| matches!(
        e.outcome,
        Outcome::Dropped {
            reason: DropReason::BadInput {
                kind: BadInputKind::DataTooShort
            },
            ..
        }
    )));
    // Sequence numbers are unique.
    let mut seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), events.len());
}
