//! Bilinear sampling taps along one axis, OpenCV `INTER_LINEAR` style: destination index `d`
//! samples source coordinate `(d + 0.5) × src/dst − 0.5`, clamped to `[0, src − 1]`; no
//! antialiasing when downscaling. Computed once per (source size, destination size), in f64,
//! into storage reserved at start-up.

/// For each destination index: the two source indices and the weight of the second.
#[derive(Default, Debug)]
pub(crate) struct AxisTaps {
    pub first: Vec<u32>,
    pub second: Vec<u32>,
    pub weight: Vec<f32>,
    /// Every second-tap weight is zero: sampling is exact point sampling (odd integer
    /// downscale factors such as 1920 → 640, or equal sizes).
    pub point_sampling: bool,
}

impl AxisTaps {
    /// Empty taps with room for `len` destination samples, so that [`Self::rebuild`] for any
    /// destination size up to `len` allocates nothing.
    pub fn with_capacity(len: usize) -> Self {
        Self {
            first: Vec::with_capacity(len),
            second: Vec::with_capacity(len),
            weight: Vec::with_capacity(len),
            point_sampling: false,
        }
    }

    /// Recompute for `src` → `dst` samples (both ≥ 1). Reuses capacity: no allocation once the
    /// largest `dst` has been seen (or reserved with [`Self::with_capacity`]).
    pub fn rebuild(&mut self, src: u32, dst: u32) {
        self.first.clear();
        self.second.clear();
        self.weight.clear();
        let ratio = f64::from(src) / f64::from(dst);
        let last = f64::from(src.saturating_sub(1));
        for d in 0..dst {
            let coord = ((f64::from(d) + 0.5) * ratio - 0.5).clamp(0.0, last);
            let first = coord.floor();
            let i0 = first as u32;
            self.first.push(i0);
            self.second.push((i0 + 1).min(src.saturating_sub(1)));
            self.weight.push((coord - first) as f32);
        }
        self.point_sampling = self.weight.iter().all(|&w| w == 0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downscale_by_three_samples_the_middle_pixel() {
        let mut t = AxisTaps::default();
        t.rebuild(9, 3);
        assert_eq!(t.first, [1, 4, 7]);
        assert_eq!(t.weight, [0.0, 0.0, 0.0]);
        assert!(t.point_sampling);
    }

    #[test]
    fn upscale_clamps_at_both_borders() {
        let mut t = AxisTaps::default();
        t.rebuild(2, 4);
        // coords: -0.25 → 0, 0.25, 0.75, 1.25 → 1
        assert_eq!(t.first, [0, 0, 0, 1]);
        assert_eq!(t.second, [1, 1, 1, 1]);
        assert_eq!(t.weight, [0.0, 0.25, 0.75, 0.0]);
        assert!(!t.point_sampling);
    }

    #[test]
    fn non_integer_downscale_has_fractional_weights_in_range() {
        // 1920 → 416 (YOLOX-nano's 1080p ratio): every tap inside the row, weights in [0, 1).
        let mut t = AxisTaps::with_capacity(416);
        let capacity = t.first.capacity();
        t.rebuild(1920, 416);
        assert_eq!(
            t.first.capacity(),
            capacity,
            "rebuild within capacity reallocated"
        );
        assert!(!t.point_sampling);
        assert!(t.second.iter().all(|&i| i < 1920));
        assert!(t.weight.iter().all(|&w| (0.0..1.0).contains(&w)));
        assert!(t.first.windows(2).all(|p| p[0] <= p[1]));
    }
}
