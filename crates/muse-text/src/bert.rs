//! A BERT encoder in Burn, with the module paths of HuggingFace's `BertModel` (so its
//! safetensors load with two renames, see [`crate::load`]).

use burn::module::Module;
use burn::nn::{Embedding, EmbeddingConfig, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::activation::{gelu, softmax};
use burn::tensor::{Device, Int, Tensor};

use crate::config::BertConfig;

/// Added to attention scores of padded keys: `exp` of it underflows to exactly 0, so a padded
/// batch gives the embeddings of the unpadded texts.
const MASKED: f32 = -1.0e9;

/// Token, position and segment embeddings, summed and normalised.
#[derive(Module, Debug)]
pub struct Embeddings {
    /// `[vocab, hidden]`.
    pub word_embeddings: Embedding,
    /// `[max_positions, hidden]`.
    pub position_embeddings: Embedding,
    /// `[type_vocab, hidden]`; every token here is segment 0.
    pub token_type_embeddings: Embedding,
    /// HF `LayerNorm`.
    pub layer_norm: LayerNorm,
}

/// Multi-head self-attention projections (HF `attention.self`).
#[derive(Module, Debug)]
pub struct SelfAttention {
    /// Query projection.
    pub query: Linear,
    /// Key projection.
    pub key: Linear,
    /// Value projection.
    pub value: Linear,
    heads: usize,
}

/// A dense layer, then residual add and LayerNorm (HF `attention.output` and `output`).
#[derive(Module, Debug)]
pub struct DenseResidualNorm {
    /// The projection.
    pub dense: Linear,
    /// HF `LayerNorm`.
    pub layer_norm: LayerNorm,
}

/// Self-attention and its output block.
#[derive(Module, Debug)]
pub struct Attention {
    /// HF `self` (a Rust keyword, hence the name).
    pub self_attn: SelfAttention,
    /// HF `output`.
    pub output: DenseResidualNorm,
}

/// The feed-forward expansion (HF `intermediate`).
#[derive(Module, Debug)]
pub struct Intermediate {
    /// `hidden → intermediate`, followed by exact GELU.
    pub dense: Linear,
}

/// One transformer layer (HF `encoder.layer.N`).
#[derive(Module, Debug)]
pub struct BertLayer {
    /// Attention block.
    pub attention: Attention,
    /// Feed-forward expansion.
    pub intermediate: Intermediate,
    /// Feed-forward projection back, residual, LayerNorm.
    pub output: DenseResidualNorm,
}

/// The stack of layers (HF `encoder`).
#[derive(Module, Debug)]
pub struct Encoder {
    /// HF `layer`.
    pub layer: Vec<BertLayer>,
}

/// A BERT encoder without pooler: token ids in, last hidden states out.
#[derive(Module, Debug)]
pub struct Bert {
    /// Input embeddings.
    pub embeddings: Embeddings,
    /// Transformer layers.
    pub encoder: Encoder,
}

impl Bert {
    /// A randomly initialised encoder of the given dimensions (weights are loaded over it).
    pub fn new(config: &BertConfig, device: &Device) -> Self {
        let h = config.hidden_size;
        let norm = || {
            LayerNormConfig::new(h)
                .with_epsilon(config.layer_norm_eps)
                .init(device)
        };
        let dense_norm = |d_in| DenseResidualNorm {
            dense: LinearConfig::new(d_in, h).init(device),
            layer_norm: norm(),
        };
        let layer = (0..config.num_hidden_layers)
            .map(|_| BertLayer {
                attention: Attention {
                    self_attn: SelfAttention {
                        query: LinearConfig::new(h, h).init(device),
                        key: LinearConfig::new(h, h).init(device),
                        value: LinearConfig::new(h, h).init(device),
                        heads: config.num_attention_heads,
                    },
                    output: dense_norm(h),
                },
                intermediate: Intermediate {
                    dense: LinearConfig::new(h, config.intermediate_size).init(device),
                },
                output: dense_norm(config.intermediate_size),
            })
            .collect();
        Self {
            embeddings: Embeddings {
                word_embeddings: EmbeddingConfig::new(config.vocab_size, h).init(device),
                position_embeddings: EmbeddingConfig::new(config.max_position_embeddings, h)
                    .init(device),
                token_type_embeddings: EmbeddingConfig::new(config.type_vocab_size, h).init(device),
                layer_norm: norm(),
            },
            encoder: Encoder { layer },
        }
    }

    /// Last hidden states.
    ///
    /// # Shapes
    /// - `ids`: `[batch, len]` token ids
    /// - `mask`: `[batch, len]`, 1 for tokens and 0 for padding
    /// - output: `[batch, len, hidden]`
    pub fn forward(&self, ids: Tensor<2, Int>, mask: Tensor<2>) -> Tensor<3> {
        let [batch, len] = ids.dims();
        let device = ids.device();
        let positions = Tensor::<1, Int>::arange(0..len as i64, &device).reshape([1, len]);
        let segments = Tensor::<2, Int>::zeros([batch, len], &device);
        let e = &self.embeddings;
        let x = e.word_embeddings.forward(ids)
            + e.position_embeddings.forward(positions)
            + e.token_type_embeddings.forward(segments);
        let mut x = e.layer_norm.forward(x);
        // [batch, 1, 1, len]: 0 where attended, MASKED where padded.
        let bias = ((mask.neg() + 1.0) * MASKED).reshape([batch, 1, 1, len]);
        for layer in &self.encoder.layer {
            x = layer.forward(x, bias.clone());
        }
        x
    }
}

impl BertLayer {
    /// # Shapes
    /// - `x`: `[batch, len, hidden]`, `bias`: `[batch, 1, 1, len]`
    /// - output: `[batch, len, hidden]`
    fn forward(&self, x: Tensor<3>, bias: Tensor<4>) -> Tensor<3> {
        let attended = self.attention.self_attn.forward(x.clone(), bias);
        let x = self.attention.output.forward(attended, x);
        let expanded = gelu(self.intermediate.dense.forward(x.clone()));
        self.output.forward(expanded, x)
    }
}

impl SelfAttention {
    /// Scaled dot-product attention over all heads.
    ///
    /// # Shapes
    /// - `x`: `[batch, len, hidden]`, `bias`: `[batch, 1, 1, len]`
    /// - output: `[batch, len, hidden]`
    fn forward(&self, x: Tensor<3>, bias: Tensor<4>) -> Tensor<3> {
        let [batch, len, hidden] = x.dims();
        let head_dim = hidden / self.heads;
        let split = |t: Tensor<3>| {
            t.reshape([batch, len, self.heads, head_dim])
                .swap_dims(1, 2)
        };
        let q = split(self.query.forward(x.clone()));
        let k = split(self.key.forward(x.clone()));
        let v = split(self.value.forward(x));
        let scores = q.matmul(k.swap_dims(2, 3)) / (head_dim as f64).sqrt() + bias;
        softmax(scores, 3)
            .matmul(v)
            .swap_dims(1, 2)
            .reshape([batch, len, hidden])
    }
}

impl DenseResidualNorm {
    /// `LayerNorm(dense(x) + residual)`.
    ///
    /// # Shapes
    /// - `x`: `[batch, len, d_in]`, `residual`: `[batch, len, hidden]`
    /// - output: `[batch, len, hidden]`
    fn forward(&self, x: Tensor<3>, residual: Tensor<3>) -> Tensor<3> {
        self.layer_norm.forward(self.dense.forward(x) + residual)
    }
}
