"""Fixtures for the camtrapR reference tests (data stay in ../shared/data/reference/camtrapr)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from amurlink.analysis.camtrap import camera_operation


@pytest.fixture(scope="session")
def camtrapr_dir(reference_dir: Path) -> Path:
    return reference_dir / "camtrapr"


def read_expected(folder: Path, name: str, *, index: bool = True) -> pd.DataFrame:
    """Read an expected camtrapR matrix exactly: row names, column names (duplicates kept)."""
    raw = pd.read_csv(folder / "expected" / f"{name}.csv", header=None, dtype=str,
                      keep_default_na=False)
    header = raw.iloc[0].tolist()
    body = raw.iloc[1:].reset_index(drop=True)
    if not index:
        body.columns = header
        return body
    values = body.iloc[:, 1:].apply(pd.to_numeric, errors="coerce").astype(float)
    values.index = pd.Index(body.iloc[:, 0].tolist())
    values.columns = header[1:]
    return values


def assert_matrix_equal(got: pd.DataFrame, expected: pd.DataFrame, *, atol: float = 0.0) -> None:
    """Same dimensions, row and column names, missing cells and values."""
    assert got.shape == expected.shape
    assert list(map(str, got.index)) == list(expected.index)
    assert list(map(str, got.columns)) == list(expected.columns)
    a, b = got.to_numpy(dtype=float), expected.to_numpy(dtype=float)
    assert np.array_equal(np.isnan(a), np.isnan(b)), "missing cells differ"
    np.testing.assert_allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=0, atol=atol)


@pytest.fixture(scope="session")
def camtraps(camtrapr_dir: Path) -> pd.DataFrame:
    return pd.read_csv(camtrapr_dir / "camtraps.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="session")
def record_table_sample(camtrapr_dir: Path) -> pd.DataFrame:
    return pd.read_csv(camtrapr_dir / "recordTableSample.csv", dtype={"Station": str})


@pytest.fixture(scope="session")
def camop_problem(camtraps: pd.DataFrame) -> pd.DataFrame:
    return camera_operation(camtraps, has_problems=True, date_format="dmy")


@pytest.fixture(scope="session")
def camop_no_problem(camtraps: pd.DataFrame) -> pd.DataFrame:
    return camera_operation(camtraps, has_problems=False, date_format="%d/%m/%Y")
