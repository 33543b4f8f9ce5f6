//! A walker over a parsed YAML tree that reads typed fields and collects *every* problem.
//!
//! serde stops at the first error; a user fixing a parameter file wants all of them at once.
//! Each [`Section`] reads its keys with defaults and constraints, records an issue (key path,
//! offending value, what was expected) for each bad one, and reports keys it never read as
//! unknown when it is finished.

use std::cell::RefCell;

use serde_norway::{Mapping, Value};

use super::ConfigIssue;

/// The shared list of problems found so far.
#[derive(Default)]
pub(crate) struct Issues(RefCell<Vec<ConfigIssue>>);

impl Issues {
    pub(crate) fn push(
        &self,
        key: impl Into<String>,
        value: impl Into<String>,
        problem: impl Into<String>,
    ) {
        self.0.borrow_mut().push(ConfigIssue {
            key: key.into(),
            value: value.into(),
            problem: problem.into(),
        });
    }

    pub(crate) fn into_vec(self) -> Vec<ConfigIssue> {
        self.0.into_inner()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.borrow().is_empty()
    }
}

/// Render a YAML value compactly for an error message.
pub(crate) fn show(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("{s:?}"),
        Value::Sequence(items) => {
            let inner: Vec<String> = items.iter().map(show).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Mapping(_) => "{…}".into(),
        Value::Tagged(t) => show(&t.value),
    }
}

/// One mapping in the tree, addressed by its dotted key path.
pub(crate) struct Section<'a> {
    path: String,
    map: Option<&'a Mapping>,
    seen: RefCell<Vec<String>>,
    issues: &'a Issues,
}

impl<'a> Section<'a> {
    /// A section over `value`, which must be a mapping (or absent/null: every key defaults).
    pub(crate) fn new(path: &str, value: Option<&'a Value>, issues: &'a Issues) -> Self {
        let map = match value {
            None | Some(Value::Null) => None,
            Some(Value::Mapping(m)) => Some(m),
            Some(other) => {
                issues.push(path, show(other), "must be a mapping of keys");
                None
            }
        };
        Self {
            path: path.to_string(),
            map,
            seen: RefCell::new(Vec::new()),
            issues,
        }
    }

    pub(crate) fn key_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{}", self.path, key)
        }
    }

    pub(crate) fn issue(&self, key: &str, value: impl Into<String>, problem: impl Into<String>) {
        self.issues.push(self.key_path(key), value, problem);
    }

    /// The raw value under `key`, marking the key as known.
    pub(crate) fn get(&self, key: &str) -> Option<&'a Value> {
        self.seen.borrow_mut().push(key.to_string());
        self.map?.get(key).filter(|v| !v.is_null())
    }

    /// A nested section.
    pub(crate) fn section(&self, key: &str) -> Section<'a> {
        Section::new(&self.key_path(key), self.get(key), self.issues)
    }

    pub(crate) fn bool(&self, key: &str, default: bool) -> bool {
        match self.get(key) {
            None => default,
            Some(Value::Bool(b)) => *b,
            Some(v) => {
                self.issue(key, show(v), "must be true or false");
                default
            }
        }
    }

    pub(crate) fn string(&self, key: &str, default: &str) -> String {
        match self.get(key) {
            None => default.to_string(),
            Some(Value::String(s)) => s.clone(),
            Some(v) => {
                self.issue(key, show(v), "must be a string");
                default.to_string()
            }
        }
    }

    /// A non-empty string.
    pub(crate) fn name(&self, key: &str, default: &str) -> String {
        let s = self.string(key, default);
        if s.trim().is_empty() {
            self.issue(key, format!("{s:?}"), "must not be empty");
        }
        s
    }

    /// A ROS 2 topic name (absolute `/a/b` or relative `a/b`): tokens of letters, digits and
    /// `_`, not starting with a digit, separated by single `/`, no trailing `/`. Substitutions
    /// (`~`, `{node}`) are not accepted: the name is also used as a recording's topic.
    pub(crate) fn topic(&self, key: &str, default: &str) -> String {
        let s = self.name(key, default);
        let body = s.strip_prefix('/').unwrap_or(&s);
        if !s.trim().is_empty() && !body.split('/').all(is_name_token) {
            self.issue(
                key,
                format!("{s:?}"),
                "must be a ROS 2 topic name: letters, digits and _ in tokens separated by single /, \
                 no token starting with a digit, no trailing /",
            );
        }
        s
    }

    /// A number checked by `valid`; `expected` says what `valid` wants, e.g. "must be > 0".
    pub(crate) fn f64(
        &self,
        key: &str,
        default: f64,
        valid: impl Fn(f64) -> bool,
        expected: &str,
    ) -> f64 {
        match self.get(key) {
            None => default,
            Some(v) => match v.as_f64() {
                Some(x) if x.is_finite() && valid(x) => x,
                Some(x) if x.is_finite() => {
                    self.issue(key, show(v), expected);
                    default
                }
                _ => {
                    self.issue(key, show(v), format!("must be a number ({expected})"));
                    default
                }
            },
        }
    }

    /// An integer within `min..=max`.
    pub(crate) fn int(&self, key: &str, default: i64, min: i64, max: i64) -> i64 {
        match self.get(key) {
            None => default,
            Some(v) => match v.as_i64() {
                Some(x) if (min..=max).contains(&x) => x,
                Some(_) => {
                    self.issue(key, show(v), format!("must be between {min} and {max}"));
                    default
                }
                None => {
                    self.issue(
                        key,
                        show(v),
                        format!("must be an integer between {min} and {max}"),
                    );
                    default
                }
            },
        }
    }

    /// An optional integer within `min..=max`; a negative number or null means "not set".
    pub(crate) fn optional_int(&self, key: &str, min: i64, max: i64) -> Option<i64> {
        match self.get(key) {
            None => None,
            Some(v) => match v.as_i64() {
                Some(x) if x < 0 => None,
                Some(x) if (min..=max).contains(&x) => Some(x),
                _ => {
                    self.issue(
                        key,
                        show(v),
                        format!("must be an integer between {min} and {max}, or -1 for unset"),
                    );
                    None
                }
            },
        }
    }

    /// One of a fixed set of lower-case words.
    pub(crate) fn choice<T: Copy>(&self, key: &str, default: T, options: &[(&str, T)]) -> T {
        match self.get(key) {
            None => default,
            Some(Value::String(s)) => match options.iter().find(|(name, _)| name == s) {
                Some((_, value)) => *value,
                None => {
                    self.issue(
                        key,
                        format!("{s:?}"),
                        format!("must be one of {}", names(options)),
                    );
                    default
                }
            },
            Some(v) => {
                self.issue(key, show(v), format!("must be one of {}", names(options)));
                default
            }
        }
    }

    /// A duration in milliseconds: finite and within `min..=max` (`min` itself excluded when
    /// `min_exclusive`), so that every later conversion to a `Duration` or to nanoseconds is
    /// in range.
    pub(crate) fn duration_ms(
        &self,
        key: &str,
        default: f64,
        min: f64,
        min_exclusive: bool,
        max: f64,
    ) -> f64 {
        let lower = if min_exclusive { ">" } else { "≥" };
        self.f64(
            key,
            default,
            |x| (if min_exclusive { x > min } else { x >= min }) && x <= max,
            &format!("must be {lower} {min} and ≤ {max} ms"),
        )
    }

    /// A number stored as `f32`: checked by `valid` and finite (and not subnormal) once
    /// narrowed to `f32`.
    pub(crate) fn f32_value(
        &self,
        key: &str,
        default: f32,
        valid: impl Fn(f64) -> bool,
        expected: &str,
    ) -> f32 {
        let x = self.f64(key, f64::from(default), valid, expected);
        if fits_f32(x) {
            x as f32
        } else {
            self.issue(key, x.to_string(), format!("{expected}, and representable as a 32-bit float (magnitude between {:e} and {:e}, or 0)", f32::MIN_POSITIVE, f32::MAX));
            default
        }
    }

    /// A list of exactly `N` numbers each checked by `valid` and finite (not subnormal) in `f32`.
    pub(crate) fn f32_array<const N: usize>(
        &self,
        key: &str,
        default: [f32; N],
        valid: impl Fn(f64) -> bool,
        expected: &str,
    ) -> [f32; N] {
        let Some(v) = self.get(key) else {
            return default;
        };
        let parsed: Option<Vec<f64>> = v
            .as_sequence()
            .map(|items| {
                items
                    .iter()
                    .map(Value::as_f64)
                    .collect::<Option<Vec<f64>>>()
            })
            .unwrap_or(None);
        match parsed {
            Some(xs) if xs.len() == N && xs.iter().all(|x| fits_f32(*x) && valid(*x)) => {
                let mut out = default;
                for (o, x) in out.iter_mut().zip(xs) {
                    *o = x as f32;
                }
                out
            }
            _ => {
                self.issue(
                    key,
                    show(v),
                    format!("must be a list of {N} numbers, each {expected} and representable as a 32-bit float"),
                );
                default
            }
        }
    }

    /// A list of strings.
    pub(crate) fn strings(&self, key: &str, default: &[&str]) -> Vec<String> {
        let Some(v) = self.get(key) else {
            return default.iter().map(|s| s.to_string()).collect();
        };
        match v.as_sequence() {
            Some(items) if items.iter().all(Value::is_string) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
            _ => {
                self.issue(key, show(v), "must be a list of strings");
                default.iter().map(|s| s.to_string()).collect()
            }
        }
    }

    /// Report every key present in the mapping that no reader asked for.
    pub(crate) fn finish(&self) {
        let Some(map) = self.map else { return };
        let seen = self.seen.borrow();
        for (k, v) in map {
            let name = k.as_str().map(str::to_string).unwrap_or_else(|| show(k));
            if !seen.contains(&name) {
                self.issues.push(
                    self.key_path(&name),
                    show(v),
                    "unknown key (check the spelling; see config/redline.yaml)",
                );
            }
        }
    }
}

/// One token of a ROS 2 name: letters, digits and `_`, not empty, not starting with a digit.
pub(crate) fn is_name_token(t: &str) -> bool {
    t.chars().next().is_some_and(|c| !c.is_ascii_digit())
        && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether `x` narrows to a finite, normal (or zero) `f32`.
pub(crate) fn fits_f32(x: f64) -> bool {
    let y = x as f32;
    x.is_finite() && y.is_finite() && (y == 0.0 && x == 0.0 || y.is_normal())
}

fn names<T>(options: &[(&str, T)]) -> String {
    options
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}
