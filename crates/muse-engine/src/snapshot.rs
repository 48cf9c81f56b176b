//! What a run looks like after an epoch: per resolution, a grid of the newest synthetic images
//! and the same grid with the teacher's class activation map (for each image's own label)
//! laid over it.

use std::path::{Path, PathBuf};

use burn::tensor::{Int, Tensor, TensorData};
use muse_losses::class_activation_map;
use muse_models::{BnStats, Classifier};

use crate::distill::Distiller;
use crate::error::EngineError;
use crate::pictures::{Images, grid, normalized_maps, save_png};

/// Images per grid (one row per ten).
const SHOWN: usize = 40;

impl<T: Classifier, S: Classifier> Distiller<T, S> {
    /// Writes `images-<e>px.png` and `cam-<e>px.png` for every non-empty pool resolution into
    /// `dir`, prefixed by `prefix` (e.g. `epoch-003-`); returns the files written.
    pub fn write_pictures(&self, dir: &Path, prefix: &str) -> Result<Vec<PathBuf>, EngineError> {
        std::fs::create_dir_all(dir).map_err(|source| EngineError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let teacher = self.teacher().valid();
        let device = self.device().clone().inner();
        let mut written = Vec::new();
        for shard in self.pool().shards().iter().filter(|s| !s.is_empty()) {
            let (c, e) = (shard.channels, shard.resolution);
            let per = c * e * e;
            let n = shard.len().min(SHOWN);
            let start = shard.len() - n;
            let pixels = &shard.pixels()[start * per..];
            let labels: Vec<i64> = shard.labels()[start..].iter().map(|&l| l as i64).collect();
            let images = Images {
                pixels,
                channels: c,
                side: e,
            };
            let x = Tensor::<4>::from_data(
                TensorData::new(
                    pixels.iter().map(|&v| v as f32 / 255.0).collect(),
                    [n, c, e, e],
                ),
                &device,
            );
            let taps = teacher.forward_taps(self.normalization().apply(x)?, BnStats::Skip);
            let [_, _, h, w] = taps.feature_map.dims();
            let y = Tensor::<1, Int>::from_data(TensorData::new(labels, [n]), &device);
            let cam = class_activation_map(taps.feature_map, taps.classifier_weight, y)?
                .into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .map_err(|e| EngineError::Mismatch(format!("CAM values: {e:?}")))?;
            let heat = normalized_maps(&cam, n, h, w, e);
            for (name, overlay) in [("images", None), ("cam", Some(heat.as_slice()))] {
                let path = dir.join(format!("{prefix}{name}-{e}px.png"));
                save_png(&grid(images, 10, 64, overlay), &path)?;
                written.push(path);
            }
        }
        Ok(written)
    }
}
