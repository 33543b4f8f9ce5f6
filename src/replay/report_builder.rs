//! Turning a finished replay (pipeline summary, per-frame events, sink counts) into the plain
//! [`ReplayReport`] the report writers render, including the gates.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use crate::config::Config;
use crate::deadline::{LatencySummary, MonoTime, Outcome};
use crate::error::Stage;
use crate::pipeline::{FrameEvent, PipelineSummary};
use crate::report::{
    AlarmEntry, DeadlineSection, FrameCounts, FrameRecord, GateResult, LatencySection, Percentiles,
    ReplayReport,
};

use super::options::ReplayOptions;

/// Everything the report is made from.
pub(crate) struct RunFacts<'a> {
    pub opts: &'a ReplayOptions,
    pub config: &'a Config,
    pub topic: &'a str,
    pub summary: &'a PipelineSummary,
    pub timeline: &'a [FrameEvent],
    pub counts: &'a [(u64, u32)],
    pub start: MonoTime,
    pub wall: Duration,
    pub errors: Vec<String>,
    pub notes: Vec<String>,
}

fn percentiles(s: &LatencySummary) -> Percentiles {
    let ms = |ns: u64| ns as f64 / 1e6;
    Percentiles {
        count: s.count,
        p50: ms(s.p50_ns),
        p90: ms(s.p90_ns),
        p99: ms(s.p99_ns),
        p999: ms(s.p999_ns),
        max: ms(s.max_ns),
    }
}

fn since_start_ms(at: MonoTime, start: MonoTime) -> f64 {
    at.nanos_since(start) as f64 / 1e6
}

pub(crate) fn build_report(f: RunFacts<'_>) -> ReplayReport {
    let acc = &f.summary.accounting;
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
    let (stage_summaries, e2e) = f.summary.latency.summaries();
    let stages: BTreeMap<String, Percentiles> = Stage::ALL
        .iter()
        .map(|s| {
            (
                format!("{}.{}", s.index() + 1, s.name()),
                percentiles(&stage_summaries[s.index()]),
            )
        })
        .collect();
    let counts: HashMap<u64, u32> = f.counts.iter().copied().collect();
    let timeline = f
        .timeline
        .iter()
        .map(|e| match e.outcome {
            Outcome::OnTime { latency_ns } => FrameRecord {
                t_ms: since_start_ms(e.at, f.start),
                latency_ms: Some(latency_ns as f64 / 1e6),
                outcome: "published".into(),
                detections: counts.get(&e.seq).copied().unwrap_or(0),
            },
            Outcome::Dropped { reason, .. } => FrameRecord {
                t_ms: since_start_ms(e.at, f.start),
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
        .map(|t| AlarmEntry {
            t_ms: since_start_ms(t.at, f.start),
            from: t.from.name().into(),
            to: t.to.name().into(),
            cause: t.cause.name().into(),
            stage: t.stage.map(|s| s.name().into()),
        })
        .collect();
    let latency_ms = LatencySection {
        end_to_end: percentiles(&e2e),
        stages,
    };
    let mut gates = Vec::new();
    if let Some(limit) = f.opts.gates.max_miss_ratio {
        let actual = frames.miss_ratio();
        gates.push(GateResult {
            name: "miss_ratio".into(),
            limit,
            actual,
            passed: actual <= limit,
        });
    }
    if let Some(limit) = f.opts.gates.max_p99_ms {
        let actual = latency_ms.end_to_end.p99;
        gates.push(GateResult {
            name: "p99_ms".into(),
            limit,
            actual,
            passed: actual <= limit,
        });
    }
    let mut errors = f.errors;
    if !frames.balanced {
        errors.push(format!(
            "frame accounting does not balance: {} received ≠ {} published + {} dropped + {} in flight",
            frames.received,
            frames.published,
            frames.dropped_total(),
            frames.in_flight
        ));
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
        topic: f.topic.to_string(),
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
        deadline: DeadlineSection {
            budget_ms: f.config.deadline.budget_ms,
        },
        alarms,
        final_level: f.summary.final_snapshot.level.name().into(),
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
    }
}
