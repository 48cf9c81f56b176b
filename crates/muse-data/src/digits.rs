//! scikit-learn's `digits.csv.gz` (UCI optical digits): one row per image, 64 pixel values in
//! `0..=16` (8×8, row-major) then the class `0..=9`. Pixels are rescaled to `0..=255`.

use std::path::Path;

use crate::bytes::read_maybe_gz;
use crate::dataset::ImageDataset;
use crate::error::DataError;

const FIELDS: usize = 65;

/// Reads a digits CSV (gzip or plain).
pub fn load_digits(path: &Path) -> Result<ImageDataset, DataError> {
    let bytes = read_maybe_gz(path)?;
    let text = String::from_utf8_lossy(&bytes);
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != FIELDS {
            return Err(DataError::CsvWidth {
                path: path.to_path_buf(),
                line: line_no,
                expected: FIELDS,
                found: fields.len(),
            });
        }
        for (f, raw) in fields.iter().enumerate() {
            let (max, expected) = if f + 1 == FIELDS {
                (9, "a class in 0..=9")
            } else {
                (16, "a pixel value in 0..=16")
            };
            let value =
                parse_int(raw)
                    .filter(|v| *v <= max)
                    .ok_or_else(|| DataError::CsvValue {
                        path: path.to_path_buf(),
                        line: line_no,
                        field: f + 1,
                        value: raw.to_string(),
                        expected,
                    })?;
            if f + 1 == FIELDS {
                labels.push(value as usize);
            } else {
                pixels.push(((value * 255 + 8) / 16) as u8);
            }
        }
    }
    let names = (0..10).map(|d| d.to_string()).collect();
    ImageDataset::new(pixels, labels, [1, 8, 8], names, path.to_path_buf())
}

/// Parses `"3"` or `"3.0"` as 3; anything else (negative, fractional, text) is `None`.
fn parse_int(raw: &str) -> Option<u32> {
    let t = raw.trim();
    t.parse::<u32>().ok().or_else(|| {
        let f: f64 = t.parse().ok()?;
        (f >= 0.0 && f.fract() == 0.0 && f <= u32::MAX as f64).then_some(f as u32)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bytes::fixture;

    #[test]
    fn reads_gzip_and_plain_csv_and_rescales_pixels() {
        for f in ["digits/good.csv.gz", "digits/good.csv"] {
            let d = load_digits(&fixture(f)).unwrap();
            assert_eq!(
                (d.len(), d.shape(), d.labels()),
                (3, [1, 8, 8], &[4usize, 5, 6][..])
            );
            // row 1 pixel p = (1 + p) % 17: p = 0 -> 1 -> (255 + 8) / 16 = 16; p = 15 -> 16 -> 255
            let (px, _) = d.get(1).unwrap();
            assert_eq!((px[0], px[15], px[16]), (16, 255, 0));
        }
    }

    #[test]
    fn malformed_rows_are_named_errors() {
        let e = load_digits(&fixture("digits/short-row.csv"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("short-row.csv:2") && e.contains("expected 65") && e.contains("found 60"),
            "{e}"
        );
        let e = load_digits(&fixture("digits/bad-value.csv"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("bad-value.csv:1") && e.contains("`x`"), "{e}");
        let e = load_digits(&fixture("digits/pixel-too-big.csv"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("field 1") && e.contains("`17`"), "{e}");
    }
}
