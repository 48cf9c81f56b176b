//! Reading whole files, transparently un-gzipping them.

use std::io::Read;
use std::path::Path;

use crate::error::{DataError, io};

/// The gzip magic bytes.
const GZIP: [u8; 2] = [0x1f, 0x8b];

/// The contents of `path`, decompressed when it starts with the gzip magic (whatever its name).
pub(crate) fn read_maybe_gz(path: &Path) -> Result<Vec<u8>, DataError> {
    let raw = std::fs::read(path).map_err(io(path))?;
    if raw.len() >= 2 && raw[..2] == GZIP {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(io(path))?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Path of a committed test fixture.
#[cfg(test)]
pub(crate) fn fixture(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
}
