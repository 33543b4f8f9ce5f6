//! Giving an ONNX model a symbolic batch dimension, for ONNX Runtime: ONNX Runtime checks
//! inputs against the shapes the model declares, so a model exported with a fixed batch of 1
//! refuses `[b, …]`. This rewrites the declared first dimension of the named input and of every
//! graph output from `1` to the symbol `N`, and drops `graph.value_info` (optional shape hints
//! that would still say 1). It edits the protobuf wire format in place: every other byte of the
//! model — initializers, nodes, fields this code does not know — is copied unchanged. Whether
//! the graph then really batches (a reshape to a constant 1 does not) is for a trial run to tell.

/// Protobuf wire types.
const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LEN: u8 = 2;
const FIXED32: u8 = 5;

// Field numbers (onnx.proto).
const MODEL_GRAPH: u64 = 7;
const GRAPH_INPUT: u64 = 11;
const GRAPH_OUTPUT: u64 = 12;
const GRAPH_VALUE_INFO: u64 = 13;
const VALUE_INFO_NAME: u64 = 1;
const VALUE_INFO_TYPE: u64 = 2;
const TYPE_TENSOR: u64 = 1;
const TENSOR_SHAPE: u64 = 2;
const SHAPE_DIM: u64 = 1;
const DIM_VALUE: u64 = 1;
const DIM_PARAM: u64 = 2;

/// The symbol the batch dimension becomes.
pub const BATCH_SYMBOL: &str = "N";

/// One field of a message: its number, wire type, the bytes of the whole field and (for
/// length-delimited fields) of its payload.
#[derive(Copy, Clone, Debug)]
struct Field {
    number: u64,
    wire: u8,
    whole: (usize, usize),
    payload: (usize, usize),
}

fn varint(buf: &[u8], at: &mut usize) -> Result<u64, String> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *buf.get(*at).ok_or("truncated varint")?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err("varint longer than 10 bytes".into())
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn fields(buf: &[u8]) -> Result<Vec<Field>, String> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < buf.len() {
        let start = at;
        let key = varint(buf, &mut at)?;
        let (number, wire) = (key >> 3, (key & 7) as u8);
        let payload_start;
        match wire {
            VARINT => {
                varint(buf, &mut at)?;
                payload_start = start;
            }
            FIXED64 => {
                payload_start = at;
                at += 8;
            }
            FIXED32 => {
                payload_start = at;
                at += 4;
            }
            LEN => {
                let len = usize::try_from(varint(buf, &mut at)?).map_err(|_| "length overflow")?;
                payload_start = at;
                at = at.checked_add(len).ok_or("length overflow")?;
            }
            other => return Err(format!("unsupported wire type {other} (field {number})")),
        }
        if at > buf.len() {
            return Err(format!("field {number} runs past the end of its message"));
        }
        out.push(Field {
            number,
            wire,
            whole: (start, at),
            payload: (payload_start, at),
        });
    }
    Ok(out)
}

fn put_len_field(out: &mut Vec<u8>, number: u64, payload: &[u8]) {
    put_varint(out, (number << 3) | u64::from(LEN));
    put_varint(out, payload.len() as u64);
    out.extend_from_slice(payload);
}

/// Copy `msg`, replacing the payload of length-delimited fields for which `edit` returns
/// `Some(new payload)`, and dropping those for which `drop` is true.
fn rewrite(
    msg: &[u8],
    mut edit: impl FnMut(&Field, &[u8]) -> Result<Option<Vec<u8>>, String>,
    drop: impl Fn(&Field) -> bool,
) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(msg.len());
    for f in fields(msg)? {
        if drop(&f) {
            continue;
        }
        let payload = &msg[f.payload.0..f.payload.1];
        match (f.wire == LEN).then(|| edit(&f, payload)).transpose()? {
            Some(Some(new)) => put_len_field(&mut out, f.number, &new),
            _ => out.extend_from_slice(&msg[f.whole.0..f.whole.1]),
        }
    }
    Ok(out)
}

/// The string field `number` of `msg`, if present.
fn string_field(msg: &[u8], number: u64) -> Result<Option<String>, String> {
    for f in fields(msg)? {
        if f.number == number && f.wire == LEN {
            let bytes = &msg[f.payload.0..f.payload.1];
            return Ok(Some(String::from_utf8_lossy(bytes).into_owned()));
        }
    }
    Ok(None)
}

/// A `Dimension`: a fixed 1 (or nothing) becomes the batch symbol; a symbol stays.
fn batch_dim(dim: &[u8], what: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(dim.len() + 4);
    for f in fields(dim)? {
        match f.number {
            DIM_VALUE if f.wire == VARINT => {
                let mut at = f.whole.0;
                varint(dim, &mut at)?;
                let v = varint(dim, &mut at)?;
                if v != 1 {
                    return Err(format!(
                        "{what} has a fixed batch of {v}; only a batch of 1 is made symbolic"
                    ));
                }
            }
            DIM_PARAM => return Ok(dim.to_vec()),
            _ => out.extend_from_slice(&dim[f.whole.0..f.whole.1]),
        }
    }
    put_len_field(&mut out, DIM_PARAM, BATCH_SYMBOL.as_bytes());
    Ok(out)
}

/// A `ValueInfoProto` whose tensor shape's first dimension becomes the batch symbol.
fn batch_value_info(info: &[u8], what: &str) -> Result<Vec<u8>, String> {
    let shape = |shape: &[u8]| {
        let mut first = true;
        rewrite(
            shape,
            |f, dim| {
                if f.number == SHAPE_DIM && first {
                    first = false;
                    batch_dim(dim, what).map(Some)
                } else {
                    Ok(None)
                }
            },
            |_| false,
        )
    };
    let tensor = |t: &[u8]| {
        rewrite(
            t,
            |f, p| match f.number {
                TENSOR_SHAPE => shape(p).map(Some),
                _ => Ok(None),
            },
            |_| false,
        )
    };
    let ty = |t: &[u8]| {
        rewrite(
            t,
            |f, p| match f.number {
                TYPE_TENSOR => tensor(p).map(Some),
                _ => Ok(None),
            },
            |_| false,
        )
    };
    rewrite(
        info,
        |f, p| match f.number {
            VALUE_INFO_TYPE => ty(p).map(Some),
            _ => Ok(None),
        },
        |_| false,
    )
}

/// `model` (ONNX bytes) with the first dimension of input `input_name` and of every graph
/// output made the symbol [`BATCH_SYMBOL`], and `graph.value_info` dropped. An error says why
/// the model could not be edited (not a model, no such input, a fixed batch other than 1).
pub fn with_symbolic_batch(model: &[u8], input_name: &str) -> Result<Vec<u8>, String> {
    let mut found = false;
    let graph = |g: &[u8], found: &mut bool| {
        rewrite(
            g,
            |f, p| match f.number {
                GRAPH_INPUT => {
                    if string_field(p, VALUE_INFO_NAME)?.as_deref() == Some(input_name) {
                        *found = true;
                        batch_value_info(p, &format!("input {input_name:?}")).map(Some)
                    } else {
                        Ok(None)
                    }
                }
                GRAPH_OUTPUT => {
                    let name = string_field(p, VALUE_INFO_NAME)?.unwrap_or_default();
                    batch_value_info(p, &format!("output {name:?}")).map(Some)
                }
                _ => Ok(None),
            },
            |f| f.number == GRAPH_VALUE_INFO,
        )
    };
    let mut saw_graph = false;
    let out = rewrite(
        model,
        |f, p| {
            if f.number == MODEL_GRAPH {
                saw_graph = true;
                graph(p, &mut found).map(Some)
            } else {
                Ok(None)
            }
        },
        |_| false,
    )?;
    if !saw_graph {
        return Err("no graph in the model".into());
    }
    if !found {
        return Err(format!("the graph has no input {input_name:?}"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn len_field(number: u64, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        put_len_field(&mut out, number, payload);
        out
    }

    fn dim_value(v: u64) -> Vec<u8> {
        let mut d = vec![(DIM_VALUE << 3) as u8];
        put_varint(&mut d, v);
        d
    }

    /// A `ValueInfoProto` named `name` with tensor shape `dims` (each a `Dimension` payload).
    fn value_info(name: &str, dims: &[Vec<u8>]) -> Vec<u8> {
        let shape: Vec<u8> = dims.iter().flat_map(|d| len_field(SHAPE_DIM, d)).collect();
        let mut tensor = vec![(1 << 3) as u8, 1]; // elem_type = FLOAT
        tensor.extend(len_field(TENSOR_SHAPE, &shape));
        let ty = len_field(TYPE_TENSOR, &tensor);
        let mut info = len_field(VALUE_INFO_NAME, name.as_bytes());
        info.extend(len_field(VALUE_INFO_TYPE, &ty));
        info
    }

    fn model(graph: &[u8]) -> Vec<u8> {
        let mut m = vec![(1 << 3) as u8, 7]; // ir_version = 7
        m.extend(len_field(MODEL_GRAPH, graph));
        m.extend(len_field(14, b"opaque metadata")); // a field this code does not know
        m
    }

    fn first_dim(info: &[u8]) -> Vec<u8> {
        let ty = fields(info).unwrap()[1];
        let ty = &info[ty.payload.0..ty.payload.1];
        let t = fields(ty).unwrap()[0];
        let tensor = &ty[t.payload.0..t.payload.1];
        let s = fields(tensor).unwrap()[1];
        let shape = &tensor[s.payload.0..s.payload.1];
        let d = fields(shape).unwrap()[0];
        shape[d.payload.0..d.payload.1].to_vec()
    }

    #[test]
    fn batch_of_one_becomes_a_symbol_and_the_rest_is_kept() {
        let node = len_field(1, b"a node, kept byte for byte");
        let mut graph = node.clone();
        graph.extend(len_field(
            GRAPH_INPUT,
            &value_info("images", &[dim_value(1), dim_value(3), dim_value(8)]),
        ));
        graph.extend(len_field(
            GRAPH_OUTPUT,
            &value_info("out", &[dim_value(1), dim_value(10)]),
        ));
        graph.extend(len_field(
            GRAPH_VALUE_INFO,
            &value_info("mid", &[dim_value(1)]),
        ));
        let edited = with_symbolic_batch(&model(&graph), "images").unwrap();

        let m = fields(&edited).unwrap();
        assert_eq!(
            m.iter().map(|f| f.number).collect::<Vec<_>>(),
            vec![1, MODEL_GRAPH, 14]
        );
        assert_eq!(&edited[m[2].payload.0..m[2].payload.1], b"opaque metadata");
        let g = &edited[m[1].payload.0..m[1].payload.1];
        let gf = fields(g).unwrap();
        assert_eq!(
            gf.iter().map(|f| f.number).collect::<Vec<_>>(),
            vec![1, GRAPH_INPUT, GRAPH_OUTPUT],
            "value_info dropped, nodes kept"
        );
        assert_eq!(&g[gf[0].whole.0..gf[0].whole.1], &node[..]);
        let symbol = len_field(DIM_PARAM, BATCH_SYMBOL.as_bytes());
        assert_eq!(first_dim(&g[gf[1].payload.0..gf[1].payload.1]), symbol);
        assert_eq!(first_dim(&g[gf[2].payload.0..gf[2].payload.1]), symbol);
    }

    #[test]
    fn symbols_stay_and_bad_models_are_errors_not_panics() {
        let sym = len_field(DIM_PARAM, b"batch");
        let graph = len_field(GRAPH_INPUT, &value_info("x", &[sym.clone(), dim_value(3)]));
        let edited = with_symbolic_batch(&model(&graph), "x").unwrap();
        assert_eq!(
            edited,
            model(&graph),
            "an already symbolic batch is unchanged"
        );

        assert!(with_symbolic_batch(&model(&graph), "y")
            .unwrap_err()
            .contains("no input \"y\""));
        let four = len_field(GRAPH_INPUT, &value_info("x", &[dim_value(4)]));
        assert!(with_symbolic_batch(&model(&four), "x")
            .unwrap_err()
            .contains("fixed batch of 4"));
        assert!(with_symbolic_batch(b"", "x").is_err());
        let full = model(&graph);
        for cut in 0..full.len() {
            let _ = with_symbolic_batch(&full[..cut], "x");
        }
        assert!(
            with_symbolic_batch(&[0x0b, 0x01], "x").is_err(),
            "group wire type"
        );
    }
}
