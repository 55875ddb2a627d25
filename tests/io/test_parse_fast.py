"""The vectorised parsing paths agree with the plain pandas readings they replace."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from amurlink.io._parse import _arrow, _iso_datetimes, isin, missing_mask, positions
from amurlink.schema import MISSING_VALUES


def _text(values: list[str | None]) -> pd.Series:
    return pd.Series(pd.array(values, dtype="string[pyarrow]"))


def _datetime_texts(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        y, mo, d = rng.integers(1600, 2300), rng.integers(0, 14), rng.integers(0, 33)
        h, mi, s = rng.integers(0, 26), rng.integers(0, 62), rng.integers(0, 62)
        tail = rng.choice(["Z", "+08:00", "-03:30", "+1000", "+24:00", "+08:61", "", "z"])
        sep = "T" if rng.random() < 0.95 else " "
        out.append(f"{y:04d}-{mo:02d}-{d:02d}{sep}{h:02d}:{mi:02d}:{s:02d}{tail}")
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_fast_datetimes_equal_pandas_where_sure(seed):
    texts = _datetime_texts(4000, seed) + ["2016-02-29T12:00:00Z", "2015-02-29T12:00:00Z",
                                           "2014-09-06T04:00:00+08:00", "x" * 25]
    col = _text(texts)
    shape_ok, sure, ns = _iso_datetimes(_arrow(col))
    shape = col.str.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:Z|[+-]\d{2}:?\d{2})$")
    assert (shape_ok == shape.to_numpy(bool)).all()
    want = pd.to_datetime(col.where(shape.to_numpy(bool)), format="%Y-%m-%dT%H:%M:%S%z",
                          utc=True, errors="coerce")
    want_ns = want.astype("datetime64[ns, UTC]").array.asi8
    assert (ns[sure] == want_ns[sure]).all()
    assert sure.sum() > 500  # the check compared many values
    assert not sure[texts.index("2015-02-29T12:00:00Z")]


def test_missing_mask_equals_isin():
    values = ["", "NA", "NaN", "nan", "na", "N/A", "None", "x", "NAN", " ", "abc", "中文", "NaN "]
    col = _text(values * 50)
    assert (missing_mask(col) == isin(col, MISSING_VALUES)).all()
    assert missing_mask(col)[:4].all() and not missing_mask(col)[4:13].any()
    sliced = col.iloc[3:17].reset_index(drop=True)  # an Arrow slice with an offset
    assert (missing_mask(sliced) == isin(sliced, MISSING_VALUES)).all()
    with_null = _text(["", None, "NA", "x"])
    assert missing_mask(with_null).tolist() == isin(with_null, MISSING_VALUES).tolist()


def test_positions_equal_pandas_indexer():
    ref = _text(["d1", "d2", "d3"])
    col = _text(["d3", "d1", None, "d9", "d2"])
    assert positions(col, ref).tolist() == [2, 0, -1, -1, 1]
    obj = pd.Series(["d3", "d1", None, "d9", "d2"], dtype=object)
    assert positions(obj, ref).tolist() == [2, 0, -1, -1, 1]


def test_media_path_check_equals_the_official_pattern():
    import re

    from amurlink.io._parse import _media_path_ok
    from amurlink.schema import _MEDIA_PATH_PATTERN

    rng = np.random.default_rng(5)
    alphabet = list("ab./~\n\r-_中")
    paths = ["".join(rng.choice(alphabet, rng.integers(1, 7))) for _ in range(3000)]
    paths += ["media/m0.jpg", "a..b", ".hidden", "/abs", "~home", "a.", "a\nb"]
    official = re.compile(_MEDIA_PATH_PATTERN)
    want = [official.fullmatch(p) is not None for p in paths]
    assert _media_path_ok(_text(paths)).tolist() == want
    assert _media_path_ok(pd.Series(paths, dtype=object)).tolist() == want
    assert 100 < sum(want) < len(want) - 100


@pytest.mark.parametrize("kind", ["integer", "number"])
def test_arrow_numbers_equal_the_pandas_path(kind):
    from amurlink.io._parse import TableParser
    from amurlink.schema import TABLES, Field

    values = ["1", "-12", "", "NA", "0", "-0", "999999999999999", "007", "42"]
    odd = values + ["1.5", "1e3", " 7", "x", "1234567890123456789"]
    parser = TableParser(TABLES["observations"], "observations.csv")
    f = Field("count", kind)
    for vals in (values, odd):
        arrow_col, object_col = _text(vals), pd.Series(vals, dtype=object)
        got, bad = parser._typed(f, arrow_col, missing_mask(arrow_col))
        want, want_bad = parser._typed(f, object_col, isin(object_col, MISSING_VALUES))
        pd.testing.assert_series_equal(got, want)
        assert bad.tolist() == want_bad.tolist()
        if kind == "integer":  # the same buffers (what harmonise hashes), masked slots too
            assert got.array._data.tolist() == want.array._data.tolist()
    assert got.dtype == ("Int64" if kind == "integer" else "float64")
