//! The threads after the engine, shared by every camera: the row stage (each live row of a
//! finished batch → one frame's output, e.g. decoding into detections) and publishing, which
//! checks the deadline last, immediately before the send.

use crossbeam::channel::{Receiver, Sender};

use crate::deadline::LatencyHistogram;
use crate::error::{DropReason, Stage};
use crate::pipeline::inflight::{InFlight, InFlightBatch};
use crate::pipeline::rules::{guarded, Scope, StageRules};
use crate::pipeline::shared::Shared;
use crate::pipeline::stage::{PublishStage, RowStage};

/// Rules and work for one row of a batch; `Some` with the frame's output when it goes on.
pub(crate) fn process_row<M, B, W: RowStage<B>>(
    rules: &mut StageRules<'_, M>,
    work: &mut W,
    batch: &mut B,
    row: usize,
    meta: &crate::pipeline::FrameMeta,
    now: &dyn Fn() -> crate::deadline::MonoTime,
) -> Option<InFlight<W::Output>> {
    let mut meta = *meta;
    if let Err(reason) = rules.enter(now(), &mut meta) {
        rules.drop_frame(&meta, reason);
        return None;
    }
    let start = now();
    let frozen = meta;
    let result = guarded(|| work.process_row(batch, row, &frozen));
    let end = now();
    rules.measured(meta.camera, end.nanos_since(start), meta.probe);
    match result.and_then(|out| rules.check_after(end, &meta).map(|()| out)) {
        Ok(payload) => {
            meta.handoff = end;
            Some(InFlight { meta, payload })
        }
        Err(reason) => {
            rules.drop_frame(&meta, reason);
            None
        }
    }
}

/// The row-stage thread: batch channel → each live row → publish channel.
pub(crate) fn row_loop<M, B, W: RowStage<B>>(
    shared: &Shared<M>,
    rx: Receiver<InFlightBatch<B>>,
    work: &mut W,
    tx: Sender<InFlight<W::Output>>,
) -> Vec<LatencyHistogram> {
    let mut rules = StageRules::new(Stage::Decode, Scope::Shared, shared);
    let now = || shared.now();
    while let Ok(InFlightBatch { rows, mut batch }) = rx.recv() {
        for row in 0..rows.len() {
            if !rows.alive.get(row).copied().unwrap_or(false) {
                continue;
            }
            let Some(meta) = rows.metas.get(row) else {
                continue;
            };
            let _span = tracing::debug_span!("stage", stage = "decode", seq = meta.seq).entered();
            if let Some(out) = process_row(&mut rules, work, &mut batch, row, meta, &now) {
                if let Err(failed) = tx.send(out) {
                    // Only if the publish thread died: account for the frame rather than lose it.
                    let m = failed.0.meta;
                    tracing::error!("publish stage is gone; frame dropped");
                    let reason = DropReason::MissedAt {
                        stage: Stage::Publish,
                    };
                    shared.drop_frame(m.camera, Stage::Publish, reason, m.seq);
                }
            }
        }
    }
    rules.into_histograms()
}

/// Rules and the send for one frame at the publish stage; true when it was published.
pub(crate) fn publish_one<M, In, W: PublishStage<In>>(
    rules: &mut StageRules<'_, M>,
    work: &mut W,
    item: InFlight<In>,
    now: &dyn Fn() -> crate::deadline::MonoTime,
) -> bool {
    let InFlight { mut meta, payload } = item;
    let entered = now();
    if let Err(reason) = rules
        .enter(entered, &mut meta)
        .and_then(|()| rules.check_after(entered, &meta))
    {
        drop(payload);
        rules.drop_frame(&meta, reason);
        return false;
    }
    // The last check, immediately before the send: nothing is published late.
    if meta.deadline.passed(now()) {
        drop(payload);
        rules.drop_frame(
            &meta,
            DropReason::MissedAt {
                stage: Stage::Publish,
            },
        );
        return false;
    }
    let start = now();
    let result = guarded(|| work.publish(payload, &meta));
    let end = now();
    rules.measured(meta.camera, end.nanos_since(start), meta.probe);
    match result {
        Ok(()) => {
            rules
                .shared
                .published(meta.camera, meta.deadline.latency_at(end), meta.seq);
            true
        }
        Err(reason) => {
            rules.drop_frame(&meta, reason);
            false
        }
    }
}

/// The publish thread: channel → checks → final deadline check → send.
pub(crate) fn publish_loop<M, In, W: PublishStage<In>>(
    shared: &Shared<M>,
    rx: Receiver<InFlight<In>>,
    work: &mut W,
) -> Vec<LatencyHistogram> {
    let mut rules = StageRules::new(Stage::Publish, Scope::Shared, shared);
    let now = || shared.now();
    while let Ok(item) = rx.recv() {
        let _span = tracing::debug_span!("stage", stage = "publish", seq = item.meta.seq).entered();
        publish_one(&mut rules, work, item, &now);
    }
    rules.into_histograms()
}
