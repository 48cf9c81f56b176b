//! MUSE's embedding-diversity game (paper Eq. 9, 10, 12).
//!
//! The student's penultimate embedding, projected into the label-embedding space by a head
//! `P`, is compared with its class's label embedding:
//! `d_b = (1/E) · Σ_e (P(f_S(x̂_b))_e − f_y[ŷ_b]_e)²` (Eq. 9).
//! The student pulls samples inside an inner radius,
//! `L_ED = (1/B) · Σ_b max(0, d_b − r_i)` (Eq. 10),
//! and the generator pushes them beyond an outer one,
//! `L_AED = (1/B) · Σ_b max(0, r_o − d_b)` (Eq. 12).
//! Radii default to the paper's rule `r_i = ½·d_min`, `r_o = d_min`, with `d_min` the smallest
//! pairwise mean-squared distance between two classes' embeddings ([`RadiiRule`] names the
//! alternatives).

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use crate::error::{LossError, same_shape};

/// Per-sample mean squared distance between projected embeddings and label embeddings (Eq. 9).
///
/// # Shapes
/// - `projected`, `label_embeddings`: `[batch, dim]`
/// - output: `[batch]`
pub fn embedding_distance(
    projected: Tensor<2>,
    label_embeddings: Tensor<2>,
) -> Result<Tensor<1>, LossError> {
    same_shape(
        "embedding_distance",
        "label embeddings",
        &projected.dims(),
        &label_embeddings.dims(),
    )?;
    let [b, _] = projected.dims();
    Ok((projected - label_embeddings)
        .powi_scalar(2)
        .mean_dim(1)
        .reshape([b]))
}

/// The student's `L_ED` (Eq. 10).
///
/// # Shapes
/// - `distance`: `[batch]`
/// - output: `[1]`
pub fn ed_loss(distance: Tensor<1>, inner_radius: f32) -> Tensor<1> {
    (distance - inner_radius).clamp_min(0.0).mean()
}

/// The generator's `L_AED` (Eq. 12).
///
/// # Shapes
/// - `distance`: `[batch]`
/// - output: `[1]`
pub fn aed_loss(distance: Tensor<1>, outer_radius: f32) -> Tensor<1> {
    (distance.neg() + outer_radius).clamp_min(0.0).mean()
}

/// The two radii of the game.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Radii {
    /// `r_i`, for the student.
    pub inner: f32,
    /// `r_o`, for the generator.
    pub outer: f32,
}

impl Radii {
    /// The paper's rule: `r_i = ½·d_min`, `r_o = d_min`.
    pub fn from_embeddings(label_embeddings: &[Vec<f32>]) -> Result<Self, LossError> {
        let d_min = min_pairwise_distance(label_embeddings)?;
        Ok(Self {
            inner: d_min / 2.0,
            outer: d_min,
        })
    }
}

/// How the radii of the game are chosen.
///
/// With MiniLM class-name embeddings `d_min` is ≈ 0.001 while a trained student's projected
/// distances stay near 0.002 (docs/results.md): every sample lies outside `r_o`, so `L_AED` is
/// zero for the whole run and the game never starts. [`StudentQuantile`](Self::StudentQuantile)
/// sets `r_o` from the distances the student actually reaches, so that a fixed share of samples
/// is always inside it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "kebab-case", deny_unknown_fields)]
pub enum RadiiRule {
    /// The paper's rule from the label embeddings, fixed for the run
    /// ([`Radii::from_embeddings`]).
    #[default]
    LabelEmbeddings,
    /// Before the first student epoch, the paper's rule; after every student epoch,
    /// `r_o` = the `quantile` of that epoch's distances `d_b` and `r_i = ½·r_o`
    /// ([`Radii::from_student_distances`]).
    StudentQuantile {
        /// In `(0, 1)`: the share of the student's samples inside `r_o` when it is set.
        quantile: f64,
    },
}

impl Radii {
    /// The [`RadiiRule::StudentQuantile`] rule: `r_o` = the `quantile` of `distances` (the
    /// lower of the two neighbouring order statistics), `r_i = ½·r_o`. Errors on an empty or
    /// non-finite sample, a quantile outside `(0, 1)`, or a zero radius.
    pub fn from_student_distances(distances: &[f32], quantile: f64) -> Result<Self, LossError> {
        let err = |what: String| LossError::Parameter {
            loss: "Radii::from_student_distances",
            what,
        };
        if !(quantile > 0.0 && quantile < 1.0) {
            return Err(err(format!("quantile must be in (0, 1), got {quantile}")));
        }
        if distances.is_empty() {
            return Err(err("no distances".into()));
        }
        if let Some(bad) = distances.iter().find(|d| !d.is_finite()) {
            return Err(err(format!("a distance is {bad}")));
        }
        let mut sorted = distances.to_vec();
        sorted.sort_by(f32::total_cmp);
        let at = ((sorted.len() - 1) as f64 * quantile).floor() as usize;
        let outer = sorted[at];
        if outer <= 0.0 {
            return Err(err(format!(
                "the {quantile} quantile is {outer}; radii would be zero"
            )));
        }
        Ok(Self {
            inner: outer / 2.0,
            outer,
        })
    }
}

/// The smallest mean squared distance between two rows (two classes' embeddings).
pub fn min_pairwise_distance(rows: &[Vec<f32>]) -> Result<f32, LossError> {
    let err = |what: String| LossError::Parameter {
        loss: "min_pairwise_distance",
        what,
    };
    if rows.len() < 2 {
        return Err(err(format!(
            "need at least two classes, got {}",
            rows.len()
        )));
    }
    let dim = rows[0].len();
    if dim == 0 || rows.iter().any(|r| r.len() != dim) {
        return Err(err("rows must share one non-zero length".into()));
    }
    let mut best = f32::INFINITY;
    for i in 0..rows.len() {
        for j in i + 1..rows.len() {
            let d = rows[i]
                .iter()
                .zip(&rows[j])
                .map(|(a, b)| ((a - b) as f64).powi(2))
                .sum::<f64>()
                / dim as f64;
            best = best.min(d as f32);
        }
    }
    if !best.is_finite() || best <= 0.0 {
        return Err(err(format!(
            "two classes share one embedding (d_min = {best}); radii would be zero"
        )));
    }
    Ok(best)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{close, t1, t2, value, values};

    #[test]
    fn student_quantile_radii_by_hand() {
        // Sorted: [0.1, 0.2, 0.3, 0.4, 0.5]; index floor(4 * 0.5) = 2 -> 0.3; floor(4 * 0.3) = 1.
        let d = [0.5, 0.1, 0.4, 0.2, 0.3];
        let r = Radii::from_student_distances(&d, 0.5).unwrap();
        assert_eq!((r.inner, r.outer), (0.15, 0.3));
        assert_eq!(Radii::from_student_distances(&d, 0.3).unwrap().outer, 0.2);
        for (d, q) in [
            (&[][..], 0.5),
            (&[0.1, f32::NAN][..], 0.5),
            (&[0.1][..], 1.0),
            (&[0.0, 0.0][..], 0.5),
        ] {
            assert!(Radii::from_student_distances(d, q).is_err(), "{d:?} {q}");
        }
    }

    #[test]
    fn radii_rule_reads_from_json() {
        let r: RadiiRule =
            serde_json::from_str(r#"{"rule": "student-quantile", "quantile": 0.5}"#).unwrap();
        assert_eq!(r, RadiiRule::StudentQuantile { quantile: 0.5 });
        let r: RadiiRule = serde_json::from_str(r#"{"rule": "label-embeddings"}"#).unwrap();
        assert_eq!(r, RadiiRule::LabelEmbeddings);
    }

    #[test]
    fn distance_and_both_hinges_by_hand() {
        let d = muse_device::device();
        let p = t2(&d, vec![1.0, 1.0, 0.0, 0.0], [2, 2]);
        let f = t2(&d, vec![0.0, 1.0, 0.0, 2.0], [2, 2]);
        // d = [(1 + 0)/2, (0 + 4)/2] = [0.5, 2]
        let dist = embedding_distance(p, f).unwrap();
        assert_eq!(values(dist.clone()), vec![0.5, 2.0]);
        // L_ED, r_i = 1: [0, 1] -> 0.5.   L_AED, r_o = 1: [0.5, 0] -> 0.25.
        close(value(ed_loss(dist.clone(), 1.0)), 0.5);
        close(value(aed_loss(dist, 1.0)), 0.25);
    }

    #[test]
    fn radii_follow_the_paper_rule() {
        // Pairs: (0,1) (1+0)/2 = 0.5; (0,2) 4/2 = 2; (1,2) (1+4)/2 = 2.5.
        let rows = vec![vec![0.0, 0.0], vec![1.0, 0.0], vec![0.0, 2.0]];
        assert_eq!(min_pairwise_distance(&rows).unwrap(), 0.5);
        assert_eq!(
            Radii::from_embeddings(&rows).unwrap(),
            Radii {
                inner: 0.25,
                outer: 0.5
            }
        );
        assert!(min_pairwise_distance(&rows[..1]).is_err());
        assert!(min_pairwise_distance(&[vec![1.0], vec![1.0]]).is_err());
        assert!(min_pairwise_distance(&[vec![1.0], vec![1.0, 2.0]]).is_err());
    }

    #[test]
    fn gradients_push_in_opposite_directions() {
        let d = muse_device::autodiff_device();
        let dist = t1(&d, vec![0.5, 2.0]).require_grad();
        let g = ed_loss(dist.clone(), 1.0).backward();
        assert_eq!(values(dist.grad(&g).unwrap()), vec![0.0, 0.5]);
        let dist = t1(&d, vec![0.5, 2.0]).require_grad();
        let g = aed_loss(dist.clone(), 1.0).backward();
        assert_eq!(values(dist.grad(&g).unwrap()), vec![-0.5, 0.0]);
    }
}
