//! Which image topics of a bag a replay answers, and under which camera names.
//!
//! * `--camera TOPIC` (repeatable; `--topic` is its one-camera form): exactly those topics.
//! * Otherwise, when the config has a `cameras` list: the configured cameras whose topics the
//!   bag has (with their names, budgets and criticalities; the others are noted).
//! * Otherwise every image topic is a camera. With one image topic it is the config's one
//!   `input` camera, so single-camera replays keep their topic names; with several, each is named
//!   after its topic (the tokens that tell the topics apart: `/camera/front/image_raw` and
//!   `/camera/left/image_raw` become `front` and `left`).
//!
//! The config handed to the pipeline is rewritten to match: the `input` section for one camera,
//! a `cameras` list otherwise.

use crate::bag::{Bag, BagError, TopicInfo, COMPRESSED_IMAGE_TYPE, IMAGE_TYPE};
use crate::config::{CameraConfig, CamerasConfig, Config, ImageTransport};

/// One camera of a replay: the bag topic it reads and how the pipeline knows it.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplayCamera {
    pub topic: TopicInfo,
    pub config: CameraConfig,
}

/// The transport a bag topic's type implies.
pub fn transport_of(topic: &TopicInfo) -> ImageTransport {
    if topic.type_name == IMAGE_TYPE {
        ImageTransport::Raw
    } else {
        ImageTransport::Compressed
    }
}

fn is_image(t: &TopicInfo) -> bool {
    t.type_name == IMAGE_TYPE || t.type_name == COMPRESSED_IMAGE_TYPE
}

/// Choose the cameras for a replay of `bag` and rewrite `config` to serve exactly them; notes
/// say what was chosen and why.
pub fn choose_cameras(
    bag: &Bag,
    config: &mut Config,
    requested: &[String],
    notes: &mut Vec<String>,
) -> Result<Vec<ReplayCamera>, BagError> {
    let images: Vec<&TopicInfo> = bag.topics().iter().filter(|t| is_image(t)).collect();
    let topics: Vec<TopicInfo> = if !requested.is_empty() {
        let mut chosen = Vec::with_capacity(requested.len());
        for name in requested {
            chosen.push(bag.choose_image_topic(name)?);
        }
        chosen
    } else if !config.cameras.from_input {
        let present: Vec<TopicInfo> = config
            .cameras
            .list
            .iter()
            .filter_map(|c| {
                images
                    .iter()
                    .find(|t| t.name == c.topic)
                    .map(|t| (*t).clone())
            })
            .collect();
        let missing: Vec<&str> = config
            .cameras
            .list
            .iter()
            .filter(|c| !images.iter().any(|t| t.name == c.topic))
            .map(|c| c.name.as_str())
            .collect();
        if present.is_empty() {
            return Err(BagError::TopicNotFound {
                path: bag.path().to_path_buf(),
                topic: config
                    .cameras
                    .list
                    .iter()
                    .map(|c| c.topic.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                candidates: images.iter().map(|t| t.name.clone()).collect(),
            });
        }
        if !missing.is_empty() {
            notes.push(format!(
                "configured cameras not in the bag (not replayed): {}",
                missing.join(", ")
            ));
        }
        present
    } else {
        let configured = config.input.topic.as_str();
        if !configured.is_empty() && !images.iter().any(|t| t.name == configured) {
            notes.push(format!(
                "input.topic {configured} is not in the bag; replaying the bag's image topics"
            ));
        }
        match images.as_slice() {
            [] => {
                return Err(BagError::NoImageTopic {
                    path: bag.path().to_path_buf(),
                    topics: bag.topics().iter().map(|t| t.name.clone()).collect(),
                })
            }
            all => all.iter().map(|t| (*t).clone()).collect(),
        }
    };
    let cameras = name_cameras(config, topics);
    apply(config, &cameras);
    let described: Vec<String> = cameras
        .iter()
        .map(|c| format!("{} ({})", c.config.name, c.topic.name))
        .collect();
    notes.push(format!(
        "replaying {} camera{}: {}",
        cameras.len(),
        if cameras.len() == 1 { "" } else { "s" },
        described.join(", ")
    ));
    Ok(cameras)
}

/// Give each topic its camera: the configured one with that topic, else a name from the topic.
fn name_cameras(config: &Config, topics: Vec<TopicInfo>) -> Vec<ReplayCamera> {
    let derived = derive_names(&topics.iter().map(|t| t.name.as_str()).collect::<Vec<_>>());
    topics
        .into_iter()
        .zip(derived)
        .map(|(topic, name)| {
            let configured = config
                .cameras
                .list
                .iter()
                .find(|c| c.topic == topic.name)
                .cloned();
            let camera = match configured {
                Some(mut c) => {
                    c.transport = transport_of(&topic);
                    c
                }
                None => CameraConfig {
                    name,
                    topic: topic.name.clone(),
                    transport: transport_of(&topic),
                    budget_ms: None,
                    criticality: 0,
                },
            };
            ReplayCamera {
                topic,
                config: camera,
            }
        })
        .collect()
}

/// Rewrite `config` to serve exactly `cameras`.
fn apply(config: &mut Config, cameras: &[ReplayCamera]) {
    match cameras {
        [only] if config.cameras.from_input => {
            config.input.topic = only.topic.name.clone();
            config.input.transport = transport_of(&only.topic);
        }
        many => {
            config.cameras = CamerasConfig {
                list: many.iter().map(|c| c.config.clone()).collect(),
                from_input: false,
            };
        }
    }
}

/// Camera names from topic names: the tokens left after removing the tokens every topic shares
/// at its start and end, joined with `_`; a lone topic keeps the config's input camera name.
pub fn derive_names(topics: &[&str]) -> Vec<String> {
    let split: Vec<Vec<&str>> = topics
        .iter()
        .map(|t| t.split('/').filter(|s| !s.is_empty()).collect())
        .collect();
    if split.len() <= 1 {
        return vec![crate::config::INPUT_CAMERA_NAME.to_string(); split.len()];
    }
    let shortest = split.iter().map(Vec::len).min().unwrap_or(0);
    let same_at = |pick: &dyn Fn(&Vec<&str>) -> Option<String>| {
        let first = pick(&split[0]);
        first.is_some() && split.iter().all(|s| pick(s) == first)
    };
    let mut prefix = 0;
    while prefix < shortest && same_at(&|s: &Vec<&str>| s.get(prefix).map(|x| x.to_string())) {
        prefix += 1;
    }
    let mut suffix = 0;
    while suffix < shortest - prefix
        && same_at(&|s: &Vec<&str>| {
            s.len()
                .checked_sub(suffix + 1)
                .and_then(|i| s.get(i))
                .map(|x| x.to_string())
        })
    {
        suffix += 1;
    }
    let mut names: Vec<String> = split
        .iter()
        .map(|s| {
            let middle = &s[prefix.min(s.len())..s.len().saturating_sub(suffix).max(prefix)];
            let joined = middle.join("_");
            sanitize(if joined.is_empty() {
                s.join("_")
            } else {
                joined
            })
        })
        .collect();
    // Distinct names, whatever the topics: number the repeats.
    for i in 0..names.len() {
        let base = names[i].clone();
        let mut n = 2;
        while names[..i].contains(&names[i]) {
            names[i] = format!("{base}_{n}");
            n += 1;
        }
    }
    names
}

/// A valid camera name (ROS name token) from arbitrary text.
fn sanitize(name: String) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.chars().next().is_none_or(|c| c.is_ascii_digit()) {
        s.insert(0, 'c');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_tokens_that_differ() {
        assert_eq!(
            derive_names(&[
                "/camera/front/image_raw/compressed",
                "/camera/left/image_raw/compressed"
            ]),
            vec!["front", "left"]
        );
        assert_eq!(
            derive_names(&["/cam0/image", "/cam1/image"]),
            vec!["cam0", "cam1"]
        );
        assert_eq!(
            derive_names(&["/front", "/front/rect"]),
            vec!["front", "rect"]
        );
        assert_eq!(
            derive_names(&["/x/a", "/y/a", "/x/a"]),
            vec!["x", "y", "x_2"]
        );
        assert_eq!(derive_names(&["/a/image"]), vec!["camera"]);
        assert_eq!(derive_names(&["/1/x", "/2/x"]), vec!["c1", "c2"]);
    }
}
