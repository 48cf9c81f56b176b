//! IDX files (MNIST, Fashion-MNIST), raw or gzip-compressed.
//!
//! Format (big-endian): magic `0x00000801` then the count for label files (`u8` labels);
//! magic `0x00000803` then count, rows, columns for image files (`u8` pixels, row-major).

use std::path::Path;

use crate::bytes::{MAX_INFLATED, read_maybe_gz_sized};
use crate::dataset::ImageDataset;
use crate::error::DataError;

const LABELS_MAGIC: u32 = 0x0000_0801;
const IMAGES_MAGIC: u32 = 0x0000_0803;
const IMAGES: &str = "IDX images, u8, 3 dimensions";
const LABELS: &str = "IDX labels, u8, 1 dimension";

fn be_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// Checks the magic number and header of an IDX file (or of its first bytes) and returns the
/// header's length and the dimensions it announces.
fn header(
    path: &Path,
    bytes: &[u8],
    magic: u32,
    what: &'static str,
) -> Result<(usize, Vec<usize>), DataError> {
    let ndims = (magic & 0xff) as usize;
    let header = 4 + 4 * ndims;
    if bytes.len() < 4 {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            expected: 4,
            found: bytes.len(),
        });
    }
    let found = be_u32(bytes, 0);
    if found != magic {
        return Err(DataError::BadMagic {
            path: path.to_path_buf(),
            found,
            expected: magic,
            what,
        });
    }
    if bytes.len() < header {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            expected: header,
            found: bytes.len(),
        });
    }
    let dims = (0..ndims)
        .map(|d| be_u32(bytes, 4 + 4 * d) as usize)
        .collect();
    Ok((header, dims))
}

/// Checks the header of an IDX file and returns its dimensions and body.
fn parse<'a>(
    path: &Path,
    bytes: &'a [u8],
    magic: u32,
    what: &'static str,
) -> Result<(Vec<usize>, &'a [u8]), DataError> {
    let (header, dims) = header(path, bytes, magic, what)?;
    let body = &bytes[header..];
    let expected = announced(path, &dims)?;
    if body.len() < expected {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            expected,
            found: body.len(),
        });
    }
    Ok((dims, &body[..expected]))
}

/// The body size the header's dimensions announce, checked for overflow.
fn announced(path: &Path, dims: &[usize]) -> Result<usize, DataError> {
    dims.iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| DataError::TooLarge {
            path: path.to_path_buf(),
            what: format!("the header announces {dims:?} values, more than can be addressed"),
        })
}

/// The file's bytes, a gzip-compressed one inflated no further than its header announces (and
/// never beyond [`MAX_INFLATED`]); a bad header is refused before anything more is inflated.
fn read_idx(path: &Path, magic: u32, what: &'static str) -> Result<Vec<u8>, DataError> {
    read_maybe_gz_sized(path, |head| {
        let (header, dims) = header(path, head, magic, what)?;
        let announced = header as u64 + announced(path, &dims)? as u64;
        Ok(announced.min(MAX_INFLATED))
    })
}

/// Reads an IDX image file: `(count, height, width, pixels)`.
pub fn read_idx_images(path: &Path) -> Result<(usize, usize, usize, Vec<u8>), DataError> {
    let bytes = read_idx(path, IMAGES_MAGIC, IMAGES)?;
    let (dims, body) = parse(path, &bytes, IMAGES_MAGIC, IMAGES)?;
    Ok((dims[0], dims[1], dims[2], body.to_vec()))
}

/// Reads an IDX label file.
pub fn read_idx_labels(path: &Path) -> Result<Vec<u8>, DataError> {
    let bytes = read_idx(path, LABELS_MAGIC, LABELS)?;
    let (_, body) = parse(path, &bytes, LABELS_MAGIC, LABELS)?;
    Ok(body.to_vec())
}

/// Reads a pair of IDX files into a grey-scale data set.
pub fn load_idx(
    images: &Path,
    labels: &Path,
    class_names: Vec<String>,
) -> Result<ImageDataset, DataError> {
    idx_dataset(
        (images, &read_idx(images, IMAGES_MAGIC, IMAGES)?),
        (labels, &read_idx(labels, LABELS_MAGIC, LABELS)?),
        class_names,
    )
}

/// A grey-scale data set from the (uncompressed) bytes of an IDX image file and an IDX label
/// file, e.g. ones embedded in a binary; the paths only name them in errors.
pub fn idx_dataset(
    images: (&Path, &[u8]),
    labels: (&Path, &[u8]),
    class_names: Vec<String>,
) -> Result<ImageDataset, DataError> {
    let (dims, pixels) = parse(images.0, images.1, IMAGES_MAGIC, IMAGES)?;
    let (_, y) = parse(labels.0, labels.1, LABELS_MAGIC, LABELS)?;
    let (n, h, w) = (dims[0], dims[1], dims[2]);
    if y.len() != n {
        return Err(DataError::CountMismatch {
            images: images.0.to_path_buf(),
            n_images: n,
            labels: labels.0.to_path_buf(),
            n_labels: y.len(),
        });
    }
    ImageDataset::new(
        pixels.to_vec(),
        y.iter().map(|&l| usize::from(l)).collect(),
        [1, h, w],
        class_names,
        labels.0.to_path_buf(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bytes::fixture;

    fn names() -> Vec<String> {
        (0..3).map(|i| i.to_string()).collect()
    }

    #[test]
    fn reads_raw_and_gzip_pairs() {
        for (img, lab) in [
            ("idx/train-images-idx3-ubyte", "idx/train-labels-idx1-ubyte"),
            (
                "idx/t10k-images-idx3-ubyte.gz",
                "idx/t10k-labels-idx1-ubyte.gz",
            ),
        ] {
            let d = load_idx(&fixture(img), &fixture(lab), names()).unwrap();
            assert_eq!(d.len(), 3);
            assert_eq!(d.shape(), [1, 4, 5]);
            assert_eq!(d.labels(), &[2, 0, 1]);
            // pixel p of image i is (7i + p) mod 256
            let (px, _) = d.get(2).unwrap();
            assert_eq!(px[0], 14);
            assert_eq!(px[19], 33);
        }
    }

    #[test]
    fn malformed_files_are_named_errors() {
        let check = |err: DataError, file: &str, words: &str| {
            let s = err.to_string();
            assert!(s.contains(file) && s.contains(words), "{s}");
        };
        let e = read_idx_images(&fixture("idx-bad/bad-magic-images")).unwrap_err();
        check(e, "bad-magic-images", "bad magic number 0x00000801");
        let e = read_idx_images(&fixture("idx-bad/truncated-images")).unwrap_err();
        check(e, "truncated-images", "expected 60 bytes of data, found 53");
        let e = read_idx_images(&fixture("idx-bad/truncated-images.gz")).unwrap_err();
        check(e, "truncated-images.gz", "truncated");
        let e = read_idx_images(&fixture("idx-bad/truncated-header")).unwrap_err();
        check(e, "truncated-header", "truncated");
        let e = load_idx(
            &fixture("idx/train-images-idx3-ubyte"),
            &fixture("idx-bad/two-labels"),
            names(),
        )
        .unwrap_err();
        check(e, "two-labels", "3 images but");
        let e = read_idx_labels(&fixture("idx/no-such-file")).unwrap_err();
        check(e, "no-such-file", "No such file");
    }

    fn gz(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    fn header(dims: &[u32]) -> Vec<u8> {
        let mut h = IMAGES_MAGIC.to_be_bytes().to_vec();
        for d in dims {
            h.extend(d.to_be_bytes());
        }
        h
    }

    #[test]
    fn a_header_whose_size_overflows_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        // n = 4, h = w = 2^31: 4·h·w wraps to 0 in 64-bit arithmetic.
        let mut bytes = header(&[4, 1 << 31, 1 << 31]);
        bytes.extend([0u8; 16]);
        for (name, content) in [("raw", bytes.clone()), ("packed.gz", gz(&bytes))] {
            let path = dir.path().join(name);
            std::fs::write(&path, content).unwrap();
            let err = read_idx_images(&path).unwrap_err();
            assert!(matches!(err, DataError::TooLarge { .. }), "{err}");
            assert!(err.to_string().contains(name), "{err}");
        }
    }

    #[test]
    fn a_gzip_bomb_inflates_no_further_than_its_header_announces() {
        // Announces 2 images of 2x2 (4 + 12 + 8 bytes), inflates to 64 MiB (64 KiB packed).
        let mut bytes = header(&[2, 2, 2]);
        bytes.resize(64 << 20, 0);
        let packed = gz(&bytes);
        assert!(packed.len() < 200_000, "{}", packed.len());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bomb.gz");
        std::fs::write(&path, packed).unwrap();
        let err = read_idx_images(&path).unwrap_err();
        assert!(
            matches!(&err, DataError::TooLarge { what, .. } if what.contains("24 bytes")),
            "{err}"
        );
        // A wrong magic number is named before anything past the first bytes is inflated.
        bytes[3] = 0x01;
        std::fs::write(&path, gz(&bytes)).unwrap();
        let err = read_idx_images(&path).unwrap_err();
        assert!(matches!(err, DataError::BadMagic { .. }), "{err}");
        bytes[3] = 0x03;
        // Exactly what the header announces reads fine.
        bytes.truncate(24);
        std::fs::write(&path, gz(&bytes)).unwrap();
        let (n, h, w, px) = read_idx_images(&path).unwrap();
        assert_eq!((n, h, w, px.len()), (2, 2, 2, 8));
    }
}
