//! The start-up memory estimate: the most the buffers redline preallocates (or may grow to,
//! within the image limits) can hold at once for a config — frame pools, decoded images and the
//! image decoders' working memory per camera, the engine input, and in replay one bag reader per
//! camera (a chunk buffer and the reorder window) — checked against `pipeline.memory_budget_mb`
//! when the config is validated and printed by `redline check`. The model's own weights and
//! outputs are not in it (they are known only once the model is loaded).

use std::fmt;

use crate::bag::BagLimits;
use crate::config::{Config, ImageTransport, TensorDType};
use crate::preprocess::PNG_WORKING_BYTES;
use crate::stages::{DECODED_FRAMES_IN_FLIGHT, RAW_FRAMES_IN_FLIGHT};

const MIB: f64 = 1024.0 * 1024.0;

/// One line of the estimate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryItem {
    pub what: &'static str,
    /// How many buffers.
    pub count: u64,
    /// Bytes each.
    pub each: u64,
}

impl MemoryItem {
    pub fn bytes(&self) -> u64 {
        self.count.saturating_mul(self.each)
    }
}

/// What a config may make redline hold, item by item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryEstimate {
    pub items: Vec<MemoryItem>,
    /// `pipeline.memory_budget_mb` in bytes.
    pub budget: u64,
}

impl MemoryEstimate {
    /// The estimate for `config`.
    pub fn of(config: &Config) -> Self {
        let limits = config.input.limits;
        let pixels = u64::from(limits.max_width).saturating_mul(u64::from(limits.max_height));
        let image = pixels.saturating_mul(4);
        let bag = BagLimits::for_images(limits);
        let cameras = config.camera_list();
        let p = &config.pipeline;
        let (mut frames, mut decoded, mut compressed) = (0u64, 0u64, 0u64);
        for c in &cameras {
            match c.transport {
                ImageTransport::Raw => {
                    frames += p.frame_pool_size.max(RAW_FRAMES_IN_FLIGHT) as u64;
                }
                ImageTransport::Compressed => {
                    frames += p.frame_pool_size.max(3) as u64;
                    decoded += DECODED_FRAMES_IN_FLIGHT as u64;
                    compressed += 1;
                }
            }
        }
        let element = match config.model.dtype {
            TensorDType::F32 => 4,
            TensorDType::F16 => 2,
        };
        let items = vec![
            MemoryItem {
                what: "frame buffers (largest message each)",
                count: frames,
                each: bag.max_message_bytes,
            },
            MemoryItem {
                what: "decoded images (JPEG/PNG cameras)",
                count: decoded,
                each: image,
            },
            MemoryItem {
                what: "image decoders' working memory",
                count: compressed,
                each: image.saturating_add(PNG_WORKING_BYTES),
            },
            MemoryItem {
                what: "engine input tensor (model.max_batch rows)",
                count: 1,
                each: (config.model.input_len() as u64)
                    .saturating_mul(element)
                    .saturating_mul(config.model.max_batch as u64),
            },
            MemoryItem {
                what: "replay bag readers (chunk + reorder window, one per camera)",
                count: cameras.len() as u64,
                each: bag.worst_case_bytes(),
            },
        ];
        Self {
            items,
            budget: p.memory_budget_mb.saturating_mul(1 << 20),
        }
    }

    pub fn total(&self) -> u64 {
        self.items
            .iter()
            .fold(0u64, |sum, i| sum.saturating_add(i.bytes()))
    }

    pub fn within_budget(&self) -> bool {
        self.total() <= self.budget
    }
}

impl fmt::Display for MemoryEstimate {
    /// `1234.5 MiB of 2048 MiB budget: 4 × 32.6 MiB frame buffers, …`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:.1} MiB (budget pipeline.memory_budget_mb = {:.0} MiB):",
            self.total() as f64 / MIB,
            self.budget as f64 / MIB
        )?;
        for (i, item) in self.items.iter().filter(|i| i.count > 0).enumerate() {
            write!(
                f,
                "{} {} × {:.1} MiB {}",
                if i == 0 { "" } else { "," },
                item.count,
                item.each as f64 / MIB,
                item.what
            )?;
        }
        Ok(())
    }
}
