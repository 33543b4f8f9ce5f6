//! Each camera's own threads: ingest (ingress queue → header → admission → the one copy →
//! latest-wins slot) and preprocessing (slot → work → the camera's ready slot in front of the
//! engine, also latest-wins). A camera never queues behind itself or another camera.

use crossbeam::sync::Parker;

use crate::deadline::LatencyHistogram;
use crate::error::{DropReason, Stage};
use crate::pipeline::camera::CameraId;
use crate::pipeline::inflight::InFlight;
use crate::pipeline::rules::{guarded, Scope, StageRules};
use crate::pipeline::shared::Shared;
use crate::pipeline::slot::{CloseOnDrop, Slot};
use crate::pipeline::stage::{FrameMeta, IngestStage, ProcessStage};

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
        let seq = shared
            .next_seq
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let _span =
            tracing::debug_span!("stage", stage = "ingest", camera = camera.0, seq).entered();
        let header = match guarded(|| work.header(&arrived.message)) {
            Ok(header) => header,
            Err(reason) => {
                drop(arrived);
                shared.drop_frame(camera, Stage::Ingest, reason, seq);
                continue;
            }
        };
        let deadline = match lane
            .policy
            .admit(header.stamp, arrived.ros_now, arrived.arrival)
        {
            Ok(deadline) => deadline,
            Err(reason) => {
                drop(arrived);
                shared.drop_frame(camera, Stage::Ingest, reason, seq);
                continue;
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
        if let Err(reason) = rules.enter(shared.now(), &mut meta) {
            drop(arrived);
            rules.drop_frame(&meta, reason);
            continue;
        }
        let message = arrived.message;
        let start = shared.now();
        let loaded = guarded(|| work.load(message, &meta));
        let end = shared.now();
        rules.measured(camera, end.nanos_since(start), meta.probe);
        let frame = match loaded.and_then(|f| rules.check_after(end, &meta).map(|()| f)) {
            Ok(frame) => frame,
            Err(reason) => {
                rules.drop_frame(&meta, reason);
                continue;
            }
        };
        meta.handoff = end;
        if let Some(evicted) = out.offer(InFlight {
            meta,
            payload: frame,
        }) {
            let seq = evicted.meta.seq;
            drop(evicted);
            shared.drop_frame(camera, Stage::Preprocess, DropReason::Superseded, seq);
        }
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
    while let Some(InFlight { mut meta, payload }) = slot.take(parker) {
        let _span = tracing::debug_span!(
            "stage",
            stage = "preprocess",
            camera = camera.0,
            seq = meta.seq
        )
        .entered();
        if let Err(reason) = rules.enter(shared.now(), &mut meta) {
            drop(payload);
            rules.drop_frame(&meta, reason);
            continue;
        }
        let start = shared.now();
        let frozen = meta;
        let result = guarded(|| work.process(payload, &frozen));
        let end = shared.now();
        rules.measured(camera, end.nanos_since(start), meta.probe);
        match result.and_then(|out| rules.check_after(end, &meta).map(|()| out)) {
            Ok(output) => {
                meta.handoff = end;
                if let Some(evicted) = ready.offer(InFlight {
                    meta,
                    payload: output,
                }) {
                    let seq = evicted.meta.seq;
                    drop(evicted);
                    shared.drop_frame(camera, Stage::Infer, DropReason::Superseded, seq);
                }
            }
            Err(reason) => rules.drop_frame(&meta, reason),
        }
    }
    rules.into_histograms()
}
