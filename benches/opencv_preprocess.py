#!/usr/bin/env python3
"""OpenCV baseline for the fused preprocessing benchmark (issue 3), one thread.

Job: 1920x1080 bgr8 -> 640x640 letterboxed (top-left, pad 114) RGB NCHW float32 / 255, the same
input bytes as benches/preprocess.rs. Two pipelines:
  resize_numpy: cv2.resize (INTER_LINEAR) + numpy (preallocated tensor, BGR->RGB, HWC->CHW, /255)
  resize_border_blob: cv2.resize + cv2.copyMakeBorder + cv2.dnn.blobFromImage(1/255, swapRB)
Optional arguments: iterations (default 200) and the network size (default 640; e.g. 416 for a
non-integer downscale ratio). Prints one JSON object with the median and p99 of each, in nanoseconds.
"""
import json
import sys
import time

import cv2
import numpy as np

W, H = 1920, 1080
NET = int(sys.argv[2]) if len(sys.argv) > 2 else 640
PAD = 114


def frame():
    i = np.arange(W * H * 3, dtype=np.int64)
    return ((i * 7 + i // 4099) % 251).astype(np.uint8).reshape(H, W, 3)


def geometry():
    r = min(NET / W, NET / H)
    return int(W * r), int(H * r)


def resize_numpy(img, out, rw, rh):
    resized = cv2.resize(img, (rw, rh), interpolation=cv2.INTER_LINEAR)
    chw = resized[:, :, ::-1].transpose(2, 0, 1)
    np.multiply(chw, np.float32(1 / 255), out=out[0, :, :rh, :rw], casting="unsafe")
    out[0, :, rh:, :] = np.float32(PAD / 255)
    out[0, :, :rh, rw:] = np.float32(PAD / 255)
    return out


def resize_border_blob(img, _out, rw, rh):
    resized = cv2.resize(img, (rw, rh), interpolation=cv2.INTER_LINEAR)
    padded = cv2.copyMakeBorder(resized, 0, NET - rh, 0, NET - rw, cv2.BORDER_CONSTANT,
                                value=(PAD, PAD, PAD))
    return cv2.dnn.blobFromImage(padded, scalefactor=1 / 255, swapRB=True)


def timed(fn, img, out, rw, rh, iters):
    for _ in range(max(iters // 10, 5)):
        fn(img, out, rw, rh)
    samples = []
    for _ in range(iters):
        t0 = time.perf_counter_ns()
        fn(img, out, rw, rh)
        samples.append(time.perf_counter_ns() - t0)
    samples.sort()
    return {"median_ns": samples[len(samples) // 2], "p99_ns": samples[int(len(samples) * 0.99)]}


def main():
    iters = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    cv2.setNumThreads(1)
    img = frame()
    rw, rh = geometry()
    out = np.empty((1, 3, NET, NET), np.float32)
    a = resize_numpy(img, out, rw, rh).copy()
    b = resize_border_blob(img, out, rw, rh)
    assert a.shape == b.shape == (1, 3, NET, NET)
    assert np.abs(a - b).max() < 1e-6, "the two OpenCV pipelines disagree"
    result = {
        "opencv_version": cv2.__version__,
        "threads": cv2.getNumThreads(),
        "resize_numpy": timed(resize_numpy, img, out, rw, rh, iters),
        "resize_border_blob": timed(resize_border_blob, img, out, rw, rh, iters),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
