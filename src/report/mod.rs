//! Replay reports: report.json, report.html and the stdout summary.
