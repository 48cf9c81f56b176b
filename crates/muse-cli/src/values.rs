//! The values enumerated flags take, as clap parsers: `--help` lists them and a wrong one is
//! refused by clap, with the list, before any work.

use std::ffi::OsStr;
use std::path::PathBuf;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::error::{ContextKind, ContextValue, ErrorKind};
use muse::data::Normalization;
use muse::engine::{Method, PRESETS};
use muse::models::Arch;

/// `--arch`, `--student-arch`: every architecture of the zoo.
pub fn arch() -> impl TypedValueParser<Value = Arch> {
    PossibleValuesParser::new(Arch::ALL.map(Arch::name)).try_map(|s| s.parse::<Arch>())
}

/// `--preset`: every named config.
pub fn preset() -> impl TypedValueParser<Value = String> {
    PossibleValuesParser::new(PRESETS.iter().map(|(name, _)| *name))
}

/// `--method`.
pub fn method() -> impl TypedValueParser<Value = Method> {
    PossibleValuesParser::new(["muse", "muse-s", "nayer"]).try_map(|s| {
        serde_json::from_value::<Method>(serde_json::Value::String(s)).map_err(|e| e.to_string())
    })
}

/// `muse export --format`.
pub fn export_format() -> impl TypedValueParser<Value = String> {
    PossibleValuesParser::new(["safetensors"])
}

/// `--normalization`: a preset, or explicit statistics (resolved against the channel count
/// once it is known).
#[derive(Debug, Clone, PartialEq)]
pub enum NormalizationArg {
    /// One of [`Normalization::NAMES`].
    Named(String),
    /// `MEAN,STD`, or the C means then the C standard deviations.
    Stats(Vec<f32>),
}

impl NormalizationArg {
    /// The normalisation for `channels` channels.
    pub fn resolve(&self, channels: usize) -> anyhow::Result<Normalization> {
        Ok(match self {
            Self::Named(name) => Normalization::parse(name, channels)?,
            Self::Stats(values) => Normalization::from_values(values, channels)?,
        })
    }
}

/// `--labels`: where the label embeddings come from.
#[derive(Debug, Clone, PartialEq)]
pub enum LabelsArg {
    /// Class names through all-MiniLM-L6-v2.
    Text,
    /// The teacher's class centres.
    ClassCenter,
    /// A matrix file (.safetensors, .npy, .json).
    File(PathBuf),
}

/// A parser whose listed values show in `--help` and which also takes a free form.
#[derive(Clone)]
pub struct ListedOr<T: Clone + Send + Sync + 'static> {
    listed: &'static [&'static str],
    parse: fn(&str) -> Result<T, String>,
}

impl<T: Clone + Send + Sync + 'static> TypedValueParser for ListedOr<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<T, clap::Error> {
        let text = value.to_string_lossy();
        (self.parse)(&text).map_err(|why| {
            let mut e = clap::Error::new(ErrorKind::ValueValidation).with_cmd(cmd);
            if let Some(arg) = arg {
                e.insert(
                    ContextKind::InvalidArg,
                    ContextValue::String(arg.to_string()),
                );
            }
            e.insert(
                ContextKind::InvalidValue,
                ContextValue::String(format!("{text}: {why}")),
            );
            e
        })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(self.listed.iter().map(|v| PossibleValue::new(*v))))
    }
}

/// `--normalization`: the preset names, or numbers.
pub fn normalization() -> ListedOr<NormalizationArg> {
    ListedOr {
        listed: &Normalization::NAMES,
        parse: |s| {
            if Normalization::NAMES.contains(&s) {
                return Ok(NormalizationArg::Named(s.to_string()));
            }
            s.split(',')
                .map(|v| v.trim().parse::<f32>())
                .collect::<Result<Vec<_>, _>>()
                .map(NormalizationArg::Stats)
                .map_err(|_| {
                    format!(
                        "neither a preset ({}) nor comma-separated numbers (MEAN,STD)",
                        Normalization::NAMES.join(", ")
                    )
                })
        },
    }
}

/// `--labels`: `text`, `class-center`, or a file.
pub fn labels() -> ListedOr<LabelsArg> {
    ListedOr {
        listed: &["text", "class-center"],
        parse: |s| {
            Ok(match s {
                "text" => LabelsArg::Text,
                "class-center" => LabelsArg::ClassCenter,
                path if path.ends_with(".safetensors")
                    || path.ends_with(".npy")
                    || path.ends_with(".json") =>
                {
                    LabelsArg::File(PathBuf::from(path))
                }
                _ => {
                    return Err(
                        "not `text`, `class-center`, or a .safetensors/.npy/.json matrix file"
                            .into(),
                    );
                }
            })
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Arg, Command};

    fn parse<T: Clone + Send + Sync + 'static>(
        parser: impl TypedValueParser<Value = T>,
        value: &str,
    ) -> Result<T, clap::Error> {
        Command::new("t")
            .arg(Arg::new("v").long("v").value_parser(parser))
            .try_get_matches_from(["t", "--v", value])
            .map(|m| m.get_one::<T>("v").unwrap().clone())
    }

    #[test]
    fn every_listed_value_parses_and_others_are_refused_with_the_list() {
        for a in Arch::ALL {
            assert_eq!(parse(arch(), a.name()).unwrap(), a);
        }
        for (name, _) in PRESETS {
            assert_eq!(parse(preset(), name).unwrap(), *name);
        }
        assert_eq!(parse(method(), "muse-s").unwrap(), Method::MuseS);
        assert_eq!(parse(method(), "nayer").unwrap(), Method::Nayer);
        let e = parse(arch(), "resnet9").unwrap_err().to_string();
        assert!(e.contains("wrn16-1") && e.contains("lenet5"), "{e}");
        assert!(parse(preset(), "fashion").is_err());
        assert!(parse(export_format(), "pth").is_err());
        assert_eq!(
            parse(normalization(), "imagenet").unwrap(),
            NormalizationArg::Named("imagenet".into())
        );
        assert_eq!(
            parse(normalization(), "0.5,0.5").unwrap(),
            NormalizationArg::Stats(vec![0.5, 0.5])
        );
        let e = parse(normalization(), "imagenett").unwrap_err().to_string();
        assert!(e.contains("imagenett") && e.contains("MEAN,STD"), "{e}");
        assert_eq!(
            parse(labels(), "class-center").unwrap(),
            LabelsArg::ClassCenter
        );
        assert_eq!(
            parse(labels(), "emb.npy").unwrap(),
            LabelsArg::File("emb.npy".into())
        );
        assert!(parse(labels(), "class-centre").is_err());
    }
}
