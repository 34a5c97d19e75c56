"""How well latent dimensions line up with known factors: mutual information, MIG and DCI.

Estimator choices (stated here because the scores depend on them):

* Mutual information is computed from histograms. Each latent dimension (the posterior mean μ) is cut into
  LATENT_BINS = 20 equal-width bins between its minimum and maximum, as in Chen et al. 2018 and
  disentanglement_lib. A factor with at most FACTOR_MAX_LEVELS distinct values is used as it is (its levels
  are the categories); a continuous one is cut into LATENT_BINS equal-width bins the same way.
* MIG (Chen et al. 2018, "Isolating Sources of Disentanglement in VAEs"): for each factor v_k, the gap
  between the largest and second-largest I(z_j; v_k) over latent dims, divided by H(v_k); averaged over
  factors. 1: each factor is captured by one dimension alone; 0: none, or two dims share it equally.
* DCI disentanglement and completeness (Eastwood & Williams 2018): a random forest classifier per factor
  (scikit-learn; DCI_TREES trees of depth ≤ DCI_DEPTH, ≥ DCI_MIN_LEAF images per leaf, every dimension
  considered at every split, seed 0) predicts the factor's level from μ on at most DCI_MAX_SAMPLES images;
  its impurity-based feature importances form the importance matrix R (dims × factors). Considering every
  dimension at each split matters: with scikit-learn's default (√D random candidates) a tree must often
  split on an unrelated dimension, and a latent that copies the factors scores only ~0.8.
  Disentanglement: 1 − entropy (base #factors) of each dim's row of R, weighted by the row's share
  of the total importance. Completeness: 1 − entropy (base #dims) of each factor's column, weighted alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import InputError

LATENT_BINS = 20
FACTOR_MAX_LEVELS = 32
DCI_TREES = 10
DCI_DEPTH = 6
DCI_MIN_LEAF = 20
DCI_MAX_SAMPLES = 3_000


def _check(latents: np.ndarray, factors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both arrays as finite float64 (N, ·) with the same N ≥ 2; ValueError otherwise."""
    z = np.asarray(latents, dtype=np.float64)
    v = np.asarray(factors, dtype=np.float64)
    if v.ndim == 1:
        v = v[:, None]
    if z.ndim != 2 or v.ndim != 2 or len(z) != len(v) or len(z) < 2:
        raise InputError(
            f"need latents (N, D) and factors (N, F) with the same N ≥ 2, got {z.shape} and {v.shape}"
        )
    if not (np.isfinite(z).all() and np.isfinite(v).all()):
        raise InputError("latents and factors must be finite")
    return z, v


def discretize(values: np.ndarray, bins: int = LATENT_BINS) -> np.ndarray:
    """Each column of (N, K) values cut into `bins` equal-width bins between its min and max: int64 codes."""
    values = np.asarray(values, dtype=np.float64)
    codes = np.zeros(values.shape, dtype=np.int64)
    for k in range(values.shape[1]):
        column = values[:, k]
        low, high = column.min(), column.max()
        if high > low:
            codes[:, k] = np.clip(((column - low) / (high - low) * bins).astype(np.int64), 0, bins - 1)
    return codes


def factor_codes(factors: np.ndarray) -> np.ndarray:
    """Factors as int64 codes: their own levels when few (≤ FACTOR_MAX_LEVELS), else LATENT_BINS bins."""
    factors = np.asarray(factors, dtype=np.float64)
    codes = np.zeros(factors.shape, dtype=np.int64)
    for k in range(factors.shape[1]):
        levels, inverse = np.unique(factors[:, k], return_inverse=True)
        if len(levels) <= FACTOR_MAX_LEVELS:
            codes[:, k] = inverse.reshape(-1)
        else:
            codes[:, k] = discretize(factors[:, k : k + 1])[:, 0]
    return codes


def _entropy(codes: np.ndarray) -> float:
    """Entropy (nats) of one column of int codes."""
    counts = np.bincount(codes)
    p = counts[counts > 0] / len(codes)
    return float(-(p * np.log(p)).sum())


def _mutual_info(a: np.ndarray, b: np.ndarray) -> float:
    """Mutual information (nats) between two columns of int codes, from their joint histogram."""
    joint = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(joint, (a, b), 1.0)
    joint /= len(a)
    pa, pb = joint.sum(1, keepdims=True), joint.sum(0, keepdims=True)
    nz = joint > 0
    return float((joint[nz] * np.log(joint[nz] / (pa @ pb)[nz])).sum())


@dataclass(frozen=True)
class MutualInformation:
    """I(z_j; v_k) for every factor k and latent dim j, and each factor's entropy."""

    mi: np.ndarray  # (F, D) nats
    factor_entropy: np.ndarray  # (F,) nats

    @property
    def normalized(self) -> np.ndarray:
        """(F, D) I(z_j; v_k) / H(v_k) in [0, 1] (0 for a constant factor)."""
        h = self.factor_entropy[:, None]
        return np.divide(self.mi, h, out=np.zeros_like(self.mi), where=h > 0)


def mutual_information(
    latents: np.ndarray, factors: np.ndarray, bins: int = LATENT_BINS
) -> MutualInformation:
    """The factor × dimension mutual-information matrix of latent means against known factors."""
    z, v = _check(latents, factors)
    z_codes, v_codes = discretize(z, bins), factor_codes(v)
    mi = np.array(
        [[_mutual_info(z_codes[:, j], v_codes[:, k]) for j in range(z.shape[1])] for k in range(v.shape[1])]
    )
    entropy = np.array([_entropy(v_codes[:, k]) for k in range(v.shape[1])])
    return MutualInformation(np.maximum(mi, 0.0), entropy)


def mig(latents: np.ndarray, factors: np.ndarray, bins: int = LATENT_BINS) -> float:
    """Mutual Information Gap (Chen et al. 2018) in [0, 1]; needs at least 2 latent dims."""
    info = mutual_information(latents, factors, bins)
    if info.mi.shape[1] < 2:
        raise InputError("MIG needs at least 2 latent dimensions")
    keep = info.factor_entropy > 0
    if not keep.any():
        raise InputError("every factor is constant: nothing to score")
    top2 = np.sort(info.normalized[keep], axis=1)[:, -2:]
    return float(np.mean(top2[:, 1] - top2[:, 0]))


def importance_matrix(latents: np.ndarray, factors: np.ndarray, seed: int = 0) -> np.ndarray:
    """(D, F) random-forest feature importances of each latent dim for predicting each factor's level."""
    from sklearn.ensemble import RandomForestClassifier

    z, v = _check(latents, factors)
    if len(z) > DCI_MAX_SAMPLES:
        rows = np.random.default_rng(seed).choice(len(z), DCI_MAX_SAMPLES, replace=False)
        z, v = z[rows], v[rows]
    codes = factor_codes(v)
    importance = np.zeros((z.shape[1], v.shape[1]))
    for k in range(v.shape[1]):
        if len(np.unique(codes[:, k])) < 2:
            continue
        forest = RandomForestClassifier(
            n_estimators=DCI_TREES,
            max_depth=DCI_DEPTH,
            min_samples_leaf=DCI_MIN_LEAF,
            max_features=None,
            random_state=seed,
            n_jobs=1,
        )
        forest.fit(z, codes[:, k])
        importance[:, k] = forest.feature_importances_
    return importance


def _one_minus_entropy(rows: np.ndarray, base: int) -> np.ndarray:
    """1 − entropy (log base `base`) of each row of non-negative weights, normalised to sum 1."""
    totals = rows.sum(1, keepdims=True)
    p = np.divide(rows, totals, out=np.zeros_like(rows), where=totals > 0)
    logs = np.log(p, out=np.zeros_like(p), where=p > 0)
    return 1.0 + (p * logs).sum(1) / np.log(base)


@dataclass(frozen=True)
class DCIScores:
    """DCI disentanglement and completeness (Eastwood & Williams 2018), each in [0, 1]."""

    disentanglement: float
    completeness: float
    importance: np.ndarray  # (D, F)


def dci(latents: np.ndarray, factors: np.ndarray, seed: int = 0) -> DCIScores:
    """DCI disentanglement and completeness from a random-forest importance matrix (see module docstring)."""
    r = importance_matrix(latents, factors, seed)
    n_dims, n_factors = r.shape
    total = r.sum()
    if total <= 0:
        return DCIScores(0.0, 0.0, r)
    d = float((_one_minus_entropy(r, n_factors) * r.sum(1) / total).sum()) if n_factors > 1 else 1.0
    c = float((_one_minus_entropy(r.T, n_dims) * r.sum(0) / total).sum()) if n_dims > 1 else 1.0
    return DCIScores(d, c, r)


def best_factor_per_dim(info: MutualInformation) -> tuple[np.ndarray, np.ndarray]:
    """For each latent dim: the index of the factor it informs most (normalised MI) and that normalised MI."""
    normalized = info.normalized
    best = np.argmax(normalized, axis=0)
    return best.astype(np.int64), normalized[best, np.arange(normalized.shape[1])]


def disentanglement_scores(latents: np.ndarray, factors: np.ndarray, seed: int = 0) -> dict[str, float]:
    """{'mig', 'dci_disentanglement', 'dci_completeness'} of latent means against known factors."""
    scores = dci(latents, factors, seed)
    return {
        "mig": mig(latents, factors),
        "dci_disentanglement": scores.disentanglement,
        "dci_completeness": scores.completeness,
    }
