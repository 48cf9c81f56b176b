//! Scale-varied scenes: every item of a data set resized to a random side and placed at a random
//! position on a larger empty canvas, deterministically from a seed.
//!
//! MUSE's premise is that a teacher still recognises its classes in images of half its training
//! side, which holds for ImageNet because its objects appear at every scale. Fashion-MNIST items
//! always fill the frame; `fashion-mnist-scenes` (64 px canvas, items 20–64 px) gives them
//! ImageNet's scale variety while keeping the real labels (`docs/data.md`).

use image::imageops::FilterType;
use image::{GrayImage, imageops};

use crate::dataset::ImageDataset;
use crate::error::DataError;

/// How to build scenes from a data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SceneConfig {
    /// Side of the square canvas.
    pub canvas: usize,
    /// Smallest side an item is resized to (the largest is `canvas`).
    pub min_side: usize,
    /// Seed of the sides and positions; item `i`'s draws depend only on `seed` and `i`.
    pub seed: u64,
}

/// One item's placement: resized to `side × side`, its top-left corner at (`x`, `y`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// Side of the resized item.
    pub side: usize,
    /// Column of its left edge.
    pub x: usize,
    /// Row of its top edge.
    pub y: usize,
}

impl SceneConfig {
    /// Where item `index` goes: a side uniform in `min_side..=canvas`, then a position uniform
    /// over every place the item fits.
    pub fn placement(&self, index: usize) -> Placement {
        let mut state = self.seed ^ (index as u64).wrapping_mul(0xA076_1D64_78BD_642F);
        let side = self.min_side + uniform(&mut state, self.canvas - self.min_side + 1);
        let room = self.canvas - side + 1;
        let x = uniform(&mut state, room);
        let y = uniform(&mut state, room);
        Placement { side, x, y }
    }

    fn validate(&self, source: [usize; 3]) -> Result<(), DataError> {
        if !(1..=1024).contains(&self.canvas) || !(1..=self.canvas).contains(&self.min_side) {
            return Err(DataError::InvalidArgument(format!(
                "scene canvas {} px with items from {} px: need 1 <= min side <= canvas <= 1024",
                self.canvas, self.min_side
            )));
        }
        if source[0] != 1 {
            return Err(DataError::InvalidArgument(format!(
                "scenes are built from grey-scale items; this data set has {} channels",
                source[0]
            )));
        }
        Ok(())
    }
}

impl ImageDataset {
    /// Every item placed on an empty (zero) `canvas × canvas` image as
    /// [`SceneConfig::placement`] says, resized with bilinear (triangle) filtering; labels and
    /// class names are kept.
    pub fn scenes(&self, config: &SceneConfig) -> Result<ImageDataset, DataError> {
        let [c, h, w] = self.shape();
        config.validate([c, h, w])?;
        let n = config.canvas;
        let bytes = self
            .len()
            .checked_mul(n * n)
            .filter(|&b| b <= MAX_SCENE_BYTES)
            .ok_or_else(|| {
                DataError::InvalidArgument(format!(
                    "{} scenes of {n}x{n} px exceed the {} GiB this builds in memory",
                    self.len(),
                    MAX_SCENE_BYTES >> 30
                ))
            })?;
        let mut pixels = vec![0u8; bytes];
        for (i, scene) in pixels.chunks_exact_mut(n * n).enumerate() {
            let (image, _) = self.get(i).expect("index below len");
            let Placement { side, x, y } = config.placement(i);
            let item = GrayImage::from_raw(w as u32, h as u32, image.to_vec())
                .expect("a grey-scale item has h·w bytes");
            let item = imageops::resize(&item, side as u32, side as u32, FilterType::Triangle);
            for (row, line) in item.as_raw().chunks_exact(side).enumerate() {
                let start = (y + row) * n + x;
                scene[start..start + side].copy_from_slice(line);
            }
        }
        ImageDataset::new(
            pixels,
            self.labels().to_vec(),
            [1, n, n],
            self.class_names().to_vec(),
            self.source().to_path_buf(),
        )
    }
}

/// The most pixel bytes [`ImageDataset::scenes`] allocates (60,000 scenes of 64 px take 0.23 GiB).
const MAX_SCENE_BYTES: usize = 8 << 30;

/// A draw uniform in `0..n` (`n` ≥ 1) from a SplitMix64 stream: fixed here, so a data set built
/// from a seed is the same on every machine and with every `rand` version.
fn uniform(state: &mut u64, n: usize) -> usize {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    // Multiply-shift: the bias is below n / 2^64.
    ((z as u128 * n as u128) >> 64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items() -> ImageDataset {
        // Two 2×2 items: all 200, and all 100.
        ImageDataset::new(
            vec![200; 4].into_iter().chain(vec![100; 4]).collect(),
            vec![3, 7],
            [1, 2, 2],
            (0..10).map(|d| d.to_string()).collect(),
            "test".into(),
        )
        .unwrap()
    }

    #[test]
    fn an_item_lands_where_its_placement_says_and_nothing_else_is_drawn() {
        let config = SceneConfig {
            canvas: 6,
            min_side: 2,
            seed: 11,
        };
        let scenes = items().scenes(&config).unwrap();
        assert_eq!(scenes.shape(), [1, 6, 6]);
        assert_eq!(scenes.labels(), &[3, 7]);
        for (i, value) in [(0, 200u8), (1, 100)] {
            let Placement { side, x, y } = config.placement(i);
            assert!((2..=6).contains(&side) && x + side <= 6 && y + side <= 6);
            let (image, _) = scenes.get(i).unwrap();
            for r in 0..6 {
                for c in 0..6 {
                    let inside = (y..y + side).contains(&r) && (x..x + side).contains(&c);
                    // A constant image stays constant under bilinear resizing.
                    let want = if inside { value } else { 0 };
                    assert_eq!(image[r * 6 + c], want, "item {i} at ({r}, {c})");
                }
            }
        }
    }

    #[test]
    fn placements_are_fixed_by_the_seed_and_cover_every_side_and_position() {
        let a = SceneConfig {
            canvas: 64,
            min_side: 20,
            seed: 1,
        };
        let b = SceneConfig { seed: 2, ..a };
        assert_eq!(a.placement(5), a.placement(5));
        // Pinned values: a change to the stream would silently change the data set.
        assert_eq!(
            (0..3).map(|i| a.placement(i)).collect::<Vec<_>>(),
            PINNED.to_vec()
        );
        let draws: Vec<Placement> = (0..20_000).map(|i| a.placement(i)).collect();
        assert_ne!(
            draws[..100],
            (0..100).map(|i| b.placement(i)).collect::<Vec<_>>()[..]
        );
        let sides: std::collections::BTreeSet<usize> = draws.iter().map(|p| p.side).collect();
        assert_eq!(sides, (20..=64).collect());
        // Smallest items can sit anywhere in 0..=44 in both directions.
        let small: Vec<&Placement> = draws.iter().filter(|p| p.side == 20).collect();
        assert_eq!(small.iter().map(|p| p.x).max(), Some(44));
        assert_eq!(small.iter().map(|p| p.y).min(), Some(0));
        // Uniform sides: each of 45 values about 444 times in 20,000.
        let count = |s| draws.iter().filter(|p| p.side == s).count();
        assert!((350..540).contains(&count(20)) && (350..540).contains(&count(64)));
    }

    const PINNED: [Placement; 3] = [
        Placement {
            side: 45,
            x: 14,
            y: 19,
        },
        Placement {
            side: 37,
            x: 11,
            y: 18,
        },
        Placement {
            side: 42,
            x: 21,
            y: 14,
        },
    ];

    #[test]
    fn bad_configurations_are_refused() {
        let data = items();
        for (canvas, min_side) in [(0, 1), (6, 0), (6, 7), (2000, 20)] {
            let config = SceneConfig {
                canvas,
                min_side,
                seed: 0,
            };
            assert!(matches!(
                data.scenes(&config),
                Err(DataError::InvalidArgument(_))
            ));
        }
        // 9,000 items on a 1,024 px canvas would be 8.8 GiB: refused before allocating.
        let many = ImageDataset::new(
            vec![0; 9_000 * 4],
            vec![0; 9_000],
            [1, 2, 2],
            (0..10).map(|d| d.to_string()).collect(),
            "test".into(),
        )
        .unwrap();
        let config = SceneConfig {
            canvas: 1024,
            min_side: 2,
            seed: 0,
        };
        let err = many.scenes(&config).unwrap_err();
        assert!(err.to_string().contains("GiB"), "{err}");
    }
}
