"""Photos for the demo site: the simulator's flank photos behind the toy package's media rows.

Each media row of the toy package whose observation names an individual gets a photo
rendered by :func:`amurlink.simulate.flanks.render_flank` with the animal's coat (the two
national IDs of one animal, linked or proposed, share one coat), written at the row's
``filePath`` inside the joint package, with the camera's EXIF ``DateTimeOriginal`` (the
pages show server-made thumbnails without it). The observation gets the flank
(``observationTags`` ``flank:left``) and the flank's bounding box.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from amurlink import Dataset as PackageData

#: National IDs of one animal (the toy's confirmed tiger link, the demo's proposed leopard).
DEMO_ANIMALS = {"CN-NTLNP:T01": 1, "RU-LLNP:T-1": 1, "CN-NTLNP:L01": 2, "RU-LLNP:L-7": 2}


def demo_photos(data: PackageData, *, seed: int = 2014
                ) -> tuple[PackageData, list[tuple[str, np.ndarray, int, str]]]:
    """Render a photo for each identified media row of ``data``.

    Returns the package with each photo's flank (``observationTags`` ``flank:left``) and the
    flank's bounding box in its observation, and the photos to write with
    :func:`demo_photos_write` (``filePath``, pixels, JPEG quality, EXIF time).
    """
    from amurlink.simulate.flanks import render_flank

    obs = data.observations.copy()
    media = data.media.set_index(data.media["mediaID"].astype(str))
    rng = np.random.default_rng(seed)
    counter: dict[str, int] = {}
    photos = []
    tags = obs["observationTags"].astype(object).copy()
    boxes = {c: obs[c].astype(float).copy() for c in ("bboxX", "bboxY", "bboxWidth",
                                                       "bboxHeight")}
    for i, row in obs[obs["individualID"].notna() & obs["mediaID"].notna()].iterrows():
        ind, mid = str(row["individualID"]), str(row["mediaID"])
        if mid not in media.index:
            continue
        n = counter.get(ind, 0)
        counter[ind] = n + 1
        # leopards: the left flank only (the proposal's evidence); tigers: both flanks
        leopard = "pardus" in str(row["scientificName"])
        side = "left" if leopard or n % 2 == 0 else "right"
        animal = DEMO_ANIMALS.get(ind, abs(hash(ind)) % 10_000 + 100)
        image, info = render_flank(seed * 1000 + animal, "leopard" if leopard else "tiger",
                                   side, rng=rng, distortions={"infrared": False,
                                                               "occlusion": 0.0})
        tags[i] = f"flank:{side}"
        for c in boxes:
            boxes[c][i] = float(info[c])
        ts = pd.Timestamp(media.loc[mid, "timestamp"]).strftime("%Y:%m:%d %H:%M:%S")
        photos.append((str(media.loc[mid, "filePath"]), image, int(info["jpeg_quality"]), ts))
    obs["observationTags"] = tags.astype(data.observations["observationTags"].dtype)
    for c, v in boxes.items():
        obs[c] = v.astype(data.observations[c].dtype)
    return data.replace(observations=obs), photos


def demo_photos_write(package: Path, photos: list[tuple[str, np.ndarray, int, str]]
                      ) -> list[str]:
    """Write the photos of :func:`demo_photos` into ``package`` (kept when present), each
    with its EXIF ``DateTimeOriginal``; returns the ``filePath`` of each."""
    from amurlink.simulate.flanks import write_jpeg

    root = package.resolve()
    written = []
    for fp, image, quality, ts in photos:
        target = (root / fp).resolve()
        if root not in target.parents:
            continue
        if not target.is_file():
            write_jpeg(target, image, quality, datetime_original=ts)
        written.append(fp)
    return written
