#!/usr/bin/env python3
"""Reads a rosbag2 MCAP directory with two independent readers and prints a JSON summary.

Usage: .venv/bin/python tools/read_mcap.py BAG_DIR

* `rosbags` AnyReader (uses metadata.yaml and the ros2msg schemas in the file) + deserialize_cdr
* the `mcap` package's reader with `mcap-ros2-support`'s decoder (parses our schema text)

Output: {"rosbags": SUMMARY, "mcap": SUMMARY, "metadata": {...}, "chunk_compression": [...]} where SUMMARY maps each topic
to {"type", "count", "messages": [per-message summaries]}. Exits non-zero on any decode error.
"""
import json
import sys
from pathlib import Path

from mcap.reader import make_reader
from mcap_ros2.decoder import DecoderFactory
from rosbags.highlevel import AnyReader
from ruamel.yaml import YAML
from rosbags.typesys import Stores, get_typestore


def stamp(h):
    return [int(h.stamp.sec), int(h.stamp.nanosec)]


def status(s):
    return [int(s.level), s.name, s.message, s.hardware_id, [[kv.key, kv.value] for kv in s.values]]


def summarise(typename, m):
    if typename.endswith("Detection2DArray"):
        dets = []
        for d in m.detections:
            h = d.results[0].hypothesis
            c = d.bbox.center
            dets.append([h.class_id, float(h.score), float(c.position.x), float(c.position.y),
                         float(d.bbox.size_x), float(d.bbox.size_y)])
        return {"stamp": stamp(m.header), "frame_id": m.header.frame_id, "detections": dets}
    if typename.endswith("DiagnosticArray"):
        return {"stamp": stamp(m.header), "status": [status(s) for s in m.status]}
    if typename.endswith("DiagnosticStatus"):
        return {"status": status(m)}
    if typename.endswith("CompressedImage"):
        return {"stamp": stamp(m.header), "format": m.format, "len": len(bytes(m.data))}
    if typename.endswith("Image"):
        return {"stamp": stamp(m.header), "height": int(m.height), "width": int(m.width),
                "encoding": m.encoding, "len": len(bytes(m.data))}
    return {}


def with_rosbags(bag):
    out = {}
    with AnyReader([bag], default_typestore=get_typestore(Stores.ROS2_HUMBLE)) as reader:
        for conn in reader.connections:
            out[conn.topic] = {"type": conn.msgtype, "count": 0, "messages": []}
        for conn, _t, raw in reader.messages():
            msg = reader.deserialize(raw, conn.msgtype)
            entry = out[conn.topic]
            entry["count"] += 1
            entry["messages"].append(summarise(conn.msgtype, msg))
    return out


def chunk_compressions(bag):
    found = set()
    for path in sorted(bag.glob("*.mcap")):
        with path.open("rb") as f:
            summary = make_reader(f).get_summary()
            found.update(ci.compression or "none" for ci in (summary.chunk_indexes if summary else []))
    return sorted(found)


def with_mcap(bag):
    out = {}
    for path in sorted(bag.glob("*.mcap")):
        with path.open("rb") as f:
            reader = make_reader(f, decoder_factories=[DecoderFactory()])
            header = reader.get_header()
            if header.profile != "ros2":
                raise SystemExit(f"{path}: profile {header.profile!r}, expected 'ros2'")
            for schema, channel, _message, decoded in reader.iter_decoded_messages():
                if schema.encoding != "ros2msg" or channel.message_encoding != "cdr":
                    raise SystemExit(f"{path}: {channel.topic}: encodings {schema.encoding}/"
                                     f"{channel.message_encoding}")
                if "offered_qos_profiles" not in channel.metadata:
                    raise SystemExit(f"{path}: {channel.topic}: no offered_qos_profiles")
                entry = out.setdefault(channel.topic, {"type": schema.name, "count": 0, "messages": []})
                entry["count"] += 1
                entry["messages"].append(summarise(schema.name, decoded))
    return out


def main():
    bag = Path(sys.argv[1])
    info = YAML(typ="safe").load((bag / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    print(json.dumps({
        "rosbags": with_rosbags(bag),
        "mcap": with_mcap(bag),
        "metadata": {"version": info["version"], "message_count": info["message_count"]},
        "chunk_compression": chunk_compressions(bag),
    }))


if __name__ == "__main__":
    main()
