"""Linear probes: what a linear read-out of the latent means μ knows about the labels and the known factors.

A probe is fitted on a fixed, seeded part of the images and scored on the rest, on standardised features
(mean 0, variance 1 on the training part). Labels and discrete factors (at most DISCRETE_FACTOR_MAX_VALUES
distinct values) get scikit-learn's LogisticRegression and report held-out **accuracy** beside the chance
level (the majority class of the held-out part); continuous factors get Ridge regression and report
held-out **R²**.
The same probe runs on the honest baselines: raw pixels, the plain-autoencoder twin where one exists, and an
untrained encoder of the same architecture (same VAEConfig, fixed seed).
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from . import ASSETS_DIR, DEFAULT_MODEL_PATH
from .config import VAEConfig
from .errors import LatentExplorerError
from .latents import encode
from .models import VAE, build_vae

PROBE_SEED = 0
TEST_FRACTION = 0.25
MAX_PROBE_IMAGES = 10_000  # a seeded subset of larger datasets: keeps the pixel probe to seconds
DISCRETE_FACTOR_MAX_VALUES = 16  # a factor with at most this many distinct values is probed as classes
LOGISTIC_C = 1.0
RIDGE_ALPHA = 1.0
MAX_ITER = 1000
SHIPPED_TWIN_PATH = ASSETS_DIR / "models" / "digits_ae.safetensors"  # plain-AE twin of the shipped VAE

FEATURES_LATENT = "latent μ (this model)"
FEATURES_PIXELS = "raw pixels"
FEATURES_TWIN = "plain-autoencoder twin (β = 0)"
FEATURES_UNTRAINED = "untrained encoder (same architecture)"


class ProbeError(LatentExplorerError):
    """A probe that cannot be fitted on what was given; the message says what is missing."""


@dataclass(frozen=True)
class ProbeScore:
    """One probe's held-out score: which features, which target, which metric."""

    features: str  # one of the FEATURES_* names
    target: str  # "label" or a factor name
    metric: str  # "accuracy" (logistic regression) or "r2" (ridge regression)
    score: float
    chance: float  # accuracy of always guessing the held-out part's most common value; 0.0 for R²
    n_train: int
    n_test: int
    n_features: int

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return {k: (round(v, 5) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def probe_split(
    n: int, test_fraction: float = TEST_FRACTION, seed: int = PROBE_SEED, max_images: int = MAX_PROBE_IMAGES
) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) rows: a seeded shuffle of ≤ `max_images` rows, the last `test_fraction` held out."""
    if not 0.0 < test_fraction < 1.0:
        raise ProbeError(f"test fraction must be between 0 and 1, got {test_fraction}")
    if n < 4:
        raise ProbeError(f"a probe needs at least 4 images, got {n}")
    rows = np.random.default_rng(seed).permutation(n)[: max(4, min(n, int(max_images)))]
    n_test = min(len(rows) - 2, max(2, int(round(len(rows) * test_fraction))))
    return np.sort(rows[:-n_test]), np.sort(rows[-n_test:])


def _standardised(
    features: np.ndarray, train_idx: np.ndarray, test_idx: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Train and test rows, scaled by the training rows' mean and std (constant columns left unscaled)."""
    x = np.asarray(features, dtype=np.float64).reshape(len(features), -1)
    if not np.all(np.isfinite(x)):
        raise ProbeError("features contain NaN or infinite values")
    train, test = x[train_idx], x[test_idx]
    mean, std = train.mean(axis=0), train.std(axis=0)
    std = np.where(std > 1e-12, std, 1.0)
    return (train - mean) / std, (test - mean) / std


def classification_probe(
    features: np.ndarray, targets: np.ndarray, train_idx: np.ndarray, test_idx: np.ndarray
) -> tuple[float, float]:
    """Held-out accuracy of a logistic regression from features to class targets, and the chance level."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(targets).reshape(-1)
    if len(y) != len(features):
        raise ProbeError(f"{len(y)} targets for {len(features)} feature rows")
    if np.unique(y[train_idx]).size < 2:
        raise ProbeError("the training part holds only one class: a probe needs at least two")
    x_train, x_test = _standardised(features, train_idx, test_idx)
    clf = LogisticRegression(C=LOGISTIC_C, max_iter=MAX_ITER)
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", ConvergenceWarning
        )  # the score after MAX_ITER steps is what we report
        clf.fit(x_train, y[train_idx])
    accuracy = float(np.mean(clf.predict(x_test) == y[test_idx]))
    _, counts = np.unique(y[test_idx], return_counts=True)
    return accuracy, float(counts.max() / counts.sum())


def regression_probe(
    features: np.ndarray, values: np.ndarray, train_idx: np.ndarray, test_idx: np.ndarray
) -> float:
    """Held-out R² of a ridge fit from features to a continuous value (≤ 0: no better than a mean)."""
    from sklearn.linear_model import Ridge
    from sklearn.metrics import r2_score

    y = np.asarray(values, dtype=np.float64).reshape(-1)
    if len(y) != len(features) or not np.all(np.isfinite(y)):
        raise ProbeError("factor values must be finite, one per image")
    x_train, x_test = _standardised(features, train_idx, test_idx)
    reg = Ridge(alpha=RIDGE_ALPHA).fit(x_train, y[train_idx])
    return float(r2_score(y[test_idx], reg.predict(x_test)))


def factor_is_discrete(values: np.ndarray) -> bool:
    """Whether a factor is probed as classes (few distinct values) rather than by regression."""
    return np.unique(np.asarray(values)).size <= DISCRETE_FACTOR_MAX_VALUES


def probe_targets(
    labels: np.ndarray | None, factors: np.ndarray | None, factor_names: list[str] | None
) -> list[tuple[str, np.ndarray, str]]:
    """(target name, values, metric) for the labels and for each known factor column."""
    targets = []
    if labels is not None:
        targets.append(("label", np.asarray(labels), "accuracy"))
    if factors is not None:
        factors = np.asarray(factors, dtype=np.float64)
        if factors.ndim == 1:
            factors = factors[:, None]
        names = list(factor_names or [])
        for j in range(factors.shape[1]):
            name = names[j] if j < len(names) else f"factor {j}"
            column = factors[:, j]
            if factor_is_discrete(column):
                targets.append((name, np.unique(column, return_inverse=True)[1], "accuracy"))
            else:
                targets.append((name, column, "r2"))
    return targets


def probe_features(
    features: np.ndarray,
    feature_name: str,
    targets: list[tuple[str, np.ndarray, str]],
    train_idx: np.ndarray,
    test_idx: np.ndarray,
) -> list[ProbeScore]:
    """Run every target's probe on one feature set."""
    features = np.asarray(features).reshape(len(features), -1)
    scores = []
    for target, values, metric in targets:
        if metric == "accuracy":
            score, chance = classification_probe(features, values, train_idx, test_idx)
        else:
            score, chance = regression_probe(features, values, train_idx, test_idx), 0.0
        scores.append(
            ProbeScore(
                feature_name,
                target,
                metric,
                score,
                chance,
                len(train_idx),
                len(test_idx),
                int(features.shape[1]),
            )
        )
    return scores


def untrained_encoder(config: VAEConfig, seed: int = PROBE_SEED) -> VAE:
    """A freshly initialised VAE of the same config (weights from `seed`; global RNG untouched), eval mode."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        model = build_vae(config)
    return model.eval()


def shipped_twin_path(checkpoint_path: str | Path) -> Path | None:
    """The plain-autoencoder twin of a checkpoint when there is one (the shipped VAE's), else None."""
    try:
        same = Path(checkpoint_path).resolve() == DEFAULT_MODEL_PATH.resolve()
    except OSError:
        return None
    return SHIPPED_TWIN_PATH if same and SHIPPED_TWIN_PATH.is_file() else None


def probe_report(
    model: VAE,
    images: np.ndarray,
    labels: np.ndarray | None,
    *,
    factors: np.ndarray | None = None,
    factor_names: list[str] | None = None,
    twin: VAE | None = None,
    split: tuple[np.ndarray, np.ndarray] | None = None,
    seed: int = PROBE_SEED,
    latent_means: np.ndarray | None = None,
) -> list[ProbeScore]:
    """The probe table: every target on μ, raw pixels, the twin's μ (if given), an untrained encoder's μ."""
    targets = probe_targets(labels, factors, factor_names)
    if not targets:
        raise ProbeError("this dataset has neither labels nor factors: there is nothing to probe for")
    train_idx, test_idx = split if split is not None else probe_split(len(images), seed=seed)
    rows = np.concatenate([train_idx, test_idx])
    if rows.min(initial=0) < 0 or rows.max(initial=0) >= len(images):
        raise ProbeError(f"split indices must lie in 0..{len(images) - 1}")
    used = np.unique(rows)  # encode only the images the probe uses
    local = {int(r): i for i, r in enumerate(used)}
    tr = np.array([local[int(r)] for r in train_idx])
    te = np.array([local[int(r)] for r in test_idx])
    sub_targets = [(name, np.asarray(values)[used], metric) for name, values, metric in targets]
    sub_images = images[used]
    mu = encode(model, sub_images)[0] if latent_means is None else np.asarray(latent_means)[used]
    feature_sets = [(FEATURES_LATENT, mu), (FEATURES_PIXELS, sub_images.reshape(len(used), -1))]
    if twin is not None:
        feature_sets.append((FEATURES_TWIN, encode(twin, sub_images)[0]))
    feature_sets.append((FEATURES_UNTRAINED, encode(untrained_encoder(model.config, seed), sub_images)[0]))
    return [
        score
        for name, features in feature_sets
        for score in probe_features(features, name, sub_targets, tr, te)
    ]
