"""Train: fit a new VAE on the active dataset in a background thread, with live loss curves and a stop button.

The run (vae_core.explore.TrainingRun) lives in this session's state; a fragment polls it twice a second
and draws its progress, so clicking Stop (a rerun) never interrupts training itself. When the run ends,
its best weights are registered as a model and selected at once.
"""

import streamlit as st

from explorer_ui import figures, url_state
from explorer_ui.factors_view import render_train_scores
from explorer_ui.names import checkpoint_file_name
from explorer_ui.registry import page_file
from explorer_ui.state import (
    MODEL_CHOICE,
    MODELS,
    TRAIN_JOB,
    TRAIN_RESULT,
    active_dataset,
    fragment,
    model_payload,
    registered_model,
    start_training,
)
from explorer_ui.train_choices import app_train_config, architecture_note
from explorer_ui.train_live import render_live
from explorer_ui.widgets import shape_text, teaching_panel
from vae_core.config import ARCHITECTURES, ConfigError
from vae_core.explore import TrainingRun
from vae_core.train_defaults import default_train_settings_for
from vae_core.training import TrainSettings

ARCH_LABELS = {
    "mlp": "MLP (fast; for small images)",
    "conv": "Convolutional",
    "resconv": "Convolutional + residual blocks",
}
POLL_S = 0.5  # progress redraws per second: 2 (well under the 5/s budget)

st.title("Train a VAE")
teaching_panel(
    "Training maximises the ELBO averaged over the images, i.e. it minimises the loss below with Adam. The "
    "**reconstruction** term falls as the decoder learns to redraw images; the **KL** term measures how far the "
    "codes stray from the prior, and β weighs it (β = 1: a VAE, β = 0: a plain autoencoder, β > 1: smoother, "
    "blurrier). The validation −ELBO, on images the model never trains on, is the honest score: lower is better, "
    "and the best epoch's weights are the ones kept.",
    r"\mathcal{L}(x) = \underbrace{-\log p_\theta(x \mid z)}_{\text{reconstruction}} "
    r"+ \beta\, \underbrace{\mathrm{KL}\big(q_\phi(z\mid x)\,\|\,\mathcal{N}(0, I)\big)}_{\text{KL}}",
)

dataset = active_dataset()
job: TrainingRun | None = st.session_state.get(TRAIN_JOB)
running = job is not None and job.running

st.markdown(
    f"**Dataset:** {dataset.display_name}, images {shape_text(dataset.data.image_shape)} "
    "(change it in the sidebar). The last 20 % of the images are held out for validation."
)

defaults = default_train_settings_for(dataset.data.image_shape)
if st.session_state.get("train_defaults_shape") != tuple(
    dataset.data.image_shape
):  # new shape: defaults that fit
    st.session_state["train_defaults_shape"] = tuple(dataset.data.image_shape)
    st.session_state.update(
        train_arch=defaults.arch,
        train_latent=defaults.latent_dim,
        train_budget=defaults.time_budget_s,
        train_epochs=defaults.epochs,
    )
    st.info(f"Settings start from defaults for this data: {defaults.reason}", icon=":material/tune:")

LINK = {  # settings only: a link never carries a run or its model (trained models live in their session)
    "arch": url_state.choice_param("train_arch", "arch", ARCHITECTURES, defaults.arch),
    "latent": url_state.int_param("train_latent", "latent", 1, 64, defaults.latent_dim),
    "beta": url_state.float_param("train_beta", "beta", 0.0, 20.0, 1.0, 0.1),
    "likelihood": url_state.choice_param(
        "train_likelihood", "likelihood", ["bernoulli", "gaussian"], "bernoulli"
    ),
    "epochs": url_state.int_param("train_epochs", "epochs", 1, 2000, defaults.epochs),
    "budget": url_state.int_param("train_budget", "budget", 0, 3600, int(defaults.time_budget_s or 0)),
}
url_state.restore("train", LINK)
url_state.share("train", LINK, key="train_link")

# outside the form, so the note under it follows the choice at once
arch = st.selectbox(
    "Architecture", ARCHITECTURES, format_func=ARCH_LABELS.get, key="train_arch", persist_state="session"
)
st.caption(architecture_note(arch, dataset.data.image_shape))

with st.form("train_settings", border=True):
    c1, c2, c3 = st.columns(3)
    with c1:
        latent_dim = st.slider(
            "Latent size",
            1,
            64,
            key="train_latent",
            persist_state="session",
            help="Dimensions of z. 2 makes the latent plane itself drawable.",
        )
    with c2:
        beta = st.number_input(
            "β (KL weight)",
            0.0,
            20.0,
            step=0.1,
            key="train_beta",
            persist_state="session",
            help="1 = VAE, 0 = plain autoencoder, > 1 = β-VAE.",
        )
        likelihood = st.selectbox(
            "Likelihood p(x|z)", ("bernoulli", "gaussian"), key="train_likelihood", persist_state="session"
        )
    with c3:
        epochs = st.number_input(
            "Epochs (at most)", 1, 2000, step=10, key="train_epochs", persist_state="session"
        )
        budget = st.number_input(
            "Time budget, seconds (0 = none)",
            0,
            3600,
            step=10,
            key="train_budget",
            persist_state="session",
            help="Training stops at whichever limit comes first.",
        )
    with st.expander("Advanced"):
        a1, a2, a3 = st.columns(3)
        lr = a1.number_input(
            "Learning rate",
            1e-5,
            1e-1,
            TrainSettings.lr,
            format="%.4f",
            key="train_lr",
            persist_state="session",
        )
        batch = a2.select_slider(
            "Batch size",
            [16, 32, 64, 128, 256, 512],
            TrainSettings.batch_size,
            key="train_batch",
            persist_state="session",
        )
        seed = a3.number_input("Seed", 0, 2**31 - 1, 0, key="train_seed", persist_state="session")
        patience = a1.number_input(
            "Early-stop patience (epochs)", 1, 500, 30, key="train_patience", persist_state="session"
        )
        warmup = a2.number_input(
            "KL warm-up (epochs)",
            0.0,
            100.0,
            0.0,
            1.0,
            key="train_warmup",
            persist_state="session",
            help="β ramps from 0 over this many epochs.",
        )
        shift = a3.number_input(
            "Random shifts (pixels)",
            0,
            4,
            0,
            key="train_shift",
            persist_state="session",
            help="Data augmentation: translate each training image by up to this many pixels.",
        )
    start = st.form_submit_button(
        "Start training", type="primary", disabled=running, icon=":material/play_arrow:"
    )

if start and not running:
    try:
        config = app_train_config(dataset.data.image_shape, arch, int(latent_dim), float(beta), likelihood)
        settings = TrainSettings(
            epochs=int(epochs),
            time_budget_s=float(budget) or None,
            lr=float(lr),
            batch_size=int(batch),
            seed=int(seed),
            patience=int(patience),
            kl_warmup_epochs=float(warmup),
            augment_shift=int(shift),
        )
        job = TrainingRun(config, dataset.data, settings).start()
    except (ConfigError, ValueError) as exc:
        st.error(f"Cannot train with these settings: {exc}")
    else:
        start_training(job)
        running = True


def _draw(run: TrainingRun) -> None:
    snap = run.snapshot()
    if snap.state == "running":
        eta = "" if snap.eta_s == float("inf") else f", about {snap.eta_s:.0f} s left"
        st.progress(
            min(1.0, snap.fraction),
            text=f"Epoch {snap.epoch} · {snap.elapsed_s:.0f} s{eta}"
            + (" · stopping after this step…" if snap.stop_requested else ""),
        )
        st.button(
            "Stop (keep the best weights)",
            key="train_stop",
            icon=":material/stop:",
            on_click=run.stop,
            disabled=snap.stop_requested,
        )
    elif snap.state == "failed":
        st.error(f"Training failed: {snap.error}")
    if snap.epochs:
        last = snap.epochs[-1]
        m1, m2, m3, m4 = st.columns(4)
        m1.metric("Epoch", last["epoch"])
        m2.metric("Reconstruction", f"{last['train_recon']:.2f}")
        m3.metric("KL", f"{last['train_kl']:.2f}")
        m4.metric("Best validation −ELBO", f"{last['best_val_neg_elbo']:.2f}")
    st.plotly_chart(
        figures.loss_curves(snap.steps, snap.epochs), key="train_curves", config={"displayModeBar": False}
    )
    render_live(run, snap)  # β live while it runs, and the KL of each dimension
    if snap.state == "done" and st.session_state.get(TRAIN_RESULT) is None:
        st.rerun()  # whole app: the sidebar registers and selects the new model; polling stops


if job is not None:
    st.subheader("Progress")
    fragment(_draw, run_every=POLL_S if running else None)(job)
    snap = job.snapshot()
    result_key = st.session_state.get(TRAIN_RESULT)
    if snap.state == "done" and result_key in st.session_state[MODELS]:
        summary = snap.summary
        trained = registered_model(result_key)
        st.success(
            f"Done: {summary['status']}. Best epoch {summary['best_epoch']} of {summary['epochs_run']}, "
            f"validation −ELBO {summary['val_neg_elbo']:.2f} nats/image, {summary['train_time_s']:.0f} s. "
            + ("It is the selected model now." if st.session_state[MODEL_CHOICE] == result_key else "")
        )
        st.download_button(
            "Download the checkpoint (.safetensors)",
            model_payload(result_key),
            file_name=checkpoint_file_name(trained.config, trained.loaded.summary),
            mime="application/octet-stream",
            on_click="ignore",
            key="train_download",
            icon=":material/download:",
            type="primary",
        )
        st.page_link(page_file("latent_map"), label="See its latent map", icon="🗺️")
        render_train_scores(trained, dataset)
