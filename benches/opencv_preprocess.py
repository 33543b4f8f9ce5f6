#!/usr/bin/env python3
"""Side-by-side preprocessing benchmark: redline's fused pass vs OpenCV, one thread each.

Six jobs (issue 14), every one into an RGB NCHW float32 tensor with values /255, letterboxed
top-left with pad 114 (or stretched), from the same synthetic input bytes redline uses
(`(i * 7 + i // 4099) % 251`):

  bgr8  1920x1080 -> 640 letterbox      bgr8  1920x1080 -> 416 letterbox
  rgb8  1280x720  -> 640 letterbox      rgb8  768x576   -> 300 stretch
  rgba8 1920x1080 -> 416 letterbox      yuyv  1920x1080 -> 640 letterbox

OpenCV pipelines (cv2.setNumThreads(1)):
  resize_numpy: [cvtColor YUV2RGB_YUY2 for yuyv] + cv2.resize INTER_LINEAR + numpy (channel
                order, HWC->CHW, *1/255 into a preallocated tensor, pad fill)
  blob:         [cvtColor for yuyv] + cv2.resize + [cvtColor RGBA2BGR for rgba8]
                + cv2.copyMakeBorder (letterbox) + cv2.dnn.blobFromImage(1/255, swapRB)
redline: `redline bench preprocess` (its fastest kernel, or --kernel), which also dumps its
tensor; the script checks it against OpenCV's (max difference in 8-bit levels; OpenCV's
INTER_LINEAR uses 11-bit fixed-point weights, redline f32, so up to ~1 level apart).

Usage: opencv_preprocess.py --redline PATH [--iters N] [--clock wall|thread] [--kernel K]
                            [--json OUT.json]
Prints one table: medians (ms) and the ratios against the targets (<= 0.6x resize+numpy,
<= 0.25x blob).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np

PAD = 114
JOBS = [
    ("bgr8", 1920, 1080, 640, "letterbox"),
    ("bgr8", 1920, 1080, 416, "letterbox"),
    ("rgb8", 1280, 720, 640, "letterbox"),
    ("rgb8", 768, 576, 300, "stretch"),
    ("rgba8", 1920, 1080, 416, "letterbox"),
    ("yuyv", 1920, 1080, 640, "letterbox"),
]
CHANNELS = {"bgr8": 3, "rgb8": 3, "rgba8": 4, "yuyv": 2}


def frame(enc, w, h):
    """The bytes redline's benchmark uses, shaped for OpenCV (rows are tightly packed)."""
    n = w * h * CHANNELS[enc]
    i = np.arange(n, dtype=np.int64)
    return ((i * 7 + i // 4099) % 251).astype(np.uint8).reshape(h, w, CHANNELS[enc])


def geometry(w, h, net, resize):
    if resize == "stretch":
        return net, net
    r = min(net / w, net / h)
    return max(int(w * r), 1), max(int(h * r), 1)


def make_resize_numpy(enc, net, rw, rh):
    out = np.empty((1, 3, net, net), np.float32)
    pad = np.float32(PAD / 255)

    def run(img):
        if enc == "yuyv":
            img = cv2.cvtColor(img, cv2.COLOR_YUV2RGB_YUY2)
        resized = cv2.resize(img, (rw, rh), interpolation=cv2.INTER_LINEAR)
        if enc == "bgr8":
            rgb = resized[:, :, ::-1]
        elif enc == "rgba8":
            rgb = resized[:, :, :3]
        else:
            rgb = resized
        np.multiply(rgb.transpose(2, 0, 1), np.float32(1 / 255), out=out[0, :, :rh, :rw],
                    casting="unsafe")
        if rh < net:
            out[0, :, rh:, :] = pad
        if rw < net:
            out[0, :, :rh, rw:] = pad
        return out

    return run


def make_blob(enc, net, rw, rh):
    def run(img):
        if enc == "yuyv":
            img = cv2.cvtColor(img, cv2.COLOR_YUV2BGR_YUY2)
        resized = cv2.resize(img, (rw, rh), interpolation=cv2.INTER_LINEAR)
        if enc == "rgba8":
            resized = cv2.cvtColor(resized, cv2.COLOR_RGBA2BGR)
        if (rw, rh) != (net, net):
            resized = cv2.copyMakeBorder(resized, 0, net - rh, 0, net - rw, cv2.BORDER_CONSTANT,
                                         value=(PAD, PAD, PAD))
        swap = enc != "rgb8"  # everything but rgb8 is BGR by now
        return cv2.dnn.blobFromImage(resized, scalefactor=1 / 255, swapRB=swap)

    return run


def timed(fn, img, iters, clock):
    now = time.thread_time_ns if clock == "thread" else time.perf_counter_ns
    for _ in range(max(iters // 10, 5)):
        fn(img)
    samples = []
    for _ in range(iters):
        t0 = now()
        fn(img)
        samples.append(now() - t0)
    samples.sort()
    return samples[len(samples) // 2]


def redline(binary, enc, w, h, net, resize, iters, clock, kernel, dump):
    cmd = [binary, "bench", "preprocess", "--width", str(w), "--height", str(h),
           "--encoding", enc, "--size", f"{net}x{net}", "--resize", resize,
           "--iters", str(iters), "--clock", clock, "--kernel", kernel, "--json",
           "--dump", dump]
    res = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    tensor = np.fromfile(dump, dtype="<f4").reshape(1, 3, net, net)
    return res, tensor


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--redline", required=True, help="path to the release redline binary")
    ap.add_argument("--iters", type=int, default=500)
    ap.add_argument("--clock", choices=["wall", "thread"], default="wall")
    ap.add_argument("--kernel", default="auto")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        dump = os.path.join(tmp, "tensor.f32")
        for enc, w, h, net, resize in JOBS:
            img = frame(enc, w, h)
            rw, rh = geometry(w, h, net, resize)
            numpy_fn = make_resize_numpy(enc, net, rw, rh)
            blob_fn = make_blob(enc, net, rw, rh)
            a = numpy_fn(img).copy()
            b = blob_fn(img)
            assert a.shape == b.shape == (1, 3, net, net), (a.shape, b.shape)
            assert np.abs(a - b).max() < 1e-6, f"{enc} {net}: the two OpenCV pipelines disagree"
            ours, tensor = redline(args.redline, enc, w, h, net, resize, args.iters, args.clock,
                                   args.kernel, dump)
            rows.append({
                "job": f"{enc} {w}x{h} -> {net} {resize}",
                "kernel": ours["kernel"],
                "redline_ms": ours["median_ns"] / 1e6,
                "resize_numpy_ms": timed(numpy_fn, img, args.iters, args.clock) / 1e6,
                "blob_ms": timed(blob_fn, img, args.iters, args.clock) / 1e6,
                "max_diff_levels": float(np.abs(tensor - a).max() * 255),
            })
    print(f"OpenCV {cv2.__version__} ({cv2.getNumThreads()} thread), numpy {np.__version__}; "
          f"medians of {args.iters} runs, {args.clock} clock")
    head = (f"{'job':34} {'redline':>8} {'resize+np':>10} {'ratio':>6} {'blob':>8} {'ratio':>6}"
            f" {'max diff':>9}")
    print(head)
    for r in rows:
        r["ratio_numpy"] = r["redline_ms"] / r["resize_numpy_ms"]
        r["ratio_blob"] = r["redline_ms"] / r["blob_ms"]
        miss = ("" if r["ratio_numpy"] <= 0.6 and r["ratio_blob"] <= 0.25
                else "  <- misses a target")
        print(f"{r['job']:34} {r['redline_ms']:8.3f} {r['resize_numpy_ms']:10.3f} "
              f"{r['ratio_numpy']:6.2f} {r['blob_ms']:8.3f} {r['ratio_blob']:6.3f} "
              f"{r['max_diff_levels']:9.2f}{miss}")
    print("ms; ratio = redline / OpenCV (targets <= 0.60 and <= 0.25); max diff = largest "
          "|redline - cv2.resize+numpy| in 8-bit levels")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"opencv": cv2.__version__, "clock": args.clock, "iters": args.iters,
                       "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
