"""Out-of-range parameters are clamped or refused with a message, wherever they come from: vae_core's
generation functions, what the browser's slider pad and map selection send, the CLI, and the session values
the pages read. Widget values sent over the websocket are covered in tests/test_hostile_app.py."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from explorer_ui.latent_pad_frontend.protocol import values_from_pad_state
from explorer_ui.selection import selected_indices
from explorer_ui.state import INTERP_END, INTERP_START, SELECTION, SLIDER_ORIGIN
from vae_core import DEFAULT_MODEL_PATH
from vae_core.checkpoint import load_checkpoint
from vae_core.explore import interpolation, rank_worst, samples_with_nearest
from vae_core.generate import (
    ENDPOINT_LIMIT,
    LATENT_LIMIT,
    MAX_SAMPLES,
    MAX_STEPS,
    MAX_TEMPERATURE,
    decode_to_uint8,
    interpolate,
    sample_latents,
    traverse,
)
from vae_core.latent_input import as_latent, latent_tensor
from vae_core.sliders import SLIDER_LIMIT

NAN, INF = float("nan"), float("inf")


@pytest.fixture(scope="module")
def shipped():
    return load_checkpoint(DEFAULT_MODEL_PATH).model


# ---------------------------------------------------------------- vae_core.generate


@pytest.mark.parametrize(
    ("count", "expected"), [(0, 1), (-5, 1), (10**9, MAX_SAMPLES), (2.7, 2), ("5", 5), (True, 1)]
)
def test_sample_count_is_clamped(count, expected):
    assert sample_latents(count, 3).shape == (expected, 3)


@pytest.mark.parametrize("count", [NAN, INF, -INF, None, "many", [3]])
def test_sample_count_that_is_not_a_number_is_refused(count):
    with pytest.raises(ValueError, match="sample count must be a whole number"):
        sample_latents(count, 3)


def test_temperature_is_capped_at_the_maximum():
    hot = sample_latents(50, 4, temperature=1e9, seed=1)
    assert torch.equal(hot, sample_latents(50, 4, temperature=MAX_TEMPERATURE, seed=1))


@pytest.mark.parametrize("temperature", [NAN, INF, -1.0, -1e-9, None, "hot"])
def test_bad_temperature_is_refused(temperature):
    with pytest.raises(ValueError, match="temperature must be a finite number"):
        sample_latents(4, 3, temperature=temperature)


@pytest.mark.parametrize("seed", [2**80, NAN, INF, "abc", [1]])
def test_seed_torch_cannot_take_is_refused(seed):
    with pytest.raises(ValueError, match="seed must be a whole number"):
        sample_latents(4, 3, seed=seed)


def test_any_seed_in_range_works_and_repeats():
    for seed in (0, 2**31 - 1, 2**64 - 1, -1):
        assert torch.equal(sample_latents(3, 2, seed=seed), sample_latents(3, 2, seed=seed))


def test_latent_size_below_one_is_refused():
    with pytest.raises(ValueError, match="latent size"):
        sample_latents(4, 0)


@pytest.mark.parametrize(("steps", "expected"), [(-3, 2), (0, 2), (1, 2), (10**6, MAX_STEPS), (7.9, 7)])
def test_interpolation_steps_are_clamped(steps, expected):
    assert interpolate(torch.zeros(3), torch.ones(3), steps).shape == (expected, 3)


@pytest.mark.parametrize("steps", [NAN, INF, None, "ten"])
def test_interpolation_steps_that_are_not_numbers_are_refused(steps):
    with pytest.raises(ValueError, match="steps must be a whole number"):
        interpolate(torch.zeros(3), torch.ones(3), steps)


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ([NAN, 0, 0], [1, 1, 1], "NaN or infinite"),
        ([0, 0, 0], [INF, 1, 1], "NaN or infinite"),
        ([0, 0, 0], [1, 1], "same size"),
        ([], [], "empty"),
        (["a", 0, 0], [1, 1, 1], "list of numbers"),
        ([0, 0, 0], [1e30, 1, 1], "beyond"),
    ],
    ids=["nan-start", "inf-end", "sizes-differ", "empty", "strings", "astronomical"],
)
@pytest.mark.parametrize("method", ["linear", "spherical"])
def test_bad_interpolation_endpoints_are_refused(start, end, message, method):
    with pytest.raises(ValueError, match=message):
        interpolate(start, end, 5, method)


def test_large_but_finite_endpoints_still_give_a_finite_path():
    far = torch.full((4,), ENDPOINT_LIMIT)
    for method in ("linear", "spherical"):
        assert torch.isfinite(interpolate(far, -far, 9, method)).all()


def test_traversal_values_are_clamped_to_the_latent_limit():
    out = traverse(torch.zeros(3), 1, [-1e9, 0.5, 1e9])
    assert out[:, 1].tolist() == [-LATENT_LIMIT, 0.5, LATENT_LIMIT]


@pytest.mark.parametrize(
    ("z", "dim", "values", "message"),
    [
        ([0, 0, 0], 0, [NAN], "NaN or infinite"),
        ([0, 0, 0], NAN, [0.0], "whole number"),
        ([0, 0, 0], INF, [0.0], "whole number"),
        ([0, 0, 0], -1, [0.0], r"0\.\.2"),
        ([0, 0, 0], 3, [0.0], r"0\.\.2"),
        ([0, 0, 0], 10**12, [0.0], r"0\.\.2"),
        ([NAN, 0, 0], 1, [0.0], "NaN or infinite"),
        ([0, 0, 0], 1, np.zeros(MAX_SAMPLES + 1), "at most"),
    ],
    ids=[
        "nan-value",
        "nan-dim",
        "inf-dim",
        "negative-dim",
        "dim-too-big",
        "huge-dim",
        "nan-z",
        "too-many-values",
    ],
)
def test_bad_traversals_are_refused(z, dim, values, message):
    with pytest.raises(ValueError, match=message):
        traverse(torch.tensor(z, dtype=torch.float32), dim, values)


@pytest.mark.parametrize(
    ("z", "message"),
    [
        ([NAN, 0, 0], "NaN"),
        ([INF, 0, 0], "NaN"),
        ([0, 0], "3 values"),
        (None, "list of numbers"),
        (["x", 0, 0], "list of numbers"),
        ({"a": 1}, "list of numbers"),
        ([[1, 2], [3]], "list of numbers"),
    ],
)
def test_latent_tensor_refuses_what_is_not_a_finite_vector(z, message):
    with pytest.raises(ValueError, match=message):
        latent_tensor(z, 3)


def test_latent_tensor_clamps_finite_values():
    assert latent_tensor([1e300, -1e300, 0.25], 3).tolist() == [LATENT_LIMIT, -LATENT_LIMIT, 0.25]


@pytest.mark.parametrize(
    ("z", "message"),
    [
        (torch.full((1, 8), NAN), "NaN or infinite"),
        (torch.full((2, 8), INF), "NaN or infinite"),
        (torch.zeros(1, 3), r"shape \(N, 8\)"),
        (torch.zeros(2, 2, 8), r"shape \(N, 8\)"),
    ],
    ids=["nan", "inf", "wrong-size", "wrong-rank"],
)
def test_decoding_refuses_latents_the_model_cannot_take(shipped, z, message):
    with pytest.raises(ValueError, match=message):
        decode_to_uint8(shipped, z)


# ---------------------------------------------------------------- what the browser sends: the slider pad


@pytest.mark.parametrize(
    "values",
    [
        [NAN] * 4,
        [INF, 0, 0, 0],
        "abcd",
        {"0": 1},
        [[1, 2], [3]],
        list(range(10**5)),
        None,
        [None] * 4,
        ["1", "x", "2", "3"],
        True,
    ],
    ids=["nan", "inf", "string", "dict", "nested", "huge-list", "none", "nones", "strings", "bool"],
)
def test_pad_values_that_are_not_a_vector_fall_back_to_the_current_one(values):
    fallback = np.array([0.5, -0.5, 1.0, 0.0])
    z, seq, dragging = values_from_pad_state(
        {"generation": 3, "seq": 9, "values": values, "dragging": True}, 3, fallback
    )
    assert np.array_equal(z, fallback) and seq == 9 and dragging is False


def test_pad_values_are_clamped_to_the_slider_range():
    z, _, _ = values_from_pad_state(
        {"generation": 0, "seq": 1, "values": [1e308, -1e308, 2.0]}, 0, np.zeros(3)
    )
    assert z.tolist() == [SLIDER_LIMIT, -SLIDER_LIMIT, 2.0]


@pytest.mark.parametrize(
    "state",
    [
        None,
        [],
        "z",
        7,
        {"generation": "0", "seq": 1, "values": [9, 9]},
        {"generation": [0], "values": [9, 9]},
        {"seq": -5, "generation": 0, "values": [0, 0]},
        {"seq": "x", "generation": 0, "values": [0, 0]},
        {"seq": {}, "generation": 0, "values": [0, 0]},
        {"seq": 1e300, "generation": 0, "values": [0, 0]},
        {"seq": NAN, "generation": 0, "values": [0, 0]},
    ],
)
def test_malformed_pad_states_never_raise(state):
    z, seq, dragging = values_from_pad_state(state, 0, np.zeros(2))
    assert z.shape == (2,) and np.isfinite(z).all() and isinstance(seq, int) and seq >= 0


def test_pad_sequence_number_of_infinity_never_raises():
    state = json.loads('{"generation": 0, "seq": Infinity, "values": [0, 0]}')
    z, seq, _ = values_from_pad_state(state, 0, np.zeros(2))
    assert seq >= 0 and z.shape == (2,)


def test_as_latent_refuses_wrong_sizes_and_non_finite_values():
    for bad, message in (([1, 2], "3 values"), ([NAN, 0, 0], "NaN"), ("abc", "numbers|3 values")):
        with pytest.raises(ValueError, match=message):
            as_latent(bad, 3, limit=SLIDER_LIMIT)


# ---------------------------------------------------------------- what the browser sends: the map selection


@pytest.mark.parametrize(
    "points",
    [
        [
            {"customdata": "abc"},
            {"customdata": [5]},
            {"customdata": -1},
            {"customdata": 1e300},
            {"customdata": None},
        ],
        [{"customdata": NAN}, {"customdata": 3}],
        [{"customdata": [[1]]}, {"customdata": {"x": 1}}, {"customdata": 2.9}],
        "not a list",
        [1, 2, None],
    ],
    ids=["mixed-junk", "nan", "nested", "string", "bare-numbers"],
)
def test_selection_events_with_junk_give_only_valid_row_indices(points):
    picked = selected_indices({"selection": {"points": points, "point_indices": []}}, 10)
    assert all(isinstance(i, int) and 0 <= i < 10 for i in picked)


def test_selection_event_with_infinity_is_ignored():
    event = json.loads(
        '{"selection": {"points": [{"customdata": Infinity}, {"customdata": 4}], "point_indices": []}}'
    )
    assert selected_indices(event, 10) == [4]


# ---------------------------------------------------------------- explore: what the pages call


def test_sample_count_and_temperature_are_clamped_for_the_pages(shipped):
    assert samples_with_nearest(shipped, 10**9, 1.0, 0).images.shape[0] == MAX_SAMPLES
    with pytest.raises(ValueError, match="temperature"):
        samples_with_nearest(shipped, 4, NAN, 0)


def test_interpolation_for_the_pages_clamps_steps(shipped):
    assert interpolation(shipped, np.zeros(8), np.ones(8), 10**9).frames.shape[0] == MAX_STEPS
    assert interpolation(shipped, np.zeros(8), np.ones(8), -4).frames.shape[0] == 2


def test_interpolation_for_the_pages_refuses_non_numeric_steps_with_a_message(shipped):
    for steps in (INF, NAN):
        with pytest.raises(ValueError, match="steps must be a whole number"):
            interpolation(shipped, np.zeros(8), np.ones(8), steps)


def test_ranking_clamps_k():
    assert rank_worst(np.arange(5.0), -1).tolist() == []
    assert rank_worst(np.arange(5.0), 10**9).tolist() == [4, 3, 2, 1, 0]


# ---------------------------------------------------------------- the command line


@pytest.mark.slow
def test_cli_refuses_counts_and_steps_outside_their_range_and_takes_the_limits(cli, tmp_path):
    """Counts and steps are checked before any work: outside the range, one line naming the argument."""
    res = cli.run("sample", "-n", "0", "--out", "none.png", cwd=tmp_path)
    assert res.returncode == 2 and "argument -n" in res.stderr and "Traceback" not in res.stderr
    res = cli.run("sample", "-n", str(MAX_SAMPLES), "--out", "many.png", cwd=tmp_path)
    assert res.returncode == 0 and json.loads(res.stdout)["n"] == MAX_SAMPLES
    common = ("interpolate", str(DEFAULT_MODEL_PATH), "--dataset", "digits", "--start", "0", "--end", "5")
    res = cli.run(*common, "--steps", "-3", "--out", "few.gif", cwd=tmp_path)
    assert res.returncode == 2 and "argument --steps" in res.stderr and "Traceback" not in res.stderr
    res = cli.run(*common, "--steps", str(MAX_STEPS), "--out", "lots.gif", cwd=tmp_path)
    assert res.returncode == 0 and json.loads(res.stdout)["steps"] == MAX_STEPS
    assert not (tmp_path / "none.png").exists() and not (tmp_path / "few.gif").exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("sample", "--temperature", "nan", "--out", "x.png"), "temperature"),
        (("sample", "--temperature", "inf", "--out", "x.png"), "temperature"),
        (("sample", "--temperature", "-1", "--out", "x.png"), "temperature"),
        (("sample", "--seed", str(2**80), "--out", "x.png"), "seed"),
        (
            (
                "interpolate",
                str(DEFAULT_MODEL_PATH),
                "--dataset",
                "digits",
                "--start",
                "-1",
                "--end",
                "3",
                "--out",
                "x.gif",
            ),
            "argument --start",  # a negative index is refused before any work,
        ),
        (
            (
                "interpolate",
                str(DEFAULT_MODEL_PATH),
                "--dataset",
                "digits",
                "--start",
                "0",
                "--end",
                "99999",
                "--out",
                "x.gif",
            ),
            "outside the dataset",
        ),
        (("evaluate", str(DEFAULT_MODEL_PATH), "--dataset", "digits", "--val-fraction", "2"), "val_fraction"),
        (("train", "--dataset", "digits", "--epochs", "0", "--quiet", "--out", "t.safetensors"), "epochs"),
        (
            ("train", "--dataset", "digits", "--latent-dim", "0", "--quiet", "--out", "t.safetensors"),
            "latent_dim",
        ),
        (
            ("train", "--dataset", "digits", "--latent-dim", "100000", "--quiet", "--out", "t.safetensors"),
            "latent_dim",
        ),
        (
            ("train", "--dataset", "digits", "--batch-size", "0", "--quiet", "--out", "t.safetensors"),
            "batch size",
        ),
        (("train", "--dataset", "digits", "--lr", "nan", "--quiet", "--out", "t.safetensors"), "lr"),
        (
            ("train", "--dataset", "digits", "--time-budget", "inf", "--quiet", "--out", "t.safetensors"),
            "time budget",
        ),
        (("train", "--dataset", "digits", "--beta", "nan", "--quiet", "--out", "t.safetensors"), "beta"),
        (
            ("train", "--dataset", "digits", "--augment-shift", "99", "--quiet", "--out", "t.safetensors"),
            "augment_shift",
        ),
    ],
    ids=lambda v: (
        v
        if isinstance(v, str)
        else "-".join(
            a for a in v if a.startswith("--") or a in ("sample", "train", "evaluate", "interpolate")
        )
    ),
)
def test_cli_refuses_out_of_range_arguments_in_one_line(cli, tmp_path, args, message):
    res = cli.run(*args, cwd=tmp_path)
    assert res.returncode == 2, res.stderr[-2000:]
    last = res.stderr.strip().splitlines()[-1]

    def norm(text: str) -> str:
        return text.lower().replace("_", "-").replace(" ", "-")

    # one line naming what was wrong: "error: …" from the library, or argparse's "…: error: argument --x: …"
    assert "error:" in last and norm(message) in norm(last) and "Traceback" not in res.stderr
    assert not any(p.suffix == ".safetensors" for p in tmp_path.iterdir())


@pytest.mark.slow
def test_cli_refuses_an_absurd_upscale_factor(cli, tmp_path):
    res = cli.run("sample", "--scale", "100000", "--out", "x.png", cwd=tmp_path)
    assert res.returncode == 2 and "Traceback" not in res.stderr and "scale" in res.stderr


# ---------------------------------------------------------------- session values the pages read


@pytest.fixture()
def app():
    from app_helpers import router_runs_every_time, start_app

    with router_runs_every_time():
        yield start_app(timeout=120)


def test_interpolate_page_clamps_endpoints_left_from_a_larger_dataset(app):
    """INTERP_START/END are dataset row indices set on the map; out-of-range ones are clamped, not trusted."""
    from app_helpers import goto

    app.session_state[INTERP_START] = 10**9
    app.session_state[INTERP_END] = -7
    goto(app, "interpolate")
    assert app.number_input(key="interp_w_start").value == 1796
    assert app.number_input(key="interp_w_end").value == 0


def test_sliders_page_ignores_a_slider_origin_that_does_not_fit(app):
    """SLIDER_ORIGIN set to NaNs or the wrong length (another model's μ): the page starts from the origin."""
    from app_helpers import goto

    for origin in ([NAN] * 8, [0.1] * 3, [INF] * 8):
        app.session_state[SLIDER_ORIGIN] = origin
        goto(app, "latent_sliders")
        assert all(math.isfinite(v) for v in app.session_state["sliders_vector"])
        assert len(app.session_state["sliders_vector"]) == 8


def test_map_page_drops_selected_rows_outside_the_dataset(app):
    from app_helpers import goto

    app.session_state[SELECTION] = [-1, 3, 10**9, 5]
    goto(app, "latent_map")
    assert any("2 selected" in s.value for s in app.subheader)


def test_the_one_integer_clamp_and_the_one_latent_validator():
    from vae_core.latent_input import clamp_int

    assert clamp_int("7", 0, 5, "count") == 5 and clamp_int(-3.9, -2, 2, "count") == -2
    for bad in (NAN, INF, None, "seven"):
        with pytest.raises(ValueError, match="count must be a whole number"):
            clamp_int(bad, 0, 5, "count")
    assert as_latent(torch.tensor([0.5, 20.0]), 2).tolist() == [0.5, LATENT_LIMIT]  # tensors too, clamped
    with pytest.raises(ValueError, match="start point has values beyond"):
        as_latent([0.5, 20.0], 2, beyond="refuse", name="start point")
    with pytest.raises(ValueError, match="beyond must be"):
        as_latent([0.5], 1, beyond="wrap")
