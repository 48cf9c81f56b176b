//! WordPiece tokenisation (BERT): normalise, split on whitespace and punctuation, then split each
//! word greedily into the longest vocabulary pieces (`##` marks a continuation); a word that
//! cannot be split, or is longer than 100 characters, becomes `[UNK]`.

use std::collections::HashMap;
use std::path::Path;

use crate::error::TextError;
use crate::normalize::{is_punctuation, is_whitespace, normalize};

/// Words longer than this (in characters) become `[UNK]`, as in BERT.
const MAX_WORD_CHARS: usize = 100;

/// A WordPiece tokenizer over a BERT `vocab.txt` (one token per line, id = line number).
#[derive(Debug, Clone)]
pub struct WordPiece {
    ids: HashMap<String, u32>,
    unk: u32,
    cls: u32,
    sep: u32,
    pad: u32,
}

impl WordPiece {
    /// Reads `vocab.txt`.
    pub fn from_file(path: &Path) -> Result<Self, TextError> {
        let text = std::fs::read_to_string(path).map_err(|source| TextError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_vocab(text.lines()).map_err(|reason| TextError::Vocab {
            path: path.to_path_buf(),
            reason,
        })
    }

    /// Builds the tokenizer from the tokens in id order.
    pub fn from_vocab<'a>(tokens: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let ids: HashMap<String, u32> = tokens
            .into_iter()
            .enumerate()
            .map(|(i, t)| (t.to_string(), i as u32))
            .collect();
        let special = |name: &str| {
            ids.get(name)
                .copied()
                .ok_or_else(|| format!("the special token {name} is missing"))
        };
        Ok(Self {
            unk: special("[UNK]")?,
            cls: special("[CLS]")?,
            sep: special("[SEP]")?,
            pad: special("[PAD]")?,
            ids,
        })
    }

    /// The id of `[PAD]`.
    pub fn pad_id(&self) -> u32 {
        self.pad
    }

    /// The token ids of `text` without special tokens.
    pub fn tokenize(&self, text: &str) -> Vec<u32> {
        let mut out = Vec::new();
        for word in split_words(&normalize(text)) {
            self.push_word(&word, &mut out);
        }
        out
    }

    /// `[CLS] tokens [SEP]`, the tokens truncated so that the whole fits in `max_len`.
    pub fn encode(&self, text: &str, max_len: usize) -> Vec<u32> {
        let mut tokens = self.tokenize(text);
        tokens.truncate(max_len.saturating_sub(2));
        let mut ids = Vec::with_capacity(tokens.len() + 2);
        ids.push(self.cls);
        ids.extend(tokens);
        ids.push(self.sep);
        ids
    }

    fn push_word(&self, word: &str, out: &mut Vec<u32>) {
        let chars: Vec<char> = word.chars().collect();
        if chars.len() > MAX_WORD_CHARS {
            out.push(self.unk);
            return;
        }
        let mut pieces = Vec::new();
        let mut start = 0;
        while start < chars.len() {
            let mut end = chars.len();
            let mut found = None;
            while start < end {
                let mut piece: String = chars[start..end].iter().collect();
                if start > 0 {
                    piece.insert_str(0, "##");
                }
                if let Some(&id) = self.ids.get(&piece) {
                    found = Some(id);
                    break;
                }
                end -= 1;
            }
            match found {
                Some(id) => pieces.push(id),
                None => {
                    out.push(self.unk);
                    return;
                }
            }
            start = end;
        }
        out.extend(pieces);
    }
}

/// BERT's pre-tokenisation: split on whitespace, and make every punctuation character a word.
fn split_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if is_whitespace(c) || is_punctuation(c) {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            if is_punctuation(c) {
                words.push(c.to_string());
            }
        } else {
            current.push(c);
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> WordPiece {
        let vocab = [
            "[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able", "a", "/", "##b",
        ];
        WordPiece::from_vocab(vocab).unwrap()
    }

    #[test]
    fn greedy_longest_match_first() {
        // "unaffable" → un ##aff ##able, the example of the BERT paper's tokenizer.
        assert_eq!(toy().tokenize("Unaffable"), vec![4, 5, 6]);
    }

    #[test]
    fn unsplittable_word_is_one_unk() {
        assert_eq!(toy().tokenize("unx a"), vec![1, 7]);
    }

    #[test]
    fn punctuation_is_its_own_word() {
        assert_eq!(toy().tokenize("a/ab"), vec![7, 8, 7, 9]);
    }

    #[test]
    fn encode_adds_specials_and_truncates() {
        assert_eq!(toy().encode("a a a a", 4), vec![2, 7, 7, 3]);
    }

    #[test]
    fn missing_special_token_is_an_error() {
        let err = WordPiece::from_vocab(["[PAD]", "[UNK]", "[CLS]"]).unwrap_err();
        assert!(err.contains("[SEP]"), "{err}");
    }
}
