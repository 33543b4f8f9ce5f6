//! The summary table a replay prints on stdout.

use std::fmt::Write;

use super::{Percentiles, ReplayReport};

/// Render the human summary: accounting, tails per stage, drops, alarms and gates.
pub fn render_summary(r: &ReplayReport) -> String {
    let mut s = String::new();
    let f = &r.frames;
    let _ = writeln!(
        s,
        "redline replay: {} (topic {}, {})",
        r.bag, r.topic, r.pacing
    );
    let _ = writeln!(
        s,
        "model {} on {}, budget {} ms",
        r.model, r.backend, r.deadline.budget_ms
    );
    let _ = writeln!(
        s,
        "frames: {} received = {} published + {} dropped + {} in flight [{}]",
        f.received,
        f.published,
        f.dropped_total(),
        f.in_flight,
        if f.balanced { "balanced" } else { "UNBALANCED" }
    );
    let _ = writeln!(
        s,
        "throughput {:.1} frames/s over {:.2} s; deadline miss ratio {:.2} %; final level {}{}",
        r.throughput_fps,
        r.wall_time_s,
        f.miss_ratio() * 100.0,
        r.final_level,
        r.final_recovery
            .as_deref()
            .map(|rec| format!(" ({rec})"))
            .unwrap_or_default()
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "{:<12} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "latency ms", "count", "p50", "p90", "p99", "p99.9", "max"
    );
    let row = |s: &mut String, name: &str, p: &Percentiles| {
        let _ = writeln!(
            s,
            "{:<12} {:>7} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
            name, p.count, p.p50, p.p90, p.p99, p.p999, p.max
        );
    };
    for (name, p) in &r.latency_ms.stages {
        row(&mut s, name, p);
    }
    row(&mut s, "end to end", &r.latency_ms.end_to_end);
    if !f.dropped_detail.is_empty() {
        let _ = writeln!(s, "\ndrops:");
        for (reason, n) in &f.dropped_detail {
            let _ = writeln!(s, "  {reason:<32} {n:>6}");
        }
    }
    if !r.alarms.is_empty() {
        let _ = writeln!(s, "\nalarms:");
        for a in &r.alarms {
            let _ = writeln!(
                s,
                "  {:>9.0} ms  {:<5} -> {:<5}  {}{}",
                a.t_ms,
                a.from,
                a.to,
                a.cause,
                a.stage
                    .as_deref()
                    .map(|st| format!(" (stage {st})"))
                    .unwrap_or_default()
            );
        }
    }
    for e in &r.errors {
        let _ = writeln!(s, "\nerror: {e}");
    }
    if !r.gates.is_empty() {
        let _ = writeln!(s, "\ngates:");
        for g in &r.gates {
            let _ = writeln!(
                s,
                "  {:<16} {:>10.4} (limit {:.4})  {}",
                g.name,
                g.actual,
                g.limit,
                if g.passed { "pass" } else { "FAIL" }
            );
        }
    }
    s
}
