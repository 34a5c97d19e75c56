"""The Lesson's content as data: each step's idea, formulas, the live view it shows and its predict-then-reveal
question. No Streamlit here: the page (pages/lesson.py) draws a step, explorer_ui.lesson_views draws its view.

To add a step, add one LessonStep to STEPS where it belongs in the story (and its view function to
lesson_views); the page, the navigation, `?step=N` links and the tests follow the list.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Question:
    """Predict, then reveal: a question, its choices, the index of the right one, and why (two sentences)."""

    prompt: str
    choices: tuple[str, ...]
    answer: int
    explanation: str


@dataclass(frozen=True)
class LessonStep:
    """One step of the lesson: a short idea (Markdown), its formulas (LaTeX), a live view and a question."""

    key: str  # stable id for widget keys ("lesson_q_<key>")
    title: str
    idea: str
    formulas: tuple[str, ...]
    view: str  # name of a function in explorer_ui.lesson_views that draws the live widget
    question: Question


STEPS: tuple[LessonStep, ...] = (
    LessonStep(
        key="latent",
        title="A latent variable is inferred, not observed",
        idea=(
            "Nobody labels an image with its code **z**: the code is *latent*, and the **encoder infers** "
            "it from "
            "the pixels. The shipped model squeezes each 8×8 digit (64 numbers) into 8 numbers, and it "
            "learns to "
            "put **similar images close together**. Pick an image: its code is a dot on the map (the codes "
            "projected to 2-D by PCA) and the images whose codes are nearest look alike."
        ),
        formulas=(r"x \in [0,1]^{64} \;\xrightarrow{\text{encoder}}\; z \in \mathbb{R}^{8}",),
        view="view_latent_code",
        question=Question(
            prompt="The nearest codes to a '3' in the 8-D latent space mostly belong to…",
            choices=(
                "random digits: the codes carry no meaning",
                "other 3s (and look-alikes such as 5s or 8s)",
                "the images stored next to it in the file",
            ),
            answer=1,
            explanation=(
                "The model is trained to rebuild each image from its code, so images that need similar "
                "reconstructions get similar codes. Nobody told it which digit is which: closeness in latent "
                "space is something it learnt from the pixels alone."
            ),
        ),
    ),
    LessonStep(
        key="generate",
        title="The generative path: prior → decoder → a new image",
        idea=(
            "Run the model backwards: draw a code from the **prior** N(0, I), give it to the **decoder**, "
            "and out "
            "comes an image no one drew. Change the seed for a new code. A **GAN** generates the same way, "
            "but "
            "its generator learns by fooling a discriminator rather than by reconstructing images, and it "
            "has "
            "no encoder: nothing maps an image back to its code, so there is no map of the data like this "
            "one."
        ),
        formulas=(r"z \sim \mathcal{N}(0, I), \qquad \hat x = \mathrm{decoder}_\theta(z)",),
        view="view_generative_path",
        question=Question(
            prompt="You have a trained GAN and a photo. Can you read off the photo's latent code directly?",
            choices=(
                "Yes: the discriminator outputs it",
                "No: a GAN has no encoder; you would have to search for a code by optimisation",
                "Yes: the generator is invertible",
            ),
            answer=1,
            explanation=(
                "A GAN only learns the direction code → image, judged by a discriminator that says real or "
                "fake. "
                "Finding a photo's code needs a separate inversion (an optimisation or a trained encoder), "
                "which a "
                "VAE gets for free."
            ),
        ),
    ),
    LessonStep(
        key="cloud",
        title="The encoder outputs a Gaussian: a cloud, not a point",
        idea=(
            "For each image the encoder outputs a mean **μ** and a log-variance **log σ²** per dimension: a "
            "Gaussian q(z|x), the set of codes that could have made this image. The bars show μ ± 2σ; on "
            "the map "
            "the grey dots are draws from the cloud. Every draw decodes to (nearly) the same digit."
        ),
        formulas=(r"q_\phi(z \mid x) = \mathcal{N}\big(\mu_\phi(x),\, \mathrm{diag}\,\sigma^2_\phi(x)\big)",),
        view="view_posterior_cloud",
        question=Question(
            prompt="A dimension whose cloud is μ ≈ 0, σ ≈ 1 for every image tells you that…",
            choices=(
                "the model is very sure about it",
                "the decoder ignores it: it carries no information",
                "training has not started",
            ),
            answer=1,
            explanation=(
                "If every image gets the same cloud as the prior in that dimension, its value says nothing "
                "about "
                "which image it came from. The decoder learns to ignore it, and its KL cost is zero (an "
                "inactive "
                "unit)."
            ),
        ),
    ),
    LessonStep(
        key="reparam",
        title="The reparameterisation trick",
        idea=(
            "Training needs gradients through the random draw. Write the draw as **z = μ + σ·ε** with the "
            "noise "
            "ε ~ N(0, I) drawn separately: z is now a plain function of μ and σ, so gradients flow to the "
            "encoder. Move the ε sliders: z moves inside the cloud on the map (the orange cross) and the "
            "image "
            "is redrawn."
        ),
        formulas=(
            r"z = \mu_\phi(x) + \sigma_\phi(x) \odot \varepsilon, \qquad \varepsilon \sim \mathcal{N}(0, I)",
        ),
        view="view_reparameterisation",
        question=Question(
            prompt="You set every ε to 2. Where does z land?",
            choices=(
                "at μ",
                "two standard deviations from μ in every dimension: farther out than almost every "
                "draw of the cloud",
                "at a random place on the map",
            ),
            answer=1,
            explanation=(
                "z = μ + σ·ε, so ε counts standard deviations of this image's own cloud, and ε = 0 gives μ "
                "itself. "
                "Typical draws have ‖ε‖ ≈ √8 ≈ 2.8, while ε = 2 everywhere has ‖ε‖ ≈ 5.7, so the image may "
                "change."
            ),
        ),
    ),
    LessonStep(
        key="loss",
        title="The loss: reconstruction + KL",
        idea=(
            "The VAE minimises **−ELBO = reconstruction + KL**. The **reconstruction** term (nats) says how "
            "badly "
            "the decoder rebuilds the image from a code in its cloud; the **KL** term says how far the "
            "cloud is "
            "from the prior N(0, I). The first pulls clouds apart to keep images distinguishable, the second "
            "pulls them back to the centre and keeps them wide. β weighs the second."
        ),
        formulas=(
            r"\mathcal{L}(x) = \underbrace{-\mathbb{E}_{q_\phi(z\mid x)}\log p_\theta(x \mid "
            r"z)}_{\text{reconstruction}}"
            r" + \beta\, \underbrace{\mathrm{KL}\big(q_\phi(z \mid x)\,\|\,\mathcal{N}(0, "
            r"I)\big)}_{\text{regulariser}}",
            r"\mathrm{KL} = \sum_i \tfrac12\big(\mu_i^2 + \sigma_i^2 - 1 - \log \sigma_i^2\big)",
        ),
        view="view_loss_terms",
        question=Question(
            prompt="The plain autoencoder (β = 0) beside the VAE reconstructs this image…",
            choices=(
                "worse, and its KL is small",
                "better or as well, but its codes are far from the prior (a huge KL)",
                "exactly like the VAE",
            ),
            answer=1,
            explanation=(
                "With β = 0 nothing charges for codes far from the origin or for tiny clouds, so the "
                "autoencoder "
                "spends all its capacity on reconstruction. The price shows in the KL column, and in the "
                "next "
                "step: its space is no longer shaped like the prior."
            ),
        ),
    ),
    LessonStep(
        key="gaps",
        title="Why a plain autoencoder's space has gaps",
        idea=(
            "Both shipped models are the same MLP on the same digits; only the KL term differs. The "
            "autoencoder "
            "puts codes anywhere, at any scale, so codes drawn from N(0, I) (the dashed square holds most of "
            "them) land in space the decoder never saw and decode to smudges. The VAE's KL fills the prior's "
            "region with overlapping clouds, so its prior samples decode to digits."
        ),
        formulas=(r"\beta = 0:\ \min\, -\log p_\theta(x \mid z) \qquad \beta = 1:\ \min\, -\mathrm{ELBO}",),
        view="view_ae_vs_vae",
        question=Question(
            prompt="Before you look: which model's samples from N(0, I) will look like digits?",
            choices=("the plain autoencoder's", "the VAE's", "both equally"),
            answer=1,
            explanation=(
                "Only the VAE was trained so that its codes look like draws from N(0, I), so only its "
                "decoder has "
                "seen that region. The autoencoder's codes live wherever training left them, and the prior's "
                "draws mostly miss them."
            ),
        ),
    ),
    LessonStep(
        key="interpolate",
        title="Interpolation and morphing",
        idea=(
            "Walk from one image's code to another's and decode every step: a smooth space gives a gradual "
            "morph. A **linear** path cuts through the middle, where codes are unusually short (in many "
            "dimensions, prior draws have a norm near √D); a **spherical** path (slerp) keeps the norm "
            "typical. "
            "The chart shows the norm along both paths. A **geodesic** follows the decoder's own geometry "
            "instead: the walk whose pictures change least in all (step 12 shows why it bends)."
        ),
        formulas=(
            r"\begin{aligned} \text{linear:}\quad z_t &= (1-t)\, z_0 + t\, z_1 \\"
            r"\text{spherical:}\quad z_t &= \big((1-t)\lVert z_0\rVert + t\lVert z_1\rVert\big)\,"
            r"\frac{\sin((1-t)\Omega)\, \hat z_0 + \sin(t\Omega)\, \hat z_1}{\sin \Omega} \end{aligned}",
        ),
        view="view_interpolation",
        question=Question(
            prompt="Halfway between two codes of norm 3 pointing in different directions, the linear path's norm "
            "is…",
            choices=("exactly 3", "less than 3", "more than 3"),
            answer=1,
            explanation=(
                "The midpoint of a chord lies inside the sphere, so its norm is smaller than the ends' "
                "unless they "
                "point the same way. Slerp follows the sphere instead, which is why it is preferred for "
                "codes "
                "drawn from a high-dimensional prior."
            ),
        ),
    ),
    LessonStep(
        key="blurry",
        title="Why VAE samples look blurry",
        idea=(
            "The pictures on every page are the decoder's **mean** E[p(x|z)], the average of all images the "
            "model thinks this code could be: an average of possibilities is blurry. A real **sample** from "
            "p(x|z) "
            "draws each pixel independently (here Bernoulli, as the likelihood assumes), and looks like "
            "noise, "
            "because the model assumes pixels are independent given z. Sample quality therefore depends on a "
            "well-packed latent space and an **expressive decoder**."
        ),
        formulas=(
            r"p_\theta(x \mid z) = \prod_{j} \mathrm{Bernoulli}\big(x_j;\, \hat x_j(z)\big),"
            r"\qquad \hat x(z) = \mathbb{E}[x \mid z]",
        ),
        view="view_blurry",
        question=Question(
            prompt="Why do the draws from p(x|z) look like salt-and-pepper noise while the mean looks like a digit?",
            choices=(
                "the decoder is broken",
                "the likelihood draws every pixel independently given z, so strokes are not kept together",
                "the prior is too wide",
            ),
            answer=1,
            explanation=(
                "A factorised likelihood has no way to say 'these pixels go on or off together', so a draw "
                "scatters them. That is why VAEs show the mean, and why richer decoders (convolutional, "
                "autoregressive) produce sharper samples."
            ),
        ),
    ),
    LessonStep(
        key="control",
        title="Controlling generation: points and directions",
        idea=(
            "To generate something specific, choose **where** and **which way**. The average code of a "
            "class is a "
            "point that decodes to a typical member; the difference between two class averages is a "
            "**direction** "
            "(an attribute vector). Adding α times that direction to an image's code morphs it towards the "
            "other "
            "class while keeping some of its style."
        ),
        formulas=(
            r"d = \bar\mu_{\text{target}} - \bar\mu_{\text{source}}, \qquad z(\alpha) = \mu(x) + \alpha\, d",
        ),
        view="view_directions",
        question=Question(
            prompt="With α = 1, z(α) = μ(x) + d lands…",
            choices=(
                "exactly on the target class's average code",
                "near the target class, shifted by how x differed from its own class's average",
                "back at μ(x)",
            ),
            answer=1,
            explanation=(
                "μ(x) + μ̄_target − μ̄_source = μ̄_target + (μ(x) − μ̄_source): the target average plus "
                "this image's "
                "own offset from its class. That offset is the 'style' (slant, thickness) the morph tries "
                "to keep."
            ),
        ),
    ),
    LessonStep(
        key="factors",
        title="Entanglement, disentanglement and what β does",
        idea=(
            "The shapes sprites are made from five **known factors** (shape, scale, rotation, x and y "
            "position), each drawn independently. A code is **disentangled** when each factor lives in one "
            "dimension of its own, so sweeping that dimension moves the sprite sideways and nothing else; it is "
            "**entangled** when a sweep moves *and* grows it. Two shipped models, the same MLP on the same "
            "sprites: one with β = 1, one **β-VAE** with β = 8. The heatmap gives the share of each factor a "
            "dimension reveals, and **MIG** averages the gap between each factor's best and second-best "
            "dimension (1 for a one-to-one code, 0 for noise)."
        ),
        formulas=(
            r"\mathcal{L}_\beta(x) = -\mathbb{E}_{q_\phi(z\mid x)}\log p_\theta(x \mid z)"
            r" + \beta\,\mathrm{KL}\big(q_\phi(z \mid x)\,\|\,\mathcal{N}(0, I)\big)",
            r"\mathrm{MIG} = \frac{1}{K}\sum_{k} \frac{I(z_{j^{(k)}}; v_k) - "
            r"\max_{j \ne j^{(k)}} I(z_j; v_k)}{H(v_k)}",
        ),
        view="view_factors",
        question=Question(
            prompt="Before you look: compared with β = 1, the β = 8 model uses…",
            choices=(
                "more dimensions, and its MIG is lower",
                "fewer dimensions, and its MIG is higher",
                "the same dimensions: β only changes the image quality",
            ),
            answer=1,
            explanation=(
                "With β = 8 every nat a dimension carries costs eight times as much, so the model keeps only "
                "the few dimensions that pay for themselves and the prior's independent axes push each "
                "towards one factor. The price is blurrier reconstructions, and no unsupervised model is "
                "guaranteed to disentangle: scores vary with the seed."
            ),
        ),
    ),
    LessonStep(
        key="uses",
        title="Uses: anomalies, augmentation, a feature space",
        idea=(
            "A trained VAE is more than a generator. Its **−ELBO** measures how badly it explains an image, so "
            "the highest scores flag **anomalies** (odd handwriting, damaged or mislabelled images). Each "
            "image's cloud q(z|x) offers **variations** that should keep its label (augmentation; measure "
            "whether it helps). And the 8 numbers of μ are a compact **feature space**: a linear probe reads "
            "the label off them, judged against honest baselines (the pixels, the plain autoencoder, an "
            "untrained encoder)."
        ),
        formulas=(
            r"\text{score}(x) = -\log p_\theta(x \mid \mu_\phi(x)) + "
            r"\mathrm{KL}\big(q_\phi(z \mid x)\,\|\,\mathcal{N}(0, I)\big) \;\approx\; -\mathrm{ELBO}(x)",
            r"\tilde x = \mathrm{decoder}_\theta\big(\mu_\phi(x) + T\,\sigma_\phi(x) \odot \varepsilon\big)",
        ),
        view="view_uses",
        question=Question(
            prompt="A linear probe on the 8 latent numbers and one on all 64 pixels: which names more digits?",
            choices=(
                "the latent probe, by far: the encoder adds information",
                "the pixels, slightly: 8 numbers keep most of what 64 pixels say about the label",
                "neither beats chance",
            ),
            answer=1,
            explanation=(
                "An encoder can only rearrange and discard information, never add it, so the pixels are an "
                "upper bound for any probe on their codes. That 8 numbers come within a few points of 64 "
                "pixels, and well above an untrained encoder, is what makes the latent space a useful feature "
                "space."
            ),
        ),
    ),
    LessonStep(
        key="curved",
        title="The latent space is curved",
        idea=(
            "The decoder bends latent space: one step in z barely changes the image in one place and changes "
            "it completely in another. The **magnification factor** measures that stretch over the map "
            "(bright: the images change fast). So the straight line between two codes is not the shortest "
            "walk between their images: the **geodesic** is, the path whose decoded frames change least in "
            "all, and it bends to stay where the data is."
        ),
        formulas=(
            r"G(z) = J(z)^{\top} J(z),\quad J = \frac{\partial\, \mathrm{decoder}(z)}{\partial z},"
            r"\qquad \mathrm{MF}(z) = \sqrt{\det G(z)}",
            r"\text{length}(\gamma) = \sum_i \big\lVert \mathrm{decoder}(z_{i+1}) - \mathrm{decoder}(z_i)\big\rVert",
        ),
        view="view_curved",
        question=Question(
            prompt="On the magnification map, where does a small step in z change the image most?",
            choices=(
                "at the centre of each cluster of digits",
                "between the clusters, where few codes lie",
                "everywhere equally: latent space is flat",
            ),
            answer=1,
            explanation=(
                "Between clusters the decoder must switch from one kind of digit to another within a short "
                "distance, so a small step there changes many pixels. That is why the geodesic bends to stay "
                "inside the data instead of cutting straight across the gap."
            ),
        ),
    ),
)


def step_count() -> int:
    """How many steps the lesson has."""
    return len(STEPS)


def step_at(number: int) -> LessonStep:
    """The step numbered `number` (1-based), clamped into the lesson."""
    return STEPS[max(1, min(len(STEPS), int(number))) - 1]
