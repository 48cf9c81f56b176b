//! Sample order for an epoch: sequential, or shuffled reproducibly from a seed.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// Indices `0..n` in a random order fixed by `seed`.
pub fn shuffled_indices(n: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut StdRng::seed_from_u64(seed));
    order
}

/// The batches of one pass over `n` samples: `batch_size` indices each (the last one may be
/// shorter unless `drop_last`), in order or shuffled by `seed`.
pub fn batch_indices(
    n: usize,
    batch_size: usize,
    shuffle_seed: Option<u64>,
    drop_last: bool,
) -> Vec<Vec<usize>> {
    if batch_size == 0 {
        return Vec::new();
    }
    let order = match shuffle_seed {
        Some(seed) => shuffled_indices(n, seed),
        None => (0..n).collect(),
    };
    order
        .chunks(batch_size)
        .filter(|c| !drop_last || c.len() == batch_size)
        .map(<[usize]>::to_vec)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffling_is_a_permutation_fixed_by_the_seed() {
        let a = shuffled_indices(100, 7);
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        assert_eq!(a, shuffled_indices(100, 7));
        assert_ne!(a, shuffled_indices(100, 8));
        assert_ne!(a, sorted);
    }

    #[test]
    fn batches_cover_every_sample_once() {
        let b = batch_indices(10, 4, None, false);
        assert_eq!(b, vec![vec![0, 1, 2, 3], vec![4, 5, 6, 7], vec![8, 9]]);
        assert_eq!(batch_indices(10, 4, None, true).len(), 2);
        let mut all: Vec<usize> = batch_indices(10, 3, Some(1), false).concat();
        all.sort();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        assert!(batch_indices(10, 0, None, false).is_empty());
    }
}
