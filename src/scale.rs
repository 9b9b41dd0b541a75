//! Min–max scaling, the one implementation behind the readers' [−1, 1] scaling (BeatGAN's
//! beats, Orion's series) and the paper protocol's [0, 1] scaling of test scores (the
//! metrics and the report's histograms both use it, so they cannot drift apart).
//!
//! Pure arithmetic on slices: no knowledge of datasets, protocols or files.

/// The range of a set of values; a constant set (or an empty one) has none, and every
/// value then maps to 0 instead of dividing by a zero range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MinMax {
    lo: f64,
    range: f64,
}

impl MinMax {
    pub fn of(values: &[f64]) -> MinMax {
        let (lo, hi) = values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        MinMax { lo, range: hi - lo }
    }

    /// `(v − min) / (max − min)`: minimum → 0, maximum → 1.
    pub fn unit(&self, v: f64) -> f64 {
        if self.range > 0.0 {
            (v - self.lo) / self.range
        } else {
            0.0
        }
    }

    /// `2 (v − min) / (max − min) − 1`: minimum → −1, maximum → 1.
    pub fn symmetric(&self, v: f64) -> f64 {
        if self.range > 0.0 {
            2.0 * (v - self.lo) / self.range - 1.0
        } else {
            0.0
        }
    }
}

/// Every value scaled onto [0, 1].
pub fn unit(values: &[f64]) -> Vec<f64> {
    let m = MinMax::of(values);
    values.iter().map(|&v| m.unit(v)).collect()
}

/// Every value scaled onto [−1, 1], as `f32` windows hold them.
pub fn symmetric(values: &[f64]) -> Vec<f32> {
    let m = MinMax::of(values);
    values.iter().map(|&v| m.symmetric(v) as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_map_to_the_ends_and_a_flat_set_to_zero() {
        assert_eq!(unit(&[1.0, 2.0, 3.0]), vec![0.0, 0.5, 1.0]);
        assert_eq!(symmetric(&[1.0, 2.0, 3.0]), vec![-1.0, 0.0, 1.0]);
        assert_eq!(unit(&[0.3; 4]), vec![0.0; 4]);
        assert_eq!(symmetric(&[0.3; 4]), vec![0.0; 4]);
        assert!(unit(&[]).is_empty());
    }
}
