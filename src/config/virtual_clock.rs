//! `virtual_clock.*`: the cost model of a deterministic replay (`redline replay --clock
//! virtual`) and of `redline bench batching` — how long each stage takes, in virtual time.
//!
//! A cost is written `FIXED[+PER*b][±JITTER]`: `40ms`, `4ms+1.5ms*b` (an engine run over `b`
//! rows), `3ms±0.5ms` or `45ms±10%` (uniform jitter, absolute or relative). Units: `ns`, `us`,
//! `ms`, `s`. A cost can also be an empirical distribution (the tails an earlier replay
//! recorded), built by [`CostSpec::empirical`]. [`CostSpec::cost_at`] turns a uniform draw into a
//! cost, so a seeded generator makes every run identical.

use std::fmt;

use crate::error::Stage;

use super::reader::Section;

/// Uniform jitter around a cost.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Jitter {
    None,
    /// ± this many nanoseconds.
    Absolute(u64),
    /// ± this fraction of the cost.
    Relative(f64),
}

/// The cost of one unit of work (a frame at a stage, or an engine run over `b` rows).
#[derive(Clone, Debug, PartialEq)]
pub struct CostSpec {
    pub fixed_ns: u64,
    pub per_row_ns: u64,
    pub jitter: Jitter,
    /// `(quantile, nanoseconds)` points of an empirical distribution, quantiles rising from 0
    /// to 1; replaces the formula when present.
    pub empirical: Option<Vec<(f64, u64)>>,
}

/// A cost that could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cost {text:?}: {problem} (examples: 40ms, 4ms+1.5ms*b, 3ms±0.5ms, 45ms±10%)")]
pub struct CostSpecError {
    pub text: String,
    pub problem: String,
}

/// Longest cost accepted (60 s): anything longer is a typo, not a stage.
const MAX_COST_NS: f64 = 60e9;

fn parse_duration_ns(text: &str) -> Option<f64> {
    let t = text.trim();
    let (number, scale) = [
        ("ns", 1.0),
        ("us", 1e3),
        ("µs", 1e3),
        ("ms", 1e6),
        ("s", 1e9),
    ]
    .iter()
    .find_map(|(unit, scale)| t.strip_suffix(unit).map(|n| (n, *scale)))?;
    let value: f64 = number.trim().parse().ok()?;
    let ns = value * scale;
    (ns.is_finite() && (0.0..=MAX_COST_NS).contains(&ns)).then_some(ns)
}

fn show_ns(ns: u64) -> String {
    if ns % 1_000_000 == 0 {
        format!("{}ms", ns / 1_000_000)
    } else if ns % 1_000 == 0 {
        format!("{}us", ns / 1_000)
    } else {
        format!("{ns}ns")
    }
}

impl CostSpec {
    /// A fixed cost.
    pub fn fixed(nanos: u64) -> Self {
        Self {
            fixed_ns: nanos,
            per_row_ns: 0,
            jitter: Jitter::None,
            empirical: None,
        }
    }

    /// An empirical distribution through `(quantile, nanoseconds)` points (sorted here; a point
    /// at quantile 0 is added from the lowest value if missing).
    pub fn empirical(mut points: Vec<(f64, u64)>) -> Self {
        points.retain(|(q, _)| q.is_finite() && (0.0..=1.0).contains(q));
        points.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        if let Some(&(q, v)) = points.first() {
            if q > 0.0 {
                points.insert(0, (0.0, v));
            }
        }
        Self {
            fixed_ns: points.first().map_or(0, |p| p.1),
            per_row_ns: 0,
            jitter: Jitter::None,
            empirical: Some(points),
        }
    }

    /// Parse `FIXED[+PER*b][±JITTER]`.
    pub fn parse(text: &str) -> Result<Self, CostSpecError> {
        let fail = |problem: &str| CostSpecError {
            text: text.to_string(),
            problem: problem.to_string(),
        };
        let (body, jitter) = match text.split_once('±').or_else(|| text.split_once("+-")) {
            Some((body, j)) => {
                let j = j.trim();
                let jitter = match j.strip_suffix('%') {
                    Some(p) => {
                        let f: f64 = p
                            .trim()
                            .parse()
                            .map_err(|_| fail("bad jitter percentage"))?;
                        if !(0.0..=100.0).contains(&f) {
                            return Err(fail("jitter must be 0–100 %"));
                        }
                        Jitter::Relative(f / 100.0)
                    }
                    None => Jitter::Absolute(
                        parse_duration_ns(j).ok_or_else(|| fail("bad jitter duration"))? as u64,
                    ),
                };
                (body, jitter)
            }
            None => (text, Jitter::None),
        };
        let (fixed, per_row) = match body.split_once('+') {
            Some((fixed, per)) => {
                let per = per.trim();
                let per = per
                    .strip_suffix("*b")
                    .or_else(|| per.strip_suffix("* b"))
                    .ok_or_else(|| fail("the per-row part must end in *b, e.g. 1.5ms*b"))?;
                (
                    fixed,
                    parse_duration_ns(per).ok_or_else(|| fail("bad per-row duration"))?,
                )
            }
            None => (body, 0.0),
        };
        let fixed = parse_duration_ns(fixed)
            .ok_or_else(|| fail("expected a duration such as 40ms (units ns, us, ms, s)"))?;
        Ok(Self {
            fixed_ns: fixed.round() as u64,
            per_row_ns: per_row.round() as u64,
            jitter,
            empirical: None,
        })
    }

    /// The cost of one unit over `rows` rows for the uniform draw `u` in [0, 1).
    pub fn cost_at(&self, rows: usize, u: f64) -> u64 {
        let u = if u.is_finite() {
            u.clamp(0.0, 1.0)
        } else {
            0.5
        };
        if let Some(points) = &self.empirical {
            return interpolate(points, u);
        }
        let base = self
            .fixed_ns
            .saturating_add(self.per_row_ns.saturating_mul(rows.max(1) as u64));
        let spread = match self.jitter {
            Jitter::None => return base,
            Jitter::Absolute(ns) => ns as f64,
            Jitter::Relative(f) => base as f64 * f,
        };
        let cost = base as f64 + spread * (2.0 * u - 1.0);
        cost.max(0.0).round() as u64
    }
}

fn interpolate(points: &[(f64, u64)], u: f64) -> u64 {
    let mut previous = match points.first() {
        Some(p) => *p,
        None => return 0,
    };
    for &(q, v) in points {
        if u <= q {
            let span = q - previous.0;
            if span <= 0.0 {
                return v;
            }
            let t = (u - previous.0) / span;
            return (previous.1 as f64 + (v as f64 - previous.1 as f64) * t).round() as u64;
        }
        previous = (q, v);
    }
    previous.1
}

impl fmt::Display for CostSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(points) = &self.empirical {
            let shown: Vec<String> = points
                .iter()
                .map(|(q, v)| format!("p{}={}", q * 100.0, show_ns(*v)))
                .collect();
            return write!(f, "empirical({})", shown.join(", "));
        }
        write!(f, "{}", show_ns(self.fixed_ns))?;
        if self.per_row_ns > 0 {
            write!(f, "+{}*b", show_ns(self.per_row_ns))?;
        }
        match self.jitter {
            Jitter::None => Ok(()),
            Jitter::Absolute(ns) => write!(f, "±{}", show_ns(ns)),
            Jitter::Relative(r) => write!(f, "±{}%", r * 100.0),
        }
    }
}

/// `virtual_clock.*`.
#[derive(Clone, Debug, PartialEq)]
pub struct VirtualClockConfig {
    /// Seed of the cost draws: same seed, same bag, same config → the same report.
    pub seed: u64,
    /// Cost of each stage (index = [`Stage::index`]); `infer` is per engine run (`*b` for rows).
    pub costs: [CostSpec; Stage::COUNT],
}

impl Default for VirtualClockConfig {
    fn default() -> Self {
        let ms = |x: f64| (x * 1e6) as u64;
        Self {
            seed: 1,
            costs: [
                CostSpec::fixed(ms(0.05)),
                CostSpec {
                    jitter: Jitter::Relative(0.1),
                    ..CostSpec::fixed(ms(3.0))
                },
                CostSpec {
                    per_row_ns: ms(30.0),
                    jitter: Jitter::Relative(0.1),
                    ..CostSpec::fixed(ms(15.0))
                },
                CostSpec::fixed(ms(0.1)),
                CostSpec::fixed(ms(0.05)),
            ],
        }
    }
}

impl VirtualClockConfig {
    pub(crate) fn read(s: &Section<'_>) -> Self {
        let mut out = Self {
            seed: s.int("seed", 1, 0, i64::MAX) as u64,
            ..Self::default()
        };
        let costs = s.section("costs");
        for stage in Stage::ALL {
            if costs.get(stage.name()).is_none() {
                continue;
            }
            let text = costs.string(stage.name(), "");
            match CostSpec::parse(&text) {
                Ok(spec) => out.costs[stage.index()] = spec,
                Err(e) => costs.issue(stage.name(), format!("{text:?}"), e.problem),
            }
        }
        costs.finish();
        s.finish();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_parse_and_round_trip() {
        for text in [
            "40ms",
            "4ms+1500us*b",
            "3ms±500us",
            "45ms±10%",
            "250ns",
            "1s+2ms*b±1ms",
        ] {
            let spec = CostSpec::parse(text).unwrap();
            assert_eq!(CostSpec::parse(&spec.to_string()).unwrap(), spec, "{text}");
        }
        let s = CostSpec::parse("4ms+1.5ms*b").unwrap();
        assert_eq!((s.fixed_ns, s.per_row_ns), (4_000_000, 1_500_000));
        assert_eq!(s.cost_at(3, 0.7), 8_500_000);
    }

    #[test]
    fn bad_costs_say_why() {
        for text in ["", "40", "-3ms", "4ms+2ms", "1e300s", "5ms±200%", "nanms"] {
            assert!(CostSpec::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn jitter_stays_within_its_bounds_and_empirical_interpolates() {
        let s = CostSpec::parse("10ms±2ms").unwrap();
        assert_eq!(s.cost_at(1, 0.0), 8_000_000);
        assert_eq!(s.cost_at(1, 0.5), 10_000_000);
        assert_eq!(s.cost_at(1, 1.0), 12_000_000);
        let e = CostSpec::empirical(vec![(0.5, 10), (0.99, 20), (1.0, 40)]);
        assert_eq!(e.cost_at(1, 0.2), 10);
        assert_eq!(e.cost_at(1, 0.5), 10);
        assert_eq!(e.cost_at(1, 0.995), 30);
        assert_eq!(e.cost_at(1, 1.0), 40);
    }
}
