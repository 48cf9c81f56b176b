//! Nearest-neighbour ×2 upsampling of `f32` planes and its gradient, one pass each. Burn's
//! composition (reshape → expand → reshape) materialises the expanded view in a strided copy,
//! and its gradient is two strided sums over the enlarged tensor.

use rayon::prelude::*;

/// Each value of rows of `width` values repeated in a 2×2 block: row `r` of the input becomes
/// rows `2r` and `2r + 1` of the output, each of `2·width` values.
///
/// # Shapes
/// - `x`: `[planes, height, width]` flattened (any number of rows of `width`)
/// - output: `[planes, 2·height, 2·width]`
pub fn upsample2(x: &[f32], width: usize) -> Vec<f32> {
    let mut y = vec![0.0; x.len() * 4];
    if width == 0 {
        return y;
    }
    y.par_chunks_mut(4 * width)
        .zip(x.par_chunks(width))
        .for_each(|(out, row)| {
            let (top, bottom) = out.split_at_mut(2 * width);
            for (pair, &v) in top.chunks_exact_mut(2).zip(row) {
                pair[0] = v;
                pair[1] = v;
            }
            bottom.copy_from_slice(top);
        });
    y
}

/// Gradient of [`upsample2`]: each input value receives the sum of its 2×2 block.
///
/// # Shapes
/// - `dy`: `[planes, 2·height, 2·width]` flattened
/// - output: `[planes, height, width]`
pub fn upsample2_backward(dy: &[f32], width: usize) -> Vec<f32> {
    let mut dx = vec![0.0; dy.len() / 4];
    if width == 0 {
        return dx;
    }
    dx.par_chunks_mut(width)
        .zip(dy.par_chunks(4 * width))
        .for_each(|(d, rows)| {
            let (top, bottom) = rows.split_at(2 * width);
            for ((d, t), b) in d
                .iter_mut()
                .zip(top.chunks_exact(2))
                .zip(bottom.chunks_exact(2))
            {
                *d = (t[0] + t[1]) + (b[0] + b[1]);
            }
        });
    dx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_by_hand() {
        // Two planes of 1×2: [1, 2] and [3, 4].
        let y = upsample2(&[1.0, 2.0, 3.0, 4.0], 2);
        #[rustfmt::skip]
        let want = [
            1.0, 1.0, 2.0, 2.0,
            1.0, 1.0, 2.0, 2.0,
            3.0, 3.0, 4.0, 4.0,
            3.0, 3.0, 4.0, 4.0,
        ];
        assert_eq!(y, want);
        // The gradient of Σ w·y is the 2×2 block sums of w.
        let w: Vec<f32> = (0..16).map(|i| i as f32).collect();
        // Blocks of the first plane: (0+1+4+5), (2+3+6+7); second: (8+9+12+13), (10+11+14+15).
        assert_eq!(upsample2_backward(&w, 2), vec![10.0, 18.0, 42.0, 50.0]);
    }
}
