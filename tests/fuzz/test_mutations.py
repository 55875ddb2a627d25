"""Random mutations of valid inputs (fixed seeds): nothing ends in an internal error.

Packages (folder and zip), import mappings, genotype files and images are mutated one random
edit at a time (bytes flipped, inserted, deleted, repeated, truncated, lines swapped, cells
dropped, hostile tokens spliced in). Each reader must then either succeed or fail with the
project's own errors: a report with issues, or an AmurlinkError; a CLI run exits 0, 1 or 2
with a message and no traceback. ``-m slow`` runs longer campaigns.
"""

from __future__ import annotations

import random
import shutil
import zipfile

import numpy as np
import pytest
from typer.testing import CliRunner

from amurlink.cli import app
from amurlink.exceptions import AmurlinkError
from amurlink.identify.genotypes import validate_genotypes_file
from amurlink.identify.photos.features import load_image
from amurlink.io import load_camtrap_dp
from amurlink.io.mapping import import_mapping

EXAMPLES = 200
runner = CliRunner()


def _check_package(path) -> None:
    dataset, report = load_camtrap_dp(path)  # never raises for bad data
    if dataset is None:
        assert report.errors, report.to_text()
    for issue in report.issues:
        assert issue.message and issue.code


def _package_campaign(tmp_path, fuzz, n: int, seed: int) -> None:
    base = fuzz.core_folder(tmp_path / "base")
    files = sorted(p.name for p in base.iterdir())
    rnd = random.Random(seed)
    for k in range(n):
        work = tmp_path / f"m{k}"
        shutil.copytree(base, work)
        for _ in range(rnd.randint(1, 3)):
            name = rnd.choice(files)
            f = work / name
            if rnd.random() < 0.05:
                f.unlink(missing_ok=True)
                continue
            if f.exists():
                f.write_bytes(fuzz.mutate(f.read_bytes(), rnd, text=True))
        if k % 2:
            _check_package(fuzz.zip_folder(work, tmp_path / f"m{k}.zip"))
        else:
            _check_package(work)
        shutil.rmtree(work)


def _zip_campaign(tmp_path, fuzz, n: int, seed: int) -> None:
    good = fuzz.zip_folder(fuzz.core_folder(tmp_path / "zbase"), tmp_path / "good.zip",
                           zipfile.ZIP_DEFLATED).read_bytes()
    rnd = random.Random(seed)
    for k in range(n):
        z = tmp_path / f"z{k}.zip"
        z.write_bytes(fuzz.mutate(good, rnd))
        _check_package(z)
        z.unlink()


def test_mutated_packages(tmp_path, fuzz):
    _package_campaign(tmp_path, fuzz, EXAMPLES, seed=14)


def test_mutated_zip_archives(tmp_path, fuzz):
    _zip_campaign(tmp_path, fuzz, EXAMPLES, seed=1414)


def test_mutated_packages_through_the_cli(tmp_path, fuzz):
    base = fuzz.toy_folder(tmp_path / "base")
    good = fuzz.zip_folder(base, tmp_path / "good.zip").read_bytes()
    rnd = random.Random(7)
    for k in range(20):
        z = tmp_path / f"c{k}.zip"
        z.write_bytes(fuzz.mutate(good, rnd))
        result = runner.invoke(app, ["validate", str(z)])
        fuzz.assert_clean_exit(result.exit_code, result.output, allowed=(0, 1))


def _mapping_campaign(tmp_path, fuzz, n: int, seed: int) -> None:
    rnd = random.Random(seed)
    for k in range(n):
        p = fuzz.mapping_folder(tmp_path / f"map{k}")
        target = rnd.choice(["ru.mapping.toml", "stations.csv", "records.csv"])
        f = p.parent / target
        f.write_bytes(fuzz.mutate(f.read_bytes(), rnd, text=True))
        try:
            _, report = import_mapping(p)
        except AmurlinkError as exc:
            assert str(exc)
        else:
            for issue in report.issues:
                assert issue.message
        shutil.rmtree(p.parent)


def test_mutated_mappings(tmp_path, fuzz):
    _mapping_campaign(tmp_path, fuzz, EXAMPLES, seed=2014)


def _genotype_campaign(tmp_path, fuzz, n: int, seed: int) -> None:
    rnd = random.Random(seed)
    for k in range(n):
        text = fuzz.GENOTYPES_WIDE if k % 2 else fuzz.GENOTYPES_LONG
        p = tmp_path / f"g{k}.csv"
        data = text.encode()
        for _ in range(rnd.randint(1, 3)):
            data = fuzz.mutate(data, rnd, text=True)
        p.write_bytes(data)
        try:
            report = validate_genotypes_file(p)
        except AmurlinkError as exc:
            assert str(p.name) in str(exc) or "lab=" in str(exc)
        else:
            for issue in report.errors:
                assert issue.file == str(p) and issue.message
        p.unlink()


def test_mutated_genotype_files(tmp_path, fuzz):
    _genotype_campaign(tmp_path, fuzz, EXAMPLES, seed=1998)


def _image_campaign(tmp_path, fuzz, n: int, seed: int) -> None:
    cv2 = pytest.importorskip("cv2")
    img = np.random.default_rng(seed).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    goods = {ext: cv2.imencode(ext, img)[1].tobytes() for ext in (".png", ".jpg", ".bmp")}
    rnd = random.Random(seed)
    for k in range(n):
        ext = rnd.choice(sorted(goods))
        p = tmp_path / f"i{k}{ext}"
        p.write_bytes(fuzz.mutate(goods[ext], rnd))
        try:
            out = load_image(p)
        except (OSError, AmurlinkError) as exc:
            assert p.name in str(exc)
        else:
            assert out.dtype == np.uint8 and out.ndim in (2, 3)
        p.unlink()


def test_mutated_images(tmp_path, fuzz):
    _image_campaign(tmp_path, fuzz, EXAMPLES, seed=40_000)


@pytest.mark.slow
def test_long_campaigns(tmp_path, fuzz):
    for seed in (1, 2, 3):
        _package_campaign(tmp_path / f"p{seed}", fuzz, 1000, seed)
        _zip_campaign(tmp_path / f"z{seed}", fuzz, 1000, seed)
        _mapping_campaign(tmp_path / f"m{seed}", fuzz, 1000, seed)
        _genotype_campaign(tmp_path / f"g{seed}", fuzz, 2000, seed)
        _image_campaign(tmp_path / f"i{seed}", fuzz, 2000, seed)
