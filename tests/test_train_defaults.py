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
