"""amurlink: joint China-Russia monitoring of Amur tigers and Amur leopards."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from amurlink._version import __version__

if TYPE_CHECKING:
    from amurlink.dataset import Dataset
    from amurlink.io import (
        Issue,
        ValidationReport,
        load_camtrap_dp,
        read_camtrap_dp,
        validate_camtrap_dp,
        write_camtrap_dp,
    )

#: Names imported on first use, so that ``import amurlink`` (and ``amurlink --help``) stays
#: light: numpy and pandas are loaded only when data are.
_LAZY = {"Dataset": "amurlink.dataset", "Issue": "amurlink.io",
         "ValidationReport": "amurlink.io", "load_camtrap_dp": "amurlink.io",
         "read_camtrap_dp": "amurlink.io", "validate_camtrap_dp": "amurlink.io",
         "write_camtrap_dp": "amurlink.io"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'amurlink' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

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
