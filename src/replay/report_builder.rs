//! Turning a finished replay (pipeline summary, per-frame events, sink counts) into the plain
//! [`ReplayReport`] the report writers render: overall and per camera, the batch former's
//! decisions, the gates and the verdict.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use crate::config::Config;
use crate::deadline::{AccountingSnapshot, LatencyHistograms, LatencySummary, MonoTime, Outcome};
use crate::error::Stage;
use crate::pipeline::{FrameEvent, MonitorId, PipelineSummary};
use crate::report::{
    AlarmEntry, BatchingReport, CameraReport, DeadlineSection, FrameCounts, FrameRecord,
    GateResult, LatencySection, Percentiles, ReplayReport,
};

use super::cameras::ReplayCamera;
use super::driver::topics_of;
use super::options::ReplayOptions;

/// Everything the report is made from.
pub(crate) struct RunFacts<'a> {
    pub opts: &'a ReplayOptions,
    pub config: &'a Config,
    pub cameras: &'a [ReplayCamera],
    pub summary: &'a PipelineSummary,
    pub timeline: &'a [FrameEvent],
    pub counts: &'a [(u64, u32)],
    pub start: MonoTime,
    pub wall: Duration,
    pub errors: Vec<String>,
    pub notes: Vec<String>,
    /// The signal that stopped the replay early, if one did (`SIGINT`, `SIGTERM`).
    pub interrupted_by: Option<&'static str>,
}

fn percentiles(s: &LatencySummary) -> Percentiles {
    let ms = |ns: u64| ns as f64 / 1e6;
    Percentiles::from_ms(
        s.count,
        [s.p50_ns, s.p90_ns, s.p99_ns, s.p999_ns, s.max_ns].map(ms),
    )
}

fn since_start_ms(at: MonoTime, start: MonoTime) -> f64 {
    at.nanos_since(start) as f64 / 1e6
}

fn frame_counts(acc: &AccountingSnapshot) -> FrameCounts {
    let mut frames = FrameCounts {
        received: acc.received,
        published: acc.published,
        in_flight: acc.in_flight,
        balanced: acc.balances(),
        ..Default::default()
    };
    for (reason, n) in acc.dropped.iter().filter(|(_, n)| *n > 0) {
        *frames.dropped.entry(reason.name().to_string()).or_default() += n;
        *frames.dropped_detail.entry(reason.to_string()).or_default() += n;
    }
    frames
}

fn latency_section(latency: &LatencyHistograms) -> LatencySection {
    let (stage_summaries, e2e) = latency.summaries();
    LatencySection {
        end_to_end: percentiles(&e2e),
        stages: Stage::ALL
            .iter()
            .map(|s| {
                (
                    format!("{}.{}", s.index() + 1, s.name()),
                    percentiles(&stage_summaries[s.index()]),
                )
            })
            .collect(),
    }
}

pub(crate) fn build_report(f: RunFacts<'_>) -> ReplayReport {
    let frames = frame_counts(&f.summary.accounting);
    let camera_name = |i: usize| {
        f.summary
            .cameras
            .get(i)
            .map_or_else(|| format!("camera#{i}"), |c| c.name.clone())
    };
    let counts: HashMap<u64, u32> = f.counts.iter().copied().collect();
    let timeline = f
        .timeline
        .iter()
        .map(|e| match e.outcome {
            Outcome::OnTime { latency_ns } => FrameRecord {
                seq: numbered(e.seq),
                t_ms: since_start_ms(e.at, f.start),
                camera: camera_name(e.camera.index()),
                latency_ms: Some(latency_ns as f64 / 1e6),
                outcome: "published".into(),
                detections: counts.get(&e.seq).copied().unwrap_or(0),
            },
            Outcome::Dropped { reason, .. } => FrameRecord {
                seq: numbered(e.seq),
                t_ms: since_start_ms(e.at, f.start),
                camera: camera_name(e.camera.index()),
                latency_ms: None,
                outcome: reason.to_string(),
                detections: 0,
            },
        })
        .collect();
    let alarms = f
        .summary
        .transitions
        .iter()
        .map(|change| {
            let t = change.transition;
            AlarmEntry {
                t_ms: since_start_ms(t.at, f.start),
                monitor: match change.monitor {
                    MonitorId::Camera(c) => camera_name(c.index()),
                    MonitorId::Engine => "engine".into(),
                },
                from: t.from.name().into(),
                to: t.to.name().into(),
                cause: t.cause.name().into(),
                stage: t.stage.map(|s| s.name().into()),
            }
        })
        .collect();
    let cameras: Vec<CameraReport> = f
        .summary
        .cameras
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let configured = f.cameras.get(i);
            CameraReport {
                name: c.name.clone(),
                topic: configured.map(|r| r.topic.name.clone()).unwrap_or_default(),
                budget_ms: configured.map_or(f.config.deadline.budget_ms, |r| {
                    f.config.camera_budget_ms(&r.config)
                }),
                criticality: configured.map_or(0, |r| r.config.criticality),
                frames: frame_counts(&c.accounting),
                latency_ms: latency_section(&c.latency),
                final_level: c.final_snapshot.level.name().into(),
            }
        })
        .collect();
    let former = f.summary.former.report();
    let batching = BatchingReport {
        policy: f.config.batching.policy.name().into(),
        max_batch: f.summary.former.max_batch(),
        runs: former.runs,
        mean_batch: former.mean_batch,
        runs_by_size: former
            .runs_by_size
            .iter()
            .copied()
            .collect::<BTreeMap<_, _>>(),
        holds: former.holds,
        hold_ms: percentiles(&former.hold_ns),
        hold_histogram: former.hold_histogram.clone(),
        probes: former.probes,
    };
    let latency_ms = latency_section(&f.summary.latency);
    let mut gates = Vec::new();
    if let Some(limit) = f.opts.gates.max_miss_ratio {
        gates.push(GateResult::at_most(
            "miss_ratio",
            limit,
            frames.miss_ratio(),
        ));
    }
    if let Some(limit) = f.opts.gates.max_p99_ms {
        gates.push(GateResult::at_most(
            "p99_ms",
            limit,
            latency_ms.end_to_end.p99,
        ));
    }
    let mut errors = f.errors;
    for (name, counted) in std::iter::once(("every camera", &frames))
        .chain(cameras.iter().map(|c| (c.name.as_str(), &c.frames)))
    {
        if !counted.balanced {
            errors.push(format!(
                "frame accounting does not balance for {name}: {} received ≠ {} published + {} \
                 dropped + {} in flight",
                counted.received,
                counted.published,
                counted.dropped_total(),
                counted.in_flight
            ));
        }
    }
    if f.summary.transitions_not_logged > 0 {
        errors.push(format!(
            "{} alarm transitions were not logged (log full)",
            f.summary.transitions_not_logged
        ));
    }
    let wall_s = f.wall.as_secs_f64();
    ReplayReport {
        bag: f.opts.bag.display().to_string(),
        topic: topics_of(f.cameras),
        clock: f.opts.clock.name().into(),
        config: f.opts.config_origin.clone(),
        model: f
            .config
            .model
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        backend: format!("{:?}", f.config.model.backend).to_lowercase(),
        pacing: f.opts.pacing.describe(),
        wall_time_s: wall_s,
        throughput_fps: if wall_s > 0.0 {
            frames.received as f64 / wall_s
        } else {
            0.0
        },
        frames,
        latency_ms,
        cameras,
        batching,
        deadline: DeadlineSection {
            budget_ms: f.config.deadline.budget_ms,
        },
        alarms,
        final_level: f.summary.final_level.name().into(),
        final_recovery: {
            let alarm = &f.summary.final_snapshot.alarm;
            let ended = if alarm.input_ended {
                " when the input ended"
            } else {
                ""
            };
            alarm.recovery.map(|r| format!("{r}{ended}"))
        },
        faults: f.opts.faults.iter().map(|x| x.to_string()).collect(),
        gates,
        errors,
        timeline,
        notes: f.notes,
        interrupted: f.interrupted_by.is_some(),
        interrupted_by: f.interrupted_by.map(str::to_string),
        verdict: Default::default(),
    }
    .judged()
}

/// A frame's sequence number, `None` for the marker of a frame evicted before ingest.
fn numbered(seq: u64) -> Option<u64> {
    (seq != u64::MAX).then_some(seq)
}
