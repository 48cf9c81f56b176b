//! The synthetic-image pool of Algorithm 1: every kept batch, stored as `u8` at its own
//! resolution, within the data-ratio budget of paper Sec. 4.2 (METHOD.md §5):
//! resolution `e` holds at most `d_r · N_train · (l/e)² / |E|` images, so that every
//! resolution costs the same storage and compute as `d_r · N_train / |E|` native images.

use std::io::Read;
use std::path::Path;

use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::Rng;

use crate::error::EngineError;

const MAGIC: &[u8; 8] = b"MUSEPOOL";
const VERSION: u32 = 1;

/// Images of one resolution.
#[derive(Debug, Clone, PartialEq)]
pub struct Shard {
    /// Side in pixels.
    pub resolution: usize,
    /// Channels.
    pub channels: usize,
    /// Most images this shard may hold.
    pub capacity: usize,
    pixels: Vec<u8>,
    labels: Vec<u32>,
}

impl Shard {
    /// Number of images held.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when no image is held yet.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// True when the budget is used up.
    pub fn is_full(&self) -> bool {
        self.len() >= self.capacity
    }

    fn image_len(&self) -> usize {
        self.channels * self.resolution * self.resolution
    }

    /// The labels held, in insertion order.
    pub fn labels(&self) -> &[u32] {
        &self.labels
    }

    /// The images held, `u8` row-major `[len, channels, resolution, resolution]`.
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }
}

/// The capacity of each resolution for data ratio `ratio`, `n_train` real training images at
/// native side `native`, shared equally by `resolutions`.
pub fn pool_capacities(
    ratio: f64,
    n_train: usize,
    native: usize,
    resolutions: &[usize],
) -> Vec<usize> {
    let share = ratio * n_train as f64 / resolutions.len().max(1) as f64;
    resolutions
        .iter()
        .map(|&e| {
            let scale = native as f64 / e as f64;
            (share * scale * scale).floor() as usize
        })
        .collect()
}

/// All shards of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticPool {
    shards: Vec<Shard>,
}

impl SyntheticPool {
    /// An empty pool with one shard per `(resolution, capacity)`.
    pub fn new(channels: usize, resolutions: &[usize], capacities: &[usize]) -> Self {
        let shards = resolutions
            .iter()
            .zip(capacities)
            .map(|(&resolution, &capacity)| Shard {
                resolution,
                channels,
                capacity,
                pixels: Vec::new(),
                labels: Vec::new(),
            })
            .collect();
        Self { shards }
    }

    /// The shards, in resolution order of the config.
    pub fn shards(&self) -> &[Shard] {
        &self.shards
    }

    /// Total images held.
    pub fn len(&self) -> usize {
        self.shards.iter().map(Shard::len).sum()
    }

    /// True when no image is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when every shard is full (generation stops).
    pub fn is_full(&self) -> bool {
        self.shards.iter().all(Shard::is_full)
    }

    /// Stores a batch of `[0, 1]` images at shard `shard`, quantised to `u8`
    /// (`round(255·x)`, clamped), dropping what exceeds the capacity. Returns how many were kept.
    ///
    /// # Shapes
    /// - `images`: `[batch, channels, e, e]` with `e` the shard's resolution
    /// - `labels`: `batch` entries
    pub fn add(
        &mut self,
        shard: usize,
        images: Tensor<4>,
        labels: &[usize],
    ) -> Result<usize, EngineError> {
        let s = self
            .shards
            .get_mut(shard)
            .ok_or_else(|| EngineError::Mismatch(format!("pool has no shard {shard}")))?;
        let [b, c, h, w] = images.dims();
        if c != s.channels || h != s.resolution || w != s.resolution || b != labels.len() {
            return Err(EngineError::Mismatch(format!(
                "pool shard of {}x{}x{} got images {:?} with {} labels",
                s.channels,
                s.resolution,
                s.resolution,
                [b, c, h, w],
                labels.len()
            )));
        }
        let keep = b.min(s.capacity.saturating_sub(s.len()));
        if keep == 0 {
            return Ok(0);
        }
        let values = images
            .slice([0..keep, 0..c, 0..h, 0..w])
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .map_err(|e| EngineError::Mismatch(format!("images: {e:?}")))?;
        s.pixels.extend(values.iter().map(|&v| quantize(v)));
        s.labels.extend(labels[..keep].iter().map(|&l| l as u32));
        Ok(keep)
    }

    /// A random batch of `batch` images from one shard (chosen with probability proportional
    /// to its size), as `[0, 1]` floats with labels.
    pub fn sample(
        &self,
        batch: usize,
        rng: &mut impl Rng,
        device: &Device,
    ) -> Result<(usize, Tensor<4>, Tensor<1, Int>), EngineError> {
        let total = self.len();
        if total == 0 || batch == 0 {
            return Err(EngineError::Mismatch("sampling from an empty pool".into()));
        }
        let mut pick = rng.random_range(0..total);
        let shard = self
            .shards
            .iter()
            .position(|s| {
                if pick < s.len() {
                    true
                } else {
                    pick -= s.len();
                    false
                }
            })
            .expect("pick below total");
        let s = &self.shards[shard];
        let n = s.image_len();
        let mut values = Vec::with_capacity(batch * n);
        let mut labels = Vec::with_capacity(batch);
        for _ in 0..batch.min(s.len()) {
            let i = rng.random_range(0..s.len());
            values.extend(
                s.pixels[i * n..(i + 1) * n]
                    .iter()
                    .map(|&p| p as f32 / 255.0),
            );
            labels.push(s.labels[i] as i64);
        }
        let b = labels.len();
        let e = s.resolution;
        let images = Tensor::from_data(TensorData::new(values, [b, s.channels, e, e]), device);
        let labels = Tensor::from_data(TensorData::new(labels, [b]), device);
        Ok((shard, images, labels))
    }

    /// Writes the pool to `path` atomically (temporary file, then rename), with a checksum.
    pub fn save(&self, path: &Path) -> Result<(), EngineError> {
        let mut buf = Vec::new();
        buf.extend_from_slice(MAGIC);
        buf.extend_from_slice(&VERSION.to_le_bytes());
        buf.extend_from_slice(&(self.shards.len() as u32).to_le_bytes());
        for s in &self.shards {
            for v in [s.resolution, s.channels, s.capacity, s.len()] {
                buf.extend_from_slice(&(v as u64).to_le_bytes());
            }
            for l in &s.labels {
                buf.extend_from_slice(&l.to_le_bytes());
            }
            buf.extend_from_slice(&s.pixels);
        }
        let crc = crc32fast::hash(&buf);
        buf.extend_from_slice(&crc.to_le_bytes());
        crate::atomic::write_atomic(path, &buf)
    }

    /// Reads a pool written by [`save`](Self::save); a truncated or corrupted file is an error
    /// naming it.
    pub fn load(path: &Path) -> Result<Self, EngineError> {
        let corrupt = |what: &str| EngineError::Corrupt {
            path: path.to_path_buf(),
            what: what.to_string(),
        };
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(|source| EngineError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        if bytes.len() < MAGIC.len() + 12 || &bytes[..8] != MAGIC {
            return Err(corrupt("not a MUSE pool file"));
        }
        let (body, crc) = bytes.split_at(bytes.len() - 4);
        if crc32fast::hash(body).to_le_bytes() != crc {
            return Err(corrupt("checksum mismatch (truncated or corrupted)"));
        }
        let mut r = Reader { bytes: body, at: 8 };
        let version = r.u32().ok_or_else(|| corrupt("short header"))?;
        if version != VERSION {
            return Err(corrupt(&format!("unsupported version {version}")));
        }
        let n = r.u32().ok_or_else(|| corrupt("short header"))? as usize;
        let mut shards = Vec::with_capacity(n);
        for _ in 0..n {
            let mut v = [0usize; 4];
            for x in &mut v {
                *x = r.u64().ok_or_else(|| corrupt("short shard header"))? as usize;
            }
            let [resolution, channels, capacity, count] = v;
            let labels = (0..count)
                .map(|_| r.u32())
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| corrupt("short labels"))?;
            let len = count * channels * resolution * resolution;
            let pixels = r.take(len).ok_or_else(|| corrupt("short pixels"))?.to_vec();
            shards.push(Shard {
                resolution,
                channels,
                capacity,
                pixels,
                labels,
            });
        }
        if r.at != body.len() {
            return Err(corrupt("trailing bytes"));
        }
        Ok(Self { shards })
    }
}

/// `round(255·x)` clamped to `0..=255`.
pub fn quantize(x: f32) -> u8 {
    (x * 255.0).round().clamp(0.0, 255.0) as u8
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let s = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(s)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn budget_follows_the_data_ratio_rule() {
        // 5% of 60,000 at 28 px: 3,000 native images; two resolutions share it.
        // 20 px: 1,500 · (28/20)² = 2,940; 28 px: 1,500.
        assert_eq!(
            pool_capacities(0.05, 60_000, 28, &[20, 28]),
            vec![2940, 1500]
        );
        assert_eq!(pool_capacities(0.01, 60_000, 28, &[28]), vec![600]);
    }

    #[test]
    fn add_quantises_and_respects_capacity() {
        let device = muse_device::device();
        let mut pool = SyntheticPool::new(1, &[2], &[3]);
        let x = Tensor::<4>::from_data(
            TensorData::new(
                vec![
                    0.0f32, 0.5, 1.0, 0.2, 0.1, 0.9, 1.2, -0.3, 0.3, 0.3, 0.3, 0.3, 0.0, 0.0, 0.0,
                    0.0,
                ],
                [4, 1, 2, 2],
            ),
            &device,
        );
        assert_eq!(pool.add(0, x.clone(), &[0, 1, 2, 3]).unwrap(), 3);
        assert!(pool.is_full());
        assert_eq!(pool.add(0, x, &[0, 1, 2, 3]).unwrap(), 0);
        let s = &pool.shards()[0];
        // round(255·[0, .5, 1, .2]) = [0, 128, 255, 51]; 1.2 and −0.3 clamp to 255 and 0.
        assert_eq!(&s.pixels[..8], &[0, 128, 255, 51, 26, 230, 255, 0]);
        assert_eq!(s.labels(), &[0, 1, 2]);
        assert!(
            pool.add(0, Tensor::zeros([1, 1, 3, 3], &device), &[0])
                .is_err()
        );
    }

    #[test]
    fn sample_returns_stored_images_of_one_resolution() {
        let device = muse_device::device();
        let mut pool = SyntheticPool::new(1, &[2, 4], &[10, 10]);
        pool.add(0, Tensor::full([2, 1, 2, 2], 1.0, &device), &[5, 5])
            .unwrap();
        pool.add(1, Tensor::zeros([3, 1, 4, 4], &device), &[7, 7, 7])
            .unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(0);
        let mut seen = [false; 2];
        for _ in 0..20 {
            let (shard, x, y) = pool.sample(4, &mut rng, &device).unwrap();
            seen[shard] = true;
            let labels = y
                .into_data()
                .convert::<i64>()
                .try_into_vec::<i64>()
                .unwrap();
            let sum: f32 = x.clone().sum().into_scalar();
            match shard {
                0 => assert!(x.dims() == [2, 1, 2, 2] && labels == [5, 5] && sum == 8.0),
                _ => assert!(x.dims() == [3, 1, 4, 4] && labels == [7, 7, 7] && sum == 0.0),
            }
        }
        assert_eq!(seen, [true, true]);
    }

    #[test]
    fn save_load_round_trip_and_corruption_is_detected() {
        let device = muse_device::device();
        let mut pool = SyntheticPool::new(3, &[4], &[5]);
        pool.add(
            0,
            Tensor::random([2, 3, 4, 4], burn::tensor::Distribution::Default, &device),
            &[1, 2],
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pool.bin");
        pool.save(&path).unwrap();
        assert_eq!(SyntheticPool::load(&path).unwrap(), pool);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[40] ^= 0xff;
        let bad = dir.path().join("flipped.bin");
        std::fs::write(&bad, &bytes).unwrap();
        let err = SyntheticPool::load(&bad).unwrap_err().to_string();
        assert!(
            err.contains("flipped.bin") && err.contains("checksum"),
            "{err}"
        );
        let short = dir.path().join("short.bin");
        std::fs::write(&short, &bytes[..20]).unwrap();
        assert!(SyntheticPool::load(&short).is_err());
    }
}
