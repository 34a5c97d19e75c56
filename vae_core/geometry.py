"""The decoder's geometry: the pull-back metric, magnification over the map plane, curve lengths, geodesics,
and the aggregate posterior against the prior (where the prior has holes).

The decoder mean f: z ↦ E[x | z] (the sigmoid of the logits, flattened to P pixels) bends the latent space:
a step dz moves the image by J dz with J = ∂f/∂z, so image distance is measured by the pull-back metric
G(z) = JᵀJ (Arvanitidis, Hansen & Hauberg, "Latent Space Oddity", ICLR 2018). Its volume element √det G,
the *magnification factor*, says how much image change one unit of latent area buys.

Off the data a single decoder's metric is unreliable: nothing was trained there, so f can be flat and a
shortest path happily cuts through regions that decode to nonsense. Arvanitidis et al. make the decoder's
variance grow away from the data and use the *expected* metric G = J_μᵀJ_μ + J_σᵀJ_σ. We follow that recipe
with the aggregate posterior as the "where the data is" estimate instead of their post-hoc RBF network: every
pixel gets the same standard deviation s(z) = σ_max · sigmoid((log q_ref − 3 − log q(z)) / τ), ~0 where the
aggregate posterior q(z) = mean_n N(z; μ_n, σ_n²) has mass and σ_max = 0.5 (the spread of a pixel one knows
nothing about) far from it. That is the pull-back of the embedding h(z) = [f(z), √P · s(z)], so the geodesic
minimises curve energy in h-space and every `length` reported next to a geodesic is measured in that same
metric; the plain decoder-mean image-space lengths are reported beside it (`image_length`).
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch.func import jvp, vmap

from .errors import InputError
from .generate import INTERPOLATIONS, decode_to_uint8, interpolate, sample_latents
from .latent_input import ENDPOINT_LIMIT, clamp_int, latent_tensor
from .latents import batch_tensor, image_scores
from .models import VAE, reparameterise
from .projection import PCAProjection

PATH_METHODS = (*INTERPOLATIONS, "geodesic")  # the paths the Interpolate page and the CLI compare
MAX_GRID = 256  # magnification / density grids: at most 256 × 256 points
MAX_GEODESIC_STEPS = 128
MAX_ITERATIONS = 2000
GEODESIC_EVALUATIONS = 60  # energy + gradient evaluations per geodesic (L-BFGS)
OFF_DATA_SIGMA = 0.5  # per-pixel std far from the data: a pixel in [0, 1] we know nothing about
OFF_DATA_QUANTILE = (
    0.02  # log q_ref: this quantile of log q at the encoded means (98 % of the data counts as "on")
)
OFF_DATA_MARGIN = 3.0  # nats: s(z) is half-way up where q(z) is e³ ≈ 20× below q_ref (≈ 0 on the data)
OFF_DATA_TEMPERATURE = 1.0  # nats: how sharply s(z) switches on as log q(z) falls below that
MAX_COMPONENTS = 1024  # aggregate-posterior components kept for densities evaluated inside an optimiser
LOG_2PI = math.log(2 * math.pi)

DecoderFn = Callable[[torch.Tensor], torch.Tensor]


def decoder_mean(model: VAE | DecoderFn) -> DecoderFn:
    """f(z): latents (N, D) → flattened decoder-mean images (N, P) in [0, 1]; a callable is used as f."""
    if isinstance(model, VAE):
        return lambda z: model.decode(z).flatten(1)
    return lambda z: model(z).flatten(1)


def _device(model: VAE | DecoderFn) -> torch.device:
    """Where a decoder's weights live (CPU for a plain callable)."""
    return model.device if isinstance(model, VAE) else torch.device("cpu")


# ---------------------------------------------------------------- the pull-back metric


def _as_latents(z: np.ndarray | torch.Tensor, latent_dim: int) -> torch.Tensor:
    """A float32 (N, D) tensor from latents; ValueError for the wrong size, NaN or inf."""
    z = torch.as_tensor(
        np.asarray(z, dtype=np.float32) if not isinstance(z, torch.Tensor) else z, dtype=torch.float32
    )
    if z.ndim == 1:
        z = z.unsqueeze(0)
    if z.ndim != 2 or z.shape[1] != latent_dim:
        raise InputError(f"latents must have shape (N, {latent_dim}) for this model, got {tuple(z.shape)}")
    if not torch.isfinite(z).all():
        raise InputError("latents contain NaN or infinite values")
    return z


def jacobian_along(f: DecoderFn, z: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
    """J(z)·v for each of K directions (K, D) at every point of z (N, D): one JVP per direction, (K, N, P)."""
    with torch.no_grad():
        tangents = directions.to(z).unsqueeze(1).expand(-1, z.shape[0], -1)  # (K, N, D)
        return vmap(lambda t: jvp(f, (z,), (t,))[1])(tangents)


def pullback_metric(model: VAE | DecoderFn, z: np.ndarray | torch.Tensor) -> torch.Tensor:
    """G(z) = J(z)ᵀ J(z) of the decoder mean at each latent point: (N, D, D), symmetric PSD."""
    z = torch.as_tensor(np.asarray(z, dtype=np.float32)) if not isinstance(z, torch.Tensor) else z
    latent_dim = model.config.latent_dim if isinstance(model, VAE) else z.shape[-1]
    z = _as_latents(z, latent_dim).to(_device(model))
    eye = torch.eye(z.shape[1], device=z.device)
    jac = jacobian_along(decoder_mean(model), z, eye)  # (D, N, P): column d of J at every point
    return torch.einsum("inp,jnp->nij", jac, jac).cpu()


def magnification(model: VAE | DecoderFn, z: np.ndarray | torch.Tensor) -> np.ndarray:
    """√det G(z) at each latent point, (N,): the image volume one unit of latent volume maps to."""
    metric = pullback_metric(model, z).double()
    sign, logdet = torch.linalg.slogdet(metric)
    return torch.where(sign > 0, torch.exp(0.5 * logdet), torch.zeros_like(logdet)).numpy()


def plane_magnification(
    model: VAE | DecoderFn, z: np.ndarray | torch.Tensor, basis: np.ndarray, batch_size: int = 1024
) -> np.ndarray:
    """√det((JP)ᵀ(JP)) at each latent point (N,): the metric restricted to the plane spanned by basis (2, D).

    Two JVPs per point (one per plane direction), batched over points; the 2 × 2 Gram determinant is
    |a|²|b|² − (a·b)² with a = J p₁, b = J p₂."""
    basis_t = torch.as_tensor(np.asarray(basis, dtype=np.float32))
    latent_dim = model.config.latent_dim if isinstance(model, VAE) else basis_t.shape[-1]
    if basis_t.shape != (2, latent_dim):
        raise InputError(f"plane basis must have shape (2, {latent_dim}), got {tuple(basis_t.shape)}")
    z = _as_latents(z, latent_dim)
    f, device = decoder_mean(model), _device(model)
    batch_size = clamp_int(batch_size, 1, 65_536, "batch size")
    out = []
    for i in range(0, len(z), batch_size):
        a, b = jacobian_along(f, z[i : i + batch_size].to(device), basis_t.to(device)).double()
        aa, bb, ab = (a * a).sum(1), (b * b).sum(1), (a * b).sum(1)
        out.append(torch.sqrt(torch.clamp(aa * bb - ab * ab, min=0.0)).cpu())
    return torch.cat(out).numpy() if out else np.zeros(0)


@dataclass(frozen=True)
class PlaneGrid:
    """A side × side grid over a map plane: axis values and a value per cell (rows ys, columns xs)."""

    xs: np.ndarray  # (side,) ascending plane x
    ys: np.ndarray  # (side,) ascending plane y
    values: np.ndarray  # (side, side): values[j, i] at (xs[i], ys[j])

    @property
    def cell_area(self) -> float:
        """Area of one grid cell in plane units."""
        return float((self.xs[1] - self.xs[0]) * (self.ys[1] - self.ys[0])) if len(self.xs) > 1 else 0.0

    def points(self) -> np.ndarray:
        """The grid's plane points (side·side, 2), row-major (values.ravel() order)."""
        gx, gy = np.meshgrid(self.xs, self.ys)
        return np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)


def plane_extent(coords: np.ndarray, margin: float = 0.08) -> tuple[tuple[float, float], tuple[float, float]]:
    """The (x, y) ranges of plane points, widened by `margin` of their span on each side."""
    coords = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
    if len(coords) == 0:
        return (-3.0, 3.0), (-3.0, 3.0)
    lo, hi = coords.min(0), coords.max(0)
    pad = np.maximum(hi - lo, 1e-3) * margin
    lo, hi = lo - pad, hi + pad
    return (float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1]))


def _axes(
    extent: tuple[tuple[float, float], tuple[float, float]], side: int
) -> tuple[np.ndarray, np.ndarray]:
    """Evenly spaced x and y axis values over an extent."""
    (x0, x1), (y0, y1) = extent
    return np.linspace(x0, x1, side, dtype=np.float32), np.linspace(y0, y1, side, dtype=np.float32)


def magnification_grid(
    model: VAE,
    pca: PCAProjection,
    side: int = 64,
    extent: tuple[tuple[float, float], tuple[float, float]] | None = None,
) -> PlaneGrid:
    """√det((JP)ᵀ(JP)) on a side × side grid over the PCA map plane (plane → z = mean + xy·P)."""
    side = clamp_int(side, 2, MAX_GRID, "grid side")
    xs, ys = _axes(extent or plane_extent(pca.coords), side)
    grid = PlaneGrid(xs, ys, np.zeros((side, side)))
    values = plane_magnification(model, pca.to_latent(grid.points()), pca.components)
    return PlaneGrid(xs, ys, values.reshape(side, side))


# ---------------------------------------------------------------- the aggregate posterior


@dataclass(frozen=True)
class AggregatePosterior:
    """q(z) = mean_n N(z; μ_n, diag σ_n²): the mixture of the encoded posteriors (or a seeded subset)."""

    means: torch.Tensor  # (M, D)
    logvars: torch.Tensor  # (M, D)

    @functools.cached_property
    def _terms(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """What log_density needs of the mixture, in float64, computed once (a geodesic asks ~60 times):
        [1/σ²; −2μ/σ²] stacked (2D, M), Σ μ²/σ² (M,) and each component's log normaliser and weight (M,)."""
        means, logvars = self.means.double(), self.logvars.double()
        inv_var = torch.exp(-logvars)  # (M, D)
        scaled_means = means * inv_var  # (M, D)
        weights = torch.cat([inv_var, -2.0 * scaled_means], dim=1).T.contiguous()  # (2D, M)
        mean_terms = (means * scaled_means).sum(1)  # (M,)
        const = -0.5 * (logvars.sum(1) + means.shape[1] * LOG_2PI) - math.log(len(means))  # (M,)
        return weights, mean_terms, const

    def log_density(self, z: torch.Tensor, max_elements: int = 2**22) -> torch.Tensor:
        """log q(z) for latents (N, D), differentiable in z; float64 inside, ≤ max_elements per (n, M) chunk.

        The Mahalanobis terms come from matrix products, Σ_d w(z_d − μ_d)² = (z²)·w − 2 z·(μw) + μ²·w, so
        memory is (n, M), not (n, M, D): 1,024 prior draws against 70,000 encoded images in ~32 MB chunks."""
        weights, mean_terms, const = self._terms
        chunk = max(1, max_elements // max(1, len(self.means)))
        parts = []
        for i in range(0, len(z), chunk):
            zc = z[i : i + chunk].double()
            sq = torch.cat([zc * zc, zc], dim=1) @ weights + mean_terms  # (n, M)
            parts.append(torch.logsumexp(const - 0.5 * sq.clamp(min=0.0), dim=1))
        return torch.cat(parts).to(z.dtype) if parts else z.new_zeros(0)


def aggregate_posterior(
    latent_means: np.ndarray, latent_logvars: np.ndarray, max_components: int | None = None, seed: int = 0
) -> AggregatePosterior:
    """The aggregate posterior of encoded (μ, log σ²) (N, D) each; at most max_components (seeded pick)."""
    means = np.asarray(latent_means, dtype=np.float32)
    logvars = np.asarray(latent_logvars, dtype=np.float32)
    if means.ndim != 2 or means.shape != logvars.shape or len(means) == 0:
        raise InputError(
            f"posterior means and log-variances must be two (N, D) arrays, got {means.shape} "
            f"and {logvars.shape}"
        )
    if not (np.isfinite(means).all() and np.isfinite(logvars).all()):
        raise InputError("posterior means or log-variances contain NaN or infinite values")
    if max_components is not None and len(means) > max_components:
        try:
            rng = np.random.default_rng(seed)
        except (TypeError, ValueError) as exc:  # numpy takes whole numbers ≥ 0 only
            raise InputError(f"seed must be a whole number ≥ 0, got {seed!r:.40}") from exc
        keep = np.sort(rng.choice(len(means), size=int(max_components), replace=False))
        means, logvars = means[keep], logvars[keep]
    logvars = np.clip(logvars, -12.0, 8.0)  # a plain autoencoder's σ can collapse to 0; keep densities finite
    return AggregatePosterior(batch_tensor(means), batch_tensor(logvars))


@dataclass(frozen=True)
class DimensionDensities:
    """Per latent dimension: the aggregate posterior's marginal density beside the prior's N(0, 1)."""

    grid: np.ndarray  # (G,) z values
    aggregate: np.ndarray  # (D, G) q_d(z)
    prior: np.ndarray  # (G,) standard normal density


def dimension_densities(
    latent_means: np.ndarray, latent_logvars: np.ndarray, points: int = 161, limit: float = 4.0
) -> DimensionDensities:
    """Each dimension's aggregate-posterior density q_d(x) = mean_n N(x; μ_nd, σ_nd²) on [−limit, limit]."""
    post = aggregate_posterior(latent_means, latent_logvars)
    grid = np.linspace(-limit, limit, clamp_int(points, 3, 2001, "points"))
    mu, sd = post.means.double().numpy(), np.exp(0.5 * post.logvars.double().numpy())  # (N, D)
    dens = np.zeros((mu.shape[1], len(grid)))
    for i in range(0, len(mu), 2048):
        m, s = mu[i : i + 2048, :, None], sd[i : i + 2048, :, None]
        dens += (np.exp(-0.5 * ((grid - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))).sum(0)
    prior = np.exp(-0.5 * grid**2) / math.sqrt(2 * math.pi)
    return DimensionDensities(grid, dens / len(mu), prior)


def plane_density(
    pca: PCAProjection,
    latent_means: np.ndarray,
    latent_logvars: np.ndarray,
    side: int = 64,
    extent: tuple[tuple[float, float], tuple[float, float]] | None = None,
) -> PlaneGrid:
    """The aggregate posterior projected onto the map plane: a mixture of 2-d Gaussians N(P(μ−m), P Σ Pᵀ).

    The default extent covers every component to ±4 of its own spread, so values·cell_area sums to ~1."""
    post = aggregate_posterior(latent_means, latent_logvars)
    comp = pca.components.astype(np.float64)  # (2, D)
    centres = (post.means.double().numpy() - pca.mean) @ comp.T  # (N, 2)
    var = np.exp(post.logvars.double().numpy())  # (N, D)
    cxx, cyy = var @ (comp[0] ** 2), var @ (comp[1] ** 2)
    cxy = var @ (comp[0] * comp[1])
    cxx, cyy = cxx + 1e-9, cyy + 1e-9
    det = cxx * cyy - cxy**2
    if extent is None:
        sx, sy = 4 * np.sqrt(cxx), 4 * np.sqrt(cyy)
        extent = (
            (float((centres[:, 0] - sx).min()), float((centres[:, 0] + sx).max())),
            (float((centres[:, 1] - sy).min()), float((centres[:, 1] + sy).max())),
        )
    side = clamp_int(side, 2, MAX_GRID, "grid side")
    xs, ys = _axes(extent, side)
    pts = PlaneGrid(xs, ys, np.zeros((side, side))).points().astype(np.float64)
    dens = np.zeros(len(pts))
    for i in range(0, len(centres), 1024):
        dx = pts[:, None, 0] - centres[None, i : i + 1024, 0]
        dy = pts[:, None, 1] - centres[None, i : i + 1024, 1]
        a, b, c, d = cxx[i : i + 1024], cyy[i : i + 1024], cxy[i : i + 1024], det[i : i + 1024]
        quad = (b * dx**2 - 2 * c * dx * dy + a * dy**2) / d
        dens += (np.exp(-0.5 * quad) / (2 * math.pi * np.sqrt(d))).sum(1)
    return PlaneGrid(xs, ys, (dens / len(centres)).reshape(side, side))


@dataclass(frozen=True)
class PriorHoles:
    """Prior draws where the aggregate posterior has least mass (the holes), beside typical prior draws."""

    hole_latents: np.ndarray  # (k, D), lowest log q first
    hole_log_q: np.ndarray  # (k,)
    hole_images: np.ndarray  # (k, H, W[, 3]) uint8
    typical_latents: np.ndarray  # (k, D): the first k draws, in draw order
    typical_log_q: np.ndarray  # (k,)
    typical_images: np.ndarray
    draws_log_q: np.ndarray  # (n_draws,) log q of every prior draw, for a histogram


def prior_holes(
    model: VAE,
    latent_means: np.ndarray,
    latent_logvars: np.ndarray,
    k: int = 8,
    n_draws: int = 1024,
    seed: int = 0,
) -> PriorHoles:
    """Draw z ~ N(0, I), rank them by aggregate-posterior log q(z), decode the k lowest and k typical."""
    k = clamp_int(k, 1, 64, "number of holes")
    post = aggregate_posterior(latent_means, latent_logvars)
    draws = sample_latents(n_draws, model.config.latent_dim, 1.0, seed)
    with torch.no_grad():
        log_q = post.log_density(draws).numpy()
    order = np.argsort(log_q, kind="stable")[:k]
    holes, typical = draws[order], draws[:k]
    return PriorHoles(
        holes.numpy(),
        log_q[order],
        decode_to_uint8(model, holes),
        typical.numpy(),
        log_q[:k],
        decode_to_uint8(model, typical),
        log_q,
    )


# ---------------------------------------------------------------- curves and geodesics


@dataclass(frozen=True)
class OffDataScale:
    """s(z) = σ_max · sigmoid((log q_ref − margin − log q(z)) / τ): the pixel std that grows off the data."""

    posterior: AggregatePosterior
    log_q_ref: float
    sigma_max: float = OFF_DATA_SIGMA
    margin: float = OFF_DATA_MARGIN
    temperature: float = OFF_DATA_TEMPERATURE

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        """s(z) for latents (N, D), shape (N,)."""
        gap = self.log_q_ref - self.margin - self.posterior.log_density(z)
        return self.sigma_max * torch.sigmoid(gap / self.temperature)


def off_data_scale(
    latent_means: np.ndarray, latent_logvars: np.ndarray, seed: int = 0, max_components: int = MAX_COMPONENTS
) -> OffDataScale:
    """The off-data std built from encoded posteriors; log q_ref is a low quantile of log q at the means."""
    post = aggregate_posterior(latent_means, latent_logvars, max_components=max_components, seed=seed)
    with torch.no_grad():
        ref = float(torch.quantile(post.log_density(post.means), OFF_DATA_QUANTILE))
    return OffDataScale(post, ref)


def embed(model: VAE, path: torch.Tensor, off_data: OffDataScale | None = None) -> torch.Tensor:
    """h(z) = [f(z), √P · s(z)] (or f(z) alone without off_data), (S, P[+1]): where lengths are measured."""
    images = decoder_mean(model)(path)
    if off_data is None:
        return images
    return torch.cat([images, math.sqrt(images.shape[1]) * off_data(path).unsqueeze(1)], dim=1)


def _steps(model: VAE, path: torch.Tensor, off_data: OffDataScale | None) -> torch.Tensor:
    """Length of each step of a path in the embedding, (S − 1,)."""
    h = embed(model, path.to(model.device), off_data)
    return (h[1:] - h[:-1]).norm(dim=1)


def curve_lengths(
    model: VAE, path: np.ndarray | torch.Tensor, off_data: OffDataScale | None = None
) -> np.ndarray:
    """Per-step image-space distances ‖h(z_{i+1}) − h(z_i)‖ along a latent path (S, D), (S − 1,)."""
    path = _as_latents(path, model.config.latent_dim)
    with torch.no_grad():
        return _steps(model, path, off_data).cpu().double().numpy()


def curve_length(model: VAE, path: np.ndarray | torch.Tensor, off_data: OffDataScale | None = None) -> float:
    """L = Σ ‖h(z_{i+1}) − h(z_i)‖: the path's length in image space (plus the off-data term when given)."""
    return float(curve_lengths(model, path, off_data).sum())


def curve_energy(model: VAE, path: np.ndarray | torch.Tensor, off_data: OffDataScale | None = None) -> float:
    """E = Σ ‖h(z_{i+1}) − h(z_i)‖²: the discrete curve energy a geodesic minimises (L² ≤ (S−1)·E)."""
    return float((curve_lengths(model, path, off_data) ** 2).sum())


@dataclass(frozen=True)
class Geodesic:
    """A shortest-path estimate between two codes, with its lengths and the straight line's for comparison."""

    path: np.ndarray  # (S, D) float32, endpoints exactly the given codes
    length: float  # in the metric minimised (decoder mean + off-data std)
    image_length: float  # plain decoder-mean image-space length
    energy: float  # in the metric minimised
    linear_length: float  # the straight line, same metric
    linear_image_length: float
    iterations: int
    seconds: float


def geodesic(
    model: VAE,
    z_start: np.ndarray | torch.Tensor,
    z_end: np.ndarray | torch.Tensor,
    steps: int = 32,
    off_data: OffDataScale | None = None,
    iterations: int = GEODESIC_EVALUATIONS,
    seed: int = 0,
) -> Geodesic:
    """Minimise the discrete curve energy Σ‖h(z_{i+1}) − h(z_i)‖² over the interior points, endpoints fixed.

    L-BFGS with a strong-Wolfe line search, at most `iterations` evaluations of the energy and its
    gradient (on the shipped model 40 of them reach the energy 150 Adam steps reach). Starts on the straight
    line; a tiny seeded perturbation of the interior breaks the line's symmetry, so the result is a function
    of (model, endpoints, steps, off_data, iterations, seed). The path returned is the evaluated path of least
    length in the metric minimised (the straight line is evaluated first), so it is never longer than the
    straight line there."""
    t0 = time.perf_counter()
    steps = clamp_int(steps, 2, MAX_GEODESIC_STEPS, "steps")
    iterations = clamp_int(iterations, 0, MAX_ITERATIONS, "iterations") if steps > 2 else 0
    z0 = latent_tensor(z_start, limit=ENDPOINT_LIMIT, beyond="refuse", name="start point")
    z1 = latent_tensor(z_end, limit=ENDPOINT_LIMIT, beyond="refuse", name="end point")
    if z0.numel() != model.config.latent_dim or z1.numel() != model.config.latent_dim:
        raise InputError(
            f"endpoints must have {model.config.latent_dim} values for this model, "
            f"got {z0.numel()} and {z1.numel()}"
        )
    device = model.device
    z0, z1 = z0.to(device), z1.to(device)
    t = torch.linspace(0.0, 1.0, steps, device=device).unsqueeze(1)
    line = (1 - t) * z0 + t * z1  # (S, D)
    with torch.no_grad():
        linear_length = float(_steps(model, line, off_data).sum())
    best = {"length": linear_length, "path": line.clone()}
    if iterations > 0:
        span = float((z1 - z0).norm())
        gen = torch.Generator().manual_seed(int(seed))
        jitter = torch.randn(steps - 2, z0.numel(), generator=gen).to(device) * 1e-3 * max(span, 1e-3)
        interior = (line[1:-1] + jitter).clone().requires_grad_(True)
        opt = torch.optim.LBFGS(
            [interior],
            lr=1.0,
            max_iter=iterations,
            max_eval=iterations,
            history_size=20,
            tolerance_grad=1e-9,
            tolerance_change=1e-12,
            line_search_fn="strong_wolfe",
        )

        def energy() -> torch.Tensor:
            """The curve energy of the current path; keeps the shortest path seen so far."""
            path = torch.cat([z0.unsqueeze(0), interior, z1.unsqueeze(0)])
            step_lengths = _steps(model, path, off_data)
            length = float(step_lengths.detach().sum())
            if length < best["length"]:
                best["length"], best["path"] = length, path.detach().clone()
            value = (step_lengths**2).sum()
            # autograd.grad, not backward(): the shared, read-only weights never get a .grad
            (interior.grad,) = torch.autograd.grad(value, [interior])
            return value.detach()

        opt.step(energy)
    path = best["path"]
    path[0], path[-1] = z0, z1
    return Geodesic(
        path=path.cpu().numpy().astype(np.float32),
        length=best["length"],
        image_length=curve_length(model, path),
        energy=curve_energy(model, path, off_data),
        linear_length=linear_length,
        linear_image_length=curve_length(model, line),
        iterations=iterations,
        seconds=time.perf_counter() - t0,
    )


# ---------------------------------------------------------------- comparing paths


def latent_path(
    model: VAE,
    z_start: np.ndarray,
    z_end: np.ndarray,
    steps: int,
    method: str,
    off_data: OffDataScale | None = None,
    seed: int = 0,
) -> np.ndarray:
    """`steps` codes from z_start to z_end (both included): linear, spherical or geodesic, (S, D) float32."""
    if method not in PATH_METHODS:
        raise InputError(f"path must be one of {PATH_METHODS}, got {method!r}")
    if method == "geodesic":
        return geodesic(model, z_start, z_end, steps, off_data=off_data, seed=seed).path
    start = torch.as_tensor(np.asarray(z_start, dtype=np.float32))
    end = torch.as_tensor(np.asarray(z_end, dtype=np.float32))
    return interpolate(start, end, steps, method).numpy().astype(np.float32)


def resample_path(path: np.ndarray, points: int) -> np.ndarray:
    """`points` codes along a polyline (S, D), evenly spaced in its point index, ends kept: (points, D) float32.

    A geodesic's points are spaced about evenly in its metric, so even index spacing keeps its constant speed."""
    path = np.asarray(path, dtype=np.float32)
    if path.ndim != 2 or len(path) < 2:
        raise InputError(f"a path needs at least 2 points of shape (D,), got shape {path.shape}")
    points = clamp_int(points, 2, MAX_GEODESIC_STEPS, "points")
    where = np.linspace(0.0, len(path) - 1, points)
    left = np.minimum(where.astype(int), len(path) - 2)
    frac = (where - left)[:, None].astype(np.float32)
    out = (1 - frac) * path[left] + frac * path[left + 1]
    out[0], out[-1] = path[0], path[-1]
    return out.astype(np.float32)


@dataclass(frozen=True)
class PathStats:
    """How one latent path looks in image space."""

    method: str
    length: float  # in the geodesic's metric (decoder mean + off-data std); the decoder mean alone without it
    image_length: float  # decoder-mean image-space length Σ‖f(z_{i+1}) − f(z_i)‖
    largest_step: float  # the biggest single decoder-mean step: how jumpy the path is
    frames_neg_elbo: (
        float  # mean −ELBO (nats) of the decoded frames re-encoded: are the frames plausible images?
    )


def path_stats(model: VAE, path: np.ndarray, method: str, off_data: OffDataScale | None = None) -> PathStats:
    """Lengths, largest step and the plausibility of a path's decoded frames (each re-encoded and scored)."""
    steps = curve_lengths(model, path)
    with torch.no_grad():
        frames = model.decode(_as_latents(path, model.config.latent_dim).to(model.device)).cpu().numpy()
    neg_elbo = float(np.mean(image_scores(model, frames)["neg_elbo"]))
    length = curve_length(model, path, off_data) if off_data is not None else float(steps.sum())
    return PathStats(method, length, float(steps.sum()), float(steps.max(initial=0.0)), neg_elbo)


def heat_rgb(values: np.ndarray, log: bool = True) -> np.ndarray:
    """A (H, W) array as a (H, W, 3) uint8 picture (dark blue → yellow), log-scaled by default."""
    v = np.asarray(values, dtype=np.float64)
    v = np.log10(np.maximum(v, 1e-12)) if log else v
    lo, hi = np.nanpercentile(v, 1), np.nanpercentile(v, 99)
    t = np.clip((v - lo) / max(hi - lo, 1e-12), 0.0, 1.0)
    anchors = np.array(
        [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], dtype=np.float64
    )
    pos = t * (len(anchors) - 1)
    i = np.minimum(pos.astype(int), len(anchors) - 2)
    frac = (pos - i)[..., None]
    return np.rint(anchors[i] * (1 - frac) + anchors[i + 1] * frac).astype(np.uint8)


# ---------------------------------------------------------------- posterior clouds


def posterior_ellipse(
    pca: PCAProjection, mean: np.ndarray, logvar: np.ndarray, n_sigma: float = 1.0, points: int = 60
) -> np.ndarray:
    """The n_sigma contour of q(z|x) = N(μ, diag σ²) on the map plane: a closed ellipse (points + 1, 2)."""
    comp = pca.components.astype(np.float64)
    centre = (np.asarray(mean, dtype=np.float64) - pca.mean) @ comp.T
    cov = comp @ np.diag(np.exp(np.asarray(logvar, dtype=np.float64))) @ comp.T  # P Σ Pᵀ, (2, 2)
    eigenvalues, eigenvectors = np.linalg.eigh(cov)
    angle = np.linspace(0.0, 2 * np.pi, clamp_int(points, 8, 720, "points") + 1)
    circle = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return (centre + n_sigma * (circle * np.sqrt(np.maximum(eigenvalues, 0.0))) @ eigenvectors.T).astype(
        np.float32
    )


def posterior_draws(
    model: VAE, mean: np.ndarray, logvar: np.ndarray, n: int = 6, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """n draws z = μ + σ ⊙ ε from one image's q(z|x) and their decoded images (uint8)."""
    n = clamp_int(n, 1, 64, "number of draws")
    mu = latent_tensor(mean, limit=ENDPOINT_LIMIT, beyond="refuse", name="posterior mean")
    log_var = latent_tensor(logvar, limit=ENDPOINT_LIMIT, beyond="refuse", name="posterior log-variance")
    eps = torch.randn(n, mu.numel(), generator=torch.Generator().manual_seed(int(seed)))
    z = reparameterise(mu, log_var.clamp(-30.0, 20.0), eps=eps)
    return z.numpy(), decode_to_uint8(model, z)
