"""Building and running the VAE: shapes for every architecture and input size, the ELBO's parts."""

import json

import pytest
import torch

from vae_core.config import ConfigError, VAEConfig
from vae_core.models import build_vae, kl_per_dim, reparameterise

SHAPES = [(1, 8, 8), (1, 28, 28), (3, 32, 32), (1, 30, 30), (3, 64, 64), (1, 13, 21)]


@pytest.mark.parametrize("arch", ["mlp", "conv", "resconv"])
@pytest.mark.parametrize("shape", SHAPES)
def test_encode_decode_shapes(arch, shape):
    cfg = VAEConfig(input_shape=shape, arch=arch, latent_dim=5, hidden=(32, 16), channels=(8, 16))
    model = build_vae(cfg)
    x = torch.rand(3, *shape)
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (3, 5)
    with torch.no_grad():
        out = model.decode(mu)
    assert out.shape == x.shape
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_loss_is_recon_plus_beta_kl(likelihood):
    torch.manual_seed(0)
    model = build_vae(
        VAEConfig(input_shape=(1, 8, 8), arch="mlp", latent_dim=3, beta=4.0, likelihood=likelihood)
    )
    out = model(torch.rand(6, 1, 8, 8))
    assert torch.allclose(out.loss, out.recon + 4.0 * out.kl)
    assert out.kl >= 0


def test_kl_is_zero_only_at_the_prior():
    zeros = torch.zeros(2, 4)
    assert torch.allclose(kl_per_dim(zeros, zeros), torch.zeros(2, 4))
    assert (kl_per_dim(torch.ones(2, 4), zeros) > 0).all()


def test_reparameterisation_passes_gradients_to_mu_and_sigma():
    mu = torch.zeros(5, 3, requires_grad=True)
    logvar = torch.zeros(5, 3, requires_grad=True)
    reparameterise(mu, logvar).pow(2).sum().backward()
    assert mu.grad is not None and logvar.grad is not None
    assert logvar.grad.abs().sum() > 0


@pytest.mark.parametrize(
    "bad",
    [
        {"input_shape": (2, 28, 28)},
        {"input_shape": (1, 4, 4)},
        {"input_shape": (1, 512, 512)},
        {"arch": "transformer"},
        {"latent_dim": 0},
        {"latent_dim": 10_000},
        {"hidden": (10**7,)},
        {"beta": -1.0},
        {"likelihood": "poisson"},
    ],
)
def test_config_refuses_what_cannot_be_built(bad):
    with pytest.raises(ConfigError):
        VAEConfig(**bad)


def test_config_json_round_trip():
    cfg = VAEConfig(input_shape=(3, 32, 32), arch="conv", latent_dim=7, beta=2.5)
    assert VAEConfig.from_json(cfg.to_json()) == cfg
    with pytest.raises(ConfigError, match="unknown config keys"):
        VAEConfig.from_dict({**json.loads(cfg.to_json()), "evil": 1})
