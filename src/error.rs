//! The error and drop vocabulary shared by every stage.
//!
//! The per-frame path never builds strings: [`FrameError`] and [`DropReason`] are small `Copy`
//! enums, so a dropped frame costs no allocation and its reason can be counted in a fixed table.
//! Start-up errors (config, model, bag) carry context and live in their own modules.

use serde::Serialize;

/// A pipeline stage. The order is the order a frame passes through them.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Ingest,
    Preprocess,
    Infer,
    Decode,
    Publish,
}

impl Stage {
    /// Every stage, in pipeline order.
    pub const ALL: [Stage; 5] = [
        Stage::Ingest,
        Stage::Preprocess,
        Stage::Infer,
        Stage::Decode,
        Stage::Publish,
    ];
    /// Number of stages.
    pub const COUNT: usize = 5;

    /// Position in [`Stage::ALL`]; usable as an array index.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The stages after this one, in order.
    pub fn downstream(self) -> &'static [Stage] {
        &Self::ALL[self.index() + 1..]
    }

    /// Lower-case name used in reports, config keys and diagnostics.
    pub const fn name(self) -> &'static str {
        match self {
            Stage::Ingest => "ingest",
            Stage::Preprocess => "preprocess",
            Stage::Infer => "infer",
            Stage::Decode => "decode",
            Stage::Publish => "publish",
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What was wrong with an input frame or a model output.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BadInputKind {
    /// The message could not be decoded (truncated, bad CDR, bad lengths).
    MalformedMessage,
    /// `encoding` is not one redline understands.
    UnknownEncoding,
    /// Width or height is zero.
    ZeroDimension,
    /// Width or height exceeds `input.max_width`/`input.max_height`.
    TooLarge,
    /// `step` is smaller than `width × bytes per pixel`.
    StepTooSmall,
    /// The data is shorter than `step × height`.
    DataTooShort,
    /// A compressed image (JPEG/PNG) could not be decoded.
    CorruptCompressed,
    /// A compressed image's data ends before the image its header declares is covered (cut
    /// off, or a header claiming more than the data holds).
    TruncatedCompressed,
    /// The compressed image decodes to more pixels than the frame pool holds.
    DecodedTooLarge,
    /// The model produced NaN or infinite values where boxes or scores were expected.
    NonFiniteOutput,
}

impl BadInputKind {
    pub const fn name(self) -> &'static str {
        match self {
            BadInputKind::MalformedMessage => "malformed_message",
            BadInputKind::UnknownEncoding => "unknown_encoding",
            BadInputKind::ZeroDimension => "zero_dimension",
            BadInputKind::TooLarge => "too_large",
            BadInputKind::StepTooSmall => "step_too_small",
            BadInputKind::DataTooShort => "data_too_short",
            BadInputKind::CorruptCompressed => "corrupt_compressed",
            BadInputKind::TruncatedCompressed => "truncated_compressed",
            BadInputKind::DecodedTooLarge => "decoded_too_large",
            BadInputKind::NonFiniteOutput => "non_finite_output",
        }
    }
}

/// Why a frame was not published. No strings: counting a drop never allocates.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum DropReason {
    /// Already older than the budget when it arrived.
    StaleOnArrival,
    /// Evicted from the latest-wins slot by a newer frame.
    Superseded,
    /// Dropped early because the expected cost of the remaining stages would pass the deadline;
    /// `stage` is the remaining stage expected to cost the most (the bottleneck).
    PredictedMiss { stage: Stage },
    /// The deadline passed while the frame was in `stage` (found right after its work, or on
    /// arrival at the stage).
    MissedAt { stage: Stage },
    /// The input (or the model's output for it) was unusable.
    BadInput { kind: BadInputKind },
    /// The inference engine failed on this frame.
    EngineError,
    /// The stamp lies in the future or is absurdly old relative to the clock.
    ClockSkew,
    /// No pooled buffer was free at `stage`; the frame was dropped rather than allocating.
    PoolExhausted { stage: Stage },
}

impl DropReason {
    /// The stage this reason is attributed to, where one applies.
    pub const fn stage(self) -> Option<Stage> {
        match self {
            DropReason::PredictedMiss { stage }
            | DropReason::MissedAt { stage }
            | DropReason::PoolExhausted { stage } => Some(stage),
            _ => None,
        }
    }

    /// True for drops that count as deadline misses for the safety monitor.
    pub const fn is_deadline_miss(self) -> bool {
        matches!(
            self,
            DropReason::StaleOnArrival
                | DropReason::PredictedMiss { .. }
                | DropReason::MissedAt { .. }
        )
    }

    /// A stable, string-free short name (e.g. `missed_at`), for reports and diagnostics keys.
    pub const fn name(self) -> &'static str {
        match self {
            DropReason::StaleOnArrival => "stale_on_arrival",
            DropReason::Superseded => "superseded",
            DropReason::PredictedMiss { .. } => "predicted_miss",
            DropReason::MissedAt { .. } => "missed_at",
            DropReason::BadInput { .. } => "bad_input",
            DropReason::EngineError => "engine_error",
            DropReason::ClockSkew => "clock_skew",
            DropReason::PoolExhausted { .. } => "pool_exhausted",
        }
    }
}

impl std::fmt::Display for DropReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DropReason::BadInput { kind } => write!(f, "bad_input:{}", kind.name()),
            other => match other.stage() {
                Some(stage) => write!(f, "{}:{}", other.name(), stage),
                None => f.write_str(other.name()),
            },
        }
    }
}

/// The per-frame error: `Copy`, string-free, cheap to return from any stage.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum FrameError {
    #[error("bad input: {}", .0.name())]
    BadInput(BadInputKind),
    #[error("inference engine failed")]
    Engine,
    #[error("no pooled buffer free at {0}")]
    PoolExhausted(Stage),
}

impl FrameError {
    /// The drop reason this error causes.
    pub const fn drop_reason(self) -> DropReason {
        match self {
            FrameError::BadInput(kind) => DropReason::BadInput { kind },
            FrameError::Engine => DropReason::EngineError,
            FrameError::PoolExhausted(stage) => DropReason::PoolExhausted { stage },
        }
    }
}

impl From<BadInputKind> for FrameError {
    fn from(kind: BadInputKind) -> Self {
        FrameError::BadInput(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downstream_lists_later_stages_in_order() {
        assert_eq!(
            Stage::Preprocess.downstream(),
            &[Stage::Infer, Stage::Decode, Stage::Publish]
        );
        assert!(Stage::Publish.downstream().is_empty());
    }

    #[test]
    fn drop_reasons_display_with_stage_and_kind() {
        assert_eq!(
            DropReason::MissedAt {
                stage: Stage::Infer
            }
            .to_string(),
            "missed_at:infer"
        );
        assert_eq!(
            DropReason::BadInput {
                kind: BadInputKind::StepTooSmall
            }
            .to_string(),
            "bad_input:step_too_small"
        );
        assert_eq!(DropReason::Superseded.to_string(), "superseded");
    }

    #[test]
    fn only_deadline_drops_count_as_misses() {
        assert!(DropReason::StaleOnArrival.is_deadline_miss());
        assert!(DropReason::MissedAt {
            stage: Stage::Decode
        }
        .is_deadline_miss());
        assert!(!DropReason::Superseded.is_deadline_miss());
        assert!(!DropReason::EngineError.is_deadline_miss());
    }
}
