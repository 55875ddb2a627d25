"""A small two-catalogue photo set rendered once per test session."""

from __future__ import annotations

import pytest

pytest.importorskip("cv2")
pytest.importorskip("faiss")


@pytest.fixture(scope="session")
def photo_set(tmp_path_factory):
    from amurlink.identify.photos.evaluate import generate_photo_set

    folder = tmp_path_factory.mktemp("photoset")
    truth = generate_photo_set(folder, seed=5, n_animals=6, photos_per_flank=2, both_share=0.7,
                               scheduler="serial")
    return folder, truth


@pytest.fixture(scope="session")
def photo_store(photo_set, tmp_path_factory):
    from amurlink.identify.photos.evaluate import build_store

    folder, _ = photo_set
    return build_store(folder, tmp_path_factory.mktemp("store"), scheduler="serial")
