from vae_core.config import VAEConfig
from vae_core.train_defaults import default_train_settings_for


def test_small_images_start_on_the_mlp_and_mnist_sized_ones_on_the_conv_with_a_real_budget():
    small, mnist = default_train_settings_for((1, 8, 8)), default_train_settings_for((1, 28, 28))
    assert (small.arch, small.latent_dim) == ("mlp", 8)
    assert (mnist.arch, mnist.latent_dim) == ("conv", 16)
    assert mnist.time_budget_s >= 120 > small.time_budget_s  # a 60 s conv run stopped far from its best
    assert "28×28" in mnist.reason
    for shape in ((1, 8, 8), (1, 28, 28), (3, 32, 32)):  # the defaults build a model
        d = default_train_settings_for(shape)
        VAEConfig(input_shape=shape, arch=d.arch, latent_dim=d.latent_dim)


def test_the_app_trains_the_library_default_conv_and_the_mlp_with_its_own_widths():
    from explorer_ui.train_choices import APP_HIDDEN, app_train_config

    assert app_train_config((1, 28, 28), "conv", 16) == VAEConfig()  # no MLP widths leak into the conv
    assert app_train_config((1, 28, 28), "resconv", 16).hidden == VAEConfig().hidden
    assert app_train_config((1, 8, 8), "mlp", 8).hidden == APP_HIDDEN


def test_the_architecture_note_describes_the_choice_for_this_shape():
    from explorer_ui.train_choices import architecture_note

    conv = architecture_note("conv", (1, 28, 28))
    assert "256-wide" in conv and "MLP" not in conv and "28×28" in conv
    mlp_small, mlp_big = architecture_note("mlp", (1, 8, 8)), architecture_note("mlp", (1, 28, 28))
    assert "10 s" in mlp_small and "10 s" not in mlp_big and "convolutional" in mlp_big
    assert "residual" in architecture_note("resconv", (1, 28, 28))
