//! The threads after the engine, shared by every camera: the row stage (each live row of a
//! finished batch → one frame's output, e.g. decoding into detections) and publishing, which
//! checks the deadline last, immediately before the send.

use crossbeam::channel::{Receiver, Sender};

use crate::deadline::{LatencyHistogram, MonoTime};
use crate::error::{DropReason, Stage};
use crate::pipeline::camera_threads::Loaded;
use crate::pipeline::inflight::{InFlight, InFlightBatch};
use crate::pipeline::rules::{guarded, Scope, StageRules};
use crate::pipeline::shared::Shared;
use crate::pipeline::stage::{FrameMeta, PublishStage, RowStage};

/// The row stage's work for `row` of `batch` at `now`: entry checks, then the work. `None`
/// when the frame was dropped on entry (counted).
pub(crate) fn row_start<M, B, W: RowStage<B>>(
    rules: &mut StageRules<'_, M>,
    work: &mut W,
    batch: &mut B,
    row: usize,
    meta: &FrameMeta,
    now: MonoTime,
) -> Option<Loaded<W::Output>> {
    let mut meta = *meta;
    let _span = tracing::debug_span!("stage", stage = "decode", seq = meta.seq).entered();
    if let Err(reason) = rules.enter(now, &mut meta) {
        rules.drop_frame(&meta, reason);
        return None;
    }
    let frozen = meta;
    Some((meta, guarded(|| work.process_row(batch, row, &frozen))))
}

/// After a shared stage's work that took `cost_ns`, at `end`: record the cost and check the
/// frame; `Some` when it goes on.
pub(crate) fn shared_finish<M, T>(
    rules: &mut StageRules<'_, M>,
    (mut meta, result): Loaded<T>,
    cost_ns: u64,
    end: MonoTime,
) -> Option<InFlight<T>> {
    rules.measured(&meta, cost_ns, end);
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

/// Hand a frame to the publish channel; only if the publish thread died is it dropped (and
/// counted) instead.
fn send_to_publish<M, T>(shared: &Shared<M>, tx: &Sender<InFlight<T>>, out: InFlight<T>) {
    if let Err(failed) = tx.send(out) {
        let m = failed.0.meta;
        tracing::error!("publish stage is gone; frame dropped");
        let reason = DropReason::MissedAt {
            stage: Stage::Publish,
        };
        shared.drop_frame(m.camera, Stage::Publish, reason, m.seq);
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
    while let Ok(InFlightBatch { rows, mut batch }) = rx.recv() {
        for row in 0..rows.len() {
            if !rows.alive.get(row).copied().unwrap_or(false) {
                continue;
            }
            let Some(meta) = rows.metas.get(row) else {
                continue;
            };
            let start = shared.now();
            let Some(done) = row_start(&mut rules, work, &mut batch, row, meta, start) else {
                continue;
            };
            let end = shared.now();
            if let Some(out) = shared_finish(&mut rules, done, end.nanos_since(start), end) {
                send_to_publish(shared, &tx, out);
            }
        }
    }
    rules.into_histograms()
}

/// The publish stage at `now`: entry checks, the deadline checked last, then the send. `None`
/// when the frame was dropped before the send (counted).
pub(crate) fn publish_start<M, In, W: PublishStage<In>>(
    rules: &mut StageRules<'_, M>,
    work: &mut W,
    item: InFlight<In>,
    now: MonoTime,
) -> Option<Loaded<()>> {
    let InFlight { mut meta, payload } = item;
    let _span = tracing::debug_span!("stage", stage = "publish", seq = meta.seq).entered();
    if let Err(reason) = rules
        .enter(now, &mut meta)
        .and_then(|()| rules.check_after(now, &meta))
    {
        drop(payload);
        rules.drop_frame(&meta, reason);
        return None;
    }
    // The last check, immediately before the send: nothing is published late.
    if meta.deadline.passed(now) {
        drop(payload);
        let reason = DropReason::MissedAt {
            stage: Stage::Publish,
        };
        rules.drop_frame(&meta, reason);
        return None;
    }
    Some((meta, guarded(|| work.publish(payload, &meta))))
}

/// After the send took `cost_ns`, at `end`: record the cost and the frame's outcome.
pub(crate) fn publish_finish<M>(
    rules: &mut StageRules<'_, M>,
    (meta, result): Loaded<()>,
    cost_ns: u64,
    end: MonoTime,
) {
    rules.measured(&meta, cost_ns, end);
    match result {
        Ok(()) => rules
            .shared
            .published(meta.camera, meta.deadline.latency_at(end), meta.seq),
        Err(reason) => rules.drop_frame(&meta, reason),
    }
}

/// The publish thread: channel → checks → final deadline check → send.
pub(crate) fn publish_loop<M, In, W: PublishStage<In>>(
    shared: &Shared<M>,
    rx: Receiver<InFlight<In>>,
    work: &mut W,
) -> Vec<LatencyHistogram> {
    let mut rules = StageRules::new(Stage::Publish, Scope::Shared, shared);
    while let Ok(item) = rx.recv() {
        let start = shared.now();
        if let Some(sent) = publish_start(&mut rules, work, item, start) {
            let end = shared.now();
            publish_finish(&mut rules, sent, end.nanos_since(start), end);
        }
    }
    rules.into_histograms()
}
