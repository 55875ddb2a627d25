"""Fixtures for package I/O tests: copies of the official example to break."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture()
def example_copy(reference_dir: Path, tmp_path: Path) -> Path:
    """A writable copy of the official Camtrap DP 1.0.2 example (CSV files + descriptor)."""
    src = reference_dir / "camtrap-dp-example"
    dst = tmp_path / "example"
    dst.mkdir()
    for name in ("datapackage.json", "deployments.csv", "media.csv", "observations.csv"):
        shutil.copy(src / name, dst / name)
    return dst


def frictionless_validate(package: Path, offline_schemas: Path) -> object:
    """Validate ``package`` with frictionless-py, offline, against the official schemas.

    The descriptor's profile and schema URLs are pointed at the offline bundle from
    ``../shared`` (the schemas are not shipped with amurlink); frictionless resolves those
    relative to the working directory, so validation runs from inside the package.
    """
    import json
    import os

    import frictionless

    work = package
    shutil.copytree(offline_schemas, work / "schemas", dirs_exist_ok=True)
    desc = json.loads((work / "datapackage.json").read_text(encoding="utf-8"))
    desc["profile"] = "schemas/1.0.2/camtrap-dp-profile.json"
    for res in desc["resources"]:
        if isinstance(res.get("schema"), str):
            res["schema"] = "schemas/1.0.2/" + res["schema"].rsplit("/", 1)[-1]
    (work / "datapackage.json").write_text(json.dumps(desc), encoding="utf-8")
    cwd = os.getcwd()
    os.chdir(work)
    try:
        return frictionless.validate("datapackage.json")
    finally:
        os.chdir(cwd)


@pytest.fixture()
def frictionless_check(reference_dir: Path):
    """``check(package) -> frictionless Report`` against the offline official schemas."""
    offline = reference_dir / "camtrap-dp-example" / "offline" / "schemas"
    return lambda package: frictionless_validate(package, offline)
