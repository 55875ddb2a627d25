"""The photo pipeline reads the simulator's output: truth/photos.csv and the CN package."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def sim_dir(tmp_path_factory):
    from amurlink.simulate import simulate_study, write_study

    study = simulate_study("small", seed=3, max_images=None, photos_per_flank=1)
    return write_study(study, tmp_path_factory.mktemp("sim") / "small")


def test_read_photo_truth_resolves_paths_inside_the_packages(sim_dir):
    from amurlink.identify.photos.evaluate import _split, read_photo_truth

    truth = read_photo_truth(sim_dir)
    assert len(truth) > 0
    assert all(Path(p).is_file() for p in truth["absPath"])
    assert _split(truth) == ("CN-NTLNP", "RU-LLNP")


def test_package_photos_reads_box_and_side_tag(sim_dir):
    from amurlink.cli.photos import package_photos
    from amurlink.identify.photos.evaluate import read_photo_truth

    photos = package_photos(sim_dir / "cn")
    truth = read_photo_truth(sim_dir)
    cn = truth[truth["catalogue"] == "CN-NTLNP"].set_index("mediaID")
    assert set(photos["mediaID"]) == set(cn.index)
    got = photos.set_index("mediaID").loc[cn.index]
    assert (got["side"] == cn["side"]).all()
    assert (got["individualID"] == cn["individualID"]).all()
    assert ((got["bboxX"] - cn["bboxX"]).abs() < 1e-4).all()
