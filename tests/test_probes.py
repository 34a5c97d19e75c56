"""Linear probes: μ → labels beats chance on the shipped model; same-split baselines; the CLI prints it."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from vae_core import DEFAULT_MODEL_PATH
from vae_core.probes import (
    FEATURES_LATENT,
    FEATURES_PIXELS,
    FEATURES_TWIN,
    FEATURES_UNTRAINED,
    ProbeError,
    classification_probe,
    probe_features,
    probe_report,
    probe_split,
    probe_targets,
    regression_probe,
    shipped_twin_path,
    untrained_encoder,
)


@pytest.fixture(scope="module")
def shipped():
    from vae_core.checkpoint import load_checkpoint

    return load_checkpoint(DEFAULT_MODEL_PATH)


@pytest.fixture(scope="module")
def shipped_report(shipped, digits):
    from vae_core.checkpoint import load_checkpoint

    twin = load_checkpoint(shipped_twin_path(DEFAULT_MODEL_PATH)).model
    return probe_report(shipped.model, digits.images, digits.labels, twin=twin)


def by_features(report):
    return {s.features: s for s in report if s.target == "label"}


def test_the_probe_on_the_shipped_model_beats_chance_by_far(shipped_report):
    latent = by_features(shipped_report)[FEATURES_LATENT]
    assert latent.metric == "accuracy"
    assert latent.chance < 0.2  # ten classes of roughly equal size
    assert latent.score > 0.8 > latent.chance * 3
    assert latent.n_train + latent.n_test == 1797 and latent.n_features == 8


def test_every_baseline_is_in_the_table_with_the_same_split(shipped_report):
    rows = by_features(shipped_report)
    assert set(rows) == {FEATURES_LATENT, FEATURES_PIXELS, FEATURES_TWIN, FEATURES_UNTRAINED}
    assert {(r.n_train, r.n_test, r.chance) for r in rows.values()} == {
        (rows[FEATURES_LATENT].n_train, rows[FEATURES_LATENT].n_test, rows[FEATURES_LATENT].chance)
    }
    assert rows[FEATURES_PIXELS].n_features == 64
    # an 8-d random projection through an untrained net knows less than the trained code
    assert rows[FEATURES_UNTRAINED].score < rows[FEATURES_LATENT].score


def test_the_untrained_baseline_is_the_same_probe_on_a_seeded_fresh_encoder(shipped, digits, shipped_report):
    from vae_core.latents import encode

    before = torch.get_rng_state()
    fresh = untrained_encoder(shipped.config, seed=0)
    assert torch.equal(torch.get_rng_state(), before)  # the global RNG is left alone
    again = untrained_encoder(shipped.config, seed=0)
    assert all(torch.equal(p, q) for p, q in zip(fresh.parameters(), again.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(fresh.parameters(), shipped.model.parameters()))
    train_idx, test_idx = probe_split(len(digits.images))
    features = encode(fresh, digits.images)[0]
    by_hand = probe_features(
        features, FEATURES_UNTRAINED, probe_targets(digits.labels, None, None), train_idx, test_idx
    )
    assert by_hand[0].score == pytest.approx(by_features(shipped_report)[FEATURES_UNTRAINED].score)


def test_split_is_fixed_disjoint_and_capped():
    a_train, a_test = probe_split(1000)
    b_train, b_test = probe_split(1000)
    np.testing.assert_array_equal(a_train, b_train)
    np.testing.assert_array_equal(a_test, b_test)
    assert len(np.intersect1d(a_train, a_test)) == 0 and len(a_train) + len(a_test) == 1000
    train, test = probe_split(50_000, max_images=2_000)
    assert len(train) + len(test) == 2_000
    with pytest.raises(ProbeError):
        probe_split(3)


def test_factors_get_accuracy_when_discrete_and_r2_when_continuous():
    rng = np.random.default_rng(0)
    n = 600
    shape = rng.integers(0, 3, n)
    position = rng.uniform(0, 1, n)
    features = np.column_stack(
        [position * 4 + rng.normal(0, 0.05, n), np.eye(3)[shape] + rng.normal(0, 0.1, (n, 3))]
    )
    targets = probe_targets(None, np.column_stack([shape, position]), ["shape", "x position"])
    assert [(name, metric) for name, _, metric in targets] == [("shape", "accuracy"), ("x position", "r2")]
    train, test = probe_split(n)
    scores = {s.target: s for s in probe_features(features, "f", targets, train, test)}
    assert scores["shape"].score > 0.95 and scores["x position"].score > 0.95
    noise = rng.normal(size=(n, 4))
    assert regression_probe(noise, position, train, test) < 0.1


def test_probe_refuses_what_it_cannot_fit(shipped, digits):
    train, test = probe_split(100)
    with pytest.raises(ProbeError, match="one class"):
        classification_probe(np.zeros((100, 2)), np.zeros(100), train, test)
    with pytest.raises(ProbeError, match="nothing to probe"):
        probe_report(shipped.model, digits.images[:100], None)


def test_cli_probe_prints_the_table_as_json(capsys):
    from vae_core.cli import main

    assert main(["probe", str(DEFAULT_MODEL_PATH), "--dataset", "digits", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    rows = {(r["features"], r["target"]): r for r in out["probes"]}
    latent = rows[(FEATURES_LATENT, "label")]
    assert latent["score"] > latent["chance"] + 0.5
    assert (FEATURES_TWIN, "label") in rows and (FEATURES_UNTRAINED, "label") in rows
    assert out["split"] == {"n_train": latent["n_train"], "n_test": latent["n_test"], "seed": 0}


def test_cli_probe_refuses_what_it_cannot_probe_in_one_line(digits, tmp_path, capsys):
    from vae_core.augment import npz_bytes
    from vae_core.cli import main

    unlabelled = tmp_path / "unlabelled.npz"
    unlabelled.write_bytes(npz_bytes(digits.images[:50], None))
    assert main(["probe", str(DEFAULT_MODEL_PATH), "--dataset", f"npz:{unlabelled}"]) == 2
    assert "nothing to probe" in capsys.readouterr().err
    wrong_shape = tmp_path / "big.npz"
    wrong_shape.write_bytes(npz_bytes(np.zeros((20, 1, 16, 16), np.float32), np.arange(20) % 2))
    assert main(["probe", str(DEFAULT_MODEL_PATH), "--dataset", f"npz:{wrong_shape}"]) == 2
    assert "train a model on this dataset first" in capsys.readouterr().err


def test_the_readme_quotes_the_shipped_models_probe_table(shipped_report, repo_root):
    import re

    text = " ".join((repo_root / "README.md").read_text().split())
    found = re.search(
        r"gives ([\d.]+) % from μ \(8 numbers\), ([\d.]+) % from the 64 pixels, ([\d.]+) % from the "
        r"plain-autoencoder twin and ([\d.]+) % from an untrained encoder \(chance ([\d.]+) %\)",
        text,
    )
    assert found, "the README no longer quotes the shipped model's probe table"
    rows = by_features(shipped_report)
    measured = [
        rows[FEATURES_LATENT].score,
        rows[FEATURES_PIXELS].score,
        rows[FEATURES_TWIN].score,
        rows[FEATURES_UNTRAINED].score,
        rows[FEATURES_LATENT].chance,
    ]
    for quoted, value in zip(found.groups(), measured):
        assert float(quoted) == pytest.approx(100 * value, abs=0.25)  # one held-out image is 0.22 points


SHAPES_PROBE_SPEC = "shapes:2000"  # 1,500 images fit each probe, 500 held out


@pytest.fixture(scope="module")
def shapes_for_probes():
    from vae_core.data import load_dataset

    return load_dataset(SHAPES_PROBE_SPEC)


@pytest.mark.slow
@pytest.mark.parametrize("model_key", ["shapes_beta1", "shapes_betavae"])
def test_on_real_shapes_the_position_probe_from_mu_beats_the_untrained_encoder_and_chance(
    shapes_for_probes, model_key
):
    """The shipped shapes models: a probe from μ to x and y position (16 levels each, probed as classes) beats
    the same probe on an untrained encoder of the same architecture, and chance by far. Raw pixels read
    position better still (a sprite's place is where its pixels are lit), and are in the table beside them."""
    from explorer_ui.state import SHIPPED_SHAPES_MODELS
    from vae_core.checkpoint import load_checkpoint

    model = load_checkpoint(SHIPPED_SHAPES_MODELS[model_key][1]).model
    names = list(shapes_for_probes.factor_names)
    columns = [names.index("x position"), names.index("y position")]
    report = probe_report(
        model,
        shapes_for_probes.images,
        None,
        factors=shapes_for_probes.factors[:, columns],
        factor_names=[names[j] for j in columns],
    )
    rows = {(s.features, s.target): s for s in report}
    assert {s.features for s in report} == {FEATURES_LATENT, FEATURES_PIXELS, FEATURES_UNTRAINED}
    for target in ("x position", "y position"):
        latent = rows[(FEATURES_LATENT, target)]
        untrained = rows[(FEATURES_UNTRAINED, target)]
        assert latent.metric == untrained.metric == "accuracy"
        assert (latent.n_train, latent.n_test, latent.chance) == (
            untrained.n_train,
            untrained.n_test,
            untrained.chance,
        )  # the baseline is the same probe on the same split
        assert latent.score > untrained.score + 0.05
        assert latent.chance < 0.1 and latent.score > 3 * latent.chance
        assert rows[(FEATURES_PIXELS, target)].n_features == 32 * 32


def test_cli_probe_reports_every_factor_of_shapes(capsys):
    """`python -m vae_core probe FILE --dataset shapes --json` has a row per factor (and the label) for μ and
    each baseline, on one split."""
    from explorer_ui.state import SHIPPED_SHAPES_MODELS
    from vae_core.cli import main
    from vae_core.shapes import FACTOR_NAMES

    path = SHIPPED_SHAPES_MODELS["shapes_beta1"][1]
    assert main(["probe", str(path), "--dataset", "shapes:200", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["twin"] is None and out["split"]["n_train"] + out["split"]["n_test"] == 200
    targets = {"label", *FACTOR_NAMES}
    for features in (FEATURES_LATENT, FEATURES_PIXELS, FEATURES_UNTRAINED):
        rows = {r["target"]: r for r in out["probes"] if r["features"] == features}
        assert set(rows) == targets
        assert all(r["metric"] == "accuracy" and 0.0 <= r["score"] <= 1.0 for r in rows.values())
        assert rows["x position"]["n_train"] == out["split"]["n_train"]
