//! Label embeddings `f_y`, one vector per class (METHOD.md §1): class names through the
//! all-MiniLM-L6-v2 text encoder of `muse-text`, a file (safetensors, `.npy` or a JSON matrix),
//! or the teacher's class centres (the fallback when no text model is installed).

use std::path::{Path, PathBuf};

use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::error::EngineError;

/// Where the label embeddings come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LabelEmbeddingSource {
    /// A `[num_classes, dim]` matrix in a safetensors (first tensor, or one named
    /// `embeddings`), `.npy` (`<f4`/`<f8`, C order) or JSON (array of rows) file.
    File(PathBuf),
    /// The mean of the teacher's penultimate features over the first generated batch of each
    /// class (paper Sec. 3.3).
    ClassCenter,
    /// Class names embedded by all-MiniLM-L6-v2 ([`muse_text::TextEncoder`]), as NAYER and
    /// MUSE embed `"a photo of a {class}"` with a text encoder.
    Text {
        /// Folder of the encoder's files; `None` looks in the usual places
        /// ([`muse_text::find_model_dir`]).
        model_dir: Option<PathBuf>,
        /// Prompt with `{}` standing for the class name.
        prompt: String,
        /// One name per class, by label.
        class_names: Vec<String>,
    },
}

impl LabelEmbeddingSource {
    /// Class-name embeddings with the default prompt, when the text model is installed;
    /// `None` otherwise (callers then keep [`LabelEmbeddingSource::ClassCenter`]).
    /// The model folder is not recorded (`None`: found again where the run resumes).
    pub fn text_if_available(class_names: &[String]) -> Option<Self> {
        muse_text::find_model_dir().ok()?;
        Some(Self::Text {
            model_dir: None,
            prompt: muse_text::DEFAULT_PROMPT.into(),
            class_names: class_names.to_vec(),
        })
    }
}

/// A `[num_classes, dim]` matrix of label embeddings.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelEmbeddings {
    rows: Vec<Vec<f32>>,
}

impl LabelEmbeddings {
    /// Checks that there is one finite row per class, all of one non-zero length.
    pub fn new(rows: Vec<Vec<f32>>, num_classes: usize, source: &str) -> Result<Self, EngineError> {
        let bad =
            |what: String| EngineError::Mismatch(format!("label embeddings from {source}: {what}"));
        if rows.len() != num_classes {
            return Err(bad(format!(
                "{} rows for {num_classes} classes",
                rows.len()
            )));
        }
        let dim = rows.first().map_or(0, Vec::len);
        if dim == 0 || rows.iter().any(|r| r.len() != dim) {
            return Err(bad("rows must share one non-zero length".into()));
        }
        if rows.iter().flatten().any(|v| !v.is_finite()) {
            return Err(bad("contains NaN or infinite values".into()));
        }
        Ok(Self { rows })
    }

    /// The rows.
    pub fn rows(&self) -> &[Vec<f32>] {
        &self.rows
    }

    /// Embedding size.
    pub fn dim(&self) -> usize {
        self.rows[0].len()
    }

    /// As a tensor. `[num_classes, dim]`
    pub fn to_tensor(&self, device: &Device) -> Tensor<2> {
        let flat: Vec<f32> = self.rows.concat();
        Tensor::from_data(TensorData::new(flat, [self.rows.len(), self.dim()]), device)
    }

    /// Embeds class names with the text encoder in `model_dir` (or the one found).
    pub fn from_text(
        model_dir: Option<&Path>,
        prompt: &str,
        class_names: &[String],
        num_classes: usize,
        device: &Device,
    ) -> Result<Self, EngineError> {
        if class_names.len() != num_classes {
            return Err(EngineError::Mismatch(format!(
                "{} class names for {num_classes} classes",
                class_names.len()
            )));
        }
        let text = |e: muse_text::TextError| EngineError::Mismatch(format!("text embedding: {e}"));
        let dir = match model_dir {
            Some(d) => d.to_path_buf(),
            None => muse_text::find_model_dir().map_err(text)?,
        };
        let encoder = muse_text::TextEncoder::load(&dir, device).map_err(text)?;
        let emb = encoder.embed_names(class_names, prompt).map_err(text)?;
        let [k, d] = emb.dims();
        let flat = emb
            .into_data()
            .try_into_vec::<f32>()
            .map_err(|e| EngineError::Mismatch(format!("text embedding: {e:?}")))?;
        let rows = rows_of(flat, &[k, d]).map_err(EngineError::Mismatch)?;
        Self::new(
            rows,
            num_classes,
            &format!("text encoder {}", dir.display()),
        )
    }

    /// Writes the matrix as safetensors (one `f32` tensor `embeddings`, `[classes, dim]`),
    /// atomically.
    pub fn save_safetensors(&self, path: &Path) -> Result<(), EngineError> {
        let shape = vec![self.rows.len(), self.dim()];
        let bytes: Vec<u8> = self
            .rows
            .iter()
            .flatten()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let view = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape, &bytes)
            .map_err(|e| EngineError::Mismatch(format!("safetensors: {e}")))?;
        let out = safetensors::serialize([("embeddings", view)], None)
            .map_err(|e| EngineError::Mismatch(format!("safetensors: {e}")))?;
        crate::atomic::write_atomic(path, &out)
    }

    /// Reads a matrix file, choosing the format by extension.
    pub fn load(path: &Path, num_classes: usize) -> Result<Self, EngineError> {
        let bytes = std::fs::read(path).map_err(|source| EngineError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let corrupt = |what: String| EngineError::Corrupt {
            path: path.to_path_buf(),
            what,
        };
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let rows = match ext {
            "json" => serde_json::from_slice::<Vec<Vec<f32>>>(&bytes)
                .map_err(|e| corrupt(format!("not a JSON array of rows: {e}")))?,
            "npy" => parse_npy(&bytes).map_err(corrupt)?,
            "safetensors" => parse_safetensors(&bytes).map_err(corrupt)?,
            other => {
                return Err(corrupt(format!(
                    "unknown extension `{other}`: use .safetensors, .npy or .json"
                )));
            }
        };
        Self::new(rows, num_classes, &path.display().to_string())
    }
}

fn rows_of(values: Vec<f32>, shape: &[usize]) -> Result<Vec<Vec<f32>>, String> {
    let [k, d] = shape else {
        return Err(format!("expected a 2-d matrix, found shape {shape:?}"));
    };
    if values.len() != k * d || *d == 0 {
        return Err(format!(
            "{} values do not fill shape {shape:?}",
            values.len()
        ));
    }
    Ok(values.chunks(*d).map(<[f32]>::to_vec).collect())
}

fn floats(data: &[u8], f64s: bool, big_endian: bool) -> Vec<f32> {
    if f64s {
        data.chunks_exact(8)
            .map(|c| {
                let b: [u8; 8] = c.try_into().expect("8 bytes");
                (if big_endian {
                    f64::from_be_bytes(b)
                } else {
                    f64::from_le_bytes(b)
                }) as f32
            })
            .collect()
    } else {
        data.chunks_exact(4)
            .map(|c| {
                let b: [u8; 4] = c.try_into().expect("4 bytes");
                if big_endian {
                    f32::from_be_bytes(b)
                } else {
                    f32::from_le_bytes(b)
                }
            })
            .collect()
    }
}

/// NumPy's `.npy` format, versions 1 to 3, `f4`/`f8` in C order.
fn parse_npy(bytes: &[u8]) -> Result<Vec<Vec<f32>>, String> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err("not a .npy file (bad magic)".into());
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(format!("unsupported .npy version {v}")),
    };
    let header = bytes
        .get(start..start + header_len)
        .ok_or("truncated .npy header")?;
    let header = String::from_utf8_lossy(header);
    let field = |key: &str| -> Result<String, String> {
        let at = header
            .find(&format!("'{key}'"))
            .ok_or(format!("header lacks '{key}'"))?;
        let rest = header[at + key.len() + 2..].trim_start_matches([':', ' ']);
        Ok(rest.to_string())
    };
    let descr = field("descr")?;
    let (f64s, big) = match descr.get(..5) {
        Some("'<f4'") | Some("'=f4'") => (false, false),
        Some("'>f4'") => (false, true),
        Some("'<f8'") | Some("'=f8'") => (true, false),
        Some("'>f8'") => (true, true),
        _ => {
            return Err(format!(
                "unsupported dtype {}",
                descr.split(',').next().unwrap_or("")
            ));
        }
    };
    if field("fortran_order")?.starts_with("True") {
        return Err("Fortran-order arrays are not supported".into());
    }
    let shape_text = field("shape")?;
    let inner = shape_text
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .ok_or("unreadable shape")?;
    let shape = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| format!("unreadable shape ({inner})"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let width = if f64s { 8 } else { 4 };
    let data = &bytes[start + header_len..];
    let need = shape.iter().product::<usize>() * width;
    if data.len() < need {
        return Err(format!(
            "truncated data: expected {need} bytes, found {}",
            data.len()
        ));
    }
    rows_of(floats(&data[..need], f64s, big), &shape)
}

fn parse_safetensors(bytes: &[u8]) -> Result<Vec<Vec<f32>>, String> {
    let st = safetensors::SafeTensors::deserialize(bytes).map_err(|e| e.to_string())?;
    let mut names = st.names();
    names.sort();
    let name = names
        .iter()
        .find(|n| **n == "embeddings")
        .or_else(|| names.first())
        .ok_or("no tensor in the file")?
        .to_string();
    let view = st.tensor(&name).map_err(|e| e.to_string())?;
    let values = match view.dtype() {
        safetensors::Dtype::F32 => floats(view.data(), false, false),
        safetensors::Dtype::F64 => floats(view.data(), true, false),
        d => return Err(format!("tensor `{name}` has dtype {d:?}; use F32 or F64")),
    };
    rows_of(values, view.shape())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safetensors_save_then_load_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("emb.safetensors");
        let e = LabelEmbeddings::new(vec![vec![0.5, -1.0], vec![2.0, 0.25]], 2, "test").unwrap();
        e.save_safetensors(&path).unwrap();
        assert_eq!(LabelEmbeddings::load(&path, 2).unwrap(), e);
        assert!(
            LabelEmbeddings::load(&path, 3)
                .unwrap_err()
                .to_string()
                .contains("2 rows for 3")
        );
    }

    #[test]
    fn text_source_with_wrong_name_count_is_a_mismatch() {
        let names = vec!["a".to_string()];
        let err = LabelEmbeddings::from_text(None, "{}", &names, 2, &Default::default());
        assert!(
            err.unwrap_err()
                .to_string()
                .contains("1 class names for 2 classes")
        );
    }

    fn npy(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
        let mut header =
            format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn reads_json_npy_and_safetensors() {
        let dir = tempfile::tempdir().unwrap();
        let want = [vec![1.0, 2.0], vec![3.0, 4.0], vec![5.0, 6.5]];

        let json = dir.path().join("e.json");
        std::fs::write(&json, "[[1,2],[3,4],[5,6.5]]").unwrap();
        assert_eq!(LabelEmbeddings::load(&json, 3).unwrap().rows(), &want[..]);

        let f4: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.5]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let p = dir.path().join("e.npy");
        std::fs::write(&p, npy("<f4", "(3, 2)", &f4)).unwrap();
        assert_eq!(LabelEmbeddings::load(&p, 3).unwrap().rows(), &want[..]);
        let f8: Vec<u8> = [1.0f64, 2.0, 3.0, 4.0, 5.0, 6.5]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        std::fs::write(&p, npy("<f8", "(3, 2)", &f8)).unwrap();
        assert_eq!(LabelEmbeddings::load(&p, 3).unwrap().rows(), &want[..]);

        let view =
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![3, 2], &f4).unwrap();
        let st = safetensors::serialize([("embeddings", view)], None).unwrap();
        let p = dir.path().join("e.safetensors");
        std::fs::write(&p, st).unwrap();
        let e = LabelEmbeddings::load(&p, 3).unwrap();
        assert_eq!(e.rows(), &want[..]);
        assert_eq!(e.to_tensor(&muse_device::device()).dims(), [3, 2]);
    }

    #[test]
    fn wrong_counts_truncation_and_bad_values_are_named_errors() {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("e.json");
        std::fs::write(&json, "[[1,2],[3,4]]").unwrap();
        let err = LabelEmbeddings::load(&json, 3).unwrap_err().to_string();
        assert!(
            err.contains("e.json") && err.contains("2 rows for 3 classes"),
            "{err}"
        );
        std::fs::write(&json, "[[1,2],[3]]").unwrap();
        assert!(LabelEmbeddings::load(&json, 2).is_err());
        std::fs::write(&json, "{not json").unwrap();
        assert!(
            LabelEmbeddings::load(&json, 2)
                .unwrap_err()
                .to_string()
                .contains("JSON")
        );
        let p = dir.path().join("t.npy");
        std::fs::write(&p, npy("<f4", "(3, 2)", &[0u8; 10])).unwrap();
        let err = LabelEmbeddings::load(&p, 3).unwrap_err().to_string();
        assert!(err.contains("t.npy") && err.contains("truncated"), "{err}");
        let p = dir.path().join("x.csv");
        std::fs::write(&p, "1,2").unwrap();
        assert!(
            LabelEmbeddings::load(&p, 1)
                .unwrap_err()
                .to_string()
                .contains("extension")
        );
        assert!(LabelEmbeddings::new(vec![vec![f32::NAN]], 1, "mem").is_err());
    }
}
