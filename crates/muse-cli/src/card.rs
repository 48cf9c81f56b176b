//! A weights file's card against the flags that describe the same network: explicit flags win.

use std::path::Path;

use anyhow::Result;
use muse::engine::ModelCard;
use muse::models::Arch;

/// The card beside the weights `path`, as far as the flags leave it a say: an explicit
/// `--arch` (or width) wins over a card that disagrees, and over a same-stem JSON
/// that is not a card, each with a warning naming both.
pub fn card_unless_overridden(
    path: &Path,
    arch: Option<Arch>,
    width: Option<f64>,
) -> Result<Option<ModelCard>> {
    let card_path = ModelCard::path_for(path);
    match ModelCard::load_for(path) {
        Err(e) if arch.is_some() => {
            eprintln!(
                "warning: ignoring {} ({e}); using --arch",
                card_path.display()
            );
            Ok(None)
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!(
            "{} is read as the teacher's card; pass --arch (and --normalization) to ignore it",
            card_path.display()
        ))),
        Ok(Some(card))
            if arch.is_some_and(|a| a != card.arch)
                || width.is_some_and(|w| w != card.width_mult) =>
        {
            eprintln!(
                "warning: --arch {} (width {}) overrides {}, which describes a {} (width {}); \
                 the card's normalisation, resolution and class count are not used",
                arch.unwrap_or(card.arch).name(),
                width.unwrap_or(card.width_mult),
                card_path.display(),
                card.arch.name(),
                card.width_mult
            );
            Ok(None)
        }
        Ok(card) => Ok(card),
    }
}
