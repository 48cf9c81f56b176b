//! Multi-resolution generation (paper Eq. 7): one generator and one batch size per
//! resolution `e ∈ E`, e.g. 20 and 28 px with batches 130 and 100.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::Device;

use crate::error::GeneratorError;
use crate::generator::{Generator, GeneratorConfig};

/// Resolutions and batch sizes of a [`GeneratorSet`].
#[derive(Config, Debug)]
pub struct GeneratorSetConfig {
    /// Output sides in pixels, each a multiple of 4.
    pub resolutions: Vec<usize>,
    /// Synthetic batch size of each resolution.
    pub batch_sizes: Vec<usize>,
    /// Everything else, shared; its `resolution` and `batch_size` are overridden.
    pub base: GeneratorConfig,
}

/// One generator per resolution.
#[derive(Module, Debug)]
pub struct GeneratorSet {
    /// The generators, in the order of the configured resolutions.
    pub generators: Vec<Generator>,
}

impl GeneratorSetConfig {
    /// Builds every generator, or names the bad field.
    pub fn init(&self, device: &Device) -> Result<GeneratorSet, GeneratorError> {
        if self.resolutions.is_empty() {
            return Err(GeneratorError::InvalidConfig {
                field: "resolutions",
                reason: "needs at least one resolution".into(),
            });
        }
        if self.resolutions.len() != self.batch_sizes.len() {
            return Err(GeneratorError::InvalidConfig {
                field: "batch_sizes",
                reason: format!(
                    "has {} entries for {} resolutions",
                    self.batch_sizes.len(),
                    self.resolutions.len()
                ),
            });
        }
        let generators = self
            .resolutions
            .iter()
            .zip(&self.batch_sizes)
            .map(|(&resolution, &batch_size)| {
                GeneratorConfig {
                    resolution,
                    batch_size,
                    ..self.base.clone()
                }
                .init(device)
            })
            .collect::<Result<_, _>>()?;
        Ok(GeneratorSet { generators })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Distribution, Tensor};

    #[test]
    fn one_generator_per_resolution_with_its_batch() {
        let device = muse_device::device();
        let base = GeneratorConfig::new(4, 2, 0, 1, 0)
            .with_ngf(2)
            .with_noise_dim(8);
        let set = GeneratorSetConfig::new(vec![8, 12], vec![6, 3], base.clone())
            .init(&device)
            .unwrap();
        let res: Vec<_> = set
            .generators
            .iter()
            .map(|g| (g.resolution(), g.max_batch()))
            .collect();
        assert_eq!(res, vec![(8, 6), (12, 4)]);
        let x = set.generators[1]
            .forward(Tensor::random([3, 4], Distribution::Default, &device))
            .unwrap();
        assert_eq!(x.dims(), [3, 1, 12, 12]);
        let err = GeneratorSetConfig::new(vec![8, 12], vec![6], base)
            .init(&device)
            .unwrap_err();
        assert!(err.to_string().contains("batch_sizes"), "{err}");
    }
}
