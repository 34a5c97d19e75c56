"""The names a user reads: datasets by folder or file and size (never a raw path), checkpoints by what they are."""

from explorer_ui.names import checkpoint_file_name, dataset_display_name
from vae_core.config import VAEConfig


def test_path_datasets_are_named_by_their_folder_or_file_and_size():
    long_path = "idx:/srv/data/some/very/long/mount/point/mnist/"
    assert (
        dataset_display_name(long_path, "mnist (10,000 images)", 10_000) == "mnist (IDX files, 10,000 images)"
    )
    assert (
        dataset_display_name("npz:/home/me/faces.npz", "faces (300 images)", 300) == "faces.npz (300 images)"
    )
    assert dataset_display_name("images:/data/pets.zip", "pets", 1_200) == "pets.zip (1,200 images)"
    assert (
        dataset_display_name("upload:blobs.npz", "blobs (40 images)", 40) == "blobs.npz (uploaded, 40 images)"
    )
    assert "/srv" not in dataset_display_name(long_path)


def test_built_in_datasets_keep_the_loaders_name():
    assert dataset_display_name("digits", "Digits (1,797 images)", 1_797) == "Digits (1,797 images)"
    assert (
        dataset_display_name("shapes:2000", "Shapes (2,000 images, 32×32)") == "Shapes (2,000 images, 32×32)"
    )
    assert dataset_display_name("", "") == "dataset"


def test_a_very_long_folder_name_is_shortened():
    name = dataset_display_name("idx:/d/" + "x" * 300, "", 5)
    assert len(name) < 80 and name.endswith("… (IDX files, 5 images)")


def test_a_checkpoint_file_name_says_architecture_size_beta_and_data():
    conv = VAEConfig()
    assert (
        checkpoint_file_name(conv, {"dataset_spec": "idx:/srv/x/mnist/"}) == "vae_conv_z16_mnist.safetensors"
    )
    ae = VAEConfig(input_shape=(1, 8, 8), arch="mlp", latent_dim=8, beta=0.0)
    assert checkpoint_file_name(ae, {"dataset_spec": "digits"}) == "vae_mlp_z8_beta0_digits.safetensors"
    odd = checkpoint_file_name(conv, {"dataset_spec": "upload:My Faces (v2).npz"})
    assert odd == "vae_conv_z16_my_faces__v2.safetensors"
    assert checkpoint_file_name(conv, {}) == "vae_conv_z16.safetensors"
    assert (
        checkpoint_file_name(conv, {"dataset_name": "Shapes (2,000 images)"})
        == "vae_conv_z16_shapes.safetensors"
    )


def test_the_model_card_names_the_training_data_readably():
    from explorer_ui.model_card import model_card

    summary = {
        "dataset_spec": "idx:/srv/data/x/y/mnist",
        "dataset_name": "mnist (8,000 images)",
        "n_images": 8000,
    }
    rows = dict(model_card(VAEConfig(), summary, 1))
    assert rows["Training data"] == "mnist (IDX files, 8,000 images)"
    assert dict(model_card(VAEConfig(), {}, 1))["Training data"] == "unknown"
