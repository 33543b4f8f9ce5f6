#!/usr/bin/env python3
"""Makes data/sample/: the first 45 JPEG frames (4.5 s at 10 Hz) of the shared vtest_jpeg_mcap
bag as a rosbag2 MCAP directory (metadata.yaml version 8, which Humble and Jazzy both play),
with the same topic, stamps and payloads. Independent of redline's own code (PyPI `rosbags`).

Usage: .venv/bin/python tools/make_sample_bag.py [SOURCE_BAG] [OUT_DIR]
"""
import os
import shutil
import sys
from pathlib import Path

from rosbags.highlevel import AnyReader
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("REDLINE_SHARED", ROOT.parent / "shared"))
SOURCE = Path(sys.argv[1]) if len(sys.argv) > 1 else SHARED / "data/bags/vtest_jpeg_mcap"
OUT = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "data/sample"
TOPIC = "/camera/front/image_raw/compressed"
FRAMES = 45

typestore = get_typestore(Stores.ROS2_HUMBLE)
if OUT.exists():
    shutil.rmtree(OUT)
with AnyReader([SOURCE], default_typestore=typestore) as reader:
    conns = [c for c in reader.connections if c.topic == TOPIC]
    if not conns:
        raise SystemExit(f"{SOURCE}: no topic {TOPIC}")
    with Writer(OUT, version=8, storage_plugin=StoragePlugin.MCAP) as writer:
        out_conn = writer.add_connection(TOPIC, conns[0].msgtype, typestore=typestore)
        written = 0
        for conn, timestamp, raw in reader.messages(connections=conns):
            writer.write(out_conn, timestamp, raw)  # the recorded CDR bytes, unchanged
            written += 1
            if written == FRAMES:
                break
size = sum(p.stat().st_size for p in OUT.iterdir())
print(f"{OUT}: {written} frames of {TOPIC}, {size} bytes")
