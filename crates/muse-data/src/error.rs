//! Errors of the data readers. Every variant names the file it is about.

use std::path::PathBuf;

/// What can go wrong when reading a data set.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file or folder could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A folder the layout requires is not there.
    #[error("{path}: folder not found ({what})")]
    MissingFolder {
        /// The folder.
        path: PathBuf,
        /// What it should contain.
        what: String,
    },
    /// The file does not start with the magic number of its format.
    #[error("{path}: bad magic number 0x{found:08x}, expected 0x{expected:08x} ({what})")]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// The number found.
        found: u32,
        /// The number expected.
        expected: u32,
        /// What the file was expected to be.
        what: &'static str,
    },
    /// The file announces, or inflates to, more data than may be read.
    #[error("{path}: {what}")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// What is too large, with the numbers.
        what: String,
    },
    /// The file ends before the data its header announces.
    #[error("{path}: truncated: expected {expected} bytes of data, found {found}")]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Bytes the header announces.
        expected: usize,
        /// Bytes present.
        found: usize,
    },
    /// Image and label files disagree on the number of samples.
    #[error("{images} has {n_images} images but {labels} has {n_labels} labels")]
    CountMismatch {
        /// The image file.
        images: PathBuf,
        /// Its sample count.
        n_images: usize,
        /// The label file.
        labels: PathBuf,
        /// Its sample count.
        n_labels: usize,
    },
    /// A CSV row has the wrong number of fields.
    #[error("{path}:{line}: expected {expected} comma-separated fields, found {found}")]
    CsvWidth {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// Fields expected.
        expected: usize,
        /// Fields found.
        found: usize,
    },
    /// A CSV field is not a number in the allowed range.
    #[error("{path}:{line}: field {field}: `{value}` is not {expected}")]
    CsvValue {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// 1-based field number.
        field: usize,
        /// The text found.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
    /// An image file could not be decoded.
    #[error("{path}: unreadable image: {source}")]
    Image {
        /// The file.
        path: PathBuf,
        /// The decoder's error.
        #[source]
        source: image::ImageError,
    },
    /// A label is not below the number of classes.
    #[error("{path}: sample {index} has label {label}, but there are only {num_classes} classes")]
    LabelOutOfRange {
        /// The file.
        path: PathBuf,
        /// Sample index.
        index: usize,
        /// The label.
        label: usize,
        /// Number of classes.
        num_classes: usize,
    },
    /// A folder that exists but holds no images in a layout the readers know.
    #[error("{path}: holds no images ({what})")]
    NoImages {
        /// The folder.
        path: PathBuf,
        /// What was looked for.
        what: String,
    },
    /// The data set holds no sample.
    #[error("{path}: no samples found")]
    Empty {
        /// The file or folder.
        path: PathBuf,
    },
    /// A data set name that is neither built in nor an existing path.
    #[error("unknown data set `{name}`: not a built-in name ({known}) and no such file or folder")]
    UnknownDataset {
        /// The name given.
        name: String,
        /// The built-in names.
        known: String,
    },
    /// A built-in data set whose files are not installed on this machine.
    #[error("{name} not found; looked in: {looked}. {hint}")]
    NotInstalled {
        /// The data set.
        name: &'static str,
        /// Every place searched.
        looked: String,
        /// How to install it.
        hint: &'static str,
    },
    /// Arguments that do not fit the data (bad sizes, indices, parameters).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> DataError + '_ {
    move |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    }
}
