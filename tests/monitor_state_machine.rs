//! Property tests of the safety monitor state machine on a manual time line (no sleeps): for
//! random sequences of arrivals, outcomes and watchdog ticks, every decision agrees with an
//! independent shadow model of the thresholds, hysteresis (with burst forgiveness), watchdogs
//! (armed after a set-up delay) and the end of the input.

use std::collections::VecDeque;

use proptest::prelude::*;

use redline::config::MonitorConfig;
use redline::deadline::{Cause, Level, MonoTime, Outcome, SafetyMonitor, Transition};
use redline::error::{BadInputKind, DropReason, Stage};

#[derive(Clone, Debug)]
enum Event {
    /// A frame arrives and ends on time.
    OnTime,
    /// A frame arrives and misses at a stage.
    Miss(Stage),
    /// A frame arrives and is dropped for a neutral reason.
    Neutral,
    /// Time passes (ms) and the watchdog ticks.
    Wait(u64),
    /// The input ends (the shadow then expects no sensor silence).
    End,
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        6 => Just(Event::OnTime),
        4 => (0usize..5).prop_map(|i| Event::Miss(Stage::ALL[i])),
        1 => Just(Event::Neutral),
        1 => (1u64..700).prop_map(Event::Wait),
        1 => Just(Event::End),
    ]
}

fn config() -> impl Strategy<Value = MonitorConfig> {
    (
        1u32..4,
        0u32..4,
        4u32..30,
        0.05f64..0.5,
        0.0f64..0.4,
        1u32..8,
    )
        .prop_map(
            |(warn_c, extra_c, window, warn_r, extra_r, recover)| MonitorConfig {
                warn_consecutive_misses: warn_c,
                error_consecutive_misses: warn_c + extra_c,
                window_frames: window,
                warn_miss_ratio: warn_r,
                error_miss_ratio: (warn_r + extra_r).min(1.0),
                recover_after_on_time: recover,
                sensor_timeout_ms: 500.0,
                output_timeout_ms: 800.0,
                diagnostics_period_ms: 1000.0,
            },
        )
}

/// What the model tracks independently of the monitor.
struct Shadow {
    /// The last `window_frames` counted frames (`true` = miss), oldest first.
    window: VecDeque<bool>,
    /// The oldest `forgiven` misses in the window no longer count for the level.
    forgiven: usize,
    consecutive_misses: u32,
    on_time_run: u32,
    last_arrival: u64,
    /// Output silence counts from here (`None` before the first frame).
    last_publish: Option<u64>,
    /// Frames that arrived without an outcome yet.
    owed: u64,
    ended: bool,
}

impl Shadow {
    fn misses(&self) -> usize {
        self.window.iter().filter(|m| **m).count()
    }

    /// Miss ratio over the window, all misses (what the monitor reports).
    fn ratio(&self, cfg: &MonitorConfig) -> f64 {
        self.misses() as f64 / cfg.window_frames as f64
    }

    /// Miss ratio of the misses not forgiven (what holds the level).
    fn held_ratio(&self, cfg: &MonitorConfig) -> f64 {
        (self.misses() - self.forgiven) as f64 / cfg.window_frames as f64
    }

    /// Frames from the oldest to the newest miss not forgiven.
    fn span(&self) -> usize {
        let unforgiven: Vec<usize> = self
            .window
            .iter()
            .enumerate()
            .filter(|(_, m)| **m)
            .map(|(i, _)| i)
            .skip(self.forgiven)
            .collect();
        match (unforgiven.first(), unforgiven.last()) {
            (Some(a), Some(b)) => b - a + 1,
            _ => 0,
        }
    }

    fn push(&mut self, miss: bool, cfg: &MonitorConfig) {
        self.window.push_back(miss);
        if self.window.len() > cfg.window_frames as usize
            && self.window.pop_front() == Some(true)
            && self.forgiven > 0
        {
            self.forgiven -= 1;
        }
    }

    /// The level the held ratio demands.
    fn ratio_level(&self, cfg: &MonitorConfig) -> Level {
        let r = self.held_ratio(cfg);
        if r >= cfg.error_miss_ratio {
            Level::Error
        } else if r >= cfg.warn_miss_ratio {
            Level::Warn
        } else {
            Level::Ok
        }
    }
}

fn check(cfg: &MonitorConfig, setup_ms: u64, events: &[Event]) -> Result<(), TestCaseError> {
    const MS: u64 = 1_000_000;
    let mut m = SafetyMonitor::new(cfg);
    // Set-up before the pipeline is ready: the watchdogs say nothing, however long it takes.
    prop_assert_eq!(m.tick(MonoTime::from_nanos(setup_ms * MS)), None);
    let mut now = setup_ms * MS;
    m.arm(MonoTime::from_nanos(now));
    let mut shadow = Shadow {
        window: VecDeque::new(),
        forgiven: 0,
        consecutive_misses: 0,
        on_time_run: 0,
        last_arrival: now,
        last_publish: None,
        owed: 0,
        ended: false,
    };
    let mut level = Level::Ok;

    for ev in events {
        let mut decisions: Vec<Option<Transition>> = Vec::new();
        match ev {
            Event::Wait(ms) => {
                now += ms * MS;
                decisions.push(m.tick(MonoTime::from_nanos(now)));
            }
            Event::End => {
                m.end_of_input(MonoTime::from_nanos(now));
                shadow.ended = true;
                prop_assert!(m.alarm().input_ended);
            }
            frame => {
                now += MS;
                let t = MonoTime::from_nanos(now);
                let was_stale = level == Level::Stale;
                let d = m.on_arrival(t);
                prop_assert_eq!(d.is_some(), was_stale, "arrival ends STALE, and only STALE");
                if let Some(tr) = d {
                    prop_assert_eq!(tr.cause, Cause::SensorResumed);
                    prop_assert!(tr.to >= Level::Warn && tr.to < Level::Stale);
                    shadow.on_time_run = 0;
                    shadow.last_publish = Some(now);
                }
                shadow.last_arrival = now;
                shadow.last_publish.get_or_insert(now);
                shadow.owed += 1;
                decisions.push(d);
                let outcome = match frame {
                    Event::OnTime => Outcome::OnTime { latency_ns: MS },
                    Event::Miss(stage) => Outcome::Dropped {
                        reason: DropReason::MissedAt { stage: *stage },
                        stage: *stage,
                    },
                    _ => Outcome::Dropped {
                        reason: DropReason::BadInput {
                            kind: BadInputKind::TooLarge,
                        },
                        stage: Stage::Ingest,
                    },
                };
                let before = m.level();
                let d = m.on_outcome(t, outcome);
                shadow.owed -= 1;
                match frame {
                    Event::OnTime => {
                        shadow.consecutive_misses = 0;
                        shadow.on_time_run += 1;
                        shadow.last_publish = Some(now);
                        shadow.push(false, cfg);
                    }
                    Event::Miss(_) => {
                        shadow.consecutive_misses += 1;
                        shadow.on_time_run = 0;
                        shadow.push(true, cfg);
                    }
                    _ => prop_assert!(d.is_none(), "neutral drops never change the level"),
                }
                if let Some(tr) = d {
                    match tr.cause {
                        Cause::Recovered => {
                            prop_assert!(matches!(frame, Event::OnTime));
                            prop_assert!(
                                shadow.on_time_run >= cfg.recover_after_on_time,
                                "recovered after only {} on-time frames",
                                shadow.on_time_run
                            );
                            prop_assert_eq!(tr.to, before.step_down(), "one level at a time");
                            if shadow.ratio_level(cfg) > tr.to {
                                // Past what the ratio demands: only by outlasting the burst.
                                prop_assert!(
                                    shadow.on_time_run as usize >= shadow.span(),
                                    "stepped below the ratio after {} on-time frames, span {}",
                                    shadow.on_time_run,
                                    shadow.span()
                                );
                                shadow.forgiven = shadow.misses();
                            }
                            shadow.on_time_run = 0;
                        }
                        Cause::ConsecutiveMisses | Cause::MissRatio => {
                            prop_assert!(matches!(frame, Event::Miss(_)));
                            prop_assert!(tr.to > tr.from);
                            prop_assert!(tr.stage.is_some());
                        }
                        other => prop_assert!(false, "unexpected cause {:?} for a frame", other),
                    }
                }
                decisions.push(d);
            }
        }
        for tr in decisions.into_iter().flatten() {
            prop_assert_eq!(tr.from, level, "transitions chain");
            prop_assert_ne!(tr.to, tr.from);
            prop_assert_eq!(tr.at, MonoTime::from_nanos(now));
            level = tr.to;
            if tr.cause == Cause::OutputSilence {
                prop_assert_eq!(tr.to, Level::Error);
                shadow.on_time_run = 0;
            }
            if tr.cause == Cause::SensorSilence {
                prop_assert_eq!(tr.to, Level::Stale);
            }
        }
        prop_assert_eq!(m.level(), level);

        // Invariants the thresholds demand.
        if level != Level::Stale {
            let r = shadow.held_ratio(cfg);
            if shadow.consecutive_misses >= cfg.error_consecutive_misses
                || r >= cfg.error_miss_ratio
            {
                prop_assert!(
                    level >= Level::Error,
                    "counts demand ERROR, level {level:?}"
                );
            } else if shadow.consecutive_misses >= cfg.warn_consecutive_misses
                || r >= cfg.warn_miss_ratio
            {
                prop_assert!(level >= Level::Warn, "counts demand WARN, level {level:?}");
            }
            prop_assert_eq!(m.consecutive_misses(), shadow.consecutive_misses);
            prop_assert!((m.miss_ratio() - shadow.ratio(cfg)).abs() < 1e-9);
            // Recovery progress: the run so far, toward N (or the burst's span while the
            // ratio holds the level).
            if level > Level::Ok {
                let r = m.recovery().expect("recovery progress while WARN/ERROR");
                prop_assert_eq!(r.on_time, shadow.on_time_run);
                prop_assert_eq!(r.to, level.step_down());
                let needed = if shadow.ratio_level(cfg) > r.to {
                    (cfg.recover_after_on_time as usize).max(shadow.span())
                } else {
                    cfg.recover_after_on_time as usize
                };
                prop_assert_eq!(r.needed as usize, needed);
            } else {
                prop_assert_eq!(m.recovery(), None);
            }
            prop_assert_eq!(m.alarm().recovery, m.recovery());
        }
        if let Event::Wait(_) = ev {
            let silent_ns = now - shadow.last_arrival;
            if silent_ns >= 500 * MS && !shadow.ended {
                prop_assert_eq!(level, Level::Stale, "sensor silence must be STALE");
            } else if !shadow.ended || level != Level::Stale {
                if shadow.ended {
                    prop_assert!(level != Level::Stale, "the end of input is not silence");
                }
                let owed = !shadow.ended || shadow.owed > 0;
                if owed && shadow.last_publish.is_some_and(|p| now - p >= 800 * MS) {
                    prop_assert!(level >= Level::Error, "output silence must be ERROR");
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn monitor_agrees_with_the_shadow_model(
        cfg in config(),
        setup_ms in 0u64..2_000,
        events in proptest::collection::vec(event(), 1..300),
    ) {
        check(&cfg, setup_ms, &events)?;
    }
}

#[test]
fn every_cause_is_reachable() {
    // A scripted run through every transition kind, as a readable complement.
    let cfg = MonitorConfig {
        warn_consecutive_misses: 1,
        error_consecutive_misses: 2,
        window_frames: 100,
        warn_miss_ratio: 1.0,
        error_miss_ratio: 1.0,
        recover_after_on_time: 2,
        sensor_timeout_ms: 500.0,
        output_timeout_ms: 800.0,
        diagnostics_period_ms: 1000.0,
    };
    let ms = |v: u64| MonoTime::from_nanos(v * 1_000_000);
    let miss = Outcome::Dropped {
        reason: DropReason::PredictedMiss {
            stage: Stage::Infer,
        },
        stage: Stage::Infer,
    };
    let ok = Outcome::OnTime { latency_ns: 1 };
    let mut m = SafetyMonitor::new(&cfg);
    m.arm(ms(0));
    let mut causes = Vec::new();
    let mut push = |t: Option<Transition>| causes.extend(t.map(|t| (t.cause, t.to)));
    push(m.on_outcome(ms(1), miss));
    push(m.on_outcome(ms(2), miss));
    for i in 0..4 {
        push(m.on_outcome(ms(3 + i), ok));
    }
    push(m.tick(ms(600)));
    push(m.on_arrival(ms(700)));
    push(m.on_outcome(ms(700), ok));
    push(m.on_outcome(ms(701), ok));
    for i in 0..10 {
        push(m.on_arrival(ms(750 + 100 * i)));
        push(m.tick(ms(750 + 100 * i)));
    }
    assert_eq!(
        causes,
        vec![
            (Cause::ConsecutiveMisses, Level::Warn),
            (Cause::ConsecutiveMisses, Level::Error),
            (Cause::Recovered, Level::Warn),
            (Cause::Recovered, Level::Ok),
            (Cause::SensorSilence, Level::Stale),
            (Cause::SensorResumed, Level::Warn),
            (Cause::Recovered, Level::Ok),
            (Cause::OutputSilence, Level::Error),
        ]
    );
}
