#!/usr/bin/env python3
"""Publishes the camera images of a rosbag2 recording on ROS 2, as a camera driver would.

Each image's header stamp is replaced by the time it is sent (the node's deadlines are measured
from the stamp), and the frames go out at the recorded rate (the gaps between their log
times), or faster/slower with --rate. The CDR bytes are published as recorded (rclpy
`publish(bytes)`), only the 8 stamp bytes are rewritten, so any message that starts with a
std_msgs/Header works: sensor_msgs/msg/Image and sensor_msgs/msg/CompressedImage.

Bags are read with the independent readers of the project's .venv (scripts/python-env.sh):
a rosbag2 directory (MCAP or sqlite3 .db3) with `rosbags`, a bare .mcap file with `mcap`.
rclpy comes from the sourced ROS 2.

Usage (ROS 2 sourced):
  .venv/bin/python tools/publish_bag.py BAG [--topic T] [--remap TOPIC] [--rate R] [--loop]
      [--count N] [--wait-subscriber SECONDS] [--reliable]

  --topic T           the bag's image topic (default: its only Image/CompressedImage topic)
  --remap TOPIC       publish on TOPIC instead of the recorded topic name
  --rate R            playback rate factor (default 1.0 = the recorded rate)
  --loop              start again at the end (until Ctrl-C)
  --count N           stop after N frames
  --wait-subscriber S wait up to S seconds for a subscriber before the first frame
  --reliable          publish reliable (default: sensor-data QoS, best effort, keep last 1)

Prints one line when it starts and one when it stops (frames sent, duration, achieved rate).
Exits non-zero with a message naming the file on a bag it cannot read.
"""
import argparse
import importlib
import signal
import struct
import sys
import time
from pathlib import Path

IMAGE_TYPES = ("sensor_msgs/msg/Image", "sensor_msgs/msg/CompressedImage")


class BagError(Exception):
    pass


def image_topics(connections):
    """{topic: msgtype} of the image topics among (topic, msgtype) pairs."""
    return {t: m for t, m in connections if m in IMAGE_TYPES}


def choose_topic(bag, topics, wanted):
    if wanted is not None:
        if wanted not in topics:
            raise BagError(f"{bag}: no image topic {wanted} (image topics: {sorted(topics)})")
        return wanted
    if len(topics) != 1:
        raise BagError(f"{bag}: {len(topics)} image topics {sorted(topics)}; choose one with --topic")
    return next(iter(topics))


def read_rosbag2(bag, wanted):
    """(topic, msgtype, [(log_time_ns, cdr bytes)]) from a rosbag2 directory, via `rosbags`."""
    from rosbags.highlevel import AnyReader
    from rosbags.typesys import Stores, get_typestore

    with AnyReader([bag], default_typestore=get_typestore(Stores.ROS2_HUMBLE)) as reader:
        topics = image_topics((c.topic, c.msgtype) for c in reader.connections)
        topic = choose_topic(bag, topics, wanted)
        conns = [c for c in reader.connections if c.topic == topic]
        frames = [(t, bytes(raw)) for _, t, raw in reader.messages(connections=conns)]
    return topic, topics[topic], frames


def ros_type_name(schema_name):
    """`pkg/msg/Type` from an MCAP schema name (`pkg/msg/Type`, or the older `pkg/Type`)."""
    parts = schema_name.split("/")
    return f"{parts[0]}/msg/{parts[1]}" if len(parts) == 2 else schema_name


def read_mcap(bag, wanted):
    """(topic, msgtype, [(log_time_ns, cdr bytes)]) from a bare .mcap file, via `mcap`."""
    from mcap.reader import make_reader

    with open(bag, "rb") as f:
        reader = make_reader(f)
        summary = reader.get_summary()
        if summary is None:
            raise BagError(f"{bag}: MCAP file without a summary section")
        pairs = [(c.topic, ros_type_name(summary.schemas[c.schema_id].name))
                 for c in summary.channels.values() if c.schema_id in summary.schemas]
        topics = image_topics(pairs)
        topic = choose_topic(bag, topics, wanted)
        frames = [(m.log_time, bytes(m.data)) for _, _, m in reader.iter_messages(topics=[topic])]
    return topic, topics[topic], frames


def read_bag(path, wanted):
    bag = Path(path)
    if not bag.exists():
        raise BagError(f"{bag}: no such file or directory")
    try:
        if bag.is_file() and bag.suffix == ".mcap":
            topic, msgtype, frames = read_mcap(bag, wanted)
        else:
            topic, msgtype, frames = read_rosbag2(bag, wanted)
    except BagError:
        raise
    except Exception as e:  # the readers' own errors: name the bag
        raise BagError(f"{bag}: cannot read the bag: {type(e).__name__}: {e}") from e
    if not frames:
        raise BagError(f"{bag}: topic {topic} has no messages")
    frames.sort(key=lambda f: f[0])
    return topic, msgtype, frames


def restamp(cdr, stamp_ns):
    """The CDR bytes with header.stamp (the first field after the encapsulation) set."""
    if len(cdr) < 12 or cdr[0] != 0 or cdr[1] not in (0, 1):
        raise BagError(f"not a CDR message with a header ({len(cdr)} bytes)")
    order = "<" if cdr[1] == 1 else ">"
    sec, nanosec = divmod(stamp_ns, 1_000_000_000)
    return cdr[:4] + struct.pack(order + "iI", sec, nanosec) + cdr[12:]


def message_class(msgtype):
    """The rclpy message class of `pkg/msg/Type` (without rosidl_runtime_py, which needs PyYAML)."""
    pkg, _, name = msgtype.split("/")
    return getattr(importlib.import_module(f"{pkg}.msg"), name)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("bag", help="rosbag2 directory (MCAP or .db3) or a bare .mcap file")
    p.add_argument("--topic", help="the bag's image topic (default: its only one)")
    p.add_argument("--remap", help="publish on this topic instead of the recorded one")
    p.add_argument("--rate", type=float, default=1.0, help="playback rate factor (default 1)")
    p.add_argument("--loop", action="store_true", help="start again at the end")
    p.add_argument("--count", type=int, help="stop after this many frames")
    p.add_argument("--wait-subscriber", type=float, default=0.0, metavar="SECONDS",
                   help="wait up to this long for a subscriber before the first frame")
    p.add_argument("--reliable", action="store_true",
                   help="reliable QoS (default: sensor data, best effort, keep last 1)")
    args = p.parse_args(argv)
    if not (args.rate > 0 and args.rate < 1e6):
        p.error(f"--rate {args.rate}: must be > 0")
    if args.count is not None and args.count < 1:
        p.error(f"--count {args.count}: must be >= 1")
    return args


def main(argv):
    args = parse_args(argv)
    try:
        topic, msgtype, frames = read_bag(args.bag, args.topic)
    except BagError as e:
        print(f"publish_bag: {e}", file=sys.stderr)
        return 1

    import rclpy
    from rclpy.signals import SignalHandlerOptions
    from rclpy.qos import QoSProfile, ReliabilityPolicy, DurabilityPolicy, HistoryPolicy

    out_topic = args.remap or topic
    qos = QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=1,
        reliability=ReliabilityPolicy.RELIABLE if args.reliable else ReliabilityPolicy.BEST_EFFORT,
        durability=DurabilityPolicy.VOLATILE,
    )
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append("SIGTERM"))
    rclpy.init(args=None, signal_handler_options=SignalHandlerOptions.NO)
    signal.signal(signal.SIGINT, lambda *_: stop.append("SIGINT"))
    node = rclpy.create_node("publish_bag")
    publisher = node.create_publisher(message_class(msgtype), out_topic, qos)
    span_s = (frames[-1][0] - frames[0][0]) / 1e9
    print(f"publish_bag: {len(frames)} frames of {msgtype} from {args.bag} ({topic}, "
          f"{span_s:.1f} s recorded) on {out_topic} at {args.rate:g}x"
          + (", looping" if args.loop else ""), flush=True)

    waited = time.monotonic()
    while args.wait_subscriber > 0 and publisher.get_subscription_count() == 0 and not stop:
        if time.monotonic() - waited > args.wait_subscriber:
            print(f"publish_bag: no subscriber on {out_topic} after {args.wait_subscriber:g} s; "
                  "publishing anyway", flush=True)
            break
        time.sleep(0.05)

    sent = 0
    start = time.monotonic()
    try:
        while not stop:
            t0 = time.monotonic()
            first_log = frames[0][0]
            for log_time, cdr in frames:
                due = t0 + (log_time - first_log) / 1e9 / args.rate
                while not stop and time.monotonic() < due:
                    time.sleep(min(0.005, max(0.0, due - time.monotonic())))
                if stop:
                    break
                publisher.publish(restamp(cdr, time.time_ns()))
                sent += 1
                if args.count is not None and sent >= args.count:
                    stop.append("count")
                    break
            if not args.loop:
                break
            # The next pass starts one recorded frame period after the last frame.
            if len(frames) > 1 and not stop:
                time.sleep((frames[-1][0] - frames[-2][0]) / 1e9 / args.rate)
    except BagError as e:
        print(f"publish_bag: {args.bag}: frame {sent}: {e}", file=sys.stderr)
        return 1
    finally:
        elapsed = time.monotonic() - start
        rate = sent / elapsed if elapsed > 0 else 0.0
        why = f" ({stop[0]})" if stop else ""
        print(f"publish_bag: sent {sent} frames in {elapsed:.1f} s ({rate:.1f} frames/s){why}",
              flush=True)
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
