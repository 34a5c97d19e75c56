"""The library's error family: every failure a user can cause is a LatentExplorerError subclass.

Catch LatentExplorerError to show any of them; the message always says what was wrong and what to do.
"""

from __future__ import annotations


class LatentExplorerError(ValueError):
    """Base of every refusal the library makes about user input (files, specs, configs, arguments)."""


class ConfigError(LatentExplorerError):
    """A VAEConfig that cannot describe a model we can build."""


class DatasetError(LatentExplorerError):
    """A dataset that cannot be loaded; the message says what is wrong and what to do."""


class CheckpointError(LatentExplorerError):
    """A file that is not a Latent Explorer checkpoint we can load; the message says why and what to do."""


class ArchiveError(LatentExplorerError):
    """An archive or IDX file that is malformed or breaks a safety cap."""


class InputError(LatentExplorerError):
    """A value a user chose (a count, an index, a latent vector, a training setting) that is malformed."""


class ArgumentError(LatentExplorerError):
    """A command-line argument outside what the command accepts; the message names the argument."""


__all__ = [
    "LatentExplorerError",
    "ConfigError",
    "DatasetError",
    "CheckpointError",
    "ArchiveError",
    "ArgumentError",
    "InputError",
]
