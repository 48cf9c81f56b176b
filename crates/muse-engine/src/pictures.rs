//! Pictures of a run, for people who would rather look than read: grids of synthetic images,
//! their class activation maps as heatmaps, and the accuracy curve. Pure drawing on `u8`
//! buffers (no fonts); PNG files are written atomically.

use std::path::Path;

use image::{ImageFormat, Rgb, RgbImage};

use crate::atomic::write_atomic;
use crate::error::EngineError;

/// Images to draw: `u8` `[n, channels, side, side]` with 1 or 3 channels.
#[derive(Debug, Clone, Copy)]
pub struct Images<'a> {
    /// Pixels, row-major `[n, channels, side, side]`.
    pub pixels: &'a [u8],
    /// Channels (1 = grey, 3 = RGB).
    pub channels: usize,
    /// Side in pixels.
    pub side: usize,
}

impl Images<'_> {
    fn count(&self) -> usize {
        self.pixels.len() / (self.channels * self.side * self.side).max(1)
    }

    fn rgb(&self, i: usize, y: usize, x: usize) -> [u8; 3] {
        let plane = self.side * self.side;
        let base = i * self.channels * plane + y * self.side + x;
        match self.channels {
            3 => [
                self.pixels[base],
                self.pixels[base + plane],
                self.pixels[base + 2 * plane],
            ],
            _ => [self.pixels[base]; 3],
        }
    }
}

/// A grid of `images`, `cols` per row, each scaled by an integer factor to `cell` pixels
/// (nearest neighbour), with a 2-pixel dark border; `overlay` (one value in `[0, 1]` per pixel
/// of each image, `[n, side, side]`) is blended in as a heatmap when given.
pub fn grid(images: Images<'_>, cols: usize, cell: usize, overlay: Option<&[f32]>) -> RgbImage {
    let n = images.count();
    let cols = cols.clamp(1, n.max(1));
    let rows = n.div_ceil(cols).max(1);
    let scale = (cell / images.side.max(1)).max(1);
    let size = images.side * scale;
    let pad = 2;
    let mut out = RgbImage::from_pixel(
        (cols * (size + pad) + pad) as u32,
        (rows * (size + pad) + pad) as u32,
        Rgb([32, 32, 32]),
    );
    let plane = images.side * images.side;
    for i in 0..n {
        let (r, c) = (i / cols, i % cols);
        let (ox, oy) = (pad + c * (size + pad), pad + r * (size + pad));
        for y in 0..size {
            for x in 0..size {
                let (sy, sx) = (y / scale, x / scale);
                let mut px = images.rgb(i, sy, sx);
                if let Some(heat) = overlay {
                    let h = heat[i * plane + sy * images.side + sx];
                    let grey = (px[0] as f32 + px[1] as f32 + px[2] as f32) / 3.0;
                    let hot = colormap(h);
                    for k in 0..3 {
                        px[k] = (0.45 * grey + 0.55 * hot[k] as f32).round() as u8;
                    }
                }
                out.put_pixel((ox + x) as u32, (oy + y) as u32, Rgb(px));
            }
        }
    }
    out
}

/// Blue → cyan → yellow → red for `t` in `[0, 1]`.
pub fn colormap(t: f32) -> [u8; 3] {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let stops = [
        [0.0, 0.0, 0.5],
        [0.0, 0.8, 1.0],
        [1.0, 1.0, 0.0],
        [0.9, 0.0, 0.0],
    ];
    let x = t * 3.0;
    let i = (x.floor() as usize).min(2);
    let f = x - i as f32;
    let mut out = [0u8; 3];
    for k in 0..3 {
        out[k] = ((stops[i][k] * (1.0 - f) + stops[i + 1][k] * f) * 255.0).round() as u8;
    }
    out
}

/// Nearest-neighbour upsampling of per-image maps `[n, h, w]` to `[n, side, side]`, each
/// rescaled to `[0, 1]` by its own minimum and maximum.
pub fn normalized_maps(maps: &[f32], n: usize, h: usize, w: usize, side: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(n * side * side);
    for m in maps.chunks_exact(h * w).take(n) {
        let lo = m.iter().copied().fold(f32::INFINITY, f32::min);
        let hi = m.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let span = if hi > lo { hi - lo } else { 1.0 };
        for y in 0..side {
            for x in 0..side {
                out.push((m[(y * h / side) * w + x * w / side] - lo) / span);
            }
        }
    }
    out
}

/// Writes `img` as a PNG at `path` (temporary file, then rename).
pub fn save_png(img: &RgbImage, path: &Path) -> Result<(), EngineError> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    img.write_to(&mut bytes, ImageFormat::Png)
        .map_err(|e| EngineError::Corrupt {
            path: path.to_path_buf(),
            what: format!("cannot encode PNG: {e}"),
        })?;
    write_atomic(path, bytes.get_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_places_scaled_images_in_rows_with_borders() {
        // Three grey 2×2 images: 0, 100, 200; two per row, scaled ×3 to 6 px cells.
        let mut px = vec![0u8; 4];
        px.extend([100u8; 4]);
        px.extend([200u8; 4]);
        let img = grid(
            Images {
                pixels: &px,
                channels: 1,
                side: 2,
            },
            2,
            6,
            None,
        );
        assert_eq!((img.width(), img.height()), (2 + 2 * 8, 2 + 2 * 8));
        assert_eq!(img.get_pixel(0, 0), &Rgb([32, 32, 32]), "border");
        assert_eq!(img.get_pixel(2, 2), &Rgb([0, 0, 0]), "first image");
        assert_eq!(
            img.get_pixel(10 + 5, 2 + 5),
            &Rgb([100; 3]),
            "second, last pixel"
        );
        assert_eq!(img.get_pixel(2, 10), &Rgb([200; 3]), "third, next row");
        assert_eq!(img.get_pixel(10, 10), &Rgb([32, 32, 32]), "empty cell");
    }

    #[test]
    fn colormap_ends_and_map_normalisation_by_hand() {
        assert_eq!(colormap(0.0), [0, 0, 128]);
        assert_eq!(colormap(1.0), [230, 0, 0]);
        assert_eq!(colormap(f32::NAN), colormap(0.0));
        // One 2×2 map [1, 3; 5, 9] upsampled to 4×4: (v − 1) / 8.
        let m = normalized_maps(&[1.0, 3.0, 5.0, 9.0], 1, 2, 2, 4);
        assert_eq!(m.len(), 16);
        assert_eq!((m[0], m[3], m[12], m[15]), (0.0, 0.25, 0.5, 1.0));
    }
}
