//! `model.*`: which network to run and the contract it must satisfy (input name, size, layout,
//! normalisation, decoder family, thresholds). The engine checks the real model against this
//! at load time; here we check only that the values make sense on their own.

use std::path::{Path, PathBuf};

use super::reader::Section;

/// Which inference backend loads the model.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum BackendKind {
    /// Pure-Rust CPU backend (`tract-onnx`).
    Tract,
    /// TensorRT ≥ 10 (feature `tensorrt`).
    TensorRt,
    /// ONNX Runtime, loaded at run time from `model.onnxruntime_library` or `ORT_DYLIB_PATH`
    /// (feature `onnxruntime`).
    OnnxRuntime,
}

impl BackendKind {
    /// The name used in the config and in messages.
    pub const fn name(self) -> &'static str {
        match self {
            BackendKind::Tract => "tract",
            BackendKind::TensorRt => "tensorrt",
            BackendKind::OnnxRuntime => "onnxruntime",
        }
    }
}

/// The most rows one engine run may take (`model.max_batch`).
pub const MAX_BATCH_LIMIT: usize = 64;

/// An ONNX Runtime execution provider, in the order `model.execution_providers` lists them
/// (the first that is available and supports a node runs it; CPU is always the last resort).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ExecutionProvider {
    Cpu,
    Cuda,
    TensorRt,
}

impl ExecutionProvider {
    /// The name used in the config and in messages.
    pub const fn name(self) -> &'static str {
        match self {
            ExecutionProvider::Cpu => "cpu",
            ExecutionProvider::Cuda => "cuda",
            ExecutionProvider::TensorRt => "tensorrt",
        }
    }
}

/// How the network's outputs are decoded.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ModelFamily {
    /// `[1, N, 5 + C]`: grid-relative x, y, log w, log h, objectness, class scores.
    Yolox,
    /// `[1, 4 + C, N]`: cx, cy, w, h in network pixels, then class scores.
    Yolov8,
    /// Decoded boxes `[1, N, 4]` (normalised) and scores `[1, N, C]`.
    Ssd,
}

/// Memory layout of the input tensor.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TensorLayout {
    Nchw,
    Nhwc,
}

/// Element type of the input tensor.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TensorDType {
    F32,
    F16,
}

/// Channel order the network expects.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ChannelOrder {
    Rgb,
    Bgr,
}

/// How the source image is fitted to the network input.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ResizeMode {
    /// Keep the aspect ratio and pad.
    Letterbox,
    /// Scale each axis independently.
    Stretch,
}

/// Where a letterboxed image sits on the padded canvas.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum LetterboxAnchor {
    TopLeft,
    Center,
}

/// TensorRT build precision.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Precision {
    Fp32,
    Fp16,
}

/// The model and its contract.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelConfig {
    /// ONNX file (resolved against the config file's directory; when the config names none,
    /// the shipped model of the installed package, see [`super::install`]).
    pub path: PathBuf,
    pub backend: BackendKind,
    pub family: ModelFamily,
    /// Name of the single input tensor.
    pub input_name: String,
    pub input_width: u32,
    pub input_height: u32,
    pub layout: TensorLayout,
    pub dtype: TensorDType,
    pub channel_order: ChannelOrder,
    pub resize: ResizeMode,
    pub letterbox_anchor: LetterboxAnchor,
    /// Value (0–255, before normalisation) of the letterbox padding.
    pub pad_value: u8,
    /// `input = (pixel × scale − mean) / std`, per channel in the network's channel order.
    pub scale: f32,
    pub mean: [f32; 3],
    pub std: [f32; 3],
    /// Output tensor names in the order the decoder wants them; empty = the model's order.
    pub outputs: Vec<String>,
    /// Class names, index = class id.
    pub class_names: Vec<String>,
    pub score_threshold: f32,
    pub nms_iou: f32,
    pub class_agnostic_nms: bool,
    /// At most this many detections per frame, best first.
    pub top_k: usize,
    /// SSD: boxes are `(ymin, xmin, ymax, xmax)` rather than `(xmin, ymin, xmax, ymax)`.
    pub ssd_boxes_yxyx: bool,
    /// SSD: score column 0 is the background class and is skipped.
    pub ssd_background_column: bool,
    /// CPU threads one inference may use (ONNX Runtime: intra-op threads; tract runs on the
    /// calling thread).
    pub threads: usize,
    /// Rows (frames) one engine run may take; 1 = no batching. An engine whose model cannot
    /// batch that far runs fewer (`redline check` says how many and why).
    pub max_batch: usize,
    /// ONNX Runtime shared library (`libonnxruntime.so…`); `None` = `$ORT_DYLIB_PATH`.
    /// Resolved against the config file's directory.
    pub onnxruntime_library: Option<PathBuf>,
    /// ONNX Runtime execution providers in priority order (default `[cpu]`).
    pub execution_providers: Vec<ExecutionProvider>,
    /// TensorRT engine cache directory (resolved against the config file's directory).
    pub engine_cache_dir: PathBuf,
    pub precision: Precision,
}

impl ModelConfig {
    pub(crate) fn read(s: &Section<'_>, base_dir: &Path) -> Self {
        // Not named: the shipped model, wherever the package is installed.
        let default = super::install::package_dir().join(super::install::DEFAULT_MODEL);
        let path_text = s.name("path", &default.to_string_lossy());
        let path = resolve(base_dir, &path_text);
        if !path_text.trim().is_empty() && !path.is_file() {
            s.issue(
                "path",
                format!("{path_text:?}"),
                format!("file not found (looked at {})", path.display()),
            );
        }
        let family = s.choice(
            "family",
            ModelFamily::Ssd,
            &[
                ("yolox", ModelFamily::Yolox),
                ("yolov8", ModelFamily::Yolov8),
                ("ssd", ModelFamily::Ssd),
            ],
        );
        let class_names = s.strings("class_names", &["background", "person"]);
        if class_names.is_empty() {
            s.issue("class_names", "[]", "must name at least one class");
        }
        let out = Self {
            path,
            backend: s.choice(
                "backend",
                BackendKind::Tract,
                &[
                    ("tract", BackendKind::Tract),
                    ("tensorrt", BackendKind::TensorRt),
                    ("onnxruntime", BackendKind::OnnxRuntime),
                ],
            ),
            family,
            input_name: s.name("input_name", "images:0"),
            input_width: s.int("input_width", 300, 8, 8192) as u32,
            input_height: s.int("input_height", 300, 8, 8192) as u32,
            layout: s.choice(
                "layout",
                TensorLayout::Nchw,
                &[("nchw", TensorLayout::Nchw), ("nhwc", TensorLayout::Nhwc)],
            ),
            dtype: s.choice(
                "dtype",
                TensorDType::F32,
                &[("f32", TensorDType::F32), ("f16", TensorDType::F16)],
            ),
            channel_order: s.choice(
                "channel_order",
                ChannelOrder::Rgb,
                &[("rgb", ChannelOrder::Rgb), ("bgr", ChannelOrder::Bgr)],
            ),
            resize: s.choice(
                "resize",
                ResizeMode::Stretch,
                &[
                    ("letterbox", ResizeMode::Letterbox),
                    ("stretch", ResizeMode::Stretch),
                ],
            ),
            letterbox_anchor: s.choice(
                "letterbox_anchor",
                LetterboxAnchor::TopLeft,
                &[
                    ("top_left", LetterboxAnchor::TopLeft),
                    ("center", LetterboxAnchor::Center),
                ],
            ),
            pad_value: s.int("pad_value", 114, 0, 255) as u8,
            scale: s.f32_value("scale", 1.0 / 255.0, |x| x > 0.0, "must be > 0"),
            mean: s.f32_array("mean", [0.0; 3], |_| true, "finite"),
            std: s.f32_array("std", [1.0; 3], |x| x > 0.0, "> 0"),
            outputs: s.strings("outputs", &[]),
            class_names,
            score_threshold: s.f64(
                "score_threshold",
                0.4,
                |x| x > 0.0 && x < 1.0,
                "must be in (0, 1)",
            ) as f32,
            nms_iou: s.f64(
                "nms_iou",
                0.45,
                |x| x > 0.0 && x <= 1.0,
                "must be in (0, 1]",
            ) as f32,
            class_agnostic_nms: s.bool("class_agnostic_nms", false),
            top_k: s.int("top_k", 100, 1, 100_000) as usize,
            ssd_boxes_yxyx: s.bool("ssd_boxes_yxyx", true),
            ssd_background_column: s.bool("ssd_background_column", true),
            threads: s.int("threads", 1, 1, 256) as usize,
            max_batch: s.int("max_batch", 1, 1, MAX_BATCH_LIMIT as i64) as usize,
            onnxruntime_library: onnxruntime_library(s, base_dir),
            execution_providers: execution_providers(s),
            engine_cache_dir: resolve(base_dir, &s.name("engine_cache_dir", "../engine_cache")),
            precision: s.choice(
                "precision",
                Precision::Fp16,
                &[("fp32", Precision::Fp32), ("fp16", Precision::Fp16)],
            ),
        };
        out.check_input_range(s);
        if out.family == ModelFamily::Ssd && !out.outputs.is_empty() && out.outputs.len() != 2 {
            s.issue(
                "outputs",
                format!("{:?}", out.outputs),
                "an ssd model needs two outputs: boxes, scores",
            );
        }
        if matches!(out.family, ModelFamily::Yolox | ModelFamily::Yolov8) && out.outputs.len() > 1 {
            s.issue(
                "outputs",
                format!("{:?}", out.outputs),
                "a yolox/yolov8 model has one output",
            );
        }
        s.finish();
        out
    }

    /// `(pixel × scale − mean) / std` for pixels 0 and 255 must be finite in the input's element
    /// type (f32, or f16 up to ±65504): a config that makes the engine input infinite is refused.
    fn check_input_range(&self, s: &Section<'_>) {
        let max = match self.dtype {
            TensorDType::F32 => f64::from(f32::MAX),
            TensorDType::F16 => 65504.0,
        };
        for c in 0..3 {
            let (mean, std) = (f64::from(self.mean[c]), f64::from(self.std[c]));
            for pixel in [0.0, 255.0] {
                let v = (pixel * f64::from(self.scale) - mean) / std;
                if !v.is_finite() || v.abs() > max {
                    s.issue(
                        "std",
                        format!("{:?}", self.std),
                        format!(
                            "(pixel × scale − mean) / std reaches {v:e} for pixel {pixel} in channel {c}, \
                             beyond the {:?} input's range (±{max:e}); check scale, mean and std",
                            self.dtype
                        ),
                    );
                    return;
                }
            }
        }
    }

    /// Number of channels the network input has (always 3: colour models).
    pub const fn input_channels(&self) -> usize {
        3
    }

    /// Elements in one input tensor (`1 × 3 × H × W`).
    pub fn input_len(&self) -> usize {
        self.input_channels() * self.input_width as usize * self.input_height as usize
    }
}

/// `model.onnxruntime_library`: empty or absent = `None`; otherwise an existing file.
fn onnxruntime_library(s: &Section<'_>, base_dir: &Path) -> Option<PathBuf> {
    let text = s.string("onnxruntime_library", "");
    if text.trim().is_empty() {
        return None;
    }
    let path = resolve(base_dir, &text);
    if !path.is_file() {
        s.issue(
            "onnxruntime_library",
            format!("{text:?}"),
            format!(
                "file not found (looked at {}); point it at libonnxruntime.so from an ONNX Runtime release or the `onnxruntime` Python wheel (onnxruntime/capi/)",
                path.display()
            ),
        );
    }
    Some(path)
}

/// `model.execution_providers`: known names, no repeats; default `[cpu]`.
fn execution_providers(s: &Section<'_>) -> Vec<ExecutionProvider> {
    const KNOWN: [ExecutionProvider; 3] = [
        ExecutionProvider::Cpu,
        ExecutionProvider::Cuda,
        ExecutionProvider::TensorRt,
    ];
    let names = s.strings("execution_providers", &["cpu"]);
    let mut out = Vec::with_capacity(names.len());
    for name in &names {
        match KNOWN
            .iter()
            .find(|p| p.name() == name.trim().to_ascii_lowercase())
        {
            Some(p) if out.contains(p) => s.issue(
                "execution_providers",
                format!("{names:?}"),
                format!("lists {name:?} twice"),
            ),
            Some(p) => out.push(*p),
            None => s.issue(
                "execution_providers",
                format!("{names:?}"),
                format!("{name:?} is not one of cpu, cuda, tensorrt"),
            ),
        }
    }
    if out.is_empty() {
        if !names.is_empty() || s.get("execution_providers").is_some() {
            s.issue(
                "execution_providers",
                format!("{names:?}"),
                "must name at least one of cpu, cuda, tensorrt",
            );
        }
        out.push(ExecutionProvider::Cpu);
    }
    out
}

fn resolve(base_dir: &Path, text: &str) -> PathBuf {
    let p = Path::new(text);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base_dir.join(p)
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::config::{Config, ConfigError};

    fn parse(model_yaml: &str) -> Result<Config, ConfigError> {
        let yaml = format!("redline:\n  ros__parameters:\n    model:\n{model_yaml}");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config");
        Config::from_yaml_str(&yaml, "test.yaml", &dir)
    }

    fn problems(model_yaml: &str) -> String {
        match parse(model_yaml) {
            Ok(_) => panic!("expected an invalid config:\n{model_yaml}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn batching_and_onnxruntime_keys_default_to_one_row_on_the_cpu() {
        let m = parse("      family: ssd\n").unwrap().model;
        assert_eq!(m.max_batch, 1);
        assert_eq!(m.onnxruntime_library, None);
        assert_eq!(m.execution_providers, vec![ExecutionProvider::Cpu]);
        let m = parse(
            "      backend: onnxruntime\n      max_batch: 64\n      execution_providers: [tensorrt, CUDA, cpu]\n      onnxruntime_library: \"\"\n",
        )
        .unwrap()
        .model;
        assert_eq!(m.backend, BackendKind::OnnxRuntime);
        assert_eq!(m.max_batch, MAX_BATCH_LIMIT);
        assert_eq!(
            m.execution_providers,
            vec![
                ExecutionProvider::TensorRt,
                ExecutionProvider::Cuda,
                ExecutionProvider::Cpu
            ]
        );
    }

    #[test]
    fn bad_batch_sizes_providers_and_library_paths_are_named() {
        let text = problems(
            "      max_batch: 65\n      execution_providers: [cpu, rocm, cpu]\n      onnxruntime_library: /nowhere/libonnxruntime.so\n",
        );
        assert!(text.contains("model.max_batch: 65"), "{text}");
        assert!(
            text.contains("\"rocm\" is not one of cpu, cuda, tensorrt"),
            "{text}"
        );
        assert!(text.contains("lists \"cpu\" twice"), "{text}");
        assert!(
            text.contains(
                "model.onnxruntime_library: \"/nowhere/libonnxruntime.so\" — file not found"
            ),
            "{text}"
        );
        assert!(problems("      max_batch: 0\n").contains("model.max_batch: 0"));
        assert!(problems("      execution_providers: []\n")
            .contains("must name at least one of cpu, cuda, tensorrt"));
        assert!(problems("      backend: onnx\n")
            .contains("must be one of tract, tensorrt, onnxruntime"));
    }
}
