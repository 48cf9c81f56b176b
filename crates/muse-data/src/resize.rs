//! Resampling a whole data set to a new square side (the 64 px Fashion-MNIST stand-in for the
//! paper's high-resolution setting).

use image::imageops::FilterType;
use image::{GrayImage, imageops};

use crate::dataset::ImageDataset;
use crate::error::DataError;

impl ImageDataset {
    /// Every image resized to `side × side` with bilinear (triangle) filtering, channel by
    /// channel; labels and class names are kept.
    pub fn resized(&self, side: usize) -> Result<ImageDataset, DataError> {
        let [c, h, w] = self.shape();
        if side == 0 || side > 4096 {
            return Err(DataError::InvalidArgument(format!(
                "cannot resize to {side} px (1..=4096)"
            )));
        }
        if (h, w) == (side, side) {
            return Ok(self.clone());
        }
        let mut pixels = Vec::with_capacity(self.len() * c * side * side);
        for i in 0..self.len() {
            let (image, _) = self.get(i).expect("index below len");
            for plane in image.chunks_exact(h * w) {
                let gray = GrayImage::from_raw(w as u32, h as u32, plane.to_vec())
                    .expect("plane has h·w bytes");
                let big = imageops::resize(&gray, side as u32, side as u32, FilterType::Triangle);
                pixels.extend_from_slice(big.as_raw());
            }
        }
        ImageDataset::new(
            pixels,
            self.labels().to_vec(),
            [c, side, side],
            self.class_names().to_vec(),
            self.source().to_path_buf(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upsampling_keeps_labels_and_constant_images_and_doubles_the_side() {
        // Two 1×2×2 images: a constant 100 and a left/right split 0 | 200.
        let d = ImageDataset::new(
            vec![100, 100, 100, 100, 0, 200, 0, 200],
            vec![1, 0],
            [1, 2, 2],
            vec!["a".into(), "b".into()],
            "mem".into(),
        )
        .unwrap();
        let r = d.resized(4).unwrap();
        assert_eq!(r.shape(), [1, 4, 4]);
        assert_eq!(r.labels(), &[1, 0]);
        assert!(r.get(0).unwrap().0.iter().all(|&v| v == 100));
        let row: Vec<u8> = r.get(1).unwrap().0[..4].to_vec();
        assert!(
            row[0] < row[1] && row[1] < row[2] && row[2] < row[3],
            "{row:?}"
        );
        assert!(matches!(d.resized(0), Err(DataError::InvalidArgument(_))));
    }
}
