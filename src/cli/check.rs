//! `redline check`: validate the config, load the model through its backend (checking the
//! contract) and print what was checked: the cameras and their budgets, backend and library
//! version, how far the model batches, input, outputs and decoding.

use std::path::Path;

use anyhow::Context;

use redline::infer::load_engine;
use redline::Config;

/// Run the check; an invalid config or model is an error with every detail.
pub fn run(config_path: &Path) -> anyhow::Result<()> {
    let config = Config::load(config_path)?;
    println!("config    {}: ok", config_path.display());
    println!("memory    {}", redline::config::MemoryEstimate::of(&config));
    let cameras = config.camera_list();
    println!(
        "cameras   {} (batching {}{})",
        cameras.len(),
        config.batching.policy.name(),
        if cameras.len() > 1 || config.model.max_batch > 1 {
            format!(", up to {} frames per engine run", config.model.max_batch)
        } else {
            String::new()
        }
    );
    for camera in &cameras {
        println!(
            "  {:<14} {} ({}), budget {} ms, criticality {}",
            camera.name,
            camera.topic,
            format!("{:?}", camera.transport).to_lowercase(),
            config.camera_budget_ms(camera),
            camera.criticality
        );
    }
    let m = &config.model;
    if let Some(trt) = super::engine::describe(&config) {
        println!("{trt}");
    }
    let engine = load_engine(m).context("model contract check failed")?;
    let c = engine.contract();
    println!("{}", engine.info());
    println!("model     {} ({:?})", m.path.display(), c.family);
    println!(
        "input     {:?} {:?} {:?} ({:?}, {:?}, {:?})",
        c.input.name, c.input.shape, c.input.element, m.channel_order, m.resize, m.layout
    );
    for o in &c.outputs {
        println!("output    {:?} {:?}", o.name, o.shape);
    }
    println!("anchors   {}", c.anchors);
    println!("classes   {} {:?}", c.classes, m.class_names);
    println!(
        "decode    score > {}, nms iou {} ({}), top {}",
        m.score_threshold,
        m.nms_iou,
        if m.class_agnostic_nms {
            "class-agnostic"
        } else {
            "per class"
        },
        m.top_k
    );
    println!("ok");
    Ok(())
}
