//! all-MiniLM-L6-v2 against reference values computed independently (with the HuggingFace
//! tokenizer and sentence-transformers in PyTorch; the numbers are those of issue 4).
//!
//! The model comes from `bash scripts/fetch_text_model.sh` (run by `scripts/test.sh` and CI).
//! Without it these tests fail with the fetch instruction, unless `MUSE_SKIP_TEXT_MODEL=1`.

use muse_text::{DEFAULT_PROMPT, TextEncoder, find_model_dir};

use muse_data::FASHION_MNIST_CLASSES as FASHION;

fn encoder() -> Option<TextEncoder> {
    if std::env::var_os("MUSE_SKIP_TEXT_MODEL").is_some() {
        eprintln!("MUSE_SKIP_TEXT_MODEL is set: skipping the all-MiniLM-L6-v2 reference test");
        return None;
    }
    let dir = find_model_dir().unwrap_or_else(|e| panic!("{e}"));
    Some(TextEncoder::load(&dir, &muse_device::device()).unwrap_or_else(|e| panic!("{e}")))
}

fn rows(t: burn::tensor::Tensor<2>) -> Vec<Vec<f32>> {
    let [n, d] = t.dims();
    let v: Vec<f32> = t.into_data().try_into_vec::<f32>().unwrap();
    (0..n).map(|i| v[i * d..(i + 1) * d].to_vec()).collect()
}

#[test]
fn token_ids_match_the_reference_tokenizer() {
    let Some(enc) = encoder() else { return };
    let tok = enc.tokenizer();
    let ids = tok.encode(&DEFAULT_PROMPT.replace("{}", "Trouser"), 128);
    assert_eq!(ids[..5], [101, 1037, 6302, 1997, 1037]);
    assert_eq!(*ids.last().unwrap(), 102);
    assert_eq!(tok.tokenize("T-shirt/top"), [1056, 1011, 3797, 1013, 2327]);
    assert_eq!(tok.tokenize("Trouser"), [19817, 15441, 2099]);
    assert_eq!(tok.tokenize("Ankle boot"), [10792, 9573]);
}

#[test]
fn fashion_mnist_class_embeddings_match_the_reference() {
    let Some(enc) = encoder() else { return };
    let emb = rows(enc.embed_names(&FASHION, DEFAULT_PROMPT).unwrap());
    let expect: [(usize, [f32; 3]); 4] = [
        (0, [-0.052775, 0.119363, -0.028670]),
        (1, [-0.038226, 0.035155, -0.009156]),
        (6, [-0.044966, 0.122926, -0.065633]),
        (9, [-0.136569, 0.085849, -0.001161]),
    ];
    for (class, want) in expect {
        for (k, w) in want.iter().enumerate() {
            let got = emb[class][k];
            assert!(
                (got - w).abs() < 1e-5,
                "{} [{k}]: {got} vs {w}",
                FASHION[class]
            );
        }
    }
    for row in &emb {
        let norm: f32 = row.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "norm {norm}");
    }
    // Smallest pairwise mean-squared distance: T-shirt/top vs Shirt, 0.0010102.
    let mut best = (f32::INFINITY, 0, 0);
    for i in 0..10 {
        for j in i + 1..10 {
            let d = emb[i]
                .iter()
                .zip(&emb[j])
                .map(|(a, b)| (a - b).powi(2))
                .sum::<f32>()
                / emb[i].len() as f32;
            if d < best.0 {
                best = (d, i, j);
            }
        }
    }
    assert_eq!((best.1, best.2), (0, 6));
    assert!((best.0 - 0.0010102).abs() < 1e-5, "{}", best.0);
}

#[test]
fn padding_does_not_change_an_embedding() {
    let Some(enc) = encoder() else { return };
    let alone = rows(enc.encode(&["a photo of a bag"]).unwrap());
    let long = "a photo of a bag that is much longer than the first one, with many more tokens";
    let padded = rows(enc.encode(&["a photo of a bag", long]).unwrap());
    for (a, b) in alone[0].iter().zip(&padded[0]) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
}

#[test]
fn bad_prompt_and_empty_input_are_errors() {
    let Some(enc) = encoder() else { return };
    assert!(
        enc.embed_names(&["Bag"], "no placeholder")
            .unwrap_err()
            .to_string()
            .contains("{}")
    );
    assert!(enc.encode::<&str>(&[]).is_err());
}
