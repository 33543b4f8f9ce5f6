#!/usr/bin/env python3
"""Writes the golden CDR files in tests/golden/ with an independent serialiser (PyPI `rosbags`).

Run: scripts/python-env.sh && .venv/bin/python tests/golden/make_golden.py
The Rust tests (tests/cdr_golden.rs) build the same messages and compare byte for byte.
Every message is also encoded with mcap-ros2-support; the two must agree byte for byte.
vision_msgs 4.1.1 is not in rosbags' stores; its types are registered from the .msg texts.
"""
from pathlib import Path

import numpy as np
from mcap_ros2._dynamic import serialize_dynamic
from rosbags.typesys import Stores, get_types_from_msg, get_typestore

OUT = Path(__file__).resolve().parent

VISION_MSGS = {
    "vision_msgs/msg/Point2D": "float64 x\nfloat64 y\n",
    "vision_msgs/msg/Pose2D": "vision_msgs/Point2D position\nfloat64 theta\n",
    "vision_msgs/msg/BoundingBox2D": "vision_msgs/Pose2D center\nfloat64 size_x\nfloat64 size_y\n",
    "vision_msgs/msg/ObjectHypothesis": "string class_id\nfloat64 score\n",
    "vision_msgs/msg/ObjectHypothesisWithPose": (
        "vision_msgs/ObjectHypothesis hypothesis\ngeometry_msgs/PoseWithCovariance pose\n"
    ),
    "vision_msgs/msg/Detection2D": (
        "std_msgs/Header header\nvision_msgs/ObjectHypothesisWithPose[] results\n"
        "vision_msgs/BoundingBox2D bbox\nstring id\n"
    ),
    "vision_msgs/msg/Detection2DArray": "std_msgs/Header header\nvision_msgs/Detection2D[] detections\n",
}

ts = get_typestore(Stores.ROS2_HUMBLE)
types = {}
for name, text in VISION_MSGS.items():
    types.update(get_types_from_msg(text, name))
ts.register(types)
T = ts.types

STAMP = T["builtin_interfaces/msg/Time"](sec=1700000000, nanosec=123456789)
FRAME = "camera_front"
CLASS_NAMES = ["person", "bicycle", "car"]
# (class_id, score, [x1, y1, x2, y2]); all values exact in f32. class 7 has no name -> "7".
DETECTIONS = [
    (0, 0.75, [10.5, 20.25, 110.5, 220.75]),
    (2, 0.5, [0.0, 0.0, 640.0, 480.0]),
    (7, 0.875, [300.0, 100.5, 301.0, 102.5]),
]


def header():
    return T["std_msgs/msg/Header"](stamp=STAMP, frame_id=FRAME)


def detection(class_id, score, box):
    x1, y1, x2, y2 = box
    name = CLASS_NAMES[class_id] if class_id < len(CLASS_NAMES) else str(class_id)
    pose = T["geometry_msgs/msg/PoseWithCovariance"](
        pose=T["geometry_msgs/msg/Pose"](
            position=T["geometry_msgs/msg/Point"](x=0.0, y=0.0, z=0.0),
            orientation=T["geometry_msgs/msg/Quaternion"](x=0.0, y=0.0, z=0.0, w=1.0),
        ),
        covariance=np.zeros(36, dtype=np.float64),
    )
    hyp = T["vision_msgs/msg/ObjectHypothesisWithPose"](
        hypothesis=T["vision_msgs/msg/ObjectHypothesis"](class_id=name, score=score), pose=pose
    )
    bbox = T["vision_msgs/msg/BoundingBox2D"](
        center=T["vision_msgs/msg/Pose2D"](
            position=T["vision_msgs/msg/Point2D"](x=(x1 + x2) * 0.5, y=(y1 + y2) * 0.5), theta=0.0
        ),
        size_x=x2 - x1,
        size_y=y2 - y1,
    )
    return T["vision_msgs/msg/Detection2D"](header=header(), results=[hyp], bbox=bbox, id="")


def status(level, name, message, hardware_id, values):
    kv = [T["diagnostic_msgs/msg/KeyValue"](key=k, value=v) for k, v in values]
    return T["diagnostic_msgs/msg/DiagnosticStatus"](
        level=level, name=name, message=message, hardware_id=hardware_id, values=kv
    )


# A second independent serialiser (mcap-ros2-support) must produce the same bytes.
STD_MSGS = {
    "builtin_interfaces/Time": "int32 sec\nuint32 nanosec\n",
    "std_msgs/Header": "builtin_interfaces/Time stamp\nstring frame_id\n",
    "geometry_msgs/Point": "float64 x\nfloat64 y\nfloat64 z\n",
    "geometry_msgs/Quaternion": "float64 x\nfloat64 y\nfloat64 z\nfloat64 w\n",
    "geometry_msgs/Pose": "geometry_msgs/Point position\ngeometry_msgs/Quaternion orientation\n",
    "geometry_msgs/PoseWithCovariance": "geometry_msgs/Pose pose\nfloat64[36] covariance\n",
    "diagnostic_msgs/KeyValue": "string key\nstring value\n",
    "diagnostic_msgs/DiagnosticStatus": (
        "byte level\nstring name\nstring message\nstring hardware_id\n"
        "diagnostic_msgs/KeyValue[] values\n"
    ),
    "diagnostic_msgs/DiagnosticArray": "std_msgs/Header header\ndiagnostic_msgs/DiagnosticStatus[] status\n",
    "sensor_msgs/Image": (
        "std_msgs/Header header\nuint32 height\nuint32 width\nstring encoding\n"
        "uint8 is_bigendian\nuint32 step\nuint8[] data\n"
    ),
    "sensor_msgs/CompressedImage": "std_msgs/Header header\nstring format\nuint8[] data\n",
}
ALL_DEFS = {**STD_MSGS, **{k.replace("/msg/", "/"): v for k, v in VISION_MSGS.items()}}


def plain(value):
    """rosbags message -> dicts and lists, which mcap-ros2-support encodes."""
    if hasattr(value, "__dataclass_fields__"):
        return {f: plain(getattr(value, f)) for f in value.__dataclass_fields__}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def mcap_ros2_encode(msg, typename):
    short = typename.replace("/msg/", "/")
    text = ALL_DEFS[short] + "".join(
        f"{'=' * 80}\nMSG: {name}\n{body}" for name, body in ALL_DEFS.items() if name != short
    )
    return serialize_dynamic(typename, text)[typename](plain(msg))


def write(name, msg, typename):
    data = bytes(ts.serialize_cdr(msg, typename))
    other = bytes(mcap_ros2_encode(msg, typename))
    if other != data:
        raise SystemExit(f"{name}: rosbags and mcap-ros2-support disagree")
    (OUT / f"{name}.bin").write_bytes(data)
    print(f"{name}.bin: {len(data)} bytes")


write(
    "image_rgb8_3x2",
    T["sensor_msgs/msg/Image"](
        header=header(), height=2, width=3, encoding="rgb8", is_bigendian=0, step=9,
        data=np.arange(18, dtype=np.uint8),
    ),
    "sensor_msgs/msg/Image",
)
write(
    "compressed_image_jpeg",
    T["sensor_msgs/msg/CompressedImage"](
        header=header(), format="jpeg",
        data=np.frombuffer(b"\xff\xd8\xff\xe0fake\xff\xd9", dtype=np.uint8),
    ),
    "sensor_msgs/msg/CompressedImage",
)
for n in (0, 1, 3):
    write(
        f"detection2d_array_{n}",
        T["vision_msgs/msg/Detection2DArray"](
            header=header(), detections=[detection(*d) for d in DETECTIONS[:n]]
        ),
        "vision_msgs/msg/Detection2DArray",
    )
write(
    "diagnostic_array",
    T["diagnostic_msgs/msg/DiagnosticArray"](
        header=header(),
        status=[
            status(0, "redline: deadline", "ok", "redline", [("miss_ratio", "0.000"), ("p99_ms", "12.5")]),
            status(2, "redline: engine", "stalled", "gpu0", []),
        ],
    ),
    "diagnostic_msgs/msg/DiagnosticArray",
)
write(
    "diagnostic_status_alarm",
    status(2, "redline/alarm", "deadline miss ratio 0.12 > 0.05", "redline", [("cause", "miss_ratio")]),
    "diagnostic_msgs/msg/DiagnosticStatus",
)
