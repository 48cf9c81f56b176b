//! Reading whole files, transparently un-gzipping them.

use std::io::Read;
use std::path::Path;

use crate::error::{DataError, io};

/// The gzip magic bytes.
const GZIP: [u8; 2] = [0x1f, 0x8b];

/// The most a compressed data file may inflate to when its format announces no size (CIFAR
/// binaries, digits CSV): 1 GiB, six times CIFAR-100's training file. A gzip bomb stops here.
pub(crate) const MAX_INFLATED: u64 = 1 << 30;

/// The contents of `path`, decompressed when it starts with the gzip magic (whatever its name),
/// inflating at most [`MAX_INFLATED`] bytes.
pub(crate) fn read_maybe_gz(path: &Path) -> Result<Vec<u8>, DataError> {
    read_maybe_gz_sized(path, |_| Ok(MAX_INFLATED))
}

/// Like [`read_maybe_gz`], but a compressed file inflates to at most `limit(head)` bytes, where
/// `head` is its first (up to) 64 inflated bytes: a format whose header announces its size
/// bounds decompression by that size (`limit` checks the header and may refuse it). A file that
/// inflates beyond its limit is [`DataError::TooLarge`]; the excess is never allocated.
pub(crate) fn read_maybe_gz_sized(
    path: &Path,
    limit: impl FnOnce(&[u8]) -> Result<u64, DataError>,
) -> Result<Vec<u8>, DataError> {
    let raw = std::fs::read(path).map_err(io(path))?;
    if raw.len() < 2 || raw[..2] != GZIP {
        return Ok(raw);
    }
    let mut decoder = flate2::read::GzDecoder::new(&raw[..]);
    let mut out = Vec::new();
    (&mut decoder)
        .take(64)
        .read_to_end(&mut out)
        .map_err(io(path))?;
    let limit = limit(&out)?;
    if let Some(rest) = (limit + 1).checked_sub(out.len() as u64) {
        (&mut decoder)
            .take(rest)
            .read_to_end(&mut out)
            .map_err(io(path))?;
    }
    if out.len() as u64 > limit {
        return Err(DataError::TooLarge {
            path: path.to_path_buf(),
            what: format!("inflates to more than the {limit} bytes its format allows"),
        });
    }
    Ok(out)
}

/// Path of a committed test fixture.
#[cfg(test)]
pub(crate) fn fixture(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
}
