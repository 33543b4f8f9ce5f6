//! The model contract: what the config promises about a model (input name, shape, element type;
//! output shapes the decoder family needs; class count), checked against what a backend found
//! in the model file. Backend-agnostic: tract and TensorRT both describe their model as
//! [`ModelFacts`] and get a [`ModelContract`] or a [`ModelError`] naming the mismatch.

use crate::config::{ModelConfig, ModelFamily, TensorDType, TensorLayout};

use super::error::{file_name, ModelError};

/// Element type of a tensor.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ElementType {
    F32,
    F16,
}

impl ElementType {
    fn of(dtype: TensorDType) -> Self {
        match dtype {
            TensorDType::F32 => ElementType::F32,
            TensorDType::F16 => ElementType::F16,
        }
    }
}

/// A named tensor of concrete shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorSpec {
    pub name: String,
    pub shape: Vec<usize>,
    pub element: ElementType,
}

impl TensorSpec {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// True for a tensor with no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The validated contract a running engine honours.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelContract {
    /// The model file name, for messages.
    pub model: String,
    pub input: TensorSpec,
    /// Outputs in decoder order (YOLOX/YOLOv8: one; SSD: boxes, scores).
    pub outputs: Vec<TensorSpec>,
    pub family: ModelFamily,
    /// Number of classes the decoder reports (score columns, background included for SSD).
    pub classes: usize,
    /// Number of anchors / candidate boxes per frame.
    pub anchors: usize,
}

/// What a backend found in a model's input: name, element type, dims (`None` = symbolic).
#[derive(Clone, Debug)]
pub struct InputFact {
    pub name: String,
    /// `None` when the model does not fix it, or it is a type redline does not feed.
    pub element: Option<String>,
    pub dims: Option<Vec<Option<usize>>>,
}

/// The input shape the config asks for.
pub fn config_input_shape(config: &ModelConfig) -> Vec<usize> {
    let (h, w) = (config.input_height as usize, config.input_width as usize);
    match config.layout {
        TensorLayout::Nchw => vec![1, 3, h, w],
        TensorLayout::Nhwc => vec![1, h, w, 3],
    }
}

/// Check the model's inputs against the config; returns the input spec and its index.
pub fn check_input(
    config: &ModelConfig,
    inputs: &[InputFact],
) -> Result<(usize, TensorSpec), ModelError> {
    let model = file_name(&config.path);
    let names = || inputs.iter().map(|i| i.name.clone()).collect::<Vec<_>>();
    let Some(index) = inputs.iter().position(|i| i.name == config.input_name) else {
        return Err(ModelError::InputNotFound {
            model,
            name: config.input_name.clone(),
            available: names(),
        });
    };
    if inputs.len() != 1 {
        return Err(ModelError::Mismatch {
            model,
            field: "inputs".into(),
            expected: "one input".into(),
            found: format!("{} inputs {:?}", inputs.len(), names()),
        });
    }
    let fact = &inputs[index];
    let element = ElementType::of(config.dtype);
    let want_dt = match element {
        ElementType::F32 => "F32",
        ElementType::F16 => "F16",
    };
    if let Some(found) = &fact.element {
        if !found.eq_ignore_ascii_case(want_dt) {
            return Err(ModelError::Mismatch {
                model,
                field: format!("input {:?} element type (model.dtype)", fact.name),
                expected: want_dt.to_lowercase(),
                found: found.to_lowercase(),
            });
        }
    }
    let shape = config_input_shape(config);
    if let Some(dims) = &fact.dims {
        let fits = dims.len() == shape.len()
            && dims
                .iter()
                .zip(&shape)
                .all(|(d, want)| d.is_none_or(|d| d == *want));
        if !fits {
            return Err(ModelError::Mismatch {
                model,
                field: format!(
                    "input {:?} shape (model.layout, input_width, input_height)",
                    fact.name
                ),
                expected: format!("{shape:?}"),
                found: show_dims(dims),
            });
        }
    }
    Ok((
        index,
        TensorSpec {
            name: fact.name.clone(),
            shape,
            element,
        },
    ))
}

/// Pick the outputs in decoder order: `model.outputs` when given, else the model's order.
/// Returns indices into `available`.
pub fn select_outputs(
    config: &ModelConfig,
    available: &[String],
) -> Result<Vec<usize>, ModelError> {
    let model = file_name(&config.path);
    if config.outputs.is_empty() {
        return Ok((0..available.len()).collect());
    }
    config
        .outputs
        .iter()
        .map(|name| {
            available
                .iter()
                .position(|a| a == name)
                .ok_or_else(|| ModelError::OutputNotFound {
                    model: model.clone(),
                    name: name.clone(),
                    available: available.to_vec(),
                })
        })
        .collect()
}

/// Anchors of a stride-8/16/32 grid over the input (YOLOX, YOLOv8).
pub fn grid_anchors(width: u32, height: u32) -> usize {
    [8u32, 16, 32]
        .iter()
        .map(|s| (width / s) as usize * (height / s) as usize)
        .sum()
}

/// Check the outputs (decoder order, concrete shapes) against the decoder family and classes.
pub fn check_outputs(
    config: &ModelConfig,
    input: TensorSpec,
    outputs: Vec<(String, Vec<usize>)>,
) -> Result<ModelContract, ModelError> {
    let model = file_name(&config.path);
    let classes = config.class_names.len();
    let mismatch = |field: String, expected: String, found: String| ModelError::Mismatch {
        model: model.clone(),
        field,
        expected,
        found,
    };
    let want_outputs = match config.family {
        ModelFamily::Yolox | ModelFamily::Yolov8 => 1,
        ModelFamily::Ssd => 2,
    };
    if outputs.len() != want_outputs {
        return Err(mismatch(
            format!("outputs (model.family {:?})", config.family),
            format!("{want_outputs} output(s)"),
            format!(
                "{} {:?}",
                outputs.len(),
                outputs.iter().map(|o| &o.0).collect::<Vec<_>>()
            ),
        ));
    }
    let grid = grid_anchors(config.input_width, config.input_height);
    let anchors = match config.family {
        ModelFamily::Yolox => {
            let (name, shape) = &outputs[0];
            let want = vec![1, grid, 5 + classes];
            if *shape != want {
                return Err(mismatch(
                    format!("output {name:?} shape (yolox [1, N, 5 + classes], N from the stride 8/16/32 grid, classes = class_names)"),
                    format!("{want:?}"),
                    format!("{shape:?}"),
                ));
            }
            grid
        }
        ModelFamily::Yolov8 => {
            let (name, shape) = &outputs[0];
            let want = vec![1, 4 + classes, grid];
            if *shape != want {
                return Err(mismatch(
                    format!("output {name:?} shape (yolov8 [1, 4 + classes, N], N from the stride 8/16/32 grid, classes = class_names)"),
                    format!("{want:?}"),
                    format!("{shape:?}"),
                ));
            }
            grid
        }
        ModelFamily::Ssd => {
            let (bname, bshape) = &outputs[0];
            let (sname, sshape) = &outputs[1];
            if bshape.len() != 3 || bshape[0] != 1 || bshape[2] != 4 {
                return Err(mismatch(
                    format!("output {bname:?} shape (ssd boxes [1, N, 4])"),
                    "[1, N, 4]".into(),
                    format!("{bshape:?}"),
                ));
            }
            let n = bshape[1];
            let want = vec![1, n, classes];
            if *sshape != want {
                return Err(mismatch(
                    format!("output {sname:?} shape (ssd scores [1, N, classes], classes = class_names incl. background)"),
                    format!("{want:?}"),
                    format!("{sshape:?}"),
                ));
            }
            n
        }
    };
    Ok(ModelContract {
        model,
        input,
        outputs: outputs
            .into_iter()
            .map(|(name, shape)| TensorSpec {
                name,
                shape,
                element: ElementType::F32,
            })
            .collect(),
        family: config.family,
        classes,
        anchors,
    })
}

fn show_dims(dims: &[Option<usize>]) -> String {
    let parts: Vec<String> = dims
        .iter()
        .map(|d| d.map_or("?".to_string(), |d| d.to_string()))
        .collect();
    format!("[{}]", parts.join(", "))
}
