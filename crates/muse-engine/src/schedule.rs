//! The student's per-epoch learning-rate factor (paper App. A.3, METHOD.md §5): linear warm-up
//! over the first 10% of epochs, then cosine decay to zero.

/// The factor multiplying the base learning rate at `epoch` (0-based) of `epochs`.
pub fn warmup_cosine(epoch: usize, epochs: usize, warmup_fraction: f64) -> f64 {
    let warmup = ((epochs as f64) * warmup_fraction).round() as usize;
    if epoch < warmup {
        return (epoch + 1) as f64 / warmup as f64;
    }
    let span = epochs.saturating_sub(warmup).max(1) as f64;
    let t = (epoch - warmup) as f64 / span;
    0.5 * (1.0 + (std::f64::consts::PI * t).cos())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_then_cosine_by_hand() {
        // 20 epochs, 10% warm-up: epochs 0 and 1 at 1/2 and 1, then cosine over 18 epochs.
        assert_eq!(warmup_cosine(0, 20, 0.1), 0.5);
        assert_eq!(warmup_cosine(1, 20, 0.1), 1.0);
        assert_eq!(warmup_cosine(2, 20, 0.1), 1.0);
        assert!((warmup_cosine(11, 20, 0.1) - 0.5).abs() < 1e-12);
        assert!(warmup_cosine(19, 20, 0.1) < 0.01);
        // 5 epochs at 10%: round(0.5) = 1 (half away from zero), one warm-up epoch at 1/1.
        assert_eq!(warmup_cosine(0, 5, 0.1), 1.0);
        // No warm-up: cosine from the first epoch.
        assert_eq!(
            warmup_cosine(1, 5, 0.0),
            (0.5 * (1.0 + (std::f64::consts::PI / 5.0).cos()))
        );
    }
}
