"""Fixtures shared by the whole suite: reference data in ../shared, RNG guard, figure cleanup."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
#: Environment variable that points at the shared reference folder (default: ../shared).
SHARED_ENV = "AMURLINK_SHARED"


def shared_path() -> Path:
    return Path(os.environ.get(SHARED_ENV, REPO.parent / "shared")).resolve()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The shared reference folder; skipped when absent, an error when ``CI=true``."""
    path = shared_path()
    if not (path / "data" / "reference").is_dir():
        reason = (
            f"reference data folder {path} not found; set {SHARED_ENV} to the folder that holds "
            "data/reference and data/geo to run the reference tests"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def reference_dir(shared_dir: Path) -> Path:
    return shared_dir / "data" / "reference"


@pytest.fixture(scope="session")
def geo_dir(shared_dir: Path) -> Path:
    return shared_dir / "data" / "geo"


@pytest.fixture(autouse=True)
def _guard_global_rng():
    """Fail any test that draws from (and so changes) numpy's global random state."""
    before = np.random.get_state()[1].copy()  # noqa: NPY002 - inspecting it is the point
    yield
    after = np.random.get_state()[1]  # noqa: NPY002
    assert np.array_equal(before, after), "test changed numpy's global RNG state; pass rng="


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import sys

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
