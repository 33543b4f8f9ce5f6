#!/usr/bin/env python3
"""Makes a multi-camera rosbag2 recording for tests and the batching comparison, with PyPI
`rosbags` only (independent of redline's own writer): the same street scene seen by several
cameras, raw and compressed topics mixed, interleaved in recording order as `ros2 bag record`
writes them.

  camera 0  /camera/front/image_raw/compressed  sensor_msgs/msg/CompressedImage (JPEG, 768x576)
  camera 1  /camera/left/image_raw              sensor_msgs/msg/Image (bgr8, 384x288: every
                                                 second pixel of the shared raw bag)
  camera 2… /camera/camN/image_raw/compressed   more JPEG cameras (--cameras N)

Each camera runs at 10 Hz; camera k is recorded k × (100 ms / N) after camera 0 (staggered
phases), and each header stamp is 20 ms before its recording time (capture → arrival).

Usage: .venv/bin/python tools/make_multicam_bag.py OUT_DIR [--storage mcap|sqlite3]
       [--frames N] [--cameras N]
"""
import argparse
import os
import shutil
from pathlib import Path

import numpy as np
from rosbags.highlevel import AnyReader
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("REDLINE_SHARED", ROOT.parent / "shared"))
JPEG_BAG = SHARED / "data/bags/vtest_jpeg_mcap"
RAW_BAG = SHARED / "data/bags/vtest_bgr8_sqlite"
PERIOD_NS = 100_000_000
CAPTURE_TO_ARRIVAL_NS = 20_000_000
T0_NS = 1_700_000_000 * 1_000_000_000

typestore = get_typestore(Stores.ROS2_HUMBLE)
Image = typestore.types["sensor_msgs/msg/Image"]
CompressedImage = typestore.types["sensor_msgs/msg/CompressedImage"]
Header = typestore.types["std_msgs/msg/Header"]
Time = typestore.types["builtin_interfaces/msg/Time"]


def read_all(bag, msgtype):
    with AnyReader([bag], default_typestore=typestore) as reader:
        conns = [c for c in reader.connections if c.msgtype == msgtype]
        return [reader.deserialize(raw, c.msgtype) for c, _, raw in reader.messages(connections=conns)]


def header(stamp_ns, frame_id):
    return Header(stamp=Time(sec=stamp_ns // 1_000_000_000, nanosec=stamp_ns % 1_000_000_000),
                  frame_id=frame_id)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--storage", choices=["mcap", "sqlite3"], default="mcap")
    ap.add_argument("--frames", type=int, default=20)
    ap.add_argument("--cameras", type=int, default=2)
    args = ap.parse_args()
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    jpegs = read_all(JPEG_BAG, "sensor_msgs/msg/CompressedImage")
    raws = read_all(RAW_BAG, "sensor_msgs/msg/Image")
    n = max(args.cameras, 1)
    cameras = []
    for k in range(n):
        if k == 1:
            cameras.append(("/camera/left/image_raw", "sensor_msgs/msg/Image", "camera_left"))
        elif k == 0:
            cameras.append(("/camera/front/image_raw/compressed",
                            "sensor_msgs/msg/CompressedImage", "camera_front"))
        else:
            cameras.append((f"/camera/cam{k}/image_raw/compressed",
                            "sensor_msgs/msg/CompressedImage", f"camera_cam{k}"))
    storage = StoragePlugin.MCAP if args.storage == "mcap" else StoragePlugin.SQLITE3
    records = []
    for i in range(args.frames):
        for k, (topic, msgtype, frame_id) in enumerate(cameras):
            log_ns = T0_NS + i * PERIOD_NS + k * PERIOD_NS // n
            stamp_ns = log_ns - CAPTURE_TO_ARRIVAL_NS
            if msgtype == "sensor_msgs/msg/Image":
                src = raws[i % len(raws)]
                pixels = np.frombuffer(src.data, dtype=np.uint8).reshape(src.height, src.step)
                pixels = pixels[:, : src.width * 3].reshape(src.height, src.width, 3)[::2, ::2]
                pixels = np.ascontiguousarray(pixels)
                h, w = pixels.shape[:2]
                msg = Image(header=header(stamp_ns, frame_id), height=h, width=w,
                            encoding="bgr8", is_bigendian=0, step=w * 3,
                            data=pixels.reshape(-1))
            else:
                src = jpegs[(i + k) % len(jpegs)]
                msg = CompressedImage(header=header(stamp_ns, frame_id), format="jpeg",
                                      data=src.data)
            records.append((log_ns, k, typestore.serialize_cdr(msg, msgtype)))
    records.sort(key=lambda r: (r[0], r[1]))
    with Writer(out, version=8, storage_plugin=storage) as writer:
        conns = [writer.add_connection(topic, msgtype, typestore=typestore)
                 for topic, msgtype, _ in cameras]
        for log_ns, k, raw in records:
            writer.write(conns[k], log_ns, raw)
    size = sum(p.stat().st_size for p in out.iterdir())
    print(f"{out}: {len(cameras)} cameras x {args.frames} frames ({args.storage}), {size} bytes")


if __name__ == "__main__":
    main()
