//! Each camera's own threads: ingest (ingress queue → header → admission → the one copy →
//! latest-wins slot) and preprocessing (slot → work → the camera's ready slot in front of the
//! engine, also latest-wins). A camera never queues behind itself or another camera.

use crossbeam::sync::Parker;

use crate::deadline::{LatencyHistogram, MonoTime};
use crate::error::{DropReason, Stage};
use crate::pipeline::camera::CameraId;
use crate::pipeline::inflight::InFlight;
use crate::pipeline::rules::{guarded, Scope, StageRules};
use crate::pipeline::shared::{Arrived, Shared};
use crate::pipeline::slot::{CloseOnDrop, Slot};
use crate::pipeline::stage::{FrameMeta, IngestStage, ProcessStage};

/// A frame loaded by ingest (or why it could not be), before its cost is known.
pub(crate) type Loaded<F> = (FrameMeta, Result<F, DropReason>);

/// Ingest's work for one arrived message at `now`: sequence number, header, admission, entry
/// checks, then the one copy. `None` when the frame was dropped before the copy (counted).
pub(crate) fn ingest_start<I: IngestStage>(
    shared: &Shared<I::Message>,
    camera: CameraId,
    rules: &mut StageRules<'_, I::Message>,
    work: &mut I,
    arrived: Arrived<I::Message>,
    now: MonoTime,
) -> Option<Loaded<I::Frame>> {
    let lane = shared.lane(camera)?;
    let seq = shared
        .next_seq
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let _span = tracing::debug_span!("stage", stage = "ingest", camera = camera.0, seq).entered();
    let header = match guarded(|| work.header(&arrived.message)) {
        Ok(header) => header,
        Err(reason) => {
            shared.drop_frame(camera, Stage::Ingest, reason, seq);
            return None;
        }
    };
    let deadline = match lane
        .policy
        .admit(header.stamp, arrived.ros_now, arrived.arrival)
    {
        Ok(deadline) => deadline,
        Err(reason) => {
            shared.drop_frame(camera, Stage::Ingest, reason, seq);
            return None;
        }
    };
    let mut meta = FrameMeta {
        seq,
        camera,
        header,
        deadline,
        handoff: arrived.arrival,
        probe: false,
    };
    if let Err(reason) = rules.enter(now, &mut meta) {
        rules.drop_frame(&meta, reason);
        return None;
    }
    let message = arrived.message;
    let loaded = guarded(|| work.load(message, &meta));
    Some((meta, loaded))
}

/// A single-frame stage's work (a camera's preprocessing) at `now`: entry checks, then the work.
/// `None` when the frame was dropped on entry (counted).
pub(crate) fn process_start<M, In, W: ProcessStage<In>>(
    rules: &mut StageRules<'_, M>,
    work: &mut W,
    item: InFlight<In>,
    now: MonoTime,
) -> Option<Loaded<W::Output>> {
    let InFlight { mut meta, payload } = item;
    let _span = tracing::debug_span!("stage", stage = rules.stage.name(), seq = meta.seq).entered();
    if let Err(reason) = rules.enter(now, &mut meta) {
        drop(payload);
        rules.drop_frame(&meta, reason);
        return None;
    }
    let frozen = meta;
    Some((meta, guarded(|| work.process(payload, &frozen))))
}

/// After a camera stage's work: record its cost, check the frame at `end`, and offer it to the
/// next latest-wins slot (an evicted frame is `Superseded` at `evicted_at`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn camera_finish<M, T>(
    rules: &mut StageRules<'_, M>,
    camera: CameraId,
    (mut meta, result): Loaded<T>,
    cost_ns: u64,
    end: MonoTime,
    out: &Slot<InFlight<T>>,
    evicted_at: Stage,
) {
    rules.measured(&meta, cost_ns, end);
    match result.and_then(|v| rules.check_after(end, &meta).map(|()| v)) {
        Ok(payload) => {
            meta.handoff = end;
            if let Some(evicted) = out.offer(InFlight { meta, payload }) {
                let seq = evicted.meta.seq;
                drop(evicted);
                rules
                    .shared
                    .drop_frame(camera, evicted_at, DropReason::Superseded, seq);
            }
        }
        Err(reason) => rules.drop_frame(&meta, reason),
    }
}

/// The ingest thread of `camera`.
pub(crate) fn ingest_loop<I: IngestStage>(
    shared: &Shared<I::Message>,
    camera: CameraId,
    ingress: &Parker,
    work: &mut I,
    out: &Slot<InFlight<I::Frame>>,
) -> Vec<LatencyHistogram> {
    let _close = CloseOnDrop(out);
    let mut rules = StageRules::new(Stage::Ingest, Scope::Camera(camera), shared);
    let Some(lane) = shared.lane(camera) else {
        return rules.into_histograms();
    };
    while let Some(arrived) = lane.ingress.take(ingress) {
        let start = shared.now();
        let Some(loaded) = ingest_start(shared, camera, &mut rules, work, arrived, start) else {
            continue;
        };
        let end = shared.now();
        let cost = end.nanos_since(start);
        camera_finish(
            &mut rules,
            camera,
            loaded,
            cost,
            end,
            out,
            Stage::Preprocess,
        );
    }
    rules.into_histograms()
}

/// The preprocessing thread of `camera`: latest-wins slot → work → the camera's ready slot.
pub(crate) fn preprocess_loop<M, In, W: ProcessStage<In>>(
    shared: &Shared<M>,
    camera: CameraId,
    slot: &Slot<InFlight<In>>,
    parker: &Parker,
    work: &mut W,
    ready: &Slot<InFlight<W::Output>>,
) -> Vec<LatencyHistogram> {
    let _close = CloseOnDrop(ready);
    let mut rules = StageRules::new(Stage::Preprocess, Scope::Camera(camera), shared);
    while let Some(item) = slot.take(parker) {
        let start = shared.now();
        let Some(done) = process_start(&mut rules, work, item, start) else {
            continue;
        };
        let end = shared.now();
        let cost = end.nanos_since(start);
        camera_finish(&mut rules, camera, done, cost, end, ready, Stage::Infer);
    }
    rules.into_histograms()
}
