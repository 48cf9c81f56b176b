//! The subset of a HuggingFace BERT `config.json` the encoder needs, checked on load.

use std::path::Path;

use serde::Deserialize;

use crate::error::TextError;

/// Dimensions of a BERT encoder, as in HuggingFace's `config.json`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BertConfig {
    /// Tokens in the vocabulary.
    pub vocab_size: usize,
    /// Width of every hidden state (384 for MiniLM-L6).
    pub hidden_size: usize,
    /// Transformer layers.
    pub num_hidden_layers: usize,
    /// Attention heads per layer; must divide `hidden_size`.
    pub num_attention_heads: usize,
    /// Width of the feed-forward block.
    pub intermediate_size: usize,
    /// Longest input in tokens (position embeddings).
    pub max_position_embeddings: usize,
    /// Segment types (2 for BERT).
    pub type_vocab_size: usize,
    /// LayerNorm epsilon.
    pub layer_norm_eps: f64,
    /// The feed-forward activation; only the exact (erf) `gelu` is implemented.
    #[serde(default = "default_act")]
    pub hidden_act: String,
}

fn default_act() -> String {
    "gelu".into()
}

impl BertConfig {
    /// Reads and checks `config.json`.
    pub fn from_file(path: &Path) -> Result<Self, TextError> {
        let bad = |reason: String| TextError::Config {
            path: path.to_path_buf(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|source| TextError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let config: Self = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        config.check().map_err(bad)?;
        Ok(config)
    }

    /// Names the first field that this encoder cannot run.
    pub fn check(&self) -> Result<(), String> {
        if self.hidden_act != "gelu" {
            return Err(format!(
                "hidden_act {:?} is not supported (only \"gelu\")",
                self.hidden_act
            ));
        }
        if self.num_attention_heads == 0
            || !self.hidden_size.is_multiple_of(self.num_attention_heads)
        {
            return Err(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                self.hidden_size, self.num_attention_heads
            ));
        }
        for (name, v) in [
            ("vocab_size", self.vocab_size),
            ("num_hidden_layers", self.num_hidden_layers),
            ("intermediate_size", self.intermediate_size),
            ("max_position_embeddings", self.max_position_embeddings),
            ("type_vocab_size", self.type_vocab_size),
        ] {
            if v == 0 {
                return Err(format!("{name} must be positive"));
            }
        }
        if self.layer_norm_eps.is_nan() || self.layer_norm_eps <= 0.0 {
            return Err(format!(
                "layer_norm_eps must be positive, got {}",
                self.layer_norm_eps
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minilm() -> BertConfig {
        serde_json::from_str(
            r#"{"vocab_size": 30522, "hidden_size": 384, "num_hidden_layers": 6,
                "num_attention_heads": 12, "intermediate_size": 1536,
                "max_position_embeddings": 512, "type_vocab_size": 2, "layer_norm_eps": 1e-12,
                "hidden_act": "gelu"}"#,
        )
        .unwrap()
    }

    #[test]
    fn the_minilm_config_passes_and_bad_fields_are_named() {
        assert_eq!(minilm().check(), Ok(()));
        let heads = BertConfig {
            num_attention_heads: 7,
            ..minilm()
        };
        assert!(heads.check().unwrap_err().contains("num_attention_heads 7"));
        let act = BertConfig {
            hidden_act: "relu".into(),
            ..minilm()
        };
        assert!(act.check().unwrap_err().contains("relu"));
        let eps = BertConfig {
            layer_norm_eps: f64::NAN,
            ..minilm()
        };
        assert!(eps.check().unwrap_err().contains("layer_norm_eps"));
    }

    #[test]
    fn a_missing_or_broken_model_folder_is_a_typed_error() {
        let dir = std::env::temp_dir().join(format!("muse-text-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let device = Default::default();
        let err = crate::TextEncoder::load(&dir, &device).unwrap_err();
        assert!(matches!(err, TextError::Io { .. }) && err.to_string().contains("config.json"));
        std::fs::write(dir.join("config.json"), "{\"hidden_size\": 3}").unwrap();
        let err = crate::TextEncoder::load(&dir, &device).unwrap_err();
        assert!(matches!(err, TextError::Config { .. }), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
