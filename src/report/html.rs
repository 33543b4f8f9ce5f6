//! `report.html`: one self-contained page (inline CSS and SVG, no scripts, no network) with the
//! verdict badge and its reasons, the latency timeline against the budget, the latency
//! histogram, drops by reason and stage, each camera and the batch former's decisions (see
//! [`super::html_cameras`]), the alarm timeline and the per-stage tail table.

use std::fmt::Write;

use super::html_cameras::{batching_section, cameras_table};
use super::{fmt_ms, fmt_percent, Percentiles, ReplayReport};

const WIDTH: f64 = 960.0;
const PLOT_H: f64 = 260.0;
const MARGIN_L: f64 = 56.0;
const MARGIN_R: f64 = 16.0;
const MARGIN_T: f64 = 16.0;
const MARGIN_B: f64 = 36.0;

/// Render the whole page.
pub fn render_html(r: &ReplayReport) -> String {
    let mut h = String::with_capacity(64 * 1024);
    let v = &r.verdict;
    // Colour: red when it failed; amber for a passing run that ended at WARN; else green.
    let tone = if !v.passed {
        "fail"
    } else if r.gates.is_empty() && r.final_level == "WARN" {
        "warn"
    } else {
        "pass"
    };
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>redline replay — {}</title><style>{}</style></head><body>",
        esc(&r.bag),
        CSS
    );
    let _ = write!(
        h,
        "<header><h1>redline replay <span class=\"verdict {tone}\">{badge}</span></h1><p>{bag} · topic <code>{topic}</code> · model <code>{model}</code> ({backend}) · {pacing} · budget {budget} ms</p></header>",
        badge = esc(&v.badge),
        bag = esc(&r.bag),
        topic = esc(&r.topic),
        model = esc(&r.model),
        backend = esc(&r.backend),
        pacing = esc(&r.pacing),
        budget = fmt_ms(Some(r.deadline.budget_ms)),
    );
    cards(&mut h, r);
    if !v.reasons.is_empty() || v.explanation.is_some() {
        h.push_str("<section class=\"problems\"><h2>Verdict</h2><ul>");
        for reason in &v.reasons {
            let _ = write!(h, "<li>{}</li>", esc(reason));
        }
        if let Some(why) = &v.explanation {
            let _ = write!(h, "<li class=\"why\">{}</li>", esc(why));
        }
        h.push_str("</ul></section>");
    }
    if !r.gates.is_empty() {
        h.push_str("<section><h2>Gates</h2><ul>");
        for g in &r.gates {
            let _ = write!(h, "<li>{}</li>", esc(&g.describe()));
        }
        h.push_str("</ul></section>");
    }
    h.push_str("<section><h2>Latency over time</h2><p class=\"hint\">Each dot is a published frame (capture → publish). Red marks along the top are dropped frames; the dashed line is the budget; the band underneath shows the safety-monitor level.</p>");
    timeline_svg(&mut h, r);
    h.push_str("</section><div class=\"row\"><section><h2>Latency histogram</h2>");
    histogram_svg(&mut h, r);
    h.push_str("</section><section><h2>Drops by reason and stage</h2>");
    drops_svg(&mut h, r);
    h.push_str("</section></div>");
    cameras_table(&mut h, r);
    batching_section(&mut h, r);
    tails_table(&mut h, r);
    alarms_table(&mut h, r);
    if !r.faults.is_empty() || !r.notes.is_empty() {
        h.push_str("<section><h2>Run</h2><ul>");
        for f in &r.faults {
            let _ = write!(h, "<li>fault injected: <code>{}</code></li>", esc(f));
        }
        for n in &r.notes {
            let _ = write!(h, "<li>{}</li>", esc(n));
        }
        h.push_str("</ul></section>");
    }
    h.push_str("</body></html>\n");
    h
}

fn cards(h: &mut String, r: &ReplayReport) {
    let f = &r.frames;
    let e2e = &r.latency_ms.end_to_end;
    let items = [
        ("received", f.received.to_string()),
        ("published", f.published.to_string()),
        ("dropped", f.dropped_total().to_string()),
        ("miss ratio", fmt_percent(f.miss_ratio())),
        ("p50", with_ms(e2e.p50)),
        ("p99", with_ms(e2e.p99)),
        ("max", with_ms(e2e.max)),
        ("throughput", format!("{:.1} fps", r.throughput_fps)),
        ("final level", r.final_level.clone()),
        (
            "accounting",
            if f.balanced {
                "balanced".into()
            } else {
                "UNBALANCED".into()
            },
        ),
    ];
    h.push_str("<div class=\"cards\">");
    for (label, value) in items {
        let _ = write!(h, "<div class=\"card\"><div class=\"label\">{label}</div><div class=\"value\">{}</div></div>", esc(&value));
    }
    h.push_str("</div>");
}

/// "52.1 ms", or "—" without the unit when there is no value.
pub(super) fn with_ms(v: Option<f64>) -> String {
    v.map_or_else(|| fmt_ms(None), |ms| format!("{} ms", fmt_ms(Some(ms))))
}

fn level_color(level: &str) -> &'static str {
    match level {
        "OK" => "#d9f2e0",
        "WARN" => "#fff1c2",
        "ERROR" => "#f9d0cf",
        "STALE" => "#d9dbe8",
        _ => "#eeeeee",
    }
}

fn timeline_svg(h: &mut String, r: &ReplayReport) {
    let t_max = r.timeline.iter().map(|f| f.t_ms).fold(1.0_f64, f64::max);
    let lat_max = r
        .timeline
        .iter()
        .filter_map(|f| f.latency_ms)
        .fold(r.deadline.budget_ms * 1.25, f64::max);
    let band_h = 14.0;
    let total_h = PLOT_H + band_h + 6.0;
    let plot_w = WIDTH - MARGIN_L - MARGIN_R;
    let inner_h = PLOT_H - MARGIN_T - MARGIN_B;
    let x = |t: f64| MARGIN_L + t / t_max * plot_w;
    let y = |ms: f64| MARGIN_T + inner_h - (ms / lat_max).min(1.0) * inner_h;
    let _ = write!(
        h,
        "<svg viewBox=\"0 0 {WIDTH} {total_h}\" role=\"img\" aria-label=\"latency over time\">"
    );
    axes(h, t_max / 1000.0, "time (s)", lat_max, "latency (ms)");
    // Budget line.
    let by = y(r.deadline.budget_ms);
    let _ = write!(
        h,
        "<line x1=\"{MARGIN_L}\" x2=\"{}\" y1=\"{by:.1}\" y2=\"{by:.1}\" class=\"budget\"/><text x=\"{}\" y=\"{:.1}\" class=\"budget-label\">budget {} ms</text>",
        WIDTH - MARGIN_R,
        WIDTH - MARGIN_R - 4.0,
        by - 4.0,
        fmt_ms(Some(r.deadline.budget_ms))
    );
    for f in &r.timeline {
        match f.latency_ms {
            Some(ms) => {
                let _ = write!(h, "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.2\" class=\"ok\"><title>{:.0} ms: {} ms, {} detections</title></circle>", x(f.t_ms), y(ms), f.t_ms, fmt_ms(Some(ms)), f.detections);
            }
            None => {
                let cx = x(f.t_ms);
                let _ = write!(h, "<line x1=\"{cx:.1}\" x2=\"{cx:.1}\" y1=\"{}\" y2=\"{}\" class=\"drop\"><title>{:.0} ms: {}</title></line>", MARGIN_T, MARGIN_T + 8.0, f.t_ms, esc(&f.outcome));
            }
        }
    }
    // Monitor level band.
    let band_y = PLOT_H + 2.0;
    let mut level = "OK".to_string();
    let mut start = 0.0;
    for a in &r.alarms {
        let _ = write!(h, "<rect x=\"{:.1}\" y=\"{band_y}\" width=\"{:.1}\" height=\"{band_h}\" fill=\"{}\"><title>{}</title></rect>", x(start), (x(a.t_ms) - x(start)).max(0.0), level_color(&level), esc(&level));
        level = a.to.clone();
        start = a.t_ms;
    }
    let _ = write!(h, "<rect x=\"{:.1}\" y=\"{band_y}\" width=\"{:.1}\" height=\"{band_h}\" fill=\"{}\"><title>{}</title></rect>", x(start), (x(t_max) - x(start)).max(0.0), level_color(&level), esc(&level));
    h.push_str("</svg>");
}

fn histogram_svg(h: &mut String, r: &ReplayReport) {
    let lat: Vec<f64> = r.timeline.iter().filter_map(|f| f.latency_ms).collect();
    let w = WIDTH / 2.0 - 10.0;
    let hi = lat
        .iter()
        .cloned()
        .fold(r.deadline.budget_ms * 1.1, f64::max);
    const BINS: usize = 30;
    let mut counts = [0u32; BINS];
    for ms in &lat {
        let i = ((ms / hi) * BINS as f64) as usize;
        counts[i.min(BINS - 1)] += 1;
    }
    let c_max = counts.iter().cloned().max().unwrap_or(0).max(1) as f64;
    let plot_w = w - MARGIN_L - MARGIN_R;
    let inner_h = PLOT_H - MARGIN_T - MARGIN_B;
    let _ = write!(
        h,
        "<svg viewBox=\"0 0 {w} {PLOT_H}\" role=\"img\" aria-label=\"latency histogram\">"
    );
    axes_w(h, w, hi, "latency (ms)", c_max, "frames");
    let bw = plot_w / BINS as f64;
    for (i, c) in counts.iter().enumerate() {
        let bh = *c as f64 / c_max * inner_h;
        let _ = write!(h, "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" class=\"bar\"><title>{}–{} ms: {c}</title></rect>", MARGIN_L + i as f64 * bw + 0.5, MARGIN_T + inner_h - bh, bw - 1.0, fmt_ms(Some(hi * i as f64 / BINS as f64)), fmt_ms(Some(hi * (i + 1) as f64 / BINS as f64)));
    }
    let bx = MARGIN_L + r.deadline.budget_ms / hi * plot_w;
    let _ = write!(
        h,
        "<line x1=\"{bx:.1}\" x2=\"{bx:.1}\" y1=\"{MARGIN_T}\" y2=\"{:.1}\" class=\"budget\"/>",
        MARGIN_T + inner_h
    );
    h.push_str("</svg>");
}

fn drops_svg(h: &mut String, r: &ReplayReport) {
    let rows: Vec<(String, u64)> = r
        .frames
        .dropped_detail
        .iter()
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    if rows.is_empty() {
        h.push_str("<p class=\"none\">No frame was dropped.</p>");
        return;
    }
    bars_svg(h, &rows, "drops", "dropbar");
}

/// Labelled horizontal bars, one per `(label, count)`, half the page wide.
pub(super) fn bars_svg(h: &mut String, rows: &[(String, u64)], aria: &str, class: &str) {
    let w = WIDTH / 2.0 - 10.0;
    let row_h = 22.0;
    let label_w = 190.0;
    let height = rows.len() as f64 * row_h + 10.0;
    let c_max = rows.iter().map(|(_, c)| *c).max().unwrap_or(1).max(1) as f64;
    let _ = write!(
        h,
        "<svg viewBox=\"0 0 {w} {height}\" role=\"img\" aria-label=\"{}\">",
        esc(aria)
    );
    for (i, (name, count)) in rows.iter().enumerate() {
        let y = 5.0 + i as f64 * row_h;
        let bw = *count as f64 / c_max * (w - label_w - 60.0);
        let _ = write!(h, "<text x=\"{:.1}\" y=\"{:.1}\" class=\"lbl\" text-anchor=\"end\">{}</text><rect x=\"{label_w}\" y=\"{y:.1}\" width=\"{bw:.1}\" height=\"{:.1}\" class=\"{class}\"/><text x=\"{:.1}\" y=\"{:.1}\" class=\"lbl\">{count}</text>", label_w - 6.0, y + 14.0, esc(name), row_h - 6.0, label_w + bw + 6.0, y + 14.0);
    }
    h.push_str("</svg>");
}

fn tails_table(h: &mut String, r: &ReplayReport) {
    h.push_str("<section><h2>Latency tails (ms)</h2><table><tr><th>stage</th><th>count</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th></tr>");
    let mut row = |name: &str, p: &Percentiles| {
        let _ = write!(h, "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", esc(name), p.count, fmt_ms(p.p50), fmt_ms(p.p90), fmt_ms(p.p99), fmt_ms(p.p999), fmt_ms(p.max));
    };
    for (name, p) in &r.latency_ms.stages {
        row(name, p);
    }
    row("end to end", &r.latency_ms.end_to_end);
    h.push_str("</table></section>");
}

fn alarms_table(h: &mut String, r: &ReplayReport) {
    h.push_str("<section><h2>Alarm timeline</h2>");
    if r.alarms.is_empty() {
        h.push_str(
            "<p class=\"none\">The safety monitor stayed OK for the whole run.</p></section>",
        );
        return;
    }
    h.push_str(
        "<table><tr><th>t (ms)</th><th>from</th><th>to</th><th>cause</th><th>stage</th></tr>",
    );
    for a in &r.alarms {
        let _ = write!(h, "<tr><td>{:.0}</td><td>{}</td><td style=\"background:{}\">{}</td><td>{}</td><td>{}</td></tr>", a.t_ms, esc(&a.from), level_color(&a.to), esc(&a.to), esc(&a.cause), esc(a.stage.as_deref().unwrap_or("—")));
    }
    h.push_str("</table></section>");
}

fn axes(h: &mut String, x_max: f64, x_label: &str, y_max: f64, y_label: &str) {
    axes_w(h, WIDTH, x_max, x_label, y_max, y_label)
}

fn axes_w(h: &mut String, w: f64, x_max: f64, x_label: &str, y_max: f64, y_label: &str) {
    let plot_w = w - MARGIN_L - MARGIN_R;
    let inner_h = PLOT_H - MARGIN_T - MARGIN_B;
    let base = MARGIN_T + inner_h;
    let _ = write!(h, "<line x1=\"{MARGIN_L}\" x2=\"{:.1}\" y1=\"{base:.1}\" y2=\"{base:.1}\" class=\"axis\"/><line x1=\"{MARGIN_L}\" x2=\"{MARGIN_L}\" y1=\"{MARGIN_T}\" y2=\"{base:.1}\" class=\"axis\"/>", MARGIN_L + plot_w);
    for i in 0..=4 {
        let f = i as f64 / 4.0;
        let gx = MARGIN_L + f * plot_w;
        let gy = base - f * inner_h;
        let _ = write!(
            h,
            "<text x=\"{gx:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"middle\">{}</text>",
            base + 14.0,
            fmt_tick(x_max * f)
        );
        let _ = write!(h, "<line x1=\"{MARGIN_L}\" x2=\"{:.1}\" y1=\"{gy:.1}\" y2=\"{gy:.1}\" class=\"grid\"/><text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"end\">{}</text>", MARGIN_L + plot_w, MARGIN_L - 4.0, gy + 4.0, fmt_tick(y_max * f));
    }
    let _ = write!(
        h,
        "<text x=\"{:.1}\" y=\"{:.1}\" class=\"axlabel\" text-anchor=\"middle\">{}</text>",
        MARGIN_L + plot_w / 2.0,
        PLOT_H - 4.0,
        esc(x_label)
    );
    let _ = write!(h, "<text x=\"12\" y=\"{:.1}\" class=\"axlabel\" text-anchor=\"middle\" transform=\"rotate(-90 12 {:.1})\">{}</text>", MARGIN_T + inner_h / 2.0, MARGIN_T + inner_h / 2.0, esc(y_label));
}

/// An axis tick label.
fn fmt_tick(x: f64) -> String {
    if x.abs() >= 100.0 || x == x.trunc() {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

/// Escape text for HTML element content and attribute values.
pub(super) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = "body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1000px;color:#1d2330;padding:0 12px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:22px 0 8px}header p{color:#555;margin:0}
.verdict{font-size:13px;padding:2px 8px;border-radius:4px;vertical-align:middle;color:#fff}.verdict.pass{background:#1f8a4c}.verdict.warn{background:#b7791f}.verdict.fail{background:#c0392b}
.cards{display:grid;grid-template-columns:repeat(5,1fr);gap:8px;margin:16px 0}.card{background:#f5f6f8;border-radius:6px;padding:8px 10px}
.card .label{font-size:12px;color:#666}.card .value{font-size:18px;font-weight:600}
.problems{background:#fdecea;border-left:4px solid #c0392b;padding:4px 12px}
.row{display:flex;gap:20px}.row section{flex:1}
svg{width:100%;height:auto;background:#fff}.axis{stroke:#444}.grid{stroke:#eee}.tick{font-size:10px;fill:#666}.axlabel{font-size:11px;fill:#333}
.budget{stroke:#c0392b;stroke-dasharray:6 4;stroke-width:1.5}.budget-label{font-size:11px;fill:#c0392b;text-anchor:end}
.ok{fill:#2a7de1;fill-opacity:.75}.drop{stroke:#c0392b;stroke-width:1.5}.bar{fill:#2a7de1}.dropbar{fill:#e67e22}.lbl{font-size:11px;fill:#333}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #e4e6ea;padding:4px 8px;text-align:right}th:first-child,td:first-child{text-align:left}
.hint,.none{color:#666}.why{font-weight:600}code{background:#f1f2f4;padding:0 3px;border-radius:3px}";
