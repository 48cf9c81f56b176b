//! The values enumerated flags take, as clap parsers: `--help` lists them and a wrong one is
//! refused by clap, with the list, before any work.

use clap::builder::{PossibleValuesParser, TypedValueParser};
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
    }
}
