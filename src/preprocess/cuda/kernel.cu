// redline fused preprocessing kernel: raw camera bytes -> engine input tensor, one thread per
// network pixel. Same semantics as the CPU pass (src/preprocess): OpenCV INTER_LINEAR with
// half-pixel centres, letterbox/stretch region `roi`, padding elsewhere, channel order,
// value = pixel * mul[c] + add[c] (mul = scale/std, add = -mean/std), NCHW or NHWC, f32 or f16.
// Compiled at start-up with NVRTC; no headers needed.

struct RedlinePreprocessParams {
    unsigned long long src;   // device pointer to the raw image (rows of src_step bytes)
    unsigned long long dst;   // device pointer to the engine input (f32 or f16)
    int src_w, src_h, src_step, encoding; // encoding: 0 rgb8 1 bgr8 2 rgba8 3 bgra8 4 mono8 5 uyvy 6 yuyv
    int dst_w, dst_h;
    int roi_x, roi_y, roi_w, roi_h;
    float src_per_dst_x, src_per_dst_y;
    int nhwc, f16, bgr_out;
    float pad;
    float mul[3];
    float add[3];
};

__device__ __forceinline__ float redline_clamp255(float v) { return fminf(fmaxf(v, 0.0f), 255.0f); }

// Reads source pixel (x, y) as RGB in 0..255.
__device__ __forceinline__ void redline_load_rgb(const RedlinePreprocessParams& p, int x, int y,
                                                 float* rgb) {
    const unsigned char* row = (const unsigned char*)p.src + (size_t)y * (size_t)p.src_step;
    switch (p.encoding) {
    case 0: { const unsigned char* q = row + 3 * x; rgb[0] = q[0]; rgb[1] = q[1]; rgb[2] = q[2]; break; }
    case 1: { const unsigned char* q = row + 3 * x; rgb[0] = q[2]; rgb[1] = q[1]; rgb[2] = q[0]; break; }
    case 2: { const unsigned char* q = row + 4 * x; rgb[0] = q[0]; rgb[1] = q[1]; rgb[2] = q[2]; break; }
    case 3: { const unsigned char* q = row + 4 * x; rgb[0] = q[2]; rgb[1] = q[1]; rgb[2] = q[0]; break; }
    case 4: { float g = row[x]; rgb[0] = g; rgb[1] = g; rgb[2] = g; break; }
    default: {
        // 4:2:2 -- two pixels share one (U, V); BT.601 limited range as OpenCV's YUV2RGB_UYVY/YUYV.
        const unsigned char* q = row + 4 * (x >> 1);
        float yy, u, v;
        if (p.encoding == 5) { u = q[0]; v = q[2]; yy = (x & 1) ? q[3] : q[1]; }
        else { u = q[1]; v = q[3]; yy = (x & 1) ? q[2] : q[0]; }
        float luma = fmaxf(yy - 16.0f, 0.0f) * 1.164f;
        u -= 128.0f; v -= 128.0f;
        rgb[0] = redline_clamp255(luma + 1.596f * v);
        rgb[1] = redline_clamp255(luma - 0.813f * v - 0.391f * u);
        rgb[2] = redline_clamp255(luma + 2.018f * u);
        break;
    }
    }
}

// OpenCV INTER_LINEAR source coordinate: half-pixel centres, clamped at the borders.
__device__ __forceinline__ void redline_axis(int d, float src_per_dst, int size, int* i0, int* i1,
                                             float* a) {
    float f = ((float)d + 0.5f) * src_per_dst - 0.5f;
    int i = (int)floorf(f);
    float w = f - (float)i;
    if (i < 0) { i = 0; w = 0.0f; }
    if (i >= size - 1) { i = size - 1; w = 0.0f; }
    *i0 = i;
    *i1 = min(i + 1, size - 1);
    *a = w;
}

__device__ __forceinline__ void redline_store(const RedlinePreprocessParams& p, size_t idx, float v) {
    if (p.f16) {
        unsigned short h;
        asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(v));
        ((unsigned short*)p.dst)[idx] = h;
    } else {
        ((float*)p.dst)[idx] = v;
    }
}

extern "C" __global__ void redline_preprocess(RedlinePreprocessParams p) {
    int ox = blockIdx.x * blockDim.x + threadIdx.x;
    int oy = blockIdx.y * blockDim.y + threadIdx.y;
    if (ox >= p.dst_w || oy >= p.dst_h) return;
    float rgb[3];
    int dx = ox - p.roi_x, dy = oy - p.roi_y;
    if (dx < 0 || dy < 0 || dx >= p.roi_w || dy >= p.roi_h) {
        rgb[0] = p.pad; rgb[1] = p.pad; rgb[2] = p.pad;
    } else {
        int x0, x1, y0, y1;
        float ax, ay;
        redline_axis(dx, p.src_per_dst_x, p.src_w, &x0, &x1, &ax);
        redline_axis(dy, p.src_per_dst_y, p.src_h, &y0, &y1, &ay);
        float a[3], b[3], c[3], d[3];
        redline_load_rgb(p, x0, y0, a);
        redline_load_rgb(p, x1, y0, b);
        redline_load_rgb(p, x0, y1, c);
        redline_load_rgb(p, x1, y1, d);
        for (int k = 0; k < 3; ++k) {
            float top = a[k] + (b[k] - a[k]) * ax;
            float bottom = c[k] + (d[k] - c[k]) * ax;
            rgb[k] = top + (bottom - top) * ay;
        }
    }
    size_t plane = (size_t)p.dst_w * (size_t)p.dst_h;
    size_t pixel = (size_t)oy * (size_t)p.dst_w + (size_t)ox;
    for (int c = 0; c < 3; ++c) {
        float v = rgb[p.bgr_out ? 2 - c : c] * p.mul[c] + p.add[c];
        redline_store(p, p.nhwc ? pixel * 3 + c : (size_t)c * plane + pixel, v);
    }
}
