//! BERT text normalisation, as HuggingFace `tokenizers`' `BertNormalizer` does it for an uncased
//! model: drop control characters, map every whitespace to a space, put spaces around CJK
//! ideographs, decompose (NFD) and drop combining marks (accent stripping), lower-case.

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, GeneralCategoryGroup, UnicodeGeneralCategory};

/// Normalises `text` for an uncased BERT vocabulary (`do_lower_case`, accents stripped).
pub fn normalize(text: &str) -> String {
    let mut cleaned = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\0' || c == '\u{fffd}' || is_control(c) {
            continue;
        }
        if is_whitespace(c) {
            cleaned.push(' ');
        } else if is_cjk(c) {
            cleaned.push(' ');
            cleaned.push(c);
            cleaned.push(' ');
        } else {
            cleaned.push(c);
        }
    }
    cleaned
        .nfd()
        .filter(|&c| c.general_category() != GeneralCategory::NonspacingMark)
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whitespace as BERT sees it: space, tab, newline, carriage return and category `Zs`.
pub fn is_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r') || c.general_category() == GeneralCategory::SpaceSeparator
}

/// Control characters (categories `Cc`, `Cf`), except the whitespace ones.
fn is_control(c: char) -> bool {
    if matches!(c, '\t' | '\n' | '\r') {
        return false;
    }
    matches!(
        c.general_category(),
        GeneralCategory::Control | GeneralCategory::Format
    )
}

/// Punctuation as BERT sees it: every non-alphanumeric ASCII symbol (so `$`, `^`, `` ` `` count)
/// and every character of a Unicode `P*` category.
pub fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation() || c.general_category_group() == GeneralCategoryGroup::Punctuation
}

/// The CJK Unified Ideographs blocks that BERT splits into single-character words.
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2A6DF | 0x2A700..=0x2B73F
        | 0x2B740..=0x2B81F | 0x2B820..=0x2CEAF | 0xF900..=0xFAFF | 0x2F800..=0x2FA1F)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowercases_and_strips_accents() {
        assert_eq!(normalize("Crème BRÛLÉE"), "creme brulee");
    }

    #[test]
    fn whitespace_becomes_space_and_controls_vanish() {
        assert_eq!(normalize("a\tb\nc\u{0007}d\u{00a0}e"), "a b cd e");
    }

    #[test]
    fn cjk_characters_are_spaced() {
        assert_eq!(normalize("猫cat"), " 猫 cat");
    }

    #[test]
    fn punctuation_classes() {
        for c in ['/', '-', '$', '`', '¿', '—'] {
            assert!(is_punctuation(c), "{c}");
        }
        for c in ['a', '7', ' ', 'é'] {
            assert!(!is_punctuation(c), "{c}");
        }
    }
}
