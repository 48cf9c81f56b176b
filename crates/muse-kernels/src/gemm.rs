//! The one place this crate calls the `gemm` crate's `unsafe` entry point, behind a safe,
//! bounds-checked matrix product on slices.

/// A read-only strided matrix over a slice: element `(r, c)` is `data[r·row_stride + c·col_stride]`.
/// Transposing a view is swapping its strides; no data moves.
#[derive(Debug, Clone, Copy)]
pub struct MatRef<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a> MatRef<'a> {
    /// A row-major `rows × cols` matrix (row stride `cols`).
    pub fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self::strided(data, rows, cols, cols, 1)
    }

    /// A view with explicit strides.
    pub fn strided(
        data: &'a [f32],
        rows: usize,
        cols: usize,
        row_stride: usize,
        col_stride: usize,
    ) -> Self {
        Self {
            data,
            rows,
            cols,
            row_stride,
            col_stride,
        }
    }

    /// The transposed view.
    pub fn t(self) -> Self {
        Self::strided(
            self.data,
            self.cols,
            self.rows,
            self.col_stride,
            self.row_stride,
        )
    }

    /// Whether every element the view addresses lies inside its slice.
    fn in_bounds(&self) -> bool {
        if self.rows == 0 || self.cols == 0 {
            return true;
        }
        let last = (self.rows - 1)
            .checked_mul(self.row_stride)
            .zip((self.cols - 1).checked_mul(self.col_stride))
            .and_then(|(a, b)| a.checked_add(b));
        matches!(last, Some(l) if l < self.data.len())
    }
}

/// `dst = lhs · rhs` (or `dst += lhs · rhs` with `accumulate`), `dst` row-major `m × n`.
/// `parallel` lets the GEMM split the product over the rayon pool; leave it off inside an
/// already-parallel loop.
///
/// # Panics
/// When the shapes do not chain (`lhs` is `m × k`, `rhs` `k × n`) or a view reaches outside
/// its slice: callers build the views from tensor shapes they have checked, so either is a bug
/// in this crate, not bad user input.
pub fn matmul(dst: &mut [f32], lhs: MatRef<'_>, rhs: MatRef<'_>, accumulate: bool, parallel: bool) {
    let (m, k, n) = (lhs.rows, lhs.cols, rhs.cols);
    assert_eq!(rhs.rows, k, "matmul: inner dimensions differ");
    assert!(dst.len() >= m * n, "matmul: destination too small");
    assert!(
        lhs.in_bounds() && rhs.in_bounds(),
        "matmul: view outside its slice"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst[..m * n].fill(0.0);
        }
        return;
    }
    let parallelism = if parallel {
        gemm::Parallelism::Rayon(0)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: `dst` holds `m·n` elements addressed row-major (row stride `n`, column stride 1);
    // `lhs` and `rhs` address only elements inside their slices (checked above) with the
    // dimensions `m × k` and `k × n` passed; the three do not alias (`&mut` vs `&`).
    #[allow(unsafe_code)]
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.col_stride as isize,
            lhs.row_stride as isize,
            rhs.data.as_ptr(),
            rhs.col_stride as isize,
            rhs.row_stride as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_by_hand_plain_transposed_and_accumulated() {
        // [[1,2,3],[4,5,6]] · [[1,0],[0,1],[1,1]] = [[4,5],[10,11]]
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let b = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        let mut c = [0.0; 4];
        matmul(
            &mut c,
            MatRef::row_major(&a, 2, 3),
            MatRef::row_major(&b, 3, 2),
            false,
            false,
        );
        assert_eq!(c, [4.0, 5.0, 10.0, 11.0]);
        // aᵀ·a' with a' = a: [[1,4],[2,5],[3,6]]·[[1,2,3],[4,5,6]] → first row [17,22,27]
        let mut d = [0.0; 9];
        let at = MatRef::row_major(&a, 2, 3).t();
        matmul(&mut d, at, MatRef::row_major(&a, 2, 3), false, true);
        assert_eq!(&d[..3], &[17.0, 22.0, 27.0]);
        matmul(
            &mut c,
            MatRef::row_major(&a, 2, 3),
            MatRef::row_major(&b, 3, 2),
            true,
            false,
        );
        assert_eq!(c, [8.0, 10.0, 20.0, 22.0]);
    }

    #[test]
    #[should_panic(expected = "outside")]
    fn a_view_past_its_slice_is_refused_before_the_call() {
        let a = [1.0; 5];
        let mut c = [0.0; 4];
        matmul(
            &mut c,
            MatRef::row_major(&a, 2, 3),
            MatRef::row_major(&a, 3, 2),
            false,
            false,
        );
    }
}
