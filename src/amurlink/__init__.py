"""amurlink: joint China-Russia monitoring of Amur tigers and Amur leopards."""

from __future__ import annotations

from amurlink._version import __version__
from amurlink.dataset import Dataset
from amurlink.io import (
    Issue,
    ValidationReport,
    load_camtrap_dp,
    read_camtrap_dp,
    validate_camtrap_dp,
    write_camtrap_dp,
)

__all__ = [
    "__version__",
    "Dataset",
    "Issue",
    "ValidationReport",
    "load_camtrap_dp",
    "read_camtrap_dp",
    "validate_camtrap_dp",
    "write_camtrap_dp",
    "show_versions",
]


def show_versions() -> str:
    """Versions of amurlink, Python and the main dependencies, for bug reports."""
    import importlib.metadata as md
    import platform

    lines = [
        f"amurlink {__version__}",
        f"python {platform.python_version()} ({platform.platform()})",
    ]
    for dist in ("numpy", "scipy", "pandas", "pyarrow", "shapely", "pyproj", "typer", "rich",
                 "matplotlib", "django", "dask"):
        try:
            lines.append(f"{dist} {md.version(dist)}")
        except md.PackageNotFoundError:
            lines.append(f"{dist} (not installed)")
    return "\n".join(lines)
