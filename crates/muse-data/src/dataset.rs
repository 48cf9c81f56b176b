//! An in-memory labelled image set stored as `u8`, the format every reader produces.

use std::path::PathBuf;

use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::error::DataError;

/// Labelled images of one shape, stored as `u8` in `[N, C, H, W]` order.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageDataset {
    pixels: Vec<u8>,
    labels: Vec<usize>,
    shape: [usize; 3],
    class_names: Vec<String>,
    source: PathBuf,
}

impl ImageDataset {
    /// Builds a data set, checking that sizes and labels agree.
    ///
    /// `shape` is `[channels, height, width]`; `pixels.len()` must be
    /// `labels.len() · C · H · W` and every label below `class_names.len()`.
    pub fn new(
        pixels: Vec<u8>,
        labels: Vec<usize>,
        shape: [usize; 3],
        class_names: Vec<String>,
        source: PathBuf,
    ) -> Result<Self, DataError> {
        let per = shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .ok_or_else(|| {
                DataError::InvalidArgument(format!(
                    "{}: image shape {shape:?} is too large to address",
                    source.display()
                ))
            })?;
        if per == 0 {
            return Err(DataError::InvalidArgument(format!(
                "{}: image shape {shape:?} has a zero side",
                source.display()
            )));
        }
        if labels.len().checked_mul(per) != Some(pixels.len()) {
            return Err(DataError::InvalidArgument(format!(
                "{}: {} pixel bytes do not make {} images of shape {shape:?}",
                source.display(),
                pixels.len(),
                labels.len()
            )));
        }
        if labels.is_empty() {
            return Err(DataError::Empty { path: source });
        }
        if let Some((index, &label)) = labels
            .iter()
            .enumerate()
            .find(|(_, l)| **l >= class_names.len())
        {
            return Err(DataError::LabelOutOfRange {
                path: source,
                index,
                label,
                num_classes: class_names.len(),
            });
        }
        Ok(Self {
            pixels,
            labels,
            shape,
            class_names,
            source,
        })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Always false: a data set holds at least one sample.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// `[channels, height, width]`.
    pub fn shape(&self) -> [usize; 3] {
        self.shape
    }

    /// Number of classes.
    pub fn num_classes(&self) -> usize {
        self.class_names.len()
    }

    /// Class names, indexed by label.
    pub fn class_names(&self) -> &[String] {
        &self.class_names
    }

    /// Every label, in sample order.
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// Where the data came from.
    pub fn source(&self) -> &std::path::Path {
        &self.source
    }

    /// The pixels of sample `i` (`C·H·W` bytes) and its label.
    pub fn get(&self, i: usize) -> Option<(&[u8], usize)> {
        let per = self.shape.iter().product::<usize>();
        let label = *self.labels.get(i)?;
        Some((&self.pixels[i * per..(i + 1) * per], label))
    }

    /// [`get`](Self::get), with an out-of-range index as an error.
    fn checked(&self, i: usize) -> Result<(&[u8], usize), DataError> {
        self.get(i).ok_or_else(|| {
            DataError::InvalidArgument(format!(
                "index {i} is out of range for {} samples",
                self.len()
            ))
        })
    }

    /// A new data set with the samples at `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> Result<Self, DataError> {
        let per = self.shape.iter().product::<usize>();
        let mut pixels = Vec::with_capacity(indices.len() * per);
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            let (px, label) = self.checked(i)?;
            pixels.extend_from_slice(px);
            labels.push(label);
        }
        Self::new(
            pixels,
            labels,
            self.shape,
            self.class_names.clone(),
            self.source.clone(),
        )
    }

    /// The samples at `indices` as a float batch in `[0, 1]` and their labels.
    ///
    /// # Shapes
    /// - images: `[indices.len(), C, H, W]`
    /// - labels: `[indices.len()]`
    pub fn batch(
        &self,
        indices: &[usize],
        device: &Device,
    ) -> Result<(Tensor<4>, Tensor<1, Int>), DataError> {
        let per = self.shape.iter().product::<usize>();
        let mut values = Vec::with_capacity(indices.len() * per);
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            let (px, label) = self.checked(i)?;
            values.extend(px.iter().map(|&p| p as f32 / 255.0));
            labels.push(label as i64);
        }
        if indices.is_empty() {
            return Err(DataError::InvalidArgument("an empty batch".into()));
        }
        let [c, h, w] = self.shape;
        let images = Tensor::from_data(TensorData::new(values, [indices.len(), c, h, w]), device);
        let labels = Tensor::from_data(TensorData::new(labels, [indices.len()]), device);
        Ok((images, labels))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> ImageDataset {
        // Three 1×1×2 images.
        ImageDataset::new(
            vec![0, 255, 51, 102, 7, 8],
            vec![1, 0, 1],
            [1, 1, 2],
            vec!["a".into(), "b".into()],
            "tiny".into(),
        )
        .unwrap()
    }

    #[test]
    fn batch_scales_to_unit_range_and_keeps_order() {
        let device = muse_device::device();
        let (x, y) = tiny().batch(&[1, 0], &device).unwrap();
        assert_eq!(x.dims(), [2, 1, 1, 2]);
        let v = x.into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(v, vec![0.2, 0.4, 0.0, 1.0]);
        assert_eq!(
            y.into_data().convert::<i64>().try_to_vec::<i64>().unwrap(),
            vec![0, 1]
        );
    }

    #[test]
    fn inconsistent_sizes_and_labels_are_rejected() {
        let names = vec!["a".to_string()];
        assert!(
            ImageDataset::new(vec![0; 5], vec![0, 0], [1, 1, 2], names.clone(), "x".into())
                .is_err()
        );
        let err = ImageDataset::new(vec![0; 4], vec![0, 3], [1, 1, 2], names, "x".into())
            .unwrap_err()
            .to_string();
        assert!(err.contains("label 3"), "{err}");
    }

    #[test]
    fn subset_and_out_of_range_indices() {
        let d = tiny();
        let s = d.subset(&[2]).unwrap();
        assert_eq!(s.get(0).unwrap(), (&[7u8, 8][..], 1));
        assert!(d.subset(&[3]).is_err());
        assert!(d.batch(&[9], &muse_device::device()).is_err());
    }
}
