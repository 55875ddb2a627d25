"""Small datasets bundled with amurlink."""

from __future__ import annotations

from pathlib import Path

from amurlink.dataset import Dataset

__all__ = ["example_path", "load_example", "example_config_path"]

_HERE = Path(__file__).resolve().parent


def example_path() -> Path:
    """Folder of the bundled toy Camtrap DP package (3 + 3 cameras on a border)."""
    return _HERE / "toy"


def example_config_path() -> Path:
    """The example ``amurlink.toml`` study configuration."""
    return _HERE / "amurlink.toml"


def load_example() -> Dataset:
    """Read the bundled toy package.

    Examples
    --------
    >>> ds = load_example()
    >>> len(ds.deployments), len(ds["individuals"])
    (6, 4)
    """
    from amurlink.io import read_camtrap_dp

    return read_camtrap_dp(example_path())
