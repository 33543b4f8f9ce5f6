//! Decoding network outputs (YOLOX, YOLOv8, SSD) into boxes in source pixels, with NMS and top-k.
