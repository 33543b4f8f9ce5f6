//! The multi-camera sections of `report.html`: one row per camera (frames, accounting, latency
//! tails, final level) and the batch former's decisions (batch-size and hold-time histograms).

use std::fmt::Write;

use super::html::{bars_svg, esc, with_ms};
use super::{fmt_ms, fmt_percent, ReplayReport};

/// One row per camera; nothing with a single camera (the page above is that camera).
pub(super) fn cameras_table(h: &mut String, r: &ReplayReport) {
    if r.cameras.len() < 2 {
        return;
    }
    h.push_str("<section><h2>Cameras</h2><table><tr><th>camera</th><th>topic</th><th>criticality</th><th>budget</th><th>received</th><th>published</th><th>dropped</th><th>in flight</th><th>miss ratio</th><th>p50</th><th>p99</th><th>max</th><th>final level</th><th>accounting</th></tr>");
    for c in &r.cameras {
        let f = &c.frames;
        let e2e = &c.latency_ms.end_to_end;
        let _ = write!(
            h,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{} ms</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&c.name),
            esc(&c.topic),
            c.criticality,
            fmt_ms(Some(c.budget_ms)),
            f.received,
            f.published,
            f.dropped_total(),
            f.in_flight,
            fmt_percent(f.miss_ratio()),
            with_ms(e2e.p50),
            with_ms(e2e.p99),
            with_ms(e2e.max),
            esc(&c.final_level),
            if f.balanced { "balanced" } else { "UNBALANCED" },
        );
    }
    h.push_str("</table></section>");
}

/// The former's policy and counts, with batch-size and hold-time histograms; nothing when
/// every run was one frame from one camera.
pub(super) fn batching_section(h: &mut String, r: &ReplayReport) {
    let b = &r.batching;
    if b.runs == 0 || (b.max_batch < 2 && r.cameras.len() < 2) {
        return;
    }
    let _ = write!(
        h,
        "<section><h2>Batching</h2><p>policy <code>{}</code> · max batch {} · {} engine runs · mean batch {:.2} · {} holds (p50 {}, max {}) · {} probes</p><div class=\"row\"><section><h3>Batch sizes (engine runs)</h3>",
        esc(&b.policy),
        b.max_batch,
        b.runs,
        b.mean_batch,
        b.holds,
        with_ms(b.hold_ms.p50),
        with_ms(b.hold_ms.max),
        b.probes,
    );
    let sizes: Vec<(String, u64)> = b
        .runs_by_size
        .iter()
        .map(|(rows, runs)| (format!("{rows} rows"), *runs))
        .collect();
    bars_svg(h, &sizes, "batch sizes", "bar");
    h.push_str("</section><section><h3>Hold times</h3>");
    if b.holds == 0 {
        h.push_str("<p class=\"none\">No batch was held open.</p>");
    } else {
        bars_svg(h, &b.hold_histogram, "hold times", "bar");
    }
    h.push_str("</section></div></section>");
}
