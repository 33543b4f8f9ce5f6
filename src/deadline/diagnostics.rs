//! What the safety monitor says on `/diagnostics` and on the latched alarm topic, as plain
//! data: level byte, name, message and key-values. The ROS node and the replay's output MCAP
//! serialise the same content, so a recording of either reads the same.
//!
//! Built at 1 Hz and on transitions, not per frame, so these strings may allocate.

use crate::error::Stage;

use super::alarm::{AlarmState, Level, Recovery, Transition};
use super::monitor::MonitorSnapshot;

/// Name of the deadline status in `/diagnostics`.
pub const DEADLINE_STATUS_NAME: &str = "redline: deadline";
/// Name of the status carried by the latched alarm topic.
pub const ALARM_STATUS_NAME: &str = "redline: alarm";

/// One `diagnostic_msgs/DiagnosticStatus`, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusContent {
    /// `diagnostic_msgs/DiagnosticStatus` level: 0 OK, 1 WARN, 2 ERROR, 3 STALE.
    pub level: u8,
    pub name: String,
    pub message: String,
    pub hardware_id: String,
    pub values: Vec<(String, String)>,
}

fn ms(ns: u64) -> String {
    format!("{:.2}", ns as f64 / 1e6)
}

fn stage_name(stage: Option<Stage>) -> String {
    stage.map_or_else(|| "none".to_string(), |s| s.name().to_string())
}

/// `7/10 on-time frames to OK`, or `none`.
fn recovery_value(recovery: Option<Recovery>) -> String {
    recovery.map_or_else(
        || "none".to_string(),
        |r| format!("{}/{} on-time frames to {}", r.on_time, r.needed, r.to),
    )
}

/// What follows a status message: the recovery progress and the end of the input.
fn message_suffix(alarm: &AlarmState) -> String {
    let mut suffix = String::new();
    if let Some(r) = alarm.recovery {
        suffix.push_str(&format!("; {r}"));
    }
    if alarm.input_ended {
        suffix.push_str("; input ended");
    }
    suffix
}

/// The `redline: deadline` status for a snapshot.
pub fn deadline_status(
    snapshot: &MonitorSnapshot,
    budget_ms: f64,
    hardware_id: &str,
) -> StatusContent {
    let a = &snapshot.accounting;
    let message = match snapshot.level {
        Level::Ok => format!("deadlines met (budget {budget_ms} ms)"),
        level => {
            let cause = snapshot.alarm.cause.map_or("unknown", |c| c.name());
            format!(
                "{}: {cause} at stage {} (miss ratio {:.1} %, {} consecutive misses)",
                level.name(),
                stage_name(snapshot.alarm.stage.or(snapshot.worst_stage)),
                snapshot.miss_ratio * 100.0,
                snapshot.consecutive_misses
            )
        }
    } + &message_suffix(&snapshot.alarm);
    let mut values = vec![
        ("level".to_string(), snapshot.level.name().to_string()),
        ("budget_ms".to_string(), format!("{budget_ms}")),
        (
            "miss_ratio".to_string(),
            format!("{:.4}", snapshot.miss_ratio),
        ),
        (
            "consecutive_misses".to_string(),
            snapshot.consecutive_misses.to_string(),
        ),
        ("latency_p50_ms".to_string(), ms(snapshot.latency_p50_ns)),
        ("latency_p99_ms".to_string(), ms(snapshot.latency_p99_ns)),
        ("worst_stage".to_string(), stage_name(snapshot.worst_stage)),
        ("frames_received".to_string(), a.received.to_string()),
        ("frames_published".to_string(), a.published.to_string()),
        ("frames_dropped".to_string(), a.dropped.total().to_string()),
        ("frames_in_flight".to_string(), a.in_flight.to_string()),
        (
            "recovery".to_string(),
            recovery_value(snapshot.alarm.recovery),
        ),
        (
            "input_ended".to_string(),
            snapshot.alarm.input_ended.to_string(),
        ),
    ];
    for (reason, count) in snapshot.drops.iter().filter(|(_, n)| *n > 0) {
        values.push((format!("dropped.{reason}"), count.to_string()));
    }
    StatusContent {
        level: snapshot.level.diagnostic_byte(),
        name: DEADLINE_STATUS_NAME.to_string(),
        message,
        hardware_id: hardware_id.to_string(),
        values,
    }
}

/// The latched alarm status: the current level with the cause and stage of the last transition.
pub fn alarm_status(alarm: &AlarmState, hardware_id: &str) -> StatusContent {
    let cause = alarm.cause.map_or("none", |c| c.name());
    let message = match alarm.last_transition {
        Some(Transition { from, to, .. }) => format!(
            "{from} -> {to}: {cause} (stage {})",
            stage_name(alarm.stage)
        ),
        None => "OK: no transition yet".to_string(),
    } + &message_suffix(alarm);
    StatusContent {
        level: alarm.level.diagnostic_byte(),
        name: ALARM_STATUS_NAME.to_string(),
        message,
        hardware_id: hardware_id.to_string(),
        values: vec![
            ("level".to_string(), alarm.level.name().to_string()),
            ("cause".to_string(), cause.to_string()),
            ("stage".to_string(), stage_name(alarm.stage)),
            ("raised".to_string(), alarm.is_raised().to_string()),
            ("transitions".to_string(), alarm.transitions.to_string()),
            ("recovery".to_string(), recovery_value(alarm.recovery)),
            ("input_ended".to_string(), alarm.input_ended.to_string()),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MonitorConfig;
    use crate::deadline::accounting::Accounting;
    use crate::deadline::clock::MonoTime;
    use crate::deadline::monitor::{Outcome, SafetyMonitor};
    use crate::error::DropReason;

    /// The monitor tests' thresholds, with output silence out of the way.
    fn config() -> MonitorConfig {
        MonitorConfig {
            output_timeout_ms: 100_000.0,
            ..crate::deadline::monitor::tests::config()
        }
    }

    const MISS: Outcome = Outcome::Dropped {
        reason: DropReason::MissedAt {
            stage: Stage::Infer,
        },
        stage: Stage::Infer,
    };

    fn snapshot(m: &SafetyMonitor, acc: &Accounting, t: u64) -> MonitorSnapshot {
        MonitorSnapshot::new(
            MonoTime::from_nanos(t),
            m,
            20_000_000,
            45_000_000,
            acc.snapshot(),
        )
    }

    fn value<'a>(s: &'a StatusContent, key: &str) -> &'a str {
        s.values
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no {key} in {:?}", s.values))
    }

    #[test]
    fn each_level_maps_to_its_diagnostic_byte_and_explains_itself() {
        let acc = Accounting::new();
        let mut m = SafetyMonitor::new(&config());
        m.arm(MonoTime::from_nanos(0));
        let ok = deadline_status(&snapshot(&m, &acc, 1), 100.0, "cam0");
        assert_eq!((ok.level, ok.name.as_str()), (0, DEADLINE_STATUS_NAME));
        assert!(ok.message.contains("deadlines met"), "{}", ok.message);
        assert_eq!(value(&ok, "latency_p99_ms"), "45.00");
        assert_eq!(value(&ok, "recovery"), "none");
        assert_eq!(value(&ok, "input_ended"), "false");
        assert_eq!(ok.hardware_id, "cam0");

        let mut t = 1_000_000;
        for _ in 0..2 {
            acc.received();
            acc.dropped(MISS_REASON);
            t += 1_000_000;
            m.on_outcome(MonoTime::from_nanos(t), MISS);
        }
        let warn = deadline_status(&snapshot(&m, &acc, t), 100.0, "cam0");
        assert_eq!(warn.level, 1);
        assert!(
            warn.message
                .starts_with("WARN: consecutive_misses at stage infer"),
            "{}",
            warn.message
        );
        assert_eq!(value(&warn, "dropped.missed_at:infer"), "2");
        assert_eq!(value(&warn, "worst_stage"), "infer");
        assert_eq!(value(&warn, "recovery"), "0/3 on-time frames to OK");
        for _ in 0..2 {
            t += 1_000_000;
            m.on_outcome(MonoTime::from_nanos(t), MISS);
        }
        let error = deadline_status(&snapshot(&m, &acc, t), 100.0, "cam0");
        assert_eq!(error.level, 2);
        let alarm = alarm_status(m.alarm(), "cam0");
        assert_eq!(alarm.level, 2);
        assert_eq!(alarm.name, ALARM_STATUS_NAME);
        assert_eq!(value(&alarm, "stage"), "infer");
        assert_eq!(value(&alarm, "raised"), "true");
        assert!(alarm.message.contains("WARN -> ERROR"), "{}", alarm.message);

        // Sensor silence: STALE (3).
        let later = MonoTime::from_nanos(t + 600_000_000);
        assert!(m.tick(later).is_some());
        let stale = deadline_status(&snapshot(&m, &acc, t + 600_000_000), 100.0, "cam0");
        assert_eq!(stale.level, 3);
        assert!(
            stale.message.starts_with("STALE: sensor_silence"),
            "{}",
            stale.message
        );
    }

    const MISS_REASON: DropReason = DropReason::MissedAt {
        stage: Stage::Infer,
    };

    #[test]
    fn recovery_progress_and_end_of_input_are_on_both_statuses() {
        let acc = Accounting::new();
        let mut m = SafetyMonitor::new(&config());
        m.arm(MonoTime::from_nanos(0));
        let mut t = 0;
        let mut step = |m: &mut SafetyMonitor, outcome| {
            t += 1_000_000;
            m.on_outcome(MonoTime::from_nanos(t), outcome);
        };
        step(&mut m, MISS);
        step(&mut m, MISS);
        step(&mut m, Outcome::OnTime { latency_ns: 1 });
        step(&mut m, Outcome::OnTime { latency_ns: 1 });
        m.end_of_input(MonoTime::from_nanos(t));
        let status = deadline_status(&snapshot(&m, &acc, t), 100.0, "cam0");
        assert_eq!(value(&status, "recovery"), "2/3 on-time frames to OK");
        assert_eq!(value(&status, "input_ended"), "true");
        assert!(
            status
                .message
                .ends_with("; recovering: 2/3 on-time frames (to OK); input ended"),
            "{}",
            status.message
        );
        let alarm = alarm_status(m.alarm(), "cam0");
        assert_eq!(value(&alarm, "recovery"), "2/3 on-time frames to OK");
        assert_eq!(value(&alarm, "input_ended"), "true");
        assert!(alarm.message.starts_with("OK -> WARN: consecutive_misses"));
        assert!(alarm.message.ends_with("input ended"), "{}", alarm.message);
    }

    #[test]
    fn alarm_before_any_transition_is_ok() {
        let a = alarm_status(&AlarmState::default(), "");
        assert_eq!(a.level, 0);
        assert_eq!(value(&a, "raised"), "false");
    }
}
