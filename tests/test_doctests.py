"""Every docstring example in the public modules runs and gives the output it shows."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import amurlink

# Modules whose import needs an optional extra are skipped only when that extra is missing.
_OPTIONAL = {"amurlink.parallel": "dask"}


def _modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(amurlink.__path__, prefix="amurlink."):
        if ".cli" in info.name or info.name.startswith("amurlink.testing"):
            continue
        names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    if name in _OPTIONAL:
        pytest.importorskip(_OPTIONAL[name])
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} failing example(s) in {name}"
